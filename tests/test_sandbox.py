"""The grading sandbox against real attacks: one hostile class per backend that works here.

Each hostile student submits the correct lab04 answers plus one attack in a cell after the last
test, so its score is what its answers earn (9) unless the attack stops the grade; the honest
students in the same class get full marks. For every backend available on this host (CI runs
as root on Linux: ``bwrap`` must work there; Landlock where the kernel has ABI >= 4):

- the course tree (solutions, hidden checks, library) is byte-identical after the run;
- no attack reaches a file, a socket, a variable or a process outside its sandbox;
- nothing a student sees (its feedback) contains a line of a hidden check or of a solution;
- limits (memory, processes, scratch) end the submission that passes them, not the class run.
"""

from __future__ import annotations

import collections
import copy
import csv
import hashlib
import json
import os
import socket
import sqlite3
import sys
import threading
from pathlib import Path

import nbformat
import pytest

sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema
grading = pytest.importorskip("course.grading")
psutil = pytest.importorskip("psutil")

from course.grading import sandbox  # noqa: E402
from course.grading.kernel import secret_lines  # noqa: E402

ROOT = Path(__file__).parents[1]
LAB = "lab04_convolution"
SECRET_ENV = "COURSE_TEST_INSTRUCTOR_TOKEN"
SECRET_VALUE = "instructor-api-token-5f3a9c"
MARK = "917.25"  # `sleep MARK`: a child process a submission leaves behind
if not sys.platform.startswith("linux"):
    pytest.skip("the grading sandboxes are Linux-only", allow_module_level=True)


def _solved(student_nb, source_nb):
    answers = {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = copy.deepcopy(student_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            lines = answers[grade_id].splitlines()
            cell.source = "\n".join(line for line in lines if "SOLUTION" not in line)
    return nb


def _attacks(paths: dict[str, str]) -> dict[str, str]:
    """Student name -> the code of its extra cell. ``paths`` are the host paths it aims at."""
    paths = collections.defaultdict(str, paths)
    report = "def report(what, action):\n    try:\n        print(what, 'SUCCEEDED', action())\n"
    report += "    except BaseException as error:\n        print(what, 'failed', repr(error))\n"
    return {
        "tamper_hidden": report
        + f"report('append', lambda: open({paths['hidden']!r}, 'a').write("
        + "'\\ndef q5_conv2d(*args):\\n    pass\\n'))",
        "read_solutions": report
        + f"report('solution', lambda: print(open({paths['solution']!r}).read()))\n"
        + f"report('hidden', lambda: print(open({paths['hidden']!r}).read()))",
        "environment": "import os\nprint(dict(os.environ))\n"
        + "print([open(f'/proc/{p}/environ').read() for p in os.listdir('/proc') if p.isdigit()"
        + " and os.access(f'/proc/{p}/environ', os.R_OK)])",
        "network": report
        + "import socket\n"
        + f"report('tcp', lambda: socket.create_connection(('127.0.0.1', {paths['port']}), 3)"
        + ".sendall(b'PWNED'))",
        "gradebook": report
        + "import sqlite3\n"
        + f"report('db', lambda: sqlite3.connect({paths['db']!r}).executescript("
        + "'CREATE TABLE pwned (x); INSERT INTO pwned VALUES (1);'))",
        "memory": "import numpy as np\nhuge = np.ones(8 * 2**30, dtype=np.uint8)\nprint(huge[-1])",
        "other_student": report
        + f"report('other', lambda: print(open({paths['other']!r}).read()))",
        "home_secrets": report
        + f"report('ssh', lambda: print(open({paths['ssh']!r}).read()))\n"
        + "report('shadow', lambda: print(open('/etc/shadow').read()))",
        "write_outside": report
        + f"report('write', lambda: open({paths['outside']!r}, 'w').write('PWNED'))",
        "fork_bomb": "import os, time\nfor _ in range(10):\n    os.fork()\ntime.sleep(60)",
        "disk_filler": "import os, sys\nblock = b'x' * 2**20\n"
        + "with open('filler.bin', 'wb') as f:\n    for _ in range(4096):\n        f.write(block)",
        "runtime_filler": "import os, sys\n"
        + "folder = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
        + "for i in range(4096):\n"
        + "    open(os.path.join(folder, f'fill{i}'), 'wb').write(b'x' * 2**20)",
        "daemon": "import subprocess\n"
        + f"subprocess.Popen(['sleep', '{MARK}'], start_new_session=True)\n"
        + f"subprocess.Popen(['sh', '-c', '(sleep {MARK} &) &'])",
        "hook_leak": "seen = []\nget_ipython().events.register('pre_run_cell', "
        + "lambda info: seen.append(info.raw_cell))",
    }


# what each attacker's row must show: (total, status, words in the reason)
EXPECTED = {
    "honest_1": (9, "ok", []),
    "honest_2": (9, "ok", []),
    "tamper_hidden": (6, "ok", []),  # q5 (3 points) wrong: rewriting its hidden check fails
    "read_solutions": (9, "ok", []),
    "environment": (9, "ok", []),
    "network": (9, "ok", []),
    "gradebook": (9, "ok", []),
    "memory": (9, "memory", ["MemoryError"]),
    "other_student": (9, "ok", []),
    "home_secrets": (9, "ok", []),
    "write_outside": (9, "ok", []),
    # the watchdog ends the sandbox on its process count or its summed memory, whichever it
    # sees first; a grader that is not root also has RLIMIT_NPROC (fork fails: "ok")
    "fork_bomb": (9, ("kernel died", "memory", "ok"), []),
    "disk_filler": (9, "ok", []),
    "runtime_filler": (9, "kernel died", ["scratch limit"]),
    "daemon": (9, "ok", []),
    "hook_leak": (0, "tampered", ["pre_run_cell"]),
}


def _tree_hashes() -> dict[str, str]:
    files = [p for d in ("solutions", "autograder", "course") for p in (ROOT / d).rglob("*")]
    return {
        str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(files)
        if p.is_file() and "__pycache__" not in p.parts and "workspace" not in p.parts
    }


class Listener:
    """A TCP server on loopback that records every connection it gets."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.accepted: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.accepted.append(conn.recv(100) or b"(connected)")
                except OSError:
                    self.accepted.append(b"(connected)")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.server.close()


BACKENDS = ["bwrap", "landlock"]


@pytest.fixture(scope="module", params=BACKENDS)
def hostile_class(request, tmp_path_factory):
    backend = request.param
    problem = {"bwrap": sandbox.Bubblewrap, "landlock": sandbox.Landlock}[backend]().problem()
    if problem is not None:
        if backend == "bwrap" and "CI" in os.environ:
            pytest.fail(f"bwrap must work on CI: {problem}")
        pytest.skip(f"{backend} does not work on this host: {problem}")
    tmp = tmp_path_factory.mktemp(f"hostile-{backend}")
    course = grading.Course(ROOT, tmp / "workspace")
    released = grading.release(course, [LAB], out=tmp / "released")[0]
    source_nb = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    good = _solved(nbformat.read(released, as_version=4), source_nb)
    home = tmp / "home" / ".ssh"
    home.mkdir(parents=True)
    (home / "id_rsa").write_text("PRIVATE-KEY-7c1e", encoding="utf-8")
    folder = tmp / "submissions"
    listener = Listener()
    paths = {
        "hidden": str(ROOT / "autograder" / "course_hidden" / "lab04.py"),
        "solution": str(ROOT / "solutions" / LAB / f"{LAB}.ipynb"),
        "port": listener.port,
        "db": str(course.workspace / "gradebook.db"),
        "other": str(folder / "honest_1" / f"{LAB}.ipynb"),
        "ssh": str(home / "id_rsa"),
        "outside": str(tmp / "outside.txt"),
    }
    for student in EXPECTED:
        nb = copy.deepcopy(good)
        code = _attacks(paths).get(student)
        if student == "tamper_hidden":  # a wrong answer, and an attack that would pass it
            q5 = next(
                c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q5_answer"
            )
            q5.source = "def conv2d(*args, **kwargs):\n    return np.zeros(1)"
            nb.cells.insert(nb.cells.index(q5), nbformat.v4.new_code_cell(code))
            code = None
        if student == "hook_leak":  # the hook goes in before the hidden checks run
            first_test = next(
                i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade")
            )
            nb.cells.insert(first_test, nbformat.v4.new_code_cell(code))
            code = "print('\\n'.join(seen))"
        if code:
            nb.cells.append(nbformat.v4.new_code_cell(code))
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / f"{LAB}.ipynb")
    before = _tree_hashes()
    old_env = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = SECRET_VALUE
    try:
        run = grading.autograde(
            course,
            LAB,
            folder,
            workers=2,
            timeout=30,
            memory_mb=2048,
            sandbox=backend,
            limits=grading.Limits(processes=64, scratch_mb=64),
            echo=print,
        )
    finally:
        if old_env is None:
            os.environ.pop(SECRET_ENV, None)
        listener.close()
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    yield {
        "backend": backend,
        "run": run,
        "grades": grades,
        "before": before,
        "listener": listener,
        "paths": paths,
        "course": course,
        "source_nb": source_nb,
    }


def _feedback(hostile_class, student: str) -> str:
    return (hostile_class["run"].feedback_dir / f"{student}.html").read_text(encoding="utf-8")


def _graded(hostile_class, student: str) -> str:
    workspace = hostile_class["course"].workspace
    return (workspace / "autograded" / student / LAB / f"{LAB}.ipynb").read_text("utf-8")


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_score_is_what_the_answers_earn(hostile_class, student):
    total, status, words = EXPECTED[student]
    row = hostile_class["grades"][student]
    errors = next(r for r in hostile_class["run"].rows if r["student"] == student)["errors"]
    statuses = status if isinstance(status, tuple) else (status,)
    assert float(row["total"]) == total and row["status"] in statuses, (row, errors)
    assert row["sandbox"] == hostile_class["backend"]
    for word in words:
        assert word in row["reason"] + _graded(hostile_class, student), row


def test_course_tree_is_byte_identical(hostile_class):
    assert _tree_hashes() == hostile_class["before"]


def _printed(hostile_class, student: str) -> str:
    """What the cells of a student's graded notebook printed (outputs only, not the code)."""
    nb = nbformat.reads(_graded(hostile_class, student), as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    return json.dumps(outputs)


@pytest.mark.parametrize("student", [s for s in EXPECTED if "report(" in _attacks({}).get(s, "")])
def test_no_attack_succeeded(hostile_class, student):
    printed = _printed(hostile_class, student)
    assert "SUCCEEDED" not in printed, printed[-2000:]
    assert " failed " in printed  # the attack ran, and the operating system said no


def test_no_connection_reached_the_host(hostile_class):
    assert hostile_class["listener"].accepted == []


def test_gradebook_and_outside_files_untouched(hostile_class):
    with sqlite3.connect(hostile_class["paths"]["db"]) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "pwned" not in tables
    assert not Path(hostile_class["paths"]["outside"]).exists()


def test_no_secret_reaches_the_kernel(hostile_class):
    for student in ("environment", "home_secrets", "other_student", "read_solutions"):
        graded = _graded(hostile_class, student)
        assert SECRET_VALUE not in graded and SECRET_ENV not in graded, student
        assert "PRIVATE-KEY-7c1e" not in graded
        assert "BEGIN SOLUTION" not in graded and "def q5_conv2d" not in graded


def test_feedback_never_shows_hidden_checks_or_solutions(hostile_class):
    secrets = secret_lines(ROOT / "autograder", hostile_class["source_nb"])
    assert len(secrets) > 20  # the hidden checks and solutions have many specific lines
    for student in EXPECTED:
        # the answers of these students are the solution: their own code may show
        own = hostile_class["run"].feedback_dir.parents[2] / "submitted" / student / LAB
        code = (own / f"{LAB}.ipynb").read_text(encoding="utf-8")
        text = _feedback(hostile_class, student)
        leaked = [line for line in secrets if line in text and json.dumps(line)[1:-1] not in code]
        assert not leaked, (student, leaked[:3])


def test_hook_saw_the_hidden_check_but_feedback_does_not_show_it(hostile_class):
    assert "course hidden" in _graded(hostile_class, "hook_leak")  # the hook did capture it
    assert "[redacted]" in _feedback(hostile_class, "hook_leak")


def test_no_process_outlives_the_run(hostile_class):
    left = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if MARK in " ".join(cmdline):
            left.append(process.pid)
    assert left == []


# --- choosing a backend ----------------------------------------------------------------------
def test_auto_refuses_when_no_backend_works(tmp_path, monkeypatch, capsys):
    from course import cli

    monkeypatch.setattr(sandbox.Bubblewrap, "candidates", lambda self: [str(tmp_path / "bwrap")])
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 3)
    with pytest.raises(grading.SandboxError, match="none grades WITHOUT protection"):
        grading.choose("auto")
    (tmp_path / "subs").mkdir()
    workspace = tmp_path / "workspace"
    code = cli.main(["autograde", LAB, str(tmp_path / "subs"), "--workspace", str(workspace)])
    err = capsys.readouterr().err
    assert code == 2
    assert "bubblewrap" in err and "Landlock" in err and "--sandbox none" in err
    assert not (workspace / "reports").exists()  # nothing was graded


def test_hidden_tests_can_be_shown_after_the_deadline(tmp_path):
    course = grading.Course(ROOT, tmp_path / "workspace")
    folder = tmp_path / "subs"
    (folder / "late").mkdir(parents=True)
    answers = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    for cell in answers.cells:
        cell.source = "\n".join(x for x in cell.source.splitlines() if "SOLUTION" not in x)
    nbformat.write(answers, folder / "late" / f"{LAB}.ipynb")
    run = grading.autograde(course, LAB, folder, show_hidden=True, echo=None)
    assert run.rows[0]["total"] == 9
    text = (run.feedback_dir / "late.html").read_text(encoding="utf-8")
    assert "q5_conv2d" in text  # the call of the hidden check, in its test cell
    assert "BEGIN SOLUTION" not in text


def test_auto_never_picks_none(monkeypatch):
    chosen = grading.choose("auto")
    assert chosen.name in ("bwrap", "landlock")


def test_none_must_be_named_and_is_reported(tmp_path):
    course = grading.Course(ROOT, tmp_path / "workspace")
    folder = tmp_path / "subs"
    (folder / "empty").mkdir(parents=True)
    run = grading.autograde(course, LAB, folder, sandbox="none", echo=None)
    assert run.rows[0]["sandbox"] == "none"
    assert "WITHOUT a sandbox" in grading.summary(run)
    with open(run.grades_csv, newline="", encoding="utf-8") as handle:
        assert [row["sandbox"] for row in csv.DictReader(handle)] == ["none"]


@pytest.mark.parametrize(
    ("name", "error"), [("docker", ValueError), (None, TypeError), ("", ValueError)]
)
def test_choose_rejects_unknown_names(name, error):
    with pytest.raises(error, match="sandbox"):
        grading.choose(name)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("memory_mb", -1, ValueError), ("processes", 1.5, TypeError), ("scratch_mb", True, TypeError)],
)
def test_limits_are_validated(field, value, error):
    with pytest.raises(error, match=field):
        grading.Limits(**{field: value})


def test_probe_catches_an_unprotected_run():
    assert "read a file outside" in sandbox._probe(sandbox.NoSandbox())


def test_kernel_environment_is_an_allow_list(monkeypatch):
    from course.grading.kernel import kernel_environment

    monkeypatch.setenv(SECRET_ENV, SECRET_VALUE)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    env = kernel_environment("/scratch", threads=2)
    assert SECRET_ENV not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HOME"] == "/scratch" and env["OMP_NUM_THREADS"] == "2"
