"""CT explorer: the number of projection angles and the filter of filtered back-projection.

An image ``f`` of shape ``(N, N)`` is projected at ``n`` angles evenly spread over 180 degrees,
``theta_k = 180 k / n``, and reconstructed by filtered back-projection
(:mod:`course.physics.ct`; Kak & Slaney, *Principles of Computerized Tomographic Imaging*,
ch. 3). The error is measured inside the inscribed circle ``C``, the field of view:

.. math:: \\mathrm{RMSE} = \\sqrt{\\frac{1}{|C|} \\sum_{(i, j) \\in C}
          (\\hat f_{ij} - f_{ij})^2}
"""

from __future__ import annotations

import numpy as np

from course._validate import choice, integer
from course.widgets._common import (
    _explorer,
    _figure,
    _present,
    _real_image,
    _row,
    _style,
    _wide,
)

__all__ = ["fbp_view", "fbp_explorer"]


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


def _fbp_figure(image, n_angles, filter_name, fig=None):
    result = fbp_view(image, n_angles, filter_name)
    x = np.asarray(image, dtype=float)
    lo, hi = float(x.min()), float(x.max())
    n = x.shape[0]
    fig = _figure(fig, (9.0, 2.9))
    axes = fig.subplots(1, 3)
    im = axes[0].imshow(x, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    axes[0].set_title("object f", fontsize=9)
    fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.04, label="value")
    step = 180.0 / n_angles
    im = axes[1].imshow(
        result["sinogram"],
        cmap="gray",
        aspect="auto",
        extent=(-step / 2, 180 - step / 2, n - 0.5, -0.5),
        interpolation="nearest",
    )
    axes[1].set_title(f"sinogram, {n_angles} angles", fontsize=9)
    axes[1].set_xlabel("angle theta (degrees)")
    axes[1].set_ylabel("detector s (pixel)")
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04, label="line integral")
    im = axes[2].imshow(
        result["reconstruction"], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest"
    )
    axes[2].set_title(f"FBP ({filter_name}), RMSE {result['rmse']:.3f}", fontsize=9)
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04, label="value")
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
    return fig


#: The static view of :func:`fbp_explorer`: few, enough and many angles, with the ramp filter.
_FBP_SETTINGS = ({"n_angles": 8}, {"n_angles": 32}, {"n_angles": 180})


def fbp_explorer(image, *, static: bool = True):
    """A slider for the number of projection angles and a drop-down for the FBP filter.

    Shows the object, its sinogram and the filtered back-projection with its RMSE
    (:func:`fbp_view`). Few angles give streaks; smoother filters trade sharpness for noise.
    The slider goes from 4 to 360 angles in steps of 4. In a notebook the explorer first
    displays a static view, the figure at 8, 32 and 180 angles (ramp filter), which stays
    visible where widgets cannot run (e.g. on GitHub).

    Parameters
    ----------
    image : array_like, shape (N, N)
        Keep ``N <= 256`` for a responsive explorer (each new angle count builds new
        projection matrices).
    static : bool, default True
        Display the static view first (in a notebook).

    Returns
    -------
    ipywidgets.VBox
        Without :mod:`ipywidgets`: the static view, a :class:`matplotlib.figure.Figure`.

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
    x = _real_image(image, "image", (2,))
    if x.shape[0] != x.shape[1]:
        raise ValueError(f"image must be square (N, N), got shape {x.shape}")

    def draw(n_angles, filter_name="ramp", fig=None):
        return _fbp_figure(x, n_angles, filter_name, fig)

    def build(lazy=False):
        import ipywidgets as widgets

        from course.physics.ct import FILTERS

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
        controls = {"n_angles": angles, "filter_name": filter_name}
        return _explorer(controls, draw, [_row([angles, filter_name])], lazy)

    what = "8, 32 and 180 angles, ramp filter"
    return _present(build, draw, _FBP_SETTINGS, static=static, what=what, size=(8.5, 2.1))
