"""Simulated hospitals for federated learning: lesion patches seen through different scanners.

The data of :mod:`course.federated`: small patches of synthetic CT slices
(:func:`course.physics.phantoms.random_phantom`), centred on a lesion (label 1) or on
lesion-free soft tissue (label 0), as in the false-positive reduction step of a nodule
detector. Each site acquires them with its own :class:`Scanner`, a caricature of what differs
between hospitals: an intensity scale (``gain``) and ``offset`` (calibration, reconstruction and
export settings), noise (dose) and blur (reconstruction kernel). A model trained at one site
meets the others' images as a *domain shift*.

.. math:: x = g \\cdot (G_\\sigma * w(\\mathrm{HU})) + o + \\varepsilon

with ``w`` the soft-tissue window, ``G_sigma`` a Gaussian blur, ``g`` the gain, ``o`` the offset
and ``varepsilon`` Gaussian noise. Shapes: images ``(N, 1, P, P)`` float32 tensors, labels
``(N,)`` int64 tensors.

>>> sites = make_sites((8, 4), n_test=4, scanners=SCANNERS[:2], seed=0)
>>> [site.name for site in sites]
['A: reference', 'B: low dose']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from course._validate import choice, describe, generator, integer, number

__all__ = ["Scanner", "SCANNERS", "Site", "lesion_patches", "acquire", "make_sites", "pooled"]


# ---------------------------------------------------------------------------------------------
# The data: lesion patches, acquired by different scanners
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scanner:
    """How one site's scanner turns anatomy into an image (a caricature, on purpose).

    The patch is windowed (soft tissue: level 40 HU, width 400 HU, to [0, 1]), blurred with a
    Gaussian of ``blur`` pixels, then ``gain * x + offset`` plus Gaussian noise of SD ``noise``.

    Parameters
    ----------
    name : str
    gain, offset : float
        Intensity scale and shift (calibration, reconstruction and export settings).
    noise : float
        Noise SD in window units (1 = 400 HU): lower dose, more noise.
    blur : float
        Gaussian SD in pixels (a softer reconstruction kernel); 0 for none.
    """

    name: str
    gain: float = 1.0
    offset: float = 0.0
    noise: float = 0.02
    blur: float = 0.0


#: Four hospitals: a reference scanner, a low-dose protocol, a soft kernel with a compressed
#: intensity range, and another vendor with a stretched, shifted range.
SCANNERS = (
    Scanner("A: reference", gain=1.0, offset=0.0, noise=0.02, blur=0.0),
    Scanner("B: low dose", gain=1.0, offset=0.05, noise=0.12, blur=0.0),
    Scanner("C: soft kernel", gain=0.6, offset=0.15, noise=0.02, blur=1.2),
    Scanner("D: other vendor", gain=1.6, offset=-0.3, noise=0.03, blur=0.3),
)


@dataclass
class Site:
    """One hospital: its scanner and its patches (training and test)."""

    name: str
    scanner: Scanner
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    @property
    def n_train(self) -> int:
        """Its number of training patches, the weight :math:`n_k` of FedAvg."""
        return int(len(self.train_labels))


def _lesion_pixels(hu: np.ndarray, mask: np.ndarray, extra_hu: float) -> None:
    """Raise each lesion's contrast to its surroundings by ``extra_hu`` (in place)."""
    labels, count = ndimage.label(mask)
    for index in range(1, count + 1):
        lesion = labels == index
        ring = ndimage.binary_dilation(lesion, iterations=2) & ~mask
        sign = 1.0 if hu[lesion].mean() >= hu[ring].mean() else -1.0
        hu[lesion] += sign * extra_hu


def _centre_crop(hu: np.ndarray, row: int, col: int, patch: int) -> np.ndarray:
    half = patch // 2
    row = int(np.clip(row, half, hu.shape[0] - patch + half))
    col = int(np.clip(col, half, hu.shape[1] - patch + half))
    return hu[row - half : row - half + patch, col - half : col - half + patch]


