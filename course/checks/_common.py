"""Helpers shared by the lab checks: plain conversions, comparisons and a tampering guard.

The checks never trust the type of a student's answer: :func:`as_array` and :func:`as_float`
turn it into a plain NumPy array or a Python float first (an object whose ``__eq__`` always
returns True becomes an error, not a pass), and comparisons are done here on those plain values.
:func:`guard` refuses to grade when the functions the checks rely on (``numpy.allclose``,
``numpy.testing.assert_allclose``, ``torch.allclose``, builtins such as ``abs`` or
``isinstance`` ...) have been replaced in the running kernel.
"""

from __future__ import annotations

import functools
import math
import os
import site
import sys
import sysconfig
import types

import numpy as np
import numpy.fft
import numpy.linalg
import numpy.testing  # imported now (NumPy imports it lazily) so that it is snapshotted now

from course.checks import _own_work

__all__ = [
    "TamperingError",
    "call",
    "as_array",
    "as_float",
    "as_int",
    "assert_close",
    "assert_shape",
    "find_tampering",
    "guard",
]


class TamperingError(AssertionError):
    """A function that the checks rely on was replaced: the answer cannot be graded.

    Parameters
    ----------
    names : sequence of str
        The dotted names of the replaced functions, kept as ``names`` (the grader reads them
        from there, see :func:`publish_record`); the message shows the first eight.
    """

    def __init__(self, names=()) -> None:
        self.names = _tuple(_str(name) for name in names)
        count = _len(self.names)
        shown = ", ".join(self.names[:8]) + (f" and {count - 8} more" if count > 8 else "")
        super().__init__(
            "these functions were replaced in this notebook, so the answers cannot be checked: "
            + shown
            + ". Restart the kernel and do not redefine library or check functions."
        )


# --- the guard -------------------------------------------------------------------------------
# Modules whose functions the checks (and the hidden checks) rely on, directly or as references.
# In these modules, and in every loaded module of the course package and of the grader's hidden
# checks (so that ``check.q1 = lambda f: None`` is caught too):
# - a function defined in a notebook (or by exec) is tampering, wherever it was put;
# - replacing one of the comparison functions below, with anything, is tampering;
# - a library rebinding its own functions (torch wraps ``torch.manual_seed`` when its compiler
#   is imported, ipykernel swaps ``input``) is not.
_WATCHED_MODULES = frozenset(
    (
        "builtins",
        "math",
        "operator",
        "numpy",
        "numpy.testing",
        "numpy.linalg",
        "numpy.fft",
        "torch",
        "torch.nn.functional",
        "torch.testing",
        "torch.fft",
        "torch.linalg",
        "scipy.signal",
        "scipy.ndimage",
        "scipy.fft",
        "skimage.transform",
        "skimage.metrics",
        "skimage.filters",
    )
)
_WATCHED_PACKAGES = ("course", "course_hidden")
_STRICT = frozenset(
    [
        f"builtins.{name}"
        for name in (
            "abs all any bool callable float getattr hasattr int isinstance issubclass len list "
            "max min print range repr round setattr str sum tuple type zip __import__ vars dict "
            "set sorted iter next map filter hash id object super"
        ).split()
    ]
    + ["math.isclose", "math.isfinite", "math.isnan", "operator.eq", "operator.ne"]
    + [
        f"numpy.{name}"
        for name in (
            "abs absolute all allclose any array array_equal array_equiv asarray isclose isfinite "
            "isnan max maximum min nanmax sqrt sum equal not_equal less_equal greater_equal"
        ).split()
    ]
    + [
        f"numpy.testing.{name}"
        for name in (
            "assert_allclose assert_array_equal assert_array_almost_equal assert_equal "
            "assert_almost_equal"
        ).split()
    ]
    + [
        f"torch.{name}"
        for name in "allclose equal isclose as_tensor tensor from_numpy eq ne".split()
    ]
    + ["torch.testing.assert_close", "torch.testing.assert_allclose"]
)
# Methods of a Python-level class that the conversions call (they could be patched).
_WATCHED_METHODS = {
    "torch.Tensor": ("numpy", "detach", "cpu", "__array__", "tolist", "item", "__float__"),
}
_C_TYPES = (
    types.BuiltinFunctionType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    np.ufunc,
)
_TRUSTED_PREFIXES = ("<frozen ", "<course hidden ")
# The guard must work when builtins were replaced: it uses these references, taken at import.
_isinstance, _callable, _getattr, _len, _type = isinstance, callable, getattr, len, type
_list, _sorted, _vars, _str, _frozenset = list, sorted, vars, str, frozenset
_tuple = tuple
_MISSING = object()


