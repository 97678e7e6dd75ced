"""One training loop for the whole course, plus evaluation, prediction and sliding windows.

:func:`fit` runs the classic loop (for each epoch: for each batch: forward, loss, backward,
optimiser step), validates after every epoch, keeps the best weights, can stop early and shows
progress bars that render in notebooks (``tqdm.auto``). On a CUDA GPU it uses mixed precision
(:func:`torch.autocast` + :class:`torch.amp.GradScaler`); on the CPU it computes in float32.

Batches are ``(inputs, targets)`` pairs (extra items are ignored) or dicts with an ``"image"``
key and a ``"mask"``, ``"label"`` or ``"target"`` key.

>>> import torch
>>> from torch.utils.data import DataLoader, TensorDataset
>>> _ = torch.manual_seed(0)
>>> x = torch.randn(64, 3)
>>> y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
>>> loader = DataLoader(TensorDataset(x, y), batch_size=16)
>>> model = torch.nn.Linear(3, 1)
>>> history = fit(model, loader, loader, loss_fn=torch.nn.MSELoss(), epochs=30,
...               optimizer=torch.optim.Adam(model.parameters(), lr=0.1), progress=False)
>>> sorted(history)
['lr', 'train_loss', 'val_loss']
>>> history["val_loss"][-1] < 1e-3
True
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

import course
from course._validate import choice, integer, nonempty, number

__all__ = ["EarlyStopping", "History", "fit", "evaluate", "predict", "sliding_window_inference"]

Metric = Callable[[torch.Tensor, torch.Tensor], float]


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


def _split_batch(batch) -> tuple:
    """``(inputs, targets)`` from a tuple/list batch or a dict batch (targets may be None)."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, dict):
        if "image" not in batch:
            raise ValueError(f"a dict batch needs an 'image' key, got keys {sorted(batch)}")
        for key in ("mask", "label", "target"):
            if key in batch:
                return batch["image"], batch[key]
        return batch["image"], None
    if isinstance(batch, (tuple, list)) and len(batch) >= 1:
        return batch[0], (batch[1] if len(batch) > 1 else None)
    raise TypeError(
        "a batch must be a tensor, an (inputs, targets) tuple or a dict with 'image', got "
        f"{type(batch).__name__}"
    )


def _to(value, device: torch.device):
    return value.to(device, non_blocking=True) if isinstance(value, torch.Tensor) else value


def _batch_size(x) -> int:
    return len(x) if isinstance(x, torch.Tensor) else 1


