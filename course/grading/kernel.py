"""The grading kernel: memory limit, guard start-up, probe, and nbgrader preprocessors."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbgrader.preprocessors import (
    Execute,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
)
from traitlets import Integer, List, Unicode

from .layout import DEFAULT_MEMORY_MB, HIDDEN_BLOCK, MAX_OUTPUT_CHARS

# Run as `python -c LAUNCHER python -m ipykernel_launcher -f CONNECTION ...`: limits the data
# memory of the kernel, then becomes the kernel.
_LAUNCHER = """
import os, sys
try:
    import resource
    mb = int(os.environ.get("COURSE_GRADER_MEMORY_MB") or 0)
    if mb > 0:
        limit = mb * 1048576
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except (ImportError, ValueError, OSError):
    pass
os.execv(sys.argv[1], sys.argv[1:])
"""

# The IPython startup file of the grading kernel: imports the checks' guard before any cell (its
# snapshot of numpy, builtins ... is then genuine) and keeps what the final probe compares.
_STARTUP = r"""
def _course_grader_startup():
    import os
    import sys

    for name in filter(None, os.environ.get("COURSE_GRADER_PRELOAD", "").split(",")):
        try:
            __import__(name)
        except Exception:
            pass
    try:
        import course.checks._common as common
    except Exception:
        return
    shell = get_ipython()
    lists = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
    methods = ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
               "_showtraceback", "showsyntaxerror", "transform_cell", "set_custom_exc")
    state = {
        "lists": {name: getattr(shell, name) for name in lists},
        "methods": methods,
        "custom": shell.custom_exceptions,
    }

    def report(nonce):
        problems = list(common.find_tampering())
        for name, original in state["lists"].items():
            current = getattr(shell, name, None)
            if current is not original:
                problems.append(f"IPython shell.{name} replaced")
            else:
                problems += [f"IPython shell.{name}: {f!r}"[:120] for f in current
                             if not common._genuine(f)]
        for name in state["methods"]:
            if not common._genuine(getattr(shell, name, None)):
                problems.append(f"IPython shell.{name} replaced")
        for event, callbacks in shell.events.callbacks.items():
            problems += [f"IPython event {event}: {f!r}"[:120] for f in callbacks
                         if not common._genuine(f)]
        if shell.custom_exceptions != state["custom"]:
            problems.append("IPython custom exception handler")
        if sys.gettrace() is not None:
            problems.append("sys.settrace")
        shell.display_pub.publish(
            data={"application/x-course-probe+json": {"nonce": nonce, "problems": problems}}
        )

    common.__grader_report__ = report  # a dunder name: not watched by the guard


_course_grader_startup()
del _course_grader_startup
"""

_PROBE_MIME = "application/x-course-probe+json"


class GradingKernelManager(AsyncKernelManager):
    """Starts the kernel through the memory-limiting launcher, with this interpreter."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
        return [sys.executable, "-c", _LAUNCHER, *kernel, *(extra_arguments or [])]


def _error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def _marked_processes(token: str) -> list:
    """Processes whose ``COURSE_GRADING_TOKEN`` is ``token`` or starts with ``token:``."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return []
    found = []
    me = os.getpid()
    for process in psutil.process_iter():
        try:
            mark = process.environ().get("COURSE_GRADING_TOKEN", "")
            if process.pid != me and (mark == token or mark.startswith(token + ":")):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def kill_processes(token: str | None = None, *, descendants: bool = False) -> int:
    """Kill what grading left behind: processes marked with ``token``, and/or our descendants.

    Returns
    -------
    int
        How many processes were killed.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return 0
    victims = {}
    if token:
        victims.update({p.pid: p for p in _marked_processes(token)})
    if descendants:
        with contextlib.suppress(psutil.Error):
            victims.update({p.pid: p for p in psutil.Process().children(recursive=True)})
    for process in victims.values():
        with contextlib.suppress(psutil.Error, OSError):
            process.kill()
    if victims:
        psutil.wait_procs(list(victims.values()), timeout=5)
    _reap_children()
    return len(victims)