def _trusted_roots() -> tuple[str, ...]:
    """Folders whose code is trusted: the standard library, installed packages, the course."""
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    try:
        roots.update(os.path.realpath(path) for path in site.getsitepackages())
    except AttributeError:  # pragma: no cover - some virtualenv versions lack it
        pass
    for name in ("numpy", "torch", "scipy", "skimage", "course"):
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None)
        if location:
            package = os.path.dirname(os.path.realpath(location))
            roots.add(package if name == "course" else os.path.dirname(package))
    return tuple(sorted(root.rstrip(os.sep) + os.sep for root in roots))


_ROOTS = _trusted_roots()
_FILE_VERDICTS: dict[str, bool] = {}


def _trusted_file(filename: str) -> bool:
    """Whether code from ``filename`` belongs to an installed package, the stdlib or the course."""
    verdict = _FILE_VERDICTS.get(filename)
    if verdict is None:
        roots = _ROOTS
        hidden = sys.modules.get("course_hidden")
        if _getattr(hidden, "__file__", None):
            roots = roots + (os.path.dirname(os.path.realpath(hidden.__file__)) + os.sep,)
        path = os.path.realpath(filename) if os.path.isabs(filename) else filename
        verdict = filename.startswith(_TRUSTED_PREFIXES) or path.startswith(roots)
        _FILE_VERDICTS[filename] = verdict
    return verdict


def _function_like(value: object) -> bool:
    """Functions, builtins, ufuncs, partials and callable instances (not classes or modules)."""
    return _callable(value) and not _isinstance(value, (type, types.ModuleType))


def _genuine(value: object) -> bool:
    """Whether a function-like ``value`` was defined by a library, not in a notebook or exec."""
    if _isinstance(value, _C_TYPES):
        return True  # implemented in C: a notebook cannot define one
    if _isinstance(value, functools.partial):
        return False  # a library function with other arguments (e.g. a huge tolerance)
    code = _getattr(value, "__code__", None)
    if code is None:
        call = None
        for klass in _getattr(_type(value), "__mro__", ()):
            call = _vars(klass).get("__call__")
            if call is not None:
                break
        code = _getattr(call, "__code__", None)
        if code is None:
            return True  # a C-level callable type (numpy dispatchers, torch ops ...)
    filename = _getattr(code, "co_filename", None)
    return _isinstance(filename, _str) and _trusted_file(filename)


def _watched(name: str) -> bool:
    return name in _WATCHED_MODULES or name.split(".", 1)[0] in _WATCHED_PACKAGES


class _Record:
    """What a watched module held when first seen: its function-like attributes."""

    __slots__ = ("module", "size", "functions", "suspects")

    def __init__(self, module: types.ModuleType, changed: set[str], name: str) -> None:
        self.module = module
        namespace = _vars(module)
        self.size = _len(namespace)
        self.functions: dict[str, object] = {}  # genuine, as first seen (or as rebound)
        self.suspects: dict[str, object] = {}  # defined in a notebook: reported while there
        for attr, value in _list(namespace.items()):
            self.add(name, attr, value, changed)

    def add(self, name: str, attr: str, value: object, changed: set[str]) -> None:
        if attr.startswith("__") and attr != "__import__":
            return
        if not _function_like(value):
            return
        if _genuine(value):
            self.functions[attr] = value
        else:
            self.suspects[attr] = value
            changed.add(f"{name}.{attr}")


