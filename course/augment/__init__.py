"""Data augmentation for medical images: joint image + mask transforms (lecture 08).

Every transform has the same form ``f(image, mask=None, rng=None, **params) -> (image, mask)``.
One module per topic, every name importable from :mod:`course.augment`:

* :mod:`course.augment.geometric` - **geometric** transforms (:func:`random_flip`,
  :func:`random_rotate90`, :func:`random_affine`, :func:`elastic_deform`, :func:`random_crop`,
  :func:`resize`) draw their random parameters **once** and apply the same geometry to the
  image and to the mask. The mask is always resampled with nearest-neighbour interpolation
  (order 0), so its labels are never blended into new values: a lesion stays a lesion,
  background stays background.
* :mod:`course.augment.intensity` - **intensity** transforms (:func:`adjust_brightness`,
  :func:`adjust_contrast`, :func:`adjust_gamma`, :func:`add_gaussian_noise`,
  :func:`gaussian_blur`, :func:`histogram_equalize`) change only the image and return the
  mask object untouched.
* :mod:`course.augment.mixing` - :func:`random_erasing` overwrites a box of the image (mask
  untouched); :func:`mixup` and :func:`cutmix` mix a *batch* of images and their (one-hot or
  soft) classification labels.
* :mod:`course.augment.compose` - :class:`Compose`, :class:`RandomApply` and
  :func:`augment_batch` build pipelines and run them on torch batches.

Arrays and axes. Images are NumPy arrays of shape ``(H, W)`` or ``(D, H, W)``: every axis is
spatial. A multi-channel image passes ``channel_axis`` (e.g. ``channel_axis=0`` for
``(C, H, W)``): each channel gets the same transform. A mask has the spatial shape only.
NumPy in, NumPy out; :func:`augment_batch` runs a transform over a batch of torch tensors.

Parameters and randomness. A random parameter given as a pair ``(low, high)`` is drawn
uniformly from that range at every call; a single number is used as it is (so
``random_affine(img, degrees=30)`` always rotates by 30 degrees). ``rng`` is a
:class:`numpy.random.Generator` or an int seed; the same seed gives the same result.
``rng=None`` draws fresh randomness, as in NumPy and scikit-image. :class:`Compose` passes one
generator through a whole pipeline:

>>> from functools import partial
>>> pipeline = Compose([
...     random_flip,
...     partial(random_affine, degrees=(-10, 10), scale=(0.9, 1.1)),
...     RandomApply(partial(adjust_gamma, gamma=(0.7, 1.5)), p=0.5),
... ])
>>> image = np.random.default_rng(0).random((32, 32))
>>> mask = (image > 0.5).astype(np.uint8)
>>> new_image, new_mask = pipeline(image, mask, rng=np.random.default_rng(42))
>>> new_image.shape, new_mask.dtype, set(np.unique(new_mask)) <= {0, 1}
((32, 32), dtype('uint8'), True)

Augmentations must stay anatomically plausible: a left-right flip of a chest X-ray puts the
heart on the wrong side, and strong elastic deformation can change what a lesion looks like.
"""

from __future__ import annotations

from course.augment._common import Pair as Pair  # type aliases, kept importable
from course.augment._common import Transform as Transform
from course.augment.compose import Compose, RandomApply, augment_batch
from course.augment.geometric import (
    elastic_deform,
    random_affine,
    random_crop,
    random_flip,
    random_rotate90,
    resize,
)
from course.augment.intensity import (
    add_gaussian_noise,
    adjust_brightness,
    adjust_contrast,
    adjust_gamma,
    gaussian_blur,
    histogram_equalize,
)
from course.augment.mixing import cutmix, mixup, random_erasing

__all__ = [
    "random_flip",
    "random_rotate90",
    "random_affine",
    "elastic_deform",
    "random_crop",
    "resize",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "add_gaussian_noise",
    "gaussian_blur",
    "histogram_equalize",
    "random_erasing",
    "mixup",
    "cutmix",
    "Compose",
    "RandomApply",
    "augment_batch",
]
