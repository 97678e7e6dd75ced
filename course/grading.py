"""Autograding engine of the course: release the labs, grade a class, validate a notebook.

Built on nbgrader 0.9, hardened for adversarial submissions (see ``autograder/README.md``):

- every student is graded in its **own process** (a duplicate ``grade_id`` or a crash never
  stops the class), with a per-cell timeout, a memory limit on the grading kernel, and all the
  processes a submission starts killed afterwards;
- a kernel that dies, an infinite loop or a memory bomb gives a graded result for what ran
  (the cells after a kernel death count as failed), never a lost row;
- deleted or edited test cells are restored from the source; points come from the gradebook;
- huge outputs are truncated while the notebook runs; feedback never shows the hidden tests;
- tampering with the comparison functions (``numpy.allclose``, builtins, the check functions,
  the IPython shell ...) is detected at run time (:mod:`course.checks._common`, an IPython
  startup file, a final integrity probe) and statically (:func:`scan_notebook`), and a tampered
  submission gets no points and is flagged in ``grades.csv``.

The command line (:mod:`course.cli`) calls :func:`release`, :func:`autograde` and
:func:`validate`. Every function takes the course root (a folder with ``solutions/``,
``notebooks/labs/`` and ``autograder/``) and a workspace through :class:`Course`, so tests can
point them at a copy of the repository.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import ctypes
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
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if "jsonschema" not in sys.modules:
    # nbformat -> jsonschema imports rfc3987_syntax, which builds a grammar for 4+ s, for IRI
    # formats that notebooks never use: every grading process would pay it
    sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    SaveAutoGrades,
)
from traitlets import Integer, List, Unicode
from traitlets.config import Config

__all__ = [
    "Course",
    "CourseError",
    "Submission",
    "autograde",
    "collect_submissions",
    "configure",
    "nbgrader_config",
    "release",
    "scan_notebook",
    "validate",
]

COURSE_ID = "dlmi-course"
DEFAULT_TIMEOUT = 120  # seconds per cell
DEFAULT_MEMORY_MB = 4096  # data memory of the grading kernel
MAX_OUTPUT_CHARS = 20_000  # per cell, while the notebook runs
MAX_NOTEBOOK_BYTES = 200 * 2**20  # a submitted notebook larger than this is refused
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
HIDDEN_BLOCK = re.compile(r"[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL)
LEAKS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "course_hidden",
)
STATUS_ORDER = (
    "tampered",
    "no notebook",
    "ambiguous",
    "invalid notebook",
    "error",
    "kernel died",
    "memory",
    "timeout",
    "review",
    "ok",
)


class CourseError(Exception):
    """A user error (unknown lab, missing folder ...): the CLI prints it without a traceback."""


# --- the course layout -----------------------------------------------------------------------
@dataclass(frozen=True)
class Course:
    """Where the course lives (``root``) and where grading writes (``workspace``).

    Parameters
    ----------
    root : Path
        The repository: ``solutions/<lab>/<lab>.ipynb`` (sources), ``notebooks/labs/`` (student
        versions), ``autograder/course_hidden/`` (hidden checks).
    workspace : Path
        Submissions, autograded copies, feedback, reports and the gradebook (never committed).

    Examples
    --------
    >>> course = Course.at()
    >>> course.solutions.name
    'solutions'
    """

    root: Path
    workspace: Path

    @classmethod
    def at(cls, root: str | os.PathLike | None = None, workspace=None) -> Course:
        """The course at ``root`` (default: this repository), workspace defaulting to
        ``$COURSE_WORKSPACE`` or ``<root>/autograder/workspace``."""
        root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
        root = root.resolve()
        if workspace is None:
            workspace = os.environ.get("COURSE_WORKSPACE") or root / "autograder" / "workspace"
        return cls(root, Path(workspace).resolve())

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def student_labs(self) -> Path:
        return self.root / "notebooks" / "labs"

    @property
    def hidden(self) -> Path:
        return self.root / "autograder"

    @property
    def db_url(self) -> str:
        """The gradebook; parallel graders wait up to 60 s for SQLite's lock."""
        return f"sqlite:///{self.workspace / 'gradebook.db'}?timeout=60"

    def labs(self) -> list[str]:
        """The labs that have a source notebook, sorted."""
        if not self.solutions.is_dir():
            return []
        return sorted(p.name for p in self.solutions.iterdir() if (p / f"{p.name}.ipynb").is_file())

    def source(self, lab: str) -> Path:
        """The source notebook of ``lab``; :class:`CourseError` if there is none."""
        path = self.solutions / lab / f"{lab}.ipynb"
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", lab) or not path.is_file():
            known = ", ".join(self.labs()) or "none"
            raise CourseError(f"unknown lab {lab!r}: no {path}. Labs: {known}")
        return path

    def pythonpath(self) -> list[str]:
        """What the grading kernel needs on ``sys.path``: the hidden checks and the course."""
        return [str(self.hidden), str(self.root)]


