"""Window / level explorer: a CT slice through a display window, with its histogram.

A display window of level ``L`` and width ``W`` maps values to grey levels in [0, 1]:

.. math:: g = \\mathrm{clip}\\left(\\frac{x - (L - W/2)}{W},\\ 0,\\ 1\\right)

Images are ``(Y, X)`` slices or ``(Z, Y, X)`` volumes, in HU for CT; the presets are
:data:`course.io.dicom.WINDOW_PRESETS` (Radiopaedia, "Windowing (CT)").
"""

from __future__ import annotations

import math

import numpy as np

from course._validate import integer, number
from course.widgets._common import (
    _explorer,
    _figure,
    _present,
    _real_image,
    _round_step,
    _row,
    _style,
    _wide,
)

__all__ = ["window_level_view", "window_level_explorer"]


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


def _window_figure(volume, level, width, slice_index=None, preset="custom", fig=None):
    from matplotlib.ticker import NullFormatter

    shown = window_level_view(volume, level, width, slice_index)
    index = volume.shape[0] // 2 if slice_index is None else slice_index
    image = volume if volume.ndim == 2 else volume[index]
    low, high = level - width / 2, level + width / 2
    fig = _figure(fig, (8.5, 3.3))
    ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    im = ax0.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    where = "" if volume.ndim == 2 else f", slice {index}"
    ax0.set_title(f"L = {level:g}, W = {width:g} ({preset}{where})", fontsize=9)
    ax0.set_xlabel("column (pixel)")
    ax0.set_ylabel("row (pixel)")
    bar = fig.colorbar(im, ax=ax0, fraction=0.046, pad=0.04, ticks=[0, 0.5, 1])
    bar.ax.set_yticklabels([f"{low:g}", f"{level:g}", f"{high:g}"])
    bar.set_label("HU")
    ax1.hist(image.ravel(), bins=100, color="0.5", log=True)
    ax1.axvspan(low, high, color="tab:orange", alpha=0.3)
    ax1.yaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel("value (HU for CT)")
    ax1.set_ylabel("pixel count (log)")
    ax1.set_title("histogram, window [L - W/2, L + W/2] shaded", fontsize=8)
    return fig


def _window_settings(volume: np.ndarray) -> list[dict]:
    """The static view: four presets for CT (lung, soft tissue, bone, brain); otherwise the
    full range, the middle half and the middle quarter of the data's range.
    """
    from course.io.dicom import WINDOW_PRESETS

    if float(volume.min()) <= -500:
        names = ("lung", "soft_tissue", "bone", "brain")
        return [
            {"level": WINDOW_PRESETS[n][0], "width": WINDOW_PRESETS[n][1], "preset": n}
            for n in names
        ]
    low, high = float(volume.min()), float(volume.max())
    span = (high - low) or 1.0
    return [{"level": (low + high) / 2, "width": span / f} for f in (1, 2, 4)]


def window_level_explorer(volume_hu, *, static: bool = True):
    """Sliders for window level and width, a preset drop-down and, for a volume, a slice slider.

    The figure shows the windowed slice (:func:`window_level_view`) and the histogram of the
    slice with the window shaded. The presets are :data:`course.io.dicom.WINDOW_PRESETS`.
    In a notebook the explorer first displays a static view, the figure at four settings (for
    CT the lung, soft-tissue, bone and brain presets, on the middle slice), which stays
    visible where widgets cannot run (e.g. on GitHub).

    Parameters
    ----------
    volume_hu : array_like, shape (Y, X) or (Z, Y, X)
        In HU for CT (the initial window is then the soft-tissue preset); other data start with
        a window spanning their range.
    static : bool, default True
        Display the static view first (in a notebook).

    Returns
    -------
    ipywidgets.VBox
        Controls and the figure; display it as the last expression of a cell. Without
        :mod:`ipywidgets`: the static view, a :class:`matplotlib.figure.Figure`.

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
    volume = _real_image(volume_hu, "volume_hu", (2, 3))

    def draw(level, width, preset="custom", slice_index=None, fig=None):
        return _window_figure(volume, level, width, slice_index, preset, fig)

    def build(lazy=False):
        controls, row = _window_controls(volume, *_window_start(volume))
        _link_preset(controls["preset"], controls["level"], controls["width"])
        return _explorer(controls, draw, [_row(row)], lazy)

    settings = _window_settings(volume)
    what = f"{len(settings)} windows" + (", middle slice" if volume.ndim == 3 else "")
    return _present(build, draw, settings, static=static, what=what, ncols=2, size=(4.75, 2.5))


def _window_start(volume: np.ndarray) -> tuple[str, float, float, float, float, float]:
    """The initial ``(preset, level, width)`` and the sliders' ``(low, high, step)``.

    CT data (a minimum at or below -500 HU) start on the soft-tissue preset, with a level slider
    over at least [-1024, 3000] HU; other data start with a window spanning their range. The
    step is round (10 HU for CT: every preset lies on it) and the range a multiple of it.
    """
    from course.io.dicom import WINDOW_PRESETS

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
    step = _round_step(span)  # on notebook-wide tracks: ~2 px per step
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    return start, level0, width0, low, high, step


def _window_controls(volume, start, level0, width0, low, high, step) -> tuple[dict, list]:
    """The preset drop-down, the level and width sliders and, for a volume, a slice slider.

    Returns the controls by :func:`_window_figure` argument name, and the row they are shown in.
    """
    import ipywidgets as widgets

    from course.io.dicom import WINDOW_PRESETS

    style = _style()
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
    return controls, row


def _link_preset(preset, level, width) -> None:
    """Picking a preset moves the level and width sliders; moving either selects "custom"."""
    from course.io.dicom import WINDOW_PRESETS

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
