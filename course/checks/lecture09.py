"""Self-checks of lecture 09 (registration, enhancement): a verdict and a hint, never the answer.

Two exercises of ``notebooks/lectures/09_registration_enhancement.ipynb``:

1. :func:`q1`: the PSNR in decibels of an error with mean squared error :data:`Q1_MSE` (HU²) on
   a data range :data:`Q1_RANGE` (HU), :math:`10 \\log_{10}(\\text{MAX}^2 / \\text{MSE})`;
2. :func:`q2`: a two-line function, the :math:`2 \\times 3` matrix of
   :func:`torch.nn.functional.affine_grid` for a rotation by an angle in degrees (no scale, no
   shift), :math:`\\begin{pmatrix} \\cos\\varphi & -\\sin\\varphi & 0 \\\\ \\sin\\varphi &
   \\cos\\varphi & 0 \\end{pmatrix}`.

Each check prints "not attempted yet", "correct" or "not yet" with a hint (see
:mod:`course.checks._selfcheck`). References: Gonzalez & Woods (2018), Digital Image Processing,
4th ed. (PSNR); Jaderberg et al. (2015), Spatial transformer networks, NeurIPS 28 (the sampling
grid of an affine matrix).

>>> q1(...)
Exercise 1: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import math

import numpy as np

from course.checks._common import as_array, as_float
from course.checks._selfcheck import Wrong, attempt, converted, exercise

__all__ = ["Q1_MSE", "Q1_RANGE", "q1", "q2"]

#: Exercise 1: a denoised CT compared with the full-dose one, in the soft-tissue window.
Q1_RANGE = 400.0  # HU: the width of the window (40, 400)
Q1_MSE = 100.0  # HU^2: an RMS error of 10 HU
#: Exercise 2's angles, in degrees.
Q2_ANGLES = [30.0, 0.0, 90.0, -45.0, 180.0, 12.0]


@exercise(1, correct="halving the RMS error adds 6 dB; PSNR needs the data range to mean anything.")
def q1(answer) -> None:
    """Check the PSNR (dB) of an MSE of :data:`Q1_MSE` on a data range of :data:`Q1_RANGE`."""
    got = converted(as_float, answer, "the PSNR")
    expected = 10 * math.log10(Q1_RANGE**2 / Q1_MSE)
    if math.isclose(got, expected, abs_tol=0.05):
        return
    rms = math.sqrt(Q1_MSE)
    if math.isclose(got, 10 * math.log10(Q1_RANGE / Q1_MSE), abs_tol=0.05):
        raise Wrong("MAX is squared in the formula, like the error in the MSE")
    if math.isclose(got, 10 * math.log10(Q1_RANGE**2 / rms), abs_tol=0.05) or math.isclose(
        got, 10 * math.log10(Q1_RANGE / rms), abs_tol=0.05
    ):
        raise Wrong("the MSE is the mean of the squared errors (the RMS error squared)")
    if got < 0:
        raise Wrong(
            "MAX and the error must be in the same units (HU here): the data range is "
            "the window's width, not 1"
        )
    if math.isclose(got, 10 * math.log(Q1_RANGE**2 / Q1_MSE), abs_tol=0.05):
        raise Wrong("decibels use the base-10 logarithm")
    raise Wrong("PSNR = 10 log10(MAX^2 / MSE), in dB, with MAX the data range")


def _rotation(degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0]])


@exercise(2, correct="F.affine_grid reads the input at A (x, y, 1): rotation and shift in one.")
def q2(rotation_matrix) -> None:
    """Check ``rotation_matrix(degrees)`` on :data:`Q2_ANGLES` (a 2x3 array or tensor)."""
    for degrees in Q2_ANGLES:
        name = f"rotation_matrix({degrees:g})"
        got = converted(as_array, attempt(rotation_matrix, degrees), name)
        expected = _rotation(degrees)
        if got.shape != (2, 3):
            raise Wrong(
                f"{name} has shape {got.shape}: F.affine_grid needs 2 rows and 3 "
                "columns, the third column being the shift (zero here)"
            )
        if np.allclose(got, expected, atol=1e-6):
            continue
        radians = _rotation(math.degrees(degrees))  # cos(degrees) read as radians
        if np.allclose(got, radians, atol=1e-6):
            raise Wrong(f"{name}: cos and sin take radians (math.radians converts)")
        if np.allclose(got, _rotation(-degrees), atol=1e-6):
            raise Wrong(
                f"{name} rotates the other way: compare the signs of the sin terms "
                "with the matrix A of the lecture"
            )
        raise Wrong(
            f"{name}: compare with the matrix A of the lecture for a scale of 1 and no shift"
        )
