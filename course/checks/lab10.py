"""Visible checks of lab10_federated: FedAvg aggregation, one round by hand, a federation.

Q1 compares the student's ``fedavg`` with the weighted mean written out here in float64 (the
lecture's three numbers, a linear layer, a BatchNorm layer with its integer counter). Q2 runs
one round of FedAvg on a linear model by gradient descent, with the gradients from
:mod:`torch.autograd`. Q3 calls the student's round loop with an instrumented ``local_train``
that records what every site starts from and ends with, so that the check can say whether each
round started from the global model and whether the new global model is the weighted average;
then it measures the accuracy of the result on the test patches of all sites. A wrong answer
raises :class:`AssertionError` with a message that names the input, the expected and the got.
"""

from __future__ import annotations

import copy
import functools
import sys

import numpy as np
import torch
from torch import nn

from course import federated as fl
from course.checks._common import as_array, assert_close, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import forbid

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.federated.fedavg": "q1",
    "course.federated.federated_training": "q3",
    "course.federated.compare_training": "q3",
}
forbid(OWN_WORK)

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 2.5, "q2": 2, "q3": 3}

__all__ = [
    "ACCURACY",
    "ROUNDS",
    "LOCAL_EPOCHS",
    "weighted_mean",
    "reference_round",
    "run_federation",
    "q1_fedavg",
    "q2_one_round",
    "q3_federate",
]

ACCURACY = 0.80  # on the test patches of all sites (the reference loop reaches about 0.9)
ROUNDS, LOCAL_EPOCHS = 6, 2  # what the Q3 check runs
SITES_SEED = 100  # the check's hospitals (the notebook's: seed 0)


# --- references ------------------------------------------------------------------------------
def weighted_mean(states, sizes) -> dict[str, np.ndarray]:
    """The FedAvg average of state dicts as float64 arrays: sum_k n_k w_k / sum_k n_k."""
    total = float(sum(sizes))
    return {
        key: sum(n * states[k][key].detach().double().cpu().numpy() for k, n in enumerate(sizes))
        / total
        for key in states[0]
    }


def _clone(state) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in state.items()}


def _show(value) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's object may raise anything
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


# --- q1 --------------------------------------------------------------------------------------
def check_fedavg_case(fedavg, states, sizes, what: str) -> None:
    """Compare ``fedavg(states, sizes)`` with :func:`weighted_mean` (integer tensors rounded)."""
    given = [copy.deepcopy(s) for s in states]
    result = call(fedavg, (given, list(sizes)), f"fedavg({what})")
    if not isinstance(result, dict):
        raise AssertionError(
            f"fedavg({what}) should return a dict (a state dict) of tensors, got {_show(result)}"
        )
    if set(result) != set(states[0]):
        raise AssertionError(
            f"fedavg({what}) should have the keys of the clients' state dicts "
            f"{sorted(states[0])}, got {sorted(result)}"
        )
    expected = weighted_mean(states, sizes)
    plain = weighted_mean(states, [1] * len(sizes))
    for key, reference in states[0].items():
        got = result[key]
        name = f"fedavg({what})[{key!r}]"
        if not torch.is_tensor(got) or got.shape != reference.shape:
            raise AssertionError(
                f"{name} should be a tensor of shape {tuple(reference.shape)} like the clients', "
                f"got {_show(got)}"
            )
        if got.dtype != reference.dtype:
            raise AssertionError(
                f"{name} should keep the dtype {reference.dtype} of the clients' tensors, got "
                f"{got.dtype}"
                + (
                    " (round, then convert back)"
                    if not got.is_floating_point() or not reference.is_floating_point()
                    else ""
                )  # fmt: skip
            )
        want = expected[key] if reference.is_floating_point() else np.round(expected[key])
        values = as_array(got, name)
        unequal = len(set(sizes)) > 1 and not np.allclose(plain[key], expected[key])
        if unequal and np.allclose(values, plain[key], rtol=1e-5, atol=1e-6):
            raise AssertionError(
                f"{name} is the plain mean of the clients' values; FedAvg weights each client "
                f"by its number of samples: sum_k n_k w_k / sum_k n_k with n = {list(sizes)}"
            )
        if np.allclose(values, expected[key] * sum(sizes), rtol=1e-5) and not np.allclose(
            values, want, rtol=1e-5, atol=1e-6
        ):
            raise AssertionError(
                f"{name} is sum_k n_k w_k: divide by the total number of samples sum_k n_k"
            )
        assert_close(values, want, name, rtol=1e-5, atol=1e-5)
    for old, new in zip(states, given, strict=True):
        for key in old:
            if not torch.equal(old[key], new[key]):
                raise AssertionError(
                    f"fedavg({what}) modified its input {key!r}: return new tensors"
                )


