"""Phantoms: synthetic images whose ground truth is known exactly.

A *phantom* is an object built to test an imaging system: a real one (a plastic cylinder
filled with water and inserts) or a mathematical one, made of ellipses whose line integrals are
known. Here:

* :func:`shepp_logan` - the 2D Shepp-Logan head phantom (1974), 10 ellipses, in the "modified"
  higher-contrast version of Toft (1996) by default;
* :func:`shepp_logan_3d` - its 3D version of Kak & Slaney (1988), 10 ellipsoids;
* :func:`random_phantom` - a random axial slice of a body, in attenuation units (1/cm), with
  organs, tissue texture and lesions, and the exact lesion mask: the ground truth of the
  synthetic CT datasets (:func:`course.physics.ct.simulate_ct`, then
  :func:`course.physics.ct.fbp`).

Coordinates: the image spans ``[-1, 1]`` on each axis (pixel centres at
``(2 j + 1 - n) / n``), ``x`` to the right (columns), ``y`` **up** (row 0 is the top, as in
MATLAB's ``phantom`` and :func:`skimage.data.shepp_logan_phantom`), ``z`` along the first axis
of a volume. An ellipse with centre ``(x_0, y_0)``, semi-axes ``a`` (along x before rotation) and
``b``, turned counter-clockwise by ``phi``, is the set

.. math::

    \\frac{\\big((x - x_0)\\cos\\varphi + (y - y_0)\\sin\\varphi\\big)^2}{a^2}
    + \\frac{\\big(-(x - x_0)\\sin\\varphi + (y - y_0)\\cos\\varphi\\big)^2}{b^2} \\le 1 .

Every image is zero outside the inscribed circle of radius ``n // 2`` around pixel
``(n // 2, n // 2)`` (:func:`course.physics.ct.circle_mask`), so that
:func:`course.physics.ct.radon` can project it.

>>> image = shepp_logan(64)
>>> image.shape, float(image.max())
((64, 64), 1.0)
>>> mu, lesions = random_phantom(64, seed=0, n_lesions=2)
>>> mu.dtype, lesions.dtype, bool(lesions.any())
(dtype('float32'), dtype('bool'), True)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from course._validate import generator, integer
from course.physics.ct import circle_mask, hu_to_mu

__all__ = [
    "SHEPP_LOGAN_2D",
    "SHEPP_LOGAN_3D",
    "ellipse",
    "shepp_logan",
    "shepp_logan_3d",
    "random_phantom",
    "max_lesions",
    "TISSUE_HU",
]

#: The 10 ellipses of the 2D Shepp-Logan phantom (Shepp & Logan 1974; Kak & Slaney 1988,
#: p. 55): ``(value, modified value, a, b, x0, y0, phi in degrees)``. The original values
#: (2, -0.98, -0.02, ...) give a brain of 1.02 in a skull of 2 with features of +-0.01-0.02,
#: barely visible; Toft's "modified" values (those of MATLAB's ``phantom``) raise the contrast.
SHEPP_LOGAN_2D = (
    (2.00, 1.0, 0.6900, 0.9200, 0.00, 0.0000, 0.0),  # skull
    (-0.98, -0.8, 0.6624, 0.8740, 0.00, -0.0184, 0.0),  # brain
    (-0.02, -0.2, 0.1100, 0.3100, 0.22, 0.0000, -18.0),  # right ventricle
    (-0.02, -0.2, 0.1600, 0.4100, -0.22, 0.0000, 18.0),  # left ventricle
    (0.01, 0.1, 0.2100, 0.2500, 0.00, 0.3500, 0.0),
    (0.01, 0.1, 0.0460, 0.0460, 0.00, 0.1000, 0.0),
    (0.01, 0.1, 0.0460, 0.0460, 0.00, -0.1000, 0.0),
    (0.01, 0.1, 0.0460, 0.0230, -0.08, -0.6050, 0.0),
    (0.01, 0.1, 0.0230, 0.0230, 0.00, -0.6060, 0.0),
    (0.01, 0.1, 0.0230, 0.0460, 0.06, -0.6050, 0.0),
)

#: The 10 ellipsoids of the 3D Shepp-Logan phantom (Kak & Slaney 1988, p. 102):
#: ``(value, modified value, a, b, c, x0, y0, z0, phi in degrees)``, ``phi`` a rotation about
#: the z axis. The modified values are those of Yu, Ye & Wang (2004), a 3D analogue of Toft's.
#: The classic cross-section is the slice ``z = -0.25``, not ``z = 0``.
SHEPP_LOGAN_3D = (
    (2.00, 1.0, 0.6900, 0.920, 0.900, 0.00, 0.000, 0.000, 0.0),
    (-0.98, -0.8, 0.6624, 0.874, 0.880, 0.00, 0.000, 0.000, 0.0),
    (-0.02, -0.2, 0.4100, 0.160, 0.210, -0.22, 0.000, -0.250, 108.0),
    (-0.02, -0.2, 0.3100, 0.110, 0.220, 0.22, 0.000, -0.250, 72.0),
    (0.02, 0.2, 0.2100, 0.250, 0.500, 0.00, 0.350, -0.250, 0.0),
    (0.02, 0.2, 0.0460, 0.046, 0.046, 0.00, 0.100, -0.250, 0.0),
    (0.01, 0.1, 0.0460, 0.023, 0.020, -0.08, -0.650, -0.250, 0.0),
    (0.01, 0.1, 0.0460, 0.023, 0.020, 0.06, -0.650, -0.250, 90.0),
    (0.02, 0.2, 0.0560, 0.040, 0.100, 0.06, -0.105, 0.625, 90.0),
    (-0.02, -0.2, 0.0560, 0.056, 0.100, 0.00, 0.100, 0.625, 0.0),
)


def _axes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1]: ``x`` of the columns, ``y`` of the rows (y up)."""
    x = (2 * np.arange(n) + 1 - n) / n
    return x, x[::-1].copy()


