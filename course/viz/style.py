"""The course's figure defaults (:func:`use_style`)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from course._validate import integer


def use_style(dpi: int = 110) -> None:
    """Set the course's figure defaults for this session (each lecture calls it once).

    ``figure.dpi`` sets both the size on screen and the resolution of the stored PNG: 110 dpi
    keeps the text of a figure sharp on a high-resolution screen while a lecture notebook stays
    below its size budget. Colour maps stay Matplotlib's default ``viridis`` (perceptually
    uniform and readable with the common colour-vision deficiencies) where colour carries a
    value; images are drawn in grey by :func:`show_images`.

    Parameters
    ----------
    dpi : int
        Dots per inch of the figures, >= 50.

    Examples
    --------
    >>> use_style()
    >>> plt.rcParams["figure.dpi"]
    110.0
    """
    dpi = integer("dpi", dpi, minimum=50)
    plt.rcParams.update(
        {
            "figure.dpi": dpi,
            "image.cmap": "viridis",
            "axes.titlesize": "medium",
        }
    )
