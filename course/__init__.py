"""dlmi-course: the helper library of the *Deep learning for medical imaging* course.

One module per topic (the map is in ``course/README.md``): :mod:`course.arithmetic`,
:mod:`course.conv` and :mod:`course.pooling` for the CNN building blocks, :mod:`course.physics`
(CT, MRI, phantoms) and :mod:`course.io` (DICOM, NIfTI) for imaging, :mod:`course.datasets`,
:mod:`course.models`, :mod:`course.metrics`, :mod:`course.losses`, :mod:`course.augment`,
:mod:`course.train` and :mod:`course.explain` for deep learning, :mod:`course.viz` and
:mod:`course.widgets` for figures and explorers, :mod:`course.checks` and :mod:`course.grading`
for the labs.

The two helpers here are used at the top of every notebook:

>>> import course
>>> course.seed_everything(0)
0
>>> device = course.get_device()  # cuda if available, else mps, else cpu
"""

from __future__ import annotations

import os
import random

import numpy as np

__version__ = "0.1.0"

__all__ = ["__version__", "get_device", "seed_everything"]


def get_device():
    """Return the best available :class:`torch.device`: ``cuda``, then ``mps``, then ``cpu``.

    Notebooks never name a device; they call this once and move models and tensors with
    ``.to(device)``, so the same notebook runs on a laptop CPU, an Apple GPU and a Colab GPU.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(2, 3).to(get_device())
    """
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0, deterministic: bool = True) -> int:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and all GPUs).

    With ``deterministic=True`` cuDNN is asked for deterministic algorithms and its
    auto-tuner is switched off, so that two runs of a notebook give the same numbers.

    Parameters
    ----------
    seed : int
        A non-negative integer below 2**32.
    deterministic : bool, default True
        Also set ``torch.backends.cudnn.deterministic = True`` and
        ``torch.backends.cudnn.benchmark = False``.

    Returns
    -------
    int
        The seed, so a notebook can print what it used.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative or does not fit in 32 bits.

    Examples
    --------
    >>> seed_everything(42)
    42
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator, used by older code
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by worker processes
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed
