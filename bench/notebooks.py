"""Measure every notebook: wall time and peak memory of a full execution on this machine.

Run ``python bench/notebooks.py [PATTERN ...]`` from the repository root. Each notebook is executed
by ``jupyter nbconvert --execute`` (into a temporary file: the stored notebook is not touched)
under GNU ``/usr/bin/time -v``, which reports the peak resident memory of the whole process tree
(the kernel included). The budget (COURSE.md): <= 120 s and < 2 GB per notebook on 2 CPU cores,
the nine lectures together <= 15 minutes. Prints a Markdown table for ``notebooks/README.md``;
exits non-zero if a budget is missed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S, BUDGET_GB, TOTAL_S = 120.0, 2.0, 15 * 60.0


def measure(notebook: Path) -> tuple[float, float, float, bool]:
    """Wall seconds, CPU seconds (user + sys), peak GB and success of one run of ``notebook``."""
    jupyter = Path(sys.executable).with_name("jupyter")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "/usr/bin/time", "-v", str(jupyter), "nbconvert", "--to", "notebook", "--execute",
            "--ExecutePreprocessor.timeout=600", "--output-dir", tmp, str(notebook),
        ]  # fmt: skip
        start = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "autograder")}  # the labs' hidden checks
        result = subprocess.run(
            command, capture_output=True, text=True, cwd=notebook.parent, env=env
        )
        wall = time.perf_counter() - start
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    peak_gb = int(match.group(1)) / 1024**2 if match else float("nan")
    cpu = sum(
        float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", result.stderr)
    )
    return wall, cpu, peak_gb, result.returncode == 0


def main(patterns: list[str]) -> bool:
    notebooks = sorted((ROOT / "notebooks" / "lectures").glob("*.ipynb"))
    notebooks += sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if patterns:
        notebooks = [p for p in notebooks if any(s in p.name for s in patterns)]
    print(f"load average before: {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
    print("| notebook | run time (s) | CPU time (s) | peak memory (GB) | size (MB) |")
    print("|---|---:|---:|---:|---:|")
    ok, total = True, 0.0
    for path in notebooks:
        wall, cpu, peak, success = measure(path)
        size_mb = path.stat().st_size / 1e6
        total += wall if "lectures" in path.parts else 0.0
        ok &= success and wall <= BUDGET_S and peak < BUDGET_GB
        flag = "" if success else " (FAILED)"
        name = f"`{path.relative_to(ROOT)}`{flag}"
        print(f"| {name} | {wall:.0f} | {cpu:.0f} | {peak:.2f} | {size_mb:.2f} |", flush=True)
    print(f"\nlectures together: {total:.0f} s (budget {TOTAL_S:.0f} s)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return ok and total <= TOTAL_S


if __name__ == "__main__":
    raise SystemExit(0 if main(sys.argv[1:]) else 1)
