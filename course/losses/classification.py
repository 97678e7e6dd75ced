"""Classification losses for imbalanced classes (lecture 06): focal loss, weighted cross-entropy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._validate import number
from course.losses._common import (
    _check_logits,
    _check_reduction,
    _check_weights,
    _class_indices,
    _reduce,
)


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al., 2017): cross-entropy that focuses on hard examples.

    With :math:`p_t` the predicted probability of the true class of an example,

    .. math:: \\mathrm{FL}(p_t) = -\\alpha_t\\, (1 - p_t)^{\\gamma} \\log p_t

    The factor :math:`(1 - p_t)^\\gamma` is close to 0 for well-classified examples
    (:math:`p_t \\to 1`), so the many easy background pixels no longer swamp the few hard
    lesion pixels. ``gamma = 0`` and no ``alpha`` give the ordinary cross-entropy.

    Binary or multi-class is decided from the shapes:

    * binary: ``target`` has the shape of ``logits`` (any shape), values 0/1;
      :math:`p = \\sigma(x)`, :math:`p_t = p` if ``y = 1`` else ``1 - p``; a scalar ``alpha``
      weighs the positives (:math:`\\alpha_t = \\alpha` if ``y = 1`` else ``1 - \\alpha``);
    * multi-class: ``logits`` ``(N, C, *spatial)``, integer ``target`` ``(N, *spatial)``;
      :math:`p = \\mathrm{softmax}(x)` over dim 1; ``alpha`` is a sequence of ``C`` class
      weights, :math:`\\alpha_t = \\alpha_{y}`.

    Parameters
    ----------
    logits : torch.Tensor
    target : torch.Tensor
    gamma : float, default 2.0
        Focusing parameter, ``>= 0``.
    alpha : float, sequence of float or torch.Tensor, optional
        Class balancing weight(s) as above; ``None`` means all 1.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides by the number of elements (not by the sum of the weights, unlike
        ``F.cross_entropy(weight=...)``); ``"none"`` returns the per-element losses.

    Returns
    -------
    torch.Tensor

    Raises
    ------
    ValueError
        Negative ``gamma``, a binary ``alpha`` outside [0, 1], ``alpha`` of the wrong length,
        shapes that fit neither case, class indices out of range, unknown ``reduction``.
    TypeError
        Non-tensor or integer ``logits``.

    Examples
    --------
    >>> logits = torch.tensor([3.0, -1.0])
    >>> target = torch.tensor([1.0, 1.0])  # an easy and a hard positive
    >>> focal_loss(logits, target, gamma=2.0, reduction="none")
    tensor([1.0928e-04, 7.0187e-01])
    >>> F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    tensor([0.0486, 1.3133])
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError("logits must be a floating-point torch.Tensor")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    _check_reduction(reduction)
    number("gamma", gamma, low=0)
    if target.shape == logits.shape:  # binary
        target = target.to(logits.dtype)
        log_p_t = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        if alpha is not None:
            alpha = number("binary alpha", alpha, low=0, high=1)
            alpha_t = alpha * target + (1 - alpha) * (1 - target)
    elif logits.ndim >= 2 and target.ndim == logits.ndim - 1 and not target.is_floating_point():
        indices = _class_indices(target, logits.shape)
        log_p_t = F.log_softmax(logits, dim=1).gather(1, indices.unsqueeze(1)).squeeze(1)
        if alpha is not None:
            weights = _check_weights(alpha).to(logits)
            if weights.numel() != logits.shape[1]:
                raise ValueError(
                    f"alpha must have one weight per class ({logits.shape[1]}), "
                    f"got {weights.numel()}"
                )
            alpha_t = weights[indices]
    else:
        raise ValueError(
            "focal_loss expects a binary target with the shape of the logits "
            f"{tuple(logits.shape)}, or integer class indices of shape (N, *spatial) for "
            f"logits (N, C, *spatial); got target shape {tuple(target.shape)} "
            f"and dtype {target.dtype}"
        )
    p_t = log_p_t.exp()
    loss = -((1 - p_t) ** gamma) * log_p_t
    if alpha is not None:
        loss = alpha_t * loss
    return _reduce(loss, reduction)


class FocalLoss(nn.Module):
    """Module version of :func:`focal_loss` (same parameters), for ``loss_fn=FocalLoss()``.

    Examples
    --------
    >>> loss_fn = FocalLoss(gamma=2.0, alpha=[0.25, 0.75])
    >>> logits = torch.zeros(4, 2)
    >>> loss_fn(logits, torch.tensor([0, 1, 1, 0]))  # p_t = 0.5: 0.5 * 0.25 * log 2
    tensor(0.0866)
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        number("gamma", gamma, low=0)
        _check_reduction(reduction)
        self.gamma = float(gamma)
        self.alpha = alpha
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return focal_loss(logits, target, self.gamma, self.alpha, self.reduction)


