"""The filters of filtered back-projection: the ramp ``|f|`` and its smoothing windows.

Back-projecting the raw projections blurs every point into a ``1/r`` star; filtering each
projection with the ramp ``|f|`` first undoes that blur (the Fourier slice theorem), and a window
``W(f)`` trades resolution for noise. :func:`filter_sinogram` applies ``H(f) W(f)`` to every
column of a sinogram; :func:`course.physics.ct.fbp` back-projects the result.
"""

from __future__ import annotations

import numpy as np

from course._validate import integer
from course.physics.ct._checks import _check_operand

#: The reconstruction filters understood by :func:`reconstruction_filter` and :func:`fbp`.
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")


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
