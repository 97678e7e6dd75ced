"""Tests of course.physics.mri against explicit DFT matrices, NumPy and np.roll references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course.physics.mri import (
    acceleration_of,
    equispaced_mask,
    fft2c,
    ifft2c,
    partial_fourier,
    random_mask,
    undersample,
    zero_filled,
)

SETTINGS = settings(max_examples=30, deadline=None)
sizes = st.integers(min_value=2, max_value=17)


def centred_dft_matrix(n: int) -> np.ndarray:
    """F[k, m] = exp(-2 pi i (k - n//2)(m - n//2) / n) / sqrt(n): the centred DFT, by definition."""
    f = np.arange(n) - n // 2
    return np.exp(-2j * np.pi * np.outer(f, f) / n) / np.sqrt(n)


def random_complex(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------
# Centred FFTs
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(h=sizes, w=sizes, seed=st.integers(0, 2**16))
def test_fft2c_matches_centred_dft_definition(h, w, seed):
    x = random_complex(np.random.default_rng(seed), (h, w))
    expected = centred_dft_matrix(h) @ x @ centred_dft_matrix(w).T
    np.testing.assert_allclose(fft2c(x), expected, atol=1e-10)
    np.testing.assert_allclose(ifft2c(expected), x, atol=1e-10)


@SETTINGS
@given(h=sizes, w=sizes, seed=st.integers(0, 2**16))
def test_round_trip_and_parseval(h, w, seed):
    x = random_complex(np.random.default_rng(seed), (3, h, w))
    y = fft2c(x)
    np.testing.assert_allclose(ifft2c(y), x, atol=1e-10)
    np.testing.assert_allclose(fft2c(ifft2c(x)), x, atol=1e-10)
    # Orthonormal: the energy of every image is preserved.
    np.testing.assert_allclose((abs(y) ** 2).sum(axis=(-2, -1)), (abs(x) ** 2).sum(axis=(-2, -1)))


@pytest.mark.parametrize("shape", [(8, 8), (7, 10), (5, 5), (6, 9)])
def test_constant_image_has_only_a_centred_dc_term(shape):
    h, w = shape
    y = fft2c(np.full(shape, 2.0))
    expected = np.zeros(shape, complex)
    expected[h // 2, w // 2] = 2.0 * np.sqrt(h * w)
    np.testing.assert_allclose(y, expected, atol=1e-12)


def test_leading_axes_are_transformed_independently():
    x = np.random.default_rng(0).random((2, 3, 6, 5))
    y = fft2c(x)
    for b in range(2):
        for c in range(3):
            np.testing.assert_allclose(y[b, c], fft2c(x[b, c]))
    assert y.shape == x.shape and np.iscomplexobj(y)


def test_integer_and_list_inputs_are_accepted():
    np.testing.assert_allclose(fft2c([[1, 2], [3, 4]]), fft2c(np.array([[1.0, 2], [3, 4]])))


def test_torch_tensors_match_numpy_and_stay_tensors():
    x = np.random.default_rng(1).random((2, 6, 7))
    t = torch.from_numpy(x)
    y = fft2c(t)
    assert isinstance(y, torch.Tensor) and y.is_complex() and y.device == t.device
    np.testing.assert_allclose(y.numpy(), fft2c(x), atol=1e-12)
    np.testing.assert_allclose(ifft2c(y).numpy(), x, atol=1e-12)
    mask = equispaced_mask(x.shape, 2, 0.25, seed=0)
    zf = zero_filled(y, mask)
    assert isinstance(zf, torch.Tensor)
    np.testing.assert_allclose(zf.numpy(), zero_filled(fft2c(x), mask), atol=1e-12)
    # integer tensors are transformed as floats
    np.testing.assert_allclose(
        fft2c(torch.ones(4, 4, dtype=torch.int64)).numpy(), fft2c(np.ones((4, 4)))
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_torch_gpu_tensor_stays_on_gpu():
    x = torch.rand(2, 32, 32, device="cuda")
    y = fft2c(x)
    assert y.device == x.device
    np.testing.assert_allclose(y.cpu().numpy(), fft2c(x.cpu().numpy()), atol=1e-5)
    zf = zero_filled(y, random_mask(x.shape, 4, 0.08, seed=0))
    assert zf.device == x.device


@pytest.mark.parametrize("func", [fft2c, ifft2c])
def test_fft_bad_inputs(func):
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        func(np.ones(8))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        func(torch.ones(8))
    with pytest.raises(ValueError, match="NaN"):
        func(np.array([[1.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="NaN"):
        func(torch.tensor([[1.0, float("inf")], [0.0, 0.0]]))
    with pytest.raises(TypeError, match="dtype"):
        func(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="dtype"):
        func(torch.ones(2, 2, dtype=torch.bool))


@pytest.mark.parametrize("func, name", [(fft2c, "image"), (ifft2c, "kspace")])
@pytest.mark.parametrize("shape", [(0, 0), (4, 0), (2, 0, 5)])
def test_fft_empty_input_names_the_argument_and_shape(func, name, shape):
    for x in (np.zeros(shape), torch.zeros(shape)):
        with pytest.raises(
            ValueError, match=rf"{name} must not be empty, got shape \({shape[0]}, "
        ):
            func(x)


# ---------------------------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------------------------
mask_funcs = pytest.mark.parametrize("make_mask", [equispaced_mask, random_mask])


@SETTINGS
@given(
    w=st.integers(16, 400),
    acceleration=st.sampled_from([1, 2, 3, 4, 6, 8, 2.5]),
    center_fraction=st.sampled_from([0.0, 0.04, 0.08, 0.1]),
    seed=st.integers(0, 2**16),
    func=st.sampled_from([equispaced_mask, random_mask]),
)
def test_mask_properties(w, acceleration, center_fraction, seed, func):
    n_center = round(center_fraction * w)
    assume(n_center <= w / acceleration)  # else rejected: test_mask_centre_larger_than_budget
    mask = func((5, w), acceleration, center_fraction, seed=seed)
    assert mask.shape == (1, w) and mask.dtype == bool
    # the n_center columns around the DC column w // 2 are all sampled
    start = w // 2 - n_center // 2
    assert mask[0, start : start + n_center].all()
    assert mask[0].sum() >= n_center
    count = int(mask.sum())
    if func is random_mask:
        assert count == round(w / acceleration)
    else:
        assert abs(count - w / acceleration) <= 3
    assert acceleration_of(mask) == pytest.approx(w / count)
    np.testing.assert_array_equal(func((5, w), acceleration, center_fraction, seed=seed), mask)


@mask_funcs
def test_masks_for_leading_axes_broadcast(make_mask):
    mask = make_mask((2, 3, 16, 32), 4, 0.125, seed=0)
    assert mask.shape == (1, 1, 1, 32)
    kspace = np.ones((2, 3, 16, 32), complex)
    assert undersample(kspace, mask).shape == kspace.shape


@mask_funcs
def test_acceleration_one_samples_everything(make_mask):
    assert make_mask((4, 10), 1, 0.2, seed=3).all()


@mask_funcs
def test_masks_accept_a_generator(make_mask):
    a = make_mask((4, 64), 4, 0.08, seed=np.random.default_rng(5))
    b = make_mask((4, 64), 4, 0.08, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_random_masks_differ_between_seeds():
    masks = {random_mask((8, 128), 4, 0.08, seed=s).tobytes() for s in range(5)}
    assert len(masks) == 5


def test_equispaced_mask_without_centre_is_exactly_every_rth_column():
    offsets = set()
    for seed in range(20):
        mask = equispaced_mask((8, 24), 3, 0.0, seed=seed)[0]
        columns = np.flatnonzero(mask)
        assert len(columns) == 8 and np.all(np.diff(columns) == 3)
        offsets.add(int(columns[0]))
    assert offsets == {0, 1, 2}  # the offset is random, set by the seed


@mask_funcs
def test_mask_bad_inputs(make_mask):
    with pytest.raises(ValueError, match="acceleration"):
        make_mask((8, 8), 0.5, 0.1)
    with pytest.raises(ValueError, match="acceleration"):
        make_mask((8, 8), float("nan"), 0.1)
    with pytest.raises(TypeError, match="acceleration"):
        make_mask((8, 8), "4", 0.1)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="center_fraction"):
            make_mask((8, 8), 2, bad)
    with pytest.raises(TypeError, match="center_fraction"):
        make_mask((8, 8), 2, None)
    with pytest.raises(ValueError, match="at least 2 entries"):
        make_mask((8,), 2, 0.1)
    with pytest.raises(TypeError, match="shape"):
        make_mask(8, 2, 0.1)
    with pytest.raises(ValueError, match="positive ints"):
        make_mask((8, 0), 2, 0.1)
    with pytest.raises(TypeError, match="shape must hold ints"):
        make_mask((8, 8.0), 2, 0.1)


@mask_funcs
@pytest.mark.parametrize(
    "seed, error, message",
    [
        (-1, ValueError, "seed must be non-negative, got -1"),
        (1.5, TypeError, r"seed must be an int.*got 1.5 \(float\)"),
        ("0", TypeError, r"seed must be an int.*got '0' \(str\)"),
        (True, TypeError, "seed must be an int"),
    ],
)
def test_mask_bad_seed(make_mask, seed, error, message):
    with pytest.raises(error, match=message):
        make_mask((8, 8), 2, 0.25, seed=seed)


@mask_funcs
def test_mask_centre_larger_than_budget(make_mask):
    with pytest.raises(ValueError, match="center_fraction"):
        make_mask((8, 100), 8, 0.2)


def test_acceleration_of_bad_inputs():
    assert acceleration_of(np.ones((4, 5))) == 1.0
    with pytest.raises(ValueError, match="samples nothing"):
        acceleration_of(np.zeros((1, 8), bool))
    with pytest.raises(ValueError, match="0/1"):
        acceleration_of(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="empty"):
        acceleration_of(np.zeros((1, 0)))


# ---------------------------------------------------------------------------------------------
# Undersampling, zero filling, aliasing
# ---------------------------------------------------------------------------------------------
def test_undersample_zeroes_unsampled_columns():
    rng = np.random.default_rng(0)
    kspace = random_complex(rng, (2, 6, 8))
    mask = random_mask(kspace.shape, 2, 0.25, seed=1)
    out = undersample(kspace, mask)
    columns = mask.reshape(-1)
    np.testing.assert_array_equal(out[..., columns], kspace[..., columns])
    assert np.all(out[..., ~columns] == 0)
    full = np.broadcast_to(mask, kspace.shape)[0].astype(float)  # a full (H, W) 0/1 mask
    np.testing.assert_array_equal(undersample(kspace, full), out)


def test_undersample_bad_inputs():
    kspace = np.ones((6, 8), complex)
    with pytest.raises(ValueError, match="does not broadcast"):
        undersample(kspace, np.ones((1, 7), bool))
    with pytest.raises(ValueError, match="does not broadcast"):
        undersample(kspace, np.ones((2, 6, 8), bool))  # would enlarge kspace
    with pytest.raises(ValueError, match="0/1"):
        undersample(kspace, np.full((1, 8), 2.0))
    with pytest.raises(TypeError, match="mask"):
        undersample(kspace, np.array([["a"] * 8]))
    with pytest.raises(ValueError, match="NaN"):
        undersample(np.full((6, 8), np.nan), np.ones((1, 8)))


@SETTINGS
@given(h=sizes, w=sizes, seed=st.integers(0, 2**16))
def test_zero_filled_with_full_mask_is_the_magnitude_image(h, w, seed):
    x = random_complex(np.random.default_rng(seed), (h, w))
    np.testing.assert_allclose(zero_filled(fft2c(x), np.ones((1, w), bool)), np.abs(x), atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_equispaced_r2_aliasing_is_a_copy_shifted_by_half_the_width(seed):
    h, w = 16, 24
    x = np.zeros((h, w))
    x[3:7, 2:8] = np.arange(24.0).reshape(4, 6) + 1  # support narrower than w / 2
    mask = equispaced_mask((h, w), 2, 0.0, seed=seed)
    recon = zero_filled(fft2c(x), mask)
    # every other k-space column -> the image plus a copy shifted by W/2, each at half intensity
    expected = 0.5 * x + 0.5 * np.roll(x, w // 2, axis=-1)
    np.testing.assert_allclose(recon, expected, atol=1e-12)


def test_fully_sampled_centre_keeps_low_frequencies():
    # The DC term is always acquired, so the zero-filled image keeps the mean intensity.
    x = np.random.default_rng(2).random((32, 32))
    for make_mask in (equispaced_mask, random_mask):
        mask = make_mask(x.shape, 4, 0.08, seed=0)
        recon = ifft2c(undersample(fft2c(x), mask))
        assert recon.mean() == pytest.approx(x.mean())


# ---------------------------------------------------------------------------------------------
# Partial Fourier
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(
    h=sizes,
    w=st.integers(3, 20),
    fraction=st.floats(0.55, 1.0),
    seed=st.integers(0, 2**16),
)
def test_partial_fourier_is_exact_for_real_images(h, w, fraction, seed):
    x = np.random.default_rng(seed).random((2, h, w))  # non-negative, real
    kspace = np.fft.fftshift(
        np.fft.fft2(np.fft.ifftshift(x, axes=(-2, -1)), norm="ortho"), axes=(-2, -1)
    )
    recon, filled = partial_fourier(kspace, fraction, return_kspace=True)
    np.testing.assert_allclose(filled, kspace, atol=1e-10)
    np.testing.assert_allclose(recon, x, atol=1e-10)


def test_partial_fourier_zero_fill_and_complex_images_are_not_exact():
    rng = np.random.default_rng(0)
    x = rng.random((32, 32))
    kspace = fft2c(x)
    n_keep = int(np.ceil(0.625 * 32))
    zero, filled = partial_fourier(kspace, 0.625, fill="zero", return_kspace=True)
    assert np.all(filled[:, n_keep:] == 0)
    np.testing.assert_array_equal(filled[:, :n_keep], kspace[:, :n_keep])
    assert np.abs(zero - x).max() > 0.05
    # A complex image (smooth phase): Hermitian filling is only approximate.
    yy, xx = np.mgrid[:32, :32] / 32
    z = x * np.exp(1j * 0.8 * np.pi * (xx + yy))
    error = np.abs(partial_fourier(fft2c(z), 0.625) - np.abs(z)).max()
    assert error > 0.05


def test_partial_fourier_bad_inputs():
    kspace = fft2c(np.ones((8, 8)))
    for bad in (0.5, 0.3, 1.2, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            partial_fourier(kspace, bad)
    with pytest.raises(TypeError, match="fraction"):
        partial_fourier(kspace, "0.6")
    with pytest.raises(ValueError, match="fill"):
        partial_fourier(kspace, 0.75, fill="pocs")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        partial_fourier(np.ones(8), 0.75)
    with pytest.raises(TypeError, match="NumPy"):
        partial_fourier(torch.ones(4, 4), 0.75)
