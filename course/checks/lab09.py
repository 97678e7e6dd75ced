"""Visible checks of lab09_attention: attention, multi-head reshape, patch embedding, ViT size.

Each function takes the student's answer (a function) and calls it on small teaching examples
(lecture 12's two-key example, a causal mask, a 2x2 grid of patches, the ViT of the lecture and
ViT-Base), comparing with :func:`torch.nn.functional.scaled_dot_product_attention`, a
:class:`torch.nn.Conv2d` and the course's :class:`~course.models.VisionTransformer`. A wrong
answer raises :class:`AssertionError` with a message that names the input, the expected result
and what came out.

Besides the library functions of :data:`OWN_WORK` (refused by :func:`forbid`), the PyTorch
functions that do a part's work are refused while the student's function runs (they are
written in C, so they are watched with a :class:`torch.overrides.TorchFunctionMode` instead):
:data:`TORCH_WORK`.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from course.checks._common import as_array, as_int, assert_close, assert_shape, call, guard
from course.checks._feedback import reporting
from course.checks._own_work import OwnWorkError, forbid
from course.models import VisionTransformer, count_parameters

# What this lab asks students to write themselves: in a notebook, these library functions
# refuse calls from the student's code (course.checks._own_work); the rest of the library is
# allowed. Each maps to the part that asks for it.
OWN_WORK = {
    "course.attention.scaled_dot_product_attention": "q1",
    "course.attention.softmax": "q1",
    "course.attention.multi_head_attention": "q1",
    "scipy.special.softmax": "q1",
    "course.attention.split_heads": "q2",
    "course.attention.merge_heads": "q2",
    "course.attention.patchify": "q3",
    "course.models.vit.vit_parameter_count": "q4",
    "course.models.cnn.count_parameters": "q4",
}
forbid(OWN_WORK)

# PyTorch functions (C functions: forbid() cannot redirect them) that may not run inside the
# answer of a part; None means no torch function at all (q4 asks for a formula, not a model).
TORCH_WORK = {
    "q1": {
        F.scaled_dot_product_attention: "torch.nn.functional.scaled_dot_product_attention",
        F.multi_head_attention_forward: "torch.nn.MultiheadAttention",
    },
    "q3": {F.conv2d: "torch.nn.functional.conv2d (a Conv2d layer)"},
    "q4": None,
}

# The points of each part, as in the lab's notebook (tests/test_own_work.py keeps them equal).
POINTS = {"q1": 2.5, "q2": 1.5, "q3": 2, "q4": 2}

__all__ = [
    "q1_scaled_dot_product_attention",
    "q2_split_heads",
    "q3_patch_embedding",
    "q4_vit_parameter_count",
]

ATOL = 1e-9


# --- calling the student's function ----------------------------------------------------------
class _TorchWatch(TorchFunctionMode):
    """Remembers the watched torch functions called while it is active (all, with None)."""

    def __init__(self, watched: dict | None) -> None:
        super().__init__()
        self.watched = watched
        self.seen: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.watched is None:
            name = "torch." + getattr(func, "__name__", type(func).__name__)
        else:
            name = self.watched.get(func)
        if name and name not in self.seen:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def own_call(function, args: tuple, what: str, *, part: str, name: str):
    """:func:`course.checks.call`, refusing the torch functions of ``TORCH_WORK[part]``.

    An answer that calls one of them (even if it catches an error afterwards) fails its part
    with :class:`~course.checks._own_work.OwnWorkError`, like a forbidden library function.
    """
    watch = _TorchWatch(TORCH_WORK.get(part, {}))
    try:
        with watch:
            result = call(function, args, what)
    except OwnWorkError:
        raise
    except (AssertionError, NotImplementedError):
        if not watch.seen:
            raise
    if watch.seen:
        used = watch.seen[0]
        if TORCH_WORK.get(part, {}) is None:
            message = (f"{part}: your `{name}` runs PyTorch ({used}): the part asks for the "
                       "formula with plain integers, without building a model")  # fmt: skip
        else:
            message = f"{part}: your `{name}` calls `{used}`; the lab asks you to write it yourself"
        raise OwnWorkError(message, part=part, function=used)
    return result


def _pair(result, what: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(
            f"{what} should return two arrays, (output, weights); got {type(result).__name__}"
        )
    return tuple(result)


# --- q1 --------------------------------------------------------------------------------------
def _reference(q, k, v, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Output by PyTorch's scaled_dot_product_attention, weights by torch.softmax (float64)."""
    t = torch.from_numpy
    scores = t(q) @ t(k).transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~t(mask), -torch.inf)
    output = F.scaled_dot_product_attention(
        t(q), t(k), t(v), attn_mask=None if mask is None else t(mask)
    )
    return output.numpy(), torch.softmax(scores, dim=-1).numpy()


