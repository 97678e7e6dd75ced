"""Segmentation losses (lecture 07): soft Dice and the composite Dice + cross-entropy."""

from __future__ import annotations

from collections.abc import Sequence

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
    _target_probabilities,
)


def soft_dice_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    from_logits: bool = True,
    smooth: float = 1.0,
    include_background: bool = True,
    reduction: str = "mean",
) -> torch.Tensor:
    """Soft Dice loss: one minus the Dice coefficient of probabilities and target.

    With :math:`p_{n,c,i}` the predicted probability of class ``c`` at voxel ``i`` of sample
    ``n`` and :math:`g_{n,c,i}` the (one-hot) target:

    .. math:: \\mathrm{Dice}_{n,c} = \\frac{2 \\sum_i p_{n,c,i}\\, g_{n,c,i} + s}
              {\\sum_i p_{n,c,i} + \\sum_i g_{n,c,i} + s}, \\qquad
              \\mathcal{L} = 1 - \\frac{1}{N\\,C} \\sum_{n,c} \\mathrm{Dice}_{n,c}

    It is the Dice of :func:`course.metrics.dice` with hard masks replaced by probabilities, so
    it is differentiable. The smoothing term :math:`s` avoids 0/0 for a class absent from
    both prediction and target (Dice 1 then, as in the metric) and softens the gradient for
    tiny structures. The Dice is computed per sample and per class and then averaged, so a
    small organ weighs as much as a large one. (With ``smooth=0`` a class absent from both
    prediction and target gets Dice 0, not NaN.)

    Parameters
    ----------
    input : torch.Tensor, shape (N, C, *spatial)
        Logits (default) or probabilities. ``C == 1``: binary, probabilities by a sigmoid;
        ``C >= 2``: multi-class, probabilities by a softmax over dimension 1.
    target : torch.Tensor
        Binary: 0/1 of shape ``(N, 1, *spatial)`` or ``(N, *spatial)``. Multi-class: class
        indices ``(N, *spatial)`` (integer dtype) or one-hot ``(N, C, *spatial)`` (float).
    from_logits : bool, default True
        ``False`` if ``input`` already holds probabilities in [0, 1].
    smooth : float, default 1.0
        The smoothing term ``s >= 0``.
    include_background : bool, default True
        Multi-class only: ``False`` leaves class 0 out of the average.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the ``(N, C)`` tensor of per-sample, per-class losses
        ``1 - Dice_{n,c}``; ``"sum"`` their sum.

    Returns
    -------
    torch.Tensor
        A scalar (or ``(N, C)`` for ``reduction="none"``) in [0, 1], differentiable.

    Raises
    ------
    TypeError
        ``input`` not a floating-point tensor, ``target`` not a tensor.
    ValueError
        Shape mismatch, class indices out of range, probabilities outside [0, 1] with
        ``from_logits=False``, negative ``smooth``, unknown ``reduction``.

    Examples
    --------
    >>> probs = torch.tensor([[[0.9, 0.1, 0.8, 0.2]]])  # (N=1, C=1, 4)
    >>> target = torch.tensor([[[1.0, 0.0, 1.0, 0.0]]])
    >>> soft_dice_loss(probs, target, from_logits=False, smooth=0.0)  # 1 - 2*1.7/(2 + 2)
    tensor(0.1500)
    >>> logits = torch.randn(2, 3, 8, 8)  # three classes
    >>> labels = torch.randint(0, 3, (2, 8, 8))
    >>> soft_dice_loss(logits, labels, reduction="none").shape
    torch.Size([2, 3])
    """
    input = _check_logits(input, "input")
    _check_reduction(reduction)
    number("smooth", smooth, low=0)
    target = _target_probabilities(target, input.shape).to(input.dtype)
    num_classes = input.shape[1]
    if from_logits:
        probs = torch.sigmoid(input) if num_classes == 1 else torch.softmax(input, dim=1)
    else:
        if input.numel() and (input.min() < 0 or input.max() > 1):
            raise ValueError(
                "input must hold probabilities in [0, 1] when from_logits=False; pass logits "
                "with from_logits=True"
            )
        probs = input
    if num_classes > 1 and not include_background:
        probs, target = probs[:, 1:], target[:, 1:]
    spatial = tuple(range(2, input.ndim))
    intersection = (probs * target).sum(dim=spatial)
    total = probs.sum(dim=spatial) + target.sum(dim=spatial)
    dice_nc = (2 * intersection + smooth) / (total + smooth).clamp_min(
        torch.finfo(total.dtype).tiny
    )
    return _reduce(1 - dice_nc, reduction)


