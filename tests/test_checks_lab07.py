"""The visible and hidden checks of lab07 accept correct answers and reject typical mistakes."""

import numpy as np
import pytest
from cheats import always_equal, always_equal_pair, hidden_checks
from scipy import ndimage

from course import augment
from course.checks import lab07 as visible

hidden = hidden_checks("lab07")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


def _labels(mask):
    return mask.astype(np.uint8) if mask.dtype == bool else mask


# --- correct answers -------------------------------------------------------------------------
def flip_rot(image, mask, rng):
    k, flip = int(rng.integers(4)), rng.random() < 0.5
    image, mask = np.rot90(image, k), np.rot90(mask, k)
    return (np.fliplr(image), np.fliplr(mask)) if flip else (image, mask)


def flip_then_rot(image, mask, rng):  # another order: the same 8 transforms
    if rng.random() < 0.5:
        image, mask = image[:, ::-1], mask[:, ::-1]
    k = int(rng.integers(4))
    return np.rot90(image, k).copy(), np.rot90(mask, k).copy()


def flip_rot_library(image, mask, rng):
    image, mask = augment.random_flip(image, mask, rng, axes=[1])
    return augment.random_rotate90(image, mask, rng)


def affine_homogeneous(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    """The same geometry as one 3x3 homogeneous matrix: input = T(c) S(1/s) R(-angle) T(-c-t)."""
    theta = np.deg2rad(angle)
    c = (np.array(image.shape) - 1) / 2
    to_centre = np.array([[1, 0, -c[0] - shift[0]], [0, 1, -c[1] - shift[1]], [0, 0, 1.0]])
    unturn = np.array(
        [[np.cos(theta), np.sin(theta), 0], [-np.sin(theta), np.cos(theta), 0], [0, 0, 1.0]]
    )
    unzoom = np.diag([1 / scale, 1 / scale, 1.0])
    back = np.array([[1, 0, c[0]], [0, 1, c[1]], [0, 0, 1.0]])
    matrix = back @ unzoom @ unturn @ to_centre
    out = ndimage.affine_transform(image.astype(float), matrix, order=1, mode="constant")
    labels = ndimage.affine_transform(_labels(mask), matrix, order=0, mode="constant")
    return out, labels.astype(mask.dtype)


def affine_map_coordinates(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    theta = np.deg2rad(angle)
    rows, cols = np.indices(image.shape, dtype=float)
    c = (np.array(image.shape) - 1) / 2
    y, x = rows - c[0] - shift[0], cols - c[1] - shift[1]
    source = np.stack(
        [
            (np.cos(theta) * y + np.sin(theta) * x) / scale + c[0],
            (-np.sin(theta) * y + np.cos(theta) * x) / scale + c[1],
        ]
    )
    out = ndimage.map_coordinates(image.astype(float), source, order=1, mode="constant")
    labels = ndimage.map_coordinates(_labels(mask), source, order=0, mode="constant")
    return out, labels.astype(mask.dtype)


def field(shape, alpha, sigma, rng):
    return np.stack(
        [alpha * ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma) for _ in shape]
    )


def field_at_once(shape, alpha, sigma, rng):  # all noise at once, no smoothing across maps
    noise = rng.uniform(-1, 1, (len(shape), *shape))
    return alpha * ndimage.gaussian_filter(noise, (0, *[sigma] * len(shape)))


def warp(image, mask, displacement):
    grid = np.meshgrid(*[np.arange(n) for n in image.shape], indexing="ij")
    coordinates = [g + d for g, d in zip(grid, displacement, strict=True)]
    out = ndimage.map_coordinates(image.astype(float), coordinates, order=1, mode="constant")
    labels = ndimage.map_coordinates(_labels(mask), coordinates, order=0, mode="constant")
    return out, labels.astype(mask.dtype)


def gamma_library(image, mask, gamma):
    return augment.adjust_gamma(image, mask, gamma=gamma)


def gamma_formula(image, mask, gamma):
    image = image.astype(float)
    low, high = image.min(), image.max()
    if low == high:
        return image, mask.copy()
    return low + (high - low) * ((image - low) / (high - low)) ** gamma, mask.copy()


def contrast_noise(image, mask, rng, factor, noise_std):
    mean = image.mean()
    out = mean + factor * (image - mean) + rng.normal(0, noise_std, image.shape)
    return np.clip(out, 0, 1), mask


def contrast_noise_library(image, mask, rng, factor, noise_std):
    image, mask = augment.adjust_contrast(image, mask, rng, factor=factor)
    image, mask = augment.add_gaussian_noise(image, mask, rng, std=noise_std)
    return np.clip(image, 0, 1), mask


CORRECT = [
    ("q1_random_flip_rot", flip_rot),
    ("q1_random_flip_rot", flip_then_rot),
    ("q1_random_flip_rot", flip_rot_library),
    ("q2_affine_pair", affine_homogeneous),
    ("q2_affine_pair", affine_map_coordinates),
    ("q3_displacement_field", field),
    ("q3_displacement_field", field_at_once),
    ("q4_elastic_warp", warp),
    ("q5_gamma_pair", gamma_library),
    ("q5_gamma_pair", gamma_formula),
    ("q6_contrast_noise_pair", contrast_noise),
    ("q6_contrast_noise_pair", contrast_noise_library),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", CORRECT)
def test_correct_answers_pass(module, name, answer):
    getattr(module, name)(answer)


# --- wrong answers ---------------------------------------------------------------------------
def rot_only(image, mask, rng):
    k = int(rng.integers(4))
    return np.rot90(image, k), np.rot90(mask, k)


def two_draws(image, mask, rng):  # image and mask get independent draws
    return flip_rot(image, mask, rng)[0], flip_rot(image, mask, rng)[1]


def global_random(image, mask, rng):
    return flip_rot(image, mask, np.random.default_rng())


def three_turns(image, mask, rng):
    k, flip = int(rng.integers(3)), rng.random() < 0.5
    image, mask = np.rot90(image, k), np.rot90(mask, k)
    return (np.fliplr(image), np.fliplr(mask)) if flip else (image, mask)


def float_mask(image, mask, rng):
    image, mask = flip_rot(image, mask, rng)
    return image, mask.astype(float)


def rotates_mask_other_way(image, mask, rng):
    k, flip = int(rng.integers(4)), rng.random() < 0.5
    image, mask = np.rot90(image, k), np.rot90(mask, -k)
    return (np.fliplr(image), np.fliplr(mask)) if flip else (image, mask)


def flips_in_place(image, mask, rng):
    image[:] = image[:, ::-1].copy()
    mask[:] = mask[:, ::-1].copy()
    return image, mask


def _affine(image, mask, matrix, offset, order_mask=0, mode="constant", order_image=1):
    out = ndimage.affine_transform(
        image.astype(float), matrix, offset, order=order_image, mode=mode
    )
    labels = ndimage.affine_transform(_labels(mask), matrix, offset, order=order_mask, mode=mode)
    return out, labels.astype(mask.dtype)


def _matrix(angle, scale):
    t = np.deg2rad(angle)
    return scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def affine_forward_matrix(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    a = _matrix(angle, scale)  # not inverted
    c = (np.array(image.shape) - 1) / 2
    return _affine(image, mask, a, c - a @ (c + np.asarray(shift)))


def affine_linear_mask(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    inv = np.linalg.inv(_matrix(angle, scale))
    c = (np.array(image.shape) - 1) / 2
    return _affine(image, mask, inv, c - inv @ (c + np.asarray(shift)), order_mask=1)


def affine_centre_n_over_2(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    inv = np.linalg.inv(_matrix(angle, scale))
    c = np.array(image.shape) / 2
    return _affine(image, mask, inv, c - inv @ (c + np.asarray(shift)))


def affine_shift_sign(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    inv = np.linalg.inv(_matrix(angle, scale))
    c = (np.array(image.shape) - 1) / 2
    return _affine(image, mask, inv, c - inv @ (c - np.asarray(shift)))


def affine_radians(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    return affine_map_coordinates(image, mask, np.rad2deg(angle) / 57.0, scale, shift)


def affine_nearest_image(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    inv = np.linalg.inv(_matrix(angle, scale))
    c = (np.array(image.shape) - 1) / 2
    return _affine(image, mask, inv, c - inv @ (c + np.asarray(shift)), order_image=0)


def affine_mode_nearest(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    inv = np.linalg.inv(_matrix(angle, scale))
    c = (np.array(image.shape) - 1) / 2
    return _affine(image, mask, inv, c - inv @ (c + np.asarray(shift)), mode="nearest")


def affine_no_shift(image, mask, angle, scale=1.0, shift=(0.0, 0.0)):
    return affine_map_coordinates(image, mask, angle, scale, (0.0, 0.0))


def field_smooths_across_maps(shape, alpha, sigma, rng):
    noise = rng.uniform(-1, 1, (len(shape), *shape))
    return alpha * ndimage.gaussian_filter(noise, sigma)


def field_normal_noise(shape, alpha, sigma, rng):
    return np.stack([alpha * ndimage.gaussian_filter(rng.normal(size=shape), sigma) for _ in shape])


def field_same_noise(shape, alpha, sigma, rng):
    one = alpha * ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma)
    return np.stack([one] * len(shape))


def field_global_random(shape, alpha, sigma, rng):
    return field(shape, alpha, sigma, np.random.default_rng())


def field_no_smoothing(shape, alpha, sigma, rng):
    return field(shape, alpha, 0, rng)


def field_channels_last(shape, alpha, sigma, rng):
    return np.moveaxis(field(shape, alpha, sigma, rng), 0, -1)


def field_alpha_squared(shape, alpha, sigma, rng):
    return field(shape, alpha**2, sigma, rng)


def warp_minus(image, mask, displacement):
    return warp(image, mask, -displacement)


def warp_linear_mask(image, mask, displacement):
    coordinates = np.indices(image.shape, dtype=float) + displacement
    out = ndimage.map_coordinates(image.astype(float), coordinates, order=1, mode="constant")
    labels = ndimage.map_coordinates(_labels(mask).astype(float), coordinates, order=1)
    return out, np.rint(labels).astype(mask.dtype)


def warp_mode_nearest(image, mask, displacement):
    coordinates = np.indices(image.shape, dtype=float) + displacement
    out = ndimage.map_coordinates(image.astype(float), coordinates, order=1, mode="nearest")
    labels = ndimage.map_coordinates(_labels(mask), coordinates, order=0, mode="nearest")
    return out, labels.astype(mask.dtype)


def warp_swapped_axes(image, mask, displacement):
    return warp(image, mask, displacement[::-1])


def warp_image_only(image, mask, displacement):
    return warp(image, mask, displacement)[0], mask


def gamma_no_rescale(image, mask, gamma):
    with np.errstate(invalid="ignore"):
        return image.astype(float) ** gamma, mask


def gamma_inverted(image, mask, gamma):
    return gamma_formula(image, mask, 1 / gamma)


def gamma_nan_when_constant(image, mask, gamma):
    image = image.astype(float)
    low, high = image.min(), image.max()
    with np.errstate(invalid="ignore", divide="ignore"):
        return low + (high - low) * ((image - low) / (high - low)) ** gamma, mask


def gamma_changes_mask(image, mask, gamma):
    return gamma_formula(image, mask, gamma)[0], mask.astype(float)


def gamma_returns_image_only(image, mask, gamma):
    return gamma_formula(image, mask, gamma)[0]


def noise_no_clip(image, mask, rng, factor, noise_std):
    mean = image.mean()
    return mean + factor * (image - mean) + rng.normal(0, noise_std, image.shape), mask


def noise_uniform(image, mask, rng, factor, noise_std):
    mean = image.mean()
    noise = rng.uniform(-np.sqrt(3), np.sqrt(3), image.shape) * noise_std  # right std, not Gaussian
    return np.clip(mean + factor * (image - mean) + noise, 0, 1), mask


def noise_global_random(image, mask, rng, factor, noise_std):
    return contrast_noise(image, mask, np.random.default_rng(), factor, noise_std)


def contrast_about_half(image, mask, rng, factor, noise_std):
    out = 0.5 + factor * (image - 0.5) + rng.normal(0, noise_std, image.shape)
    return np.clip(out, 0, 1), mask


def noise_variance_as_std(image, mask, rng, factor, noise_std):
    return contrast_noise(image, mask, rng, factor, noise_std**2)


def noise_changes_mask(image, mask, rng, factor, noise_std):
    return contrast_noise(image, mask, rng, factor, noise_std)[0], np.zeros_like(mask)


WRONG = [
    ("q1_random_flip_rot", always_equal),
    ("q1_random_flip_rot", always_equal_pair),
    ("q1_random_flip_rot", rot_only),
    ("q1_random_flip_rot", two_draws),
    ("q1_random_flip_rot", global_random),
    ("q1_random_flip_rot", three_turns),
    ("q1_random_flip_rot", float_mask),
    ("q1_random_flip_rot", rotates_mask_other_way),
    ("q1_random_flip_rot", flips_in_place),
    ("q2_affine_pair", always_equal_pair),
    ("q2_affine_pair", affine_forward_matrix),
    ("q2_affine_pair", affine_linear_mask),
    ("q2_affine_pair", affine_centre_n_over_2),
    ("q2_affine_pair", affine_shift_sign),
    ("q2_affine_pair", affine_radians),
    ("q2_affine_pair", affine_nearest_image),
    ("q2_affine_pair", affine_mode_nearest),
    ("q2_affine_pair", affine_no_shift),
    ("q3_displacement_field", always_equal),
    ("q3_displacement_field", field_smooths_across_maps),
    ("q3_displacement_field", field_normal_noise),
    ("q3_displacement_field", field_same_noise),
    ("q3_displacement_field", field_global_random),
    ("q3_displacement_field", field_no_smoothing),
    ("q3_displacement_field", field_channels_last),
    ("q3_displacement_field", field_alpha_squared),
    ("q4_elastic_warp", always_equal_pair),
    ("q4_elastic_warp", warp_minus),
    ("q4_elastic_warp", warp_linear_mask),
    ("q4_elastic_warp", warp_mode_nearest),
    ("q4_elastic_warp", warp_swapped_axes),
    ("q4_elastic_warp", warp_image_only),
    ("q5_gamma_pair", always_equal_pair),
    ("q5_gamma_pair", gamma_no_rescale),
    ("q5_gamma_pair", gamma_inverted),
    ("q5_gamma_pair", gamma_nan_when_constant),
    ("q5_gamma_pair", gamma_changes_mask),
    ("q5_gamma_pair", gamma_returns_image_only),
    ("q6_contrast_noise_pair", always_equal_pair),
    ("q6_contrast_noise_pair", noise_no_clip),
    ("q6_contrast_noise_pair", noise_global_random),
    ("q6_contrast_noise_pair", contrast_about_half),
    ("q6_contrast_noise_pair", noise_variance_as_std),
    ("q6_contrast_noise_pair", noise_changes_mask),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", WRONG)
def test_wrong_answers_fail(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


def test_hidden_checks_that_the_noise_is_gaussian():
    visible.q6_contrast_noise_pair(noise_uniform)  # the visible check measures mean and std only
    with pytest.raises(AssertionError, match="68%"):
        hidden.q6_contrast_noise_pair(noise_uniform)


def test_not_implemented_passes_through():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    names = [
        "q1_random_flip_rot",
        "q2_affine_pair",
        "q3_displacement_field",
        "q4_elastic_warp",
        "q5_gamma_pair",
        "q6_contrast_noise_pair",
    ]
    for module in (visible, hidden):
        for name in names:
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


def test_other_exceptions_become_assertion_errors():
    def broken(*args, **kwargs):
        raise IndexError("index 3 is out of bounds")

    with pytest.raises(AssertionError, match="raised IndexError"):
        visible.q4_elastic_warp(broken)
