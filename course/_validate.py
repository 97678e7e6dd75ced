"""Argument checks shared by the whole library (private: students call the public functions).

One rule for every public function: a wrong *type* is a :class:`TypeError`, a wrong *value* a
:class:`ValueError`, and the message names the argument, says what it accepts and shows what it
got, e.g. ``stride must be an int or a pair of ints, got 1.5 (float)``.

Each helper checks one kind of argument and returns it cleaned up (a plain ``int``, a
``float``, an ``ndarray``, a :class:`numpy.random.Generator`), so that a function starts with
one line per argument::

    stride = pair("stride", stride, minimum=1)
    rng = generator(seed)

This module imports nothing from ``course`` (every module may import it) and imports torch only
if somebody else already has.
"""

from __future__ import annotations

import math
import sys
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "describe",
    "is_tensor",
    "integer",
    "pair",
    "number",
    "choice",
    "to_numpy",
    "numpy_array",
    "numeric",
    "nonempty",
    "float_dtype",
    "generator",
]


def describe(value: Any) -> str:
    """How a message shows the value it got: ``1.5 (float)``, ``'95' (str)``, an array's shape.

    Examples
    --------
    >>> describe(1.5), describe("95")
    ('1.5 (float)', "'95' (str)")
    >>> describe(np.zeros((2, 3)))
    'an array of shape (2, 3) (ndarray)'
    """
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"an array of shape {tuple(shape)} ({kind})"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})"


def is_tensor(x: Any) -> bool:
    """True for a :class:`torch.Tensor`, without importing torch if nobody has.

    Examples
    --------
    >>> is_tensor(np.zeros(3))
    False
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _bound(minimum: int | None, maximum: int | None) -> str:
    if maximum is not None:
        return f"in [{minimum}, {maximum}]" if minimum is not None else f"<= {maximum}"
    return "positive" if minimum == 1 else f">= {minimum}"


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    accepts: str = "an int",
) -> int:
    """Check that ``value`` is an integer (not a bool, not a float) in range; return an ``int``.

    Parameters
    ----------
    name : str
        The argument's name, used in the message.
    value : object
        What the caller passed. Python and NumPy integers are accepted.
    minimum, maximum : int, optional
        Inclusive bounds.
    accepts : str, default "an int"
        What the type error says is accepted (e.g. ``"an int or a pair of ints"``).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``1.5``, ``"3"``, ``True``).
    ValueError
        If ``value`` is out of range.

    Examples
    --------
    >>> integer("stride", np.int64(2), minimum=1)
    2
    >>> integer("stride", 0, minimum=1)
    Traceback (most recent call last):
    ValueError: stride must be positive, got 0
    >>> integer("groups", 1.5, minimum=1)
    Traceback (most recent call last):
    TypeError: groups must be an int, got 1.5 (float)
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {accepts}, got {describe(value)}")
    too_small = minimum is not None and value < minimum
    if too_small or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {_bound(minimum, maximum)}, got {value}")
    return int(value)