def _model_device(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_metrics(metrics) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(
        isinstance(k, str) and callable(f) for k, f in metrics.items()
    ):
        raise TypeError("metrics must be a dict {name: fn(pred_logits, target) -> float}")
    return metrics


@contextlib.contextmanager
def _inference(model: nn.Module):
    """Eval mode without gradients for the ``with`` block; the train/eval mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable | None = None,
    metrics: dict[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool = True,
) -> dict[str, float]:
    """Average loss and metrics of ``model`` over ``loader``, without gradients, in eval mode.

    Each value is the mean over batches weighted by batch size:
    :math:`\\bar m = \\sum_b n_b m_b / \\sum_b n_b`. A metric that averages over the images of
    its batch therefore gives the mean over all images. The model's train/eval mode is restored.

    Parameters
    ----------
    model : torch.nn.Module
    loader : iterable of batches
        E.g. a :class:`torch.utils.data.DataLoader`.
    loss_fn : callable(logits, targets) -> scalar tensor, optional
    metrics : dict of str to callable(logits, targets) -> float, optional
    device : torch.device or str, optional
        Defaults to :func:`course.get_device`.
    amp : bool, default True
        Mixed precision, on CUDA only.

    Returns
    -------
    dict
        ``{"loss": ..., <metric name>: ...}`` (``"loss"`` only with a ``loss_fn``).

    Raises
    ------
    TypeError
        A non-module ``model`` or malformed ``metrics``.
    ValueError
        An empty ``loader``.

    Examples
    --------
    >>> model = nn.Linear(2, 1)
    >>> _ = nn.init.zeros_(model.weight), nn.init.zeros_(model.bias)
    >>> batches = [(torch.ones(4, 2), torch.ones(4, 1))]
    >>> evaluate(model, batches, nn.MSELoss(), {"mae": lambda p, t: (p - t).abs().mean()}, "cpu")
    {'loss': 1.0, 'mae': 1.0}
    """
    _check_model(model)
    metrics = _check_metrics(metrics)
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    use_amp = amp and device.type == "cuda"
    totals: dict[str, float] = {}
    count = 0
    with _inference(model):
        for batch in loader:
            x, y = _split_batch(batch)
            x, y = _to(x, device), _to(y, device)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                logits = model(x)
                values = {"loss": loss_fn(logits, y)} if loss_fn is not None else {}
            logits = logits.float()
            values.update({name: fn(logits, y) for name, fn in metrics.items()})
            n = _batch_size(x)
            for name, value in values.items():
                totals[name] = totals.get(name, 0.0) + n * float(value)
            count += n
    if count == 0:
        raise ValueError("loader yielded no batches: nothing to evaluate")
    return {name: total / count for name, total in totals.items()}


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
    See the module docstring.
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


def predict(
    model: nn.Module,
    data: torch.Tensor | Iterable,
    device: torch.device | str | None = None,
    batch_size: int = 32,
    amp: bool = True,
) -> torch.Tensor:
    """Model outputs (logits) for a tensor or every batch of a loader, concatenated on the CPU.

    Runs in eval mode without gradients (the mode is restored afterwards). Apply
    ``torch.sigmoid`` or ``torch.softmax(..., dim=1)`` yourself to get probabilities.

    Parameters
    ----------
    model : torch.nn.Module
    data : torch.Tensor of shape (N, ...) or iterable of batches
        A tensor is split into chunks of ``batch_size``; from a loader's batches only the inputs
        are used (targets are ignored).
    device : torch.device or str, optional
        Defaults to :func:`course.get_device`.
    batch_size : int, default 32
    amp : bool, default True
        Mixed precision on CUDA (outputs are converted back to float32).

    Returns
    -------
    torch.Tensor, shape (N, ...), on the CPU

    Raises
    ------
    TypeError
        Non-module ``model``, or a ``batch_size`` that is not an int.
    ValueError
        No data, or a non-positive ``batch_size``.

    Examples
    --------
    >>> model = nn.Linear(3, 2)
    >>> x = torch.randn(70, 3)
    >>> out = predict(model, x, device="cpu", batch_size=32)
    >>> out.shape, torch.allclose(out, model(x))
    (torch.Size([70, 2]), True)
    """
    _check_model(model)
    integer("batch_size", batch_size, minimum=1)
    device = torch.device(device) if device is not None else course.get_device()
    model.to(device)
    use_amp = amp and device.type == "cuda"
    batches = data.split(batch_size) if isinstance(data, torch.Tensor) else data
    outputs = []
    with _inference(model):
        for batch in batches:
            x, _ = _split_batch(batch)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                out = model(_to(x, device))
            outputs.append(out.float().cpu())
    if not outputs:
        raise ValueError("data is empty: nothing to predict")
    return torch.cat(outputs)


def _window_starts(size: int, patch: int, stride: int) -> list[int]:
    """Start indices of windows of length ``patch`` every ``stride``, the last one at the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)  # one more window flush with the far edge
    return starts


def _blend_weights(patch: Sequence[int], blend: str, sigma_scale: float) -> torch.Tensor:
    """Weight of each patch pixel: 1 ("constant") or a Gaussian centred on the patch."""
    if blend == "constant":
        return torch.ones(tuple(patch))
    weight = torch.ones(())
    for p in patch:
        centre, sigma = (p - 1) / 2, sigma_scale * p
        g = torch.exp(-0.5 * ((torch.arange(p, dtype=torch.float64) - centre) / sigma) ** 2)
        weight = weight[..., None] * g
    weight = weight / weight.max()
    return weight.clamp_min(1e-3).float()  # corners keep a small weight: every pixel is covered


