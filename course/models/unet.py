"""U-Net for 2D images and 3D volumes (Ronneberger et al., 2015; Cicek et al., 2016).

A U-Net is an encoder-decoder with *skip connections*. The encoder (contracting path) repeats
"two 3x3 convolutions, then 2x2 max pooling", doubling the number of channels and halving the
image at each level: it captures context. The decoder (expanding path) upsamples back, and at
each level concatenates the encoder's feature map of the same resolution (the skip connection),
so that the fine spatial detail lost by pooling is available to delineate boundaries. A final
1x1 convolution maps the features of every pixel to class logits.

>>> import torch
>>> net = UNet(in_channels=1, out_channels=2, depth=3, base_channels=8)
>>> net(torch.zeros(1, 1, 37, 45)).shape  # any size >= 2**depth: padded, then cropped back
torch.Size([1, 2, 37, 45])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course._validate import integer, number

__all__ = ["ConvBlock", "UNet"]

_NORMS = ("batch", "instance", None)
_UP_MODES = ("transpose", "bilinear")
_PAD_MODES = ("replicate", "zeros")


def _layers(dims: int) -> dict:
    """The 2D or 3D versions of the layers a U-Net needs."""
    if dims == 2:
        return dict(
            conv=nn.Conv2d,
            pool=nn.MaxPool2d,
            up=nn.ConvTranspose2d,
            batch=nn.BatchNorm2d,
            instance=nn.InstanceNorm2d,
            dropout=nn.Dropout2d,
            interp="bilinear",
        )
    return dict(
        conv=nn.Conv3d,
        pool=nn.MaxPool3d,
        up=nn.ConvTranspose3d,
        batch=nn.BatchNorm3d,
        instance=nn.InstanceNorm3d,
        dropout=nn.Dropout3d,
        interp="trilinear",
    )


class ConvBlock(nn.Sequential):
    """Two "3x3 convolution -> normalisation -> ReLU" layers (3x3x3 in 3D), then dropout.

    The convolutions use zero padding ``P = 1``, so the spatial size is unchanged. With
    ``k = 3**dims`` weights per filter and input channel, the block has

    .. math:: k C_{in} C_{out} + C_{out} + k C_{out}^2 + C_{out} \\;(+\\, 4 C_{out}
              \\text{ with a normalisation})

    parameters (every convolution has a bias; each normalisation has a scale and a shift per
    channel).

    Parameters
    ----------
    in_channels, out_channels : int
    dims : {2, 3}, default 2
    norm : {"batch", "instance", None}, default "batch"
        :class:`torch.nn.BatchNorm2d` (statistics of the batch) or
        :class:`torch.nn.InstanceNorm2d` (statistics of each image, with a learnable affine
        transform), or no normalisation.
    dropout : float, default 0.0
        Channel dropout probability (:class:`torch.nn.Dropout2d`) after the second ReLU; no
        dropout layer is created when 0.

    Examples
    --------
    >>> block = ConvBlock(1, 16)
    >>> sum(p.numel() for p in block.parameters())  # 9*1*16+16 + 9*16*16+16 + 4*16
    2544
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        dims: int = 2,
        norm: str | None = "batch",
        dropout: float = 0.0,
    ) -> None:
        layer = _layers(dims)
        modules: list[nn.Module] = []
        for c_in in (in_channels, out_channels):
            modules.append(layer["conv"](c_in, out_channels, kernel_size=3, padding=1))
            if norm == "batch":
                modules.append(layer["batch"](out_channels))
            elif norm == "instance":
                modules.append(layer["instance"](out_channels, affine=True))
            modules.append(nn.ReLU(inplace=True))
        if dropout > 0:
            modules.append(layer["dropout"](dropout))
        super().__init__(*modules)


