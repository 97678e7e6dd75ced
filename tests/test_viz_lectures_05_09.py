"""The plotting helpers of lectures 05-09 draw exactly the numbers they are given.

Each figure is read back from Matplotlib's artists (image arrays, bar heights, line data, arrow
components) and compared with the inputs computed independently here (NumPy histograms, the
absolute error, PyTorch parameter counts); bad inputs raise with the argument's name.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.models import layer_table  # noqa: E402
from course.viz import (  # noqa: E402
    plot_confusion_matrix,
    plot_displacement,
    plot_layer_parameters,
    plot_parameter_split,
    plot_roc,
    plot_scores_by_class,
    show_restoration,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("k", [2, 3, 5])
def test_confusion_matrix_shows_every_count_where_it_belongs(k):
    counts = np.random.default_rng(k).integers(0, 100, (k, k))
    names = [f"class {i}" for i in range(k)]
    ax = plot_confusion_matrix(counts, names)
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    positions = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    for (i, j), count in np.ndenumerate(counts):
        assert positions[i, j].get_text() == str(count)  # row i = truth, column j = predicted
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_confusion_matrix_cell_names_and_readable_text():
    ax = plot_confusion_matrix(
        [[126, 24], [8, 142]], ["lesion", "none"], cell_names=["TP", "FN", "FP", "TN"]
    )
    assert [t.get_text() for t in ax.texts] == ["TP\n126", "FN\n24", "FP\n8", "TN\n142"]
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["FP\n8"] == "white" and colours["TN\n142"] == "black"  # dark cell, bright cell


@pytest.mark.parametrize(
    ("counts", "names", "cells"),
    [
        ([[1, 2]], ["a"], None),
        ([[1, -1], [0, 2]], ["a", "b"], None),
        ([[1, 2], [3, 4]], ["a"], None),
        ([[1, 2], [3, 4]], ["a", "b"], ["TP"]),
    ],
)
def test_confusion_matrix_rejects_bad_input(counts, names, cells):
    with pytest.raises(ValueError, match="counts|names"):
        plot_confusion_matrix(counts, names, cell_names=cells)


def test_roc_draws_the_curve_the_diagonal_and_the_point():
    fpr, tpr = np.array([0, 0.1, 0.4, 1]), np.array([0, 0.6, 0.9, 1])
    ax = plot_roc(fpr, tpr, label="model", point=(0.1, 0.6))
    curve, chance, point = ax.lines
    np.testing.assert_array_equal(curve.get_xdata(), fpr)
    np.testing.assert_array_equal(curve.get_ydata(), tpr)
    np.testing.assert_array_equal(chance.get_xdata(), [0, 1])
    assert tuple(point.get_xydata()[0]) == (0.1, 0.6)
    assert "sensitivity" in ax.get_ylabel() and "specificity" in ax.get_xlabel()


@pytest.mark.parametrize(
    ("fpr", "tpr"), [([0, 1], [0, 0.5, 1]), ([0, 1.2], [0, 1]), ([[0, 1]], [[0, 1]])]
)
def test_roc_rejects_bad_rates(fpr, tpr):
    with pytest.raises(ValueError, match="fpr and tpr"):
        plot_roc(fpr, tpr)


def test_scores_by_class_histograms_match_numpy():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(rng.normal(0.3 + 0.4 * labels, 0.2), 0, 1)
    ax = plot_scores_by_class(labels, scores, threshold=0.5, bins=10)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(2, 10)
    for row, value in zip(heights, (0, 1), strict=True):
        np.testing.assert_array_equal(row, np.histogram(scores[labels == value], 10, (0, 1))[0])
    assert ax.lines[0].get_xdata()[0] == 0.5


@pytest.mark.parametrize(
    ("labels", "scores", "match"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "labels"),
        ([0, 1], [0.1], "labels"),
        ([0, 1], [0.1, 1.5], "scores"),
    ],
)
def test_scores_by_class_rejects_bad_input(labels, scores, match):
    with pytest.raises(ValueError, match=match):
        plot_scores_by_class(labels, scores)
    with pytest.raises(TypeError, match="bins"):
        plot_scores_by_class([0, 1], [0.2, 0.8], bins=2.5)


def test_layer_parameters_bars_are_the_layer_table():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    rows = [r for r in layer_table(net, (1, 8, 8)) if r["output_shape"] is not None]
    ax = plot_layer_parameters(rows, outputs=True)
    heights = [p.get_height() for p in ax.patches]
    assert heights[: len(rows)] == [r["numel"] for r in rows]
    assert heights[len(rows) :] == [sum(p.numel() for p in m.parameters()) for m in net]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    legend = {
        t.get_text(): h.get_facecolor()
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert set(legend) == {
        "values in the layer's output",
        "parameters: convolution, batch norm",
        "parameters: fully connected",
    }
    assert matplotlib.colors.to_hex(
        legend["parameters: fully connected"]
    ) == matplotlib.colors.to_hex("tab:red")
    dense_bar = ax.patches[-1]
    assert matplotlib.colors.to_hex(dense_bar.get_facecolor()) == matplotlib.colors.to_hex(
        "tab:red"
    )
    with pytest.raises(ValueError, match="layer_table"):
        plot_layer_parameters([{"type": "Conv2d"}])


def test_parameter_split_stacks_convolutions_and_dense_layers():
    totals, dense = {"A": 3_000_000, "B": 1_200_000}, {"A": 2_000_000, "B": 0}
    ax = plot_parameter_split(totals, dense, notes={"A": "(2012)"})
    conv, fc = ax.patches[:2], ax.patches[2:]
    assert [p.get_height() for p in conv] == [1.0, 1.2]
    assert [p.get_height() for p in fc] == [2.0, 0.0] and [p.get_y() for p in fc] == [1.0, 1.2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A\n(2012)", "B"]
    assert ax.get_ylabel() == "parameters (millions)"
    with pytest.raises(ValueError, match="dense"):
        plot_parameter_split({"A": 1}, {"A": 2})
    with pytest.raises(ValueError, match="same networks"):
        plot_parameter_split({"A": 1}, {"B": 0})


def test_displacement_arrows_are_the_field():
    rng = np.random.default_rng(2)
    field = rng.normal(size=(2, 12, 16))
    ax = plot_displacement(np.zeros((12, 16)), torch.from_numpy(field), step=4, magnify=2)
    arrows = ax.collections[0]
    np.testing.assert_array_equal(arrows.U, field[0, ::4, ::4].ravel())
    np.testing.assert_array_equal(arrows.V, field[1, ::4, ::4].ravel())
    assert arrows.scale == 0.5  # drawn twice as long
    with pytest.raises(ValueError, match="displacement"):
        plot_displacement(np.zeros((12, 16)), field[:, :, :8])
    with pytest.raises(ValueError, match="step"):
        plot_displacement(np.zeros((12, 16)), field, step=0)


def test_restoration_shows_the_images_and_their_absolute_errors():
    rng = np.random.default_rng(3)
    reference = rng.normal(size=(10, 10))
    estimates = {"noisy": reference + rng.normal(size=(10, 10)), "smooth": reference * 0.5}
    fig = show_restoration(reference, estimates, window=(-2, 2), error_max=1.0, unit="HU")
    top = [ax.images[0].get_array() for ax in fig.axes[:3]]
    for shown, expected in zip(top, [*estimates.values(), reference], strict=True):
        np.testing.assert_array_equal(shown, expected)
    for ax, estimate in zip(fig.axes[3:5], estimates.values(), strict=True):
        np.testing.assert_allclose(ax.images[0].get_array(), np.abs(estimate - reference))
        assert ax.images[0].get_cmap().name == "viridis"
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    assert [a.get_title() for a in fig.axes[:3]] == ["noisy", "smooth", "reference"]


@pytest.mark.parametrize(
    ("estimates", "error_max", "match"),
    [
        ({}, 1.0, "estimate"),
        ({"a": np.zeros((4, 5))}, 1.0, "shape"),
        ({"a": np.zeros((4, 4))}, 0, "error_max"),
    ],
)
def test_restoration_rejects_bad_input(estimates, error_max, match):
    with pytest.raises(ValueError, match=match):
        show_restoration(np.zeros((4, 4)), estimates, window=(0, 1), error_max=error_max)
