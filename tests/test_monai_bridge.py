"""The course's from-scratch pieces give what MONAI gives on the same input (lectures 06-08).

The lectures' "The same in MONAI" cells compare one case each; here the comparisons run on
many inputs:

- ``course.metrics.dice`` vs ``monai.metrics.DiceMetric`` / ``compute_dice`` (per image, and
  pooled over a set), empty masks included;
- ``course.metrics.roc_auc`` vs ``monai.metrics.compute_roc_auc``, ties included;
- ``course.train.sliding_window_inference`` vs ``monai.inferers.sliding_window_inference``: the
  same windows, so with constant blending the same numbers (float32 rounding); with Gaussian
  blending the weights differ slightly (MONAI does not rescale its Gaussian to a peak of 1 before
  clamping the tails at 1e-3): where a window's clamped corner meets its neighbours the two
  differ by up to a few 1e-3 of the output's scale, on average by about 1e-5. MONAI pads
  an image smaller than the window on both sides, the course at the end only: the comparison
  uses images at least as large as the window;
- the joint image + mask transforms of ``course.augment`` vs MONAI's dictionary transforms
  (``Flipd``, ``RandFlipd`` with ``prob=1``, ``Rotate90d``) and the gamma transform vs
  ``AdjustContrast``.

MONAI: Cardoso et al. (2022), MONAI: an open-source framework for deep learning in healthcare,
arXiv:2211.02701.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

monai = pytest.importorskip("monai")
from monai.inferers import sliding_window_inference as monai_sliding_window  # noqa: E402
from monai.metrics import DiceMetric, compute_dice, compute_roc_auc  # noqa: E402
from monai.transforms import AdjustContrast, Flipd, RandFlipd, Rotate90d  # noqa: E402

from course import augment as aug  # noqa: E402
from course.metrics import dice, roc_auc  # noqa: E402
from course.models import UNet  # noqa: E402
from course.train import sliding_window_inference  # noqa: E402


# --- Dice ------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 5),
    size=st.integers(2, 12),
    fractions=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    seed=st.integers(0, 2**16),
)
def test_dice_per_image_equals_monai_dice_metric(n, size, fractions, seed):
    rng = np.random.default_rng(seed)
    pred = rng.random((n, 1, size, size)) < fractions[0]
    truth = rng.random((n, 1, size, size)) < fractions[1]
    pred[0], truth[0] = False, False  # an image where both masks are empty: Dice 1 in both
    metric = DiceMetric(include_background=True, reduction="none", ignore_empty=False)
    metric(torch.from_numpy(pred).float(), torch.from_numpy(truth).float())
    monai_values = metric.aggregate().numpy()[:, 0]
    ours = np.array([dice(p, t) for p, t in zip(pred, truth, strict=True)])
    np.testing.assert_allclose(ours, monai_values, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_pooled_dice_equals_monai_on_the_set_as_one_image(seed):
    rng = np.random.default_rng(seed)
    pred, truth = rng.random((8, 1, 16, 16)) < 0.3, rng.random((8, 1, 16, 16)) < 0.2
    flat = [torch.from_numpy(m).float().reshape(1, 1, -1) for m in (pred, truth)]
    assert np.isclose(dice(pred, truth), compute_dice(*flat).item(), rtol=1e-6)


# --- ROC AUC ---------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(n=st.integers(4, 60), levels=st.sampled_from([3, 10, 1000]), seed=st.integers(0, 2**16))
def test_roc_auc_equals_monai(n, levels, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = (0, 1)  # both classes
    scores = rng.integers(0, levels, n) / levels  # few levels: many ties
    monai_auc = compute_roc_auc(torch.from_numpy(scores), torch.from_numpy(y))
    assert np.isclose(roc_auc(y, scores), monai_auc, rtol=1e-9)


# --- sliding-window inference ----------------------------------------------------------------
def _unet(dims: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return UNet(1, 2, depth=2, base_channels=4, dims=dims).eval()


@pytest.mark.parametrize(
    ("shape", "patch", "overlap"),
    [
        ((2, 1, 64, 64), 32, 0.5),
        ((1, 1, 100, 90), 32, 0.25),
        ((1, 1, 48, 80), (48, 32), 0.5),
        ((3, 1, 40, 40), 40, 0.0),
        ((1, 1, 70, 33), 16, 0.75),
        ((1, 1, 20, 36, 28), 16, 0.5),
    ],
)
def test_constant_blending_equals_monai(shape, patch, overlap):
    model = _unet(len(shape) - 2, seed=len(shape) + int(100 * overlap))
    x = torch.randn(shape)
    roi = patch if isinstance(patch, tuple) else (patch,) * (len(shape) - 2)
    ours = sliding_window_inference(model, x, patch_size=patch, overlap=overlap, blend="constant")
    with torch.no_grad():
        theirs = monai_sliding_window(x, roi, 4, model, overlap=overlap, mode="constant")
    torch.testing.assert_close(ours, torch.as_tensor(theirs), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("shape", "patch"), [((1, 1, 64, 64), 32), ((2, 1, 90, 70), 24), ((1, 1, 50, 77), 16)]
)
def test_gaussian_blending_agrees_with_monai_within_a_percent(shape, patch):
    model = _unet(2, seed=3)
    x = torch.randn(shape)
    ours = sliding_window_inference(model, x, patch_size=patch, overlap=0.5, blend="gaussian")
    with torch.no_grad():
        theirs = monai_sliding_window(x, (patch, patch), 4, model, overlap=0.5, mode="gaussian")
    difference, scale = (ours - torch.as_tensor(theirs)).abs(), ours.abs().max().item()
    assert difference.max().item() <= 1e-2 * scale  # measured: up to 2.3e-3
    assert difference.mean().item() <= 1e-4 * scale  # measured: up to 1.1e-5


# --- joint transforms ------------------------------------------------------------------------
def _pair(seed: int, shape=(20, 24)):
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 200, shape).astype(np.float32)
    return image, (rng.random(shape) < 0.3).astype(np.uint8)


def _monai(transform, image, mask):
    out = transform({"image": image[None], "label": mask[None]})  # channel first
    return np.asarray(out["image"])[0], np.asarray(out["label"])[0]


@pytest.mark.parametrize("shape", [(20, 24), (7, 5), (6, 8, 10)])
def test_flips_equal_monai_flipd_and_randflipd(shape):
    image, mask = _pair(0, shape)
    for axis in range(len(shape)):
        ours = aug.random_flip(image, mask, axes=[axis], p=1.0)
        for transform in (
            Flipd(keys=["image", "label"], spatial_axis=axis),
            RandFlipd(keys=["image", "label"], prob=1.0, spatial_axis=axis),
        ):
            theirs = _monai(transform, image, mask)
            for a, b in zip(ours, theirs, strict=True):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize(("shape", "axes"), [((20, 24), (0, 1)), ((6, 8, 10), (1, 2))])
def test_quarter_turns_equal_monai_rotate90d(k, shape, axes):
    image, mask = _pair(k, shape)
    ours = aug.random_rotate90(image, mask, k=k, axes=axes)
    theirs = _monai(Rotate90d(keys=["image", "label"], k=k, spatial_axes=axes), image, mask)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("gamma", [0.5, 0.8, 1.7, 3.0])
def test_gamma_equals_monai_adjust_contrast(gamma):
    image, mask = _pair(int(10 * gamma))
    ours, same_mask = aug.adjust_gamma(image, mask, gamma=gamma)
    theirs = np.asarray(AdjustContrast(gamma=gamma)(image[None]))[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4 * np.ptp(image))
    assert same_mask is mask  # an intensity transform leaves the mask alone
