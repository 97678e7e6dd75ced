"""The verdict of a graded part travels as data: from the checks' errors to ``grades.csv``.

The guards' errors carry their fields (:class:`TamperingError` ``names``, :class:`OwnWorkError`
``part`` and ``function``); the grading kernel publishes them as a record, the grader turns each
test cell into a :class:`PartVerdict` and the class run reads those, never the messages. A
record comes from the student's kernel: it can only lower a grade.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import nbformat
import pytest

from course.checks import _common, _own_work

sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")
from course.grading import run as grading_run  # noqa: E402
from course.grading.intake import Submission  # noqa: E402
from course.grading.verdict import RECORD_MIME, PartStatus, PartVerdict, judge_cell  # noqa: E402

AUTO = [("q1_tests", 2.0), ("q2_tests", 3.0)]
TAMPER_MESSAGE = (
    "these functions were replaced in this notebook, so the answers cannot be checked: "
    "numpy.allclose, builtins.abs. Restart the kernel and do not redefine library or check "
    "functions."
)
OWN_WORK_MESSAGE = (
    "q2: your `to_hu` calls `course.io.dicom.to_hu`; the lab asks you to write it yourself"
)


def error(ename: str, evalue: str = "") -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


# --- PartStatus and PartVerdict ---------------------------------------------------------------
def test_statuses():
    assert [s.value for s in PartStatus] == [
        "passed",
        "failed",
        "not answered",
        "tampered",
        "own work",
        "error",
    ]
    assert PartStatus("own work") is PartStatus.OWN_WORK


def test_verdict_is_frozen_and_round_trips():
    verdict = PartVerdict("q1_tests", "tampered", "message", ["numpy.allclose"])
    assert verdict.status is PartStatus.TAMPERED and verdict.names == ("numpy.allclose",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.status = PartStatus.PASSED
    data = verdict.to_dict()
    assert data == {
        "part": "q1_tests",
        "status": "tampered",
        "detail": "message",
        "names": ["numpy.allclose"],
    }
    assert PartVerdict.from_dict(data) == verdict
    assert PartVerdict("q1_tests", PartStatus.PASSED) == PartVerdict("q1_tests", "passed", "", ())


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"status": "passed"},
        {"part": "q1_tests"},
        {"part": "q1_tests", "status": "full marks"},
        {"part": "q1_tests", "status": "tampered", "names": "numpy.allclose"},
    ],
)
def test_malformed_verdicts_are_refused(data):
    with pytest.raises((KeyError, TypeError, ValueError)):
        PartVerdict.from_dict(data)


@pytest.mark.parametrize(
    ("ename", "status"),
    [
        ("AssertionError", PartStatus.FAILED),
        ("NameError", PartStatus.FAILED),
        ("TestCellValue", PartStatus.FAILED),
        ("NotImplementedError", PartStatus.NOT_ANSWERED),
        ("TamperingError", PartStatus.TAMPERED),
        ("OwnWorkError", PartStatus.OWN_WORK),
        ("NotRun", PartStatus.ERROR),
        ("DeadKernelError", PartStatus.ERROR),
        ("CellTimeoutError", PartStatus.ERROR),
        ("MemoryError", PartStatus.ERROR),
    ],
)
def test_the_first_error_decides_the_status(ename, status):
    outputs = [{"output_type": "stream", "name": "stdout", "text": "hi"}, error(ename, "why")]
    verdict = judge_cell("q1_tests", [*outputs, error("AssertionError", "later")])
    assert verdict == PartVerdict("q1_tests", status, "why")
    assert judge_cell("q1_tests", outputs[:1]) == PartVerdict("q1_tests", PartStatus.PASSED)


def test_names_come_from_the_record_of_the_same_error():
    record = {"error": "TamperingError", "names": ["numpy.allclose", "builtins.abs"]}
    verdict = judge_cell("q1_tests", [error("TamperingError", TAMPER_MESSAGE)], record)
    assert verdict.names == ("numpy.allclose", "builtins.abs")
    assert verdict.detail == TAMPER_MESSAGE
    # a record of another error, or for a plain failure, is ignored: no names
    assert judge_cell("q1_tests", [error("OwnWorkError", "x")], record).names == ()
    assert judge_cell("q1_tests", [error("AssertionError", "x")], record).names == ()
    assert judge_cell("q1_tests", [error("TamperingError", "x")], None).names == ()
    forged = {"error": "TamperingError", "names": ["x" * 1000] * 1000}
    names = judge_cell("q1_tests", [error("TamperingError", "x")], forged).names
    assert len(names) == 50 and {len(n) for n in names} == {200}
    assert judge_cell("q1_tests", [error("TamperingError", "y" * 900)]).detail == "y" * 300


# --- the checks' errors carry their fields ----------------------------------------------------
def test_tampering_error_keeps_its_names_and_message():
    error_ = _common.TamperingError(["numpy.allclose", "builtins.abs"])
    assert error_.names == ("numpy.allclose", "builtins.abs")
    assert str(error_) == TAMPER_MESSAGE  # what the students see, as before
    many = _common.TamperingError([f"m.f{i}" for i in range(10)])
    assert str(many).endswith(
        "m.f7 and 2 more. Restart the kernel and do not redefine library or check functions."
    )
    assert _common.error_record(many) == {
        "error": "TamperingError",
        "names": [f"m.f{i}" for i in range(10)],  # all of them, not the eight shown
    }


def test_own_work_error_keeps_its_fields_through_raise_recorded():
    refusal = _own_work.OwnWorkError(OWN_WORK_MESSAGE, part="q2", function="course.io.dicom.to_hu")
    start = _own_work.mark()
    _own_work._RECORDED.append(refusal)
    try:
        with pytest.raises(_own_work.OwnWorkError) as caught:
            _own_work.raise_recorded(start)
    finally:
        del _own_work._RECORDED[start:]
    assert str(caught.value) == OWN_WORK_MESSAGE
    assert (caught.value.part, caught.value.function) == ("q2", "course.io.dicom.to_hu")
    assert _common.error_record(caught.value) == {
        "error": "OwnWorkError",
        "names": ["course.io.dicom.to_hu"],
        "part": "q2",
    }
    assert _common.error_record(AssertionError("q1 failed")) is None
    assert _common.error_record(None) is None


def test_the_checks_and_the_grader_agree_on_the_record_type():
    assert _common.RECORD_MIME == RECORD_MIME


def test_publish_record_in_an_ipython_shell(monkeypatch):
    IPython = pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or IPython.get_ipython()
    published = []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, **kw: published.append(data))
    shell.events.register("post_run_cell", _common.publish_record)
    try:
        shell.run_cell("from course.checks._common import TamperingError")
        shell.run_cell("raise ValueError('not a check')")
        shell.run_cell("raise TamperingError(['numpy.allclose'])")
    finally:
        shell.events.unregister("post_run_cell", _common.publish_record)
    assert published == [{RECORD_MIME: {"error": "TamperingError", "names": ["numpy.allclose"]}}]


# --- the class run reads the verdicts ---------------------------------------------------------
def result(verdicts, *, errors=None, auto=(2.0, 3.0), probe=None) -> dict:
    """A grading process's result: both parts graded, with these verdicts (dicts)."""
    parts = {
        gid: {"score": score, "auto": score, "max": points, "manual": False}
        for (gid, points), score in zip(AUTO, auto, strict=True)
    }
    for gid, text in (errors or {}).items():
        parts[gid]["error"] = text
    grader = {"events": [], "probe": probe, "dead": None, "verdicts": verdicts}
    return {"student": "ana", "status": "ok", "notes": [], "parts": parts, "grader": grader}


