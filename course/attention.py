"""Attention from scratch in NumPy, with exactly the semantics of :mod:`torch.nn`.

Scaled dot-product attention (Vaswani et al., 2017) lets every one of ``L`` queries read a
weighted average of ``S`` values, weighted by how well the query matches each value's key:

.. math::

    \\mathrm{Attention}(Q, K, V)
    = \\mathrm{softmax}\\!\\left(\\frac{Q K^\\top}{\\sqrt{d_k}}\\right) V,
    \\qquad Q \\in \\mathbb{R}^{L \\times d_k},\\ K \\in \\mathbb{R}^{S \\times d_k},\\
    V \\in \\mathbb{R}^{S \\times d_v}.

Row ``i`` of the ``(L, S)`` matrix of weights is a probability distribution over the keys: the
softmax is taken over the last axis. **Multi-head** attention projects the ``E`` features of each
token to queries, keys and values, splits them into ``h`` heads of ``E / h`` features, attends in
each head independently and projects the concatenated heads back to ``E`` features.

A Vision Transformer (Dosovitskiy et al., 2021) turns an image into such a sequence of tokens:
:func:`patchify` cuts it into non-overlapping ``P x P`` patches, a linear map embeds each patch
(the same as a ``Conv2d`` with ``kernel_size = stride = P``), and a position embedding
(:func:`sinusoidal_position_embedding`, or a learned one) says where each patch came from.

Shapes follow ``torch.nn.MultiheadAttention(batch_first=True)``: a batch of sequences is
``(N, L, E)`` (batch, tokens, features); heads are ``(N, h, L, E / h)``; attention weights are
``(N, h, L, S)``. Masks follow :func:`torch.nn.functional.scaled_dot_product_attention`: a
boolean mask is ``True`` where a query **may** attend to a key (``torch.nn.MultiheadAttention``
uses the opposite convention: pass it ``~mask``); a float mask is added to the scores.

References: Bahdanau, Cho & Bengio (2015), *Neural machine translation by jointly learning to
align and translate*, ICLR; Vaswani et al. (2017), *Attention is all you need*, NeurIPS;
Dosovitskiy et al. (2021), *An image is worth 16x16 words*, ICLR.
"""

from __future__ import annotations

import math

import numpy as np

from course._validate import float_dtype, integer, nonempty, numeric, numpy_array, pair

__all__ = [
    "softmax",
    "scaled_dot_product_attention",
    "split_heads",
    "merge_heads",
    "multi_head_attention",
    "patchify",
    "sinusoidal_position_embedding",
]

_TENSOR_HINT = "use tensor.numpy()"


