"""The self-checks of lecture 10: right answers pass, typical mistakes get a hint, ``...`` waits.

Every check prints one verdict (never raises) and no hint reveals an expected value.
"""

import math
import re

import numpy as np
import pytest
import torch

from course.checks import lecture10 as check


def verdict(capsys, q, answer) -> str:
    q(answer)
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, f"one line per verdict, got {out!r}"
    return out


def assert_correct(capsys, q, answer):
    out = verdict(capsys, q, answer)
    assert ": correct." in out, out


def assert_not_yet(capsys, q, answer, *fragments) -> str:
    out = verdict(capsys, q, answer)
    assert ": not yet." in out, out
    for fragment in fragments:
        assert fragment in out, out
    return out


def numbers_in(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+\.\d+(?:e-?\d+)?", text)]


# --- q1: the training step -----------------------------------------------------------------
def step_right(model, x, y, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_zero_grad_last(model, x, y, loss_fn, optimizer):  # also right: zeroed for the next step
    model.train()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss  # a 0-d tensor is accepted too


def step_no_train_mode(model, x, y, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_zero_grad(model, x, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_zero_between(model, x, y, loss_fn, optimizer):
    model.train()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_before_backward(model, x, y, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    optimizer.step()
    loss.backward()
    return loss.item()


def step_returns_nothing(model, x, y, loss_fn, optimizer):
    step_right(model, x, y, loss_fn, optimizer)


def step_returns_loss_after(model, x, y, loss_fn, optimizer):
    step_right(model, x, y, loss_fn, optimizer)
    with torch.no_grad():
        return loss_fn(model(x), y).item()


def step_returns_tensor_of_outputs(model, x, y, loss_fn, optimizer):
    step_right(model, x, y, loss_fn, optimizer)
    return model(x)


def step_not_written(model, x, y, loss_fn, optimizer): ...


def step_raises(model, x, y, loss_fn, optimizer):
    raise RuntimeError("boom")


def test_q1_right_answers(capsys):
    assert_correct(capsys, check.q1, step_right)
    assert_correct(capsys, check.q1, step_zero_grad_last)


def test_q1_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q1, ...)
    assert "not attempted yet" in verdict(capsys, check.q1, step_not_written)


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (step_no_train_mode, "eval mode"),
        (step_no_zero_grad, "zero the gradients"),
        (step_zero_between, "did not change"),
        (step_before_backward, "did not change"),
        (step_returns_nothing, "returns nothing"),
        (step_returns_loss_after, "before the step"),
        (step_returns_tensor_of_outputs, "one number"),
        (step_raises, "RuntimeError"),
        (42, "function"),
    ],
)
def test_q1_typical_mistakes(capsys, answer, fragment):
    assert_not_yet(capsys, check.q1, answer, fragment)


def test_q1_does_not_change_the_global_random_state(capsys):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check.q1(step_right)
    capsys.readouterr()
    assert torch.equal(torch.rand(3), expected)


# --- q2: cosine schedule --------------------------------------------------------------------
def cosine_right(t, T, lr_max, lr_min=0.0):
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * t / T)) / 2


def cosine_by_sin(t, T, lr_max, lr_min=0.0):  # the same curve, written with sin^2
    return lr_min + (lr_max - lr_min) * math.sin(math.pi / 2 * (1 - t / T)) ** 2


def cosine_no_lr_min(t, T, lr_max, lr_min=0.0):
    return lr_max * (1 + math.cos(math.pi * t / T)) / 2


def cosine_no_half(t, T, lr_max, lr_min=0.0):
    return lr_min + (lr_max - lr_min) * math.cos(math.pi * t / T)


def cosine_rising(t, T, lr_max, lr_min=0.0):
    return cosine_right(T - t, T, lr_max, lr_min)


def cosine_linear(t, T, lr_max, lr_min=0.0):
    return lr_max - (lr_max - lr_min) * t / T


def cosine_full_period(t, T, lr_max, lr_min=0.0):
    return lr_min + (lr_max - lr_min) * (1 + math.cos(2 * math.pi * t / T)) / 2


