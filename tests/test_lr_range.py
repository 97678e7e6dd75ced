"""The learning-rate range test, scheduled_lrs and the training-curve plots.

References written differently from the code: ``np.geomspace`` for the learning rates, a plain
loop that trains a copy of the model for the losses, the explicit weighted sum of the bias-
corrected moving average, the closed forms of the schedules, ``statistics`` for mean and SD.
"""

import copy
import math
import statistics

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course.train import (
    LRRangeResult,
    lr_range_test,
    mean_sd,
    plot_lr_range,
    plot_mean_sd,
    scheduled_lrs,
)


def regression(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(n, 1, generator=g)
    return x, y


def smoothed_by_weights(losses, beta):
    """The bias-corrected EMA as an explicit weighted mean of the losses so far."""
    out = []
    for i in range(len(losses)):
        weights = [(1 - beta) * beta ** (i - j) for j in range(i + 1)]
        out.append(sum(w * v for w, v in zip(weights, losses[: i + 1], strict=True)) / sum(weights))
    return out


class Scripted(nn.Module):
    """A model whose 'loss' follows a given script (through ScriptedLoss); one dummy weight."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.w * x


def scripted_loss(values):
    values = iter(values)
    return lambda out, y: out.sum() * 0 + next(values)


def one_batch_loader():
    return [(torch.ones(1), torch.zeros(1))]


# --- the test follows the definition ------------------------------------------------------
def test_learning_rates_and_losses_match_a_plain_loop():
    x, y = regression()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # 4 batches: read 5 times
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    twin = copy.deepcopy(model)
    result = lr_range_test(
        model, loader, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.0),
        start_lr=1e-4, end_lr=0.05, num_steps=20, diverge=1e9, device="cpu",
    )  # fmt: skip
    np.testing.assert_allclose(result.lrs, np.geomspace(1e-4, 0.05, 20), rtol=1e-12)
    batches = [batch for _ in range(5) for batch in loader][:20]
    expected = []
    for lr, (xb, yb) in zip(np.geomspace(1e-4, 0.05, 20), batches, strict=True):
        loss = ((twin(xb) - yb) ** 2).mean()
        expected.append(loss.item())
        twin.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in twin.parameters():
                p -= lr * p.grad
    np.testing.assert_allclose(result.losses, expected, rtol=1e-5)
    assert not result.diverged
    np.testing.assert_allclose(result.smoothed, smoothed_by_weights(expected, 0.9), rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    losses=st.lists(st.floats(0.01, 100.0), min_size=2, max_size=40),
    beta=st.floats(0.0, 0.99),
    diverge=st.floats(1.01, 10.0),
)
def test_smoothing_stopping_and_suggestion(losses, beta, diverge):
    losses = [float(np.float32(v)) for v in losses]  # a loss tensor holds float32
    n = len(losses)
    result = lr_range_test(
        Scripted(), one_batch_loader(), scripted_loss(losses), start_lr=1e-3, end_lr=1.0,
        num_steps=n, beta=beta, diverge=diverge, device="cpu",
    )  # fmt: skip
    smoothed = smoothed_by_weights(losses, beta)
    stop = next((i for i in range(n) if smoothed[i] > diverge * min(smoothed[: i + 1])), None)
    ran = n if stop is None else stop + 1
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) == ran
    assert result.diverged == (stop is not None)
    np.testing.assert_allclose(result.losses, losses[:ran])
    np.testing.assert_allclose(result.smoothed, smoothed[:ran], rtol=1e-9)
    lowest = min(smoothed[:ran])
    lrs = np.geomspace(1e-3, 1.0, n)
    at_minimum = [lrs[i] / 10 for i in range(ran) if smoothed[i] <= lowest * (1 + 1e-9)]  # ties
    assert any(math.isclose(result.suggested_lr, lr, rel_tol=1e-9) for lr in at_minimum)


def test_diverges_where_gradient_descent_on_a_quadratic_becomes_unstable():
    # batch losses (w - 2)^2 and (w - 4)^2: curvature 2, so gradient descent diverges for lr > 1
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    loader = [(torch.ones(1, 1), torch.full((1, 1), t)) for t in (2.0, 4.0)]
    result = lr_range_test(
        model, loader, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        start_lr=1e-3, end_lr=100.0, num_steps=200, device="cpu",
    )  # fmt: skip
    assert result.diverged
    # near lr = 1 the iterates swing ever wider (bounded below 1, unbounded above): it stops there
    assert 0.5 < result.lrs[-1] < 2.0
    assert result.suggested_lr < 0.2


def test_restores_weights_optimizer_state_and_mode():
    x, y = regression()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    nn.MSELoss()(model(x), y).backward()
    optimizer.step()  # some Adam state to keep
    model.eval()
    weights = copy.deepcopy(model.state_dict())
    state = copy.deepcopy(optimizer.state_dict())
    result = lr_range_test(model, loader, nn.MSELoss(), optimizer, num_steps=30, device="cpu")
    assert len(result.lrs) >= 2
    assert not model.training
    for key, value in weights.items():
        assert torch.equal(model.state_dict()[key], value), key
    restored = optimizer.state_dict()
    assert restored["param_groups"] == state["param_groups"]
    for key, value in state["state"].items():
        for name, tensor in value.items():
            assert torch.equal(
                torch.as_tensor(restored["state"][key][name]), torch.as_tensor(tensor)
            )


def test_default_optimizer_is_sgd_with_momentum_and_result_is_plain_numpy():
    x, y = regression()
    model = nn.Linear(3, 1)
    result = lr_range_test(model, [(x, y)], nn.MSELoss(), num_steps=5, device="cpu")
    assert isinstance(result, LRRangeResult)
    for values in (result.lrs, result.losses, result.smoothed):
        assert isinstance(values, np.ndarray) and values.dtype == np.float64
    assert isinstance(result.suggested_lr, float)


def test_dict_batches():
    x, y = regression()
    loader = [{"image": x, "target": y}]
    result = lr_range_test(nn.Linear(3, 1), loader, nn.MSELoss(), num_steps=3, device="cpu")
    assert len(result.losses) == 3


def test_non_finite_first_loss():
    with pytest.raises(FloatingPointError, match="first step"):
        lr_range_test(Scripted(), one_batch_loader(), scripted_loss([math.nan] * 5), device="cpu")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(model="net"), TypeError, "model"),
        (dict(loss_fn=3), TypeError, "loss_fn"),
        (dict(start_lr="1e-3"), TypeError, "start_lr"),
        (dict(start_lr=0.0), ValueError, "start_lr"),
        (dict(end_lr=-1.0), ValueError, "end_lr"),
        (dict(start_lr=1.0, end_lr=0.1), ValueError, "end_lr"),
        (dict(num_steps=1), ValueError, "num_steps"),
        (dict(num_steps=10.0), TypeError, "num_steps"),
        (dict(beta=1.0), ValueError, "beta"),
        (dict(diverge=1.0), ValueError, "diverge"),
        (dict(loader=[]), ValueError, "no batches"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = dict(model=nn.Linear(3, 1), loader=[regression()], loss_fn=nn.MSELoss(), device="cpu")
    args.update(kwargs)
    with pytest.raises(error, match=match):
        lr_range_test(**args)


# --- scheduled_lrs -------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 50), lr=st.floats(1e-5, 10.0), lr_min_share=st.floats(0.0, 0.5))
def test_cosine_schedule_matches_its_formula(T, lr, lr_min_share):
    lr_min = lr * lr_min_share
    rates = scheduled_lrs(
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=lr_min),
        T + 1,
        lr=lr,
    )
    formula = [lr_min + (lr - lr_min) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(T + 1)]
    np.testing.assert_allclose(rates, formula, rtol=1e-9, atol=1e-12 * lr)


def test_step_and_one_cycle_schedules():
    rates = scheduled_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5), 9, lr=0.8)
    np.testing.assert_allclose(rates, [0.8 * 0.5 ** (t // 3) for t in range(9)])
    one_cycle = scheduled_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=100), 100
    )
    peak = int(np.argmax(one_cycle))
    assert math.isclose(one_cycle.max(), 0.1) and 25 <= peak <= 35  # pct_start = 0.3
    assert math.isclose(one_cycle[0], 0.1 / 25)  # div_factor = 25
    assert np.all(np.diff(one_cycle[: peak + 1]) > 0) and np.all(np.diff(one_cycle[peak:]) < 0)


def test_scheduled_lrs_bad_arguments():
    cosine = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3)  # noqa: E731
    with pytest.raises(TypeError, match="make_scheduler"):
        scheduled_lrs("cosine", 3)
    with pytest.raises(TypeError, match="make_scheduler"):
        scheduled_lrs(lambda opt: None, 3)
    with pytest.raises(ValueError, match="steps"):
        scheduled_lrs(cosine, 0)
    with pytest.raises(ValueError, match="lr"):
        scheduled_lrs(cosine, 3, lr=0.0)


# --- curves ---------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    runs=st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 8).flatmap(
            lambda t: st.lists(
                st.lists(st.floats(-1e3, 1e3), min_size=t, max_size=t), min_size=r, max_size=r
            )
        )
    )
)
def test_mean_sd_matches_statistics(runs):
    mean, sd = mean_sd(runs)
    columns = list(zip(*runs, strict=True))
    np.testing.assert_allclose(mean, [statistics.fmean(c) for c in columns], atol=1e-9)
    expected_sd = [statistics.stdev(c) if len(c) > 1 else 0.0 for c in columns]
    np.testing.assert_allclose(sd, expected_sd, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    "runs, error",
    [([1.0, 2.0], ValueError), ([], ValueError), ([[1.0, math.nan]], ValueError),
     ([["a", "b"]], TypeError), ([[1.0], [1.0, 2.0]], TypeError), ([[True, False]], TypeError)],
)  # fmt: skip
def test_mean_sd_bad_runs(runs, error):
    with pytest.raises(error, match="runs"):
        mean_sd(runs)


def test_plot_mean_sd_draws_mean_and_band():
    curves = {"SGD": [[1.0, 0.6, 0.4], [1.2, 0.8, 0.4]], "Adam": [[0.5, 0.2, 0.1]]}
    fig, ax = plt.subplots()
    assert plot_mean_sd(curves, ax=ax, ylabel="training loss", log=True) is ax
    assert [line.get_label() for line in ax.lines] == ["SGD (2 seeds)", "Adam (1 seeds)"]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.1, 0.7, 0.4])
    band = ax.collections[0].get_paths()[0].vertices
    sd = statistics.stdev([1.0, 1.2])
    assert np.isclose(band[:, 1].max(), 1.1 + sd) and np.isclose(band[:, 1].min(), 0.4)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "training loss"
    plt.close(fig)


def test_plot_mean_sd_bad_curves():
    with pytest.raises(TypeError, match="curves"):
        plot_mean_sd([[1.0, 2.0]])
    with pytest.raises(ValueError, match="curves"):
        plot_mean_sd({})


def test_plot_lr_range():
    result = LRRangeResult(
        np.geomspace(1e-4, 1, 5), np.array([1.0, 0.9, 0.5, 0.4, 9.0]),
        np.array([1.0, 0.95, 0.8, 0.7, 2.9]), 1e-2, True,
    )  # fmt: skip
    ax = plot_lr_range(result)
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), result.smoothed)
    np.testing.assert_allclose(ax.lines[2].get_xdata(), [1e-2, 1e-2])
    low, high = 0.7, 1.0  # the smoothed loss before the explosion at the last step
    assert ax.get_ylim() == pytest.approx((low - 0.1 * (high - low), high + 0.25 * (high - low)))
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="LRRangeResult"):
        plot_lr_range({"lrs": [1]})
