"""Short feedback from the lab checks (course.checks._feedback) and from `course validate`.

The notebook tests run cells in a real IPython InteractiveShell, in a fresh Python process (as a
kernel would: the shell exists before the checks are imported), and look at what each cell
shows: one line for a failing or unanswered check, a confirmation for a passing one, IPython's
usual traceback for the student's own errors, the full traceback with COURSE_CHECK_VERBOSE=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from course.checks import _feedback
from course.checks._feedback import confirmation, install, passed, reporting

ROOT = Path(__file__).parents[1]
STUDENT_LAB01 = ROOT / "notebooks" / "labs" / "lab01_images" / "lab01_images.ipynb"

# Runs the cells given on stdin (a JSON list) in an InteractiveShell; prints, after a marker,
# each cell's output and the name of the error it ended with.
SESSION = r"""
import json, sys, types
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

config = Config()
config.HistoryManager.enabled = False
config.InteractiveShell.colors = "nocolor"
shell = InteractiveShell.instance(config=config, user_module=types.ModuleType("__notebook__"))
results = []
for cell in json.load(sys.stdin):
    with capture_output() as captured:
        error = shell.run_cell(cell).error_in_exec
    results.append({"output": captured.stdout + captured.stderr,
                    "error": None if error is None else type(error).__name__})
print("--- results ---")
print(json.dumps(results))
"""

# A lab's check module in miniature, with the check's source in a "<course hidden ...>" file
# as the grader loads the hidden checks: `reporting` wraps it, POINTS gives the points.
FAKE_LAB = '''
import types
from course.checks import reporting

fake = types.ModuleType("fake_lab")
source = """
def q1_double(double):
    reference = 2 * 21
    if double(21) != reference:
        raise AssertionError(f"double(21) should be {reference}, got {double(21)}")
