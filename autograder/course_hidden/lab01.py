"""Hidden checks of lab01_images (grader only): other inputs, independent references.

References: HU by the rescale formula on the stored integers the check itself wrote (and
pydicom's ``MR_small.dcm``, which has no rescale tags); windows by the clipped ramp in float64;
series by the volume and spacing that were written (file order, ``InstanceNumber`` and the
direction of the slice normal all differ from the slice order); volumes by counting voxels.
"""

from __future__ import annotations

import numpy as np
import pydicom

from course.checks import guard
from course.checks.lab01 import (
    check_lesion_volume,
    check_load_series,
    check_measure_lesion,
    check_to_display,
    check_to_hu,
    check_unknown_preset,
    check_window,
    lesion_volume,
    make_dataset,
)
from course.datasets import sample_path


def q1_to_hu(to_hu) -> None:
    guard()
    rng = np.random.default_rng(101)
    cases = [
        # (stored, slope, intercept, signed, description)
        (rng.integers(-2000, 3000, (5, 7)), 0.5, -1024.0, True, "slope 0.5"),
        (rng.integers(0, 4096, (4, 3)), 1.0, -1024.0, False, "unsigned 12-bit values"),
        (rng.integers(0, 4096, (3, 9)), 1.25, -1000.5, False, "slope 1.25, intercept -1000.5"),
        (np.array([[20000, 30000], [-30000, 1]]), 2.0, 0.0, True, "large values, slope 2"),
        (rng.integers(-100, 100, (6, 6)), 3.0, 250.0, True, "a positive intercept"),
        (rng.integers(0, 1000, (2, 5)), None, None, False, "no rescale tags"),
        (rng.integers(0, 1000, (3, 3)), 2.0, None, False, "a slope but no intercept"),
        (rng.integers(0, 1000, (3, 4)), None, -1024.0, True, "an intercept but no slope"),
    ]
    for stored, slope, intercept, signed, what in cases:
        expected = stored * (1.0 if slope is None else slope) + (intercept or 0.0)
        check_to_hu(
            to_hu,
            lambda s=stored, m=slope, b=intercept, g=signed: make_dataset(s, m, b, g),
            expected,
            f"a {stored.shape[0]}x{stored.shape[1]} image, {what}",
        )
    path = sample_path("MR_small")
    mr = pydicom.dcmread(path)
    check_to_hu(to_hu, lambda: pydicom.dcmread(path), mr.pixel_array, "MR_small.dcm")


def q2_window(window) -> None:
    guard()
    rng = np.random.default_rng(202)
    check_window(window, np.array([-1350.0, -600.0, 150.0]), -600.0, 1500.0, "lung edges")
    check_window(window, np.arange(-50, 131, 10), 40, 80, "integers around the brain window")
    check_window(window, rng.integers(-1024, 3000, (4, 5, 6)).astype(np.int16), 400, 1800, "int16")
    check_window(window, rng.normal(0, 300, (7, 3)).astype(np.float32), -50.5, 1.0, "width 1")
    check_window(window, rng.normal(100, 50, (2, 3, 4, 5)), 30.0, 150.0, "a 4D array")
    check_window(window, np.float64(55.0), 40.0, 40.0, "a single value")


def q3_to_display(to_display) -> None:
    guard()
    rng = np.random.default_rng(303)
    hu = rng.integers(-1100, 2500, (3, 40, 50)).astype(np.float64)
    for preset in ("bone", "brain", "mediastinum", "liver", "stroke"):
        check_to_display(to_display, hu, preset, "random HU values")
    edges = np.array([-160.0, 240.0, 40.0, -10.0, 90.0, 3000.0, -3000.0])
    check_to_display(to_display, edges, "soft_tissue", "the window edges")
    check_unknown_preset(to_display, hu[0])


