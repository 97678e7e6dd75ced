"""DICOM: from stored pixel values to Hounsfield units, windows, series and a metadata summary.

A DICOM file is a 128-byte preamble, the magic ``DICM``, a *file meta* header (how the rest is
encoded: the transfer syntax) and a data set of tagged elements, e.g. ``(0028,0030)
PixelSpacing``. The pixels are stored as integers (``BitsAllocated``/``BitsStored`` bits,
``SamplesPerPixel`` channels); the *modality LUT* turns them into physical units, Hounsfield
units (HU) for CT:

.. math:: \\mathrm{HU} = \\mathrm{stored} \\times \\mathrm{RescaleSlope}
          + \\mathrm{RescaleIntercept}

Some files give a lookup table instead, the *Modality LUT Sequence* ``(0028,3000)``.

A CT scan is a *series*: one file per slice, all sharing a ``SeriesInstanceUID``. File names
carry no order; the slice order comes from the geometry, the position of each slice
(``ImagePositionPatient``) projected on the normal of the slice plane
(``ImageOrientationPatient``).

>>> import pydicom.data
>>> ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
>>> hu = to_hu(ds)
>>> hu.shape, hu.dtype
((128, 128), dtype('float32'))
>>> shown = window(hu, preset="soft_tissue")  # values in [0, 1] for display
>>> float(shown.min()), float(shown.max())
(0.0, 1.0)
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    generate_uid,
)
from pydicom.valuerep import DS

try:
    from pydicom.pixels import apply_modality_lut
except ImportError:  # pragma: no cover - pydicom 2.x
    from pydicom.pixel_data_handlers.util import apply_modality_lut

__all__ = [
    "WINDOW_PRESETS",
    "to_hu",
    "window",
    "load_series",
    "write_series",
    "describe",
]

#: Standard CT display windows as ``(level, width)`` in HU (Radiopaedia, "Windowing (CT)",
#: https://radiopaedia.org/articles/windowing-ct): a window maps ``level - width / 2`` to black
#: and ``level + width / 2`` to white.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "soft_tissue": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "liver": (30.0, 150.0),
    "stroke": (40.0, 40.0),
}

_PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3


# ---------------------------------------------------------------------------------------------
# Single images: HU, windows, metadata
# ---------------------------------------------------------------------------------------------
def _as_dataset(ds_or_path) -> Dataset:
    if isinstance(ds_or_path, (str, os.PathLike)):
        path = Path(ds_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"no DICOM file at {path}")
        return pydicom.dcmread(path)
    if not isinstance(ds_or_path, Dataset):
        raise TypeError(
            f"expected a pydicom Dataset or a file path, got {type(ds_or_path).__name__}"
        )
    return ds_or_path


def _source(ds: Dataset) -> str:
    """The file ``ds`` was read from, to name it in error messages."""
    filename = getattr(ds, "filename", None)
    return str(filename) if isinstance(filename, (str, os.PathLike)) else "the dataset"


def _tag(keyword: str) -> str:
    """A keyword with its tag for error messages: ``"RescaleSlope (0028,1053)"``."""
    return f"{keyword} {Tag(keyword)}"


def _get(ds: Dataset, keyword: str, caller: str):
    """``ds.get(keyword)``, with a clear ValueError when pydicom cannot parse the stored text."""
    try:
        return ds.get(keyword)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{caller}: {_source(ds)} has an unreadable {_tag(keyword)} ({error}); "
            "correct or delete that tag (e.g. with pydicom) and save the file again"
        ) from error


def _number(ds: Dataset, keyword: str, default: float, caller: str) -> float:
    """A numeric tag holding one value, as float; ``default`` when the tag is absent or empty."""
    value = _get(ds, keyword, caller)
    if value is None or value == "":
        return default
    if isinstance(value, MultiValue):
        shown = "\\".join(str(v) for v in value)  # DICOM writes multiple values as 1\2
        raise ValueError(
            f"{caller}: {_source(ds)} has {len(value)} values in {_tag(keyword)}: {shown}; "
            f"it must hold one number: keep the right one (ds.{keyword} = ds.{keyword}[0] "
            "if the first applies) and save the file again"
        )
    return float(value)


#: The Image Pixel module tags pydicom needs to decode ``PixelData``.
_PIXEL_TAGS = (
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
)


def _check_grayscale(ds: Dataset, caller: str) -> None:
    """Raise a ValueError naming the file and the tag unless ``ds`` is a decodable gray image."""
    source = _source(ds)
    if "PixelData" not in ds:
        raise ValueError(
            f"{caller}: {source} has no PixelData (7FE0,0010), it is not an image; "
            "pass an image file"
        )
    meta = getattr(ds, "file_meta", None)
    if meta is None or meta.get("TransferSyntaxUID") in (None, ""):
        raise ValueError(
            f"{caller}: {source} has no {_tag('TransferSyntaxUID')} in its file meta header, "
            "so the encoding of its pixels is unknown; set it if you know it (e.g. "
            "ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian) or export "
            "the file again"
        )
    missing = [_tag(keyword) for keyword in _PIXEL_TAGS if ds.get(keyword) in (None, "")]
    if missing:
        raise ValueError(
            f"{caller}: {source} has PixelData but no {', '.join(missing)}; these tags say "
            "how to decode the pixels: export the image again from the scanner or PACS"
        )
    frames = _get(ds, "NumberOfFrames", caller)
    if frames not in (None, "") and int(frames) < 1:
        raise ValueError(
            f"{caller}: {source} has {_tag('NumberOfFrames')} {frames}; it must be at least 1"
        )
    samples = int(ds.SamplesPerPixel)
    if samples != 1:
        raise ValueError(
            f"{caller}: {source} has {_tag('SamplesPerPixel')} {samples} (colour); "
            f"{caller} expects a grayscale image (SamplesPerPixel 1)"
        )
    photometric = str(ds.PhotometricInterpretation)
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(
            f"{caller}: {source} has {_tag('PhotometricInterpretation')} {photometric!r}; "
            f"{caller} expects a grayscale image (MONOCHROME1 or MONOCHROME2). A 'PALETTE "
            "COLOR' image stores indices into a colour table, not intensities: for display, "
            "pydicom.pixels.apply_color_lut(ds.pixel_array, ds) gives its RGB colours"
        )


def to_hu(ds) -> np.ndarray:
    """Stored pixel values -> physical values with the modality LUT (Hounsfield units for CT).

    .. math:: \\mathrm{HU} = \\mathrm{pixel\\_array} \\times \\mathrm{RescaleSlope}
              + \\mathrm{RescaleIntercept}

    A missing ``RescaleSlope``/``RescaleIntercept`` (usual for MR, whose values have no
    physical unit) means slope 1 and intercept 0. A file may instead give a lookup table, the
    Modality LUT Sequence (0028,3000): it is then applied with pydicom's
    ``apply_modality_lut`` (stored values below the table's first input take its first entry,
    values past its end its last entry).

    Parameters
    ----------
    ds : pydicom.Dataset or path
        A single-channel (grayscale) image.

    Returns
    -------
    ndarray, float32, shape (Rows, Columns) (or (frames, Rows, Columns) for multi-frame)

    Raises
    ------
    ValueError
        If the image cannot be decoded or is not grayscale: no ``PixelData``, no transfer
        syntax, a missing Image Pixel tag (``Rows``, ``BitsAllocated``, ...), an unreadable
        ``NumberOfFrames``, more than one sample per pixel (RGB), a ``PALETTE COLOR`` image, or
        a ``RescaleSlope``/``RescaleIntercept`` that is not one number. The message names the
        file and the tag.
    TypeError
        If ``ds`` is neither a Dataset nor a path.
    FileNotFoundError
        If a path does not exist.

    Examples
    --------
    >>> import pydicom.data
    >>> ds = pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    >>> float(ds.RescaleSlope), float(ds.RescaleIntercept)
    (1.0, -1024.0)
    >>> float(to_hu(ds)[0, 0]) == float(ds.pixel_array[0, 0]) - 1024
    True
    """
    ds = _as_dataset(ds)
    _check_grayscale(ds, "to_hu")
    if ds.get("ModalityLUTSequence"):  # a lookup table instead of slope and intercept
        return apply_modality_lut(ds.pixel_array, ds).astype(np.float32)
    slope = _number(ds, "RescaleSlope", 1.0, "to_hu")
    intercept = _number(ds, "RescaleIntercept", 0.0, "to_hu")
    pixels = ds.pixel_array.astype(np.float32)
    return pixels * np.float32(slope) + np.float32(intercept)


def _preset_key(name: str) -> str:
    """The :data:`WINDOW_PRESETS` key of ``name`` ("Soft tissue" -> "soft_tissue")."""
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    if key not in WINDOW_PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {sorted(WINDOW_PRESETS)}")
    return key


def window(image, level: float | None = None, width: float | None = None, *, preset=None):
    """Window level/width: a clipped linear ramp from ``[L - W/2, L + W/2]`` onto ``[0, 1]``.

    .. math:: \\mathrm{out} = \\mathrm{clip}\\left(\\frac{x - (L - W/2)}{W},\\; 0,\\; 1\\right)

    Values below ``L - W/2`` are black (0), above ``L + W/2`` white (1): the width sets the
    contrast, the level the brightness. (The DICOM standard's VOI LUT uses ``L - 0.5`` and
    ``W - 1`` for integer pixels: white starts 1 HU lower, and the two ramps differ by at most
    ``1 / (W - 1)`` of the output range, negligible for wide windows such as lung or soft
    tissue, a few grey levels of 256 for narrow ones such as brain or stroke.)

    Parameters
    ----------
    image : array_like of real numbers, any shape (HU for CT)
    level, width : float
        Window centre ``L`` and width ``W > 0`` in the units of ``image``.
    preset : str, optional
        A name from :data:`WINDOW_PRESETS` (``"lung"``, ``"soft_tissue"``, ``"bone"``,
        ``"brain"``, ...) instead of ``level`` and ``width``.

    Returns
    -------
    ndarray, the shape of ``image``, values in [0, 1]; float64 for float64 input, else float32

    Raises
    ------
    ValueError
        Both or neither of a preset and (level, width); an unknown preset; ``width <= 0``;
        non-finite level/width or NaN in ``image``.
    TypeError
        If ``image`` does not hold real numbers.

    Examples
    --------
    >>> window(np.array([-1000.0, -160.0, 40.0, 240.0, 1000.0]), preset="soft_tissue")
    array([0. , 0. , 0.5, 1. , 1. ])
    >>> window(np.array([-100, 0, 100]), level=0, width=100)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if preset is not None:
        if level is not None or width is not None:
            raise ValueError("give either preset or level and width, not both")
        level, width = WINDOW_PRESETS[_preset_key(preset)]
    elif level is None or width is None:
        raise ValueError("give level and width (or a preset name such as preset='lung')")
    for name, value in (("level", level), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    x = np.asarray(image)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"image must hold real numbers, got dtype {x.dtype}")
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    x = x.astype(dtype, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("image contains NaN or infinite values")
    low = dtype(level - width / 2)
    return np.clip((x - low) / dtype(width), 0, 1)


def describe(ds_or_path) -> dict:
    """A summary of the metadata that matters for deep learning (lecture 01).

    Parameters
    ----------
    ds_or_path : pydicom.Dataset or path

    Returns
    -------
    dict
        ``modality``, ``sop_class``, ``transfer_syntax``, ``has_preamble``, ``rows``,
        ``columns``, ``number_of_frames``, ``samples_per_pixel``, ``photometric_interpretation``,
        ``bits_allocated``, ``bits_stored``, ``high_bit``, ``pixel_representation`` (0 unsigned,
        1 signed), ``pixel_spacing`` (mm between rows, mm between columns), ``slice_thickness``
        (mm), ``rescale_slope``, ``rescale_intercept``, ``window_center``, ``window_width``,
        ``manufacturer``, ``has_pixel_data``. A tag absent from the file gives ``None``.

    Raises
    ------
    TypeError, FileNotFoundError
        As :func:`to_hu`.
    ValueError
        If pydicom cannot read the value of a tag (e.g. ``NumberOfFrames`` "1A"); the message
        names the file and the tag.

    Examples
    --------
    >>> import pydicom.data
    >>> info = describe(pydicom.data.get_testdata_file("MR_small.dcm"))
    >>> info["modality"], info["rows"], info["bits_stored"], info["pixel_spacing"]
    ('MR', 64, 16, (0.3125, 0.3125))
    >>> info["rescale_slope"] is None
    True
    """
    ds = _as_dataset(ds_or_path)
    meta = getattr(ds, "file_meta", None)

    def get(keyword, convert):
        value = _get(ds, keyword, "describe")
        if value is None or value == "":
            return None
        if isinstance(value, MultiValue):
            return tuple(convert(v) for v in value)
        return convert(value)

    def uid_name(uid):
        return None if uid is None else getattr(uid, "name", str(uid))

    return {
        "modality": get("Modality", str),
        "sop_class": uid_name(ds.get("SOPClassUID")),
        "transfer_syntax": uid_name(meta.get("TransferSyntaxUID") if meta else None),
        "has_preamble": getattr(ds, "preamble", None) is not None,
        "rows": get("Rows", int),
        "columns": get("Columns", int),
        "number_of_frames": get("NumberOfFrames", int),
        "samples_per_pixel": get("SamplesPerPixel", int),
        "photometric_interpretation": get("PhotometricInterpretation", str),
        "bits_allocated": get("BitsAllocated", int),
        "bits_stored": get("BitsStored", int),
        "high_bit": get("HighBit", int),
        "pixel_representation": get("PixelRepresentation", int),
        "pixel_spacing": get("PixelSpacing", float),
        "slice_thickness": get("SliceThickness", float),
        "rescale_slope": get("RescaleSlope", float),
        "rescale_intercept": get("RescaleIntercept", float),
        "window_center": get("WindowCenter", float),
        "window_width": get("WindowWidth", float),
        "manufacturer": get("Manufacturer", str),
        "has_pixel_data": "PixelData" in ds,
    }


# ---------------------------------------------------------------------------------------------
# Series: folder of slices -> volume
# ---------------------------------------------------------------------------------------------
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
    >>> folder = tempfile.mkdtemp()
    >>> paths = write_series(np.zeros((3, 4, 5)), (2.5, 0.7, 0.7), folder, seed=0)
    >>> volume, spacing = load_series(folder)
    >>> volume.shape, spacing
    ((3, 4, 5), (2.5, 0.7, 0.7))
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder: pass the folder holding the series")
    if not spacing_tolerance > 0:
        raise ValueError(f"spacing_tolerance must be positive, got {spacing_tolerance}")
    datasets = _read_folder(folder)

    series = Counter(str(ds.get("SeriesInstanceUID", "(none)")) for _, ds in datasets)
    if len(series) > 1:
        listing = "; ".join(f"{uid} ({n} files)" for uid, n in series.most_common())
        raise ValueError(
            f"{folder} mixes {len(series)} series (SeriesInstanceUID: {listing}): "
            "put each series in its own folder"
        )

    name0, ds0 = datasets[0]
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

    normal = np.cross(orientation0[:3], orientation0[3:])
    along_normal = np.array(positions) @ normal
    order = np.argsort(along_normal, kind="stable")
    along_normal = along_normal[order]
    names = [datasets[i][0] for i in order]

    if len(datasets) == 1:
        dz = _number(ds0, "SpacingBetweenSlices", math.nan, "load_series")
        if math.isnan(dz):
            dz = _number(ds0, "SliceThickness", math.nan, "load_series")
        if math.isnan(dz):
            raise ValueError(
                f"{name0}: a single slice needs SpacingBetweenSlices or SliceThickness for dz"
            )
    else:
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
    volume = np.stack([to_hu(datasets[i][1]) for i in order]).astype(np.float32, copy=False)
    return volume, (float(dz), float(spacing0[0]), float(spacing0[1]))


# ---------------------------------------------------------------------------------------------
# Writing a CT series
# ---------------------------------------------------------------------------------------------
def _ds(value: float) -> DS:
    """A decimal string of at most 16 characters (the DICOM limit)."""
    return DS(float(value), auto_format=True)


def _uid(seed: int | None, *parts) -> str:
    if seed is None:
        return generate_uid()
    return generate_uid(entropy_srcs=["dlmi-course", str(seed), *map(str, parts)])


def _check_orientation(orientation) -> tuple[np.ndarray, np.ndarray]:
    o = np.asarray(orientation, dtype=float)
    if o.shape != (6,) or not np.isfinite(o).all():
        raise ValueError(
            f"orientation must be 6 finite direction cosines (row x, y, z, column x, y, z), "
            f"got {orientation!r}"
        )
    row, col = o[:3], o[3:]
    if not (np.isclose(np.linalg.norm(row), 1, atol=1e-4)) or not np.isclose(
        np.linalg.norm(col), 1, atol=1e-4
    ):
        raise ValueError(f"orientation: row and column directions must be unit vectors, got {o}")
    if abs(row @ col) > 1e-4:
        raise ValueError(f"orientation: row and column directions must be orthogonal, got {o}")
    return row, col


def _check_volume(volume_hu) -> np.ndarray:
    """``volume_hu`` as a finite, non-empty float64 ``(Z, Y, X)`` array with ``Y, X <= 65535``."""
    volume = np.asarray(volume_hu)
    if volume.dtype.kind not in "biuf":
        raise TypeError(f"volume_hu must hold real numbers, got dtype {volume.dtype}")
    if volume.ndim != 3:
        hint = "; for one slice use volume[None]" if volume.ndim == 2 else ""
        raise ValueError(f"volume_hu must have shape (Z, Y, X) (3D), got {volume.shape}{hint}")
    if volume.size == 0 or max(volume.shape[1:]) > 65535:
        raise ValueError(f"volume_hu must be non-empty with Y, X <= 65535, got {volume.shape}")
    volume = volume.astype(np.float64)
    if not np.isfinite(volume).all():
        raise ValueError("volume_hu contains NaN or infinite values")
    return volume


def _check_geometry(spacing, origin, orientation) -> tuple[np.ndarray, ...]:
    """The checked ``(spacing, origin, row, col)`` of a series, as float arrays."""
    spacing = np.asarray(spacing, dtype=float)
    if spacing.shape != (3,) or not np.isfinite(spacing).all() or np.any(spacing <= 0):
        raise ValueError(
            f"spacing must be three positive numbers (dz, dy, dx) in mm, got {spacing}"
        )
    origin = np.asarray(origin, dtype=float)
    if origin.shape != (3,) or not np.isfinite(origin).all():
        raise ValueError(f"origin must be three finite numbers (x, y, z) in mm, got {origin}")
    row, col = _check_orientation(orientation)
    return spacing, origin, row, col


def _check_rescale(rescale_slope: float, rescale_intercept: float) -> None:
    """A positive, finite slope and a finite intercept."""
    if not (math.isfinite(rescale_slope) and rescale_slope > 0):
        raise ValueError(f"rescale_slope must be positive, got {rescale_slope}")
    if not math.isfinite(rescale_intercept):
        raise ValueError(f"rescale_intercept must be finite, got {rescale_intercept}")


def _window_presets(windows) -> tuple[list[str], list[tuple[float, float]]]:
    """The preset keys of ``windows`` (a name or a sequence of names) and their (level, width)."""
    if isinstance(windows, str):
        windows = (windows,)
    window_names = [_preset_key(name) for name in windows]
    presets = [WINDOW_PRESETS[name] for name in window_names]
    if not presets:
        raise ValueError("windows must name at least one preset")
    return window_names, presets


def _stored_values(volume: np.ndarray, rescale_slope: float, rescale_intercept: float):
    """The int16 (little-endian) stored values ``round((HU - b) / m)``; overflow is an error."""
    stored = np.round((volume - rescale_intercept) / rescale_slope)
    low, high = np.iinfo(np.int16).min, np.iinfo(np.int16).max
    if stored.min() < low or stored.max() > high:
        raise ValueError(
            f"volume_hu spans {volume.min():g}..{volume.max():g}, which with "
            f"rescale_slope={rescale_slope} and rescale_intercept={rescale_intercept} does not "
            f"fit in int16 ({low}..{high}): increase rescale_slope or change the intercept"
        )
    return stored.astype("<i2")


def _new_folder(folder) -> Path:
    """``folder`` created if missing; it must not be a file or a non-empty folder."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(
            f"{folder} is not an empty folder: write each series to its own new folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _ct_file(path: Path, sop_uid: str) -> FileDataset:
    """An empty CT Image Storage file: preamble, file meta (Explicit VR Little Endian), SOP."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    # SOP common
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    return ds


def _set_patient_series(ds: Dataset, uids: dict, patient_name, patient_id, description) -> None:
    """Patient, study, series, frame of reference and equipment (type 2 may be empty)."""
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = uids["study"]
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uids["series"]
    ds.SeriesNumber = 1
    ds.SeriesDescription = description
    ds.FrameOfReferenceUID = uids["frame"]
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "dlmi-course (synthetic)"


def _set_image_plane(ds: Dataset, k: int, position, row, col, spacing, normal) -> None:
    """General image and image plane of slice ``k``, whose first pixel is at ``position``."""
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.InstanceNumber = k + 1
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.ImageOrientationPatient = [_ds(v) for v in (*row, *col)]
    ds.PixelSpacing = [_ds(spacing[1]), _ds(spacing[2])]
    ds.SliceThickness = _ds(spacing[0])
    ds.SliceLocation = _ds(position @ normal)


def _set_pixels(ds: Dataset, stored: np.ndarray, slope, intercept, presets, window_names):
    """Image pixel (signed 16-bit grayscale), CT image (the rescale to HU) and VOI LUT."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = _ds(intercept)
    ds.RescaleSlope = _ds(slope)
    ds.RescaleType = "HU"
    ds.KVP = ""
    ds.AcquisitionNumber = 1
    ds.WindowCenter = [_ds(level) for level, _ in presets]
    ds.WindowWidth = [_ds(width) for _, width in presets]
    ds.WindowCenterWidthExplanation = [name.upper() for name in window_names]
    ds.add_new(0x7FE00010, "OW", stored.tobytes())


def _save(ds: FileDataset, path: Path) -> None:
    """Write ``ds`` as a DICOM file (preamble, ``DICM``, file meta, data set)."""
    if _PYDICOM_3:
        ds.save_as(path, enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.x
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)


def write_series(
    volume_hu,
    spacing,
    folder,
    *,
    origin=(0.0, 0.0, 0.0),
    orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    rescale_slope: float = 1.0,
    rescale_intercept: float = -1024.0,
    windows=("soft_tissue", "lung", "bone"),
    patient_name: str = "Anonymous^Course",
    patient_id: str = "DLMI-0001",
    series_description: str = "Synthetic CT (dlmi-course)",
    seed: int | None = None,
) -> list[Path]:
    """Write a volume in HU as a valid CT Image Storage series, one file per slice.

    Slice ``k`` (``volume_hu[k]``) is stored as signed 16-bit integers

    .. math:: \\mathrm{stored} = \\mathrm{round}\\left(\\frac{\\mathrm{HU} - b}{m}\\right),
              \\qquad \\mathbf p_k = \\mathbf o + k\\, d_z\\, (\\mathbf r \\times \\mathbf c)

    with slope ``m``, intercept ``b``, ``origin`` ``o`` and row/column directions ``r``, ``c``
    from ``orientation``. Each file has the file meta header (Explicit VR Little Endian), the
    patient/study/series/frame-of-reference/equipment/image-plane/image-pixel/CT-image/VOI-LUT
    attributes of the CT Image IOD, and UIDs from :func:`pydicom.uid.generate_uid`. Files are
    named ``slice_0000.dcm``, ... ; :func:`load_series` reads them back.

    Parameters
    ----------
    volume_hu : array_like of real numbers, shape (Z, Y, X)
    spacing : (dz, dy, dx)
        Slice spacing and pixel spacing (between rows, between columns) in mm, all positive.
    folder : str or path
        A new or empty folder (created if missing).
    origin : (x, y, z), default (0, 0, 0)
        ``ImagePositionPatient`` of the first slice, mm (centre of its first pixel).
    orientation : 6 floats, default axial (1, 0, 0, 0, 1, 0)
        ``ImageOrientationPatient``: unit, orthogonal row and column directions.
    rescale_slope, rescale_intercept : float, default 1 and -1024
        The stored integers must fit in int16 (-32768..32767).
    windows : sequence of preset names, default ("soft_tissue", "lung", "bone")
        Written as ``WindowCenter``/``WindowWidth`` (the first is the viewer's default).
    patient_name, patient_id, series_description : str
        Placeholders; never put real patient data in teaching files.
    seed : int, optional
        Makes every UID deterministic (same seed, same UIDs); otherwise UIDs are unique.

    Returns
    -------
    list of pathlib.Path
        The files, in slice order.

    Raises
    ------
    ValueError
        ``volume_hu`` not 3D, empty or with NaN; bad ``spacing``/``origin``/``orientation``;
        values that overflow int16 after rescaling; an unknown window preset; ``rescale_slope``
        not positive.
    TypeError
        ``volume_hu`` does not hold real numbers.
    FileExistsError
        ``folder`` is a file or a non-empty folder.

    Examples
    --------
    >>> import tempfile, pydicom
    >>> paths = write_series(np.full((2, 3, 3), 40.0), (5, 1, 1), tempfile.mkdtemp(), seed=1)
    >>> ds = pydicom.dcmread(paths[1])
    >>> ds.Modality, ds.SOPClassUID.name, [float(v) for v in ds.ImagePositionPatient]
    ('CT', 'CT Image Storage', [0.0, 0.0, 5.0])
    >>> float(to_hu(ds)[0, 0])
    40.0
    """
    volume = _check_volume(volume_hu)
    spacing, origin, row, col = _check_geometry(spacing, origin, orientation)
    _check_rescale(rescale_slope, rescale_intercept)
    window_names, presets = _window_presets(windows)
    stored = _stored_values(volume, rescale_slope, rescale_intercept)
    folder = _new_folder(folder)

    normal = np.cross(row, col)
    uids = {"study": _uid(seed, "study"), "series": _uid(seed, "series")}
    uids["frame"] = _uid(seed, "frame-of-reference")
    paths = []
    for k in range(volume.shape[0]):
        path = folder / f"slice_{k:04d}.dcm"
        ds = _ct_file(path, _uid(seed, "instance", k))
        _set_patient_series(ds, uids, patient_name, patient_id, series_description)
        position = origin + k * spacing[0] * normal
        _set_image_plane(ds, k, position, row, col, spacing, normal)
        _set_pixels(ds, stored[k], rescale_slope, rescale_intercept, presets, window_names)
        _save(ds, path)
        paths.append(path)
    return paths