def _patches_of_one_slice(rng, phantom_size: int, patch: int, extra_hu: float):
    """(lesion patches, as many lesion-free soft-tissue patches) from one phantom slice."""
    from course.physics.ct import mu_to_hu
    from course.physics.phantoms import max_lesions, random_phantom

    mu, mask = random_phantom(phantom_size, rng, n_lesions=max_lesions(phantom_size) // 2)
    hu = mu_to_hu(mu).astype(np.float64)
    _lesion_pixels(hu, mask, extra_hu)
    labels, count = ndimage.label(mask)
    centres = ndimage.center_of_mass(mask, labels, range(1, count + 1))
    positives = [_centre_crop(hu, round(r), round(c), patch) for r, c in centres]
    away = ~ndimage.binary_dilation(mask, iterations=patch // 2)
    tissue = ndimage.binary_erosion((hu > -30) & (hu < 130), iterations=1) & away
    rows, cols = np.nonzero(tissue)
    picks = rng.choice(rows.size, size=len(positives), replace=False)
    negatives = [_centre_crop(hu, rows[k], cols[k], patch) for k in picks]
    return positives, negatives


def lesion_patches(
    n: int, seed=0, patch: int = 16, phantom_size: int = 64, extra_hu: float = 20.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` CT patches in HU, alternately lesion-free (label 0) and centred on a lesion (1).

    Each phantom slice (:func:`course.physics.phantoms.random_phantom`, lesions of 25-80 HU
    contrast made ``extra_hu`` more conspicuous) gives patches centred on its lesions and as many
    centred on lesion-free liver or soft tissue (the same tissue around, no lesion).

    Parameters
    ----------
    n : int
        Number of patches (>= 1).
    seed : int or numpy.random.Generator
    patch : int, default 16
        Patch side in pixels (>= 4).
    phantom_size : int, default 64
        Side of the phantom slices the patches are cut from (>= 2 * patch).
    extra_hu : float, default 20
        Contrast added to every lesion (HU, >= 0).

    Returns
    -------
    hu : ndarray of float32, shape (n, patch, patch)
    labels : ndarray of int64, shape (n,)
        ``i % 2``.

    Examples
    --------
    >>> hu, labels = lesion_patches(4, seed=0)
    >>> hu.shape, labels.tolist()
    ((4, 16, 16), [0, 1, 0, 1])
    """
    n = integer("n", n, minimum=1)
    patch = integer("patch", patch, minimum=4)
    phantom_size = integer("phantom_size", phantom_size, minimum=max(20, 2 * patch))
    extra_hu = number("extra_hu", extra_hu, low=0)
    rng = generator(seed)
    positives, negatives = [], []
    while min(len(positives), len(negatives)) < (n + 1) // 2:
        pos, neg = _patches_of_one_slice(rng, phantom_size, patch, extra_hu)
        positives += pos
        negatives += neg
    hu = np.empty((n, patch, patch), np.float32)
    hu[0::2] = np.stack(negatives[: len(hu[0::2])])
    hu[1::2] = np.stack(positives[: len(hu[1::2])])
    return hu, np.arange(n, dtype=np.int64) % 2


def acquire(hu: np.ndarray, scanner: Scanner, seed=0) -> torch.Tensor:
    """Images of HU patches ``(N, P, P)`` as ``scanner`` shows them: ``(N, 1, P, P)`` float32.

    .. math:: x = g \\cdot (G_\\sigma * w(\\mathrm{HU})) + o + \\varepsilon, \\qquad
              \\varepsilon \\sim \\mathcal{N}(0, s^2)

    with ``w`` the soft-tissue window (40, 400) to [0, 1], ``G_sigma`` the blur, ``g`` the
    gain, ``o`` the offset and ``s`` the noise of the :class:`Scanner`.

    Examples
    --------
    >>> hu, _ = lesion_patches(2, seed=0)
    >>> tuple(acquire(hu, SCANNERS[1], seed=0).shape)
    (2, 1, 16, 16)
    """
    from course.io.dicom import window

    if not isinstance(scanner, Scanner):
        raise TypeError(f"scanner must be a course.federated.Scanner, got {describe(scanner)}")
    rng = generator(seed)
    x = window(np.asarray(hu, dtype=np.float64), 40.0, 400.0)
    if scanner.blur > 0:
        x = ndimage.gaussian_filter(x, (0,) * (x.ndim - 2) + (scanner.blur, scanner.blur))
    x = scanner.gain * x + scanner.offset + rng.normal(0.0, scanner.noise, x.shape)
    return torch.from_numpy(x.astype(np.float32))[:, None]


def make_sites(
    n_train: Sequence[int] = (160, 120, 80, 40),
    n_test: int = 100,
    scanners: Sequence[Scanner] = SCANNERS,
    seed: int = 0,
    patch: int = 16,
) -> list[Site]:
    """Simulated hospitals: one :class:`Site` per scanner, with its own patients.

    Parameters
    ----------
    n_train : sequence of int, default (160, 120, 80, 40)
        Training patches per site (unequal: FedAvg weights the sites by them).
    n_test : int, default 100
        Test patches per site.
    scanners : sequence of Scanner, default :data:`SCANNERS`
        One per site, as many as ``n_train``.
    seed : int, default 0
    patch : int, default 16

    Returns
    -------
    list of Site

    Raises
    ------
    ValueError
        If ``n_train`` and ``scanners`` differ in length or a size is below 2.

    Examples
    --------
    >>> sites = make_sites((8, 4), n_test=4, scanners=SCANNERS[:2], seed=0)
    >>> [s.n_train for s in sites], tuple(sites[0].test_images.shape)
    ([8, 4], (4, 1, 16, 16))
    """
    sizes = [integer("n_train", n, minimum=2) for n in n_train]
    n_test = integer("n_test", n_test, minimum=2)
    if len(sizes) != len(scanners) or not sizes:
        raise ValueError(
            f"n_train and scanners must have the same, non-zero length, got {len(sizes)} and "
            f"{len(scanners)}"
        )
    rng = generator(seed)
    sites = []
    for size, scanner in zip(sizes, scanners, strict=True):
        hu, labels = lesion_patches(size + n_test, rng, patch=patch)
        images, labels = acquire(hu, scanner, rng), torch.from_numpy(labels)
        order = torch.from_numpy(rng.permutation(size + n_test))  # mix the classes
        images, labels = images[order], labels[order]
        sites.append(
            Site(scanner.name, scanner, images[:size], labels[:size], images[size:], labels[size:])
        )
    return sites


def _check_sites(sites) -> list[Site]:
    if not isinstance(sites, Sequence) or not sites:
        raise ValueError(f"sites must be a non-empty list of Site, got {describe(sites)}")
    for k, site in enumerate(sites):
        if not isinstance(site, Site):
            raise TypeError(f"sites[{k}] must be a course.federated.Site, got {describe(site)}")
    return list(sites)


def pooled(sites: Sequence[Site], split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """All sites' ``"train"`` or ``"test"`` images and labels, concatenated."""
    split = choice("split", split, ("train", "test"))
    sites = _check_sites(sites)
    images = torch.cat([getattr(site, f"{split}_images") for site in sites])
    labels = torch.cat([getattr(site, f"{split}_labels") for site in sites])
    return images, labels
