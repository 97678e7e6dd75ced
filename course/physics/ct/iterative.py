"""Iterative reconstruction: SART, the Simultaneous Algebraic Reconstruction Technique.

FBP inverts the Radon transform with a formula. Algebraic methods instead solve the linear
system ``A x = p`` (``A`` the cached :func:`~course.physics.ct.projection_matrix`, ``x`` the
image, ``p`` the sinogram) by correcting an estimate again and again: project it, compare with
the measured sinogram, back-project the difference. Each correction can also enforce what we
know (``clip``: attenuation is never negative), and stopping after a few of them is a
regulariser: noise is fitted last.
"""

from __future__ import annotations

import numpy as np
from scipy.constants import golden_ratio

from course._validate import describe, integer, is_tensor, number
from course.physics.ct._checks import _check_operand, _check_sinogram
from course.physics.ct.geometry import circle_mask
from course.physics.ct.matrices import projection_matrix


def sart(sinogram, theta=None, *, iterations=1, relaxation=0.15, image=None, clip=None):
    """SART (Andersen & Kak 1984): reconstruct by correcting the image one projection at a time.

    For each projection angle ``phi`` in turn, with ``A_phi`` the rows of the projection matrix
    for that angle (one ray per detector ``i``) and ``p_phi`` the measured projection:

    .. math::

        x_j \\leftarrow x_j + \\lambda\\,
            \\frac{1}{\\sum_{i \\in \\phi} a_{ij}}
            \\sum_{i \\in \\phi} a_{ij}\\,
            \\frac{p_i - \\sum_k a_{ik} x_k}{\\sum_k a_{ik}}

    i.e. ``x <- x + lambda * A_phi.T ((p_phi - A_phi x) / row sums) / column sums``: the error of
    each ray, divided by the ray's length (its row sum), is spread back along the ray and
    averaged over the rays that cross each pixel (the column sum). One *iteration* visits
    every angle once, in golden-ratio order so that consecutive angles are far apart (Kohler
    2004; as :func:`skimage.transform.iradon_sart`). The unknowns are the pixels inside the
    inscribed circle (:func:`~course.physics.ct.circle_mask`); the others keep their start value.

    The **relaxation** ``lambda`` is the step size, in (0, 2) (the range where the iteration
    converges): 1 takes the full step, which about cancels the error of the current projection;
    smaller values take a fraction of it. Small steps converge more slowly but average the
    corrections over many projections, which damps noise. On noisy data the error first falls,
    then rises again as the iterations start fitting the noise ("semi-convergence"), so a few
    iterations with ``lambda < 1`` act as a regulariser.

    scikit-image's :func:`~skimage.transform.iradon_sart` divides each ray's error by the sum of
    its *squared* weights and weights the update with a Hamming window along the ray: at the same
    relaxation its steps are about 3 times longer (``sart`` with ``relaxation=0.5`` behaves like
    it with 0.15).

    Parameters
    ----------
    sinogram : ndarray, shape (..., N, n_angles)
        One sinogram or a batch (e.g. from :func:`~course.physics.ct.radon` or
        :func:`~course.physics.ct.simulate_ct`), ``N`` detectors.
    theta : array_like, shape (n_angles,), optional
        Angles in degrees; default ``n_angles`` angles evenly spread over [0, 180).
    iterations : int, default 1
        Passes over all the angles (>= 1).
    relaxation : float, default 0.15
        The step ``lambda``, in (0, 2). The default (scikit-image's) is a cautious step: on
        clean data one iteration is blurrier than FBP, and 0.5 to 1 needs fewer iterations; on
        noisy data small steps and few iterations regularise.
    image : ndarray, shape (..., N, N), optional
        Start estimate (e.g. an FBP reconstruction, or the result of a previous call); default
        zeros.
    clip : (float or None, float or None), optional
        ``(low, high)``: after every correction, the values are clipped to this range; None
        leaves that side open (``clip=(0, None)``: attenuation is never negative).

    Returns
    -------
    ndarray, shape (..., N, N)
        float32 for float16 or float32 input, else float64 (computed in float32).

    Raises
    ------
    TypeError
        If ``sinogram`` or ``image`` is not a real NumPy array, ``iterations`` is not an int,
        ``relaxation`` not a number or ``clip`` not a pair of numbers.
    ValueError
        If ``sinogram`` has fewer than 2 dimensions, no detector or angle, or holds NaN/inf,
        ``theta`` does not have one angle per column, ``iterations < 1``, ``relaxation`` is not
        in (0, 2), ``image`` has the wrong shape, or ``clip`` is not ``low <= high``.

    References
    ----------
    A. H. Andersen, A. C. Kak, "Simultaneous algebraic reconstruction technique (SART): a
    superior implementation of the ART algorithm", Ultrasonic Imaging 6, 81-94 (1984).
    A. C. Kak, M. Slaney, "Principles of Computerized Tomographic Imaging", IEEE Press (1988),
    section 7.4.

    Examples
    --------
    >>> from course.physics.ct import radon
    >>> yy, xx = np.mgrid[:32, :32] - 16
    >>> disk = (xx**2 + yy**2 <= 10**2).astype(float)
    >>> sinogram = radon(disk, np.arange(0, 180, 4))
    >>> errors = [np.abs(sart(sinogram, np.arange(0, 180, 4), iterations=k) - disk).mean()
    ...           for k in (1, 2, 4)]
    >>> bool(errors[0] > errors[1] > errors[2])
    True
    """
    sinogram, theta, start, clip = _check_sart(sinogram, theta, image, clip)
    iterations = integer("iterations", iterations, minimum=1)
    relaxation = number("relaxation", relaxation, low=0, high=2, low_open=True, high_open=True)
    n, n_angles = sinogram.shape[-2:]
    batch_shape = sinogram.shape[:-2]
    # (n_angles, n, B): the projection of every image of the batch, angle by angle
    projections = sinogram.reshape(-1, n, n_angles).transpose(2, 1, 0).astype(np.float32)
    blocks, row_weights, column_weights, inside = _sart_system(n, theta)
    x = np.ascontiguousarray(start.reshape(-1, n * n)[:, inside].T, dtype=np.float32)
    for _ in range(iterations):
        for j in _golden_ratio_order(theta):
            residual = (projections[j] - blocks[j] @ x) * row_weights[j][:, None]
            x += relaxation * (blocks[j].T @ residual) * column_weights[j][:, None]
            if clip is not None:
                np.clip(x, *clip, out=x)
    result = start.reshape(-1, n * n).copy()
    result[:, inside] = x.T
    if clip is not None:  # once more in the result's dtype: float32 rounding may overshoot
        result[:, inside] = np.clip(result[:, inside], *clip)
    return result.reshape(batch_shape + (n, n))


