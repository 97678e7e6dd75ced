"""Benchmark: grading a class with ``course autograde`` on 1 worker and on 2 workers.

Run ``python bench/autograde.py [LAB] [--students N] [--rounds R]``. The class is N copies
(default 20) of a correct submission (the lab's solution notebook) of the fastest lab (default
``lab04_convolution``). Each run uses a fresh workspace, in this process; with R rounds the runs
alternate 1, 2, 2, 1, 1, 2 ... workers (so a change of the machine's load during the benchmark
affects both alike) and the times are summed per setting. Prints the times, the time per student,
the ratio and the load average of the machine; exits non-zero if the ratio (2 workers / 1 worker)
is above the target 0.65 or a student does not get full marks.
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


def make_class(folder: Path, lab: str, students: int) -> None:
    """``students`` copies of the solution, one folder per student."""
    source = (ROOT / "solutions" / lab / f"{lab}.ipynb").read_bytes()
    for index in range(students):
        entry = folder / f"student{index:02d}"
        entry.mkdir(parents=True)
        (entry / f"{lab}.ipynb").write_bytes(source)


def grade(lab: str, folder: Path, workspace: Path, workers: int) -> float:
    course = grading.Course(ROOT, workspace)
    start = time.perf_counter()
    run = grading.autograde(course, lab, folder, workers=workers, echo=None)
    seconds = time.perf_counter() - start
    wrong = [r["student"] for r in run.rows if r["total"] != r["max"] or r["status"] != "ok"]
    if wrong:
        raise SystemExit(f"not full marks with {workers} worker(s): {wrong}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab", nargs="?", default="lab04_convolution")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not (ROOT / "solutions" / args.lab / f"{args.lab}.ipynb").is_file():
        print(f"{args.lab} has no source notebook yet: nothing to benchmark")
        return 0
    load_before = os.getloadavg()[0]
    totals = {1: 0.0, 2: 0.0}
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        folder = Path(tmp) / "submissions"
        make_class(folder, args.lab, args.students)
        for index in range(args.rounds):
            for workers in (1, 2) if index % 2 == 0 else (2, 1):
                workspace = Path(tmp) / f"ws{index}-{workers}"
                seconds = grade(args.lab, folder, workspace, workers=workers)
                totals[workers] += seconds
                print(f"  round {index + 1}, --workers {workers}: {seconds:7.1f} s", flush=True)
    one, two = totals[1] / args.rounds, totals[2] / args.rounds
    ratio = two / one
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"{args.lab}: {args.students} students on {os.cpu_count()} CPU cores ({load})")
    print(f"  --workers 1: {one:7.1f} s ({one / args.students:5.2f} s per student)")
    print(f"  --workers 2: {two:7.1f} s ({two / args.students:5.2f} s per student)")
    print(f"  ratio 2 workers / 1 worker: {ratio:.2f} (target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
