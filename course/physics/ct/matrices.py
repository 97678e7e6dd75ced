"""The two system matrices of CT, built once per geometry and cached, and how they are applied.

* ``A`` (:func:`projection_matrix`): ``sinogram.ravel() = A @ image.ravel()``, the Radon
  transform of :func:`course.physics.ct.radon` and the operator of iterative reconstruction
  (:func:`course.physics.ct.sart`);
* ``B`` (:func:`backprojection_matrix`): ``image.ravel() = pi / K * B @ sinogram.ravel()``, the
  back-projection of :func:`course.physics.ct.backproject` and :func:`course.physics.ct.fbp`.

A batch of images (or sinograms) costs one sparse matrix product (:func:`_run`), with SciPy for
NumPy arrays and with PyTorch, on the tensor's device, for tensors. A geometry too big to cache
(:data:`MAX_CACHED_NONZEROS`) is built and applied a few angles at a time instead.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.sparse as sp

from course._validate import integer
from course.physics.ct._checks import _angles, _check_circle, _output_size
from course.physics.ct.geometry import _backprojection_block, _projection_block, circle_mask

#: A system matrix with more non-zeros than this (about 8 bytes each) is not cached: the operator
#: is then applied a few angles at a time, which needs little memory but rebuilds every call.
#: (It is read here, in ``course.physics.ct.matrices``: change it on this module.)
MAX_CACHED_NONZEROS = 64_000_000


def _angle_chunks(n_angles: int, entries_per_angle: int):
    """Slices of angles processed together while building a matrix (about 2M entries each)."""
    step = max(1, 2_000_000 // max(entries_per_angle, 1))
    return [slice(a, min(a + step, n_angles)) for a in range(0, n_angles, step)]


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
def _backprojection_matrix_cached(n_det: int, theta: tuple[float, ...], out: int, circle: bool):
    theta_deg = np.asarray(theta)
    n_angles = len(theta)
    inside = circle_mask(out).ravel() if circle else np.ones(out * out, bool)
    n_pixels = int(inside.sum())
    columns = np.empty((n_pixels, n_angles, 2), np.int32)
    weights = np.empty((n_pixels, n_angles, 2), np.float32)
    for chunk in _angle_chunks(n_angles, 2 * n_pixels):
        block = _backprojection_block(n_det, theta_deg[chunk], out, chunk.start, n_angles, circle)
        columns[:, chunk], weights[:, chunk], _ = block
    entries_per_row = np.where(inside, 2 * n_angles, 0)
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
    """The system matrix ``A`` of ``radon``: ``sinogram.ravel() = A @ image.ravel()``.

    Row ``d * n_angles + j`` is the ray through detector ``d`` at angle ``theta[j]``; column
    ``i * n + j`` is pixel ``(i, j)``. The ray is sampled every pixel along its length and the
    image read there by bilinear interpolation (exactly :func:`skimage.transform.radon`), so
    ``A[ray, pixel]`` is the summed interpolation weight of that pixel along that ray: about
    ``2 n`` non-zeros per ray. ``A.T`` is the exact adjoint (a "ray-driven" back-projection),
    the operator of iterative reconstruction (``x <- x + step * A.T @ (p - A @ x)``, see
    :func:`course.physics.ct.sart`). ``radon(image, circle=False)`` uses the matrix of the image
    zero-padded to the size of its diagonal.

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
    >>> from course.physics.ct import radon
    >>> image = circle_mask(16).astype(float)
    >>> bool(np.allclose(A @ image.ravel(), radon(image, [0, 45, 90]).ravel(), atol=1e-5))
    True
    """
    n = integer("n", n, minimum=1)
    theta = _angles(np.arange(180.0) if theta is None else theta)
    return _projection_matrix_cached(n, theta)


def backprojection_matrix(
    n_detectors: int, theta=None, output_size: int | None = None, circle: bool = True
):
    """The matrix ``B`` of ``backproject``: ``image.ravel() = pi / K * B @ sinogram.ravel()``.

    Pixel ``(i, j)`` inside the circle (:func:`circle_mask`), at offsets ``x = j - N // 2``,
    ``y = N // 2 - i`` from the centre (y up), projects at angle ``theta`` onto the detector
    position

    .. math::

        u = n_{det} /\\!/ 2 + x \\cos\\theta + y \\sin\\theta,

    which falls between two detectors: row ``(i, j)`` holds their linear interpolation weights
    ``1 - (u - floor(u))`` and ``u - floor(u)`` for every angle (a "pixel-driven"
    back-projection, exactly the one of :func:`skimage.transform.iradon`). Rows of pixels outside
    the circle are empty, unless ``circle=False``, which fills every pixel of the square. ``B`` is
    close to, but not exactly, ``projection_matrix(...).T``.

    Parameters
    ----------
    n_detectors : int
        Number of detectors (sinogram rows).
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``np.arange(180)``.
    output_size : int, optional
        Size ``N`` of the reconstructed image, ``1 <= N <= n_detectors``; default
        ``n_detectors``, or ``floor(n_detectors / sqrt(2))`` when ``circle=False``.
    circle : bool, default True
        Back-project only into the inscribed circle (:func:`circle_mask`); False: into the whole
        square (the sinogram must then come from ``radon(image, circle=False)``).

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (N * N, n_detectors * n_angles)
        Cached (4 geometries; :func:`clear_cache`): do not modify it.

    Raises
    ------
    TypeError, ValueError
        If a size is not a positive int, ``output_size > n_detectors``, ``theta`` is not a
        non-empty 1D array of finite angles, or ``circle`` is not a bool.

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
    circle = _check_circle(circle)
    out = _output_size(output_size, n_det, circle)
    return _backprojection_matrix_cached(n_det, theta, out, circle)


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
    n_det, theta, out, circle = key
    sinograms = flat.reshape(len(flat), n_det, len(theta))
    image = np.zeros((len(flat), out * out), np.float32)
    for chunk in _angle_chunks(len(theta), 2 * out * out):
        k = chunk.stop - chunk.start
        angles = np.asarray(theta[chunk])
        columns, weights, inside = _backprojection_block(n_det, angles, out, 0, k, circle)
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
