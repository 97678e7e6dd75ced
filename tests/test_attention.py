"""course.attention against PyTorch (float64) and against loops written from the formulas; the
contrastive loss of lecture 12 (course.losses.info_nce) against the NT-Xent formula in loops.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course import attention as att
from course.losses import info_nce

SETTINGS = settings(max_examples=30, deadline=None)
t = torch.from_numpy


def _rng(seed):
    return np.random.default_rng(seed)


def _mask_with_a_key_per_row(rng, shape):
    """A random boolean mask in which every query keeps at least one key."""
    mask = rng.random(shape) < 0.6
    rows = mask.reshape(-1, shape[-1])
    rows[np.arange(len(rows)), rng.integers(shape[-1], size=len(rows))] = True
    return rows.reshape(shape)


# --- softmax ---------------------------------------------------------------------------------
@SETTINGS
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    scale=st.sampled_from([1.0, 100.0, 1e4]),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_softmax_equals_torch(shape, scale, seed, data):
    x = _rng(seed).normal(size=shape) * scale
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    expected = torch.softmax(t(x), dim=axis).numpy()
    np.testing.assert_allclose(att.softmax(x, axis=axis), expected, rtol=1e-12, atol=1e-15)


def test_softmax_is_stable_and_masks_minus_inf():
    np.testing.assert_array_equal(att.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
    x = np.array([[0.0, -np.inf, np.log(3.0)], [-800.0, -800.0, -np.inf]])
    np.testing.assert_allclose(att.softmax(x), [[0.25, 0.0, 0.75], [0.5, 0.5, 0.0]])
    assert att.softmax(np.array([1, 1, 1, 1])).dtype == np.float64  # integers -> float64
    assert att.softmax(np.zeros(3, np.float32)).dtype == np.float32


def test_softmax_rejects_bad_input():
    with pytest.raises(ValueError, match="all -inf"):
        att.softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    with pytest.raises(ValueError, match=r"NaN or \+inf"):
        att.softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"NaN or \+inf"):
        att.softmax(np.array([0.0, np.inf]))
    with pytest.raises(TypeError, match=r"x must be a NumPy array.*tensor.numpy"):
        att.softmax(torch.zeros(3))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        att.softmax(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="axis must be an int"):
        att.softmax(np.zeros(3), axis=1.0)


# --- scaled dot-product attention ------------------------------------------------------------
shapes = st.tuples(
    st.lists(st.integers(1, 3), max_size=2),  # leading (batch, heads) axes
    st.integers(1, 6),  # L
    st.integers(1, 6),  # S
    st.integers(1, 8),  # d_k
    st.integers(1, 5),  # d_v
)


@SETTINGS
@given(shape=shapes, masked=st.sampled_from(["none", "bool", "float"]), seed=st.integers(0, 999))
def test_attention_output_equals_torch_sdpa(shape, masked, seed):
    lead, L, S, d_k, d_v = shape
    rng = _rng(seed)
    q, k = rng.normal(size=(*lead, L, d_k)), rng.normal(size=(*lead, S, d_k))
    v = rng.normal(size=(*lead, S, d_v))
    mask = None
    if masked == "bool":
        mask = _mask_with_a_key_per_row(rng, (L, S))
    elif masked == "float":
        mask = rng.normal(size=(*lead, L, S))
    out, weights = att.scaled_dot_product_attention(q, k, v, mask)
    torch_mask = None if mask is None else t(mask)
    expected = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=torch_mask).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert weights.shape == (*lead, L, S)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)


def _attention_loops(q, k, v, keep=None):
    """Attention of 2D q, k, v written out with Python loops and math.exp."""
    L, S = len(q), len(k)
    weights = np.zeros((L, S))
    for i in range(L):
        scores = [sum(q[i, c] * k[j, c] for c in range(q.shape[1])) / math.sqrt(q.shape[1])
                  for j in range(S)]  # fmt: skip
        allowed = [j for j in range(S) if keep is None or keep[i, j]]
        top = max(scores[j] for j in allowed)
        total = sum(math.exp(scores[j] - top) for j in allowed)
        for j in allowed:
            weights[i, j] = math.exp(scores[j] - top) / total
    return weights @ v, weights


@pytest.mark.parametrize("L, S, d_k, d_v", [(1, 1, 1, 1), (3, 5, 4, 2), (6, 2, 3, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_weights_equal_loops(L, S, d_k, d_v, masked):
    rng = _rng(L * 100 + S)
    q, k, v = rng.normal(size=(L, d_k)), rng.normal(size=(S, d_k)), rng.normal(size=(S, d_v))
    keep = _mask_with_a_key_per_row(rng, (L, S)) if masked else None
    out, weights = att.scaled_dot_product_attention(q, k, v, keep)
    expected_out, expected_weights = _attention_loops(q, k, v, keep)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-14)


def test_causal_mask_equals_torch_is_causal():
    rng = _rng(3)
    q, k, v = (rng.normal(size=(2, 7, 4)) for _ in range(3))
    out, weights = att.scaled_dot_product_attention(q, k, v, np.tril(np.ones((7, 7), bool)))
    expected = F.scaled_dot_product_attention(t(q), t(k), t(v), is_causal=True).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert np.all(np.triu(weights[0], 1) == 0)  # no query looks into the future


def test_attention_keeps_float32():
    q = np.ones((2, 3), np.float32)
    out, weights = att.scaled_dot_product_attention(q, q, q)
    assert out.dtype == weights.dtype == np.float32


def test_attention_rejects_bad_input():
    q = np.zeros((3, 4))
    with pytest.raises(ValueError, match="same feature size d_k"):
        att.scaled_dot_product_attention(q, np.zeros((3, 5)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same number of keys S"):
        att.scaled_dot_product_attention(q, np.zeros((3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="mask must broadcast"):
        att.scaled_dot_product_attention(q, q, q, mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="no key to attend to"):
        att.scaled_dot_product_attention(q, q, q, mask=np.array([True, False, True])[:, None])
    with pytest.raises(ValueError, match=r"q must have shape \(\.\.\., L, d_k\)"):
        att.scaled_dot_product_attention(np.zeros(4), q, q)
    with pytest.raises(TypeError, match="k must be a NumPy array"):
        att.scaled_dot_product_attention(q, torch.zeros(3, 4), q)
    with pytest.raises(ValueError, match="v contains NaN"):
        att.scaled_dot_product_attention(q, q, np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="q must not be empty"):
        att.scaled_dot_product_attention(np.zeros((0, 4)), q, q)


# --- heads -----------------------------------------------------------------------------------
@SETTINGS
@given(
    n=st.integers(1, 3),
    length=st.integers(1, 5),
    heads=st.integers(1, 4),
    head_dim=st.integers(1, 4),
    seed=st.integers(0, 999),
)
def test_split_heads_takes_consecutive_features(n, length, heads, head_dim, seed):
    x = _rng(seed).normal(size=(n, length, heads * head_dim))
    split = att.split_heads(x, heads)
    assert split.shape == (n, heads, length, head_dim)
    for i in range(heads):  # head i: features i*d ... (i+1)*d - 1, as torch's MHA cuts them
        np.testing.assert_array_equal(split[:, i], x[:, :, i * head_dim : (i + 1) * head_dim])
    torch_split = t(x).view(n, length, heads, head_dim).permute(0, 2, 1, 3).numpy()
    np.testing.assert_array_equal(split, torch_split)
    np.testing.assert_array_equal(att.merge_heads(split), x)  # merge undoes split


def test_merge_heads_concatenates_heads():
    x = _rng(1).normal(size=(2, 3, 4, 5))  # (N, h, L, d)
    expected = np.concatenate([x[:, i] for i in range(3)], axis=-1)
    np.testing.assert_array_equal(att.merge_heads(x), expected)


def test_heads_reject_bad_input():
    with pytest.raises(ValueError, match="num_heads must divide the embedding size E=6"):
        att.split_heads(np.zeros((1, 2, 6)), 4)
    with pytest.raises(ValueError, match=r"x must have shape \(N, L, E\)"):
        att.split_heads(np.zeros((2, 6)), 2)
    with pytest.raises(TypeError, match="num_heads must be an int"):
        att.split_heads(np.zeros((1, 2, 6)), 2.0)
    with pytest.raises(ValueError, match="num_heads must be positive"):
        att.split_heads(np.zeros((1, 2, 6)), 0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, h, L, d\)"):
        att.merge_heads(np.zeros((1, 2, 6)))
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        att.merge_heads(torch.zeros(1, 2, 3, 4))


# --- multi-head attention vs torch.nn.MultiheadAttention ---------------------------------------
def _torch_mha(E, h, bias, seed):
    torch.manual_seed(seed)
    module = torch.nn.MultiheadAttention(E, h, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # non-zero biases (torch initialises them to 0)
        for name, p in module.named_parameters():
            if "bias" in name:
                p.normal_()
    return module.eval()


def _parameters(module):
    get = lambda p: None if p is None else p.detach().numpy()  # noqa: E731
    return (
        get(module.in_proj_weight),
        get(module.in_proj_bias),
        get(module.out_proj.weight),
        get(module.out_proj.bias),
    )


@SETTINGS
@given(
    n=st.integers(1, 3),
    lengths=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    heads=st.integers(1, 4),
    head_dim=st.integers(1, 4),
    bias=st.booleans(),
    masked=st.sampled_from(["none", "2d", "per-head", "float"]),
    seed=st.integers(0, 999),
)
def test_mha_equals_torch(n, lengths, heads, head_dim, bias, masked, seed):
    (L, S), E = lengths, heads * head_dim
    rng = _rng(seed)
    query, key, value = (rng.normal(size=(n, length, E)) for length in (L, S, S))
    module = _torch_mha(E, heads, bias, seed)
    mask, torch_mask = None, None
    if masked == "2d":
        mask = _mask_with_a_key_per_row(rng, (L, S))
        torch_mask = t(~mask)  # torch's MHA: True = NOT allowed
    elif masked == "per-head":
        mask = _mask_with_a_key_per_row(rng, (n, heads, L, S))
        torch_mask = t(~mask.reshape(n * heads, L, S))
    elif masked == "float":
        mask = rng.normal(size=(L, S))
        torch_mask = t(mask)
    out, weights = att.multi_head_attention(query, key, value, heads, *_parameters(module), mask)
    with torch.no_grad():
        expected, expected_weights = module(
            t(query), t(key), t(value), attn_mask=torch_mask, average_attn_weights=False
        )
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights, expected_weights.numpy(), rtol=1e-10, atol=1e-13)


def test_self_attention_and_key_padding_equal_torch():
    rng = _rng(5)
    x = rng.normal(size=(3, 6, 8))
    padding = np.ones((3, 6), bool)
    padding[1, 4:] = False  # the second sequence has only 4 real tokens
    padding[2, 1:] = False
    module = _torch_mha(8, 2, True, 5)
    out, weights = att.multi_head_attention(
        x, x, x, 2, *_parameters(module), mask=padding[:, None, None, :]
    )
    with torch.no_grad():
        expected, mean_weights = module(t(x), t(x), t(x), key_padding_mask=t(~padding))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.mean(axis=1), mean_weights.numpy(), rtol=1e-10, atol=1e-13)
    assert np.all(weights[1, :, :, 4:] == 0) and np.all(weights[2, :, :, 0] == 1)


def test_mha_rejects_bad_input():
    x = np.zeros((2, 3, 4))
    w_in, b_in, w_out, b_out = np.zeros((12, 4)), np.zeros(12), np.zeros((4, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=r"in_proj_weight must have shape \(12, 4\)"):
        att.multi_head_attention(x, x, x, 2, np.zeros((8, 4)), b_in, w_out, b_out)
    with pytest.raises(ValueError, match=r"out_proj_bias must have shape \(4,\)"):
        att.multi_head_attention(x, x, x, 2, w_in, b_in, w_out, np.zeros(3))
    with pytest.raises(ValueError, match="num_heads must divide the embedding size E=4"):
        att.multi_head_attention(x, x, x, 3, w_in, b_in, w_out, b_out)
    with pytest.raises(ValueError, match="key and value"):
        att.multi_head_attention(x, np.zeros((2, 3, 5)), x, 2, w_in, b_in, w_out, b_out)
    with pytest.raises(ValueError, match="key and value"):
        att.multi_head_attention(x, x, np.zeros((2, 4, 4)), 2, w_in, b_in, w_out, b_out)
    with pytest.raises(ValueError, match=r"query must have shape \(N, L, E\)"):
        att.multi_head_attention(np.zeros((3, 4)), x, x, 2, w_in, b_in, w_out, b_out)
    with pytest.raises(TypeError, match="in_proj_weight must be a NumPy array"):
        att.multi_head_attention(x, x, x, 2, torch.zeros(12, 4), b_in, w_out, b_out)


# --- patches ---------------------------------------------------------------------------------
@SETTINGS
@given(
    n=st.integers(1, 2),
    channels=st.integers(1, 3),
    patch=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    grid=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dim=st.integers(1, 6),
    seed=st.integers(0, 999),
)
def test_patch_embedding_equals_conv2d(n, channels, patch, grid, dim, seed):
    (P_h, P_w), (rows, cols) = patch, grid
    rng = _rng(seed)
    x = rng.normal(size=(n, channels, rows * P_h, cols * P_w))
    conv = torch.nn.Conv2d(channels, dim, kernel_size=patch, stride=patch, dtype=torch.float64)
    weight, bias = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    tokens = att.patchify(x, patch) @ weight.reshape(dim, -1).T + bias
    with torch.no_grad():
        expected = conv(t(x)).flatten(2).transpose(1, 2).numpy()
    np.testing.assert_allclose(tokens, expected, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(
    channels=st.integers(1, 3),
    patch=st.integers(1, 4),
    grid=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    seed=st.integers(0, 999),
)
def test_patchify_equals_tensor_unfold(channels, patch, grid, seed):
    x = _rng(seed).normal(size=(2, channels, grid[0] * patch, grid[1] * patch))
    windows = t(x).unfold(2, patch, patch).unfold(3, patch, patch)  # (N, C, rows, cols, P, P)
    expected = windows.permute(0, 2, 3, 1, 4, 5).reshape(2, grid[0] * grid[1], -1).numpy()
    np.testing.assert_array_equal(att.patchify(x, patch), expected)
    im2col = F.unfold(t(x), kernel_size=patch, stride=patch).transpose(1, 2).numpy()
    np.testing.assert_array_equal(att.patchify(x, patch), im2col)  # torch's im2col: the same


def test_patchify_keeps_dtype_and_rejects_bad_input():
    x = np.arange(2 * 6 * 6, dtype=np.int16).reshape(1, 2, 6, 6)
    assert att.patchify(x, (2, 3)).shape == (1, 6, 12)
    assert att.patchify(x, 3).dtype == np.int16
    with pytest.raises(ValueError, match="patch_size must divide the image size"):
        att.patchify(x, 4)
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\)"):
        att.patchify(x[0], 2)
    with pytest.raises(TypeError, match="patch_size must be an int or a pair of ints"):
        att.patchify(x, 2.0)
    with pytest.raises(ValueError, match="patch_size must be positive"):
        att.patchify(x, 0)
    with pytest.raises(TypeError, match="images must be a NumPy array"):
        att.patchify(torch.zeros(1, 1, 4, 4), 2)


# --- position embedding ----------------------------------------------------------------------
@pytest.mark.parametrize("length, dim", [(1, 1), (1, 2), (5, 4), (7, 9), (50, 64), (3, 3)])
def test_sinusoidal_embedding_equals_the_formula(length, dim):
    expected = np.zeros((length, dim))
    for pos in range(length):
        for j in range(dim):
            angle = pos / 10000 ** (2 * (j // 2) / dim)  # features 2i and 2i+1 share 10000^(2i/E)
            expected[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(att.sinusoidal_position_embedding(length, dim), expected,
                               rtol=1e-12, atol=1e-12)  # fmt: skip


def test_sinusoidal_embedding_properties():
    pe = att.sinusoidal_position_embedding(64, 16)
    assert pe.shape == (64, 16) and np.all(np.abs(pe) <= 1)
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0)  # sin^2 + cos^2
    assert len({row.tobytes() for row in pe}) == 64  # every position has its own code


def test_sinusoidal_embedding_rejects_bad_input():
    with pytest.raises(ValueError, match="length must be positive"):
        att.sinusoidal_position_embedding(0, 4)
    with pytest.raises(TypeError, match="dim must be an int"):
        att.sinusoidal_position_embedding(4, 4.0)


# --- contrastive loss (NT-Xent, SimCLR) ------------------------------------------------------
def _nt_xent_loops(z1, z2, tau):
    """Chen et al. (2020), Algorithm 1, one anchor at a time with math.exp."""
    z = [row / np.linalg.norm(row) for row in np.concatenate([z1, z2])]
    n = len(z1)
    losses = []
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        sim = [float(np.dot(z[i], z[k])) / tau for k in range(2 * n)]
        denominator = sum(math.exp(sim[k]) for k in range(2 * n) if k != i)
        losses.append(-math.log(math.exp(sim[positive]) / denominator))
    return np.array(losses)


@SETTINGS
@given(
    n=st.integers(1, 6),
    dim=st.integers(1, 5),
    tau=st.sampled_from([0.1, 0.5, 1.0, 2.0]),
    seed=st.integers(0, 999),
)
def test_info_nce_equals_the_formula(n, dim, tau, seed):
    rng = _rng(seed)
    z1, z2 = rng.normal(size=(n, dim)) + 0.1, rng.normal(size=(n, dim)) + 0.1
    expected = _nt_xent_loops(z1, z2, tau)
    none = info_nce(t(z1), t(z2), temperature=tau, reduction="none").numpy()
    np.testing.assert_allclose(none, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(info_nce(t(z1), t(z2), tau).item(), expected.mean(), rtol=1e-9)
    total = info_nce(t(z1), t(z2), tau, reduction="sum").item()
    np.testing.assert_allclose(total, expected.sum(), rtol=1e-9)


def test_info_nce_properties():
    rng = _rng(7)
    z1 = torch.tensor(rng.normal(size=(8, 4)), requires_grad=True)
    z2 = t(rng.normal(size=(8, 4)))
    loss = info_nce(z1, z2)
    loss.backward()  # differentiable
    assert z1.grad is not None and torch.isfinite(z1.grad).all()
    with torch.no_grad():  # cosine similarity: the scale of the embeddings does not matter
        torch.testing.assert_close(info_nce(3 * z1, 0.5 * z2), loss)
        agree = info_nce(z2, z2 + 0.01 * torch.randn(8, 4, dtype=torch.float64))
        assert agree < loss  # matching views -> a lower loss
    one = info_nce(torch.ones(1, 3), torch.ones(1, 3))  # N = 1: only the positive, no negative
    assert one.item() == pytest.approx(0.0, abs=1e-6)


def test_info_nce_rejects_bad_input():
    z = torch.zeros(4, 3)
    with pytest.raises(TypeError, match="z1 must be a floating-point torch.Tensor"):
        info_nce(np.zeros((4, 3)), z)
    with pytest.raises(TypeError, match="z2 must be a floating-point torch.Tensor, got dtype"):
        info_nce(z, torch.zeros(4, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="z1 and z2 must have the same shape"):
        info_nce(z, torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"z1 must have shape \(N, D\)"):
        info_nce(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        info_nce(z, z, temperature=0.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        info_nce(z, z, reduction="max")