def _array(value, name: str, min_ndim: int, layout: str) -> np.ndarray:
    """A finite, non-empty float array with at least ``min_ndim`` axes, or a helpful error."""
    array = numeric(name, numpy_array(name, value, tensor_hint=_TENSOR_HINT))
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have shape {layout}, got shape {array.shape}")
    nonempty(name, array, axes=tuple(range(-min_ndim, 0)))
    return array.astype(float_dtype(array), copy=False)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``: :math:`e^{x_j - m} / \\sum_k e^{x_k - m}`.

    Subtracting the maximum :math:`m` changes nothing mathematically (it cancels) but keeps
    ``exp`` from overflowing: ``softmax([1000, 1000])`` is ``[0.5, 0.5]``, not ``nan``.
    Entries equal to ``-inf`` get probability 0 (a masked key).

    Parameters
    ----------
    x : ndarray
        Scores; ``-inf`` allowed (not ``+inf`` or NaN).
    axis : int, default -1

    Returns
    -------
    ndarray of the shape of ``x``, floating point
        Non-negative, summing to 1 along ``axis``.

    Raises
    ------
    TypeError
        If ``x`` is not an array of real numbers or ``axis`` not an int.
    ValueError
        If ``x`` holds NaN or ``+inf``, or a whole slice along ``axis`` is ``-inf``.

    Examples
    --------
    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    >>> softmax(np.array([0.0, -np.inf]))
    array([1., 0.])
    """
    x = numpy_array("x", x, tensor_hint=_TENSOR_HINT)
    if x.dtype.kind not in "iufb":
        raise TypeError(f"x must hold real numbers, got dtype {x.dtype}")
    integer("axis", axis)
    x = x.astype(float_dtype(x), copy=False)
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError("x contains NaN or +inf values (-inf is allowed: a masked entry)")
    peak = np.max(x, axis=axis, keepdims=True)
    if np.isneginf(peak).any():
        raise ValueError(f"x has a slice along axis {axis} that is all -inf: nothing to normalise")
    e = np.exp(x - peak)
    return e / np.sum(e, axis=axis, keepdims=True)


def _scores_with_mask(scores: np.ndarray, mask) -> np.ndarray:
    """Apply a boolean (``True`` = keep) or additive float mask to the ``(..., L, S)`` scores."""
    mask = numeric("mask", numpy_array("mask", mask, tensor_hint=_TENSOR_HINT))
    try:
        np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise ValueError(
            f"mask must broadcast to the scores' shape {scores.shape} (..., L, S), "
            f"got shape {mask.shape}"
        ) from None
    if mask.dtype == bool:
        kept = np.broadcast_to(mask, scores.shape)
        if not kept.any(axis=-1).all():
            raise ValueError("mask leaves a query with no key to attend to (a row all False)")
        return np.where(kept, scores, -np.inf)
    return scores + mask


def scaled_dot_product_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask=None
) -> tuple[np.ndarray, np.ndarray]:
    """Attention of queries ``q`` over keys ``k`` and values ``v``; returns output and weights.

    .. math::

        A = \\mathrm{softmax}\\!\\left(\\frac{q k^\\top}{\\sqrt{d_k}} + M\\right), \\qquad
        \\text{output} = A\\, v

    The same as :func:`torch.nn.functional.scaled_dot_product_attention` (which returns only
    the output).

    Parameters
    ----------
    q : ndarray of shape (..., L, d_k)
        Queries; the leading axes (batch, heads) are kept and broadcast.
    k : ndarray of shape (..., S, d_k)
        Keys.
    v : ndarray of shape (..., S, d_v)
        Values.
    mask : ndarray of shape broadcastable to (..., L, S), optional
        Boolean: ``True`` where query ``i`` may attend to key ``j`` (a causal mask is
        ``np.tril(np.ones((L, S), bool))``); float: added to the scores (``-inf`` blocks).

    Returns
    -------
    output : ndarray of shape (..., L, d_v)
    weights : ndarray of shape (..., L, S)
        Each row sums to 1 over the keys.

    Raises
    ------
    TypeError
        If an input is not a NumPy array of real numbers.
    ValueError
        If the shapes do not match (``d_k`` of ``q`` and ``k``, ``S`` of ``k`` and ``v``), the
        mask does not broadcast, or a boolean mask leaves a query with no key.

    Examples
    --------
    One query, two keys; with ``d_k = 1`` the scores are ``q k^T = [0, ln 3]``, so the second
    key gets three times the weight of the first:

    >>> q, k = np.array([[1.0]]), np.array([[0.0], [np.log(3.0)]])
    >>> v = np.array([[0.0], [4.0]])
    >>> out, w = scaled_dot_product_attention(q, k, v)
    >>> w, out
    (array([[0.25, 0.75]]), array([[3.]]))
    """
    q = _array(q, "q", 2, "(..., L, d_k)")
    k = _array(k, "k", 2, "(..., S, d_k)")
    v = _array(v, "v", 2, "(..., S, d_v)")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must have the same feature size d_k, got q {q.shape} and k {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of keys S, got k {k.shape} and v {v.shape}"
        )
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])  # (..., L, S)
    if mask is not None:
        scores = _scores_with_mask(scores, mask)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(N, L, E) -> (N, h, L, E / h)``: head ``i`` gets features ``i E/h ... (i+1) E/h - 1``.

    The ``E`` features of a token are cut into ``h`` consecutive groups, as in
    ``torch.nn.MultiheadAttention``; the head axis moves before the token axis so that each head
    is an independent ``(L, E / h)`` sequence. :func:`merge_heads` undoes it.

    Parameters
    ----------
    x : ndarray of shape (N, L, E)
    num_heads : int
        ``h``; it must divide ``E``.

    Returns
    -------
    ndarray of shape (N, h, L, E / h)

    Raises
    ------
    TypeError
        If ``x`` is not a NumPy array or ``num_heads`` not an int.
    ValueError
        If ``x`` is not 3D or ``num_heads`` does not divide ``E``.

    Examples
    --------
    >>> x = np.arange(8).reshape(1, 2, 4)  # 2 tokens of 4 features
    >>> split_heads(x, 2)[0]  # head 0: features 0-1, head 1: features 2-3
    array([[[0, 1],
            [4, 5]],
    <BLANKLINE>
           [[2, 3],
            [6, 7]]])
    """
    x = numpy_array("x", x, tensor_hint=_TENSOR_HINT)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, L, E), got shape {x.shape}")
    N, L, E = x.shape
    h = integer("num_heads", num_heads, minimum=1)
    if E % h:
        raise ValueError(f"num_heads must divide the embedding size E={E}, got {h}")
    return x.reshape(N, L, h, E // h).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(N, h, L, d) -> (N, L, h d)``: concatenate the heads' features, the inverse of
    :func:`split_heads`.

    Parameters
    ----------
    x : ndarray of shape (N, h, L, d)

    Returns
    -------
    ndarray of shape (N, L, h * d)

    Raises
    ------
    TypeError
        If ``x`` is not a NumPy array.
    ValueError
        If ``x`` is not 4D.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 12))
    >>> bool(np.array_equal(merge_heads(split_heads(x, 3)), x))
    True
    """
    x = numpy_array("x", x, tensor_hint=_TENSOR_HINT)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, h, L, d), got shape {x.shape}")
    N, h, L, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, L, h * d)


def _projection(weight, bias, name: str, shape: tuple[int, int]) -> tuple:
    weight = _array(weight, f"{name}_weight", 2, "(rows, E)")
    if weight.shape != shape:
        raise ValueError(f"{name}_weight must have shape {shape}, got {weight.shape}")
    if bias is not None:
        bias = _array(bias, f"{name}_bias", 1, "(rows,)")
        if bias.shape != shape[:1]:
            raise ValueError(f"{name}_bias must have shape {shape[:1]}, got {bias.shape}")
    return weight, bias


def _linear(x: np.ndarray, weight: np.ndarray, bias) -> np.ndarray:
    """``x W^T + b``, the convention of ``torch.nn.Linear``."""
    y = x @ weight.T
    return y if bias is None else y + bias


def multi_head_attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    num_heads: int,
    in_proj_weight: np.ndarray,
    in_proj_bias: np.ndarray | None,
    out_proj_weight: np.ndarray,
    out_proj_bias: np.ndarray | None,
    mask=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention with the parameters of ``torch.nn.MultiheadAttention``.

    .. math::

        Q = X_q W_q^\\top + b_q,\\quad K = X_k W_k^\\top + b_k,\\quad V = X_v W_v^\\top + b_v,
        \\qquad
        \\text{head}_i = \\mathrm{Attention}(Q_i, K_i, V_i),\\qquad
        \\text{output} = [\\text{head}_1, \\dots, \\text{head}_h]\\, W_o^\\top + b_o

    where ``W_q, W_k, W_v`` are the three ``(E, E)`` blocks of ``in_proj_weight`` (in that
    order) and ``Q_i`` holds the features of head ``i`` (:func:`split_heads`). Self-attention
    passes the same ``x`` as query, key and value. With
    ``m = torch.nn.MultiheadAttention(E, h, batch_first=True)`` in evaluation mode,
    ``multi_head_attention(x, x, x, h, m.in_proj_weight, m.in_proj_bias,
    m.out_proj.weight, m.out_proj.bias)`` equals ``m(x, x, x, average_attn_weights=False)``
    (as arrays; a boolean ``mask`` is passed to torch as ``attn_mask=~mask``).

    Parameters
    ----------
    query : ndarray of shape (N, L, E)
    key, value : ndarray of shape (N, S, E)
    num_heads : int
        ``h``, a divisor of ``E``; each head has ``E / h`` features.
    in_proj_weight : ndarray of shape (3E, E)
    in_proj_bias : ndarray of shape (3E,) or None
    out_proj_weight : ndarray of shape (E, E)
    out_proj_bias : ndarray of shape (E,) or None
    mask : ndarray broadcastable to (N, h, L, S), optional
        Boolean (``True`` = may attend) or additive float, as in
        :func:`scaled_dot_product_attention`; e.g. ``(L, S)`` for all sequences and heads, or
        ``padding[:, None, None, :]`` to hide padded keys (``padding`` of shape ``(N, S)``).

    Returns
    -------
    output : ndarray of shape (N, L, E)
    weights : ndarray of shape (N, h, L, S)
        The attention weights of every head (average over axis 1 for torch's default).

    Raises
    ------
    TypeError
        If an array is not a NumPy array of real numbers or ``num_heads`` not an int.
    ValueError
        If the shapes do not match or ``num_heads`` does not divide ``E``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 5, 8))  # 2 sequences of 5 tokens with 8 features
    >>> w_in, w_out = rng.normal(size=(24, 8)), rng.normal(size=(8, 8))
    >>> out, weights = multi_head_attention(x, x, x, 2, w_in, None, w_out, None)
    >>> out.shape, weights.shape
    ((2, 5, 8), (2, 2, 5, 5))
    """
    query = _array(query, "query", 3, "(N, L, E)")
    key = _array(key, "key", 3, "(N, S, E)")
    value = _array(value, "value", 3, "(N, S, E)")
    N, _, E = query.shape
    shapes_match = key.shape[0] == N and key.shape[2] == E and value.shape == key.shape
    if not (query.ndim == key.ndim == value.ndim == 3 and shapes_match):
        raise ValueError(
            "query must be (N, L, E), key and value (N, S, E) with the same N and E, got "
            f"query {query.shape}, key {key.shape}, value {value.shape}"
        )
    w_in, b_in = _projection(in_proj_weight, in_proj_bias, "in_proj", (3 * E, E))
    w_out, b_out = _projection(out_proj_weight, out_proj_bias, "out_proj", (E, E))
    biases = (None, None, None) if b_in is None else np.split(b_in, 3)
    q, k, v = (
        split_heads(_linear(x, w, b), num_heads)
        for x, w, b in zip((query, key, value), np.split(w_in, 3), biases, strict=True)
    )
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (N, h, L, E/h), (N, h, L, S)
    return _linear(merge_heads(heads), w_out, b_out), weights


