"""Interactive explorers for the lectures: window/level, CT angles, k-space masks, kernels,
augmentations.

Each explorer is split in two:

* a plain **update function** (``*_view``) that takes numbers and returns arrays: it holds all
  the computation, is unit-tested, and can be called directly in a notebook or a lab;
* an **explorer** (``*_explorer``) that only wires :mod:`ipywidgets` sliders and drop-downs to
  that function and redraws a Matplotlib figure when a control moves. It returns the widget
  (a :class:`ipywidgets.VBox`); show it by making it the last expression of a notebook cell.

============================  ==================================================================
update function               what it shows
============================  ==================================================================
:func:`window_level_view`     a CT slice through a display window (level ``L``, width ``W``)
:func:`fbp_view`              sinogram and filtered back-projection for ``n`` angles
:func:`kspace_view`           an undersampling mask, masked k-space, the zero-filled image
:func:`kernel_view`           an image filtered by one of :data:`KERNELS`
:func:`augmentation_view`     one transform of :mod:`course.augment` at a given strength
============================  ==================================================================

>>> image = np.zeros((32, 32)); image[8:24, 12:20] = 1.0
>>> kernel_view(image, "Sobel x")[16, 10:14]  # the left edge of the bar, 1 + 2 + 1
array([0., 4., 4., 0.])
>>> w = kernel_explorer(image)  # in a notebook: the last line of a cell displays it
>>> type(w).__name__
'VBox'
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import numpy as np

from course._validate import choice, integer, nonempty, number, numeric, to_numpy

__all__ = [
    "KERNELS",
    "AUGMENTATIONS",
    "window_level_view",
    "window_level_explorer",
    "fbp_view",
    "fbp_explorer",
    "kspace_view",
    "kspace_explorer",
    "kernel_view",
    "kernel_explorer",
    "augmentation_view",
    "augmentation_explorer",
]


def _gaussian_kernel(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    offsets = np.arange(size) - size // 2
    g = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel = np.outer(g, g)
    return kernel / kernel.sum()


#: Classic 2D filters, applied by cross-correlation (no flip) with :func:`course.conv.conv2d`.
#: ``"Sobel x"`` responds to intensity increasing to the right (columns), ``"Sobel y"`` to
#: intensity increasing downwards (rows).
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "box blur 3x3": np.full((3, 3), 1.0 / 9.0),
    "Gaussian blur": _gaussian_kernel(5, 1.0),
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "Sobel x": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "Sobel y": np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
    "Laplacian": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
}
for _kernel in KERNELS.values():
    _kernel.setflags(write=False)

#: Transform names understood by :func:`augmentation_view` (all from :mod:`course.augment`).
AUGMENTATIONS = (
    "flip",
    "rotate90",
    "affine",
    "elastic",
    "gamma",
    "contrast",
    "noise",
    "blur",
    "erasing",
)

_MASK_KINDS = ("random", "equispaced")


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------
def _real_image(image, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """A finite real, non-empty NumPy array with one of the allowed numbers of dimensions."""
    x = numeric(name, to_numpy(name, image))
    if x.ndim not in ndims:
        expected = " or ".join(f"{n}D" for n in ndims)
        raise ValueError(f"{name} must be {expected}, got shape {x.shape}")
    nonempty(name, x)
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


# ---------------------------------------------------------------------------------------------
# Display helpers (explorers only)
# ---------------------------------------------------------------------------------------------
def _in_ipython() -> bool:
    """Whether a notebook kernel runs this code (a terminal IPython shell cannot show widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _show(fig) -> None:
    """Display a figure in the running notebook (if any), then free it."""
    import matplotlib.pyplot as plt

    if _in_ipython():
        from IPython.display import display

        display(fig)
    plt.close(fig)


def _explorer(controls: dict, draw, rows: list) -> Any:
    """``VBox(rows + [output])`` whose output redraws ``draw(**values)`` on every change."""
    import ipywidgets as widgets

    def update(**values):
        try:
            fig = draw(**values)
        except (ValueError, TypeError) as error:  # e.g. a centre wider than the budget
            print(f"cannot show this setting: {error}")
            return
        _show(fig)

    if _in_ipython():
        output = widgets.interactive_output(update, controls)
    else:  # a script or a test: no notebook to draw in, and IPython's clear_output would
        # print terminal escape codes
        with contextlib.redirect_stdout(io.StringIO()):
            output = widgets.interactive_output(update, controls)
    return widgets.VBox([*rows, output])


def _style():
    """The whole description is shown (ipywidgets cuts long ones by default)."""
    return {"description_width": "initial"}


def _wide(width: str = "95%"):
    """The layout of a slider with many values: a track long enough to pick each by dragging."""
    import ipywidgets as widgets

    return widgets.Layout(width=width)


def _row(controls: list):
    """A row of controls that wraps onto the next line when the notebook is narrow."""
    import ipywidgets as widgets

    return widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap"))


def _round_step(span: float, count: int = 500) -> float:
    """The smallest 1, 2 or 5 times a power of ten that splits ``span`` into at most ``count``.

    >>> _round_step(4024.0), _round_step(1.0), _round_step(300.0)
    (10.0, 0.002, 1.0)
    """
    raw = span / count
    exponent = math.floor(math.log10(raw))
    for mantissa in (1, 2, 5, 10):
        step = float(f"{mantissa}e{exponent}")
        if step >= raw * (1 - 1e-9):
            return step
    return float(f"1e{exponent + 1}")  # pragma: no cover - the loop always returns


# ---------------------------------------------------------------------------------------------
# Window / level
# ---------------------------------------------------------------------------------------------
def window_level_view(volume_hu, level: float, width: float, slice_index: int | None = None):
    """One slice of a volume through a display window, as grey levels in [0, 1].

    .. math:: g = \\mathrm{clip}\\left(\\frac{x - (L - W/2)}{W},\\ 0,\\ 1\\right)

    Values at or below ``L - W/2`` are black (0), at or above ``L + W/2`` white (1)
    (:func:`course.io.dicom.window`).

    Parameters
    ----------
    volume_hu : array_like, shape (Y, X) or (Z, Y, X)
        An image or volume, in HU for CT.
    level, width : float
        Window centre ``L`` and width ``W > 0``, in the units of ``volume_hu``.
    slice_index : int, optional
        Index along Z for a volume; default the middle slice ``Z // 2``. Ignored (must be None
        or 0) for a 2D image.

    Returns
    -------
    ndarray of float, shape (Y, X), values in [0, 1]

    Raises
    ------
    TypeError
        Non-numeric ``volume_hu``, ``level``, ``width`` or ``slice_index``.
    ValueError
        ``volume_hu`` not 2D/3D or with NaN, ``width <= 0``, ``slice_index`` out of range.

    Examples
    --------
    >>> window_level_view(np.array([[-1000.0, 0.0, 40.0, 1000.0]]), level=40, width=400)
    array([[0. , 0.4, 0.5, 1. ]])
    >>> volume = np.stack([np.full((2, 2), v) for v in (-500.0, 0.0, 500.0)])
    >>> window_level_view(volume, 0, 1000, slice_index=2)
    array([[1., 1.],
           [1., 1.]])
    """
    from course.io.dicom import window

    volume = _real_image(volume_hu, "volume_hu", (2, 3))
    level = number("level", level)
    width = number("width", width, low=0, low_open=True)
    if volume.ndim == 3:
        n = volume.shape[0]
        index = n // 2 if slice_index is None else integer("slice_index", slice_index, minimum=-n)
        if not -n <= index < n:
            raise ValueError(f"slice_index must be in [-{n}, {n - 1}] for {n} slices, got {index}")
        image = volume[index]
    else:
        if slice_index not in (None, 0):
            raise ValueError(
                f"a 2D image has one slice: slice_index must be None or 0, got {slice_index}"
            )
        image = volume
    return window(image, level, width)


def _window_figure(volume, level, width, slice_index=None, preset="custom"):
    import matplotlib.pyplot as plt

    shown = window_level_view(volume, level, width, slice_index)
    image = (
        volume
        if volume.ndim == 2
        else volume[volume.shape[0] // 2 if slice_index is None else slice_index]
    )
    low, high = level - width / 2, level + width / 2
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.2]})
    im = ax0.imshow(shown, cmap="gray", vmin=0, vmax=1)
    where = (
        ""
        if volume.ndim == 2
        else f", slice {slice_index if slice_index is not None else volume.shape[0] // 2}"
    )
    ax0.set_title(f"L = {level:g}, W = {width:g} ({preset}{where})", fontsize=9)
    ax0.set_xlabel("column")
    ax0.set_ylabel("row")
    bar = fig.colorbar(im, ax=ax0, fraction=0.046, pad=0.04, ticks=[0, 0.5, 1])
    bar.ax.set_yticklabels([f"{low:g}", f"{level:g}", f"{high:g}"])
    bar.set_label("HU (black -> white)")
    ax1.hist(image.ravel(), bins=100, color="0.5", log=True)
    ax1.axvspan(low, high, color="tab:orange", alpha=0.3, label="window [L - W/2, L + W/2]")
    ax1.set_xlabel("value (HU for CT)")
    ax1.set_ylabel("pixel count (log)")
    ax1.set_title("histogram of the slice", fontsize=9)
    ax1.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def window_level_explorer(volume_hu):
    """Sliders for window level and width, a preset drop-down and, for a volume, a slice slider.

    The figure shows the windowed slice (:func:`window_level_view`) and the histogram of the
    slice with the window shaded. The presets are :data:`course.io.dicom.WINDOW_PRESETS`.

    Parameters
    ----------
    volume_hu : array_like, shape (Y, X) or (Z, Y, X)
        In HU for CT (the initial window is then the soft-tissue preset); other data start with
        a window spanning their range.

    Returns
    -------
    ipywidgets.VBox
        Controls and the figure; display it as the last expression of a cell.

    Raises
    ------
    TypeError, ValueError
        As :func:`window_level_view`.

    Examples
    --------
    >>> w = window_level_explorer(np.random.default_rng(0).normal(0, 300, (4, 16, 16)))
    >>> [c.description for c in w.children[0].children]
    ['preset', 'level', 'width', 'slice']
    """
    import ipywidgets as widgets

    from course.io.dicom import WINDOW_PRESETS

    volume = _real_image(volume_hu, "volume_hu", (2, 3))
    vmin, vmax = float(volume.min()), float(volume.max())
    is_ct = vmin <= -500
    low, high = (min(vmin, -1024.0), max(vmax, 3000.0)) if is_ct else (vmin, vmax)
    if high <= low:
        high = low + 1.0
    span = high - low
    if is_ct:
        start, (level0, width0) = "soft_tissue", WINDOW_PRESETS["soft_tissue"]
    else:
        start, level0, width0 = "custom", (vmin + vmax) / 2, max(vmax - vmin, span / 100)
    # round steps (10 HU for CT: every preset lies on them) on notebook-wide tracks (~2 px each)
    style, step = _style(), _round_step(span)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    preset = widgets.Dropdown(
        options=["custom", *WINDOW_PRESETS], value=start, description="preset", style=style
    )
    level = widgets.FloatSlider(
        value=level0,
        min=low,
        max=high,
        step=step,
        description="level",
        continuous_update=False,
        style=style,
        layout=_wide(),
    )
    width = widgets.FloatSlider(
        value=width0,
        min=step,
        max=high - low,
        step=step,
        description="width",
        continuous_update=False,
        style=style,
        layout=_wide(),
    )
    controls = {"level": level, "width": width, "preset": preset}
    row = [preset, level, width]
    if volume.ndim == 3:
        slice_slider = widgets.IntSlider(
            value=volume.shape[0] // 2,
            min=0,
            max=volume.shape[0] - 1,
            description="slice",
            continuous_update=False,
            style=style,
            layout=_wide(),
        )
        controls["slice_index"] = slice_slider
        row.append(slice_slider)

    applying = {"preset": False}

    def on_preset(change):
        if change["new"] == "custom":
            return
        applying["preset"] = True
        try:
            level.value, width.value = WINDOW_PRESETS[change["new"]]
        finally:
            applying["preset"] = False

    def on_slider(change):
        if not applying["preset"]:
            preset.value = "custom"

    preset.observe(on_preset, "value")
    level.observe(on_slider, "value")
    width.observe(on_slider, "value")

    def draw(level, width, preset, slice_index=None):
        return _window_figure(volume, level, width, slice_index, preset)

    return _explorer(controls, draw, [_row(row)])


