"""Autograding engine of the course: release the labs, grade a class, validate a notebook.

Built on nbgrader 0.9, hardened for adversarial submissions (see ``autograder/README.md``):

- every grading kernel runs in an operating-system **sandbox** (:mod:`~course.grading.sandbox`:
  bubblewrap namespaces or Landlock, chosen by a probe; ``none`` only when asked for by name):
  no course tree, solutions, hidden checks, workspace, other students, network or instructor
  environment inside, and limits on memory, CPU time, processes and disk;
- every student is graded as its own **Dask task** (:mod:`~course.grading.engine`: a local
  cluster by default, any Dask cluster with ``scheduler=``), in a grading process of its own in
  a private folder (a duplicate ``grade_id`` or a crash never stops the class); only the client
  writes the gradebook and the reports, every result is saved under its content hash as it
  arrives (a rerun reuses it), and a submission that kills two workers gets 0; with a
  per-cell timeout, a memory limit on the grading kernel, and all the
  processes a submission starts killed afterwards;
- a kernel that dies, an infinite loop or a memory bomb gives a graded result for what ran
  (the cells after a kernel death count as failed), never a lost row;
- deleted or edited test cells are restored from the source; points come from the gradebook;
- huge outputs are truncated while the notebook runs; feedback never shows the hidden tests;
- tampering with the comparison functions (``numpy.allclose``, builtins, the check functions,
  the IPython shell ...) is detected at run time (:mod:`course.checks._common`, an IPython
  startup file, a final integrity probe) and statically (:func:`scan_notebook`), and a tampered
  submission gets no points and is flagged in ``grades.csv``.

The package has one module per stage: :mod:`~course.grading.layout` (the course folders and
settings), :mod:`~course.grading.scan` (static scan), :mod:`~course.grading.sandbox` (where the
kernel runs), :mod:`~course.grading.kernel` (the grading kernel and nbgrader preprocessors),
:mod:`~course.grading.config` (nbgrader configuration), :mod:`~course.grading.release`,
:mod:`~course.grading.intake` (reading a submissions folder),
:mod:`~course.grading.task` (one submission graded from bytes), :mod:`~course.grading.engine`
(where tasks run: Dask), :mod:`~course.grading.results` (the client's saved results and
gradebook), :mod:`~course.grading.run` (grading a class), :mod:`~course.grading.reports`
(``grades.csv``, feedback pages, the summary), :mod:`~course.grading.verdict` (the verdict of a
graded part, as data) and :mod:`~course.grading.validate`.

The command line (:mod:`course.cli`) calls :func:`release`, :func:`autograde` and
:func:`validate`. Every function takes the course root (a folder with ``solutions/``,
``notebooks/labs/`` and ``autograder/``) and a workspace through :class:`Course`, so tests can
point them at a copy of the repository.
"""

import sys

if "jsonschema" not in sys.modules:
    # nbformat -> jsonschema imports rfc3987_syntax, which builds a grammar for 4+ s, for IRI
    # formats that notebooks never use: every grading process would pay it
    sys.modules.setdefault("rfc3987_syntax", None)

from .config import configure, nbgrader_config  # noqa: E402
from .intake import Submission, collect_submissions  # noqa: E402
from .kernel import kill_processes  # noqa: E402
from .layout import Course, CourseError  # noqa: E402
from .release import release  # noqa: E402
from .run import ClassRun, autograde, summary  # noqa: E402
from .sandbox import Limits, SandboxError, choose  # noqa: E402
from .scan import scan_notebook  # noqa: E402
from .validate import validate  # noqa: E402

__all__ = [
    "ClassRun",
    "Course",
    "CourseError",
    "Limits",
    "SandboxError",
    "Submission",
    "autograde",
    "choose",
    "collect_submissions",
    "configure",
    "kill_processes",
    "nbgrader_config",
    "release",
    "scan_notebook",
    "summary",
    "validate",
]