def _weights_hint(got: np.ndarray, q, k, mask) -> str:
    """What a typical mistake in the attention weights looks like, or ''."""
    if mask is not None:
        keep = np.broadcast_to(mask, got.shape)
        if np.allclose(got[keep], 0.0) and not keep.all():
            return " (True in the mask means the query MAY attend to the key, not the opposite)"
        if not np.allclose(got[~keep], 0.0):
            return " (a masked key must get weight 0: set its score to -inf before the softmax)"
    if not np.allclose(got.sum(axis=-1), 1.0):
        return " (each row must sum to 1: take the softmax over the keys, the last axis)"
    scores = q @ np.swapaxes(k, -1, -2)
    for scale, hint in [(1.0, "divide the scores by sqrt(d_k)"),
                        (q.shape[-1], "divide by sqrt(d_k), not by d_k")]:  # fmt: skip
        scaled = scores / scale
        e = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        if mask is None and np.allclose(got, e / e.sum(axis=-1, keepdims=True)):
            return f" ({hint})"
    return ""


def _check_attention(attention, q, k, v, mask=None, hint="") -> None:
    mask_text = "" if mask is None else f", mask {mask.shape}"
    what = f"scaled_dot_product_attention(q {q.shape}, k {k.shape}, v {v.shape}{mask_text})"
    args = (q.copy(), k.copy(), v.copy(), None if mask is None else mask.copy())
    result = own_call(attention, args, what, part="q1", name="scaled_dot_product_attention")
    output, weights = _pair(result, what)
    expected_output, expected_weights = _reference(q, k, v, mask)
    weights = as_array(weights, f"the weights of {what}")
    if weights.shape == expected_weights.shape[:-2] + expected_weights.shape[-1:-3:-1]:
        if weights.shape[-1] != weights.shape[-2]:
            raise AssertionError(
                f"the weights of {what} should have shape {expected_weights.shape} = (..., L, "
                f"S), one row per query; got {weights.shape}: compute q @ k^T, not k @ q^T"
            )
    assert_shape(weights, expected_weights.shape, f"the weights of {what} (..., L, S){hint}")
    if not np.all(np.isfinite(weights)):
        raise AssertionError(
            f"the weights of {what} hold NaN or inf: subtract the largest score of each row "
            f"before np.exp (exp(1000) overflows){hint}"
        )
    if not np.allclose(weights, expected_weights, rtol=1e-7, atol=1e-10):
        hint = _weights_hint(weights, q, k, mask) + hint
    assert_close(weights, expected_weights, f"the weights of {what}{hint}", rtol=1e-7, atol=ATOL)
    output = as_array(output, f"the output of {what}", shape=expected_output.shape)
    assert_close(output, expected_output, f"the output of {what} (weights @ v){hint}",
                 rtol=1e-7, atol=ATOL)  # fmt: skip


def q1_scaled_dot_product_attention(scaled_dot_product_attention) -> None:
    """Check ``scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)``."""
    guard()
    # the lecture's example: with d_k = 1 the scores are [0, ln 3]: weights 1/4 and 3/4
    q, k, v = np.array([[1.0]]), np.array([[0.0], [math.log(3.0)]]), np.array([[0.0], [4.0]])
    _check_attention(scaled_dot_product_attention, q, k, v, hint=" (lecture 12's example)")
    rng = np.random.default_rng(9)
    q, k, v = rng.normal(size=(4, 8)), rng.normal(size=(6, 8)), rng.normal(size=(6, 3))
    _check_attention(scaled_dot_product_attention, q, k, v, hint=" (L=4 queries, S=6 keys)")
    _check_attention(scaled_dot_product_attention, 60 * q, 60 * k, v,
                     hint=" (large scores: a stable softmax subtracts the row max)")  # fmt: skip
    causal = np.tril(np.ones((4, 6), dtype=bool))
    _check_attention(scaled_dot_product_attention, q, k, v, causal,
                     hint=" (a causal mask: True where the query may attend)")  # fmt: skip
    q, k, v = (rng.normal(size=(2, 3, n, 4)) for n in (5, 7, 7))
    _check_attention(scaled_dot_product_attention, q, k, v,
                     hint=" (batch and head axes in front: use np.swapaxes(k, -1, -2), "
                     "not k.T)")  # fmt: skip


