"""MRI explorer: undersampling k-space along the phase-encoding columns, zero-filled recon.

An image ``x`` of shape ``(H, W)`` is transformed to k-space with the centred FFT, a column
mask ``M`` keeps about ``W / R`` columns (``R`` the acceleration) and the inverse FFT of the
masked k-space, zeros elsewhere, is the zero-filled reconstruction
(:mod:`course.physics.mri`; Zbontar et al., *fastMRI*, arXiv:1811.08839):

.. math:: y = \\mathrm{fft2c}(x), \\qquad \\hat x = |\\mathrm{ifft2c}(M \\odot y)|
"""

from __future__ import annotations

import numpy as np

from course._validate import choice, integer, number
from course.widgets._common import _explorer, _figure, _present, _row, _style, _wide

__all__ = ["kspace_view", "kspace_explorer"]

_MASK_KINDS = ("random", "equispaced")


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


def _kspace_figure(image, acceleration, center_fraction, mask_kind, seed=0, fig=None):
    result = kspace_view(image, acceleration, center_fraction, mask_kind, seed)
    reference = np.abs(np.asarray(image))
    hi = float(reference.max()) or 1.0
    fig = _figure(fig, (9.5, 2.6))
    axes = fig.subplots(1, 4)
    panels = [
        (result["mask"], f"mask: R = {result['acceleration']:.2f}, {mask_kind}", "gray", (0, 1)),
        (result["kspace"], "masked k-space", "gray", (None, None)),
        (result["zero_filled"], "zero-filled", "gray", (0, hi)),
        (result["error"], f"|error|, RMSE {result['rmse']:.3g}", "viridis", (0, hi / 2)),
    ]
    for ax, (data, title, cmap, (vmin, vmax)) in zip(axes, panels, strict=True):
        ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    for ax, label in zip(axes[1:], ["log(1 + |y|)", "intensity", "|error|"], strict=True):
        fig.colorbar(ax.images[0], ax=ax, fraction=0.046, pad=0.04, label=label)
    axes[0].set_ylabel("k_x (readout row)")
    axes[2].set_ylabel("row (pixel)")
    for ax in axes[:2]:
        ax.set_xlabel("k_y (phase-enc. column)")
    for ax in axes[2:]:
        ax.set_xlabel("column (pixel)")
    return fig


#: The static view of :func:`kspace_explorer`: coherent aliasing, then random masks at R = 4, 8.
_KSPACE_SETTINGS = (
    {"acceleration": 4, "center_fraction": 0.0, "mask_kind": "equispaced"},
    {"acceleration": 4, "center_fraction": 0.08, "mask_kind": "random"},
    {"acceleration": 8, "center_fraction": 0.08, "mask_kind": "random"},
)


def kspace_explorer(image, *, static: bool = True):
    """Sliders for the acceleration and the centre fraction, drop-downs for the mask kind.

    Shows the mask, the masked k-space, the zero-filled reconstruction and its error
    (:func:`kspace_view`). A setting whose centre exceeds the ``W / R`` budget prints why.
    In a notebook the explorer first displays a static view, the figure for an equispaced mask
    at ``R = 4`` without centre and random masks at ``R = 4`` and ``8`` with an 8 % centre,
    which stays visible where widgets cannot run (e.g. on GitHub).

    Parameters
    ----------
    image : array_like, shape (H, W)
    static : bool, default True
        Display the static view first (in a notebook).

    Returns
    -------
    ipywidgets.VBox
        Without :mod:`ipywidgets`: the static view, a :class:`matplotlib.figure.Figure`.

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
    x = np.asarray(image.detach().cpu().numpy() if hasattr(image, "detach") else image)
    kspace_view(x, 1, 0.0)  # validates the image

    def draw(acceleration, center_fraction, mask_kind, seed=0, fig=None):
        return _kspace_figure(x, acceleration, center_fraction, mask_kind, seed, fig)

    what = "equispaced R = 4 without centre, random R = 4 and 8 with an 8 % centre"
    return _present(
        lambda lazy: _kspace_widget(draw, lazy),
        draw,
        _KSPACE_SETTINGS,
        static=static,
        what=what,
        size=(9.0, 1.9),
    )


def _kspace_widget(draw, lazy=False):
    """The controls of :func:`kspace_explorer`, wired to ``draw``."""
    import ipywidgets as widgets

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
    return _explorer(controls, draw, [_row([acceleration, center, kind, seed])], lazy)
