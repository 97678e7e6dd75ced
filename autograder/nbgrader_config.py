"""nbgrader configuration of dlmi-course (used by `course release` / `course autograde`).

Course root: the repository. Sources (solutions and hidden tests): ``solutions/``; student
versions: ``notebooks/labs/``. Submissions, autograded copies, feedback and the gradebook live in
a workspace outside version control: ``autograder/workspace/`` unless the environment variable
``COURSE_WORKSPACE`` names another folder.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = Path(os.environ.get("COURSE_WORKSPACE", ROOT / "autograder" / "workspace")).resolve()

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.course_id = "dlmi-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks/labs"
c.CourseDirectory.submitted_directory = str(WORKSPACE / "submitted")
c.CourseDirectory.autograded_directory = str(WORKSPACE / "autograded")
c.CourseDirectory.feedback_directory = str(WORKSPACE / "feedback")
c.CourseDirectory.db_url = f"sqlite:///{WORKSPACE / 'gradebook.db'}"

# Student versions: the stub students replace; hidden tests are removed by ClearHiddenTests.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: a cell may not run forever; a warning printed by a correct answer is not a failure;
# a deleted or stripped test cell is restored from the source.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.interrupt_on_timeout = True
c.IgnorePattern.enabled = True
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50
