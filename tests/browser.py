"""Helpers of tests/test_browser.py: a JupyterLab server and headless Chromium, driven by Selenium.

The server runs from this Python (``sys.executable -m jupyter lab``) on a copy of the notebooks,
with every Jupyter and IPython folder inside the test's temporary folder, so that nothing under
``$HOME`` changes. Chromium is Debian's ``chromium`` with its ``chromedriver``, both given by path:
Selenium Manager never runs, and nothing is downloaded.

The notebook is driven through JupyterLab's own commands (``--expose-app-in-browser`` makes the
application ``window.jupyterapp``), the ones its menus call; what the test checks is read from the
page: the notebook's model (outputs, execution counts) and the rendered widgets.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Wait for the notebook panel of `path` and its idle kernel, then activate the panel (the
# `notebook:` commands act on the active one); the status, or why it is not ready in time.
_READY_JS = """
const [path, seconds, done] = arguments;
const deadline = Date.now() + 1000 * seconds;
const until = async (test, why) => {
  while (!test()) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise(resolve => setTimeout(resolve, 100));
  }
};
(async () => {
  await until(() => window.jupyterapp, () => 'no window.jupyterapp (--expose-app-in-browser)');
  const app = window.jupyterapp;
  await app.restored;
  let panel;
  await until(() => (panel = Array.from(app.shell.widgets('main')).find(
      w => w.context && w.context.path === path)), () => 'no notebook panel');
  await panel.context.ready;
  await panel.sessionContext.ready;
  const status = () => panel.sessionContext.kernelDisplayStatus;
  await until(() => status() === 'idle', () => 'the kernel is ' + status());
  app.shell.activateById(panel.id);
  done(status());
})().catch(error => done(String(error)));
"""

# Clear every output (and execution count), then run all cells; returns at once.
_RUN_ALL_JS = """
const app = window.jupyterapp;
const panel = Array.from(app.shell.widgets('main')).find(w => w.context.path === arguments[0]);
app.shell.activateById(panel.id);
return app.commands.execute('notebook:clear-all-cell-outputs').then(() => {
  app.commands.execute('notebook:run-all-cells');
  return true;
});
"""

# The kernel's status, the code cells not run yet, the errors and the stderr of every cell.
_STATE_JS = r"""
const app = window.jupyterapp;
const panel = Array.from(app.shell.widgets('main')).find(w => w.context.path === arguments[0]);
const state = {status: panel.sessionContext.kernelDisplayStatus, cells: 0, pending: 0,
               errors: [], stderr: []};
for (const cell of panel.model.cells) {
  if (cell.type !== 'code') continue;
  state.cells++;
  if (cell.executionCount === null) state.pending++;
  for (let i = 0; i < cell.outputs.length; i++) {
    const output = cell.outputs.get(i).toJSON();
    if (output.output_type === 'error') {
      const traceback = (output.traceback || []).join('\n').replace(/\u001b\[[0-9;]*m/g, '');
      state.errors.push(output.ename + ': ' + output.evalue + '\n' + traceback);
    } else if (output.output_type === 'stream' && output.name === 'stderr') {
      state.stderr.push(Array.isArray(output.text) ? output.text.join('') : output.text);
    }
  }
}
return state;
"""


def missing_browser() -> str | None:
    """Why the browser test cannot run here (None when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for program, package in [("chromium", "chromium"), ("chromedriver", "chromium-driver")]:
        if shutil.which(program) is None:
            return f"{program} not found: apt-get install {package} (Debian)"
    return None


def free_port() -> int:
    """A TCP port that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``root``, with its own config, data and runtime folders in ``home``.

    Use as a context manager; the server and its kernels stop on exit, also after an error.
    """

    def __init__(self, root: Path, home: Path, timeout: float = 90.0):
        self.root, self.home, self.timeout = Path(root), Path(home), timeout
        self.token = secrets.token_hex(16)
        self.log = self.home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.runtime = self.home / "jupyter_runtime_dir"

    def environment(self) -> dict:
        env = dict(os.environ)
        for name in ["JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"]:
            folder = self.home / name.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[name] = str(folder)
        # as `make lab`: the course's settings (no first-launch question about Jupyter news)
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(REPO / "notebooks" / ".jupyter"), *filter(None, [env.get("JUPYTER_CONFIG_PATH")])]
        )
        # a lab solution imports its hidden tests, as the autograder's kernels do
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "autograder"), *filter(None, [env.get("PYTHONPATH")])]
        )
        env.update(JUPYTER_TOKEN=self.token, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        return env

    def __enter__(self) -> JupyterLab:
        command = [
            *[sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root"],
            *["--ip=127.0.0.1", f"--port={free_port()}", f"--ServerApp.root_dir={self.root}"],
            "--expose-app-in-browser",
        ]
        env = self.environment()
        self.runtime = Path(env["JUPYTER_RUNTIME_DIR"])
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kernels stop with it
            )
        try:
            self.url = self._wait()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait(self) -> str:
        """The server's base URL once /api/status answers (the port read from its runtime file)."""
        info = self.runtime / f"jpserver-{self.process.pid}.json"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no HTTP(S)_PROXY
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited ({self.process.returncode}):\n{self.tail()}"
                )
            with contextlib.suppress(OSError, ValueError, KeyError):
                url = json.loads(info.read_text())["url"].rstrip("/")
                with direct.open(f"{url}/api/status?token={self.token}", timeout=5):
                    return url
            time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer in {self.timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The end of the server's log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGTERM shuts its kernels down), then kill what is left of its group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def notebook_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"  # reset: this tab only


def chromium(home: Path, size: tuple[int, int] = (1400, 1000)):
    """Headless Chromium under Selenium, with a profile (and ``$HOME``) inside ``home``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in [
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        f"--window-size={size[0]},{size[1]}",
        f"--user-data-dir={home / 'profile'}",
    ]:
        options.add_argument(argument)
    with warnings.catch_warnings():  # deprecated, but Chrome takes no ClientConfig yet
        warnings.simplefilter("ignore", DeprecationWarning)
        options.ignore_local_proxy_environment_variables()  # no HTTP(S)_PROXY to its driver
    # the driver by path: Selenium Manager (which may download a driver) is never called
    service = Service(
        executable_path=shutil.which("chromedriver"),
        env={**os.environ, "HOME": str(home)},
        log_output=str(home / "chromedriver.log"),
    )
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(90)
    return driver


def open_notebook(driver, server: JupyterLab, path: str) -> None:
    """Load ``path`` in JupyterLab and wait until its kernel is idle."""
    driver.get(server.notebook_url(path))
    status = driver.execute_async_script(_READY_JS, path, 75)
    if status != "idle":
        raise RuntimeError(f"{path}: the notebook did not open: {status}\n{server.tail()}")


def notebook_state(driver, path: str) -> dict:
    """Kernel status, number of code cells, not yet run ones, errors and stderr of ``path``."""
    return driver.execute_script(_STATE_JS, path)


def run_all_cells(driver, path: str, timeout: float) -> dict:
    """Clear the outputs, run all cells and wait until they ran or one failed; the final state.

    Run All stops at the first error (the cells after it are not run), so the wait ends when the
    kernel is idle and either every code cell has an execution count or an error was shown.
    """
    driver.execute_script(_RUN_ALL_JS, path)
    deadline = time.monotonic() + timeout
    while True:
        state = notebook_state(driver, path)
        if state["status"] == "idle" and (state["pending"] == 0 or state["errors"]):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: cells still running after {timeout:.0f} s: {state}")
        time.sleep(0.5)


def wait_for(condition, timeout: float, what: str):
    """Poll ``condition()`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.25)
