"""Differentiable segmentation and classification losses in PyTorch (lecture 07).

* :func:`soft_dice_loss` - one minus the Dice coefficient computed on probabilities instead
  of hard masks, so that it has a gradient; robust to a small foreground.
* :class:`DiceCELoss` - the composite loss "Dice + cross-entropy" of U-Net pipelines such as
  nnU-Net: overlap from Dice, calibrated pixel-wise probabilities from cross-entropy.
* :func:`focal_loss` / :class:`FocalLoss` - cross-entropy that down-weights easy examples
  (RetinaNet), for heavy class imbalance.
* :func:`weighted_cross_entropy` and :func:`class_weights_from_labels` - cross-entropy with
  inverse-frequency class weights.

Shapes follow :mod:`torch.nn.functional`: logits ``(N, C, *spatial)`` (``*spatial`` may be
empty for classification, or ``(H, W)``, ``(D, H, W)``). ``C == 1`` means a binary problem
(sigmoid); ``C >= 2`` a multi-class one (softmax over the channel dimension 1).

>>> import torch
>>> logits = torch.tensor([[[[9.0, -9.0], [9.0, -9.0]]]])  # (N=1, C=1, 2, 2), confident
>>> target = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
>>> round(soft_dice_loss(logits, target).item(), 3)
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._validate import choice, number

__all__ = [
    "soft_dice_loss",
    "DiceCELoss",
    "focal_loss",
    "FocalLoss",
    "weighted_cross_entropy",
    "class_weights_from_labels",
]

_REDUCTIONS = ("mean", "sum", "none")


# ---------------------------------------------------------------------------------------------
# Checks shared by the losses
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Dice
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Focal loss
# ---------------------------------------------------------------------------------------------
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
def _check_weights(weights: Any) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(weights) if isinstance(weights, (list, tuple)) else weights)
    tensor = tensor.float()
    if tensor.ndim != 1 or not torch.isfinite(tensor).all() or (tensor < 0).any():
        raise ValueError(
            f"class weights must be a 1D sequence of finite non-negative numbers, got {weights!r}"
        )
    return tensor


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


# ---------------------------------------------------------------------------------------------
# Contrastive learning (lecture 12)
# ---------------------------------------------------------------------------------------------
def _check_views(z1: Any, z2: Any) -> None:
    for name, z in (("z1", z1), ("z2", z2)):
        if not isinstance(z, torch.Tensor) or not z.is_floating_point():
            got = f"dtype {z.dtype}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got {got}")
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
            raise ValueError(f"{name} must have shape (N, D) with N, D >= 1, got {tuple(z.shape)}")
    if z1.shape != z2.shape:
        shapes = f"{tuple(z1.shape)} and {tuple(z2.shape)}"
        raise ValueError(f"z1 and z2 must have the same shape, got {shapes}")


def info_nce(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """The NT-Xent (InfoNCE) contrastive loss of SimCLR (Chen et al., 2020).

    ``z1[i]`` and ``z2[i]`` embed two augmented views of the same image (a *positive pair*);
    the other ``2N - 2`` embeddings of the batch are its negatives. With the ``2N`` embeddings
    :math:`z` normalised to unit length and the cosine similarity
    :math:`s_{ij} = z_i^\\top z_j / \\tau`, the loss of anchor :math:`i` with positive :math:`p(i)`

    .. math::

        \\ell_i = -\\log \\frac{\\exp(s_{i,p(i)})}{\\sum_{k \\ne i} \\exp(s_{ik})}

    is a cross-entropy that asks each anchor to pick its positive among all the others.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (N, D)
        Embeddings of the two views (float; any scale: they are normalised here).
    temperature : float, default 0.1
        :math:`\\tau > 0`; smaller values weigh the hardest negatives more.
    reduction : {"mean", "sum", "none"}
        Over the ``2N`` anchors (first the ``z1`` rows, then the ``z2`` rows).

    Returns
    -------
    torch.Tensor
        A scalar, or the ``(2N,)`` losses with ``reduction="none"``.

    Raises
    ------
    TypeError
        If ``z1`` or ``z2`` is not a floating-point tensor.
    ValueError
        If their shapes differ or are not ``(N, D)``, ``temperature <= 0`` or an unknown
        ``reduction``.

    Examples
    --------
    Views that agree give a low loss, views that are swapped between images a high one:

    >>> z = torch.eye(4)
    >>> round(info_nce(z, z).item(), 4), round(info_nce(z, z.roll(1, dims=0)).item(), 2)
    (0.0003, 10.0)
    """
    _check_views(z1, z2)
    tau = number("temperature", temperature, low=0, low_open=True)
    _check_reduction(reduction)
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, D), unit length
    n = len(z1)
    logits = z @ z.T / tau  # (2N, 2N) cosine similarities / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -torch.inf)
    positives = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # i <-> i + N
    return F.cross_entropy(logits, positives, reduction=reduction)


__all__ += ["info_nce"]
