"""The notebooks in a real browser: JupyterLab in headless Chromium runs a lecture and a lab.

nbval runs the notebooks' cells in a kernel, but nothing there renders a widget. Here JupyterLab
serves copies of one lecture and lab04 (the solution and the released student version), headless
Chromium opens them, runs all cells, moves the lecture's explorer slider and checks that the
figure is redrawn. The screenshots are saved in the test's temporary folder (their paths are
printed; ``pytest -s`` shows them).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and ``selenium``
(the dev extra); the tests skip, with the reason, where one is missing, but fail under CI.
"""

import os
import shutil

import pytest
from browser import (
    REPO,
    JupyterLab,
    chromium,
    missing_browser,
    notebook_state,
    open_notebook,
    run_all_cells,
    wait_for,
)

LECTURE = "lectures/02_ct_physics.ipynb"  # fbp_explorer: an "angles" slider redraws the FBP
SOLUTION = "solutions/lab04_convolution/lab04_convolution.ipynb"
STUDENT = "labs/lab04_convolution/lab04_convolution.ipynb"
SOURCES = {
    LECTURE: REPO / "notebooks" / LECTURE,
    SOLUTION: REPO / SOLUTION,
    STUDENT: REPO / "notebooks" / STUDENT,
}
RUN_TIMEOUT = 180  # s, for all cells of one notebook (the lecture takes ~25 s on 2 busy cores)

# The explorer: the output item holding the first slider, the sources of its images, its value.
_EXPLORER_JS = """
const slider = document.querySelector('.widget-slider');
if (!slider) return null;
const view = slider.closest('.jp-OutputArea-output');
const handle = slider.querySelector('.noUi-handle, input[type="range"]');
return {
  images: Array.from(view.querySelectorAll('img')).map(img => img.src).filter(Boolean),
  value: handle && (handle.getAttribute('aria-valuenow') || handle.value),
  stderr: Array.from(view.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(node => node.textContent),
};
"""
_PAGE_STDERR_JS = """
return Array.from(document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
  .map(node => node.textContent);
"""
_SCROLL_JS = "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'})"


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on copies of the notebooks, and headless Chromium."""
    reason = missing_browser()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    for path, source in SOURCES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / path)
    with JupyterLab(root, home) as server:
        driver = chromium(home)
        try:
            yield server, driver
        finally:
            driver.quit()


@pytest.fixture
def page(jupyterlab, tmp_path, request):
    """The server and the browser; a screenshot of the page when the test fails."""
    failed = request.session.testsfailed
    yield jupyterlab
    if request.session.testsfailed > failed:
        screenshot(jupyterlab[1], tmp_path / "failure.png")


def screenshot(driver, path) -> None:
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def errors_shown(driver, state: dict) -> list[str]:
    """The errors and tracebacks in the notebook's outputs and on the page (widgets included)."""
    stderr = state["stderr"] + driver.execute_script(_PAGE_STDERR_JS)
    return state["errors"] + [t for t in stderr if "Traceback" in t or "Error" in t]


def explorer_drawn(driver, unlike: list | None = None):
    """The explorer's state once its figure (other images than ``unlike``) or an error shows."""
    view = driver.execute_script(_EXPLORER_JS)
    if view and (view["stderr"] or (view["images"] and view["images"] != unlike)):
        return view
    return None


def test_lecture_runs_and_its_slider_redraws_the_figure(page, tmp_path):
    from selenium.webdriver.common.keys import Keys

    server, driver = page
    open_notebook(driver, server, LECTURE)
    state = run_all_cells(driver, LECTURE, RUN_TIMEOUT)
    assert state["pending"] == 0 and state["cells"] > 0, state
    assert errors_shown(driver, state) == []

    # the explorer shows its static grid in an output of its own; its live figure is drawn
    # when a control moves (before that, its output may hold only a hint)
    before = wait_for(lambda: driver.execute_script(_EXPLORER_JS), 60, "the explorer's slider")
    assert before["stderr"] == []
    handle = driver.find_element("css selector", ".widget-slider .noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
    screenshot(driver, tmp_path / "lecture_before_slider.png")

    handle.send_keys(Keys.ARROW_RIGHT)  # one step up, as a student's keyboard does
    after = wait_for(
        lambda: explorer_drawn(driver, unlike=before["images"]), 60, "a figure for the new value"
    )
    screenshot(driver, tmp_path / "lecture_after_slider.png")
    assert after["stderr"] == []
    assert after["value"] != before["value"]
    assert after["images"] != before["images"]
    assert errors_shown(driver, notebook_state(driver, LECTURE)) == []


def test_lab_solution_runs_all_cells_without_error(page, tmp_path):
    server, driver = page
    open_notebook(driver, server, SOLUTION)
    state = run_all_cells(driver, SOLUTION, RUN_TIMEOUT)
    driver.execute_script(_SCROLL_JS, ".jp-Notebook .jp-Cell:last-child")
    screenshot(driver, tmp_path / "lab_solution_end.png")
    assert state["pending"] == 0 and state["cells"] > 0, state
    assert errors_shown(driver, state) == []


def test_released_lab_stops_at_the_first_unanswered_part(page, tmp_path):
    # a student's first Run All: the first check says what to do; the cells after it wait
    server, driver = page
    open_notebook(driver, server, STUDENT)
    state = run_all_cells(driver, STUDENT, RUN_TIMEOUT)
    driver.execute_script(_SCROLL_JS, '[data-mime-type="application/vnd.jupyter.stderr"]')
    screenshot(driver, tmp_path / "lab_student_end.png")
    assert len(state["errors"]) == 1, state
    assert "q1 not answered yet" in state["errors"][0], state["errors"][0]
    assert 0 < state["pending"] < state["cells"]
