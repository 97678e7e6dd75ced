"""The verdict of a graded part, as data: what the grader concluded about one test cell.

:class:`~course.grading.kernel.CourseExecute` builds a :class:`PartVerdict` for every test cell
once the notebook has run, and keeps them in the notebook's metadata ``course_grader``
(``"verdicts"``); :mod:`course.grading.run` reads them back with :meth:`PartVerdict.from_dict`,
never by parsing the messages that the students see.

The status comes from the name of the cell's first error (the class of the exception, as the
kernel reports it); for the errors of the checks' guards (``TamperingError``,
``OwnWorkError``) the names (the replaced functions, the library function used) come from the
record that the grading kernel publishes with the error (:func:`course.checks._common.
publish_record`), taken out of the cell's outputs by the grader.

Trust: everything inside the kernel belongs to the student, who can forge an error name or a
record. So a verdict can only lower a grade, never raise one: TAMPERED withholds the whole
score, OWN_WORK explains a part that already scores 0 (its cell ended with an error), and no
status gives points (the points come from nbgrader's gradebook).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["RECORD_MIME", "PartStatus", "PartVerdict", "judge_cell"]

# The MIME type of the record that the grading kernel publishes with a check's error (the same
# string as course.checks._common.RECORD_MIME: the checks never import the grading package).
RECORD_MIME = "application/x-course-check-error+json"
MAX_DETAIL = 300  # characters of the error message kept in a verdict
MAX_NAMES = 50  # names kept from a record, each cut to MAX_NAME characters
MAX_NAME = 200


class PartStatus(str, Enum):
    """What the grader concluded about one graded part (a test cell).

    Examples
    --------
    >>> PartStatus("tampered") is PartStatus.TAMPERED
    True
    """

    PASSED = "passed"  # the test cell ran without an error
    FAILED = "failed"  # a check failed, or the answer raised an error
    NOT_ANSWERED = "not answered"  # NotImplementedError: the answer's stub is still there
    TAMPERED = "tampered"  # the guard found replaced functions (TamperingError)
    OWN_WORK = "own work"  # the answer used the library's implementation (OwnWorkError)
    ERROR = "error"  # the grader could not run the cell (kernel death, timeout, not run)


# The error names (``ename``) that are not a plain failure; every other error is FAILED.
_STATUS_OF_ERROR = {
    "TamperingError": PartStatus.TAMPERED,
    "OwnWorkError": PartStatus.OWN_WORK,
    "NotImplementedError": PartStatus.NOT_ANSWERED,
    "NotRun": PartStatus.ERROR,
    "DeadKernelError": PartStatus.ERROR,
    "CellTimeoutError": PartStatus.ERROR,
    "MemoryError": PartStatus.ERROR,
}
# The statuses whose names come from the kernel's record.
_RECORDED = (PartStatus.TAMPERED, PartStatus.OWN_WORK)


@dataclass(frozen=True)
class PartVerdict:
    """The verdict of one graded part.

    Parameters
    ----------
    part : str
        The ``grade_id`` of the test cell, e.g. ``"q1_tests"``.
    status : PartStatus or str
        A status or its value (``"tampered"``).
    detail : str
        The message of the cell's first error (empty when it passed).
    names : sequence of str
        TAMPERED: the replaced functions; OWN_WORK: the library function used; else empty.

    Examples
    --------
    >>> verdict = PartVerdict("q5_tests", "tampered", names=["numpy.allclose"])
    >>> verdict.status is PartStatus.TAMPERED, verdict.names
    (True, ('numpy.allclose',))
    >>> PartVerdict.from_dict(verdict.to_dict()) == verdict
    True
    """

    part: str
    status: PartStatus
    detail: str = ""
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", PartStatus(self.status))
        if isinstance(self.names, str):
            raise TypeError("names must be a sequence of str, not a str")
        object.__setattr__(self, "names", tuple(str(name) for name in self.names))

    def to_dict(self) -> dict:
        """The verdict as JSON data (kept in the notebook's metadata)."""
        return {
            "part": self.part,
            "status": self.status.value,
            "detail": self.detail,
            "names": list(self.names),
        }

    @classmethod
    def from_dict(cls, data: dict) -> PartVerdict:
        """The verdict that :meth:`to_dict` wrote.

        Raises
        ------
        KeyError, TypeError or ValueError
            When ``data`` is not such a verdict.
        """
        if not isinstance(data, dict):
            raise TypeError(f"a verdict is a dict, got {type(data).__name__}")
        return cls(
            str(data["part"]),
            PartStatus(data["status"]),
            str(data.get("detail", "")),
            data.get("names", ()),
        )


def _names(record: object, ename: str) -> tuple[str, ...]:
    """The names of a kernel's record of the error ``ename`` (empty for another or no record)."""
    if not isinstance(record, dict) or record.get("error") != ename:
        return ()
    names = record.get("names")
    if not isinstance(names, list):
        return ()
    return tuple(str(name)[:MAX_NAME] for name in names[:MAX_NAMES])


def judge_cell(part: str, outputs, record: dict | None = None) -> PartVerdict:
    """The verdict of a test cell from its outputs and the kernel's record of its error.

    Parameters
    ----------
    part : str
        The cell's ``grade_id``.
    outputs : list of dict
        The cell's outputs (notebook format): the first ``error`` output decides.
    record : dict, optional
        What the grading kernel published with the error (``{"error": "TamperingError",
        "names": [...]}``); used only when it names the same error as the output, and only for
        the names of a TAMPERED or OWN_WORK part.

    Returns
    -------
    PartVerdict

    Examples
    --------
    >>> judge_cell("q1_tests", []).status.value
    'passed'
    >>> error = {"output_type": "error", "ename": "TamperingError", "evalue": "..."}
    >>> judge_cell("q1_tests", [error], {"error": "TamperingError", "names": ["abs"]}).names
    ('abs',)
    """
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return PartVerdict(part, PartStatus.PASSED)
    ename = str(errors[0].get("ename", ""))
    status = _STATUS_OF_ERROR.get(ename, PartStatus.FAILED)
    names = _names(record, ename) if status in _RECORDED else ()
    return PartVerdict(part, status, str(errors[0].get("evalue", ""))[:MAX_DETAIL], names)