# ---------------------------------------------------------------------------------------------
# Class weights
# ---------------------------------------------------------------------------------------------


def weighted_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    class_weights: Sequence[float] | torch.Tensor,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy in which each class has its own weight.

    .. math:: \\mathcal{L} = \\frac{\\sum_i w_{y_i}\\, (-\\log p_{i, y_i})}{\\sum_i w_{y_i}}

    (``reduction="mean"``, the weighted mean used by :func:`torch.nn.functional.cross_entropy`;
    ``"sum"`` gives the numerator). Giving a rare class a large weight makes each of its
    pixels count more, which counters class imbalance.

    Parameters
    ----------
    logits : torch.Tensor, shape (N, C, *spatial), C >= 2
    target : torch.Tensor, shape (N, *spatial), integer class indices
    class_weights : sequence of C non-negative floats or torch.Tensor
        For example from :func:`class_weights_from_labels`.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    torch.Tensor

    Raises
    ------
    ValueError
        Wrong number of weights, negative weights, target shape or values.

    Examples
    --------
    >>> logits = torch.zeros(3, 2)  # p = 0.5 everywhere: each term is log 2
    >>> weighted_cross_entropy(logits, torch.tensor([0, 0, 1]), [1.0, 2.0])
    tensor(0.6931)
    """
    logits = _check_logits(logits)
    _check_reduction(reduction)
    if not isinstance(target, torch.Tensor) or target.is_floating_point():
        raise TypeError("target must be an integer torch.Tensor of class indices")
    weights = _check_weights(class_weights).to(logits)
    if weights.numel() != logits.shape[1]:
        raise ValueError(
            f"class_weights must have one entry per class ({logits.shape[1]}), "
            f"got {weights.numel()}"
        )
    indices = _class_indices(target, logits.shape)
    return F.cross_entropy(logits, indices, weight=weights, reduction=reduction)


def class_weights_from_labels(labels: Any, num_classes: int | None = None) -> torch.Tensor:
    """Inverse-frequency ("balanced") class weights from a set of labels or label maps.

    .. math:: w_c = \\frac{n}{C\\, n_c}

    where :math:`n_c` counts the labels equal to ``c`` and :math:`n` all labels: a class
    present in proportion :math:`1/C` gets weight 1, a rarer class more (the formula of
    scikit-learn's ``class_weight="balanced"``, with :math:`C` = ``num_classes``). A class
    that never occurs gets weight 0 (it contributes nothing to the loss anyway).

    Parameters
    ----------
    labels : ndarray or torch.Tensor of integers, any shape
        Class indices, e.g. all training masks stacked.
    num_classes : int, optional
        Defaults to ``labels.max() + 1``.

    Returns
    -------
    torch.Tensor, shape (num_classes,), float32 (on the device of a tensor input)

    Raises
    ------
    TypeError
        Float labels.
    ValueError
        Negative labels, labels ``>= num_classes``, no labels.

    Examples
    --------
    >>> class_weights_from_labels(np.array([0, 0, 0, 1]))  # 4 / (2 * 3), 4 / (2 * 1)
    tensor([0.6667, 2.0000])
    """
    device = labels.device if isinstance(labels, torch.Tensor) else None
    array = (
        labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    )
    if array.dtype.kind not in "biu":
        raise TypeError(f"labels must be integer class indices, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError("labels is empty")
    array = array.astype(np.int64).ravel()
    if array.min() < 0:
        raise ValueError(f"labels must be non-negative class indices, got {array.min()}")
    if num_classes is None:
        num_classes = int(array.max()) + 1
    if array.max() >= num_classes:
        raise ValueError(
            f"labels must be in [0, num_classes={num_classes}), got the label {array.max()}"
        )
    counts = np.bincount(array, minlength=num_classes).astype(np.float64)
    weights = np.divide(
        array.size, num_classes * counts, out=np.zeros_like(counts), where=counts > 0
    )
    return torch.tensor(weights, dtype=torch.float32, device=device)
