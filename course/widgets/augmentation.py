"""Augmentation explorer: one transform of :mod:`course.augment` at a given strength.

A strength ``s`` in [0, 1] scales each transform's parameter range from "no change" (0) to
strong (1), e.g. a rotation in ``[-45 s, 45 s]`` degrees or a gamma in
``[1 / (1 + 2 s), 1 + 2 s]``; the parameters are drawn from that range with a seed. Images are
``(H, W)`` or ``(D, H, W)``; a mask of the same shape moves with geometric transforms
(Shorten & Khoshgoftaar, "A survey on image data augmentation", J. Big Data 6, 60, 2019).
"""

from __future__ import annotations

import numpy as np

from course._validate import choice, integer, number
from course.widgets._common import _explorer, _figure, _present, _real_image, _row, _style

__all__ = ["AUGMENTATIONS", "augmentation_view", "augmentation_explorer"]

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
    return _augment(x, mask, name, s, rng)


def _augment(x: np.ndarray, mask, name: str, s: float, rng: np.random.Generator):
    """Transform ``name`` of :mod:`course.augment` at strength ``s`` (the table above)."""
    from course import augment as aug

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


def _augmentation_figure(image, mask, name, strength, seed=0, fig=None):
    new_image, new_mask = augmentation_view(image, mask, name, strength, seed)
    x = np.asarray(image, dtype=float)
    if x.ndim == 3:  # a volume: show its middle slice
        x, new_image = x[x.shape[0] // 2], new_image[new_image.shape[0] // 2]
        if mask is not None:
            mask, new_mask = np.asarray(mask)[len(mask) // 2], new_mask[len(new_mask) // 2]
    lo, hi = float(x.min()), float(x.max())
    fig = _figure(fig, (8.0, 3.4))
    axes = fig.subplots(1, 2)
    for ax, img, m, title in (
        (axes[0], x, mask, "original"),
        (axes[1], new_image, new_mask, f"{name}, strength {strength:.2f}, seed {seed}"),
    ):
        im = ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        if m is not None and np.any(m):
            ax.contour(np.asarray(m, dtype=float), levels=[0.5], colors="red", linewidths=1.2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="intensity")
    return fig


#: The static view of :func:`augmentation_explorer`: two geometric, two intensity transforms.
_AUGMENTATION_SETTINGS = tuple(
    {"name": name, "strength": 0.5} for name in ("affine", "elastic", "gamma", "noise")
)


def augmentation_explorer(image, mask=None, *, static: bool = True):
    """A drop-down of transforms, a strength slider and a seed slider; the mask is drawn as a
    red contour on the original and on the augmented image (:func:`augmentation_view`).

    In a notebook the explorer first displays a static view, the figure for the affine,
    elastic, gamma and noise transforms at strength 0.5 (seed 0), which stays visible where
    widgets cannot run (e.g. on GitHub).

    Parameters
    ----------
    image : array_like, shape (H, W) (a volume shows its middle slice)
    mask : array_like of the image's shape, optional
    static : bool, default True
        Display the static view first (in a notebook).

    Returns
    -------
    ipywidgets.VBox
        Without :mod:`ipywidgets`: the static view, a :class:`matplotlib.figure.Figure`.

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
    x = _real_image(image, "image", (2, 3))
    m = None if mask is None else np.asarray(mask)
    augmentation_view(x, m, "flip", 0.0)  # validates the shapes

    def draw(name, strength, seed=0, fig=None):
        return _augmentation_figure(x, m, name, strength, seed, fig)

    def build(lazy=False):
        import ipywidgets as widgets

        style = _style()
        name = widgets.Dropdown(
            options=list(AUGMENTATIONS), value="affine", description="transform"
        )
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
        controls = {"name": name, "strength": strength, "seed": seed}
        return _explorer(controls, draw, [_row([name, strength, seed])], lazy)

    what = "affine, elastic, gamma and noise at strength 0.5, seed 0"
    return _present(
        build, draw, _AUGMENTATION_SETTINGS, static=static, what=what, ncols=2, size=(4.75, 2.2)
    )
