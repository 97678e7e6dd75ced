"""Writing every data set of the course to disk as ordinary files (``course datasets build``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course.datasets.samples import SAMPLE_FILES, SKIMAGE_IMAGES, load_sample_image, sample_path
from course.datasets.synthetic import SyntheticLesionCT, head_volume_with_lesion


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