# ---------------------------------------------------------------------------------------------
# CT: number of angles and filtered back-projection
# ---------------------------------------------------------------------------------------------
def fbp_view(image, n_angles: int, filter_name: str = "ramp") -> dict:
    """Project an image at ``n_angles`` angles and reconstruct it by filtered back-projection.

    The angles are evenly spread over 180 degrees, ``theta_k = 180 k / n_angles``
    (``k = 0 .. n_angles - 1``). The image is first set to zero outside its inscribed circle
    (:func:`course.physics.ct.circle_mask`), the field of view of
    :func:`course.physics.ct.radon`; the error is measured inside that circle:

    .. math:: \\mathrm{RMSE} = \\sqrt{\\frac{1}{|C|} \\sum_{(i, j) \\in C}
              (\\hat f_{ij} - f_{ij})^2}

    Parameters
    ----------
    image : array_like, shape (N, N)
        A square image (e.g. :func:`course.physics.phantoms.shepp_logan`).
    n_angles : int
        Number of projections, >= 1. Few angles give streaks.
    filter_name : str, default "ramp"
        One of :data:`course.physics.ct.FILTERS`.

    Returns
    -------
    dict
        ``"sinogram"`` (N, n_angles), ``"reconstruction"`` (N, N), ``"rmse"`` (float),
        ``"theta"`` (n_angles,) the angles in degrees.

    Raises
    ------
    TypeError
        Non-numeric ``image``, non-int ``n_angles``, non-str ``filter_name``.
    ValueError
        ``image`` not square 2D or with NaN, ``n_angles < 1``, an unknown filter (the message
        lists the valid ones).

    Examples
    --------
    >>> from course.physics.phantoms import shepp_logan
    >>> few, many = fbp_view(shepp_logan(32), 8), fbp_view(shepp_logan(32), 64)
    >>> few["sinogram"].shape, many["reconstruction"].shape
    ((32, 8), (32, 32))
    >>> bool(many["rmse"] < few["rmse"])
    True
    """
    from course.physics.ct import FILTERS, circle_mask, fbp, radon

    x = _real_image(image, "image", (2,))
    if x.shape[0] != x.shape[1]:
        raise ValueError(f"image must be square (N, N), got shape {x.shape}")
    n_angles = integer("n_angles", n_angles, minimum=1)
    filter_name = choice("filter_name", filter_name, FILTERS)
    inside = circle_mask(x.shape[0])
    x = np.where(inside, x, 0).astype(x.dtype)
    theta = np.arange(n_angles) * (180.0 / n_angles)
    sinogram = radon(x, theta)
    reconstruction = fbp(sinogram, theta, filter_name=filter_name)
    rmse = float(np.sqrt(np.mean((reconstruction[inside] - x[inside]) ** 2)))
    return {"sinogram": sinogram, "reconstruction": reconstruction, "rmse": rmse, "theta": theta}


