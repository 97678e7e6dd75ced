"""The checks of lab03_mri (visible and hidden) accept correct answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cheats import AlwaysEqual, cases, hidden_checks

from course.checks import lab03 as visible
from course.physics import mri

hidden = hidden_checks("lab03")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]
AXES = (-2, -1)


# --- independent correct answers -------------------------------------------------------------
def fft2c(image):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image, axes=AXES), norm="ortho"), axes=AXES)


def ifft2c(kspace):
    y = np.fft.ifftshift(kspace, axes=AXES)
    return np.fft.fftshift(np.fft.ifft2(y, norm="ortho"), axes=AXES)


def fft2c_by_matrices(image):
    """The DFT written as two matrix products with the centred index (an independent answer)."""
    image = np.asarray(image, dtype=complex)
    h, w = image.shape[-2:]

    def dft(n):
        k = np.arange(n) - n // 2
        return np.exp(-2j * np.pi * np.outer(k, k) / n) / np.sqrt(n)

    return dft(h) @ image @ dft(w).T


def fft2c_torch(image):
    return mri.fft2c(torch.as_tensor(np.asarray(image)))


def random_mask(shape, acceleration, center_fraction, seed):
    width = shape[-1]
    rng = np.random.default_rng(seed)
    n_center = round(center_fraction * width)
    start = width // 2 - n_center // 2
    mask = np.zeros(width, dtype=bool)
    mask[start : start + n_center] = True
    extra = rng.permutation(np.flatnonzero(~mask))[: max(round(width / acceleration) - n_center, 0)]
    mask[extra] = True
    return mask.reshape((1,) * (len(shape) - 1) + (width,))


def random_mask_int(shape, acceleration, center_fraction, seed):
    return random_mask(shape, acceleration, center_fraction, seed).astype(np.int64)


def zero_filled(kspace, mask):
    return np.abs(ifft2c(kspace * mask))


def alias_image(image, acceleration):
    shift = image.shape[-1] // acceleration
    return sum(np.roll(image, m * shift, axis=-1) for m in range(acceleration)) / acceleration


def alias_image_by_fft(image, acceleration):
    width = image.shape[-1]
    mask = (np.arange(width) - width // 2) % acceleration == 0
    return ifft2c(fft2c(image) * mask)


CORRECT = {
    "q1_fft2c": [fft2c, mri.fft2c, fft2c_by_matrices, fft2c_torch],
    "q2_ifft2c": [ifft2c, mri.ifft2c],
    "q3_random_mask": [random_mask, mri.random_mask, random_mask_int],
    "q4_zero_filled": [zero_filled, mri.zero_filled],
    "q5_alias_image": [alias_image, alias_image_by_fft],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(CORRECT))
def test_correct_answers_pass(module, name, answer):
    getattr(module, name)(answer)


# --- typical wrong answers -------------------------------------------------------------------


def fft2c_swapped_shifts(image):  # differs from the right answer for odd sizes only
    return np.fft.ifftshift(np.fft.fft2(np.fft.fftshift(image, axes=AXES), norm="ortho"), axes=AXES)


def fft2c_not_orthonormal(image):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image, axes=AXES)), axes=AXES)


def fft2c_not_centred(image):
    return np.fft.fft2(image, norm="ortho")


def fft2c_all_axes(image):  # fftn transforms the batch axes too
    return np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(image), norm="ortho"))


def fft2c_without_ifftshift(image):  # the DC term is right, the phase is not
    return np.fft.fftshift(np.fft.fft2(image, norm="ortho"), axes=AXES)


def ifft2c_swapped_shifts(kspace):
    y = np.fft.fftshift(kspace, axes=AXES)
    return np.fft.ifftshift(np.fft.ifft2(y, norm="ortho"), axes=AXES)


def ifft2c_default_norm_twice(kspace):
    y = np.fft.ifftshift(kspace, axes=AXES)
    return np.fft.fftshift(np.fft.ifft2(y), axes=AXES)


def mask_global_random(shape, acceleration, center_fraction, seed):
    width = shape[-1]
    n_center = round(center_fraction * width)
    start = width // 2 - n_center // 2
    mask = np.zeros(width, dtype=bool)
    mask[start : start + n_center] = True
    n_more = max(round(width / acceleration) - n_center, 0)
    mask[np.random.choice(np.flatnonzero(~mask), n_more, replace=False)] = True  # noqa: NPY002
    return mask.reshape((1,) * (len(shape) - 1) + (width,))


def mask_first_columns(shape, acceleration, center_fraction, seed):
    width = shape[-1]
    mask = random_mask(shape, width, center_fraction, seed).reshape(-1)  # the centre only
    n_more = max(round(width / acceleration) - int(mask.sum()), 0)
    mask[np.flatnonzero(~mask)[:n_more]] = True
    return mask.reshape((1,) * (len(shape) - 1) + (width,))


def mask_probability(shape, acceleration, center_fraction, seed):  # count varies around W / R
    width = shape[-1]
    rng = np.random.default_rng(seed)
    n_center = round(center_fraction * width)
    start = width // 2 - n_center // 2
    mask = rng.random(width) < (width / acceleration - n_center) / (width - n_center)
    mask[start : start + n_center] = True
    return mask.reshape((1,) * (len(shape) - 1) + (width,))


def mask_shifted_centre(shape, acceleration, center_fraction, seed):
    width = shape[-1]
    mask = random_mask(shape, acceleration, center_fraction, seed).reshape(-1)
    return np.roll(mask, width // 4).reshape((1,) * (len(shape) - 1) + (width,))


def mask_one_dimensional(shape, acceleration, center_fraction, seed):
    return random_mask(shape, acceleration, center_fraction, seed).reshape(-1)


def mask_full_shape(shape, acceleration, center_fraction, seed):
    return np.broadcast_to(random_mask(shape, acceleration, center_fraction, seed), shape)


def mask_float_fraction(shape, acceleration, center_fraction, seed):
    return random_mask(shape, acceleration, center_fraction, seed) * 0.5


def zero_filled_complex(kspace, mask):
    return ifft2c(kspace * mask)


def zero_filled_real_part(kspace, mask):
    return np.real(ifft2c(kspace * mask))


def zero_filled_plain_ifft(kspace, mask):
    return np.abs(np.fft.ifft2(kspace * mask, norm="ortho"))


def alias_magnitude(image, acceleration):
    return np.abs(alias_image(image, acceleration))


def alias_sum(image, acceleration):
    return alias_image(image, acceleration) * acceleration


def alias_axis_0(image, acceleration):
    shift = image.shape[-2] // acceleration
    return sum(np.roll(image, m * shift, axis=-2) for m in range(acceleration)) / acceleration


def alias_one_copy(image, acceleration):
    return (image + np.roll(image, image.shape[-1] // acceleration, axis=-1)) / 2


WRONG = {
    "q1_fft2c": [
        fft2c_swapped_shifts,
        fft2c_not_orthonormal,
        fft2c_not_centred,
        fft2c_all_axes,
        fft2c_without_ifftshift,
        lambda image: np.abs(fft2c(image)),
        lambda image: AlwaysEqual(),
    ],
    "q2_ifft2c": [
        ifft2c_swapped_shifts,
        ifft2c_default_norm_twice,
        fft2c,
        lambda kspace: np.real(ifft2c(kspace)),
        lambda kspace: AlwaysEqual(),
    ],
    "q3_random_mask": [
        mask_global_random,
        mask_first_columns,
        mask_probability,
        mask_shifted_centre,
        mask_one_dimensional,
        mask_full_shape,
        mask_float_fraction,
        mri.equispaced_mask,
        lambda *args: AlwaysEqual(),
    ],
    "q4_zero_filled": [
        zero_filled_complex,
        zero_filled_real_part,
        zero_filled_plain_ifft,
        lambda kspace, mask: np.abs(ifft2c(kspace)),
        lambda kspace, mask: AlwaysEqual(),
    ],
    "q5_alias_image": [
        alias_magnitude,
        alias_sum,
        alias_axis_0,
        alias_one_copy,
        lambda image, acceleration: AlwaysEqual(),
    ],
}


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", cases(WRONG))
def test_wrong_answers_fail(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


def test_messages_teach():
    with pytest.raises(AssertionError, match="fftshift and ifftshift are swapped"):
        visible.q1_fft2c(fft2c_swapped_shifts)
    with pytest.raises(AssertionError, match="orthonormal scaling is missing"):
        visible.q2_ifft2c(ifft2c_default_norm_twice)
    with pytest.raises(AssertionError, match="global np.random state"):
        visible.q3_random_mask(mask_global_random)
    with pytest.raises(AssertionError, match="all gave the same mask"):
        visible.q3_random_mask(mask_first_columns)
    with pytest.raises(AssertionError, match="equispaced"):
        visible.q3_random_mask(mri.equispaced_mask)
    with pytest.raises(AssertionError, match="magnitude"):
        visible.q4_zero_filled(zero_filled_complex)


def test_mask_check_keeps_the_global_random_state():
    np.random.seed(7)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    visible.q3_random_mask(random_mask)
    hidden.q3_random_mask(random_mask)
    assert np.random.random() == expected  # noqa: NPY002


def test_not_implemented_is_not_swallowed():
    def stub(*args):
        raise NotImplementedError()

    for name in CORRECT:
        with pytest.raises(NotImplementedError):
            getattr(visible, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_detected(module, monkeypatch):
    monkeypatch.setattr(np, "isclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q5_alias_image(alias_image)
