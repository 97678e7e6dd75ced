"""Benchmark: grading a class with ``course autograde``: 1 vs 2 workers, and each sandbox.

Run ``python bench/autograde.py [LAB] [--students N] [--rounds R] [--only workers|sandboxes]``.
The class is N copies (default 20) of a correct submission (the lab's solution notebook) of the
fastest lab (default ``lab04_convolution``). Each run uses a fresh workspace, in this process;
with R rounds the settings alternate in order (1, 2, 2, 1 ... workers; none, bwrap, landlock,
landlock, bwrap, none ...) so that a change of the machine's load affects all alike, and the
times are summed per setting. Prints the times, the time per student, the ratios and the load
average; exits non-zero if a student does not get full marks, if the ratio 2 workers / 1 worker
is above 0.65, or if a sandbox adds more than 0.5 s per submission or 10 % of the class's time
to ``--sandbox none`` (the budgets of ``autograder/README.md``).
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


def compare_workers(lab: str, folder: Path, tmp: Path, students: int, rounds: int) -> bool:
    def run(workers, index):
        return grade(lab, folder, tmp / f"ws{index}-w{workers}", workers=workers)

    times = alternate([1, 2], rounds, run)
    ratio = times[2] / times[1]
    for workers, seconds in times.items():
        print(f"  --workers {workers}: {seconds:7.1f} s ({seconds / students:5.2f} s per student)")
    print(f"  ratio 2 workers / 1 worker: {ratio:.2f} (target <= {TARGET})")
    return ratio <= TARGET


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
    parser.add_argument("--only", choices=("workers", "sandboxes"), default=None)
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
        if args.only in (None, "workers"):
            ok &= compare_workers(args.lab, folder, Path(tmp), args.students, args.rounds)
        if args.only in (None, "sandboxes"):
            ok &= compare_sandboxes(args.lab, folder, Path(tmp), args.students, args.rounds)
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
