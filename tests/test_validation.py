"""Bad input gets a clear error: the shared checks of course/_validate.py, then the library.

The rule: a wrong type is a TypeError, a wrong value a ValueError, and the message names the
argument. The table below tries a sample of bad inputs on public functions of every module.
"""

import ast
import functools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import course
from course import _validate as v
from course.arithmetic import conv_output_size, conv_params
from course.augment import mixup, random_flip
from course.conv import conv2d
from course.datasets import kfold_indices
from course.explain import mc_dropout_predict
from course.losses import focal_loss, soft_dice_loss
from course.metrics import bootstrap_ci, dice_per_class, hausdorff_distance, metrics_from_counts
from course.models import SimpleCNN, UNet
from course.physics import ct, mri, phantoms
from course.pooling import adaptive_avg_pool2d, max_pool2d
from course.train import EarlyStopping, fit, predict, sliding_window_inference
from course.viz import show_images

# ---------------------------------------------------------------------------------------------
# The module itself
# ---------------------------------------------------------------------------------------------


def test_validate_imports_nothing_from_course():
    tree = ast.parse(Path(v.__file__).read_text())
    modules = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert not [m for m in modules if m and m.split(".")[0] == "course"]


def test_describe():
    assert v.describe(1.5) == "1.5 (float)"
    assert v.describe("95") == "'95' (str)"
    assert v.describe(None) == "None (NoneType)"
    assert v.describe(torch.zeros(2, 3)) == "an array of shape (2, 3) (Tensor)"
    assert v.describe(np.array(3)) == "array(3) (ndarray)"
    assert len(v.describe("x" * 500)) < 80  # long values are cut


def test_is_tensor():
    assert v.is_tensor(torch.zeros(1)) and v.is_tensor(nn.Parameter(torch.zeros(1)))
    assert not v.is_tensor(np.zeros(1)) and not v.is_tensor([1.0])