def _fbp_figure(image, n_angles, filter_name):
    import matplotlib.pyplot as plt

    result = fbp_view(image, n_angles, filter_name)
    x = np.asarray(image, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    n = x.shape[0]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    im = axes[0].imshow(x, cmap="gray", vmin=lo, vmax=hi)
    axes[0].set_title("object f")
    fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.04)
    step = 180.0 / n_angles
    im = axes[1].imshow(
        result["sinogram"],
        cmap="gray",
        aspect="auto",
        extent=(-step / 2, 180 - step / 2, n - 0.5, -0.5),
        interpolation="nearest",
    )
    axes[1].set_title(f"sinogram, {n_angles} angles")
    axes[1].set_xlabel("angle theta (degrees)")
    axes[1].set_ylabel("detector s")
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04, label="line integral")
    im = axes[2].imshow(result["reconstruction"], cmap="gray", vmin=lo, vmax=hi)
    axes[2].set_title(f"FBP ({filter_name}), RMSE {result['rmse']:.3f}")
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.tight_layout()
    return fig


def fbp_explorer(image):
    """A slider for the number of projection angles and a drop-down for the FBP filter.

    Shows the object, its sinogram and the filtered back-projection with its RMSE
    (:func:`fbp_view`). Few angles give streaks; smoother filters trade sharpness for noise.
    The slider goes from 4 to 360 angles in steps of 4.

    Parameters
    ----------
    image : array_like, shape (N, N)
        Keep ``N <= 256`` for a responsive explorer (each new angle count builds new
        projection matrices).

    Returns
    -------
    ipywidgets.VBox

    Raises
    ------
    TypeError, ValueError
        As :func:`fbp_view`.

    Examples
    --------
    >>> from course.physics.phantoms import shepp_logan
    >>> w = fbp_explorer(shepp_logan(32))
    >>> [c.description for c in w.children[0].children]
    ['angles', 'filter']
    """
    import ipywidgets as widgets

    from course.physics.ct import FILTERS

    x = _real_image(image, "image", (2,))
    if x.shape[0] != x.shape[1]:
        raise ValueError(f"image must be square (N, N), got shape {x.shape}")
    angles = widgets.IntSlider(  # 90 positions, a few pixels apart: each can be picked
        value=32,
        min=4,
        max=360,
        step=4,
        description="angles",
        continuous_update=False,
        style=_style(),
        layout=_wide(),
    )
    filter_name = widgets.Dropdown(options=list(FILTERS), value="ramp", description="filter")

    def draw(n_angles, filter_name):
        return _fbp_figure(x, n_angles, filter_name)

    controls = {"n_angles": angles, "filter_name": filter_name}
    return _explorer(controls, draw, [_row([angles, filter_name])])