def _check_window_args(model, image, patch_size, overlap, batch_size, blend, sigma_scale):
    """The checked ``(patch, overlap, batch_size)`` of :func:`sliding_window_inference`."""
    _check_model(model)
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor, got {type(image).__name__}")
    if image.ndim not in (4, 5):
        raise ValueError(
            f"image must have shape (N, C, H, W) or (N, C, D, H, W), got {tuple(image.shape)}"
        )
    nonempty("image", image)
    patch = _patch_sizes(patch_size, image)
    overlap = number("overlap", overlap, low=0, high=1, high_open=True)
    choice("blend", blend, ("gaussian", "constant"))
    batch_size = integer("batch_size", batch_size, minimum=1)
    number("sigma_scale", sigma_scale, low=0, low_open=True)
    return patch, overlap, batch_size


def _patch_sizes(patch_size, image: torch.Tensor) -> tuple[int, ...]:
    """``patch_size`` as one positive int per spatial axis of ``image`` (an int for all)."""
    n_spatial = image.ndim - 2
    many = isinstance(patch_size, (tuple, list, np.ndarray))
    accepts = f"an int or {n_spatial} ints"
    patch = tuple(
        integer("patch_size", p, accepts=accepts)
        for p in (patch_size if many else (patch_size,) * n_spatial)
    )
    if len(patch) != n_spatial or min(patch) < 1:
        raise ValueError(
            f"patch_size must be a positive int or {n_spatial} positive ints for an image of "
            f"shape {tuple(image.shape)}, got {patch_size!r}"
        )
    return patch


def _pad_to_patch(image: torch.Tensor, patch: tuple[int, ...]) -> torch.Tensor:
    """``image`` with zeros after the end of every spatial axis shorter than the patch."""
    pads: list[int] = []  # F.pad order: last axis first
    for size, p in zip(tuple(image.shape[2:]), patch, strict=True):
        pads = [0, max(p - size, 0)] + pads
    return F.pad(image, pads) if any(pads) else image


def _window_regions(full: tuple[int, ...], patch: tuple[int, ...], overlap: float) -> list:
    """The index region (a tuple of slices) of every window over an image of spatial size
    ``full``: the product of the per-axis starts, ``S = max(1, floor(P (1 - overlap)))`` apart.
    """
    strides = [max(1, int(p * (1 - overlap))) for p in patch]
    grids = [_window_starts(s, p, st) for s, p, st in zip(full, patch, strides, strict=True)]
    corners = [
        tuple(c) for c in np.stack(np.meshgrid(*grids, indexing="ij"), -1).reshape(-1, len(patch))
    ]
    return [
        tuple(slice(c, c + p) for c, p in zip(corner, patch, strict=True)) for corner in corners
    ]


def _coverage(regions: list, weight: torch.Tensor, full: tuple[int, ...], device) -> torch.Tensor:
    """The denominator of the blend: the sum of the window weights covering each pixel."""
    norm = torch.zeros(full, device=device)
    for region in regions:
        norm[region] += weight
    return norm


def _forward_patches(model, sample: torch.Tensor, regions: list, device, patch) -> torch.Tensor:
    """The model's float32 outputs for the patches ``regions`` of one ``(C, *spatial)`` sample."""
    batch = torch.stack([sample[(slice(None), *r)] for r in regions])
    out = model(batch.to(device)).float().to(sample.device)
    if tuple(out.shape[2:]) != patch:
        raise ValueError(
            f"the model maps patches of size {patch} to outputs of spatial size "
            f"{tuple(out.shape[2:])}: sliding windows need equal sizes"
        )
    return out


