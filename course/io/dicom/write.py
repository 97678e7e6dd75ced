"""Writing a volume in HU as a valid CT Image Storage series, one DICOM file per slice.

Slice ``k`` (``volume_hu[k]``) is stored as signed 16-bit integers with the rescale of the CT
Image module, at the position of the Image Plane module:

.. math:: \\mathrm{stored} = \\mathrm{round}\\left(\\frac{\\mathrm{HU} - b}{m}\\right),
          \\qquad \\mathbf p_k = \\mathbf o + k\\, d_z\\, (\\mathbf r \\times \\mathbf c)

Each file is a 128-byte preamble, ``DICM``, the file meta header (Explicit VR Little Endian) and
a data set with the modules of the CT Image IOD, each set by one step of :func:`write_series`:
patient, study, series, frame of reference and equipment (:func:`_set_patient_series`), general
image and image plane (:func:`_set_image_plane`), image pixel, CT image and VOI LUT
(:func:`_set_pixels`). UIDs come from :func:`pydicom.uid.generate_uid`, the same for the same
``seed``.

Reference: DICOM PS3.3 Section A.3 (CT Image IOD), Section C.8.2.1 (CT Image Module), Section
C.7.6.2 (Image Plane Module) and Section C.11.2 (VOI LUT Module); PS3.10 Section 7 (DICOM File
Format); PS3.5 Section 9 (UIDs), https://www.dicomstandard.org/current.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

from course.io.dicom._common import _PYDICOM_3, _ds
from course.io.dicom.values import WINDOW_PRESETS, _preset_key


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
    >>> from course.io.dicom import to_hu
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
