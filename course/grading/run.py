"""Grade a class: one Dask task per student; results gathered into grades, reports, feedback."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from dataclasses import asdict, replace
from pathlib import Path

import nbformat

from .config import _generate, _workspace_lock
from .engine import connect, grade_all
from .intake import Submission, collect_submissions
from .kernel import kill_processes
from .layout import (
    COURSE_ID,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    STATUS_ORDER,
    Course,
    CourseError,
)
from .reports import ClassRun, _export_nbgrader, _rmtree, _write_reports, summary
from .results import ResultStore, import_result
from .sandbox import Limits, choose
from .task import make_bundle, result_key
from .verdict import PartStatus, PartVerdict

__all__ = ["ClassRun", "autograde", "summary"]


# --- a class run -----------------------------------------------------------------------------
def _parts(source_nb) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(grade_id, points) of the autograded test cells and of the manually graded cells."""
    auto, manual = [], []
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        item = (meta["grade_id"], float(meta.get("points", 0)))
        (manual if meta.get("solution") or cell.cell_type != "code" else auto).append(item)
    return auto, manual


def _prepare_workspace(course: Course, lab: str, submissions: list[Submission]) -> None:
    """Write the normalised notebooks into nbgrader's layout; register every student."""
    from nbgrader.api import Gradebook, MissingEntry

    for directory in ("submitted", "autograded", "feedback"):
        for submission in submissions:
            path = course.workspace / directory / submission.student / lab
            if path.exists():
                _rmtree(path)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        for submission in submissions:
            gb.update_or_create_student(submission.student)
            if submission.notebook is None:
                with contextlib.suppress(MissingEntry):
                    gb.remove_submission(lab, submission.student)
    for submission in submissions:
        if submission.notebook is None:
            continue
        folder = course.workspace / "submitted" / submission.student / lab
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission.notebook, folder / f"{lab}.ipynb")


