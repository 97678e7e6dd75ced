"""Data for the course, all available offline.

* **Real sample files** shipped inside installed packages: pydicom's ``CT_small.dcm`` and
  ``MR_small.dcm``, nibabel's ``anatomical.nii`` and ``example4d.nii.gz``
  (:func:`sample_path`), and scikit-image's retina, immunohistochemistry, microaneurysms and
  Shepp-Logan images (:func:`load_sample_image`).
* **Synthetic, physics-based CT** (:class:`SyntheticLesionCT`): random phantoms with lesions are
  projected (Radon transform), given Poisson noise at a chosen dose, and reconstructed with the
  course's filtered back-projection. The lesion masks are exact, because we drew the lesions.
* **MedMNIST** ``.npz`` files, when a user has them (:func:`load_medmnist_npz`).
* Splits: :func:`train_val_test_split` and :func:`kfold_indices`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from sklearn import model_selection
from torch.utils.data import Dataset

from course._validate import generator, integer

__all__ = [
    "SAMPLE_FILES",
    "SKIMAGE_IMAGES",
    "sample_path",
    "load_sample_image",
    "synthetic_ct_slices",
    "SyntheticLesionCT",
    "ArrayDataset",
    "load_medmnist_npz",
    "train_val_test_split",
    "kfold_indices",
    "head_volume_with_lesion",
    "build_datasets",
]

#: Real files shipped by installed packages: name -> (package, description).
SAMPLE_FILES = {
    "CT_small": ("pydicom", "CT slice, 128x128, 16 bit, with RescaleSlope/Intercept (DICOM)"),
    "MR_small": ("pydicom", "MR slice, 64x64, 16 bit (DICOM)"),
    "anatomical": ("nibabel", "T1-weighted brain volume, 33x41x25 voxels (NIfTI-1)"),
    "example4d": ("nibabel", "functional MRI time series, 128x96x24x2 (NIfTI-1, gzipped)"),
}

#: scikit-image images that ship with the package (no download).
SKIMAGE_IMAGES = ("retina", "immunohistochemistry", "microaneurysms", "shepp_logan_phantom")


def sample_path(name: str) -> Path:
    """Path of a real sample file shipped by pydicom or nibabel.

    Parameters
    ----------
    name : {"CT_small", "MR_small", "anatomical", "example4d"}

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    FileNotFoundError
        If the package that ships the file is installed without its data (the message says which
        package to reinstall).

    Examples
    --------
    >>> sample_path("CT_small").name
    'CT_small.dcm'
    """
    if name not in SAMPLE_FILES:
        raise ValueError(f"unknown sample {name!r}; choose one of {sorted(SAMPLE_FILES)}")
    package = SAMPLE_FILES[name][0]
    if package == "pydicom":
        import pydicom

        path = Path(pydicom.__file__).parent / "data" / "test_files" / f"{name}.dcm"
    else:
        import nibabel

        filename = "anatomical.nii" if name == "anatomical" else "example4d.nii.gz"
        path = Path(nibabel.__file__).parent / "tests" / "data" / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"sample {name!r} should be shipped by {package} at {path}, but it is missing: "
            f"reinstall it with `pip install --force-reinstall {package}`"
        )
    return path


def load_sample_image(name: str) -> np.ndarray:
    """Load one of scikit-image's bundled images (no download).

    Parameters
    ----------
    name : {"retina", "immunohistochemistry", "microaneurysms", "shepp_logan_phantom"}
        Fundus photograph (RGB), IHC-stained tissue (RGB), retinal microaneurysms (grey),
        the Shepp-Logan CT phantom (grey, float in [0, 1]).

    Returns
    -------
    ndarray
        ``(H, W)`` or ``(H, W, 3)``, as scikit-image returns it.

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        If scikit-image cannot find the file on disk.

    Examples
    --------
    >>> load_sample_image("microaneurysms").shape
    (102, 102)
    """
    if name not in SKIMAGE_IMAGES:
        raise ValueError(f"unknown image {name!r}; choose one of {list(SKIMAGE_IMAGES)}")
    from skimage import data

    try:
        return getattr(data, name)()
    except (OSError, ModuleNotFoundError, ValueError) as error:
        raise FileNotFoundError(
            f"scikit-image could not load {name!r} from disk ({error}); reinstall scikit-image"
        ) from error


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


class ArrayDataset(Dataset):
    """A :class:`torch.utils.data.Dataset` over in-memory arrays of images and targets.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W) (or (N, C, D, H, W))
    targets : ndarray, shape (N, ...)
        Class labels (integers) or masks.
    transform : callable, optional
        ``transform(image, target) -> (image, target)`` on NumPy arrays, applied per item (e.g.
        augmentation).

    Examples
    --------
    >>> ds = ArrayDataset(np.zeros((4, 1, 8, 8), np.float32), np.arange(4))
    >>> image, label = ds[1]
    >>> tuple(image.shape), int(label)
    ((1, 8, 8), 1)
    """

    def __init__(self, images: np.ndarray, targets: np.ndarray, transform=None):
        if len(images) != len(targets):
            raise ValueError(
                f"images and targets must have the same length, got {len(images)} and "
                f"{len(targets)}"
            )
        self.images = images
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index):
        image, target = self.images[index], self.targets[index]
        if self.transform is not None:
            image, target = self.transform(image, target)
        image = torch.as_tensor(np.ascontiguousarray(image), dtype=torch.float32)
        target = np.asarray(target)
        if np.issubdtype(target.dtype, np.integer) and target.ndim == 0:
            return image, torch.as_tensor(target, dtype=torch.long)  # a class index
        return image, torch.as_tensor(np.ascontiguousarray(target), dtype=torch.float32)


def load_medmnist_npz(path: str | os.PathLike, split: str = "train") -> ArrayDataset:
    """Load one split of a MedMNIST-format ``.npz`` file (e.g. ``pneumoniamnist.npz``).

    MedMNIST files hold ``{split}_images`` (uint8, ``(N, H, W)`` or ``(N, H, W, 3)``) and
    ``{split}_labels`` (``(N, 1)`` or ``(N, n_labels)`` for multi-label tasks). Images become
    float32 in [0, 1], channel first; single-label targets become a vector of class indices.

    Parameters
    ----------
    path : path to the ``.npz`` file
    split : {"train", "val", "test"}

    Returns
    -------
    ArrayDataset

    Raises
    ------
    FileNotFoundError
        If the file does not exist (MedMNIST files are optional: download them on Colab).
    ValueError
        For an unknown split, or if the file lacks the expected arrays.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no MedMNIST file at {path}")
    with np.load(path) as archive:
        missing = {f"{split}_images", f"{split}_labels"} - set(archive.files)
        if missing:
            raise ValueError(
                f"{path.name} is not a MedMNIST file: it lacks {sorted(missing)} "
                f"(it has {sorted(archive.files)})"
            )
        images = archive[f"{split}_images"]
        labels = archive[f"{split}_labels"]
    if images.ndim == 3:
        images = images[:, None]  # (N, H, W) -> (N, 1, H, W)
    elif images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    else:
        raise ValueError(f"{split}_images must be (N, H, W) or (N, H, W, C), got {images.shape}")
    images = images.astype(np.float32) / (255.0 if images.dtype == np.uint8 else 1.0)
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0].astype(np.int64)
    return ArrayDataset(images, labels)