# --- static scan of the submitted code -------------------------------------------------------
_WATCHED_ROOTS = (
    "numpy",
    "torch",
    "builtins",
    "math",
    "operator",
    "scipy",
    "skimage",
    "course",
    "course_hidden",
    "IPython",
    "ipykernel",
    "nbgrader",
    "nbclient",
    "jupyter_client",
    "importlib",
    "functools",
)
_ALLOWED_TARGETS = ("torch.backends.",)
_SHELL_OK = {"run_line_magic", "run_cell_magic", "system", "getoutput", "magic"}
_SYS_ATTRS = {"modules", "meta_path", "path_hooks", "path_importer_cache", "settrace", "setprofile"}
_SYS_CALLS = {"settrace", "setprofile", "_getframe", "addaudithook"}
_BUILTIN_NAMES = frozenset(
    ("vars", "globals", "locals", "setattr", "delattr", "exec", "eval", "compile", "__import__")
)
_DEFAULT_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "torch": "torch",
    "F": "torch.nn.functional",
    "nn": "torch.nn",
    "builtins": "builtins",
    "__builtins__": "builtins",
    "math": "math",
    "sys": "sys",
    "check": "course.checks",
    "hidden": "course_hidden",
    "course": "course",
    "get_ipython": "IPython.get_ipython",
}


