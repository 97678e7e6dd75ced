"""A series: a folder of single-slice DICOM files -> one volume sorted by position, its spacing.

A CT or MR scan is a *series*: one file per slice, all sharing a ``SeriesInstanceUID``. File
names carry no order; each slice ``i`` is placed by its position along the normal of the slice
plane,

.. math:: \\mathbf n = \\mathbf r \\times \\mathbf c, \\qquad s_i = \\mathbf p_i \\cdot \\mathbf n

with ``r`` and ``c`` the row and column direction cosines (``ImageOrientationPatient``) and
``p_i`` the centre of the slice's first pixel (``ImagePositionPatient``), in mm. :func:`load_series`
reads the folder (skipping a ``DICOMDIR``, the index of a CD or USB export), checks that it holds
one series whose slices share orientation, size and pixel spacing, sorts them by ``s_i``, checks
that the gaps are even and returns the volume ``(Z, Y, X)`` in HU with its spacing
``(dz, dy, dx)`` in mm.

Reference: DICOM PS3.3 Section C.7.6.2 (Image Plane Module; Section C.7.6.2.1.1, Image Position
and Image Orientation), Section A.3 (CT Image IOD) and Annex F (Basic Directory IOD, the
DICOMDIR), https://www.dicomstandard.org/current.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import MediaStorageDirectoryStorage

from course.io.dicom._common import _get, _number
from course.io.dicom.values import to_hu


def _read_folder(folder: Path) -> list[tuple[str, Dataset]]:
    """Every DICOM file in ``folder`` but a DICOMDIR as ``(name, dataset)``; warns about others."""
    datasets, skipped, dicomdir = [], [], False
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):  # .DS_Store and friends
            continue
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError:
            skipped.append(path.name)
            continue
        # A DICOMDIR (the index of a CD or USB export) says what it is in its file meta only
        if ds.file_meta.get("MediaStorageSOPClassUID") == MediaStorageDirectoryStorage:
            dicomdir = True
            continue
        datasets.append((path.name, ds))
    if skipped:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        message = f"skipped {len(skipped)} non-DICOM file(s) in {folder}: {shown}"
        if not datasets:
            raise ValueError(f"no DICOM files found in {folder} ({message})")
        warnings.warn(message, stacklevel=3)
    if not datasets and dicomdir:
        raise ValueError(
            f"no DICOM files found in {folder} but a DICOMDIR (the index of an export): the "
            "images are in its subfolders; pass the folder that holds one series"
        )
    if not datasets:
        raise ValueError(f"no DICOM files found in {folder}: the folder is empty")
    return datasets


def _require(name: str, ds: Dataset, keyword: str, tag: str):
    if keyword not in ds or ds.get(keyword) in (None, ""):
        raise ValueError(f"{name}: missing {keyword} {tag}, needed to place the slice")
    return ds.get(keyword)


def _check_same(name0: str, name: str, what: str, a, b, atol: float) -> None:
    if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=0, atol=atol):
        raise ValueError(
            f"{name} and {name0} have different {what} ({b} vs {a}): "
            "all slices of a series must share it"
        )


def _check_folder(folder, spacing_tolerance: float) -> Path:
    """``folder`` as a Path; it must be an existing folder, and ``spacing_tolerance`` positive."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder: pass the folder holding the series")
    if not spacing_tolerance > 0:
        raise ValueError(f"spacing_tolerance must be positive, got {spacing_tolerance}")
    return folder


def _check_one_series(folder: Path, datasets: list[tuple[str, Dataset]]) -> None:
    """Raise a ValueError that lists the series unless all ``datasets`` share one."""
    series = Counter(str(ds.get("SeriesInstanceUID", "(none)")) for _, ds in datasets)
    if len(series) > 1:
        listing = "; ".join(f"{uid} ({n} files)" for uid, n in series.most_common())
        raise ValueError(
            f"{folder} mixes {len(series)} series (SeriesInstanceUID: {listing}): "
            "put each series in its own folder"
        )


def _slice_geometry(datasets: list[tuple[str, Dataset]]) -> tuple[list, np.ndarray, np.ndarray]:
    """Each slice's ``ImagePositionPatient``, and the orientation and spacing they all share.

    Every slice must be a single-frame grayscale image with pixel data, a position, an
    orientation and a pixel spacing; orientation, size and spacing must equal the first slice's.
    """
    name0 = datasets[0][0]
    positions, orientation0, shape0, spacing0 = [], None, None, None
    for name, ds in datasets:
        if "PixelData" not in ds:
            raise ValueError(f"{name}: no pixel data (PixelData, tag (7FE0,0010))")
        frames = _get(ds, "NumberOfFrames", "load_series")
        if int(frames or 1) != 1 or int(ds.get("SamplesPerPixel", 1)) != 1:
            raise ValueError(f"{name}: load_series reads single-frame grayscale slices only")
        position = np.array(_require(name, ds, "ImagePositionPatient", "(0020,0032)"), float)
        orientation = np.array(_require(name, ds, "ImageOrientationPatient", "(0020,0037)"), float)
        pixel_spacing = np.array(_require(name, ds, "PixelSpacing", "(0028,0030)"), float)
        shape = (int(ds.Rows), int(ds.Columns))
        if orientation0 is None:
            orientation0, shape0, spacing0 = orientation, shape, pixel_spacing
        _check_same(name0, name, "ImageOrientationPatient", orientation0, orientation, 1e-4)
        _check_same(name0, name, "image sizes (Rows, Columns)", shape0, shape, 0)
        _check_same(name0, name, "PixelSpacing", spacing0, pixel_spacing, 1e-4)
        positions.append(position)
    return positions, orientation0, spacing0


