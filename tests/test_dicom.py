"""Tests of course.io.dicom: pydicom's sample files, pydicom reading back what we write."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pydicom
import pydicom.config
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, validate_file_meta
from pydicom.tag import Tag
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, MediaStorageDirectoryStorage

try:
    from pydicom.pixels import apply_color_lut, apply_modality_lut
except ImportError:  # pragma: no cover - pydicom 2.x
    from pydicom.pixel_data_handlers.util import apply_color_lut, apply_modality_lut

from course.io.dicom import WINDOW_PRESETS, describe, load_series, to_hu, window, write_series


def sample(name: str) -> str:
    path = get_testdata_file(name)
    if path is None:
        pytest.fail(f"pydicom's sample file {name} is missing from the installation")
    return path


@pytest.fixture(autouse=True)
def strict_pydicom(monkeypatch):
    """Make pydicom raise on any invalid value it writes or reads."""
    monkeypatch.setattr(pydicom.config.settings, "writing_validation_mode", pydicom.config.RAISE)
    monkeypatch.setattr(pydicom.config.settings, "reading_validation_mode", pydicom.config.RAISE)


def random_volume(shape=(7, 12, 10), seed=0):
    return np.random.default_rng(seed).uniform(-1024, 3000, shape)


def positions_along(normal, paths):
    return [np.dot(np.array(pydicom.dcmread(p).ImagePositionPatient, float), normal) for p in paths]


# ---------------------------------------------------------------------------------------------
# to_hu, window, describe on pydicom's real sample files
# ---------------------------------------------------------------------------------------------
def test_to_hu_ct_small_matches_rescale_formula():
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    expected = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(
        ds.RescaleIntercept
    )
    hu = to_hu(ds)
    assert hu.dtype == np.float32 and hu.shape == (128, 128)
    np.testing.assert_array_equal(hu, expected)
    assert float(ds.RescaleIntercept) == -1024  # the formula was really exercised
    np.testing.assert_array_equal(to_hu(sample("CT_small.dcm")), hu)  # a path works too


def test_to_hu_mr_small_without_rescale_tags_is_the_pixel_array():
    ds = pydicom.dcmread(sample("MR_small.dcm"))
    assert "RescaleSlope" not in ds and "RescaleIntercept" not in ds
    hu = to_hu(ds)
    assert hu.dtype == np.float32
    np.testing.assert_array_equal(hu, ds.pixel_array.astype(np.float64))


def test_to_hu_with_non_trivial_slope():
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-100"
    np.testing.assert_allclose(to_hu(ds), ds.pixel_array * 0.5 - 100, rtol=1e-6)


def test_to_hu_errors(tmp_path):
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    del ds.PixelData
    with pytest.raises(ValueError, match="PixelData"):
        to_hu(ds)
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    ds.SamplesPerPixel = 3
    with pytest.raises(ValueError, match="SamplesPerPixel"):
        to_hu(ds)
    with pytest.raises(TypeError, match="Dataset"):
        to_hu(np.zeros((4, 4)))
    with pytest.raises(FileNotFoundError, match="no DICOM file"):
        to_hu(tmp_path / "missing.dcm")


def test_window_presets_are_the_standard_values():
    assert WINDOW_PRESETS["lung"] == (-600, 1500)
    assert WINDOW_PRESETS["soft_tissue"] == (40, 400)
    assert WINDOW_PRESETS["mediastinum"] == (50, 350)
    assert WINDOW_PRESETS["bone"] == (400, 1800)
    assert WINDOW_PRESETS["brain"] == (40, 80)


@settings(max_examples=40, deadline=None)
@given(
    level=st.floats(-1000, 1000),
    width=st.floats(1, 4000),
    seed=st.integers(0, 2**16),
)
def test_window_is_the_clipped_linear_ramp(level, width, seed):
    x = np.random.default_rng(seed).uniform(-3000, 3000, (5, 7))
    expected = np.interp(x, [level - width / 2, level + width / 2], [0.0, 1.0])
    out = window(x, level, width)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("name", sorted(WINDOW_PRESETS))
def test_window_preset_names(name):
    level, width = WINDOW_PRESETS[name]
    hu = to_hu(pydicom.dcmread(sample("CT_small.dcm")))
    expected = np.interp(hu, [level - width / 2, level + width / 2], [0.0, 1.0])
    out = window(hu, preset=name)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_window_names_are_normalised_and_integers_accepted():
    x = np.array([-200, 40, 240], dtype=np.int16)
    np.testing.assert_allclose(window(x, preset="Soft tissue"), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(window(x, preset="soft-tissue"), [0.0, 0.5, 1.0])


def test_window_errors():
    x = np.zeros((3, 3))
    with pytest.raises(ValueError, match="not both"):
        window(x, 40, 400, preset="lung")
    with pytest.raises(ValueError, match="level and width"):
        window(x, 40)
    with pytest.raises(ValueError, match="unknown preset"):
        window(x, preset="kidney")
    for bad in (0, -10):
        with pytest.raises(ValueError, match="width must be positive"):
            window(x, 40, bad)
    with pytest.raises(ValueError, match="level must be finite"):
        window(x, float("nan"), 400)
    with pytest.raises(TypeError, match="width"):
        window(x, 40, "400")
    with pytest.raises(ValueError, match="NaN"):
        window(np.array([np.nan]), 40, 400)
    with pytest.raises(TypeError, match="image"):
        window(np.array(["a"]), 40, 400)


def test_describe_ct_and_mr_samples():
    ct = pydicom.dcmread(sample("CT_small.dcm"))
    info = describe(ct)
    assert info["modality"] == "CT" and info["sop_class"] == "CT Image Storage"
    assert (info["rows"], info["columns"]) == (int(ct.Rows), int(ct.Columns))
    assert info["bits_allocated"] == 16 and info["bits_stored"] == int(ct.BitsStored)
    assert info["samples_per_pixel"] == 1 and info["photometric_interpretation"] == "MONOCHROME2"
    assert info["pixel_spacing"] == tuple(float(v) for v in ct.PixelSpacing)
    assert info["slice_thickness"] == float(ct.SliceThickness)
    assert (info["rescale_slope"], info["rescale_intercept"]) == (1.0, -1024.0)
    assert info["manufacturer"] == str(ct.Manufacturer)
    assert info["has_pixel_data"] and info["has_preamble"]
    assert info["transfer_syntax"] == ct.file_meta.TransferSyntaxUID.name
    mr = describe(sample("MR_small.dcm"))
    assert mr["modality"] == "MR" and mr["rescale_slope"] is None
    assert mr["window_center"] == 600.0 and mr["number_of_frames"] is None


# ---------------------------------------------------------------------------------------------
# write_series / load_series round trips
# ---------------------------------------------------------------------------------------------
def scramble_names(paths):
    """Rename files so that name order is the reverse of slice order, and not numeric."""
    for i, path in enumerate(paths):
        path.rename(path.with_name(f"img_{chr(ord('z') - i)}{len(paths) - i}"))


def test_written_files_are_valid_ct_image_storage(tmp_path):
    volume = random_volume()
    paths = write_series(volume, (2.5, 0.8, 0.6), tmp_path / "series", seed=7)
    assert [p.name for p in paths] == [f"slice_{k:04d}.dcm" for k in range(7)]
    uids = set()
    for k, path in enumerate(paths):
        assert path.read_bytes()[128:132] == b"DICM"
        ds = pydicom.dcmread(path)
        validate_file_meta(ds.file_meta, enforce_standard=True)
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.SOPClassUID == CTImageStorage == ds.file_meta.MediaStorageSOPClassUID
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
            assert UID(ds[keyword].value).is_valid
        assert ds.Modality == "CT" and ds.InstanceNumber == k + 1
        assert (ds.Rows, ds.Columns) == (12, 10)
        assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (
            16,
            16,
            15,
            1,
        )
        assert ds.SamplesPerPixel == 1 and ds.PhotometricInterpretation == "MONOCHROME2"
        assert [float(v) for v in ds.PixelSpacing] == [0.8, 0.6]
        assert float(ds.SliceThickness) == 2.5
        assert [float(v) for v in ds.ImagePositionPatient] == [0.0, 0.0, 2.5 * k]
        assert float(ds.WindowCenter[0]) == 40 and float(ds.WindowWidth[1]) == 1500
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert np.abs(hu - volume[k]).max() <= 0.5
        uids.add((ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID))
        assert ds.SOPInstanceUID not in {u for t in uids for u in t}
    assert len(uids) == 1  # one study, one series, one frame of reference


def test_round_trip_with_scrambled_file_names(tmp_path):
    volume = random_volume(seed=1)
    paths = write_series(volume, (2.5, 0.8, 0.6), tmp_path, seed=1)
    scramble_names(paths)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0].startswith("img_t")  # name order is now the reverse slice order
    loaded, spacing = load_series(tmp_path)
    assert loaded.dtype == np.float32 and loaded.shape == volume.shape
    assert np.abs(loaded - volume).max() <= 0.5  # quantisation to whole HU
    np.testing.assert_allclose(spacing, (2.5, 0.8, 0.6), rtol=1e-12)


@pytest.mark.parametrize(
    "orientation",
    [
        (1, 0, 0, 0, np.cos(np.pi / 6), np.sin(np.pi / 6)),  # tilted 30 degrees about x
        (0, 1, 0, 0, 0, -1),  # sagittal
        (1, 0, 0, 0, -1, 0),  # normal along -z
        tuple(np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0][:, :2].T.ravel()),
    ],
)
def test_round_trip_oblique_orientations(tmp_path, orientation):
    volume = random_volume((6, 5, 4), seed=2)
    origin = (-120.5, 33.25, 7.0)
    paths = write_series(
        volume, (1.25, 0.7, 0.9), tmp_path, origin=origin, orientation=orientation, seed=2
    )
    row, col = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, col)
    first = np.array(pydicom.dcmread(paths[0]).ImagePositionPatient, float)
    np.testing.assert_allclose(first, origin)
    np.testing.assert_allclose(np.diff(positions_along(normal, paths)), 1.25, rtol=1e-9)
    scramble_names(paths)
    loaded, spacing = load_series(tmp_path)
    assert np.abs(loaded - volume).max() <= 0.5
    np.testing.assert_allclose(spacing, (1.25, 0.7, 0.9), rtol=1e-9)


def test_rescale_slope_controls_quantisation_and_range(tmp_path):
    volume = random_volume((3, 4, 4), seed=4) * 10
    volume[1, 2, 3] = 40000.0  # 40000 + 1024 does not fit in int16 with slope 1
    with pytest.raises(ValueError, match="int16"):
        write_series(volume, (1, 1, 1), tmp_path / "a")
    volume[1, 2, 3] = -40000.0
    with pytest.raises(ValueError, match="int16"):
        write_series(volume, (1, 1, 1), tmp_path / "a")
    volume[1, 2, 3] = 40000.0
    write_series(volume, (1, 1, 1), tmp_path / "b", rescale_slope=2.0, rescale_intercept=-1024)
    loaded, _ = load_series(tmp_path / "b")
    assert np.abs(loaded - volume).max() <= 1.0
    small = random_volume((3, 4, 4), seed=5) / 10
    write_series(small, (1, 1, 1), tmp_path / "c", rescale_slope=0.25, rescale_intercept=0)
    assert np.abs(load_series(tmp_path / "c")[0] - small).max() <= 0.125


def test_seed_makes_uids_deterministic(tmp_path):
    def uids(folder, seed):
        paths = write_series(np.zeros((2, 2, 2)), (1, 1, 1), tmp_path / folder, seed=seed)
        ds = [pydicom.dcmread(p) for p in paths]
        return [ds[0].StudyInstanceUID, ds[0].SeriesInstanceUID] + [d.SOPInstanceUID for d in ds]

    five = uids("a", 5)
    assert uids("b", 5) == five
    assert set(uids("c", 6)).isdisjoint(five)
    assert set(uids("d", None)).isdisjoint(uids("e", None))


def test_single_slice_series_uses_slice_thickness(tmp_path):
    shutil.copy(sample("CT_small.dcm"), tmp_path / "only")
    volume, spacing = load_series(tmp_path)
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    np.testing.assert_array_equal(volume[0], ds.pixel_array * 1.0 + float(ds.RescaleIntercept))
    assert spacing == (5.0, *(float(v) for v in ds.PixelSpacing))


# ---------------------------------------------------------------------------------------------
# load_series errors
# ---------------------------------------------------------------------------------------------
def edit(path, change):
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path)


def test_load_series_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_series(tmp_path / "nowhere")
    (tmp_path / "file.txt").write_text("hello")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        load_series(tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no DICOM files"):
        load_series(tmp_path / "empty")
    with pytest.raises(ValueError, match="no DICOM files.*file.txt"):
        load_series(tmp_path)
    with pytest.raises(ValueError, match="spacing_tolerance"):
        load_series(tmp_path, spacing_tolerance=0)


def test_load_series_skips_other_files(tmp_path):
    volume = random_volume((3, 4, 5))
    write_series(volume, (2, 1, 1), tmp_path, seed=0)
    (tmp_path / ".DS_Store").write_bytes(b"\0\1junk")
    (tmp_path / "subfolder").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # hidden files and folders are ignored silently
        assert load_series(tmp_path)[0].shape == (3, 4, 5)
    (tmp_path / "notes.txt").write_text("scan notes")
    with pytest.warns(UserWarning, match="skipped 1 non-DICOM file.*notes.txt"):
        loaded, _ = load_series(tmp_path)
    assert np.abs(loaded - volume).max() <= 0.5


def test_load_series_mixed_series(tmp_path):
    a = write_series(np.zeros((3, 4, 4)), (1, 1, 1), tmp_path / "a", seed=0)
    b = write_series(np.zeros((3, 4, 4)), (1, 1, 1), tmp_path / "b", seed=1)
    shutil.copy(b[0], a[0].with_name("extra.dcm"))
    with pytest.raises(ValueError, match="mixes 2 series"):
        load_series(tmp_path / "a")


def test_load_series_missing_pixel_data(tmp_path):
    paths = write_series(np.zeros((3, 4, 4)), (1, 1, 1), tmp_path, seed=0)

    def drop_pixels(ds):
        del ds.PixelData

    edit(paths[1], drop_pixels)
    with pytest.raises(ValueError, match="slice_0001.dcm: no pixel data"):
        load_series(tmp_path)


def test_load_series_missing_position(tmp_path):
    paths = write_series(np.zeros((3, 4, 4)), (1, 1, 1), tmp_path, seed=0)

    def drop_position(ds):
        del ds.ImagePositionPatient

    edit(paths[2], drop_position)
    with pytest.raises(ValueError, match="slice_0002.dcm: missing ImagePositionPatient"):
        load_series(tmp_path)


def test_load_series_gap(tmp_path):
    paths = write_series(np.zeros((5, 4, 4)), (2, 1, 1), tmp_path, seed=0)
    paths[2].unlink()
    with pytest.raises(ValueError, match="inconsistent slice spacing.*missing"):
        load_series(tmp_path)
    # a tolerance large enough accepts it
    assert load_series(tmp_path, spacing_tolerance=0.6)[1][0] == pytest.approx(8 / 3)


def test_load_series_duplicate_position(tmp_path):
    paths = write_series(np.zeros((3, 4, 4)), (2, 1, 1), tmp_path, seed=0)
    shutil.copy(paths[1], tmp_path / "copy.dcm")
    with pytest.raises(ValueError, match="same position"):
        load_series(tmp_path)


def test_load_series_different_orientation(tmp_path):
    paths = write_series(np.zeros((3, 4, 4)), (2, 1, 1), tmp_path, seed=0)

    def tilt(ds):
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0.8, 0.6]

    edit(paths[1], tilt)
    with pytest.raises(ValueError, match="different ImageOrientationPatient"):
        load_series(tmp_path)


def test_load_series_different_sizes_and_pixel_spacing(tmp_path):
    write_series(np.zeros((3, 4, 4)), (2, 1, 1), tmp_path / "a", seed=0)
    # same seed: the same SeriesInstanceUID, so only the size differs
    other = write_series(np.zeros((4, 4, 5)), (2, 1, 1), tmp_path / "b", seed=0)
    shutil.copy(other[3], tmp_path / "a" / "odd.dcm")
    with pytest.raises(ValueError, match="image sizes"):
        load_series(tmp_path / "a")
    other = write_series(np.zeros((4, 4, 4)), (2, 1, 0.5), tmp_path / "c", seed=0)
    (tmp_path / "a" / "odd.dcm").unlink()
    shutil.copy(other[3], tmp_path / "a" / "odd.dcm")
    with pytest.raises(ValueError, match="PixelSpacing"):
        load_series(tmp_path / "a")


def test_single_slice_without_thickness(tmp_path):
    paths = write_series(np.zeros((1, 4, 4)), (2, 1, 1), tmp_path, seed=0)

    def drop_thickness(ds):
        del ds.SliceThickness

    edit(paths[0], drop_thickness)
    with pytest.raises(ValueError, match="SliceThickness"):
        load_series(tmp_path)


# ---------------------------------------------------------------------------------------------
# Real files: a DICOMDIR, a modality lookup table, a palette, damaged files
# ---------------------------------------------------------------------------------------------
def real_series(folder):
    """Copy pydicom's 5-slice CT series (98892001/CT5N, 16x16 pixels) into ``folder``."""
    paths = sorted(get_testdata_files("**/CT5N/*"))
    assert len(paths) == 5, paths
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, folder)
    return paths


