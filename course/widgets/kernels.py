"""Kernel explorer: an image filtered by classic 2D kernels (blur, sharpen, Sobel, Laplacian).

Each filter is a cross-correlation (the kernel is not flipped, as in every deep-learning
library) with "same" zero padding, computed by :func:`course.conv.conv2d`:

.. math:: y_{ij} = \\sum_{m, n} x_{i + m - p,\\ j + n - p}\\, k_{mn}, \\qquad p = (K - 1)/2

Images are ``(H, W)``; kernels ``(K, K)`` (Gonzalez & Woods, *Digital Image Processing*,
ch. 3).
"""

from __future__ import annotations

import numpy as np

from course.widgets._common import _explorer, _figure, _present, _real_image

__all__ = ["KERNELS", "kernel_view", "kernel_explorer"]


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


def _kernel_figure(image, kernel_name, fig=None):
    key = _kernel_key(kernel_name)
    kernel = KERNELS[key]
    out = kernel_view(image, key)
    x = np.asarray(image, dtype=float)
    fig = _figure(fig, (9.0, 2.9))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.8, 1]})
    im = axes[0].imshow(x, cmap="gray", interpolation="nearest")
    axes[0].set_title("input", fontsize=9)
    fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.04, label="intensity")
    bound = float(np.abs(kernel).max())
    im = axes[1].imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
    small = kernel.shape[0] <= 3  # 5 x 5 cells are too small for 3 digits at this size
    for (i, j), v in np.ndenumerate(kernel):
        text = f"{v:.2g}" if small else f"{v:.2f}".replace("0.", ".")
        axes[1].text(j, i, text, ha="center", va="center", fontsize=7 if small else 5.5)
    axes[1].set_title(f"kernel: {key}", fontsize=9)
    axes[1].set_xticks(range(kernel.shape[1]))
    axes[1].set_yticks(range(kernel.shape[0]))
    axes[1].set_xlabel("kernel column j")
    axes[1].set_ylabel("kernel row i")
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04, label="weight")
    signed = out.min() < 0
    limit = float(np.abs(out).max()) or 1.0
    im = axes[2].imshow(
        out,
        cmap="RdBu_r" if signed else "gray",  # signed responses: blue < 0 < red
        vmin=-limit if signed else None,
        vmax=limit if signed else None,
        interpolation="nearest",
    )
    axes[2].set_title("output (cross-correlation, 'same')", fontsize=9)
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04, label="response")
    for ax in (axes[0], axes[2]):
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
    return fig


#: The static view of :func:`kernel_explorer`: a blur, a first and a second derivative.
_KERNEL_SETTINGS = (
    {"kernel_name": "Gaussian blur"},
    {"kernel_name": "Sobel x"},
    {"kernel_name": "Laplacian"},
)


def kernel_explorer(image, *, static: bool = True):
    """A drop-down of :data:`KERNELS`: the input, the kernel with its weights, and the output.

    In a notebook the explorer first displays a static view, the figure for the Gaussian blur,
    Sobel x and Laplacian kernels, which stays visible where widgets cannot run (e.g. on
    GitHub).

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
        As :func:`kernel_view` for a bad image.

    Examples
    --------
    >>> w = kernel_explorer(np.eye(8))
    >>> w.children[0].options[:3]
    ('identity', 'box blur 3x3', 'Gaussian blur')
    """
    x = _real_image(image, "image", (2,))

    def draw(kernel_name, fig=None):
        return _kernel_figure(x, kernel_name, fig)

    def build(lazy=False):
        import ipywidgets as widgets

        name = widgets.Dropdown(options=list(KERNELS), value="Sobel x", description="kernel")
        return _explorer({"kernel_name": name}, draw, [name], lazy)

    what = "Gaussian blur, Sobel x and Laplacian"
    return _present(build, draw, _KERNEL_SETTINGS, static=static, what=what, size=(8.0, 2.0))