# ---------------------------------------------------------------------------------------------
# MRI: undersampling k-space
# ---------------------------------------------------------------------------------------------
def kspace_view(
    image,
    acceleration: float,
    center_fraction: float,
    mask_kind: str = "random",
    seed: int = 0,
) -> dict:
    """Undersample the k-space of an image and reconstruct it by zero filling.

    .. math:: y = \\mathrm{fft2c}(x), \\qquad \\hat x = |\\mathrm{ifft2c}(M \\odot y)|

    with ``M`` a column mask (:func:`course.physics.mri.random_mask` or
    :func:`course.physics.mri.equispaced_mask`) keeping about ``W / R`` phase-encoding columns,
    ``round(center_fraction * W)`` of them in the fully sampled centre.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Real (or complex) image.
    acceleration : float
        ``R >= 1`` (1 keeps every column).
    center_fraction : float
        Fraction of columns in the fully sampled centre, in ``[0, 1]``, at most ``1 / R``.
    mask_kind : {"random", "equispaced"}, default "random"
    seed : int, default 0
        Seed of the mask (the random columns, or the offset of the equispaced ones).

    Returns
    -------
    dict
        ``"mask"`` (H, W) bool, the sampled positions; ``"kspace"`` (H, W) the log magnitude
        ``log(1 + |M y|)`` of the masked k-space; ``"zero_filled"`` (H, W) the
        reconstruction; ``"error"`` (H, W) the absolute error ``|x_hat - |x||``; and
        ``"rmse"`` (float) and ``"acceleration"`` (float, the actual ``R`` of the mask).

    Raises
    ------
    TypeError
        Non-numeric arguments, non-str ``mask_kind``.
    ValueError
        ``image`` not 2D or with NaN, ``acceleration < 1``, ``center_fraction`` outside
        ``[0, 1]`` or above the ``1 / R`` budget, an unknown ``mask_kind``.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((16, 16))
    >>> full = kspace_view(x, acceleration=1, center_fraction=0.0)
    >>> bool(full["mask"].all()), round(full["rmse"], 12)
    (True, 0.0)
    >>> fast = kspace_view(x, 4, 0.125, mask_kind="equispaced")
    >>> int(fast["mask"][0].sum()), fast["acceleration"]
    (4, 4.0)
    """
    from course.physics.mri import (
        acceleration_of,
        equispaced_mask,
        fft2c,
        random_mask,
        undersample,
        zero_filled,
    )

    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    x = np.asarray(image)
    if x.dtype.kind not in "biufc":
        raise TypeError(f"image must hold numbers, got dtype {x.dtype}")
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"image must be 2D (H, W), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("image contains NaN or infinite values")
    acceleration = number("acceleration", acceleration)
    center_fraction = number("center_fraction", center_fraction)
    mask_kind = choice("mask_kind", mask_kind, _MASK_KINDS)
    seed = integer("seed", seed, minimum=0)
    make_mask = random_mask if mask_kind == "random" else equispaced_mask
    columns = make_mask(x.shape, acceleration, center_fraction, seed=seed)
    mask = np.broadcast_to(columns, x.shape).copy()
    kspace = fft2c(x)
    reconstruction = zero_filled(kspace, columns)
    error = np.abs(reconstruction - np.abs(x))
    return {
        "mask": mask,
        "kspace": np.log1p(np.abs(undersample(kspace, columns))),
        "zero_filled": reconstruction,
        "error": error,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "acceleration": float(acceleration_of(columns)),
    }