def ellipse(n: int, center, axes, angle: float = 0.0) -> np.ndarray:
    """The pixels of an ``n x n`` image inside an ellipse (coordinates in [-1, 1], y up).

    .. math::

        \\frac{x'^2}{a^2} + \\frac{y'^2}{b^2} \\le 1, \\quad
        x' = (x - x_0)\\cos\\varphi + (y - y_0)\\sin\\varphi, \\quad
        y' = -(x - x_0)\\sin\\varphi + (y - y_0)\\cos\\varphi

    Parameters
    ----------
    n : int
        Image size.
    center : (float, float)
        ``(x0, y0)``.
    axes : (float, float)
        Semi-axes ``(a, b)``, positive, ``a`` along x before the rotation.
    angle : float, default 0
        Counter-clockwise rotation ``phi`` in degrees.

    Returns
    -------
    ndarray of bool, shape (n, n)

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive int or a semi-axis is not positive.

    Examples
    --------
    >>> ellipse(5, (0, 0), (0.5, 0.9)).astype(int)
    array([[0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0]])
    """
    n = integer("n", n, minimum=1)
    x, y = _axes(n)
    (x0, y0), (a, b) = center, axes
    if not (a > 0 and b > 0):
        raise ValueError(f"axes must be two positive semi-axes, got {axes!r}")
    return _inside_ellipse(x[None, :] - x0, y[:, None] - y0, a, b, angle)


def _inside_ellipse(dx, dy, a: float, b: float, angle: float) -> np.ndarray:
    phi = np.deg2rad(angle)
    u = dx * np.cos(phi) + dy * np.sin(phi)
    v = -dx * np.sin(phi) + dy * np.cos(phi)
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _clean(values: np.ndarray) -> np.ndarray:
    """float32, with the rounding residue of sums such as 1 - 0.8 - 0.2 (-5.6e-17) set to 0."""
    return (np.round(values, 6) + 0.0).astype(np.float32)


