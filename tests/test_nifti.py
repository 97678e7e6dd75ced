"""Tests of course.io.nifti: nibabel's sample files and nibabel reading back what we write."""

from __future__ import annotations

import itertools
import os
import re

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.io.nifti import load_nifti, orientation, save_nifti, to_canonical, voxel_spacing

NIBABEL_DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")


def sample(name: str) -> str:
    path = os.path.join(NIBABEL_DATA, name)
    if not os.path.isfile(path):
        pytest.fail(f"nibabel's sample file {name} is missing from {NIBABEL_DATA}")
    return path


def world(affine, ijk):
    """World coordinates of voxel indices ijk (shape (n, 3))."""
    return ijk @ affine[:3, :3].T + affine[:3, 3]


# ---------------------------------------------------------------------------------------------
# nibabel's sample files
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["anatomical.nii", "example4d.nii.gz"])
def test_load_sample_files_like_nibabel(name):
    image = nib.load(sample(name))
    data, affine = load_nifti(sample(name))
    assert data.dtype == np.float32 and data.shape == image.shape
    np.testing.assert_array_equal(data, np.asanyarray(image.dataobj).astype(np.float32))
    np.testing.assert_array_equal(affine, image.affine)
    np.testing.assert_allclose(voxel_spacing(affine), image.header.get_zooms()[:3], rtol=1e-6)
    assert orientation(affine) == nib.aff2axcodes(image.affine) == ("L", "A", "S")
    data64, _ = load_nifti(sample(name), dtype=np.float64)
    assert data64.dtype == np.float64


def test_4d_sample_has_a_time_axis_kept_by_to_canonical():
    data, affine = load_nifti(sample("example4d.nii.gz"))
    assert data.ndim == 4 and data.shape[3] == 2
    new_data, new_affine = to_canonical(data, affine)
    reference = nib.as_closest_canonical(nib.load(sample("example4d.nii.gz")))
    assert new_data.shape == reference.shape
    np.testing.assert_array_equal(new_data, reference.get_fdata(dtype=np.float32))
    np.testing.assert_allclose(new_affine, reference.affine, atol=1e-9)
    assert orientation(new_affine) == ("R", "A", "S")


def test_canonical_of_anatomical_flips_the_first_axis():
    data, affine = load_nifti(sample("anatomical.nii"))
    new_data, new_affine = to_canonical(data, affine)
    np.testing.assert_array_equal(new_data, data[::-1])  # LAS -> RAS: flip the L axis
    expected = affine.copy()
    expected[:3, 0] *= -1
    expected[:3, 3] = world(affine, np.array([[data.shape[0] - 1, 0, 0]]))[0]
    np.testing.assert_allclose(new_affine, expected)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.int16, np.uint8, np.int64, bool, np.float16]
)
def test_save_load_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(0)
    data = (rng.random((4, 5, 6, 2)) * 100).astype(dtype)
    affine = np.array(
        [[-0.9, 0.1, 0, 10.5], [0.05, 1.1, 0.2, -3], [0, -0.1, 2.5, 7], [0, 0, 0, 1]], float
    )
    path = save_nifti(data, affine, tmp_path / f"image{suffix}")
    image = nib.load(path)
    assert image.header["sform_code"] == 1 and image.header["qform_code"] == 1
    np.testing.assert_allclose(image.affine, affine, rtol=1e-6, atol=1e-6)  # float32 header
    np.testing.assert_array_equal(np.asanyarray(image.dataobj), data.astype(image.get_data_dtype()))
    loaded, loaded_affine = load_nifti(path)
    np.testing.assert_allclose(loaded, data.astype(np.float32))
    np.testing.assert_allclose(loaded_affine, affine, rtol=1e-6, atol=1e-6)
    if dtype in (np.float32, np.float64, np.int16, np.uint8):
        assert image.get_data_dtype() == np.dtype(dtype)


def test_save_keeps_nan_in_float_data(tmp_path):
    data = np.ones((2, 2, 2), np.float32)
    data[0, 0, 0] = np.nan
    loaded, _ = load_nifti(save_nifti(data, np.eye(4), tmp_path / "nan.nii"))
    assert np.isnan(loaded[0, 0, 0]) and np.isfinite(loaded[1:]).all()


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
signed_permutations = [
    (perm, signs)
    for perm in itertools.permutations(range(3))
    for signs in itertools.product((-1, 1), repeat=3)
]


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(signed_permutations),
    zooms=st.tuples(*[st.floats(0.3, 4.0)] * 3),
    angle=st.floats(-0.3, 0.3),
    seed=st.integers(0, 2**16),
    four_d=st.booleans(),
)
def test_to_canonical_preserves_every_voxel_position(case, zooms, angle, seed, four_d):
    perm, signs = case
    # array axis j points along world axis perm[j] with sign signs[j], slightly rotated
    m = np.zeros((3, 3))
    for j in range(3):
        m[perm[j], j] = signs[j] * zooms[j]
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ m
    affine[:3, 3] = np.random.default_rng(seed).uniform(-50, 50, 3)
    shape = (3, 4, 5, 2) if four_d else (3, 4, 5)
    data = np.random.default_rng(seed).random(shape)

    new_data, new_affine = to_canonical(data, affine)
    assert orientation(new_affine) == ("R", "A", "S")
    reference = nib.as_closest_canonical(nib.Nifti1Image(data, affine))
    np.testing.assert_array_equal(new_data, reference.get_fdata())
    np.testing.assert_allclose(new_affine, reference.affine, atol=1e-9)
    # every voxel keeps its value at the same world position
    ijk = np.array(list(np.ndindex(*shape[:3])))
    positions = world(affine, ijk)
    new_ijk = np.rint((positions - new_affine[:3, 3]) @ np.linalg.inv(new_affine[:3, :3]).T).astype(
        int
    )
    np.testing.assert_allclose(world(new_affine, new_ijk), positions, atol=1e-9)
    np.testing.assert_array_equal(new_data[tuple(new_ijk.T)], data[tuple(ijk.T)])
    np.testing.assert_allclose(sorted(voxel_spacing(new_affine)), sorted(zooms))