def _cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None
) -> torch.Tensor:
    """Mean cross-entropy: binary with logits for C = 1, softmax cross-entropy otherwise."""
    if logits.shape[1] == 1:
        probs_target = _target_probabilities(target, logits.shape).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, probs_target)
    if target.is_floating_point():  # one-hot or soft labels of shape (N, C, *spatial)
        target = _target_probabilities(target, logits.shape).to(logits.dtype)
        terms = F.cross_entropy(logits, target, weight=weight, reduction="none")
        if weight is None:
            return terms.mean()
        # Weighted mean over the targets' total weight, as F.cross_entropy does for class
        # indices (for probability targets it would divide by the number of elements instead).
        shape = (1, -1) + (1,) * (logits.ndim - 2)
        return terms.sum() / (target * weight.view(shape)).sum()
    return F.cross_entropy(logits, _class_indices(target, logits.shape), weight=weight)


class DiceCELoss(nn.Module):
    """Weighted sum of the soft Dice loss and the cross-entropy.

    .. math:: \\mathcal{L} = \\lambda_{Dice}\\, \\mathcal{L}_{Dice} + \\lambda_{CE}\\,
              \\mathcal{L}_{CE}

    with :math:`\\mathcal{L}_{Dice}` from :func:`soft_dice_loss` (on softmax or sigmoid
    probabilities) and :math:`\\mathcal{L}_{CE}` the mean cross-entropy
    (:func:`torch.nn.functional.cross_entropy`, or binary cross-entropy with logits when
    ``C == 1``). Dice drives the overlap of small structures; cross-entropy gives smooth,
    well-calibrated per-pixel gradients early in training.

    Parameters
    ----------
    lambda_dice, lambda_ce : float, default 1.0
        Non-negative weights of the two terms.
    smooth : float, default 1.0
        Smoothing term of the Dice part.
    include_background : bool, default True
        Whether class 0 counts in the Dice part (it always counts in the cross-entropy).
    class_weights : sequence of float or torch.Tensor, optional
        Per-class weights of the cross-entropy (multi-class only), e.g. from
        :func:`class_weights_from_labels`. The weighted mean divides by the total weight of
        the targets, so one-hot and class-index targets give the same loss.

    Inputs of ``forward(logits, target)``: as :func:`soft_dice_loss` with logits.

    Raises
    ------
    ValueError
        Negative weights, or both zero.

    Examples
    --------
    >>> loss_fn = DiceCELoss(lambda_dice=1.0, lambda_ce=0.5)
    >>> logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    >>> loss = loss_fn(logits, torch.randint(0, 3, (2, 8, 8)))
    >>> loss.backward()
    >>> logits.grad.shape
    torch.Size([2, 3, 8, 8])
    """

    def __init__(
        self,
        lambda_dice: float = 1.0,
        lambda_ce: float = 1.0,
        smooth: float = 1.0,
        include_background: bool = True,
        class_weights: Sequence[float] | torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if lambda_dice < 0 or lambda_ce < 0 or lambda_dice + lambda_ce == 0:
            raise ValueError(
                "lambda_dice and lambda_ce must be non-negative and not both zero, got "
                f"{lambda_dice} and {lambda_ce}"
            )
        self.lambda_dice = float(lambda_dice)
        self.lambda_ce = float(lambda_ce)
        self.smooth = float(smooth)
        self.include_background = include_background
        weights = None if class_weights is None else _check_weights(class_weights)
        self.register_buffer("class_weights", weights)  # moves with .to(device)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = _check_logits(logits)
        dice_part = soft_dice_loss(
            logits, target, smooth=self.smooth, include_background=self.include_background
        )
        weight = self.class_weights
        if weight is not None and (logits.shape[1] == 1 or weight.numel() != logits.shape[1]):
            raise ValueError(
                f"class_weights has {weight.numel()} entries but the logits have "
                f"{logits.shape[1]} classes (class weights need C >= 2 logit channels)"
            )
        ce_part = _cross_entropy(logits, target, None if weight is None else weight.to(logits))
        return self.lambda_dice * dice_part + self.lambda_ce * ce_part