def shepp_logan(n: int, modified: bool = True) -> np.ndarray:
    """The 2D Shepp-Logan head phantom: a sum of 10 uniform ellipses (:data:`SHEPP_LOGAN_2D`).

    .. math::

        f(x, y) = \\sum_{k=1}^{10} \\rho_k \\, \\mathbb{1}[(x, y) \\in E_k]

    With ``modified=True`` (Toft's contrast, as :func:`skimage.data.shepp_logan_phantom`) the
    values are 1 (skull), 0.2 (brain), 0 (ventricles), 0.3 and 0.4 (small features), and 0.1
    where a small feature overlaps a ventricle; with ``modified=False`` the original 2, 1.02,
    1.0, 1.03, 1.04 and 1.01. Dimensionless: scale it to an
    attenuation in 1/cm (e.g. times :data:`course.physics.ct.MU_WATER`) if you need one.

    Parameters
    ----------
    n : int
        Image size (``n x n``), >= 1.
    modified : bool, default True
        Toft's higher-contrast values instead of the original ones.

    Returns
    -------
    ndarray of float32, shape (n, n)
        Zero outside the inscribed circle (:func:`course.physics.ct.circle_mask`).

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive int.

    Examples
    --------
    >>> image = shepp_logan(128)
    >>> [round(float(v), 2) for v in np.unique(image)]
    [0.0, 0.1, 0.2, 0.3, 0.4, 1.0]
    """
    n = integer("n", n, minimum=1)
    x, y = _axes(n)
    image = np.zeros((n, n), np.float64)
    for original, contrast, a, b, x0, y0, phi in SHEPP_LOGAN_2D:
        inside = _inside_ellipse(x[None, :] - x0, y[:, None] - y0, a, b, phi)
        image[inside] += contrast if modified else original
    image[~circle_mask(n)] = 0.0
    return _clean(image)


def shepp_logan_3d(n: int, modified: bool = True) -> np.ndarray:
    """The 3D Shepp-Logan head phantom of Kak & Slaney: 10 ellipsoids (:data:`SHEPP_LOGAN_3D`).

    .. math::

        f(x, y, z) = \\sum_{k=1}^{10} \\rho_k \\, \\mathbb{1}\\Big[
            \\frac{x'^2}{a_k^2} + \\frac{y'^2}{b_k^2} + \\frac{(z - z_k)^2}{c_k^2} \\le 1\\Big]

    with ``(x', y')`` the in-plane coordinates relative to the centre, rotated by ``phi_k``
    about the z axis. The classic 2D cross-section (skull, brain, ventricles, small tumours) is
    the axial slice at ``z = -0.25``: slice ``k`` is at ``z = (2 k + 1 - n) / n``, so the
    index is ``3 n / 8 - 1/2`` (for ``n`` a multiple of 8, the two slices around it); two more
    small ellipsoids sit at ``z = 0.625``.

    Parameters
    ----------
    n : int
        Volume size (``n x n x n``), >= 1.
    modified : bool, default True
        Higher-contrast values (Yu, Ye & Wang 2004: 1, 0.2, 0, 0.4, ...) instead of the original
        ones (2, 1.02, 1.0, ...).

    Returns
    -------
    ndarray of float32, shape (n, n, n)
        Indexed ``[z, y, x]`` (z increasing with the index, y up, x right); every axial slice
        is zero outside its inscribed circle.

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive int.

    Examples
    --------
    >>> volume = shepp_logan_3d(32)
    >>> volume.shape, float(volume.max())
    ((32, 32, 32), 1.0)
    >>> float(volume[0].max()), round(float(volume[16, 16, 16]), 2)  # first slice: no head
    (0.0, 0.2)
    """
    n = integer("n", n, minimum=1)
    x, y = _axes(n)
    z = x  # increasing with the index
    volume = np.zeros((n, n, n), np.float64)
    for original, contrast, a, b, c, x0, y0, z0, phi in SHEPP_LOGAN_3D:
        slices = np.flatnonzero(np.abs(z - z0) <= c)
        if slices.size == 0:
            continue
        # the cross-section at height z is the in-plane ellipse scaled by sqrt(1 - (z-z0)^2/c^2)
        scale = np.sqrt(1.0 - ((z[slices] - z0) / c) ** 2)[:, None, None]
        dx = x[None, None, :] - x0
        dy = y[None, :, None] - y0
        phi_rad = np.deg2rad(phi)
        u = dx * np.cos(phi_rad) + dy * np.sin(phi_rad)
        v = -dx * np.sin(phi_rad) + dy * np.cos(phi_rad)
        inside = (u / a) ** 2 + (v / b) ** 2 <= scale**2
        volume[slices] += np.where(inside, contrast if modified else original, 0.0)
    volume[:, ~circle_mask(n)] = 0.0
    return _clean(volume)


