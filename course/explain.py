"""Explaining and questioning a classifier: Grad-CAM heatmaps and MC-dropout uncertainty.

- :func:`grad_cam` (Selvaraju et al., 2017): which regions of the image made the network
  predict a class? A heatmap in [0, 1] at the input's resolution.
- :func:`mc_dropout_predict` (Gal and Ghahramani, 2016): keep dropout active at test time and
  predict ``T`` times; the spread of the ``T`` predicted probabilities measures the model's
  uncertainty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._validate import integer

__all__ = ["grad_cam", "mc_dropout_predict"]


def _class_indices(class_idx, logits: torch.Tensor) -> torch.Tensor:
    """One class index per image: the argmax, one int for all, or one per image."""
    n, n_classes = logits.shape
    if class_idx is None:
        return logits.argmax(dim=1)
    if isinstance(class_idx, (int, np.integer)) and not isinstance(class_idx, bool):
        idx = torch.full((n,), int(class_idx), dtype=torch.long)
    elif isinstance(class_idx, (Sequence, np.ndarray, torch.Tensor)) and not isinstance(
        class_idx, str
    ):
        values = np.asarray(class_idx.cpu() if isinstance(class_idx, torch.Tensor) else class_idx)
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"class_idx must hold integers, got {class_idx!r}")
        idx = torch.as_tensor(values, dtype=torch.long).reshape(-1)
        if idx.numel() != n:
            raise ValueError(
                f"class_idx must be an int or one index per image ({n}), got {idx.numel()} values"
            )
    else:
        raise TypeError(f"class_idx must be None, an int or a sequence of ints, got {class_idx!r}")
    if idx.min() < 0 or idx.max() >= n_classes:
        raise ValueError(
            f"class_idx must be in [0, {n_classes}) for a model with {n_classes} outputs, "
            f"got {idx.tolist()}"
        )
    return idx.to(logits.device)


def grad_cam(
    model: nn.Module,
    target_layer: nn.Module,
    x: torch.Tensor,
    class_idx: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Grad-CAM heatmap of class ``c`` for each image, in [0, 1] at the input resolution.

    Let ``A^k`` be the ``K`` feature maps output by ``target_layer`` (usually the last
    convolutional block) and ``y^c`` the logit of class ``c``. Each map is weighted by the
    spatial mean of its gradient, and the weighted sum is passed through a ReLU (only evidence
    *for* the class is kept):

    .. math::

        \\alpha_k^c = \\frac{1}{Z} \\sum_{i,j} \\frac{\\partial y^c}{\\partial A^k_{ij}},
        \\qquad
        L^c = \\mathrm{ReLU}\\Big(\\sum_k \\alpha_k^c A^k\\Big).

    ``L^c`` is upsampled to the input size (bilinear, trilinear for volumes) and divided by its
    maximum, per image; an image with no positive evidence gets an all-zero map. A forward hook
    on ``target_layer`` captures ``A``; the gradients come from :func:`torch.autograd.grad`, so
    the parameters' ``.grad`` are left untouched. The model is run in eval mode (restored
    afterwards).

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits of shape ``(N, num_classes)``.
    target_layer : torch.nn.Module
        A submodule of ``model`` whose output has shape ``(N, K, h, w)`` (or ``(N, K, d, h, w)``).
    x : torch.Tensor, shape (N, C, H, W) or (N, C, D, H, W)
    class_idx : int or sequence of int, optional
        Class to explain, one for all images or one per image; defaults to each image's
        predicted class (the argmax of the logits).

    Returns
    -------
    numpy.ndarray, shape (N, H, W) (or (N, D, H, W)), float32 in [0, 1]

    Raises
    ------
    TypeError
        Non-module ``model``/``target_layer``, non-tensor ``x``, bad ``class_idx`` type.
    ValueError
        ``target_layer`` not inside ``model`` or not called in the forward pass, its output not
        a feature map, a model output that is not ``(N, num_classes)``, a ``class_idx`` out of
        range, ``x`` not 4D/5D.

    Examples
    --------
    >>> from course.models import SimpleCNN
    >>> net = SimpleCNN(1, 3, channels=(4, 8), global_pool=True).eval()
    >>> heat = grad_cam(net, net.features[-1], torch.randn(2, 1, 28, 28), class_idx=0)
    >>> heat.shape, bool(heat.min() >= 0), bool(heat.max() <= 1)
    ((2, 28, 28), True, True)
    """
    if not isinstance(model, nn.Module) or not isinstance(target_layer, nn.Module):
        raise TypeError("model and target_layer must be torch.nn.Module instances")
    if not any(m is target_layer for m in model.modules()):
        raise ValueError("target_layer must be a submodule of model (e.g. model.features[-1])")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim not in (4, 5):
        raise ValueError(f"x must have shape (N, C, H, W) or (N, C, D, H, W), got {tuple(x.shape)}")

    captured: list[torch.Tensor] = []

    def save_activation(_module, _inputs, output):
        captured.append(output)

    handle = target_layer.register_forward_hook(save_activation)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            # An input that requires grad keeps the graph alive even for frozen parameters.
            logits = model(x.detach().clone().requires_grad_(True))
            if not captured:
                raise ValueError("target_layer was not called during model(x)")
            activation = captured[-1]
            if not isinstance(activation, torch.Tensor) or activation.ndim != x.ndim:
                raise ValueError(
                    "target_layer must output a feature map (N, K, *spatial) with as many "
                    f"dimensions as x; got {getattr(activation, 'shape', type(activation))}"
                )
            if logits.ndim != 2 or logits.shape[0] != x.shape[0]:
                raise ValueError(
                    f"model must return logits of shape (N, num_classes), got {tuple(logits.shape)}"
                )
            idx = _class_indices(class_idx, logits.detach())
            score = logits.gather(1, idx[:, None]).sum()  # images are independent: sum is fine
            (grads,) = torch.autograd.grad(score, activation)
    finally:
        handle.remove()
        model.train(was_training)

    spatial_axes = tuple(range(2, activation.ndim))
    alpha = grads.mean(dim=spatial_axes, keepdim=True)  # (N, K, 1, 1): importance of each map
    cam = F.relu((alpha * activation.detach()).sum(dim=1, keepdim=True)).float()
    mode = "bilinear" if x.ndim == 4 else "trilinear"
    cam = F.interpolate(cam, size=tuple(x.shape[2:]), mode=mode, align_corners=False)[:, 0]
    cam = cam.clamp_min(0)  # interpolation of non-negative values stays non-negative; be safe
    peak = cam.amax(dim=tuple(range(1, cam.ndim)), keepdim=True)
    cam = torch.where(peak > 0, cam / peak.clamp_min(torch.finfo(cam.dtype).tiny), 0.0)
    return cam.cpu().numpy().astype(np.float32)