_RECORDS: dict[str, _Record] = {}
_METHODS: dict[str, object] = {}
_MODULE_COUNT = -1
_MODULE_NAMES: list[str] = []


def _scan() -> list[str]:
    """Compare the watched modules with what they held when first seen; update the records."""
    changed: set[str] = set()
    _scan_builtins(changed)  # first, with plain identity tests only (the rest may rely on them)
    if changed:
        return _sorted(changed)
    global _MODULE_COUNT, _MODULE_NAMES
    if _len(sys.modules) != _MODULE_COUNT:  # modules were imported: find the watched ones again
        _MODULE_COUNT = _len(sys.modules)
        _MODULE_NAMES = [name for name in _list(sys.modules) if _watched(name)]
    for name in _MODULE_NAMES:
        module = sys.modules.get(name, _MISSING)
        if module is _MISSING:
            continue
        record = _RECORDS.get(name)
        if record is None:
            if _isinstance(module, types.ModuleType):
                _RECORDS[name] = _Record(module, changed, name)
        elif module is not record.module:
            changed.add(f"sys.modules[{name}]")  # replaced or reloaded
        else:
            _scan_module(name, record, changed)
    _scan_methods(changed)
    return _sorted(changed)


def _scan_builtins(changed: set[str]) -> None:
    """Add to ``changed`` the strictly watched builtins that are no longer what they were."""
    record = _RECORDS.get("builtins")
    if record is None:
        return
    namespace = record.module.__dict__
    for attr in _STRICT:
        if attr.startswith("builtins."):
            name = attr[9:]
            before = record.functions.get(name, _MISSING)
            if before is not _MISSING and namespace.get(name, _MISSING) is not before:
                changed.add(attr)


def _scan_module(name: str, record: _Record, changed: set[str]) -> None:
    """Compare one watched module with its record: replaced, deleted and new functions."""
    namespace = _vars(record.module)
    for attr, before in _list(record.functions.items()):
        value = namespace.get(attr, _MISSING)
        if value is before:
            continue
        dotted = f"{name}.{attr}"
        if value is _MISSING:
            changed.add(dotted)  # deleted
        elif dotted in _STRICT or not _function_like(value) or not _genuine(value):
            changed.add(dotted)
        else:
            record.functions[attr] = value  # a library rebinding its own function
    for attr, before in _list(record.suspects.items()):
        value = namespace.get(attr, _MISSING)
        if value is before:
            changed.add(f"{name}.{attr}")
        else:
            del record.suspects[attr]
            if value is not _MISSING and attr not in record.functions:
                record.add(name, attr, value, changed)
    if _len(namespace) != record.size:
        record.size = _len(namespace)
        for attr, value in _list(namespace.items()):
            if attr not in record.functions and attr not in record.suspects:
                record.add(name, attr, value, changed)


def _scan_methods(changed: set[str]) -> None:
    """Add to ``changed`` the watched methods of classes (``_WATCHED_METHODS``) that changed."""
    for dotted, methods in _WATCHED_METHODS.items():
        module_name, _, class_name = dotted.rpartition(".")
        cls = _getattr(sys.modules.get(module_name), class_name, None)
        if not _isinstance(cls, type):
            continue
        for method in methods:
            key = f"{dotted}.{method}"
            value = _getattr(cls, method, _MISSING)
            before = _METHODS.get(key, _MISSING)
            if before is _MISSING:
                if value is not _MISSING and _genuine(value):
                    _METHODS[key] = value
                elif value is not _MISSING:
                    changed.add(key)
            elif value is not before:
                changed.add(key)


# Taken when the checks are first imported, before any answer cell (the grader imports this
# module in an IPython startup file, before the notebook's first cell). Modules imported later
# are recorded when first seen.
_scan()