def _bn_states(seed: int, batches: list[int]):
    """State dicts of a conv + BatchNorm layer after different numbers of training batches."""
    g = torch.Generator().manual_seed(seed)
    states = []
    for count in batches:
        layer = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
        layer.train()
        for _ in range(count):
            layer(torch.randn(4, 1, 5, 5, generator=g))
        states.append(layer.state_dict())
    return states


def q1_fedavg(fedavg) -> None:
    """Check ``fedavg(state_dicts, sizes)``: the weighted mean of every tensor."""
    guard()
    three = [{"w": torch.tensor(v, dtype=torch.float64)} for v in (0.2, 0.5, 0.8)]
    check_fedavg_case(fedavg, three, [100, 300, 600], "the lecture's three clients")
    g = torch.Generator().manual_seed(10)
    linear = [nn.Linear(3, 2) for _ in range(2)]
    for layer in linear:
        nn.init.normal_(layer.weight, generator=g)
    check_fedavg_case(
        fedavg, [m.state_dict() for m in linear], [30, 10], "two nn.Linear(3, 2), 30 and 10 samples"
    )
    check_fedavg_case(
        fedavg, [m.state_dict() for m in linear], [5, 5], "two clients of equal size: the mean"
    )
    check_fedavg_case(
        fedavg,
        _bn_states(11, [2, 5, 3]),
        [20, 10, 50],
        "BatchNorm layers: num_batches_tracked 2, 5, 3 is an int64 count, its mean rounded",
    )


# --- q2 --------------------------------------------------------------------------------------
def reference_round(w, clients, lr: float, local_steps: int) -> np.ndarray:
    """One FedAvg round on linear least squares, with gradients from torch.autograd."""
    updated, sizes = [], []
    for X, y in clients:
        wk = torch.tensor(np.asarray(w, dtype=float), requires_grad=True)
        X_t, y_t = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        for _ in range(local_steps):
            loss = ((X_t @ wk - y_t) ** 2).mean()
            (grad,) = torch.autograd.grad(loss, wk)
            wk = (wk - lr * grad).detach().requires_grad_(True)
        updated.append(wk.detach().numpy())
        sizes.append(len(y))
    return sum(n * wk for n, wk in zip(sizes, updated, strict=True)) / sum(sizes)


def _diagnose_round(got, w, clients, lr, local_steps, name) -> None:
    """Teaching messages for the usual mistakes of one round, before the plain comparison."""
    sizes = [len(y) for _, y in clients]
    locals_ = [reference_round(w, [c], lr, local_steps) for c in clients]
    if len(set(sizes)) > 1 and np.allclose(got, np.mean(locals_, axis=0), atol=1e-8):
        raise AssertionError(
            f"{name} is the plain mean of the clients' new weights: weight each client by its "
            f"number of samples n_k = {sizes}"
        )
    no_two = [
        reference_round(w, [(X, y)], lr / 2, local_steps) for X, y in clients
    ]  # the gradient without its factor 2 is the full gradient with half the step
    if np.allclose(got, sum(n * v for n, v in zip(sizes, no_two, strict=True)) / sum(sizes)):
        raise AssertionError(
            f"{name}: the gradient of (1/n) ||X w - y||^2 is (2/n) X^T (X w - y); the factor 2 "
            "is missing"
        )
    sequential = np.asarray(w, dtype=float)
    for client in clients:
        sequential = reference_round(sequential, [client], lr, local_steps)
    if len(clients) > 1 and np.allclose(got, sequential, atol=1e-8):
        raise AssertionError(
            f"{name}: each client went on from the previous client's weights; in FedAvg every "
            "client starts the round from the same global weights w"
        )


