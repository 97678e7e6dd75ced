"""Self-checks of lecture 10 (training a network): print a verdict, never the answer.

- :func:`q1` - ``training_step(model, x, y, loss_fn, optimizer)``: one step of the training
  loop, compared with the same step written out here on a copy of a small network with batch
  normalisation (train mode, gradients zeroed before ``backward``, one ``step``).
- :func:`q2` - ``cosine_lr(t, T, lr_max, lr_min)``: the learning rate of cosine annealing
  (Loshchilov & Hutter, ICLR 2017), compared with
  :class:`torch.optim.lr_scheduler.CosineAnnealingLR`.
- :func:`q3` - ``batchnorm_eval(x, running_mean, running_var, weight, bias, eps)``: batch
  normalisation in eval mode, compared with :class:`torch.nn.BatchNorm1d` in eval mode
  (Ioffe & Szegedy, ICML 2015).

Each check calls the student's function on inputs of its own and names, in its hint, what is
wrong (eval mode, zeroing, the statistics used, the ends of the schedule), never the expected
numbers. See :mod:`course.checks._selfcheck`.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from course.checks._selfcheck import Wrong, _NotAttempted, answered, attempt, exercise

__all__ = ["q1", "q2", "q3"]


# --- q1: one training step -----------------------------------------------------------------
def _step_setup(seed: int = 0):
    """A small network (with batch norm, left in eval mode), its loss and two batches."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    model.eval()  # a correct step switches it to train mode itself
    batches = [
        (torch.randn(6, 4, generator=generator), torch.randint(0, 3, (6,), generator=generator))
        for _ in range(2)
    ]
    return model, nn.CrossEntropyLoss(), batches


def _reference_steps(model, loss_fn, batches, zero: bool = True):
    """The weights after the correct steps (``zero=False``: gradients never zeroed)."""
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    losses = []
    for x, y in batches:
        if zero:
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return [p.detach().clone() for p in model.parameters()], losses


def _same(params, reference) -> bool:
    return all(torch.allclose(p, r, atol=1e-6) for p, r in zip(params, reference, strict=True))