@settings(max_examples=30, deadline=None)
@given(zooms=st.tuples(*[st.floats(0.1, 10.0)] * 3), seed=st.integers(0, 2**16))
def test_voxel_spacing_matches_nibabel_zooms(zooms, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))
    affine = np.eye(4)
    affine[:3, :3] = q @ np.diag(zooms)
    image = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), affine)
    np.testing.assert_allclose(voxel_spacing(affine), image.header.get_zooms(), rtol=1e-5)
    np.testing.assert_allclose(voxel_spacing(affine), zooms, rtol=1e-10)


def test_orientation_codes():
    assert orientation(np.eye(4)) == ("R", "A", "S")
    assert orientation(np.diag([-1, -1, 1, 1])) == ("L", "P", "S")  # DICOM's LPS
    swapped = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]])
    assert orientation(swapped) == ("A", "I", "R")


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no NIfTI file"):
        load_nifti(tmp_path / "missing.nii.gz")
    (tmp_path / "text.nii").write_text("not an image")
    with pytest.raises(ValueError, match="not a NIfTI"):
        load_nifti(tmp_path / "text.nii")
    with pytest.raises(ValueError, match="dtype"):
        load_nifti(sample("anatomical.nii"), dtype=np.int16)
    with pytest.raises(TypeError, match="path"):
        load_nifti(3)


@pytest.mark.parametrize(
    "name, what",
    [
        ("analyze.hdr", "an Analyze 7.5 image"),
        ("nifti1.hdr", "a NIfTI-1 pair"),
        ("nifti2.hdr", "a NIfTI-2 pair"),
        ("test.mgz", "a nibabel MGHImage, not NIfTI"),
    ],
)
def test_load_says_what_a_sample_file_is(name, what):
    kind = type(nib.load(sample(name))).__name__  # reference: the class nibabel picks
    assert not isinstance(nib.load(sample(name)), nib.Nifti1Image)
    with pytest.raises(ValueError) as error:
        load_nifti(sample(name))
    message = str(error.value)
    assert message.startswith(f"load_nifti: {sample(name)} is {what}")
    assert kind in message and ".nii.gz" in message


@pytest.mark.parametrize(
    "image_class, what",
    [
        (nib.AnalyzeImage, "an Analyze 7.5 image (header .hdr + data .img"),
        (nib.Nifti1Pair, "a NIfTI-1 pair (header .hdr + data .img"),
        (nib.Nifti2Pair, "a NIfTI-2 pair (header .hdr + data .img"),
    ],
)
def test_load_refuses_hdr_img_pairs_and_the_advice_works(tmp_path, image_class, what):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    nib.save(image_class(data, np.diag([2.0, 3.0, 4.0, 1.0])), tmp_path / "scan.hdr")
    assert (tmp_path / "scan.img").is_file()
    for name in ("scan.hdr", "scan.img"):  # either file of the pair
        with pytest.raises(ValueError, match=rf"scan\.{name[-3:]} is {re.escape(what)}"):
            load_nifti(tmp_path / name)
    # the conversion the message suggests gives what nibabel reads from the pair
    path = tmp_path / "scan.hdr"
    nib.save(nib.load(path), tmp_path / "image.nii.gz")
    loaded, affine = load_nifti(tmp_path / "image.nii.gz")
    np.testing.assert_array_equal(loaded, nib.load(path).get_fdata())
    np.testing.assert_array_equal(affine, nib.load(path).affine)


@pytest.mark.parametrize(
    "func", [voxel_spacing, orientation, lambda a: to_canonical(np.zeros((2, 2, 2)), a)]
)
def test_bad_affines(func):
    with pytest.raises(ValueError, match="4x4"):
        func(np.eye(3))
    bad = np.eye(4)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        func(bad)
    with pytest.raises(ValueError, match="last row"):
        func(np.ones((4, 4)))
    with pytest.raises(ValueError, match="singular"):
        func(np.diag([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="affine"):
        func(np.full((4, 4), "a"))


def test_save_errors(tmp_path):
    good = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="4x4"):
        save_nifti(good, np.eye(3), tmp_path / "a.nii")
    with pytest.raises(ValueError, match="NaN"):
        save_nifti(good, np.full((4, 4), np.nan), tmp_path / "a.nii")
    with pytest.raises(ValueError, match=r"3 to 7 dimensions.*data\[\.\.\., None\]"):
        save_nifti(np.zeros((2, 3)), np.eye(4), tmp_path / "a.nii")
    with pytest.raises(TypeError, match="data"):
        save_nifti(np.zeros((2, 2, 2), complex), np.eye(4), tmp_path / "a.nii")
    with pytest.raises(ValueError, match="int32"):
        save_nifti(np.full((2, 2, 2), 2**40), np.eye(4), tmp_path / "a.nii")
    with pytest.raises(ValueError, match=r"\.nii or \.nii\.gz"):
        save_nifti(good, np.eye(4), tmp_path / "a.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_nifti(good, np.eye(4), tmp_path / "no" / "a.nii")
    with pytest.raises(ValueError, match="3 to 7 dimensions"):
        to_canonical(np.zeros(5), np.eye(4))
