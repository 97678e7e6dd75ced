"""Visible checks of lab03_mri: centred FFTs, undersampling masks, zero filling, aliasing.

Each function takes the student's answer (a function), calls it on inputs made here and raises
:class:`AssertionError` with a message that says what was given, what was expected and what came
out. The references are NumPy's FFT with the fastMRI convention and the course library
(:mod:`course.physics.mri`). The instructor's hidden tests run the same functions on other
inputs.
"""

from __future__ import annotations

import sys

import numpy as np

from course.checks._common import as_array, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid
from course.physics import mri

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.physics.mri.fft2c": "q1",
    "course.physics.mri.ifft2c": "q2",
    "course.physics.mri.random_mask": "q3",
    "course.physics.mri.zero_filled": "q4",
    "course.physics.mri.undersample": "q4",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1.5, "q2": 1, "q3": 2.5, "q4": 1.5, "q5": 2.5}

__all__ = [
    "q1_fft2c",
    "q2_ifft2c",
    "q3_random_mask",
    "q4_zero_filled",
    "q5_alias_image",
]


def _shape(x) -> str:
    return "x".join(str(n) for n in np.shape(x))


def assert_complex_close(actual, expected, name: str, rtol=1e-7, atol=1e-9) -> None:
    """Compare two complex arrays (real and imaginary parts) after converting the answer."""
    expected = np.asarray(expected, dtype=np.complex128)
    actual = as_array(actual, name, dtype=np.complex128, shape=expected.shape)
    assert_close(actual.real, expected.real, name + " (real part)", rtol=rtol, atol=atol)
    assert_close(actual.imag, expected.imag, name + " (imaginary part)", rtol=rtol, atol=atol)


def reference_fft2c(x) -> np.ndarray:
    x = np.fft.ifftshift(np.asarray(x), axes=(-2, -1))
    return np.fft.fftshift(np.fft.fft2(x, norm="ortho"), axes=(-2, -1))


def reference_ifft2c(y) -> np.ndarray:
    y = np.fft.ifftshift(np.asarray(y), axes=(-2, -1))
    return np.fft.fftshift(np.fft.ifft2(y, norm="ortho"), axes=(-2, -1))


def _diagnose_fft(actual: np.ndarray, x: np.ndarray, inverse: bool) -> str:
    """A hint naming the usual mistake, found by comparing with the usual wrong answers."""
    plain = np.fft.ifft2 if inverse else np.fft.fft2
    x_ = np.asarray(x)
    axes = (-2, -1)
    candidates = {
        "the orthonormal scaling is missing (norm='ortho' divides by sqrt(H W) both ways)": (
            np.fft.fftshift(plain(np.fft.ifftshift(x_, axes=axes)), axes=axes)
        ),
        "fftshift and ifftshift are swapped (they differ for odd sizes: ifftshift first)": (
            np.fft.ifftshift(plain(np.fft.fftshift(x_, axes=axes), norm="ortho"), axes=axes)
        ),
        "the result is not centred (fftshift the output)": plain(
            np.fft.ifftshift(x_, axes=axes), norm="ortho"
        ),
        "the input is not ifftshift-ed first (the phase is wrong)": np.fft.fftshift(
            plain(x_, norm="ortho"), axes=axes
        ),
        "fft and ifft are swapped": np.fft.fftshift(
            (np.fft.fft2 if inverse else np.fft.ifft2)(
                np.fft.ifftshift(x_, axes=axes), norm="ortho"
            ),
            axes=axes,
        ),
    }
    for hint, wrong in candidates.items():
        if np.shape(wrong) == actual.shape and np.allclose(actual, wrong, atol=1e-9):
            return f" Hint: {hint}."
    return ""


def check_transform(function, x, inverse: bool, what: str) -> None:
    """Compare ``function(x)`` with the NumPy reference of fft2c (or ifft2c)."""
    x = np.asarray(x)
    label = "ifft2c" if inverse else "fft2c"
    name = f"{label}({what}, shape {_shape(x)})"
    expected = reference_ifft2c(x) if inverse else reference_fft2c(x)
    result = call(function, (x.copy(),), name)
    actual = as_array(result, name, dtype=np.complex128, shape=expected.shape)
    scale = float(np.abs(expected).max()) or 1.0
    try:
        assert_complex_close(actual, expected, name, rtol=1e-6, atol=1e-9 * scale)
    except AssertionError as error:
        raise AssertionError(f"{error}.{_diagnose_fft(actual, x, inverse)}") from None