def check_round_case(one_round, w, clients, lr, local_steps, what: str) -> None:
    given_w = np.array(w, dtype=float)
    given = [(X.copy(), y.copy()) for X, y in clients]
    name = f"one_round({what}, lr={lr}, local_steps={local_steps})"
    got = as_array(call(one_round, (given_w, given, lr, local_steps), name), name)
    expected = reference_round(w, clients, lr, local_steps)
    if got.shape != expected.shape:
        raise AssertionError(
            f"{name} should have shape {expected.shape} (one weight per feature), got {got.shape}"
        )
    if not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        _diagnose_round(got, w, clients, lr, local_steps, name)
    assert_close(got, expected, name, rtol=1e-6, atol=1e-9)
    if not np.array_equal(given_w, np.asarray(w, dtype=float)):
        raise AssertionError(f"{name} modified the global weights w it was given: copy them")


def q2_one_round(one_round) -> None:
    """Check ``one_round(w, clients, lr, local_steps)`` on linear least squares."""
    guard()
    X1, y1 = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 2.0])
    X2, y2 = np.array([[1.0, 1.0], [1.0, -1.0], [2.0, 0.0], [0.0, 2.0]]), np.array([0.0, 1, 1, 0])
    clients = [(X1, y1), (X2, y2)]
    check_round_case(one_round, [0.0, 0.0], clients, 0.1, 1, "w = [0, 0], two small clients")
    check_round_case(one_round, [0.5, -0.5], clients, 0.05, 5, "w = [0.5, -0.5], two clients")
    rng = np.random.default_rng(12)
    clients = []
    for n in (20, 5, 50):
        X = rng.normal(size=(n, 3))
        clients.append((X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)))
    check_round_case(one_round, np.zeros(3), clients, 0.05, 10, "three clients of 20, 5, 50")


# --- q3 --------------------------------------------------------------------------------------
class _Recorder:
    """A ``local_train`` that trains with its own batch order and records every call."""

    def __init__(self, sites, seed: int) -> None:
        self.sites, self.seed, self.calls = sites, seed, []

    def _site_of(self, images) -> int:
        for k, site in enumerate(self.sites):
            if images is site.train_images:
                return k
        for k, site in enumerate(self.sites):
            if torch.is_tensor(images) and images.shape == site.train_images.shape:
                if torch.equal(images.cpu(), site.train_images):
                    return k
        raise AssertionError(
            "local_train was given images that are not one site's training images: pass "
            "site.train_images and site.train_labels"
        )

    def __call__(self, model, images, labels, epochs=1, **ignored):
        if not isinstance(model, nn.Module):
            raise AssertionError(f"local_train needs a torch.nn.Module, got {_show(model)}")
        site = self._site_of(images)
        start = _clone(model.state_dict())
        fl.local_train(model, images, labels, epochs, seed=self.seed * 1000 + len(self.calls))
        self.calls.append((site, start, _clone(model.state_dict()), epochs))
        return model


@functools.lru_cache(maxsize=4)
def check_sites(seed: int, sizes: tuple = (160, 120, 80, 40)):
    """The hospitals a Q3 check federates (built once per seed)."""
    return fl.make_sites(sizes, n_test=100, scanners=fl.SCANNERS[: len(sizes)], seed=seed)


def _same(state, reference) -> bool:
    return all(
        np.allclose(state[k].double().numpy(), np.asarray(reference[k]), rtol=1e-4, atol=1e-5)
        for k in state
    )


