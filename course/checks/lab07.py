"""Visible checks of lab07_augmentation: joint geometric transforms, elastic deformation and
intensity transforms of an image and its mask.

The geometric checks test what makes a joint transform correct: the image and the mask move
together (an image equal to its mask stays equal to it), the mask keeps its labels (nearest
neighbour, never interpolated), the same seed gives the same result. Fixed transforms are
compared with NumPy (:func:`numpy.rot90`, :func:`numpy.flip`), with
:func:`course.augment.random_affine` and with :func:`scipy.ndimage.map_coordinates`; intensity
transforms with :func:`skimage.exposure.adjust_gamma` and :func:`course.augment.adjust_gamma`.
A wrong answer raises :class:`AssertionError` with a message that teaches.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import ndimage

from course.augment import adjust_gamma as library_adjust_gamma
from course.augment import random_affine
from course.checks._common import as_array, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.augment.random_flip": "q1",
    "course.augment.random_rotate90": "q1",
    "course.augment.random_affine": "q2",
    "course.augment.elastic_deform": "q4",
    "course.augment.adjust_gamma": "q5",
    "course.augment.adjust_contrast": "q6",
    "course.augment.add_gaussian_noise": "q6",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 1.5, "q2": 2, "q3": 1.5, "q4": 1.5, "q5": 1, "q6": 1.5}

__all__ = [
    "call",
    "check_pair",
    "dihedral_index",
    "dihedral_transforms",
    "smooth_image",
    "q1_random_flip_rot",
    "q2_affine_pair",
    "q3_displacement_field",
    "q4_elastic_warp",
    "q5_gamma_pair",
    "q6_contrast_noise_pair",
]


def check_pair(result, what: str, mask: np.ndarray, image_shape=None, mask_shape=None):
    """Split a returned ``(image, mask)`` pair and convert both; the mask must keep its dtype
    and hold only labels that the input mask had.
    """
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(
            f"{what} should return a pair (image, mask), got {type(result).__name__}"
        )
    image_out, mask_out = result
    image_out = as_array(image_out, f"the image returned by {what}", shape=image_shape)
    dtype = getattr(mask_out, "dtype", None)
    if dtype != mask.dtype:
        raise AssertionError(
            f"the mask returned by {what} should keep the dtype of the mask ({mask.dtype}), got "
            f"{dtype}: a mask holds labels, keep them as they are"
        )
    mask_out = as_array(mask_out, f"the mask returned by {what}", shape=mask_shape)
    invented = sorted(set(np.unique(mask_out).tolist()) - set(np.unique(mask).tolist()))
    if invented:
        raise AssertionError(
            f"the mask returned by {what} holds labels that the input mask does not have: "
            f"{invented[:5]}. Resample masks with nearest-neighbour interpolation (order=0): "
            "interpolating labels invents new ones at the borders"
        )
    return image_out, mask_out


def check_unchanged(given: np.ndarray, original: np.ndarray, what: str) -> None:
    """The function must not modify its input in place."""
    if given.shape != original.shape or not np.array_equal(given, original):
        raise AssertionError(f"{what} modified its input in place: work on copies")


def smooth_image(shape, rng, sigma: float = 2.0) -> np.ndarray:
    """A smooth random image in [0, 1] (smoothed noise, rescaled)."""
    image = ndimage.gaussian_filter(rng.random(shape), sigma)
    return (image - image.min()) / (image.max() - image.min())


def label_mask(image: np.ndarray, labels=(0, 1), dtype=np.uint8) -> np.ndarray:
    """A mask with ``labels`` from the quantiles of ``image`` (regions touch each other)."""
    edges = np.quantile(image, np.linspace(0, 1, len(labels) + 1)[1:-1])
    return np.asarray(labels)[np.digitize(image, edges)].astype(dtype)


def compare_masks(got: np.ndarray, expected: np.ndarray, what: str, tolerance: float) -> None:
    """At most ``tolerance`` of the pixels may differ (rounding ties of nearest neighbour)."""
    wrong = int(np.count_nonzero(got != expected))
    if wrong > tolerance * got.size:
        raise AssertionError(
            f"the mask returned by {what}: {wrong} of {got.size} pixels differ from the expected "
            "mask. Apply exactly the same geometry to the mask as to the image, with "
            "nearest-neighbour interpolation (order=0) and 0 outside the image"
        )


# --- q1: random flips and quarter turns ------------------------------------------------------
def dihedral_transforms(array: np.ndarray) -> list[np.ndarray]:
    """The 8 flips and quarter turns of a 2D array: ``rot90(array, k)``, then flipped or not."""
    out = []
    for k in range(4):
        turned = np.rot90(array, k)
        out += [turned, np.flip(turned, axis=1)]
    return out


def dihedral_index(got: np.ndarray, array: np.ndarray) -> int:
    """Which of :func:`dihedral_transforms` ``got`` is (-1 if none)."""
    for index, candidate in enumerate(dihedral_transforms(array)):
        if candidate.shape == got.shape and np.array_equal(candidate, got):
            return index
    return -1


NAMES = [
    f"rot90(x, {k})" + (", then flipped left-right" if flip else "")
    for k in range(4)
    for flip in (False, True)
]


def check_flip_rot_draw(random_flip_rot, image, mask, seed: int) -> int:
    """One call with ``default_rng(seed)``: image and mask get the same of the 8 transforms."""
    what = f"random_flip_rot(image of shape {image.shape}, mask, rng=np.random.default_rng({seed}))"
    given_image, given_mask = image.copy(), mask.copy()
    result = call(random_flip_rot, (given_image, given_mask, np.random.default_rng(seed)), what)
    image_out, mask_out = check_pair(result, what, mask)
    check_unchanged(given_image, image, what)
    check_unchanged(given_mask, mask, what)
    index = dihedral_index(image_out, image)
    if index < 0:
        raise AssertionError(
            f"the image returned by {what} is none of the 8 flips and quarter turns of the "
            f"image (np.rot90(image, k) for k = 0..3, flipped left-right or not); its shape is "
            f"{image_out.shape}"
        )
    expected = dihedral_transforms(mask)[index].astype(float)
    if mask_out.shape != expected.shape or not np.array_equal(mask_out, expected):
        raise AssertionError(
            f"{what} transformed the image with {NAMES[index]} but not the mask: draw the "
            "random parameters once and apply the same transform to both"
        )
    return index


def check_flip_rot_distribution(random_flip_rot, image, mask, seed: int, draws: int) -> None:
    """Same seed, same result; ``draws`` calls with one generator give all 8 transforms."""
    for s in range(seed, seed + 8):  # 8 seeds: an answer that ignores rng cannot match by luck
        first = check_flip_rot_draw(random_flip_rot, image, mask, s)
        again = check_flip_rot_draw(random_flip_rot, image, mask, s)
        if first != again:
            raise AssertionError(
                f"random_flip_rot gave {NAMES[first]} and then {NAMES[again]} with two generators "
                f"made with the same seed {s}: draw every random number from rng"
            )
    rng = np.random.default_rng(seed)
    counts = np.zeros(8, dtype=int)
    what = f"random_flip_rot(image, mask, rng), called {draws} times with one generator"
    for _ in range(draws):
        image_out, _ = check_pair(
            call(random_flip_rot, (image.copy(), mask.copy(), rng), what), what, mask
        )
        index = dihedral_index(image_out, image)
        if index < 0:
            raise AssertionError(f"{what}: a result is none of the 8 flips and quarter turns")
        counts[index] += 1
    low, high = draws / 8 / 3, draws / 8 * 3
    if counts.min() < low or counts.max() > high:
        shown = ", ".join(f"{name}: {c}" for name, c in zip(NAMES, counts, strict=True))
        raise AssertionError(
            f"{what} should give each of the 8 transforms about {draws // 8} times, got {shown}. "
            "Draw k from {0, 1, 2, 3} and the flip with probability 1/2, from rng"
        )


def q1_random_flip_rot(random_flip_rot) -> None:
    """Check ``random_flip_rot(image, mask, rng)``: one of 8 transforms, the same for both."""
    guard()
    rng = np.random.default_rng(71)
    image = rng.random((6, 6))
    mask = (rng.random((6, 6)) < 0.4).astype(np.uint8)
    for seed in range(5):
        check_flip_rot_draw(random_flip_rot, image, mask, seed)
    same = mask.astype(float)
    for seed in range(5):
        check_flip_rot_draw(random_flip_rot, same, mask, seed)  # image == mask stays aligned
    check_flip_rot_distribution(random_flip_rot, image, mask, 7, 160)


# --- q2: affine transform --------------------------------------------------------------------
def check_affine_case(
    affine_pair, image, mask, angle, scale, shift, expected_image, expected_mask, tolerance=0.002
) -> None:
    """Compare ``affine_pair(image, mask, angle, scale, shift)`` with the expected pair."""
    shift = tuple(float(s) for s in shift)
    what = (
        f"affine_pair(image of shape {image.shape}, mask, angle={angle}, scale={scale}, "
        f"shift=({shift[0]:.6g}, {shift[1]:.6g}))"
    )
    given_image, given_mask = image.copy(), mask.copy()
    result = call(affine_pair, (given_image, given_mask, angle, scale, shift), what)
    image_out, mask_out = check_pair(result, what, mask, image.shape, mask.shape)
    check_unchanged(given_image, image, what)
    check_unchanged(given_mask, mask, what)
    assert_close(image_out, expected_image, f"the image returned by {what}", rtol=1e-6, atol=1e-6)
    compare_masks(mask_out, as_array(expected_mask, "expected"), what, tolerance)


def q2_affine_pair(affine_pair) -> None:
    """Check ``affine_pair(image, mask, angle, scale=1.0, shift=(0.0, 0.0))`` against
    :func:`course.augment.random_affine` with fixed parameters.
    """
    guard()
    dot = np.zeros((5, 5))
    dot[2, 3] = 1.0  # one pixel to the right of the centre
    up = np.zeros((5, 5))
    up[1, 2] = 1.0  # a quarter turn counter-clockwise puts it above the centre
    mask = dot.astype(np.uint8)
    check_affine_case(affine_pair, dot, mask, 90, 1.0, (0, 0), up, up.astype(np.uint8), 0)
    rng = np.random.default_rng(72)
    cases = [((32, 32), 30.0, 1.1, 0.1), ((24, 40), -20.0, 0.8, -0.05), ((20, 20), 0.0, 1.0, 0.0)]
    for shape, angle, scale, fraction in cases:
        image = smooth_image(shape, rng)
        mask = label_mask(smooth_image(shape, rng), (0, 1, 2))
        expected = random_affine(image, mask, degrees=angle, scale=scale, translate=fraction)
        shift = (fraction * shape[0], fraction * shape[1])
        check_affine_case(affine_pair, image, mask, angle, scale, shift, *expected)


# --- q3: displacement field ------------------------------------------------------------------
def field_std(shape, sigma: float, seeds=range(4)) -> float:
    """Standard deviation of a smoothed U[-1, 1] field (alpha = 1), averaged over a few seeds."""
    values = [
        ndimage.gaussian_filter(np.random.default_rng(s).uniform(-1, 1, shape), sigma).std()
        for s in seeds
    ]
    return float(np.mean(values))


def lag_correlation(field: np.ndarray, axis: int) -> float:
    """Correlation between neighbours of the field components along spatial ``axis``."""
    a = np.moveaxis(field, axis + 1, -1)
    x, y = a[..., :-1].ravel(), a[..., 1:].ravel()
    return float(np.corrcoef(x, y)[0, 1])


def get_field(displacement_field, shape, alpha, sigma, seed):
    what = (
        f"displacement_field({shape}, alpha={alpha}, sigma={sigma}, "
        f"rng=np.random.default_rng({seed}))"
    )
    result = call(displacement_field, (shape, alpha, sigma, np.random.default_rng(seed)), what)
    field = as_array(result, what)
    expected = (len(shape), *shape)
    if field.shape != expected:
        raise AssertionError(
            f"{what} should have shape {expected}: one displacement map per axis, each of the "
            f"image's shape; got {field.shape}"
        )
    if not np.isfinite(field).all():
        raise AssertionError(f"{what} contains NaN or inf")
    return field, what


def check_field_cases(displacement_field, shape, alpha, sigma, seed) -> None:
    """Invariants of a displacement field: zero for alpha = 0, the same seed gives the same
    field, linear in alpha, the variance of a smoothed U[-1, 1] field, smooth along every
    spatial axis, independent components.
    """
    field, what = get_field(displacement_field, shape, alpha, sigma, seed)
    again, _ = get_field(displacement_field, shape, alpha, sigma, seed)
    assert_close(
        again, field, f"{what}, called twice (draw every random number from rng)", rtol=0, atol=0
    )
    other, _ = get_field(displacement_field, shape, alpha, sigma, seed + 1)
    if np.array_equal(other, field):
        raise AssertionError(f"{what} gives the same field for another seed: use rng")
    zero, zero_what = get_field(displacement_field, shape, 0.0, sigma, seed)
    assert_close(zero, np.zeros_like(field), zero_what + " (alpha = 0: no displacement)", atol=0)
    double, double_what = get_field(displacement_field, shape, 2 * alpha, sigma, seed)
    assert_close(
        double,
        2 * field,
        double_what + " (twice the field with alpha / 2: the "
        "displacement is alpha times the smoothed noise)",
        rtol=1e-9,
        atol=1e-12,
    )
    expected_std = alpha * field_std(shape, sigma)
    std = float(field.std())
    if not 0.75 * expected_std <= std <= 1.25 * expected_std:
        raise AssertionError(
            f"{what} has a standard deviation of {std:.4g}, expected about {expected_std:.4g} "
            "for noise drawn uniformly from [-1, 1], smoothed by a Gaussian of width sigma (in "
            "pixels, scipy.ndimage.gaussian_filter) and multiplied by alpha"
        )
    if sigma >= 2:
        for axis in range(len(shape)):
            r = lag_correlation(field, axis)
            if r < 0.9:
                raise AssertionError(
                    f"{what}: neighbouring displacements along axis {axis} have a correlation of "
                    f"{r:.2f}, expected more than 0.9: smooth every component along every "
                    "spatial axis"
                )
        r = float(np.corrcoef(field[0].ravel(), field[1].ravel())[0, 1])
        if abs(r) > 0.3:
            raise AssertionError(
                f"{what}: the displacement maps of axes 0 and 1 have a correlation of {r:.2f}: "
                "draw an independent noise map per axis, and do not smooth across the axis "
                "dimension of the stacked field (smooth each map on its own)"
            )


def q3_displacement_field(displacement_field) -> None:
    """Check ``displacement_field(shape, alpha, sigma, rng)`` by its invariants."""
    guard()
    field, what = get_field(displacement_field, (64, 64), 2.0, 0.0, 73)
    if float(np.abs(field).max()) > 2.0 or abs(float(field.mean())) > 0.05 * 2.0:
        raise AssertionError(
            f"{what}: with sigma = 0 (no smoothing) the field is alpha times noise drawn "
            "uniformly from [-1, 1], so all values lie in [-alpha, alpha] around a mean of 0; got "
            f"values from {field.min():.3g} to {field.max():.3g}, mean {field.mean():.3g}"
        )
    check_field_cases(displacement_field, (64, 64), 2.0, 0.0, 73)
    check_field_cases(displacement_field, (128, 96), 30.0, 4.0, 74)


# --- q4: elastic warp ------------------------------------------------------------------------
def warp_reference(image, mask, field):
    """``map_coordinates`` at ``grid + field``: linear for the image, nearest for the mask."""
    coordinates = np.indices(image.shape, dtype=float) + field
    warped = ndimage.map_coordinates(image.astype(float), coordinates, order=1, mode="constant")
    labels = ndimage.map_coordinates(mask, coordinates, order=0, mode="constant")
    return warped, labels.astype(mask.dtype)


def check_warp_case(
    elastic_warp, image, mask, field, expected_image, expected_mask, hint="", tolerance=0.002
) -> None:
    """Compare ``elastic_warp(image, mask, field)`` with the expected pair."""
    what = f"elastic_warp(image of shape {image.shape}, mask, field){hint}"
    given = image.copy(), mask.copy(), field.copy()
    result = call(elastic_warp, given, what)
    image_out, mask_out = check_pair(result, what, mask, image.shape, mask.shape)
    for g, original in zip(given, (image, mask, field), strict=True):
        check_unchanged(g, original, what)
    assert_close(image_out, expected_image, f"the image returned by {what}", rtol=1e-6, atol=1e-9)
    compare_masks(mask_out, as_array(expected_mask, "expected"), what, tolerance)


def q4_elastic_warp(elastic_warp) -> None:
    """Check ``elastic_warp(image, mask, field)`` against :func:`scipy.ndimage.map_coordinates`."""
    guard()
    rng = np.random.default_rng(74)
    image = smooth_image((24, 32), rng)
    mask = label_mask(smooth_image((24, 32), rng), (0, 1))
    zero = np.zeros((2, 24, 32))
    check_warp_case(elastic_warp, image, mask, zero, image, mask, " (zero field: no change)", 0)
    shift = np.zeros((2, 24, 32))
    shift[0], shift[1] = 2.0, -3.0  # every pixel samples 2 rows below and 3 columns to the left
    expected_image, expected_mask = np.zeros_like(image), np.zeros_like(mask)
    expected_image[:-2, 3:], expected_mask[:-2, 3:] = image[2:, :-3], mask[2:, :-3]
    check_warp_case(
        elastic_warp,
        image,
        mask,
        shift,
        expected_image,
        expected_mask,
        " (field (2, -3) everywhere: output[i, j] = input[i + 2, j - 3], 0 outside)",
        0,
    )
    field = 4.0 * np.stack([ndimage.gaussian_filter(rng.uniform(-1, 1, (24, 32)), 3) for _ in "xy"])
    field *= 3.0 / np.abs(field).max()  # up to 3 pixels
    check_warp_case(
        elastic_warp,
        image,
        mask,
        field,
        *warp_reference(image, mask, field),
        " (a smooth random field)",
    )
    same = mask.astype(float)
    what = "elastic_warp(image equal to its mask, mask, field)"
    image_out, mask_out = check_pair(
        call(elastic_warp, (same, mask.copy(), field.copy()), what), what, mask
    )
    inside, outside = image_out > 1 - 1e-6, image_out < 1e-6
    if np.any(mask_out[inside] != 1) or np.any(mask_out[outside] != 0):
        raise AssertionError(
            f"{what}: where the warped image is 1 (or 0) the warped mask should be 1 (or 0) too: "
            "warp image and mask with the same coordinates"
        )


# --- q5: gamma -------------------------------------------------------------------------------
def check_intensity_mask(
    result, what: str, image: np.ndarray, mask: np.ndarray, given
) -> np.ndarray:
    """The pair's mask equals the input mask (values and dtype), inputs are unchanged; returns
    the image as a float array of the input's shape.
    """
    image_out, mask_out = check_pair(result, what, mask, image.shape, mask.shape)
    if not np.array_equal(mask_out, mask.astype(float)):
        raise AssertionError(
            f"the mask returned by {what} differs from the input mask: an intensity transform "
            "changes the image only, the anatomy (and so the mask) stays where it is"
        )
    check_unchanged(given[0], image, what)
    check_unchanged(given[1], mask, what)
    return image_out


def check_gamma_case(gamma_pair, image, mask, gamma, expected, hint="") -> None:
    what = f"gamma_pair(image of shape {image.shape}, mask, gamma={gamma}){hint}"
    given = image.copy(), mask.copy()
    result = call(gamma_pair, (*given, gamma), what)
    image_out = check_intensity_mask(result, what, image, mask, given)
    span = float(np.ptp(image)) or 1.0
    assert_close(image_out, expected, f"the image returned by {what}", rtol=1e-5, atol=1e-7 * span)


def q5_gamma_pair(gamma_pair) -> None:
    """Check ``gamma_pair(image, mask, gamma)`` against scikit-image and the library."""
    guard()
    from skimage.exposure import adjust_gamma

    rng = np.random.default_rng(75)
    image = smooth_image((16, 16), rng)  # minimum 0, maximum 1
    mask = label_mask(image, (0, 1))
    for gamma in (0.5, 2.0):
        check_gamma_case(
            gamma_pair, image, mask, gamma, adjust_gamma(image, gamma), " (an image in [0, 1])"
        )
    hu = -1000.0 + 1400.0 * smooth_image((12, 20), rng)
    expected = library_adjust_gamma(hu, gamma=1.5)[0]
    check_gamma_case(
        gamma_pair, hu, label_mask(hu, (0, 1)), 1.5, expected, " (an image in HU from -1000 to 400)"
    )
    flat = np.full((8, 8), 0.3)
    check_gamma_case(
        gamma_pair,
        flat,
        mask[:8, :8],
        2.0,
        flat,
        " (a constant image: nothing to rescale, return it unchanged)",
    )


# --- q6: contrast and noise ------------------------------------------------------------------
def contrast_noise(contrast_noise_pair, image, mask, factor, noise_std, seed):
    what = (
        f"contrast_noise_pair(image of shape {image.shape}, mask, "
        f"rng=np.random.default_rng({seed}), factor={factor}, noise_std={noise_std})"
    )
    given = image.copy(), mask.copy()
    result = call(
        contrast_noise_pair, (*given, np.random.default_rng(seed), factor, noise_std), what
    )
    image_out = check_intensity_mask(result, what, image, mask, given)
    if image_out.min() < 0 or image_out.max() > 1:
        raise AssertionError(
            f"the image returned by {what} has values from {image_out.min():.3g} to "
            f"{image_out.max():.3g}: clip the result to [0, 1]"
        )
    return image_out, what


def check_contrast_cases(contrast_noise_pair, image, mask, factor, seed) -> None:
    """Without noise: exact comparison with ``clip(mean + factor (x - mean), 0, 1)``."""
    out, what = contrast_noise(contrast_noise_pair, image, mask, factor, 0.0, seed)
    mean = image.mean()
    expected = np.clip(mean + factor * (image - mean), 0, 1)
    assert_close(out, expected, f"the image returned by {what}", rtol=1e-6, atol=1e-9)


def check_noise_cases(contrast_noise_pair, shape, noise_std, seed, mask) -> None:
    """With noise on a mid-grey image: mean, standard deviation, same seed same result."""
    grey = np.full(shape, 0.5)
    out, what = contrast_noise(contrast_noise_pair, grey, mask, 1.0, noise_std, seed)
    again, _ = contrast_noise(contrast_noise_pair, grey, mask, 1.0, noise_std, seed)
    assert_close(again, out, f"{what}, called twice (draw the noise from rng)", rtol=0, atol=0)
    other, _ = contrast_noise(contrast_noise_pair, grey, mask, 1.0, noise_std, seed + 1)
    if np.array_equal(other, out):
        raise AssertionError(f"{what} gives the same noise for another seed: use rng")
    noise = out - 0.5
    mean, std = float(noise.mean()), float(noise.std())
    if not (
        abs(mean) <= 4 * noise_std / np.sqrt(noise.size) + 1e-12
        and 0.9 * noise_std <= std <= 1.1 * noise_std
    ):
        raise AssertionError(
            f"{what}: on a constant image of 0.5 the added noise has mean {mean:.4g} and "
            f"standard deviation {std:.4g}, expected about 0 and {noise_std} (Gaussian noise "
            "N(0, noise_std^2), independent for every pixel)"
        )


def q6_contrast_noise_pair(contrast_noise_pair) -> None:
    """Check ``contrast_noise_pair(image, mask, rng, factor, noise_std)``."""
    guard()
    rng = np.random.default_rng(76)
    image = 0.2 + 0.6 * smooth_image((32, 32), rng)
    mask = label_mask(image, (0, 1))
    check_contrast_cases(contrast_noise_pair, image, mask, 1.5, 1)
    check_contrast_cases(contrast_noise_pair, image, mask, 0.5, 2)
    check_contrast_cases(contrast_noise_pair, image, mask, 3.0, 3)  # clipped
    check_noise_cases(contrast_noise_pair, (64, 64), 0.05, 4, label_mask(rng.random((64, 64))))
    contrast_noise(contrast_noise_pair, np.full((32, 32), 0.98), mask, 1.0, 0.1, 5)  # clipped


reporting(sys.modules[__name__])  # a check that passes says so, with its points
