"""One grading task: a lab bundle and one submission's bytes in, a graded result out.

A task is what a Dask worker runs (:mod:`course.grading.engine`). It needs the course package
installed and nothing else shared with the instructor's machine: the lab's source notebook, its
hidden checks and a gradebook that knows the lab travel in the :class:`LabBundle`; the task
builds a private course folder and workspace in a temporary folder, grades the student there in
a grading process of its own (its kernel in the sandbox), and returns the per-part grades, the
autograded notebook, the feedback page and the log. The temporary folder is removed afterwards:
the worker keeps nothing, and it never writes to the instructor's gradebook.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .config import _generate, _nbgrader_log, nbgrader_config
from .kernel import _become_subreaper, kill_processes, secret_lines
from .layout import COURSE_ID, Course
from .sandbox import Limits, SandboxError, choose

LOG_TAIL = 20_000  # characters of a grading log sent back with the result


@dataclass(frozen=True)
class LabBundle:
    """Everything a worker needs to grade submissions of one lab, as bytes.

    Attributes
    ----------
    lab : str
    files : dict of str to bytes
        Paths relative to a course root: ``solutions/<lab>/...`` and
        ``autograder/course_hidden/*.py``.
    gradebook : bytes
        An nbgrader gradebook (SQLite) in which ``generate_assignment`` registered the lab.
    settings : dict
        Timeout, limits, sandbox name, threads, ``show_hidden``, the run id.
    course_digest : str
        :func:`course_digest` of the client's course package: a worker with another version
        refuses to grade.
    digest : str
        SHA-256 of the lab's files, the settings that change a grade and ``course_digest``.
    """

    lab: str
    files: dict[str, bytes]
    gradebook: bytes
    settings: dict
    course_digest: str
    digest: str = field(default="")


_GRADE_SETTINGS = ("timeout", "limits", "show_hidden", "threads", "sandbox", "limit")


def make_bundle(
    course: Course, lab: str, settings: dict, gradebook: Path | None = None
) -> LabBundle:
    """The :class:`LabBundle` of ``lab``.

    ``gradebook``: a gradebook in which ``lab`` is generated (the client's); its copy in the
    bundle keeps the labs and drops every student, submission and grade. Without it a gradebook
    is generated for the bundle (a few seconds).
    """
    files = {}
    for path in sorted(course.source(lab).parent.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.parts[-2:]):
            files[path.relative_to(course.root).as_posix()] = path.read_bytes()
    hidden = course.hidden / "course_hidden"
    for path in sorted(hidden.glob("*.py")):
        files[path.relative_to(course.root).as_posix()] = path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="course-bundle-") as tmp:
        scratch = Course(course.root, Path(tmp))
        if gradebook is None:
            _generate(scratch, lab, scratch.workspace / "release")
        else:
            _without_students(Path(gradebook), scratch.workspace / "gradebook.db")
        gradebook = (scratch.workspace / "gradebook.db").read_bytes()
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    graded = {k: settings.get(k) for k in _GRADE_SETTINGS}
    digest.update(json.dumps(graded, sort_keys=True).encode())
    digest.update(course_digest().encode())
    return LabBundle(lab, files, gradebook, dict(settings), course_digest(), digest.hexdigest())


_STUDENT_TABLES = ("grade", "comment", "submitted_notebook", "submitted_assignment", "student")


def _without_students(source: Path, target: Path) -> None:
    """Copy the gradebook ``source`` to ``target`` without its students (SQLite's backup)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(source, timeout=60)) as db:
        with contextlib.closing(sqlite3.connect(target)) as copy:
            db.backup(copy)
            for table in _STUDENT_TABLES:
                copy.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            copy.commit()
            copy.execute("VACUUM")


_DIGEST: list[str] = []


def course_digest() -> str:
    """SHA-256 of the installed ``course`` package's Python files (computed once per process)."""
    if not _DIGEST:
        import course

        package = Path(course.__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        _DIGEST.append(digest.hexdigest())
    return _DIGEST[0]


def result_key(bundle: LabBundle, student: str, notebook: bytes) -> str:
    """The content hash under which the result of ``student``'s ``notebook`` is kept."""
    digest = hashlib.sha256(f"{bundle.digest}\0{student}\0".encode())
    digest.update(notebook)
    return digest.hexdigest()


def failed(student: str, why: str, *, retry: bool = False) -> dict:
    """The result of a grading that produced nothing: no grades, the reason in the notes.

    ``retry``: the failure was the grader's, not the submission's; a rerun grades it again.
    """
    return {"student": student, "status": "error", "notes": [why], "parts": {}, "retry": retry}


# --- the task ----------------------------------------------------------------------------------
_SANDBOXES: dict[str, object] = {}


def grade_task(bundle: LabBundle, student: str, notebook: bytes) -> dict:
    """Grade ``student``'s ``notebook`` (bytes) of ``bundle.lab``; never raises.

    Returns
    -------
    dict
        ``status``, ``notes``, ``parts`` (grade id to score, max and error), ``grader`` (the
        kernel's events and verdicts), ``autograded`` (the graded notebook, JSON text),
        ``feedback_html``, ``log`` (its last :data:`LOG_TAIL` characters), ``seconds`` and
        ``worker``.
    """
    started = time.monotonic()
    where = f"{socket.gethostname()}:{os.getpid()}"
    if bundle.course_digest != course_digest():
        why = (
            f"worker {where} has another version of the course package than the client: "
            "install the same version on every worker"
        )
        return {**failed(student, why, retry=True), "worker": where}
    settings = dict(bundle.settings)
    try:
        sandbox = _SANDBOXES.get(settings["sandbox"]) or choose(settings["sandbox"])
    except SandboxError as error:
        why = f"worker {where} cannot run the {settings['sandbox']} sandbox: {error}"
        return {**failed(student, why[:500], retry=True), "worker": where}
    _SANDBOXES[settings["sandbox"]] = sandbox
    settings["bwrap"] = getattr(sandbox, "binary", None) or ""
    sweep_stale_folders()
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as tmp:
        (Path(tmp) / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        try:
            course = _unpack(bundle, Path(tmp), student, notebook)
            result = _run_worker(course, bundle.lab, student, settings, course.workspace / "logs")
            result.update(_products(course, bundle.lab, student))
        finally:
            _make_removable(Path(tmp))
    result["seconds"] = round(time.monotonic() - started, 1)
    result["worker"] = where
    result["sandbox"] = sandbox.name
    return result


TMP_PREFIX = "course-grade-"  # a task's temporary folder: <tempdir>/course-grade-XXXX
OWNER_FILE = "owner.pid"  # in it: the process id of the worker that made it


def sweep_stale_folders(tempdir: str | os.PathLike | None = None) -> list[Path]:
    """Remove the task folders that a killed worker left behind; return what was removed.

    A worker removes its task folder when the task ends, but a worker killed with ``SIGKILL``
    (Dask's nanny does so to a worker over its memory limit) cannot. A folder is stale when the
    process named in its :data:`OWNER_FILE` no longer exists. Folders of live processes, folders
    without an owner file (a task being set up) and anything not made by a task are left alone.

    Parameters
    ----------
    tempdir : path, optional
        Where the task folders are (default: :func:`tempfile.gettempdir`).
    """
    removed = []
    for folder in sorted(Path(tempdir or tempfile.gettempdir()).glob(f"{TMP_PREFIX}*")):
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if owner <= 0 or _alive(owner):
            continue
        _make_removable(folder)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unpack(bundle: LabBundle, folder: Path, student: str, notebook: bytes) -> Course:
    """A private course root and workspace in ``folder``, with the submission in place."""
    course = Course(folder / "course", folder / "workspace")
    for name, data in bundle.files.items():
        path = (course.root / name).resolve()
        if not path.is_relative_to(course.root.resolve()):
            raise ValueError(f"bundle file outside the course folder: {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    course.workspace.mkdir()
    (course.workspace / "gradebook.db").write_bytes(bundle.gradebook)
    submitted = course.workspace / "submitted" / student / bundle.lab
    submitted.mkdir(parents=True)
    (submitted / f"{bundle.lab}.ipynb").write_bytes(notebook)
    (course.workspace / "logs").mkdir()
    return course


def _products(course: Course, lab: str, student: str) -> dict:
    """The autograded notebook, the feedback page and the log's tail, as text."""
    ws = course.workspace

    def text(path: Path) -> str | None:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    log = text(ws / "logs" / f"{student}.log") or ""
    return {
        "autograded": text(ws / "autograded" / student / lab / f"{lab}.ipynb"),
        "feedback_html": text(ws / "feedback" / student / lab / f"{lab}.html"),
        "log": log[-LOG_TAIL:],
    }


def _make_removable(folder: Path) -> None:
    """Let :class:`tempfile.TemporaryDirectory` remove what nbgrader made read-only."""
    for path, dirs, _files in os.walk(folder):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(path, name), 0o700)


# --- the grading process -----------------------------------------------------------------------
def _run_worker(course: Course, lab: str, student: str, settings: dict, log_dir: Path) -> dict:
    """Grade one student in a new process (its workspace is ``course.workspace``); never raises."""
    result_path = log_dir / f"{student}.json"
    # one token per attempt: Dask may run a task twice (after a worker is lost), and cleaning up
    # after one attempt must not kill the other
    token = f"{settings['run']}:{student}:{uuid.uuid4().hex[:8]}"
    args = dict(
        root=str(course.root),
        workspace=str(course.workspace),
        lab=lab,
        student=student,
        result=str(result_path),
        timeout=settings["timeout"],
        threads=settings["threads"] or 1,
        token=token,
        sandbox=settings["sandbox"],
        bwrap=settings["bwrap"],
        limits=settings["limits"],
        show=settings["show_hidden"],
    )
    env = dict(os.environ)
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
        exit_code, timed_out = _run_subprocess(args, env, log, settings["limit"])
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
    return failed(student, why)


def _run_subprocess(args: dict, env: dict, log: str, limit: float) -> tuple[int | None, bool]:
    """Grade in a fresh interpreter: (exit code, whether it was stopped at ``limit``)."""
    code = "from course.grading.task import _worker_main; _worker_main()"
    with open(log, "w", encoding="utf-8") as handle:
        popen = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(args)],
            cwd=args["root"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            popen.wait(timeout=limit)
            return popen.returncode, False
        except subprocess.TimeoutExpired:
            _kill_tree(popen.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=10)
            return popen.returncode, True


def _worker_main(args: dict | None = None) -> None:
    """Body of a grading process: grade one student, report, clean up (never raises)."""
    if args is None:  # started as `python -c ... JSON`
        args = json.loads(sys.argv[1])
    _die_with_parent()
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


def _die_with_parent() -> None:
    """On Linux, this grading process is killed when the worker that started it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PDEATHSIG


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
    _worker_main(args)


_FORK_SERVER = None


def _fork_server():
    """A multiprocessing context whose server has imported nbgrader once (POSIX), or None.

    Each student is still graded in its own process (forked from that server): the import of
    nbgrader and its dependencies (about 1.5 s of CPU) is paid once per worker, not per student.
    ``COURSE_GRADER_SPAWN=subprocess`` starts a fresh interpreter per student instead, as does a
    daemonic worker process (which may not start multiprocessing children).
    """
    global _FORK_SERVER
    import multiprocessing

    if (
        os.environ.get("COURSE_GRADER_SPAWN") == "subprocess"
        or os.name != "posix"
        or multiprocessing.current_process().daemon
    ):
        return None
    if _FORK_SERVER is None:
        try:
            context = multiprocessing.get_context("forkserver")
        except ValueError:  # pragma: no cover - no fork server on this platform
            return None
        context.set_forkserver_preload(
            ["course.grading", "nbgrader.converters", "nbgrader.api", "nbconvert.exporters"]
        )
        _FORK_SERVER = context
    return _FORK_SERVER


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
