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

from course._validate import integer

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


def seed_everything(seed: int = 0, deterministic: bool = False) -> int:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and every GPU).

    Two runs with the same seed then draw the same numbers. On a GPU that alone does not make
    results identical: some kernels (cuDNN convolutions chosen by its auto-tuner, atomic adds in
    backward passes, cuBLAS reductions) sum in a different order from run to run.
    ``deterministic=True`` asks PyTorch for deterministic algorithms everywhere
    (:func:`torch.use_deterministic_algorithms`, an error for an operation that has none),
    cuDNN's deterministic mode without its auto-tuner, and sets ``CUBLAS_WORKSPACE_CONFIG``
    (``:4096:8``, needed by cuBLAS from CUDA 10.2). The cost: on a GPU, often 10-50 % slower
    training, sometimes more for convolutions; on a CPU almost nothing. Even then, another
    number of threads or another device can still change results in the last digits: a claim a
    notebook makes must hold with a margin, over seeds.

    Parameters
    ----------
    seed : int
        A non-negative integer below 2**32.
    deterministic : bool, default False
        Also turn on the deterministic settings above (they stay on for the process).

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
    seed = integer("seed", seed, minimum=0, maximum=2**32 - 1)
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be a bool, got {type(deterministic).__name__}")
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator, used by older code
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by worker processes
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed
