"""The visible and hidden checks of lab05 accept correct answers and reject typical mistakes."""

import numpy as np
import pytest
import torch
from cheats import AlwaysEqual, always_equal, hidden_checks
from torch import nn

from course import arithmetic, pooling
from course.checks import lab05 as visible
from course.models.cnn import SimpleCNN

hidden = hidden_checks("lab05")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]
SIZE = visible.IMAGE_SIZE


# --- correct answers -------------------------------------------------------------------------
def max_pool_loops(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    h_out, w_out = (h - kernel_size) // s + 1, (w - kernel_size) // s + 1
    out = np.empty((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * s : i * s + kernel_size, j * s : j * s + kernel_size]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def avg_pool_torch(x, kernel_size, stride=None):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.nn.functional.avg_pool2d(x, kernel_size, stride)


def receptive_field_backwards(layers):
    """Walk back from the output: r_in = S (r_out - 1) + D (K - 1) + 1."""
    r = 1
    for layer in reversed(layers):
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) == 3 else 1
        r = s * (r - 1) + d * (k - 1) + 1
    return r


def small_cnn():
    return SimpleCNN(1, 2, channels=(8, 16), kernel_size=3, global_pool=True)


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer",
    [
        ("q1_max_pool2d", pooling.max_pool2d),
        ("q1_max_pool2d", max_pool_loops),
        ("q2_avg_pool2d", pooling.avg_pool2d),
        ("q2_avg_pool2d", avg_pool_torch),
        ("q3_receptive_field", arithmetic.receptive_field),
        ("q3_receptive_field", receptive_field_backwards),
        ("q4_build_model", small_cnn),
    ],
)
def test_accepts_correct_answers(module, name, answer):
    getattr(module, name)(answer)


def test_measured_receptive_field_agrees_with_the_library():
    for layers in hidden.RF_CASES:
        assert hidden.measured_receptive_field(layers) == arithmetic.receptive_field(layers)


# --- typical mistakes ------------------------------------------------------------------------
def max_pool_zero_init(x, kernel_size, stride=None):
    return np.maximum(pooling.max_pool2d(x, kernel_size, stride), 0.0)


def max_pool_stride_one(x, kernel_size, stride=None):
    return pooling.max_pool2d(x, kernel_size, 1)


def max_pool_ignores_stride(x, kernel_size, stride=None):
    return pooling.max_pool2d(x, kernel_size)


def max_pool_ceil(x, kernel_size, stride=None):
    return pooling.max_pool2d(x, kernel_size, stride, ceil_mode=True)


def max_pool_first_channel(x, kernel_size, stride=None):
    y = pooling.max_pool2d(x, kernel_size, stride)
    return np.repeat(y[:, :1], y.shape[1], axis=1)


def max_pool_mutates(x, kernel_size, stride=None):
    y = pooling.max_pool2d(x, kernel_size, stride)
    x[...] = 0
    return y


def avg_pool_sum(x, kernel_size, stride=None):
    return pooling.avg_pool2d(x, kernel_size, stride) * kernel_size**2


def avg_pool_is_max(x, kernel_size, stride=None):
    return pooling.max_pool2d(x, kernel_size, stride)


def avg_pool_ignores_stride(x, kernel_size, stride=None):
    return pooling.avg_pool2d(x, kernel_size)


def avg_pool_int_division(x, kernel_size, stride=None):
    return np.floor(pooling.avg_pool2d(x, kernel_size, stride))


def receptive_field_sum(layers):
    return 1 + sum(layer[0] - 1 for layer in layers)


def receptive_field_no_dilation(layers):
    return arithmetic.receptive_field([layer[:2] for layer in layers])


def receptive_field_includes_own_stride(layers):
    r, jump = 1, 1
    for layer in layers:
        jump *= layer[1]
        r += (layer[0] - 1) * jump
    return r


def big_dense_cnn():
    return SimpleCNN(1, 2, channels=(6, 16), kernel_size=5, hidden=(120,), input_size=SIZE)


def dense_only():
    return nn.Sequential(nn.Flatten(), nn.Linear(SIZE * SIZE, 2))


def one_logit():
    return SimpleCNN(1, 1, channels=(8, 16), kernel_size=3, global_pool=True)


def not_a_module():
    return lambda x: torch.zeros(len(x), 2)


