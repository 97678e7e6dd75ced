"""Attacks that need no knowledge of a lab, tried on the newest labs (real nbgrader, no mocks).

``tests/test_adversarial.py`` attacks lab04 with a long, hand-written list of submissions. This
module builds a shorter class for any lab from its solution notebook alone, so that every new lab
meets the same attacks: answers that claim to equal anything, the visible checks or the
comparison functions replaced, the test cells edited, the hidden checks' module faked, a
success message printed. Each must earn nothing; the honest solution earns full marks.
"""

from __future__ import annotations

import copy
import csv
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
#: The labs under attack: the newest ones (lab04 has its own suite).
NEWEST = ("lab08_detection", "lab09_attention")
LABS = [lab for lab in NEWEST if (ROOT / "solutions" / lab).is_dir()]
sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")
pytestmark = pytest.mark.skipif(not LABS, reason="the labs under attack are not written yet")

ALWAYS_EQUAL_CLASS = """class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None"""

#: student -> (the code of a cell inserted after the imports, status, words in the reason).
#: Every student but "correct" submits the student version with its answers not written, except
#: "always_equal", whose answers return an object equal to everything.
ATTACKS = {
    "always_equal": (ALWAYS_EQUAL_CLASS, "ok", []),
    "patch_checks": (
        "for _name in dir(check):\n"
        "    if _name.startswith('q'):\n"
        "        setattr(check, _name, lambda *args, **kwargs: None)",
        "tampered",
        ["withheld"],
    ),
    "patch_comparisons": (
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "torch.allclose = lambda *args, **kwargs: True",
        "tampered",
        ["numpy.allclose"],
    ),
    "fake_hidden": (
        "import sys, types\n"
        "class _Pass(types.ModuleType):\n"
        "    def __getattr__(self, name):\n"
        "        return lambda *args, **kwargs: None\n"
        "sys.modules['course_hidden'] = _Pass('course_hidden')\n"
        "for _lab in ('lab08', 'lab09', 'lab10'):\n"
        "    sys.modules['course_hidden.' + _lab] = _Pass('course_hidden.' + _lab)",
        None,
        [],
    ),
    "fake_success": ("print('All checks passed: 10/10')", "ok", []),
    "edited_tests": ("", "ok", []),
}


def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _answers(source_nb) -> dict[str, str]:
    """grade id -> the answer cell's code, markers removed."""
    return {
        _gid(c): "\n".join(line for line in c.source.splitlines() if "SOLUTION" not in line)
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def _always_equal(source: str) -> str:
    """The solution's answer cell with every solution region replaced by ``return AlwaysEqual()``
    (regions at the top level of the cell, values rather than functions, are kept).
    """
    out, inside = [], False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line:
            indent = line[: len(line) - len(line.lstrip())]
            inside = bool(indent)
            if inside:
                out.append(f"{indent}return AlwaysEqual()")
            continue
        if "END SOLUTION" in line:
            inside = False
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)


def build_class(lab: str, folder: Path, student_nb, source_nb) -> None:
    imports = next(i for i, c in enumerate(student_nb.cells) if _gid(c) == "imports")

    def write(name: str, nb) -> None:
        (folder / name).mkdir(parents=True)
        nbformat.write(nb, folder / name / f"{lab}.ipynb")

    correct = copy.deepcopy(student_nb)
    answers = _answers(source_nb)
    for cell in correct.cells:
        cell.source = answers.get(_gid(cell), cell.source)
    write("correct", correct)
    for student, (code, _, _) in ATTACKS.items():
        nb = copy.deepcopy(student_nb)
        if code:
            nb.cells.insert(imports + 1, nbformat.v4.new_code_cell(code))
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if student == "always_equal" and meta.get("solution"):
                source = next(c for c in source_nb.cells if _gid(c) == _gid(cell)).source
                cell.source = _always_equal(source)
            if student == "edited_tests" and meta.get("grade"):
                cell.source = "pass"
                meta["points"] = 100
        write(student, nb)


@pytest.fixture(scope="module", params=LABS)
def attacked(request, tmp_path_factory):
    lab = request.param
    tmp = tmp_path_factory.mktemp(f"attacks-{lab}")
    course = grading.Course(ROOT, tmp / "workspace")
    released = grading.release(course, [lab], out=tmp / "released")[0]
    source_nb = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    folder = tmp / "submissions"
    build_class(lab, folder, nbformat.read(released, as_version=4), source_nb)
    run = grading.autograde(course, lab, folder, workers=2, timeout=60, echo=print)
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    return lab, grades


def test_the_honest_solution_earns_full_marks(attacked):
    lab, grades = attacked
    row = grades["correct"]
    assert float(row["total"]) == float(row["max"]) > 0 and row["status"] == "ok", (lab, row)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_every_attack_earns_nothing(attacked, student):
    lab, grades = attacked
    row = grades[student]
    _, status, words = ATTACKS[student]
    assert float(row["total"]) == 0, (lab, student, row)
    assert float(row["max"]) == float(grades["correct"]["max"]), (lab, row)  # from the source
    if status is not None:
        assert row["status"] == status, (lab, student, row)
    for word in words:
        assert word in row["reason"], (lab, student, row)
