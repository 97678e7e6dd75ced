"""The committed student versions (notebooks/labs/) are exactly what `course release` generates,
and contain no solution and no hidden test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
SOURCES = sorted(p.parent.name for p in (ROOT / "solutions").glob("lab*/lab*.ipynb"))
STUDENT = ROOT / "notebooks" / "labs"
# nbgrader's solution and hidden-test markers, and the name of the hidden checks' package
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "course_hidden")
sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema


def _released(lab: str) -> Path:
    return STUDENT / lab / f"{lab}.ipynb"


def _skip_unreleased(lab: str) -> None:
    if not _released(lab).is_file():
        pytest.skip(f"{lab} has no student version yet (run: course release {lab})")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Every released lab generated again from solutions/ into a temporary folder."""
    grading = pytest.importorskip("course.grading")
    labs = [lab for lab in SOURCES if _released(lab).is_file()]
    if not labs:
        pytest.skip("no lab released yet")
    tmp = tmp_path_factory.mktemp("release")
    course = grading.Course(ROOT, tmp / "workspace")
    grading.release(course, labs, out=tmp / "labs")
    return tmp / "labs"


@pytest.mark.parametrize("lab", SOURCES)
def test_student_version_is_regenerated_exactly(regenerated, lab):
    _skip_unreleased(lab)
    fresh = (regenerated / lab / f"{lab}.ipynb").read_bytes()
    assert fresh == _released(lab).read_bytes(), (
        f"notebooks/labs/{lab} differs from what solutions/{lab} generates: run `make release`"
    )


@pytest.mark.parametrize("lab", SOURCES)
def test_student_version_has_no_solution_and_no_hidden_test(lab):
    _skip_unreleased(lab)
    text = _released(lab).read_text(encoding="utf-8")
    for leak in LEAKS:
        assert leak not in text, f"{lab}: the student version contains {leak!r}"
    student = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nbformat.read(_released(lab), as_version=4).cells
        if "nbgrader" in c.metadata
    }
    source = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        inside, solution_lines = False, []
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                solution_lines.append(line.strip())
        released = student[meta["grade_id"]].source
        for line in solution_lines:
            assert line not in released, f"{lab}/{meta['grade_id']}: solution code {line!r}"
        if cell.cell_type == "code":
            assert "raise NotImplementedError()" in released


def test_no_student_version_without_a_source():
    released = sorted(p.parent.name for p in STUDENT.glob("lab*/lab*.ipynb"))
    assert set(released) <= set(SOURCES), "a student version has no source in solutions/"


def test_nbgrader_commands_run_from_the_autograder_folder(tmp_path):
    """`cd autograder && nbgrader ...` loads the course's configuration (the instructor's guide
    relies on it) and creates the gradebook in a workspace folder that does not exist yet.
    """
    import os
    import subprocess

    pytest.importorskip("nbgrader")
    workspace = tmp_path / "new" / "workspace"
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "COURSE_WORKSPACE": str(workspace)}
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "db", "assignment", "list"],
        cwd=ROOT / "autograder",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "assignments in the database" in result.stdout
    assert (workspace / "gradebook.db").is_file()
