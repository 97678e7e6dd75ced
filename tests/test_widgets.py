"""Interactive explorers: the update functions against independent references, bad inputs, and
that every explorer builds and reacts to its controls (Agg backend, no notebook).
"""

import matplotlib

matplotlib.use("Agg")

import sys  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import matplotlib.figure  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import ndimage  # noqa: E402
from skimage.transform import iradon, radon  # noqa: E402

from course import widgets as w  # noqa: E402
from course.io.dicom import WINDOW_PRESETS  # noqa: E402
from course.physics.ct import circle_mask  # noqa: E402
from course.physics.phantoms import random_phantom, shepp_logan  # noqa: E402
from course.widgets import _common  # noqa: E402
from course.widgets.windowing import _window_settings  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).normal(size=(24, 20))


def controls(explorer):
    """The control widgets of an explorer, by description."""
    found = {}
    for child in explorer.children[:-1]:
        for c in getattr(child, "children", (child,)):
            found[c.description] = c
    return found


# ---------------------------------------------------------------------------------------------
# Public names
# ---------------------------------------------------------------------------------------------
def test_public_names():
    for name in (
        "window_level_view",
        "window_level_explorer",
        "fbp_view",
        "fbp_explorer",
        "kspace_view",
        "kspace_explorer",
        "KERNELS",
        "kernel_view",
        "kernel_explorer",
        "augmentation_view",
        "augmentation_explorer",
    ):
        assert name in w.__all__ and hasattr(w, name)
    assert list(w.KERNELS) == [
        "identity",
        "box blur 3x3",
        "Gaussian blur",
        "sharpen",
        "Sobel x",
        "Sobel y",
        "Laplacian",
    ]


# ---------------------------------------------------------------------------------------------
# Window / level
# ---------------------------------------------------------------------------------------------
def hand_window(x, level, width):
    out = []
    for v in np.ravel(x):
        low, high = level - width / 2, level + width / 2
        out.append(0.0 if v <= low else 1.0 if v >= high else (v - low) / width)
    return np.array(out).reshape(np.shape(x))


@pytest.mark.parametrize("preset", sorted(WINDOW_PRESETS))
def test_window_level_view_matches_hand_clip(preset):
    hu = np.random.default_rng(1).uniform(-1100, 2000, size=(12, 9))
    level, width = WINDOW_PRESETS[preset]
    shown = w.window_level_view(hu, level, width)
    assert shown.shape == hu.shape and shown.min() >= 0 and shown.max() <= 1
    np.testing.assert_allclose(shown, hand_window(hu, level, width), atol=1e-6)


def test_window_level_view_volume_slices():
    volume = np.random.default_rng(2).uniform(-1000, 1000, size=(5, 6, 7))
    np.testing.assert_allclose(
        w.window_level_view(volume, 0, 500), hand_window(volume[2], 0, 500), atol=1e-6
    )
    np.testing.assert_allclose(
        w.window_level_view(volume, 0, 500, slice_index=4),
        hand_window(volume[4], 0, 500),
        atol=1e-6,
    )
    assert w.window_level_view(volume, 0, 500, slice_index=-1).shape == (6, 7)


def test_window_level_view_bad_inputs():
    volume = np.zeros((3, 4, 4))
    with pytest.raises(ValueError, match="width"):
        w.window_level_view(volume, 0, 0)
    with pytest.raises(ValueError, match="slice_index"):
        w.window_level_view(volume, 0, 100, slice_index=3)
    with pytest.raises(ValueError, match="slice_index"):
        w.window_level_view(np.zeros((4, 4)), 0, 100, slice_index=2)
    with pytest.raises(TypeError, match="slice_index"):
        w.window_level_view(volume, 0, 100, slice_index=1.5)
    with pytest.raises(ValueError, match="2D or 3D"):
        w.window_level_view(np.zeros(4), 0, 100)
    with pytest.raises(ValueError, match="NaN"):
        w.window_level_view(np.full((2, 2), np.nan), 0, 100)
    with pytest.raises(TypeError, match="level"):
        w.window_level_view(volume, "40", 100)
    with pytest.raises(TypeError, match="real numbers"):
        w.window_level_view(np.array([["a"]]), 0, 100)


