"""The learning-rate range test, and the learning rates a PyTorch scheduler would give.

The range test (Smith, "Cyclical learning rates for training neural networks", WACV 2017,
section 3.3) trains for ``num_steps`` mini-batches while the learning rate grows
exponentially from ``start_lr`` to ``end_lr``,

.. math:: \\eta_i = \\eta_{start} \\left(\\frac{\\eta_{end}}{\\eta_{start}}\\right)^{i/(n-1)},
          \\qquad i = 0, \\dots, n - 1,

and records the loss of every step, smoothed by an exponential moving average with the bias
correction of Adam (Kingma & Ba, ICLR 2015),

.. math:: a_i = \\beta a_{i-1} + (1 - \\beta)\\, L_i, \\quad a_{-1} = 0, \\qquad
          \\bar L_i = \\frac{a_i}{1 - \\beta^{i+1}}.

Too small a rate leaves the loss flat, a good one makes it fall, too large a one makes it
explode: the test stops once the smoothed loss exceeds ``diverge`` times its minimum. A rule of
thumb (the one of the fastai library's ``lr_find``) suggests one tenth of the learning rate at
the minimum of the smoothed loss: clearly in the falling part, safely below the explosion.
The model and the optimiser get their initial state back afterwards: the test only *measures*.

:func:`lr_range_test` runs the test; :func:`scheduled_lrs` lists the learning rates that a
:mod:`torch.optim.lr_scheduler` scheduler sets, step by step, without training anything (to plot
a cosine or one-cycle schedule before using it). Batches are as in :mod:`course.train`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import course
from course._validate import integer, number
from course.train._common import _check_model, _split_batch, _to

__all__ = ["LRRangeResult", "lr_range_test", "scheduled_lrs"]


@dataclass(frozen=True)
class LRRangeResult:
    """What :func:`lr_range_test` measured: one entry per step that was run.

    Attributes
    ----------
    lrs : ndarray of float, shape (n,)
        The learning rate of each step.
    losses : ndarray of float, shape (n,)
        The training loss of each step's batch, before the step.
    smoothed : ndarray of float, shape (n,)
        The bias-corrected exponential moving average of ``losses``.
    suggested_lr : float
        One tenth of the learning rate at the minimum of ``smoothed``.
    diverged : bool
        Whether the test stopped early because the smoothed loss exploded.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    diverged: bool


