"""Hidden checks of lab03_mri (grader only): other inputs, independent references.

References: the centred orthonormal transforms by :mod:`scipy.fft` with explicit shifts (odd and
even sizes, batches, complex data); masks by their properties (shape, centre, number of
columns, same seed same mask, independence from the global random state, every outer column
reachable); zero filling by :mod:`scipy.fft`; aliasing by the FFT of the masked k-space.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from course.checks import as_array, guard
from course.checks.lab03 import (
    aliasing_mask,
    assert_complex_close,
    check_alias,
    check_mask,
    check_mask_coverage,
    check_transform,
    check_zero_filled,
)


def _fft2c(x):
    x = scipy.fft.ifftshift(x, axes=(-2, -1))
    return scipy.fft.fftshift(scipy.fft.fft2(x, norm="ortho"), axes=(-2, -1))


def _complex(rng, shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


def q1_fft2c(fft2c) -> None:
    guard()
    rng = np.random.default_rng(11)
    check_transform(fft2c, _complex(rng, (9, 10)), False, "random complex data")
    check_transform(fft2c, rng.normal(size=(7, 5)), False, "an odd-sized image")
    check_transform(fft2c, _complex(rng, (2, 3, 9, 11)), False, "a (2, 3) batch")
    check_transform(fft2c, rng.normal(size=(1, 16)), False, "a single row")
    check_transform(fft2c, rng.uniform(size=(64, 48)), False, "a 64x48 image")
    image = rng.normal(size=(13, 8))
    name = "fft2c(a 13x8 image)"
    result = as_array(fft2c(image.copy()), name, dtype=np.complex128, shape=image.shape)
    energy, expected = float(np.sum(np.abs(result) ** 2)), float(np.sum(image**2))
    if not np.isclose(energy, expected, rtol=1e-9):
        raise AssertionError(
            f"{name}: sum |y|^2 = {energy:.6g} but sum |x|^2 = {expected:.6g} (Parseval: an "
            "orthonormal transform keeps the energy)"
        )
    assert_complex_close(result, _fft2c(image), name, rtol=1e-6)


def q2_ifft2c(ifft2c) -> None:
    guard()
    rng = np.random.default_rng(12)
    check_transform(ifft2c, _complex(rng, (11, 6)), True, "random complex k-space")
    check_transform(ifft2c, _complex(rng, (4, 7, 9)), True, "a batch of 4 odd-sized k-spaces")
    check_transform(ifft2c, _complex(rng, (2, 2, 8, 8)), True, "a (2, 2) batch")
    image = _complex(rng, (15, 10))
    assert_complex_close(
        ifft2c(_fft2c(image)), image, "ifft2c(fft2c(x)) for a complex 15x10 x", rtol=1e-6
    )


def q3_random_mask(random_mask) -> None:
    guard()
    check_mask(random_mask, (320, 368), 4, 0.08, seeds=(3, 4))  # fastMRI knee, 4x
    check_mask(random_mask, (640, 372), 8, 0.04, seeds=(5, 6))  # fastMRI knee, 8x
    check_mask(random_mask, (2, 20, 37), 3.3, 0.1, seeds=(7, 8))  # odd W, batch
    check_mask(random_mask, (16, 15), 2, 0.2, seeds=(9, 10))
    check_mask(random_mask, (10, 50), 5, 0.0, seeds=(11, 12))  # no centre block
    check_mask(random_mask, (8, 24), 1, 0.25, seeds=(13,))  # every column
    check_mask(random_mask, (3, 4, 12, 33), 4, 0.09, seeds=(14, 15))
    check_mask_coverage(random_mask, (4, 31), 3, 0.1, n_seeds=120)


def q4_zero_filled(zero_filled) -> None:
    guard()
    rng = np.random.default_rng(14)
    kspace = _complex(rng, (3, 16, 12))
    check_zero_filled(zero_filled, kspace, aliasing_mask(12, 3), "3 complex k-spaces, R=3")
    full = (rng.random((16, 12)) < 0.4).astype(np.int64)
    check_zero_filled(zero_filled, kspace, full, "a 16x12 mask of 0/1 integers")
    image = rng.uniform(size=(9, 15))
    mask = np.zeros((1, 15), dtype=bool)
    mask[0, 5:10] = True
    check_zero_filled(zero_filled, _fft2c(image), mask, "only the centre of k-space")


def q5_alias_image(alias_image) -> None:
    guard()
    rng = np.random.default_rng(15)
    check_alias(alias_image, rng.normal(size=(10, 15)), 3, "a 10x15 image")
    check_alias(alias_image, rng.normal(size=(16, 64)), 4, "a 16x64 image")
    check_alias(alias_image, _complex(rng, (8, 12)), 2, "a complex 8x12 image")
    check_alias(alias_image, rng.normal(size=(2, 5, 12)), 4, "a batch of 2 images")
    check_alias(alias_image, rng.normal(size=(6, 9)), 1, "R = 1")
    check_alias(alias_image, rng.normal(size=(4, 14)), 7, "R = 7")
