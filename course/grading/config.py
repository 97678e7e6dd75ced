"""The nbgrader configuration of the course, and running nbgrader converters quietly."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    SaveAutoGrades,
)
from traitlets.config import Config

from .kernel import CourseExecute, CourseLimitOutput, KeepStderr, ScrubFeedback
from .layout import (
    CODE_STUB,
    COURSE_ID,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    TEXT_STUB,
    Course,
    CourseError,
)
from .sandbox import Limits


def nbgrader_config(
    course: Course,
    *,
    release_dir: str | os.PathLike | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    threads: int = 0,
    sandbox: str = "auto",
    bwrap: str = "",
    limits: Limits | None = None,
) -> Config:
    """The nbgrader configuration of the course (what ``autograder/nbgrader_config.py`` loads).

    Parameters
    ----------
    course : Course
    release_dir : path, optional
        Where ``generate_assignment`` writes the student versions (default
        ``notebooks/labs/``).
    timeout : int
        Seconds per cell.
    memory_mb : int
        Data memory limit of the grading kernel (0: none).
    threads : int
        BLAS/OpenMP threads in the grading kernel (0: unchanged).
    sandbox : {"auto", "bwrap", "landlock", "none"}
        Where the kernel runs (:mod:`course.grading.sandbox`); ``bwrap`` names the binary
        that a probe chose.
    limits : Limits, optional
        CPU time, processes and scratch size of the kernel (default :class:`Limits`).

    Returns
    -------
    traitlets.config.Config
    """
    ws = course.workspace
    c = Config()
    c.CourseDirectory.root = str(course.root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = str(release_dir or course.student_labs)
    c.CourseDirectory.submitted_directory = str(ws / "submitted")
    c.CourseDirectory.autograded_directory = str(ws / "autograded")
    c.CourseDirectory.feedback_directory = str(ws / "feedback")
    c.CourseDirectory.db_url = course.db_url
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]
    c.Exchange.root = str(ws / "exchange")
    # student versions
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    # grading
    c.Execute.timeout = int(timeout)
    c.Execute.interrupt_on_timeout = True
    c.Execute.iopub_timeout = 10
    c.Execute.startup_timeout = 180  # a busy machine: starting the kernel imports PyTorch
    c.Execute.shutdown_kernel = "immediate"  # kill the kernel's process group, do not wait
    limits = limits or Limits(memory_mb=int(memory_mb))
    c.CourseExecute.memory_mb = int(memory_mb)
    c.CourseExecute.cpu_seconds = limits.cpu_seconds
    c.CourseExecute.processes = limits.processes
    c.CourseExecute.scratch_mb = limits.scratch_mb
    c.CourseExecute.threads = int(threads)
    c.CourseExecute.sandbox = sandbox
    c.CourseExecute.bwrap = bwrap
    c.CourseExecute.hidden_dir = str(course.hidden)
    c.CourseExecute.preload = "numpy,torch" if _has_module("torch") else "numpy"
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = r"[\s\S]"  # any stderr output of a test cell (see KeepStderr)
    c.OverwriteCells.add_missing_cells = True
    c.LimitOutput.max_lines = 200
    c.LimitOutput.max_traceback = 60
    c.Autograde.autograde_preprocessors = [
        CourseExecute,
        KeepStderr,
        ClearMetadataPreprocessor,
        CourseLimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ScrubFeedback]
    return c


def configure(c: Config, root=None, workspace=None) -> None:
    """Merge the course's nbgrader configuration into ``c`` (for ``nbgrader_config.py``).

    The gradebook URL is the plain file URL there (``nbgrader db upgrade`` reads it as a path).
    """
    course = Course.at(root, workspace)
    course.workspace.mkdir(parents=True, exist_ok=True)  # SQLite cannot create the folder
    c.merge(nbgrader_config(course))
    c.CourseDirectory.db_url = course.db_url.split("?", 1)[0]


def _tools_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: make it findable when
    the course runs from a virtual environment that is not activated.
    """
    if shutil.which("alembic") is None:
        bin_dir = os.path.dirname(sys.executable)
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@contextlib.contextmanager
def _nbgrader_log(stream=None, level=logging.WARNING):
    """Send nbgrader's log (the ``traitlets`` logger) to ``stream`` while the block runs."""
    logger = logging.getLogger("traitlets")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    old = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old[0])
        logger.propagate = old[1]


@contextlib.contextmanager
def _workspace_lock(workspace: Path):
    """One ``course`` command at a time on a workspace (the gradebook is one SQLite file)."""
    workspace.mkdir(parents=True, exist_ok=True)
    with open(workspace / ".lock", "w") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no lock
            pass
        except OSError:
            raise CourseError(
                f"another course command is using the workspace {workspace}; wait for it"
            ) from None
        yield


def _generate(course: Course, lab: str, release_dir: Path, log_stream=None) -> None:
    """Run nbgrader's generate_assignment for ``lab`` into ``release_dir`` (gradebook updated)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    _tools_on_path()
    config = nbgrader_config(course, release_dir=release_dir)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lab
    buffer = io.StringIO()
    with _nbgrader_log(buffer):
        try:
            converter = GenerateAssignment(coursedir=coursedir, config=config)
            converter.force = True
            converter.create_assignment = True
            converter.start()
        except Exception as error:  # noqa: BLE001 - nbgrader raises many kinds
            detail = buffer.getvalue().strip().splitlines()
            raise CourseError(
                f"nbgrader could not generate {lab}: {error}\n" + "\n".join(detail[-15:])
            ) from None
    if log_stream is not None:
        log_stream.write(buffer.getvalue())
