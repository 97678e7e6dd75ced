"""MRI physics: k-space, centred FFTs, undersampling masks and simple reconstructions.

An MR scanner does not measure the image ``x`` but its 2D Fourier transform, the *k-space*
``y = F x``. After each excitation the scanner reads one whole line of k-space along the
frequency-encoding (readout) direction, here a column (all ``H`` rows of it); the phase-encoding
gradient selects which column. Acquisition time therefore grows with the number of
phase-encoding steps, the ``W`` **columns** of k-space in this module (the last axis, as in
fastMRI). Skipping columns (undersampling by a factor ``R``, the *acceleration*) makes the scan
``R`` times faster, and the zero-filled reconstruction then shows aliasing.

Convention (the fastMRI one): k-space is stored *centred*, with the DC term (zero frequency) at
index ``(H // 2, W // 2)``, and the transforms are *orthonormal*, so that energy is preserved
(Parseval: ``sum |x|^2 = sum |y|^2``)::

    fft2c(x)  = fftshift(fft2(ifftshift(x), norm="ortho"))
    ifft2c(y) = fftshift(ifft2(ifftshift(y), norm="ortho"))

Both act on the last two axes ``(..., H, W)`` and accept NumPy arrays or PyTorch tensors (a
tensor stays on its own device, so the same code runs on a GPU).

>>> image = np.zeros((8, 8)); image[2:6, 3:5] = 1.0
>>> kspace = fft2c(image)
>>> mask = equispaced_mask(kspace.shape, acceleration=2, center_fraction=0.25, seed=0)
>>> mask.shape, int(mask.sum())
((1, 8), 4)
>>> zero_filled(kspace, mask).shape
(8, 8)
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from course._validate import binary, choice, generator, is_tensor, nonempty, number, numeric

__all__ = [
    "fft2c",
    "ifft2c",
    "equispaced_mask",
    "random_mask",
    "acceleration_of",
    "undersample",
    "zero_filled",
    "partial_fourier",
]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------
def _check_image(x, name: str):
    """A finite NumPy array or tensor with at least two axes ``(..., H, W)``."""
    if is_tensor(x):
        import torch

        if x.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., H, W), got {x.ndim}")
        if x.dtype == torch.bool:
            raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
        if not torch.is_floating_point(x) and not torch.is_complex(x):
            x = x.to(torch.get_default_dtype())
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        return nonempty(name, x, axes=(-2, -1))
    x = numeric(name, np.asarray(x), complex_ok=True, bool_ok=False)
    if x.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (..., H, W), got shape {x.shape}")
    return nonempty(name, x, axes=(-2, -1))


def _check_mask_args(shape, acceleration, center_fraction) -> tuple[int, int]:
    """Validate the mask arguments; return ``(W, n_center)``."""
    if isinstance(shape, Integral) or not hasattr(shape, "__len__"):
        raise TypeError(f"shape must be a tuple of ints (..., H, W), got {shape!r}")
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 entries (..., H, W), got {tuple(shape)}")
    if not all(isinstance(n, Integral) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"shape must hold ints, got {tuple(shape)}")
    if min(shape) < 1:
        raise ValueError(f"shape must hold positive ints, got {tuple(shape)}")
    number("acceleration", acceleration, low=1)
    number("center_fraction", center_fraction, low=0, high=1)
    width = int(shape[-1])
    n_center = round(center_fraction * width)
    budget = width / acceleration
    if n_center > budget + 1e-9:
        raise ValueError(
            f"center_fraction={center_fraction} fully samples {n_center} of {width} columns, more "
            f"than the {budget:g} columns allowed by acceleration={acceleration}: lower "
            "center_fraction or acceleration"
        )
    return width, n_center


def _center_columns(width: int, n_center: int) -> np.ndarray:
    """Indices of the ``n_center`` columns around the DC column ``W // 2``."""
    start = width // 2 - n_center // 2
    return np.arange(start, start + n_center)


def _mask_from_columns(shape, columns: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[-1], dtype=bool)
    mask[columns] = True
    return mask.reshape((1,) * (len(shape) - 1) + (shape[-1],))


