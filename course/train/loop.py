"""The training loop: :func:`fit`, :class:`EarlyStopping` and the :class:`History` it returns.

:func:`fit` runs mini-batch gradient descent: for each epoch, for each batch ``(x, y)`` of the
training loader, a forward pass, the loss, a backward pass and one optimiser step (shown for
plain SGD with learning rate :math:`\\eta`; the default optimiser is Adam)

.. math:: \\theta \\leftarrow \\theta - \\eta\\, \\nabla_\\theta \\frac{1}{N_b}
          \\sum_{i \\in b} L\\big(f_\\theta(x_i), y_i\\big).

After every epoch it validates with :func:`~course.train.evaluate`, keeps the weights of the
best epoch and can stop when a monitored quantity has stopped improving (:class:`EarlyStopping`;
Prechelt, "Early stopping - but when?", 1998). On a CUDA GPU it uses mixed precision
(:func:`torch.autocast` + :class:`torch.amp.GradScaler`; Micikevicius et al., "Mixed precision
training", ICLR 2018); on the CPU it computes in float32.

Batches are as in :mod:`course.train`, inputs of shape ``(N, ...)``; ``loss_fn`` maps
``(logits, targets)`` to a scalar. :func:`fit` reads as its steps: :func:`_check_fit`,
:func:`_trainer`, then every epoch :func:`_train_epoch` (one :func:`_train_step` per batch),
:func:`_record_epoch`, :func:`_step_scheduler` and :func:`_track_best`. Reference: Goodfellow,
Bengio & Courville, *Deep Learning* (MIT Press, 2016), ch. 7.8 and 8. The example is in
:mod:`course.train`.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

import course
from course._validate import choice, integer, number
from course.train._common import (
    Metric,
    _batch_size,
    _check_metrics,
    _check_model,
    _split_batch,
    _to,
)
from course.train.evaluation import evaluate

__all__ = ["EarlyStopping", "History", "fit"]


class History(dict):
    """What :func:`fit` returns: ``{key: list of per-epoch values}``, plus ``seed``.

    A plain dict for everything that reads it (plots, JSON), with the seed of the run as an
    attribute so that a number reported from it can say which seed gave it.

    Examples
    --------
    >>> history = History(train_loss=[0.5, 0.25], seed=3)
    >>> history["train_loss"][-1], history.seed
    (0.25, 3)
    """

    def __init__(self, *args, seed: int | None = None, **values) -> None:
        super().__init__(*args, **values)
        self.seed = seed

    def __repr__(self) -> str:
        return f"History({dict.__repr__(self)}, seed={self.seed})"


class EarlyStopping:
    """Stop training when a monitored quantity has not improved for ``patience`` epochs.

    An epoch *improves* if its value beats the best so far by more than ``min_delta``
    (smaller for ``mode="min"``, larger for ``mode="max"``). :func:`fit` calls :meth:`step`
    after every epoch and stops when it returns True.

    Parameters
    ----------
    patience : int, default 5
        Stop after this many consecutive epochs without improvement.
    min_delta : float, default 0.0
    monitor : str, default "val_loss"
        A key of the history: ``"val_loss"``, ``"train_loss"`` or ``"val_<metric>"``.
    mode : {"min", "max"}, default "min"
        ``"max"`` for metrics such as Dice.
    restore_best : bool, default True
        At the end of :func:`fit`, load the weights of the best epoch back into the model.

    Attributes
    ----------
    best : float
        Best value seen (``inf`` or ``-inf`` before the first epoch).
    best_epoch : int
        Epoch (0-based) of the best value, -1 before the first epoch.
    stopped : bool
        Whether :meth:`step` asked to stop.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.step(v) for v in [1.0, 0.5, 0.6, 0.7]]
    [False, False, False, True]
    >>> stopper.best, stopper.best_epoch
    (0.5, 1)
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        mode: str = "min",
        restore_best: bool = True,
    ) -> None:
        integer("patience", patience, minimum=1)
        number("min_delta", min_delta, low=0)
        choice("mode", mode, ("min", "max"))
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a history key (str), got {monitor!r}")
        self.patience, self.min_delta, self.monitor, self.mode = (
            int(patience),
            min_delta,
            monitor,
            mode,
        )
        self.restore_best = restore_best
        self.reset()

    def reset(self) -> None:
        """Forget the history (called by :func:`fit` at the start of training)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.epoch = -1
        self.stopped = False

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float) -> bool:
        """Record one epoch's value; return True if training should stop."""
        self.epoch += 1
        if self.improved(value):
            self.best, self.best_epoch = float(value), self.epoch
        self.stopped = self.epoch - self.best_epoch >= self.patience
        return self.stopped


# ---------------------------------------------------------------------------------------------
# The steps of fit
# ---------------------------------------------------------------------------------------------
def _monitor_name(early_stopping: EarlyStopping | None, has_val: bool) -> str:
    if early_stopping is not None:
        return early_stopping.monitor
    return "val_loss" if has_val else "train_loss"


