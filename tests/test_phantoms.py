"""Phantoms against scikit-image's Shepp-Logan image, the ellipse tables and their promises."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import ndimage
from skimage.data import shepp_logan_phantom
from skimage.transform import resize

from course.physics.ct import MU_WATER, circle_mask, mu_to_hu, radon
from course.physics.phantoms import (
    SHEPP_LOGAN_2D,
    ellipse,
    max_lesions,
    random_phantom,
    shepp_logan,
    shepp_logan_3d,
)


def coordinate(index, n):
    """Pixel-centre coordinate in [-1, 1] of an index (x of a column; for a row, y = -this)."""
    return (2 * index + 1 - n) / n


# ---------------------------------------------------------------------------------------------
# 2D Shepp-Logan
# ---------------------------------------------------------------------------------------------
def test_shepp_logan_matches_skimage_at_its_size():
    ours, ref = shepp_logan(400), shepp_logan_phantom()  # skimage ships a 400 x 400 image
    assert ours.shape == ref.shape and ours.dtype == np.float32
    same = np.abs(ours - ref) < 5e-3  # skimage's image is stored in 8 bits: 0.298 for 0.3
    assert same.mean() > 0.94  # the rest are edge pixels, rasterised slightly differently
    edges = ndimage.morphological_gradient(ref, size=3) > 0.05
    assert np.all(same | ndimage.binary_dilation(edges, iterations=2))


@pytest.mark.parametrize("n", [64, 127, 128])
def test_shepp_logan_correlates_with_skimage(n):
    ref = resize(shepp_logan_phantom(), (n, n), anti_aliasing=True)
    assert np.corrcoef(shepp_logan(n).ravel(), ref.ravel())[0, 1] > 0.92


def test_shepp_logan_values_follow_the_table():
    n = 256
    image = shepp_logan(n)
    original = shepp_logan(n, modified=False)

    def at(x, y, img):
        return img[int(round((n - n * y - 1) / 2)), int(round((n * x + n - 1) / 2))]

    # points inside known combinations of ellipses: skull only, brain, ventricle, ellipse 5
    for (x, y), modified, value in [
        ((0.0, 0.905), 1.0, 2.0),
        ((0.0, -0.3), 0.2, 1.02),
        ((-0.22, 0.0), 0.0, 1.0),
        ((0.0, 0.45), 0.3, 1.03),
    ]:
        assert at(x, y, image) == pytest.approx(modified, abs=1e-6)
        assert at(x, y, original) == pytest.approx(value, abs=1e-6)
    assert sum(row[1] for row in SHEPP_LOGAN_2D[:2]) == pytest.approx(0.2)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 70))
def test_shepp_logan_inside_circle(n):
    image = shepp_logan(n)
    assert image.shape == (n, n)
    assert np.all(image[~circle_mask(n)] == 0) and image.min() >= 0


def test_ellipse_area_and_rotation():
    n = 200
    mask = ellipse(n, (0.1, -0.2), (0.5, 0.3))
    area = mask.sum() * (2 / n) ** 2
    assert area == pytest.approx(np.pi * 0.5 * 0.3, rel=0.02)
    rows, cols = np.nonzero(mask)
    assert coordinate(cols.mean(), n) == pytest.approx(0.1, abs=0.01)
    assert -coordinate(rows.mean(), n) == pytest.approx(-0.2, abs=0.01)
    # turning by 90 degrees swaps the semi-axes
    np.testing.assert_array_equal(
        ellipse(n, (0, 0), (0.5, 0.3), 90.0), ellipse(n, (0, 0), (0.3, 0.5))
    )
    with pytest.raises(ValueError, match="positive semi-axes"):
        ellipse(8, (0, 0), (0.0, 0.5))


# ---------------------------------------------------------------------------------------------
# 3D Shepp-Logan
# ---------------------------------------------------------------------------------------------
def test_shepp_logan_3d_values():
    n = 64
    volume = shepp_logan_3d(n)
    assert volume.shape == (n, n, n) and volume.dtype == np.float32

    def at(x, y, z):
        k, i, j = (int(round((n * v + n - 1) / 2)) for v in (z, -y, x))
        return volume[k, i, j]

    assert at(0.0, 0.0, 0.0) == pytest.approx(0.2)  # brain: 1 - 0.8
    assert at(-0.22, 0.0, -0.25) == pytest.approx(0.0)  # left ventricle: 1 - 0.8 - 0.2
    assert at(0.0, 0.35, -0.25) == pytest.approx(0.4)  # ellipsoid 5: 0.2 + 0.2
    assert at(0.0, 0.1, 0.625) == pytest.approx(0.0)  # ellipsoid 10: 0.2 - 0.2
    assert at(0.0, 0.0, 0.95) == 0.0  # above the skull (c = 0.9)
    assert at(0.0, 0.0, 0.89) == pytest.approx(1.0)  # skull cap
    original = shepp_logan_3d(n, modified=False)
    assert original[n // 2, n // 2, n // 2] == pytest.approx(1.02)
    for k in range(n):
        assert np.all(volume[k][~circle_mask(n)] == 0)


def test_shepp_logan_3d_cross_section_resembles_2d():
    n = 128
    section = shepp_logan_3d(n)[3 * n // 8]  # z = (2k + 1 - n) / n = -0.25 + 1/n
    flat = shepp_logan(n)
    # the ventricles: value 0 inside the head (skull 1 - brain 0.8 - ventricle 0.2)
    ventricles_2d = (np.abs(flat) < 0.05) & ndimage.binary_fill_holes(flat > 0.5)
    ventricles_3d = (np.abs(section) < 0.05) & ndimage.binary_fill_holes(section > 0.5)
    iou = (ventricles_2d & ventricles_3d).sum() / (ventricles_2d | ventricles_3d).sum()
    assert iou > 0.8
    head_2d, head_3d = flat > 0, section > 0  # 4% smaller: the skull ellipsoid narrows
    assert (head_2d & head_3d).sum() / (head_2d | head_3d).sum() > 0.9


# ---------------------------------------------------------------------------------------------
# Random phantoms
# ---------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1), n=st.sampled_from([20, 28, 33, 64, 96]), k=st.integers(0, 10)
)
@example(seed=166, n=28, k=2)  # a "liver" lesion that once sat on a kidney painted over the liver
@example(seed=5127, n=33, k=3)  # a small lesion at an organ's edge: texture hides most contrast
def test_random_phantom_promises(seed, n, k):
    k = min(k, max_lesions(n))
    mu, mask = random_phantom(n, seed, n_lesions=k)
    assert mu.shape == mask.shape == (n, n)
    assert mu.dtype == np.float32 and mask.dtype == bool
    assert np.all(mu >= 0) and np.all(mu[~circle_mask(n)] == 0)
    body = ndimage.binary_fill_holes(mu > 0.5 * MU_WATER)
    # every lesion lies inside the body with at least one pixel of tissue around it
    assert not (ndimage.binary_dilation(mask) & ~body).any()
    labels, count = ndimage.label(mask)
    assert count == k  # lesions never touch
    hu = mu_to_hu(mu)
    assert -1001 < hu.min() and hu[body].max() < 900
    # without the texture: the same lesions, uniform, 25-80 HU from the host tissue around them
    flat, same_mask = random_phantom(n, seed, n_lesions=k, texture=False)
    assert np.array_equal(mask, same_mask)
    flat_hu = mu_to_hu(flat.astype(np.float64))
    for lesion in range(1, count + 1):
        inside = labels == lesion
        ring = ndimage.binary_dilation(inside) & ~inside  # the one-pixel margin of host tissue
        assert np.ptp(flat_hu[inside]) < 0.01 and np.ptp(flat_hu[ring]) < 0.01
        assert 25 - 0.01 < abs(flat_hu[inside][0] - flat_hu[ring][0]) < 80 + 0.01
    # the texture is what differs: smooth noise of SD 6-12 HU over the body, none in the air
    noise = hu - flat_hu
    inside_body = flat > 0
    assert 6 - 0.01 < noise[inside_body].std() < 12 + 0.01 and np.all(noise[~inside_body] == 0)


def test_random_phantom_is_deterministic():
    a = random_phantom(64, 5)
    b = random_phantom(64, 5)
    c = random_phantom(64, 6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = random_phantom(64, np.random.default_rng(5))
    assert np.array_equal(a[0], d[0])


def test_random_phantom_is_a_plausible_body():
    mu, mask = random_phantom(128, 0, n_lesions=2)
    hu = mu_to_hu(mu)
    body = mu > 0
    assert 0.3 < body.mean() < 0.7
    # mostly soft tissue around 40 HU, some fat, a little bone
    assert 0 < np.median(hu[body]) < 80
    assert (hu[body] < -50).mean() > 0.05 and (hu > 400).sum() > 10
    assert mask.sum() > 0 and not np.array_equal(mu, random_phantom(128, 0, n_lesions=0)[0])
    # radon accepts it without warning: nothing outside the inscribed circle
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        radon(mu, np.arange(0, 180, 30))


def test_no_lesions_gives_an_empty_mask():
    assert not random_phantom(32, 1, n_lesions=0)[1].any()


def test_phantom_errors():
    with pytest.raises(ValueError, match="n must be >= 20"):
        random_phantom(16, 0)
    with pytest.raises(TypeError, match="n must be an int"):
        random_phantom(32.0, 0)
    with pytest.raises(ValueError, match=r"n_lesions must be in \[0, 10\] for n=100"):
        random_phantom(100, 0, n_lesions=11)
    with pytest.raises(ValueError, match=r"n_lesions must be in \[0, 3\] for n=32"):
        random_phantom(32, 0, n_lesions=4)
    with pytest.raises(ValueError, match="n_lesions"):
        random_phantom(32, 0, n_lesions=-1)
    with pytest.raises(TypeError, match="n_lesions must be an int"):
        random_phantom(32, 0, n_lesions=True)
    with pytest.raises(TypeError, match="seed must be an int or a numpy.random.Generator"):
        random_phantom(32, "0")
    with pytest.raises(ValueError, match="seed must be non-negative"):
        random_phantom(32, -1)
    with pytest.raises(ValueError, match="n must be positive"):
        shepp_logan(0)
    with pytest.raises(ValueError, match="n must be >= 20"):
        max_lesions(19)
    with pytest.raises(TypeError, match="n must be an int"):
        shepp_logan_3d(2.5)