def _is_dropout(module: nn.Module) -> bool:
    return isinstance(module, nn.modules.dropout._DropoutNd)


def mc_dropout_predict(
    model: nn.Module, x: torch.Tensor, n_samples: int = 20, seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte-Carlo dropout: mean and standard deviation of ``T`` stochastic predictions.

    All dropout layers are switched to train mode (they keep dropping units), every other layer
    stays in eval mode (BatchNorm uses and keeps its running statistics). With
    ``p_t = softmax(model(x))`` over dim 1 (or ``sigmoid`` when the model has one output
    channel) for ``t = 1..T``:

    .. math:: \\bar p = \\frac{1}{T} \\sum_t p_t, \\qquad
              \\sigma = \\sqrt{\\frac{1}{T} \\sum_t (p_t - \\bar p)^2}

    computed with Welford's running update (no ``T`` copies in memory). The original mode of
    every submodule is restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
        Must contain dropout layers (:class:`torch.nn.Dropout`, ``Dropout2d``, ...). Works for
        classifiers ``(N, K)`` and segmentation networks ``(N, K, H, W)``.
    x : torch.Tensor
        Input batch, moved to the model's device.
    n_samples : int, default 20
        Number ``T`` of stochastic forward passes.
    seed : int, optional
        Seed for the dropout masks: the same seed gives the same result. PyTorch's global random
        state is left untouched when a seed is given.

    Returns
    -------
    mean, std : torch.Tensor
        Both of the model's output shape, float32, on the CPU.

    Raises
    ------
    TypeError
        Non-module ``model`` or non-tensor ``x``.
    ValueError
        ``model`` has no dropout layer, ``n_samples < 1``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    >>> mean, std = mc_dropout_predict(net, torch.randn(5, 4), n_samples=10, seed=0)
    >>> mean.shape, torch.allclose(mean.sum(dim=1), torch.ones(5)), bool((std >= 0).all())
    (torch.Size([5, 3]), True, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    n_samples = integer("n_samples", n_samples, minimum=1)
    dropouts = [m for m in model.modules() if _is_dropout(m)]
    if not dropouts:
        raise ValueError("model has no dropout layer: MC dropout needs nn.Dropout (p > 0)")
    first = next(model.parameters(), None)
    device = first.device if first is not None else x.device
    x = x.to(device)

    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in dropouts:
        m.train()
    fork_devices = [device] if device.type == "cuda" else []
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=fork_devices, enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            mean = m2 = None
            for t in range(1, int(n_samples) + 1):
                logits = model(x).double()
                if logits.ndim >= 2 and logits.shape[1] > 1:
                    p = torch.softmax(logits, dim=1)
                else:
                    p = torch.sigmoid(logits)
                if mean is None:
                    mean, m2 = p.clone(), torch.zeros_like(p)
                    continue
                delta = p - mean
                mean += delta / t
                m2 += delta * (p - mean)
    finally:
        for m, mode in modes.items():
            m.training = mode
    std = torch.sqrt(m2 / n_samples)
    return mean.float().cpu(), std.float().cpu()