def _check_fit(model, loss_fn, epochs, metrics, val_loader, early_stopping) -> tuple:
    """The checked ``(epochs, metrics, early_stopping, monitor)`` of :func:`fit`.

    An int ``early_stopping`` becomes ``EarlyStopping(patience=early_stopping)``; the monitored
    key must be one that the history will hold.
    """
    _check_model(model)
    if loss_fn is None or not callable(loss_fn):
        raise TypeError("fit() needs loss_fn, a callable(logits, targets) -> scalar tensor")
    epochs = integer("epochs", epochs, minimum=1)
    metrics = _check_metrics(metrics)
    if metrics and val_loader is None:
        raise ValueError("metrics are computed on the validation set: give val_loader too")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        early_stopping = EarlyStopping(patience=early_stopping)
    monitor = _monitor_name(early_stopping, val_loader is not None)
    allowed = ["train_loss"] + (
        ["val_loss"] + [f"val_{name}" for name in metrics] if val_loader is not None else []
    )
    if monitor not in allowed:
        raise ValueError(
            f"cannot monitor {monitor!r}: the history will only have {allowed}"
            + ("" if val_loader is not None else " (no val_loader given)")
        )
    return epochs, metrics, early_stopping, monitor


@dataclass
class _Trainer:
    """What one optimisation step needs: the model, its loss, the optimiser, where and how."""

    model: nn.Module
    loss_fn: Callable
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    device: torch.device
    use_amp: bool


def _trainer(model, loss_fn, optimizer, device, amp: bool) -> _Trainer:
    """Move ``model`` to ``device`` (default :func:`course.get_device`); Adam by default.

    Mixed precision (autocast + gradient scaling) only when ``amp`` and the device is CUDA.
    """
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
    return _Trainer(model, loss_fn, optimizer, scaler, device, use_amp)


def _train_step(trainer: _Trainer, batch, epoch: int, step: int) -> tuple[float, int]:
    """One optimisation step on ``batch``; returns ``(loss, batch size)``.

    Forward and loss under autocast, a check that the loss is finite, backward through the
    gradient scaler, optimiser step.
    """
    x, y = _split_batch(batch)
    x, y = _to(x, trainer.device), _to(y, trainer.device)
    trainer.optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=trainer.device.type, enabled=trainer.use_amp):
        loss = trainer.loss_fn(trainer.model(x), y)
    if not torch.isfinite(loss.detach()):
        raise FloatingPointError(
            f"training loss is {loss.item()} at epoch {epoch + 1}, step {step + 1}: "
            "lower the learning rate or check the data for NaNs"
        )
    trainer.scaler.scale(loss).backward()
    trainer.scaler.step(trainer.optimizer)
    trainer.scaler.update()
    return loss.item(), _batch_size(x)


def _train_epoch(trainer: _Trainer, train_loader: Iterable, epoch: int, progress: bool) -> float:
    """One pass over ``train_loader`` in train mode; returns the mean loss over its samples."""
    trainer.model.train()
    total, count = 0.0, 0
    batch_bar = tqdm(train_loader, desc=f"epoch {epoch + 1}", leave=False, disable=not progress)
    for step, batch in enumerate(batch_bar):
        loss, n = _train_step(trainer, batch, epoch, step)
        total += n * loss
        count += n
        batch_bar.set_postfix(loss=f"{total / count:.4f}")
    if count == 0:
        raise ValueError("train_loader yielded no batches")
    return total / count


def _record_epoch(history: History, train_loss: float, trainer: _Trainer, val_loader, metrics, amp):
    """Append the epoch's training loss, learning rate and (with ``val_loader``) its validation."""
    history["train_loss"].append(train_loss)
    history["lr"].append(float(trainer.optimizer.param_groups[0]["lr"]))
    if val_loader is not None:
        values = evaluate(trainer.model, val_loader, trainer.loss_fn, metrics, trainer.device, amp)
        for name, value in values.items():
            history.setdefault(f"val_{name}", []).append(value)


def _step_scheduler(scheduler, value: float) -> None:
    """``scheduler.step()``; :class:`~torch.optim.lr_scheduler.ReduceLROnPlateau` gets ``value``."""
    if scheduler is None:
        return
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(value)
    else:
        scheduler.step()


