"""Input checks shared by :mod:`course.metrics`: binary masks, label maps, matching shapes.

Every metric accepts NumPy arrays or PyTorch tensors (detached and copied to the CPU) and
checks them here first: :func:`_to_numpy` gives an array of finite reals or booleans,
:func:`_binary` a boolean mask :math:`M \\in \\{0, 1\\}^{\\text{shape}}` (probabilities are
refused, with the hint to threshold them), :func:`_labels` an integer label map with values in
``[0, C)`` for ``C`` classes, and :func:`_same_shape` makes sure that a prediction and its
ground truth have one shape (any number of dimensions). The errors follow the course's policy
(``shared/COURSE.md``): ``TypeError`` for a wrong type, ``ValueError`` for a wrong value, each
naming the argument; the underlying checks are those of :mod:`course._validate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course._validate import binary, numeric, to_numpy


def _to_numpy(x: Any, name: str) -> np.ndarray:
    """A NumPy view of ``x`` (array, tensor, list or scalar) holding finite reals or booleans."""
    return numeric(name, to_numpy(name, x))


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}"
        )


def _binary(x: Any, name: str) -> np.ndarray:
    """A boolean array from a boolean or 0/1 array; anything else is a ``ValueError``."""
    hint = (
        f"; threshold probabilities first, e.g. {name} > 0.5, or use the per-class version "
        "for label maps"
    )
    return binary(name, x, hint)


def _binary_pair(pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    pred, target = _binary(pred, "pred"), _binary(target, "target")
    _same_shape(pred, target, "pred", "target")
    return pred, target


def _labels(x: Any, name: str, num_classes: int) -> np.ndarray:
    """An integer label map with values in ``[0, num_classes)``."""
    x = _to_numpy(x, name)
    if x.dtype.kind == "f":
        raise TypeError(
            f"{name} must be an integer label map, got dtype {x.dtype}; for scores of shape "
            f"(C, ...) take {name}.argmax(axis=0) first"
        )
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes}) (num_classes={num_classes}), "
            f"got values from {x.min()} to {x.max()}"
        )
    return x
