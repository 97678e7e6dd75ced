"""What the hidden checks of several labs share about a student's model."""

from __future__ import annotations

import torch
from torch import nn


def stored_numbers(model: nn.Module) -> int:
    """Every number the model stores: parameters, buffers and plain tensor attributes."""
    seen, total = set(), 0
    for module in model.modules():
        tensors = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
        for value in vars(module).values():
            if isinstance(value, torch.Tensor):
                tensors.append(value)
            elif isinstance(value, (list, tuple)):
                tensors += [v for v in value if isinstance(v, torch.Tensor)]
        for tensor in tensors:
            if id(tensor) not in seen:
                seen.add(id(tensor))
                total += int(tensor.numel())
    return total
