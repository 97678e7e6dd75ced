"""End-to-end autograding of every lab (real nbgrader runs, no mocks).

For each lab in solutions/: one class run of two students, the solution submitted as a student
(full autograded marks) and the student version submitted unchanged (0); generation, autograde,
feedback and nbgrader's export must all succeed. The two students are graded in parallel.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
LABS = sorted(p.parent.name for p in (ROOT / "solutions").glob("lab*/lab*.ipynb"))
sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("autograde")


_RUNS: dict[str, object] = {}


def class_run(lab: str, workspace: Path):
    """Generate the student version of ``lab`` and grade the class {solution, unchanged}, once
    per test session (a lab that fails does not stop the others)."""
    if lab not in _RUNS:
        try:
            course = grading.Course(ROOT, workspace / "workspace")
            student = grading.release(course, [lab], out=workspace / "released")[0]
            folder = workspace / "submissions" / lab
            (folder / "solution").mkdir(parents=True)
            (folder / "unchanged").mkdir(parents=True)
            source = ROOT / "solutions" / lab / f"{lab}.ipynb"
            (folder / "solution" / f"{lab}.ipynb").write_bytes(source.read_bytes())
            (folder / "unchanged" / f"{lab}.ipynb").write_bytes(student.read_bytes())
            _RUNS[lab] = grading.autograde(course, lab, folder, workers=2, echo=print)
        except Exception as error:  # remembered: the second test of the lab fails at once
            _RUNS[lab] = error
    if isinstance(_RUNS[lab], Exception):
        raise _RUNS[lab]
    return _RUNS[lab]


@pytest.mark.parametrize("lab", LABS)
def test_solution_gets_full_marks_and_student_version_zero(lab, workspace):
    run = class_run(lab, workspace)
    rows = {row["student"]: row for row in run.rows}
    solution, unchanged = rows["solution"], rows["unchanged"]
    assert solution["max"] > 0
    assert solution["total"] == solution["max"], (solution["reason"], solution["errors"])
    assert solution["status"] == "ok", solution["reason"]
    assert unchanged["total"] == 0, unchanged["scores"]
    assert unchanged["status"] == "ok", unchanged["reason"]
    # every part fails cleanly (NotImplementedError or an assertion), never a crash
    for part, error in unchanged["errors"].items():
        assert error.split(":")[0] in ("NotImplementedError", "AssertionError", "NameError"), (
            part,
            error,
        )


@pytest.mark.parametrize("lab", LABS)
def test_feedback_and_export(lab, workspace):
    run = class_run(lab, workspace)
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        grades = list(csv.DictReader(handle))
    assert [row["student"] for row in grades] == ["solution", "unchanged"]
    for student in ("solution", "unchanged"):
        text = (run.feedback_dir / f"{student}.html").read_text(encoding="utf-8")
        assert "course_hidden" not in text and "HIDDEN TESTS" not in text
        assert "<html" in text.lower()
        graded = run.grades_csv.parents[2] / "autograded" / student / lab / f"{lab}.ipynb"
        assert nbformat.read(graded, as_version=4).cells
    with open(run.grades_csv.parent / "nbgrader_export.csv", newline="", encoding="utf-8") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(exported["solution"]["raw_score"]) >= float(grades[0]["total"])
    assert float(exported["unchanged"]["raw_score"]) == 0
