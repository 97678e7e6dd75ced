"""Hidden checks of lab10_federated (grader only): other inputs, independent references.

FedAvg is compared with the weighted mean computed entry by entry in Python floats, on more
clients, other sizes (a client of size 0), a real model with BatchNorm and a single client. The
round of Q2 is compared with gradient descent written sample by sample. The federation of Q3
runs on hospitals made with a seed that appears nowhere else, and on three sites with other
numbers of rounds and local epochs (an answer that assumed four sites or the notebook's numbers
fails).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from course import federated as fl
from course.checks import as_array, assert_close, call, guard
from course.checks.lab10 import ACCURACY, run_federation

HELD_OUT_SEED = 7919  # the notebook uses seed 0, the visible check 100


# --- q1 --------------------------------------------------------------------------------------
def python_mean(states, sizes, key):
    """The weighted mean of one tensor, entry by entry, in Python floats."""
    flat = [s[key].double().reshape(-1).tolist() for s in states]
    total = float(sum(sizes))
    return [
        sum(n * values[i] for n, values in zip(sizes, flat, strict=True)) / total
        for i in range(len(flat[0]))
    ]


def _fedavg_case(fedavg, states, sizes, what) -> None:
    given = [copy.deepcopy(s) for s in states]
    result = call(fedavg, (given, list(sizes)), f"fedavg({what})")
    if not isinstance(result, dict) or set(result) != set(states[0]):
        raise AssertionError(f"fedavg({what}) should return a dict with the clients' keys")
    for key, reference in states[0].items():
        got = result[key]
        name = f"fedavg({what})[{key!r}]"
        if not torch.is_tensor(got) or got.shape != reference.shape or got.dtype != reference.dtype:
            raise AssertionError(f"{name} should be a {reference.dtype} tensor of shape "
                                 f"{tuple(reference.shape)}")  # fmt: skip
        expected = python_mean(states, sizes, key)
        if not reference.is_floating_point():
            expected = [float(round(v)) for v in expected]
        assert_close(as_array(got, name).reshape(-1), expected, name, rtol=1e-5, atol=1e-5)
    for old, new in zip(states, given, strict=True):
        if any(not torch.equal(old[k], new[k]) for k in old):
            raise AssertionError(f"fedavg({what}) modified its input")


def q1_fedavg(fedavg) -> None:
    guard()
    g = torch.Generator().manual_seed(2024)
    shapes = {"a": (), "b": (4,), "c": (2, 3, 2)}
    states = [{k: torch.randn(s, generator=g, dtype=torch.float64) for k, s in shapes.items()}
              for _ in range(5)]  # fmt: skip
    _fedavg_case(fedavg, states, [3, 17, 1, 40, 9], "five clients")
    _fedavg_case(fedavg, states[:3], [12, 0, 4], "a client with no samples")
    _fedavg_case(fedavg, states[:1], [7], "a single client")
    models = []
    for count in (1, 4, 2):
        model = fl.small_cnn(batch_norm=True)
        for _ in range(count):
            model(torch.randn(3, 1, 16, 16, generator=g))
        models.append(model.state_dict())
    _fedavg_case(fedavg, models, [16, 48, 8], "small_cnn(batch_norm=True) of three clients")


# --- q2 --------------------------------------------------------------------------------------
def loop_round(w, clients, lr, local_steps) -> np.ndarray:
    """FedAvg on least squares with the gradient summed sample by sample."""
    new, sizes = [], []
    for X, y in clients:
        wk = [float(v) for v in w]
        for _ in range(local_steps):
            grad = [0.0] * len(wk)
            for row, target in zip(X, y, strict=True):
                residual = sum(a * b for a, b in zip(row, wk, strict=True)) - target
                grad = [g + 2.0 * residual * a / len(y) for g, a in zip(grad, row, strict=True)]
            wk = [v - lr * g for v, g in zip(wk, grad, strict=True)]
        new.append(wk)
        sizes.append(len(y))
    return np.array([sum(n * v[j] for n, v in zip(sizes, new, strict=True)) / sum(sizes)
                     for j in range(len(w))])  # fmt: skip


def q2_one_round(one_round) -> None:
    guard()
    rng = np.random.default_rng(2025)
    clients = []
    for n in (3, 17, 40, 8):
        X = rng.normal(size=(n, 4))
        clients.append((X, X @ np.array([0.5, 1.0, -1.0, 2.0]) + rng.normal(size=n)))
    for w, lr, steps in [
        (np.zeros(4), 0.02, 7),
        (rng.normal(size=4), 0.1, 1),
        (np.ones(4), 0.05, 0),
    ]:
        name = f"one_round(w, four clients, lr={lr}, local_steps={steps})"
        given = [(X.copy(), y.copy()) for X, y in clients]
        got = as_array(call(one_round, (w.copy(), given, lr, steps), name), name)
        assert_close(got, loop_round(w, clients, lr, steps), name, rtol=1e-6, atol=1e-9)


# --- q3 --------------------------------------------------------------------------------------
def q3_federate(federate) -> None:
    guard()
    run_federation(federate, 31, rounds=2, local_epochs=1, sizes=(60, 30, 20))  # structure only
    model, sites = run_federation(federate, HELD_OUT_SEED, rounds=6, local_epochs=2)
    acc = fl.accuracy(model, *fl.pooled(sites, "test"))
    if not acc >= ACCURACY:
        raise AssertionError(f"accuracy {acc:.3f} on new hospitals, below the bar of {ACCURACY}")
    if not isinstance(model, nn.Module):  # pragma: no cover - run_federation checked it
        raise AssertionError("federate should return an nn.Module")