def _kspace_figure(image, acceleration, center_fraction, mask_kind, seed):
    import matplotlib.pyplot as plt

    result = kspace_view(image, acceleration, center_fraction, mask_kind, seed)
    reference = np.abs(np.asarray(image))
    hi = float(reference.max()) or 1.0
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    panels = [
        (result["mask"], f"mask, R = {result['acceleration']:.2f}", "gray", (0, 1), "sampled"),
        (result["kspace"], "log(1 + |masked k-space|)", "gray", (None, None), "log magnitude"),
        (result["zero_filled"], "zero-filled reconstruction", "gray", (0, hi), "intensity"),
        (result["error"], f"|error|, RMSE {result['rmse']:.3g}", "magma", (0, hi / 2), "|error|"),
    ]
    for ax, (data, title, cmap, (vmin, vmax), label) in zip(axes, panels, strict=True):
        im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=label)
    for ax in axes[:2]:
        ax.set_xlabel("k_x (phase-encoding column)")
        ax.set_ylabel("k_y")
    for ax in axes[2:]:
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    return fig


def kspace_explorer(image):
    """Sliders for the acceleration and the centre fraction, drop-downs for the mask kind.

    Shows the mask, the masked k-space, the zero-filled reconstruction and its error
    (:func:`kspace_view`). A setting whose centre exceeds the ``W / R`` budget prints why.

    Parameters
    ----------
    image : array_like, shape (H, W)

    Returns
    -------
    ipywidgets.VBox

    Raises
    ------
    TypeError, ValueError
        As :func:`kspace_view` for a bad image.

    Examples
    --------
    >>> w = kspace_explorer(np.zeros((16, 16)))
    >>> [c.description for c in w.children[0].children]
    ['R', 'centre', 'mask', 'seed']
    """
    import ipywidgets as widgets

    x = np.asarray(image.detach().cpu().numpy() if hasattr(image, "detach") else image)
    kspace_view(x, 1, 0.0)  # validates the image
    style = _style()
    acceleration = widgets.FloatSlider(
        value=4, min=1, max=12, step=0.5, description="R", continuous_update=False, style=style
    )
    center = widgets.FloatSlider(
        value=0.08,
        min=0,
        max=0.5,
        step=0.01,
        description="centre",
        continuous_update=False,
        style=style,
        layout=_wide("400px"),
    )
    kind = widgets.Dropdown(options=list(_MASK_KINDS), value="random", description="mask")
    seed = widgets.IntSlider(
        value=0, min=0, max=20, description="seed", continuous_update=False, style=style
    )
    controls = {
        "acceleration": acceleration,
        "center_fraction": center,
        "mask_kind": kind,
        "seed": seed,
    }

    def draw(acceleration, center_fraction, mask_kind, seed):
        return _kspace_figure(x, acceleration, center_fraction, mask_kind, seed)

    return _explorer(controls, draw, [_row([acceleration, center, kind, seed])])


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------
def _kernel_key(kernel_name) -> str:
    if not isinstance(kernel_name, str):
        raise TypeError(
            f"kernel_name must be a str, one of {list(KERNELS)}; got {type(kernel_name).__name__}"
        )
    by_lower = {name.lower(): name for name in KERNELS}
    key = by_lower.get(kernel_name.strip().lower())
    if key is None:
        raise ValueError(
            f"unknown kernel_name {kernel_name!r}; valid names: {', '.join(map(repr, KERNELS))}"
        )
    return key


