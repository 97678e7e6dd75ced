"""Benchmark: vectorised NumPy ``course.conv.conv2d`` against ``torch.nn.functional.conv2d``.

Run ``python bench/conv.py``. Both run on the same float32 inputs in one process, alternately, on
2 threads; the script prints the median times and their ratio (target: ratio <= 3 on every case),
then the naive loops on a small input, to show what vectorisation buys.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")  # NumPy's BLAS, set before NumPy is imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course.conv import conv2d, conv2d_naive  # noqa: E402

CASES = [
    ((8, 3, 128, 128), (16, 3, 3, 3)),
    ((1, 1, 512, 512), (16, 1, 3, 3)),
    ((4, 32, 64, 64), (32, 32, 3, 3)),
]
TARGET = 3.0


def median_times(fns, repeats):
    """Median wall time of each function, calling them alternately ``repeats`` times."""
    times = [[] for _ in fns]
    for fn in fns:  # warm-up
        fn()
    for _ in range(repeats):
        for t, fn in zip(times, fns, strict=True):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def main(repeats: int = 30) -> bool:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads: torch 2, BLAS 2")
    print(f"{'input':>18} {'weight':>16} {'course ms':>10} {'torch ms':>9} {'ratio':>6}")
    ok = True
    for x_shape, w_shape in CASES:
        x = rng.normal(size=x_shape).astype(np.float32)
        w = rng.normal(size=w_shape).astype(np.float32)
        b = rng.normal(size=w_shape[0]).astype(np.float32)
        xt, wt, bt = map(torch.from_numpy, (x, w, b))
        ours = conv2d(x, w, b, padding=1)
        with torch.no_grad():
            ref = F.conv2d(xt, wt, bt, padding=1).numpy()
        assert np.allclose(ours, ref, rtol=1e-4, atol=1e-3), "results differ"

        def run_torch(xt=xt, wt=wt, bt=bt):
            with torch.no_grad():
                F.conv2d(xt, wt, bt, padding=1)

        t_course, t_torch = median_times(
            [lambda x=x, w=w, b=b: conv2d(x, w, b, padding=1), run_torch], repeats
        )
        ratio = t_course / t_torch
        ok &= ratio <= TARGET
        print(
            f"{str(x_shape):>18} {str(w_shape):>16} {t_course * 1e3:10.2f} "
            f"{t_torch * 1e3:9.2f} {ratio:6.2f}"
        )
    x = rng.normal(size=(1, 3, 32, 32)).astype(np.float32)
    w = rng.normal(size=(8, 3, 3, 3)).astype(np.float32)
    (t_naive,) = median_times([lambda: conv2d_naive(x, w, padding=1)], 3)
    (t_vec,) = median_times([lambda: conv2d(x, w, padding=1)], 30)
    print(
        f"\nnaive loops on (1, 3, 32, 32)*(8, 3, 3, 3): {t_naive * 1e3:.0f} ms, vectorised "
        f"{t_vec * 1e3:.3f} ms: {t_naive / t_vec:.0f}x faster"
    )
    print(f"\n{'PASS' if ok else 'FAIL'}: every ratio <= {TARGET}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
