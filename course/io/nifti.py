"""NIfTI: volumes with an affine, voxel spacing, orientation codes and reorientation to RAS.

A NIfTI file (``.nii`` or gzipped ``.nii.gz``) holds one array, 3D ``(I, J, K)`` or 4D
``(I, J, K, T)`` (e.g. fMRI or a time series), and a 4x4 **affine** ``A`` that maps voxel
indices to world coordinates in mm:

.. math:: \\begin{pmatrix} x \\\\ y \\\\ z \\\\ 1 \\end{pmatrix}
          = A \\begin{pmatrix} i \\\\ j \\\\ k \\\\ 1 \\end{pmatrix},
          \\qquad A = \\begin{pmatrix} M & \\mathbf t \\\\ 0 & 1 \\end{pmatrix}

The columns of ``M`` are the steps in mm of one voxel along each array axis (their lengths are
the voxel spacing), ``t`` is the position of voxel ``(0, 0, 0)``.

World axes (NIfTI "RAS+"): +x towards the patient's Right, +y Anterior, +z Superior. The
orientation code of an array lists, for each array axis, the world direction it mostly
increases towards: ``("R", "A", "S")`` is canonical; ``("L", "A", "S")`` means the first axis
runs right-to-left (radiological storage). DICOM instead uses LPS+, so converting between the
two flips the signs of ``x`` and ``y``.

>>> affine = np.diag([-2.0, 2.0, 2.0, 1.0])  # 2 mm voxels, first axis towards the Left
>>> orientation(affine), voxel_spacing(affine)
(('L', 'A', 'S'), array([2., 2., 2.]))
>>> data, canonical = to_canonical(np.arange(8.0).reshape(2, 2, 2), affine)
>>> orientation(canonical)
('R', 'A', 'S')
"""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np
from nibabel import orientations

