"""One class run of lab04_convolution with adversarial submissions (real nbgrader, no mocks).

Every submission below attacks the grader in one way (see COURSE.md section 7 and
``autograder/README.md``); each student's score, status and reason are asserted, plus: no
submission file is modified, the background processes a submission starts are dead after
grading, huge outputs are truncated, feedback never shows the hidden tests, and grading the same
folder again gives the same grades.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
LAB = "lab04_convolution"
pytestmark = pytest.mark.skipif(
    not (ROOT / "solutions" / LAB / f"{LAB}.ipynb").is_file(), reason=f"{LAB} not written yet"
)
sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")

TIMEOUT = 10  # seconds per cell in this class run (the loops below cost this much); the
# slowest cell of the correct submission takes about 1 s
MEMORY_MB = 2048
MARK = "901.375"  # the argument of the `sleep` processes the "background" student leaves


# --- building submissions --------------------------------------------------------------------
def _gid(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _gid(c) == grade_id)


def solved(student_nb, source_nb):
    """The student version with every answer cell filled with the solution (markers removed)."""
    answers = {
        _gid(c): c.source for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = copy.deepcopy(student_nb)
    for cell in nb.cells:
        if _gid(cell) in answers:
            lines = answers[_gid(cell)].splitlines()
            cell.source = "\n".join(line for line in lines if "SOLUTION" not in line)
    return nb


def with_answer(nb, grade_id: str, code: str, *, before: str = ""):
    """Replace the body of an answer cell (keeping its def line) or prepend code to it."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, grade_id)]
    if code:
        header = cell.source.split("\n", 2)[:2]  # def line and docstring
        cell.source = "\n".join([*header, *("    " + line for line in code.splitlines())])
    if before:
        cell.source = before + "\n" + cell.source
    return nb


