"""Self-checks of the lecture exercises: a verdict for the student, never the answer.

A lecture exercise leaves a gap, ``...`` (Python's ``Ellipsis``), where the student writes a
value or the body of a small function, and is followed by a check call::

    answer = ...  # the number of parameters of this layer
    check.q1(answer)

A check prints one of three verdicts and never raises, so that a stored lecture notebook runs
from top to bottom with its exercises still open (nbval stays green):

- ``Exercise 1: not attempted yet ...`` when the gap is still ``...``;
- ``Exercise 1: correct. <what it shows>`` when the answer is right;
- ``Exercise 1: not yet. <hint>`` otherwise: the hint says what is wrong (a shape, a sign, a
  unit, an edge case), never the expected value.

Unlike the lab checks (:mod:`course.checks.lab04` ...), which raise and are graded, these are for
learning: a self-learner has no instructor, the check is the instructor.

Writing a check (``course/checks/lectureNN.py``)::

    @exercise(1, correct="a 3x3 filter on 16 channels has 3*3*16 weights per output channel.")
    def q1(answer):
        value = answered(answer)               # stops with "not attempted" on ...
        if not isinstance(value, int):
            raise Wrong("give the count as an int")
        if value != EXPECTED:
            raise Wrong("count the weights of one filter, times the filters, plus the biases")

For a function answer, :func:`attempt` calls it: a body still ``return ...`` counts as not
attempted, and an exception inside the student's code becomes a hint naming it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["Wrong", "answered", "attempt", "converted", "exercise", "number"]


class Wrong(Exception):
    """Raised inside a check with the hint to show (never the expected value)."""


class _NotAttempted(Exception):
    """The student's gap is still ``...``."""


def answered(value: Any) -> Any:
    """Return ``value``, or stop the check as "not attempted yet" if it is ``...``.

    Examples
    --------
    >>> answered(3)
    3
    """
    if value is Ellipsis:
        raise _NotAttempted
    return value


def attempt(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``function(*args, **kwargs)`` and return its result.

    A function whose body is still ``return ...`` (or that returns ``None`` because the gap was
    deleted) counts as not attempted; an exception raised by the student's code becomes a
    :class:`Wrong` hint that names it.

    Examples
    --------
    >>> attempt(lambda x: 2 * x, 4)
    8
    """
    answered(function)
    if not callable(function):
        raise Wrong(f"this exercise asks for a function, got a {type(function).__name__}")
    try:
        result = function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - anything the student's code raises
        raise Wrong(f"calling your function raised {type(error).__name__}: {error}") from None
    if result is Ellipsis or result is None:
        raise _NotAttempted
    return result


Check = Callable[..., None]


def converted(convert: Callable[..., Any], answer: Any, name: str, **options: Any) -> Any:
    """``convert(answer, name)`` of :mod:`course.checks._common` (``as_int``, ``as_float``,
    ``as_array``), with its complaint turned into a :class:`Wrong` hint.

    ``answer`` still ``...`` counts as not attempted.

    Examples
    --------
    >>> from course.checks._common import as_int
    >>> converted(as_int, 3, "the count")
    3
    """
    try:
        return convert(answered(answer), name, **options)
    except AssertionError as error:
        raise Wrong(str(error)) from None


def number(value: Any, name: str) -> float:
    """``value`` as one float, or a :class:`Wrong` hint saying what came instead.

    Examples
    --------
    >>> number(2, "the volume")
    2.0
    """
    from course._validate import describe
    from course.checks._common import as_float

    try:
        return as_float(value, name)
    except AssertionError:
        raise Wrong(f"give {name} as one number, got {describe(value)}") from None


def exercise(number: int, correct: str = "") -> Callable[[Check], Check]:
    """Turn a checking function into a lecture self-check that prints its verdict.

    The decorated function raises :class:`Wrong` with a hint when the answer is wrong and returns
    normally when it is right; the self-check prints the verdict and returns ``None``.

    Parameters
    ----------
    number : int
        The exercise's number in the lecture (shown in every verdict).
    correct : str
        What the student should take away once right (shown after "correct.").
    """

    def decorate(check: Check) -> Check:
        @functools.wraps(check)
        def self_check(*args: Any, **kwargs: Any) -> None:
            label = f"Exercise {number}"
            try:
                check(*args, **kwargs)
            except _NotAttempted:
                print(f"{label}: not attempted yet. Replace the ... with your answer, run again.")
            except Wrong as hint:
                print(f"{label}: not yet. {hint}")
            else:
                print(f"{label}: correct. {correct}".rstrip())

        return self_check

    return decorate
