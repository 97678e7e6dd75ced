"""Static scan of a submission: code that tampers with the grading, found before it runs."""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import inspect
import re
import textwrap

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
        if node.attr == "__code__" and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.flag("replaces a function's __code__ (the own-work rule relies on it)")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "NBGRADER_EXECUTION" in node.value:
            self.flag("reads NBGRADER_EXECUTION (behaves differently when graded)", review=True)

    def visit_Call(self, node: ast.Call) -> None:
        func = self.resolve(node.func)
        first = self.resolve(node.args[0]) if node.args else None
        self._setattr_call(node, func, first)
        self._mutating_call(node)
        self._suspect_call(node, func, first)
        self.generic_visit(node)

    def _setattr_call(self, node: ast.Call, func: str | None, first: str | None) -> None:
        """``setattr``/``delattr`` (or the dunder methods) on a watched object."""
        name = node.func.id if isinstance(node.func, ast.Name) else None
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name in ("setattr", "delattr") or func in ("builtins.setattr", "builtins.delattr"):
            if first is None or self.watched(first) or first == "IPython.shell":
                self.flag(f"{name or func}() on {first or 'an object it computes'}")
        elif attr in ("__setattr__", "__delattr__") and node.args:
            if first is None or self.watched(first):
                self.flag(f"{attr}() on {first or 'an object it computes'}")

    def _mutating_call(self, node: ast.Call) -> None:
        """A mutating method (``update``, ``pop`` ...) of ``sys.modules``, ``builtins`` or a
        watched namespace (``module.__dict__``, ``vars(module)``).
        """
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if attr not in ("update", "setdefault", "pop", "clear", "__setitem__", "insert", "append"):
            return
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

    def _suspect_call(self, node: ast.Call, func: str | None, first: str | None) -> None:
        """Calls that change the interpreter (``sys.settrace``, reload, mock.patch), run magics
        (scanned as code) or generated code, or inspect the interpreter.
        """
        name = node.func.id if isinstance(node.func, ast.Name) else None
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
    >>> import nbformat
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


def _tokens(source: str) -> list[str]:
    """The code of a function without its docstring and comments, as a list of tokens."""
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(getattr(body[0], "value", None), ast.Constant):
                node.body = body[1:] or [ast.Pass()]
    return re.findall(r"\w+|[^\w\s]", ast.unparse(tree))


def library_copies(nb, table: dict[str, str], threshold: float = 0.9) -> list[str]:
    """Functions of a notebook that look like a pasted copy of a library function a lab forbids.

    Each function defined in a code cell is compared, token by token (docstrings and comments
    left out), with the source of each function of ``table`` (dotted name -> part); a similarity
    of ``threshold`` or more is reported for the instructor to review (a plagiarism question: the
    grader cannot tell a copy from a coincidence).

    Examples
    --------
    >>> import inspect, nbformat
    >>> from course.arithmetic import same_padding
    >>> cell = nbformat.v4.new_code_cell(inspect.getsource(same_padding))
    >>> nb = nbformat.v4.new_notebook(cells=[cell])
    >>> library_copies(nb, {"course.arithmetic.same_padding": "q2"})[0][:46]
    'cell 0: same_padding is 100% like course.arith'
    """
    references = {}
    for dotted in table:
        module, _, name = dotted.rpartition(".")
        try:
            function = getattr(importlib.import_module(module), name)
            references[dotted] = _tokens(inspect.getsource(function))
        except Exception:  # noqa: BLE001 - not installed, or no source: nothing to compare
            continue
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_python_source(cell.source))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            tokens = _tokens(ast.unparse(node))
            for dotted, reference in references.items():
                ratio = difflib.SequenceMatcher(None, tokens, reference, autojunk=False).ratio()
                if ratio >= threshold:
                    found.append(
                        f"cell {index}: {node.name} is {ratio:.0%} like {dotted} "
                        f"({table[dotted]}; a pasted copy?)"
                    )
    return found
