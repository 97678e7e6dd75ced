"""The checks of lab01_images (visible and hidden) accept correct answers and reject wrong ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from cheats import AlwaysEqual, cases, hidden_checks

from course.checks import lab01 as visible
from course.io import dicom

hidden = hidden_checks("lab01")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- independent correct answers -------------------------------------------------------------
def to_hu(ds):
    slope = float(ds.get("RescaleSlope", 1.0))
    intercept = float(ds.get("RescaleIntercept", 0.0))
    return ds.pixel_array.astype(np.float64) * slope + intercept


def window(image, level, width):
    return np.clip((np.asarray(image, dtype=np.float64) - (level - width / 2)) / width, 0, 1)


def to_display(hu, preset):
    level, width = dicom.WINDOW_PRESETS[preset]
    return np.round(255 * window(hu, level, width)).astype(np.uint8)


def _datasets(folder):
    return [pydicom.dcmread(path) for path in Path(folder).iterdir()]


def load_series(folder):
    datasets = _datasets(folder)
    orientation = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    along = np.array([np.array(ds.ImagePositionPatient, dtype=float) @ normal for ds in datasets])
    order = np.argsort(along)
    volume = np.stack([to_hu(datasets[i]) for i in order])
    dz = (along.max() - along.min()) / (len(datasets) - 1)
    return volume, (float(dz), *(float(v) for v in datasets[0].PixelSpacing))


def lesion_volume_ml(mask, spacing):
    return float(np.count_nonzero(mask)) * float(np.prod(spacing)) / 1000.0


def measure_lesion(folder, low, high):
    volume, spacing = load_series(folder)
    return lesion_volume_ml((volume >= low) & (volume <= high), spacing)


def measure_lesion_library(folder, low, high):
    volume, spacing = dicom.load_series(folder)
    return lesion_volume_ml((volume >= low) & (volume <= high), spacing)


CORRECT = {
    "q1_to_hu": [to_hu, dicom.to_hu, lambda ds: to_hu(ds).astype(np.float32)],
    "q2_window": [window, dicom.window],
    "q3_to_display": [to_display],
    "q4_load_series": [load_series, dicom.load_series, lambda f: list(load_series(f))],
    "q5_lesion_volume_ml": [lesion_volume_ml, lambda m, s: np.float32(lesion_volume_ml(m, s))],
    "q6_measure_lesion": [measure_lesion, measure_lesion_library],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(CORRECT))
def test_correct_answers_pass(module, name, answer):
    getattr(module, name)(answer)


# --- typical wrong answers -------------------------------------------------------------------


def hu_integer(ds):  # keeps the integer dtype
    return ds.pixel_array * int(ds.get("RescaleSlope", 1)) + int(ds.get("RescaleIntercept", 0))


def hu_without_slope(ds):
    return ds.pixel_array.astype(float) + float(ds.get("RescaleIntercept", 0.0))


def hu_requires_tags(ds):
    return ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def hu_int16_arithmetic(ds):  # overflows for large values
    slope = np.int16(float(ds.get("RescaleSlope", 1.0)))
    intercept = np.int16(float(ds.get("RescaleIntercept", 0.0)))
    return (ds.pixel_array * slope + intercept).astype(float)


def window_in_place(image, level, width):
    image -= level - width / 2
    image /= width
    np.clip(image, 0, 1, out=image)
    return image


def window_no_clip(image, level, width):
    return (np.asarray(image, dtype=float) - (level - width / 2)) / width


def window_level_as_low(image, level, width):
    return np.clip((np.asarray(image, dtype=float) - level) / width, 0, 1)


def display_truncated(hu, preset):
    level, width = dicom.WINDOW_PRESETS[preset]
    return (255 * window(hu, level, width)).astype(np.uint8)


def display_float(hu, preset):
    level, width = dicom.WINDOW_PRESETS[preset]
    return np.round(255 * window(hu, level, width))


def display_default_preset(hu, preset):
    level, width = dicom.WINDOW_PRESETS.get(preset, (40.0, 400.0))
    return np.round(255 * window(hu, level, width)).astype(np.uint8)


def _load(folder, key, spacing_from=None):
    datasets = sorted(_datasets(folder), key=key)
    volume = np.stack([to_hu(ds) for ds in datasets])
    dz = float(datasets[0].SliceThickness) if spacing_from is None else spacing_from(datasets)
    return volume, (dz, *(float(v) for v in datasets[0].PixelSpacing))


def load_by_instance_number(folder):
    return _load(folder, key=lambda ds: int(ds.InstanceNumber))


def load_by_file_name(folder):
    paths = sorted(Path(folder).iterdir())
    volume = np.stack([to_hu(pydicom.dcmread(p)) for p in paths])
    ds = pydicom.dcmread(paths[0])
    return volume, (float(ds.SliceThickness), *(float(v) for v in ds.PixelSpacing))


def load_by_z(folder):
    def gap(datasets):
        z = [float(ds.ImagePositionPatient[2]) for ds in datasets]
        return abs(z[1] - z[0])

    return _load(folder, key=lambda ds: float(ds.ImagePositionPatient[2]), spacing_from=gap)


def load_with_slice_thickness(folder):
    volume, spacing = load_series(folder)
    ds = _datasets(folder)[0]
    return volume, (float(ds.SliceThickness), *spacing[1:])


def load_swapped_pixel_spacing(folder):
    volume, (dz, dy, dx) = load_series(folder)
    return volume, (dz, dx, dy)


def load_only_dcm_files(folder):
    paths = list(Path(folder).glob("*.dcm"))
    datasets = [pydicom.dcmread(p) for p in paths]
    orientation = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    datasets.sort(key=lambda ds: np.array(ds.ImagePositionPatient, dtype=float) @ normal)
    along = [np.array(ds.ImagePositionPatient, dtype=float) @ normal for ds in datasets]
    dz = (along[-1] - along[0]) / (len(datasets) - 1)
    spacing = (float(dz), *(float(v) for v in datasets[0].PixelSpacing))
    return np.stack([to_hu(ds) for ds in datasets]), spacing


def load_stored_values(folder):
    volume, spacing = load_series(folder)
    return volume + 1024.0, spacing


def load_as_dict(folder):
    volume, spacing = load_series(folder)
    return {"volume": volume, "spacing": spacing}


def volume_mm3(mask, spacing):
    return float(np.count_nonzero(mask)) * float(np.prod(spacing))


def volume_sum_of_spacing(mask, spacing):
    return float(np.count_nonzero(mask)) * float(np.sum(spacing)) / 1000.0


def volume_in_plane_only(mask, spacing):
    return float(np.count_nonzero(mask)) * spacing[1] * spacing[2] / 1000.0


def measure_exclusive(folder, low, high):
    volume, spacing = load_series(folder)
    return lesion_volume_ml((volume > low) & (volume < high), spacing)


def measure_voxels(folder, low, high):
    volume, _ = load_series(folder)
    return float(np.count_nonzero((volume >= low) & (volume <= high)))


WRONG = {
    "q1_to_hu": [
        hu_integer,
        hu_without_slope,
        lambda ds: ds.pixel_array.astype(float),
        lambda ds: AlwaysEqual(),
        lambda ds: None,
        lambda ds: to_hu(ds).T,
    ],
    "q2_window": [
        window_in_place,
        window_no_clip,
        window_level_as_low,
        lambda image, level, width: AlwaysEqual(),
        lambda image, level, width: window(image, level, width).astype(int),
    ],
    "q3_to_display": [display_truncated, display_float, lambda hu, preset: AlwaysEqual()],
    "q4_load_series": [
        load_by_instance_number,
        load_by_file_name,
        load_stored_values,
        load_as_dict,
        lambda folder: AlwaysEqual(),
    ],
    "q5_lesion_volume_ml": [
        volume_mm3,
        volume_sum_of_spacing,
        volume_in_plane_only,
        lambda mask, spacing: AlwaysEqual(),
        lambda mask, spacing: "1.0",
    ],
    "q6_measure_lesion": [measure_voxels, lambda folder, low, high: AlwaysEqual()],
}

HIDDEN_ONLY = {  # pass the visible examples by luck, fail on the hidden inputs
    "q1_to_hu": [hu_requires_tags, hu_int16_arithmetic],
    "q3_to_display": [display_default_preset],
    "q4_load_series": [
        load_by_z,
        load_with_slice_thickness,
        load_swapped_pixel_spacing,
        load_only_dcm_files,
    ],
    "q6_measure_lesion": [measure_exclusive],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(WRONG))
def test_wrong_answers_fail(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


@pytest.mark.parametrize("name, answer", cases(HIDDEN_ONLY))
def test_hidden_tests_catch_what_the_visible_ones_miss(name, answer):
    with pytest.raises(AssertionError):
        getattr(hidden, name)(answer)


def test_hu_without_tags_fails_visible_check():
    with pytest.raises(AssertionError, match="without RescaleSlope"):
        visible.q1_to_hu(hu_requires_tags)


def test_messages_teach():
    with pytest.raises(AssertionError, match="sort by ImagePositionPatient"):
        visible.q4_load_series(load_by_instance_number)
    with pytest.raises(AssertionError, match="astype truncates"):
        visible.q3_to_display(display_truncated)
    with pytest.raises(AssertionError, match="1 mL = 1000 mm"):
        visible.q5_lesion_volume_ml(volume_mm3)
    with pytest.raises(AssertionError, match="floating-point"):
        visible.q1_to_hu(hu_integer)


def test_not_implemented_is_not_swallowed():
    def stub(*args):
        raise NotImplementedError()

    for name in CORRECT:
        with pytest.raises(NotImplementedError):
            getattr(visible, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_detected(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q2_window(window)


def test_helpers_write_a_shuffled_series(tmp_path):
    volume = np.arange(3 * 4 * 5, dtype=float).reshape(3, 4, 5)
    folder = visible.write_shuffled_series(volume, (2.0, 1.0, 1.0), tmp_path / "s", seed=0)
    datasets = _datasets(folder)
    assert len(datasets) == 3 and all("SliceLocation" not in ds for ds in datasets)
    assert sorted(int(ds.InstanceNumber) for ds in datasets) == [1, 2, 3]
    loaded, spacing = dicom.load_series(folder)
    np.testing.assert_array_equal(loaded, volume)
    assert spacing == pytest.approx((2.0, 1.0, 1.0))
    assert not (tmp_path / "s_staging").exists()
