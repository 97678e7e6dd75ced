"""Self-checks of lecture 01 (images as data): Hounsfield units, windows, voxel volumes.

Each check prints a verdict (see :mod:`course.checks._selfcheck`) and never the expected value:

- :func:`q1`: the modality LUT, ``HU = stored x RescaleSlope + RescaleIntercept`` (DICOM PS3.3
  C.11.1.1.2), as a function of arrays;
- :func:`q2`: the HU limits of the display window of level ``L = 60`` and width ``W = 360``,
  :math:`[L - W/2,\\ L + W/2]` (DICOM PS3.3 C.11.2.1.2);
- :func:`q3`: the volume in mL of a lesion of 250 voxels in the series of the lecture
  (spacing 4 x 2 x 2 mm): voxels x voxel volume, and 1 mL = 1000 mm^3.
"""

from __future__ import annotations

import numpy as np

from course.checks._common import as_array
from course.checks._selfcheck import Wrong, answered, attempt, converted, exercise, number

__all__ = ["q1", "q2", "q3"]

#: The inputs of :func:`q1`: stored values, RescaleSlope, RescaleIntercept.
_RESCALES = (
    (np.array([0, 1024, 1064, 2048], dtype=np.int16), 1.0, -1024.0),
    (np.array([[532, 1000], [2000, 0]], dtype=np.int16), 0.5, -1024.0),
    (np.array([10, 20, 30], dtype=np.uint16), 2.0, -1000.0),
)

#: The window of :func:`q2` (level, width), in HU.
_WINDOW = (60.0, 360.0)

#: The lesion of :func:`q3`: its number of voxels, and the series' spacing (dz, dy, dx) in mm.
_LESION_VOXELS, _SPACING = 250, (4.0, 2.0, 2.0)


def _matches(rule, results) -> bool:
    """Whether every result equals ``rule(stored, slope, intercept)`` on the q1 inputs."""
    return all(
        np.allclose(got, rule(stored.astype(float), slope, intercept))
        for got, (stored, slope, intercept) in zip(results, _RESCALES, strict=True)
    )


@exercise(1, correct="HU = stored x slope + intercept: always apply both rescale tags.")
def q1(stored_to_hu) -> None:
    """Check ``stored_to_hu(stored, slope, intercept)``, the modality LUT, on three scanners."""
    results = []
    for stored, slope, intercept in _RESCALES:
        got = converted(
            as_array, attempt(stored_to_hu, stored.copy(), slope, intercept), "stored_to_hu(...)"
        )
        if got.shape != stored.shape:
            raise Wrong(
                f"give one HU value per stored value: an input of shape {stored.shape} "
                f"returned shape {got.shape}"
            )
        results.append(got)
    if _matches(lambda s, m, b: s * m + b, results):
        return
    if _matches(lambda s, m, b: s + b, results):
        raise Wrong("right for slope 1 only: the slope multiplies the stored value")
    if _matches(lambda s, m, b: s * m - b, results):
        raise Wrong("check the sign: the intercept (e.g. -1024) is added as it is")
    if _matches(lambda s, m, b: (s + b) * m, results):
        raise Wrong("the order matters: multiply the stored value by the slope, then add")
    if _matches(lambda s, m, b: s / m + b, results):
        raise Wrong("the slope multiplies the stored value; it does not divide it")
    raise Wrong(
        "work out one pixel by hand (stored 1064, slope 1, intercept -1024) and compare with "
        "the formula of the section"
    )


@exercise(2, correct="everything below L - W/2 is black, everything above L + W/2 is white.")
def q2(answer) -> None:
    """Check ``(low, high)``, the HU limits of the window L = 60, W = 360."""
    answered(answer)
    if isinstance(answer, tuple | list) and any(value is Ellipsis for value in answer):
        answered(Ellipsis)  # (..., ...): still open
    if isinstance(answer, str) or np.size(answer) != 2:
        raise Wrong("give two numbers, (low, high), in HU")
    low, high = (number(value, "each limit") for value in answer)
    level, width = _WINDOW
    if np.isclose(low, level - width / 2) and np.isclose(high, level + width / 2):
        return
    if np.isclose(high, level - width / 2) and np.isclose(low, level + width / 2):
        raise Wrong("the right limits in the wrong order: give (low, high)")
    if np.isclose(low, level - width) and np.isclose(high, level + width):
        raise Wrong("W is the width of the whole window: half of it lies on each side of L")
    if not np.isclose((low + high) / 2, level):
        raise Wrong("the window is centred on the level L: (low + high) / 2 must be L")
    raise Wrong("centred on L, but the wrong width: high - low must be the window width W")


@exercise(3, correct="voxels x dz dy dx gives mm^3; 1000 mm^3 = 1 cm^3 = 1 mL.")
def q3(answer) -> None:
    """Check the volume in mL of a lesion of 250 voxels with spacing (4, 2, 2) mm."""
    value = number(answered(answer), "the volume")
    voxel_mm3 = float(np.prod(_SPACING))
    expected = _LESION_VOXELS * voxel_mm3 / 1000
    if np.isclose(value, expected, rtol=1e-3):
        return
    if np.isclose(value, expected * 1000, rtol=1e-3):
        raise Wrong("that is in mm^3: convert to mL (1 mL = 1 cm^3)")
    if np.isclose(value, expected / 1000, rtol=1e-3):
        raise Wrong("that is in litres (or cm^3 divided once too often): give mL")
    if np.isclose(value, _LESION_VOXELS, rtol=1e-3):
        raise Wrong("that is the number of voxels: multiply by the volume of one voxel")
    # two of the three sides, or 2 mm taken for all three (the slices are 4 mm apart)
    partial = [_LESION_VOXELS * a * b / 1000 for a, b in ((4, 2), (2, 2))]
    if any(np.isclose(value, p, rtol=1e-3) for p in partial):
        raise Wrong("a voxel has three sides: multiply the series' three spacings (dz, dy, dx)")
    raise Wrong("number of voxels x volume of one voxel (mm^3), then convert mm^3 to mL")
