"""Hidden tests of the graded labs (grader only, never shipped in the course package)."""
