"""Benchmark: generating the synthetic CT lesion data set (``SyntheticLesionCT``).

Run ``python bench/datasets.py``. Target (issue: physics and datasets): 1,000 slices of 64 x 64
in under 10 s on 2 cores. For scale, the script also times the same pipeline done slice by slice
with scikit-image (``radon`` then ``iradon`` for each phantom) on 50 slices, in the same run,
and prints the ratio per slice.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage.transform import iradon, radon  # noqa: E402

from course.datasets import SyntheticLesionCT  # noqa: E402
from course.physics.phantoms import random_phantom  # noqa: E402

N, SIZE, TARGET_S = 1000, 64, 10.0


def skimage_loop(n: int) -> None:
    """The same phantoms reconstructed one by one with scikit-image (noise left out)."""
    rng = np.random.default_rng(0)
    theta = np.linspace(0, 180, round(1.5 * SIZE), endpoint=False)
    for _ in range(n):
        mu, _ = random_phantom(SIZE, rng, n_lesions=int(rng.integers(1, 4)))
        iradon(radon(mu.astype(float), theta), theta, filter_name="ramp")


def main() -> bool:
    torch.set_num_threads(2)
    SyntheticLesionCT(16, size=SIZE, seed=99)  # warm-up: imports and the cached geometry
    start = time.perf_counter()
    SyntheticLesionCT(N, size=SIZE, seed=0)
    course_s = time.perf_counter() - start
    start = time.perf_counter()
    skimage_loop(50)
    skimage_s = (time.perf_counter() - start) / 50 * N
    print(f"SyntheticLesionCT({N}, size={SIZE}): {course_s:.2f} s (target <= {TARGET_S:.0f} s)")
    print(f"scikit-image radon+iradon loop, extrapolated from 50 slices: {skimage_s:.2f} s")
    print(f"ratio course / loop: {course_s / skimage_s:.3f}")
    return course_s <= TARGET_S


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
