"""Plotting helpers, drawn with the non-interactive Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from sklearn.metrics import f1_score, jaccard_score  # noqa: E402

from course.models import UNet  # noqa: E402
from course.viz import (  # noqa: E402
    OVERLAP_COLOURS,
    overlay_mask,
    plot_history,
    plot_unet,
    show_grad_cam,
    show_images,
    show_overlap,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_images_grid_titles_and_window():
    rng = np.random.default_rng(0)
    images = rng.normal(40, 200, size=(7, 16, 16))
    fig = show_images(images, titles=[f"#{i}" for i in range(7)], ncols=3, window=(40, 400))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 7  # 3 x 3 grid, the 2 empty cells removed
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}" for i in range(7)]
    shown = fig.axes[0].images[0]
    assert shown.get_clim() == (40 - 200, 40 + 200)  # level 40, width 400
    np.testing.assert_array_equal(shown.get_array(), images[0])
    assert shown.get_cmap().name == "gray"


def test_show_images_accepts_tensors_channels_and_lists():
    fig = show_images(torch.rand(2, 1, 8, 8))  # (N, 1, H, W)
    assert len(fig.axes) == 2 and fig.axes[0].images[0].get_array().shape == (8, 8)
    fig = show_images(torch.rand(3, 3, 8, 10), ncols=5)  # RGB, channels first
    assert len(fig.axes) == 3 and fig.axes[0].images[0].get_array().shape == (8, 10, 3)
    fig = show_images([np.zeros((5, 5)), np.ones((4, 6), bool)])
    assert len(fig.axes) == 2


def test_show_images_errors():
    with pytest.raises(ValueError, match="empty"):
        show_images([])
    with pytest.raises(ValueError, match="titles"):
        show_images(np.zeros((2, 4, 4)), titles=["one"])
    with pytest.raises(ValueError, match="ncols"):
        show_images(np.zeros((2, 4, 4)), ncols=0)
    with pytest.raises(ValueError, match="images\\[0\\]"):
        show_images([np.zeros((2, 3, 4, 4))])
    with pytest.raises(ValueError, match="window"):
        show_images(np.zeros((2, 4, 4)), window=(40, 0))


def test_overlay_mask_binary_and_labels():
    image = np.random.default_rng(0).random((20, 20))
    mask = np.zeros((20, 20), bool)
    mask[5:12, 4:15] = True
    ax = overlay_mask(image, mask, color="lime")
    assert len(ax.images) == 2  # the image and the fill
    fill = ax.images[1].get_array()
    np.testing.assert_array_equal(~np.ma.getmaskarray(fill), mask)  # only the mask is drawn
    assert ax.collections  # the contour
    np.testing.assert_allclose(ax.collections[0].get_edgecolor()[0], [0, 1, 0, 1])  # lime

    ax2 = overlay_mask(image, torch.from_numpy(mask)[None], alpha=0.0, contour=True)
    assert len(ax2.images) == 1 and ax2.collections  # contour only

    labels = np.zeros((20, 20), int)
    labels[2:6, 2:6], labels[10:15, 10:15] = 1, 3
    ax3 = overlay_mask(image, labels, contour=False)
    assert len(ax3.images) == 1 + 2  # one fill per label
    # drawing again on the same axes keeps the single background image
    overlay_mask(image, mask, ax=ax3, color="red")
    assert len(ax3.images) == 1 + 2 + 1


def test_overlay_mask_errors():
    with pytest.raises(ValueError, match="mask"):
        overlay_mask(np.zeros((8, 8)), np.zeros((8, 9)))
    with pytest.raises(ValueError, match="alpha"):
        overlay_mask(np.zeros((8, 8)), np.zeros((8, 8)), alpha=1.5)
    with pytest.raises(ValueError, match="image"):
        overlay_mask(np.zeros((2, 8, 8, 8)), np.zeros((8, 8)))


def test_plot_history():
    history = {
        "train_loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7],
        "val_dice": [0.3, 0.6, 0.7],
        "lr": [1e-3] * 3,
    }
    fig = plot_history(history)
    assert len(fig.axes) == 2
    loss_ax, metric_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train_loss", "val_loss"]
    assert [line.get_label() for line in metric_ax.get_lines()] == ["val_dice"]
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(metric_ax.get_lines()[0].get_ydata(), [0.3, 0.6, 0.7])
    assert len(plot_history({"train_loss": [1.0, 0.5]}).axes) == 1
    with pytest.raises(ValueError, match="loss"):
        plot_history({"val_dice": [0.5]})
    with pytest.raises(TypeError, match="dict"):
        plot_history([1.0, 0.5])


def test_show_grad_cam():
    image = np.zeros((12, 12))
    heat = np.linspace(0, 1, 144).reshape(12, 12)
    fig, ax = plt.subplots()
    assert show_grad_cam(image, heat, ax=ax, alpha=0.3) is ax
    assert len(ax.images) == 2
    assert ax.images[1].get_alpha() == 0.3 and ax.images[1].get_clim() == (0, 1)
    assert show_grad_cam(torch.zeros(1, 12, 12), torch.from_numpy(heat)).images
    with pytest.raises(ValueError, match="heatmap"):
        show_grad_cam(image, heat[:6])
    with pytest.raises(ValueError, match="alpha"):
        show_grad_cam(image, heat, alpha=2)


def test_no_window_opened(monkeypatch):
    called = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: called.append(1))
    show_images(np.zeros((2, 4, 4)))
    overlay_mask(np.zeros((4, 4)), np.eye(4))
    plot_history({"train_loss": [1.0]})
    show_grad_cam(np.zeros((4, 4)), np.eye(4))
    assert not called


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(9, 13), (16, 16), (1, 5, 7)])
def test_show_overlap_colours_and_scores(seed, shape):
    rng = np.random.default_rng(seed)
    pred, target = rng.random(shape) < 0.4, rng.random(shape) < 0.3
    ax = show_overlap(torch.from_numpy(pred), target.astype(np.uint8))
    rgba = ax.images[-1].get_array()
    pred2d, target2d = pred.reshape(shape[-2:]), target.reshape(shape[-2:])
    for key, region in [("TP", pred2d & target2d), ("FP", pred2d & ~target2d),
                        ("FN", ~pred2d & target2d)]:  # fmt: skip
        assert np.allclose(rgba[region], to_rgba(OVERLAP_COLOURS[key])), key
    assert np.all(rgba[~pred2d & ~target2d][:, 3] == 0)  # true negatives transparent
    dice = f1_score(target.ravel(), pred.ravel())
    iou = jaccard_score(target.ravel(), pred.ravel())
    assert ax.get_title().endswith(f"Dice {dice:.3f}, IoU {iou:.3f}")


def test_show_overlap_empty_masks_and_image():
    empty = np.zeros((6, 6), bool)
    assert show_overlap(empty, empty).get_title().endswith("Dice 1.000, IoU 1.000")
    ax = show_overlap(empty, np.eye(6, dtype=bool), image=np.ones((6, 6)), alpha=0.5)
    assert ax.get_title() == "TP 0, FP 0, FN 6: Dice 0.000, IoU 0.000"
    assert len(ax.images) == 2
    assert np.allclose(ax.images[-1].get_array()[0, 0, 3], 0.5)


def test_show_overlap_errors():
    mask = np.zeros((4, 4), bool)
    with pytest.raises(ValueError, match="pred has shape"):
        show_overlap(mask, np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="binary"):
        show_overlap(mask + 0.5, mask)
    with pytest.raises(ValueError, match="2D mask"):
        show_overlap(np.zeros((2, 4, 4)), mask)
    with pytest.raises(ValueError, match="image has shape"):
        show_overlap(mask, mask, image=np.zeros((5, 5)))
    with pytest.raises(ValueError, match="alpha"):
        show_overlap(mask, mask, alpha=2)


@pytest.mark.parametrize(
    ("depth", "base", "dims", "size"), [(4, 16, 2, 64), (2, 8, 3, 20), (1, 4, 2, 2)]
)
def test_plot_unet_draws_every_level(depth, base, dims, size):
    model = UNet(3, 2, depth=depth, base_channels=base, dims=dims)
    ax = plot_unet(model, size=size)
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 2 * depth + 1  # encoder and decoder per level, and the bottleneck
    texts = [t.get_text() for t in ax.texts]
    padded = -(-size // 2**depth) * 2**depth  # the U-Net pads to a multiple of 2**depth
    for level in range(depth + 1):
        side = padded // 2**level
        assert "x".join([str(side)] * dims) in texts
        assert str(base * 2**level) in texts
    assert texts.count("x".join([str(padded)] * dims)) == 2  # first encoder and last decoder
    assert "input\n3" in texts and "1x1 conv\n-> 2" in texts


def test_plot_unet_errors():
    with pytest.raises(TypeError, match="UNet"):
        plot_unet(torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="2\\*\\*depth = 16"):
        plot_unet(UNet(1, 1, depth=4), size=8)