"""
exec(compile(source, "<course hidden fake_lab>", "exec"), fake.__dict__)
fake.POINTS = {"q1": 2}
fake = reporting(fake)
'''

CELLS = {
    "import": "from course.checks import lab01 as check",
    "stub": "def to_hu(ds):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "unanswered": "check.q1_to_hu(to_hu)",
    "ints": "def to_hu(ds):\n    return ds.pixel_array",
    "failing": "check.q1_to_hu(to_hu)",
    "typo": "def to_hu(ds):\n    return ds.pixel_array * float(ds.RescaleSlpe)",
    "crashing": "check.q1_to_hu(to_hu)",
    "own_assert": "def to_hu(ds):\n    assert ds.Rows == 3, 'my own test'\n    return ds.Rows",
    "own_assert_in_check": "check.q1_to_hu(to_hu)",
    "elsewhere": "def helper():\n    assert 1 == 2, 'mine, elsewhere'\n\nhelper()",
    "not_done_elsewhere": "def later():\n    raise NotImplementedError()\n\nlater()",
    "check_helper": "from course.checks import as_array\nas_array(None, 'my array')",
    "fake_lab": FAKE_LAB,
    "passing": "fake.q1_double(lambda x: 2 * x)",
    "fake_failing": "fake.q1_double(lambda x: x)",
    "no_points": "del fake.POINTS\nfake.q1_double(lambda x: 2 * x)",
    "verbose_on": "%env COURSE_CHECK_VERBOSE=1",
    "ints_again": "def to_hu(ds):\n    return ds.pixel_array",
    "verbose": "check.q1_to_hu(to_hu)",
}


@pytest.fixture(scope="module")
def notebook():
    """Each cell of CELLS run in order: {name: {"output": text, "error": name or None}}."""
    env = dict(os.environ)
    env.pop("COURSE_CHECK_VERBOSE", None)
    result = subprocess.run(
        [sys.executable, "-c", SESSION],
        input=json.dumps(list(CELLS.values())),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.split("--- results ---\n")[-1])
    return dict(zip(CELLS, results, strict=True))


def lines(cell: dict) -> list[str]:
    return cell["output"].strip().splitlines()


def test_the_setup_cells_run_quietly(notebook):
    for name in ("import", "stub", "ints", "fake_lab"):
        assert notebook[name] == {"output": "", "error": None}, name


def test_a_failing_check_shows_its_message_alone(notebook):
    cell = notebook["failing"]
    assert cell["error"] == "AssertionError"  # still an error for the notebook and the grader
    assert lines(cell) == [
        "q1 failed: to_hu(CT_small.dcm (slope 1, -1024)) should hold floating-point numbers, "
        "got dtype int16 (return floats, e.g. with .astype(np.float64); in to_hu, convert "
        "before multiplying)"
    ]
    for hidden in ("reference =", "Traceback", "lab01.py", "_common.py", "check_to_hu"):
        assert hidden not in cell["output"]


def test_a_crash_of_the_answer_names_the_students_line(notebook):
    cell = notebook["crashing"]
    assert cell["error"] == "AssertionError"
    first, second = lines(cell)
    assert first.startswith("q1 failed: to_hu(CT_small.dcm (slope 1, -1024)) raised AttributeError")
    assert second == "  at line 2 of `to_hu`: return ds.pixel_array * float(ds.RescaleSlpe)"


def test_an_unanswered_part_says_so_in_one_line(notebook):
    cell = notebook["unanswered"]
    assert cell["error"] == "NotImplementedError"
    assert lines(cell) == [
        "q1 not answered yet: replace `raise NotImplementedError()` in the answer cell with "
        "your code (in `to_hu`)"
    ]


def test_an_error_of_the_students_code_in_a_check_shows_only_the_students_frames(notebook):
    cell = notebook["own_assert_in_check"]
    assert cell["error"] == "AssertionError"
    assert lines(cell)[0] == "q1: your code raised AssertionError while the check ran it:"
    assert "assert ds.Rows == 3, 'my own test'" in cell["output"]
    assert "AssertionError: my own test" in cell["output"]
    for hidden in ("reference =", "lab01.py", "_common.py", "check_to_hu"):
        assert hidden not in cell["output"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("elsewhere", "AssertionError: mine, elsewhere"),
        ("not_done_elsewhere", "NotImplementedError:"),
    ],
)
def test_errors_outside_the_checks_keep_the_usual_traceback(notebook, name, expected):
    cell = notebook[name]
    assert cell["error"] == expected.split(":")[0]
    assert "Traceback (most recent call last)" in cell["output"]
    assert lines(cell)[-1] == expected
    assert "failed" not in cell["output"] and "not answered" not in cell["output"]


def test_an_error_of_a_check_helper_outside_a_part_is_one_line_too(notebook):
    cell = notebook["check_helper"]
    assert cell["error"] == "AssertionError"
    assert lines(cell) == ["AssertionError: my array should be an array of numbers, got NoneType"]


def test_a_passing_check_confirms_with_its_points(notebook):
    assert notebook["passing"] == {
        "output": "q1 passed the visible checks (2 points; hidden checks run at grading)\n",
        "error": None,
    }
    assert notebook["no_points"] == {
        "output": "q1 passed the visible checks; hidden checks run at grading\n",
        "error": None,
    }


def test_a_failing_wrapped_check_does_not_confirm(notebook):
    cell = notebook["fake_failing"]
    assert cell["error"] == "AssertionError"
    assert lines(cell) == ["q1 failed: double(21) should be 42, got 21"]


def test_verbose_variable_brings_the_full_traceback_back(notebook):
    cell = notebook["verbose"]
    assert cell["error"] == "AssertionError"
    assert "Traceback (most recent call last)" in cell["output"]
    assert "lab01.py" in cell["output"] and "_float_array" in cell["output"]
    assert len(lines(cell)) > 10


# --- outside IPython: nothing is installed, nothing is printed -------------------------------
@pytest.fixture
def outside_ipython(monkeypatch):
    """As in plain Python, even if another test started an IPython shell in this process."""
    monkeypatch.delitem(sys.modules, "IPython", raising=False)


def test_confirmation_sentence():
    assert confirmation("q1", 2) == (
        "q1 passed the visible checks (2 points; hidden checks run at grading)"
    )
    assert confirmation("q4", 1.5) == (
        "q4 passed the visible checks (1.5 points; hidden checks run at grading)"
    )
    assert confirmation("q2", 1).startswith("q2 passed the visible checks (1 point;")
    assert confirmation("q3") == "q3 passed the visible checks; hidden checks run at grading"


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((1, 2), TypeError, "part"),
        (("", 2), ValueError, "part"),
        (("q1", "2"), TypeError, "points"),
        (("q1", True), TypeError, "points"),
        (("q1", -1), ValueError, "points"),
        (("q1", float("nan")), ValueError, "points"),
    ],
)
def test_confirmation_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        confirmation(*args)


def fake_lab() -> types.ModuleType:
    module = types.ModuleType("fake_lab")
    source = (
        "def q1_double(double):\n"
        "    '''double(x) == 2 x.'''\n"
        "    assert double(21) == 42, 'double(21) should be 42'\n"
        "    return 'checked'\n"
        "def helper(x):\n"
        "    return x\n"
        "def _q2_private(x):\n"
        "    return x\n"
    )
    exec(compile(source, "<course hidden fake_lab>", "exec"), module.__dict__)
    return module


def test_reporting_wraps_the_part_functions_only(capsys, outside_ipython):
    module = fake_lab()
    helper, private = module.helper, module._q2_private
    assert reporting(module) is module
    wrapped = module.q1_double
    assert wrapped.__name__ == "q1_double" and wrapped.__doc__ == "double(x) == 2 x."
    assert module.helper is helper and module._q2_private is private
    reporting(module)
    assert module.q1_double is wrapped  # not wrapped twice
    assert module.q1_double(lambda x: 2 * x) == "checked"
    with pytest.raises(AssertionError, match="should be 42"):
        module.q1_double(lambda x: x)
    passed("q1", 2)
    assert capsys.readouterr().out == ""  # not IPython: nothing printed


def test_reporting_rejects_a_non_module():
    with pytest.raises(TypeError, match="module"):
        reporting({"q1_double": print})


class StubShell:
    """What install() needs of an IPython shell."""

    def __init__(self, custom_exceptions=()):
        self.custom_exceptions = custom_exceptions

    def set_custom_exc(self, exc_tuple, handler):
        self.custom_exceptions, self.handler = exc_tuple, handler


def test_install_only_in_ipython_and_never_over_another_handler(outside_ipython):
    assert install() is False  # no IPython shell
    shell = StubShell()
    assert install(shell) is True
    assert shell.custom_exceptions == (AssertionError, NotImplementedError)
    assert shell.handler is _feedback._show
    assert install(shell) is True  # again: same handler
    other = StubShell((KeyError,))
    assert install(other) is False and other.custom_exceptions == (KeyError,)


# --- course validate -------------------------------------------------------------------------
from test_cli import course  # noqa: E402 - the same helper as the CLI's tests


@pytest.mark.skipif(not STUDENT_LAB01.is_file(), reason="lab01 not released yet")
def test_validate_says_not_answered_yet(tmp_path):
    """The student version as released: every part still has its stub."""
    path = tmp_path / STUDENT_LAB01.name
    path.write_bytes(STUDENT_LAB01.read_bytes())
    result = course("validate", str(path))
    assert result.returncode == 1, (result.stdout, result.stderr)
    parts = [line.split() for line in result.stdout.splitlines() if "_tests" in line]
    assert parts and all(p[0] == "FAIL" and p[-3:] == ["not", "answered", "yet"] for p in parts)
    assert "  FAIL  q1_tests  2 pt  not answered yet" in result.stdout.splitlines()
    output = result.stdout + result.stderr
    for noise in ("NotImplementedError", "without encryption", "Ctrl-C", "--existing"):
        assert noise not in output


def test_validate_verbose_shows_whole_messages(tmp_path):
    test_cell = nbformat.v4.new_code_cell(
        'raise AssertionError("first line of the message\\nsecond line of the message")'
    )
    test_cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "q1_tests",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    path = tmp_path / "lab.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[test_cell]), path)
    short = course("validate", str(path))
    assert "AssertionError: first line of the message" in short.stdout
    assert "second line" not in short.stdout and "--verbose shows them whole" in short.stdout
    verbose = course("validate", str(path), "--verbose")
    assert verbose.returncode == 1, (verbose.stdout, verbose.stderr)
    assert "        second line of the message" in verbose.stdout.splitlines()