def test_window_level_explorer_presets_drive_the_sliders():
    volume = np.random.default_rng(3).uniform(-1000, 1500, size=(4, 16, 16))
    explorer = w.window_level_explorer(volume)
    assert isinstance(explorer, widgets.VBox)
    assert isinstance(explorer.children[-1], widgets.Output)
    c = controls(explorer)
    assert set(c) == {"preset", "level", "width", "slice"}
    assert list(c["preset"].options) == ["custom", *WINDOW_PRESETS]
    assert (c["level"].value, c["width"].value) == WINDOW_PRESETS["soft_tissue"]
    c["preset"].value = "bone"
    assert (c["level"].value, c["width"].value) == WINDOW_PRESETS["bone"]
    assert c["preset"].value == "bone"
    c["level"].value = 100.0  # moving a slider leaves the preset
    assert c["preset"].value == "custom"
    assert c["slice"].max == 3


def test_window_level_explorer_2d_non_ct():
    c = controls(w.window_level_explorer(np.linspace(0, 4000, 64).reshape(8, 8)))
    assert "slice" not in c and c["preset"].value == "custom"
    assert c["level"].value == pytest.approx(2000, rel=0.01)


def test_window_figure_has_colorbar_in_hu():
    fig = w._window_figure(np.zeros((3, 8, 8)) - 1000, 40.0, 400.0, 1, "soft_tissue")
    labels = [t.get_text() for t in fig.axes[-1].get_yticklabels()]
    assert labels == ["-160", "40", "240"]
    assert "L = 40" in fig.axes[0].get_title()


# ---------------------------------------------------------------------------------------------
# FBP
# ---------------------------------------------------------------------------------------------
def test_fbp_view_rmse_decreases_with_angles():
    phantom = shepp_logan(64)
    results = [w.fbp_view(phantom, n) for n in (4, 16, 64, 180)]
    rmses = [r["rmse"] for r in results]
    assert all(a > b for a, b in zip(rmses, rmses[1:], strict=False)), rmses
    assert rmses[-1] < 0.1
    for n, r in zip((4, 16, 64, 180), results, strict=True):
        assert r["sinogram"].shape == (64, n) and r["reconstruction"].shape == (64, 64)
        np.testing.assert_allclose(r["theta"], np.linspace(0, 180, n, endpoint=False))


def test_fbp_view_against_skimage():
    phantom = shepp_logan(64)
    result = w.fbp_view(phantom, 45, "hann")
    theta = np.linspace(0, 180, 45, endpoint=False)
    np.testing.assert_allclose(result["sinogram"], radon(phantom, theta, circle=True), atol=1e-3)
    reference = iradon(radon(phantom, theta, circle=True), theta, filter_name="hann", circle=True)
    inner = np.pad(circle_mask(62), 1)  # skip the outermost ring (see course.physics.ct.fbp)
    diff = result["reconstruction"][inner] - reference[inner]
    assert np.sqrt(np.mean(diff**2)) < 0.01
    mine = np.sqrt(np.mean((result["reconstruction"] - phantom)[circle_mask(64)] ** 2))
    assert result["rmse"] == pytest.approx(mine, rel=1e-6)


def test_fbp_view_masks_outside_the_circle():
    image = np.ones((32, 32))
    result = w.fbp_view(image, 90)  # no warning about the corners: they are zeroed first
    assert result["rmse"] < 0.2


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((np.zeros((8, 9)), 8), ValueError, "square"),
        ((np.zeros((8, 8)), 0), ValueError, "n_angles"),
        ((np.zeros((8, 8)), 4.0), TypeError, "n_angles"),
        ((np.zeros((8, 8)), 4, "sinc"), ValueError, "ramp"),
        ((np.zeros((8, 8)), 4, None), TypeError, "filter_name"),
        ((np.zeros((2, 8, 8)), 4), ValueError, "2D"),
    ],
)
def test_fbp_view_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        w.fbp_view(*args)