def test_integer_accepts_python_and_numpy_ints():
    assert v.integer("n", 3) == 3 and type(v.integer("n", np.int64(3))) is int
    assert v.integer("n", 0, minimum=0) == 0
    assert v.integer("seed", 2**32 - 1, minimum=0, maximum=2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("bad", [1.5, 2.0, "3", None, True, np.float64(2.0), [1]])
def test_integer_wrong_type(bad):
    with pytest.raises(TypeError, match=r"^stride must be an int, got "):
        v.integer("stride", bad, minimum=1)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (0, dict(minimum=1), "n must be positive, got 0"),
        (-1, dict(minimum=0), "n must be >= 0, got -1"),
        (19, dict(minimum=20), "n must be >= 20, got 19"),
        (5, dict(minimum=0, maximum=4), r"n must be in \[0, 4\], got 5"),
        (5, dict(maximum=4), "n must be <= 4, got 5"),
    ],
)
def test_integer_wrong_value(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        v.integer("n", value, **kwargs)


@settings(max_examples=50, deadline=None)
@given(value=st.integers(-(2**40), 2**40), minimum=st.integers(-5, 5))
def test_integer_range_property(value, minimum):
    if value >= minimum:
        assert v.integer("n", value, minimum=minimum) == value
    else:
        with pytest.raises(ValueError, match="^n must be "):
            v.integer("n", value, minimum=minimum)


def test_pair():
    assert v.pair("k", 3, minimum=1) == (3, 3)
    assert v.pair("k", (2, np.int32(5)), minimum=1) == (2, 5)
    assert v.pair("k", np.array([1, 2]), minimum=1) == (1, 2)
    with pytest.raises(TypeError, match=r"k must be an int or a pair of ints, got 1.5 \(float\)"):
        v.pair("k", (3, 1.5))
    with pytest.raises(ValueError, match=r"k must be an int or an \(h, w\) pair"):
        v.pair("k", (1, 2, 3))
    with pytest.raises(ValueError, match="k must be positive"):
        v.pair("k", (1, 0), minimum=1)


def test_number_accepts_numbers_and_0d_arrays():
    for value in (95, 95.0, np.float32(95), np.int8(95), np.array(95), torch.tensor(95.0)):
        result = v.number("percentile", value, low=0, high=100)
        assert result == 95.0 and type(result) is float


@pytest.mark.parametrize(
    "value", ["95", None, True, np.array(True), np.array([95]), torch.ones(2), 1j, [95]]
)
def test_number_wrong_type(value):
    with pytest.raises(TypeError, match="^percentile must be a real number, got "):
        v.number("percentile", value, low=0, high=100)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (float("nan"), {}, "x must be a finite number, got nan"),
        (float("inf"), {}, "x must be a finite number, got inf"),
        (0.0, dict(low=0, low_open=True), "x must be a positive number, got 0.0"),
        (0.5, dict(low=1), "x must be a number >= 1, got 0.5"),
        (1, dict(low=1, low_open=True), "x must be a number > 1, got 1"),
        (2, dict(high=1), "x must be a number <= 1, got 2"),
        (1.0, dict(low=0, high=1, high_open=True), r"x must be a number in \[0, 1\), got 1.0"),
        (0.5, dict(low=0.5, high=1, low_open=True), r"x must be a number in \(0.5, 1\]"),
        (float("nan"), dict(low=0, high=1), r"x must be a number in \[0, 1\], got nan"),
    ],
)
def test_number_wrong_value(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        v.number("x", value, **kwargs)


def test_choice():
    assert v.choice("mode", "min", ("min", "max")) == "min"
    assert v.choice("norm", None, ("batch", None)) is None
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max', got 'up'"):
        v.choice("mode", "up", ("min", "max"))
    with pytest.raises(TypeError, match=r"mode must be one of 'min', 'max', got 1 \(int\)"):
        v.choice("mode", 1, ("min", "max"))
    with pytest.raises(TypeError, match="mode"):
        v.choice("mode", None, ("min", "max"))


def test_to_numpy():
    t = torch.ones(2, requires_grad=True)
    assert isinstance(v.to_numpy("x", t), np.ndarray)
    a = np.zeros(3)
    assert v.to_numpy("x", a) is a
    assert v.to_numpy("x", [[1, 2], [3, 4]]).shape == (2, 2)
    assert v.to_numpy("x", 3.0).shape == ()
    for bad in (None, {"a": 1}, [[1, 2], [3]], object()):
        with pytest.raises(TypeError, match="^x must be a NumPy array, a torch.Tensor or a list"):
            v.to_numpy("x", bad)


def test_numeric():
    assert v.numeric("x", np.array([True])).dtype == bool
    with pytest.raises(TypeError, match="x must hold real numbers, got dtype <U1"):
        v.numeric("x", np.array(["a"]))
    with pytest.raises(TypeError, match="x must hold real numbers, got dtype complex128"):
        v.numeric("x", np.zeros(2, complex))
    assert v.numeric("x", np.zeros(2, complex), complex_ok=True).dtype == complex
    with pytest.raises(TypeError, match="x must hold real or complex numbers, got dtype bool"):
        v.numeric("x", np.zeros(2, bool), complex_ok=True, bool_ok=False)
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        v.numeric("x", np.array([1j * np.inf]), complex_ok=True)


def test_nonempty():
    x = np.zeros((0, 3, 4, 4))
    assert v.nonempty("x", x, axes=(2, 3)) is x  # an empty batch is allowed when asked
    with pytest.raises(ValueError, match=r"x must not be empty, got shape \(0, 3, 4, 4\)"):
        v.nonempty("x", x)
    with pytest.raises(ValueError, match=r"sinogram must not be empty, got shape \(2, 0, 5\)"):
        v.nonempty("sinogram", torch.zeros(2, 0, 5), axes=(-2, -1))


def test_float_dtype():
    assert v.float_dtype(np.zeros(1, np.float32), np.zeros(1, np.int64)) == np.float64
    assert v.float_dtype(np.zeros(1, np.float32)) == np.float32
    assert v.float_dtype(np.zeros(1, bool)) == np.float64
    with pytest.raises(TypeError, match="complex"):
        v.float_dtype(np.zeros(1, complex))


def test_generator():
    rng = np.random.default_rng(0)
    assert v.generator(rng) is rng
    assert isinstance(v.generator(None), np.random.Generator)
    a, b = v.generator(np.int64(7)).random(3), v.generator(7).random(3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed must be non-negative, got -1"):
        v.generator(-1)
    with pytest.raises(TypeError, match=r"rng must be an int or a numpy.random.Generator or None"):
        v.generator(1.5, "rng")
    with pytest.raises(TypeError, match=r"^seed must be an int or a numpy.random.Generator, got"):
        v.generator(None, allow_none=False)
    for bad in (True, "0", np.random.RandomState(0)):
        with pytest.raises(TypeError, match="seed"):
            v.generator(bad)


# ---------------------------------------------------------------------------------------------
# The rule applied: a sample of bad inputs across the library
# ---------------------------------------------------------------------------------------------
X = np.zeros((1, 4, 5, 5))
W = np.zeros((4, 4, 3, 3))
MASK = np.eye(8, dtype=bool)
Y_TRUE, Y_SCORE = np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.7, 0.3])
CONV = nn.Conv2d(1, 2, 1)
IMAGES = np.zeros((4, 8, 8))
LABELS = np.eye(4)

