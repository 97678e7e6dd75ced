"""Own work: in a lab's notebook, the library functions the lab asks for refuse the student's code.

Run in a real IPython shell (the kernel of a notebook is one): an answer that is, aliases,
``getattr``s, wraps or partially applies the library's function fails its check with a message
that says so; the checks' own references, the library's internal calls and allowed helpers keep
working; an honest answer passes. The end-to-end grading of a delegating student in every lab is
in ``tests/test_autograde.py``.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import nbformat
import pytest

from course.checks import _own_work

IPython = pytest.importorskip("IPython")


@pytest.fixture
def shell():
    """An IPython shell with lab01's forbidden functions armed; everything restored after."""
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython() or IPython.get_ipython()  # started once per process
    from course.checks import _common, lab01

    # the guard's snapshot of builtins predates this IPython (which sets exit/quit): take it
    # again, as a fresh kernel would
    _common._RECORDS.clear()
    _common._METHODS.clear()
    _common._MODULE_COUNT = -1

    _own_work.forbid(lab01.OWN_WORK, force=True)
    ip.run_cell(
        "import functools, importlib\nimport numpy as np, pydicom\n"
        "from course.checks import lab01 as check\nfrom course.io import dicom\n"
        "from course.datasets import sample_path"
    )
    yield ip
    _own_work.restore()


def run(ip, code: str):
    """The exception a cell raised (None if it ran)."""
    return ip.run_cell(code).error_in_exec


DELEGATIONS = {
    "import": "from course.io.dicom import to_hu",
    "alias": "to_hu = dicom.to_hu",
    "getattr": "to_hu = getattr(importlib.import_module('course.io.dicom'), 'to_hu')",
    "partial": "to_hu = functools.partial(dicom.to_hu)",
    "wrapper": "def to_hu(ds):\n    return dicom.to_hu(ds)",
    "lambda": "to_hu = lambda ds: dicom.to_hu(ds)",
    "swallowed": (
        "def to_hu(ds):\n    try:\n        return dicom.to_hu(ds)\n"
        "    except Exception:\n        return ds.pixel_array.astype(float)"
    ),
}


@pytest.mark.parametrize("how", sorted(DELEGATIONS))
def test_delegation_fails_its_part_with_the_reason(shell, how):
    assert run(shell, DELEGATIONS[how]) is None
    error = run(shell, "check.q1_to_hu(to_hu)")
    assert type(error).__name__ == "OwnWorkError", error
    assert str(error).startswith("q1: your `to_hu`")
    assert "course.io.dicom.to_hu" in str(error) and "write it yourself" in str(error)


def test_honest_answer_passes(shell):
    honest = (
        "def to_hu(ds):\n    stored = ds.pixel_array.astype(np.float64)\n"
        "    return stored * float(getattr(ds, 'RescaleSlope', 1))"
        " + float(getattr(ds, 'RescaleIntercept', 0))"
    )
    assert run(shell, honest) is None
    assert run(shell, "check.q1_to_hu(to_hu)") is None


def test_allowed_helpers_and_internal_calls_still_work(shell):
    # sample_path is allowed; describe() is not forbidden; a library function that calls
    # to_hu internally runs (write_series + load_series would too, but load_series is a part)
    assert run(shell, "path = sample_path('CT_small')\nds = pydicom.dcmread(path)") is None
    assert run(shell, "text = dicom.describe(ds)") is None
    assert run(shell, "from course.io import dicom as d\nassert callable(d.write_series)") is None


def test_a_cell_calling_the_library_directly_is_told(shell):
    error = run(shell, "dicom.window(np.zeros((2, 2)), 40, 400)")
    assert type(error).__name__ == "OwnWorkError"
    assert "a notebook cell calls `course.io.dicom.window`" in str(error)


def test_outside_ipython_nothing_is_changed():
    code = (
        "from course.checks import lab01, _own_work\nfrom course.io import dicom\n"
        "assert _own_work.forbidden() == {}\n"
        "print(dicom.to_hu.__code__.co_filename)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("dicom/values.py")  # the library's code, no trampoline


def test_every_forbidden_function_can_be_enforced():
    labs = sorted(p.stem for p in _lab_modules())
    assert len(labs) >= 7
    try:
        for lab in labs:
            table = importlib.import_module(f"course.checks.{lab}").OWN_WORK
            enforced = _own_work.forbid(table, force=True)
            assert set(table) == set(enforced), lab
            parts = {name.split("_", 1)[0] for name in _check_functions(lab)}
            assert set(table.values()) <= parts, lab  # every entry names a real part
    finally:
        _own_work.restore()


def test_forbid_rejects_a_c_function():
    with pytest.raises(TypeError, match="numpy.add is not a plain Python function"):
        _own_work.forbid({"numpy.add": "q1"}, force=True)


def test_restore_gives_the_code_back():
    from course.io import dicom

    code = dicom.window.__code__
    _own_work.forbid({"course.io.dicom.window": "q2"}, force=True)
    assert dicom.window.__code__ is not code
    _own_work.restore()
    assert dicom.window.__code__ is code and _own_work.forbidden() == {}


# --- a pasted copy of the library ------------------------------------------------------------
def test_a_pasted_copy_is_flagged_for_review():
    from course.grading.scan import library_copies
    from course.io import dicom

    source = inspect.getsource(dicom.to_hu).replace("slope", "s")  # renamed a little
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    found = library_copies(nb, {"course.io.dicom.to_hu": "q1"})
    assert len(found) == 1 and "to_hu is" in found[0] and "course.io.dicom.to_hu" in found[0]


def test_an_honest_answer_is_not_flagged():
    from course.grading.scan import library_copies

    honest = (
        "def to_hu(ds):\n    stored = ds.pixel_array.astype(float)\n"
        "    return stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(honest)])
    assert library_copies(nb, {"course.io.dicom.to_hu": "q1"}) == []


def _lab_modules():
    import course.checks

    folder = inspect.getfile(course.checks).rsplit("/", 1)[0]
    from pathlib import Path

    return sorted(Path(folder).glob("lab*.py"))


def _check_functions(lab: str) -> list[str]:
    module = importlib.import_module(f"course.checks.{lab}")
    return [name for name in dir(module) if name[:1] == "q" and name[1:2].isdigit()]


def test_points_of_the_checks_match_the_notebooks():
    from pathlib import Path

    root = Path(__file__).parents[1]
    for lab in sorted(p.stem for p in _lab_modules()):
        source = next((root / "solutions").glob(f"{lab}_*/{lab}_*.ipynb"))
        points = {}
        for cell in nbformat.read(source, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and str(meta.get("grade_id", "")).endswith("_tests"):
                points[meta["grade_id"].split("_")[0]] = meta["points"]
        module = importlib.import_module(f"course.checks.{lab}")
        assert module.POINTS == points, lab