def test_fbp_explorer_builds_and_updates():
    explorer = w.fbp_explorer(shepp_logan(32))
    assert isinstance(explorer, widgets.VBox)
    c = controls(explorer)
    c["angles"].value = 8
    c["filter"].value = "cosine"
    assert list(c["filter"].options) == ["ramp", "shepp-logan", "cosine", "hamming", "hann"]
    fig = w._fbp_figure(shepp_logan(32), 8, "cosine")
    assert len(fig.axes) == 6  # 3 panels + 3 colour bars
    assert "RMSE" in fig.axes[2].get_title()
    with pytest.raises(ValueError, match="square"):
        w.fbp_explorer(np.zeros((4, 5)))


# ---------------------------------------------------------------------------------------------
# k-space
# ---------------------------------------------------------------------------------------------
def numpy_fft2c(x):
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))


@pytest.mark.parametrize("kind", ["random", "equispaced"])
def test_kspace_view_fully_sampled_is_perfect(image, kind):
    result = w.kspace_view(image, 1, 0.0, mask_kind=kind)
    assert result["mask"].shape == image.shape and result["mask"].all()
    np.testing.assert_allclose(result["zero_filled"], np.abs(image), atol=1e-12)
    np.testing.assert_allclose(result["error"], 0, atol=1e-12)
    assert result["rmse"] < 1e-12 and result["acceleration"] == 1.0


@pytest.mark.parametrize("kind", ["random", "equispaced"])
def test_kspace_view_against_numpy(image, kind):
    result = w.kspace_view(image, 4, 0.1, mask_kind=kind, seed=3)
    mask = result["mask"]
    assert mask.dtype == bool and (mask == mask[:1]).all()  # whole columns
    assert result["acceleration"] == pytest.approx(image.shape[1] / mask[0].sum())
    assert 3 <= result["acceleration"] <= 5
    kspace = numpy_fft2c(image) * mask
    np.testing.assert_allclose(result["kspace"], np.log1p(np.abs(kspace)), atol=1e-12)
    zero_filled = np.abs(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace), norm="ortho")))
    np.testing.assert_allclose(result["zero_filled"], zero_filled, atol=1e-12)
    np.testing.assert_allclose(result["error"], np.abs(zero_filled - np.abs(image)), atol=1e-12)
    assert result["rmse"] == pytest.approx(np.sqrt(np.mean(result["error"] ** 2)))
    again = w.kspace_view(image, 4, 0.1, mask_kind=kind, seed=3)
    np.testing.assert_array_equal(again["mask"], mask)


def test_kspace_view_equispaced_aliasing_is_a_half_shift():
    """R = 2 without a centre keeps every other column: the image plus a copy shifted by W/2."""
    x = np.random.default_rng(5).random((16, 16))
    result = w.kspace_view(x, 2, 0.0, mask_kind="equispaced", seed=0)
    assert result["mask"][0].sum() == 8
    copies = [np.abs(x + s * np.roll(x, 8, axis=1)) / 2 for s in (1, -1)]
    assert any(np.allclose(result["zero_filled"], c) for c in copies)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((np.zeros((8, 8)), 0.5, 0.0), {}, ValueError, "acceleration"),
        ((np.zeros((8, 8)), 4, 0.5), {}, ValueError, "center"),
        ((np.zeros((8, 8)), 4, 0.1), {"mask_kind": "spiral"}, ValueError, "equispaced"),
        ((np.zeros((8, 8)), "4", 0.1), {}, TypeError, "acceleration"),
        ((np.zeros((8, 8)), 4, 0.1), {"seed": -1}, ValueError, "seed"),
        ((np.zeros(8), 4, 0.1), {}, ValueError, "2D"),
        ((np.array([["a"]]), 4, 0.1), {}, TypeError, "numbers"),
    ],
)
def test_kspace_view_bad_inputs(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        w.kspace_view(*args, **kwargs)


def test_kspace_explorer_builds_and_survives_bad_settings(capsys):
    explorer = w.kspace_explorer(shepp_logan(32))
    assert isinstance(explorer, widgets.VBox)
    c = controls(explorer)
    assert set(c) == {"R", "centre", "mask", "seed"}
    c["mask"].value = "equispaced"
    c["centre"].value = 0.5  # above the 1 / R budget: a message, not an exception
    c["R"].value = 2.0
    fig = w._kspace_figure(shepp_logan(32), 4, 0.1, "random", 0)
    assert len(fig.axes) == 7 and "RMSE" in fig.axes[3].get_title()  # 4 panels, 3 colour bars


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(w.KERNELS))
def test_kernel_view_matches_scipy_correlate(image, name):
    out = w.kernel_view(image, name)
    reference = ndimage.correlate(image, w.KERNELS[name], mode="constant", cval=0.0)
    assert out.shape == image.shape
    np.testing.assert_allclose(out, reference, atol=1e-10)


