"""Networks and their arithmetic: the U-Net diagram, parameters per layer, kernel positions."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from course._validate import integer
from course.viz._common import _new_axes


def plot_unet(model, size: int = 64, ax: Axes | None = None) -> Axes:
    """Draw a U-Net as the letter U: its levels, feature-map shapes and connections.

    Level :math:`l` of the encoder works at :math:`H / 2^l` pixels per side with
    :math:`C_l = C_0 \\cdot 2^l` channels (:math:`C_0` = ``base_channels``); the bottleneck is
    level ``depth``. Each box is one block (two convolutions); its height is proportional to
    the side length and its label is ``channels x side``. Arrows: 2x2 max pooling (down),
    upsampling (up), skip connections (dashed, concatenated to the decoder's input).

    Parameters
    ----------
    model : course.models.UNet
        The network (2D or 3D); its ``depth``, channels and ``dims`` are read.
    size : int, default 64
        Side length of the input, ``>= 2**depth`` (the U-Net pads it up to a multiple of
        ``2**depth``: the drawn sizes are after that padding).
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        ``model`` is not a :class:`course.models.UNet`.
    ValueError
        ``size < 2**depth``.

    Examples
    --------
    >>> from course.models import UNet
    >>> ax = plot_unet(UNet(1, 1, depth=2, base_channels=8), size=32)
    >>> [t.get_text() for t in ax.texts][:6]  # level 0: encoder, decoder; level 1: encoder
    ['8', '32x32', '8', '32x32', '16', '16x16']
    >>> plt.close(ax.figure)
    """
    from course.models.unet import UNet

    if not isinstance(model, UNet):
        raise TypeError(f"model must be a course.models.UNet, got {type(model).__name__}")
    depth = model.depth
    if integer("size", size) < 2**depth:
        raise ValueError(f"size must be an int >= 2**depth = {2**depth}, got {size!r}")
    padded = -(-int(size) // 2**depth) * 2**depth
    base = model.head.in_channels
    channels = [base * 2**level for level in range(depth + 1)]
    sides = [padded // 2**level for level in range(depth + 1)]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * (2 * depth + 1) + 1, 1.1 * (depth + 1) + 1.2))
    spatial = "x".join(["{s}"] * model.dims)

    def box(x, level, colour):  # centre (x, y) and height of the block at this level
        y, h = -level, 0.25 + 0.55 * sides[level] / sides[0]
        ax.add_patch(Rectangle((x - 0.35, y - h / 2), 0.7, h, color=colour, alpha=0.8))
        ax.text(x, y, f"{channels[level]}", ha="center", va="center", fontsize=9, weight="bold")
        ax.text(x, y - h / 2 - 0.08, spatial.format(s=sides[level]), ha="center", va="top",
                fontsize=8)  # fmt: skip
        return y, h

    def arrow(start, end, **style):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, **style))

    last = 2 * depth
    for level in range(depth + 1):
        x_enc, x_dec = level, last - level
        y, h = box(x_enc, level, "tab:blue" if level < depth else "tab:purple")
        if level < depth:
            box(x_dec, level, "tab:orange")
            arrow((x_enc + 0.36, y), (x_dec - 0.36, y), linestyle="--", color="grey")
            arrow((x_enc + 0.2, y - h / 2), (x_enc + 0.8, -level - 0.75), color="tab:blue")
            arrow((x_dec - 0.8, -level - 0.75), (x_dec - 0.2, y - h / 2), color="tab:orange")
    ax.text(-0.45, 0, f"input\n{model.in_channels}", ha="right", va="center", fontsize=9)
    ax.text(last + 0.45, 0, f"1x1 conv\n-> {model.out_channels}", ha="left", va="center",
            fontsize=9)  # fmt: skip
    ax.legend(
        handles=[
            Patch(color="tab:blue", label="encoder block, then max pooling (sides / 2)"),
            Patch(color="tab:purple", label="bottleneck"),
            Patch(color="tab:orange", label="upsampling (sides x 2), then decoder block"),
            Patch(color="grey", label="skip connection (concatenate)"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    ax.set_xlim(-1.3, last + 1.3)
    ax.set_ylim(-depth - 0.9, 0.9)
    ax.set_axis_off()
    return ax


def plot_layer_parameters(rows, ax: Axes | None = None, outputs: bool = False) -> Axes:
    """Bar chart of a network's layers: the parameters of each (dense layers in red).

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`course.models.layer_table` (keys ``type``, ``params`` and ``numel``), in
        the order of the layers.
    ax : matplotlib Axes, optional
    outputs : bool, default False
        Also draw, behind the parameters, the number of values each layer outputs, and name
        every bar by its layer type.

    Returns
    -------
    matplotlib.axes.Axes
        The counts on a log scale.

    Raises
    ------
    ValueError
        No rows, or rows without the keys of :func:`~course.models.layer_table`.

    Examples
    --------
    >>> rows = [{"type": "Conv2d", "params": 156, "numel": 4704},
    ...         {"type": "Linear", "params": 48120, "numel": 120}]
    >>> ax = plot_layer_parameters(rows, outputs=True)
    >>> len(ax.patches)
    4
    >>> plt.close(ax.figure)
    """
    if not rows or not all({"type", "params", "numel"} <= set(r) for r in rows):
        raise ValueError("rows must be a non-empty list of layer_table rows (type, params, numel)")
    ax = _new_axes(ax, (8.0, 3.0))
    x = np.arange(len(rows))
    handles = []
    if outputs:
        ax.bar(x, [r["numel"] for r in rows], color="tab:blue")
        handles.append(Patch(color="tab:blue", label="values in the layer's output"))
    colours = ["tab:red" if r["type"] == "Linear" else "tab:orange" for r in rows]
    ax.bar(x, [r["params"] for r in rows], width=0.4 if outputs else 0.8, color=colours)
    handles += [
        Patch(color="tab:orange", label="parameters: convolution, batch norm"),
        Patch(color="tab:red", label="parameters: fully connected"),
    ]
    ax.set(yscale="log", ylabel="count (log scale)", xlim=(-0.6, len(rows) - 0.4))
    if outputs:
        ax.set_xticks(x, [r["type"] for r in rows], rotation=45, ha="right")
    else:
        ax.set_xlabel("layer with parameters, from input to output")
    ax.legend(handles=handles, fontsize="small")
    return ax


def plot_parameter_split(
    totals: dict[str, int], dense: dict[str, int], ax: Axes | None = None, notes=None
) -> Axes:
    """Stacked bars per network: parameters of the convolutions and of the dense layers.

    Parameters
    ----------
    totals : dict of str to int
        All parameters of each network, in the order to draw.
    dense : dict of str to int
        The parameters of its fully connected layers (same keys, at most the total).
    ax : matplotlib Axes, optional
    notes : dict of str to str, optional
        A second line under a network's name (e.g. its year).

    Returns
    -------
    matplotlib.axes.Axes
        In millions of parameters, each bar labelled with its total.

    Raises
    ------
    ValueError
        Keys that differ, or a dense count above the total.

    Examples
    --------
    >>> ax = plot_parameter_split({"A": 2_000_000, "B": 500_000}, {"A": 1_500_000, "B": 0})
    >>> [t.get_text() for t in ax.texts]
    ['2 M', '0.5 M']
    >>> plt.close(ax.figure)
    """
    if set(totals) != set(dense) or any(dense[n] > totals[n] for n in totals):
        raise ValueError("totals and dense must have the same networks, dense <= total")
    names, notes = list(totals), notes or {}
    ax = _new_axes(ax, (8.0, 3.0))
    conv = np.array([totals[n] - dense[n] for n in names]) / 1e6
    fc = np.array([dense[n] for n in names]) / 1e6
    ax.bar(names, conv, color="tab:orange", label="convolutions (and batch norm)")
    ax.bar(names, fc, bottom=conv, color="tab:red", label="fully connected layers")
    for i, n in enumerate(names):
        ax.text(i, (conv + fc)[i], f"{totals[n] / 1e6:.2g} M", ha="center", va="bottom")
    ax.set_xticks(range(len(names)), [f"{n}\n{notes[n]}" if n in notes else n for n in names])
    ax.set(ylabel="parameters (millions)")
    ax.legend()
    return ax


def plot_conv_positions(
    width: int, kernel: int, stride: int = 1, padding: int = 0, ax: Axes | None = None
) -> Axes:
    """Draw where a ``kernel x kernel`` window goes on a ``width x width`` input.

    The input (white) sits inside ``padding`` rings of zeros (grey); the window starts in the
    top-left corner (shaded red) and moves by ``stride``. Each blue dot is the centre of one
    position, one per output pixel, :math:`W_{out} \\times W_{out}` with

    .. math:: W_{out} = \\left\\lfloor \\frac{W - K + 2P}{S} \\right\\rfloor + 1

    (:func:`course.arithmetic.conv_output_size`; Dumoulin & Visin, "A guide to convolution
    arithmetic for deep learning", arXiv:1603.07285, 2016).

    Parameters
    ----------
    width, kernel : int
        Input side ``W >= 1`` and kernel side ``K >= 1``, in pixels.
    stride : int, default 1
        Step ``S >= 1`` between positions.
    padding : int, default 0
        Rings of zeros ``P >= 0`` around the input.
    ax : matplotlib Axes, optional
        Draw there; a new figure otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        The blue dots are ``ax.lines[0]``.

    Raises
    ------
    TypeError
        A non-integer argument.
    ValueError
        A negative or zero size, or a kernel larger than the padded input.

    Examples
    --------
    >>> ax = plot_conv_positions(7, 3, stride=2)
    >>> len(ax.lines[0].get_xdata()), ax.get_title()
    (9, 'W=7, K=3, S=2, P=0: 3x3 output')
    >>> plt.close(ax.figure)
    """
    width = integer("width", width, minimum=1)
    kernel = integer("kernel", kernel, minimum=1)
    stride = integer("stride", stride, minimum=1)
    padding = integer("padding", padding, minimum=0)
    size = width + 2 * padding
    if kernel > size:
        raise ValueError(f"kernel ({kernel}) is larger than the padded input ({size} pixels)")
    n_out = (size - kernel) // stride + 1
    grid = np.full((size, size), 0.35)
    grid[padding : padding + width, padding : padding + width] = 0
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.4), layout="constrained")
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(np.arange(-0.5, size), minor=True)
    ax.set_yticks(np.arange(-0.5, size), minor=True)
    ax.grid(which="minor", color="grey", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    centres = np.arange(n_out) * stride + (kernel - 1) / 2
    columns, rows = np.meshgrid(centres, centres)
    ax.plot(columns.ravel(), rows.ravel(), "o", color="tab:blue", ms=5)
    ax.add_patch(Rectangle((-0.5, -0.5), kernel, kernel, facecolor="red", alpha=0.3))
    ax.set_title(f"W={width}, K={kernel}, S={stride}, P={padding}: {n_out}x{n_out} output")
    ax.set_xlabel("column (one square = one pixel)")
    ax.set_ylabel("row")
    return ax