def _weighted_sum(model, padded, regions, weight, batch_size, device, patch) -> torch.Tensor:
    """The numerator of the blend: the weighted patch outputs summed over the windows."""
    output = None
    for n in range(padded.shape[0]):
        for i in range(0, len(regions), batch_size):
            chunk = regions[i : i + batch_size]
            out = _forward_patches(model, padded[n], chunk, device, patch)
            if output is None:
                output = torch.zeros(
                    (padded.shape[0], out.shape[1], *padded.shape[2:]), device=padded.device
                )
            for r, o in zip(chunk, out, strict=True):
                output[(n, slice(None), *r)] += o * weight
    return output


def sliding_window_inference(
    model: nn.Module,
    image: torch.Tensor,
    patch_size: int | Sequence[int],
    overlap: float = 0.25,
    batch_size: int = 4,
    blend: str = "gaussian",
    sigma_scale: float = 0.125,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Predict a large image or volume patch by patch and blend the overlapping predictions.

    Windows of size ``patch_size`` step by ``S = max(1, floor(P (1 - overlap)))`` along each
    axis, plus one window flush with the far edge, so every pixel is covered. The prediction is
    the weighted average of the patch outputs that cover each pixel,

    .. math:: \\hat y(u) = \\frac{\\sum_w \\omega(u - u_w)\\, f(x_w)(u - u_w)}
                                 {\\sum_w \\omega(u - u_w)}

    with weights ``omega`` equal to 1 (``"constant"``) or a Gaussian of standard deviation
    ``sigma_scale * P`` centred on the patch (``"gaussian"``, as in nnU-Net: patch borders,
    where the network sees the least context, count less). An image smaller than the patch
    along some axis is zero-padded up to the patch size and the result cropped back.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, C, *patch_size)`` to ``(B, C_out, *patch_size)`` (e.g. a :class:`UNet`).
    image : torch.Tensor, shape (N, C, H, W) or (N, C, D, H, W)
    patch_size : int or sequence of int
        One size per spatial axis (an int is used for all).
    overlap : float in [0, 1), default 0.25
        Fraction of a patch shared with the next one.
    batch_size : int, default 4
        Patches per forward pass.
    blend : {"gaussian", "constant"}, default "gaussian"
    sigma_scale : float, default 0.125
    device : torch.device or str, optional
        Where the model runs; defaults to the device of its parameters. The image and the
        result stay where ``image`` is, so a volume too large for the GPU can stay on the CPU.

    Returns
    -------
    torch.Tensor, shape (N, C_out, *spatial), float32, on ``image``'s device

    Raises
    ------
    TypeError
        If ``image`` is not a tensor, or a size or number argument has the wrong type
        (``patch_size=8.5``, ``batch_size=2.0``, ``overlap="0.5"``).
    ValueError
        Wrong ``image`` dimensions, an empty ``image`` (a batch of 0 images, or a spatial axis
        of length 0: there is nothing to predict, and the number of output channels is unknown
        without a patch to run), ``patch_size`` not matching the dimensions, ``overlap``
        outside [0, 1), unknown ``blend``, or a model whose output size differs from the
        patch size.

    Examples
    --------
    >>> conv = nn.Conv2d(1, 2, kernel_size=1)  # pointwise: patches give the same as the whole
    >>> x = torch.randn(1, 1, 50, 70)
    >>> y = sliding_window_inference(conv, x, patch_size=32, overlap=0.5)
    >>> y.shape, torch.allclose(y, conv(x), atol=1e-5)
    (torch.Size([1, 2, 50, 70]), True)
    """
    patch, overlap, batch_size = _check_window_args(
        model, image, patch_size, overlap, batch_size, blend, sigma_scale
    )
    device = torch.device(device) if device is not None else _model_device(model)
    padded = _pad_to_patch(image, patch)
    full = tuple(padded.shape[2:])
    regions = _window_regions(full, patch, overlap)
    weight = _blend_weights(patch, blend, sigma_scale).to(image.device)
    norm = _coverage(regions, weight, full, image.device)
    with _inference(model):
        output = _weighted_sum(model, padded, regions, weight, batch_size, device, patch)
    output = output / norm
    return output[(slice(None), slice(None), *(slice(0, s) for s in image.shape[2:]))]
