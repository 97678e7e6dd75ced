"""Synthetic physics-based CT data and the dataset builder, against independent references."""

import nibabel
import numpy as np
import pydicom
import pytest
import torch
from PIL import Image
from skimage.transform import iradon, radon

from course.datasets import (
    SyntheticLesionCT,
    build_datasets,
    head_volume_with_lesion,
    synthetic_ct_slices,
)
from course.physics.ct import MU_WATER, mu_to_hu
from course.physics.phantoms import random_phantom


def test_noiseless_slices_match_skimage_reconstruction_of_the_same_phantoms():
    size = 48
    hu, masks = synthetic_ct_slices(3, size=size, photons=None, seed=5, n_angles=72)
    rng = np.random.default_rng(5)  # the same draws as the function: phantom by phantom
    theta = np.linspace(0, 180, 72, endpoint=False)
    for k in range(3):
        mu, mask = random_phantom(size, rng, n_lesions=int(rng.integers(1, 4)))
        np.testing.assert_array_equal(masks[k], mask)
        reference = iradon(radon(mu.astype(float), theta), theta, filter_name="ramp")
        inside = np.hypot(*(np.mgrid[:size, :size] - size // 2)) < size // 2 - 2
        np.testing.assert_allclose(hu[k][inside], mu_to_hu(reference)[inside], atol=1.0)


def test_lesions_differ_from_their_surroundings_and_body_is_soft_tissue():
    hu, masks = synthetic_ct_slices(20, size=64, photons=1e6, seed=1)
    body = hu > -300
    assert -150 < np.median(hu[body]) < 100
    assert masks.any(axis=(1, 2)).all()  # 1 to 3 lesions per slice by default
    # the lesion pixels are not distributed like the body: contrast is 25-80 HU
    contrast = [
        abs(h[m].mean() - np.median(h[body_k & ~m]))
        for h, m, body_k in zip(hu, masks, body, strict=True)
    ]
    assert np.median(contrast) > 10


def test_dose_controls_noise():
    yy, xx = np.mgrid[:64, :64] - 32
    flat = np.hypot(yy, xx) < 8  # the middle of the body
    noise = []
    for photons in (1e4, 1e6):
        hu, _ = synthetic_ct_slices(6, size=64, photons=photons, seed=3, n_lesions=0)
        noise.append(np.mean([h[flat].std() for h in hu]))
    assert noise[0] > 2 * noise[1]


def test_synthetic_slices_deterministic_by_seed():
    a, ma = synthetic_ct_slices(4, size=32, seed=7)
    b, mb = synthetic_ct_slices(4, size=32, seed=7)
    c, _ = synthetic_ct_slices(4, size=32, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)
    assert not np.array_equal(a, c)


def test_segmentation_dataset_items_and_window():
    ds = SyntheticLesionCT(6, size=32, seed=0)
    assert len(ds) == 6
    image, mask = ds[2]
    assert image.shape == mask.shape == (1, 32, 32)
    assert image.dtype == mask.dtype == torch.float32
    assert 0 <= float(image.min()) and float(image.max()) <= 1
    expected = np.clip((ds.hu[2] - (40 - 200)) / 400, 0, 1)
    np.testing.assert_allclose(image[0].numpy(), expected, atol=1e-6)
    assert set(np.unique(mask.numpy())) <= {0.0, 1.0}
    assert ds.labels.tolist() == [1] * 6


def test_classification_dataset_has_balanced_labels_and_empty_masks_for_healthy():
    ds = SyntheticLesionCT(10, size=32, seed=0, task="classification")
    labels = [int(ds[i][1]) for i in range(10)]
    assert labels == [0, 1] * 5
    assert ds[0][1].dtype == torch.int64
    assert ds.masks[0::2].sum() == 0 and (ds.masks[1::2].sum(dim=(1, 2, 3)) > 0).all()


def test_transform_is_applied_to_image_and_mask_together():
    def flip(image, mask, rng):
        return image[:, ::-1], mask[:, ::-1]

    plain = SyntheticLesionCT(3, size=32, seed=4)
    flipped = SyntheticLesionCT(3, size=32, seed=4, transform=flip)
    for i in range(3):
        torch.testing.assert_close(flipped[i][0], torch.flip(plain[i][0], dims=[2]))
        torch.testing.assert_close(flipped[i][1], torch.flip(plain[i][1], dims=[2]))


def test_dataset_bad_arguments():
    with pytest.raises(ValueError, match="task"):
        SyntheticLesionCT(4, task="detection")
    with pytest.raises(TypeError, match="transform"):
        SyntheticLesionCT(4, transform="flip")
    with pytest.raises(ValueError, match=r"n \(the number of slices\) must"):
        synthetic_ct_slices(0)
    with pytest.raises(ValueError, match="n_lesions"):
        synthetic_ct_slices(2, n_lesions=(3, 1))


@pytest.mark.parametrize(
    ("size", "n_lesions", "message"),
    [
        (16, 0, r"size \(pixels per side\) must be an int >= 20, got 16"),
        (24, (1, 3), r"24x24 slice holds at most max_lesions\(24\) = 2 lesions; use size >= 29"),
        (28, 3, r"use size >= 29"),
        (64, 11, "no slice holds more than 10"),
    ],
)
def test_slice_size_errors_name_the_size(size, n_lesions, message):
    # the error must point at `size` (pixels), never at `n` (the number of slices)
    with pytest.raises(ValueError, match=message):
        synthetic_ct_slices(2, size=size, n_lesions=n_lesions)
    if size >= 20 and n_lesions != 11:
        with pytest.raises(ValueError, match="size >= 29"):
            SyntheticLesionCT(2, size=size)


def test_smallest_size_for_three_lesions_works():
    hu, masks = synthetic_ct_slices(3, size=29, n_lesions=3, photons=None, seed=1)
    assert hu.shape == (3, 29, 29) and masks.any(axis=(1, 2)).all()


def test_head_volume_lesion_is_a_ball_inside_the_brain():
    hu, mask = head_volume_with_lesion(48, seed=2)
    assert hu.shape == mask.shape == (48, 48, 48)
    radius = 48 / 12
    assert abs(mask.sum() - 4 / 3 * np.pi * radius**3) < 0.35 * mask.sum()
    np.testing.assert_allclose(hu[mask], 100.0)  # brain 40 HU + 60 HU
    assert not np.array_equal(mask, head_volume_with_lesion(48, seed=3)[1])
    with pytest.raises(ValueError):
        head_volume_with_lesion(10)


def test_build_datasets_writes_files_that_independent_readers_open(tmp_path):
    folders = build_datasets(tmp_path, n_train=8, size=32, seed=0)
    with np.load(folders["synthetic_ct"] / "train.npz") as data:
        assert data["hu"].shape == (8, 32, 32) and data["mask"].dtype == np.uint8
    with np.load(folders["synthetic_ct_classification"] / "val.npz") as data:
        assert data["label"].tolist() == [0, 1]
    png = np.asarray(Image.open(folders["synthetic_ct"] / "png" / "test_00_mask.png"))
    assert png.shape == (32, 32) and set(np.unique(png)) <= {0, 255}

    hu, mask = head_volume_with_lesion(32, seed=0)
    files = sorted(folders["head_ct_series"].glob("*.dcm"))
    assert len(files) == 32
    slices = sorted((pydicom.dcmread(f) for f in files), key=lambda d: d.ImagePositionPatient[2])
    volume = np.stack(
        [d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in slices]
    )
    np.testing.assert_allclose(volume, hu, atol=0.5)
    image = nibabel.load(folders["head_ct_nifti"] / "volume.nii.gz")
    np.testing.assert_allclose(np.asarray(image.dataobj).transpose(2, 1, 0), hu, atol=1e-3)
    np.testing.assert_allclose(image.header.get_zooms(), (1.0, 1.0, 2.0))
    lesion = np.asarray(nibabel.load(folders["head_ct_nifti"] / "lesion.nii.gz").dataobj)
    np.testing.assert_array_equal(lesion.transpose(2, 1, 0).astype(bool), mask)
    assert (folders["samples"] / "CT_small.dcm").is_file()
    assert (folders["samples"] / "retina.png").is_file()


def test_water_reconstructs_to_zero_hu():
    assert mu_to_hu(np.float64(MU_WATER)) == pytest.approx(0.0)
