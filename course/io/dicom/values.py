"""One DICOM image: stored integers -> Hounsfield units, display windows, a metadata summary.

The pixels are stored as integers (``BitsAllocated``/``BitsStored`` bits, one sample per pixel
for a grayscale image); the *modality LUT* turns them into physical units, Hounsfield units (HU)
for CT (:func:`to_hu`):

.. math:: \\mathrm{HU} = \\mathrm{stored} \\times \\mathrm{RescaleSlope}
          + \\mathrm{RescaleIntercept}

or, where the file gives one, a lookup table, the *Modality LUT Sequence* ``(0028,3000)``. A
display *window* of level ``L`` and width ``W`` maps ``[L - W/2, L + W/2]`` onto ``[0, 1]``
(:func:`window`; standard CT windows in :data:`WINDOW_PRESETS`), and :func:`describe` gathers the
tags that matter for deep learning. An image is ``(Rows, Columns)``, a multi-frame image
``(frames, Rows, Columns)``.

Reference: DICOM PS3.3 Section C.11.1 (Modality LUT Module), Section C.11.2 (VOI LUT Module;
Section C.11.2.1.2 gives the window function) and Section C.7.6.3 (Image Pixel Module),
https://www.dicomstandard.org/current; the presets from Radiopaedia, "Windowing (CT)".
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.multival import MultiValue

from course.io.dicom._common import _as_dataset, _check_grayscale, _get, _number

try:
    from pydicom.pixels import apply_modality_lut
except ImportError:  # pragma: no cover - pydicom 2.x
    from pydicom.pixel_data_handlers.util import apply_modality_lut


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