def _check_sart(sinogram, theta, image, clip):
    """The checked sinogram, angles, start image (zeros by default, in the result's dtype), clip."""
    for name, value in (("sinogram", sinogram), ("image", image)):
        if is_tensor(value):
            raise TypeError(
                f"{name} must be a NumPy array (use tensor.cpu().numpy()), got a tensor"
            )
    sinogram, _, theta = _check_sinogram(sinogram, theta)
    n = sinogram.shape[-2]
    shape = sinogram.shape[:-2] + (n, n)
    if image is None:
        start = np.zeros(shape, sinogram.dtype)
    else:
        start, _ = _check_operand(image, "image", "(..., N, N)")
        if start.shape != shape:
            raise ValueError(
                f"image must have the shape of the reconstruction {shape} (N = the sinogram's "
                f"{n} detectors), got shape {start.shape}"
            )
        start = start.astype(sinogram.dtype)
    return sinogram, theta, start, _check_clip(clip)


def _check_clip(clip) -> tuple[float | None, float | None] | None:
    """``clip`` as ``(low, high)``, either of them None (open); None if there is nothing to clip."""
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list, np.ndarray)):
        raise TypeError(f"clip must be None or a (low, high) pair of numbers, got {describe(clip)}")
    if len(clip) != 2:
        raise ValueError(f"clip must be a (low, high) pair, got {len(clip)} values")
    low, high = (None if v is None else number(f"clip[{i}]", v) for i, v in enumerate(clip))
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip must have low <= high, got ({low}, {high})")
    return None if low is None and high is None else (low, high)


def _sart_system(n: int, theta: tuple[float, ...]):
    """The rows of ``A`` angle by angle, restricted to the circle, and the SART normalisations.

    Returns ``blocks`` (``blocks[j]``: the ``n`` rays of angle ``j``, a CSR matrix of shape
    ``(n, n_inside)``), ``1 / row sums`` of shape ``(n_angles, n)``, ``1 / column sums`` of each
    block, shape ``(n_angles, n_inside)`` (0 where the sum is 0: a ray that misses the circle,
    a pixel that no ray of that angle crosses), and the circle mask (flat).
    """
    n_angles = len(theta)
    inside = circle_mask(n).ravel()
    # A's row d * n_angles + j (detector d, angle j) becomes row j * n + d: angle-major
    angle_major = np.arange(n * n_angles).reshape(n, n_angles).T.ravel()
    by_angle = projection_matrix(n, theta)[angle_major][:, inside]
    blocks = [by_angle[j * n : (j + 1) * n] for j in range(n_angles)]
    row_sums = np.asarray(by_angle.sum(axis=1)).reshape(n_angles, n)
    column_sums = np.stack([np.asarray(block.sum(axis=0)).ravel() for block in blocks])
    return blocks, _reciprocal(row_sums), _reciprocal(column_sums), inside


def _reciprocal(sums: np.ndarray) -> np.ndarray:
    """``1 / sums`` in float32, 0 where a sum is 0 (nothing to normalise: no update there)."""
    out = np.zeros(sums.shape, np.float32)
    np.divide(1.0, sums, out=out, where=sums > 0)
    return out


def _golden_ratio_order(theta: tuple[float, ...]) -> list[int]:
    """The indices of ``theta`` in golden-ratio order (Kohler 2004).

    Start from the smallest angle; each next angle is the unused one nearest (modulo 180
    degrees) to the previous target plus ``180 / phi^2`` degrees (about 68.75, ``phi`` the golden
    ratio), so that consecutive projections are far apart and bring new information.

    >>> _golden_ratio_order((0.0, 45.0, 90.0, 135.0))
    [0, 2, 3, 1]
    """
    angles = np.mod(np.asarray(theta), 180.0)
    unused = np.ones(len(angles), bool)
    target = angles.min()
    order = []
    for _ in range(len(angles)):
        gap = np.abs(angles - target)
        gap = np.where(unused, np.minimum(gap, 180.0 - gap), np.inf)
        index = int(np.argmin(gap))
        order.append(index)
        unused[index] = False
        target = (target + 180.0 / golden_ratio**2) % 180.0
    return order