def _as_number(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Wrong(f"{what} must be one number, got a tensor of shape {tuple(value.shape)}")
        return float(value.detach())
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise Wrong(f"{what} must be a number, got a {type(value).__name__}")
    return float(value)


def _run_student_steps(training_step, model, loss_fn, batches):
    """Call the student's step once per batch; returns (weights after each step, results)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    weights, results = [], []
    for x, y in batches:
        try:
            result = training_step(model, x, y, loss_fn, optimizer)
        except Exception as error:  # noqa: BLE001 - anything the student's code raises
            raise Wrong(f"calling your function raised {type(error).__name__}: {error}") from None
        weights.append([p.detach().clone() for p in model.parameters()])
        results.append(result)
    return weights, results


@exercise(1, correct="train mode, zero_grad, forward, loss, backward, step: the loop of fit.")
def q1(training_step) -> None:
    """Check ``training_step(model, x, y, loss_fn, optimizer) -> float`` (one SGD step)."""
    answered(training_step)
    if not callable(training_step):
        raise Wrong(f"this exercise asks for a function, got a {type(training_step).__name__}")
    model, loss_fn, batches = _step_setup()
    initial = [p.detach().clone() for p in model.parameters()]
    student = copy.deepcopy(model)
    weights, results = _run_student_steps(training_step, student, loss_fn, batches)
    changed = not _same(weights[0], initial)
    if results[0] is Ellipsis or (results[0] is None and not changed):
        raise _NotAttempted
    if not student.training:
        raise Wrong(
            "the model is still in eval mode after your step: switch it to train mode first "
            "(batch norm and dropout behave differently while training)"
        )
    if not changed:
        raise Wrong(
            "the weights did not change: compute the gradients with loss.backward() before "
            "optimizer.step(), and zero them before backward, not between backward and step"
        )
    correct, losses = _reference_steps(model, loss_fn, batches)
    if not _same(weights[0], _reference_steps(model, loss_fn, batches[:1])[0]):
        raise Wrong("the first step moved the weights differently from one SGD step on the batch")
    if not _same(weights[1], correct):
        if _same(weights[1], _reference_steps(model, loss_fn, batches, zero=False)[0]):
            raise Wrong(
                "the second step used the sum of both batches' gradients: backward() adds to "
                ".grad, so zero the gradients (optimizer.zero_grad()) before loss.backward()"
            )
        raise Wrong("the second step moved the weights differently from one SGD step")
    if results[0] is None:
        raise Wrong("the step is right but returns nothing: return the loss, as loss.item()")
    got = _as_number(results[0], "the value you return (loss.item())")
    if not math.isclose(got, losses[0], rel_tol=1e-5, abs_tol=1e-7):
        raise Wrong("return the loss of this batch, computed before the step (loss.item())")


# --- q2: the cosine schedule -----------------------------------------------------------------
def _torch_cosine(T: int, lr_max: float, lr_min: float) -> list[float]:
    """The learning rates of PyTorch's CosineAnnealingLR at steps 0..T."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr_max)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T, eta_min=lr_min)
    rates = []
    for _ in range(T + 1):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def _cosine_hint(values: list[float], T: int, lr_max: float, lr_min: float) -> str:
    if not math.isclose(values[0], lr_max, rel_tol=1e-6):
        return "at t = 0 the schedule must start at lr_max"
    if not math.isclose(values[-1], lr_min, rel_tol=1e-6, abs_tol=1e-12):
        return "at t = T the schedule must end at lr_min (cos(pi) = -1)"
    if any(b > a + 1e-12 for a, b in zip(values, values[1:], strict=False)):
        return "the rate must fall from lr_max to lr_min as t goes from 0 to T"
    middle = [v for t, v in enumerate(values) if 0 < t < T]
    linear = [lr_max - (lr_max - lr_min) * t / T for t in range(1, T)]
    if all(math.isclose(v, w, rel_tol=1e-6) for v, w in zip(middle, linear, strict=True)):
        return "that is a linear decay: the cosine one falls slowly at first, fast in the middle"
    return "the ends are right but not the shape: half a cosine period, scaled to [lr_min, lr_max]"


@exercise(2, correct="(1 + cos(pi t / T)) / 2 falls from 1 to 0 like half a cosine wave.")
def q2(cosine_lr) -> None:
    """Check ``cosine_lr(t, T, lr_max, lr_min) -> float`` against ``CosineAnnealingLR``."""
    for T, lr_max, lr_min in [(10, 0.1, 0.0), (7, 1.0, 0.2), (100, 3e-3, 1e-5)]:
        expected = _torch_cosine(T, lr_max, lr_min)
        values = []
        for t in range(T + 1):
            value = attempt(cosine_lr, t, T, lr_max, lr_min)
            values.append(_as_number(value, "the value your function returns"))
        if not all(
            math.isclose(v, e, rel_tol=1e-6, abs_tol=1e-12)
            for v, e in zip(values, expected, strict=True)
        ):
            raise Wrong(
                f"with T = {T}, lr_max = {lr_max}, lr_min = {lr_min}: "
                + _cosine_hint(values, T, lr_max, lr_min)
            )


# --- q3: batch normalisation in eval mode ---------------------------------------------------
def _bn_cases():
    """Inputs ``(x, running_mean, running_var, weight, bias, eps)`` and their reference."""
    generator = torch.Generator().manual_seed(10)
    cases = []
    for n, c, eps in [(5, 3, 1e-5), (1, 4, 1e-3), (8, 2, 0.1)]:
        x = 3 * torch.randn(n, c, generator=generator) + 1
        mean = torch.randn(c, generator=generator)
        var = torch.rand(c, generator=generator) * 4 + 0.05
        var[0] = eps  # eps matters on this channel
        weight = torch.randn(c, generator=generator) + 2
        bias = torch.randn(c, generator=generator)
        layer = nn.BatchNorm1d(c, eps=eps).eval()
        with torch.no_grad():
            layer.running_mean.copy_(mean)
            layer.running_var.copy_(var)
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
            expected = layer(x)
        cases.append(((x, mean, var, weight, bias, eps), expected))
    return cases


def _bn_hint(args, got: torch.Tensor) -> str:
    """What a typical wrong batch-norm output did (never the expected values)."""
    x, mean, var, weight, bias, eps = args

    def close(candidate):
        return candidate.shape == got.shape and torch.allclose(got, candidate, atol=1e-4)

    if x.shape[0] > 1:
        batch = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) * weight + bias
        if close(batch):
            return (
                "in eval mode the batch's own mean and variance are not used: use the running ones"
            )
    if close((x - mean) / (var + eps) * weight + bias):
        return "divide by the standard deviation, the square root of (running_var + eps)"
    if close((x - mean) / torch.sqrt(var) * weight + bias):
        return (
            "eps goes under the square root, added to running_var (it matters for tiny variances)"
        )
    if close((x - mean) / torch.sqrt(var + eps)):
        return "after normalising, scale by weight (gamma) and shift by bias (beta)"
    return "normalise with the running statistics, then scale by weight and shift by bias"


@exercise(3, correct="in eval mode batch norm is a fixed affine map per channel.")
def q3(batchnorm_eval) -> None:
    """Check ``batchnorm_eval(x, running_mean, running_var, weight, bias, eps)`` on (N, C)."""
    for args, expected in _bn_cases():
        got = attempt(batchnorm_eval, *(a.clone() if torch.is_tensor(a) else a for a in args))
        try:
            got = torch.as_tensor(np.asarray(got, dtype=np.float64), dtype=torch.float32)
        except (TypeError, ValueError):
            raise Wrong(f"return a tensor of shape (N, C), got a {type(got).__name__}") from None
        if got.shape != expected.shape:
            raise Wrong(
                f"for x of shape {tuple(args[0].shape)} the output has the same shape, got "
                f"{tuple(got.shape)}: the statistics have one value per channel (axis 1)"
            )
        if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
            raise Wrong(_bn_hint(args, got))