def row(res) -> dict:
    return grading_run._row(Submission("ana", notebook={}), res, AUTO, [])


def test_passed_parts_keep_their_scores():
    verdicts = [PartVerdict(gid, "passed").to_dict() for gid, _ in AUTO]
    got = row(result(verdicts, probe={"ran": True, "problems": []}))
    assert (got["status"], got["total"], got["reason"], got["tamper"]) == ("ok", 5.0, "", [])


def test_a_tampered_part_withholds_the_score_and_names_the_functions():
    verdict = PartVerdict("q2_tests", "tampered", TAMPER_MESSAGE, ["numpy.allclose", "abs"])
    errors = {"q2_tests": f"TamperingError: {TAMPER_MESSAGE}"}
    got = row(result([verdict.to_dict()], errors=errors, auto=(2.0, 0.0)))
    assert got["status"] == "tampered"
    assert got["scores"] == {"q1_tests": 0.0, "q2_tests": 0.0} and got["total"] == 0
    assert got["tamper"] == ["run time: numpy.allclose, abs"]
    assert got["reason"] == ("tampered: run time: numpy.allclose, abs; autograded score 2 withheld")
    assert got["errors"] == errors  # results.json keeps the message as the student saw it


def test_probe_and_parts_are_merged_without_repeats():
    verdict = PartVerdict("q1_tests", "tampered", "", ["numpy.allclose"])
    probe = {"ran": True, "problems": ["builtins.abs", "numpy.allclose"]}
    got = row(result([verdict.to_dict()], probe=probe))
    assert got["tamper"] == ["run time: builtins.abs, numpy.allclose"]