def with_cell(nb, after: str, source: str):
    """Insert a plain code cell after the cell ``after`` (a grade_id)."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, after) + 1, nbformat.v4.new_code_cell(source))
    return nb


def write(folder: Path, name: str, nb_or_text, filename: str = f"{LAB}.ipynb") -> None:
    path = folder / name / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text, encoding="utf-8")
    else:
        nbformat.write(nb_or_text, path)


ALWAYS_EQUAL = """class AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = None
return AlwaysEqual()"""

EXPECTED = {  # student: (total, status, words that must appear in the reason)
    "correct": (9, "ok", []),
    "renamed": (9, "ok", ["renamed", "Copy1"]),
    "zipped": (9, "ok", []),
    "empty": (0, "no notebook", ["no notebook"]),
    "corrupt": (0, "invalid notebook", ["not a valid notebook"]),
    "ambiguous": (0, "ambiguous", ["several notebooks"]),
    "duplicate": (9, "ok", ["duplicate cell q3_tests"]),
    "loop": (8, "timeout", ["timed out"]),
    "stubborn_loop": (3.5, "timeout", ["timed out", "killed", "later cells not run"]),
    "crash": (3.5, "kernel died", ["kernel died"]),
    "memory_bomb": (8, "memory", ["memory"]),
    "background": (9, "ok", []),
    "huge_output": (9, "ok", []),
    "fake_success": (0, "ok", []),
    "edited_tests": (5.5, "ok", []),
    "always_equal": (7, "ok", []),
    "warnings": (9, "ok", []),
    "patch_allclose": (0, "tampered", ["numpy.allclose"]),
    "patch_assert_allclose": (0, "tampered", ["numpy.testing.assert_allclose"]),
    "patch_torch_allclose": (0, "tampered", ["torch.allclose"]),
    "patch_builtin": (0, "tampered", ["builtins.abs"]),
    "patch_check": (0, "tampered", ["q5_conv2d"]),
    "hijack_ipython": (0, "tampered", ["IPython"]),
}


def build_class(folder: Path, student_nb, source_nb) -> None:
    """The adversarial class: one entry per key of EXPECTED."""
    good = solved(student_nb, source_nb)
    write(folder, "correct", good)
    write(folder, "renamed", good, f"{LAB}-Copy1.ipynb")
    with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:
        archive.writestr(f"lab04/{LAB}.ipynb", nbformat.writes(good))
        archive.writestr("__MACOSX/lab04/._lab04_convolution.ipynb", "junk")
    (folder / "empty").mkdir()
    write(folder, "corrupt", '{"cells": [ this is not JSON')
    write(folder, "ambiguous", good, "first_try.ipynb")
    write(folder, "ambiguous", good, "final.ipynb")

    duplicate = copy.deepcopy(good)
    position = _index(duplicate, "q3_tests")
    pasted = copy.deepcopy(duplicate.cells[position])
    pasted.id = "pasted-copy"
    duplicate.cells.insert(position + 1, pasted)
    write(folder, "duplicate", duplicate)

    write(folder, "loop", with_answer(good, "q2_answer", "", before="while True:\n    pass"))
    stubborn = (
        "import time\n"
        "while True:\n"
        "    try:\n"
        "        time.sleep(0.1)\n"
        "    except BaseException:\n"
        "        pass"
    )
    write(folder, "stubborn_loop", with_answer(good, "q4_answer", "", before=stubborn))
    write(folder, "crash", with_cell(good, "q3_tests", "import os\nos._exit(1)"))
    bomb = "blocks = []\nwhile True:\n    blocks.append(np.ones(10**8))"
    write(folder, "memory_bomb", with_answer(good, "q6_answer", "", before=bomb))
    background = (  # the sandbox hides the host: they are found by their arguments
        "import subprocess\n"
        f"escaped = subprocess.Popen(['sleep', '{MARK}'], start_new_session=True)\n"
        f"child = subprocess.Popen(['sleep', '{MARK}1'])"
    )
    write(folder, "background", with_cell(good, "q1_tests", background))
    write(folder, "huge_output", with_cell(good, "q1_tests", "print('x' * 20_000_000)"))

    fake = copy.deepcopy(student_nb)
    for grade_id in ("q1_tests", "q6_tests"):
        fake = with_cell(
            fake,
            grade_id,
            "from IPython.display import HTML, display\n"
            "print('All tests passed! Score: 9/9')\n"
            "display(HTML('<b style=\"color:green\">PASSED</b>'))",
        )
    write(folder, "fake_success", fake)

    edited = with_answer(good, "q2_answer", "return 0")
    edited = with_answer(edited, "q4_answer", "return np.zeros((1, 1))")
    edited = with_answer(edited, "q6_answer", "return 0")
    q2 = edited.cells[_index(edited, "q2_tests")]
    q2.source = "pass"
    q2.metadata.nbgrader["points"] = 100
    del edited.cells[_index(edited, "q4_tests")]
    q6 = edited.cells[_index(edited, "q6_tests")]
    q6.source = "1.0"
    del q6.metadata["nbgrader"]
    write(folder, "edited_tests", edited)

    equal = with_answer(good, "q2_answer", ALWAYS_EQUAL)
    write(folder, "always_equal", with_answer(equal, "q6_answer", ALWAYS_EQUAL))
    noisy = (
        "import sys, warnings\n"
        "warnings.warn('kernel_size as a tuple is deprecated', DeprecationWarning, stacklevel=2)\n"
        "warnings.warn('this will change', FutureWarning)\n"
        "print('a note on stderr', file=sys.stderr)\n"
        "if isinstance(kernel_size, int):\n"
        "    kernel_size = (kernel_size, kernel_size)\n"
        "return out_channels * (in_channels * kernel_size[0] * kernel_size[1] + int(bias))"
    )
    write(folder, "warnings", with_answer(good, "q6_answer", noisy))

    wrong = with_answer(good, "q5_answer", "return np.zeros(1)")
    patches = {
        "patch_allclose": "np.allclose = lambda *args, **kwargs: True",
        "patch_assert_allclose": "np.testing.assert_allclose = lambda *args, **kwargs: None",
        "patch_torch_allclose": "torch.allclose = lambda *args, **kwargs: True",
        "patch_builtin": "import builtins as b\nb.abs = lambda x: 0",
        "patch_check": "check.q5_conv2d = lambda answer: None",
        "hijack_ipython": (
            "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
        ),
    }
    for name, code in patches.items():
        write(folder, name, with_cell(wrong, "q4_tests", code))


# --- the class run ---------------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _grades(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adversarial")
    course = grading.Course(ROOT, tmp / "workspace")
    released = grading.release(course, [LAB], out=tmp / "released")[0]
    student_nb = nbformat.read(released, as_version=4)
    source_nb = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    folder = tmp / "submissions"
    folder.mkdir()
    build_class(folder, student_nb, source_nb)
    before = _hashes(folder)
    run = grading.autograde(
        course, LAB, folder, workers=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, echo=print
    )
    return {
        "course": course,
        "folder": folder,
        "before": before,
        "run": run,
        "grades": _grades(run.grades_csv),
    }


def test_every_student_has_one_row(class_run):
    assert sorted(class_run["grades"]) == sorted(EXPECTED)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_score_status_and_reason(class_run, student):
    total, status, words = EXPECTED[student]
    row = class_run["grades"][student]
    assert (float(row["total"]), row["status"]) == (total, status), row
    assert float(row["max"]) == 9, row  # points come from the source, not the submission
    for word in words:
        assert word in row["reason"], row


def test_part_scores(class_run):
    grades = class_run["grades"]
    assert grades["edited_tests"]["q2_tests"] == "0"  # edited to `pass`, points set to 100
    assert grades["edited_tests"]["q4_tests"] == "0"  # deleted
    assert grades["edited_tests"]["q6_tests"] == "0"  # metadata stripped, ends in `1.0`
    assert grades["edited_tests"]["q5_tests"] == "3"
    assert grades["loop"]["q2_tests"] == "0" and grades["loop"]["q3_tests"] == "1"
    assert grades["crash"]["q3_tests"] == "1" and grades["crash"]["q4_tests"] == "0"
    assert grades["always_equal"]["q2_tests"] == "0" and grades["always_equal"]["q6_tests"] == "0"


def test_tampering_is_flagged_statically_and_at_run_time(class_run):
    rows = {row["student"]: row for row in class_run["run"].rows}
    for student in ("patch_allclose", "patch_assert_allclose", "patch_torch_allclose"):
        assert any(t.startswith("static:") for t in rows[student]["tamper"]), rows[student]
        assert any(t.startswith("run time") for t in rows[student]["tamper"]), rows[student]
    assert "withheld" in rows["patch_check"]["reason"]
    summary = grading.summary(class_run["run"])
    assert "TAMPERED patch_allclose" in summary


def test_submissions_are_never_modified(class_run):
    assert _hashes(class_run["folder"]) == class_run["before"]


def test_background_processes_are_killed(class_run):
    psutil = pytest.importorskip("psutil")
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if MARK in " ".join(p.info.get("cmdline") or [])
    ]
    assert left == [], f"processes started by a submission are still running: {left}"


def test_huge_output_is_truncated(class_run):
    workspace = class_run["course"].workspace
    graded = workspace / "autograded" / "huge_output" / LAB / f"{LAB}.ipynb"
    assert graded.stat().st_size < 1_000_000
    feedback = class_run["run"].feedback_dir / "huge_output.html"
    assert feedback.stat().st_size < 1_500_000


def test_feedback_for_everyone_without_hidden_tests(class_run):
    feedback_dir = class_run["run"].feedback_dir
    for student in EXPECTED:
        text = (feedback_dir / f"{student}.html").read_text(encoding="utf-8")
        assert "course_hidden" not in text and "HIDDEN TESTS" not in text, student
        assert "hidden." not in re.sub(r"<[^>]+>", "", text), student
    assert "no notebook" in (feedback_dir / "empty.html").read_text(encoding="utf-8")


def test_results_json_and_export(class_run):
    run = class_run["run"]
    data = json.loads(run.results_json.read_text(encoding="utf-8"))
    assert {row["student"] for row in data["rows"]} == set(EXPECTED)
    export = run.grades_csv.parent / "nbgrader_export.csv"
    with open(export, newline="", encoding="utf-8") as handle:
        exported = {row["student_id"] for row in csv.DictReader(handle)}
    assert set(EXPECTED) <= exported  # the roster was registered: every student is there


def test_rerun_reuses_every_result(class_run):
    """The same command again: every result is reused (content hash), grades.csv unchanged."""
    first = class_run["run"].grades_csv.read_text(encoding="utf-8")
    printed = []
    again = grading.autograde(
        class_run["course"],
        LAB,
        class_run["folder"],
        workers=2,
        timeout=TIMEOUT,
        memory_mb=MEMORY_MB,
        echo=printed.append,
    )
    assert again.grades_csv.read_text(encoding="utf-8") == first
    unread = [s for s, (_, status, _) in EXPECTED.items() if status.endswith(("notebook", "ous"))]
    assert "grading 0" in printed[0] and f"reused {len(EXPECTED) - len(unread)}" in printed[0]
    assert _hashes(class_run["folder"]) == class_run["before"]


REGRADED = ("correct", "duplicate", "crash", "edited_tests", "always_equal", "patch_check")


def test_regrading_gives_the_same_grades(class_run, tmp_path):
    """Grading again from scratch (another workspace, nothing reused) gives the same rows."""
    folder = tmp_path / "submissions"
    for student in REGRADED:  # each a folder holding the notebook
        shutil.copytree(class_run["folder"] / student, folder / student)
    course = grading.Course(ROOT, tmp_path / "workspace")
    again = grading.autograde(
        course, LAB, folder, workers=2, timeout=TIMEOUT, memory_mb=MEMORY_MB, echo=None
    )
    regraded = _grades(again.grades_csv)
    assert sorted(regraded) == sorted(REGRADED)
    for student in REGRADED:
        assert regraded[student] == class_run["grades"][student], student


# --- the static scan, on its own (no kernel) -------------------------------------------------
TAMPERING = [
    "import numpy as np\nnp.allclose = lambda *a, **k: True",
    "import numpy\nnumpy.testing.assert_allclose = print",
    "from numpy import testing as npt\nnpt.assert_allclose = print",
    "import torch\nsetattr(torch, 'allclose', lambda *a, **k: True)",
    "import builtins\nbuiltins.isinstance = lambda *a: True",
    "__builtins__.abs = lambda x: 0",
    "import builtins as b\nsetattr(b, 'abs', lambda x: 0)",
    "vars(np)['allclose'] = lambda *a, **k: True",
    "np.__dict__['isclose'] = lambda *a, **k: True",
    "import sys\nsys.modules['course_hidden.lab04'] = object()",
    "check.q1_output_size = lambda f: None",
    "check = None",
    "import course_hidden.lab04 as h\nh.q5_conv2d = lambda f: None",
    "get_ipython().events.register('pre_run_cell', lambda info: None)",
    "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None",
    "import sys\nsys.settrace(lambda *a: None)",
    "from unittest import mock\nmock.patch.object(np, 'allclose', lambda *a: True).start()",
    "import importlib\nimportlib.reload(np)",
    "%time np.allclose = lambda *a, **k: True",
    "torch.nn.functional.conv2d = lambda *a, **k: 0",
    "from course.conv import conv2d\nconv2d.__code__ = (lambda *a: 0).__code__",
]
CLEAN = [
    "import numpy as np\nx = np.allclose([1], [1])\nabs = lambda v: v",
    "import torch\ntorch.backends.cudnn.deterministic = True\ntorch.manual_seed(0)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 4)",
    "def f(x):\n    max = 3\n    return x.sum() + max",
    "model = torch.nn.Linear(2, 2)\nmodel.weight.data = torch.zeros(2, 2)",
    "!ls\nimport os\nos.environ['OMP_NUM_THREADS'] = '1'",
]


@pytest.mark.parametrize("code", TAMPERING)
def test_scan_finds_tampering(code):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    tamper, _review = grading.scan_notebook(nb)
    assert tamper, code


@pytest.mark.parametrize("code", CLEAN)
def test_scan_accepts_ordinary_code(code):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    assert grading.scan_notebook(nb) == ([], []), code


def test_scan_of_the_solution_finds_nothing():
    source = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    assert grading.scan_notebook(source) == ([], [])


# --- the run-time guard, on its own ----------------------------------------------------------
def test_guard_catches_replaced_functions(monkeypatch):
    import numpy as np

    from course.checks import _common

    assert _common.find_tampering() == []
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *args, **kwargs: None)
    monkeypatch.setattr(np, "isclose", np.equal)  # even a genuine function: a comparison
    found = _common.find_tampering()
    assert "numpy.testing.assert_allclose" in found and "numpy.isclose" in found
    with pytest.raises(_common.TamperingError, match="assert_allclose"):
        _common.guard()
    monkeypatch.undo()
    assert _common.find_tampering() == []


def test_guard_catches_notebook_functions_in_course_modules(monkeypatch):
    from course import arithmetic
    from course.checks import _common

    monkeypatch.setattr(arithmetic, "conv_output_size", eval("lambda *a, **k: 0"))
    assert _common.find_tampering() == ["course.arithmetic.conv_output_size"]
    monkeypatch.undo()
    assert _common.find_tampering() == []


def test_guard_accepts_a_library_rebinding_its_own_functions(monkeypatch):
    from course import arithmetic
    from course.checks import _common

    monkeypatch.setattr(arithmetic, "receptive_field", arithmetic.same_padding)
    assert _common.find_tampering() == []


def test_checks_do_not_depend_on_nbgrader_execution():
    sources = [*(ROOT / "course" / "checks").glob("*.py")]
    sources += [*(ROOT / "autograder" / "course_hidden").glob("*.py")]
    for path in sources:
        assert "NBGRADER_EXECUTION" not in path.read_text(encoding="utf-8"), path