def kernel_view(image, kernel_name: str) -> np.ndarray:
    """Filter a 2D image with one of :data:`KERNELS` ("same" zero padding).

    .. math:: y_{ij} = \\sum_{m, n} x_{i + m - p,\\ j + n - p}\\, k_{mn}, \\qquad p = (K - 1)/2

    a cross-correlation (the kernel is not flipped) computed with
    :func:`course.conv.conv2d` and ``padding="same"``: the output has the image's shape and
    the image is taken as 0 outside its border.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel_name : str
        A key of :data:`KERNELS` (case-insensitive): ``"identity"``, ``"box blur 3x3"``,
        ``"Gaussian blur"``, ``"sharpen"``, ``"Sobel x"``, ``"Sobel y"``, ``"Laplacian"``.

    Returns
    -------
    ndarray of float, shape (H, W)

    Raises
    ------
    TypeError
        Non-numeric ``image`` or non-str ``kernel_name``.
    ValueError
        ``image`` not 2D or with NaN; an unknown kernel name (the message lists the valid ones).

    Examples
    --------
    >>> kernel_view(np.arange(9.0).reshape(3, 3), "identity")
    array([[0., 1., 2.],
           [3., 4., 5.],
           [6., 7., 8.]])
    >>> kernel_view(np.ones((3, 3)), "Laplacian")  # zero padding: edges see a drop
    array([[-2., -1., -2.],
           [-1.,  0., -1.],
           [-2., -1., -2.]])
    """
    from course.conv import conv2d

    kernel = KERNELS[_kernel_key(kernel_name)]
    x = _real_image(image, "image", (2,))
    weight = kernel.astype(x.dtype)[None, None]
    return conv2d(x[None, None], weight, padding="same")[0, 0]


