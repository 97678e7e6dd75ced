"""nbgrader configuration of dlmi-course, for running nbgrader's own commands by hand.

``course release`` and ``course autograde`` build the same configuration themselves
(:func:`course.grading.nbgrader_config`); this file makes ``nbgrader`` commands run from this
folder (``cd autograder && nbgrader formgrader``, ``nbgrader export`` ...) see the same course:

- course root: the repository; sources (solutions and hidden tests) in ``solutions/``; student
  versions in ``notebooks/labs/``;
- submissions, autograded copies, feedback and the gradebook in a workspace outside version
  control: ``autograder/workspace/`` unless the environment variable ``COURSE_WORKSPACE`` names
  another folder;
- the hardened grading pipeline: each kernel in an OS sandbox (``c.CourseExecute.sandbox``:
  auto, bwrap, landlock; none must be named), per-cell timeout, resource limits, the hidden checks
  sent with their test cells (never on the kernel's disk), kernel deaths and timeouts graded
  (never a deleted copy), deleted or edited test cells restored, stderr warnings not counted as
  failures, outputs truncated, hidden tests kept out of the feedback (see
  ``autograder/README.md``).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the course package of this repository

from course.grading import configure  # noqa: E402

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
configure(c, root=ROOT, workspace=os.environ.get("COURSE_WORKSPACE"))
