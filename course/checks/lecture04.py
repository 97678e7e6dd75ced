"""Self-checks of lecture 04 (convolution): cross-correlation, parameter count, output size.

Each check prints a verdict (see :mod:`course.checks._selfcheck`) and never the expected value:

- :func:`q1`: ``correlate(x, k)``, the "valid" 2D cross-correlation of deep learning (no kernel
  flip), :math:`Y(m, n) = \\sum_{i, j} X(m + i, n + j)\\, K(i, j)`, output
  ``(H - k_h + 1, W - k_w + 1)``;
- :func:`q2`: the number of parameters of ``torch.nn.Conv2d(16, 32, kernel_size=5)``,
  :math:`C_{out} (k^2 C_{in} + 1)`;
- :func:`q3`: ``output_size(w, k, s, p)``, :math:`\\lfloor (W - K + 2P) / S \\rfloor + 1`.
"""

from __future__ import annotations

import itertools

import numpy as np

from course.checks._common import as_array
from course.checks._selfcheck import Wrong, answered, attempt, converted, exercise, number

__all__ = ["q1", "q2", "q3"]

#: The image and kernel shapes of :func:`q1` (square, rectangular, a 1 x 1 kernel, a full fit).
_CORRELATE_SHAPES = (((6, 6), (3, 3)), ((5, 8), (2, 3)), ((4, 4), (1, 1)), ((3, 5), (3, 5)))

#: The layer of :func:`q2`: C_in, C_out, kernel size.
_LAYER = (16, 32, 5)

#: The (W, K, S, P) of :func:`q3`: every combination of these.
_SIZES = tuple(itertools.product((7, 8, 32), (1, 3, 5), (1, 2, 3), (0, 1, 2)))


def _valid_correlation(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The reference: window by window, as the formula reads."""
    kh, kw = k.shape
    out = np.empty((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for m, n in np.ndindex(out.shape):
        out[m, n] = np.sum(x[m : m + kh, n : n + kw] * k)
    return out


@exercise(1, correct="a cross-correlation: the kernel slides unflipped, one dot product each.")
def q1(correlate) -> None:
    """Check ``correlate(x, k)`` against a window-by-window loop on four shapes."""
    rng = np.random.default_rng(0)
    for x_shape, k_shape in _CORRELATE_SHAPES:
        x, k = rng.normal(size=x_shape), rng.normal(size=k_shape)
        got = converted(as_array, attempt(correlate, x.copy(), k.copy()), "correlate(x, k)")
        expected = _valid_correlation(x, k)
        if got.shape != expected.shape:
            raise Wrong(
                f"an image {x_shape} and a kernel {k_shape} gave shape {got.shape}: 'valid' "
                "means the kernel stays inside the image, no padding"
            )
        if np.allclose(got, expected):
            continue
        if np.allclose(got, _valid_correlation(x, k[::-1, ::-1])):
            raise Wrong("that is the true convolution (kernel flipped): deep learning's is not")
        raise Wrong(
            f"wrong values for an image {x_shape} and a kernel {k_shape}: compare one output "
            "pixel with the formula, Y(m, n) = sum of X(m + i, n + j) K(i, j)"
        )


@exercise(2, correct="C_out (k^2 C_in + 1): the weights of every filter, plus one bias each.")
def q2(answer) -> None:
    """Check the parameter count of ``Conv2d(16, 32, kernel_size=5)`` (with bias)."""
    value = number(answered(answer), "the number of parameters")
    c_in, c_out, k = _LAYER
    if value == c_out * (k * k * c_in + 1):
        return
    if value != round(value):
        raise Wrong("a count of parameters is a whole number")
    if value == c_out * k * k * c_in:
        raise Wrong("the weights are right; each filter also has a bias")
    if value == c_in * (k * k * c_out + 1):
        raise Wrong("one bias per filter, i.e. per output channel")
    if value in (k * k * c_in, k * k * c_in + 1):
        raise Wrong("that is one filter: the layer has one filter per output channel")
    if value in (c_out * (k * k + 1), c_out * k * k):
        raise Wrong("each filter has one k x k slice per input channel")
    if value in (c_out * (k * c_in + 1), c_out * k * c_in):
        raise Wrong("a k x k slice has k squared weights")
    raise Wrong("count one filter (its weights and its bias), then multiply by the filters")


def _positions(w: int, k: int, s: int, p: int) -> int:
    """How many places a kernel of size k fits, stepping by s over w + 2p (a count, no formula)."""
    return sum(1 for start in range(0, w + 2 * p, s) if start + k <= w + 2 * p)


@exercise(3, correct="floor((W - K + 2P) / S) + 1: the last incomplete step is dropped.")
def q3(output_size) -> None:
    """Check ``output_size(w, k, s, p)`` on 108 combinations of sizes, strides and paddings."""
    for w, k, s, p in _SIZES:
        call = f"output_size(w={w}, k={k}, s={s}, p={p})"
        value = number(attempt(output_size, w, k, s, p), call)
        expected = _positions(w, k, s, p)
        if value == expected:
            continue
        if value != round(value):
            raise Wrong(f"{call} is not a whole number: a size counts positions (floor, //)")
        if value == (w - k + p) // s + 1:
            raise Wrong(f"{call}: padding adds P pixels on both sides of the image")
        if value == expected - 1:
            raise Wrong(f"{call}: try W = K, no padding, where the kernel fits exactly once")
        if value == -(-(w - k + 2 * p) // s) + 1:
            raise Wrong(f"{call}: rounding up counts a step that does not fit in the image")
        raise Wrong(f"{call} is wrong: draw the positions for W = 7, K = 3, S = 2 and count")
