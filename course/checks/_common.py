"""Helpers shared by the lab checks: plain conversions, comparisons and a tampering guard.

The checks never trust the type of a student's answer: :func:`as_array` and :func:`as_float`
turn it into a plain NumPy array or a Python float first (an object whose ``__eq__`` always
returns True becomes an error, not a pass), and comparisons are done here on those plain values.
:func:`guard` refuses to grade when the functions the checks rely on (``numpy.allclose``,
``numpy.testing.assert_allclose``, ``torch.allclose``, builtins such as ``abs`` or
``isinstance`` ...) have been replaced in the running kernel.
"""

from __future__ import annotations

import builtins
import math
import numbers
import sys
import types

import numpy as np

__all__ = [
    "TamperingError",
    "as_array",
    "as_float",
    "as_int",
    "assert_close",
    "assert_shape",
    "find_tampering",
    "guard",
]


class TamperingError(AssertionError):
    """A function that the checks rely on was replaced: the answer cannot be graded."""


# --- the guard -------------------------------------------------------------------------------
_BUILTINS = (
    "abs all any bool callable float getattr hasattr int isinstance issubclass len list max "
    "min print range repr round setattr str sum tuple type zip __import__"
).split()
_NUMPY = (
    "abs absolute all allclose any array array_equal asarray isclose isfinite isnan max "
    "maximum min nanmax sqrt sum"
).split()
_NUMPY_TESTING = "assert_allclose assert_array_equal assert_array_almost_equal assert_equal"
_TORCH = "allclose equal isclose as_tensor tensor".split()


def _watched() -> dict[str, object]:
    """The functions the checks rely on, by dotted name, as they are now."""
    found = {f"builtins.{name}": getattr(builtins, name, None) for name in _BUILTINS}
    found["math.isclose"] = getattr(sys.modules.get("math"), "isclose", None)
    found["sys.modules[numpy]"] = sys.modules.get("numpy")
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        found.update({f"numpy.{name}": getattr(numpy, name, None) for name in _NUMPY})
        testing = getattr(numpy, "testing", None)
        for name in _NUMPY_TESTING.split():
            found[f"numpy.testing.{name}"] = getattr(testing, name, None)
        found["numpy.ndarray.__eq__"] = getattr(numpy.ndarray, "__eq__", None)
    torch = sys.modules.get("torch")
    if torch is not None:
        found["sys.modules[torch]"] = torch
        found.update({f"torch.{name}": getattr(torch, name, None) for name in _TORCH})
    return found


_SNAPSHOT = _watched()  # taken when the checks are first imported, before any answer cell


def _genuine(dotted: str, value: object) -> bool:
    """Whether ``value`` looks like the library's own function (not one defined by a student)."""
    if value is None:
        return True  # absent in this version: nothing to compare
    if dotted.startswith("sys.modules"):
        return isinstance(value, types.ModuleType)
    if isinstance(value, (types.BuiltinFunctionType, np.ufunc, types.WrapperDescriptorType)):
        return True  # implemented in C: a student cannot define one in a notebook
    code = getattr(value, "__code__", None)
    if code is None:  # e.g. a class, a functools.partial, a callable object
        return type(value).__module__.split(".")[0] in ("numpy", "torch", "builtins", "math")
    package = dotted.split(".")[0]
    module = sys.modules.get(package)
    root = getattr(module, "__file__", None) or ""
    return bool(root) and code.co_filename.startswith(root.rsplit("/", 1)[0].rsplit("\\", 1)[0])


def find_tampering() -> list[str]:
    """Names of watched functions that were replaced since import or are not genuine.

    Returns
    -------
    list of str
        Empty when nothing was tampered with.

    Examples
    --------
    >>> find_tampering()
    []
    """
    now = _watched()
    changed = []
    for dotted, value in now.items():
        before = _SNAPSHOT.get(dotted)
        if (before is not None and value is not before) or not _genuine(dotted, value):
            changed.append(dotted)
    return changed


def guard() -> None:
    """Raise :class:`TamperingError` if a function the checks rely on was replaced.

    Every check calls this first, so that a notebook that redefines ``numpy.allclose`` (or
    ``abs``, ``isinstance`` ...) gets no points for the parts checked afterwards.

    Raises
    ------
    TamperingError
        Naming the replaced functions.
    """
    changed = find_tampering()
    if changed:
        raise TamperingError(
            "these functions were replaced in this notebook, so the answers cannot be checked: "
            + ", ".join(changed)
            + ". Restart the kernel and do not redefine library functions."
        )


