"""Self-checks of lecture 03 (MRI physics): the centred FFT, acceleration, aliasing.

Each check prints a verdict (see :mod:`course.checks._selfcheck`) and never the expected value:

- :func:`q1`: ``my_fft2c(x)``, the centred orthonormal 2D FFT (fastMRI convention, Zbontar
  et al., 2018), :math:`\\texttt{fftshift}(\\texttt{fft2}(\\texttt{ifftshift}(x),
  \\ \\text{norm="ortho"}))`, on even and odd sizes;
- :func:`q2`: ``acceleration(mask)``, :math:`R = \\frac{\\text{columns}}{\\text{columns
  acquired}}`, for masks of shape ``(1, W)`` or ``(H, W)``;
- :func:`q3`: the prediction ``(axis, shift)`` of the aliasing of an equispaced mask with
  ``R = 8`` on a ``128 x 128`` image: copies shifted along the phase-encoding axis by ``W / R``.
"""

from __future__ import annotations

import numpy as np

from course.checks._common import as_array
from course.checks._selfcheck import Wrong, answered, attempt, converted, exercise, number

__all__ = ["q1", "q2", "q3"]

#: The image sizes of :func:`q1`: square and not, even and odd.
_FFT_SHAPES = ((8, 8), (6, 10), (7, 9), (5, 4))

#: The image width and acceleration of :func:`q3`.
_WIDTH, _R = 128, 8


def _fft_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    images = [rng.normal(size=shape) for shape in _FFT_SHAPES]
    images.append(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))  # MR images: complex
    return images


def _fft_hint(got: np.ndarray, x: np.ndarray) -> str:
    """What a wrong centred FFT of ``x`` most likely forgot."""
    fft, shift, unshift = np.fft.fft2, np.fft.fftshift, np.fft.ifftshift
    expected = shift(fft(unshift(x), norm="ortho"))
    if np.allclose(got * np.sqrt(x.size), expected) or np.allclose(got / np.sqrt(x.size), expected):
        return "the energy is not preserved (Parseval): which norm makes the FFT unitary?"
    if np.allclose(got, np.abs(expected)):
        return "only the magnitudes: k-space is complex, keep its phases"
    if np.allclose(got, fft(x, norm="ortho")) or np.allclose(got, fft(unshift(x), norm="ortho")):
        return "the zero frequency must sit in the centre, at (H // 2, W // 2): shift the result"
    if np.allclose(got, shift(fft(x, norm="ortho"))):
        return (
            "right magnitudes, wrong phases: the centre of the image is the origin too; "
            "shift the image before the FFT"
        )
    if np.allclose(got, unshift(fft(shift(x), norm="ortho"))):
        return (
            "right on even sizes only: on odd sizes fftshift and ifftshift differ; which one "
            "moves the centre to index 0?"
        )
    if np.allclose(got, shift(np.fft.ifft2(unshift(x), norm="ortho"))):
        return "that is the inverse transform (the sign of the exponent): use the forward FFT"
    return "compare with the formula of the section, step by step, on a small image"


@exercise(1, correct="centred and orthonormal: the DC term in the middle, Parseval holds.")
def q1(my_fft2c) -> None:
    """Check ``my_fft2c(x)`` on real and complex images of even and odd sizes."""
    for x in _fft_inputs():
        got = converted(as_array, attempt(my_fft2c, x.copy()), "my_fft2c(x)", dtype=np.complex128)
        if got.shape != x.shape:
            raise Wrong(f"an image of shape {x.shape} gave k-space of shape {got.shape}")
        expected = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))
        if not np.allclose(got, expected, atol=1e-10):
            raise Wrong(f"on an image of shape {x.shape}: {_fft_hint(got, x)}")


def _masks() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    masks = [np.zeros((1, 10), bool), np.zeros((1, 96), bool), np.zeros((16, 40), np.uint8)]
    masks[0][0, [0, 3, 5, 8]] = True  # 10 / 4: not a whole number
    masks[1][0, rng.choice(96, 24, replace=False)] = True
    masks[2][:, rng.choice(40, 5, replace=False)] = 1  # (H, W), columns of ones
    return masks


@exercise(2, correct="R = columns / columns acquired: R = 4 acquires a quarter of the lines.")
def q2(acceleration) -> None:
    """Check ``acceleration(mask)`` on masks of shape (1, W) and (H, W), bool and 0/1."""
    for mask in _masks():
        value = number(attempt(acceleration, mask.copy()), "acceleration(mask)")
        expected = mask.shape[-1] / mask[0].sum()
        if np.isclose(value, expected):
            continue
        if np.isclose(value, 1 / expected):
            raise Wrong("R > 1 for a faster scan: all the columns over the acquired ones")
        if np.isclose(value, np.floor(expected)):
            raise Wrong("R need not be a whole number: use true division (/), not //")
        if np.isclose(value, mask.size / mask[0].sum()):
            raise Wrong(f"a mask of shape {mask.shape}: count columns (the last axis), not pixels")
        raise Wrong(f"test a mask of shape {mask.shape} by hand: count the columns it keeps")


@exercise(3, correct="W / R apart along the phase-encoding axis: R copies fill the field of view.")
def q3(answer) -> None:
    """Check ``(axis, shift)``: where the copies of an equispaced R = 8 mask go (W = 128)."""
    answered(answer)
    if isinstance(answer, tuple | list) and any(value is Ellipsis for value in answer):
        answered(Ellipsis)
    if isinstance(answer, str) or np.size(answer) != 2:
        raise Wrong("give two numbers: (axis, shift), e.g. (0, 5) for 5 pixels along the rows")
    axis, shift = (number(value, "each value") for value in answer)
    if axis not in (0, 1):
        raise Wrong("the axis of a 2D image is 0 (rows) or 1 (columns)")
    if axis == 0:
        raise Wrong(
            "the mask drops phase-encoding columns (the last axis): in the figures the copies "
            "move sideways"
        )
    expected = _WIDTH / _R
    if np.isclose(shift, expected):
        return
    if np.isclose(shift, _WIDTH - expected):
        raise Wrong("that is a copy on the other side: give the smallest shift between copies")
    if np.isclose(shift, _R):
        raise Wrong("the copies are a fraction of the field of view apart, not R pixels")
    if shift >= _WIDTH:
        raise Wrong("the copies wrap around inside the image: a shift is less than its width")
    raise Wrong("count the copies in the R = 2 and R = 4 figures and how far apart they are")
