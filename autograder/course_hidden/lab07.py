"""Hidden checks of lab07_augmentation (grader only): other inputs, independent references.

The geometric transforms are compared with a NumPy re-implementation of the sampling (every
output pixel's source position, then linear or nearest-neighbour interpolation with zeros
outside), written here without SciPy, on non-square images, volumes, boolean and multi-label
masks. Random transforms are checked by their invariants (image and mask aligned, labels kept,
the same seed gives the same result) and their distribution, and intensity transforms by their
formula and the statistics of the noise.
"""

from __future__ import annotations

import itertools

import numpy as np

from course.checks import as_array, assert_close, guard
from course.checks.lab07 import (
    check_affine_case,
    check_contrast_cases,
    check_field_cases,
    check_flip_rot_distribution,
    check_flip_rot_draw,
    check_gamma_case,
    check_noise_cases,
    check_warp_case,
    contrast_noise,
    get_field,
    label_mask,
    lag_correlation,
    smooth_image,
)


# --- sampling written with NumPy only --------------------------------------------------------
def sample(array: np.ndarray, coordinates: np.ndarray, order: int) -> np.ndarray:
    """``array`` at the positions ``coordinates`` (ndim, *out_shape): linear (order 1) or
    nearest-neighbour (order 0) interpolation, 0 where a position lies outside the array.
    """
    shape = array.shape
    inside = np.ones(coordinates.shape[1:], dtype=bool)
    for c, n in zip(coordinates, shape, strict=True):
        inside &= (c >= 0) & (c <= n - 1)
    if order == 0:
        index = tuple(
            np.clip(np.floor(c + 0.5).astype(int), 0, n - 1)
            for c, n in zip(coordinates, shape, strict=True)
        )
        return np.where(inside, array[index], 0).astype(array.dtype)
    base = [
        np.clip(np.floor(c).astype(int), 0, n - 2) for c, n in zip(coordinates, shape, strict=True)
    ]
    fraction = [c - b for c, b in zip(coordinates, base, strict=True)]
    out = np.zeros(coordinates.shape[1:])
    for corner in itertools.product((0, 1), repeat=array.ndim):
        weight = np.ones(coordinates.shape[1:])
        for f, k in zip(fraction, corner, strict=True):
            weight = weight * (f if k else 1 - f)
        out += weight * array[tuple(b + k for b, k in zip(base, corner, strict=True))]
    return np.where(inside, out, 0.0)


def affine_reference(image, mask, angle, scale, shift):
    """Output pixel o samples the input at R(-angle) (o - c - t) / scale + c."""
    theta = np.deg2rad(angle)
    inverse = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]) / scale
    centre = (np.array(image.shape, dtype=float) - 1) / 2
    grid = np.indices(image.shape, dtype=float).reshape(2, -1)
    source = inverse @ (grid - centre[:, None] - np.asarray(shift, float)[:, None])
    source = (source + centre[:, None]).reshape(2, *image.shape)
    return sample(image.astype(float), source, 1), sample(mask, source, 0)


# --- q1 --------------------------------------------------------------------------------------
def q1_random_flip_rot(random_flip_rot) -> None:
    guard()
    rng = np.random.default_rng(1071)
    image = rng.normal(size=(5, 8))
    for mask in (rng.random((5, 8)) < 0.5, rng.integers(0, 4, (5, 8)).astype(np.int64)):
        for seed in range(100, 108):
            check_flip_rot_draw(random_flip_rot, image, mask, seed)
            check_flip_rot_draw(random_flip_rot, mask.astype(float), mask, seed)
    square = rng.random((7, 7))
    mask = label_mask(square, (0, 2, 5), np.int32)
    check_flip_rot_distribution(random_flip_rot, square, mask, 1071, 400)


# --- q2 --------------------------------------------------------------------------------------
def q2_affine_pair(affine_pair) -> None:
    guard()
    rng = np.random.default_rng(1072)
    cases = [
        ((40, 40), 17.0, 1.0, (2.3, -4.1), (0, 1), np.uint8),
        ((33, 47), -65.0, 1.25, (0.0, 3.7), (0, 3, 7), np.int64),
        ((28, 20), 140.0, 0.7, (-1.9, 1.3), (0, 1), np.int32),
        ((25, 25), 0.0, 1.0, (0.0, 0.0), (0, 1, 2), np.uint8),  # the identity
        ((30, 36), 75.0, 1.0, (3.0, -2.0), (0, 1), np.uint8),  # (90: positions on the border)
    ]
    for shape, angle, scale, shift, labels, dtype in cases:
        image = 100.0 * smooth_image(shape, rng) - 30.0
        mask = label_mask(smooth_image(shape, rng), labels, dtype)
        expected = affine_reference(image, mask, angle, scale, shift)
        check_affine_case(affine_pair, image, mask, angle, scale, shift, *expected, 0.005)
    image = smooth_image((24, 24), rng)
    mask = image > 0.5
    expected_image, expected_mask = affine_reference(
        image, mask.astype(np.uint8), 33.0, 1.1, (1.5, 0.5)
    )
    check_affine_case(
        affine_pair,
        image,
        mask,
        33.0,
        1.1,
        (1.5, 0.5),
        expected_image,
        expected_mask.astype(bool),
        0.005,
    )