def _reap_children() -> None:
    """Collect zombie children (orphans re-parented to us when we are a subreaper)."""
    with contextlib.suppress(ChildProcessError, OSError, AttributeError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break


def _become_subreaper() -> None:
    """On Linux, orphaned descendants (daemons a submission starts) become our children."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class CourseExecute(Execute):
    """nbgrader's Execute, made to survive the submission it runs.

    - the kernel runs under :class:`GradingKernelManager` (memory limit), with the hidden checks
      on its path, an IPython startup file that snapshots the guarded functions, a watchdog that
      kills it when its resident memory exceeds the limit, in its own session;
    - a kernel death, or a cell that ignores the timeout's interrupt, is recorded in that cell
      and every later code cell gets a "not run" error (so it scores 0, never full marks);
    - outputs are truncated while they arrive (never the error outputs);
    - a test cell that produces a value (a bare expression, which nbgrader reads as partial
      credit) fails;
    - at the end, an integrity probe reports tampering; every process the kernel started is
      killed. What happened is kept in the notebook's metadata ``course_grader``.
    """

    memory_mb = Integer(DEFAULT_MEMORY_MB, help="Data memory limit of the kernel (MB).").tag(
        config=True
    )
    max_output_chars = Integer(MAX_OUTPUT_CHARS, help="Output kept per cell.").tag(config=True)
    threads = Integer(0, help="Threads for BLAS/OpenMP/PyTorch in the kernel (0: leave).").tag(
        config=True
    )
    pythonpath = List(Unicode(), help="Folders put first on the kernel's sys.path.").tag(
        config=True
    )
    preload = Unicode("numpy", help="Modules imported by the startup file.").tag(config=True)

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(**kwargs)
        self.kernel_name = "python3"

    # kernel start: environment, startup file, watchdog
    async def async_start_new_kernel(self, **kwargs) -> None:
        self._ipython_dir = tempfile.mkdtemp(prefix="course-ipython-")
        startup = Path(self._ipython_dir) / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-course-grader.py").write_text(_STARTUP, encoding="utf-8")
        env = dict(kwargs.get("env") or os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [*self.pythonpath, *filter(None, [env.get("PYTHONPATH")])]
        )
        env.update(
            IPYTHONDIR=self._ipython_dir,
            COURSE_GRADER_MEMORY_MB=str(self.memory_mb),
            COURSE_GRADING_TOKEN=self._token,
            COURSE_GRADER_PRELOAD=self.preload,
            MPLBACKEND="Agg",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.threads > 0:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env[name] = str(self.threads)
        kwargs["env"] = env
        await super().async_start_new_kernel(**kwargs)
        process, pgid = self._kernel_process()
        if process is not None:
            self._kernel_pid, self._kernel_pgid = process.pid, pgid
        self._start_watchdog()

    start_new_kernel = run_sync(async_start_new_kernel)

    def _kernel_process(self):
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return process, getattr(provisioner, "pgid", None)

    def _start_watchdog(self) -> None:
        process, _pgid = self._kernel_process()
        if process is None or self.memory_mb <= 0:
            return
        limit = (1.25 * self.memory_mb + 1024) * 2**20  # resident memory of the kernel's tree
        stop = self._watchdog_stop = threading.Event()

        def watch() -> None:
            try:
                import psutil

                root = psutil.Process(process.pid)
            except Exception:  # noqa: BLE001
                return
            while not stop.wait(0.25):
                try:
                    tree = [root, *root.children(recursive=True)]
                    rss = sum(p.memory_info().rss for p in tree)
                except Exception:  # noqa: BLE001 - the kernel is gone
                    return
                if rss > limit:
                    self._killed = f"memory limit exceeded ({rss / 2**20:.0f} MB resident)"
                    self._kill_kernel()
                    return

        threading.Thread(target=watch, daemon=True, name="course-grader-watchdog").start()

    def _kill_kernel(self) -> None:
        pid, pgid = getattr(self, "_kernel_pid", None), getattr(self, "_kernel_pgid", None)
        with contextlib.suppress(OSError, TypeError):
            if pgid:
                os.killpg(pgid, signal.SIGKILL)
            elif pid:
                os.kill(pid, signal.SIGKILL)

    # execution
    def preprocess(self, nb, resources=None, km=None):
        # the kernel's mark extends the grading process's one, so both can find what it left
        parent = os.environ.get("COURSE_GRADING_TOKEN")
        self._token = f"{parent}:{uuid.uuid4().hex[:8]}" if parent else uuid.uuid4().hex
        self._kernel_pid = self._kernel_pgid = None
        self._dead = None
        self._killed = None
        self._events: list[dict] = []
        self._chars: dict[int, int] = {}
        self._probe: dict | None = None
        self._cells = nb.cells
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except Exception as error:  # noqa: BLE001 - the kernel never started or died early
            reason = f"the kernel failed ({type(error).__name__}: {error})"
            self._dead = self._dead or reason
            self._events.append({"event": "kernel failed", "detail": reason})
            for cell in nb.cells:
                if cell.cell_type == "code" and cell.source.strip() and not cell.get("outputs"):
                    cell.outputs = [_error_output("NotRun", f"not run: {reason}")]
        finally:
            if getattr(self, "_watchdog_stop", None) is not None:
                self._watchdog_stop.set()
            self._kill_kernel()
            killed = kill_processes(self._token)
            if killed:
                self._events.append({"event": "processes killed", "count": killed})
            shutil.rmtree(getattr(self, "_ipython_dir", ""), ignore_errors=True)
        nb.metadata["course_grader"] = {
            "events": self._events,
            "probe": self._probe,
            "dead": self._dead,
        }
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if self._dead:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_error_output("NotRun", f"not run: {self._dead}")]
            return cell, resources
        self._chars[index] = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            reason = self._killed or "the kernel died (a crash, os._exit or out of memory)"
            self._dead = f"{reason} in cell {index}"
            cell.outputs.append(_error_output("DeadKernelError", reason))
            self._events.append(
                {
                    "event": "kernel died",
                    "cell": index,
                    "detail": reason,
                    "memory": bool(self._killed),
                }
            )
        except CellTimeoutError:
            self._kill_kernel()
            reason = f"cell {index} did not stop after {self.timeout} s and an interrupt"
            self._dead = reason
            cell.outputs.append(_error_output("CellTimeoutError", reason))
            self._events.append({"event": "timeout", "cell": index, "killed": True})
        else:
            self._after_cell(cell, index)
        if self._dead is None and index == len(self._cells) - 1:
            self._run_probe(resources)
        return cell, resources

    def _after_cell(self, cell, index: int) -> None:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        names = {o.get("ename") for o in errors}
        if "CellTimeoutError" in names:
            self._events.append({"event": "timeout", "cell": index})
        if "MemoryError" in names:
            self._events.append({"event": "memory", "cell": index})
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("grade") and not nbgrader.get("solution") and cell.cell_type == "code":
            for output in cell.outputs:
                if output.get("output_type") == "execute_result":
                    output.output_type = "display_data"
                    output.pop("execution_count", None)
                    cell.outputs.append(
                        _error_output(
                            "TestCellValue", "a test cell must not end with a value; it failed"
                        )
                    )
                    break

    def _run_probe(self, resources) -> None:
        nonce = uuid.uuid4().hex
        code = f"import course.checks._common as _c\n_c.__grader_report__({nonce!r})\ndel _c"
        probe = nbformat.v4.new_code_cell(code)
        self._cells.append(probe)
        try:
            super().preprocess_cell(probe, resources, len(self._cells) - 1)
        except Exception as error:  # noqa: BLE001
            self._probe = {"ran": False, "detail": f"{type(error).__name__}: {error}"}
            return
        finally:
            self._cells.pop()
        for output in probe.get("outputs", []):
            data = output.get("data", {}).get(_PROBE_MIME)
            if isinstance(data, dict) and data.get("nonce") == nonce:
                self._probe = {"ran": True, "problems": list(data.get("problems", []))}
                return
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in probe.get("outputs", [])]
        self._probe = {"ran": False, "detail": "; ".join(errors)[:300] or "no report"}

    def output(self, outs, msg, display_id, cell_index):
        msg_type = msg.get("msg_type")
        if msg_type == "error":
            content = msg["content"]
            content["traceback"] = [line[:2000] for line in content.get("traceback", [])[-60:]]
            content["evalue"] = str(content.get("evalue", ""))[:5000]
            return super().output(outs, msg, display_id, cell_index)
        used = self._chars.get(cell_index, 0)
        limit = self.max_output_chars
        content = msg.get("content", {})
        if msg_type == "stream":
            text = content.get("text", "")
            if used >= limit:
                return None
            if used + len(text) > limit:
                content["text"] = (
                    text[: limit - used]
                    + f"\n... output truncated by the grader (over {limit} characters) ...\n"
                )
            self._chars[cell_index] = used + len(text)
        elif msg_type in ("display_data", "execute_result", "update_display_data"):
            data = content.get("data", {})
            size = sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())
            if _PROBE_MIME in data:
                size = 0
            elif used + size > 50 * limit:  # images are larger than text: a larger allowance
                content["data"] = {"text/plain": f"[output of {size} characters removed]"}
                size = 0
            self._chars[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


class KeepStderr(IgnorePattern):
    """In test cells, stderr (warnings of a correct answer) does not cost the points.

    nbgrader gives 0 to a test cell with any stderr output. With ``IgnorePattern.enabled`` and
    a pattern, this preprocessor turns matching stderr outputs of graded code cells into stdout
    (the text stays visible in the feedback); other cells are left alone.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        nbgrader = cell.metadata.get("nbgrader", {})
        if self.pattern and cell.cell_type == "code" and nbgrader.get("grade"):
            for output in cell.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    if re.search(self.pattern, output.get("text", "")):
                        output.name = "stdout"
        return cell, resources


class CourseLimitOutput(LimitOutput):
    """nbgrader's LimitOutput, plus a limit on characters (one 20 MB line is cut too)."""

    max_chars = Integer(MAX_OUTPUT_CHARS, help="Characters kept per output.").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.outputs:
            if output.get("output_type") == "stream" and len(output.text) > self.max_chars:
                output.text = output.text[: self.max_chars] + "\n... output truncated ...\n"
            elif output.get("output_type") == "error":
                output.evalue = str(output.get("evalue", ""))[: self.max_chars]
                output.traceback = [line[:2000] for line in output.get("traceback", [])]
            for key, value in list(output.get("data", {}).items()):
                if key == "text/plain" and isinstance(value, str) and len(value) > self.max_chars:
                    output.data[key] = value[: self.max_chars] + "\n... output truncated ..."
        return cell, resources


class ScrubFeedback(NbGraderPreprocessor):
    """Feedback never shows hidden tests: their code is removed from the test cells and an error
    raised inside a hidden check is reduced to its message (no traceback into its source)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        nbgrader = cell.metadata.get("nbgrader", {})
        graded = bool(nbgrader.get("grade")) and not nbgrader.get("solution")
        if graded:
            cell.source = HIDDEN_BLOCK.sub("", cell.source).rstrip("\n")
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            traceback = "\n".join(output.get("traceback", []))
            if graded or "course_hidden" in traceback:
                output.traceback = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources
