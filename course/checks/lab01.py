"""Visible checks of lab01_images: HU conversion, windowing, series loading, lesion volume.

Each function takes the student's answer (a function), calls it on inputs made here and raises
:class:`AssertionError` with a message that says what was given, what was expected and what came
out. The references are the course library (:mod:`course.io.dicom`) and pydicom's sample file
``CT_small.dcm``. The instructor's hidden tests run the same functions on other inputs.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from course.checks._common import as_array, as_float, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid
from course.datasets import sample_path
from course.io import dicom

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.io.dicom.to_hu": "q1",
    "course.io.dicom.window": "q2",
    "course.io.dicom.load_series": "q4",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 2, "q2": 1, "q3": 1, "q4": 3, "q5": 1, "q6": 1}

__all__ = [
    "q1_to_hu",
    "q2_window",
    "q3_to_display",
    "q4_load_series",
    "q5_lesion_volume_ml",
    "q6_measure_lesion",
]


# ---------------------------------------------------------------------------------------------
# Helpers that build test data (also used by the instructor's hidden tests)
# ---------------------------------------------------------------------------------------------
def make_dataset(stored, slope=None, intercept=None, signed: bool = True) -> Dataset:
    """An in-memory grayscale DICOM data set holding ``stored`` (2D integers) as 16-bit pixels.

    ``slope``/``intercept`` become ``RescaleSlope``/``RescaleIntercept`` (decimal strings); None
    leaves the tag out, as in MR images.
    """
    stored = np.asarray(stored)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality = "CT" if slope is not None else "MR"
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = stored.astype("<i2" if signed else "<u2").tobytes()
    if slope is not None:
        ds.RescaleSlope = dicom._ds(slope)
    if intercept is not None:
        ds.RescaleIntercept = dicom._ds(intercept)
    return ds


def write_shuffled_series(
    volume_hu, spacing, folder, seed: int, extension=".dcm", slice_thickness=None, **options
):
    """Write ``volume_hu`` with :func:`course.io.dicom.write_series`, then hide the slice order.

    The files get random names and shuffled ``InstanceNumber`` values, and ``SliceLocation``
    (optional in DICOM) is removed: only ``ImagePositionPatient`` and
    ``ImageOrientationPatient`` still tell where each slice lies. ``slice_thickness`` (mm)
    replaces ``SliceThickness``, which differs from the slice spacing when slices overlap.
    """
    folder = Path(folder)
    staging = folder.parent / (folder.name + "_staging")
    paths = dicom.write_series(volume_hu, spacing, staging, seed=seed, **options)
    rng = np.random.default_rng(seed)
    n = len(paths)
    numbers = rng.permutation(n)
    while n > 1 and np.array_equal(numbers, np.arange(n)):  # really shuffled
        numbers = rng.permutation(n)
    names = [f"IM{int(v):06d}" for v in rng.choice(10**6, size=n, replace=False)]
    folder.mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        ds.InstanceNumber = int(numbers[k]) + 1
        if "SliceLocation" in ds:
            del ds.SliceLocation
        if slice_thickness is not None:
            ds.SliceThickness = dicom._ds(slice_thickness)
        target = folder / (names[k] + extension)
        if dicom._PYDICOM_3:
            ds.save_as(target, enforce_file_format=True)
        else:  # pragma: no cover - pydicom 2.x
            ds.save_as(target, write_like_original=False)
    shutil.rmtree(staging)
    return folder


def lesion_volume(shape, center, radii, seed: int, lesion_hu=80, background_hu=30, noise=15):
    """A (Z, Y, X) volume of integer HU: tissue with texture and an ellipsoidal lesion."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape)
    inside = sum(((c - m) / r) ** 2 for c, m, r in zip((z, y, x), center, radii, strict=True))
    volume = np.where(inside <= 1, lesion_hu, background_hu) + rng.normal(0, noise, shape)
    return np.round(volume)


def _float_array(value, name: str, shape=None) -> np.ndarray:
    """The answer as float64, after checking that it holds real floating-point numbers."""
    raw = as_array(value, name, dtype=None)
    if raw.dtype.kind != "f":
        raise AssertionError(
            f"{name} should hold floating-point numbers, got dtype {raw.dtype} "
            "(return floats, e.g. with .astype(np.float64); in to_hu, convert before multiplying)"
        )
    return as_array(raw, name, shape=shape)


# ---------------------------------------------------------------------------------------------
# q1: stored values -> HU
# ---------------------------------------------------------------------------------------------
def check_to_hu(to_hu, ds_factory, expected, what: str) -> None:
    """Compare ``to_hu(ds)`` with ``expected`` (the data set is built fresh for the call)."""
    expected = np.asarray(expected, dtype=np.float64)
    result = call(to_hu, (ds_factory(),), f"to_hu({what})")
    actual = _float_array(result, f"to_hu({what})", shape=expected.shape)
    assert_close(actual, expected, f"to_hu({what})", rtol=1e-6, atol=1e-3)


