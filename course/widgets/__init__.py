"""Interactive explorers for the lectures: window/level, CT angles, k-space masks, kernels,
augmentations.

Each explorer is split in two:

* a plain **update function** (``*_view``) that takes numbers and returns arrays: it holds all
  the computation, is unit-tested, and can be called directly in a notebook or a lab;
* an **explorer** (``*_explorer``) that only wires :mod:`ipywidgets` sliders and drop-downs to
  that function and redraws a Matplotlib figure when a control moves. It returns the widget
  (a :class:`ipywidgets.VBox`); show it by making it the last expression of a notebook cell.
  In a notebook it first displays a **static view**, the same figure at 3 or 4 fixed
  settings (the controls' starting values among them), which a stored notebook keeps where
  widgets cannot run (GitHub, a static HTML page); the widget then draws when a control moves.
  ``static=False`` leaves the static view out and draws at once. Without :mod:`ipywidgets` an
  explorer returns the static view alone (a :class:`matplotlib.figure.Figure`).

============================  ==================================================================
update function               what it shows
============================  ==================================================================
:func:`window_level_view`     a CT slice through a display window (level ``L``, width ``W``)
:func:`fbp_view`              sinogram and filtered back-projection for ``n`` angles
:func:`kspace_view`           an undersampling mask, masked k-space, the zero-filled image
:func:`kernel_view`           an image filtered by one of :data:`KERNELS`
:func:`augmentation_view`     one transform of :mod:`course.augment` at a given strength
============================  ==================================================================

One module per lecture topic, all re-exported here (import from :mod:`course.widgets`):
:mod:`~course.widgets.windowing` (lecture 01), :mod:`~course.widgets.ct` (02),
:mod:`~course.widgets.mri` (03), :mod:`~course.widgets.kernels` (04) and
:mod:`~course.widgets.augmentation` (08); the shared plumbing (argument checks, control layout,
the static views, drawing only under a notebook kernel) is in ``course.widgets._common``.

>>> image = np.zeros((32, 32)); image[8:24, 12:20] = 1.0
>>> kernel_view(image, "Sobel x")[16, 10:14]  # the left edge of the bar, 1 + 2 + 1
array([0., 4., 4., 0.])
>>> w = kernel_explorer(image)  # in a notebook: the last line of a cell displays it
>>> type(w).__name__
'VBox'
"""

# the public names, and (``_name as _name``) the figure builders the tests draw without a notebook
from course.widgets.augmentation import AUGMENTATIONS, augmentation_explorer, augmentation_view
from course.widgets.augmentation import _augmentation_figure as _augmentation_figure
from course.widgets.ct import _fbp_figure as _fbp_figure
from course.widgets.ct import fbp_explorer, fbp_view
from course.widgets.kernels import KERNELS, kernel_explorer, kernel_view
from course.widgets.kernels import _kernel_figure as _kernel_figure
from course.widgets.mri import _kspace_figure as _kspace_figure
from course.widgets.mri import kspace_explorer, kspace_view
from course.widgets.windowing import _window_figure as _window_figure
from course.widgets.windowing import window_level_explorer, window_level_view

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