def q1_fft2c(fft2c) -> None:
    """``fft2c(x)``: fftshift(fft2(ifftshift(x), norm="ortho")) over the last two axes."""
    guard()
    ones = np.ones((4, 4))
    result = call(fft2c, (ones.copy(),), "fft2c(np.ones((4, 4)))")
    actual = as_array(result, "fft2c(np.ones((4, 4)))", dtype=np.complex128, shape=(4, 4))
    expected = np.zeros((4, 4), complex)
    expected[2, 2] = 4.0
    if not np.allclose(actual, expected, atol=1e-9):
        raise AssertionError(
            "fft2c(np.ones((4, 4))) should be 0 everywhere except the DC term 4 = sqrt(16) at "
            f"the centre (2, 2); got {np.round(actual, 3).tolist()}"
        )
    rng = np.random.default_rng(0)
    check_transform(fft2c, rng.normal(size=(6, 8)), False, "a random real image")
    check_transform(fft2c, rng.normal(size=(5, 7)), False, "a random real image")
    batch = rng.normal(size=(2, 6, 5)) + 1j * rng.normal(size=(2, 6, 5))
    check_transform(fft2c, batch, False, "a batch of 2 complex images")


def q2_ifft2c(ifft2c) -> None:
    """``ifft2c(y)``: fftshift(ifft2(ifftshift(y), norm="ortho")) over the last two axes."""
    guard()
    rng = np.random.default_rng(1)
    kspace = rng.normal(size=(7, 8)) + 1j * rng.normal(size=(7, 8))
    check_transform(ifft2c, kspace, True, "random complex k-space")
    check_transform(ifft2c, rng.normal(size=(3, 9, 5)), True, "a batch of 3 k-spaces")
    image = rng.normal(size=(5, 6))
    name = "ifft2c(fft2c(x)) for a random 5x6 image x"
    result = call(ifft2c, (mri.fft2c(image),), name)
    assert_complex_close(result, image, name, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# q3: random column mask with a fully sampled centre
# ---------------------------------------------------------------------------------------------
def _mask(random_mask, shape, acceleration, center_fraction, seed) -> np.ndarray:
    """The answer's mask as a 1D bool array of length W, after checking shape and values."""
    name = f"random_mask({tuple(shape)}, {acceleration}, {center_fraction}, seed={seed})"
    result = call(random_mask, (tuple(shape), acceleration, center_fraction, seed), name)
    expected_shape = (1,) * (len(shape) - 1) + (shape[-1],)
    mask = as_array(result, name, shape=expected_shape)
    if not np.isin(mask, (0.0, 1.0)).all():
        raise AssertionError(f"{name} should hold only True/False (or 0/1)")
    return mask.reshape(-1) > 0.5


def _center(width: int, center_fraction: float) -> np.ndarray:
    """The fully sampled centre: ``round(center_fraction * W)`` columns from ``W//2 - n_c//2``."""
    n_center = round(center_fraction * width)
    start = width // 2 - n_center // 2
    return np.arange(start, start + n_center)


def _checked_mask(random_mask, shape, acceleration, center_fraction, seed) -> np.ndarray:
    """One mask of the answer: centre, number of columns, same mask for the same seed."""
    width = shape[-1]
    center = _center(width, center_fraction)
    label = f"random_mask({tuple(shape)}, {acceleration}, {center_fraction}, seed={seed})"
    np.random.seed(seed + 12345)  # noqa: NPY002 - the global state must not matter
    mask = _mask(random_mask, shape, acceleration, center_fraction, seed)
    if not mask[center].all():
        missing = [int(c) for c in center[~mask[center]]]
        raise AssertionError(
            f"{label}: the {center.size} centre columns {center[0]}..{center[-1]} "
            "(round(center_fraction * W) columns starting at W // 2 - n_c // 2) must all be "
            f"sampled; columns {missing} are not"
        )
    count, target = int(mask.sum()), width / acceleration
    if abs(count - target) > 1:
        raise AssertionError(
            f"{label} samples {count} of {width} columns; acceleration {acceleration} means "
            f"about W / R = {target:g} columns (within 1)"
        )
    np.random.seed(seed + 54321)  # noqa: NPY002
    again = _mask(random_mask, shape, acceleration, center_fraction, seed)
    if not np.array_equal(mask, again):
        raise AssertionError(
            f"{label}: two calls with seed={seed} gave different masks: draw from "
            "np.random.default_rng(seed), not from the global np.random state"
        )
    return mask


def check_mask(random_mask, shape, acceleration, center_fraction, seeds=(0, 1, 2)) -> None:
    """Shape, centre, number of columns, reproducibility and randomness of the answer's masks."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        masks = [
            _checked_mask(random_mask, shape, acceleration, center_fraction, seed) for seed in seeds
        ]
    finally:
        np.random.set_state(state)  # noqa: NPY002 - leave the notebook's global state
    n_outer = round(shape[-1] / acceleration) - _center(shape[-1], center_fraction).size
    if n_outer > 0 and len(seeds) > 1 and all(np.array_equal(masks[0], m) for m in masks[1:]):
        raise AssertionError(
            f"random_mask({tuple(shape)}, {acceleration}, {center_fraction}, seed=...): seeds "
            f"{list(seeds)} all gave the same mask: the columns outside the centre must be "
            "drawn at random with the seed"
        )


def check_mask_coverage(random_mask, shape, acceleration, center_fraction, n_seeds: int) -> None:
    """Over many seeds every column outside the centre is sampled at least once, and the
    sampled columns outside the centre are not evenly spaced (that is an equispaced mask).
    """
    width = shape[-1]
    center = _center(width, center_fraction)
    seen = np.zeros(width, dtype=bool)
    regular = True
    for seed in range(n_seeds):
        mask = _mask(random_mask, shape, acceleration, center_fraction, seed)
        seen |= mask
        outer = np.setdiff1d(np.flatnonzero(mask), center)
        if outer.size < 4 or np.unique(np.diff(outer)).size > 2:
            regular = False
    label = f"random_mask({tuple(shape)}, {acceleration}, {center_fraction})"
    if not seen.all():
        never = [int(c) for c in np.flatnonzero(~seen)]
        raise AssertionError(
            f"{label}: over {n_seeds} seeds, columns {never[:10]}"
            f"{'...' if len(never) > 10 else ''} were never sampled; the extra columns should be "
            "drawn uniformly from all the columns outside the centre"
        )
    if regular:
        raise AssertionError(
            f"{label}: for every seed the columns outside the centre are evenly spaced: that is "
            "an equispaced mask; draw them at random (e.g. rng.choice(..., replace=False))"
        )


def q3_random_mask(random_mask) -> None:
    """``random_mask(shape, acceleration, center_fraction, seed)``: shape (1, ..., 1, W)."""
    guard()
    check_mask(random_mask, (32, 64), 4, 0.125)
    check_mask(random_mask, (20, 30), 3, 0.1)
    check_mask_coverage(random_mask, (8, 40), 4, 0.1, n_seeds=100)


# ---------------------------------------------------------------------------------------------
# q4: zero-filled reconstruction
# ---------------------------------------------------------------------------------------------
def check_zero_filled(zero_filled, kspace, mask, what: str) -> None:
    kspace = np.asarray(kspace, dtype=np.complex128)
    mask = np.asarray(mask)
    expected = np.abs(reference_ifft2c(kspace * mask))
    name = f"zero_filled({what})"
    result = call(zero_filled, (kspace.copy(), mask.copy()), name)
    raw = as_array(result, name, dtype=None, shape=expected.shape)
    if raw.dtype.kind == "c":
        raise AssertionError(
            f"{name} should be real (the magnitude, np.abs), got dtype {raw.dtype}"
        )
    scale = float(expected.max()) or 1.0
    assert_close(as_array(raw, name), expected, name, rtol=1e-6, atol=1e-9 * scale)


def q4_zero_filled(zero_filled) -> None:
    """``zero_filled(kspace, mask)``: ``|ifft2c(kspace * mask)|``."""
    guard()
    import pydicom
    from pydicom.data import get_testdata_file

    image = pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array.astype(np.float64)
    kspace = mri.fft2c(image)
    full = np.ones((1, image.shape[1]), dtype=bool)
    check_zero_filled(zero_filled, kspace, full, "MR_small's k-space, every column")
    mask = mri.random_mask(kspace.shape, 4, 0.08, seed=0)
    check_zero_filled(zero_filled, kspace, mask, "MR_small's k-space, a random mask, R=4")


# ---------------------------------------------------------------------------------------------
# q5: aliasing
# ---------------------------------------------------------------------------------------------
def aliasing_mask(width: int, acceleration: int) -> np.ndarray:
    """Columns whose frequency ``j - W // 2`` is a multiple of R, shape (1, W)."""
    return ((np.arange(width) - width // 2) % acceleration == 0)[None, :]


def check_alias(alias_image, image, acceleration: int, what: str) -> None:
    image = np.asarray(image)
    expected = reference_ifft2c(
        reference_fft2c(image) * aliasing_mask(image.shape[-1], acceleration)
    )
    name = f"alias_image({what}, {acceleration})"
    result = call(alias_image, (image.copy(), acceleration), name)
    scale = float(np.abs(expected).max()) or 1.0
    assert_complex_close(result, expected, name, rtol=1e-6, atol=1e-9 * scale)


def q5_alias_image(alias_image) -> None:
    """``alias_image(x, R)``: the average of R copies of x shifted by W / R columns."""
    guard()
    dot = np.zeros((4, 8))
    dot[1, 1] = 1.0
    check_alias(alias_image, dot, 2, "a 4x8 image with a single bright pixel")
    rng = np.random.default_rng(5)
    check_alias(alias_image, rng.normal(size=(6, 12)), 3, "a random 6x12 image")


reporting(sys.modules[__name__])  # a check that passes says so, with its points