def test_kernels_do_what_their_names_say():
    ramp = np.tile(np.arange(10.0), (10, 1))  # increases to the right
    assert np.allclose(w.kernel_view(ramp, "Sobel x")[1:-1, 1:-1], 8.0)
    assert np.allclose(w.kernel_view(ramp, "Sobel y")[1:-1, 1:-1], 0.0)
    assert np.allclose(w.kernel_view(ramp.T, "Sobel y")[1:-1, 1:-1], 8.0)
    assert np.allclose(w.kernel_view(ramp, "Laplacian")[1:-1, 1:-1], 0.0)
    for name in ("box blur 3x3", "Gaussian blur", "sharpen", "identity"):
        assert w.KERNELS[name].sum() == pytest.approx(1.0)  # keep the mean intensity
    np.testing.assert_array_equal(w.kernel_view(ramp, "identity"), ramp)
    kernel = w.KERNELS["Gaussian blur"]
    np.testing.assert_allclose(kernel, kernel.T)
    assert kernel.argmax() == kernel.size // 2
    with pytest.raises(ValueError):
        kernel[0, 0] = 1.0  # read-only: nobody can change the shared kernels


def test_kernel_view_names_and_bad_inputs(image):
    np.testing.assert_array_equal(w.kernel_view(image, "sobel X"), w.kernel_view(image, "Sobel x"))
    with pytest.raises(ValueError, match="'identity'.*'Laplacian'"):
        w.kernel_view(image, "emboss")
    with pytest.raises(TypeError, match="kernel_name"):
        w.kernel_view(image, 3)
    with pytest.raises(ValueError, match="2D"):
        w.kernel_view(np.zeros((3, 8, 8)), "identity")
    with pytest.raises(ValueError, match="NaN"):
        w.kernel_view(np.full((4, 4), np.inf), "identity")


def test_kernel_explorer_builds_and_updates(image):
    explorer = w.kernel_explorer(image)
    assert isinstance(explorer, widgets.VBox)
    dropdown = explorer.children[0]
    assert list(dropdown.options) == list(w.KERNELS)
    dropdown.value = "Laplacian"  # each change redraws (every kernel is tested above)
    fig = w._kernel_figure(image, "Laplacian")
    assert fig.axes[1].get_title() == "kernel: Laplacian"


# ---------------------------------------------------------------------------------------------
# Augmentation
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ct_pair():
    mu, lesions = random_phantom(48, seed=0, n_lesions=3)
    return mu, lesions.astype(np.uint8)


@pytest.mark.parametrize("name", w.AUGMENTATIONS)
def test_augmentation_view_every_transform(ct_pair, name):
    image, mask = ct_pair
    out, out_mask = w.augmentation_view(image, mask, name, 0.8, seed=1)
    assert out.shape == image.shape and out_mask.shape == mask.shape
    assert set(np.unique(out_mask)) <= {0, 1}  # labels never blended
    again, again_mask = w.augmentation_view(image, mask, name, 0.8, seed=1)
    np.testing.assert_array_equal(out, again)
    np.testing.assert_array_equal(out_mask, again_mask)
    same, same_mask = w.augmentation_view(image, mask, name, 0.0, seed=1)
    np.testing.assert_array_equal(same, image)
    np.testing.assert_array_equal(same_mask, mask)
    if name in ("gamma", "contrast", "noise", "blur", "erasing"):
        np.testing.assert_array_equal(out_mask, mask)  # intensity only
    assert not np.array_equal(out, image) or name == "flip"


