"""Own work: in a lab's notebook, the library functions that the lab asks to write refuse to
run when the student's code calls them.

The course library implements everything the labs ask students to write (``to_hu``, ``conv2d``,
``dice`` ...): the lectures use it, the labs ask for it again from scratch. A lab's check module
calls :func:`forbid` with the lab's table (library function -> the part that asks for it). When the
module is imported in an IPython kernel (a student's notebook, ``course validate``, the grader),
each of those functions gets a new ``__code__`` (a trampoline), so every reference to it (an
import, an alias, ``getattr``, ``importlib``, a wrapper) goes through :func:`_enter`, which looks at
who is calling:

- the student's own code (a notebook cell, anything compiled from a string): refused;
- a check, when the function *is* the answer under test (an alias, a ``functools.partial``):
  refused;
- the library itself (``load_sample`` calling ``to_hu``) or a check computing its reference:
  allowed.

A refusal raises :class:`OwnWorkError` ("q1: your ``to_hu`` calls ``course.io.dicom.to_hu``; the
lab asks you to write it yourself") and is remembered, so that an answer that catches the error
still fails its part (:func:`raise_recorded`). Like the rest of the checks this runs in the
student's process: it catches delegation, it cannot stop an attacker who restores ``__code__``.
Outside IPython (pytest, scripts) nothing is changed.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from dataclasses import dataclass, field

__all__ = ["OwnWorkError", "forbid", "forbidden", "mark", "raise_recorded", "restore"]


class OwnWorkError(AssertionError):
    """A graded answer used the library's implementation of what the lab asks to write.

    Parameters
    ----------
    message : str
        What the student sees.
    part : str
        The part of the lab (``"q1"``).
    function : str
        The library function used (``"course.io.dicom.to_hu"``).
    """

    def __init__(self, message: str, *, part: str = "", function: str = "") -> None:
        super().__init__(message)
        self.part = part
        self.function = function


@dataclass
class _Entry:
    function: types.FunctionType  # the library's function object (its __code__ is replaced)
    original: types.FunctionType  # a clone running the library's code
    dotted: str  # "course.io.dicom.to_hu"
    part: str  # "q1"
    code: types.CodeType = field(repr=False, default=None)


_REGISTRY: dict[int, _Entry] = {}  # id(trampoline code) -> entry
_BY_NAME: dict[str, _Entry] = {}
_RECORDED: list[OwnWorkError] = []


def _template(*args, **kwargs):  # the body of every trampoline
    return __import__("course.checks._own_work", fromlist=["_"])._enter(
        __import__("sys")._getframe(0), args, kwargs
    )


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _armed() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def forbid(table: dict[str, str], *, force: bool = False) -> list[str]:
    """Make the library functions of ``table`` refuse calls from the student's code.

    Parameters
    ----------
    table : dict
        ``{"course.io.dicom.to_hu": "q1", ...}``: a library function (dotted name) and the part
        of the lab that asks the student to write it.
    force : bool
        Install even outside IPython (tests).

    Returns
    -------
    list of str
        The dotted names now enforced (all of ``table`` inside IPython, none outside unless
        ``force``).

    Raises
    ------
    TypeError
        When a name is not a plain Python function (a C function cannot be redirected).
    """
    if not (force or _armed()):
        return []
    for dotted, part in table.items():
        if dotted in _BY_NAME:
            continue
        try:
            function = _resolve(dotted)
        except ImportError:  # an optional package (scikit-learn) that is not installed
            continue
        if not isinstance(function, types.FunctionType) or function.__closure__:
            raise TypeError(f"forbid: {dotted} is not a plain Python function ({function!r})")
        original = types.FunctionType(
            function.__code__,
            function.__globals__,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        original.__kwdefaults__ = function.__kwdefaults__
        code = _template.__code__.replace(co_name=function.__name__)
        entry = _Entry(function, original, dotted, part, code)
        _REGISTRY[id(code)] = entry
        _BY_NAME[dotted] = entry
        function.__code__ = code
    return [d for d in table if d in _BY_NAME]


def restore() -> None:
    """Give every forbidden function its own code back (tests; a kernel never needs it)."""
    for entry in _BY_NAME.values():
        entry.function.__code__ = entry.original.__code__
    _REGISTRY.clear()
    _BY_NAME.clear()
    _RECORDED.clear()


def forbidden() -> dict[str, str]:
    """The enforced functions: dotted name -> part."""
    return {dotted: entry.part for dotted, entry in _BY_NAME.items()}


def _enter(frame, args, kwargs):
    entry = _REGISTRY[id(frame.f_code)]
    error = _refusal(entry, frame.f_back)
    if error is not None:
        _RECORDED.append(error)
        raise error
    return entry.original(*args, **kwargs)


def _kind(frame) -> str:
    """``"check"`` (course.checks, hidden checks), ``"library"`` (trusted) or ``"student"``."""
    filename = frame.f_code.co_filename
    if filename.startswith("<course hidden ") or "/course/checks/" in filename.replace("\\", "/"):
        return "check"
    from course.checks._common import _trusted_file

    return "library" if _trusted_file(filename) else "student"


def _wraps(value, function) -> bool:
    """Whether ``value`` is ``function`` or a partial or bound method of it."""
    for _ in range(10):
        if value is function:
            return True
        value = getattr(value, "func", None) or getattr(value, "__func__", None)
        if value is None:
            return False
    return False


def _arguments(frame) -> dict[str, object]:
    """The arguments a frame was called with (``*args`` and ``**kwargs`` spread out)."""
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # *args, **kwargs
    found = {}
    for name in code.co_varnames[:count]:
        value = frame.f_locals.get(name)
        if isinstance(value, tuple):
            found.update({f"{name}[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, dict) and code.co_flags & 0x08:
            found.update(value)
        else:
            found[name] = value
    return found


def _checks_between(caller) -> list:
    """The check frames from ``caller`` up to the student's code that called the check."""
    frames = []
    frame = caller
    while frame is not None and _kind(frame) != "student":
        if _kind(frame) == "check":
            frames.append(frame)
        frame = frame.f_back
    return frames if frame is not None else []