def q1_to_hu(to_hu) -> None:
    """``to_hu(ds)``: ``pixel_array * RescaleSlope + RescaleIntercept`` as floats."""
    guard()
    path = sample_path("CT_small")
    reference = dicom.to_hu(pydicom.dcmread(path))
    check_to_hu(to_hu, lambda: pydicom.dcmread(path), reference, "CT_small.dcm (slope 1, -1024)")
    stored = np.array([[0, 1000, 2000], [-500, 24, 1024]])
    check_to_hu(
        to_hu,
        lambda: make_dataset(stored, slope=2.0, intercept=-1000.0),
        stored * 2.0 - 1000.0,
        "a 2x3 image with RescaleSlope 2 and RescaleIntercept -1000",
    )
    check_to_hu(
        to_hu,
        lambda: make_dataset(stored),
        stored.astype(float),
        "an image without RescaleSlope/RescaleIntercept (use slope 1, intercept 0)",
    )


# ---------------------------------------------------------------------------------------------
# q2: window level/width
# ---------------------------------------------------------------------------------------------
def reference_window(image, level, width) -> np.ndarray:
    """The clipped linear ramp, in float64."""
    low = level - width / 2.0
    return np.clip((np.asarray(image, dtype=np.float64) - low) / width, 0.0, 1.0)


def check_window(window, image, level, width, what: str) -> None:
    original = np.array(image, copy=True)
    given = np.array(image, copy=True)
    result = call(window, (given, level, width), f"window({what}, {level}, {width})")
    name = f"window({what}, level={level}, width={width})"
    actual = _float_array(result, name, shape=original.shape)
    assert_close(actual, reference_window(original, level, width), name, rtol=1e-5, atol=1e-6)
    if not np.array_equal(given, original):
        raise AssertionError(f"{name} modified its input image: work on a copy")


def q2_window(window) -> None:
    """``window(image, level, width)``: clip((x - (L - W/2)) / W, 0, 1)."""
    guard()
    ramp = np.array([-1000.0, -160.0, -60.0, 40.0, 140.0, 240.0, 1000.0])
    check_window(window, ramp, 40.0, 400.0, "[-1000, -160, -60, 40, 140, 240, 1000] HU")
    hu = dicom.to_hu(pydicom.dcmread(sample_path("CT_small"))).astype(np.float64)
    for preset in ("lung", "bone"):
        level, width = dicom.WINDOW_PRESETS[preset]
        check_window(window, hu, level, width, f"CT_small in HU ({preset} preset)")


# ---------------------------------------------------------------------------------------------
# q3: an 8-bit display image from a preset
# ---------------------------------------------------------------------------------------------
def check_to_display(to_display, hu, preset: str, what: str) -> None:
    level, width = dicom.WINDOW_PRESETS[preset]
    expected = np.round(255.0 * reference_window(hu, level, width))
    name = f"to_display({what}, {preset!r})"
    result = call(to_display, (np.array(hu, copy=True), preset), name)
    raw = as_array(result, name, dtype=None, shape=np.shape(hu))
    if raw.dtype != np.uint8:
        raise AssertionError(f"{name} should have dtype uint8 (0..255), got {raw.dtype}")
    actual = as_array(raw, name)
    difference = np.abs(actual - expected)
    if difference.max() > 1 or np.mean(difference > 0) > 0.01:
        worst = np.unravel_index(int(np.argmax(difference)), difference.shape)
        raise AssertionError(
            f"{name}: {int(np.sum(difference > 0))} of {difference.size} grey levels differ from "
            f"round(255 * window(...)); e.g. at {tuple(int(i) for i in worst)}: got "
            f"{actual[worst]:g}, expected {expected[worst]:g} (round before converting to uint8: "
            "astype truncates)"
        )


def check_unknown_preset(to_display, hu) -> None:
    try:
        to_display(np.array(hu, copy=True), "not-a-preset")
    except (KeyError, ValueError):
        return
    except Exception as error:
        raise AssertionError(
            "to_display(hu, 'not-a-preset') should raise KeyError or ValueError, raised "
            f"{type(error).__name__}: {error}"
        ) from None
    raise AssertionError("to_display(hu, 'not-a-preset') should raise KeyError or ValueError")


def q3_to_display(to_display) -> None:
    """``to_display(hu, preset)``: ``round(255 * window(hu, *WINDOW_PRESETS[preset]))`` as uint8."""
    guard()
    hu = dicom.to_hu(pydicom.dcmread(sample_path("CT_small"))).astype(np.float64)
    for preset in ("soft_tissue", "lung"):
        check_to_display(to_display, hu, preset, "CT_small in HU")
    check_unknown_preset(to_display, hu)


