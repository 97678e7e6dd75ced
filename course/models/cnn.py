"""Small CNN classifiers and tools to inspect any network: parameter counts and layer tables.

:class:`SimpleCNN` is a configurable LeNet-style classifier: a stack of "convolution -> ReLU ->
2x2 max pooling" stages followed either by fully connected layers (LeNet, AlexNet, VGG: many
parameters in the first dense layer) or by global average pooling and one linear layer (ResNet,
MobileNet: few parameters, any input size).

:func:`count_parameters` and :func:`summary` work on every :class:`torch.nn.Module`, including the
architectures of :mod:`torchvision.models` built with ``weights=None`` (no download):

>>> import torchvision
>>> count_parameters(torchvision.models.resnet18(weights=None))
11689512
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from course._validate import integer, number, pair
from course.arithmetic import conv_output_size, pool_output_size

__all__ = ["SimpleCNN", "count_parameters", "layer_table", "summary"]


def _int_tuple(values, name: str, minimum: int) -> tuple[int, ...]:
    if isinstance(values, (int, bool)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {values!r}")
    return tuple(integer(name, v, minimum=minimum) for v in values)


class SimpleCNN(nn.Module):
    """A LeNet-style classifier: ``len(channels)`` conv stages, then a classifier head.

    Each stage is ``Conv2d(k x k) -> [BatchNorm2d] -> ReLU -> MaxPool2d(2)``. The head is either

    - ``global_pool=False`` (LeNet/VGG style): flatten the last feature map, then the fully
      connected layers ``hidden`` (each followed by ReLU and dropout), then ``num_classes``
      outputs. The first dense layer has ``C_last * H_last * W_last * hidden[0]`` weights and
      fixes the input size; or
    - ``global_pool=True`` (ResNet/MobileNet style): global average pooling to one value per
      channel, dropout, then one linear layer ``C_last -> num_classes``; any input size works.

    The network outputs logits (no softmax): use :class:`torch.nn.CrossEntropyLoss`.

    Parameters
    ----------
    in_channels : int, default 1
    num_classes : int, default 2
    channels : sequence of int, default (6, 16)
        Filters of each convolution stage (LeNet-5 uses 6 and 16).
    kernel_size : int, default 5
    padding : int or "same", default "same"
        Zero padding of each convolution; ``"same"`` keeps the size (``P = (K - 1) / 2``, odd
        ``K`` only), 0 is the original LeNet (a 5x5 convolution shrinks the map by 4).
    hidden : sequence of int, default (120, 84)
        Sizes of the hidden dense layers (ignored with ``global_pool=True``).
    input_size : int or (int, int), default 28
        Input ``H`` (or ``(H, W)``), needed to size the first dense layer; checked in
        ``forward`` (unless ``global_pool``).
    dropout : float, default 0.0
        Dropout probability before every dense layer (no dropout layer when 0).
    global_pool : bool, default False
    batch_norm : bool, default False
        Add :class:`torch.nn.BatchNorm2d` after each convolution.

    Raises
    ------
    ValueError
        Bad sizes at construction (e.g. the feature map would vanish); in ``forward``, an input
        that is not ``(N, in_channels, H, W)`` or (dense head) not of size ``input_size``.

    Examples
    --------
    The classic LeNet-5 on 32x32 digits (ReLU and max pooling instead of tanh and subsampling)
    has the famous 61,706 parameters, 48,120 of them in the first dense layer:

    >>> lenet = SimpleCNN(1, 10, channels=(6, 16), padding=0, hidden=(120, 84), input_size=32)
    >>> count_parameters(lenet)
    61706
    >>> lenet(torch.zeros(4, 1, 32, 32)).shape
    torch.Size([4, 10])
    >>> count_parameters(SimpleCNN(1, 10, channels=(6, 16), padding=0, global_pool=True))
    2742
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        channels: Sequence[int] = (6, 16),
        kernel_size: int = 5,
        padding: int | str = "same",
        hidden: Sequence[int] = (120, 84),
        input_size: int | tuple[int, int] = 28,
        dropout: float = 0.0,
        global_pool: bool = False,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = integer("in_channels", in_channels, minimum=1)
        self.num_classes = integer("num_classes", num_classes, minimum=1)
        channels = _int_tuple(channels, "channels", 1)
        hidden = _int_tuple(hidden, "hidden", 1)
        if not channels:
            raise ValueError("channels must name at least one convolution stage, got ()")
        k = integer("kernel_size", kernel_size, minimum=1)
        if padding == "same":
            if k % 2 == 0:
                raise ValueError(f"padding='same' needs an odd kernel_size, got {k}")
            padding = (k - 1) // 2
        elif isinstance(padding, str):
            raise ValueError(f"padding must be an int or 'same', got {padding!r}")
        padding = integer("padding", padding, minimum=0)
        number("dropout", dropout, low=0, high=1, high_open=True)
        self.global_pool = bool(global_pool)
        self.input_size = size = pair("input_size", input_size, minimum=1)

        stages: list[nn.Module] = []
        c_prev = self.in_channels
        for c in channels:
            stages.append(nn.Conv2d(c_prev, c, k, padding=padding))
            if batch_norm:
                stages.append(nn.BatchNorm2d(c))
            stages += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_prev = c
            try:  # follow the feature-map size, to size the dense layer and catch vanishing maps
                size = pool_output_size(conv_output_size(size, k, padding=padding), 2)
            except ValueError as err:
                raise ValueError(
                    f"input_size={self.input_size} is too small for {len(channels)} stages of "
                    f"{k}x{k} convolution (padding {padding}) and 2x2 pooling: {err}"
                ) from None
        self.features = nn.Sequential(*stages)
        self.feature_size = size  # (H_last, W_last) for an input of input_size

        head: list[nn.Module] = []
        if self.global_pool:
            head += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            n_in, widths = c_prev, []
        else:
            head.append(nn.Flatten())
            n_in, widths = c_prev * size[0] * size[1], list(hidden)
        for width in widths:
            if dropout > 0:
                head.append(nn.Dropout(dropout))
            head += [nn.Linear(n_in, width), nn.ReLU(inplace=True)]
            n_in = width
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(n_in, self.num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, num_classes)`` for images ``x`` of shape ``(N, C, H, W)``."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"x must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        if not self.global_pool and tuple(x.shape[2:]) != self.input_size:
            raise ValueError(
                f"x has spatial size {tuple(x.shape[2:])} but this SimpleCNN was built for "
                f"input_size={self.input_size} (use global_pool=True for any size)"
            )
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of ``model``: :math:`\\sum_p \\mathrm{numel}(p)`.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool, default True
        Count only parameters with ``requires_grad`` (frozen layers of a fine-tuned network are
        left out).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`torch.nn.Module`.

    Examples
    --------
    >>> layer = nn.Linear(10, 3)
    >>> count_parameters(layer)  # 10 * 3 weights + 3 biases
    33
    >>> layer.weight.requires_grad_(False)  # doctest: +ELLIPSIS
    Parameter containing: ...
    >>> count_parameters(layer), count_parameters(layer, trainable_only=False)
    (3, 33)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _shape_of(output) -> tuple | list | str:
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return type(output).__name__


