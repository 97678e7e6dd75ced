"""Shared pieces of the lab-check tests: the hidden checks and the answers a cheat would submit.

The hidden checks live in ``autograder/course_hidden`` (not in the installed package, so that
students never see them); ``hidden_checks("lab04")`` imports one of them for a test.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

AUTOGRADER = Path(__file__).resolve().parents[1] / "autograder"


def hidden_checks(lab: str):
    """Import and return ``course_hidden.<lab>`` from the repository's ``autograder/`` folder."""
    if str(AUTOGRADER) not in sys.path:
        sys.path.insert(0, str(AUTOGRADER))
    return importlib.import_module(f"course_hidden.{lab}")


class AlwaysEqual:
    """An answer that claims to equal everything and to pass every comparison.

    The classic nbgrader cheat: ``assert answer == expected`` passes for it. Every check must
    reject it with a clear message.
    """

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __ge__(self, other):
        return True

    def __le__(self, other):
        return True

    __hash__ = None


def always_equal(*args, **kwargs):
    """A student function that returns an :class:`AlwaysEqual` whatever it is given."""
    return AlwaysEqual()


def always_equal_pair(*args, **kwargs):
    """Like :func:`always_equal` for a function that returns two values."""
    return AlwaysEqual(), AlwaysEqual()


def cases(table: dict[str, list]) -> list[tuple[str, object]]:
    """The ``(check name, answer)`` pairs of a table ``{check name: [answers]}``, for
    ``pytest.mark.parametrize("name, answer", cases(TABLE))``.
    """
    return [(name, answer) for name, answers in table.items() for answer in answers]
