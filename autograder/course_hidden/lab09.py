"""Hidden checks of lab09_attention (grader only): other inputs, independent references.

References: attention by :func:`torch.nn.functional.scaled_dot_product_attention` (output) and
:func:`torch.softmax` of the masked scores (weights), in float64; heads by ``Tensor.view`` and
``permute`` (what ``torch.nn.MultiheadAttention`` does inside); patch embedding by a
:class:`torch.nn.Conv2d` with ``kernel_size = stride = P``; ViT sizes by counting the
parameters of the same architecture assembled from PyTorch's own layers
(:class:`torch.nn.TransformerEncoderLayer` with ``norm_first=True``) on the meta device.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course.checks import as_array, as_int, assert_close, assert_shape, guard
from course.checks.lab09 import own_call

ATOL = 1e-9


# --- q1 --------------------------------------------------------------------------------------
def _keep_mask(rng, shape) -> np.ndarray:
    mask = rng.random(shape) < 0.5
    rows = mask.reshape(-1, shape[-1])
    rows[np.arange(len(rows)), rng.integers(shape[-1], size=len(rows))] = True  # >= 1 key
    return rows.reshape(shape)


def _attention_case(attention, q, k, v, mask=None) -> None:
    t = torch.from_numpy
    scores = t(q) @ t(k).transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~t(mask), -torch.inf)
    expected_weights = torch.softmax(scores, dim=-1).numpy()
    expected = F.scaled_dot_product_attention(
        t(q), t(k), t(v), attn_mask=None if mask is None else t(mask)
    ).numpy()
    given = [q.copy(), k.copy(), v.copy()]
    mask_text = "" if mask is None else f", mask {mask.shape}"
    what = f"scaled_dot_product_attention(q {q.shape}, k {k.shape}, v {v.shape}{mask_text})"
    result = own_call(attention, (*given, None if mask is None else mask.copy()), what,
                      part="q1", name="scaled_dot_product_attention")  # fmt: skip
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"{what} should return (output, weights)")
    output = as_array(result[0], f"the output of {what}", shape=expected.shape)
    weights = as_array(result[1], f"the weights of {what}", shape=expected_weights.shape)
    assert_close(weights, expected_weights, f"the weights of {what}", rtol=1e-7, atol=ATOL)
    assert_close(output, expected, f"the output of {what}", rtol=1e-7, atol=ATOL)
    for array, original, name in zip(given, (q, k, v), "qkv", strict=True):
        assert_close(array, original, f"{name} after {what} (it must not be modified)")


def q1_scaled_dot_product_attention(scaled_dot_product_attention) -> None:
    guard()
    rng = np.random.default_rng(1009)
    for lead, L, S, d_k, d_v in [
        ((), 1, 1, 1, 1),
        ((), 3, 9, 2, 5),
        ((), 7, 2, 6, 1),
        ((3,), 4, 4, 8, 8),
        ((2, 4), 5, 3, 4, 2),
        ((1, 1, 2), 2, 6, 3, 3),
    ]:
        q = rng.normal(size=(*lead, L, d_k))
        k, v = rng.normal(size=(*lead, S, d_k)), rng.normal(size=(*lead, S, d_v))
        _attention_case(scaled_dot_product_attention, q, k, v)
        _attention_case(scaled_dot_product_attention, q, k, v, _keep_mask(rng, (L, S)))
        _attention_case(scaled_dot_product_attention, q, k, v, _keep_mask(rng, (*lead, L, S)))
    q, k, v = 300 * rng.normal(size=(4, 6)), 300 * rng.normal(size=(5, 6)), rng.normal(size=(5, 2))
    _attention_case(scaled_dot_product_attention, q, k, v)  # scores of thousands: a stable softmax
    q = rng.normal(size=(6, 4))  # self-attention with a causal mask
    _attention_case(scaled_dot_product_attention, q, q, q, np.tril(np.ones((6, 6), dtype=bool)))


# --- q2 --------------------------------------------------------------------------------------
def q2_split_heads(split_heads, merge_heads) -> None:
    guard()
    rng = np.random.default_rng(1002)
    for N, L, h, d in [(1, 1, 1, 1), (2, 7, 1, 5), (1, 3, 6, 1), (4, 2, 3, 2), (2, 9, 8, 4)]:
        x = rng.normal(size=(N, L, h * d))
        given = x.copy()
        what = f"split_heads(x of shape {x.shape}, {h})"
        got = as_array(own_call(split_heads, (given, h), what, part="q2", name="split_heads"),
                       what)  # fmt: skip
        expected = torch.from_numpy(x).view(N, L, h, d).permute(0, 2, 1, 3).numpy()
        assert_shape(got, expected.shape, what)
        assert_close(got, expected, what, atol=0.0, rtol=0.0)
        assert_close(given, x, f"x after {what} (it must not be modified)")
        heads = rng.normal(size=(N, h, L, d))
        what = f"merge_heads(x of shape {heads.shape})"
        merged = as_array(own_call(merge_heads, (heads.copy(),), what, part="q2",
                                   name="merge_heads"), what)  # fmt: skip
        expected = torch.from_numpy(heads).permute(0, 2, 1, 3).reshape(N, L, h * d).numpy()
        assert_shape(merged, expected.shape, what)
        assert_close(merged, expected, what, atol=0.0, rtol=0.0)


# --- q3 --------------------------------------------------------------------------------------
def q3_patch_embedding(patch_embedding) -> None:
    guard()
    rng = np.random.default_rng(1003)
    for N, C, (H, W), P, E in [
        (1, 1, (2, 2), 2, 1),  # one patch
        (1, 1, (3, 6), 3, 2),
        (2, 3, (8, 8), 2, 7),
        (1, 2, (10, 5), 5, 3),
        (3, 1, (6, 6), 1, 4),  # 1x1 patches: every pixel is a token
        (1, 4, (12, 16), 4, 8),
    ]:
        images = rng.normal(size=(N, C, H, W))
        conv = nn.Conv2d(C, E, kernel_size=P, stride=P, dtype=torch.float64)
        weight, bias = conv.weight.detach().numpy().copy(), conv.bias.detach().numpy().copy()
        with torch.no_grad():
            expected = conv(torch.from_numpy(images)).flatten(2).transpose(1, 2).numpy()
        given = images.copy()
        what = f"patch_embedding(images {images.shape}, weight {weight.shape}, bias {bias.shape})"
        got = as_array(own_call(patch_embedding, (given, weight.copy(), bias.copy()), what,
                                part="q3", name="patch_embedding"), what)  # fmt: skip
        assert_shape(got, expected.shape, what + " (N, L, E)")
        assert_close(got, expected, what, atol=ATOL, rtol=1e-7)
        assert_close(given, images, f"the images after {what} (they must not be modified)")


# --- q4 --------------------------------------------------------------------------------------
def _reference_count(image_size, patch_size, in_channels, num_classes, dim, depth, heads,
                     mlp_dim) -> int:  # fmt: skip
    """The ViT assembled from PyTorch's layers (meta device: no memory), parameters counted."""
    with torch.device("meta"):
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, activation="gelu",
                                           batch_first=True, norm_first=True)  # fmt: skip
        parts = [
            nn.Conv2d(in_channels, dim, patch_size, stride=patch_size),
            nn.TransformerEncoder(layer, depth, enable_nested_tensor=False),
            nn.LayerNorm(dim),
            nn.Linear(dim, num_classes),
        ]
    tokens = (image_size // patch_size) ** 2 + 1  # the patches and the class token
    learned = dim + tokens * dim  # the class token and the position embedding
    return learned + sum(p.numel() for part in parts for p in part.parameters())


def q4_vit_parameter_count(vit_parameter_count) -> None:
    guard()
    for case in [
        (32, 8, 1, 2, 32, 2, 4, 64),
        (28, 7, 1, 10, 12, 1, 3, 7),
        (16, 16, 3, 1, 8, 4, 2, 16),  # one patch
        (48, 4, 2, 5, 20, 3, 5, 80),
        (224, 16, 3, 1000, 384, 12, 6, 1536),  # ViT-Small/16
        (224, 14, 3, 1000, 1280, 32, 16, 5120),  # ViT-Huge/14
        (8, 1, 4, 3, 6, 2, 1, 1),  # 1x1 patches, an MLP of one unit
    ]:
        what = f"vit_parameter_count{case}"
        got = as_int(own_call(vit_parameter_count, case, what, part="q4",
                              name="vit_parameter_count"), what)  # fmt: skip
        expected = _reference_count(*case)
        if got != expected:
            raise AssertionError(f"{what} should be {expected}, got {got}")