# ---------------------------------------------------------------------------------------------
# Random body phantoms with lesions
# ---------------------------------------------------------------------------------------------
#: CT numbers (HU) of the tissues of :func:`random_phantom`: typical values, each jittered by a
#: few HU per phantom. Lesions differ from the organ around them by 25-80 HU.
TISSUE_HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft tissue": 40.0,
    "liver": 60.0,
    "kidney": 30.0,
    "aorta": 45.0,
    "bone": 700.0,
}


def _place_lesion(rng, hosts, taken: np.ndarray, n: int, x, y):
    """A random ellipse inside one of the ``hosts`` (a pixel of host all around), away from
    ``taken``; None if no host has room left.

    The semi-axes ``a, b`` (in pixels) are drawn first; the centre is then drawn among the pixels
    whose distance to the nearest non-host (or taken) pixel exceeds ``max(a, b) + 1``, so the
    lesion and its one-pixel margin fit without trial and error, and it contains its centre.
    """
    pixel = 2.0 / n  # one pixel in [-1, 1] units
    r_min, r_max = max(1.0, 0.025 * n), max(1.5, 0.07 * n)  # semi-axes in pixels
    a, b = rng.uniform(r_min, r_max, size=2)
    free = ~ndimage.binary_dilation(taken)
    for host in hosts:
        room = ndimage.distance_transform_edt(np.pad(host & free, 1))[1:-1, 1:-1]
        for scale in (1.0, 0.75, 0.5, 0.25, 0.0):  # shrink towards r_min if it does not fit
            a_k, b_k = r_min + scale * (a - r_min), r_min + scale * (b - r_min)
            rows, cols = np.nonzero(room > max(a_k, b_k) + 1)
            if rows.size:
                k = rng.integers(rows.size)
                dx, dy = x[None, :] - x[cols[k]], y[:, None] - y[rows[k]]
                return _inside_ellipse(dx, dy, a_k * pixel, b_k * pixel, rng.uniform(0, 180))
    return None


