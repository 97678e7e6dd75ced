"""Real sample files shipped inside installed packages (pydicom, nibabel, scikit-image)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
