"""Benchmark: grading a class with ``course autograde``: workers, Dask overhead, sandboxes.

Run ``python bench/autograde.py [LAB] [--students N] [--rounds R]
[--only workers|overhead|projection|sandboxes]``.
The class is N copies (default 20) of a correct submission (the lab's solution notebook) of the
fastest lab (default ``lab04_convolution``). Each run uses a fresh workspace, in this process;
with R rounds the settings alternate in order (1, 2, 2, 1 ... workers; none, bwrap, landlock,
landlock, bwrap, none ...) so that a change of the machine's load affects all alike, and the
times are summed per setting. Prints the times, the time per student, the ratios and the load
average; exits non-zero if a student does not get full marks, if the ratio 2 workers / 1 worker
is above 0.65, or if a sandbox adds more than 0.5 s per submission or 10 % of the class's time
to ``--sandbox none`` (the budgets of ``autograder/README.md``).

It also prints the throughput (submissions per minute) with 1 and 2 workers, the Dask engine's
overhead per task (a task that grades nothing, with the real lab bundle and notebook as payload,
through a local cluster of one worker, the client saving each result: target <= 0.2 s per
submission), and a projection of a whole course (500 and 2,000 students x 10 labs on 1, 8 and 64
workers of 2 cores) from the measured time per submission of this lab and of a training lab
(``--heavy``, default ``lab06_segmentation``, one submission graded). The projection is
arithmetic on measured times, not a measurement of a cluster.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)  # a slow optional import of jsonschema

from course import grading  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.65
OVERHEAD_TARGET = 0.2  # seconds of Dask scheduling per submission
SANDBOX_SECONDS, SANDBOX_SHARE = 0.5, 0.10


def make_class(folder: Path, lab: str, students: int) -> None:
    """``students`` copies of the solution, one folder per student."""
    source = (ROOT / "solutions" / lab / f"{lab}.ipynb").read_bytes()
    for index in range(students):
        entry = folder / f"student{index:02d}"
        entry.mkdir(parents=True)
        (entry / f"{lab}.ipynb").write_bytes(source)


def grade(lab: str, folder: Path, workspace: Path, workers: int, sandbox: str = "auto") -> float:
    course = grading.Course(ROOT, workspace)
    start = time.perf_counter()
    run = grading.autograde(course, lab, folder, workers=workers, sandbox=sandbox, echo=None)
    seconds = time.perf_counter() - start
    wrong = [r["student"] for r in run.rows if r["total"] != r["max"] or r["status"] != "ok"]
    if wrong:
        raise SystemExit(f"not full marks with {workers} worker(s): {wrong}")
    return seconds


def alternate(settings: list, rounds: int, run) -> dict:
    """Mean time of ``run(setting, round)`` per setting, the order reversed every other round."""
    totals = dict.fromkeys(settings, 0.0)
    for index in range(rounds):
        for setting in settings if index % 2 == 0 else settings[::-1]:
            seconds = run(setting, index)
            totals[setting] += seconds
            print(f"  round {index + 1}, {setting}: {seconds:7.1f} s", flush=True)
    return {setting: total / rounds for setting, total in totals.items()}


def compare_workers(lab: str, folder: Path, tmp: Path, students: int, rounds: int) -> dict:
    """Class time per worker count; the per-submission time of one worker (for the projection)."""

    def run(workers, index):
        return grade(lab, folder, tmp / f"ws{index}-w{workers}", workers=workers)

    times = alternate([1, 2], rounds, run)
    ratio = times[2] / times[1]
    for workers, seconds in times.items():
        each, per_minute = seconds / students, 60 * students / seconds
        print(
            f"  --workers {workers}: {seconds:7.1f} s ({each:5.2f} s per student, "
            f"{per_minute:5.1f} submissions per minute)"
        )
    print(f"  ratio 2 workers / 1 worker: {ratio:.2f} (target <= {TARGET})")
    return {"ok": ratio <= TARGET, "per_submission": times[1] / students}


def _noop_task(bundle, student, notebook):
    """A task that grades nothing: what is left of a task's time is the engine's overhead."""
    return {"student": student, "status": "ok", "notes": [], "parts": {}, "size": len(notebook)}


def measure_overhead(lab: str, tmp: Path, tasks: int = 200) -> bool:
    """Seconds per task of the Dask engine (scheduling, transfer, the client saving the result)."""
    from course.grading import engine, task
    from course.grading.results import ResultStore

    course = grading.Course(ROOT, tmp / "ws-overhead")
    settings = {"run": "bench", "timeout": 120, "sandbox": "none", "limits": {}}
    settings |= {"show_hidden": False, "threads": 1, "limit": 600}
    bundle = task.make_bundle(course, lab, settings)
    notebook = (ROOT / "solutions" / lab / f"{lab}.ipynb").read_bytes()
    jobs = {f"student{i:04d}": notebook for i in range(tasks)}
    store = ResultStore(course.workspace, lab)
    start = time.perf_counter()
    with engine.connect(None, workers=1, echo=None) as client:
        started = time.perf_counter() - start
        clock = time.perf_counter()
        engine.grade_all(
            client,
            bundle,
            jobs,
            lambda student, result: store.save(student, result),
            progress=False,
            function=_noop_task,
        )
        each = (time.perf_counter() - clock) / tasks
    kib = (len(notebook) + sum(map(len, bundle.files.values())) + len(bundle.gradebook)) / 1024
    print(f"  local cluster of 1 worker started in {started:.1f} s (once per class run)")
    print(
        f"  {tasks} tasks of {kib:.0f} KiB payload: {each * 1000:.1f} ms per task "
        f"(target <= {OVERHEAD_TARGET * 1000:.0f} ms)"
    )
    return each <= OVERHEAD_TARGET


def one_submission(lab: str, tmp: Path) -> float:
    """Seconds to grade one solution of ``lab`` with one worker (a class of one)."""
    folder = tmp / f"one-{lab}"
    make_class(folder, lab, 1)
    return grade(lab, folder, tmp / f"ws-one-{lab}", workers=1)


def projection(seconds: dict[str, float]) -> None:
    """Days to grade a course, from measured seconds per submission (one worker of 2 cores)."""
    print("  projection (arithmetic, not measured on a cluster): students x 10 labs, each lab")
    print("  taking the measured time per submission of the lab named; hours of wall time")
    header = f"  {'lab (s per submission)':<34}{'students':>9}" + "".join(
        f"{f'{w} worker(s)':>14}" for w in (1, 8, 64)
    )
    print(header)
    for lab, each in seconds.items():
        for students in (500, 2000):
            hours = [students * 10 * each / workers / 3600 for workers in (1, 8, 64)]
            cells = "".join(f"{h:>14.1f}" for h in hours)
            print(f"  {f'{lab} ({each:.1f} s)':<34}{students:>9}{cells}")


def compare_sandboxes(lab: str, folder: Path, tmp: Path, students: int, rounds: int) -> bool:
    sandboxes = ["none"]
    for name in ("bwrap", "landlock"):
        try:
            grading.choose(name)
            sandboxes.append(name)
        except grading.SandboxError as error:
            print(f"  {name}: not available here ({error})")

    def run(sandbox, index):
        return grade(lab, folder, tmp / f"ws{index}-{sandbox}", workers=1, sandbox=sandbox)

    times = alternate(sandboxes, rounds, run)
    ok = True
    for sandbox, seconds in times.items():
        extra = (seconds - times["none"]) / students
        share = seconds / times["none"] - 1
        verdict = ""
        if sandbox != "none":
            fine = extra <= SANDBOX_SECONDS and share <= SANDBOX_SHARE
            ok &= fine
            verdict = f"  overhead {extra:+.2f} s per submission, {share:+.1%} of the class"
            verdict += " (within budget)" if fine else " (OVER BUDGET)"
        each = seconds / students
        print(f"  --sandbox {sandbox:<8} {seconds:7.1f} s ({each:5.2f} s/student){verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab", nargs="?", default="lab04_convolution")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--only", choices=("workers", "overhead", "projection", "sandboxes"), default=None
    )
    parser.add_argument("--heavy", default="lab06_segmentation", help="training lab projected")
    args = parser.parse_args()
    if not (ROOT / "solutions" / args.lab / f"{args.lab}.ipynb").is_file():
        print(f"{args.lab} has no source notebook yet: nothing to benchmark")
        return 0
    load_before = os.getloadavg()[0]
    print(f"{args.lab}: {args.students} students on {os.cpu_count()} CPU cores, {time.ctime()}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        folder = Path(tmp) / "submissions"
        make_class(folder, args.lab, args.students)
        measured = {}
        if args.only in (None, "workers", "projection"):
            result = compare_workers(args.lab, folder, Path(tmp), args.students, args.rounds)
            ok &= result["ok"] or args.only == "projection"
            measured[args.lab] = result["per_submission"]
        if args.only in (None, "overhead"):
            ok &= measure_overhead(args.lab, Path(tmp))
        if args.only in (None, "projection"):
            if (ROOT / "solutions" / args.heavy).is_dir():
                measured[args.heavy] = one_submission(args.heavy, Path(tmp))
            projection(measured)
        if args.only in (None, "sandboxes"):
            ok &= compare_sandboxes(args.lab, folder, Path(tmp), args.students, args.rounds)
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