def cosine_wavy(t, T, lr_max, lr_min=0.0):  # right ends, wrong shape, not monotone
    return cosine_right(t, T, lr_max, lr_min) + 0.01 * lr_max * math.sin(
        math.pi * t / T
    ) * math.cos(3 * t)


def cosine_bump(t, T, lr_max, lr_min=0.0):  # right ends, rises in the middle
    return lr_min + (lr_max - lr_min) * (1 - t / T) * (1 + 2 * math.sin(math.pi * t / T))


def test_q2_right_answers(capsys):
    assert_correct(capsys, check.q2, cosine_right)
    assert_correct(capsys, check.q2, cosine_by_sin)
    assert_correct(capsys, check.q2, lambda t, T, a, b: torch.tensor(cosine_right(t, T, a, b)))


def test_q2_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q2, ...)
    assert "not attempted yet" in verdict(capsys, check.q2, lambda t, T, a, b: ...)


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (cosine_no_lr_min, "end at lr_min"),
        (cosine_no_half, "end at lr_min"),
        (cosine_rising, "start at lr_max"),
        (cosine_linear, "linear decay"),
        (cosine_full_period, "end at lr_min"),
        (cosine_wavy, "not the shape"),
        (cosine_bump, "must fall"),
        (lambda t, T, a, b: "0.1", "number"),
        (lambda t, T, a, b: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_q2_typical_mistakes(capsys, answer, fragment):
    out = assert_not_yet(capsys, check.q2, answer, fragment)
    hint = out.split("not yet.")[1].split(":", 1)[-1]
    assert not numbers_in(hint), f"a hint shows numbers: {out}"


# --- q3: batch norm in eval mode ------------------------------------------------------------
def bn_right(x, running_mean, running_var, weight, bias, eps=1e-5):
    return (x - running_mean) / torch.sqrt(running_var + eps) * weight + bias


def bn_numpy(x, running_mean, running_var, weight, bias, eps=1e-5):  # written with NumPy
    x, m, v, w, b = (
        np.asarray(a, dtype=np.float64) for a in (x, running_mean, running_var, weight, bias)
    )
    return w * (x - m) / np.sqrt(v + eps) + b


def bn_batch_stats(x, running_mean, running_var, weight, bias, eps=1e-5):
    return (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) * weight + bias


def bn_no_sqrt(x, running_mean, running_var, weight, bias, eps=1e-5):
    return (x - running_mean) / (running_var + eps) * weight + bias


def bn_no_eps(x, running_mean, running_var, weight, bias, eps=1e-5):
    return (x - running_mean) / torch.sqrt(running_var) * weight + bias


def bn_no_affine(x, running_mean, running_var, weight, bias, eps=1e-5):
    return (x - running_mean) / torch.sqrt(running_var + eps)


def bn_wrong_shape(x, running_mean, running_var, weight, bias, eps=1e-5):
    return bn_right(x, running_mean, running_var, weight, bias, eps).sum(1)


def bn_not_written(x, running_mean, running_var, weight, bias, eps=1e-5):
    return ...


def test_q3_right_answers(capsys):
    assert_correct(capsys, check.q3, bn_right)
    assert_correct(capsys, check.q3, bn_numpy)
    assert_correct(
        capsys,
        check.q3,
        lambda *a: torch.nn.functional.batch_norm(a[0], *a[1:3], *a[3:5], False, 0.1, a[5]),
    )


def test_q3_not_attempted(capsys):
    assert "not attempted yet" in verdict(capsys, check.q3, ...)
    assert "not attempted yet" in verdict(capsys, check.q3, bn_not_written)


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (bn_batch_stats, "running ones"),
        (bn_no_sqrt, "square root"),
        (bn_no_eps, "eps goes under"),
        (bn_no_affine, "scale by weight"),
        (bn_wrong_shape, "same shape"),
        (lambda *a: "text", "tensor"),
    ],
)
def test_q3_typical_mistakes(capsys, answer, fragment):
    out = assert_not_yet(capsys, check.q3, answer, fragment)
    assert not numbers_in(out.split("not yet.")[1]), f"a hint shows numbers: {out}"