def test_load_series_skips_the_dicomdir_of_an_export(tmp_path):
    paths = real_series(tmp_path)
    shutil.copy(sample("DICOMDIR"), tmp_path)  # the index of the export these slices come from
    index = pydicom.dcmread(tmp_path / "DICOMDIR")
    assert index.file_meta.MediaStorageSOPClassUID == MediaStorageDirectoryStorage
    assert "SOPClassUID" not in index  # a DICOMDIR says what it is in its file meta only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # skipped silently
        volume, spacing = load_series(tmp_path)
    # reference: pydicom's modality LUT on each slice, sorted by z (the slices are axial)
    slices = [pydicom.dcmread(path) for path in paths]
    assert all(
        [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0] for ds in slices
    )
    slices.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    expected = np.stack([apply_modality_lut(ds.pixel_array, ds) for ds in slices])
    np.testing.assert_array_equal(volume, expected)
    z = [float(ds.ImagePositionPatient[2]) for ds in slices]
    assert spacing == pytest.approx((z[1] - z[0], *(float(v) for v in slices[0].PixelSpacing)))
    assert spacing[0] == pytest.approx(2.5)


def test_load_series_on_the_top_folder_of_an_export(tmp_path):
    real_series(tmp_path / "98892001" / "CT5N")
    shutil.copy(sample("DICOMDIR"), tmp_path)
    with pytest.raises(ValueError, match="DICOMDIR.*subfolders"):
        load_series(tmp_path)
    assert load_series(tmp_path / "98892001" / "CT5N")[0].shape == (5, 16, 16)