# ---------------------------------------------------------------------------------------------
# Centred orthonormal FFTs
# ---------------------------------------------------------------------------------------------
def fft2c(image):
    """Centred, orthonormal 2D Fourier transform over the last two axes: image -> k-space.

    .. math:: y = \\mathrm{fftshift}\\big(\\mathcal{F}_{\\mathrm{ortho}}\\,
              \\mathrm{ifftshift}(x)\\big), \\qquad
              \\mathcal{F}_{\\mathrm{ortho}}\\,x\\,[k, l] = \\frac{1}{\\sqrt{HW}} \\sum_{m, n}
              x_{m n}\\, e^{-2\\pi i (k m / H + l n / W)}

    The DC term lands at index ``(H // 2, W // 2)`` and ``sum |x|^2 == sum |y|^2``.

    Parameters
    ----------
    image : ndarray or torch.Tensor, shape (..., H, W)
        Real or complex; any leading (batch, coil, slice) axes are transformed independently.

    Returns
    -------
    ndarray or torch.Tensor, shape (..., H, W), complex
        A tensor input gives a tensor on the same device (computed with :mod:`torch.fft`).

    Raises
    ------
    TypeError
        If ``image`` does not hold numbers.
    ValueError
        If ``image`` has fewer than 2 dimensions, an empty ``H`` or ``W`` axis, or contains
        NaN/inf.

    Examples
    --------
    >>> y = fft2c(np.ones((4, 4)))  # a constant image has only a DC term, sqrt(16) = 4
    >>> np.round(y.real, 6)
    array([[0., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 4., 0.],
           [0., 0., 0., 0.]])
    """
    x = _check_image(image, "image")
    if is_tensor(x):
        import torch

        x = torch.fft.ifftshift(x, dim=(-2, -1))
        return torch.fft.fftshift(torch.fft.fft2(x, norm="ortho"), dim=(-2, -1))
    x = np.fft.ifftshift(x, axes=(-2, -1))
    return np.fft.fftshift(np.fft.fft2(x, norm="ortho"), axes=(-2, -1))


def ifft2c(kspace):
    """Centred, orthonormal inverse 2D Fourier transform over the last two axes: k-space -> image.

    .. math:: x = \\mathrm{fftshift}\\big(\\mathcal{F}^{-1}_{\\mathrm{ortho}}\\,
              \\mathrm{ifftshift}(y)\\big)

    the exact inverse of :func:`fft2c` (``ifft2c(fft2c(x)) == x`` up to rounding).

    Parameters
    ----------
    kspace : ndarray or torch.Tensor, shape (..., H, W)
        Centred k-space (DC at ``(H // 2, W // 2)``).

    Returns
    -------
    ndarray or torch.Tensor, shape (..., H, W), complex
        Take ``abs()`` for the magnitude image shown on the scanner.

    Raises
    ------
    TypeError, ValueError
        As :func:`fft2c`.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> np.allclose(ifft2c(fft2c(x)), x)
    True
    """
    y = _check_image(kspace, "kspace")
    if is_tensor(y):
        import torch

        y = torch.fft.ifftshift(y, dim=(-2, -1))
        return torch.fft.fftshift(torch.fft.ifft2(y, norm="ortho"), dim=(-2, -1))
    y = np.fft.ifftshift(y, axes=(-2, -1))
    return np.fft.fftshift(np.fft.ifft2(y, norm="ortho"), axes=(-2, -1))


# ---------------------------------------------------------------------------------------------
# Undersampling masks
# ---------------------------------------------------------------------------------------------
def equispaced_mask(shape, acceleration: float, center_fraction: float, seed=None) -> np.ndarray:
    """Column mask with a fully sampled centre and equispaced lines outside it.

    The centre block holds ``n_c = round(center_fraction * W)`` columns around ``W // 2``.
    Outside it, every ``a``-th column is sampled (starting at a random offset in ``[0, a)``),
    with the spacing ``a`` chosen so that the total is about ``W / R`` columns:

    .. math:: n_c + \\frac{W - n_c}{a} = \\frac{W}{R}
              \\quad\\Longrightarrow\\quad a = \\frac{R (W - n_c)}{W - R\\, n_c}

    (for ``center_fraction=0`` the spacing is exactly ``R``: the pure aliasing demo, whose
    zero-filled image is the object plus copies shifted by ``W / R``).

    Parameters
    ----------
    shape : tuple of int, (..., H, W)
        The k-space shape; the mask selects phase-encoding columns along the last axis ``W``.
    acceleration : float
        ``R >= 1``; ``R = 1`` samples everything.
    center_fraction : float
        Fraction of columns in the fully sampled centre, in ``[0, 1]`` (0: no centre block).
    seed : int, numpy.random.Generator or None
        Chooses the offset of the equispaced lines; a non-negative int makes the mask
        reproducible, ``None`` draws fresh randomness.

    Returns
    -------
    ndarray of bool, shape (1, ..., 1, W)
        Same number of axes as ``shape``; broadcasts against k-space of that shape (all rows of
        a column are acquired together).

    Raises
    ------
    TypeError
        Non-numeric ``acceleration``/``center_fraction``, a non-tuple ``shape``, or a ``seed``
        that is not an int, a Generator or None.
    ValueError
        ``acceleration < 1``, ``center_fraction`` outside ``[0, 1]`` or NaN, fewer than two
        entries in ``shape``, a centre larger than the ``W / R`` budget, or a negative ``seed``.

    Examples
    --------
    >>> mask = equispaced_mask((8, 16), acceleration=4, center_fraction=0.125, seed=0)
    >>> mask.shape, int(mask.sum()), bool(mask[0, 7] and mask[0, 8])
    ((1, 16), 4, True)
    """
    width, n_center = _check_mask_args(shape, acceleration, center_fraction)
    rng = generator(seed)
    center = _center_columns(width, n_center)
    n_target = width / acceleration
    if n_target - n_center < 1e-9:  # the centre already uses the whole budget
        return _mask_from_columns(shape, center)
    spacing = acceleration * (width - n_center) / (width - acceleration * n_center)
    offset = int(rng.integers(0, max(round(spacing), 1)))
    lines = np.round(np.arange(offset, width, spacing)).astype(int)
    lines = lines[lines < width]
    return _mask_from_columns(shape, np.union1d(center, lines))


