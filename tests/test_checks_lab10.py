"""The visible and hidden checks of lab10 accept correct answers and reject typical mistakes."""

import copy

import numpy as np
import pytest
import torch
from cheats import always_equal, hidden_checks

from course import federated as fl
from course.checks import lab10 as visible

hidden = hidden_checks("lab10")
MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- correct answers, written differently from the library -----------------------------------
def fedavg_loop(state_dicts, sizes):
    result = {}
    for key in state_dicts[0]:
        acc = torch.zeros_like(state_dicts[0][key], dtype=torch.float64)
        for n, state in zip(sizes, state_dicts, strict=True):
            acc = acc + n * state[key].double()
        mean = acc / sum(sizes)
        if not state_dicts[0][key].is_floating_point():
            mean = mean.round()
        result[key] = mean.to(state_dicts[0][key].dtype)
    return result


def one_round_numpy(w, clients, lr, local_steps):
    new = []
    for X, y in clients:
        wk = np.array(w, dtype=float)
        for _ in range(local_steps):
            wk = wk - lr * (2 / len(y)) * X.T @ (X @ wk - y)
        new.append(len(y) * wk)
    return np.sum(new, axis=0) / sum(len(y) for _, y in clients)


def federate_reference(model, sites, rounds, local_epochs, local_train):
    current = copy.deepcopy(model)
    for _ in range(rounds):
        states = []
        for site in sites:
            local = copy.deepcopy(current)
            local_train(local, site.train_images, site.train_labels, epochs=local_epochs)
            states.append(local.state_dict())
        current.load_state_dict(fedavg_loop(states, [s.n_train for s in sites]))
    return current


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer",
    [
        ("q1_fedavg", fl.fedavg),
        ("q1_fedavg", fedavg_loop),
        ("q2_one_round", one_round_numpy),
    ],
)
def test_accepts_correct_answers(module, name, answer):
    getattr(module, name)(answer)


@pytest.mark.parametrize("module", MODULES)
def test_accepts_a_correct_federation(module):
    module.q3_federate(federate_reference)


# --- typical mistakes ------------------------------------------------------------------------
def fedavg_unweighted(state_dicts, sizes):
    return fedavg_loop(state_dicts, [1] * len(sizes))


def fedavg_no_division(state_dicts, sizes):
    return {k: v * sum(sizes) for k, v in fedavg_loop(state_dicts, sizes).items()}


def fedavg_float_counter(state_dicts, sizes):
    total = sum(sizes)
    return {
        k: sum(n * s[k].double() for n, s in zip(sizes, state_dicts, strict=True)) / total
        for k in state_dicts[0]
    }


def fedavg_in_place(state_dicts, sizes):
    result = state_dicts[0]
    for key, value in fedavg_loop(state_dicts, sizes).items():
        result[key].copy_(value)
    return result


def fedavg_list(state_dicts, sizes):
    return list(fedavg_loop(state_dicts, sizes).values())


def one_round_unweighted(w, clients, lr, local_steps):
    return np.mean([one_round_numpy(w, [c], lr, local_steps) for c in clients], axis=0)


def one_round_no_two(w, clients, lr, local_steps):
    return one_round_numpy(w, clients, lr / 2, local_steps)


def one_round_sequential(w, clients, lr, local_steps):
    for client in clients:
        w = one_round_numpy(w, [client], lr, local_steps)
    return w


def one_round_no_steps(w, clients, lr, local_steps):
    return np.array(w, dtype=float)


WRONG = [
    ("q1_fedavg", fedavg_unweighted, "plain mean"),
    ("q1_fedavg", fedavg_no_division, "divide by the total"),
    ("q1_fedavg", fedavg_float_counter, "dtype"),
    ("q1_fedavg", fedavg_in_place, "modified its input"),
    ("q1_fedavg", fedavg_list, "dict"),
    ("q1_fedavg", always_equal, "dict"),
    ("q2_one_round", one_round_unweighted, "plain mean"),
    ("q2_one_round", one_round_no_two, "factor 2"),
    ("q2_one_round", one_round_sequential, "previous client"),
    ("q2_one_round", one_round_no_steps, "values differ"),
    ("q2_one_round", always_equal, "array of numbers"),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer, message", WRONG)
def test_rejects_wrong_answers(module, name, answer, message):
    with pytest.raises(AssertionError) as error:
        getattr(module, name)(answer)
    if module is visible:  # the visible checks say what is wrong
        assert message in str(error.value)


def federate_sequential(model, sites, rounds, local_epochs, local_train):
    for _ in range(rounds):
        for site in sites:
            local_train(model, site.train_images, site.train_labels, epochs=local_epochs)
    return model


def federate_unweighted(model, sites, rounds, local_epochs, local_train):
    current = copy.deepcopy(model)
    for _ in range(rounds):
        states = []
        for site in sites:
            local = copy.deepcopy(current)
            local_train(local, site.train_images, site.train_labels, epochs=local_epochs)
            states.append(local.state_dict())
        current.load_state_dict(fedavg_unweighted(states, None or [1] * len(states)))
    return current


def federate_keeps_last(model, sites, rounds, local_epochs, local_train):
    current = copy.deepcopy(model)
    for _ in range(rounds):
        for site in sites:
            local = copy.deepcopy(current)
            local_train(local, site.train_images, site.train_labels, epochs=local_epochs)
        current = local
    return current


def federate_one_epoch(model, sites, rounds, local_epochs, local_train):
    return federate_reference(model, sites, rounds, 1, local_train)


def federate_one_round(model, sites, rounds, local_epochs, local_train):
    return federate_reference(model, sites, 1, local_epochs, local_train)


def federate_four_sites(model, sites, rounds, local_epochs, local_train):
    return federate_reference(
        model, [sites[k] for k in range(4)], rounds, local_epochs, local_train
    )


@pytest.mark.parametrize(
    "answer, message",
    [
        (federate_sequential, "same global weights"),
        (federate_unweighted, "plain mean"),
        (federate_keeps_last, "one site's weights"),
        (federate_one_epoch, "epochs=2"),
        (federate_one_round, "called 3 times"),
        (always_equal, "nn.Module"),
    ],
)
def test_federation_structure_is_checked(answer, message):
    with pytest.raises(AssertionError, match=message):
        visible.run_federation(answer, 3, rounds=2, local_epochs=2, sizes=(24, 16, 8))


def test_hidden_federation_uses_other_sites():
    visible.run_federation(federate_four_sites, 3, rounds=1, local_epochs=1)  # four sites: fine
    with pytest.raises(AssertionError, match="IndexError"):
        hidden.q3_federate(federate_four_sites)


@pytest.mark.parametrize("module", MODULES)
def test_an_untrained_model_is_rejected(module):
    def no_training(model, sites, rounds, local_epochs, local_train):
        return model

    with pytest.raises(AssertionError, match="called 0 times"):
        module.q3_federate(no_training)


def test_unfinished_answer_raises_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in ("q1_fedavg", "q2_one_round", "q3_federate"):
            with pytest.raises(NotImplementedError):
                getattr(module, name)(stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_refused(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q1_fedavg(fl.fedavg)


def test_the_bar_has_a_margin_over_seeds():
    """The reference loop clears the bar on the check's hospitals with other model seeds."""
    for seed in (0, 1):
        sites = visible.check_sites(visible.SITES_SEED)
        torch.manual_seed(seed)
        _, history = fl.federated_training(
            fl.small_cnn(), sites, visible.ROUNDS, visible.LOCAL_EPOCHS, seed=seed
        )
        assert history[-1] >= visible.ACCURACY + 0.05
