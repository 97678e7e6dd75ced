"""Benchmark: ``course.physics.ct.fbp`` against ``skimage.transform.iradon`` (ramp filter).

Run ``python bench/ct.py``. Both reconstruct the same sinograms (made by ``skimage.transform.radon``
with ``theta = np.arange(180)``) in one process, alternately, on 2 threads:

1. one 256 x 256 Shepp-Logan: RMSE inside the reconstruction circle must be <= 1.02 x
   scikit-image's, and the time of one call <= 1.5 x scikit-image's;
2. a batch of 32 sinograms of 128 x 128 random phantoms: the course's time per image (one
   batched call) must be <= 0.25 x that of a loop of ``iradon`` calls;
3. SART, one pass over the angles of a 128 x 128 Shepp-Logan: ``course.physics.ct.sart``
   (relaxation 0.5, where its progress per pass is about that of scikit-image's 0.15) against
   ``skimage.transform.iradon_sart``: the RMSE within 10 % of scikit-image's, the time of one call
   <= 1 x scikit-image's.

The course builds a sparse back-projection matrix once per geometry and caches it: the timed
calls exclude that one-time build, which is printed separately as the "cold" first call.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")  # NumPy's BLAS, set before NumPy is imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import skimage  # noqa: E402
import torch  # noqa: E402
from skimage.transform import iradon, iradon_sart, radon  # noqa: E402

from course.physics import ct  # noqa: E402
from course.physics.phantoms import random_phantom, shepp_logan  # noqa: E402

THETA = np.arange(180)
RMSE_TARGET, TIME_TARGET, BATCH_TARGET = 1.02, 1.5, 0.25
SART_RMSE_TARGET, SART_TIME_TARGET = 0.10, 1.0


def median_times(fns, repeats):
    """Median wall time of each function, calling them alternately ``repeats`` times."""
    times = [[] for _ in fns]
    for fn in fns:  # warm-up (and, for the course, the one-time geometry build)
        fn()
    for _ in range(repeats):
        for t, fn in zip(times, fns, strict=True):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def cold_time(fn):
    """Time of a first call with an empty geometry cache."""
    ct.clear_cache()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rmse_inside(image, truth):
    inside = ct.circle_mask(truth.shape[-1])
    return float(np.sqrt(np.mean((image - truth)[..., inside] ** 2)))


def single(repeats: int) -> bool:
    truth = shepp_logan(256).astype(np.float64)
    sinogram = radon(truth, THETA)
    ours, ref = ct.fbp(sinogram, THETA), iradon(sinogram, THETA, filter_name="ramp")
    rmse_ours, rmse_ref = rmse_inside(ours, truth), rmse_inside(ref, truth)
    cold = cold_time(lambda: ct.fbp(sinogram, THETA))
    t_ours, t_ref = median_times(
        [lambda: ct.fbp(sinogram, THETA), lambda: iradon(sinogram, THETA, filter_name="ramp")],
        repeats,
    )
    ok_rmse, ok_time = rmse_ours <= RMSE_TARGET * rmse_ref, t_ours <= TIME_TARGET * t_ref
    print("1. one 256 x 256 Shepp-Logan, 180 angles (sinogram from skimage radon)")
    print(
        f"   RMSE inside circle: course {rmse_ours:.5f}, skimage {rmse_ref:.5f}, ratio "
        f"{rmse_ours / rmse_ref:.4f} (target <= {RMSE_TARGET})  {'ok' if ok_rmse else 'MISS'}"
    )
    diff = np.abs(ours - ref)
    yy, xx = np.mgrid[:256, :256] - 128
    rim = ct.circle_mask(256) & (xx**2 + yy**2 > 127**2)  # outermost ring: see ct.fbp's notes
    print(
        f"   max |course - skimage|: {diff[ct.circle_mask(256) & ~rim].max():.1e} inside the "
        f"circle, {diff[rim].max():.1e} on its outermost ring of pixels"
    )
    print(
        f"   time per call: course {t_ours * 1e3:.1f} ms, skimage {t_ref * 1e3:.1f} ms, ratio "
        f"{t_ours / t_ref:.3f} (target <= {TIME_TARGET})  {'ok' if ok_time else 'MISS'}"
    )
    print(
        f"   course cold first call (builds and caches the matrix): {cold * 1e3:.0f} ms = "
        f"{cold / t_ref:.2f} x skimage's call"
    )
    return ok_rmse and ok_time


def batch(repeats: int, size: int = 128, count: int = 32) -> bool:
    truths = np.stack([random_phantom(size, seed, n_lesions=3)[0] for seed in range(count)])
    truths = truths.astype(np.float64)
    sinograms = np.stack([radon(t, THETA) for t in truths])

    def loop():
        return np.stack([iradon(s, THETA, filter_name="ramp") for s in sinograms])

    ours, ref = ct.fbp(sinograms, THETA), loop()
    cold = cold_time(lambda: ct.fbp(sinograms, THETA))
    t_ours, t_ref = median_times([lambda: ct.fbp(sinograms, THETA), loop], repeats)
    ratio = t_ours / t_ref
    ok = ratio <= BATCH_TARGET
    print(f"\n2. a batch of {count} sinograms of {size} x {size} random phantoms, 180 angles")
    rmse_ratio = rmse_inside(ours, truths) / rmse_inside(ref, truths)
    print(f"   RMSE ratio course / skimage: {rmse_ratio:.4f}")
    print(
        f"   per image: course {t_ours / count * 1e3:.2f} ms (one batched call), skimage "
        f"{t_ref / count * 1e3:.2f} ms (loop), ratio {ratio:.3f} (target <= {BATCH_TARGET})  "
        f"{'ok' if ok else 'MISS'}"
    )
    print(
        f"   course cold first call: {cold / count * 1e3:.2f} ms per image "
        f"({cold / t_ref:.2f} x the skimage loop)"
    )
    return ok


def sart(repeats: int, size: int = 128) -> bool:
    truth = shepp_logan(size).astype(np.float64)
    sinogram = radon(truth, THETA)

    def ours():
        return ct.sart(sinogram, THETA, relaxation=0.5)

    def theirs():
        return iradon_sart(sinogram, THETA)

    rmse_ours, rmse_ref = rmse_inside(ours(), truth), rmse_inside(theirs(), truth)
    t_ours, t_ref = median_times([ours, theirs], repeats)
    ok_rmse = abs(rmse_ours - rmse_ref) <= SART_RMSE_TARGET * rmse_ref
    ok_time = t_ours <= SART_TIME_TARGET * t_ref
    print(f"\n3. SART, one pass over {len(THETA)} angles of a {size} x {size} Shepp-Logan")
    print(
        f"   RMSE inside circle: course (relaxation 0.5) {rmse_ours:.5f}, skimage (0.15) "
        f"{rmse_ref:.5f}, ratio {rmse_ours / rmse_ref:.3f} (target within "
        f"{SART_RMSE_TARGET:.0%})  {'ok' if ok_rmse else 'MISS'}"
    )
    print(
        f"   time per call: course {t_ours * 1e3:.0f} ms, skimage {t_ref * 1e3:.0f} ms, ratio "
        f"{t_ours / t_ref:.3f} (target <= {SART_TIME_TARGET})  {'ok' if ok_time else 'MISS'}"
    )
    return ok_rmse and ok_time


def main(repeats: int = 15) -> bool:
    torch.set_num_threads(2)
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-image {skimage.__version__}, "
        "threads: BLAS 2, torch 2; median of alternating calls after a warm-up\n"
    )
    ok = single(repeats)
    ok &= batch(max(3, repeats // 3))
    ok &= sart(max(3, repeats // 3))
    print(
        f"\n{'PASS' if ok else 'FAIL'}: RMSE ratio <= {RMSE_TARGET}, time ratio <= {TIME_TARGET}, "
        f"batch per-image ratio <= {BATCH_TARGET}, SART RMSE within {SART_RMSE_TARGET:.0%} and "
        f"time ratio <= {SART_TIME_TARGET}"
    )
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
