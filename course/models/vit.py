"""A tiny Vision Transformer (ViT) in PyTorch, and its parameter count by formula.

The ViT of Dosovitskiy et al. (2021) reads an image as a sentence of patches:

1. **patch embedding**: the ``H x W`` image is cut into ``L = (H / P)(W / P)`` patches of
   ``P x P`` pixels, and each patch is mapped linearly to ``E`` features. A ``Conv2d`` with
   ``kernel_size = stride = P`` does exactly this (:func:`course.attention.patchify` is the
   same in NumPy); the output ``(N, E, H/P, W/P)`` is flattened to tokens ``(N, L, E)``;
2. a learned **class token** is put in front of the patch tokens (``L + 1`` tokens), and a
   learned **position embedding** ``(L + 1, E)`` is added, since attention itself ignores
   the order of the tokens;
3. ``depth`` **Transformer encoder blocks**, each in the *pre-norm* form of ViT:

   .. math::

       x \\leftarrow x + \\mathrm{MHA}(\\mathrm{LN}(x)), \\qquad
       x \\leftarrow x + \\mathrm{MLP}(\\mathrm{LN}(x)),

   with multi-head self-attention (``torch.nn.MultiheadAttention``) and an MLP
   ``Linear(E, M) -> GELU -> Linear(M, E)``;
4. a final LayerNorm and a linear **head** on the class token gives the logits.

:func:`vit_parameter_count` counts the parameters of this model from its hyper-parameters:

.. math::

    \\#\\theta = \\underbrace{(C P^2 + 1) E}_{\\text{patches}}
    + \\underbrace{E}_{\\text{class}} + \\underbrace{(L + 1) E}_{\\text{positions}}
    + D\\,\\underbrace{(4E^2 + 2EM + 9E + M)}_{\\text{one block}}
    + \\underbrace{2E}_{\\text{final LN}} + \\underbrace{(E + 1) K}_{\\text{head}}

where one block has two LayerNorms (``2E`` each), the attention's input projection
``3E^2 + 3E`` and output projection ``E^2 + E``, and the MLP ``EM + M + ME + E``. The number of
heads does not appear: heads split the ``E`` features, they do not add weights.

References: Dosovitskiy et al. (2021), *An image is worth 16x16 words: Transformers for image
recognition at scale*, ICLR; Vaswani et al. (2017), *Attention is all you need*, NeurIPS;
Xiong et al. (2020), *On layer normalization in the Transformer architecture*, ICML (pre-norm).
"""

from __future__ import annotations

import torch
from torch import nn

from course._validate import integer, number, pair

__all__ = ["PatchEmbedding", "TransformerBlock", "VisionTransformer", "vit_parameter_count"]


