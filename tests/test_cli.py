"""The `course` command: help, clear errors (no traceback, exit code != 0), validate, release."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
LAB = "lab04_convolution"
HAS_LAB = (ROOT / "solutions" / LAB / f"{LAB}.ipynb").is_file()


def course(*args: str, cwd: Path = ROOT, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("COURSE_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "course", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["release", "--help"],
        ["autograde", "--help"],
        ["validate", "--help"],
        ["datasets", "build", "--help"],
    ],
)
def test_help(args):
    result = course(*args)
    assert result.returncode == 0, result.stderr
    assert "usage: course" in result.stdout


def test_doctor_still_works():
    result = course("doctor")
    assert result.returncode == 0, result.stderr
    assert "numpy" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["autograde", "lab99_nothing", "{tmp}"], "unknown lab 'lab99_nothing'"),
        (["autograde", LAB, "{tmp}/missing"], "submissions folder not found"),
        (["autograde", LAB, "{tmp}", "--workers", "0"], "--workers"),
        (["release", "lab99_nothing"], "unknown lab 'lab99_nothing'"),
        (["validate", "{tmp}/missing.ipynb"], "notebook not found"),
        (["validate", "{tmp}/corrupt.ipynb"], "not a valid notebook"),
    ],
)
def test_user_errors_are_clear(tmp_path, args, message):
    if LAB in args and not HAS_LAB:
        pytest.skip(f"{LAB} not written yet")
    (tmp_path / "corrupt.ipynb").write_text("{ not json", encoding="utf-8")
    args = [a.format(tmp=tmp_path) for a in args]
    if args[0] != "validate":
        args += ["--workspace", str(tmp_path / "ws")]
    result = course(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_an_argparse_error():
    result = course("grade-everything")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not HAS_LAB, reason=f"{LAB} not written yet")
def test_release_into_a_folder(tmp_path):
    result = course("release", LAB, "--out", str(tmp_path / "labs"), "--workspace", str(tmp_path))
    assert result.returncode == 0, result.stderr
    released = tmp_path / "labs" / LAB / f"{LAB}.ipynb"
    assert released.is_file()
    assert (tmp_path / "gradebook.db").is_file()  # the gradebook goes to the workspace
    assert "BEGIN SOLUTION" not in released.read_text(encoding="utf-8")


@pytest.mark.skipif(not HAS_LAB, reason=f"{LAB} not written yet")
def test_validate_lists_passing_and_failing_parts(tmp_path):
    """A student's notebook with every answer right except Q2: validate says so."""
    source = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
        if meta.get("grade_id") == "q2_answer":
            cell.source = cell.source.split("### BEGIN SOLUTION")[0].rstrip() + "\n    return 0\n"
    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = course("validate", str(path), "--timeout", "120")
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["pass", "q1_tests"] for line in lines), result.stdout
    assert any(line.split()[:2] == ["FAIL", "q2_tests"] for line in lines), result.stdout
    assert "5/6 parts pass" in result.stdout
    assert path.read_bytes() == before  # validate never modifies the notebook
