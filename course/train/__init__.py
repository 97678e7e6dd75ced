"""One training loop for the whole course, plus evaluation, prediction and sliding windows.

One module per step, every name importable from :mod:`course.train`:

* :mod:`course.train.loop` - :func:`fit` runs the classic loop (for each epoch: for each batch:
  forward, loss, backward, optimiser step), validates after every epoch, keeps the best
  weights, can stop early (:class:`EarlyStopping`) and shows progress bars that render in
  notebooks (``tqdm.auto``); it returns a :class:`History`. On a CUDA GPU it uses mixed
  precision (:func:`torch.autocast` + :class:`torch.amp.GradScaler`); on the CPU it computes
  in float32.
* :mod:`course.train.evaluation` - :func:`evaluate` (the mean loss and metrics over a loader)
  and :func:`predict` (the model's outputs), in eval mode without gradients.
* :mod:`course.train.sliding_window` - :func:`sliding_window_inference` predicts an image or
  volume larger than the training patches window by window and blends the overlaps.
* :mod:`course.train.lr_range` - :func:`lr_range_test` (the learning-rate range test of Smith,
  2017) and :func:`scheduled_lrs` (the learning rates a PyTorch scheduler sets, step by step).
* :mod:`course.train.curves` - :func:`plot_mean_sd` (learning curves as mean +/- SD over
  seeds, from :func:`mean_sd`) and :func:`plot_lr_range`.

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

from course.train._common import Metric as Metric  # the type of a metric, kept importable
from course.train.curves import mean_sd, plot_lr_range, plot_mean_sd
from course.train.evaluation import evaluate, predict
from course.train.loop import EarlyStopping, History, fit
from course.train.lr_range import LRRangeResult, lr_range_test, scheduled_lrs
from course.train.sliding_window import sliding_window_inference

__all__ = ["EarlyStopping", "History", "fit", "evaluate", "predict", "sliding_window_inference"]
__all__ += ["LRRangeResult", "lr_range_test", "scheduled_lrs"]
__all__ += ["mean_sd", "plot_lr_range", "plot_mean_sd"]