def _track_best(tracker: EarlyStopping, value: float, model: nn.Module, checkpoint) -> tuple:
    """Record the epoch's ``value``; returns ``(stop, weights)``.

    On an improvement the weights are saved to ``checkpoint`` (if given), and ``weights`` is a
    copy of them when the best ones are restored at the end; otherwise ``weights`` is None.
    """
    is_best = tracker.improved(value)
    stop = tracker.step(value)
    weights = None
    if is_best:
        if tracker.restore_best:
            weights = copy.deepcopy(model.state_dict())
        if checkpoint is not None:
            torch.save(model.state_dict(), checkpoint)
    return stop, weights


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    loss_fn: Callable | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    epochs: int = 10,
    device: torch.device | str | None = None,
    metrics: dict[str, Metric] | None = None,
    scheduler=None,
    early_stopping: int | EarlyStopping | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    amp: bool = True,
    seed: int | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs; return the per-epoch history.

    Every epoch: (1) training, for each batch ``(x, y)``: ``logits = model(x)``,
    ``loss = loss_fn(logits, y)``, ``loss.backward()``, ``optimizer.step()``; (2) if
    ``val_loader`` is given, :func:`evaluate` on it; (3) ``scheduler.step()`` (with the
    monitored value for :class:`~torch.optim.lr_scheduler.ReduceLROnPlateau`); (4) if the
    monitored quantity improved: remember these weights and save them to ``checkpoint``;
    (5) early stopping check.

    The *monitored quantity* is ``early_stopping.monitor`` if an :class:`EarlyStopping` is
    given, else ``"val_loss"`` (``"train_loss"`` without a validation loader).

    Parameters
    ----------
    model : torch.nn.Module
        Moved to ``device``. Its output (logits) goes straight to ``loss_fn`` and ``metrics``.
    train_loader : iterable of batches
        Usually a shuffling :class:`torch.utils.data.DataLoader`.
    val_loader : iterable of batches, optional
    loss_fn : callable(logits, targets) -> scalar tensor
        Required, e.g. :class:`torch.nn.CrossEntropyLoss` or a Dice + CE loss.
    optimizer : torch.optim.Optimizer, optional
        Defaults to ``Adam(model.parameters(), lr=1e-3)``.
    epochs : int, default 10
    device : torch.device or str, optional
        Defaults to :func:`course.get_device` (cuda, then mps, then cpu).
    metrics : dict of str to callable(logits, targets) -> float, optional
        Computed on the validation set; stored as ``"val_<name>"``.
    scheduler : torch.optim.lr_scheduler.LRScheduler, optional
        Stepped once per epoch.
    early_stopping : int or EarlyStopping, optional
        An int is ``EarlyStopping(patience=early_stopping)`` on ``val_loss``. With
        ``restore_best`` (the default), the model ends with the weights of its best epoch,
        whether training stopped early or ran all epochs.
    checkpoint : str or path, optional
        File where the best ``state_dict`` is saved (:func:`torch.save`) each time the monitored
        quantity improves; reload with ``model.load_state_dict(torch.load(path))``.
    progress : bool, default True
        Show tqdm progress bars (one over epochs, one per epoch over batches); nothing is
        printed when False.
    amp : bool, default True
        Mixed precision (float16 autocast + gradient scaling) when the device is CUDA; ignored
        on other devices (so off on a CPU).
    seed : int, optional
        Seeds everything (:func:`course.seed_everything`) before the first epoch: the order of
        the batches, dropout, random augmentations. The model's initial weights come from the
        seed in force when it was built. Recorded as ``history.seed``.

    Returns
    -------
    History
        A dict of lists: ``"train_loss"`` (mean over the epoch's samples, measured while
        training), ``"lr"`` (learning rate of the first parameter group during the epoch) and,
        with ``val_loader``, ``"val_loss"`` and ``"val_<metric>"``; one entry per completed
        epoch. ``history.seed`` is ``seed`` (None when not given).

    Raises
    ------
    TypeError
        Missing ``loss_fn``, a non-module ``model``, malformed ``metrics``, an ``epochs`` that is
        not an int.
    ValueError
        ``epochs < 1``, an empty ``train_loader``, early stopping or metrics on validation
        values without ``val_loader``, a monitored key that the history will not contain.
    FloatingPointError
        If the training loss becomes NaN or infinite (learning rate too high?).

    Examples
    --------
    See the example of :mod:`course.train`.
    """
    epochs, metrics, early_stopping, monitor = _check_fit(
        model, loss_fn, epochs, metrics, val_loader, early_stopping
    )
    trainer = _trainer(model, loss_fn, optimizer, device, amp)
    tracker = early_stopping or EarlyStopping(patience=epochs, monitor=monitor, restore_best=False)
    tracker.reset()
    best_state = None

    if seed is not None:
        course.seed_everything(seed)
    history = History(train_loss=[], lr=[], seed=seed)
    epoch_bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for epoch in epoch_bar:
        train_loss = _train_epoch(trainer, train_loader, epoch, progress)
        _record_epoch(history, train_loss, trainer, val_loader, metrics, amp)
        value = history[monitor][-1]
        _step_scheduler(scheduler, value)
        stop, weights = _track_best(tracker, value, model, checkpoint)
        if weights is not None:
            best_state = weights
        epoch_bar.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items() if k != "lr"})
        if stop:
            break
    epoch_bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
