"""Sample files, MedMNIST loading and splits."""

import nibabel
import numpy as np
import pydicom
import pytest
import torch
from sklearn.model_selection import KFold

from course.datasets import (
    SAMPLE_FILES,
    SKIMAGE_IMAGES,
    ArrayDataset,
    kfold_indices,
    load_medmnist_npz,
    load_sample_image,
    sample_path,
    train_val_test_split,
)


def test_sample_paths_are_the_packages_own_files():
    assert sample_path("CT_small") == type(sample_path("CT_small"))(
        pydicom.data.get_testdata_file("CT_small.dcm", download=False)
    )
    for name in SAMPLE_FILES:
        assert sample_path(name).is_file()
    ds = pydicom.dcmread(sample_path("CT_small"))
    assert ds.Modality == "CT" and (ds.Rows, ds.Columns) == (128, 128)
    assert nibabel.load(sample_path("example4d")).ndim == 4
    assert nibabel.load(sample_path("anatomical")).shape == (33, 41, 25)


def test_sample_path_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="CT_small"):
        sample_path("CT_large")


@pytest.mark.parametrize("name", SKIMAGE_IMAGES)
def test_skimage_images_load_offline(name):
    image = load_sample_image(name)
    assert image.ndim in (2, 3) and image.size > 1000


def test_load_sample_image_unknown_name():
    with pytest.raises(ValueError, match="retina"):
        load_sample_image("brain")


def make_medmnist(path, rgb=False, multilabel=False):
    rng = np.random.default_rng(0)
    shape = (5, 28, 28, 3) if rgb else (5, 28, 28)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, size=shape, dtype=np.uint8)
        labels = rng.integers(0, 2, size=(5, 4 if multilabel else 1))
        arrays[f"{split}_labels"] = labels
    np.savez(path, **arrays)
    return arrays


@pytest.mark.parametrize("rgb", [False, True])
def test_load_medmnist_npz(tmp_path, rgb):
    arrays = make_medmnist(tmp_path / "mnist.npz", rgb=rgb)
    ds = load_medmnist_npz(tmp_path / "mnist.npz", split="val")
    assert len(ds) == 5
    image, label = ds[2]
    assert image.dtype == torch.float32 and image.shape == ((3, 28, 28) if rgb else (1, 28, 28))
    raw = arrays["val_images"][2]
    expected = raw.transpose(2, 0, 1) if rgb else raw[None]
    np.testing.assert_allclose(image.numpy(), expected / 255.0, rtol=1e-6)
    assert label.dtype == torch.long and int(label) == arrays["val_labels"][2, 0]


def test_load_medmnist_multilabel(tmp_path):
    arrays = make_medmnist(tmp_path / "chest.npz", multilabel=True)
    _, label = load_medmnist_npz(tmp_path / "chest.npz")[0]
    np.testing.assert_array_equal(label.numpy(), arrays["train_labels"][0])


def test_load_medmnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no MedMNIST file"):
        load_medmnist_npz(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="train_images"):
        load_medmnist_npz(tmp_path / "other.npz")
    make_medmnist(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="split"):
        load_medmnist_npz(tmp_path / "m.npz", split="validation")


def test_array_dataset_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset(np.zeros((3, 1, 4, 4)), np.zeros(2))


@pytest.mark.parametrize("n", [1, 7, 20, 101])
def test_train_val_test_split_partitions(n):
    train, val, test = train_val_test_split(n, seed=3)
    together = np.concatenate([train, val, test])
    assert sorted(together.tolist()) == list(range(n))
    assert abs(len(train) - 0.7 * n) <= 1


def test_stratified_split_keeps_class_proportions():
    labels = np.array([1] * 20 + [0] * 80)
    train, val, test = train_val_test_split(100, (0.6, 0.2, 0.2), seed=0, stratify=labels)
    assert labels[train].mean() == pytest.approx(0.2)
    assert labels[val].mean() == pytest.approx(0.2) and labels[test].mean() == pytest.approx(0.2)
    assert np.array_equal(train, train_val_test_split(100, (0.6, 0.2, 0.2), 0, labels)[0])


@pytest.mark.parametrize("fractions", [(1, 0, 0), (0.8, 0.2, 0), (0.8, 0, 0.2), (0, 0.5, 0.5)])
def test_split_with_an_empty_part(fractions):
    parts = train_val_test_split(20, fractions, seed=1)
    assert [len(p) for p in parts] == [round(f * 20) for f in fractions]
    assert sorted(np.concatenate(parts).tolist()) == list(range(20))


def test_stratified_split_three_classes_and_a_generator_seed():
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    parts = train_val_test_split(
        100, (0.6, 0.2, 0.2), seed=np.random.default_rng(4), stratify=labels
    )
    for part, size in zip(parts, (60, 20, 20), strict=True):
        counts = np.bincount(labels[part], minlength=3)
        assert len(part) == size and np.abs(counts - size * np.array([0.6, 0.3, 0.1])).max() <= 1


def test_stratified_split_refuses_a_class_too_small():
    labels = np.array([1] + [0] * 19)  # one positive cannot be in train, validation and test
    with pytest.raises(ValueError, match="stratify"):
        train_val_test_split(20, stratify=labels)


def test_stratified_kfold_keeps_the_proportion_in_every_fold():
    labels = np.array([1] * 10 + [0] * 40)
    folds = kfold_indices(50, k=5, seed=2, stratify=labels)
    assert [int(labels[val].sum()) for _, val in folds] == [2] * 5
    assert sorted(np.concatenate([val for _, val in folds]).tolist()) == list(range(50))
    with pytest.raises(ValueError, match="fewer than k=5"):
        kfold_indices(50, k=5, stratify=np.array([1] * 3 + [0] * 47))
    with pytest.raises(ValueError, match="stratify must have shape"):
        kfold_indices(50, k=5, stratify=labels[:10])


def test_split_errors():
    with pytest.raises(ValueError, match="fractions"):
        train_val_test_split(10, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="stratify"):
        train_val_test_split(10, stratify=[0, 1])


@pytest.mark.parametrize("n, k", [(10, 5), (11, 3), (7, 7)])
def test_kfold_matches_sklearn_fold_sizes(n, k):
    folds = kfold_indices(n, k, seed=1)
    reference = [len(val) for _, val in KFold(k).split(np.zeros(n))]
    assert sorted(len(val) for _, val in folds) == sorted(reference)
    validation = np.concatenate([val for _, val in folds])
    assert sorted(validation.tolist()) == list(range(n))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == n


def test_kfold_errors():
    with pytest.raises(ValueError, match="k must be"):
        kfold_indices(5, 1)