def _grid(image_size, patch_size) -> tuple[tuple[int, int], tuple[int, int], int]:
    """Checked ``(H, W)``, ``(P_h, P_w)`` and the number of patches ``L``."""
    H, W = pair("image_size", image_size, minimum=1)
    P_h, P_w = pair("patch_size", patch_size, minimum=1)
    if H % P_h or W % P_w:
        raise ValueError(
            f"patch_size must divide image_size: got patch_size {patch_size!r} for "
            f"image_size {image_size!r}"
        )
    return (H, W), (P_h, P_w), (H // P_h) * (W // P_w)


def _check_heads(dim: int, heads) -> int:
    heads = integer("heads", heads, minimum=1)
    if dim % heads:
        raise ValueError(f"heads must divide dim={dim}, got {heads}")
    return heads


class PatchEmbedding(nn.Module):
    """Patches to tokens: ``(N, C, H, W) -> (N, L, E)`` with one ``Conv2d(P, stride=P)``.

    Parameters
    ----------
    in_channels : int
    dim : int
        ``E``, the features per token.
    patch_size : int or (int, int)

    Examples
    --------
    >>> embed = PatchEmbedding(1, 16, 8)
    >>> tuple(embed(torch.zeros(2, 1, 32, 32)).shape)  # 4 x 4 = 16 patches
    (2, 16, 16)
    """

    def __init__(self, in_channels: int, dim: int, patch_size) -> None:
        super().__init__()
        patch = pair("patch_size", patch_size, minimum=1)
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (N, E, H/P, W/P) -> (N, L, E)


class TransformerBlock(nn.Module):
    """One pre-norm encoder block: ``x + MHA(LN(x))``, then ``x + MLP(LN(x))``.

    Parameters
    ----------
    dim : int
        ``E``.
    heads : int
        Attention heads; they must divide ``dim``.
    mlp_dim : int
        ``M``, the hidden size of the MLP (ViT uses ``4 E``).
    dropout : float, default 0.0

    Examples
    --------
    >>> block = TransformerBlock(16, 2, 32)
    >>> tuple(block(torch.zeros(3, 5, 16)).shape)
    (3, 5, 16)
    """

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        """``(N, L, E) -> (N, L, E)``; with ``need_weights`` also the ``(N, h, L, L)`` weights."""
        y = self.norm1(x)
        attended, weights = self.attn(
            y, y, y, need_weights=need_weights, average_attn_weights=False
        )
        x = x + attended
        x = x + self.mlp(self.norm2(x))
        return (x, weights) if need_weights else x


class VisionTransformer(nn.Module):
    """A ViT classifier: patch embedding, class token, learned positions, encoder, head.

    Parameters
    ----------
    image_size : int or (int, int), default 32
        ``H`` (or ``(H, W)``) of the inputs, fixed (the position embedding has one entry per
        patch).
    patch_size : int or (int, int), default 8
        ``P``; it must divide the image size.
    in_channels : int, default 1
    num_classes : int, default 2
    dim : int, default 32
        ``E``, the features per token.
    depth : int, default 2
        Number of encoder blocks ``D``.
    heads : int, default 4
        Attention heads per block; they must divide ``dim``.
    mlp_dim : int, default 64
        ``M``, the MLP's hidden size.
    dropout : float, default 0.0

    Raises
    ------
    TypeError, ValueError
        Bad hyper-parameters at construction; in ``forward``, an input that is not
        ``(N, in_channels, H, W)`` of the size the model was built for.

    Examples
    --------
    >>> from course.models import count_parameters
    >>> model = VisionTransformer(image_size=32, patch_size=8, dim=32, depth=2, heads=4)
    >>> tuple(model(torch.zeros(5, 1, 32, 32)).shape)
    (5, 2)
    >>> count_parameters(model) == vit_parameter_count(32, 8, dim=32, depth=2, heads=4)
    True
    """

    def __init__(
        self,
        image_size=32,
        patch_size=8,
        in_channels: int = 1,
        num_classes: int = 2,
        dim: int = 32,
        depth: int = 2,
        heads: int = 4,
        mlp_dim: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.image_size, patch, L = _grid(image_size, patch_size)
        self.in_channels = integer("in_channels", in_channels, minimum=1)
        dim = integer("dim", dim, minimum=1)
        heads = _check_heads(dim, heads)
        dropout = number("dropout", dropout, low=0, high=1, high_open=True)
        self.patch_embed = PatchEmbedding(self.in_channels, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, L + 1, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)  # as in ViT
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, heads, integer("mlp_dim", mlp_dim, minimum=1), dropout)
            for _ in range(integer("depth", depth, minimum=1))
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, integer("num_classes", num_classes, minimum=1))

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Checked images ``(N, C, H, W)`` to the ``(N, L + 1, E)`` input of the encoder."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.image_size:
            raise ValueError(
                f"x must have shape (N, {self.in_channels}, {self.image_size[0]}, "
                f"{self.image_size[1]}), got {tuple(x.shape)}"
            )
        tokens = self.patch_embed(x)  # (N, L, E)
        cls = self.cls_token.expand(len(x), -1, -1)  # (N, 1, E)
        return self.dropout(torch.cat([cls, tokens], dim=1) + self.pos_embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)`` -> logits ``(N, num_classes)``."""
        z = self._tokens(x)
        for block in self.blocks:
            z = block(z)
        return self.head(self.norm(z[:, 0]))  # the class token sums up the image

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every block for images ``x``, without gradients.

        Returns
        -------
        list of torch.Tensor
            One ``(N, heads, L + 1, L + 1)`` tensor per block; token 0 is the class token, so
            ``maps[-1][:, :, 0, 1:]`` is how much the class token looks at each patch.
        """
        z, maps = self._tokens(x), []
        for block in self.blocks:
            z, weights = block(z, need_weights=True)
            maps.append(weights)
        return maps


def vit_parameter_count(
    image_size,
    patch_size,
    in_channels: int = 1,
    num_classes: int = 2,
    dim: int = 32,
    depth: int = 2,
    heads: int = 4,
    mlp_dim: int = 64,
) -> int:
    """The number of parameters of :class:`VisionTransformer` with these hyper-parameters.

    .. math::

        (C P_h P_w + 1) E + E + (L + 1) E + D (4E^2 + 2EM + 9E + M) + 2E + (E + 1) K

    (see the module's docstring for where each term comes from). ``heads`` is checked (it must
    divide ``dim``) but does not change the count.

    Parameters
    ----------
    image_size, patch_size : int or (int, int)
    in_channels, num_classes, dim, depth, heads, mlp_dim : int
        As in :class:`VisionTransformer`.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If a hyper-parameter is not an int (or a pair for the sizes).
    ValueError
        If one is smaller than 1, the patch size does not divide the image size or ``heads``
        does not divide ``dim``.

    Examples
    --------
    ViT-Base/16 (Dosovitskiy et al., 2021) on 224x224 RGB images with 1000 classes has the
    well-known 86.6 million parameters:

    >>> vit_parameter_count(224, 16, 3, 1000, dim=768, depth=12, heads=12, mlp_dim=3072)
    86567656
    """
    _, (P_h, P_w), L = _grid(image_size, patch_size)
    C = integer("in_channels", in_channels, minimum=1)
    K = integer("num_classes", num_classes, minimum=1)
    E = integer("dim", dim, minimum=1)
    D = integer("depth", depth, minimum=1)
    M = integer("mlp_dim", mlp_dim, minimum=1)
    _check_heads(E, heads)
    patches = (C * P_h * P_w + 1) * E
    tokens = E + (L + 1) * E  # class token and position embedding
    block = 2 * E + (3 * E * E + 3 * E) + (E * E + E) + 2 * E + (E * M + M + M * E + E)
    return patches + tokens + D * block + 2 * E + (E + 1) * K
