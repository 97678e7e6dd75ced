"""Grading a class on Dask: one engine for this machine and for a cluster (real runs, no mocks).

- a class graded by a LocalCluster of 2 workers (through a client the caller made, as with
  dask-jobqueue or Dask Gateway) gets the grades it gets with 1 worker (the default path);
- a scheduler and two workers started as separate ``dask`` processes on 127.0.0.1, used through
  ``--scheduler``: a worker killed while it grades a student sends the task to another worker
  (the student still gets full marks), a submission whose task killed two workers gets 0 with
  "crashed the grader twice", and the gradebook holds each student once;
- an interrupted class run, run again, reuses the results that arrived and grades the rest;
- a task needs nothing but its bundle: the course folder it came from can be gone.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LAB = "lab01_images"
sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")
pytest.importorskip("distributed")

from course.grading import engine, task  # noqa: E402
from course.grading.results import ResultStore  # noqa: E402


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> dict[str, bytes]:
    """The lab's solution (full marks) and its student version (0), as bytes."""
    folder = tmp_path_factory.mktemp("released")
    course = grading.Course(ROOT, folder / "workspace")
    student = grading.release(course, [LAB], out=folder / "labs")[0]
    source = ROOT / "solutions" / LAB / f"{LAB}.ipynb"
    return {"solution": source.read_bytes(), "unchanged": student.read_bytes()}


def make_class(folder: Path, students: dict[str, bytes]) -> Path:
    for student, data in students.items():
        (folder / student).mkdir(parents=True)
        (folder / student / f"{LAB}.ipynb").write_bytes(data)
    return folder


def grades(run) -> dict[str, tuple[float, str]]:
    return {row["student"]: (row["total"], row["status"]) for row in run.rows}


def gradebook_submissions(workspace: Path) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gb:
        return sorted(s.student.id for s in gb.find_assignment(LAB).submissions)


def test_two_local_workers_give_the_grades_of_one(tmp_path, notebooks):
    students = {
        "ana": notebooks["solution"],
        "ben": notebooks["unchanged"],
        "eve": notebooks["solution"],
    }
    folder = make_class(tmp_path / "class", students)
    from distributed import Client, LocalCluster

    runs = {1: grading.autograde(grading.Course(ROOT, tmp_path / "ws1"), LAB, folder, echo=None)}
    # 2 workers through a client the caller made (as with dask-jobqueue or Dask Gateway)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            course = grading.Course(ROOT, tmp_path / "ws2")
            runs[2] = grading.autograde(course, LAB, folder, scheduler=client, echo=None)
            assert client.status == "running"  # the caller's client is left open
    assert grades(runs[1]) == grades(runs[2])
    full = runs[1].rows[0]["max"]
    assert grades(runs[2]) == {"ana": (full, "ok"), "ben": (0.0, "ok"), "eve": (full, "ok")}
    assert gradebook_submissions(tmp_path / "ws2") == ["ana", "ben", "eve"]


