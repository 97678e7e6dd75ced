"""Differentiable losses in PyTorch: segmentation (07), imbalanced classes (06), contrastive (12).

* :func:`soft_dice_loss` - one minus the Dice coefficient computed on probabilities instead
  of hard masks, so that it has a gradient; robust to a small foreground.
* :class:`DiceCELoss` - the composite loss "Dice + cross-entropy" of U-Net pipelines such as
  nnU-Net: overlap from Dice, calibrated pixel-wise probabilities from cross-entropy.
* :func:`focal_loss` / :class:`FocalLoss` - cross-entropy that down-weights easy examples
  (RetinaNet), for heavy class imbalance.
* :func:`weighted_cross_entropy` and :func:`class_weights_from_labels` - cross-entropy with
  inverse-frequency class weights.
* :func:`info_nce` - the contrastive loss of SimCLR (lecture 12).

Shapes follow :mod:`torch.nn.functional`: logits ``(N, C, *spatial)`` (``*spatial`` may be
empty for classification, or ``(H, W)``, ``(D, H, W)``). ``C == 1`` means a binary problem
(sigmoid); ``C >= 2`` a multi-class one (softmax over the channel dimension 1).

>>> import torch
>>> logits = torch.tensor([[[[9.0, -9.0], [9.0, -9.0]]]])  # (N=1, C=1, 2, 2), confident
>>> target = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
>>> round(soft_dice_loss(logits, target).item(), 3)
0.0
"""

from course.losses.classification import (
    FocalLoss,
    class_weights_from_labels,
    focal_loss,
    weighted_cross_entropy,
)
from course.losses.contrastive import info_nce
from course.losses.segmentation import DiceCELoss, soft_dice_loss

__all__ = [
    "soft_dice_loss",
    "DiceCELoss",
    "focal_loss",
    "FocalLoss",
    "weighted_cross_entropy",
    "class_weights_from_labels",
    "info_nce",
]