# --- conversions -----------------------------------------------------------------------------
def _describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def as_array(value, name: str, *, dtype=np.float64, shape=None) -> np.ndarray:
    """A student's answer as a plain NumPy array of ``dtype`` (a copy), or AssertionError.

    Accepts NumPy arrays, nested lists and PyTorch tensors (detached, moved to the CPU).
    Anything else (``None``, strings, objects that only pretend to be arrays) fails with a
    message naming ``name`` and what was received.

    Parameters
    ----------
    value : array_like or torch.Tensor
    name : str
        What the answer is, for the message (e.g. ``"conv2d(x, w)"``).
    dtype : numpy dtype, default float64
    shape : tuple of int, optional
        The expected shape (checked with :func:`assert_shape`).

    Returns
    -------
    ndarray
        A base-class ndarray (never a subclass) of ``dtype``.

    Examples
    --------
    >>> as_array([[1, 2]], "x", shape=(1, 2))
    array([[1., 2.]])
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise AssertionError(f"{name} should be an array of numbers, got {_describe(value)}")
    try:
        array = np.array(value, dtype=dtype, copy=True, subok=False)
    except (TypeError, ValueError) as error:
        raise AssertionError(
            f"{name} should be an array of numbers, got {_describe(value)} ({error})"
        ) from None
    if type(array) is not np.ndarray:  # pragma: no cover - subok=False already ensures this
        array = np.asarray(array).view(np.ndarray)
    if shape is not None:
        assert_shape(array, shape, name)
    return array


def as_float(value, name: str) -> float:
    """A student's scalar answer as a plain Python float, or AssertionError.

    Examples
    --------
    >>> as_float(np.float32(0.5), "dice")
    0.5
    """
    array = as_array(value, name)
    if array.size != 1:
        raise AssertionError(f"{name} should be a single number, got shape {array.shape}")
    return float(array.reshape(-1)[0])


def as_int(value, name: str) -> int:
    """A student's integer answer as a plain Python int (a float like ``3.0`` is accepted).

    Examples
    --------
    >>> as_int(np.int64(3), "size")
    3
    """
    number = as_float(value, name)
    if not math.isfinite(number) or number != round(number):
        raise AssertionError(f"{name} should be a whole number, got {number}")
    return int(round(number))


def assert_shape(array: np.ndarray, shape, name: str) -> None:
    """AssertionError unless ``array.shape == shape`` (``None`` in ``shape`` matches any size)."""
    actual = tuple(np.shape(array))
    expected = tuple(shape)
    ok = len(actual) == len(expected) and all(
        e is None or a == e for a, e in zip(actual, expected, strict=True)
    )
    if not ok:
        raise AssertionError(f"{name} should have shape {expected}, got {actual}")


def assert_close(actual, expected, name: str, *, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """AssertionError unless ``|actual - expected| <= atol + rtol |expected|`` everywhere.

    Both sides are converted with :func:`as_array` first; the message gives the shapes, the
    number of wrong entries, the worst one and where it is.

    Examples
    --------
    >>> assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9], "x")
    >>> assert_close([1.0, 2.5], [1.0, 2.0], "x")
    Traceback (most recent call last):
    ...
    AssertionError: x: 1 of 2 values differ from the expected ones; worst at index (1,): got 2.5, expected 2.0
    """
    guard()
    expected = as_array(expected, "the expected value")
    actual = as_array(actual, name, shape=expected.shape)
    if not np.isfinite(actual).all() and np.isfinite(expected).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(actual))[0])
        raise AssertionError(f"{name} contains NaN or inf, e.g. at index {where}")
    error = np.abs(actual - expected)
    bad = error > atol + rtol * np.abs(expected)
    if bad.any():
        worst = np.unravel_index(int(np.argmax(np.where(bad, error, -1.0))), error.shape)
        raise AssertionError(
            f"{name}: {int(bad.sum())} of {bad.size} values differ from the expected ones; "
            f"worst at index {tuple(int(i) for i in worst)}: got {float(actual[worst])}, "
            f"expected {float(expected[worst])}"
        )


def is_number(value) -> bool:
    """True for a real number that is not a bool (helper for argument checks)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