def random_mask(shape, acceleration: float, center_fraction: float, seed=None) -> np.ndarray:
    """Column mask with a fully sampled centre and randomly chosen columns outside it.

    The centre block holds ``n_c = round(center_fraction * W)`` columns around ``W // 2``;
    then ``round(W / R) - n_c`` further columns are drawn uniformly, without replacement, from
    the remaining ones, so the mask has exactly ``round(W / R)`` columns. Incoherent (random)
    sampling turns aliasing into noise-like artefacts, which compressed sensing and deep
    networks can remove.

    Parameters
    ----------
    shape : tuple of int, (..., H, W)
    acceleration : float
        ``R >= 1``.
    center_fraction : float
        In ``[0, 1]``.
    seed : int, numpy.random.Generator or None
        A non-negative int makes the mask reproducible; ``None`` draws fresh randomness.

    Returns
    -------
    ndarray of bool, shape (1, ..., 1, W)

    Raises
    ------
    TypeError, ValueError
        As :func:`equispaced_mask`.

    Examples
    --------
    >>> mask = random_mask((8, 32), acceleration=4, center_fraction=0.125, seed=0)
    >>> int(mask.sum()), bool(mask[0, 14:18].all())
    (8, True)
    """
    width, n_center = _check_mask_args(shape, acceleration, center_fraction)
    rng = generator(seed)
    center = _center_columns(width, n_center)
    outer = np.setdiff1d(np.arange(width), center)
    n_outer = max(round(width / acceleration) - n_center, 0)
    chosen = rng.choice(outer, size=n_outer, replace=False)
    return _mask_from_columns(shape, np.union1d(center, chosen))


def acceleration_of(mask) -> float:
    """The actual acceleration of a mask: sampled positions divided into all positions.

    .. math:: R_{\\mathrm{actual}} = \\frac{\\#\\,\\text{positions}}{\\#\\,\\text{sampled}}

    Parameters
    ----------
    mask : array_like of bool or 0/1, e.g. shape (1, W) or (H, W)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the mask is empty, samples nothing, or holds values other than 0/1.

    Examples
    --------
    >>> acceleration_of(np.array([[1, 0, 0, 1, 0, 0]]))
    3.0
    """
    m = _check_binary_mask(mask)
    n_sampled = int(np.count_nonzero(m))
    if n_sampled == 0:
        raise ValueError("mask samples nothing: the acceleration is infinite")
    return m.size / n_sampled


# ---------------------------------------------------------------------------------------------
# Undersampling and reconstruction
# ---------------------------------------------------------------------------------------------
def _check_binary_mask(mask) -> np.ndarray:
    return nonempty("mask", binary("mask", mask))


def undersample(kspace, mask):
    """Keep the sampled k-space positions and set the others to zero: ``kspace * mask``.

    Parameters
    ----------
    kspace : ndarray or torch.Tensor, shape (..., H, W)
    mask : array_like of bool or 0/1
        Must broadcast to ``kspace.shape`` without enlarging it, e.g. ``(1, W)`` from
        :func:`equispaced_mask`/:func:`random_mask`, or the full ``(H, W)``.

    Returns
    -------
    ndarray or torch.Tensor, the shape and dtype of ``kspace``

    Raises
    ------
    TypeError
        If ``kspace`` or ``mask`` does not hold numbers.
    ValueError
        If the mask does not broadcast to ``kspace``, is not binary, or ``kspace`` is not
        ``(..., H, W)`` or contains NaN.

    Examples
    --------
    >>> undersample(np.ones((2, 4)), np.array([[1, 0, 0, 1]]))
    array([[1., 0., 0., 1.],
           [1., 0., 0., 1.]])
    """
    y = _check_image(kspace, "kspace")
    m = _check_binary_mask(mask)
    shape = tuple(y.shape)
    try:
        broadcast = np.broadcast_shapes(shape, m.shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(
            f"mask of shape {m.shape} does not broadcast to kspace of shape {shape}: "
            "use shape (1, W) or the full (..., H, W)"
        )
    if is_tensor(y):
        import torch

        return y * torch.as_tensor(m, device=y.device)
    return y * m


def zero_filled(kspace, mask):
    """Zero-filled reconstruction: the magnitude of the inverse FFT of undersampled k-space.

    .. math:: \\hat x = \\big|\\,\\mathrm{ifft2c}(M \\odot y)\\,\\big|

    The unmeasured positions are treated as zeros; with an equispaced mask this shows aliasing
    (shifted copies), with a random mask incoherent, noise-like artefacts.

    Parameters
    ----------
    kspace : ndarray or torch.Tensor, shape (..., H, W)
        Centred k-space, fully sampled (the mask is applied here).
    mask : array_like of bool or 0/1, broadcastable to ``kspace``

    Returns
    -------
    ndarray or torch.Tensor, shape (..., H, W), real (non-negative)

    Raises
    ------
    TypeError, ValueError
        As :func:`undersample`.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((6, 6))
    >>> np.allclose(zero_filled(fft2c(x), np.ones((1, 6), bool)), x)
    True
    """
    image = ifft2c(undersample(kspace, mask))
    return image.abs() if is_tensor(image) else np.abs(image)


def _mirror(n: int) -> np.ndarray:
    """Centred index of ``-k`` for every centred index: ``(2 (n // 2) - i) mod n``."""
    return (2 * (n // 2) - np.arange(n)) % n


def partial_fourier(kspace, fraction: float, fill: str = "hermitian", return_kspace: bool = False):
    """Partial Fourier demo: acquire only a fraction (> 1/2) of the columns, fill the rest.

    The first ``n = ceil(fraction * W)`` columns are kept (all negative frequencies, the centre
    and some positive ones); the remaining columns are filled either with zeros
    (``fill="zero"``: blurring and ringing) or from the acquired half by the Hermitian symmetry
    of the Fourier transform of a real image:

    .. math:: y(-k_y, -k_x) = \\overline{y(k_y, k_x)}

    For a **real** image the Hermitian fill is *exact*; a real MR image has a slowly varying
    phase, for which the fill is only approximate (clinical methods such as homodyne or POCS
    first estimate that phase from the fully sampled centre).

    Parameters
    ----------
    kspace : ndarray, shape (..., H, W)
        Centred, fully sampled k-space (the columns are removed here).
    fraction : float
        Fraction of columns acquired, in ``(0.5, 1]``.
    fill : {"hermitian", "zero"}
    return_kspace : bool, default False
        Also return the filled k-space.

    Returns
    -------
    image : ndarray, shape (..., H, W)
        The magnitude reconstruction ``abs(ifft2c(filled))``.
    filled : ndarray, shape (..., H, W), complex
        Only with ``return_kspace=True``.

    Raises
    ------
    TypeError
        If ``kspace`` is not a NumPy array of numbers.
    ValueError
        ``fraction`` outside ``(0.5, 1]``, an unknown ``fill``, or a bad ``kspace``.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((8, 8))  # a real image
    >>> np.allclose(partial_fourier(fft2c(x), 0.625), x)
    True
    """
    if is_tensor(kspace):
        raise TypeError("partial_fourier takes a NumPy array: use tensor.cpu().numpy()")
    y = _check_image(kspace, "kspace")
    number("fraction", fraction, low=0.5, high=1, low_open=True)
    choice("fill", fill, ("hermitian", "zero"))
    height, width = y.shape[-2:]
    n_keep = math.ceil(fraction * width - 1e-9)  # > W // 2: the DC column is always acquired
    filled = np.array(y, dtype=np.result_type(y.dtype, np.complex64))
    filled[..., n_keep:] = 0
    if fill == "hermitian":
        rows, cols = _mirror(height), _mirror(width)[n_keep:]
        # y[ky, kx] = conj(y[-ky, -kx]): the mirrored columns all lie among the acquired ones.
        filled[..., n_keep:] = np.conj(filled[..., rows, :][..., cols])
    image = np.abs(ifft2c(filled))
    return (image, filled) if return_kspace else image