BAD_INPUTS = [
    # (function, arguments, keyword arguments, exception, argument the message must name)
    (conv2d, (X, W), dict(stride=1.5), TypeError, "stride"),
    (conv2d, (X, W), dict(groups=1.5), TypeError, "groups"),
    (conv2d, (X, W), dict(groups=0), ValueError, "groups"),
    (conv2d, (np.zeros((1, 4, 0, 5)), W), {}, ValueError, "x"),
    (conv_output_size, (7, 3), dict(stride="2"), TypeError, "stride"),
    (conv_params, (3, 64, 3), dict(groups=0), ValueError, "groups"),
    (max_pool2d, (X,), dict(kernel_size=2.5), TypeError, "kernel_size"),
    (adaptive_avg_pool2d, (np.zeros((1, 1, 0, 0)), 1), {}, ValueError, "x"),
    (ct.radon, (np.zeros((0, 0)),), {}, ValueError, "image"),
    (ct.fbp, (np.zeros((0, 4)),), {}, ValueError, "sinogram"),
    (ct.circle_mask, (4.0,), {}, TypeError, "n"),
    (ct.simulate_ct, (np.zeros((8, 8)),), dict(photons="many"), TypeError, "photons"),
    (ct.simulate_ct, (np.zeros((8, 8)),), dict(photons=10, seed=-1), ValueError, "seed"),
    (ct.hu_to_mu, (0,), dict(mu_water=float("nan")), ValueError, "mu_water"),
    (mri.fft2c, (np.zeros((0, 0)),), {}, ValueError, "image"),
    (mri.ifft2c, (torch.zeros(3, 0),), {}, ValueError, "kspace"),
    (mri.random_mask, ((8, 8), 2, 0.25), dict(seed=-1), ValueError, "seed"),
    (mri.equispaced_mask, ((8, 8), 2, 0.25), dict(seed=0.5), TypeError, "seed"),
    (mri.equispaced_mask, ((8, 8), "4", 0.1), {}, TypeError, "acceleration"),
    (mri.partial_fourier, (np.ones((8, 8)), 0.75), dict(fill=None), TypeError, "fill"),
    (phantoms.shepp_logan, (0,), {}, ValueError, "n"),
    (phantoms.random_phantom, (64, 1.5), {}, TypeError, "seed"),
    (hausdorff_distance, (MASK, MASK), dict(percentile="95"), TypeError, "percentile"),
    (hausdorff_distance, (MASK, MASK), dict(percentile=np.array([95])), TypeError, "percentile"),
    (hausdorff_distance, (MASK, MASK), dict(spacing="1.0"), TypeError, "spacing"),
    (bootstrap_ci, (None, Y_TRUE, Y_SCORE), dict(n=10.0), TypeError, "n"),
    (bootstrap_ci, (None, Y_TRUE, Y_SCORE), dict(seed=-1), ValueError, "seed"),
    (metrics_from_counts, (1.5, 1, 1, 1), {}, TypeError, "TP"),
    (dice_per_class, (MASK, MASK), dict(num_classes=2.0), TypeError, "num_classes"),
    (sliding_window_inference, (CONV, torch.zeros(0, 1, 8, 8), 8), {}, ValueError, "image"),
    (sliding_window_inference, (CONV, torch.zeros(1, 1, 8, 8), 8.5), {}, TypeError, "patch_size"),
    (predict, (CONV, torch.zeros(2, 1, 4, 4)), dict(batch_size=2.0), TypeError, "batch_size"),
    (fit, (CONV, [], None, nn.MSELoss()), dict(epochs=1.5), TypeError, "epochs"),
    (EarlyStopping, (), dict(min_delta="0"), TypeError, "min_delta"),
    (EarlyStopping, (), dict(mode="up"), ValueError, "mode"),
    (mc_dropout_predict, (nn.Dropout(), torch.zeros(2)), dict(n_samples=2.5), TypeError,
     "n_samples"),
    (SimpleCNN, (), dict(dropout="0.5"), TypeError, "dropout"),
    (UNet, (1, 2), dict(depth=2.0), TypeError, "depth"),
    (random_flip, (np.zeros((4, 4)),), dict(rng=-1), ValueError, "rng"),
    (mixup, (IMAGES, LABELS), dict(rng="0"), TypeError, "rng"),
    (soft_dice_loss, (torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 4).long()), dict(smooth="1"),
     TypeError, "smooth"),
    (focal_loss, (torch.zeros(2), torch.zeros(2)), dict(reduction=1), TypeError, "reduction"),
    (course.seed_everything, (1.5,), {}, TypeError, "seed"),
    (course.seed_everything, (2**32,), {}, ValueError, "seed"),
    (kfold_indices, (10,), dict(k=2.5), TypeError, "k"),
    (show_images, (np.zeros((2, 4, 4)),), dict(ncols=2.0), TypeError, "ncols"),
]  # fmt: skip


