"""End-to-end autograding of every lab (real nbgrader runs, no mocks).

For each lab in solutions/: one class run of three students, the solution submitted as a student
(full autograded marks), the student version submitted unchanged (0), and a student who delegates
every part the lab asks to write to the course library (by import, alias, getattr and a wrapper:
0 on those parts, with the reason); generation, autograde, feedback and nbgrader's export must all
succeed. The students are graded two at a time.
"""

from __future__ import annotations

import copy
import csv
import importlib
import os
import re
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
#: ``make test-threads`` runs only the full-marks test, with two threads: its class needs no
#: delegating student (that student's grade does not depend on the thread count), which saves
#: one full run of every lab's solution.
WITH_DELEGATE = os.environ.get("COURSE_TEST_NO_DELEGATE") != "1"
WAYS = ("import", "alias", "getattr", "wrapper")


def delegated_parts(lab: str) -> dict[str, tuple[str, str]]:
    """Part -> (the student's function name, the library function it may not use)."""
    checks = importlib.import_module(f"course.checks.{lab[:5]}")
    names = {n.split("_", 1)[0]: n.split("_", 1)[1] for n in dir(checks) if re.match(r"q\d_", n)}
    parts = {}
    for dotted, part in checks.OWN_WORK.items():
        parts.setdefault(part, (names[part], dotted))
    return parts


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def delegating(lab: str, source_nb):
    """The solution with every answer the lab forbids replaced by a call of the library."""
    nb = copy.deepcopy(source_nb)
    for index, (part, (name, dotted)) in enumerate(sorted(delegated_parts(lab).items())):
        module, _, function = dotted.rpartition(".")
        way = WAYS[index % len(WAYS)]
        code = {
            "import": f"from {module} import {function} as {name}",
            "alias": f"import {module} as _library\n{name} = _library.{function}",
            "getattr": f"import importlib\n{name} = getattr(importlib.import_module({module!r}), "
            f"{function!r})",
            "wrapper": f"import {module} as _library\n\n\ndef {name}(*args, **kwargs):\n"
            f"    return _library.{function}(*args, **kwargs)",
        }[way]
        cell = next(
            c
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == f"{part}_answer"
        )
        cell.source = f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"
    return nb


def class_run(lab: str, workspace: Path):
    """Generate the student version of ``lab`` and grade the class {solution, unchanged}, once
    per test session (a lab that fails does not stop the others).
    """
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
            if WITH_DELEGATE:
                (folder / "delegate").mkdir(parents=True)
                delegate = delegating(lab, nbformat.read(source, as_version=4))
                nbformat.write(delegate, folder / "delegate" / f"{lab}.ipynb")
            # the kernels use this test run's thread count: 1 in make test, 2 in make test-threads
            threads = int(os.environ.get("OMP_NUM_THREADS") or 1)
            _RUNS[lab] = grading.autograde(
                course, lab, folder, workers=2, threads=threads, echo=print
            )
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
    if not WITH_DELEGATE:
        pytest.skip("COURSE_TEST_NO_DELEGATE=1: this class has no delegating student")
    run = class_run(lab, workspace)
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        grades = list(csv.DictReader(handle))
    assert [row["student"] for row in grades] == ["delegate", "solution", "unchanged"]
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


@pytest.mark.parametrize("lab", LABS)
def test_delegating_to_the_library_earns_nothing(lab, workspace):
    if not WITH_DELEGATE:
        pytest.skip("COURSE_TEST_NO_DELEGATE=1: this class has no delegating student")
    run = class_run(lab, workspace)
    row = next(r for r in run.rows if r["student"] == "delegate")
    parts = delegated_parts(lab)
    assert parts, f"{lab} forbids no library function"
    feedback = (run.feedback_dir / "delegate.html").read_text(encoding="utf-8")
    for part, (name, dotted) in parts.items():
        assert row["scores"][f"{part}_tests"] == 0, (part, row["scores"])
        error = row["errors"].get(f"{part}_tests", "")
        assert error.startswith(f"OwnWorkError: {part}: your `{name}`"), (part, error)
        assert dotted in error and "write it yourself" in error
        assert f"{part}: your `{name}`" in row["reason"]
        assert (
            f"{part}: your <code>{name}</code>" in feedback or f"{part}: your `{name}`" in feedback
        )
    assert "OWN WORK delegate" in grading.summary(run)
