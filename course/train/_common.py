"""The pieces shared by :mod:`course.train`: batches, models and metric tables.

A batch is a tensor of inputs, an ``(inputs, targets)`` pair (extra items are ignored) or a
dict with an ``"image"`` key and a ``"mask"``, ``"label"`` or ``"target"`` key, as a
:class:`torch.utils.data.DataLoader` collates them; :func:`_split_batch` turns any of them into
``(x, y)`` with inputs ``x`` of shape ``(N, ...)``, and :func:`_batch_size` gives the ``N`` that
weights the batch in an epoch's mean

.. math:: \\bar m = \\frac{\\sum_b N_b\\, m_b}{\\sum_b N_b}.

A metric (:data:`Metric`) is a callable ``metric(logits, targets) -> float``, given to
:func:`~course.train.fit` and :func:`~course.train.evaluate` as a dict ``{name: metric}``.
Reference: the PyTorch documentation of ``torch.utils.data`` (batching and collation).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Metric = Callable[[torch.Tensor, torch.Tensor], float]


def _split_batch(batch) -> tuple:
    """``(inputs, targets)`` from a tuple/list batch or a dict batch (targets may be None)."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, dict):
        if "image" not in batch:
            raise ValueError(f"a dict batch needs an 'image' key, got keys {sorted(batch)}")
        for key in ("mask", "label", "target"):
            if key in batch:
                return batch["image"], batch[key]
        return batch["image"], None
    if isinstance(batch, (tuple, list)) and len(batch) >= 1:
        return batch[0], (batch[1] if len(batch) > 1 else None)
    raise TypeError(
        "a batch must be a tensor, an (inputs, targets) tuple or a dict with 'image', got "
        f"{type(batch).__name__}"
    )


def _to(value, device: torch.device):
    return value.to(device, non_blocking=True) if isinstance(value, torch.Tensor) else value


def _batch_size(x) -> int:
    return len(x) if isinstance(x, torch.Tensor) else 1


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_metrics(metrics) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(
        isinstance(k, str) and callable(f) for k, f in metrics.items()
    ):
        raise TypeError("metrics must be a dict {name: fn(pred_logits, target) -> float}")
    return metrics
