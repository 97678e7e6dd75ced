"""The visible and hidden checks of lab09 accept correct answers, reject typical mistakes and
refuse answers that hand the work to PyTorch's attention, convolution or a built model.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cheats import always_equal, always_equal_pair, hidden_checks

from course import attention as att
from course.checks import lab09 as visible
from course.checks._own_work import OwnWorkError
from course.models import VisionTransformer, count_parameters, vit_parameter_count

hidden = hidden_checks("lab09")

MODULES = [pytest.param(visible, id="visible"), pytest.param(hidden, id="hidden")]


# --- correct answers: the library, and independent implementations -------------------------
def attention_loops(q, k, v, mask=None):
    """Row by row, with a hand-written stable softmax."""
    lead = q.shape[:-2]
    q, k, v = (
        np.broadcast_to(a, lead + a.shape[-2:]).reshape(-1, *a.shape[-2:]) for a in (q, k, v)
    )
    keep = None if mask is None else np.broadcast_to(mask, lead + (q.shape[1], k.shape[1]))
    keep = None if keep is None else keep.reshape(-1, q.shape[1], k.shape[1])
    out, weights = (
        np.zeros((len(q), q.shape[1], v.shape[2])),
        np.zeros((len(q), q.shape[1], k.shape[1])),
    )
    for b in range(len(q)):
        for i in range(q.shape[1]):
            scores = k[b] @ q[b, i] / math.sqrt(q.shape[2])
            if keep is not None:
                scores = np.where(keep[b, i], scores, -np.inf)
            e = np.exp(scores - scores.max())
            weights[b, i] = e / e.sum()
            out[b, i] = weights[b, i] @ v[b]
    return out.reshape(*lead, *out.shape[1:]), weights.reshape(*lead, *weights.shape[1:])


def attention_torch_softmax(q, k, v, mask=None):
    """A correct answer in torch (not its attention function): tensors are accepted."""
    t = torch.from_numpy
    scores = t(q) @ t(k).transpose(-1, -2) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~t(mask), -torch.inf)
    weights = torch.softmax(scores, dim=-1)
    return weights @ t(v), weights


def split_heads_slices(x, num_heads):
    d = x.shape[-1] // num_heads
    return np.stack([x[:, :, i * d : (i + 1) * d] for i in range(num_heads)], axis=1)


def merge_heads_concat(x):
    return np.concatenate([x[:, i] for i in range(x.shape[1])], axis=-1)


def patch_embedding_lib(images, weight, bias):
    return att.patchify(images, weight.shape[-2:]) @ weight.reshape(len(weight), -1).T + bias


def patch_embedding_loops(images, weight, bias):
    N, C, H, W = images.shape
    E, _, P, _ = weight.shape
    tokens = []
    for r in range(H // P):
        for c in range(W // P):
            patch = images[:, :, r * P : (r + 1) * P, c * P : (c + 1) * P]
            tokens.append(np.einsum("nchw,echw->ne", patch, weight) + bias)
    return np.stack(tokens, axis=1)


def patch_embedding_unfold(images, weight, bias):
    columns = F.unfold(torch.from_numpy(images), weight.shape[-2:], stride=weight.shape[-2:])
    return columns.transpose(1, 2).numpy() @ weight.reshape(len(weight), -1).T + bias


def count_terms(image_size, patch_size, in_channels, num_classes, dim, depth, heads, mlp_dim):
    tokens = (image_size // patch_size) ** 2 + 1
    patches = dim * in_channels * patch_size**2 + dim
    layer_norms, attention = 2 * (2 * dim), 4 * (dim * dim + dim)
    mlp = (dim * mlp_dim + mlp_dim) + (mlp_dim * dim + dim)
    return (
        patches
        + tokens * dim
        + dim
        + depth * (layer_norms + attention + mlp)
        + 2 * dim
        + (dim * num_classes + num_classes)
    )


def run(module, name, answer):
    if name == "q2_split_heads":
        split, merge = answer
        return module.q2_split_heads(split, merge)
    return getattr(module, name)(answer)


CORRECT = [
    ("q1_scaled_dot_product_attention", att.scaled_dot_product_attention),
    ("q1_scaled_dot_product_attention", attention_loops),
    ("q1_scaled_dot_product_attention", attention_torch_softmax),
    ("q2_split_heads", (att.split_heads, att.merge_heads)),
    ("q2_split_heads", (split_heads_slices, merge_heads_concat)),
    ("q3_patch_embedding", patch_embedding_lib),
    ("q3_patch_embedding", patch_embedding_loops),
    ("q3_patch_embedding", patch_embedding_unfold),
    ("q4_vit_parameter_count", vit_parameter_count),
    ("q4_vit_parameter_count", count_terms),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", CORRECT)
def test_accepts_correct_answers(module, name, answer):
    run(module, name, answer)


# --- typical mistakes ------------------------------------------------------------------------
def _attention(scale=math.sqrt, axis=-1, transpose=False, keep_true=True, stable=True):
    def attention(q, k, v, mask=None):
        scores = q @ np.swapaxes(k, -1, -2) / scale(q.shape[-1])
        if mask is not None:
            scores = np.where(mask if keep_true else ~mask, scores, -np.inf)
        with np.errstate(all="ignore"):  # the unstable softmax overflows
            if stable:
                scores = scores - scores.max(axis=axis, keepdims=True)
            e = np.exp(scores)
            weights = e / e.sum(axis=axis, keepdims=True)
        if transpose:
            weights = np.swapaxes(weights, -1, -2)
            return np.swapaxes(weights, -1, -2) @ v, weights
        return weights @ v, weights

    return attention


def attention_no_mask(q, k, v, mask=None):
    return att.scaled_dot_product_attention(q, k, v)


def attention_k_dot_t(q, k, v, mask=None):  # k.T reverses every axis of a batched k
    return att.scaled_dot_product_attention(q, k.T.T, v, mask) if k.ndim == 2 else (q @ k.T, q)


def attention_output_only(q, k, v, mask=None):
    return att.scaled_dot_product_attention(q, k, v, mask)[0]


def split_plain_reshape(x, num_heads):
    N, L, E = x.shape
    return x.reshape(N, num_heads, L, E // num_heads)


def split_interleaved(x, num_heads):
    N, L, E = x.shape
    return x.reshape(N, L, E // num_heads, num_heads).transpose(0, 3, 1, 2)


def split_no_transpose(x, num_heads):
    N, L, E = x.shape
    return x.reshape(N, L, num_heads, E // num_heads)


def merge_plain_reshape(x):
    N, h, L, d = x.shape
    return x.reshape(N, L, h * d)


def patches_transposed(images, weight, bias):
    return np.swapaxes(patch_embedding_lib(images, weight, bias), 1, 2)


def patches_no_bias(images, weight, bias):
    return patch_embedding_lib(images, weight, 0 * bias)


def patches_channels_last(images, weight, bias):  # each patch flattened (P, P, C)
    N, C, H, W = images.shape
    P = weight.shape[-1]
    grid = images.reshape(N, C, H // P, P, W // P, P).transpose(0, 2, 4, 3, 5, 1)
    return grid.reshape(N, -1, P * P * C) @ weight.reshape(len(weight), -1).T + bias


def patches_column_major(images, weight, bias):  # patches numbered column by column
    N, C, H, W = images.shape
    P = weight.shape[-1]
    tokens = patch_embedding_lib(images, weight, bias).reshape(N, H // P, W // P, -1)
    return tokens.transpose(0, 2, 1, 3).reshape(N, (H // P) * (W // P), -1)


def count_times_heads(*args):
    return vit_parameter_count(*args) * args[6]


def count_no_class_position(*args):
    return vit_parameter_count(*args) - args[4]


def count_no_final_norm(*args):
    return vit_parameter_count(*args) - 2 * args[4]


WRONG = [
    ("q1_scaled_dot_product_attention", _attention(scale=lambda d: 1.0)),
    ("q1_scaled_dot_product_attention", _attention(scale=lambda d: d)),
    ("q1_scaled_dot_product_attention", _attention(axis=-2)),
    ("q1_scaled_dot_product_attention", _attention(transpose=True)),
    ("q1_scaled_dot_product_attention", _attention(keep_true=False)),
    ("q1_scaled_dot_product_attention", _attention(stable=False)),
    ("q1_scaled_dot_product_attention", attention_no_mask),
    ("q1_scaled_dot_product_attention", attention_k_dot_t),
    ("q1_scaled_dot_product_attention", attention_output_only),
    ("q1_scaled_dot_product_attention", always_equal_pair),
    ("q2_split_heads", (split_plain_reshape, att.merge_heads)),
    ("q2_split_heads", (split_interleaved, att.merge_heads)),
    ("q2_split_heads", (split_no_transpose, att.merge_heads)),
    ("q2_split_heads", (att.split_heads, merge_plain_reshape)),
    ("q2_split_heads", (always_equal, att.merge_heads)),
    ("q2_split_heads", (att.split_heads, always_equal)),
    ("q3_patch_embedding", patches_transposed),
    ("q3_patch_embedding", patches_no_bias),
    ("q3_patch_embedding", patches_channels_last),
    ("q3_patch_embedding", patches_column_major),
    ("q3_patch_embedding", always_equal),
    ("q4_vit_parameter_count", count_times_heads),
    ("q4_vit_parameter_count", count_no_class_position),
    ("q4_vit_parameter_count", count_no_final_norm),
    ("q4_vit_parameter_count", always_equal),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("name, answer", WRONG)
def test_rejects_wrong_answers(module, name, answer):
    with pytest.raises(AssertionError):
        run(module, name, answer)


def test_messages_teach():
    match = {
        _attention(scale=lambda d: 1.0): r"divide the scores by sqrt\(d_k\)",
        _attention(scale=lambda d: d): "not by d_k",
        _attention(axis=-2): "each row must sum to 1",
        _attention(transpose=True): r"q @ k\^T, not k @ q\^T",
        _attention(keep_true=False): "True in the mask means the query MAY attend",
        _attention(stable=False): "subtract the largest score",
        attention_no_mask: "a masked key must get weight 0",
        attention_output_only: r"should return two arrays, \(output, weights\)",
    }
    for answer, pattern in match.items():
        with pytest.raises(AssertionError, match=pattern):
            visible.q1_scaled_dot_product_attention(answer)
    with pytest.raises(AssertionError, match="a plain reshape to"):
        visible.q2_split_heads(split_plain_reshape, att.merge_heads)
    with pytest.raises(AssertionError, match="interleaves"):
        visible.q2_split_heads(split_interleaved, att.merge_heads)
    with pytest.raises(AssertionError, match="merge_heads must undo split_heads"):
        visible.q2_split_heads(att.split_heads, merge_plain_reshape)
    with pytest.raises(AssertionError, match=r"one row per patch \(token\)"):
        visible.q3_patch_embedding(patches_transposed)
    with pytest.raises(AssertionError, match="the bias is missing"):
        visible.q3_patch_embedding(patches_no_bias)
    with pytest.raises(AssertionError, match="heads split the features"):
        visible.q4_vit_parameter_count(count_times_heads)
    with pytest.raises(
        AssertionError, match="class token .* or its row of the position embedding .* is missing"
    ):
        visible.q4_vit_parameter_count(count_no_class_position)
    with pytest.raises(AssertionError, match="final LayerNorm, 2E is missing"):
        visible.q4_vit_parameter_count(count_no_final_norm)


# --- handing the work to PyTorch ------------------------------------------------------------
def attention_by_torch(q, k, v, mask=None):
    t = torch.from_numpy
    out = F.scaled_dot_product_attention(
        t(q), t(k), t(v), attn_mask=None if mask is None else t(mask)
    )
    return out, att.scaled_dot_product_attention(q, k, v, mask)[1]


def attention_by_module(q, k, v, mask=None):
    try:  # a module with identity projections does the work; the error is swallowed
        m = torch.nn.MultiheadAttention(q.shape[-1], 1, batch_first=True, bias=False)
        m(
            torch.zeros(1, 2, q.shape[-1]),
            torch.zeros(1, 2, q.shape[-1]),
            torch.zeros(1, 2, q.shape[-1]),
        )
    except Exception:  # noqa: BLE001
        pass
    return att.scaled_dot_product_attention(q, k, v, mask)


def patches_by_conv(images, weight, bias):
    t = torch.from_numpy
    P = weight.shape[-2:]
    return F.conv2d(t(images), t(weight), t(bias), stride=P).flatten(2).transpose(1, 2)


def count_by_model(*args):
    names = (
        "image_size",
        "patch_size",
        "in_channels",
        "num_classes",
        "dim",
        "depth",
        "heads",
        "mlp_dim",
    )
    return count_parameters(VisionTransformer(**dict(zip(names, args, strict=True))))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "name, answer, used",
    [
        ("q1_scaled_dot_product_attention", attention_by_torch, "scaled_dot_product_attention"),
        ("q1_scaled_dot_product_attention", attention_by_module, "torch.nn.MultiheadAttention"),
        ("q3_patch_embedding", patches_by_conv, "conv2d"),
        ("q4_vit_parameter_count", count_by_model, "runs PyTorch"),
    ],
)
def test_torch_doing_the_work_earns_nothing(module, name, answer, used):
    with pytest.raises(OwnWorkError, match=rf"^{name[:2]}: your `{name[3:]}` .*{used}"):
        getattr(module, name)(answer)


def test_unfinished_answer_raises_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for module in (visible, hidden):
        for name in visible.__all__:
            with pytest.raises(NotImplementedError):
                run(module, name, (stub, stub) if name == "q2_split_heads" else stub)


@pytest.mark.parametrize("module", MODULES)
def test_tampering_is_refused(module, monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="replaced"):
        module.q3_patch_embedding(patch_embedding_lib)