def _kernel_figure(image, kernel_name):
    import matplotlib.pyplot as plt

    key = _kernel_key(kernel_name)
    kernel = KERNELS[key]
    out = kernel_view(image, key)
    x = np.asarray(image, dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 0.8, 1]})
    im = axes[0].imshow(x, cmap="gray")
    axes[0].set_title("input")
    fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.04)
    bound = float(np.abs(kernel).max())
    im = axes[1].imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
    for (i, j), v in np.ndenumerate(kernel):
        axes[1].text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8)
    axes[1].set_title(f"kernel: {key}")
    axes[1].set_xticks(range(kernel.shape[1]))
    axes[1].set_yticks(range(kernel.shape[0]))
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
    signed = out.min() < 0
    limit = float(np.abs(out).max()) or 1.0
    im = axes[2].imshow(
        out,
        cmap="RdBu_r" if signed else "gray",
        vmin=-limit if signed else None,
        vmax=limit if signed else None,
    )
    axes[2].set_title("output (cross-correlation, 'same')")
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.tight_layout()
    return fig


def kernel_explorer(image):
    """A drop-down of :data:`KERNELS`: the input, the kernel with its weights, and the output.

    Parameters
    ----------
    image : array_like, shape (H, W)

    Returns
    -------
    ipywidgets.VBox

    Raises
    ------
    TypeError, ValueError
        As :func:`kernel_view` for a bad image.

    Examples
    --------
    >>> w = kernel_explorer(np.eye(8))
    >>> w.children[0].options[:3]
    ('identity', 'box blur 3x3', 'Gaussian blur')
    """
    import ipywidgets as widgets

    x = _real_image(image, "image", (2,))
    name = widgets.Dropdown(options=list(KERNELS), value="Sobel x", description="kernel")

    def draw(kernel_name):
        return _kernel_figure(x, kernel_name)

    return _explorer({"kernel_name": name}, draw, [name])


# ---------------------------------------------------------------------------------------------
# Augmentation
# ---------------------------------------------------------------------------------------------
def augmentation_view(image, mask, name: str, strength: float, seed: int = 0):
    """Apply one transform of :mod:`course.augment` to an image and its mask.

    ``strength`` in ``[0, 1]`` scales the transform's parameters from "no change" (0) to
    strong (1); random parameters are drawn from the scaled range with ``seed``:

    ===========  ===================================================================
    name         parameters at strength ``s``
    ===========  ===================================================================
    "flip"       left-right flip with probability ``s`` (``random_flip``, last axis)
    "rotate90"   ``round(3 s)`` quarter turns, counter-clockwise (``random_rotate90``)
    "affine"     rotation in ``±45 s`` degrees, scale in ``1 ± 0.3 s``, shift in
                 ``±0.15 s`` of the size, shear in ``±20 s`` degrees (``random_affine``)
    "elastic"    ``alpha = 300 s`` voxels, ``sigma = 8`` voxels (``elastic_deform``)
    "gamma"      ``gamma`` in ``[1 / (1 + 2 s), 1 + 2 s]`` (``adjust_gamma``)
    "contrast"   factor in ``1 ± 0.8 s`` (``adjust_contrast``)
    "noise"      Gaussian noise of std ``0.2 s`` times the image's range
                 (``add_gaussian_noise``)
    "blur"       Gaussian blur of ``sigma = 3 s`` pixels (``gaussian_blur``)
    "erasing"    a box of sides ``0.5 s`` of the image, filled with its minimum
                 (``random_erasing``)
    ===========  ===================================================================

    Geometric transforms move the mask with the image (nearest-neighbour, labels are kept);
    intensity transforms leave it unchanged.

    Parameters
    ----------
    image : array_like, shape (H, W) (or (D, H, W))
    mask : array_like of the image's shape, or None
    name : str
        One of :data:`AUGMENTATIONS`.
    strength : float
        In ``[0, 1]``; 0 returns (copies of) the inputs unchanged.
    seed : int, default 0
        The same seed gives the same result.

    Returns
    -------
    (image, mask) : ndarray, ndarray or None

    Raises
    ------
    TypeError
        Non-str ``name``, non-numeric ``strength``, non-int ``seed``, non-numeric image.
    ValueError
        An unknown ``name`` (the message lists the valid ones), ``strength`` outside
        ``[0, 1]``, a mask whose shape differs from the image's.

    Examples
    --------
    >>> image = np.arange(16.0).reshape(4, 4); mask = (image > 10).astype(np.uint8)
    >>> rotated, rotated_mask = augmentation_view(image, mask, "rotate90", 0.34)
    >>> np.array_equal(rotated, np.rot90(image)), np.array_equal(rotated_mask, np.rot90(mask))
    (True, True)
    >>> same, _ = augmentation_view(image, mask, "blur", 0.0)
    >>> np.array_equal(same, image)
    True
    """
    from course import augment as aug

    name = choice("name", name, AUGMENTATIONS)
    s = number("strength", strength, low=0, high=1)
    seed = integer("seed", seed, minimum=0)
    x = _real_image(image, "image", (2, 3))
    if mask is not None:
        mask = np.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
        if mask.shape != x.shape:
            raise ValueError(f"mask has shape {mask.shape} but the image has shape {x.shape}")
    rng = np.random.default_rng(seed)
    if s == 0:
        return x.copy(), (None if mask is None else mask.copy())
    span = float(x.max() - x.min()) or 1.0
    if name == "flip":
        return aug.random_flip(x, mask, rng, axes=[x.ndim - 1], p=s)
    if name == "rotate90":
        return aug.random_rotate90(x, mask, rng, k=int(round(3 * s)))
    if name == "affine":
        return aug.random_affine(
            x,
            mask,
            rng,
            degrees=(-45 * s, 45 * s),
            scale=(1 - 0.3 * s, 1 + 0.3 * s),
            translate=(-0.15 * s, 0.15 * s),
            shear=(-20 * s, 20 * s),
            cval=float(x.min()),
        )
    if name == "elastic":
        return aug.elastic_deform(x, mask, rng, alpha=300.0 * s, sigma=8.0, cval=float(x.min()))
    if name == "gamma":
        return aug.adjust_gamma(x, mask, rng, gamma=(1 / (1 + 2 * s), 1 + 2 * s))
    if name == "contrast":
        return aug.adjust_contrast(x, mask, rng, factor=(1 - 0.8 * s, 1 + 0.8 * s))
    if name == "noise":
        return aug.add_gaussian_noise(x, mask, rng, std=0.2 * s * span)
    if name == "blur":
        return aug.gaussian_blur(x, mask, rng, sigma=3.0 * s)
    return aug.random_erasing(x, mask, rng, size=0.5 * s, value=float(x.min()))