def _numel_of(output) -> int:
    if isinstance(output, torch.Tensor):
        return output.numel()
    if isinstance(output, (tuple, list)):
        return sum(_numel_of(o) for o in output)
    return 0


def layer_table(
    model: nn.Module, input_size: Sequence[int], batch_size: int = 1, device=None
) -> list[dict]:
    """Run one forward pass and record every leaf layer's output shape and parameter count.

    Forward hooks on the leaf modules (those without children, plus any module that owns
    parameters directly) record each call. A module called twice (e.g. the shared ReLU of a
    ResNet block) gets one row per call, with its parameters counted on the first call only,
    so that the ``params`` column sums to ``count_parameters(model, trainable_only=False)``
    (modules never called get a row with output shape ``None``).

    Parameters
    ----------
    model : torch.nn.Module
    input_size : sequence of int
        Shape of one input *without* the batch dimension, e.g. ``(3, 224, 224)``.
    batch_size : int, default 1
    device : torch.device, optional
        Defaults to the device of the model's parameters (CPU if it has none).

    Returns
    -------
    list of dict
        One dict per row with keys ``name`` (dotted module path), ``type`` (class name),
        ``output_shape`` (tuple, list of tuples, or None), ``params`` (int) and ``numel``
        (number of output values, for activation memory).

    Raises
    ------
    TypeError
        If ``model`` is not a module.
    ValueError
        If ``input_size`` is not a sequence of positive ints.

    Examples
    --------
    >>> rows = layer_table(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), (1, 8, 8))
    >>> [(r["name"], r["output_shape"], r["params"]) for r in rows]
    [('0', (1, 4, 6, 6), 40), ('1', (1, 4, 6, 6), 0)]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    input_size = _int_tuple(input_size, "input_size", 1)
    batch_size = integer("batch_size", batch_size, minimum=1)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")

    rows: list[dict] = []
    seen: set[str] = set()

    def make_hook(name: str, module: nn.Module):
        def hook(_module, _inputs, output):
            first_call = name not in seen
            seen.add(name)
            params = sum(p.numel() for p in module.parameters(recurse=False)) if first_call else 0
            rows.append(
                dict(
                    name=name if first_call else f"{name} (again)",
                    type=type(module).__name__,
                    output_shape=_shape_of(output),
                    params=params,
                    numel=_numel_of(output),
                )
            )

        return hook

    watched = {
        name: module
        for name, module in model.named_modules()
        if not any(True for _ in module.children())
        or any(True for _ in module.parameters(recurse=False))
    }
    handles = [m.register_forward_hook(make_hook(n, m)) for n, m in watched.items()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((batch_size, *input_size), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    for name, module in watched.items():  # never called in forward: still owns parameters
        if name not in seen:
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(
                dict(
                    name=name, type=type(module).__name__, output_shape=None, params=params, numel=0
                )
            )
    return rows


def summary(model: nn.Module, input_size: Sequence[int], batch_size: int = 1, device=None) -> str:
    """A printable table of the leaf layers: name, type, output shape, number of parameters.

    Built from :func:`layer_table`. The footer gives the total and trainable parameter counts
    and the memory the forward activations take in float32 (``4 * sum(numel)`` bytes, the
    quantity that grows by ``D`` from a 2D to a 3D network).

    Parameters
    ----------
    model, input_size, batch_size, device
        As in :func:`layer_table`.

    Returns
    -------
    str
        The table; ``print(summary(model, (3, 224, 224)))`` shows it.

    Raises
    ------
    TypeError, ValueError
        As :func:`layer_table`.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(144, 2))
    >>> print(summary(net, (1, 8, 8)))
    layer  type     output shape  params
    ------------------------------------
    0      Conv2d   (1, 4, 6, 6)      40
    1      Flatten  (1, 144)           0
    2      Linear   (1, 2)           290
    ------------------------------------
    Total params: 330
    Trainable params: 330
    Forward activations (float32, approx.): 0.00 MB
    """
    rows = layer_table(model, input_size, batch_size, device)
    cells = [
        (r["name"], r["type"], "-" if r["output_shape"] is None else str(r["output_shape"]))
        for r in rows
    ]
    header = ("layer", "type", "output shape", "params")
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(3)]
    widths.append(max(len(header[3]), *(len(f"{r['params']:,}") for r in rows)))
    line = "-" * (sum(widths) + 2 * 3)

    def fmt(a, b, c, d):
        return f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d:>{widths[3]}}"

    lines = [fmt(*header), line]
    lines += [fmt(*c, f"{r['params']:,}") for c, r in zip(cells, rows, strict=True)]
    megabytes = 4 * sum(r["numel"] for r in rows) / 2**20
    lines += [
        line,
        f"Total params: {count_parameters(model, trainable_only=False):,}",
        f"Trainable params: {count_parameters(model):,}",
        f"Forward activations (float32, approx.): {megabytes:.2f} MB",
    ]
    return "\n".join(lines)