def _along_normal(positions: list[np.ndarray], orientation: np.ndarray) -> tuple[np.ndarray, ...]:
    """The slice order by ``s_i = p_i . (r x c)``, and the sorted ``s_i`` in mm."""
    normal = np.cross(orientation[:3], orientation[3:])
    along_normal = np.array(positions) @ normal
    order = np.argsort(along_normal, kind="stable")
    along_normal = along_normal[order]
    return order, along_normal


def _single_slice_dz(name0: str, ds0: Dataset) -> float:
    """``dz`` of a lone slice: ``SpacingBetweenSlices``, else ``SliceThickness``."""
    dz = _number(ds0, "SpacingBetweenSlices", math.nan, "load_series")
    if math.isnan(dz):
        dz = _number(ds0, "SliceThickness", math.nan, "load_series")
    if math.isnan(dz):
        raise ValueError(
            f"{name0}: a single slice needs SpacingBetweenSlices or SliceThickness for dz"
        )
    return dz


def _mean_gap(along_normal: np.ndarray, names: list[str], spacing_tolerance: float) -> float:
    """``dz``, the mean gap between neighbouring slices; the gaps must be positive and even."""
    gaps = np.diff(along_normal)
    if np.any(gaps < 1e-3):
        i = int(np.argmin(gaps))
        raise ValueError(
            f"{names[i]} and {names[i + 1]} are at the same position "
            f"({along_normal[i]:.4g} mm along the slice normal): duplicate slices?"
        )
    dz = (along_normal[-1] - along_normal[0]) / (len(gaps))
    deviation = np.abs(gaps - dz) / dz
    if np.any(deviation > spacing_tolerance):
        i = int(np.argmax(deviation))
        raise ValueError(
            f"inconsistent slice spacing: {gaps[i]:.4g} mm between {names[i]} and "
            f"{names[i + 1]}, {dz:.4g} mm on average (gaps range {gaps.min():.4g}-"
            f"{gaps.max():.4g} mm): is a slice missing?"
        )
    return dz


def load_series(folder, *, spacing_tolerance: float = 0.01) -> tuple[np.ndarray, tuple]:
    """Read a folder of single-slice DICOM files as one volume, sorted by position.

    Each slice ``i`` is placed by its position along the slice normal

    .. math:: \\mathbf n = \\mathbf r \\times \\mathbf c, \\qquad
              s_i = \\mathbf p_i \\cdot \\mathbf n

    where ``r`` and ``c`` are the row and column direction cosines
    (``ImageOrientationPatient``) and ``p_i`` is ``ImagePositionPatient``. Slices are sorted by
    ``s_i`` (never by file name or ``InstanceNumber``), and the slice spacing is
    ``dz = (s_max - s_min) / (n - 1)``. Each slice is converted with :func:`to_hu`.

    Parameters
    ----------
    folder : str or path
        Holds the files of **one** series (any names, any order). Hidden files such as
        ``.DS_Store`` and a ``DICOMDIR`` (the index file of a CD or USB export, SOP class Media
        Storage Directory Storage) are ignored, other non-DICOM files are skipped with a warning.
    spacing_tolerance : float, default 0.01
        Largest allowed relative deviation of a gap between neighbouring slices from ``dz``.

    Returns
    -------
    volume : ndarray, float32, shape (Z, Y, X)
        In HU for CT; ``Z`` increases along the slice normal, ``Y`` are rows, ``X`` columns.
    spacing : tuple of float
        ``(dz, dy, dx)`` in mm; ``(dy, dx)`` is ``PixelSpacing`` (between rows, between
        columns). A single slice takes ``dz`` from ``SpacingBetweenSlices`` or
        ``SliceThickness``.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``folder`` does not exist or is not a folder.
    ValueError
        No DICOM files; more than one ``SeriesInstanceUID``; a file without pixel data or
        without ``ImagePositionPatient``/``ImageOrientationPatient``/``PixelSpacing``;
        different orientations, sizes or pixel spacings; two slices at the same position;
        inconsistent spacing (a missing slice); multi-frame or colour images; a slice that
        :func:`to_hu` refuses.

    Examples
    --------
    >>> import tempfile
    >>> from course.io.dicom import write_series
    >>> folder = tempfile.mkdtemp()
    >>> paths = write_series(np.zeros((3, 4, 5)), (2.5, 0.7, 0.7), folder, seed=0)
    >>> volume, spacing = load_series(folder)
    >>> volume.shape, spacing
    ((3, 4, 5), (2.5, 0.7, 0.7))
    """
    folder = _check_folder(folder, spacing_tolerance)
    datasets = _read_folder(folder)  # a direct call: its warning points at load_series' caller
    _check_one_series(folder, datasets)
    positions, orientation0, spacing0 = _slice_geometry(datasets)
    order, along_normal = _along_normal(positions, orientation0)
    names = [datasets[i][0] for i in order]
    if len(datasets) == 1:
        dz = _single_slice_dz(*datasets[0])
    else:
        dz = _mean_gap(along_normal, names, spacing_tolerance)
    volume = np.stack([to_hu(datasets[i][1]) for i in order]).astype(np.float32, copy=False)
    return volume, (float(dz), float(spacing0[0]), float(spacing0[1]))