WRONG = [
    ("q1_max_pool2d", max_pool_zero_init),
    ("q1_max_pool2d", max_pool_stride_one),
    ("q1_max_pool2d", max_pool_ignores_stride),
    ("q1_max_pool2d", max_pool_ceil),
    ("q1_max_pool2d", max_pool_first_channel),
    ("q1_max_pool2d", pooling.avg_pool2d),
    ("q1_max_pool2d", always_equal),
    ("q2_avg_pool2d", avg_pool_sum),
    ("q2_avg_pool2d", avg_pool_is_max),
    ("q2_avg_pool2d", avg_pool_ignores_stride),
    ("q2_avg_pool2d", avg_pool_int_division),
    ("q2_avg_pool2d", always_equal),
    ("q3_receptive_field", receptive_field_sum),
    ("q3_receptive_field", receptive_field_no_dilation),
    ("q3_receptive_field", receptive_field_includes_own_stride),
    ("q3_receptive_field", always_equal),
    ("q4_build_model", big_dense_cnn),
    ("q4_build_model", dense_only),
    ("q4_build_model", one_logit),
    ("q4_build_model", not_a_module),
    ("q4_build_model", always_equal),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", WRONG)
def test_rejects_wrong_answers(module, name, answer):
    with pytest.raises(AssertionError):
        getattr(module, name)(answer)


def test_hidden_rejects_answers_that_modify_their_input():
    with pytest.raises(AssertionError, match="must not be modified"):
        hidden.q1_max_pool2d(max_pool_mutates)


def test_messages_teach():
    with pytest.raises(AssertionError, match="all negative gave 0"):
        visible.q1_max_pool2d(max_pool_zero_init)
    with pytest.raises(AssertionError, match=r"should have shape \(1, 1, 2, 2\).*4x4 example"):
        visible.q1_max_pool2d(max_pool_stride_one)
    with pytest.raises(AssertionError, match="4x4 example"):
        visible.q2_avg_pool2d(avg_pool_sum)
    with pytest.raises(AssertionError, match="product of the strides"):
        visible.q3_receptive_field(receptive_field_sum)
    with pytest.raises(AssertionError, match="more than the budget"):
        visible.q4_build_model(big_dense_cnn)
    with pytest.raises(AssertionError, match="no torch.nn.Conv2d"):
        visible.q4_build_model(dense_only)
    with pytest.raises(AssertionError, match=r"shape \(N, 2\)"):
        visible.q4_build_model(one_logit)


class HiddenWeights(nn.Module):
    """A CNN under the parameter budget that keeps extra weights in a plain tensor attribute."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.secret = torch.zeros(3 * visible.BUDGET)

    def forward(self, x):
        return self.conv(x).amax(dim=(2, 3))


def test_hidden_counts_weights_kept_outside_parameters():
    visible.q4_build_model(HiddenWeights)  # the visible check only counts parameters
    with pytest.raises(AssertionError, match="stores"):
        hidden.q4_build_model(HiddenWeights)


def test_build_model_must_return_a_new_model():
    model = small_cnn()
    with pytest.raises(AssertionError, match="new model"):
        hidden.q4_build_model(lambda: model)


@pytest.mark.parametrize("module", MODULES)
def test_untrained_or_invalid_models_are_rejected(module):
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match="accuracy"):
        module.q5_trained_model(small_cnn())
    with pytest.raises(AssertionError, match="budget"):
        module.q5_trained_model(big_dense_cnn())
    with pytest.raises(AssertionError, match="torch.nn.Module"):
        module.q5_trained_model(AlwaysEqual())


def test_unfinished_answer_raises_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in ("q1_max_pool2d", "q2_avg_pool2d", "q3_receptive_field", "q4_build_model"):
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_refused(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q1_max_pool2d(pooling.max_pool2d)


class FakeSlices:
    """Stands in for SyntheticLesionCT: a lesion is one bright pixel, so a tiny CNN finds it."""

    def __init__(self, n, size=SIZE, seed=0, task="classification"):
        g = torch.Generator().manual_seed(seed)
        self.labels = (torch.arange(n) % 2).long()
        self.images = torch.zeros(n, 1, size, size)
        where = torch.randint(0, size, (n, 2), generator=g)
        for i in range(1, n, 2):
            self.images[i, 0, where[i, 0], where[i, 1]] = 1.0


def bright_pixel_detector(flip_every=0):
    """A CNN that detects the bright pixel; ``flip_every=k`` gets every k-th image wrong."""

    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 1)
            with torch.no_grad():
                self.conv.weight.fill_(1.0)
                self.conv.bias.fill_(-0.5)

        def forward(self, x):
            score = self.conv(x).amax(dim=(2, 3))  # +0.5 with a bright pixel, -0.5 without
            logits = torch.cat([-score, score], dim=1)
            if flip_every:
                logits[::flip_every] = logits[::flip_every].flip(1)
            return logits

    return Detector()


@pytest.mark.parametrize("module", MODULES)
def test_trained_model_check_against_the_accuracy_bar(module, monkeypatch):
    import course.datasets

    monkeypatch.setattr(course.datasets, "SyntheticLesionCT", FakeSlices)
    module.q5_trained_model(bright_pixel_detector())  # accuracy 1.0
    module.q5_trained_model(bright_pixel_detector(flip_every=6))  # accuracy 0.83
    with pytest.raises(AssertionError, match="below the bar"):
        module.q5_trained_model(bright_pixel_detector(flip_every=4))  # accuracy 0.75


def test_trained_model_is_evaluated_on_a_copy_in_eval_mode(monkeypatch):
    import course.datasets

    monkeypatch.setattr(course.datasets, "SyntheticLesionCT", FakeSlices)
    model = nn.Sequential(bright_pixel_detector(), nn.Dropout(0.9)).train()
    for module in (visible, hidden):
        module.q5_trained_model(model)  # dropout would ruin it if evaluated in train mode
    assert model.training