# --- q3 --------------------------------------------------------------------------------------
def q3_displacement_field(displacement_field) -> None:
    guard()
    check_field_cases(displacement_field, (80, 120), 12.0, 2.5, 1073)
    check_field_cases(displacement_field, (100, 100), 50.0, 6.0, 1074)
    check_field_cases(displacement_field, (48, 40), 1.5, 0.0, 1075)
    shape = (24, 28, 32)
    check_field_cases(displacement_field, shape, 20.0, 3.0, 1076)
    field, what = get_field(displacement_field, shape, 20.0, 3.0, 1076)
    for a, b in itertools.combinations(range(3), 2):
        r = float(np.corrcoef(field[a].ravel(), field[b].ravel())[0, 1])
        if abs(r) > 0.3:
            raise AssertionError(f"{what}: components {a} and {b} are correlated (r = {r:.2f})")
    for axis in range(3):
        if lag_correlation(field, axis) < 0.85:
            raise AssertionError(f"{what}: not smooth along axis {axis}")


# --- q4 --------------------------------------------------------------------------------------
def _random_field(rng, shape, amplitude):
    from scipy import ndimage

    field = np.stack([ndimage.gaussian_filter(rng.uniform(-1, 1, shape), 2) for _ in shape])
    return field * amplitude / np.abs(field).max()


def q4_elastic_warp(elastic_warp) -> None:
    guard()
    rng = np.random.default_rng(1074)
    for shape, amplitude, labels, dtype in [
        ((30, 22), 4.0, (0, 1), np.uint8),
        ((40, 40), 9.0, (0, 2, 9), np.int64),
        ((10, 12, 14), 2.5, (0, 1), np.uint8),
    ]:
        image = 50.0 * smooth_image(shape, rng) + 10.0
        mask = label_mask(smooth_image(shape, rng), labels, dtype)
        field = _random_field(rng, shape, amplitude)
        coordinates = np.indices(shape, dtype=float) + field
        expected = sample(image, coordinates, 1), sample(mask, coordinates, 0)
        check_warp_case(
            elastic_warp,
            image,
            mask,
            field,
            *expected,
            f" (a smooth field of up to {amplitude} pixels)",
            0.005,
        )
    image = smooth_image((16, 16), rng)
    field = np.zeros((2, 16, 16))
    field[1] = 100.0  # every pixel samples far outside the image: all zero
    mask = label_mask(image, (0, 1))
    check_warp_case(
        elastic_warp,
        image,
        mask,
        field,
        np.zeros((16, 16)),
        np.zeros_like(mask),
        " (every pixel samples outside the image)",
        0,
    )


# --- q5 --------------------------------------------------------------------------------------
def _gamma_formula(image, gamma):
    low, high = float(image.min()), float(image.max())
    if high == low:
        return image.astype(float)
    return low + (high - low) * ((image.astype(float) - low) / (high - low)) ** gamma


def q5_gamma_pair(gamma_pair) -> None:
    guard()
    rng = np.random.default_rng(1075)
    for shape, low, high, gamma in [
        ((20, 30), -1000.0, 2000.0, 0.6),
        ((6, 10, 12), 0.0, 255.0, 1.8),
        ((15, 15), -3.0, -1.0, 1.0),
        ((9, 31), 0.2, 0.7, 3.0),
    ]:
        image = low + (high - low) * smooth_image(shape, rng)
        mask = label_mask(smooth_image(shape, rng), (0, 1, 2))
        check_gamma_case(gamma_pair, image, mask, gamma, _gamma_formula(image, gamma))
    image = rng.random((12, 12)).astype(np.float32)
    mask = image > 0.5
    check_gamma_case(gamma_pair, image, mask, 0.8, _gamma_formula(image, 0.8), " (float32)")
    flat = np.full((5, 7), -200.0)
    check_gamma_case(gamma_pair, flat, np.ones((5, 7), np.uint8), 0.5, flat, " (constant)")


# --- q6 --------------------------------------------------------------------------------------
def q6_contrast_noise_pair(contrast_noise_pair) -> None:
    guard()
    rng = np.random.default_rng(1076)
    image = rng.uniform(0.1, 0.9, (20, 28))
    mask = label_mask(smooth_image((20, 28), rng), (0, 1, 2), np.int64)
    for factor, seed in [(1.2, 10), (0.0, 11), (2.5, 12), (1.0, 13)]:
        check_contrast_cases(contrast_noise_pair, image, mask, factor, seed)
    volume = 0.4 + 0.2 * smooth_image((8, 10, 12), rng)
    check_contrast_cases(contrast_noise_pair, volume, label_mask(volume), 1.7, 14)
    big = label_mask(rng.random((128, 128)))
    check_noise_cases(contrast_noise_pair, (128, 128), 0.02, 15, big)
    check_noise_cases(contrast_noise_pair, (128, 128), 0.1, 16, big)
    grey = np.full((128, 128), 0.5)
    out, what = contrast_noise(contrast_noise_pair, grey, big, 1.0, 0.05, 17)
    noise = as_array(out, what) - 0.5
    within = float(np.mean(np.abs(noise) <= 0.05))
    if not abs(within - 0.6827) <= 0.02:
        raise AssertionError(
            f"{what}: {within:.1%} of the noise lies within one standard deviation, expected "
            "68% for Gaussian noise"
        )
    for axis in (0, 1):
        r = lag_correlation(noise[None], axis)
        if abs(r) > 0.05:
            raise AssertionError(f"{what}: the noise of neighbouring pixels is correlated")
    # contrast and noise together: the mean stays, the spread grows
    out, what = contrast_noise(contrast_noise_pair, image, mask, 0.5, 0.01, 18)
    reference = np.clip(image.mean() + 0.5 * (image - image.mean()), 0, 1)
    assert_close(out, reference, f"the image returned by {what}", atol=0.06, rtol=0)
