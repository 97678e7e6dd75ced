"""Synthetic, physics-based CT: random phantoms with lesions, projected, noisy, reconstructed.

The lesion masks are exact, because the lesions were drawn; the 3D head volume with a lesion
is built from the 3D Shepp-Logan phantom.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from course._validate import generator, integer


def synthetic_ct_slices(
    n: int,
    size: int = 64,
    photons: float | None = 1e6,
    seed: int = 0,
    n_lesions=(1, 3),
    n_angles: int | None = None,
    field_of_view_cm: float = 32.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``n`` CT slices with lesions: phantom, projection, photon noise, FBP, HU.

    For each slice: :func:`~course.physics.phantoms.random_phantom` draws a body with organs and
    lesions (attenuation :math:`\\mu` in 1/cm and the exact lesion mask);
    :func:`~course.physics.ct.simulate_ct` computes its sinogram with Poisson noise for
    ``photons`` photons per ray (the dose); :func:`~course.physics.ct.fbp` reconstructs all the
    slices in one batched call, and :func:`~course.physics.ct.mu_to_hu` gives Hounsfield units:

    .. math::

        \\mathrm{HU} = 1000\\,\\frac{\\hat\\mu - \\mu_{water}}{\\mu_{water} - \\mu_{air}}

    Parameters
    ----------
    n : int
        Number of slices (>= 1).
    size : int, default 64
        Slices are ``size x size`` pixels, at least 20; a slice holds at most
        :func:`course.physics.phantoms.max_lesions` ``(size)`` lesions, so the default
        ``n_lesions=(1, 3)`` needs ``size >= 29``.
    photons : float or None, default 1e6
        Incident photons per ray; fewer photons = lower dose = more noise. None: no noise.
    seed : int, default 0
        The same seed gives the same slices.
    n_lesions : int or (int, int), default (1, 3)
        Lesions per slice, or an inclusive range drawn uniformly per slice; 0 gives healthy
        slices.
    n_angles : int, optional
        Projection angles over 180 degrees; default ``round(1.5 * size)``.
    field_of_view_cm : float, default 32
        Width of the image in cm (a pixel is ``field_of_view_cm / size`` cm): realistic path
        lengths make realistic noise.

    Returns
    -------
    hu : ndarray of float32, shape (n, size, size)
        Reconstructed slices in HU (-1000 outside the body).
    masks : ndarray of bool, shape (n, size, size)
        Exact lesion masks.

    Raises
    ------
    ValueError
        If ``n < 1``, ``size < 20``, or more lesions than fit in a slice of that size.

    Examples
    --------
    >>> hu, masks = synthetic_ct_slices(4, size=32, seed=0)
    >>> hu.shape, masks.dtype, bool(masks.any(axis=(1, 2)).all())
    ((4, 32, 32), dtype('bool'), True)
    """
    from course.physics.ct import fbp, mu_to_hu, simulate_ct
    from course.physics.phantoms import max_lesions, random_phantom

    if integer("n (the number of slices)", n) < 1:
        raise ValueError(f"n (the number of slices) must be a positive int, got {n!r}")
    if integer("size (pixels per side)", size) < 20:
        raise ValueError(f"size (pixels per side) must be an int >= 20, got {size!r}")
    low, high = (n_lesions, n_lesions) if np.isscalar(n_lesions) else n_lesions
    if not 0 <= low <= high:
        raise ValueError(f"n_lesions must be an int or a range (low, high), got {n_lesions!r}")
    if high > max_lesions(size):
        advice = f"use size >= {7 * high + 8} or fewer lesions"
        if high > 10:
            advice = "no slice holds more than 10"
        raise ValueError(
            f"n_lesions={n_lesions!r}: a {size}x{size} slice holds at most "
            f"max_lesions({size}) = {max_lesions(size)} lesions; {advice}"
        )
    rng = generator(seed)
    mus, masks = zip(
        *(random_phantom(size, rng, n_lesions=int(rng.integers(low, high + 1))) for _ in range(n)),
        strict=True,
    )
    theta = np.linspace(0.0, 180.0, n_angles or round(1.5 * size), endpoint=False)
    pixel_cm = field_of_view_cm / size
    sinograms = simulate_ct(np.stack(mus), theta, photons=photons, seed=rng, pixel_size_cm=pixel_cm)
    hu = mu_to_hu(fbp(sinograms, theta) / pixel_cm)
    return hu.astype(np.float32), np.stack(masks)


