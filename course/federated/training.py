"""Federated averaging (FedAvg) and its baselines, on the sites of :mod:`course.federated.sites`.

In FedAvg (McMahan et al. 2017, Algorithm 1) the server sends the global weights :math:`w^t`
to the :math:`K` sites; each trains them for a few local epochs on its :math:`n_k` images and
sends back :math:`w_k^{t+1}`; the server averages them, weighting each site by its size:

.. math::

    w^{t+1} = \\sum_{k=1}^{K} \\frac{n_k}{n}\\, w_k^{t+1}, \\qquad n = \\sum_{k=1}^{K} n_k .

* :func:`small_cnn` and :class:`Standardise` - the model (about 1,800 weights);
* :func:`local_train` - a few epochs of Adam at one site;
* :func:`fedavg` - the weighted average of state dicts (integer buffers rounded);
* :func:`federated_training`, :func:`centralised_training`, :func:`local_only_training`,
  :func:`compare_training` - FedAvg and its two baselines (all data pooled in one place; each
  site alone), with the same number of passes over each site's data;
* :func:`predict_proba`, :func:`accuracy`, :func:`cross_site_accuracy` - evaluation.

Reference: McMahan, H. B., Moore, E., Ramage, D., Hampson, S. & Agüera y Arcas, B. (2017).
Communication-efficient learning of deep networks from decentralized data. AISTATS, PMLR 54,
1273-1282.

>>> import torch
>>> a = {"w": torch.tensor([0.0, 2.0])}
>>> b = {"w": torch.tensor([4.0, 6.0])}
>>> fedavg([a, b], weights=[300, 100])["w"]  # 0.75 * a + 0.25 * b
tensor([1., 3.])
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from course._validate import describe, integer, number
from course.federated.sites import Site, _check_sites, pooled

__all__ = [
    "Standardise",
    "small_cnn",
    "local_train",
    "fedavg",
    "federated_training",
    "centralised_training",
    "local_only_training",
    "compare_training",
    "predict_proba",
    "accuracy",
    "cross_site_accuracy",
]


# ---------------------------------------------------------------------------------------------
# The model and one site's training
# ---------------------------------------------------------------------------------------------
class Standardise(nn.Module):
    """Per-image intensity normalisation: :math:`(x - \\bar x) / (s_x + 10^{-6})` over each image.

    It removes a scanner's gain and offset (not its noise or blur): the usual first defence
    against intensity differences between sites (z-scoring each MRI volume is the analogue).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / (x.std(dim=(1, 2, 3), keepdim=True) + 1e-6)