def patchify(images: np.ndarray, patch_size) -> np.ndarray:
    """Cut images into non-overlapping patches: ``(N, C, H, W) -> (N, L, C P_h P_w)``.

    Patches are numbered row by row over the grid of ``H / P_h`` rows and ``W / P_w``
    columns (``L`` patches); each patch is flattened channel first, then row, then column: the
    order of a ``Conv2d`` weight ``(E, C, P_h, P_w)`` reshaped to ``(E, C P_h P_w)``. Hence the
    ViT's patch embedding ``patchify(x, P) @ W.reshape(E, -1).T + b`` equals
    ``Conv2d(C, E, kernel_size=P, stride=P)(x).flatten(2).transpose(1, 2)``.

    Parameters
    ----------
    images : ndarray of shape (N, C, H, W)
    patch_size : int or (int, int)
        ``P`` or ``(P_h, P_w)``; it must divide ``H`` and ``W``.

    Returns
    -------
    ndarray of shape (N, (H / P_h) (W / P_w), C P_h P_w)
        A new array, with the dtype of ``images``.

    Raises
    ------
    TypeError
        If ``images`` is not a NumPy array or ``patch_size`` not an int or a pair of ints.
    ValueError
        If ``images`` is not 4D or the patch size does not divide the image size.

    Examples
    --------
    A 4x4 image in 2x2 patches: 4 patches of 4 pixels, the top-left patch first.

    >>> x = np.arange(16).reshape(1, 1, 4, 4)
    >>> patchify(x, 2)[0]
    array([[ 0,  1,  4,  5],
           [ 2,  3,  6,  7],
           [ 8,  9, 12, 13],
           [10, 11, 14, 15]])
    """
    images = numpy_array("images", images, tensor_hint=_TENSOR_HINT)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got shape {images.shape}")
    P_h, P_w = pair("patch_size", patch_size, minimum=1)
    N, C, H, W = images.shape
    if H % P_h or W % P_w:
        raise ValueError(
            f"patch_size must divide the image size: got patch_size ({P_h}, {P_w}) for images "
            f"of {H}x{W} (crop or pad the images to a multiple of the patch size)"
        )
    grid = images.reshape(N, C, H // P_h, P_h, W // P_w, P_w)  # (N, C, rows, P_h, cols, P_w)
    patches = grid.transpose(0, 2, 4, 1, 3, 5)  # (N, rows, cols, C, P_h, P_w)
    return patches.reshape(N, (H // P_h) * (W // P_w), C * P_h * P_w)


def sinusoidal_position_embedding(length: int, dim: int) -> np.ndarray:
    """The fixed position code of the original Transformer (Vaswani et al., 2017, section 3.5).

    .. math::

        PE_{p,\\,2i} = \\sin\\!\\left(\\frac{p}{10000^{2i/E}}\\right), \\qquad
        PE_{p,\\,2i+1} = \\cos\\!\\left(\\frac{p}{10000^{2i/E}}\\right)

    for positions ``p = 0 ... L-1`` and feature pairs ``i``: each pair of features oscillates at
    its own wavelength, from ``2 pi`` (first pair) to almost ``10000 * 2 pi`` (last pair), so
    every position gets a distinct code and a shift by ``k`` positions is a rotation of each
    pair. With an odd ``E`` the last feature is a sine.

    Parameters
    ----------
    length : int
        Number of positions ``L`` (>= 1).
    dim : int
        Features ``E`` per position (>= 1).

    Returns
    -------
    ndarray of shape (L, E), float64
        Values in [-1, 1]; added to the token embeddings.

    Raises
    ------
    TypeError
        If ``length`` or ``dim`` is not an int.
    ValueError
        If one is smaller than 1.

    Examples
    --------
    >>> sinusoidal_position_embedding(3, 4).round(3)
    array([[ 0.   ,  1.   ,  0.   ,  1.   ],
           [ 0.841,  0.54 ,  0.01 ,  1.   ],
           [ 0.909, -0.416,  0.02 ,  1.   ]])
    """
    L = integer("length", length, minimum=1)
    E = integer("dim", dim, minimum=1)
    position = np.arange(L, dtype=float)[:, None]  # (L, 1)
    rate = 10000.0 ** (-np.arange(0, E, 2, dtype=float) / E)  # 1 / 10000^(2i/E), (ceil(E/2),)
    angles = position * rate  # (L, ceil(E/2))
    pe = np.empty((L, E))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : E // 2])
    return pe
