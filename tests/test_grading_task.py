"""The grading task's temporary folders: those a killed worker leaves are swept, others kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

task = pytest.importorskip("course.grading.task")


def _dead_pid() -> int:
    """The process id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _folder(tmp_path, name, owner=None, read_only=False):
    folder = tmp_path / f"{task.TMP_PREFIX}{name}"
    (folder / "workspace" / "autograded").mkdir(parents=True)
    (folder / "workspace" / "autograded" / "nb.ipynb").write_text("{}", encoding="utf-8")
    if owner is not None:
        (folder / task.OWNER_FILE).write_text(str(owner), encoding="ascii")
    if read_only:  # nbgrader makes graded folders read-only
        os.chmod(folder / "workspace" / "autograded", 0o500)
    return folder


def test_a_dead_workers_folder_is_removed_even_read_only(tmp_path):
    stale = _folder(tmp_path, "dead", owner=_dead_pid(), read_only=True)
    assert task.sweep_stale_folders(tmp_path) == [stale]
    assert not stale.exists()


def test_live_unowned_and_foreign_folders_are_kept(tmp_path):
    live = _folder(tmp_path, "live", owner=os.getpid())
    setting_up = _folder(tmp_path, "new")  # no owner file yet
    garbage = _folder(tmp_path, "garbage")
    (garbage / task.OWNER_FILE).write_text("not a pid", encoding="ascii")
    other = tmp_path / "someone-else-123"
    other.mkdir()
    (other / task.OWNER_FILE).write_text(str(_dead_pid()), encoding="ascii")
    assert task.sweep_stale_folders(tmp_path) == []
    assert all(p.is_dir() for p in (live, setting_up, garbage, other))
