"""Boundary metric of segmentation masks: the Hausdorff distance (HD) and HD95.

The surface :math:`\\partial P` of a binary mask is its set of boundary voxels (the mask minus
its erosion, face connectivity). With :math:`d(x, \\partial G)` the Euclidean distance from
voxel ``x`` to the nearest surface voxel of ``G``, in millimetres when the voxel ``spacing`` is
given,

.. math:: \\mathrm{HD}_q(P, G) = \\max\\Big( \\operatorname{perc}_q \\{ d(x, \\partial G)
          : x \\in \\partial P \\},\\; \\operatorname{perc}_q \\{ d(y, \\partial P)
          : y \\in \\partial G \\} \\Big)

``q = 100`` is the classical Hausdorff distance (the largest surface error) and ``q = 95`` the
HD95, less sensitive to a single outlier. Masks have one shape, ``(H, W)``, ``(D, H, W)`` or
any number of dimensions, and ``spacing`` gives one size per axis in that order. References:
Huttenlocher, Klanderman & Rucklidge, "Comparing images using the Hausdorff distance", IEEE
TPAMI 15 (1993); Taha & Hanbury, "Metrics for evaluating 3D medical image segmentation", BMC
Medical Imaging 15 (2015).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from course._validate import number, to_numpy
from course.metrics._checks import _binary_pair

__all__ = ["hausdorff_distance"]


def _surface(mask: np.ndarray) -> np.ndarray:
    """Boundary voxels: the mask minus its erosion (face connectivity; the array edge counts
    as outside, so a mask touching the edge has a boundary there).
    """
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def _spacing(spacing: Any, ndim: int) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * ndim
    values = to_numpy("spacing", spacing)
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"spacing must be one positive number or {ndim} positive numbers (one per axis), "
            f"got {spacing!r}"
        )
    values = np.atleast_1d(values.astype(float))
    if values.size == 1:
        values = np.repeat(values, ndim)
    if values.shape != (ndim,) or not np.isfinite(values).all() or (values <= 0).any():
        raise ValueError(
            f"spacing must be one positive number or {ndim} positive numbers (one per axis), "
            f"got {spacing!r}"
        )
    return tuple(float(v) for v in values)


def hausdorff_distance(
    pred: Any, target: Any, spacing: Any = None, percentile: float = 100
) -> float:
    """Symmetric Hausdorff distance between the surfaces of two binary masks (HD, HD95).

    The surface :math:`\\partial P` of a mask is its set of boundary voxels (the mask minus its
    binary erosion). With :math:`d(x, \\partial G)` the Euclidean distance from voxel ``x`` to
    the nearest surface voxel of ``G`` (computed with
    :func:`scipy.ndimage.distance_transform_edt`, scaled by the voxel ``spacing``):

    .. math:: \\mathrm{HD}_q(P, G) = \\max\\Big( \\operatorname{perc}_q \\{ d(x, \\partial G)
              : x \\in \\partial P \\},\\; \\operatorname{perc}_q \\{ d(y, \\partial P)
              : y \\in \\partial G \\} \\Big)

    ``percentile=100`` is the classical Hausdorff distance (the largest surface error);
    ``percentile=95`` is HD95, which ignores the worst 5% of boundary voxels and is less
    sensitive to a single outlier. (This takes the larger of the two directed percentiles, as
    MONAI does; MedPy takes the percentile of both distance sets pooled, which can be smaller.)

    Parameters
    ----------
    pred, target : ndarray or torch.Tensor, same shape (2D or 3D, any number of dimensions)
        Binary masks.
    spacing : float or sequence of float, optional
        Voxel size per axis (e.g. ``(slice_thickness, row_spacing, col_spacing)`` in mm), so
        that anisotropic volumes are measured in physical units. Default: 1 per axis (voxels).
    percentile : float in [0, 100], default 100
        A number (a NumPy scalar or 0-d array holding one counts as a number).

    Returns
    -------
    float
        0.0 when both masks are empty (nothing to miss) and ``inf`` when exactly one is empty
        (the distance to an empty set is infinite): filter or cap these before averaging.

    Raises
    ------
    TypeError
        A ``percentile`` that is not a real number (``"95"``), a ``spacing`` that is not
        numbers (``"1.0"``).
    ValueError
        Different shapes, non-binary values, a ``spacing`` that is not positive or has the
        wrong length, a ``percentile`` outside ``[0, 100]``.

    Examples
    --------
    >>> target = np.zeros((7, 7), bool)
    >>> target[2:5, 2:5] = True
    >>> pred = np.roll(target, 2, axis=1)  # shifted two columns to the right
    >>> hausdorff_distance(pred, target)
    2.0
    >>> hausdorff_distance(pred, target, spacing=(1.0, 0.5))  # columns 0.5 mm apart
    1.0
    """
    pred, target = _binary_pair(pred, target)
    percentile = number("percentile", percentile, low=0, high=100)
    sampling = _spacing(spacing, pred.ndim)
    if not pred.any() and not target.any():
        return 0.0
    if not pred.any() or not target.any():
        return float("inf")
    surface_pred, surface_target = _surface(pred), _surface(target)
    # distance_transform_edt gives each nonzero voxel its distance to the nearest zero voxel,
    # so passing "not the surface" gives the distance to the nearest surface voxel.
    to_target = ndimage.distance_transform_edt(~surface_target, sampling=sampling)
    to_pred = ndimage.distance_transform_edt(~surface_pred, sampling=sampling)
    pred_to_target = to_target[surface_pred]
    target_to_pred = to_pred[surface_target]
    return float(
        max(np.percentile(pred_to_target, percentile), np.percentile(target_to_pred, percentile))
    )