def autograde(
    course: Course,
    lab: str,
    submissions,
    *,
    workers: int = 1,
    scheduler=None,
    timeout: int = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    sandbox: str = "auto",
    limits: Limits | None = None,
    show_hidden: bool = False,
    threads: int | None = None,
    reuse: bool = True,
    echo=print,
) -> ClassRun:
    """Grade a class: every entry of ``submissions`` as its own task on a Dask cluster.

    Parameters
    ----------
    course : Course
    lab : str
        e.g. ``"lab04_convolution"``.
    submissions : path
        A folder with one entry per student: a folder or a ``.zip`` holding the notebook, or the
        notebook itself (see :func:`collect_submissions`). Never modified.
    workers : int
        Worker processes of the local cluster (students graded in parallel here).
    scheduler : str, path or distributed.Client, optional
        Grade on an existing Dask cluster instead (:func:`course.grading.engine.connect`).
    timeout : int
        Seconds per cell.
    memory_mb : int
        Data memory limit of each grading kernel.
    sandbox : {"auto", "bwrap", "landlock", "none"}
        Where each kernel runs (:mod:`course.grading.sandbox`): ``auto`` probes for the
        strongest backend that works here and stops before grading anything if none does;
        ``none`` grades without protection and says so in every row. On a cluster each
        worker probes for it and refuses to grade without it.
    limits : Limits, optional
        CPU time, processes and scratch size per submission (``memory_mb`` sets its memory).
    show_hidden : bool
        Show the hidden tests in the feedback (after the deadline); solutions stay redacted.
    threads : int, optional
        BLAS/OpenMP/PyTorch threads in each grading kernel; default: here, the CPU cores divided
        among the workers; on a cluster, 1.
    reuse : bool
        Reuse the saved result of a submission graded before with the same lab, settings and
        course version (its content hash); False grades everything again.
    echo : callable
        Where the summary goes (``print``; ``None`` for silence and no progress bar).

    Returns
    -------
    ClassRun
        Rows (one per student) as written to ``grades.csv``, and the report paths:
        ``<workspace>/reports/<lab>/grades.csv``, ``results.json``, ``feedback/<student>.html``.
    """
    source_path = course.source(lab)
    folder = Path(submissions)
    if not folder.is_dir():
        raise CourseError(f"submissions folder not found: {folder}")
    if workers < 1 or timeout < 1 or memory_mb < 0 or (threads is not None and threads < 1):
        raise CourseError("--workers, --timeout and threads must be >= 1, --memory-mb >= 0")
    limits = replace(limits or Limits(), memory_mb=int(memory_mb))
    # here, before anything is graded: SandboxError when none works (a cluster's workers probe)
    sandbox = choose(sandbox).name if scheduler is None else sandbox
    started = time.monotonic()
    source_nb = nbformat.read(source_path, as_version=4)
    auto_parts, manual_parts = _parts(source_nb)
    code_cells = sum(1 for c in source_nb.cells if c.cell_type == "code")
    settings = {
        "run": uuid.uuid4().hex[:12],
        "timeout": int(timeout),
        "sandbox": sandbox,
        "limits": asdict(limits),
        "show_hidden": bool(show_hidden),
        "threads": threads or (max(1, (os.cpu_count() or 1) // workers) if not scheduler else 1),
        "limit": int(timeout) * (code_cells + 4) + 300,
    }
    with _workspace_lock(course.workspace):
        subs = collect_submissions(folder, lab, source_nb)
        _generate(course, lab, course.workspace / "release")
        _prepare_workspace(course, lab, subs)
        reports = course.workspace / "reports" / lab
        results = _grade(course, lab, subs, settings, scheduler, workers, reuse, echo)
        kill_processes(settings["run"])  # anything a local grading left behind
        rows = [_row(s, results.get(s.student), auto_parts, manual_parts) for s in subs]
        for row, sub in zip(rows, subs, strict=True):
            row["sandbox"] = (results.get(sub.student) or {}).get("sandbox") or sandbox
        seconds = time.monotonic() - started
        run = _write_reports(course, lab, rows, auto_parts, reports, seconds, show_hidden)
        run.verdicts = {s.student: _part_verdicts(results.get(s.student), auto_parts) for s in subs}
        _export_nbgrader(course, lab, reports / "nbgrader_export.csv")
    if echo is not None:
        echo(summary(run, workers if scheduler is None else None))
    return run


def _grade(course, lab, subs, settings, scheduler, workers, reuse, echo) -> dict[str, dict]:
    """The result of every gradable submission: saved ones reused, the others graded on Dask.

    Each result is saved (under its content hash) and written into the workspace as soon as it
    arrives, here and only here: an interrupted run keeps every result that arrived.
    """
    bundle = make_bundle(course, lab, settings, gradebook=course.workspace / "gradebook.db")
    store = ResultStore(course.workspace, lab)
    logs = course.workspace / "reports" / lab / "logs"
    jobs = {s.student: nbformat.writes(s.notebook).encode() for s in subs if s.notebook}
    keys = {student: result_key(bundle, student, data) for student, data in jobs.items()}
    results = {}
    for student, key in keys.items():
        saved = store.load(key) if reuse else None
        if saved is not None:
            results[student] = import_result(course, lab, student, saved, logs)
    todo = {student: data for student, data in jobs.items() if student not in results}
    if echo is not None and results:
        echo(
            f"{lab}: reused {len(results)} result(s) of an earlier run (same submission, lab, "
            f"settings and course version); grading {len(todo)}"
        )

    def arrived(student: str, result: dict) -> None:
        with _whole_before_interrupt():  # a Ctrl-C now waits until this result is written
            store.save(keys[student], result)
            results[student] = import_result(course, lab, student, result, logs)

    if todo:
        try:
            with connect(scheduler, workers, echo=echo) as client:
                grade_all(client, bundle, todo, arrived, progress=echo is not None)
        except KeyboardInterrupt:
            if echo is not None:
                echo(f"interrupted: {len(results)} result(s) kept; run the command again")
            raise
    return results


@contextlib.contextmanager
def _whole_before_interrupt():
    """Defer Ctrl-C (SIGINT) until the block has finished, then raise ``KeyboardInterrupt``.

    Saving a result touches the result store, the workspace and the gradebook; an interrupt in
    the middle would leave one without the others. Outside the main thread (where Python
    delivers signals), or when SIGINT is ignored (a run started in the background), it does
    nothing.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored or threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(
            signal.SIGINT, previous if previous is not None else signal.default_int_handler
        )
    if pending:
        raise KeyboardInterrupt


def _part_verdicts(result: dict | None, auto_parts) -> dict[str, PartVerdict]:
    """The verdict of each autograded part that has a grade, from a grading process's result.

    The verdicts are the grader's own data (``course_grader["verdicts"]``, written by
    :class:`~course.grading.kernel.CourseExecute`, see :mod:`course.grading.verdict`); one that
    is not a verdict is left out.
    """
    if result is None:
        return {}
    found = {}
    for data in (result.get("grader") or {}).get("verdicts", []):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            verdict = PartVerdict.from_dict(data)
            found[verdict.part] = verdict
    parts = result.get("parts", {})
    return {gid: found[gid] for gid, _ in auto_parts if gid in found and gid in parts}


def _row(submission: Submission, result: dict | None, auto_parts, manual_parts) -> dict:
    """The line of ``grades.csv`` (and details for ``results.json``) of one student."""
    notes = list(submission.notes)
    statuses = {submission.status}
    scores = {gid: 0.0 for gid, _ in auto_parts}
    errors = {}
    tamper = [f"static: {t}" for t in submission.tamper]
    review = [f"static: {r}" for r in submission.review]
    if result is not None:
        statuses.add(result.get("status", "error"))
        notes += result.get("notes", [])
        parts = result.get("parts", {})
        verdicts = _part_verdicts(result, auto_parts)
        for gid, _points in auto_parts:
            part = parts.get(gid)
            if part is None:
                if parts:
                    notes.append(f"{gid}: no grade recorded")
                continue
            scores[gid] = float(part.get("auto") or 0.0)
            if part.get("error"):
                errors[gid] = part["error"]
            if gid in verdicts and verdicts[gid].status is PartStatus.OWN_WORK:
                notes.append(verdicts[gid].detail)
        if not parts and result.get("status") == "ok":
            statuses.add("error")
            notes.append("no grades were recorded")
        grader = result.get("grader") or {}
        _read_events(grader, statuses, notes)
        found_at_run_time = _found_at_run_time(grader, verdicts, review)
        if found_at_run_time:
            tamper.append("run time: " + ", ".join(_dedupe(found_at_run_time))[:300])
    elif submission.notebook is not None:
        statuses.add("error")
        notes.append("not graded")
    raw_total = sum(scores.values())
    if tamper:
        statuses.add("tampered")
        notes.insert(0, "tampered: " + "; ".join(_dedupe(tamper))[:600])
        notes.append(f"autograded score {raw_total:g} withheld")
        scores = {gid: 0.0 for gid in scores}
    if review:
        statuses.add("review")
        notes.append("review: " + "; ".join(_dedupe(review))[:400])
    status = next(s for s in STATUS_ORDER if s in statuses)
    return {
        "student": submission.student,
        "scores": scores,
        "total": sum(scores.values()),
        "max": sum(p for _, p in auto_parts),
        "manual_max": sum(p for _, p in manual_parts),
        "status": status,
        "reason": "; ".join(_dedupe(notes)),
        "errors": errors,
        "found": submission.found,
        "entries": submission.entries,
        "tamper": _dedupe(tamper),
        "review": _dedupe(review),
        "feedback_source": (result or {}).get("feedback"),
        "seconds": (result or {}).get("seconds"),
        "worker": (result or {}).get("worker"),
    }


def _read_events(grader: dict, statuses: set[str], notes: list[str]) -> None:
    """Add the statuses and notes of what happened to the kernel (``course_grader["events"]``)."""
    for event in grader.get("events", []):
        kind = event.get("event")
        if kind == "kernel died":
            statuses.add("memory" if event.get("memory") else "kernel died")
            notes.append(f"{event.get('detail')} in cell {event.get('cell')}; later cells not run")
        elif kind == "timeout":
            statuses.add("timeout")
            what = "killed, later cells not run" if event.get("killed") else "interrupted"
            notes.append(f"cell {event.get('cell')} timed out ({what})")
        elif kind == "memory":
            statuses.add("memory")
            notes.append(f"cell {event.get('cell')} ran out of memory (MemoryError)")
        elif kind == "kernel failed":
            statuses.add("error")
            notes.append(event.get("detail", "the kernel failed"))
        elif kind == "processes killed":
            notes.append("processes left running by the notebook were killed")


def _found_at_run_time(grader: dict, verdicts: dict[str, PartVerdict], review: list[str]):
    """The tampering found at run time: by the integrity probe and in the TAMPERED parts.

    A probe that did not report is added to ``review``. Both come from inside the kernel, which
    belongs to the student: they can only take points away (a tampered submission scores 0),
    never give any.

    Returns
    -------
    list of str
        The names of the replaced functions (or hooks), probe's first.
    """
    found = []
    probe = grader.get("probe")
    if probe and probe.get("ran"):
        found += probe.get("problems", [])
    elif probe is not None and not grader.get("dead"):
        review.append(f"the integrity probe did not report ({probe.get('detail', '')})")
    for gid, verdict in verdicts.items():
        if verdict.status is PartStatus.TAMPERED:
            # no record (the kernel's hook was removed): the part still counts as tampered
            found += verdict.names or [f"TamperingError in {gid}"]
    return found


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