def _refusal(entry: _Entry, caller) -> OwnWorkError | None:
    """The error to raise when ``caller`` may not run ``entry``'s function, else None."""
    kind = _kind(caller)
    if kind == "library":
        return None
    start = caller.f_back if kind == "student" else caller  # who called the student's code
    checks = _checks_between(start) if start is not None else []
    names = [f.f_code.co_name for f in checks]
    entry_name = next((n for n in reversed(names) if re.match(r"q\d+_", n)), None)
    part = entry_name.split("_", 1)[0] if entry_name else entry.part
    if kind == "student":
        name = caller.f_code.co_name
        if name.startswith("<") and name != "<module>" and entry_name:
            name = entry_name.split("_", 1)[1]  # a lambda: the answer's name in the check
        who = "a notebook cell" if name == "<module>" else f"your `{name}`"
        message = f"{part}: {who} calls `{entry.dotted}`; the lab asks you to write it yourself"
        return OwnWorkError(message, part=part, function=entry.dotted)
    if entry_name is None:
        return None  # a check computing its reference outside any part
    for frame in checks:
        if not re.match(r"q\d+_", frame.f_code.co_name):
            continue
        for name, value in _arguments(frame).items():
            if _wraps(value, entry.function):
                name = frame.f_code.co_name.split("_", 1)[1] if "[" in name else name
                message = (
                    f"{part}: your `{name}` is `{entry.dotted}` from the library; "
                    "the lab asks you to write it yourself"
                )
                return OwnWorkError(message, part=part, function=entry.dotted)
    return None


def raise_recorded(since: int = 0) -> None:
    """Raise :class:`OwnWorkError` if a refusal was recorded after position ``since``.

    An answer that catches the refusal (``try: ... except Exception``) still fails its part.
    """
    if len(_RECORDED) > since:
        first = _RECORDED[since]
        raise OwnWorkError(str(first), part=first.part, function=first.function)


def mark() -> int:
    """The current position in the record of refusals (for :func:`raise_recorded`)."""
    return len(_RECORDED)