class _Scanner(ast.NodeVisitor):
    """Finds code that changes what the grader relies on (see :func:`scan_notebook`)."""

    def __init__(self) -> None:
        self.aliases = dict(_DEFAULT_ALIASES)
        self.tamper: list[str] = []
        self.review: list[str] = []
        self.cell = 0
        self.quiet = False

    # resolution of an expression to a dotted module path
    def resolve(self, node) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            return f"builtins.{node.id}" if node.id in _BUILTIN_NAMES else None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            const = _const_str(node.args[0]) if node.args else None
            if func == "IPython.get_ipython" or func == "IPython.core.getipython.get_ipython":
                return "IPython.shell"
            if func in ("builtins.__import__", "importlib.import_module") and const:
                return const
            if func in ("builtins.vars",) and node.args:
                return self.resolve(node.args[0])
            return None
        if isinstance(node, ast.Subscript):
            base = self.resolve(node.value)
            key = _const_str(node.slice)
            if base == "sys.modules" and key:
                return key
            if base and base.endswith(".__dict__") and key:
                return f"{base[: -len('.__dict__')]}.{key}"
        return None

    def watched(self, dotted: str | None) -> bool:
        if not dotted or dotted.startswith(_ALLOWED_TARGETS):
            return False
        head = dotted.split(".")[0]
        if head == "sys":
            parts = dotted.split(".")
            return len(parts) > 1 and parts[1] in _SYS_ATTRS
        return head in _WATCHED_ROOTS

    def flag(self, message: str, *, review: bool = False) -> None:
        if self.quiet:
            return
        target = self.review if review else self.tamper
        entry = f"cell {self.cell}: {message}"
        if entry not in target:
            target.append(entry)

    # bindings
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, alias.name)
            else:
                head = alias.name.split(".")[0]
                self.bind(head, head)
            if alias.name.split(".")[0] == "ctypes":
                self.flag("imports ctypes", review=True)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                continue
            self.bind(alias.asname or alias.name, f"{module}.{alias.name}")

    def bind(self, name: str, dotted: str | None) -> None:
        if name in ("check", "hidden") and not (dotted or "").startswith(
            ("course.checks", "course_hidden")
        ):
            self.flag(f"rebinds the name {name!r} used by the test cells")
        if dotted:
            self.aliases[name] = dotted
        else:
            self.aliases.pop(name, None)

    def bind_target(self, target, value_path: str | None = None) -> None:
        if isinstance(target, ast.Name):
            if target.id in ("check", "hidden", "__builtins__"):
                self.flag(f"rebinds the name {target.id!r} used by the grader")
            self.bind(target.id, value_path) if value_path else self.aliases.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind_target(element)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value)
        else:
            self.check_target(target)

    def check_target(self, target) -> None:
        if isinstance(target, ast.Attribute):
            dotted = self.resolve(target)
            if self.watched(dotted):
                self.flag(f"assigns {dotted}")
            elif self.resolve(target.value) == "IPython.shell":
                self.flag(f"changes the IPython shell ({target.attr})")
        elif isinstance(target, ast.Subscript):
            key = _const_str(target.slice) or "..."
            holder = target.value
            if isinstance(holder, ast.Call) and self.resolve(holder.func) in (
                "builtins.vars",
                "builtins.globals",
                "builtins.locals",
            ):
                inner = self.resolve(holder.args[0]) if holder.args else None
                if holder.args and (inner is None or self.watched(inner)):
                    self.flag(f"assigns vars({inner or '...'})[{key!r}]")
                elif not holder.args and key in ("check", "hidden", "__builtins__"):
                    self.flag(f"rebinds {key!r} through globals()")
                return
            base = self.resolve(holder)
            if base in ("sys.modules", "builtins", "IPython.shell") or (
                base and base.endswith(".__dict__") and self.watched(base)
            ):
                self.flag(f"assigns {base}[{key!r}]")

    def visit_Assign(self, node: ast.Assign) -> None:
        value_path = self.resolve(node.value)
        for target in node.targets:
            self.bind_target(target, value_path)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.bind_target(node.target, self.resolve(node.value) if node.value else None)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.check_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id in ("check", "hidden"):
                    self.flag(f"deletes the name {target.id!r} used by the test cells")
            else:
                self.check_target(target)
        self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:
        if node.name in ("check", "hidden"):
            self.flag(f"defines a function named {node.name!r} used by the test cells")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name in ("check", "hidden"):
            self.flag(f"defines a class named {node.name!r} used by the test cells")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.resolve(node.value) == "IPython.shell" and node.attr not in _SHELL_OK:
            self.flag(f"uses the IPython shell's {node.attr}")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "NBGRADER_EXECUTION" in node.value:
            self.flag("reads NBGRADER_EXECUTION (behaves differently when graded)", review=True)

    def visit_Call(self, node: ast.Call) -> None:
        func = self.resolve(node.func)
        first = self.resolve(node.args[0]) if node.args else None
        name = node.func.id if isinstance(node.func, ast.Name) else None
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name in ("setattr", "delattr") or func in ("builtins.setattr", "builtins.delattr"):
            if first is None or self.watched(first) or first == "IPython.shell":
                self.flag(f"{name or func}() on {first or 'an object it computes'}")
        elif attr in ("__setattr__", "__delattr__") and node.args:
            if first is None or self.watched(first):
                self.flag(f"{attr}() on {first or 'an object it computes'}")
        elif attr in ("update", "setdefault", "pop", "clear", "__setitem__", "insert", "append"):
            base = self.resolve(node.func.value)
            if base in ("sys.modules", "sys.meta_path", "sys.path_hooks", "builtins"):
                self.flag(f"changes {base} ({attr})")
            elif base and base.endswith(".__dict__") and self.watched(base):
                self.flag(f"changes {base} ({attr})")
            elif isinstance(node.func.value, ast.Call) and self.resolve(node.func.value.func) in (
                "builtins.vars",
            ):
                target = self.resolve(node.func.value.args[0]) if node.func.value.args else None
                if target is None or self.watched(target):
                    self.flag(f"changes vars({target}) ({attr})")
        if func and func.startswith("sys.") and func.split(".")[1] in _SYS_CALLS:
            self.flag(f"calls {func}()")
        if func in ("importlib.reload",) and (first is None or self.watched(first)):
            self.flag(f"reloads {first or 'a module'}")
        if func and func.split(".")[-1] in ("patch", "object") and "mock" in func:
            self.flag(f"patches with {func}()")
        if func in ("IPython.shell.run_line_magic", "IPython.shell.run_cell_magic"):
            code = _const_str(node.args[-1]) if len(node.args) >= 2 else None
            if code:
                with contextlib.suppress(SyntaxError, ValueError):
                    self.visit(ast.parse(_python_source(code)))
        if name in ("exec", "eval", "compile") and node.args:
            if not isinstance(node.args[0], ast.Constant):
                self.flag(f"runs generated code with {name}()", review=True)
        if func and func.startswith(("gc.get_referrers", "gc.get_objects", "inspect.currentframe")):
            self.flag(f"inspects the interpreter with {func}()", review=True)
        self.generic_visit(node)