def with_lookup_table(tmp_path):
    """CT_small.dcm with a Modality LUT Sequence (0028,3000) instead of slope and intercept.

    pydicom's own example (mlut_18.dcm) is downloaded on demand, so it is not available offline.
    """
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    del ds.RescaleSlope, ds.RescaleIntercept
    first, table = 300, np.round(40 * np.sqrt(np.arange(1500))).astype(np.uint16)  # non-linear
    item = Dataset()
    item.add_new("LUTDescriptor", "US", [len(table), first, 16])  # entries, first input, bits
    item.add_new("LUTData", "US", table.tolist())
    item.ModalityLUTType = "HU"
    ds.ModalityLUTSequence = [item]
    ds.save_as(tmp_path / "lut.dcm")
    return tmp_path / "lut.dcm"


def test_to_hu_applies_a_modality_lut_sequence(tmp_path):
    ds = pydicom.dcmread(with_lookup_table(tmp_path))
    stored = ds.pixel_array
    assert stored.min() < 300 and stored.max() > 300 + 1500  # both ends of the table are used
    hu = to_hu(ds)
    assert hu.dtype == np.float32 and hu.shape == stored.shape
    np.testing.assert_array_equal(hu, apply_modality_lut(stored, ds))
    assert not np.array_equal(hu, stored)  # the stored values are not the answer
    np.testing.assert_array_equal(to_hu(tmp_path / "lut.dcm"), hu)


def test_to_hu_refuses_a_palette_colour_image():
    ds = pydicom.dcmread(sample("examples_palette.dcm"))
    # reference: pydicom reads palette indices, and its colour table turns them into RGB
    assert ds.pixel_array.shape == (350, 800)
    assert apply_color_lut(ds.pixel_array, ds).shape == (350, 800, 3)
    pattern = r"examples_palette\.dcm.*\(0028,0004\) 'PALETTE COLOR'.*apply_color_lut"
    with pytest.raises(ValueError, match=pattern):
        to_hu(ds)


def test_to_hu_multi_valued_rescale_slope(tmp_path):
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    ds.RescaleSlope = ["1", "2"]
    ds.save_as(tmp_path / "slope.dcm")
    assert pydicom.dcmread(tmp_path / "slope.dcm")["RescaleSlope"].VM == 2
    with pytest.raises(
        ValueError, match=r"to_hu: .*slope\.dcm has 2 values in RescaleSlope \(0028,1053\)"
    ):
        to_hu(tmp_path / "slope.dcm")


def test_unreadable_number_of_frames(tmp_path):
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    tag = Tag("NumberOfFrames")
    # stored as the file would hold it: the text "1A", which pydicom cannot convert to a number
    ds[tag] = RawDataElement(tag, "IS", 2, b"1A", 0, False, True)
    (tmp_path / "series").mkdir()
    ds.save_as(tmp_path / "series" / "frames.dcm")
    damaged = pydicom.dcmread(tmp_path / "series" / "frames.dcm")
    with pytest.raises(ValueError):  # reference: pydicom itself cannot read the value
        _ = damaged.NumberOfFrames
    for func in (to_hu, describe):
        with pytest.raises(
            ValueError, match=r"frames\.dcm has an unreadable NumberOfFrames \(0028,0008\).*'1A'"
        ):
            func(tmp_path / "series" / "frames.dcm")
    with pytest.raises(
        ValueError, match=r"load_series: .*frames\.dcm .*NumberOfFrames \(0028,0008\)"
    ):
        load_series(tmp_path / "series")


def test_to_hu_missing_transfer_syntax(tmp_path):
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    del ds.file_meta.TransferSyntaxUID
    ds.save_as(tmp_path / "no_syntax.dcm")
    for path in (sample("meta_missing_tsyntax.dcm"), tmp_path / "no_syntax.dcm"):
        ds = pydicom.dcmread(path)
        with pytest.raises(AttributeError, match="Transfer Syntax"):  # reference: pydicom
            _ = ds.pixel_array
        with pytest.raises(
            ValueError, match=r"to_hu: .*\.dcm has no TransferSyntaxUID \(0002,0010\)"
        ):
            to_hu(ds)


def test_to_hu_nested_private_sequence_without_bits_allocated(tmp_path):
    ds = pydicom.dcmread(sample("nested_priv_SQ.dcm"))  # PixelData and a private sequence only
    assert "PixelData" in ds and "BitsAllocated" not in ds
    with pytest.raises(AttributeError, match="Bits Allocated"):  # reference: pydicom
        _ = ds.pixel_array
    with pytest.raises(
        ValueError, match=r"to_hu: .*nested_priv_SQ\.dcm .*BitsAllocated \(0028,0100\)"
    ):
        to_hu(ds)
    ds = pydicom.dcmread(sample("CT_small.dcm"))  # the same damage on a real CT slice
    del ds.BitsAllocated
    ds.save_as(tmp_path / "bits.dcm")
    with pytest.raises(
        ValueError, match=r"bits\.dcm has PixelData but no BitsAllocated \(0028,0100\)"
    ):
        to_hu(tmp_path / "bits.dcm")