class UNet(nn.Module):
    """The U-Net: encoder, bottleneck, decoder with skip connections, 1x1 output convolution.

    With ``b = base_channels`` and ``c_i = b 2^i``, for ``depth = 3`` (2D)::

        input (C_in, H, W)                                              output (C_out, H, W)
          |                                                                        ^
        encoder[0]  ConvBlock C_in -> c0 ---------- skip ---------> cat -> decoder[2]: 2c0 -> c0
          | maxpool 2x2  (H/2)                                       ^ up c1 -> c0 (H)
        encoder[1]  ConvBlock c0 -> c1 ------------ skip -----> cat -> decoder[1]: 2c1 -> c1
          | maxpool 2x2  (H/4)                                   ^ up c2 -> c1 (H/2)
        encoder[2]  ConvBlock c1 -> c2 ------------ skip --> cat -> decoder[0]: 2c2 -> c2
          | maxpool 2x2  (H/8)                               ^ up c3 -> c2 (H/4)
          +----------> bottleneck  ConvBlock c2 -> c3 -------+

    and a final 1x1 convolution ``c0 -> C_out`` gives one logit per class and pixel. Each
    "up" step doubles the size and halves the channels, either with a transposed convolution
    (kernel 2, stride 2) or with bilinear (trilinear in 3D) interpolation followed by a 1x1
    convolution.

    **Parameter count.** With ``k = 3**dims`` and ``n = 4`` if ``norm`` is set (else 0), a
    :class:`ConvBlock` ``a -> c`` has ``B(a, c) = k a c + k c^2 + (2 + n) c`` parameters, and

    .. math::

        \\#\\theta = B(C_{in}, c_0) + \\sum_{i=1}^{d} B(c_{i-1}, c_i)
                   + \\sum_{i=0}^{d-1} \\left[ U(c_{i+1}, c_i) + B(2 c_i, c_i) \\right]
                   + c_0 C_{out} + C_{out}

    with ``U(a, c) = 2^{dims} a c + c`` for a transposed convolution and ``U(a, c) = a c + c``
    for interpolation + 1x1 convolution. Most parameters sit in the deepest levels: the
    bottleneck alone has about ``1.5 k c_d^2`` (0.89 M of the 1.94 M of the default
    ``UNet(1, 1)``).

    **Any input size.** Each pooling halves the size, so the input must be divisible by
    ``2**depth``. Other sizes ``>= 2**depth`` are padded internally (symmetrically, up to the
    next multiple of ``2**depth``) and the output is cropped back: it always has the input's
    spatial size.

    Parameters
    ----------
    in_channels : int
        Channels of the input image (1 for CT/MRI, 3 for RGB).
    out_channels : int
        Number of output logits per pixel: 1 for binary segmentation (use a sigmoid), ``K`` for
        ``K`` classes (use a softmax over dim 1).
    depth : int, default 4
        Number of poolings (levels below the input resolution).
    base_channels : int, default 16
        Channels of the first level ``c_0``; level ``i`` has ``c_0 2^i``.
    dims : {2, 3}, default 2
        2D U-Net (``Conv2d``, inputs ``(N, C, H, W)``) or 3D U-Net (``Conv3d``, inputs
        ``(N, C, D, H, W)``).
    up_mode : {"transpose", "bilinear"}, default "transpose"
        Learned transposed convolution, or fixed interpolation (trilinear in 3D) + 1x1 conv.
    norm : {"batch", "instance", None}, default "batch"
    dropout : float, default 0.0
        Dropout probability in every :class:`ConvBlock` (useful for MC dropout).
    pad_mode : {"replicate", "zeros"}, default "replicate"
        How inputs whose size is not a multiple of ``2**depth`` are padded.

    Attributes
    ----------
    encoder : nn.ModuleList of ConvBlock, length ``depth``
    bottleneck : ConvBlock
    upsamplers : nn.ModuleList, length ``depth`` (deepest first)
    decoder : nn.ModuleList of ConvBlock, length ``depth`` (deepest first)
    head : the 1x1 output convolution

    Raises
    ------
    ValueError
        Bad arguments at construction; in ``forward``, an input with the wrong number of
        dimensions or channels, or smaller than ``2**depth`` along some axis.

    Examples
    --------
    >>> import torch
    >>> net = UNet(1, 1, depth=1, base_channels=4, norm=None)
    >>> sum(p.numel() for p in net.parameters())  # 188 + 880 + 132 + 440 + 5, see the tests
    1645
    >>> UNet(1, 3, dims=3, depth=2, base_channels=4)(torch.zeros(2, 1, 8, 12, 12)).shape
    torch.Size([2, 3, 8, 12, 12])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int = 4,
        base_channels: int = 16,
        dims: int = 2,
        up_mode: str = "transpose",
        norm: str | None = "batch",
        dropout: float = 0.0,
        pad_mode: str = "replicate",
    ) -> None:
        super().__init__()
        self.in_channels = integer("in_channels", in_channels, minimum=1)
        self.out_channels = integer("out_channels", out_channels, minimum=1)
        self.depth = integer("depth", depth, minimum=1)
        base = integer("base_channels", base_channels, minimum=1)
        if isinstance(dims, bool) or dims not in (2, 3):
            raise ValueError(f"dims must be 2 (images) or 3 (volumes), got {dims!r}")
        if up_mode == "trilinear":  # the 3D name of the same idea
            up_mode = "bilinear"
        if up_mode not in _UP_MODES:
            raise ValueError(f"up_mode must be 'transpose' or 'bilinear', got {up_mode!r}")
        if norm not in _NORMS:
            raise ValueError(f"norm must be 'batch', 'instance' or None, got {norm!r}")
        number("dropout", dropout, low=0, high=1, high_open=True)
        if pad_mode not in _PAD_MODES:
            raise ValueError(f"pad_mode must be 'replicate' or 'zeros', got {pad_mode!r}")
        self.dims, self.up_mode, self.pad_mode = dims, up_mode, pad_mode
        layer = _layers(dims)

        channels = [base * 2**i for i in range(self.depth + 1)]  # c_0 ... c_depth
        self.encoder = nn.ModuleList()
        c_prev = self.in_channels
        for c in channels[:-1]:
            self.encoder.append(ConvBlock(c_prev, c, dims, norm, dropout))
            c_prev = c
        self.pool = layer["pool"](kernel_size=2)
        self.bottleneck = ConvBlock(channels[-2], channels[-1], dims, norm, dropout)

        self.upsamplers = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for c_low, c in zip(channels[:0:-1], channels[-2::-1], strict=True):  # deepest first
            if up_mode == "transpose":
                up = layer["up"](c_low, c, kernel_size=2, stride=2)
            else:
                up = nn.Sequential(
                    nn.Upsample(scale_factor=2, mode=layer["interp"], align_corners=False),
                    layer["conv"](c_low, c, kernel_size=1),
                )
            self.upsamplers.append(up)
            self.decoder.append(ConvBlock(2 * c, c, dims, norm, dropout))  # 2c: after the concat
        self.head = layer["conv"](channels[0], self.out_channels, kernel_size=1)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        layout = "(N, C, H, W)" if self.dims == 2 else "(N, C, D, H, W)"
        if x.ndim != self.dims + 2:
            raise ValueError(
                f"x must have shape {layout} for a {self.dims}D U-Net, got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"x has {x.shape[1]} channels but the U-Net expects in_channels="
                f"{self.in_channels} (shape {tuple(x.shape)})"
            )
        minimum = 2**self.depth
        if min(x.shape[2:]) < minimum:
            raise ValueError(
                f"x's spatial size {tuple(x.shape[2:])} is too small for depth={self.depth}: "
                f"every side must be >= 2**depth = {minimum}"
            )

    def _pad(self, x: torch.Tensor) -> tuple[torch.Tensor, list[slice]]:
        """Pad every spatial axis up to a multiple of ``2**depth``; return the crop back."""
        multiple = 2**self.depth
        pads: list[int] = []  # F.pad wants (last-axis before, after, previous axis ...)
        crop = [slice(None), slice(None)]
        for size in x.shape[2:]:
            total = -size % multiple
            before = total // 2
            crop.append(slice(before, before + size))
            pads = [before, total - before] + pads
        if not any(pads):
            return x, crop
        mode = "replicate" if self.pad_mode == "replicate" else "constant"
        return F.pad(x, pads, mode=mode), crop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, out_channels, *spatial)`` for an input ``(N, in_channels, *spatial)``."""
        self._check_input(x)
        x, crop = self._pad(x)
        skips = []
        for block in self.encoder:
            x = block(x)
            skips.append(x)  # the skip connection: saved before pooling
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.upsamplers, self.decoder, reversed(skips), strict=True):
            x = up(x)
            x = block(torch.cat([skip, x], dim=1))
        return self.head(x)[tuple(crop)]
