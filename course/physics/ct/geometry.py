"""Geometry of parallel-beam CT: the reconstruction circle and where every ray goes.

With ``c = N // 2``, detector ``d`` (offset ``s = d - c``) at angle ``theta`` sees the ray

.. math::

    \\text{row} = c - s \\sin\\theta + t \\cos\\theta, \\qquad
    \\text{col} = c + s \\cos\\theta + t \\sin\\theta, \\qquad t = -c, \\dots, N - 1 - c,

and pixel ``(i, j)``, at offsets ``x = j - c`` (right) and ``y = c - i`` (up), falls on the
detector position ``u = c + x \\cos\\theta + y \\sin\\theta``. This module turns those two
formulas into interpolation weights; :mod:`course.physics.ct.matrices` assembles them into the
cached system matrices.

With ``circle=False`` (the whole square image, as scikit-image's ``circle=False``) the detector
must be as long as the image's diagonal: :func:`_diagonal_size` detectors for an ``N x N`` image,
and :func:`_inscribed_size` pixels for the largest image a detector of that length sees whole.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course._validate import integer


def circle_mask(n: int) -> np.ndarray:
    """The reconstruction circle: pixels at most ``n // 2`` from the rotation centre.

    .. math::

        (i - n/\\!/2)^2 + (j - n/\\!/2)^2 \\le (n/\\!/2)^2

    :func:`~course.physics.ct.radon` needs the image to be zero outside it (every ray then
    crosses the whole object), and :func:`~course.physics.ct.fbp` returns zeros outside it;
    compare reconstructions inside it. (With ``circle=False`` both cover the whole square.)

    Parameters
    ----------
    n : int
        Image size (``n x n``).

    Returns
    -------
    ndarray of bool, shape (n, n)

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive int.

    Examples
    --------
    >>> circle_mask(5).astype(int)
    array([[0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [1, 1, 1, 1, 1],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0]])
    """
    n = integer("n", n, minimum=1)
    c = n // 2
    offset = np.arange(n) - c
    return offset[:, None] ** 2 + offset[None, :] ** 2 <= c**2


def _diagonal_size(n: int) -> int:
    """Detectors that cover the whole ``n x n`` square: ``ceil(sqrt(2) n)``, as scikit-image."""
    return n + int(np.ceil(np.sqrt(2) * n - n))


def _inscribed_size(n_det: int) -> int:
    """The largest square seen whole by ``n_det`` detectors: ``floor(n_det / sqrt(2))``, >= 1."""
    return max(1, int(np.floor(np.sqrt(n_det**2 / 2.0))))


def _projection_block(n: int, theta_deg: np.ndarray) -> sp.csr_matrix:
    """Rows ``j * n + d`` (angle ``j`` of the block, detector ``d``), columns ``row * n + col``.

    Ray ``(d, theta)`` is sampled at ``n`` points ``t = -c, ..., n - 1 - c`` with unit spacing
    (``c = n // 2``, ``s = d - c``)::

        row = c - s sin(theta) + t cos(theta),   col = c + s cos(theta) + t sin(theta)

    and the image is read there by bilinear interpolation (zero outside it): the entry for a
    pixel is the sum of its bilinear weights over the samples of the ray.
    """
    c = n // 2
    angles = np.deg2rad(theta_deg)[:, None, None]  # (k, 1, 1)
    s = (np.arange(n) - c)[None, :, None]  # detector offset, axis 1
    t = (np.arange(n) - c)[None, None, :]  # position along the ray, axis 2
    cos, sin = np.cos(angles), np.sin(angles)
    row = c - s * sin + t * cos  # (k, n, n)
    col = c + s * cos + t * sin
    row0, col0 = np.floor(row), np.floor(col)
    frac_r = (row - row0).astype(np.float32)
    frac_c = (col - col0).astype(np.float32)
    row0, col0 = row0.astype(np.int32), col0.astype(np.int32)
    ray = np.broadcast_to(
        np.arange(len(theta_deg) * n, dtype=np.int32).reshape(-1, n, 1), row.shape
    )
    inside_r = ((row0 >= 0) & (row0 < n), (row0 >= -1) & (row0 < n - 1))  # row0, row0 + 1
    inside_c = ((col0 >= 0) & (col0 < n), (col0 >= -1) & (col0 < n - 1))
    rows, cols, weights = [], [], []
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
        weight = (frac_r if dr else 1 - frac_r) * (frac_c if dc else 1 - frac_c)
        keep = inside_r[dr] & inside_c[dc] & (weight > 0)
        rows.append(ray[keep])
        cols.append((row0[keep] + dr) * n + (col0[keep] + dc))
        weights.append(weight[keep])
    coo = sp.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(theta_deg) * n, n * n),
    )
    return coo.tocsr()  # sums the weights of a pixel met by several samples of one ray


def _backprojection_block(
    n_det: int, theta_deg: np.ndarray, out: int, first: int, stride: int, circle: bool = True
):
    """Column indices and weights ``(n_pixels, k, 2)`` of the pixels inside the circle (or all).

    Pixel ``(i, j)`` (offsets ``x = j - out // 2``, ``y = out // 2 - i``) sees angle ``theta``
    at detector position ``u = n_det // 2 + x cos(theta) + y sin(theta)``, read by linear
    interpolation between detectors ``floor(u)`` and ``floor(u) + 1`` (zero beyond the
    detector). Column index of detector ``d`` and angle ``first + j`` is ``d * stride + first + j``.
    ``circle=False`` keeps every pixel of the square (``inside`` is then all True).
    """
    r = out // 2
    inside = circle_mask(out).ravel() if circle else np.ones(out * out, bool)
    offset = np.arange(out) - r
    x = np.tile(offset, out)[inside][:, None]  # j - r, to the right
    y = -np.repeat(offset, out)[inside][:, None]  # r - i, up
    angles = np.deg2rad(theta_deg)[None, :]
    u = n_det // 2 + x * np.cos(angles) + y * np.sin(angles)  # (n_pixels, k)
    lower = np.floor(u)
    frac = u - lower
    lower = lower.astype(np.int64)
    angle_index = first + np.arange(len(theta_deg))[None, :]
    columns = np.empty(u.shape + (2,), np.int32)
    weights = np.empty(u.shape + (2,), np.float32)
    for side, (d, weight) in enumerate(((lower, 1 - frac), (lower + 1, frac))):
        valid = (d >= 0) & (d < n_det)
        columns[..., side] = np.clip(d, 0, n_det - 1) * stride + angle_index
        weights[..., side] = np.where(valid, weight, 0.0)
    return columns, weights, inside
