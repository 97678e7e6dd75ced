"""Validate a notebook the way the grader would, for students (visible tests only)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from .intake import own_work_table
from .kernel import CourseExecute
from .layout import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, HIDDEN_BLOCK, CourseError
from .sandbox import NoSandbox
from .scan import library_copies, scan_notebook


def validate(notebook, *, timeout: int = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
    """Run a notebook as the grader would and say which parts pass the visible tests.

    The notebook file is not modified. Hidden tests are not needed (any hidden-test block is
    skipped).

    Returns
    -------
    rows : list of dict
        ``part``, ``points``, ``passed`` (bool) and ``message`` per test cell.
    findings : list of str
        What the grader would flag: tampering, and functions that look like a pasted copy of
        the library's implementation of a part (for the instructor's review).
    """
    path = Path(notebook)
    if not path.is_file():
        raise CourseError(f"notebook not found: {path}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001
        raise CourseError(f"{path} is not a valid notebook ({error})") from None
    tamper, _review = scan_notebook(nb)
    tamper += library_copies(nb, own_work_table(path.stem))  # flagged for review when graded
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = HIDDEN_BLOCK.sub("", cell.source)
            cell.outputs = []
    # the student's own notebook on the student's own machine: nothing to protect from it, so
    # no sandbox (the same Unix-socket transport and resource limits as grading)
    executor = CourseExecute(
        timeout=timeout,
        memory_mb=memory_mb,
        sandbox=NoSandbox.name,
        preload="numpy",
        iopub_timeout=10,
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