def _random_state(seed) -> int:
    """scikit-learn's ``random_state`` (an int) from a seed or a NumPy Generator."""
    rng = generator(seed)
    return seed if isinstance(seed, int) else int(rng.integers(2**31 - 1))


def _split_off(index: np.ndarray, share: float, labels, random_state: int):
    """``index`` cut in two (``share`` of it first), stratified on ``labels[index]`` if given."""
    n_first = int(round(share * index.size))
    if n_first in (0, index.size):  # nothing to cut (scikit-learn refuses an empty part)
        return (index, index[:0]) if n_first else (index[:0], index)
    try:
        return model_selection.train_test_split(
            index,
            train_size=n_first,
            random_state=random_state,
            stratify=None if labels is None else labels[index],
        )
    except ValueError as error:  # a class too small to be in both parts
        raise ValueError(f"stratify: {error} Merge rare classes or do not stratify.") from None


def train_val_test_split(
    n: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    stratify=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and split it into train, validation and test indices.

    Two calls of :func:`sklearn.model_selection.train_test_split`: train against the rest, then
    the rest into validation and test. With ``stratify`` (one label per sample) every part keeps
    the class proportions: important for the rare positive class of medical data sets.
    In practice split by **patient**, not by image: pass one index per patient.

    Parameters
    ----------
    n : int
        Number of samples.
    fractions : (float, float, float)
        Non-negative, summing to 1; part sizes are rounded to whole samples.
    seed : int or numpy.random.Generator
        The same seed gives the same split.
    stratify : array-like of shape (n,), optional
        One class label per sample.

    Returns
    -------
    train, val, test : ndarray of int
        Sorted, disjoint, together ``range(n)``.

    Raises
    ------
    ValueError
        If the fractions are negative or do not sum to 1, ``stratify`` has the wrong length, or
        a class of ``stratify`` is too small to appear in every non-empty part.

    Examples
    --------
    >>> train, val, test = train_val_test_split(20, seed=0)
    >>> len(train), len(val), len(test)
    (14, 3, 3)
    >>> labels = np.array([1] * 8 + [0] * 24)
    >>> train, val, test = train_val_test_split(32, (0.5, 0.25, 0.25), stratify=labels)
    >>> [float(labels[part].mean()) for part in (train, val, test)]
    [0.25, 0.25, 0.25]
    """
    n = integer("n", n, minimum=1)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or (fractions < 0).any() or not np.isclose(fractions.sum(), 1):
        raise ValueError(f"fractions must be 3 non-negative numbers summing to 1, got {fractions}")
    if stratify is not None:
        stratify = np.asarray(stratify)
        if stratify.shape != (n,):
            raise ValueError(f"stratify must have shape ({n},), got {stratify.shape}")
    random_state = _random_state(seed)
    train, rest = _split_off(np.arange(n), fractions[0], stratify, random_state)
    rest_share = fractions[1] / (fractions[1] + fractions[2]) if fractions[0] < 1 else 0.0
    val, test = _split_off(rest, rest_share, stratify, random_state)
    return tuple(np.sort(part).astype(np.int64) for part in (train, val, test))


def kfold_indices(
    n: int, k: int = 5, seed: int = 0, stratify=None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Indices of a shuffled k-fold cross-validation: ``k`` pairs ``(train, validation)``.

    Each sample is in exactly one validation fold; fold sizes differ by at most one. This is
    :class:`sklearn.model_selection.KFold` (or :class:`~sklearn.model_selection.StratifiedKFold`
    with ``stratify``, every fold keeping the class proportions) with ``shuffle=True``.

    Parameters
    ----------
    n : int
        Number of samples, >= 2.
    k : int, default 5
        Number of folds, from 2 to ``n``.
    seed : int or numpy.random.Generator, default 0
    stratify : array-like of shape (n,), optional
        One class label per sample.

    Returns
    -------
    list of (train, validation) pairs of sorted int ndarrays

    Raises
    ------
    ValueError
        If ``k < 2`` or ``k > n``, ``stratify`` has the wrong length, or a class of
        ``stratify`` has fewer than ``k`` samples.

    Examples
    --------
    >>> folds = kfold_indices(10, k=5)
    >>> [len(val) for _, val in folds]
    [2, 2, 2, 2, 2]
    """
    n = integer("n", n, minimum=2)
    k = integer("k", k, minimum=2, maximum=n)
    random_state = _random_state(seed)
    if stratify is None:
        splits = model_selection.KFold(k, shuffle=True, random_state=random_state).split(range(n))
    else:
        stratify = np.asarray(stratify)
        if stratify.shape != (n,):
            raise ValueError(f"stratify must have shape ({n},), got {stratify.shape}")
        smallest = np.unique(stratify, return_counts=True)[1].min()
        if smallest < k:
            raise ValueError(f"stratify: a class has {smallest} samples, fewer than k={k} folds")
        folds = model_selection.StratifiedKFold(k, shuffle=True, random_state=random_state)
        splits = folds.split(np.zeros(n), stratify)
    return [(np.sort(train), np.sort(val)) for train, val in splits]


# ---------------------------------------------------------------------------------------------
# Writing every data set to disk
# ---------------------------------------------------------------------------------------------
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


def _save_png(path: Path, image: np.ndarray, value_range=(0.0, 1.0)) -> None:
    """Save a grey or RGB image as an 8-bit PNG, mapping ``value_range`` (default: the
    image's own range if None) to 0-255.
    """
    from PIL import Image

    image = np.asarray(image, dtype=float)
    low, high = value_range if value_range is not None else (image.min(), image.max())
    scaled = np.clip((image - low) / (high - low or 1.0), 0, 1)
    Image.fromarray(np.round(scaled * 255).astype(np.uint8)).save(path)


def build_datasets(out, n_train: int = 400, size: int = 64, seed: int = 0) -> dict[str, Path]:
    """Write every data set of the course to ``out`` as ordinary files.

    Layout (see ``datasets/README.md`` for a card per data set)::

        out/synthetic_ct/{train,val,test}.npz   hu (N,H,W) float32, mask (N,H,W) uint8
        out/synthetic_ct/png/                    16 preview slices and masks (soft-tissue window)
        out/synthetic_ct_classification/{train,val,test}.npz   hu, label (N,) int64
        out/head_ct_series/slice_0000.dcm ...    a DICOM CT series (write_series)
        out/head_ct_nifti/{volume,lesion}.nii.gz the same volume and its lesion mask in NIfTI
        out/samples/                             copies of the real sample files + PNGs

    Parameters
    ----------
    out : str or path
        Folder to write into (created; existing files with the same names are replaced).
    n_train : int, default 400
        Training slices per synthetic set; validation and test sets have ``n_train // 4`` each.
    size : int, default 64
        Slice side in pixels, >= 29 (as :class:`SyntheticLesionCT`).
    seed : int, default 0
        Train, validation and test sets use seeds ``seed``, ``seed + 10``, ``seed + 20``.

    Returns
    -------
    dict
        Data set name -> its folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folders = build_datasets(tmp, n_train=8, size=32)
    ...     sorted(folders)
    ['head_ct_nifti', 'head_ct_series', 'samples', 'synthetic_ct', 'synthetic_ct_classification']
    """
    import shutil

    from course.io.dicom import window, write_series
    from course.io.nifti import save_nifti

    out = Path(out)
    folders = {}
    sizes = {"train": n_train, "val": max(1, n_train // 4), "test": max(1, n_train // 4)}
    for task in ("segmentation", "classification"):
        name = "synthetic_ct" if task == "segmentation" else "synthetic_ct_classification"
        folder = folders[name] = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for k, (split, n) in enumerate(sizes.items()):
            ds = SyntheticLesionCT(n, size=size, seed=seed + 10 * k, task=task)
            arrays = {"hu": ds.hu}
            if task == "segmentation":
                arrays["mask"] = ds.masks[:, 0].numpy().astype(np.uint8)
            else:
                arrays["label"] = ds.labels.numpy()
            np.savez_compressed(folder / f"{split}.npz", **arrays)
        if task == "segmentation":
            (folder / "png").mkdir(exist_ok=True)
            for i in range(min(16, sizes["test"])):
                _save_png(folder / "png" / f"test_{i:02d}_image.png", window(ds.hu[i], 40, 400))
                _save_png(folder / "png" / f"test_{i:02d}_mask.png", ds.masks[i, 0].numpy())

    hu, mask = head_volume_with_lesion(size, seed=seed)
    spacing = (2.0, 1.0, 1.0)  # mm: thicker slices than pixels, as in many clinical scans
    folders["head_ct_series"] = out / "head_ct_series"
    if folders["head_ct_series"].exists():
        shutil.rmtree(folders["head_ct_series"])
    write_series(hu, spacing, folders["head_ct_series"], seed=seed)
    folder = folders["head_ct_nifti"] = out / "head_ct_nifti"
    folder.mkdir(parents=True, exist_ok=True)
    affine = np.diag([spacing[2], spacing[1], spacing[0], 1.0])  # (X, Y, Z) voxel axes
    save_nifti(hu.transpose(2, 1, 0), affine, folder / "volume.nii.gz")
    save_nifti(mask.transpose(2, 1, 0).astype(np.uint8), affine, folder / "lesion.nii.gz")

    folder = folders["samples"] = out / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_FILES:
        source = sample_path(name)
        shutil.copyfile(source, folder / source.name)
    for name in SKIMAGE_IMAGES:
        _save_png(folder / f"{name}.png", load_sample_image(name), value_range=None)
    return folders
