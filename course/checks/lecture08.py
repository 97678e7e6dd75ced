"""Self-checks of lecture 08 (augmentation): a verdict and a hint, never the answer.

Two exercises of ``notebooks/lectures/08_augmentation.ipynb``:

1. :func:`q1`: which of the transforms :data:`Q1_OPTIONS` keep side labels true (lesions
   labelled *left-sided* stay on the image's right half, the patient's left in the
   radiological convention);
2. :func:`q2`: a two-line gamma transform of an image with range :math:`[a, b]`,
   :math:`x' = a + (b - a) \\left(\\frac{x - a}{b - a}\\right)^{\\gamma}`.

Each check prints "not attempted yet", "correct" or "not yet" with a hint (see
:mod:`course.checks._selfcheck`). References: DICOM PS3.3 C.7.6.2.1.1 (patient orientation: the
image's rows and columns point along the patient's axes); Gonzalez & Woods (2018), Digital Image
Processing, 4th ed., section 3.2 (power-law, gamma, transformations).

>>> q1(...)
Exercise 1: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import numpy as np

from course.checks._common import as_array
from course.checks._selfcheck import Wrong, answered, attempt, converted, exercise

__all__ = ["Q1_OPTIONS", "q1", "q2"]

#: Exercise 1: the transforms to sort. Value: whether a lesion keeps its side of the image.
_KEEPS_SIDE = {
    "flip left-right": False,
    "flip up-down": True,
    "rotate 90": False,
    "rotate 180": False,
    "gamma 0.7": True,
    "Gaussian noise": True,
}
Q1_OPTIONS = tuple(_KEEPS_SIDE)
#: Exercise 2's images (value ranges in HU and in [0, 1]) and gamma values.
_RNG = np.random.default_rng(8)
Q2_CASES = [
    (_RNG.uniform(0.0, 1.0, (8, 8)), 2.0),
    (_RNG.uniform(-100.0, 300.0, (6, 10)), 0.5),
    (_RNG.uniform(0.2, 0.6, (5, 5)), 1.5),
    (np.linspace(-1000.0, 1000.0, 12).reshape(3, 4), 0.8),
]


def _reference_gamma(x: np.ndarray, gamma: float) -> np.ndarray:
    a, b = x.min(), x.max()
    return a + (b - a) * ((x - a) / (b - a)) ** gamma


@exercise(1, correct="only a transform that moves no pixel across the midline keeps the sides.")
def q1(answer) -> None:
    """Check the set of transforms (names from :data:`Q1_OPTIONS`) that keep side labels true."""
    chosen = answered(answer)
    if isinstance(chosen, str):
        chosen = [chosen]
    if not isinstance(chosen, (list, tuple, set, frozenset)):
        raise Wrong(
            f"give a list (or set) of names from check.Q1_OPTIONS, got {type(chosen).__name__}"
        )
    unknown = [c for c in chosen if c not in _KEEPS_SIDE]
    if unknown:
        raise Wrong(f"{unknown} not among the options; choose from {list(Q1_OPTIONS)}")
    chosen = set(chosen)
    breaking = sorted(c for c in chosen if not _KEEPS_SIDE[c])
    if breaking:
        moves = "moves" if len(breaking) == 1 else "move"
        raise Wrong(
            f"{len(breaking)} of your choices {moves} lesions across the midline of the image: "
            "try each on the side map above and count the left-sided lesions still on the "
            "image's right"
        )
    missed = [c for c, keeps in _KEEPS_SIDE.items() if keeps and c not in chosen]
    if missed:
        raise Wrong(
            f"{len(missed)} more of the options keep every lesion on its side: which "
            "ones leave every pixel in its column?"
        )


@exercise(2, correct="normalise to [0, 1], apply the power, map back: the range is kept.")
def q2(gamma_transform) -> None:
    """Check ``gamma_transform(x, gamma)`` on :data:`Q2_CASES`."""
    for x, gamma in Q2_CASES:
        name = f"gamma_transform(x, {gamma}) on an image in [{x.min():.3g}, {x.max():.3g}]"
        got = converted(as_array, attempt(gamma_transform, x.copy(), gamma), name)
        expected = _reference_gamma(x, gamma)
        if got.shape != x.shape:
            raise Wrong(f"{name} has shape {got.shape}: keep the image's shape {x.shape}")
        if np.allclose(got, expected, rtol=1e-6, atol=1e-9 * (x.max() - x.min())):
            continue
        if np.allclose(got, _reference_gamma(x, 1 / gamma)):
            raise Wrong(f"{name}: the exponent is inverted; gamma > 1 must darken mid-grey values")
        if not (np.isclose(got.min(), x.min()) and np.isclose(got.max(), x.max())):
            raise Wrong(
                f"{name} gives values in [{got.min():.3g}, {got.max():.3g}]: map the "
                "image to [0, 1] with its range [a, b], apply the power, then map back "
                "to [a, b]"
            )
        raise Wrong(f"{name}: check the normalisation (x - a) / (b - a) and the power")