__all__ = ["load_nifti", "save_nifti", "voxel_spacing", "orientation", "to_canonical"]


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
def _check_affine(affine) -> np.ndarray:
    """A finite 4x4 affine with last row (0, 0, 0, 1) and an invertible 3x3 part."""
    a = np.asarray(affine)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"affine must hold real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.shape != (4, 4):
        raise ValueError(f"affine must be a 4x4 matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("affine contains NaN or infinite values")
    if not np.allclose(a[3], (0, 0, 0, 1)):
        raise ValueError(f"affine's last row must be (0, 0, 0, 1), got {a[3]}")
    if abs(np.linalg.det(a[:3, :3])) < 1e-12:
        raise ValueError("affine's 3x3 part is singular: voxels would have zero volume")
    return a


def _check_path(path, *, must_exist: bool) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    path = Path(path)
    if must_exist and not path.is_file():
        raise FileNotFoundError(f"no NIfTI file at {path}")
    if not must_exist:
        if not (path.name.endswith(".nii") or path.name.endswith(".nii.gz")):
            raise ValueError(f"path must end with .nii or .nii.gz, got {path.name!r}")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {path.parent} does not exist")
    return path


def _check_spatial(data, name: str = "data") -> np.ndarray:
    d = np.asanyarray(data)
    if d.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers or booleans, got dtype {d.dtype}")
    if not 3 <= d.ndim <= 7:
        hint = "; for one slice use data[..., None]" if d.ndim == 2 else ""
        raise ValueError(
            f"{name} must have 3 to 7 dimensions (I, J, K[, T, ...]), got shape {d.shape}{hint}"
        )
    return d


def _format_name(image) -> str:
    """What a file that nibabel loaded is, in words, e.g. "an Analyze 7.5 image (.hdr + .img)"."""
    kind = type(image).__name__
    if isinstance(image, nib.Nifti1Pair):  # also NIfTI-2 pairs; single files are accepted
        version = 2 if isinstance(image, nib.Nifti2Pair) else 1
        return f"a NIfTI-{version} pair (header .hdr + data .img, nibabel {kind})"
    if isinstance(image, nib.AnalyzeImage):  # nibabel's SPM variants included
        return (
            f"an Analyze 7.5 image (header .hdr + data .img, nibabel {kind}; it stores no "
            "reliable orientation: check left and right after converting)"
        )
    return f"a nibabel {kind}, not NIfTI"


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def load_nifti(path, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Read a NIfTI file as ``(data, affine)``.

    The stored values are scaled by the header's ``scl_slope``/``scl_inter`` (like DICOM's
    rescale) and returned as floats, whatever the integer type on disk
    (:meth:`nibabel.Nifti1Image.get_fdata`).

    Parameters
    ----------
    path : str or path
        A ``.nii`` or ``.nii.gz`` file (NIfTI-1 or NIfTI-2).
    dtype : numpy float dtype, default float32
        ``np.float32`` (half the memory, enough for images) or ``np.float64``.

    Returns
    -------
    data : ndarray, shape (I, J, K) or (I, J, K, T, ...), ``dtype``
    affine : ndarray, shape (4, 4), float64
        Voxel indices -> world (RAS+) mm: the sform if set, else the qform.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If ``dtype`` is not a float type, or the file is not a single-file NIfTI image: the
        message says what it is (e.g. an Analyze 7.5 image or a NIfTI pair, ``.hdr`` + ``.img``)
        and how to convert it.

    Examples
    --------
    >>> import os, nibabel
    >>> path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    >>> data, affine = load_nifti(path)
    >>> data.shape, data.dtype, orientation(affine)
    ((33, 41, 25), dtype('float32'), ('L', 'A', 'S'))
    """
    path = _check_path(path, must_exist=True)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {np.dtype(dtype)}")
    try:
        image = nib.load(path)
    except nib.filebasedimages.ImageFileError as error:
        raise ValueError(
            f"load_nifti: {path} is not a NIfTI image ({error}); load_nifti reads NIfTI-1 or "
            "NIfTI-2 files (.nii, .nii.gz)"
        ) from None
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ValueError(
            f"load_nifti: {path} is {_format_name(image)}; load_nifti reads single-file NIfTI-1 "
            "or NIfTI-2 images (.nii, .nii.gz): convert it with "
            "nibabel.save(nibabel.load(path), 'image.nii.gz')"
        )
    return image.get_fdata(dtype=dtype), np.asarray(image.affine, dtype=np.float64)


def save_nifti(data, affine, path) -> Path:
    """Write ``data`` with its ``affine`` to a NIfTI-1 file (gzipped if the name ends in .gz).

    The affine is stored as both sform and qform with code "scanner", spatial units mm (the
    header keeps it in float32 precision; a qform cannot hold shears, so for a sheared affine
    it is only the closest rotation and zoom, and readers use the exact sform). The
    dtype is kept, except booleans (saved as uint8), 64-bit integers (int32; they must fit) and
    float16 (float32). NaN is allowed in float data (e.g. outside a brain mask).

    Parameters
    ----------
    data : array_like, shape (I, J, K) or (I, J, K, T, ...)
    affine : array_like, shape (4, 4)
        Voxel indices -> world (RAS+) mm, last row (0, 0, 0, 1).
    path : str or path
        Ends with ``.nii`` or ``.nii.gz``; the folder must exist.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        ``data`` not 3D-7D or with 64-bit integers out of int32 range; an affine that is not
        4x4, has NaN/inf, a wrong last row or a singular 3x3 part; a bad file extension.
    TypeError
        ``data`` or ``affine`` does not hold real numbers.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mask.nii.gz")
    >>> _ = save_nifti(np.ones((4, 5, 6), bool), np.diag([1.5, 1.5, 3.0, 1.0]), path)
    >>> data, affine = load_nifti(path)
    >>> data.shape, voxel_spacing(affine)
    ((4, 5, 6), array([1.5, 1.5, 3. ]))
    """
    d = _check_spatial(data)
    a = _check_affine(affine)
    path = _check_path(path, must_exist=False)
    if d.dtype == bool:
        d = d.astype(np.uint8)
    elif d.dtype.kind in "iu" and d.dtype.itemsize == 8:
        info = np.iinfo(np.int32)
        if d.size and (d.min() < info.min or d.max() > info.max):
            raise ValueError("data has 64-bit integers outside the int32 range NIfTI readers use")
        d = d.astype(np.int32)
    elif d.dtype == np.float16:
        d = d.astype(np.float32)
    image = nib.Nifti1Image(np.asarray(d), a)
    image.set_sform(a, code="scanner")
    image.set_qform(a, code="scanner")
    image.header.set_xyzt_units(xyz="mm")
    nib.save(image, path)
    return path


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
def voxel_spacing(affine) -> np.ndarray:
    """Voxel size in mm along each array axis: the lengths of the columns of the 3x3 part.

    .. math:: \\Delta_j = \\lVert M_{:, j} \\rVert_2 = \\sqrt{M_{0j}^2 + M_{1j}^2 + M_{2j}^2}

    Parameters
    ----------
    affine : array_like, shape (4, 4)

    Returns
    -------
    ndarray, shape (3,)

    Raises
    ------
    ValueError, TypeError
        As :func:`save_nifti` for a bad affine.

    Examples
    --------
    >>> rotation = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> affine = np.eye(4); affine[:3, :3] = rotation @ np.diag([0.5, 0.8, 3.0])
    >>> voxel_spacing(affine)
    array([0.5, 0.8, 3. ])
    """
    a = _check_affine(affine)
    return np.sqrt((a[:3, :3] ** 2).sum(axis=0))


def orientation(affine) -> tuple[str, str, str]:
    """Axis codes: the world direction each array axis increases towards (nibabel's aff2axcodes).

    Each code is one of ``R``/``L`` (right/left), ``A``/``P`` (anterior/posterior),
    ``S``/``I`` (superior/inferior); for an oblique affine, the closest one.

    Parameters
    ----------
    affine : array_like, shape (4, 4)

    Returns
    -------
    tuple of 3 str, e.g. ``('R', 'A', 'S')``

    Raises
    ------
    ValueError, TypeError
        As :func:`save_nifti` for a bad affine.

    Examples
    --------
    >>> orientation(np.diag([1.0, -1.0, 1.0, 1.0]))
    ('R', 'P', 'S')
    """
    return tuple(str(code) for code in nib.aff2axcodes(_check_affine(affine)))


def to_canonical(data, affine) -> tuple[np.ndarray, np.ndarray]:
    """Reorder and flip the spatial axes so that they point Right, Anterior, Superior (RAS).

    Only flips and axis permutations are used (no resampling), so every voxel keeps its value
    and its world position: if voxel ``v`` moves to ``v'``, then ``A v = A' v'``. Axes beyond
    the third (time, channels) are left as they are.

    Parameters
    ----------
    data : array_like, shape (I, J, K) or (I, J, K, T, ...)
    affine : array_like, shape (4, 4)

    Returns
    -------
    data : ndarray
        The reoriented array (a view when possible), spatial axes permuted like the affine.
    affine : ndarray, shape (4, 4)
        Its new affine, with ``orientation(affine) == ('R', 'A', 'S')``.

    Raises
    ------
    ValueError, TypeError
        ``data`` not 3D-7D or not numeric; a bad affine.

    Examples
    --------
    >>> data = np.arange(6.0).reshape(2, 3, 1)
    >>> new_data, new_affine = to_canonical(data, np.diag([-1.0, 1.0, 1.0, 1.0]))
    >>> new_data[:, :, 0]
    array([[3., 4., 5.],
           [0., 1., 2.]])
    >>> new_affine[0]  # the first axis now runs towards R, starting at x = -1
    array([ 1.,  0.,  0., -1.])
    """
    d = _check_spatial(data)
    a = _check_affine(affine)
    current = orientations.io_orientation(a)
    target = orientations.axcodes2ornt(("R", "A", "S"))
    transform = orientations.ornt_transform(current, target)
    new_data = orientations.apply_orientation(d, transform)
    new_affine = a @ orientations.inv_ornt_aff(transform, d.shape[:3])
    return new_data, new_affine
