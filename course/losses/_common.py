"""Checks and reductions shared by the losses (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from course._validate import choice

_REDUCTIONS = ("mean", "sum", "none")


def _check_logits(x: Any, name: str = "logits") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(
            f"{name} must have shape (N, C, *spatial) with C = 1 for binary problems, "
            f"got shape {tuple(x.shape)}"
        )
    return x


def _check_reduction(reduction: str) -> None:
    choice("reduction", reduction, _REDUCTIONS)


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _class_indices(target: torch.Tensor, input_shape: torch.Size) -> torch.Tensor:
    """Check an integer target of shape ``(N, *spatial)`` with values in ``[0, C)``."""
    num_classes = input_shape[1]
    expected = (input_shape[0], *input_shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"target of class indices must have shape (N, *spatial) = {expected}, "
            f"got {tuple(target.shape)}"
        )
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(
            f"target must hold class indices in [0, {num_classes}), got values from "
            f"{int(target.min())} to {int(target.max())}"
        )
    return target.long()


def _target_probabilities(target: Any, input_shape: torch.Size) -> torch.Tensor:
    """The target as per-class probabilities of shape ``(N, C, *spatial)``.

    Binary (C = 1): a 0/1 (or soft) target of shape ``(N, 1, *spatial)`` or ``(N, *spatial)``.
    Multi-class: class indices ``(N, *spatial)`` (integer) or one-hot/soft ``(N, C, *spatial)``.
    """
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    shape = tuple(input_shape)
    num_classes = shape[1]
    if num_classes == 1:
        if target.ndim == len(shape) - 1:
            target = target.unsqueeze(1)
        if tuple(target.shape) != shape:
            raise ValueError(
                f"target must have the shape of the logits {shape} (or without the channel "
                f"dimension), got {tuple(target.shape)}"
            )
        return target.float()
    if not target.is_floating_point():
        indices = _class_indices(target, input_shape)
        return F.one_hot(indices, num_classes).movedim(-1, 1).float()
    if tuple(target.shape) != shape:
        raise ValueError(
            f"a floating-point target must be one-hot of shape {shape}; for class indices of "
            f"shape {(shape[0], *shape[2:])} use an integer (long) tensor, got shape "
            f"{tuple(target.shape)}"
        )
    return target


def _check_weights(weights: Any) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(weights) if isinstance(weights, (list, tuple)) else weights)
    tensor = tensor.float()
    if tensor.ndim != 1 or not torch.isfinite(tensor).all() or (tensor < 0).any():
        raise ValueError(
            f"class weights must be a 1D sequence of finite non-negative numbers, got {weights!r}"
        )
    return tensor
