"""Where the course lives, the grader's settings and constants, and its user error."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "dlmi-course"
DEFAULT_TIMEOUT = 120  # seconds per cell
DEFAULT_MEMORY_MB = 4096  # data memory of the grading kernel
MAX_OUTPUT_CHARS = 20_000  # per cell, while the notebook runs
MAX_NOTEBOOK_BYTES = 200 * 2**20  # a submitted notebook larger than this is refused
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
HIDDEN_BLOCK = re.compile(r"[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL)
LEAKS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "course_hidden",
)
STATUS_ORDER = (
    "tampered",
    "no notebook",
    "ambiguous",
    "invalid notebook",
    "crashed",
    "error",
    "kernel died",
    "memory",
    "timeout",
    "review",
    "ok",
)


class CourseError(Exception):
    """A user error (unknown lab, missing folder ...): the CLI prints it without a traceback."""


# --- the course layout -----------------------------------------------------------------------
@dataclass(frozen=True)
class Course:
    """Where the course lives (``root``) and where grading writes (``workspace``).

    Parameters
    ----------
    root : Path
        The repository: ``solutions/<lab>/<lab>.ipynb`` (sources), ``notebooks/labs/`` (student
        versions), ``autograder/course_hidden/`` (hidden checks).
    workspace : Path
        Submissions, autograded copies, feedback, reports and the gradebook (never committed).

    Examples
    --------
    >>> course = Course.at()
    >>> course.solutions.name
    'solutions'
    """

    root: Path
    workspace: Path

    @classmethod
    def at(cls, root: str | os.PathLike | None = None, workspace=None) -> Course:
        """The course at ``root`` (default: this repository), workspace defaulting to
        ``$COURSE_WORKSPACE`` or ``<root>/autograder/workspace``.
        """
        root = Path(root) if root is not None else Path(__file__).resolve().parents[2]
        root = root.resolve()
        if workspace is None:
            workspace = os.environ.get("COURSE_WORKSPACE") or root / "autograder" / "workspace"
        return cls(root, Path(workspace).resolve())

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def student_labs(self) -> Path:
        return self.root / "notebooks" / "labs"

    @property
    def hidden(self) -> Path:
        return self.root / "autograder"

    @property
    def db_url(self) -> str:
        """The gradebook; parallel graders wait up to 60 s for SQLite's lock."""
        return f"sqlite:///{self.workspace / 'gradebook.db'}?timeout=60"

    def labs(self) -> list[str]:
        """The labs that have a source notebook, sorted."""
        if not self.solutions.is_dir():
            return []
        return sorted(p.name for p in self.solutions.iterdir() if (p / f"{p.name}.ipynb").is_file())

    def source(self, lab: str) -> Path:
        """The source notebook of ``lab``; :class:`CourseError` if there is none."""
        path = self.solutions / lab / f"{lab}.ipynb"
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", lab) or not path.is_file():
            known = ", ".join(self.labs()) or "none"
            raise CourseError(f"unknown lab {lab!r}: no {path}. Labs: {known}")
        return path

    def pythonpath(self) -> list[str]:
        """What the grading process needs on ``sys.path``: the course (the hidden checks are
        read from :attr:`hidden` and sent to the kernel, never put on a path).
        """
        return [str(self.root)]
