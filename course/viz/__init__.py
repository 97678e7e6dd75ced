"""Plotting helpers for the notebooks: image grids, mask overlays, training curves, Grad-CAM.

Every function draws with Matplotlib and returns the :class:`~matplotlib.figure.Figure` or
:class:`~matplotlib.axes.Axes` it drew on (it never calls ``plt.show()``: notebooks display the
figure themselves, and tests can inspect it). Images may be NumPy arrays or torch tensors
(moved to the CPU); a single-channel ``(1, H, W)`` image is squeezed, a ``(3, H, W)`` tensor is
turned into ``(H, W, 3)``.

A package by topic: :mod:`~course.viz.style` (the lectures' figure defaults),
:mod:`~course.viz.images`, :mod:`~course.viz.evaluation`, :mod:`~course.viz.networks` and
:mod:`~course.viz.registration`.
"""

from course.viz.evaluation import (
    plot_confusion_matrix,
    plot_history,
    plot_roc,
    plot_scores_by_class,
)
from course.viz.images import (
    OVERLAP_COLOURS as OVERLAP_COLOURS,  # the overlap map's colours (tests, legends)
)
from course.viz.images import (
    overlay_mask,
    show_filtered,
    show_grad_cam,
    show_images,
    show_overlap,
    show_restoration,
)
from course.viz.networks import (
    plot_conv_positions,
    plot_layer_parameters,
    plot_parameter_split,
    plot_unet,
)
from course.viz.registration import plot_displacement
from course.viz.style import use_style

__all__ = [
    "use_style",
    "show_images",
    "overlay_mask",
    "show_overlap",
    "plot_history",
    "show_grad_cam",
    "plot_unet",
    "plot_confusion_matrix",
    "plot_roc",
    "plot_scores_by_class",
    "plot_layer_parameters",
    "plot_parameter_split",
    "plot_displacement",
    "show_restoration",
    "plot_conv_positions",
    "show_filtered",
]