# ---------------------------------------------------------------------------------------------
# q4: a folder of slices -> (volume, spacing)
# ---------------------------------------------------------------------------------------------
def _unpack_series(result, name: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(
            f"{name} should return a tuple (volume, spacing), got {type(result).__name__}"
        )
    return result


def check_load_series(load_series, volume_hu, spacing, what: str, seed: int, **options) -> None:
    """Write ``volume_hu`` as a shuffled series, read it with the answer, compare."""
    expected = np.asarray(volume_hu, dtype=np.float64)
    name = f"load_series(<{what}>)"
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_shuffled_series(expected, spacing, Path(tmp) / "series", seed, **options)
        result = call(load_series, (str(folder),), name)
    volume, got_spacing = _unpack_series(result, name)
    volume = _float_array(volume, f"{name} volume", shape=expected.shape)
    got_spacing = as_array(got_spacing, f"{name} spacing", shape=(3,))
    for k in range(expected.shape[0]):
        if not np.allclose(volume[k], expected[k], rtol=0, atol=1e-3):
            matches = [j for j in range(expected.shape[0]) if np.allclose(volume[k], expected[j])]
            hint = (
                f"it is slice {matches[0]} of the series: sort by ImagePositionPatient "
                "projected on the slice normal, not by file name or InstanceNumber"
                if matches
                else "it matches no slice: did you convert to HU with slope and intercept?"
            )
            raise AssertionError(f"{name}: volume[{k}] is not the slice expected there; {hint}")
    assert_close(got_spacing, spacing, f"{name} spacing (dz, dy, dx) in mm", rtol=1e-4, atol=1e-6)


def q4_load_series(load_series) -> None:
    """``load_series(folder)``: slices sorted along the normal, in HU, and (dz, dy, dx)."""
    guard()
    rng = np.random.default_rng(2024)
    volume = np.round(rng.uniform(-1000, 1500, size=(6, 16, 20)))
    check_load_series(
        load_series, volume, (2.5, 0.8, 0.7), "6 axial slices, shuffled file names", seed=11
    )


# ---------------------------------------------------------------------------------------------
# q5: lesion volume in mL
# ---------------------------------------------------------------------------------------------
def check_lesion_volume(lesion_volume_ml, mask, spacing, what: str) -> None:
    mask = np.asarray(mask)
    expected = float(np.count_nonzero(mask)) * float(np.prod(spacing)) / 1000.0
    name = f"lesion_volume_ml({what}, spacing={tuple(float(s) for s in spacing)})"
    result = call(lesion_volume_ml, (mask.copy(), spacing), name)
    actual = as_float(result, name)
    if not np.isclose(actual, expected, rtol=1e-6, atol=1e-12):
        raise AssertionError(
            f"{name} = {actual:g}, expected {expected:g} mL ({np.count_nonzero(mask)} voxels of "
            f"{float(np.prod(spacing)):g} mm^3 each; 1 mL = 1000 mm^3)"
        )


def q5_lesion_volume_ml(lesion_volume_ml) -> None:
    """``lesion_volume_ml(mask, spacing)``: voxel count times dz dy dx, in mL."""
    guard()
    cube = np.zeros((12, 12, 12), dtype=bool)
    cube[1:11, 1:11, 1:11] = True
    check_lesion_volume(lesion_volume_ml, cube, (1.0, 1.0, 1.0), "a 10x10x10 cube of True")
    check_lesion_volume(lesion_volume_ml, cube, (2.5, 0.7, 0.7), "the same cube")


# ---------------------------------------------------------------------------------------------
# q6: from files to a volume in mL
# ---------------------------------------------------------------------------------------------
def check_measure_lesion(measure_lesion, volume_hu, spacing, low, high, what, seed, **options):
    volume_hu = np.asarray(volume_hu, dtype=np.float64)
    inside = (volume_hu >= low) & (volume_hu <= high)
    expected = float(inside.sum()) * float(np.prod(spacing)) / 1000.0
    name = f"measure_lesion(<{what}>, {low}, {high})"
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_shuffled_series(volume_hu, spacing, Path(tmp) / "series", seed, **options)
        result = call(measure_lesion, (str(folder), low, high), name)
    actual = as_float(result, name)
    if not np.isclose(actual, expected, rtol=1e-6, atol=1e-9):
        raise AssertionError(
            f"{name} = {actual:g} mL, expected {expected:g} mL ({int(inside.sum())} voxels with "
            f"{low} <= HU <= {high}, each {float(np.prod(spacing)):g} mm^3)"
        )


def q6_measure_lesion(measure_lesion) -> None:
    """``measure_lesion(folder, low, high)``: volume in mL of the voxels in [low, high] HU."""
    guard()
    volume = lesion_volume((10, 24, 24), (5, 11, 13), (3, 6, 5), seed=3)
    check_measure_lesion(
        measure_lesion, volume, (3.0, 0.75, 0.75), 60, 200, "a 10-slice series with a lesion", 5
    )


reporting(sys.modules[__name__])  # a check that passes says so, with its points
