"""Train the recipes of labs 05 and 06 over seeds and thread counts; compare with the grading bar.

Run ``python bench/lab_recipes.py [LAB ...] [--seeds 0,1,2,3,4] [--threads 1,2]`` from the
repository root (LAB: ``lab05``, ``lab06``; default both). The recipe measured is the solution
notebook's own: for every seed, a fresh process (``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` set
to the thread count) executes the code cells of ``solutions/<lab>/<lab>.ipynb`` up to and
including the training cell (``q5_answer``), with the setup line ``SEED =
course.seed_everything(0)`` turned into ``SEED = course.seed_everything(<seed>)``; the checks
cells are skipped (they only check, and the training cell seeds itself again with ``SEED``).
The script refuses a notebook that hard-codes another seed (``seed_everything(0)``,
``manual_seed(0)`` ...): that seed would not vary. The trained ``model`` is then scored by the
graders' own functions: the visible check's ``held_out_accuracy`` / ``held_out_dice``
(``course/checks``) and the hidden check's (``autograder/course_hidden``), on their held-out
slices.

Both solutions call ``torch.set_num_threads(1)`` (lab06 in its setup cell, which students get
too), so the thread count changes only NumPy's and SciPy's threads (the simulation of the
slices) there; ``--unpin`` drops that call, so that PyTorch trains with the threads given, as it
does for a student whose own lab05 recipe does not pin them.

Prints a Markdown table for ``bench/README.md``: per lab, check and thread count, the metric of
each seed, mean +/- SD, the worst seed, the bar, the margin (worst seed - bar), mean - 3 SD, and
the wall and CPU seconds of the training cell. Target: every row holds (worst seed >= bar and
mean - 3 SD >= bar, :meth:`course.spread.Spread.holds`); the script exits non-zero otherwise.
About 40 s per seed and thread count per lab on an idle core: some 15 minutes for everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: lab -> notebook, the training cell, the graders' scoring functions and the bar they apply.
LABS = {
    "lab05": {
        "notebook": "solutions/lab05_cnn/lab05_cnn.ipynb",
        "metric": "accuracy",
        "scores": {
            "visible (200 slices)": ("course.checks.lab05", "held_out_accuracy"),
            "hidden (400 slices)": ("course_hidden.lab05", "held_out_accuracy"),
        },
        "bar": ("course.checks.lab05", "ACCURACY"),
    },
    "lab06": {
        "notebook": "solutions/lab06_segmentation/lab06_segmentation.ipynb",
        "metric": "mean Dice",
        "scores": {
            "visible (48 slices)": ("course.checks.lab06", "held_out_dice"),
            "hidden (128 slices)": ("course_hidden.lab06", "held_out_dice"),
        },
        "bar": ("course.checks.lab06", "DICE_BAR"),
    },
}
TRAINING_CELL = "q5_answer"
SEED_LINE = re.compile(r"^SEED = course\.seed_everything\(0\)", re.MULTILINE)
ANY_SEED = re.compile(r"(seed_everything|manual_seed)\(\s*\d")
PIN = re.compile(r"torch\.set_num_threads\(1\)")


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def recipe_cells(lab: str, seed: int, unpin: bool = False) -> list[tuple[str, str]]:
    """(grade_id, source) of the code cells that train ``lab``'s model, seeded with ``seed``;
    ``unpin``: without the notebook's ``torch.set_num_threads(1)``.
    """
    path = ROOT / LABS[lab]["notebook"]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [_grade_id(c) for c in cells]
    if TRAINING_CELL not in ids:
        raise SystemExit(f"{path}: no cell with grade_id {TRAINING_CELL!r}")
    chosen = []
    for cell in cells[: ids.index(TRAINING_CELL) + 1]:
        if cell["cell_type"] != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue  # markdown, or a checks cell
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        chosen.append((_grade_id(cell) or "?", source))
    text = "\n".join(source for _, source in chosen)
    if len(SEED_LINE.findall(text)) != 1 or len(ANY_SEED.findall(text)) != 1:
        raise SystemExit(
            f"{path}: the cells up to {TRAINING_CELL!r} must seed only through the setup line "
            "`SEED = course.seed_everything(0)` and use `SEED` everywhere else "
            "(course.seed_everything(SEED), torch.Generator().manual_seed(SEED)): another "
            "hard-coded seed would not vary with the seed measured here"
        )
    if unpin:
        chosen = [(gid, PIN.sub("pass  # (unpinned)", s)) for gid, s in chosen]
    return [(gid, SEED_LINE.sub(f"SEED = course.seed_everything({seed})", s)) for gid, s in chosen]


def train_once(lab: str, seed: int, unpin: bool = False) -> dict:
    """Run the recipe once in this process; the graders' scores and the training cell's time."""
    import importlib

    sys.path.insert(0, str(ROOT / "autograder"))  # course_hidden, as the grader imports it
    namespace: dict = {"__name__": "__main__"}
    seconds = cpu = 0.0
    with contextlib.redirect_stdout(sys.stderr):  # the notebook's prints stay out of the result
        for gid, source in recipe_cells(lab, seed, unpin=unpin):
            start, start_cpu = time.perf_counter(), time.process_time()
            exec(compile(source, f"<{lab} cell {gid}>", "exec"), namespace)  # noqa: S102
            seconds = time.perf_counter() - start  # the last cell run is the training cell
            cpu = time.process_time() - start_cpu
        scores = {}
        for name, (module, function) in LABS[lab]["scores"].items():
            scores[name] = getattr(importlib.import_module(module), function)(namespace["model"])
    return {"scores": scores, "train_s": seconds, "train_cpu_s": cpu}


def run_child(lab: str, seed: int, threads: int, unpin: bool = False) -> dict:
    """:func:`train_once` in a fresh process with ``threads`` BLAS/OpenMP threads."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["MPLBACKEND"] = "Agg"
    env.pop("COURSE_SEEDS", None)
    command = [sys.executable, __file__, "--child", lab, str(seed)] + ["--unpin"] * unpin
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"{lab}, seed {seed}, {threads} thread(s): the run failed")
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv: list[str]) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", metavar="LAB", help=f"one of {', '.join(LABS)}")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument(
        "--unpin",
        action="store_true",
        help="drop the notebooks' torch.set_num_threads(1): PyTorch then uses the threads given",
    )
    parser.add_argument("--child", nargs=2, metavar=("LAB", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if set(args.labs) - set(LABS):
        parser.error(
            f"unknown lab(s) {sorted(set(args.labs) - set(LABS))}: choose from {list(LABS)}"
        )
    if args.child:
        result = train_once(args.child[0], int(args.child[1]), unpin=args.unpin)
        print("RESULT " + json.dumps(result), flush=True)
        return True

    import importlib

    import torch

    from course.spread import Spread

    seeds = tuple(int(s) for s in args.seeds.split(","))
    thread_counts = tuple(int(t) for t in args.threads.split(","))
    labs = args.labs or list(LABS)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}, torch {torch.__version__}, seeds {args.seeds}"
        + (", torch.set_num_threads(1) removed" if args.unpin else "")
    )
    print(
        "| lab | check | threads | per seed | mean +/- SD | worst seed | bar | margin "
        "(worst - bar) | mean - 3 SD | verdict | training cell: wall s (mean, max), CPU s |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|")
    ok = True
    for lab in labs:
        spec = LABS[lab]
        module, name = spec["bar"]
        bar = float(getattr(importlib.import_module(module), name))
        for threads in thread_counts:
            runs = [run_child(lab, seed, threads, args.unpin) for seed in seeds]
            times = [r["train_s"] for r in runs]
            cpu = sum(r["train_cpu_s"] for r in runs) / len(runs)
            for check in spec["scores"]:
                spread = Spread(
                    f"{lab} {spec['metric']}", tuple(r["scores"][check] for r in runs), seeds
                )
                holds = spread.holds(above=bar)
                ok &= holds
                values = ", ".join(f"{v:.3f}" for v in spread.values)
                print(
                    f"| {lab} | {spec['metric']}, {check} | {threads} | {values} | "
                    f"{spread.mean:.3f} +/- {spread.sd:.3f} | {spread.worst:.3f} | {bar:g} | "
                    f"{spread.worst - bar:+.3f} | {spread.mean - 3 * spread.sd:.3f} | "
                    f"{'holds' if holds else 'FAILS'} | {sum(times) / len(times):.0f}, "
                    f"{max(times):.0f}, {cpu:.0f} |",
                    flush=True,
                )
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main(sys.argv[1:]) else 1)