def small_cnn(patch: int = 16, standardise: bool = True, batch_norm: bool = False) -> nn.Module:
    """A small CNN for ``(N, 1, patch, patch)`` patches: 2 logits (no lesion, lesion).

    :class:`Standardise` (unless ``standardise=False``), then two stages of 3x3 convolution,
    ReLU and 2x2 max pooling (8 and 16 channels), then one linear layer on the flattened map (the
    lesion is at the centre: position matters). With ``batch_norm=True`` each convolution is
    followed by :class:`torch.nn.BatchNorm2d`, whose state dict holds an integer buffer
    (``num_batches_tracked``) that :func:`fedavg` must handle.

    Examples
    --------
    >>> sum(p.numel() for p in small_cnn().parameters())
    1762
    """
    patch = integer("patch", patch, minimum=4)

    def norm(channels: int) -> nn.Module:
        return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()

    return nn.Sequential(
        Standardise() if standardise else nn.Identity(),
        nn.Conv2d(1, 8, 3, padding=1),
        norm(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        norm(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (patch // 4) ** 2, 2),
    )


def _device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def local_train(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 1,
    lr: float = 5e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> nn.Module:
    """Train ``model`` in place for ``epochs`` passes over one site's data; return it.

    Adam (a new optimiser at every call, as a site starting a round does), cross-entropy,
    mini-batches in an order drawn from ``seed``. The data are moved to the model's device.

    Parameters
    ----------
    model : torch.nn.Module
        Outputs ``(N, 2)`` logits.
    images : torch.Tensor, shape (N, 1, P, P)
    labels : torch.Tensor, shape (N,), int64
    epochs : int, default 1
    lr : float, default 5e-3
    batch_size : int, default 16
    seed : int, default 0

    Returns
    -------
    torch.nn.Module
        ``model`` itself, trained.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"images and labels must have the same, non-zero length, got {len(images)} and "
            f"{len(labels)}"
        )
    epochs = integer("epochs", epochs, minimum=0)
    batch_size = integer("batch_size", batch_size, minimum=1)
    lr = number("lr", lr, low=0, low_open=True)
    order_rng = torch.Generator().manual_seed(integer("seed", seed, minimum=0))
    device = _device(model)
    images, labels = images.to(device), labels.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with torch.enable_grad():  # also when called under torch.no_grad()
        for _ in range(epochs):
            order = torch.randperm(len(labels), generator=order_rng).to(device)
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimiser.zero_grad()
                nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
                optimiser.step()
    return model


# ---------------------------------------------------------------------------------------------
# FedAvg: the server's weighted average
# ---------------------------------------------------------------------------------------------
def _client_weights(weights, count: int) -> np.ndarray:
    """The weights as float64 fractions summing to 1, after checking them."""
    if isinstance(weights, (str, bytes, Mapping)) or not isinstance(
        weights, (Sequence, np.ndarray)
    ):
        raise TypeError(
            f"weights must be a sequence of numbers (the clients' sample counts), got "
            f"{describe(weights)}"
        )
    values = np.array([number(f"weights[{k}]", w, low=0) for k, w in enumerate(weights)])
    if len(values) != count:
        raise ValueError(f"weights must have one entry per state dict ({count}), got {len(values)}")
    if values.sum() <= 0:
        raise ValueError(f"weights must not all be zero, got {values.tolist()}")
    return values / values.sum()


def _check_state_dicts(state_dicts) -> list[Mapping]:
    """The state dicts as a list, after checking that they hold the same tensors."""
    if isinstance(state_dicts, (str, bytes, Mapping)) or not isinstance(state_dicts, Sequence):
        raise TypeError(
            f"state_dicts must be a list of state dicts (model.state_dict()), got "
            f"{describe(state_dicts)}"
        )
    if len(state_dicts) == 0:
        raise ValueError("state_dicts must hold at least one state dict, got an empty list")
    for k, state in enumerate(state_dicts):
        if not isinstance(state, Mapping):
            raise TypeError(f"state_dicts[{k}] must be a state dict, got {describe(state)}")
    first = state_dicts[0]
    for k, state in enumerate(state_dicts[1:], start=1):
        missing, extra = sorted(set(first) - set(state)), sorted(set(state) - set(first))
        if missing or extra:
            raise ValueError(
                f"state_dicts[{k}] does not have the keys of state_dicts[0]: missing {missing}, "
                f"extra {extra}; every client must train the same architecture"
            )
        for key in first:
            a, b = first[key], state[key]
            if not (torch.is_tensor(a) and torch.is_tensor(b)):
                bad = a if not torch.is_tensor(a) else b
                raise TypeError(f"state_dicts[...][{key!r}] must be a tensor, got {describe(bad)}")
            if a.shape != b.shape or a.dtype != b.dtype:
                raise ValueError(
                    f"state_dicts[{k}][{key!r}] has shape {tuple(b.shape)} and dtype {b.dtype}, "
                    f"state_dicts[0][{key!r}] {tuple(a.shape)} and {a.dtype}"
                )
    return list(state_dicts)


def fedavg(state_dicts: Sequence[Mapping], weights: Sequence[float]) -> OrderedDict:
    """Federated averaging: the weighted mean of the clients' state dicts.

    .. math:: w = \\sum_k \\frac{n_k}{\\sum_j n_j}\\, w_k

    for every tensor of the state dicts, with ``weights`` the clients' sample counts
    :math:`n_k` (McMahan et al. 2017, Algorithm 1). The sum is computed in float64 (complex128
    for complex tensors) on the CPU and cast back to each tensor's dtype and device.

    **Integer tensors** (BatchNorm's ``num_batches_tracked`` buffer counts the batches seen; a
    bool mask) cannot hold an average: their weighted mean is **rounded to the nearest integer**
    (halves to even, as :func:`torch.round`) and cast back. Left alone, a float mean such as
    12.5 would be truncated silently to 12 by ``load_state_dict``. Each client starts a round
    from the same count and adds its own batches, so the rounded mean is the count of an
    average client. (A BatchNorm layer uses the count only with ``momentum=None``.)

    Parameters
    ----------
    state_dicts : sequence of mappings from str to torch.Tensor
        One ``model.state_dict()`` per client, all with the same keys, shapes and dtypes.
    weights : sequence of float
        One non-negative weight per client (its number of training samples), not all zero;
        they are normalised to sum to 1.

    Returns
    -------
    collections.OrderedDict
        New tensors, in the key order of ``state_dicts[0]``; the inputs are not modified.

    Raises
    ------
    TypeError
        If ``state_dicts`` is not a sequence of mappings of tensors, or ``weights`` not a
        sequence of numbers.
    ValueError
        If the list is empty, the keys, shapes or dtypes differ between clients, the number of
        weights differs from the number of state dicts, a weight is negative or not finite, or
        all are zero.

    Examples
    --------
    >>> import torch
    >>> a = {"w": torch.tensor([1.0]), "num_batches_tracked": torch.tensor(10)}
    >>> b = {"w": torch.tensor([3.0]), "num_batches_tracked": torch.tensor(13)}
    >>> mean = fedavg([a, b], weights=[1, 1])
    >>> mean["w"], mean["num_batches_tracked"]  # (10 + 13) / 2 = 11.5 rounds to 12
    (tensor([2.]), tensor(12))
    """
    states = _check_state_dicts(state_dicts)
    fractions = _client_weights(weights, len(states))
    averaged = OrderedDict()
    for key, reference in states[0].items():
        exact = reference.is_floating_point() or reference.is_complex()
        wide = torch.complex128 if reference.is_complex() else torch.float64
        total = torch.zeros(reference.shape, dtype=wide)
        for fraction, state in zip(fractions, states, strict=True):
            total += float(fraction) * state[key].detach().cpu().to(wide)
        if not exact:
            total = torch.round(total)
        averaged[key] = total.to(dtype=reference.dtype, device=reference.device)
    return averaged


# ---------------------------------------------------------------------------------------------
# FedAvg and its baselines
# ---------------------------------------------------------------------------------------------
def _local_seed(seed: int, round_: int, site: int) -> int:
    """A different, reproducible batch order for every (seed, round, site)."""
    return seed * 100_003 + round_ * 101 + site


def federated_training(
    model: nn.Module,
    sites: Sequence[Site],
    rounds: int = 10,
    local_epochs: int = 2,
    lr: float = 5e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> tuple[nn.Module, list[float]]:
    """FedAvg: ``rounds`` rounds of local training at every site, then :func:`fedavg`.

    Each round, every site trains a copy of the global model for ``local_epochs`` epochs
    (:func:`local_train`); the new global model is the average of the copies weighted by the
    sites' training sizes. Only weights leave the sites.

    Parameters
    ----------
    model : torch.nn.Module
        The initial global model (not modified: a copy is trained).
    sites : sequence of Site
    rounds, local_epochs : int
    lr, batch_size, seed
        As in :func:`local_train` (each site and round gets its own batch order).

    Returns
    -------
    model : torch.nn.Module
        The global model after the last round.
    history : list of float
        Its accuracy on all sites' test patches pooled, after each round.
    """
    sites = _check_sites(sites)
    rounds = integer("rounds", rounds, minimum=1)
    global_model = copy.deepcopy(model)
    sizes = [site.n_train for site in sites]
    history = []
    for r in range(rounds):
        states = []
        for k, site in enumerate(sites):
            local = copy.deepcopy(global_model)  # the site starts from the global weights
            local_train(
                local, site.train_images, site.train_labels, local_epochs, lr, batch_size,
                seed=_local_seed(seed, r, k),
            )  # fmt: skip
            states.append(local.state_dict())
        global_model.load_state_dict(fedavg(states, sizes))
        history.append(accuracy(global_model, *pooled(sites, "test")))
    return global_model, history


def centralised_training(
    model: nn.Module,
    sites: Sequence[Site],
    epochs: int = 20,
    lr: float = 5e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> nn.Module:
    """The upper baseline: a copy of ``model`` trained on all sites' data pooled in one place."""
    images, labels = pooled(_check_sites(sites), "train")
    return local_train(copy.deepcopy(model), images, labels, epochs, lr, batch_size, seed)


def local_only_training(
    model: nn.Module,
    sites: Sequence[Site],
    epochs: int = 20,
    lr: float = 5e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> dict[str, nn.Module]:
    """The lower baseline: one copy of ``model`` per site, trained on that site's data only."""
    return {
        site.name: local_train(
            copy.deepcopy(model),
            site.train_images,
            site.train_labels,
            epochs,
            lr,
            batch_size,
            seed=_local_seed(seed, 0, k),
        )  # fmt: skip
        for k, site in enumerate(_check_sites(sites))
    }


def compare_training(
    model: nn.Module,
    sites: Sequence[Site],
    rounds: int = 10,
    local_epochs: int = 2,
    lr: float = 5e-3,
    batch_size: int = 16,
    seed: int = 0,
) -> dict[str, nn.Module]:
    """FedAvg, centralised and local-only models from the same initial ``model``, each seeing
    every site's data ``rounds * local_epochs`` times.

    Returns
    -------
    dict
        ``"federated"``, ``"centralised"``, then ``"local only, <site>"`` for each site.
    """
    epochs = integer("rounds", rounds, minimum=1) * integer("local_epochs", local_epochs, minimum=1)
    fed, _ = federated_training(model, sites, rounds, local_epochs, lr, batch_size, seed)
    models = {"federated": fed}
    models["centralised"] = centralised_training(model, sites, epochs, lr, batch_size, seed)
    local = local_only_training(model, sites, epochs, lr, batch_size, seed)
    models.update({f"local only, {name}": m for name, m in local.items()})
    return models


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------
def predict_proba(model: nn.Module, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
    """The model's probability of a lesion, softmax of its logits: ``(N,)`` float64 array.

    Eval mode, no gradient; the model is put back in its previous mode afterwards.
    """
    was_training = model.training
    model.eval()
    device = _device(model)
    with torch.no_grad():
        logits = [
            model(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)
        ]
    model.train(was_training)
    probabilities = torch.softmax(torch.cat(logits).double(), dim=1)[:, 1]
    return probabilities.cpu().numpy()


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of patches whose most probable class is the label."""
    predicted = predict_proba(model, images) >= 0.5
    return float(np.mean(predicted == labels.cpu().numpy().astype(bool)))


def cross_site_accuracy(models: Mapping[str, nn.Module], sites: Sequence[Site]) -> np.ndarray:
    """Accuracy of every model (rows, in the order of ``models``) on every site's test set."""
    sites = _check_sites(sites)
    return np.array(
        [
            [accuracy(model, site.test_images, site.test_labels) for site in sites]
            for model in models.values()
        ]
    )