def _const_str(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


_TAMPER_PATTERNS = [
    re.compile(r"\b(np|numpy|torch|F|builtins|__builtins__|math|check|hidden)\s*\.[\w.]+\s*=(?!=)"),
    re.compile(r"\bsetattr\s*\(\s*(np|numpy|torch|F|builtins|__builtins__|math|check|hidden)\b"),
    re.compile(r"sys\.modules\s*\["),
    re.compile(r"get_ipython\(\)\s*\.\s*(?!run_line_magic|run_cell_magic|system|getoutput)\w+"),
]


def _python_source(source: str) -> str:
    """The cell as plain Python (IPython magics and shell escapes become calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - any failure: scan the raw text
        return source


def scan_notebook(nb, restored: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Statically find code that tampers with what the grader relies on.

    Looks at every code cell for assignments to attributes of NumPy, PyTorch, ``builtins``,
    ``math``, the course's check modules and the hidden checks (directly, through an alias,
    ``setattr``, ``__dict__``/``vars()`` or ``sys.modules``), changes of the IPython shell
    (input transformers, events, ``showtraceback`` ...), rebinding of the ``check``/``hidden``
    names, ``sys.settrace``, ``mock.patch`` and ``importlib.reload`` of watched modules.

    Parameters
    ----------
    nb : NotebookNode
    restored : dict, optional
        ``grade_id`` -> source code of the cells that the grader restores from the source (the
        locked cells): that code is what runs, so it is read for the names it binds (``check``,
        ``np`` ...) and never flagged.

    Returns
    -------
    tamper : list of str
        Findings that make the submission "tampered" (no points).
    review : list of str
        Findings worth a look (``exec`` of generated code, ``ctypes`` ...), points kept.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "import numpy as np\\nnp.allclose = lambda *a, **k: True")])
    >>> scan_notebook(nb)[0]
    ['cell 0: assigns numpy.allclose']
    """
    scanner = _Scanner()
    restored = restored or {}
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        scanner.quiet = grade_id in restored
        scanner.cell = index
        source = _python_source(restored.get(grade_id, cell.source))
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            if scanner.quiet:
                continue
            for pattern in _TAMPER_PATTERNS:
                match = pattern.search(source)
                if match:
                    scanner.flag(f"{match.group(0).strip()} (in a cell that does not parse)")
            continue
        scanner.visit(tree)
    return scanner.tamper, scanner.review


# --- the grading kernel ----------------------------------------------------------------------
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


# --- nbgrader configuration ------------------------------------------------------------------
def nbgrader_config(
    course: Course,
    *,
    release_dir: str | os.PathLike | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    threads: int = 0,
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
    c.CourseExecute.memory_mb = int(memory_mb)
    c.CourseExecute.threads = int(threads)
    c.CourseExecute.pythonpath = course.pythonpath()
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
    c.merge(nbgrader_config(course))
    c.CourseDirectory.db_url = course.db_url.split("?", 1)[0]


def _tools_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: make it findable when
    the course runs from a virtual environment that is not activated."""
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


# --- release ---------------------------------------------------------------------------------
_RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "widgets")


def _normalise_release(path: Path) -> None:
    """Strip what depends on the run from a generated student notebook; refuse leaks."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    text = nbformat.writes(nb) + "\n"
    for leak in LEAKS:
        if leak in text:
            raise CourseError(f"{path}: the student version contains {leak!r}; fix the source")
    path.write_text(text, encoding="utf-8")


def release(course: Course, labs: list[str] | None = None, out=None) -> list[Path]:
    """Generate the student versions of ``labs`` (default: all) with nbgrader.

    Output: ``out/<lab>/<lab>.ipynb`` (default ``notebooks/labs/``), deterministic (outputs,
    execution counts and run metadata stripped), checked to contain no solution and no hidden
    test. The gradebook in the workspace records each lab.

    Returns
    -------
    list of Path
        The student notebooks written.
    """
    labs = labs or course.labs()
    if not labs:
        raise CourseError(f"no lab found in {course.solutions}")
    for lab in labs:
        course.source(lab)
    out = Path(out).resolve() if out is not None else course.student_labs
    written = []
    with _workspace_lock(course.workspace):
        for lab in labs:
            _generate(course, lab, out)
            path = out / lab / f"{lab}.ipynb"
            _normalise_release(path)
            written.append(path)
    return written


# --- intake of the submissions ---------------------------------------------------------------
@dataclass
class Submission:
    """One student's entry of a submissions folder, read and checked before grading."""

    student: str
    entries: list[str] = field(default_factory=list)
    notebook: nbformat.NotebookNode | None = None
    found: str | None = None
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    tamper: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


_SKIP_PARTS = ("__MACOSX", ".ipynb_checkpoints")


def _skipped(name: str) -> bool:
    parts = Path(name).parts
    return any(p in _SKIP_PARTS or p.startswith(".") for p in parts)


def _student_id(name: str) -> str:
    stem = name[: -len(".zip")] if name.lower().endswith(".zip") else name
    if stem.lower().endswith(".ipynb"):
        stem = stem[: -len(".ipynb")]
    return re.sub(r"[^A-Za-z0-9_.@+\-]", "_", stem).strip("._") or "student"


def _candidates(entry: Path, notes: list[str]) -> list[tuple[str, object]]:
    """(name, reader) of every notebook in a folder, a zip or a notebook file."""
    found: list[tuple[str, object]] = []
    if entry.is_dir():
        for path in sorted(entry.rglob("*.ipynb")):
            relative = path.relative_to(entry).as_posix()
            if path.is_file() and not _skipped(relative):
                found.append((f"{entry.name}/{relative}", path.read_bytes))
    elif entry.suffix.lower() == ".zip":
        try:
            archive = zipfile.ZipFile(entry)
            members = archive.infolist()
        except (zipfile.BadZipFile, OSError) as error:
            notes.append(f"{entry.name} is not a readable zip ({error})")
            return []
        for info in members:
            if info.is_dir() or not info.filename.lower().endswith(".ipynb"):
                continue
            if _skipped(info.filename):
                continue
            if info.file_size > MAX_NOTEBOOK_BYTES:
                notes.append(f"{info.filename} in {entry.name} is too large")
                continue
            found.append((f"{entry.name}:{info.filename}", _zip_reader(entry, info.filename)))
    elif entry.suffix.lower() == ".ipynb":
        found.append((entry.name, entry.read_bytes))
    return found


def _zip_reader(path: Path, member: str):
    def read() -> bytes:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            return handle.read(MAX_NOTEBOOK_BYTES + 1)

    return read


def _source_cells(source_nb) -> dict[str, nbformat.NotebookNode]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def _clean_notebook(raw: dict, source_nb, notes: list[str]) -> nbformat.NotebookNode:
    """A fresh, valid notebook built from a submitted one (the original is never touched).

    Keeps each cell's type and source; outputs are dropped; the nbgrader metadata of a cell is
    kept only if its ``grade_id`` exists in the source (then taken from the source) and only on
    the last of duplicated cells; deleted locked code cells (setup, imports) are restored.
    """
    known = _source_cells(source_nb)
    cells = []
    for item in raw.get("cells", []):
        if not isinstance(item, dict):
            continue
        kind = item.get("cell_type")
        source = item.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        source = str(source)
        if kind == "code":
            cell = nbformat.v4.new_code_cell(source)
        elif kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        elif kind == "raw":
            cell = nbformat.v4.new_raw_cell(source)
        else:
            continue
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        meta = metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id is not None:
            if grade_id in known:
                cell.metadata["nbgrader"] = json.loads(
                    json.dumps(known[grade_id].metadata["nbgrader"])
                )
                for key in ("deletable", "editable"):
                    if key in known[grade_id].metadata:
                        cell.metadata[key] = known[grade_id].metadata[key]
            else:
                notes.append(f"unknown grade_id {str(grade_id)[:40]!r}: cell kept as a plain cell")
        cells.append(cell)
    # duplicates: the last copy keeps the metadata (as nbgrader's DeduplicateIds)
    seen: set[str] = set()
    for cell in reversed(cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            cell.metadata.pop("deletable", None)
            cell.metadata.pop("editable", None)
            if f"duplicate cell {grade_id}: the last copy is graded" not in notes:
                notes.append(f"duplicate cell {grade_id}: the last copy is graded")
        seen.add(grade_id)
    # deleted locked code cells (setup, imports): restore them where they were
    order = list(known)
    for position, grade_id in enumerate(order):
        source_cell = known[grade_id]
        nbg = source_cell.metadata["nbgrader"]
        if grade_id in seen or source_cell.cell_type != "code" or not nbg.get("locked"):
            continue
        if nbg.get("grade"):
            continue  # test cells: nbgrader's add_missing_cells restores them
        index = 0
        for previous in reversed(order[:position]):
            hits = [
                i
                for i, c in enumerate(cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == previous
            ]
            if hits:
                index = hits[0] + 1
                break
        restored = nbformat.from_dict(json.loads(json.dumps(source_cell)))
        restored.outputs, restored.execution_count = [], None
        restored.id = uuid.uuid4().hex[:8]
        cells.insert(index, restored)
        seen.add(grade_id)
        notes.append(f"deleted cell {grade_id} restored from the source")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(source_nb.metadata.get("kernelspec", {}))
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"
    nbformat.validate(nb)
    return nb


def collect_submissions(folder, lab: str, source_nb) -> list[Submission]:
    """Read a submissions folder: one entry per student (a folder, a ``.zip`` or a notebook).

    The student id is the entry's name (without ``.zip``/``.ipynb``). The notebook graded is
    ``<lab>.ipynb`` if there is exactly one, else the only notebook of the entry (the report
    says it was renamed); no notebook, several ambiguous ones or one that is not a valid
    notebook give status ``no notebook``, ``ambiguous`` or ``invalid notebook`` (score 0).
    Nothing in ``folder`` is modified.

    Returns
    -------
    list of Submission
        Sorted by student id.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"submissions folder not found: {folder}")
    pools: dict[str, Submission] = {}
    notebooks: dict[str, list[tuple[str, object]]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in _SKIP_PARTS:
            continue
        student = _student_id(entry.name)
        submission = pools.setdefault(student, Submission(student))
        submission.entries.append(entry.name)
        notebooks.setdefault(student, []).extend(_candidates(entry, submission.notes))
    restored = {
        gid: c.source
        for gid, c in _source_cells(source_nb).items()
        if c.metadata["nbgrader"].get("locked") and c.cell_type == "code"
    }
    for submission in pools.values():
        found = notebooks[submission.student]
        wanted = f"{lab}.ipynb"
        exact = [f for f in found if f[0].replace(":", "/").rsplit("/", 1)[-1] == wanted]
        if len(exact) == 1:
            name, reader = exact[0]
            if len(found) > 1:
                others = ", ".join(n for n, _ in found if n != name)
                submission.notes.append(f"graded {name}; ignored {others}")
        elif len(found) == 1:
            name, reader = found[0]
            submission.notes.append(f"graded {name} as {wanted} (renamed notebook)")
        elif not found:
            submission.status = "no notebook"
            listing = ", ".join(submission.entries)
            submission.notes.insert(0, f"no notebook in {listing}")
            continue
        else:
            submission.status = "ambiguous"
            names = ", ".join(n for n, _ in found)
            submission.notes.insert(0, f"several notebooks and none named {wanted}: {names}")
            continue
        submission.found = name
        try:
            data = reader()
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise ValueError("larger than 200 MB")
            raw = json.loads(data.decode("utf-8-sig"))
            if not isinstance(raw, dict) or not isinstance(raw.get("cells", []), list):
                raise ValueError("not a notebook")
            if raw.get("nbformat", 4) < 4:
                raw = nbformat.convert(nbformat.from_dict(raw), 4)
            submission.notebook = _clean_notebook(raw, source_nb, submission.notes)
        except Exception as error:  # noqa: BLE001 - any way a file can fail to be a notebook
            submission.status = "invalid notebook"
            submission.notes.insert(0, f"{name} is not a valid notebook ({type(error).__name__})")
            continue
        submission.tamper, submission.review = scan_notebook(submission.notebook, restored)
    return [pools[s] for s in sorted(pools)]


# --- grading one student (in its own process) ------------------------------------------------
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
    root, workspace, lab, student, result, timeout, memory_mb, threads, token
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
        memory_mb=memory_mb,
        threads=threads,
    )
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
    """What :func:`autograde` produced."""

    lab: str
    rows: list[dict]
    parts: list[tuple[str, float]]
    grades_csv: Path
    feedback_dir: Path
    results_json: Path
    seconds: float


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
        memory_mb=settings["memory_mb"],
        threads=settings["threads"],
        token=token,
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
        code = "from course.grading import _worker_main; _worker_main()"
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
    if workers < 1 or timeout < 1 or memory_mb < 0:
        raise CourseError("--workers and --timeout must be >= 1, --memory-mb >= 0")
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
            "memory_mb": int(memory_mb),
            "threads": max(1, (os.cpu_count() or 1) // workers),
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
        run = _write_reports(course, lab, rows, auto_parts, reports, time.monotonic() - started)
        _export_nbgrader(course, lab, reports / "nbgrader_export.csv")
    if echo is not None:
        echo(summary(run, workers))
    return run


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
        for gid, _points in auto_parts:
            part = parts.get(gid)
            if part is None:
                if parts:
                    notes.append(f"{gid}: no grade recorded")
                continue
            scores[gid] = float(part.get("auto") or 0.0)
            if part.get("error"):
                errors[gid] = part["error"]
        if not parts and result.get("status") == "ok":
            statuses.add("error")
            notes.append("no grades were recorded")
        grader = result.get("grader") or {}
        for event in grader.get("events", []):
            kind = event.get("event")
            if kind == "kernel died":
                statuses.add("memory" if event.get("memory") else "kernel died")
                notes.append(
                    f"{event.get('detail')} in cell {event.get('cell')}; later cells not run"
                )
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
        probe = grader.get("probe")
        found_at_run_time = []
        if probe and probe.get("ran"):
            found_at_run_time += probe.get("problems", [])
        elif probe is not None and not grader.get("dead"):
            review.append(f"the integrity probe did not report ({probe.get('detail', '')})")
        for error in errors.values():
            match = re.search(r"cannot be checked: (.*?)\. Restart", error)
            if error.startswith("TamperingError"):
                names = match.group(1) if match else error.split(":", 1)[-1].strip()
                found_at_run_time += [n.strip() for n in names.split(",")]
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


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _fmt(value: float) -> str:
    return f"{value:g}"


def _write_reports(course, lab, rows, auto_parts, reports: Path, seconds: float) -> ClassRun:
    grades = reports / "grades.csv"
    with open(grades, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["student", *[g for g, _ in auto_parts], "total", "max", "status", "reason"]
        )
        for row in rows:
            writer.writerow(
                [
                    row["student"],
                    *[_fmt(row["scores"][g]) for g, _ in auto_parts],
                    _fmt(row["total"]),
                    _fmt(row["max"]),
                    row["status"],
                    row["reason"],
                ]
            )
    feedback_dir = reports / "feedback"
    if feedback_dir.exists():
        _rmtree(feedback_dir)
    feedback_dir.mkdir(parents=True)
    for row in rows:
        row["feedback"] = str(_write_feedback(row, lab, auto_parts, feedback_dir))
    results = reports / "results.json"
    results.write_text(json.dumps({"lab": lab, "rows": rows}, indent=1), encoding="utf-8")
    return ClassRun(lab, rows, auto_parts, grades, feedback_dir, results, seconds)


def _write_feedback(row: dict, lab: str, auto_parts, folder: Path) -> Path:
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
    for leak in ("BEGIN HIDDEN TESTS", "course_hidden"):
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
        f"{run.lab}: {n} student(s) graded in {run.seconds:.1f} s ({workers} worker(s))",
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
        if row["status"] not in ("ok", "tampered"):
            lines.append(f"  {row['status']:<16} {row['student']}: {row['reason'][:140]}")
    lines.append(f"grades: {run.grades_csv}")
    lines.append(f"feedback: {run.feedback_dir}")
    return "\n".join(lines)


# --- validate (for students) -----------------------------------------------------------------
def validate(notebook, *, timeout: int = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
    """Run a notebook as the grader would and say which parts pass the visible tests.

    The notebook file is not modified. Hidden tests are not needed (any hidden-test block is
    skipped).

    Returns
    -------
    rows : list of dict
        ``part``, ``points``, ``passed`` (bool) and ``message`` per test cell.
    findings : list of str
        What the grader would flag as tampering.
    """
    path = Path(notebook)
    if not path.is_file():
        raise CourseError(f"notebook not found: {path}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001
        raise CourseError(f"{path} is not a valid notebook ({error})") from None
    tamper, _review = scan_notebook(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = HIDDEN_BLOCK.sub("", cell.source)
            cell.outputs = []
    executor = CourseExecute(
        timeout=timeout, memory_mb=memory_mb, pythonpath=[], preload="numpy", iopub_timeout=10
    )
    executor.preprocess(nb, {"metadata": {"path": str(path.parent.resolve())}})
    rows = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        message = ""
        if errors:
            message = f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
        rows.append(
            {
                "part": meta.get("grade_id", "?"),
                "points": float(meta.get("points", 0)),
                "passed": not errors,
                "message": message,
            }
        )
    probe = nb.metadata.get("course_grader", {}).get("probe") or {}
    findings = tamper + list(probe.get("problems", []))
    return rows, findings