def test_augmentation_view_against_references(ct_pair):
    image, mask = ct_pair
    flipped, flipped_mask = w.augmentation_view(image, mask, "flip", 1.0)
    np.testing.assert_array_equal(flipped, image[:, ::-1])
    np.testing.assert_array_equal(flipped_mask, mask[:, ::-1])
    for s, k in ((0.2, 1), (0.6, 2), (1.0, 3)):
        rotated, rotated_mask = w.augmentation_view(image, mask, "rotate90", s)
        np.testing.assert_array_equal(rotated, np.rot90(image, k))
        np.testing.assert_array_equal(rotated_mask, np.rot90(mask, k))
    blurred, _ = w.augmentation_view(image, mask, "blur", 0.5)
    np.testing.assert_allclose(blurred, ndimage.gaussian_filter(image, 1.5), atol=1e-6)
    noisy, _ = w.augmentation_view(image, mask, "noise", 1.0)
    span = image.max() - image.min()
    assert np.std(noisy - image) == pytest.approx(0.2 * span, rel=0.1)
    erased, _ = w.augmentation_view(image, mask, "erasing", 0.5)
    changed = erased != image
    assert 0 < changed.sum() <= 12 * 12 and np.all(erased[changed] == image.min())


def test_augmentation_view_without_mask_and_bad_inputs(ct_pair):
    image, mask = ct_pair
    out, none = w.augmentation_view(image, None, "affine", 0.5)
    assert none is None and out.shape == image.shape
    with pytest.raises(ValueError, match="'flip'.*'erasing'"):
        w.augmentation_view(image, mask, "mixup", 0.5)
    with pytest.raises(TypeError, match="name"):
        w.augmentation_view(image, mask, None, 0.5)
    with pytest.raises(ValueError, match="strength"):
        w.augmentation_view(image, mask, "blur", 1.5)
    with pytest.raises(TypeError, match="strength"):
        w.augmentation_view(image, mask, "blur", "strong")
    with pytest.raises(TypeError, match="seed"):
        w.augmentation_view(image, mask, "blur", 0.5, seed=0.5)
    with pytest.raises(ValueError, match="mask has shape"):
        w.augmentation_view(image, mask[:-1], "blur", 0.5)


def test_augmentation_explorer_builds_and_updates(ct_pair):
    image, mask = ct_pair
    explorer = w.augmentation_explorer(image, mask)
    assert isinstance(explorer, widgets.VBox)
    c = controls(explorer)
    assert list(c["transform"].options) == list(w.AUGMENTATIONS)
    c["transform"].value = "elastic"  # each change redraws (every transform is tested above)
    c["seed"].value = 4
    assert isinstance(w.augmentation_explorer(image), widgets.VBox)  # no mask
    fig = w._augmentation_figure(image, mask, "elastic", 0.5, 0)
    assert len(fig.axes) == 4 and "elastic" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="mask has shape"):
        w.augmentation_explorer(image, mask[1:])


# ---------------------------------------------------------------------------------------------
# Static views: the same figure at fixed settings, shown before the widget (or instead of it)
# ---------------------------------------------------------------------------------------------
def test_static_grid_one_cell_per_setting():
    drawn = []

    def draw(fig, value):
        drawn.append(value)
        fig.subplots(1, 2)[0].plot([0, value])

    grid = _common._static_grid(draw, [{"value": v} for v in (1, 2, 3)], ncols=2, caption="c")
    assert drawn == [1, 2, 3]
    assert len(grid.subfigs) == 3 and len(grid.axes) == 6  # no empty fourth cell
    assert grid.get_suptitle() == "c"
    assert tuple(grid.get_size_inches()) == pytest.approx((2 * 9.0, 2 * 2.4))
    assert plt.get_fignums() == []  # not a pyplot figure: the notebook does not show it twice
    with pytest.raises(ValueError, match="settings"):
        _common._static_grid(draw, [])
    with pytest.raises(ValueError, match="ncols"):
        _common._static_grid(draw, [{"value": 1}], ncols=0)


