"""Augmentation invariants, and comparisons with SciPy, scikit-image and NumPy."""

from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from scipy.stats import beta, kstest
from skimage import exposure, transform

from course.augment import (
    Compose,
    RandomApply,
    add_gaussian_noise,
    adjust_brightness,
    adjust_contrast,
    adjust_gamma,
    augment_batch,
    cutmix,
    elastic_deform,
    gaussian_blur,
    histogram_equalize,
    mixup,
    random_affine,
    random_crop,
    random_erasing,
    random_flip,
    random_rotate90,
    resize,
)

GEOMETRIC = {
    "flip": random_flip,
    "rotate90": random_rotate90,
    "affine": partial(random_affine, degrees=(-40, 40), scale=(0.7, 1.3), shear=(-20, 20)),
    "elastic": partial(elastic_deform, alpha=(20, 60), sigma=(3, 5)),
    "crop": None,  # needs the shape: built in geometric()
    "resize": None,
}
INTENSITY = {
    "brightness": adjust_brightness,
    "contrast": adjust_contrast,
    "gamma": adjust_gamma,
    "noise": add_gaussian_noise,
    "blur": gaussian_blur,
    "equalize": histogram_equalize,
    "erasing": random_erasing,
}


def geometric(name, shape):
    if name == "crop":
        return partial(random_crop, size=tuple(max(1, n - 3) for n in shape))
    if name == "resize":
        return partial(resize, shape=tuple(n + 5 for n in shape))
    return GEOMETRIC[name]


