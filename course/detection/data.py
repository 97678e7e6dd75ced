"""Synthetic lesion images with bounding boxes, for training and evaluating a detector.

The images are the course's simulated CT slices (:func:`course.datasets.synthetic_ct_slices`:
a random phantom with lesions, projected, given photon noise, reconstructed by filtered
back-projection), shown through a soft-tissue window. Their lesion masks are exact, because
the lesions were drawn; each lesion becomes one box, the bounding box of one **connected
component** of the mask (:func:`scipy.ndimage.label` with 8-connectivity, then
:func:`scipy.ndimage.find_objects`): component ``k`` covering rows ``r0 .. r1 - 1`` and columns
``c0 .. c1 - 1`` gives the xyxy box ``(c0, r0, c1, r1)`` (see :mod:`course.detection.boxes`).
The phantom keeps its lesions apart (at least one pixel of tissue between two), so one
component is one lesion.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from scipy import ndimage

from course._validate import binary, integer

__all__ = ["mask_to_boxes", "LesionBoxes", "lesion_boxes_dataset"]


def mask_to_boxes(mask: Any) -> np.ndarray:
    """The bounding boxes of the connected components of a 2D binary mask, in xyxy pixels.

    Parameters
    ----------
    mask : array_like or torch.Tensor of shape (H, W)
        Booleans or 0/1. Pixels touching by an edge or a corner belong to one component.

    Returns
    -------
    ndarray of float64, shape (K, 4)
        One box ``(c0, r0, c1, r1)`` per component, in the order of
        :func:`scipy.ndimage.label` (by the first pixel met in row-major order); ``(0, 4)`` for
        an empty mask.

    Raises
    ------
    TypeError
        If ``mask`` is not an array of numbers or booleans.
    ValueError
        If it is not 2D or holds values other than 0 and 1.

    Examples
    --------
    >>> mask = np.zeros((6, 8), bool)
    >>> mask[1:3, 2:5] = True  # rows 1-2, columns 2-4
    >>> mask[4, 7] = True
    >>> mask_to_boxes(mask)
    array([[2., 1., 5., 3.],
           [7., 4., 8., 5.]])
    """
    mask = binary("mask", mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2D (H, W), got shape {mask.shape}")
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
    slices = ndimage.find_objects(labels)
    boxes = [(cols.start, rows.start, cols.stop, rows.stop) for rows, cols in slices]
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


class LesionBoxes(NamedTuple):
    """Images with their lesion boxes and masks (see :func:`lesion_boxes_dataset`)."""

    images: torch.Tensor
    boxes: list[np.ndarray]
    masks: np.ndarray


def lesion_boxes_dataset(
    n: int,
    size: int = 64,
    seed: int = 0,
    n_lesions: Any = (1, 3),
    photons: float | None = 1e6,
    window: tuple[float, float] = (40.0, 400.0),
) -> LesionBoxes:
    """Simulated CT slices with lesions, and one bounding box per lesion.

    Parameters
    ----------
    n : int
        Number of slices, >= 1.
    size : int, default 64
        Slices are ``size x size`` pixels (lesions are then about 3 to 9 pixels wide).
    seed : int, default 0
        The same seed gives the same slices; use another seed for a test set.
    n_lesions : int or (int, int), default (1, 3)
        Lesions per slice, or an inclusive range drawn per slice (see
        :func:`course.datasets.synthetic_ct_slices` for the most a slice holds).
    photons : float or None, default 1e6
        Photons per ray: the dose, hence the noise.
    window : (float, float), default (40, 400)
        Level and width in HU that map the slices to [0, 1].

    Returns
    -------
    LesionBoxes
        A named tuple ``(images, boxes, masks)``: ``images`` a float32 tensor
        ``(n, 1, size, size)`` in [0, 1]; ``boxes`` a list of ``n`` float arrays ``(K_i, 4)``,
        xyxy in pixels; ``masks`` the exact lesion masks, bool ``(n, size, size)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`course.datasets.synthetic_ct_slices`.

    Examples
    --------
    >>> data = lesion_boxes_dataset(4, size=32, seed=0)
    >>> tuple(data.images.shape), [len(b) for b in data.boxes] == [
    ...     int(ndimage.label(m, np.ones((3, 3)))[1]) for m in data.masks]
    ((4, 1, 32, 32), True)
    """
    from course.datasets import synthetic_ct_slices
    from course.io.dicom import window as apply_window

    n = integer("n", n, minimum=1)
    hu, masks = synthetic_ct_slices(n, size, photons=photons, seed=seed, n_lesions=n_lesions)
    images = torch.from_numpy(apply_window(hu, *window).astype(np.float32)[:, None])
    return LesionBoxes(images, [mask_to_boxes(m) for m in masks], masks)
