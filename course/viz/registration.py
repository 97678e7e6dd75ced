"""Registration: a displacement field drawn over the image."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from course._validate import integer, to_numpy
from course.viz._common import _as_image, _new_axes


def plot_displacement(
    image, displacement, ax: Axes | None = None, step: int = 8, magnify: float = 1.0
) -> Axes:
    """Draw a displacement field as arrows over its image (registration, lecture 09).

    Parameters
    ----------
    image : array or tensor, 2D (H, W)
    displacement : array or tensor of shape (2, H, W)
        :math:`(u_x, u_y)` in pixels at every pixel: ``u_x`` along the columns, ``u_y`` along
        the rows.
    ax : matplotlib Axes, optional
    step : int, default 8
        One arrow every ``step`` pixels along each axis.
    magnify : float, default 1.0
        Arrows drawn ``magnify`` times longer than the displacement (for small fields).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        A field whose shape is not ``(2, H, W)`` for the image, a ``step`` below 1.

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_displacement(np.zeros((16, 16)), np.ones((2, 16, 16)), step=4)
    >>> len(ax.collections)
    1
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    image = _as_image(image)
    field = to_numpy("displacement", displacement).astype(float)
    if field.shape != (2, *image.shape[:2]):
        raise ValueError(
            f"displacement must have shape (2, {image.shape[0]}, {image.shape[1]}), "
            f"got {field.shape}"
        )
    step = integer("step", step, minimum=1)
    ax = _new_axes(ax, (3.5, 3.5))
    ax.imshow(image, cmap="gray")
    rows, cols = np.mgrid[0 : image.shape[0] : step, 0 : image.shape[1] : step]
    ax.quiver(
        cols,
        rows,
        field[0, ::step, ::step],
        field[1, ::step, ::step],
        color="yellow",
        angles="xy",
        scale_units="xy",
        scale=1 / magnify,
    )
    ax.set_axis_off()
    return ax
