"""Short feedback from the lab checks in a notebook: one line when a part fails, passes or waits.

In a notebook (IPython), importing :mod:`course.checks` calls :func:`install`, which changes how
the errors of the checks are shown:

- a check that fails shows its message alone, e.g.
  ``q1 failed: to_hu(CT_small.dcm ...) should hold floating-point numbers, got dtype int16``,
  instead of a long traceback through the checker's code;
- a part whose answer cell still has its stub ``raise NotImplementedError()`` shows
  ``q1 not answered yet: replace `raise NotImplementedError()` in the answer cell with your code``;
- an error raised inside the student's own function while a check calls it shows the traceback
  of the student's code only (the checker's lines are left out);
- every other error (one raised by the student's code outside a check) keeps IPython's usual
  traceback.

The cell still ends with an error: the notebook, ``course validate`` and the grader see the same
error name and message as before. The full traceback stays available for debugging: ``%tb``
after the failure, or ``%env COURSE_CHECK_VERBOSE=1`` (the environment variable
``COURSE_CHECK_VERBOSE=1``) to turn this display off.

:func:`reporting` wraps the ``qN_*`` functions of a lab's check module so that a check that
passes says so, with the points at stake when the module has a ``POINTS`` table::

    q1 passed the visible checks (2 points; hidden checks run at grading)

Outside IPython (plain Python, pytest, doctest) nothing is installed and nothing is printed.
"""

from __future__ import annotations

import functools
import linecache
import numbers
import os
import re
import sys
import types

from course.checks._common import _trusted_file

__all__ = ["confirmation", "install", "passed", "reporting"]

# The errors of a check: AssertionError (and TamperingError) for a wrong answer,
# NotImplementedError for a part not answered yet.
EXCEPTIONS = (AssertionError, NotImplementedError)
VERBOSE_VARIABLE = "COURSE_CHECK_VERBOSE"
NOT_ANSWERED = "replace `raise NotImplementedError()` in the answer cell with your code"
_PART = re.compile(r"^(q\d+)_\w+$")
_CHECKS_FOLDER = os.path.dirname(os.path.realpath(__file__)) + os.sep