def label_mask(shape, rng, labels=(0, 2, 5), margin=2):
    """A label map of a few random boxes, background (0) within ``margin`` of the border."""
    mask = np.full(shape, labels[0], dtype=np.uint8)
    for label in labels[1:]:
        lo = [rng.integers(margin, n // 2) for n in shape]
        hi = [rng.integers(a + 2, n - margin + 1) for a, n in zip(lo, shape, strict=True)]
        mask[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = label
    return mask


spatial_shapes = st.one_of(
    st.tuples(st.integers(12, 24), st.integers(12, 24)),
    st.tuples(st.integers(8, 10), st.integers(10, 14), st.integers(10, 14)),
)


# ------------------------------------------------------------------ exact geometric identities
@settings(max_examples=25, deadline=None)
@given(shape=spatial_shapes, seed=st.integers(0, 2**32 - 1), p=st.floats(0, 1))
def test_flip_twice_with_the_same_draw_is_identity(shape, seed, p):
    rng = np.random.default_rng(seed)
    image, mask = rng.random(shape), label_mask(shape, rng)
    once = random_flip(image, mask, rng=seed, p=p)
    twice = random_flip(*once, rng=seed, p=p)
    np.testing.assert_array_equal(twice[0], image)
    np.testing.assert_array_equal(twice[1], mask)
    flipped = random_flip(image, mask, p=1.0)
    np.testing.assert_array_equal(flipped[0], image[(slice(None, None, -1),) * len(shape)])
    np.testing.assert_array_equal(flipped[1], mask[(slice(None, None, -1),) * len(shape)])


def test_flip_axes_and_channels():
    image = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # (C, H, W)
    out, _ = random_flip(image, axes=[1], p=1.0, channel_axis=0)
    np.testing.assert_array_equal(out, image[:, :, ::-1])
    out, _ = random_flip(image, axes=[0], p=1.0, channel_axis=-1)  # (H, W, C) view: H=2
    np.testing.assert_array_equal(out, image[::-1])
    out, _ = random_flip(image, p=0.0)
    np.testing.assert_array_equal(out, image)


@settings(max_examples=25, deadline=None)
@given(shape=spatial_shapes, seed=st.integers(0, 2**32 - 1))
def test_rotate90(shape, seed):
    rng = np.random.default_rng(seed)
    image, mask = rng.random(shape), label_mask(shape, rng)
    out, out_mask = image, mask
    for _ in range(4):
        out, out_mask = random_rotate90(out, out_mask, k=1)
    np.testing.assert_array_equal(out, image)
    np.testing.assert_array_equal(out_mask, mask)
    # a random k is one of numpy's four rotations, the same one for the image and the mask
    out, out_mask = random_rotate90(image, mask, rng=seed)
    matches = [
        k
        for k in range(4)
        if np.rot90(image, k, (-2, -1)).shape == out.shape
        and np.array_equal(np.rot90(image, k, (-2, -1)), out)
    ]
    assert len(matches) == 1
    np.testing.assert_array_equal(out_mask, np.rot90(mask, matches[0], (-2, -1)))
    if len(shape) == 3:
        out, _ = random_rotate90(image, k=1, axes=(0, 1))
        np.testing.assert_array_equal(out, np.rot90(image, 1, (0, 1)))


# ------------------------------------------------------------------ masks and alignment
@settings(max_examples=25, deadline=None)
@given(
    shape=spatial_shapes,
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(sorted(GEOMETRIC)),
)
def test_geometric_masks_keep_their_labels_and_stay_aligned(shape, seed, name):
    rng = np.random.default_rng(seed)
    mask = label_mask(shape, rng)
    f = geometric(name, shape)
    # labels are never invented (constant mode fills with the background label 0)
    _, out_mask = f(mask.astype(float), mask, rng=seed)
    assert set(np.unique(out_mask)) <= set(np.unique(mask))
    assert out_mask.dtype == mask.dtype
    # an image equal to its mask, resampled with nearest neighbour too: they must agree
    if name in ("affine", "elastic", "resize"):
        out_image, out_mask = f(mask.astype(float), mask, rng=seed, order=0)
    else:
        out_image, out_mask = f(mask.astype(float), mask, rng=seed)
    np.testing.assert_array_equal(out_image, out_mask)


@settings(max_examples=25, deadline=None)
@given(
    shape=spatial_shapes,
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(["affine", "elastic", "resize"]),
)
def test_linear_image_and_nearest_mask_agree(shape, seed, name):
    rng = np.random.default_rng(seed)
    mask = label_mask(shape, rng, labels=(0, 1))
    image, out_mask = geometric(name, shape)(mask.astype(float), mask, rng=seed, order=1)
    # where the interpolated image is (numerically) 0 or 1, all the voxels it averaged agree,
    # so the nearest voxel - the mask's value - must be that label too
    settled = np.minimum(np.abs(image), np.abs(image - 1)) < 1e-9
    np.testing.assert_array_equal(np.round(image[settled]), out_mask[settled])
    assert settled.mean() > 0.5
    # linear interpolation gives the nearest voxel a weight of at least 1/2 per axis, so the
    # image is at least 2**-d where the mask is 1 and at most 1 - 2**-d where it is 0
    least = 0.5 ** len(shape) - 1e-9
    assert (image[out_mask == 1] >= least).all()
    assert (image[out_mask == 0] <= 1 - least).all()


def test_masks_without_background_with_nearest_mode():
    rng = np.random.default_rng(0)
    mask = rng.integers(1, 4, (16, 16)).astype(np.int32)  # labels 1-3 everywhere, no 0
    for f in (random_affine, elastic_deform):
        _, out = f(rng.random((16, 16)), mask, rng=1, mode="nearest")
        assert set(np.unique(out)) <= {1, 2, 3}
    _, out = random_affine(rng.random((16, 16)), mask, rng=1, degrees=30, mask_cval=2)
    assert set(np.unique(out)) <= {1, 2, 3}
    boolean = mask > 1
    _, out = random_affine(rng.random((16, 16)), boolean, rng=2)
    assert out.dtype == bool


# ------------------------------------------------------------------ affine against references
def test_affine_rotation_matches_skimage_rotate():
    rng = np.random.default_rng(3)
    image = ndimage.gaussian_filter(rng.random((21, 26)), 2)
    for angle in (30.0, -75.0):
        ours, _ = random_affine(image, degrees=angle, scale=1, translate=0)
        reference = transform.rotate(
            image, angle, order=1, mode="constant", cval=0, preserve_range=True
        )
        interior = (slice(6, -6), slice(6, -6))
        np.testing.assert_allclose(ours[interior], reference[interior], atol=1e-9)


def test_affine_scale_translation_and_shear():
    rng = np.random.default_rng(4)
    image = ndimage.gaussian_filter(rng.random((20, 30)), 1.5)
    # translation by 0.1 of each axis = (2, 3) pixels, exact for whole pixels
    shifted, _ = random_affine(image, degrees=0, scale=1, translate=0.1)
    np.testing.assert_allclose(shifted, ndimage.shift(image, (2, 3), order=0, cval=0))
    # isotropic scaling about the centre, against scikit-image's warp
    centre = (np.array(image.shape[::-1]) - 1) / 2  # skimage uses (x, y) = (col, row)
    zoom = (
        transform.AffineTransform(translation=-centre)
        + transform.AffineTransform(scale=1.4)
        + transform.AffineTransform(translation=centre)
    )
    reference = transform.warp(
        image, zoom.inverse, order=1, mode="constant", cval=0, preserve_range=True
    )
    ours, _ = random_affine(image, degrees=0, scale=1.4, translate=0)
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    # a 45-degree shear moves a pixel right of the centre by (tan 45 = 1) x its column offset
    dot = np.zeros((11, 11))
    dot[5, 7] = 1.0
    sheared, _ = random_affine(dot, degrees=0, scale=1, translate=0, shear=45, order=0)
    np.testing.assert_array_equal(np.argwhere(sheared), [[7, 7]])


def test_affine_and_elastic_on_channels_and_volumes():
    rng = np.random.default_rng(5)
    volume = rng.random((2, 6, 10, 12))  # (C, D, H, W)
    mask = label_mask((6, 10, 12), rng, margin=1)
    for f in (random_affine, elastic_deform):
        out, out_mask = f(volume, mask, rng=7, channel_axis=0)
        assert out.shape == volume.shape and out_mask.shape == mask.shape
        first, _ = f(volume[0], mask, rng=7)  # the same draw for every channel
        np.testing.assert_allclose(out[0], first)
    identity, _ = elastic_deform(volume[1], alpha=0.0, rng=0)
    np.testing.assert_allclose(identity, volume[1], atol=1e-12)
    still, _ = random_affine(volume[1], degrees=0, scale=1, translate=0)
    np.testing.assert_allclose(still, volume[1], atol=1e-12)


def test_elastic_displacement_grows_with_alpha():
    image = np.zeros((40, 40))
    image[10:30, 10:30] = 1.0
    changes = [
        np.abs(elastic_deform(image, rng=0, alpha=a, sigma=4)[0] - image).sum()
        for a in (5.0, 40.0, 200.0)
    ]
    assert changes[0] < changes[1] < changes[2]


# ------------------------------------------------------------------ crop and resize
def test_random_crop_is_a_subarray():
    rng = np.random.default_rng(6)
    image = rng.random((12, 15))
    mask = label_mask((12, 15), rng)
    crop, crop_mask = random_crop(image, mask, rng=3, size=(5, 7))
    starts = [
        (i, j)
        for i in range(8)
        for j in range(9)
        if np.array_equal(image[i : i + 5, j : j + 7], crop)
    ]
    assert len(starts) == 1
    i, j = starts[0]
    np.testing.assert_array_equal(crop_mask, mask[i : i + 5, j : j + 7])
    full, _ = random_crop(image, size=(12, 15), rng=0)
    np.testing.assert_array_equal(full, image)


@pytest.mark.parametrize("new_shape", [(17, 23), (7, 9), (12, 30)])
def test_resize_matches_skimage(new_shape):
    rng = np.random.default_rng(7)
    image = rng.random((12, 15))
    ours, _ = resize(image, shape=new_shape)
    reference = transform.resize(image, new_shape, order=1, mode="edge", anti_aliasing=False)
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    volume = rng.random((5, 6, 7))
    ours, _ = resize(volume, shape=(8, 4, 9), order=3)
    reference = transform.resize(
        volume, (8, 4, 9), order=3, mode="edge", anti_aliasing=False, clip=False
    )
    np.testing.assert_allclose(ours, reference, atol=1e-6)


# ------------------------------------------------------------------ intensity transforms
@pytest.mark.parametrize("name", sorted(INTENSITY))
@pytest.mark.parametrize("shape", [(16, 20), (6, 8, 10)])
def test_intensity_transforms_never_touch_the_mask(name, shape):
    rng = np.random.default_rng(8)
    image, mask = rng.random(shape), label_mask(shape, rng)
    before = mask.copy()
    out, out_mask = INTENSITY[name](image, mask, rng=1)
    assert out_mask is mask
    np.testing.assert_array_equal(mask, before)
    assert out.shape == image.shape and np.isfinite(out).all()
    assert INTENSITY[name](image, rng=1)[1] is None


ALL_RANDOM = {**GEOMETRIC, **INTENSITY}
del ALL_RANDOM["equalize"]  # deterministic


@pytest.mark.parametrize("name", sorted(ALL_RANDOM))
def test_same_seed_same_result_different_seed_different(name):
    rng = np.random.default_rng(9)
    shape = (20, 22)
    image, mask = rng.random(shape), label_mask(shape, rng)
    f = geometric(name, shape) if name in GEOMETRIC else INTENSITY[name]
    if name == "resize":
        return  # deterministic too
    first = f(image, mask, rng=123)
    again = f(image, mask, rng=np.random.default_rng(123))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    outcomes = {f(image, mask, rng=seed)[0].tobytes() for seed in range(6)}
    assert len(outcomes) > 1


@settings(max_examples=25, deadline=None)
@given(shape=spatial_shapes, seed=st.integers(0, 1000), nbins=st.sampled_from([16, 256]))
def test_histogram_equalize_matches_skimage(shape, seed, nbins):
    image = np.random.default_rng(seed).gamma(2.0, 50.0, shape)
    ours, _ = histogram_equalize(image, nbins=nbins)
    np.testing.assert_allclose(ours, exposure.equalize_hist(image, nbins=nbins), atol=1e-12)
    ours32, _ = histogram_equalize(image.astype(np.float32), nbins=nbins)
    assert ours32.dtype == np.float32


def test_gaussian_blur_matches_scipy():
    rng = np.random.default_rng(10)
    image = rng.random((9, 12, 14))
    ours, _ = gaussian_blur(image, sigma=1.3)
    np.testing.assert_allclose(ours, ndimage.gaussian_filter(image, 1.3))
    ours, _ = gaussian_blur(image, sigma=1.3, channel_axis=0)  # nine 2D channels, not mixed
    np.testing.assert_allclose(ours, ndimage.gaussian_filter(image, (0, 1.3, 1.3)))
    ours, _ = gaussian_blur(image, sigma=(0.5, 2.0), rng=4, mode="nearest")
    assert any(
        np.allclose(ours, ndimage.gaussian_filter(image, s, mode="nearest"))
        for s in np.random.default_rng(4).uniform(0.5, 2.0, 1)
    )
    np.testing.assert_array_equal(gaussian_blur(image, sigma=0)[0], image)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.2])
def test_adjust_gamma_matches_skimage(gamma):
    rng = np.random.default_rng(11)
    image = rng.random((10, 12))
    ours, _ = adjust_gamma(image, gamma=gamma, gain=0.8, intensity_range=(0, 1))
    np.testing.assert_allclose(ours, exposure.adjust_gamma(image, gamma, gain=0.8))
    # default range: the image's own minimum and maximum (e.g. HU values)
    hu = -1000 + 1400 * image
    ours, _ = adjust_gamma(hu, gamma=gamma)
    low, high = hu.min(), hu.max()
    expected = low + (high - low) * exposure.adjust_gamma((hu - low) / (high - low), gamma)
    np.testing.assert_allclose(ours, expected)
    assert ours.min() == pytest.approx(low) and ours.max() == pytest.approx(high)


def test_brightness_contrast_noise_erasing():
    rng = np.random.default_rng(12)
    image = rng.random((30, 40)).astype(np.float32)
    out, _ = adjust_brightness(image, delta=0.2)
    np.testing.assert_allclose(out, image + 0.2, rtol=1e-6)
    out, _ = adjust_contrast(image, factor=1.5)
    assert out.mean() == pytest.approx(image.mean(), abs=1e-5)
    assert out.std() == pytest.approx(1.5 * image.std(), rel=1e-4)
    noisy, _ = add_gaussian_noise(np.zeros((200, 200)), std=0.3, rng=0)
    assert noisy.std() == pytest.approx(0.3, rel=0.02) and abs(noisy.mean()) < 0.01
    constant = np.ones((3, 10, 12))  # (C, H, W)
    erased, _ = random_erasing(constant, size=(0.2, 0.5), rng=3, channel_axis=0)
    hole = erased == 0
    assert (hole == hole[0]).all()  # the same box in every channel
    rows, cols = np.nonzero(hole[0])
    box = np.zeros_like(hole[0])
    box[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = True
    np.testing.assert_array_equal(hole[0], box)  # one rectangle
    assert 2 <= box.sum(0).max() <= 5 and 2 <= box.sum(1).max() <= 6
    noise, _ = random_erasing(image, size=0.5, value="random", rng=1)
    changed = noise != image
    assert changed.sum() > 0.2 * image.size
    assert image.min() <= noise.min() and noise.max() <= image.max()


# ------------------------------------------------------------------ MixUp and CutMix
@pytest.mark.parametrize("as_torch", [False, True])
def test_mixup_blends_images_and_labels_alike(as_torch):
    n = 6
    images = np.stack([np.full((4, 5), float(i)) for i in range(n)])  # image i holds value i
    labels = np.arange(n)
    if as_torch:
        images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    for seed in range(5):
        mixed, soft = mixup(images, labels, rng=seed, num_classes=n)
        soft, mixed = np.asarray(soft), np.asarray(mixed)
        np.testing.assert_allclose(soft.sum(1), 1.0)
        assert (soft >= 0).all()
        # every pixel of sample i is the label-weighted mixture of the source images
        np.testing.assert_allclose(mixed[:, 0, 0], soft @ np.arange(n))
        np.testing.assert_allclose(mixed, mixed[:, :1, :1] * np.ones((1, 4, 5)))


def test_mixup_weight_follows_beta():
    images = np.stack([np.zeros(3), np.ones(3)])
    one_hot = np.eye(2)
    rng = np.random.default_rng(13)
    weights = [mixup(images, one_hot, rng=rng, alpha=0.4)[1][0, 0] for _ in range(400)]
    # lambda or 1 - lambda (if the two swapped): Beta(a, a) is symmetric, the law is the same
    swapped = [w for w in weights if w not in (0.0, 1.0)]
    assert kstest(swapped, beta(0.4, 0.4).cdf).pvalue > 0.01


@pytest.mark.parametrize("spatial_dims, shape", [(2, (2, 10, 12)), (3, (1, 6, 8, 10))])
@pytest.mark.parametrize("as_torch", [False, True])
def test_cutmix_area_equals_label_weight(spatial_dims, shape, as_torch):
    n = 5
    images = np.stack([np.full(shape, float(i)) for i in range(n)])
    original = images.copy()
    labels = np.eye(n)
    if as_torch:
        images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    for seed in range(6):
        mixed, soft = cutmix(images, labels, rng=seed, spatial_dims=spatial_dims)
        mixed, soft = np.asarray(mixed), np.asarray(soft)
        np.testing.assert_allclose(soft.sum(1), 1.0)
        for i in range(n):
            fractions = [(mixed[i] == k).mean() for k in range(n)]
            np.testing.assert_allclose(fractions, soft[i])
    # the input batch is left as it was
    np.testing.assert_array_equal(np.asarray(images), original)


# ------------------------------------------------------------------ composition and batches
def test_compose_and_random_apply():
    rng = np.random.default_rng(14)
    image, mask = rng.random((16, 16)), label_mask((16, 16), rng)
    pipeline = Compose(
        [
            random_flip,
            partial(random_affine, degrees=(-20, 20)),
            RandomApply(partial(adjust_gamma, gamma=(0.5, 2.0)), p=0.5),
            RandomApply(add_gaussian_noise, p=0.5),
        ]
    )
    first = pipeline(image, mask, rng=5)
    second = pipeline(image, mask, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(pipeline(image, mask, rng=6)[0], first[0])
    assert set(np.unique(first[1])) <= set(np.unique(mask))
    assert RandomApply(adjust_brightness, p=0)(image, mask, rng=0)[0] is image
    always = RandomApply(partial(adjust_brightness, delta=1.0), p=1)(image, mask, rng=0)
    np.testing.assert_allclose(always[0], image + 1)
    applied = [
        RandomApply(partial(adjust_brightness, delta=1.0), p=0.3)(
            np.zeros(1).reshape(1, 1) * np.zeros((2, 2)), rng=rng
        )[0][0, 0]
        for _ in range(2000)
    ]
    assert np.mean(applied) == pytest.approx(0.3, abs=0.04)  # binomial sd ~0.01
    assert "RandomApply" in repr(pipeline)


def test_augment_batch():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(5, 1, 12, 14, generator=gen)
    masks = (images > 0.5).long()  # with a channel of 1
    out, out_masks = augment_batch(images, masks, partial(random_affine, order=0), rng=3)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out_masks.shape == masks.shape and out_masks.dtype == torch.int64
    # order 0 everywhere and mask == (image > 0.5): still consistent after the transform
    inside = out > 0
    assert torch.equal((out > 0.5)[inside], out_masks.bool()[inside])
    # each sample got its own draw: the same as calling the transform in a loop
    rng = np.random.default_rng(3)
    for i in range(5):
        expected, _ = random_affine(images[i, 0].numpy(), masks[i, 0].numpy(), rng=rng, order=0)
        np.testing.assert_allclose(out[i, 0].numpy(), expected, rtol=1e-6)
    multi = torch.rand(3, 2, 8, 8, generator=gen)
    out, none = augment_batch(multi, None, partial(random_flip, channel_axis=0, p=1.0))
    assert none is None
    assert torch.equal(out, multi.flip(-1, -2))
    out, out_masks = augment_batch(
        multi, masks[:3, 0, :8, :8], partial(random_rotate90, k=1, channel_axis=0)
    )
    assert torch.equal(out, torch.rot90(multi, 1, (-2, -1)))
    assert torch.equal(out_masks, torch.rot90(masks[:3, 0, :8, :8], 1, (-2, -1)))


# ------------------------------------------------------------------ bad input
def test_bad_input_errors():
    image, mask = np.zeros((8, 8)), np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match="mask must have the spatial shape"):
        random_flip(image, np.zeros((8, 9)))
    with pytest.raises(ValueError, match="mask must have the spatial shape"):
        adjust_gamma(image, np.zeros((8, 9)))
    with pytest.raises(ValueError, match="2 or 3 spatial axes"):
        random_affine(np.zeros(8))
    with pytest.raises(ValueError, match="set channel_axis"):
        gaussian_blur(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="channel_axis=3"):
        random_flip(np.zeros((2, 8, 8)), channel_axis=3)
    with pytest.raises(ValueError, match="NaN"):
        adjust_contrast(np.full((4, 4), np.nan))
    with pytest.raises(TypeError, match="augment_batch"):
        random_flip(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="real numbers"):
        random_flip(np.zeros((4, 4), complex))
    with pytest.raises(TypeError, match="rng"):
        random_flip(image, rng="seed")
    with pytest.raises(ValueError, match="probability"):
        random_flip(image, mask, p=1.5)
    with pytest.raises(ValueError, match="probability"):
        RandomApply(random_flip, p=-0.1)
    with pytest.raises(TypeError, match="callable"):
        RandomApply("flip")
    with pytest.raises(TypeError, match="callable"):
        Compose([random_flip, 3])
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        gaussian_blur(image, sigma=-1.0)
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        elastic_deform(image, sigma=(-1, 2))
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        elastic_deform(image, alpha=-5)
    with pytest.raises(ValueError, match="std must be >= 0"):
        add_gaussian_noise(image, std=-0.1)
    with pytest.raises(ValueError, match="gamma must be positive"):
        adjust_gamma(image + np.eye(8), gamma=0)
    with pytest.raises(ValueError, match="low <= high"):
        adjust_brightness(image, delta=(0.5, 0.1))
    with pytest.raises(ValueError, match="number or a"):
        adjust_brightness(image, delta="bright")
    with pytest.raises(ValueError, match="outside intensity_range"):
        adjust_gamma(image + 2, gamma=2, intensity_range=(0, 1))
    with pytest.raises(ValueError, match="low < high"):
        adjust_gamma(image, gamma=2, intensity_range=(1, 0))
    with pytest.raises(ValueError, match="axes"):
        random_flip(image, axes=[2])
    with pytest.raises(ValueError, match="different"):
        random_rotate90(image, axes=(0, 0))
    with pytest.raises(ValueError, match="size"):
        random_crop(image, size=(9, 2))
    with pytest.raises(ValueError, match="size"):
        random_crop(image, size=(4,))
    with pytest.raises(ValueError, match="shape"):
        resize(image, shape=(0, 4))
    with pytest.raises(ValueError, match="order"):
        random_affine(image, order=7)
    with pytest.raises(ValueError, match="mode"):
        elastic_deform(image, mode="edge")
    with pytest.raises(ValueError, match="scale must be positive"):
        random_affine(image, scale=0)
    with pytest.raises(ValueError, match="shear"):
        random_affine(image, shear=90)
    with pytest.raises(ValueError, match="nbins"):
        histogram_equalize(image, nbins=0)
    with pytest.raises(ValueError, match="fractions in"):
        random_erasing(image, size=(0.5, 1.5))
    with pytest.raises(ValueError, match="'random'"):
        random_erasing(image, value="noise")
    batch, labels = np.zeros((4, 8, 8)), np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match="alpha"):
        mixup(batch, labels, alpha=0, num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        mixup(batch, labels)
    with pytest.raises(ValueError, match=r"\(4, K\)"):
        mixup(batch, np.eye(3), num_classes=2)
    with pytest.raises(ValueError, match="num_classes=2"):
        cutmix(batch, labels + 1, num_classes=2)
    with pytest.raises(ValueError, match="spatial_dims"):
        cutmix(batch, labels, num_classes=2, spatial_dims=3)
    with pytest.raises(TypeError, match="images"):
        mixup([[0.0]], labels, num_classes=2)
    with pytest.raises(TypeError, match="torch.Tensor"):
        augment_batch(batch, None, random_flip)
    with pytest.raises(ValueError, match="masks must have shape"):
        augment_batch(torch.zeros(2, 1, 8, 8), torch.zeros(2, 8, 7), random_flip)