def find_tampering() -> list[str]:
    """Names of watched functions that were replaced, removed or defined in a notebook.

    Watched: the functions of ``builtins``, ``math``, NumPy (and ``numpy.testing``, ``linalg``,
    ``fft``), PyTorch (``torch``, ``torch.nn.functional``, ``torch.testing`` ...), the SciPy and
    scikit-image modules used as references, and every loaded module of the course package and
    of the hidden checks. A function defined in a notebook put into one of them is tampering,
    and so is replacing a comparison function (``numpy.allclose``, ``abs``, ``isinstance`` ...)
    with anything.

    Returns
    -------
    list of str
        Sorted dotted names; empty when nothing was tampered with.

    Examples
    --------
    >>> find_tampering()
    []
    """
    return _scan()


def guard() -> None:
    """Raise :class:`TamperingError` if a function the checks rely on was replaced.

    Every check calls this first, so that a notebook that redefines ``numpy.allclose`` (or
    ``abs``, ``isinstance``, a check function ...) gets no points for the parts checked
    afterwards.

    Raises
    ------
    TamperingError
        Naming the replaced functions.
    """
    changed = find_tampering()
    if changed:
        raise TamperingError(changed)


# --- what the grader reads -------------------------------------------------------------------
# The grader reads the fields of the guards' errors as data, not from their messages: the
# grading kernel (only it) registers publish_record, which publishes them as display data of
# this type; the grader takes it out of the cell's outputs (course.grading.kernel and .verdict,
# which spell the same type: the checks never import the grading package).
RECORD_MIME = "application/x-course-check-error+json"


def error_record(error: BaseException | None) -> dict | None:
    """The fields of a guard's error as JSON data; None for any other error.

    Examples
    --------
    >>> error_record(TamperingError(["numpy.allclose"]))
    {'error': 'TamperingError', 'names': ['numpy.allclose']}
    >>> error_record(ValueError("x")) is None
    True
    """
    if _isinstance(error, TamperingError):
        return {"error": "TamperingError", "names": _list(error.names)}
    if _isinstance(error, _own_work.OwnWorkError):
        return {"error": "OwnWorkError", "names": [error.function], "part": error.part}
    return None


def publish_record(result) -> None:
    """IPython ``post_run_cell`` hook of the grading kernel: publish the record of a cell's error.

    Registered by the grader's startup file (:mod:`course.grading.kernel`), nowhere else: a
    student's notebook never shows the record. The grader trusts it only to lower a grade.
    """
    record = error_record(_getattr(result, "error_in_exec", None))
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if record is not None and shell is not None:
        shell.display_pub.publish(data={RECORD_MIME: record})


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
    AssertionError: x: 1 of 2 values differ from the expected ones;
    worst at index (1,): got 2.5, expected 2.0
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


def call(function, args: tuple = (), what: str = "your function", kwargs: dict | None = None):
    """Call a student's function for a check: ``function(*args, **kwargs)``.

    A crash becomes an AssertionError that names the call (``what``), so the student sees on
    which input the answer failed; NotImplementedError (the part is not done yet) and
    AssertionError pass through unchanged.

    Examples
    --------
    >>> call(len, ([1, 2],), "len([1, 2])")
    2
    >>> call(int, ("x",), 'int("x")')
    Traceback (most recent call last):
    ...
    AssertionError: int("x") raised ValueError: invalid literal for int() with base 10: 'x'
    """
    if not callable(function):
        raise AssertionError(f"expected a function, got {type(function).__name__}")
    start = _own_work.mark()
    try:
        result = function(*args, **(kwargs or {}))
    except (NotImplementedError, AssertionError):
        raise
    except Exception as error:  # noqa: BLE001 - any error of the answer is reported
        _own_work.raise_recorded(start)  # it called a function the lab asks the student to write
        raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from error
    _own_work.raise_recorded(start)
    return result