def window_volume():
    return np.random.default_rng(3).uniform(-1000, 1500, size=(4, 16, 16))


#: explorer, its input, the panels of one figure, how many settings its static view shows, and
#: a control to move (description, new value)
EXPLORERS = {
    "window": (w.window_level_explorer, lambda: (window_volume(),), 3, 4, ("preset", "bone")),
    "fbp": (w.fbp_explorer, lambda: (shepp_logan(32),), 6, 3, ("angles", 8)),
    "kspace": (w.kspace_explorer, lambda: (shepp_logan(32),), 7, 3, ("R", 2.0)),
    "kernel": (w.kernel_explorer, lambda: (shepp_logan(32),), 6, 3, ("kernel", "Laplacian")),
    "augmentation": (
        w.augmentation_explorer,
        lambda: random_phantom(32, seed=0, n_lesions=2),
        4,
        4,
        ("transform", "blur"),
    ),
}


@pytest.fixture
def notebook(monkeypatch):
    """Pretend a notebook kernel runs the explorers; collect what they display."""
    shown = []
    monkeypatch.setattr(_common, "_in_ipython", lambda: True)
    monkeypatch.setattr(_common, "_display", shown.append)
    return shown


def grids(shown):
    return [f for f in shown if isinstance(f, matplotlib.figure.Figure) and f.subfigs]


@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_in_a_notebook_shows_its_static_view_then_returns_the_widget(
    name, notebook, capsys
):
    explorer, inputs, panels, settings, (control, value) = EXPLORERS[name]
    widget = explorer(*inputs())
    assert isinstance(widget, widgets.VBox)
    assert len(notebook) == 1, "the static view only: it already shows the starting setting"
    grid = grids(notebook)[0]
    assert len(grid.subfigs) == settings
    assert all(len(cell.axes) == panels for cell in grid.subfigs)  # the explorer's figure
    assert grid.get_suptitle().startswith("Static view")
    assert _common._LAZY_HINT in capsys.readouterr().out
    controls(widget)[control].value = value  # a control moves: the widget draws
    assert len(notebook) >= 2 and not grids(notebook[1:])  # a preset also moves two sliders
    assert all(len(fig.axes) == panels for fig in notebook[1:])
    notebook.clear()
    explorer(*inputs(), static=False)  # no static view: the widget draws at once
    assert len(notebook) == 1 and not grids(notebook)
    capsys.readouterr()


@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_outside_a_notebook_draws_no_static_view(name, monkeypatch):
    drawn = []
    monkeypatch.setattr(_common, "_static_grid", lambda *a, **k: drawn.append(a))
    explorer, inputs, *_ = EXPLORERS[name]
    assert isinstance(explorer(*inputs()), widgets.VBox)
    assert drawn == []  # a script or a test: nowhere to show it, no time spent on it


@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_without_ipywidgets_or_ipython_returns_the_static_view(name, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    monkeypatch.setitem(sys.modules, "IPython", None)
    explorer, inputs, panels, settings, _ = EXPLORERS[name]
    grid = explorer(*inputs())
    assert isinstance(grid, matplotlib.figure.Figure)
    assert len(grid.subfigs) == settings
    assert all(len(cell.axes) == panels for cell in grid.subfigs)
    assert "install ipywidgets" in grid.get_suptitle()


def test_static_view_windows():
    ct = _window_settings(window_volume())
    assert [(s["level"], s["width"]) for s in ct] == [
        WINDOW_PRESETS[n] for n in ("lung", "soft_tissue", "bone", "brain")
    ]
    other = _window_settings(np.linspace(0, 400, 64).reshape(8, 8))  # not CT: its own range
    assert [(s["level"], s["width"]) for s in other] == [(200, 400), (200, 200), (200, 100)]
