"""Data for the course, all available offline.

* **Real sample files** shipped inside installed packages: pydicom's ``CT_small.dcm`` and
  ``MR_small.dcm``, nibabel's ``anatomical.nii`` and ``example4d.nii.gz``
  (:func:`sample_path`), and scikit-image's retina, immunohistochemistry, microaneurysms and
  Shepp-Logan images (:func:`load_sample_image`).
* **Synthetic, physics-based CT** (:class:`SyntheticLesionCT`): random phantoms with lesions are
  projected (Radon transform), given Poisson noise at a chosen dose, and reconstructed with the
  course's filtered back-projection. The lesion masks are exact, because we drew the lesions.
* **MedMNIST** ``.npz`` files, when a user has them (:func:`load_medmnist_npz`).
* Splits: :func:`train_val_test_split` and :func:`kfold_indices`.
"""

from course.datasets.arrays import ArrayDataset, load_medmnist_npz
from course.datasets.build import build_datasets
from course.datasets.samples import SAMPLE_FILES, SKIMAGE_IMAGES, load_sample_image, sample_path
from course.datasets.splits import kfold_indices, train_val_test_split
from course.datasets.synthetic import (
    SyntheticLesionCT,
    head_volume_with_lesion,
    synthetic_ct_slices,
)

__all__ = [
    "SAMPLE_FILES",
    "SKIMAGE_IMAGES",
    "sample_path",
    "load_sample_image",
    "synthetic_ct_slices",
    "SyntheticLesionCT",
    "ArrayDataset",
    "load_medmnist_npz",
    "train_val_test_split",
    "kfold_indices",
    "head_volume_with_lesion",
    "build_datasets",
]