def _check_aggregate(state, ends, sizes, when: str) -> None:
    if _same(state, weighted_mean(ends, sizes)):
        return
    if _same(state, weighted_mean(ends, [1] * len(sizes))):
        raise AssertionError(
            f"{when} is the plain mean of the sites' weights: weight each site by its number of "
            f"training patches (site.n_train = {sizes})"
        )
    if any(_same(state, end) for end in ends):
        raise AssertionError(f"{when} is one site's weights: average all sites' weights (Q1)")
    raise AssertionError(
        f"{when} is not the FedAvg average of the weights the sites sent back (sum_k n_k w_k / "
        "sum_k n_k): load fedavg(states, sizes) into the global model"
    )


def _check_rounds(recorder, initial, rounds, local_epochs) -> None:
    count, calls = len(recorder.sites), recorder.calls
    if len(calls) != rounds * count:
        raise AssertionError(
            f"local_train was called {len(calls)} times; with {rounds} rounds and {count} sites "
            f"it should be called {rounds * count} times (every site trains once per round)"
        )
    sizes = [site.n_train for site in recorder.sites]
    for r in range(rounds):
        this = calls[r * count : (r + 1) * count]
        if sorted(site for site, *_ in this) != list(range(count)):
            raise AssertionError(f"in round {r + 1} not every site trained exactly once")
        if any(epochs != local_epochs for *_, epochs in this):
            raise AssertionError(f"local_train should run epochs={local_epochs} (local_epochs)")
        starts = [start for _, start, _, _ in this]
        if not all(_same(start, starts[0]) for start in starts[1:]):
            raise AssertionError(
                f"in round {r + 1} the sites did not all start from the same global weights: "
                "give each site a copy of the global model (copy.deepcopy); training one model "
                "at one site after the other is sequential training, not FedAvg"
            )
        if r == 0 and not _same(starts[0], initial):
            raise AssertionError("round 1 should start from the model federate was given")
        if r > 0:
            previous = calls[(r - 1) * count : r * count]
            ends = [calls_end for _, _, calls_end, _ in sorted(previous, key=lambda c: c[0])]
            _check_aggregate(
                starts[0], ends, sizes, f"the global model at the start of round {r + 1}"
            )


def run_federation(federate, seed: int, rounds: int, local_epochs: int, sizes=(160, 120, 80, 40)):
    """Run the student's ``federate`` on the check's sites; return (model, sites) if its rounds
    are FedAvg's (AssertionError with the reason otherwise).
    """
    sites = check_sites(seed, tuple(sizes))
    recorder = _Recorder(sites, seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        initial = fl.small_cnn()
    start = _clone(initial.state_dict())
    what = f"federate(small_cnn(), sites, rounds={rounds}, local_epochs={local_epochs}, ...)"
    model = call(federate, (initial, sites, rounds, local_epochs, recorder), what)
    if not isinstance(model, nn.Module):
        raise AssertionError(
            f"{what} should return the global model (an nn.Module), got {_show(model)}"
        )
    _check_rounds(recorder, start, rounds, local_epochs)
    last = sorted(recorder.calls[-len(sites) :], key=lambda c: c[0])
    ends = [end for _, _, end, _ in last]
    _check_aggregate(_clone(model.state_dict()), ends, [s.n_train for s in sites],
                     "the model federate returned")  # fmt: skip
    return model, sites


def q3_federate(federate) -> None:
    """Check ``federate(model, sites, rounds, local_epochs, local_train)`` and its accuracy."""
    guard()
    model, sites = run_federation(federate, SITES_SEED, ROUNDS, LOCAL_EPOCHS)
    acc = fl.accuracy(model, *fl.pooled(sites, "test"))
    if not acc >= ACCURACY:
        raise AssertionError(
            f"after {ROUNDS} rounds the global model has accuracy {acc:.3f} on the test patches "
            f"of all sites, below the bar of {ACCURACY}"
        )


reporting(sys.modules[__name__])  # a check that passes says so, with its points
