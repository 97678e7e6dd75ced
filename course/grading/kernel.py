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
from traitlets import Bool, Integer, List, Unicode

from .layout import DEFAULT_MEMORY_MB, HIDDEN_BLOCK, MAX_OUTPUT_CHARS
from .sandbox import Bubblewrap, Landlock, Limits, NoSandbox, Sandbox, choose
from .verdict import RECORD_MIME, PartVerdict, judge_cell

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
    # the fields of a guard's error (TamperingError, OwnWorkError), published with it as data
    shell.events.register("post_run_cell", common.publish_record)


_course_grader_startup()
del _course_grader_startup
"""

_PROBE_MIME = "application/x-course-probe+json"


class GradingKernelManager(AsyncKernelManager):
    """Starts the kernel in the grading sandbox, talking over Unix sockets (``ipc``).

    A kernel in its own network namespace cannot be reached over TCP: the connection is a set of
    Unix sockets in a per-kernel runtime folder that both sides see. Interrupts are sent as a
    message (a signal would stop at the sandbox's first process).
    """

    sandbox: Sandbox = NoSandbox()
    limits: Limits = Limits()
    runtime: Path | None = None
    scratch: Path | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        self.kernel_spec.interrupt_mode = "message"
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
        return self.sandbox.command(
            [*kernel, *(extra_arguments or [])],
            runtime=self.runtime,
            scratch=self.scratch,
            limits=self.limits,
        )


def kernel_environment(home: str, threads: int = 0, **extra: str) -> dict[str, str]:
    """The kernel's environment, built from an allow-list (never the instructor's shell).

    ``PATH``, the locale, the time zone and the OpenBLAS processor settings come from the host;
    ``HOME`` and ``TMPDIR`` are the scratch folder; ``threads`` (> 0) sets the thread counts.
    """
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin:/usr/bin:/bin"]),
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    for name in ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    for name in names:
        if threads > 0:
            env[name] = str(threads)
        elif os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra)
    return env


def hidden_loader(folder: str | os.PathLike, source: str) -> str:
    """Code that defines the hidden-check modules a test cell imports, from their sources.

    The hidden checks never exist as files where the kernel runs: the modules that ``source``
    imports from ``course_hidden`` (and the package's private helpers ``_*.py``) are read here,
    outside the sandbox, and sent with the test cell when it runs.
    """
    folder = Path(folder, "course_hidden")
    wanted = set(re.findall(r"course_hidden(?:\s+import\s+|\.)(\w+)", source))
    names = sorted(p.stem for p in folder.glob("_*.py") if p.stem != "__init__")
    names += sorted(n for n in wanted if not n.startswith("_"))
    modules = [(n, (folder / f"{n}.py").read_text(encoding="utf-8")) for n in names]
    return (  # each module once per kernel, as an import would (the guard watches them)
        "import sys as _s, types as _t\n"
        "if 'course_hidden' not in _s.modules:\n"
        "    _s.modules['course_hidden'] = _t.ModuleType('course_hidden')\n"
        "    _s.modules['course_hidden'].__path__ = []\n"
        f"for _n, _c in {modules!r}:\n"
        "    if 'course_hidden.' + _n not in _s.modules:\n"
        "        _m = _s.modules['course_hidden.' + _n] = _t.ModuleType('course_hidden.' + _n)\n"
        "        _m.__package__ = 'course_hidden'\n"
        "        setattr(_s.modules['course_hidden'], _n, _m)\n"
        "        exec(compile(_c, '<course hidden ' + _n + '>', 'exec'), _m.__dict__)\n"
        "_s = _t = _n = _c = _m = None\n"
        "del _s, _t, _n, _c, _m\n"
    )


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


def _folder_size(folder: Path, most: int = 20_000) -> int:
    """Bytes in the files under ``folder`` (a folder of more than ``most`` entries: infinite)."""
    total, seen = 0, 0
    for path, _dirs, files in os.walk(folder):
        seen += len(files) + len(_dirs)
        if seen > most:
            return 2**62
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(path, name)).st_blocks * 512
    return total


class CourseExecute(Execute):
    """nbgrader's Execute, made to survive the submission it runs.

    - the kernel runs in the sandbox ``sandbox`` (:mod:`course.grading.sandbox`) with its
      resource limits, an allow-listed environment, an IPython startup file that snapshots the
      guarded functions, and a watchdog that ends it above its memory, process or disk limit;
    - the hidden checks a test cell imports are sent with that cell (:func:`hidden_loader`),
      never put where the kernel could read them;
    - a kernel death, or a cell that ignores the timeout's interrupt, is recorded in that cell
      and every later code cell gets a "not run" error (so it scores 0, never full marks);
    - outputs are truncated while they arrive (never the error outputs);
    - a test cell that produces a value (a bare expression, which nbgrader reads as partial
      credit) fails;
    - the record the kernel publishes with a guard's error (:func:`course.checks._common.
      publish_record`) is taken out of the outputs, and every test cell gets a
      :class:`~course.grading.verdict.PartVerdict`;
    - at the end, an integrity probe reports tampering; every process the kernel started is
      killed. What happened is kept in the notebook's metadata ``course_grader``.
    """

    memory_mb = Integer(DEFAULT_MEMORY_MB, help="Data memory limit of the kernel (MB).").tag(
        config=True
    )
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU time of a kernel process (s).").tag(
        config=True
    )
    processes = Integer(Limits.processes, help="Processes in the sandbox.").tag(config=True)
    scratch_mb = Integer(Limits.scratch_mb, help="Scratch folder size (MB).").tag(config=True)
    max_output_chars = Integer(MAX_OUTPUT_CHARS, help="Output kept per cell.").tag(config=True)
    threads = Integer(0, help="Threads for BLAS/OpenMP/PyTorch in the kernel (0: leave).").tag(
        config=True
    )
    sandbox = Unicode(
        "auto", help="auto, bwrap, landlock or none (see course.grading.sandbox)."
    ).tag(config=True)
    bwrap = Unicode("", help="The bwrap binary a probe chose (empty: find one).").tag(config=True)
    hidden_dir = Unicode(
        "", help="Folder holding course_hidden/, read outside the sandbox (empty: none)."
    ).tag(config=True)
    preload = Unicode("numpy", help="Modules imported by the startup file.").tag(config=True)

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(**kwargs)
        self.kernel_name = "python3"

    def _sandbox(self) -> Sandbox:
        if self.sandbox == "bwrap" and self.bwrap:
            return Bubblewrap(self.bwrap)
        if self.sandbox == "landlock":
            return Landlock()
        if self.sandbox == "none":
            return NoSandbox()
        return choose(self.sandbox)

    def _limits(self) -> Limits:
        return Limits(self.memory_mb, self.cpu_seconds, self.processes, self.scratch_mb)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        self._runtime = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        self._scratch = self._runtime / "scratch"
        self._scratch.mkdir()
        km.sandbox, km.limits = self._sandbox(), self._limits()
        km.runtime, km.scratch = self._runtime, self._scratch
        km.transport, km.ip = "ipc", str(self._runtime / "kernel")
        km.connection_file = str(self._runtime / "kernel.json")
        return km

    # kernel start: environment, startup file, watchdog
    async def async_start_new_kernel(self, **kwargs) -> None:
        ipython_dir = self._runtime / "ipython"
        startup = ipython_dir / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-course-grader.py").write_text(_STARTUP, encoding="utf-8")
        import course

        kwargs["env"] = kernel_environment(
            self.km.sandbox.cwd(self._scratch),
            self.threads,
            IPYTHONDIR=str(ipython_dir),
            PYTHONPATH=str(Path(course.__file__).resolve().parents[1]),
            COURSE_GRADING_TOKEN=self._token,
            COURSE_GRADER_PRELOAD=self.preload,
        )
        kwargs["cwd"] = str(self._scratch)
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
        """A thread that ends the kernel's sandbox above the memory, process or disk limits."""
        process, _pgid = self._kernel_process()
        if process is None:
            return
        memory = (1.25 * self.memory_mb + 1024) * 2**20 if self.memory_mb > 0 else float("inf")
        # what the sandbox may write on the host: the runtime folder (sockets) and, without
        # bwrap's tmpfs, the scratch folder inside it; 16 MB more for the grader's own files
        disk = (self.scratch_mb + 16) * 2**20 if self.scratch_mb > 0 else float("inf")
        stop = self._watchdog_stop = threading.Event()

        def over_limit(tree) -> str | None:
            if self.processes > 0 and len(tree) > self.processes + 2:
                return f"process limit exceeded ({len(tree)} processes, limit {self.processes})"
            rss = sum(p.memory_info().rss for p in tree)
            if rss > memory:
                return f"memory limit exceeded ({rss / 2**20:.0f} MB resident)"
            used = _folder_size(self._runtime)
            if used > disk:
                return f"scratch limit exceeded ({used / 2**20:.0f} MB written on the host)"
            return None

        def watch() -> None:
            try:
                import psutil

                root = psutil.Process(process.pid)
            except Exception:  # noqa: BLE001
                return
            while not stop.wait(0.2):
                try:
                    why = over_limit([root, *root.children(recursive=True)])
                except Exception:  # noqa: BLE001 - the kernel is gone
                    return
                if why:
                    self._killed = why
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
        self._records: dict[int, dict] = {}
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
            runtime = getattr(self, "_runtime", None)
            if runtime is not None:
                shutil.rmtree(runtime, ignore_errors=True)
        nb.metadata["course_grader"] = {
            "events": self._events,
            "probe": self._probe,
            "dead": self._dead,
            "verdicts": [verdict.to_dict() for verdict in self._verdicts(nb)],
        }
        return nb, resources

    def _verdicts(self, nb) -> list[PartVerdict]:
        """The verdict of every test cell: its first error, and the kernel's record of it."""
        verdicts = []
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                record = self._records.get(index)
                verdicts.append(judge_cell(meta.get("grade_id", ""), cell.outputs, record))
        return verdicts

    def preprocess_cell(self, cell, resources, index):
        if self._dead:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [_error_output("NotRun", f"not run: {self._dead}")]
            return cell, resources
        self._chars[index] = 0
        source = cell.source
        graded = cell.metadata.get("nbgrader", {}).get("grade")
        if graded and self.hidden_dir and "course_hidden" in source:
            cell.source = hidden_loader(self.hidden_dir, source) + source
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
                    "memory": "memory" in (self._killed or ""),
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
        finally:
            cell.source = source
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
            if RECORD_MIME in data:  # the record of a guard's error: data, not an output
                self._records[cell_index] = data[RECORD_MIME]
                return None
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


def secret_lines(hidden: str | os.PathLike, source_nb, *, checks: bool = True) -> list[str]:
    """Lines of the hidden checks (``hidden/course_hidden/*.py``) and of the solutions.

    Only lines specific enough to recognise (16 characters or more, stripped) and absent from
    the student version count: a line the student was given is no secret. ``checks=False``
    leaves out the hidden checks (shown after the deadline).
    """
    folder = Path(hidden, "course_hidden")
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.py")) if checks]
    solution = re.compile(r"BEGIN SOLUTION(.*?)END SOLUTION", re.DOTALL)
    public = set()
    for cell in source_nb.cells:
        texts += solution.findall(cell.source)
        texts += HIDDEN_BLOCK.findall(cell.source) if checks else []
        given = HIDDEN_BLOCK.sub("", solution.sub("", cell.source))
        public.update(line.strip() for line in given.splitlines())
    lines = {line.strip() for text in texts for line in text.splitlines()}
    return sorted(x for x in lines if len(x) >= 16 and x not in public and "SOLUTION" not in x)


def _redact(text: str, secrets) -> str:
    for line in secrets:
        if line in text:
            text = text.replace(line, "[redacted]")
    return text


class ScrubFeedback(NbGraderPreprocessor):
    """Feedback shows each test cell's verdict and message, never its code or what it printed.

    A test cell's hidden block is removed from its source; its outputs are replaced by one line:
    "passed", or the error's name and message (no traceback into the checks). Whatever the cell
    printed is dropped: a hook the student installed earlier can print from inside a hidden
    check. Elsewhere, an error raised inside a hidden check is reduced to its message.
    """

    secrets = List(Unicode(), help="Lines never shown in an output (see secret_lines).").tag(
        config=True
    )
    show_hidden = Bool(
        False, help="Keep the hidden tests in the test cells (after the deadline)."
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        self._redact_outputs(cell)
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("grade") and not nbgrader.get("solution"):
            if not self.show_hidden:
                cell.source = HIDDEN_BLOCK.sub("", cell.source).rstrip("\n")
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                ename, evalue = errors[0].get("ename"), str(errors[0].get("evalue", ""))[:500]
                cell.outputs = [_error_output(ename, evalue)]
            else:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="passed\n")]
            return cell, resources
        for output in cell.get("outputs", []):
            traceback = "\n".join(output.get("traceback", []))
            if output.get("output_type") == "error" and "course hidden" in traceback:
                output.traceback = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources

    def _redact_outputs(self, cell) -> None:
        """Every line of a hidden check or a solution becomes ``[redacted]`` in the outputs."""
        secrets = self.secrets
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = _redact(output.text, secrets)
            for key, value in output.get("data", {}).items():
                if isinstance(value, str):
                    output.data[key] = _redact(value, secrets)
            if "evalue" in output:
                output.evalue = _redact(str(output.evalue), secrets)
                output.traceback = [_redact(line, secrets) for line in output.traceback]
