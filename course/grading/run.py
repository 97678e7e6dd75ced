"""Grade a class: one process per student, results gathered into grades, reports, feedback."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from .config import _generate, _nbgrader_log, _workspace_lock, nbgrader_config
from .intake import Submission, collect_submissions
from .kernel import _become_subreaper, kill_processes, secret_lines
from .layout import (
    COURSE_ID,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    STATUS_ORDER,
    Course,
    CourseError,
)
from .sandbox import Limits, choose
from .verdict import PartStatus, PartVerdict


def _worker_main(args: dict | None = None) -> None:
    """Body of a grading process: grade one student, report, clean up (never raises)."""
    if args is None:  # started as `python -c ... JSON`
        args = json.loads(sys.argv[1])
    _become_subreaper()
    result = {"student": args["student"], "status": "error", "notes": []}
    try:
        result = _grade_in_process(**args)
    except BaseException as error:  # noqa: BLE001 - report anything, never lose the row
        result["notes"].append(f"grading failed: {type(error).__name__}: {error}"[:500])
    finally:
        kill_processes(args.get("token"), descendants=True)
        path = Path(args["result"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
        tmp.replace(path)


def _forked_worker(args: dict, env: dict, log: str) -> None:
    """A grading process forked from the fork server: own session, log, environment."""
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(args["root"])
    for path in reversed(env["PYTHONPATH"].split(os.pathsep)):
        if path and path not in sys.path:
            sys.path.insert(0, path)
    _worker_main(args)


_FORK_SERVER = None


def _fork_server():
    """A multiprocessing context whose server has imported nbgrader once (POSIX), or None.

    Each student is still graded in its own process (forked from that server): the import of
    nbgrader and its dependencies (about 1.5 s of CPU) is paid once per class, not per student.
    ``COURSE_GRADER_SPAWN=subprocess`` starts a fresh interpreter per student instead.
    """
    global _FORK_SERVER
    if os.environ.get("COURSE_GRADER_SPAWN") == "subprocess" or os.name != "posix":
        return None
    if _FORK_SERVER is None:
        import multiprocessing

        try:
            context = multiprocessing.get_context("forkserver")
        except ValueError:  # pragma: no cover - no fork server on this platform
            return None
        context.set_forkserver_preload(
            ["course.grading", "nbgrader.converters", "nbgrader.api", "nbconvert.exporters"]
        )
        _FORK_SERVER = context
    return _FORK_SERVER


def _grade_in_process(
    root, workspace, lab, student, result, timeout, threads, token, sandbox, bwrap, limits, show
) -> dict:
    """Autograde one student and generate its feedback; return what happened."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    course = Course(Path(root), Path(workspace))
    config = nbgrader_config(
        course,
        release_dir=course.workspace / "release",
        timeout=timeout,
        memory_mb=limits["memory_mb"],
        threads=threads,
        sandbox=sandbox,
        bwrap=bwrap,
        limits=Limits(**limits),
    )
    config.ScrubFeedback.secrets = secret_lines(
        course.hidden, nbformat.read(course.source(lab), as_version=4), checks=not show
    )
    config.ScrubFeedback.show_hidden = show
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lab
    coursedir.student_id = student
    out = {"student": student, "status": "ok", "notes": [], "parts": {}, "timing": {}}
    clock = time.monotonic()
    with _nbgrader_log(sys.stderr, logging.INFO):
        try:
            converter = Autograde(coursedir=coursedir, config=config)
            converter.force = True
            converter.create_student = True
            converter.start()
        except Exception as error:  # noqa: BLE001
            out["notes"].append(f"autograde failed: {error}"[:300])
        out["timing"]["autograde"] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()
        try:
            feedback = GenerateFeedback(coursedir=coursedir, config=config)
            feedback.force = True
            feedback.start()
        except Exception as error:  # noqa: BLE001
            out["notes"].append(f"feedback failed: {error}"[:300])
        out["timing"]["feedback"] = round(time.monotonic() - clock, 2)
    with Gradebook(course.db_url, COURSE_ID) as gb:
        try:
            submitted = gb.find_submission_notebook(lab, lab, student)
        except MissingEntry:
            submitted = None
        if submitted is not None:
            for grade in submitted.grades:
                out["parts"][grade.name] = {
                    "score": grade.score,
                    "auto": grade.auto_score,
                    "max": grade.max_score,
                    "manual": grade.auto_score is None,
                }
    graded = course.workspace / "autograded" / student / lab / f"{lab}.ipynb"
    if graded.is_file():
        nb = nbformat.read(graded, as_version=4)
        out["grader"] = nb.metadata.get("course_grader", {})
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in out["parts"] or cell.cell_type != "code":
                continue
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                first = errors[0]
                out["parts"][grade_id]["error"] = f"{first.get('ename')}: {first.get('evalue')}"[
                    :300
                ]
    else:
        out["notes"].append("no autograded notebook was produced")
    html_path = course.workspace / "feedback" / student / lab / f"{lab}.html"
    out["feedback"] = str(html_path) if html_path.is_file() else None
    return out


# --- a class run -----------------------------------------------------------------------------
@dataclass
class ClassRun:
    """What :func:`autograde` produced.

    ``verdicts`` holds, per student, the :class:`~course.grading.verdict.PartVerdict` of each
    autograded part that has a grade.
    """

    lab: str
    rows: list[dict]
    parts: list[tuple[str, float]]
    grades_csv: Path
    feedback_dir: Path
    results_json: Path
    seconds: float
    sandbox: str = "auto"
    verdicts: dict[str, dict[str, PartVerdict]] = field(default_factory=dict)


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


def _run_worker(course: Course, lab: str, student: str, settings: dict, log_dir: Path) -> dict:
    """Grade one student in a new process; never raises."""
    result_path = log_dir / f"{student}.json"
    result_path.unlink(missing_ok=True)
    token = f"{settings['run']}:{student}"
    args = dict(
        root=str(course.root),
        workspace=str(course.workspace),
        lab=lab,
        student=student,
        result=str(result_path),
        timeout=settings["timeout"],
        threads=settings["threads"],
        token=token,
        sandbox=settings["sandbox"],
        bwrap=settings["bwrap"],
        limits=settings["limits"],
        show=settings["show_hidden"],
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*course.pythonpath(), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["COURSE_GRADING_TOKEN"] = token
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("NBGRADER_EXECUTION", None)
    started = time.monotonic()
    log = str(log_dir / f"{student}.log")
    context = _fork_server()
    if context is not None:
        process = context.Process(target=_forked_worker, args=(args, env, log), daemon=False)
        process.start()
        process.join(timeout=settings["limit"])
        timed_out = process.is_alive()
        if timed_out:
            _kill_tree(process.pid)
            process.join(timeout=10)
        exit_code = process.exitcode
    else:
        code = "from course.grading.run import _worker_main; _worker_main()"
        with open(log, "w", encoding="utf-8") as handle:
            popen = subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(args)],
                cwd=course.root,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                popen.wait(timeout=settings["limit"])
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_tree(popen.pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=10)
            exit_code = popen.returncode
    kill_processes(token)  # what a grading process that crashed could not clean up
    seconds = time.monotonic() - started
    if result_path.is_file():
        with contextlib.suppress(ValueError, OSError):
            result = json.loads(result_path.read_text(encoding="utf-8"))
            result["seconds"] = round(seconds, 1)
            return result
    why = (
        f"grading took longer than {settings['limit']} s and was stopped"
        if timed_out
        else f"the grading process failed (exit code {exit_code})"
    )
    return {"student": student, "status": "error", "notes": [why], "parts": {}, "seconds": seconds}


def _kill_tree(pid: int) -> None:
    """Kill a grading process, its session's process group and its descendants (kernels)."""
    try:
        import psutil

        tree = psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - already gone
        tree = []
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    for child in tree:
        with contextlib.suppress(Exception):
            child.kill()


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


def _rmtree(path: Path) -> None:
    def unlock(function, name, _excinfo):
        os.chmod(name, 0o700)
        function(name)

    shutil.rmtree(path, onerror=unlock)


def autograde(
    course: Course,
    lab: str,
    submissions,
    *,
    workers: int = 1,
    timeout: int = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    sandbox: str = "auto",
    limits: Limits | None = None,
    show_hidden: bool = False,
    threads: int | None = None,
    echo=print,
) -> ClassRun:
    """Grade a class: every entry of ``submissions`` in its own process.

    Parameters
    ----------
    course : Course
    lab : str
        e.g. ``"lab04_convolution"``.
    submissions : path
        A folder with one entry per student: a folder or a ``.zip`` holding the notebook, or the
        notebook itself (see :func:`collect_submissions`). Never modified.
    workers : int
        Students graded in parallel.
    timeout : int
        Seconds per cell.
    memory_mb : int
        Data memory limit of each grading kernel.
    sandbox : {"auto", "bwrap", "landlock", "none"}
        Where each kernel runs (:mod:`course.grading.sandbox`): ``auto`` probes for the
        strongest backend that works here and stops before grading anything if none does;
        ``none`` grades without protection and says so in every row.
    limits : Limits, optional
        CPU time, processes and scratch size per submission (``memory_mb`` sets its memory).
    show_hidden : bool
        Show the hidden tests in the feedback (after the deadline); solutions stay redacted.
    threads : int, optional
        BLAS/OpenMP/PyTorch threads in each grading kernel; default: the CPU cores divided
        among the workers.
    echo : callable
        Where the summary goes (``print``; ``None`` for silence).

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
    chosen = choose(sandbox)  # before anything is graded: SandboxError when none works
    started = time.monotonic()
    source_nb = nbformat.read(source_path, as_version=4)
    auto_parts, manual_parts = _parts(source_nb)
    code_cells = sum(1 for c in source_nb.cells if c.cell_type == "code")
    with _workspace_lock(course.workspace):
        subs = collect_submissions(folder, lab, source_nb)
        _generate(course, lab, course.workspace / "release")
        _prepare_workspace(course, lab, subs)
        reports = course.workspace / "reports" / lab
        logs = reports / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        settings = {
            "run": uuid.uuid4().hex[:12],
            "timeout": int(timeout),
            "sandbox": chosen.name,
            "bwrap": getattr(chosen, "binary", None) or "",
            "limits": asdict(limits),
            "show_hidden": bool(show_hidden),
            "threads": threads or max(1, (os.cpu_count() or 1) // workers),
            "limit": int(timeout) * (code_cells + 4) + 300,
        }
        gradable = [s for s in subs if s.notebook is not None]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = dict(
                zip(
                    [s.student for s in gradable],
                    pool.map(
                        lambda s: _run_worker(course, lab, s.student, settings, logs), gradable
                    ),
                    strict=True,
                )
            )
        kill_processes(settings["run"])  # anything any student's grading left behind
        rows = [_row(s, results.get(s.student), auto_parts, manual_parts) for s in subs]
        for row in rows:
            row["sandbox"] = chosen.name
        seconds = time.monotonic() - started
        run = _write_reports(course, lab, rows, auto_parts, reports, seconds, show_hidden)
        run.verdicts = {s.student: _part_verdicts(results.get(s.student), auto_parts) for s in subs}
        _export_nbgrader(course, lab, reports / "nbgrader_export.csv")
    if echo is not None:
        echo(summary(run, workers))
    return run


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


def _fmt(value: float) -> str:
    return f"{value:g}"


def _write_reports(
    course, lab, rows, auto_parts, reports: Path, seconds: float, show_hidden: bool = False
) -> ClassRun:
    grades = reports / "grades.csv"
    with open(grades, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["student", *[g for g, _ in auto_parts], "total", "max", "status", "sandbox", "reason"]
        )
        for row in rows:
            writer.writerow(
                [
                    row["student"],
                    *[_fmt(row["scores"][g]) for g, _ in auto_parts],
                    _fmt(row["total"]),
                    _fmt(row["max"]),
                    row["status"],
                    row.get("sandbox", ""),
                    row["reason"],
                ]
            )
    feedback_dir = reports / "feedback"
    if feedback_dir.exists():
        _rmtree(feedback_dir)
    feedback_dir.mkdir(parents=True)
    for row in rows:
        row["feedback"] = str(_write_feedback(row, lab, auto_parts, feedback_dir, show_hidden))
    results = reports / "results.json"
    results.write_text(json.dumps({"lab": lab, "rows": rows}, indent=1), encoding="utf-8")
    sandbox = rows[0].get("sandbox", "auto") if rows else "auto"
    return ClassRun(lab, rows, auto_parts, grades, feedback_dir, results, seconds, sandbox)


def _write_feedback(row: dict, lab: str, auto_parts, folder: Path, show_hidden=False) -> Path:
    """The student's feedback page: nbgrader's HTML with a banner, or a page of its own."""
    path = folder / f"{row['student']}.html"
    banner = (
        '<div style="border:2px solid #c00;padding:8px;margin:8px 0;font-family:sans-serif">'
        f"<b>{html.escape(lab)}</b>: autograded score {_fmt(row['total'])} / {_fmt(row['max'])}"
        f" &mdash; status: <b>{html.escape(row['status'])}</b><br>"
        f"{html.escape(row['reason'])}</div>"
    )
    source = row.get("feedback_source")
    if source and Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8", errors="replace")
        if row["status"] != "ok" or row["reason"]:
            match = re.search(r"<body[^>]*>", text)
            at = match.end() if match else 0
            text = text[:at] + banner + text[at:]
    else:
        items = "".join(
            f"<tr><td>{html.escape(g)}</td><td>{_fmt(row['scores'][g])} / {_fmt(p)}</td></tr>"
            for g, p in auto_parts
        )
        text = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(lab)}"
            f"</title></head><body>{banner}<table>{items}</table></body></html>"
        )
    for leak in ("BEGIN HIDDEN TESTS", "course_hidden") if not show_hidden else ():
        text = text.replace(leak, "[hidden]")
    path.write_text(text, encoding="utf-8")
    return path


def _export_nbgrader(course: Course, lab: str, path: Path) -> None:
    """nbgrader's own CSV export of the lab (a cross-check of ``grades.csv``)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    with contextlib.suppress(Exception), _nbgrader_log(io.StringIO()):
        plugin = CsvExportPlugin(to=str(path), assignment=[lab])
        with Gradebook(course.db_url, COURSE_ID) as gb:
            plugin.export(gb)


