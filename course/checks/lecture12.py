"""Self-checks of the exercises of lecture 12 (attention, Vision Transformers).

Each check prints a verdict (not attempted yet / correct / not yet, with a hint) and never the
expected value (see :mod:`course.checks._selfcheck`):

1. :func:`q1`: ``attention_weights(q, k)``, the softmax of the scaled scores,
   :math:`\\mathrm{softmax}(q k^\\top / \\sqrt{d_k})`;
2. :func:`q2`: the number of parameters of ``torch.nn.MultiheadAttention(64, num_heads=8)``,
   :math:`4E^2 + 4E`;
3. :func:`q3`: the shape of one head's attention matrix for a 224 x 224 image cut into 16 x 16
   patches, with a class token.

References: Vaswani et al. (2017), Attention is all you need, NeurIPS 30; Dosovitskiy et al.
(2021), An image is worth 16x16 words, ICLR.

>>> q3(...)
Exercise 3: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from course.checks._selfcheck import Wrong, answered, attempt, exercise

__all__ = ["q1", "q2", "q3"]

_IMAGE, _PATCH = 224, 16
_E, _HEADS = 64, 8


def _as_pair(value) -> tuple[int, int]:
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise Wrong("give the shape as a pair of ints, (rows, columns)") from None
    if len(pair) != 2:
        raise Wrong(f"an attention matrix has 2 axes (queries, keys); you gave {len(pair)}")
    return pair


@exercise(
    3,
    correct="one row per query token, one column per key token: the cost of attention grows "
    "with the square of the number of patches.",
)
def q3(answer) -> None:
    """Check the shape ``(rows, columns)`` of one head's attention matrix (one image)."""
    rows, cols = _as_pair(answered(answer))
    side = _IMAGE // _PATCH
    tokens = side * side
    if rows != cols:
        raise Wrong("in self-attention the queries and the keys are the same tokens: the matrix "
                    "is square")  # fmt: skip
    if rows == _IMAGE or rows == _IMAGE * _IMAGE:
        raise Wrong("a token is a 16 x 16 patch, not a pixel")
    if rows == side:
        raise Wrong("that is the number of patches along one side of the image; the matrix has "
                    "one row per token, and every patch is a token")  # fmt: skip
    if rows == tokens:
        raise Wrong("right number of patches; did you count the class token too?")
    if rows != tokens + 1:
        raise Wrong("count the 16 x 16 patches that tile the 224 x 224 image (along each side, "
                    "then in total), then add the class token")  # fmt: skip


def _reference(q: np.ndarray, k: np.ndarray, scale: float) -> np.ndarray:
    scores = q @ k.T / scale
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@exercise(
    1,
    correct="without the 1/sqrt(d_k) the scores of long vectors grow, the softmax saturates "
    "and its gradients vanish.",
)
def q1(attention_weights) -> None:
    """Check ``attention_weights(q, k)`` = ``softmax(q k^T / sqrt(d_k))`` over the keys."""
    rng = np.random.default_rng(12)
    q, k = rng.normal(size=(3, 16)), rng.normal(size=(5, 16))
    result = attempt(attention_weights, q.copy(), k.copy())
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().cpu().numpy()
    try:
        got = np.array(result, dtype=float)
    except (TypeError, ValueError):
        raise Wrong(f"return an array of numbers, got a {type(result).__name__}") from None
    d_k = q.shape[1]
    if got.shape == (5, 3):
        raise Wrong("one row per query: compute q @ k.T (shape (L, S)), not k @ q.T")
    if got.shape != (3, 5):
        raise Wrong(f"for q of shape (3, {d_k}) and k of shape (5, {d_k}) the weights have one "
                    f"row per query and one column per key; got shape {got.shape}")  # fmt: skip
    if not np.allclose(got.sum(axis=1), 1.0):
        raise Wrong("each row (one query) should sum to 1: apply the softmax over the keys, "
                    "the last axis")  # fmt: skip
    if np.allclose(got, _reference(q, k, 1.0)):
        raise Wrong("the scores are not scaled: divide q @ k.T by the square root of d_k")
    if np.allclose(got, _reference(q, k, float(d_k))):
        raise Wrong("divide by the square root of d_k, not by d_k itself")
    if not np.allclose(got, _reference(q, k, math.sqrt(d_k))):
        raise Wrong("the weights differ from softmax(q @ k.T / sqrt(d_k)) taken row by row")


@exercise(
    2,
    correct="four E x E projections (queries, keys, values, output) and their biases; the "
    "number of heads does not change it.",
)
def q2(answer) -> None:
    """Check the parameter count of ``torch.nn.MultiheadAttention(64, num_heads=8)``."""
    value = answered(answer)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise Wrong(f"give the count as an int, got a {type(value).__name__}")
    E = _E
    expected = 4 * E * E + 4 * E
    if value == expected:
        return
    if value == 4 * E * E:
        raise Wrong("each of the projections also has a bias vector")
    if value in (3 * E * E + 3 * E, 3 * E * E):
        raise Wrong("queries, keys and values are projected, and so is the concatenated output")
    if value in (expected * _HEADS, 4 * E * E * _HEADS, expected // _HEADS):
        raise Wrong("heads split the 64 features into 8 groups of 8: they share the "
                    "projections, they do not multiply or divide them")  # fmt: skip
    raise Wrong("count the query, key, value and output projections: each is an E x E matrix "
                "plus a bias of E values")  # fmt: skip