def q4_load_series(load_series) -> None:
    guard()
    rng = np.random.default_rng(404)
    c, s = np.cos(np.deg2rad(30.0)), np.sin(np.deg2rad(30.0))
    cases = [
        # (shape, spacing, options, description)
        (
            (5, 12, 9),
            (1.25, 0.5, 0.6),
            dict(orientation=(1, 0, 0, 0, 0, -1), slice_thickness=2.5),
            "coronal, 2.5 mm thick slices every 1.25 mm",
        ),
        (
            (7, 10, 10),
            (3.0, 0.9, 0.9),
            dict(orientation=(1, 0, 0, 0, c, s), origin=(-40.0, 12.5, 300.0)),
            "oblique (tilted 30 degrees)",
        ),
        (
            (6, 8, 11),
            (2.0, 0.7, 0.8),
            dict(orientation=(1, 0, 0, 0, -1, 0), origin=(10.0, -20.0, 500.0)),
            "axial with the normal pointing to -z",
        ),
        ((2, 9, 7), (5.0, 1.5, 1.5), dict(slice_thickness=1.0), "two 1 mm slices 5 mm apart"),
        ((8, 6, 6), (0.625, 0.4, 0.4), dict(rescale_slope=0.5, rescale_intercept=-1000.0), "slope"),
        ((4, 5, 13), (1.0, 1.0, 2.0), dict(orientation=(0, 1, 0, 0, 0, -1)), "sagittal"),
    ]
    for k, (shape, spacing, options, what) in enumerate(cases):
        step = options.get("rescale_slope", 1.0)
        volume = np.round(rng.uniform(-1000, 2000, shape) / step) * step
        extension = "" if k % 2 else ".dcm"
        check_load_series(
            load_series, volume, spacing, what, seed=500 + k, extension=extension, **options
        )


def q5_lesion_volume_ml(lesion_volume_ml) -> None:
    guard()
    rng = np.random.default_rng(505)
    for k in range(6):
        shape = tuple(int(v) for v in rng.integers(3, 20, size=3))
        mask = rng.random(shape) < rng.uniform(0.05, 0.6)
        spacing = tuple(float(v) for v in np.round(rng.uniform(0.3, 5.0, size=3), 3))
        as_type = (bool, np.uint8, np.int64, np.float32, bool, np.int32)[k]
        check_lesion_volume(lesion_volume_ml, mask.astype(as_type), spacing, f"random mask {k}")
    empty = np.zeros((4, 4, 4), dtype=bool)
    check_lesion_volume(lesion_volume_ml, empty, (1.0, 1.0, 1.0), "an empty mask")
    check_lesion_volume(lesion_volume_ml, ~empty, [2.0, 0.5, 0.5], "a full mask, list spacing")
    check_lesion_volume(lesion_volume_ml, ~empty, np.array([5.0, 0.9, 0.9]), "array spacing")


def q6_measure_lesion(measure_lesion) -> None:
    guard()
    volume = lesion_volume((12, 20, 22), (6, 9, 10), (4, 5, 7), seed=61, lesion_hu=-40)
    check_measure_lesion(
        measure_lesion, volume, (2.0, 0.6, 0.6), -100, -10, "a hypodense lesion", 62
    )
    volume = lesion_volume((9, 16, 16), (4, 8, 8), (3, 4, 4), seed=63, lesion_hu=150)
    check_measure_lesion(
        measure_lesion,
        volume,
        (2.5, 0.8, 0.8),
        100,
        400,
        "an oblique series",
        64,
        orientation=(1, 0, 0, 0, 0.8, 0.6),
    )
    volume = lesion_volume((8, 14, 12), (3, 7, 6), (2, 4, 3), seed=65, lesion_hu=90) + 0.5
    check_measure_lesion(
        measure_lesion,
        volume,
        (1.5, 0.7, 0.9),
        60.5,
        300,
        "slope 0.5",
        66,
        rescale_slope=0.5,
        rescale_intercept=-1024.0,
    )