# --- q2 --------------------------------------------------------------------------------------
def q2_split_heads(split_heads, merge_heads) -> None:
    """Check ``split_heads(x, num_heads)`` ``(N, L, E) -> (N, h, L, E/h)`` and its inverse
    ``merge_heads(x)``.
    """
    guard()
    x = np.arange(16.0).reshape(1, 2, 8)  # 2 tokens of 8 features
    what = "split_heads(np.arange(16.0).reshape(1, 2, 8), 2)"
    got = as_array(own_call(split_heads, (x.copy(), 2), what, part="q2", name="split_heads"), what)
    expected = np.array([[[[0, 1, 2, 3], [8, 9, 10, 11]], [[4, 5, 6, 7], [12, 13, 14, 15]]]])
    if got.shape == (1, 2, 2, 4) and np.array_equal(got, x.reshape(1, 2, 2, 4)):
        raise AssertionError(
            f"{what}: a plain reshape to (N, h, L, d) mixes tokens and heads. Reshape to "
            "(N, L, h, d) first, then move the head axis in front of the tokens "
            "(transpose(0, 2, 1, 3))"
        )
    assert_shape(got, (1, 2, 2, 4), what + " (N, h, L, E/h)")
    if np.array_equal(got, x.reshape(1, 2, 4, 2).transpose(0, 3, 1, 2)):
        raise AssertionError(
            f"{what}: head 0 should hold the consecutive features 0-3 of each token, head 1 "
            "features 4-7 (as torch.nn.MultiheadAttention cuts them); yours interleaves them"
        )
    assert_close(got, expected, what + " (head 0: features 0-3, head 1: features 4-7)")

    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5, 12))
    for h in (1, 3, 4):
        what = f"split_heads(x of shape (3, 5, 12), {h})"
        got = as_array(own_call(split_heads, (x.copy(), h), what, part="q2", name="split_heads"),
                       what, shape=(3, h, 5, 12 // h))  # fmt: skip
        reference = torch.from_numpy(x).view(3, 5, h, 12 // h).permute(0, 2, 1, 3).numpy()
        assert_close(got, reference, what, atol=0.0, rtol=0.0)
        what = f"merge_heads(split_heads(x, {h})) with x of shape (3, 5, 12)"
        merged = as_array(
            own_call(merge_heads, (reference.copy(),), what, part="q2", name="merge_heads"),
            what,
        )
        assert_shape(merged, x.shape, what + " (N, L, h * d)")
        assert_close(merged, x, what + " (merge_heads must undo split_heads)", atol=0.0, rtol=0.0)


# --- q3 --------------------------------------------------------------------------------------
def _conv_tokens(images, weight, bias) -> np.ndarray:
    """The reference: a Conv2d with kernel_size = stride = P, flattened to (N, L, E)."""
    P = weight.shape[-2:]
    t = torch.from_numpy
    return F.conv2d(t(images), t(weight), t(bias), stride=P).flatten(2).transpose(1, 2).numpy()


def _check_patches(patch_embedding, images, weight, bias, hint="") -> None:
    what = f"patch_embedding(images {images.shape}, weight {weight.shape}, bias {bias.shape})"
    args = (images.copy(), weight.copy(), bias.copy())
    result = own_call(patch_embedding, args, what, part="q3", name="patch_embedding")
    got = as_array(result, what)
    expected = _conv_tokens(images, weight, bias)
    N, L, E = expected.shape
    transposed = got.shape == (N, E, L) and np.allclose(np.swapaxes(got, 1, 2), expected)
    if transposed or (got.shape == (N, E, L) and L != E):
        raise AssertionError(f"{what} should have shape (N, L, E) = {expected.shape}: one row "
                             f"per patch (token); got (N, E, L) = {got.shape}")  # fmt: skip
    assert_shape(got, expected.shape, f"{what} (N, L, E){hint}")
    if np.any(bias != 0) and np.allclose(got + bias, expected):
        raise AssertionError(
            f"{what}: the bias is missing: add bias[e] to feature e of every token"
        )
    assert_close(got, expected, what + hint, atol=ATOL, rtol=1e-7)


def q3_patch_embedding(patch_embedding) -> None:
    """Check ``patch_embedding(images, weight, bias)`` against a Conv2d(kernel = stride = P)."""
    guard()
    rng = np.random.default_rng(3)
    images = np.arange(8.0).reshape(1, 1, 2, 4)  # two 2x2 patches: [0, 1, 4, 5], [2, 3, 6, 7]
    weight = np.zeros((4, 1, 2, 2))
    for i, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        weight[i, 0, r, c] = 1.0  # feature i copies pixel (r, c) of each patch
    _check_patches(patch_embedding, images, weight, np.zeros(4),
                   hint=" (weights that copy the 4 pixels of each 2x2 patch: the tokens are "
                   "[0, 1, 4, 5] and [2, 3, 6, 7], each patch flattened row by row)")  # fmt: skip
    _check_patches(patch_embedding, rng.normal(size=(2, 1, 8, 8)), rng.normal(size=(5, 1, 4, 4)),
                   rng.normal(size=5), hint=" (a 2x2 grid of 4x4 patches)")  # fmt: skip
    _check_patches(patch_embedding, rng.normal(size=(1, 3, 8, 12)),
                   rng.normal(size=(6, 3, 4, 4)), rng.normal(size=6),
                   hint=" (3 channels: flatten each patch channel first, then rows, then "
                   "columns, the order of weight.reshape(E, -1))")  # fmt: skip


# --- q4 --------------------------------------------------------------------------------------
_ARGS = ("image_size", "patch_size", "in_channels", "num_classes", "dim", "depth", "heads",
         "mlp_dim")  # fmt: skip


def _terms(image_size, patch_size, in_channels, num_classes, dim, depth, heads, mlp_dim) -> dict:
    """The parts of the count, named as a hint names them (heads add nothing)."""
    L, E, M = (image_size // patch_size) ** 2, dim, mlp_dim
    return {
        "the patch embedding's weights and bias, (C P^2 + 1) E": (in_channels * patch_size**2 + 1)
        * E,
        "the class token (E numbers) or its row of the position embedding (E more)": E,
        "the position embedding, one row per patch AND one for the class token": (L + 1) * E,
        "the two LayerNorms of each block (weight and bias: 2E each)": depth * 4 * E,
        "the attention's projections, 4E^2 + 4E per block": depth * (4 * E * E + 4 * E),
        "the MLP, 2EM + M + E per block": depth * (2 * E * M + M + E),
        "the final LayerNorm, 2E": 2 * E,
        "the head, (E + 1) K": (E + 1) * num_classes,
    }


def _check_count(vit_parameter_count, case: dict, why: str) -> None:
    text = ", ".join(f"{k}={v}" for k, v in case.items())
    what = f"vit_parameter_count({text})"
    got = as_int(own_call(vit_parameter_count, tuple(case.values()), what, part="q4",
                          name="vit_parameter_count"), what)  # fmt: skip
    expected = count_parameters(VisionTransformer(**case))
    if got == expected:
        return
    missing = [name for name, value in _terms(**case).items() if expected - got == value]
    hint = f"; it looks like {missing[0]} is missing" if missing else ""
    if case["heads"] > 1 and got == expected * case["heads"]:
        hint = "; heads split the features into groups, they add no weights"
    raise AssertionError(f"{what} should be {expected} ({why}); got {got}{hint}")


def q4_vit_parameter_count(vit_parameter_count) -> None:
    """Check ``vit_parameter_count(image_size, patch_size, in_channels, num_classes, dim,
    depth, heads, mlp_dim)`` against models built with the course's ViT.
    """
    guard()
    lecture = dict(zip(_ARGS, (32, 4, 1, 2, 16, 2, 2, 32), strict=True))
    _check_count(vit_parameter_count, lecture, "the tiny ViT of lecture 12")
    for heads in (1, 4, 8):  # heads split E: the count does not change
        _check_count(vit_parameter_count, {**lecture, "heads": heads},
                     f"the same ViT with {heads} heads: heads split the features, they add no "
                     "weights")  # fmt: skip
    rgb = dict(zip(_ARGS, (32, 8, 3, 10, 24, 3, 3, 48), strict=True))
    _check_count(vit_parameter_count, rgb, "3 channels, 10 classes, 3 blocks")
    base = dict(zip(_ARGS, (224, 16, 3, 1000, 768, 12, 12, 3072), strict=True))
    what = "vit_parameter_count(224, 16, 3, 1000, 768, 12, 12, 3072) (ViT-Base/16)"
    got = as_int(own_call(vit_parameter_count, tuple(base.values()), what, part="q4",
                          name="vit_parameter_count"), what)  # fmt: skip
    if got != 86_567_656:
        raise AssertionError(f"{what} should be 86567656 (86.6 million, Dosovitskiy et al. 2021); "
                             f"got {got}")  # fmt: skip


reporting(sys.modules[__name__])  # a check that passes says so, with its points