def test_a_tampered_part_without_a_record_is_still_tampered():
    verdict = PartVerdict("q1_tests", "tampered", "whatever the message says")
    got = row(result([verdict.to_dict()]))
    assert got["status"] == "tampered"
    assert got["tamper"] == ["run time: TamperingError in q1_tests"]


def test_own_work_is_explained_in_the_reason_and_the_summary(tmp_path):
    verdict = PartVerdict("q2_tests", "own work", OWN_WORK_MESSAGE, ["course.io.dicom.to_hu"])
    res = result([verdict.to_dict()], errors={"q2_tests": "OwnWorkError: " + OWN_WORK_MESSAGE})
    got = row(res)
    assert (got["status"], got["reason"]) == ("ok", OWN_WORK_MESSAGE)
    run = grading_run.ClassRun(
        "lab01", [got], AUTO, tmp_path / "g.csv", tmp_path, tmp_path / "r.json", 1.0, "bwrap"
    )
    run.verdicts = {"ana": grading_run._part_verdicts(res, AUTO)}
    assert f"  OWN WORK ana: {OWN_WORK_MESSAGE}" in grading.summary(run)


def test_messages_are_not_read_any_more():
    # an error message that looks like a guard's error is only a message: the verdict decides
    errors = {
        "q1_tests": f"TamperingError: {TAMPER_MESSAGE}",
        "q2_tests": "OwnWorkError: " + OWN_WORK_MESSAGE,
    }
    verdicts = [PartVerdict(gid, "failed", "x").to_dict() for gid, _ in AUTO]
    got = row(result(verdicts, errors=errors, auto=(0.0, 0.0)))
    assert (got["status"], got["reason"], got["tamper"]) == ("ok", "", [])


def test_verdicts_only_lower_a_grade():
    # nothing in a verdict gives points: they come from the gradebook
    verdicts = [PartVerdict(gid, "passed").to_dict() for gid, _ in AUTO]
    got = row(result(verdicts, auto=(0.0, 1.0)))
    assert got["scores"] == {"q1_tests": 0.0, "q2_tests": 1.0}


def test_malformed_or_unknown_verdicts_are_left_out():
    verdicts = [
        {"part": "q1_tests", "status": "full marks"},
        "tampered",
        {"part": "q9_tests", "status": "tampered", "names": ["x"]},  # not a graded part
        PartVerdict("q2_tests", "passed").to_dict(),
    ]
    res = result(verdicts)
    assert grading_run._part_verdicts(res, AUTO) == {
        "q2_tests": PartVerdict("q2_tests", PartStatus.PASSED)
    }
    assert row(res)["status"] == "ok"
    assert grading_run._part_verdicts(None, AUTO) == {}
    assert grading_run._part_verdicts({"parts": {}, "grader": None}, AUTO) == {}


# --- the grading kernel: record out of the outputs, verdicts into the metadata ------------------
def test_the_grading_kernel_records_verdicts(tmp_path):
    from course.grading.kernel import CourseExecute

    def test_cell(grade_id: str, source: str):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id}
        return cell

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from course.checks import _common, _own_work"),
        test_cell("q1_tests", "pass"),
        test_cell("q2_tests", "raise NotImplementedError()"),
        test_cell(
            "q3_tests",
            "raise _own_work.OwnWorkError('q3: no', part='q3', function='course.io.dicom.to_hu')",
        ),
        test_cell("q4_tests", "import math\nmath.isclose = lambda *a, **k: True\n_common.guard()"),
    ]
    executor = CourseExecute(timeout=60, memory_mb=0, sandbox="none", iopub_timeout=10)
    executor.preprocess(nb, {"metadata": {"path": str(Path(tmp_path))}})
    verdicts = [PartVerdict.from_dict(v) for v in nb.metadata["course_grader"]["verdicts"]]
    assert [(v.part, v.status, v.names) for v in verdicts] == [
        ("q1_tests", PartStatus.PASSED, ()),
        ("q2_tests", PartStatus.NOT_ANSWERED, ()),
        ("q3_tests", PartStatus.OWN_WORK, ("course.io.dicom.to_hu",)),
        ("q4_tests", PartStatus.TAMPERED, ("math.isclose",)),
    ]
    assert verdicts[2].detail == "q3: no"
    for cell in nb.cells:  # the records are data, not outputs
        assert all(RECORD_MIME not in o.get("data", {}) for o in cell.outputs)
    assert nb.cells[4].outputs[-1]["ename"] == "TamperingError"
    assert "math.isclose" in nb.metadata["course_grader"]["probe"]["problems"]