# --- a cluster of separate processes ------------------------------------------------------------
@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2):
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1; yields the scheduler file."""
    scheduler_file = folder / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    dask = [sys.executable, "-m", "dask"]
    processes = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(scheduler_file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(workers):
            processes.append(
                subprocess.Popen(
                    [*dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1"]
                    + ["--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            engine.wait_for_workers(client, workers)
        yield scheduler_file
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class WorkerKiller:
    """Kills the worker process that is grading a given student (``times`` times over)."""

    def __init__(self, scheduler_file: Path, targets: dict[str, int]) -> None:
        from distributed import Client

        self.client = Client(scheduler_file=str(scheduler_file), timeout="60s")
        self.left = dict(targets)
        self.killed: list[tuple[str, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        seen: set[tuple[str, str]] = set()
        while not self.stop.is_set() and any(self.left.values()):
            with contextlib.suppress(Exception):
                for address, keys in self.client.processing().items():
                    for student, left in self.left.items():
                        key = f"grade-{LAB}-{student}"
                        if left and key in keys and (address, student) not in seen:
                            time.sleep(1.0)  # let the grading process start
                            pid = self.client.run(os.getpid, workers=[address])[address]
                            os.kill(pid, signal.SIGKILL)
                            seen.add((address, student))
                            self.left[student] -= 1
                            self.killed.append((student, f"{address} pid {pid}"))
            time.sleep(0.2)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.client.close()


def test_a_killed_worker_loses_nothing_and_a_crasher_gets_zero(tmp_path, notebooks):
    students = {
        "ana": notebooks["solution"],
        "ben": notebooks["unchanged"],
        "crasher": notebooks["solution"],  # full marks, if its grading did not kill workers
        "victim": notebooks["solution"],
    }
    folder = make_class(tmp_path / "class", students)
    course = grading.Course(ROOT, tmp_path / "workspace")
    with dask_cluster(tmp_path) as scheduler_file:
        killer = WorkerKiller(scheduler_file, {"victim": 1, "crasher": 2})
        try:
            run = grading.autograde(course, LAB, folder, scheduler=str(scheduler_file), echo=None)
        finally:
            killer.close()
    assert [s for s, _ in killer.killed].count("crasher") == 2, killer.killed
    assert [s for s, _ in killer.killed].count("victim") == 1, killer.killed
    full = run.rows[0]["max"]
    rows = {row["student"]: row for row in run.rows}
    reasons = {row["student"]: (row["reason"], row["worker"]) for row in run.rows}
    reasons["killed"] = killer.killed
    assert grades(run) == {
        "ana": (full, "ok"),
        "ben": (0.0, "ok"),
        "crasher": (0.0, "crashed"),
        "victim": (full, "ok"),
    }, reasons
    assert "crashed the grader twice" in rows["crasher"]["reason"]
    # one writer: every student once in the gradebook, grades.csv and the saved results
    assert gradebook_submissions(course.workspace) == ["ana", "ben", "victim"]
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        assert [r["student"] for r in csv.DictReader(handle)] == sorted(students)
    assert len(list((course.workspace / "results" / LAB).glob("*.json"))) == 4


def test_an_interrupted_run_is_resumed(tmp_path, notebooks):
    students = {"ana": notebooks["solution"], "ben": notebooks["unchanged"]}
    students["cat"] = notebooks["solution"]
    folder = make_class(tmp_path / "class", students)
    workspace = tmp_path / "workspace"
    results = workspace / "results" / LAB
    command = [sys.executable, "-m", "course", "autograde", LAB, str(folder)]
    process = subprocess.Popen(
        [*command, "--workers", "1", "--workspace", str(workspace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a pytest-xdist worker ignores SIGINT, and its children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while not list(results.glob("*.json")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)  # Ctrl-C after the first result arrived
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "interrupted" in err, err[-2000:]
    kept = {p.name: p.read_text() for p in results.glob("*.json")}
    assert 1 <= len(kept) < 3, sorted(kept)
    printed = []
    course = grading.Course(ROOT, workspace)
    run = grading.autograde(course, LAB, folder, workers=1, echo=printed.append)
    assert f"reused {len(kept)} result(s)" in printed[0], printed[0]
    assert f"grading {3 - len(kept)}" in printed[0]
    for name, text in kept.items():  # reused, not graded again
        assert (results / name).read_text() == text
    full = run.rows[0]["max"]
    assert grades(run) == {"ana": (full, "ok"), "ben": (0.0, "ok"), "cat": (full, "ok")}
    assert gradebook_submissions(workspace) == ["ana", "ben", "cat"]


# --- the task alone -----------------------------------------------------------------------------
def _settings(**change) -> dict:
    settings = {
        "run": "test",
        "timeout": 120,
        "sandbox": "auto",
        "limits": dataclasses.asdict(grading.Limits()),
        "show_hidden": False,
        "threads": 1,
        "limit": 3000,
    }
    return {**settings, **change}


def test_a_task_needs_only_its_bundle(tmp_path, notebooks):
    """The bundle carries the lab and its hidden checks: the course folder can be deleted."""
    copy = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", copy / "solutions")
    shutil.copytree(ROOT / "autograder" / "course_hidden", copy / "autograder" / "course_hidden")
    bundle = task.make_bundle(grading.Course(copy, tmp_path / "ws"), LAB, _settings())
    assert any(name.startswith("autograder/course_hidden/") for name in bundle.files)
    shutil.rmtree(copy)
    result = task.grade_task(bundle, "ana", notebooks["solution"])
    assert result["status"] == "ok", result["notes"]
    parts = result["parts"]
    assert parts and all(p["auto"] == p["max"] for p in parts.values() if not p["manual"])
    assert json.loads(result["autograded"])["cells"]
    assert "<html" in result["feedback_html"].lower()
    assert "course_hidden" not in result["feedback_html"]


def test_a_worker_with_another_course_version_refuses(tmp_path, notebooks):
    bundle = task.make_bundle(grading.Course(ROOT, tmp_path), LAB, _settings())
    other = dataclasses.replace(bundle, course_digest="0" * 64)
    result = task.grade_task(other, "ana", notebooks["solution"])
    assert result["status"] == "error" and result["retry"]
    assert "another version of the course package" in result["notes"][0]


def test_the_result_key_follows_content_settings_and_student(tmp_path):
    course = grading.Course(ROOT, tmp_path)
    bundle = task.make_bundle(course, LAB, _settings())
    key = task.result_key(bundle, "ana", b"{}")
    again = task.make_bundle(course, LAB, _settings(run="other"))  # another run, same grading
    assert key == task.result_key(again, "ana", b"{}")
    assert key != task.result_key(bundle, "ana", b"{ }")
    assert key != task.result_key(bundle, "ben", b"{}")
    longer = task.make_bundle(course, LAB, _settings(timeout=121))
    assert key != task.result_key(longer, "ana", b"{}")


def test_result_store_keeps_results_but_not_the_graders_failures(tmp_path):
    store = ResultStore(tmp_path, LAB)
    store.save("a", {"student": "ana", "status": "ok"})
    store.save("b", task.failed("ben", "the grading task failed", retry=True))
    store.save("c", {"student": "cat", "status": "crashed"})
    assert store.load("a")["status"] == "ok"
    assert store.load("b") is None  # the grader's failure: graded again
    assert store.load("c")["status"] == "crashed"  # the submission's: kept
    (store.folder / "d.json").write_text("{not json")
    assert store.load("d") is None and store.load("missing") is None


def test_ctrl_c_while_a_result_is_saved_waits_for_it():
    from course.grading.run import _whole_before_interrupt

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    try:
        done = []
        with pytest.raises(KeyboardInterrupt):
            with _whole_before_interrupt():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the signal is delivered here and deferred
                done.append("saved")
        assert done == ["saved"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # a run started in the background ignores SIGINT: it still does
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with _whole_before_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
