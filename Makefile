# Course workflows. On Windows (no make): see README.md for the plain pip/pytest commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-threads lint bench install clean release

# Create the virtual environment once.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# (Re)install the course and its dev extras whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# JupyterLab on notebooks/, opened in the labs' folder. notebooks/.jupyter/labconfig/ (added to
# the config search path for this command only) turns off the first-launch question about
# Jupyter news; the student's own settings still win, and nothing is written there.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/notebooks/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/labs

# Two pytest workers (one file each: a notebook's cells stay together), one BLAS/torch thread
# each, so that the two never fight over the cores of a small machine.
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --durations=25

# The notebooks once more with two BLAS/torch threads: the lectures (two at a time, one per
# pytest worker), and every lab solution graded end to end with two threads per grading kernel.
# A result that holds only in one thread's summation order fails here, not on a student's laptop.
# How a thread count splits the arithmetic does not depend on the cores being free, so running
# two notebooks of two threads each on a 2-core machine tests the same sums, in less time.
# OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning (same arithmetic; on a
# busy machine spinning threads slowed small models more than 15-fold).
test-threads: $(STAMP)
	OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -p no:cacheprovider \
		-n 2 --dist loadfile notebooks/lectures
	COURSE_TEST_NO_DELEGATE=1 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE \
		$(BIN)/python -m pytest -p no:cacheprovider tests/test_autograde.py -k full_marks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check course tests bench

# Regenerate the student versions of the labs (notebooks/labs/) from solutions/ with nbgrader.
release: $(STAMP)
	$(BIN)/course release

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