def summary(run: ClassRun, workers: int = 1) -> str:
    """A table of the class run: per part, mean score and how many got it; statuses."""
    rows = run.rows
    n = len(rows)
    lines = [
        f"{run.lab}: {n} student(s) graded in {run.seconds:.1f} s ({workers} worker(s), "
        f"sandbox: {run.sandbox})",
        f"{'part':<16}{'points':>8}{'mean':>8}{'passed':>10}",
    ]
    for gid, points in run.parts:
        scores = [r["scores"][gid] for r in rows]
        mean = sum(scores) / n if n else 0.0
        passed = sum(1 for s in scores if s >= points > 0 or (points == 0 and s == 0))
        lines.append(f"{gid:<16}{points:>8g}{mean:>8.2f}{passed:>6}/{n:<3}")
    total = sum(p for _, p in run.parts)
    mean = sum(r["total"] for r in rows) / n if n else 0.0
    full = sum(1 for r in rows if r["total"] >= total > 0)
    lines.append(f"{'total':<16}{total:>8g}{mean:>8.2f}{full:>6}/{n:<3}")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    lines.append("status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for row in rows:
        if row["status"] == "tampered":
            lines.append(f"  TAMPERED {row['student']}: {row['reason'][:160]}")
    for row in rows:
        for verdict in run.verdicts.get(row["student"], {}).values():
            if verdict.status is PartStatus.OWN_WORK:
                lines.append(f"  OWN WORK {row['student']}: {verdict.detail[:140]}")
    for row in rows:
        if row["status"] not in ("ok", "tampered"):
            lines.append(f"  {row['status']:<16} {row['student']}: {row['reason'][:140]}")
    if run.sandbox == "none":
        lines.append("WARNING: graded WITHOUT a sandbox (--sandbox none): see autograder/README.md")
    lines.append(f"grades: {run.grades_csv}")
    lines.append(f"feedback: {run.feedback_dir}")
    return "\n".join(lines)
