"""The reports of a class run: ``grades.csv``, ``results.json``, feedback pages, the summary."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .config import _nbgrader_log
from .layout import COURSE_ID, Course
from .verdict import PartStatus, PartVerdict


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


def _rmtree(path: Path) -> None:
    def unlock(function, name, _excinfo):
        os.chmod(name, 0o700)
        function(name)

    shutil.rmtree(path, onerror=unlock)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _write_reports(
    course, lab, rows, auto_parts, reports: Path, seconds: float, show_hidden: bool = False
) -> ClassRun:
    reports.mkdir(parents=True, exist_ok=True)
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


def summary(run: ClassRun, workers: int | None = 1) -> str:
    """A table of the class run: per part, mean score and how many got it; statuses."""
    rows = run.rows
    n = len(rows)
    lines = [
        f"{run.lab}: {n} student(s) graded in {run.seconds:.1f} s "
        f"({f'{workers} worker(s)' if workers else 'a Dask cluster'}, "
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
