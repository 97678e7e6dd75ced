"""The client's side of a result: keep it under its content hash, write it into the workspace.

Only the client (the ``course autograde`` process) runs this module. A result is saved as soon
as it arrives, under :func:`~course.grading.task.result_key` (the lab's files, the grading
settings, the course version, the student and the submission's bytes), so that a class run that
was interrupted loses nothing already graded: the rerun reuses every saved result whose key is
unchanged and grades the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path

import nbformat

from .layout import COURSE_ID, Course


class ResultStore:
    """Results of one lab, one JSON file per content hash: ``<workspace>/results/<lab>/``.

    Examples
    --------
    >>> import tempfile
    >>> store = ResultStore(Path(tempfile.mkdtemp()), "lab01_images")
    >>> store.save("ab12", {"student": "ada", "status": "ok"})
    >>> store.load("ab12")["student"], store.load("cd34")
    ('ada', None)
    """

    def __init__(self, workspace: Path, lab: str) -> None:
        self.folder = Path(workspace) / "results" / lab

    def load(self, key: str) -> dict | None:
        """The result saved under ``key``; None if there is none (or it cannot be read)."""
        path = self.folder / f"{key}.json"
        with contextlib.suppress(OSError, ValueError):
            result = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(result, dict) and not result.get("retry"):
                return result
        return None

    def save(self, key: str, result: dict) -> None:
        """Save ``result`` under ``key`` (written whole or not at all)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(result), encoding="utf-8")
        tmp.replace(self.folder / f"{key}.json")


def import_result(course: Course, lab: str, student: str, result: dict, logs: Path) -> dict:
    """Write a task's products into the workspace and its grades into the gradebook.

    The autograded notebook goes to ``autograded/<student>/<lab>/``, the feedback page to
    ``feedback/<student>/<lab>/``, the log to ``logs``, and nbgrader's own
    :class:`~nbgrader.preprocessors.SaveAutoGrades` records the autograded notebook's grades in
    the gradebook, as ``nbgrader autograde`` would.

    Returns
    -------
    dict
        ``result`` with ``feedback`` set to the page's path in the workspace (or None).
    """
    result = dict(result)
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{student}.log").write_text(result.pop("log", "") or "", encoding="utf-8")
    result["feedback"] = None
    notebook = result.pop("autograded", None)
    page = result.pop("feedback_html", None)
    if notebook:
        folder = course.workspace / "autograded" / student / lab
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{lab}.ipynb").write_text(notebook, encoding="utf-8")
        _save_grades(course, lab, student, nbformat.reads(notebook, as_version=4))
    if page:
        folder = course.workspace / "feedback" / student / lab
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{lab}.html").write_text(page, encoding="utf-8")
        result["feedback"] = str(folder / f"{lab}.html")
    return result


def _save_grades(course: Course, lab: str, student: str, notebook) -> None:
    """Record the grades of an autograded notebook in the course's gradebook (nbgrader)."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades

    with Gradebook(course.db_url, COURSE_ID) as gb, warnings.catch_warnings():
        # nbgrader's add_submission triggers SQLAlchemy's autoflush warnings (harmless)
        warnings.simplefilter("ignore", Warning)
        gb.update_or_create_student(student)
        gb.update_or_create_submission(lab, student)
    resources = {
        "nbgrader": {
            "db_url": course.db_url,
            "assignment": lab,
            "notebook": lab,
            "student": student,
        }
    }
    SaveAutoGrades().preprocess(notebook, resources)