# --- confirmation of a check that passes ------------------------------------------------------
def _shell():
    """The running IPython shell, or None (plain Python, pytest): IPython is never imported."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def confirmation(part: str, points: float | None = None) -> str:
    """The sentence printed when the visible checks of ``part`` pass.

    Parameters
    ----------
    part : str
        The part, e.g. ``"q1"``.
    points : float, optional
        Its points; left out of the sentence when None (unknown).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``part`` is not a str or ``points`` not a number.
    ValueError
        If ``part`` is empty or ``points`` negative.

    Examples
    --------
    >>> confirmation("q1", 2)
    'q1 passed the visible checks (2 points; hidden checks run at grading)'
    >>> confirmation("q3", 1)
    'q3 passed the visible checks (1 point; hidden checks run at grading)'
    >>> confirmation("q2")
    'q2 passed the visible checks; hidden checks run at grading'
    """
    if not isinstance(part, str):
        raise TypeError(f"part must be a str such as 'q1', got {type(part).__name__}")
    if not part:
        raise ValueError("part must not be empty")
    if points is None:
        return f"{part} passed the visible checks; hidden checks run at grading"
    if not isinstance(points, numbers.Real) or isinstance(points, bool):
        raise TypeError(f"points must be a number or None, got {type(points).__name__}")
    if not points >= 0:
        raise ValueError(f"points must be >= 0, got {points}")
    unit = "point" if points == 1 else "points"
    return f"{part} passed the visible checks ({points:g} {unit}; hidden checks run at grading)"


def passed(part: str, points: float | None = None) -> None:
    """Print :func:`confirmation` in a notebook (IPython); do nothing elsewhere.

    Examples
    --------
    >>> passed("q1", 2)  # in a notebook (plain Python: prints nothing)  # doctest: +SKIP
    q1 passed the visible checks (2 points; hidden checks run at grading)
    """
    text = confirmation(part, points)
    if _shell() is not None:
        print(text)


def reporting(module: types.ModuleType) -> types.ModuleType:
    """Make every public ``qN_*`` function of a lab's check module confirm when it passes.

    Each such function is replaced, in ``module``, by a wrapper that calls it and then
    :func:`passed` with the part (``"q1"`` for ``q1_to_hu``) and its points, read from the
    module's ``POINTS`` dict (``{"q1": 2, ...}``) when the check runs; without ``POINTS`` the
    points are left out. Errors pass through unchanged. Calling it twice wraps nothing twice.

    Parameters
    ----------
    module : module
        A check module such as :mod:`course.checks.lab01`; call ``reporting(sys.modules[__name__])``
        at its end.

    Returns
    -------
    module
        The same module.

    Raises
    ------
    TypeError
        If ``module`` is not a module.

    Examples
    --------
    >>> import types
    >>> fake = types.ModuleType("fake")
    >>> exec("def q1_double(double):\\n    assert double(2) == 4", fake.__dict__)
    >>> fake.POINTS = {"q1": 2}
    >>> reporting(fake).q1_double.__name__
    'q1_double'
    >>> fake.q1_double(lambda x: 2 * x)  # in a notebook  # doctest: +SKIP
    q1 passed the visible checks (2 points; hidden checks run at grading)
    """
    if not isinstance(module, types.ModuleType):
        raise TypeError(f"module must be a module, got {type(module).__name__}")
    for name, function in list(vars(module).items()):
        match = _PART.match(name)
        if match and isinstance(function, types.FunctionType):
            if not getattr(function, "_course_reporting", False):
                setattr(module, name, _confirming(module, match.group(1), function))
    return module


def _confirming(module: types.ModuleType, part: str, function):
    """``function`` followed by :func:`passed` (a wrapper made by :func:`reporting`)."""

    @functools.wraps(function)
    def check_then_confirm(*args, **kwargs):
        result = function(*args, **kwargs)
        passed(part, getattr(module, "POINTS", {}).get(part))
        return result

    check_then_confirm._course_reporting = True
    return check_then_confirm


# --- the short display of a check's error -----------------------------------------------------
def install(shell=None) -> bool:
    """Show the errors of the checks in one line in this IPython shell (see the module's text).

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        Default: the running one. Outside IPython there is none and nothing happens.

    Returns
    -------
    bool
        True if installed; False outside IPython, or when the shell already has another custom
        exception handler (it is left in place).

    Examples
    --------
    >>> install()  # in a notebook (plain Python: False, nothing to do)  # doctest: +SKIP
    True
    """
    shell = _shell() if shell is None else shell
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if shell.custom_exceptions not in ((), EXCEPTIONS):
        return False
    shell.set_custom_exc(EXCEPTIONS, _show)
    return True


def _show(shell, etype, value, tb, tb_offset=None):
    """The custom exception handler: a short display for the checks, the usual one otherwise."""
    lines = None
    if os.environ.get(VERBOSE_VARIABLE, "").strip() in ("", "0") and not shell.call_pdb:
        try:
            lines = short_feedback(shell, value, tb)
        except Exception:  # noqa: BLE001 - never hide the student's error behind our own
            lines = None
    if lines is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %tb and %debug
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, lines)  # an error output, with these lines as traceback
    return None


def _in_checks(filename: str) -> bool:
    """Whether code from ``filename`` is a check: ``course/checks/`` or the hidden checks."""
    if filename.startswith("<course hidden"):
        return True
    path = os.path.realpath(filename)
    return path.startswith(_CHECKS_FOLDER) or f"{os.sep}course_hidden{os.sep}" in path


def short_feedback(shell, value: BaseException, tb) -> list[str] | None:
    """The lines shown for an error of a check, or None for IPython's usual traceback.

    None when the traceback does not pass through the checks. When it does, the part (``q1``)
    comes from the name of the check function (``q1_to_hu``), and:

    - the student's stub (a bare NotImplementedError raised by the student's code):
      ``["q1 not answered yet: replace ..."]``;
    - another error raised by the student's code (or a library it called): a header and the
      traceback of the student's frames only;
    - an error raised by the checks: ``["q1 failed: <message>"]``, with the line of the
      student's code that raised the original error, if any.
    """
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    checks = [i for i, e in enumerate(entries) if _in_checks(e.tb_frame.f_code.co_filename)]
    if not checks:
        return None
    names = (entries[i].tb_frame.f_code.co_name for i in checks)
    part = next((m.group(1) for m in map(_PART.match, names) if m), None)
    student = [e for e in entries[checks[0] :] if not _trusted_file(e.tb_frame.f_code.co_filename)]
    if student and checks[-1] != len(entries) - 1:  # raised outside the checks
        return _students_error(shell, part, value, student)
    message = str(value).strip()
    if part is None:
        return [f"{type(value).__name__}: {message}" + _origin(value)]
    message = message.removeprefix(f"{part}:").strip() or type(value).__name__
    return [f"{part} failed: {message}" + _origin(value)]


def _students_error(shell, part: str | None, value: BaseException, student: list) -> list[str]:
    """An error raised by the student's code while a check ran it: the stub, or its frames.

    ``student`` holds the traceback entries of the student's code, outermost first.
    """
    innermost = student[-1]
    if type(value) is NotImplementedError and not str(value) and innermost.tb_next is None:
        where = innermost.tb_frame.f_code.co_name
        return [f"{part or 'this part'} not answered yet: {NOT_ANSWERED} (in `{where}`)"]
    header = f"your code raised {type(value).__name__} while the check ran it:"
    stb = shell.InteractiveTB.structured_traceback(type(value), value, student[0], tb_offset=0)
    return [f"{part}: {header}" if part else f"Y{header[1:]}", *stb]


def _origin(value: BaseException) -> str:
    """``"\\n  at line N of `f`: <source>"`` for the student's line behind ``value.__cause__``."""
    cause = value.__cause__
    tb, found = getattr(cause, "__traceback__", None), None
    while tb is not None:
        if not _trusted_file(tb.tb_frame.f_code.co_filename):
            found = tb
        tb = tb.tb_next
    if found is None:
        return ""
    code = found.tb_frame.f_code
    source = linecache.getline(code.co_filename, found.tb_lineno).strip()
    return f"\n  at line {found.tb_lineno} of `{code.co_name}`" + (f": {source}" if source else "")
