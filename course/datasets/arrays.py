"""In-memory image datasets and the MedMNIST ``.npz`` loader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


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