class SyntheticLesionCT(Dataset):
    """Synthetic CT slices with lesions, simulated from physics: a :class:`Dataset`.

    The slices come from :func:`synthetic_ct_slices` (phantom -> noisy projections -> FBP
    -> HU), so the deep-learning lectures train on images made by the physics lectures, with
    exact lesion masks. Images are shown to the network through a soft-tissue window
    (level 40 HU, width 400 HU) mapped to [0, 1]:

    .. math::

        x = \\mathrm{clip}\\left(\\frac{\\mathrm{HU} - (L - W/2)}{W}, 0, 1\\right)

    Parameters
    ----------
    n : int
        Number of slices.
    size : int, default 64
        Slice side in pixels, >= 29 (a slice holds up to 3 lesions: see
        :func:`synthetic_ct_slices`).
    photons : float or None, default 1e6
        Photons per ray (dose): try 1e4 for a low-dose data set.
    seed : int, default 0
        Use different seeds for training and held-out sets.
    task : {"segmentation", "classification"}
        Segmentation: every slice has 1 to 3 lesions, the target is the mask ``(1, H, W)``
        float32. Classification: slice ``i`` has lesions if ``i`` is odd (half the slices), the
        target is the label (int64, 1 = lesion present).
    transform : callable, optional
        ``transform(image, mask, rng) -> (image, mask)`` on 2D NumPy arrays (e.g. from
        :mod:`course.augment`), applied to each item as it is read; ``rng`` is the dataset's
        generator (seeded by ``seed``).
    window : (float, float), default (40, 400)
        Level and width in HU.

    Attributes
    ----------
    hu : ndarray of float32, shape (n, size, size)
        The reconstructed slices in HU.
    images : torch.Tensor, shape (n, 1, size, size)
        Windowed images in [0, 1], float32.
    masks : torch.Tensor, shape (n, 1, size, size)
        Lesion masks, float32 0/1.
    labels : torch.Tensor, shape (n,)
        1 if the slice has a lesion, int64.

    Examples
    --------
    >>> ds = SyntheticLesionCT(8, size=32, seed=0)
    >>> image, mask = ds[0]
    >>> tuple(image.shape), image.dtype, float(mask.max())
    ((1, 32, 32), torch.float32, 1.0)
    >>> SyntheticLesionCT(8, size=32, task="classification").labels.tolist()
    [0, 1, 0, 1, 0, 1, 0, 1]
    """

    TASKS = ("segmentation", "classification")

    def __init__(
        self,
        n: int,
        size: int = 64,
        photons: float | None = 1e6,
        seed: int = 0,
        task: str = "segmentation",
        transform=None,
        window: tuple[float, float] = (40.0, 400.0),
    ):
        if task not in self.TASKS:
            raise ValueError(f"task must be one of {self.TASKS}, got {task!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        if task == "classification":
            has_lesion = np.arange(n) % 2 == 1
            healthy = synthetic_ct_slices(n, size, photons, seed, n_lesions=0)
            sick = synthetic_ct_slices(n, size, photons, seed + 1, n_lesions=(1, 3))
            hu = np.where(has_lesion[:, None, None], sick[0], healthy[0])
            masks = np.where(has_lesion[:, None, None], sick[1], healthy[1])
        else:
            hu, masks = synthetic_ct_slices(n, size, photons, seed)
        from course.io.dicom import window as apply_window

        self.task, self.transform = task, transform
        self.rng = generator(seed)
        self.hu = hu
        self.images = torch.from_numpy(apply_window(hu, *window)[:, None])
        self.masks = torch.from_numpy(masks[:, None].astype(np.float32))
        self.labels = torch.from_numpy(masks.any(axis=(1, 2)).astype(np.int64))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index):
        image, mask = self.images[index], self.masks[index]
        if self.transform is not None:
            image, mask = self.transform(image[0].numpy(), mask[0].numpy(), self.rng)
            image = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32)[None]
            mask = torch.as_tensor(np.ascontiguousarray(mask), dtype=torch.float32)[None]
        if self.task == "classification":
            return image, self.labels[index]
        return image, mask


def head_volume_with_lesion(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 3D head phantom in HU with one spherical lesion and its exact mask.

    The modified 3D Shepp-Logan phantom (:func:`~course.physics.phantoms.shepp_logan_3d`) is
    mapped piecewise-linearly to Hounsfield units (0 -> 0 cerebrospinal fluid, 0.2 -> 40 brain,
    1 -> 1000 skull; -1000 air around the head), then a sphere of radius ``n / 12`` voxels,
    60 HU brighter than the brain, is placed at a random position inside the brain.

    Parameters
    ----------
    n : int, default 64
        Volume size ``n x n x n`` (>= 24).
    seed : int, default 0

    Returns
    -------
    hu : ndarray of float32, shape (n, n, n)
        ``(Z, Y, X)`` in HU.
    mask : ndarray of bool, shape (n, n, n)
        The lesion.

    Examples
    --------
    >>> hu, mask = head_volume_with_lesion(32, seed=0)
    >>> hu.shape, int(mask.sum()) > 0
    ((32, 32, 32), True)
    """
    from scipy.ndimage import binary_fill_holes, distance_transform_edt

    from course.physics.phantoms import shepp_logan_3d

    n = integer("n", n, minimum=24)
    values = shepp_logan_3d(n)
    head = binary_fill_holes(values > 0)
    hu = np.interp(values, [0.0, 0.2, 1.0], [0.0, 40.0, 1000.0]).astype(np.float32)
    hu[~head] = -1000.0
    rng = generator(seed)
    radius = n / 12
    # possible centres: brain voxels farther than the radius (plus one) from anything else
    brain = np.isclose(values, 0.2)
    candidates = np.argwhere(distance_transform_edt(brain) > radius + 1)
    center = candidates[rng.integers(len(candidates))]
    z, y, x = np.ogrid[:n, :n, :n]
    mask = (z - center[0]) ** 2 + (y - center[1]) ** 2 + (x - center[2]) ** 2 <= radius**2
    hu[mask] += 60.0
    return hu, mask
