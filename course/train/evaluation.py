"""Evaluation and prediction: a trained model run over a data set, without gradients.

:func:`evaluate` averages a loss and metrics over the batches of a loader, each batch
weighted by its size ``N_b``,

.. math:: \\bar m = \\frac{\\sum_b N_b\\, m_b}{\\sum_b N_b},

so that a metric averaged over the images of its batch gives the mean over all images;
:func:`predict` returns the model's outputs (logits) for every batch, concatenated on the CPU.
Both run in eval mode under :func:`torch.no_grad` (:func:`_inference`, which restores the
model's train/eval mode afterwards) and in mixed precision on CUDA (:func:`torch.autocast`).

Inputs are batches as in :mod:`course.train`, of shape ``(N, ...)``; outputs have the model's
output shape ``(N, ...)``. Eval mode matters: dropout is off and batch normalisation uses its
running statistics instead of the batch's (Ioffe & Szegedy, "Batch normalization", ICML 2015).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import torch
from torch import nn

import course
from course._validate import integer
from course.train._common import (
    Metric,
    _batch_size,
    _check_metrics,
    _check_model,
    _split_batch,
    _to,
)

__all__ = ["evaluate", "predict"]


@contextlib.contextmanager
def _inference(model: nn.Module):
    """Eval mode without gradients for the ``with`` block; the train/eval mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable | None = None,
    metrics: dict[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool = True,
) -> dict[str, float]:
    """Average loss and metrics of ``model`` over ``loader``, without gradients, in eval mode.

    Each value is the mean over batches weighted by batch size:
    :math:`\\bar m = \\sum_b n_b m_b / \\sum_b n_b`. A metric that averages over the images of
    its batch therefore gives the mean over all images. The model's train/eval mode is restored.

    Parameters
    ----------
    model : torch.nn.Module
    loader : iterable of batches
        E.g. a :class:`torch.utils.data.DataLoader`.
    loss_fn : callable(logits, targets) -> scalar tensor, optional
    metrics : dict of str to callable(logits, targets) -> float, optional
    device : torch.device or str, optional
        Defaults to :func:`course.get_device`.
    amp : bool, default True
        Mixed precision, on CUDA only.

    Returns
    -------
    dict
        ``{"loss": ..., <metric name>: ...}`` (``"loss"`` only with a ``loss_fn``).

    Raises
    ------
    TypeError
        A non-module ``model`` or malformed ``metrics``.
    ValueError
        An empty ``loader``.

    Examples
    --------
    >>> model = nn.Linear(2, 1)
    >>> _ = nn.init.zeros_(model.weight), nn.init.zeros_(model.bias)
    >>> batches = [(torch.ones(4, 2), torch.ones(4, 1))]
    >>> evaluate(model, batches, nn.MSELoss(), {"mae": lambda p, t: (p - t).abs().mean()}, "cpu")
    {'loss': 1.0, 'mae': 1.0}
    """
    _check_model(model)
    metrics = _check_metrics(metrics)
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    use_amp = amp and device.type == "cuda"
    totals: dict[str, float] = {}
    count = 0
    with _inference(model):
        for batch in loader:
            x, y = _split_batch(batch)
            x, y = _to(x, device), _to(y, device)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                logits = model(x)
                values = {"loss": loss_fn(logits, y)} if loss_fn is not None else {}
            logits = logits.float()
            values.update({name: fn(logits, y) for name, fn in metrics.items()})
            n = _batch_size(x)
            for name, value in values.items():
                totals[name] = totals.get(name, 0.0) + n * float(value)
            count += n
    if count == 0:
        raise ValueError("loader yielded no batches: nothing to evaluate")
    return {name: total / count for name, total in totals.items()}


def predict(
    model: nn.Module,
    data: torch.Tensor | Iterable,
    device: torch.device | str | None = None,
    batch_size: int = 32,
    amp: bool = True,
) -> torch.Tensor:
    """Model outputs (logits) for a tensor or every batch of a loader, concatenated on the CPU.

    Runs in eval mode without gradients (the mode is restored afterwards). Apply
    ``torch.sigmoid`` or ``torch.softmax(..., dim=1)`` yourself to get probabilities.

    Parameters
    ----------
    model : torch.nn.Module
    data : torch.Tensor of shape (N, ...) or iterable of batches
        A tensor is split into chunks of ``batch_size``; from a loader's batches only the inputs
        are used (targets are ignored).
    device : torch.device or str, optional
        Defaults to :func:`course.get_device`.
    batch_size : int, default 32
    amp : bool, default True
        Mixed precision on CUDA (outputs are converted back to float32).

    Returns
    -------
    torch.Tensor, shape (N, ...), on the CPU

    Raises
    ------
    TypeError
        Non-module ``model``, or a ``batch_size`` that is not an int.
    ValueError
        No data, or a non-positive ``batch_size``.

    Examples
    --------
    >>> model = nn.Linear(3, 2)
    >>> x = torch.randn(70, 3)
    >>> out = predict(model, x, device="cpu", batch_size=32)
    >>> out.shape, torch.allclose(out, model(x))
    (torch.Size([70, 2]), True)
    """
    _check_model(model)
    integer("batch_size", batch_size, minimum=1)
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    use_amp = amp and device.type == "cuda"
    batches = data.split(batch_size) if isinstance(data, torch.Tensor) else data
    outputs = []
    with _inference(model):
        for batch in batches:
            x, _ = _split_batch(batch)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                out = model(_to(x, device))
            outputs.append(out.float().cpu())
    if not outputs:
        raise ValueError("data is empty: nothing to predict")
    return torch.cat(outputs)