def _augmentation_figure(image, mask, name, strength, seed):
    import matplotlib.pyplot as plt

    new_image, new_mask = augmentation_view(image, mask, name, strength, seed)
    x = np.asarray(image, dtype=float)
    if x.ndim == 3:  # a volume: show its middle slice
        x, new_image = x[x.shape[0] // 2], new_image[new_image.shape[0] // 2]
        if mask is not None:
            mask, new_mask = np.asarray(mask)[len(mask) // 2], new_mask[len(new_mask) // 2]
    lo, hi = float(x.min()), float(x.max())
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.8))
    for ax, img, m, title in (
        (axes[0], x, mask, "original"),
        (axes[1], new_image, new_mask, f"{name}, strength {strength:.2f}, seed {seed}"),
    ):
        im = ax.imshow(img, cmap="gray", vmin=lo, vmax=hi)
        if m is not None and np.any(m):
            ax.contour(np.asarray(m, dtype=float), levels=[0.5], colors="red", linewidths=1.2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def augmentation_explorer(image, mask=None):
    """A drop-down of transforms, a strength slider and a seed slider; the mask is drawn as a
    red contour on the original and on the augmented image (:func:`augmentation_view`).

    Parameters
    ----------
    image : array_like, shape (H, W) (a volume shows its middle slice)
    mask : array_like of the image's shape, optional

    Returns
    -------
    ipywidgets.VBox

    Raises
    ------
    TypeError, ValueError
        As :func:`augmentation_view` for a bad image or mask.

    Examples
    --------
    >>> w = augmentation_explorer(np.zeros((16, 16)), np.zeros((16, 16), np.uint8))
    >>> [c.description for c in w.children[0].children]
    ['transform', 'strength', 'seed']
    """
    import ipywidgets as widgets

    x = _real_image(image, "image", (2, 3))
    m = None if mask is None else np.asarray(mask)
    augmentation_view(x, m, "flip", 0.0)  # validates the shapes
    style = _style()
    name = widgets.Dropdown(options=list(AUGMENTATIONS), value="affine", description="transform")
    strength = widgets.FloatSlider(
        value=0.5,
        min=0,
        max=1,
        step=0.05,
        description="strength",
        continuous_update=False,
        style=style,
    )
    seed = widgets.IntSlider(
        value=0, min=0, max=20, description="seed", continuous_update=False, style=style
    )

    def draw(name, strength, seed):
        return _augmentation_figure(x, m, name, strength, seed)

    controls = {"name": name, "strength": strength, "seed": seed}
    return _explorer(controls, draw, [_row([name, strength, seed])])
