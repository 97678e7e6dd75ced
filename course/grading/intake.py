"""Intake of a submissions folder: find, read, check and clean each student's notebook."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .layout import MAX_NOTEBOOK_BYTES, CourseError
from .scan import library_copies, scan_notebook


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
    cells = [_clean_cell(item, known, notes) for item in raw.get("cells", [])]
    cells = [cell for cell in cells if cell is not None]
    seen = _drop_duplicate_ids(cells, notes)
    _restore_locked_cells(cells, known, seen, notes)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(source_nb.metadata.get("kernelspec", {}))
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"
    nbformat.validate(nb)
    return nb


_NEW_CELL = {
    "code": nbformat.v4.new_code_cell,
    "markdown": nbformat.v4.new_markdown_cell,
    "raw": nbformat.v4.new_raw_cell,
}


def _clean_cell(item, known: dict, notes: list[str]):
    """A new cell of the submitted cell's type and source, with the source's nbgrader metadata
    for a known ``grade_id``; None for something that is not a cell.
    """
    if not isinstance(item, dict) or item.get("cell_type") not in _NEW_CELL:
        return None
    source = item.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    cell = _NEW_CELL[item["cell_type"]](str(source))
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    meta = metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    if grade_id is None:
        return cell
    if grade_id not in known:
        notes.append(f"unknown grade_id {str(grade_id)[:40]!r}: cell kept as a plain cell")
        return cell
    original = known[grade_id].metadata
    cell.metadata["nbgrader"] = json.loads(json.dumps(original["nbgrader"]))
    for key in ("deletable", "editable"):
        if key in original:
            cell.metadata[key] = original[key]
    return cell


def _drop_duplicate_ids(cells: list, notes: list[str]) -> set[str]:
    """Keep the nbgrader metadata on the last copy of a duplicated cell only (as nbgrader's
    DeduplicateIds); return the grade ids present.
    """
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
    return seen


def _restore_locked_cells(cells: list, known: dict, seen: set[str], notes: list[str]) -> None:
    """Put deleted locked code cells (setup, imports) back after the cell that preceded them in
    the source; test cells are left to nbgrader's ``add_missing_cells``.
    """
    order = list(known)
    for position, grade_id in enumerate(order):
        source_cell = known[grade_id]
        nbg = source_cell.metadata["nbgrader"]
        if grade_id in seen or source_cell.cell_type != "code" or not nbg.get("locked"):
            continue
        if nbg.get("grade"):
            continue
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


def own_work_table(lab: str) -> dict[str, str]:
    """The library functions ``lab`` asks students to write (``course.checks.labNN.OWN_WORK``)."""
    import importlib

    try:
        return dict(importlib.import_module(f"course.checks.{lab[:5]}").OWN_WORK)
    except (ImportError, AttributeError):
        return {}


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
    table = own_work_table(lab)
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
        submission.review += library_copies(submission.notebook, table)
    return [pools[s] for s in sorted(pools)]