# ---------------------------------------------------------------------------------------------
# write_series errors
# ---------------------------------------------------------------------------------------------
def test_write_series_errors(tmp_path):
    good = np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match=r"\(Z, Y, X\).*volume\[None\]"):
        write_series(np.zeros((3, 3)), (1, 1, 1), tmp_path / "a")
    with pytest.raises(ValueError, match="NaN"):
        write_series(np.full((2, 3, 3), np.nan), (1, 1, 1), tmp_path / "a")
    with pytest.raises(TypeError, match="real numbers"):
        write_series(np.full((2, 3, 3), "x"), (1, 1, 1), tmp_path / "a")
    with pytest.raises(ValueError, match="non-empty"):
        write_series(np.zeros((0, 3, 3)), (1, 1, 1), tmp_path / "a")
    for bad in ((1, 1), (1, -1, 1), (1, np.nan, 1)):
        with pytest.raises(ValueError, match="spacing"):
            write_series(good, bad, tmp_path / "a")
    with pytest.raises(ValueError, match="origin"):
        write_series(good, (1, 1, 1), tmp_path / "a", origin=(0, 0))
    with pytest.raises(ValueError, match="orientation.*6"):
        write_series(good, (1, 1, 1), tmp_path / "a", orientation=(1, 0, 0))
    with pytest.raises(ValueError, match="unit vectors"):
        write_series(good, (1, 1, 1), tmp_path / "a", orientation=(2, 0, 0, 0, 1, 0))
    with pytest.raises(ValueError, match="orthogonal"):
        write_series(good, (1, 1, 1), tmp_path / "a", orientation=(1, 0, 0, 1, 0, 0))
    with pytest.raises(ValueError, match="rescale_slope"):
        write_series(good, (1, 1, 1), tmp_path / "a", rescale_slope=0)
    with pytest.raises(ValueError, match="unknown preset"):
        write_series(good, (1, 1, 1), tmp_path / "a", windows=("kidney",))
    write_series(good, (1, 1, 1), tmp_path / "a", windows="lung")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        write_series(good, (1, 1, 1), tmp_path / "a")
    assert len(list((tmp_path / "a").iterdir())) == 2  # nothing was overwritten