def _check_range_test(model, loss_fn, start_lr, end_lr, num_steps, beta, diverge) -> tuple:
    """The checked numeric arguments of :func:`lr_range_test`."""
    _check_model(model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a callable(logits, targets), got {loss_fn!r}")
    start_lr = number("start_lr", start_lr, low=0, low_open=True)
    end_lr = number("end_lr", end_lr, low=0, low_open=True)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must be larger than start_lr={start_lr:g}, got {end_lr:g}")
    num_steps = integer("num_steps", num_steps, minimum=2)
    beta = number("beta", beta, low=0, high=1, high_open=True)
    diverge = number("diverge", diverge, low=1, low_open=True)
    return start_lr, end_lr, num_steps, beta, diverge


def _batches(loader: Iterable):
    """Batches of ``loader`` for ever: a new pass starts when one ends."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("loader yielded no batches")


def _range_step(model, loss_fn, optimizer, batch, lr: float, device) -> float:
    """One training step at learning rate ``lr``; returns the batch's loss before the step."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    x, y = _split_batch(batch)
    loss = loss_fn(model(_to(x, device)), _to(y, device))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _sweep(model, loader, loss_fn, optimizer, lrs, beta: float, diverge: float, device) -> tuple:
    """One step per learning rate of ``lrs``; returns ``(losses, smoothed, diverged)``.

    Stops early when the bias-corrected moving average of the losses is not finite or exceeds
    ``diverge`` times its minimum so far.
    """
    losses, smoothed, average = [], [], 0.0
    for i, (lr, batch) in enumerate(zip(lrs, _batches(loader), strict=False)):
        losses.append(_range_step(model, loss_fn, optimizer, batch, float(lr), device))
        average = beta * average + (1 - beta) * losses[-1]
        smoothed.append(average / (1 - beta ** (i + 1)))
        if not math.isfinite(smoothed[-1]) or smoothed[-1] > diverge * min(smoothed):
            return losses, smoothed, True
    return losses, smoothed, False


def lr_range_test(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer | None = None,
    start_lr: float = 1e-6,
    end_lr: float = 1.0,
    num_steps: int = 100,
    beta: float = 0.9,
    diverge: float = 4.0,
    device: torch.device | str | None = None,
) -> LRRangeResult:
    """Train with an exponentially growing learning rate and record the loss (Smith 2017).

    Step ``i`` sets the learning rate of every parameter group to
    :math:`\\eta_i = \\eta_{start} (\\eta_{end} / \\eta_{start})^{i / (n - 1)}` and makes one
    optimiser step on the next batch (the loader is read again from the start if it runs out).
    The test stops after ``num_steps`` steps, or earlier when the smoothed loss exceeds
    ``diverge`` times its minimum or is not finite. Then the model's weights, its train/eval
    mode and the optimiser's state (momentum, Adam's moments, learning rates) are put back as
    they were: train the model afterwards as if the test had not happened.

    Parameters
    ----------
    model : torch.nn.Module
        Moved to ``device``; trained in train mode during the test.
    loader : iterable of batches
        Usually the shuffling training loader.
    loss_fn : callable(logits, targets) -> scalar tensor
    optimizer : torch.optim.Optimizer, optional
        The optimiser you will train with (its learning rate is overwritten during the test).
        Default: ``SGD(model.parameters(), lr=start_lr, momentum=0.9)``.
    start_lr, end_lr : float, default 1e-6 and 1.0
        The first and the last learning rate, ``0 < start_lr < end_lr``.
    num_steps : int, default 100
        Number of steps (>= 2), spread evenly on a log scale from ``start_lr`` to ``end_lr``.
    beta : float, default 0.9
        Smoothing of the exponential moving average, in [0, 1) (0: no smoothing).
    diverge : float, default 4.0
        Stop when the smoothed loss exceeds ``diverge`` times its minimum so far (> 1).
    device : torch.device or str, optional
        Defaults to :func:`course.get_device`.

    Returns
    -------
    LRRangeResult
        ``lrs``, ``losses`` and ``smoothed`` of the steps run, the ``suggested_lr`` (a tenth
        of the learning rate at the smallest smoothed loss) and whether it ``diverged``.

    Raises
    ------
    TypeError
        If ``model`` is not a module, ``loss_fn`` not callable, or a number has a wrong type.
    ValueError
        If ``end_lr <= start_lr``, a learning rate is not positive, ``num_steps < 2``,
        ``beta`` is outside [0, 1), ``diverge <= 1`` or ``loader`` yields no batches.
    FloatingPointError
        If the loss is not finite at the very first step.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(256, 3)
    >>> y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    >>> model = torch.nn.Linear(3, 1)
    >>> before = model.weight.detach().clone()
    >>> result = lr_range_test(model, DataLoader(TensorDataset(x, y), batch_size=32),
    ...                        torch.nn.MSELoss(), start_lr=1e-4, end_lr=10.0, device="cpu")
    >>> result.diverged, 1e-3 < result.suggested_lr < 1.0
    (True, True)
    >>> torch.equal(model.weight, before)  # the weights are restored
    True
    """
    start_lr, end_lr, num_steps, beta, diverge = _check_range_test(
        model, loss_fn, start_lr, end_lr, num_steps, beta, diverge
    )
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=start_lr, momentum=0.9)
    saved = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    model.train()
    try:
        losses, smoothed, diverged = _sweep(
            model, loader, loss_fn, optimizer, lrs, beta, diverge, device
        )
    finally:  # the test only measures: the model and the optimiser get their state back
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
        model.train(was_training)
    smoothed = np.asarray(smoothed, dtype=float)
    finite = np.isfinite(smoothed)
    if not finite.any():
        raise FloatingPointError(
            f"the loss was {losses[0]} at the first step (learning rate {start_lr:g}): check the "
            "data and the model for NaNs"
        )
    best = int(np.argmin(np.where(finite, smoothed, np.inf)))
    return LRRangeResult(
        lrs=lrs[: len(losses)].astype(float),
        losses=np.asarray(losses, dtype=float),
        smoothed=smoothed,
        suggested_lr=float(lrs[best] / 10),
        diverged=diverged,
    )


def scheduled_lrs(
    make_scheduler: Callable[[torch.optim.Optimizer], object], steps: int, lr: float = 1.0
) -> np.ndarray:
    """The learning rate that a PyTorch scheduler sets at each of ``steps`` steps.

    Builds an optimiser over one dummy parameter with learning rate ``lr``, passes it to
    ``make_scheduler`` and records ``optimizer.param_groups[0]["lr"]`` before each of ``steps``
    (``optimizer.step()``, ``scheduler.step()``) pairs: the rate each training step would use.
    Nothing is trained; the schedule itself is PyTorch's.

    Parameters
    ----------
    make_scheduler : callable(optimizer) -> scheduler
        E.g. ``lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)``.
    steps : int
        Number of steps (>= 1).
    lr : float, default 1.0
        The optimiser's initial learning rate (> 0).

    Returns
    -------
    ndarray of float, shape (steps,)

    Raises
    ------
    TypeError
        If ``make_scheduler`` is not callable or does not return an object with ``step()``.
    ValueError
        If ``steps < 1`` or ``lr <= 0``.

    Examples
    --------
    >>> cosine = lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> scheduled_lrs(cosine, 5, lr=0.1).round(4).tolist()
    [0.1, 0.0854, 0.05, 0.0146, 0.0]
    """
    if not callable(make_scheduler):
        raise TypeError(f"make_scheduler must be a callable(optimizer), got {make_scheduler!r}")
    steps = integer("steps", steps, minimum=1)
    lr = number("lr", lr, low=0, low_open=True)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer)
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            f"make_scheduler must return a scheduler with a step() method, got {scheduler!r}"
        )
    rates = []
    for _ in range(steps):
        rates.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return np.asarray(rates)