def pair(name: str, value: Any, *, minimum: int | None = None) -> tuple[int, int]:
    """An int or an ``(h, w)`` pair of ints as a checked pair: ``3 -> (3, 3)``.

    Raises
    ------
    TypeError
        If a value is not an int (see :func:`integer`).
    ValueError
        If a sequence does not have two entries or a value is below ``minimum``.

    Examples
    --------
    >>> pair("kernel_size", 3, minimum=1), pair("padding", [1, 0], minimum=0)
    ((3, 3), (1, 0))
    >>> pair("stride", 1.5, minimum=1)
    Traceback (most recent call last):
    TypeError: stride must be an int or a pair of ints, got 1.5 (float)
    """
    accepts = "an int or a pair of ints"
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        h, w = (integer(name, v, minimum=minimum, accepts=accepts) for v in value)
        return h, w
    v = integer(name, value, minimum=minimum, accepts=accepts)
    return v, v


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    if high is None:
        if low_open:
            return "a positive number" if low == 0 else f"a number > {low}"
        return f"a number >= {low}"
    if low is None:
        return f"a number {'<' if high_open else '<='} {high}"
    return f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number in an interval; return it as a ``float``.

    A NumPy scalar or a 0-d array (or tensor) of numbers counts as a number; a string, a bool or
    an array with elements does not.

    Parameters
    ----------
    name : str
    value : object
    low, high : float, optional
        The ends of the interval (None: unbounded on that side).
    low_open, high_open : bool, default False
        Exclude that end: ``low=0, low_open=True`` means positive.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite or outside the interval.

    Examples
    --------
    >>> number("percentile", np.array(95), low=0, high=100)
    95.0
    >>> number("percentile", "95", low=0, high=100)
    Traceback (most recent call last):
    TypeError: percentile must be a real number, got '95' (str)
    >>> number("overlap", 1.0, low=0, high=1, high_open=True)
    Traceback (most recent call last):
    ValueError: overlap must be a number in [0, 1), got 1.0
    """
    if (is_tensor(value) or isinstance(value, np.ndarray)) and value.ndim == 0:
        value = value.item()  # a 0-d array is the number it holds (a bool stays a bool)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    x = float(value)
    inside = math.isfinite(x)
    if low is not None:
        inside = inside and (x > low if low_open else x >= low)
    if high is not None:
        inside = inside and (x < high if high_open else x <= high)
    if not inside:
        what = _interval(low, high, low_open, high_open) if (low, high) != (None, None) else ""
        raise ValueError(f"{name} must be {what or 'a finite number'}, got {value!r}")
    return x


def choice(name: str, value: Any, options: tuple) -> Any:
    """Check that ``value`` is one of ``options`` (usually strings) and return it.

    Raises
    ------
    TypeError
        If ``value`` does not have the type of the options (e.g. a number for a name).
    ValueError
        If it is not one of them.

    Examples
    --------
    >>> choice("blend", "linear", ("gaussian", "constant"))
    Traceback (most recent call last):
    ValueError: blend must be one of 'gaussian', 'constant', got 'linear'
    """
    listed = ", ".join(repr(option) for option in options)
    if not isinstance(value, tuple({type(option) for option in options})):
        raise TypeError(f"{name} must be one of {listed}, got {describe(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def to_numpy(name: str, value: Any) -> np.ndarray:
    """A NumPy array from an array, a tensor (detached, on the CPU), a list or a number.

    Raises
    ------
    TypeError
        If ``value`` cannot be read as an array of numbers (a ragged list, a dict, ``None``).

    Examples
    --------
    >>> to_numpy("mask", [[0, 1], [1, 0]]).shape
    (2, 2)
    >>> to_numpy("mask", None)
    Traceback (most recent call last):
    TypeError: mask must be a NumPy array, a torch.Tensor or a list of numbers, got None (NoneType)
    """
    if is_tensor(value):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    accepts = "a NumPy array, a torch.Tensor or a list of numbers"
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # e.g. a ragged list
        raise TypeError(f"{name} must be {accepts}, got {describe(value)}") from error
    if array.dtype == object:
        raise TypeError(f"{name} must be {accepts}, got {describe(value)}")
    return array


def numpy_array(name: str, value: Any, tensor_hint: str = "") -> np.ndarray:
    """``value`` as a NumPy array: a list or tuple is converted, anything else is refused.

    For functions that work on NumPy arrays only; ``tensor_hint`` tells a student who passed
    a torch tensor what to do instead (e.g. ``"use tensor.numpy()"``).

    Raises
    ------
    TypeError
        If ``value`` is not an array, a list or a tuple.

    Examples
    --------
    >>> numpy_array("x", [[1, 2]]).shape
    (1, 2)
    >>> numpy_array("x", {"a": 1})
    Traceback (most recent call last):
    TypeError: x must be a NumPy array, got builtins.dict
    """
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        kind = type(value).__module__.split(".")[0] + "." + type(value).__name__
        hint = f" ({tensor_hint})" if tensor_hint and kind.startswith("torch.") else ""
        raise TypeError(f"{name} must be a NumPy array, got {kind}{hint}")
    return value


def numeric(
    name: str, array: np.ndarray, *, complex_ok: bool = False, bool_ok: bool = True
) -> np.ndarray:
    """Check that an array holds finite numbers of an accepted kind; return it unchanged.

    Raises
    ------
    TypeError
        If its dtype is not numeric (strings, objects), complex without ``complex_ok``, or
        boolean without ``bool_ok``.
    ValueError
        If it holds NaN or infinite values.

    Examples
    --------
    >>> numeric("x", np.array([1.0, np.nan]))
    Traceback (most recent call last):
    ValueError: x contains NaN or infinite values
    """
    kinds = "iuf" + ("b" if bool_ok else "") + ("c" if complex_ok else "")
    if array.dtype.kind not in kinds:
        what = "real or complex numbers" if complex_ok else "real numbers"
        raise TypeError(f"{name} must hold {what}, got dtype {array.dtype}")
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def binary(name: str, value: Any, hint: str = "") -> np.ndarray:
    """A boolean array from booleans or the values 0 and 1 (array, tensor, list or scalar).

    ``hint`` is appended to the error message (what the caller suggests instead).

    Raises
    ------
    TypeError
        If it does not hold real numbers or booleans.
    ValueError
        If it holds NaN or a value other than 0 and 1.

    Examples
    --------
    >>> binary("mask", [0, 1, 1]).tolist()
    [False, True, True]
    >>> binary("mask", [0, 0.5])
    Traceback (most recent call last):
    ValueError: mask must be a binary mask (booleans or 0/1), got values [0.0, 0.5]
    """
    array = numeric(name, to_numpy(name, value))
    if array.dtype == bool:
        return array
    values = np.unique(array)
    if not np.isin(values, (0, 1)).all():
        shown = f"{values[:5].tolist()}{'...' if values.size > 5 else ''}"
        message = f"{name} must be a binary mask (booleans or 0/1), got values {shown}"
        raise ValueError(message + hint)
    return array.astype(bool)


def nonempty(name: str, array: Any, axes: tuple[int, ...] | None = None) -> Any:
    """Check that an array (or tensor) has at least one element along ``axes`` (default: all).

    Raises
    ------
    ValueError
        If one of those axes has length 0; the message shows the shape.

    Examples
    --------
    >>> nonempty("image", np.zeros((0, 0)))
    Traceback (most recent call last):
    ValueError: image must not be empty, got shape (0, 0)
    """
    shape = tuple(array.shape)
    sizes = shape if axes is None else tuple(shape[axis] for axis in axes)
    if 0 in sizes:
        raise ValueError(f"{name} must not be empty, got shape {shape}")
    return array


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype of a result: floats keep theirs, integers and booleans give float64.

    Raises
    ------
    TypeError
        If an array is complex.

    Examples
    --------
    >>> float_dtype(np.zeros(2, np.float32)), float_dtype(np.zeros(2, int))
    (dtype('float32'), dtype('float64'))
    """
    dtype = np.result_type(*arrays)
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError("complex arrays are not supported: pass a real-valued image")
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)
    return dtype


def generator(seed: Any, name: str = "seed", *, allow_none: bool = True) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a non-negative int seed, a Generator or None.

    A Generator is returned as it is (so a pipeline can share one); ``None`` draws fresh
    entropy (not reproducible) unless ``allow_none=False``.

    Raises
    ------
    TypeError
        If ``seed`` is not an int, a Generator (or None where allowed).
    ValueError
        If the int is negative.

    Examples
    --------
    >>> int(generator(0).integers(10)) == int(generator(0).integers(10))
    True
    >>> generator(-1)
    Traceback (most recent call last):
    ValueError: seed must be non-negative, got -1
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None and allow_none:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        accepts = "an int or a numpy.random.Generator" + (" or None" if allow_none else "")
        raise TypeError(f"{name} must be {accepts}, got {describe(seed)}")
    if seed < 0:
        raise ValueError(f"{name} must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))
