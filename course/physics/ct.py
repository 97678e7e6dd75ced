"""Computed tomography from scratch: attenuation, the Radon transform and filtered back-projection.

An X-ray beam of ``I_0`` photons that crosses a thickness ``d`` of a material with linear
attenuation coefficient ``mu`` (in 1/cm) comes out with ``I = I_0 exp(-mu d)`` photons
(Beer-Lambert). Through the body ``mu`` changes along the path, so the detector measures

.. math::

    I = I_0 \\exp\\Big(-\\int_{\\text{ray}} \\mu(x, y)\\, ds\\Big), \\qquad
    p = -\\ln \\frac{I}{I_0} = \\int_{\\text{ray}} \\mu(x, y)\\, ds,

the *line integral* ``p`` of the attenuation map. Collecting ``p`` for every detector offset
``s`` and every angle ``theta`` gives the **sinogram**, the Radon transform of the image:

.. math::

    p(s, \\theta) = \\int \\mu(s \\cos\\theta - t \\sin\\theta,\\;
                               s \\sin\\theta + t \\cos\\theta)\\,dt.

CT reconstruction inverts it. Simply smearing every projection back over the image
(:func:`backproject`) gives a blurred image (each point becomes a ``1/r`` star). Filtering each
projection with a ramp ``|f|`` first removes the blur: **filtered back-projection** (:func:`fbp`).

Conventions (those of :func:`skimage.transform.radon` and :func:`skimage.transform.iradon`, so
that every result here can be compared with scikit-image):

* angles ``theta`` in **degrees**, counter-clockwise from the x axis; a sinogram has shape
  ``(n_detectors, n_angles)``; with ``x = col - N // 2`` to the right and ``y = N // 2 - row``
  up, the point ``(x, y)`` projects onto detector ``N // 2 + x cos(theta) + y sin(theta)``;
* images are square ``(N, N)``, the rotation centre is the pixel ``(N // 2, N // 2)``, detector
  ``N // 2`` is the central ray, and the image must be zero outside the inscribed circle of
  radius ``N // 2`` (:func:`circle_mask`);
* leading batch axes are allowed: ``(..., N, N)`` images, ``(..., n_detectors, n_angles)``
  sinograms. A PyTorch tensor is processed with PyTorch on its own device (GPU included).

Both operators are sparse matrices built once per geometry and cached (:func:`projection_matrix`,
:func:`backprojection_matrix`), so a batch of images costs one sparse matrix product.

>>> image = np.zeros((64, 64)); image[24:40, 28:36] = 1.0
>>> theta = np.arange(180)
>>> sinogram = radon(image, theta)
>>> sinogram.shape
(64, 180)
>>> reconstruction = fbp(sinogram, theta)
>>> reconstruction.shape
(64, 64)
>>> bool(abs(reconstruction[32, 32] - 1.0) < 0.1)
True
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.sparse as sp

from course._validate import generator, integer, is_tensor, nonempty, number

__all__ = [
    "MU_WATER",
    "MU_AIR",
    "FILTERS",
    "beer_lambert",
    "line_integral",
    "log_transform",
    "hu_to_mu",
    "mu_to_hu",
    "circle_mask",
    "projection_matrix",
    "backprojection_matrix",
    "radon",
    "backproject",
    "ramp_filter",
    "reconstruction_filter",
    "filter_sinogram",
    "fbp",
    "simulate_ct",
    "clear_cache",
]

#: Linear attenuation coefficient of water in 1/cm at an effective energy of about 70 keV
#: (NIST XCOM gives 0.206 /cm at 60 keV and 0.184 /cm at 80 keV): 0 HU.
MU_WATER = 0.19
#: Attenuation of air, taken as 0 (its true value, about 2e-4 /cm, is negligible): -1000 HU.
MU_AIR = 0.0
#: The reconstruction filters understood by :func:`reconstruction_filter` and :func:`fbp`.
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")
#: A system matrix with more non-zeros than this (about 8 bytes each) is not cached: the operator
#: is then applied a few angles at a time, which needs little memory but rebuilds every call.
MAX_CACHED_NONZEROS = 64_000_000


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------
def _real_array(x, name: str) -> np.ndarray:
    """``x`` as a finite real NumPy array (integers and booleans become float64)."""
    try:
        a = np.asarray(x)
    except Exception as error:  # e.g. a ragged list
        raise TypeError(f"{name} must be a number or an array of numbers") from error
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(a.dtype if a.dtype.kind == "f" else np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _nonnegative(x, name: str) -> np.ndarray:
    a = _real_array(x, name)
    if (a < 0).any():
        raise ValueError(f"{name} must be non-negative, got a minimum of {a.min()}")
    return a


def _check_operand(x, name: str, layout: str):
    """Validate an image or sinogram batch ``(..., A, B)``; return it and whether it is a tensor.

    The result is float32 or float64: float16 (and bfloat16) becomes float32, so that sums of
    many pixels cannot overflow; integers and booleans become float64 (a tensor: the default
    dtype). The last two axes must not be empty.
    """
    if is_tensor(x):
        import torch

        if x.ndim < 2:
            raise ValueError(f"{name} must have shape {layout}, got shape {tuple(x.shape)}")
        if x.is_complex():
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        if not torch.is_floating_point(x):
            x = x.to(torch.get_default_dtype())
        elif x.dtype in (torch.float16, torch.bfloat16):
            x = x.to(torch.float32)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        return nonempty(name, x, axes=(-2, -1)), True
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array or a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape {layout}, got shape {x.shape}")
    nonempty(name, x, axes=(-2, -1))
    if x.dtype == np.float16:
        x = x.astype(np.float32)
    return _real_array(x, name), False


def _angles(theta, n_angles: int | None = None, name: str = "theta") -> tuple[float, ...]:
    """Projection angles in degrees as a hashable tuple (the cache key of the geometry)."""
    if is_tensor(theta):
        theta = theta.detach().cpu().numpy()
    a = _real_array(theta, name)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1D array of angles in degrees, got shape {a.shape}"
        )
    if n_angles is not None and a.size != n_angles:
        raise ValueError(
            f"{name} has {a.size} angles but the sinogram has {n_angles} columns "
            "(sinogram shape is (..., n_detectors, n_angles))"
        )
    return tuple(float(v) for v in a)


def _default_angles(theta, n_angles: int) -> tuple[float, ...]:
    """``theta``, or ``n_angles`` angles evenly spread over [0, 180) when it is None."""
    if theta is None:
        return tuple(float(v) for v in np.arange(n_angles) * (180.0 / n_angles))
    return _angles(theta, n_angles)


# ---------------------------------------------------------------------------------------------
# Physics: attenuation and Hounsfield units
# ---------------------------------------------------------------------------------------------
def beer_lambert(i0, mu, length):
    """Photons left after crossing a uniform material: Beer-Lambert's law.

    .. math::

        I = I_0 \\, e^{-\\mu d}

    Parameters
    ----------
    i0 : float or array_like
        Incident intensity (photon count) ``I_0 >= 0``.
    mu : float or array_like
        Linear attenuation coefficient in 1/cm, ``mu >= 0`` (water: :data:`MU_WATER`).
    length : float or array_like
        Thickness ``d`` crossed, in cm, ``d >= 0``.

    The three arguments are broadcast against each other.

    Returns
    -------
    float or ndarray
        Transmitted intensity ``I``, same units as ``i0``.

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is negative, NaN or infinite.

    Examples
    --------
    20 cm of water lets through about 2% of the photons:

    >>> round(float(beer_lambert(1e5, MU_WATER, 20.0)))
    2237
    """
    i0 = _nonnegative(i0, "i0")
    mu = _nonnegative(mu, "mu")
    length = _nonnegative(length, "length")
    out = i0 * np.exp(-mu * length)
    return out[()] if isinstance(out, np.ndarray) else out


def line_integral(mu, lengths):
    """The line integral of the attenuation along a path made of uniform segments.

    .. math::

        p = \\int_{\\text{ray}} \\mu \\, ds = \\sum_i \\mu_i d_i, \\qquad I = I_0 e^{-p}

    Parameters
    ----------
    mu : array_like, shape (..., n_segments)
        Attenuation of each segment in 1/cm (non-negative).
    lengths : array_like, shape (..., n_segments)
        Length of each segment in cm (non-negative); broadcast against ``mu``.

    Returns
    -------
    float or ndarray, shape (...)
        ``p``, dimensionless (1/cm times cm), summed over the last axis.

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is negative, NaN or infinite, or the shapes do not broadcast.

    Examples
    --------
    2 cm of bone (0.5 /cm) and 10 cm of soft tissue (0.2 /cm):

    >>> p = line_integral([0.5, 0.2], [2.0, 10.0])
    >>> round(float(p), 6), round(float(beer_lambert(1.0, p, 1.0)), 4)
    (3.0, 0.0498)
    """
    mu = _nonnegative(mu, "mu")
    lengths = _nonnegative(lengths, "lengths")
    try:
        products = mu * lengths
    except ValueError as error:
        raise ValueError(
            f"mu of shape {mu.shape} and lengths of shape {lengths.shape} do not broadcast"
        ) from error
    out = np.sum(products, axis=-1) if products.ndim else products
    return out[()] if isinstance(out, np.ndarray) else out


def log_transform(intensity, i0):
    """From measured intensities back to line integrals: the CT "log transform".

    .. math::

        p = -\\ln \\frac{I}{I_0}

    Parameters
    ----------
    intensity : float or array_like
        Measured intensity ``I > 0`` (a zero count has no logarithm: see :func:`simulate_ct`).
    i0 : float or array_like
        Incident intensity ``I_0 > 0``, broadcast against ``intensity``.

    Returns
    -------
    float or ndarray
        The line integrals ``p`` (dimensionless).

    Raises
    ------
    TypeError
        If an argument is not real-valued.
    ValueError
        If an argument is not strictly positive, NaN or infinite.

    Examples
    --------
    >>> float(log_transform(np.exp(-2.5), 1.0))
    2.5
    """
    intensity = _real_array(intensity, "intensity")
    i0 = _real_array(i0, "i0")
    for value, name in ((intensity, "intensity"), (i0, "i0")):
        if (value <= 0).any():
            raise ValueError(
                f"{name} must be > 0 (the logarithm of 0 is -inf), got a minimum of {value.min()}"
            )
    out = -np.log(intensity / i0)
    return out[()] if isinstance(out, np.ndarray) else out


def _check_reference(mu_water, mu_air) -> tuple[float, float]:
    mu_water, mu_air = number("mu_water", mu_water), number("mu_air", mu_air)
    if not 0 <= mu_air < mu_water:
        raise ValueError(f"need 0 <= mu_air < mu_water, got mu_air={mu_air}, mu_water={mu_water}")
    return mu_water, mu_air


def hu_to_mu(hu, mu_water: float = MU_WATER, mu_air: float = MU_AIR):
    """Hounsfield units to linear attenuation coefficients (1/cm).

    .. math::

        \\mu = \\mu_{water} + \\frac{HU}{1000} (\\mu_{water} - \\mu_{air})

    so that water is 0 HU and air is -1000 HU (with the default ``mu_air = 0``, the usual
    ``HU = 1000 (mu - mu_water) / mu_water``).

    Parameters
    ----------
    hu : float or array_like
        CT numbers in HU.
    mu_water : float, default :data:`MU_WATER` (0.19 /cm, about 70 keV)
        Attenuation of water at the effective energy of the scanner.
    mu_air : float, default :data:`MU_AIR` (0)
        Attenuation of air.

    Returns
    -------
    float or ndarray
        ``mu`` in 1/cm (negative below -1000 HU: no physical material lies there).

    Raises
    ------
    TypeError
        If ``hu`` is not real-valued or a reference is not a real number.
    ValueError
        If ``hu`` holds NaN or infinity, or not ``0 <= mu_air < mu_water``.

    Examples
    --------
    >>> [round(float(m), 4) for m in hu_to_mu([-1000, 0, 1000])]
    [0.0, 0.19, 0.38]
    """
    mu_water, mu_air = _check_reference(mu_water, mu_air)
    out = mu_water + _real_array(hu, "hu") / 1000.0 * (mu_water - mu_air)
    return out[()] if isinstance(out, np.ndarray) else out


def mu_to_hu(mu, mu_water: float = MU_WATER, mu_air: float = MU_AIR):
    """Linear attenuation coefficients (1/cm) to Hounsfield units; the inverse of :func:`hu_to_mu`.

    .. math::

        HU = 1000 \\, \\frac{\\mu - \\mu_{water}}{\\mu_{water} - \\mu_{air}}

    Parameters
    ----------
    mu : float or array_like
        Attenuation in 1/cm.
    mu_water, mu_air : float
        The references, as in :func:`hu_to_mu`.

    Returns
    -------
    float or ndarray
        CT numbers in HU.

    Raises
    ------
    TypeError
        If ``mu`` is not real-valued or a reference is not a real number.
    ValueError
        If ``mu`` holds NaN or infinity, or not ``0 <= mu_air < mu_water``.

    Examples
    --------
    >>> round(float(mu_to_hu(0.2)), 1)
    52.6
    """
    mu_water, mu_air = _check_reference(mu_water, mu_air)
    out = 1000.0 * (_real_array(mu, "mu") - mu_water) / (mu_water - mu_air)
    return out[()] if isinstance(out, np.ndarray) else out


# ---------------------------------------------------------------------------------------------
# Geometry: the two system matrices
# ---------------------------------------------------------------------------------------------
def circle_mask(n: int) -> np.ndarray:
    """The reconstruction circle: pixels at most ``n // 2`` from the rotation centre.

    .. math::

        (i - n/\\!/2)^2 + (j - n/\\!/2)^2 \\le (n/\\!/2)^2

    :func:`radon` needs the image to be zero outside it (every ray then crosses the whole
    object), and :func:`fbp` returns zeros outside it. Compare reconstructions inside it.

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


def _angle_chunks(n_angles: int, entries_per_angle: int):
    """Slices of angles processed together while building a matrix (about 2M entries each)."""
    step = max(1, 2_000_000 // max(entries_per_angle, 1))
    return [slice(a, min(a + step, n_angles)) for a in range(0, n_angles, step)]


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


def _backprojection_block(n_det: int, theta_deg: np.ndarray, out: int, first: int, stride: int):
    """Column indices and weights ``(n_pixels, k, 2)`` of the pixels inside the circle.

    Pixel ``(i, j)`` (offsets ``x = j - out // 2``, ``y = out // 2 - i``) sees angle ``theta``
    at detector position ``u = n_det // 2 + x cos(theta) + y sin(theta)``, read by linear
    interpolation between detectors ``floor(u)`` and ``floor(u) + 1`` (zero beyond the
    detector). Column index of detector ``d`` and angle ``first + j`` is ``d * stride + first + j``.
    """
    r = out // 2
    inside = circle_mask(out).ravel()
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


def _estimated_nonzeros(kind: str, n: int, n_angles: int) -> int:
    # about 2 pixels per ray sample for the projector, 2 detectors per pixel for the other
    return 2 * n * n * n_angles if kind == "projection" else int(1.6 * n * n * n_angles)


@functools.lru_cache(maxsize=4)
def _projection_matrix_cached(n: int, theta: tuple[float, ...]) -> sp.csr_matrix:
    theta_deg, n_angles = np.asarray(theta), len(theta)
    blocks = [_projection_block(n, theta_deg[c]) for c in _angle_chunks(n_angles, 4 * n * n)]
    # The blocks hold rows j * n + d (angle-major); the matrix wants row d * n_angles + j, like
    # sinogram.ravel(). Copy each block's rows to their places, freeing the blocks as we go.
    lengths = np.concatenate([np.diff(block.indptr) for block in blocks])  # angle-major
    lengths = lengths.reshape(n_angles, n).T.ravel()  # detector-major
    index_dtype = np.int32 if lengths.sum() < 2**31 else np.int64
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(index_dtype)
    indices = np.empty(indptr[-1], index_dtype)
    data = np.empty(indptr[-1], np.float32)
    first = 0  # first angle of the current block
    while blocks:
        block = blocks.pop(0)
        rows = block.shape[0]  # k * n, row j * n + d
        j, d = np.divmod(np.arange(rows), n)
        starts = indptr[:-1][d * n_angles + first + j]
        row_of_entry = np.repeat(np.arange(rows), np.diff(block.indptr))
        destination = starts[row_of_entry] + (np.arange(block.nnz) - block.indptr[row_of_entry])
        indices[destination], data[destination] = block.indices, block.data
        first += rows // n
    return sp.csr_matrix((data, indices, indptr), shape=(n * n_angles, n * n))


@functools.lru_cache(maxsize=4)
def _backprojection_matrix_cached(n_det: int, theta: tuple[float, ...], out: int):
    theta_deg = np.asarray(theta)
    n_angles = len(theta)
    n_pixels = int(circle_mask(out).sum())
    columns = np.empty((n_pixels, n_angles, 2), np.int32)
    weights = np.empty((n_pixels, n_angles, 2), np.float32)
    for chunk in _angle_chunks(n_angles, 2 * n_pixels):
        block = _backprojection_block(n_det, theta_deg[chunk], out, chunk.start, n_angles)
        columns[:, chunk], weights[:, chunk], _ = block
    entries_per_row = np.where(circle_mask(out).ravel(), 2 * n_angles, 0)
    indptr = np.concatenate([[0], np.cumsum(entries_per_row)])
    if indptr[-1] < 2**31:  # int32 like the column indices: SciPy then keeps them without a copy
        indptr = indptr.astype(np.int32)
    else:
        columns = columns.astype(np.int64)
    return sp.csr_matrix(
        (weights.ravel(), columns.ravel(), indptr), shape=(out * out, n_det * n_angles)
    )


def _fits_in_cache(kind: str, n: int, n_angles: int) -> bool:
    return _estimated_nonzeros(kind, n, n_angles) <= MAX_CACHED_NONZEROS


def projection_matrix(n: int, theta=None) -> sp.csr_matrix:
    """The system matrix ``A`` of :func:`radon`: ``sinogram.ravel() = A @ image.ravel()``.

    Row ``d * n_angles + j`` is the ray through detector ``d`` at angle ``theta[j]``; column
    ``i * n + j`` is pixel ``(i, j)``. The ray is sampled every pixel along its length and the
    image read there by bilinear interpolation (exactly :func:`skimage.transform.radon`), so
    ``A[ray, pixel]`` is the summed interpolation weight of that pixel along that ray: about
    ``2 n`` non-zeros per ray. ``A.T`` is the exact adjoint (a "ray-driven" back-projection),
    the operator of iterative reconstruction (``x <- x + step * A.T @ (p - A @ x)``).

    The matrix is built once per geometry and cached (4 geometries; :func:`clear_cache`).

    Parameters
    ----------
    n : int
        Image size ``n x n`` (also the number of detectors).
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``np.arange(180)``.

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (n * n_angles, n * n)
        Do not modify it: it is the cached copy.

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive int or ``theta`` is not a non-empty 1D array of finite angles.

    Examples
    --------
    >>> A = projection_matrix(16, [0, 45, 90])
    >>> A.shape
    (48, 256)
    >>> image = circle_mask(16).astype(float)
    >>> bool(np.allclose(A @ image.ravel(), radon(image, [0, 45, 90]).ravel(), atol=1e-5))
    True
    """
    n = integer("n", n, minimum=1)
    theta = _angles(np.arange(180.0) if theta is None else theta)
    return _projection_matrix_cached(n, theta)


def backprojection_matrix(n_detectors: int, theta=None, output_size: int | None = None):
    """The matrix ``B`` of :func:`backproject`: ``image.ravel() = pi / K * B @ sinogram.ravel()``.

    Pixel ``(i, j)`` inside the circle (:func:`circle_mask`), at offsets ``x = j - N // 2``,
    ``y = N // 2 - i`` from the centre (y up), projects at angle ``theta`` onto the detector
    position

    .. math::

        u = n_{det} /\\!/ 2 + x \\cos\\theta + y \\sin\\theta,

    which falls between two detectors: row ``(i, j)`` holds their linear interpolation weights
    ``1 - (u - floor(u))`` and ``u - floor(u)`` for every angle (a "pixel-driven"
    back-projection, exactly the one of :func:`skimage.transform.iradon`). Rows of pixels outside
    the circle are empty. ``B`` is close to, but not exactly, ``projection_matrix(...).T``.

    Parameters
    ----------
    n_detectors : int
        Number of detectors (sinogram rows).
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``np.arange(180)``.
    output_size : int, optional
        Size ``N`` of the reconstructed image, ``1 <= N <= n_detectors``; default
        ``n_detectors``.

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (N * N, n_detectors * n_angles)
        Cached (4 geometries; :func:`clear_cache`): do not modify it.

    Raises
    ------
    TypeError, ValueError
        If a size is not a positive int, ``output_size > n_detectors``, or ``theta`` is not a
        non-empty 1D array of finite angles.

    Examples
    --------
    >>> B = backprojection_matrix(16, [0, 90])
    >>> B.shape
    (256, 32)
    >>> float(B.sum(axis=1).max())  # the weights of each pixel and angle sum to 1
    2.0
    """
    n_det = integer("n_detectors", n_detectors, minimum=1)
    theta = _angles(np.arange(180.0) if theta is None else theta)
    out = _output_size(output_size, n_det)
    return _backprojection_matrix_cached(n_det, theta, out)


def _output_size(output_size, n_det: int) -> int:
    if output_size is None:
        return n_det
    out = integer("output_size", output_size, minimum=1)
    if out > n_det:
        raise ValueError(
            f"output_size must be at most n_detectors={n_det} (pixels further out "
            f"were never seen by the detector), got {output_size}"
        )
    return out


def clear_cache() -> None:
    """Forget every cached system matrix (NumPy and PyTorch copies), freeing their memory.

    Examples
    --------
    >>> clear_cache()
    """
    _projection_matrix_cached.cache_clear()
    _backprojection_matrix_cached.cache_clear()
    _torch_matrix.cache_clear()


# ---------------------------------------------------------------------------------------------
# Applying a matrix to a batch, with NumPy/SciPy or with PyTorch
# ---------------------------------------------------------------------------------------------
def _cached_matrix(kind: str):
    return _projection_matrix_cached if kind == "projection" else _backprojection_matrix_cached


@functools.lru_cache(maxsize=4)
def _torch_matrix(kind: str, key: tuple, device: str):
    """The cached SciPy matrix as a torch sparse CSR tensor on ``device``."""
    import torch

    matrix = _cached_matrix(kind)(*key)
    with warnings.catch_warnings():  # torch warns that sparse CSR support is in beta
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(  # shares SciPy's arrays on the CPU (no copy)
            torch.from_numpy(matrix.indptr),
            torch.from_numpy(matrix.indices),
            torch.from_numpy(matrix.data),
            size=matrix.shape,
        ).to(device)


def _matmul_batch(matrix, flat, tensor: bool):
    """``matrix @ v`` for every row ``v`` of ``flat`` (shape (B, m)) -> shape (B, rows)."""
    if tensor:
        return (matrix @ flat.T).T
    if flat.shape[0] == 1:
        return (matrix @ flat[0])[None]
    return (matrix @ np.ascontiguousarray(flat.T)).T


def _apply(kind: str, key: tuple, flat, tensor: bool):
    """Apply the (cached) projection or back-projection matrix to a float32 batch ``flat``."""
    if tensor:
        return _matmul_batch(_torch_matrix(kind, key, str(flat.device)), flat, True)
    return _matmul_batch(_cached_matrix(kind)(*key), flat, False)


def _stream(kind: str, key: tuple, flat, tensor: bool):
    """The same product for a geometry too big to cache: built and applied a few angles at once."""
    if tensor:
        import torch

        out = _stream(kind, key, flat.detach().cpu().numpy(), False)
        return torch.from_numpy(out).to(flat.device)
    if kind == "projection":
        n, theta = key
        sinogram = np.empty((flat.shape[0], n, len(theta)), np.float32)
        for chunk in _angle_chunks(len(theta), 4 * n * n):
            block = _projection_block(n, np.asarray(theta[chunk]))
            part = _matmul_batch(block, flat, False)  # (B, k * n), row j * n + d
            sinogram[:, :, chunk] = part.reshape(len(flat), -1, n).transpose(0, 2, 1)
        return sinogram.reshape(len(flat), -1)
    n_det, theta, out = key
    sinograms = flat.reshape(len(flat), n_det, len(theta))
    image = np.zeros((len(flat), out * out), np.float32)
    for chunk in _angle_chunks(len(theta), 2 * out * out):
        k = chunk.stop - chunk.start
        angles = np.asarray(theta[chunk])
        columns, weights, inside = _backprojection_block(n_det, angles, out, 0, k)
        part = np.ascontiguousarray(sinograms[:, :, chunk]).reshape(len(flat), -1)
        image[:, inside] += np.einsum("bpke,pke->bp", part[:, columns], weights)
    return image


def _run(kind: str, key: tuple, x, tensor: bool, n_in: int, out_shape: tuple):
    """Flatten the batch ``x (..., a, b)``, apply the operator in float32, restore the shape."""
    batch_shape = tuple(x.shape[:-2])
    dtype = x.dtype
    if tensor:
        import torch

        flat = x.reshape(-1, n_in).to(torch.float32)
    else:
        flat = x.reshape(-1, n_in).astype(np.float32, copy=False)
    size = key[0] if kind == "projection" else key[2]
    if _fits_in_cache(kind, size, len(key[1])):
        result = _apply(kind, key, flat, tensor)
    else:
        result = _stream(kind, key, flat, tensor)
    result = result.reshape(batch_shape + out_shape)
    return result.to(dtype) if tensor else result.astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Radon transform and back-projection
# ---------------------------------------------------------------------------------------------
def radon(image, theta=None):
    """The Radon transform: line integrals of the image along every ray, the sinogram.

    .. math::

        p(s, \\theta) = \\sum_{t} \\mathrm{image}\\big(c - s \\sin\\theta + t \\cos\\theta,\\;
            c + s \\cos\\theta + t \\sin\\theta\\big)

    with ``c = N // 2``, detector offset ``s = d - c`` for detector ``d = 0..N-1``, and unit
    steps ``t`` along the ray, the image being read by bilinear interpolation: exactly
    :func:`skimage.transform.radon` with ``circle=True`` (computed as ``A @ image.ravel()`` with
    the cached :func:`projection_matrix`). Sums are per pixel; multiply by the pixel size in cm
    to get line integrals of an attenuation map in 1/cm (:func:`simulate_ct` does).

    Parameters
    ----------
    image : ndarray or torch.Tensor, shape (..., N, N)
        One square image or a batch of them, zero outside the inscribed circle
        (:func:`circle_mask`). A tensor is transformed with PyTorch on its device.
    theta : array_like, shape (n_angles,), optional
        Projection angles in degrees; default ``np.arange(180)``.

    Returns
    -------
    ndarray or torch.Tensor, shape (..., N, n_angles)
        The sinogram(s), float32 for float16 or float32 input, else float64 (always computed
        in float32, so float16 input cannot overflow).

    Raises
    ------
    TypeError
        If ``image`` is not a real array or tensor.
    ValueError
        If ``image`` has fewer than 2 dimensions, is empty (``N = 0``), is not square, or holds
        NaN/inf, or ``theta`` is not a non-empty 1D array of finite angles.

    Warns
    -----
    UserWarning
        If the image is not zero outside the inscribed circle: rays then miss part of the
        object and the sinogram is inconsistent (as in scikit-image).

    Examples
    --------
    A centred point projects onto the central detector at every angle:

    >>> image = np.zeros((9, 9)); image[4, 4] = 1.0
    >>> sinogram = radon(image, [0, 30, 60])
    >>> sinogram[:, 0]
    array([0., 0., 0., 0., 1., 0., 0., 0., 0.])
    >>> sinogram.argmax(axis=0)
    array([4, 4, 4])
    """
    image, tensor = _check_operand(image, "image", "(..., N, N)")
    if image.shape[-1] != image.shape[-2]:
        raise ValueError(
            f"image must be square (..., N, N), got shape {tuple(image.shape)}; "
            "pad or crop it first"
        )
    n = image.shape[-1]
    theta = _angles(np.arange(180.0) if theta is None else theta)
    outside = ~circle_mask(n)
    if tensor:
        import torch

        nonzero_outside = bool((image[..., torch.from_numpy(outside).to(image.device)] != 0).any())
    else:
        nonzero_outside = bool(np.any(image[..., outside]))
    if nonzero_outside:
        warnings.warn(
            "radon: image must be zero outside the inscribed circle of radius N // 2 "
            "(multiply it by circle_mask(N)); the sinogram misses what lies outside",
            UserWarning,
            stacklevel=2,
        )
    return _run("projection", (n, theta), image, tensor, n * n, (n, len(theta)))


def _check_sinogram(sinogram, theta):
    sinogram, tensor = _check_operand(sinogram, "sinogram", "(..., n_detectors, n_angles)")
    theta = _default_angles(theta, sinogram.shape[-1])
    return sinogram, tensor, theta


def _backproject(sinogram, theta, output_size, tensor):
    n_det, n_angles = sinogram.shape[-2:]
    out = _output_size(output_size, n_det)
    image = _run(
        "backprojection", (n_det, theta, out), sinogram, tensor, n_det * n_angles, (out, out)
    )
    return image * (np.pi / n_angles)


def backproject(sinogram, theta=None, output_size: int | None = None):
    """Unfiltered back-projection: smear every projection back across the image.

    .. math::

        b(x, y) = \\int_0^{\\pi} p(x \\cos\\theta + y \\sin\\theta, \\theta)\\, d\\theta
        \\approx \\frac{\\pi}{K} \\sum_{k=1}^{K} p(x \\cos\\theta_k + y \\sin\\theta_k, \\theta_k)

    for ``K`` angles evenly covering 180 degrees, reading each projection by linear interpolation
    (:func:`backprojection_matrix`). The result is the true image blurred by ``1/r``: a point
    becomes a star of lines; :func:`fbp` removes the blur by filtering first. Pixels outside the
    circle of radius ``output_size // 2`` are zero.

    Parameters
    ----------
    sinogram : ndarray or torch.Tensor, shape (..., n_detectors, n_angles)
        One sinogram or a batch. A tensor is processed with PyTorch on its device.
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``n_angles`` angles evenly spread over [0, 180).
    output_size : int, optional
        Size of the square image, at most ``n_detectors`` (the default).

    Returns
    -------
    ndarray or torch.Tensor, shape (..., output_size, output_size)
        float32 for float16 or float32 input, else float64.

    Raises
    ------
    TypeError
        If ``sinogram`` is not a real array or tensor, or ``output_size`` not an int.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        ``theta`` does not have one angle per column, or ``output_size`` is not in
        ``[1, n_detectors]``.

    Examples
    --------
    Back-projecting a constant sinogram gives pi inside the circle:

    >>> b = backproject(np.ones((9, 90)))
    >>> round(float(b[4, 4]), 4), float(b[0, 0])
    (3.1416, 0.0)
    """
    sinogram, tensor, theta = _check_sinogram(sinogram, theta)
    return _backproject(sinogram, theta, output_size, tensor)


# ---------------------------------------------------------------------------------------------
# Filters and filtered back-projection
# ---------------------------------------------------------------------------------------------
def _check_filter_name(filter_name) -> str:
    if filter_name not in FILTERS:
        raise ValueError(
            f"unknown filter_name {filter_name!r}; valid names: "
            f"{', '.join(repr(f) for f in FILTERS)}"
        )
    return filter_name


def ramp_filter(size: int) -> np.ndarray:
    """The ramp filter ``|f|`` of FBP, built in the spatial domain so that its DC term is right.

    Sampling ``|f|`` directly on the DFT grid sets the zero-frequency response to 0: the mean of
    every projection is lost and the image gets an offset and a cupped ("dished") profile. Kak &
    Slaney (1988, eq. 3.61) sample instead the band-limited ramp *kernel* (unit detector
    spacing):

    .. math::

        h(0) = \\tfrac14, \\qquad h(k) = 0 \\ (k \\text{ even}), \\qquad
        h(k) = -\\frac{1}{\\pi^2 k^2} \\ (k \\text{ odd}),

    for ``|k| <= size / 2``, and take its DFT ``H = Re(DFT(h))``. ``H(f)`` is then ``|f|`` up
    to ``O(1/size)`` and ``H(0) = sum_k h(k)`` is small but positive, as it must be for a
    finite detector.

    Parameters
    ----------
    size : int
        Number of samples of the zero-padded projection (>= 2); FBP uses the smallest power of two
        ``>= 2 n_detectors``, so that the circular convolution does not wrap around.

    Returns
    -------
    ndarray of float64, shape (size,)
        Frequency response, in the order of ``np.fft.fftfreq(size)`` (cycles per detector).

    Raises
    ------
    TypeError, ValueError
        If ``size`` is not an int ``>= 2``.

    Examples
    --------
    >>> H = ramp_filter(8)
    >>> np.round(H, 3)
    array([0.025, 0.123, 0.25 , 0.377, 0.475, 0.377, 0.25 , 0.123])
    """
    size = integer("size", size, minimum=2)
    k = np.arange(size)
    k = np.minimum(k, size - k)  # distance to sample 0 on the circle
    kernel = np.zeros(size)
    kernel[0] = 0.25
    odd = k % 2 == 1
    kernel[odd] = -1.0 / (np.pi * k[odd]) ** 2
    return np.real(np.fft.fft(kernel))


def reconstruction_filter(size: int, filter_name: str = "ramp") -> np.ndarray:
    """The FBP filter: the ramp of :func:`ramp_filter` times a smoothing window ``W(f)``.

    With ``f`` in cycles per detector (``|f| <= 1/2``):

    ============== ==================================== =============================
    name           window ``W(f)``                      effect
    ============== ==================================== =============================
    "ramp"         ``1``                                sharpest, noisiest
    "shepp-logan"  ``sin(pi f) / (pi f)``               slightly smoother
    "cosine"       ``cos(pi f)``                        smoother
    "hamming"      ``0.54 + 0.46 cos(2 pi f)``          smooth
    "hann"         ``0.5 + 0.5 cos(2 pi f)``            smoothest (zero at Nyquist)
    ============== ==================================== =============================

    Every window equals 1 at ``f = 0``, so all filters keep the ramp's DC term. The windows
    trade resolution for noise: they damp the high frequencies that the ramp amplifies.

    Parameters
    ----------
    size : int
        Number of samples (>= 2).
    filter_name : str, default "ramp"
        One of :data:`FILTERS`.

    Returns
    -------
    ndarray of float64, shape (size,)
        ``H(f) W(f)`` in the order of ``np.fft.fftfreq(size)``.

    Raises
    ------
    TypeError, ValueError
        If ``size`` is not an int ``>= 2``, or ``filter_name`` is unknown (the message lists
        the valid names).

    Examples
    --------
    >>> np.round(reconstruction_filter(8, "hann"), 3)
    array([0.025, 0.105, 0.125, 0.055, 0.   , 0.055, 0.125, 0.105])
    """
    response = ramp_filter(size)
    filter_name = _check_filter_name(filter_name)
    f = np.fft.fftfreq(size)
    windows = {
        "ramp": np.ones(size),
        "shepp-logan": np.sinc(f),  # numpy's sinc is sin(pi f) / (pi f)
        "cosine": np.cos(np.pi * f),
        "hamming": 0.54 + 0.46 * np.cos(2 * np.pi * f),
        "hann": 0.5 + 0.5 * np.cos(2 * np.pi * f),
    }
    return response * windows[filter_name]


def _padded_size(n_det: int) -> int:
    """The smallest power of two >= 2 n_det: room for the filter's tails without wrap-around."""
    return 1 << max(1, int(np.ceil(np.log2(2 * n_det))))


def _filter(sinogram, filter_name: str, tensor: bool):
    n_det = sinogram.shape[-2]
    size = _padded_size(n_det)
    response = reconstruction_filter(size, filter_name)[: size // 2 + 1, None]  # rfft half
    response = response.astype(np.float32 if sinogram.dtype == np.float32 else np.float64)
    if tensor:
        import torch

        real = sinogram.dtype if sinogram.dtype == torch.float64 else torch.float32
        spectrum = torch.fft.rfft(sinogram.to(real), n=size, dim=-2)
        response = torch.as_tensor(response, dtype=real, device=sinogram.device)
        return torch.fft.irfft(spectrum * response, n=size, dim=-2)[..., :n_det, :]
    import scipy.fft

    spectrum = scipy.fft.rfft(sinogram, n=size, axis=-2)
    filtered = scipy.fft.irfft(spectrum * response, n=size, axis=-2)[..., :n_det, :]
    return filtered.astype(sinogram.dtype, copy=False)


def filter_sinogram(sinogram, filter_name: str = "ramp"):
    """Filter every projection (each column of the sinogram) with an FBP filter.

    .. math::

        q(\\cdot, \\theta) = \\mathrm{IDFT}\\big(H(f)\\, W(f)\\,
            \\mathrm{DFT}(p(\\cdot, \\theta))\\big)

    each projection zero-padded to the smallest power of two ``>= 2 n_detectors`` (so that the
    circular convolution does not wrap around), then cut back to ``n_detectors``.
    ``fbp(p) == backproject(filter_sinogram(p))``.

    Parameters
    ----------
    sinogram : ndarray or torch.Tensor, shape (..., n_detectors, n_angles)
    filter_name : str, default "ramp"
        One of :data:`FILTERS` (see :func:`reconstruction_filter`).

    Returns
    -------
    ndarray or torch.Tensor, same shape as ``sinogram``
        float32 for float16 or float32 input, else float64.

    Raises
    ------
    TypeError
        If ``sinogram`` is not a real array or tensor.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        or ``filter_name`` is unknown (the message lists the valid names).

    Examples
    --------
    The ramp filter takes the mean of a wide uniform projection almost to zero, with
    negative lobes just outside it:

    >>> p = np.zeros((32, 1)); p[8:24] = 1.0
    >>> q = filter_sinogram(p)[:, 0]
    >>> bool(q[7] < 0 and q[24] < 0 and abs(q[16]) < 0.05)
    True
    """
    sinogram, tensor = _check_operand(sinogram, "sinogram", "(..., n_detectors, n_angles)")
    return _filter(sinogram, _check_filter_name(filter_name), tensor)


def fbp(sinogram, theta=None, filter_name: str = "ramp", output_size: int | None = None):
    """Filtered back-projection: the classical CT reconstruction.

    .. math::

        \\hat\\mu(x, y) = \\frac{\\pi}{K} \\sum_{k=1}^{K}
            q(x \\cos\\theta_k + y \\sin\\theta_k,\\ \\theta_k), \\qquad
        q = \\mathrm{IDFT}(H\\, W\\, \\mathrm{DFT}(p))

    i.e. ``backproject(filter_sinogram(sinogram, filter_name), theta)``: with the same sinogram,
    angles and filter it gives :func:`skimage.transform.iradon` (``circle=True``, linear
    interpolation) up to float32 rounding, the slightly shorter zero-padding of the filter and,
    for ``"hamming"`` and ``"hann"``, scikit-image's symmetric windows (``np.hamming(size)``,
    slightly different from the periodic ones used here),
    except on the outermost ring of pixels of an even-sized image, which scikit-image reads
    partly from one detector beyond the last (from its zero-padding, where the filtered
    projection is not zero) and this function reads as zero. A batch
    ``(B, n_detectors, n_angles)`` is reconstructed with one sparse matrix product; a tensor
    with PyTorch on its device.

    Parameters
    ----------
    sinogram : ndarray or torch.Tensor, shape (..., n_detectors, n_angles)
        Projections (e.g. from :func:`radon` or :func:`simulate_ct`).
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``n_angles`` angles evenly spread over [0, 180).
    filter_name : str, default "ramp"
        One of :data:`FILTERS` (see :func:`reconstruction_filter`).
    output_size : int, optional
        Size of the square image, at most ``n_detectors`` (the default).

    Returns
    -------
    ndarray or torch.Tensor, shape (..., output_size, output_size)
        float32 for float16 or float32 input, else float64 (computed in float32); zero
        outside the inscribed circle.

    Raises
    ------
    TypeError
        If ``sinogram`` is not a real array or tensor, or ``output_size`` not an int.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        ``theta`` does not have one angle per column, ``filter_name`` is unknown (the message
        lists the valid names), or ``output_size`` is not in ``[1, n_detectors]``.

    Examples
    --------
    >>> yy, xx = np.mgrid[:33, :33] - 16
    >>> disk = (xx**2 + yy**2 <= 10**2).astype(float)
    >>> reconstruction = fbp(radon(disk, np.arange(180)), np.arange(180))
    >>> bool(abs(reconstruction[yy**2 + xx**2 <= 6**2].mean() - 1.0) < 0.02)
    True
    """
    sinogram, tensor, theta = _check_sinogram(sinogram, theta)
    filter_name = _check_filter_name(filter_name)
    filtered = _filter(sinogram, filter_name, tensor)
    return _backproject(filtered, theta, output_size, tensor)


# ---------------------------------------------------------------------------------------------
# Simulated acquisition
# ---------------------------------------------------------------------------------------------
def simulate_ct(image_mu, theta=None, photons=None, seed=None, pixel_size_cm: float = 0.1):
    """Simulate a CT acquisition of an attenuation map: line integrals, photon noise, log.

    .. math::

        p = \\Delta x \\cdot \\mathrm{radon}(\\mu), \\qquad
        N \\sim \\mathrm{Poisson}(I_0 e^{-p}), \\qquad
        \\tilde p = -\\ln \\frac{\\max(N, 1)}{I_0}

    ``I_0`` (``photons``) is the number of photons sent along each ray: the dose. The noise of
    ``\\tilde p`` has variance about ``e^{p} / I_0``, so 10 times the dose gives about
    ``sqrt(10)`` times less noise, and rays through dense or long paths (large ``p``) are the
    noisiest. A ray that detects no photon at all would give ``-ln 0 = inf``; its count is set
    to 1 (it reads ``ln I_0``, the largest measurable value: photon starvation).

    Parameters
    ----------
    image_mu : ndarray, shape (..., N, N)
        Linear attenuation coefficients in 1/cm (non-negative; e.g. from
        :func:`course.physics.phantoms.random_phantom` or :func:`hu_to_mu`), zero outside the
        inscribed circle.
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``np.arange(180)``.
    photons : float, optional
        Incident photons per ray ``I_0 > 0``. None (default) returns the noiseless sinogram.
    seed : int or numpy.random.Generator, optional
        Seed of the Poisson noise: the same seed gives the same sinogram. None draws fresh
        entropy (not reproducible).
    pixel_size_cm : float, default 0.1
        Pixel size in cm (1 mm), turning sums over pixels into line integrals.

    Returns
    -------
    ndarray, shape (..., N, n_angles)
        The (noisy) sinogram of line integrals, dimensionless; ``fbp(result) / pixel_size_cm``
        reconstructs ``mu`` in 1/cm.

    Raises
    ------
    TypeError
        If ``image_mu`` is not a real NumPy array, ``seed`` is not an int or Generator, or a
        number argument has the wrong type.
    ValueError
        If ``image_mu`` is negative, NaN, not square, ``photons``/``pixel_size_cm`` are not
        positive, or ``seed`` is negative.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64] - 32
    >>> water = np.where(xx**2 + yy**2 <= 25**2, MU_WATER, 0.0)  # a 5 cm water cylinder
    >>> clean = simulate_ct(water)
    >>> noisy = simulate_ct(water, photons=1e4, seed=0)
    >>> bool(np.array_equal(noisy, simulate_ct(water, photons=1e4, seed=0)))
    True
    >>> mu = fbp(noisy) / 0.1
    >>> bool(abs(mu[28:36, 28:36].mean() - MU_WATER) < 0.01)
    True
    """
    if is_tensor(image_mu):
        raise TypeError(
            "image_mu must be a NumPy array (use tensor.cpu().numpy()); the noise "
            "is drawn with NumPy so that a seed gives the same sinogram everywhere"
        )
    image_mu, _ = _check_operand(image_mu, "image_mu", "(..., N, N)")
    if (image_mu < 0).any():
        raise ValueError(
            f"image_mu must be non-negative attenuation in 1/cm, got a minimum of {image_mu.min()}"
        )
    number("pixel_size_cm", pixel_size_cm, low=0, low_open=True)
    if photons is not None:
        number("photons", photons, low=0, low_open=True)
    rng = generator(seed)
    sinogram = radon(image_mu, theta) * pixel_size_cm
    if photons is None:
        return sinogram
    counts = rng.poisson(photons * np.exp(-sinogram.astype(np.float64)))
    counts = np.maximum(counts, 1)  # no photon at all: read as one (photon starvation)
    return (-np.log(counts / photons)).astype(sinogram.dtype)
