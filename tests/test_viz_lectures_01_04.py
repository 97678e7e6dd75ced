"""Figure helpers of lectures 01-04 (course.viz): what they draw, against independent counts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from course.viz import plot_conv_positions, show_filtered  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# plot_conv_positions
# ---------------------------------------------------------------------------------------------
def window_centres(width, kernel, stride, padding):
    """Every window that fits in the padded input, found by trying each start (no formula)."""
    size = width + 2 * padding
    starts = [s for s in range(size) if s % stride == 0 and s + kernel <= size]
    return {(r + (kernel - 1) / 2, c + (kernel - 1) / 2) for r in starts for c in starts}


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 9),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
)
def test_conv_positions_match_torch_and_brute_force(width, kernel, stride, padding):
    if kernel > width + 2 * padding:
        with pytest.raises(ValueError, match="kernel"):
            plot_conv_positions(width, kernel, stride, padding)
        return
    ax = plot_conv_positions(width, kernel, stride, padding)
    dots = ax.lines[0]
    drawn = set(zip(dots.get_ydata(), dots.get_xdata(), strict=True))
    assert drawn == window_centres(width, kernel, stride, padding)
    out = F.conv2d(
        torch.zeros(1, 1, width, width), torch.zeros(1, 1, kernel, kernel), stride=stride,
        padding=padding,
    )  # fmt: skip
    assert len(drawn) == out.shape[-1] * out.shape[-2]
    assert ax.get_title().endswith(f"{out.shape[-1]}x{out.shape[-1]} output")
    grid = ax.images[0].get_array()
    assert grid.shape == (width + 2 * padding,) * 2
    assert (grid > 0).sum() == (width + 2 * padding) ** 2 - width**2  # the zero rings, in grey
    plt.close(ax.figure)


def test_conv_positions_draws_on_given_axes_and_rejects_bad_input():
    fig, ax = plt.subplots()
    assert plot_conv_positions(7, 3, ax=ax) is ax
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(TypeError, match="stride"):
        plot_conv_positions(7, 3, stride=1.5)
    with pytest.raises(ValueError, match="padding"):
        plot_conv_positions(7, 3, padding=-1)
    with pytest.raises(ValueError, match="width"):
        plot_conv_positions(0, 3)


# ---------------------------------------------------------------------------------------------
# show_filtered
# ---------------------------------------------------------------------------------------------
def test_show_filtered_colour_map_by_kind_of_values():
    rng = np.random.default_rng(0)
    image = rng.random((16, 12))
    signed = rng.normal(size=(16, 12))
    signed[0, 0] = 100.0  # one outlier: the limits follow the 99th percentile, not it
    fig = show_filtered(
        image,
        {"blurred": image / 2, "Sobel": signed, "edges": image > 0.5},
        title="CT",
        ncols=2,
    )
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["CT", "blurred", "Sobel", "edges"]
    assert len(fig.axes) == 4 + 3  # no colour bar on the boolean map
    shown = {ax.get_title(): ax.images[0] for ax in panels}
    assert shown["Sobel"].get_cmap().name == "RdBu_r"
    low, high = shown["Sobel"].get_clim()
    assert low == -high == pytest.approx(-np.percentile(np.abs(signed), 99))
    assert shown["blurred"].get_cmap().name == "gray"
    assert shown["blurred"].get_clim() == pytest.approx((0, np.percentile(image / 2, 99)))
    assert shown["edges"].get_clim() == (0, 1)
    np.testing.assert_array_equal(shown["edges"].get_array(), image > 0.5)


def test_show_filtered_signed_panels_can_be_named():
    image = np.linspace(-0.2, 1.2, 64).reshape(8, 8)  # a sharpened image overshoots below 0
    fig = show_filtered(image, {"sharpen": image, "Sobel": image - 0.5}, signed=["Sobel"])
    shown = {ax.get_title(): ax.images[0] for ax in fig.axes if ax.get_title()}
    assert shown["sharpen"].get_cmap().name == "gray"
    assert shown["Sobel"].get_cmap().name == "RdBu_r"


def test_show_filtered_accepts_tensors_and_hides_empty_panels():
    image = torch.rand(8, 8)
    fig = show_filtered(image, {"a": image, "b": -image}, ncols=2)  # 3 panels on a 2 x 2 grid
    assert len([ax for ax in fig.axes if ax.get_title()]) == 3
    assert len(fig.axes) == 3 + 3


@pytest.mark.parametrize(
    "filtered, error, match",
    [
        ({}, ValueError, "empty"),
        ({"rgb": np.zeros((8, 8, 3))}, ValueError, "2D"),
        ({"text": "abc"}, ValueError, "filtered"),
    ],
)
def test_show_filtered_bad_inputs(filtered, error, match):
    with pytest.raises(error, match=match):
        show_filtered(np.zeros((8, 8)), filtered)