def max_lesions(n: int) -> int:
    """The most lesions :func:`random_phantom` places in an ``n x n`` slice: ``min(10, (n-8)//7)``.

    Each lesion needs a free disk of a few pixels inside the liver or the soft tissue, one pixel
    away from the others; the bound leaves a margin over what fitted for every seed tried.

    Parameters
    ----------
    n : int
        Image size, >= 20.

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not an int >= 20.

    Examples
    --------
    >>> [max_lesions(n) for n in (20, 32, 64, 128)]
    [1, 3, 8, 10]
    """
    n = integer("n", n, minimum=20)
    return min(10, (n - 8) // 7)


def random_phantom(n: int, seed, n_lesions: int = 3, texture: bool = True):
    """A random axial body slice in attenuation units, with lesions and their exact mask.

    The slice is built in Hounsfield units (:data:`TISSUE_HU`), then converted with
    :func:`course.physics.ct.hu_to_mu`:

    1. air (-1000 HU) around a body ellipse of fat (-100 HU) filled with soft tissue (40 HU),
       random size, aspect and tilt;
    2. organs inside it: a liver (60 HU), two kidneys (30 HU), the aorta (45 HU) and a vertebra
       (700 HU), each jittered in position, size and value;
    3. ``n_lesions`` lesions: small random ellipses fully inside the liver or the soft tissue
       (at least one pixel of host tissue all around, not touching each other), uniform, hypo-
       or hyper-dense by 25-80 HU relative to their host;
    4. texture: smooth Gaussian-filtered noise (SD 6-12 HU) over the whole body, lesions
       included, so that a lesion is not found by its uniformity alone. On a small lesion the
       texture can cut the measured contrast to a third of the designed one.

    Parameters
    ----------
    n : int
        Image size (``n x n``), >= 20.
    seed : int or numpy.random.Generator
        The same seed gives the same phantom.
    n_lesions : int, default 3
        Number of lesions, from 0 to :func:`max_lesions` ``(n)`` (1 at n = 20, 3 at 32, 8 at
        64, 10 from 78).
    texture : bool, default True
        Add step 4. ``False`` gives the same body, organs and lesions (the texture is drawn
        last), piecewise constant: the designed contrasts, exactly.

    Returns
    -------
    mu : ndarray of float32, shape (n, n)
        Linear attenuation in 1/cm (0 in air), zero outside the inscribed circle.
    lesion_mask : ndarray of bool, shape (n, n)
        True on lesion pixels; empty if ``n_lesions == 0``, never empty otherwise.

    Raises
    ------
    TypeError
        If ``n`` or ``n_lesions`` is not an int, or ``seed`` not an int or Generator.
    ValueError
        If ``n < 20``, ``seed`` is negative or ``n_lesions`` is not in ``[0, max_lesions(n)]``.
    RuntimeError
        If the lesions do not fit; the bound of :func:`max_lesions` was chosen so that this did
        not happen in thousands of seeds.

    Examples
    --------
    >>> from course.physics.ct import mu_to_hu
    >>> mu, mask = random_phantom(128, seed=1, n_lesions=2)
    >>> bool(mask.any()), float(mu[0, 0])
    (True, 0.0)
    >>> hu = mu_to_hu(mu)
    >>> bool(-150 < np.median(hu[mu > 0]) < 100)  # mostly soft tissue and fat
    True
    >>> flat, same_mask = random_phantom(128, seed=1, n_lesions=2, texture=False)
    >>> bool(np.array_equal(mask, same_mask)), len(np.unique(flat[mask])) == 2  # 2 uniform lesions
    (True, True)
    """
    n = integer("n", n, minimum=20)
    integer("n_lesions", n_lesions)
    most = max_lesions(n)
    if not 0 <= n_lesions <= most:
        raise ValueError(
            f"n_lesions must be in [0, {most}] for n={n} (each lesion needs room in the organs; "
            f"use a larger n for more), got {n_lesions}"
        )
    rng = generator(seed, allow_none=False)
    hu, body, liver, soft = _body_and_organs(rng, n)
    lesion_mask = _add_lesions(rng, hu, liver, soft, n_lesions)
    if texture:
        _add_texture(rng, hu, body)
    mu = np.clip(hu_to_mu(hu), 0.0, None)
    mu[~circle_mask(n)] = 0.0
    return mu.astype(np.float32), lesion_mask


def _body_and_organs(rng, n: int):
    """Steps 1-2 of :func:`random_phantom`: the slice in HU, the body, the liver, the soft tissue.

    Organ positions and sizes are fractions of the inner (soft-tissue) ellipse, so that the
    anatomy scales with the body; image left is the patient's right, as radiologists view it.
    """
    x, y = _axes(n)

    def region(center, axes, angle=0.0):
        return _inside_ellipse(x[None, :] - center[0], y[:, None] - center[1], *axes, angle)

    def jitter(name, spread=5.0):
        return TISSUE_HU[name] + rng.uniform(-spread, spread)

    hu = np.full((n, n), TISSUE_HU["air"])
    a, b = rng.uniform(0.76, 0.86), rng.uniform(0.56, 0.70)
    tilt = rng.uniform(-8.0, 8.0)
    center = rng.uniform(-0.03, 0.03, size=2)
    body = region(center, (a, b), tilt)
    fat = rng.uniform(0.06, 0.12)  # thickness of the fat layer, as a fraction
    a_in, b_in = a * (1 - fat), b * (1 - fat)
    inner = region(center, (a_in, b_in), tilt)
    hu[body] = jitter("fat", 10.0)
    hu[inner] = jitter("soft tissue")

    def place(dx, dy, ax, ay, angle=0.0):
        """An organ at (dx, dy) and of semi-axes (ax, ay), relative to the inner body ellipse."""
        c = (center[0] + dx * a_in, center[1] + dy * b_in)
        return region(c, (ax * a_in, ay * b_in), angle) & inner

    u = rng.uniform
    liver = place(u(-0.45, -0.35), u(0.0, 0.2), u(0.38, 0.48), u(0.45, 0.6), u(-20, 20))
    hu[liver] = jitter("liver")
    kidneys = np.zeros((n, n), bool)
    for side in (-1, 1):
        kidneys |= place(
            side * u(0.35, 0.45), u(-0.5, -0.35), u(0.1, 0.14), u(0.16, 0.22), side * u(10, 30)
        )
    hu[kidneys] = jitter("kidney")
    aorta = place(u(-0.05, 0.05), u(-0.45, -0.35), 0.07, 0.07 * a_in / b_in)
    hu[aorta] = jitter("aorta")
    bone = place(0.0, u(-0.8, -0.7), 0.12, 0.12 * a_in / b_in)
    hu[bone] = jitter("bone", 50.0)
    others = kidneys | aorta | bone  # painted after the liver: they cover part of its ellipse
    return hu, body, liver & ~others, inner & ~liver & ~others


def _add_lesions(rng, hu: np.ndarray, liver, soft, n_lesions: int) -> np.ndarray:
    """Step 3 of :func:`random_phantom`: write the lesions into ``hu``, return their mask.

    Each lesion goes in the liver (7 in 10) or else in plain soft tissue, and takes the median
    of its host (the lesions already placed left out) plus a contrast of +-(25-80) HU.
    """
    n = hu.shape[0]
    x, y = _axes(n)
    lesion_mask = np.zeros((n, n), bool)
    for _ in range(n_lesions):
        order = (soft, liver) if rng.random() < 0.3 else (liver, soft)
        lesion = _place_lesion(rng, order, lesion_mask, n, x, y)
        if lesion is None:
            raise RuntimeError(
                f"could not place {n_lesions} lesions in a {n}x{n} phantom; "
                "use a larger n or fewer lesions"
            )
        host = liver if liver[lesion].all() else soft
        contrast = rng.choice([-1.0, 1.0]) * rng.uniform(25.0, 80.0)
        hu[lesion] = np.median(hu[host & ~lesion_mask]) + contrast
        lesion_mask |= lesion
    return lesion_mask


def _add_texture(rng, hu: np.ndarray, body: np.ndarray) -> None:
    """Step 4 of :func:`random_phantom`: add smooth noise of SD 6-12 HU to ``hu`` in the body."""
    sigma = max(1.0, hu.shape[0] / 96)  # correlation length: about 1/100 of the field of view
    texture = ndimage.gaussian_filter(rng.standard_normal(hu.shape), sigma)
    hu[body] += texture[body] * (rng.uniform(6.0, 12.0) / texture[body].std())
