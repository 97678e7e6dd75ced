"""Public checks of the graded labs: the visible tests that students run in their notebooks.

Each lab has a module (``course.checks.lab04`` ...) whose functions take a student's answer and
raise :class:`AssertionError` with a message that teaches (what was expected, what came out).
They work anywhere the package is installed (laptop, Colab). The hidden tests of the labs live
with the instructor's autograder, never in this package.

In a notebook, importing this package makes a failing check show its message in one line
instead of a traceback through the checks, and :func:`reporting` makes a lab's checks confirm
when they pass (see :mod:`course.checks._feedback`; ``COURSE_CHECK_VERBOSE=1`` brings the full
tracebacks back). Outside IPython nothing changes.

>>> from course.checks import as_array
>>> as_array([1, 2, 3], "answer").dtype
dtype('float64')
"""

from course.checks._common import (
    as_array,
    as_float,
    as_int,
    assert_close,
    assert_shape,
    call,
    find_tampering,
    guard,
)
from course.checks._feedback import install, reporting

install()  # in IPython only: short feedback from the checks (does nothing elsewhere)

__all__ = [
    "as_array",
    "as_float",
    "as_int",
    "assert_close",
    "assert_shape",
    "call",
    "find_tampering",
    "guard",
    "reporting",
]
