"""Argument checks shared by the modules of :mod:`course.physics.ct` (private).

The generic checks (an int, a number, a seed) live in :mod:`course._validate`; these are the CT
ones: a finite real array, an image or sinogram batch (NumPy or PyTorch), a list of angles, an
output size.
"""

from __future__ import annotations

import numpy as np

from course._validate import choice, integer, is_tensor, nonempty
from course.physics.ct.geometry import _inscribed_size


def _real_array(x, name: str) -> np.ndarray:
    """``x`` as a finite real NumPy array (integers and booleans become float64)."""
    try:
        a = np.asarray(x)
    except Exception as error:  # e.g. a ragged list
        raise TypeError(f"{name} must be a number or an array of numbers") from error
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.astype(a.dtype if a.dtype.kind == "f" else np.float64, copy=False)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _nonnegative(x, name: str) -> np.ndarray:
    a = _real_array(x, name)
    if (a < 0).any():
        raise ValueError(f"{name} must be non-negative, got a minimum of {a.min()}")
    return a


def _check_operand(x, name: str, layout: str):
    """Validate an image or sinogram batch ``(..., A, B)``; return it and whether it is a tensor.

    The result is float32 or float64: float16 (and bfloat16) becomes float32, so that sums of
    many pixels cannot overflow; integers and booleans become float64 (a tensor: the default
    dtype). The last two axes must not be empty.
    """
    if is_tensor(x):
        import torch

        if x.ndim < 2:
            raise ValueError(f"{name} must have shape {layout}, got shape {tuple(x.shape)}")
        if x.is_complex():
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        if not torch.is_floating_point(x):
            x = x.to(torch.get_default_dtype())
        elif x.dtype in (torch.float16, torch.bfloat16):
            x = x.to(torch.float32)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        return nonempty(name, x, axes=(-2, -1)), True
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array or a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape {layout}, got shape {x.shape}")
    nonempty(name, x, axes=(-2, -1))
    if x.dtype == np.float16:
        x = x.astype(np.float32)
    return _real_array(x, name), False


def _angles(theta, n_angles: int | None = None, name: str = "theta") -> tuple[float, ...]:
    """Projection angles in degrees as a hashable tuple (the cache key of the geometry)."""
    if is_tensor(theta):
        theta = theta.detach().cpu().numpy()
    a = _real_array(theta, name)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1D array of angles in degrees, got shape {a.shape}"
        )
    if n_angles is not None and a.size != n_angles:
        raise ValueError(
            f"{name} has {a.size} angles but the sinogram has {n_angles} columns "
            "(sinogram shape is (..., n_detectors, n_angles))"
        )
    return tuple(float(v) for v in a)


def _default_angles(theta, n_angles: int) -> tuple[float, ...]:
    """``theta``, or ``n_angles`` angles evenly spread over [0, 180) when it is None."""
    if theta is None:
        return tuple(float(v) for v in np.arange(n_angles) * (180.0 / n_angles))
    return _angles(theta, n_angles)


def _check_circle(circle) -> bool:
    """``circle`` must be True or False (a wrong type is a TypeError)."""
    return choice("circle", circle, (True, False))


def _output_size(output_size, n_det: int, circle: bool = True) -> int:
    """``output_size``, checked; by default ``n_det`` (circle) or the square that fits in it."""
    if output_size is None:
        return n_det if circle else _inscribed_size(n_det)
    out = integer("output_size", output_size, minimum=1)
    if out > n_det:
        raise ValueError(
            f"output_size must be at most n_detectors={n_det} (pixels further out "
            f"were never seen by the detector), got {output_size}"
        )
    return out


def _check_sinogram(sinogram, theta):
    sinogram, tensor = _check_operand(sinogram, "sinogram", "(..., n_detectors, n_angles)")
    theta = _default_angles(theta, sinogram.shape[-1])
    return sinogram, tensor, theta
