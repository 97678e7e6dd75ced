"""Re-run every stochastic claim of the lectures over 5 seeds and with 1 and 2 threads.

Run ``python bench/robustness.py [PATTERN ...]`` from the repository root. Every lecture notebook
that states a claim with :meth:`course.spread.Spread.claim` is executed (into a temporary file:
the stored notebook is not touched) with ``COURSE_SEEDS=0,1,2,3,4`` (the notebooks measure over
``course.spread.seeds()``) and ``OMP_NUM_THREADS`` 1, then 2. Each ``CLAIM`` line the notebook
prints is collected: the claim, the worst seed, the mean -/+ 3 SD, and the margin to the bound.
Prints a Markdown table for ``bench/README.md``; exits non-zero if a claim fails anywhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = "0,1,2,3,4"
CLAIM = re.compile(
    r"CLAIM (?P<claim>.+?): worst seed (?P<worst>\S+), mean [-+] \S+ SD (?P<edge>\S+), "
    r"margin (?P<margin>\S+) \((?P<verdict>holds|FAILS)\)"
)


def claims(notebook: Path, threads: int) -> tuple[list[dict], float]:
    """The CLAIM lines of one execution of ``notebook``, and its wall time."""
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {**os.environ, "COURSE_SEEDS": SEEDS, "OMP_NUM_THREADS": str(threads)}
    env["MKL_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
            "--ExecutePreprocessor.timeout=1200", "--output-dir", tmp, str(notebook),
        ]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, cwd=notebook.parent, env=env)
        seconds = time.perf_counter() - start
        executed = Path(tmp) / notebook.name
        cells = (
            json.loads(executed.read_text(encoding="utf-8"))["cells"] if executed.exists() else []
        )
    text = "".join(
        "".join(output.get("text", ""))
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )
    return [m.groupdict() for m in CLAIM.finditer(text)], seconds


def main(patterns: list[str]) -> bool:
    notebooks = [
        p
        for p in sorted((ROOT / "notebooks" / "lectures").glob("*.ipynb"))
        if ".claim(" in p.read_text(encoding="utf-8")
        and (not patterns or any(s in p.name for s in patterns))
    ]
    print(f"{time.ctime()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, seeds {SEEDS}")
    print("| notebook | claim | threads | worst seed | mean -/+ 3 SD | margin | verdict |")
    print("|---|---|---:|---:|---:|---:|---|")
    ok = True
    for path in notebooks:
        for threads in (1, 2):
            found, seconds = claims(path, threads)
            if not found:
                ok = False
                print(f"| `{path.name}` | (no claim printed: the run failed) | {threads} | | | | |")
            for c in found:
                ok &= c["verdict"] == "holds"
                print(
                    f"| `{path.stem}` | {c['claim']} | {threads} | {c['worst']} | {c['edge']} "
                    f"| {c['margin']} | {c['verdict']} |",
                    flush=True,
                )
            print(f"<!-- {path.name}, {threads} thread(s): {seconds:.0f} s -->", flush=True)
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main(sys.argv[1:]) else 1)