def _label(case) -> str:
    fn = case[0]
    return f"{getattr(fn, '__name__', fn)}-{case[4]}-{case[3].__name__}"


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[_label(c) for c in BAD_INPUTS])
def test_bad_input_names_the_argument(case):
    fn, args, kwargs, error, name = case
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert type(info.value) is error  # not a subclass raised from deeper down
    message = str(info.value)
    assert message.startswith(name + " ") or f" {name} " in message, message


# Integer arguments: whatever a student passes that is not an int is a TypeError naming it.
not_an_int = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
    st.complex_numbers(),
)
INT_ARGUMENTS = {
    "stride": functools.partial(conv2d, X, W),
    "groups": functools.partial(conv2d, X, W),
    "n": ct.circle_mask,
    "size": ct.ramp_filter,
    "seed": course.seed_everything,
    "ncols": functools.partial(show_images, np.zeros((2, 4, 4))),
}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(INT_ARGUMENTS)), value=not_an_int)
def test_any_non_int_is_a_type_error_naming_the_argument(name, value):
    fn = INT_ARGUMENTS[name]
    call = (lambda: fn(value)) if name in ("n", "size", "seed") else (lambda: fn(**{name: value}))
    with pytest.raises(TypeError, match=f"^{name} must be an int"):
        call()
