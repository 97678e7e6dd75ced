"""Shared pieces of :mod:`course.io.dicom`: a data set from a path, a tag's value, clear errors.

A DICOM data set is a list of data elements, each a tag ``(gggg,eeee)``, a value representation
(VR) and a value (PS3.5 Section 7.1); the keyword of a tag (``RescaleSlope``) comes from the data
dictionary (PS3.6). Numbers are often stored as text, a *decimal string* (VR DS, at most 16
characters) or an *integer string* (IS), several values separated by a backslash (PS3.5
Sections 6.2 and 6.4). The helpers here read and write such values:

* :func:`_as_dataset` - a :class:`pydicom.Dataset` or the path of a file, as a data set;
* :func:`_get`, :func:`_number` - a tag's value, and the one number a tag holds; a value pydicom
  cannot parse, or several numbers where one belongs, raises a ValueError that names the file
  and the tag (``"to_hu: ... has 2 values in RescaleSlope (0028,1053): 1.0\\2.0; ..."``);
* :func:`_check_grayscale` - the tags of the Image Pixel module (PS3.3 Section C.7.6.3) that
  decoding ``PixelData`` into one grayscale sample per pixel needs;
* :func:`_ds` - a number as a decimal string of at most 16 characters, for writing;
* :data:`_PYDICOM_3` - whether pydicom is version 3 or later (its API for saving changed).

Reference: DICOM PS3.5 (Data Structures and Encoding), PS3.6 (Data Dictionary) and PS3.3
Section C.7.6.3 (Image Pixel Module), https://www.dicomstandard.org/current.
"""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pydicom.valuerep import DS

_PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3


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


def _ds(value: float) -> DS:
    """A decimal string of at most 16 characters (the DICOM limit)."""
    return DS(float(value), auto_format=True)
