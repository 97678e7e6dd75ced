"""Self-checks of lecture 05 (pooling, CNN architectures): a verdict and a hint, never the answer.

Three exercises of ``notebooks/lectures/05_pooling_and_architectures.ipynb``:

1. :func:`q1`: the output of a :math:`2 \\times 2` max pooling (stride 2) of the
   :math:`4 \\times 4` input :data:`Q1_INPUT`, worked out by hand,
   :math:`y_{i,j} = \\max_{0 \\le m, n < 2} x_{2i + m,\\, 2j + n}`;
2. :func:`q2`: the receptive field of the stack :data:`Q2_LAYERS` (3x3 convolution, 2x2 max
   pooling, 3x3 convolution, 2x2 max pooling, 3x3 convolution), predicted before it is measured,
   :math:`r = 1 + \\sum_l D_l (K_l - 1) \\prod_{i < l} S_i`;
3. :func:`q3`: a two-line function that counts the parameters of a fully connected layer after
   flattening :math:`C` maps of :math:`H \\times W` into :math:`n` units,
   :math:`(C H W + 1)\\, n`.

Each check prints "not attempted yet", "correct" or "not yet" with a hint (see
:mod:`course.checks._selfcheck`). References: LeCun et al. (1998), Gradient-based learning applied
to document recognition, Proc. IEEE 86 (pooling, the dense head); Luo et al. (2016),
Understanding the effective receptive field in deep convolutional neural networks, NeurIPS 29.

>>> q2(...)
Exercise 2: not attempted yet. Replace the ... with your answer, run again.
"""

from __future__ import annotations

import numpy as np

from course.arithmetic import linear_params, receptive_field
from course.checks._common import as_array, as_int
from course.checks._selfcheck import Wrong, attempt, converted, exercise

__all__ = ["Q1_INPUT", "Q2_LAYERS", "q1", "q2", "q3"]

#: The 4x4 input of exercise 1 (the lecture prints it).
Q1_INPUT = np.array([[1, 6, 2, 0], [4, 3, 7, 5], [9, 2, 1, 3], [0, 8, 4, 6]], dtype=float)
#: The stack of exercise 2, input to output, as ``(kernel_size, stride)``.
Q2_LAYERS = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]
#: Exercise 3's cases ``(channels, height, width, units)``: the first is the lecture's question.
Q3_CASES = [(32, 8, 8, 100), (64, 16, 16, 256), (512, 7, 7, 4096), (3, 1, 1, 10), (1, 5, 5, 1)]
_POSITIONS = {
    (0, 0): "top-left",
    (0, 1): "top-right",
    (1, 0): "bottom-left",
    (1, 1): "bottom-right",
}


def _windows(x: np.ndarray) -> np.ndarray:
    """The 2x2 windows of a 4x4 array, shape (2, 2, 4): one row of four values per window."""
    return x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)


@exercise(1, correct="each 2x2 window keeps only its largest value: 16 values become 4.")
def q1(answer) -> None:
    """Check the 2x2 max pooling (stride 2) of :data:`Q1_INPUT`, given as a 2x2 array or list."""
    got = converted(as_array, answer, "your answer")
    if got.shape != (2, 2):
        raise Wrong(
            f"your answer has shape {got.shape}: 2x2 windows with stride 2 cut the 4x4 input "
            "into four windows, one output value each (give two rows of two numbers)"
        )
    windows = _windows(Q1_INPUT)
    expected = windows.max(axis=-1)
    if np.array_equal(got, expected):
        return
    if np.allclose(got, windows.mean(axis=-1)):
        raise Wrong(
            "those are the means of the windows (average pooling): max pooling keeps "
            "the largest value of each window"
        )
    if np.array_equal(got, windows.min(axis=-1)):
        raise Wrong("those are the smallest values of the windows: max pooling keeps the largest")
    if np.array_equal(got, expected.T):
        raise Wrong(
            "rows and columns are swapped: output row i comes from input rows 2i and "
            "2i + 1, output column j from input columns 2j and 2j + 1"
        )
    wrong = [_POSITIONS[i, j] for i, j in zip(*np.nonzero(got != expected), strict=True)]
    values = "value is" if len(wrong) == 1 else "values are"
    raise Wrong(
        f"the {' and '.join(wrong)} {values} not right: the output value at (i, j) is the "
        "maximum of input rows 2i, 2i + 1 and columns 2j, 2j + 1"
    )


@exercise(2, correct="every layer after a stride-2 pooling adds twice as many input pixels.")
def q2(answer) -> None:
    """Check the predicted receptive field of :data:`Q2_LAYERS` (one int: pixels per side)."""
    got = converted(as_int, answer, "the receptive field")
    expected = receptive_field(Q2_LAYERS)
    if got == expected:
        return
    no_strides = 1 + sum(k - 1 for k, _ in Q2_LAYERS)
    kernels = sum(k for k, _ in Q2_LAYERS)
    if got == no_strides:
        raise Wrong(
            "you added K - 1 for every layer, but after a stride-2 pooling one step of "
            "the next layer moves 2 input pixels (4 after two poolings): multiply each "
            "layer's K - 1 by the product of the strides before it"
        )
    if got in (kernels, kernels + 1):
        raise Wrong(
            "a layer widens the field by K - 1 pixels (a 3x3 conv on a 1-pixel field "
            "gives 3 = 1 + 2), not by K; and strides before a layer multiply its growth"
        )
    own_strides = 1 + sum(
        (k - 1) * int(np.prod([s for _, s in Q2_LAYERS[: i + 1]]))
        for i, (k, _) in enumerate(Q2_LAYERS)
    )
    if got == own_strides:
        raise Wrong(
            "a layer's own stride does not widen its own field: multiply K - 1 by the "
            "strides of the layers *before* it only"
        )
    raise Wrong(
        "go layer by layer from the input: r starts at 1, each layer adds D (K - 1) "
        "times the product of the earlier strides (the formula above the first "
        "receptive-field cell); you can check with the gradient probe"
    )


@exercise(3, correct="(C H W + 1) n: the dense head grows with the image, a pooled head does not.")
def q3(dense_params) -> None:
    """Check ``dense_params(channels, height, width, units)`` on :data:`Q3_CASES`."""
    for c, h, w, n in Q3_CASES:
        got = converted(as_int, attempt(dense_params, c, h, w, n), f"dense_params{(c, h, w, n)}")
        expected = linear_params(c * h * w, n)
        if got == expected:
            continue
        case = f"dense_params{(c, h, w, n)} returned {got:,}"
        if got == c * h * w * n:
            raise Wrong(f"{case}: only the weights; each of the {n} units also has a bias")
        if got in ((c + 1) * n, c * n):
            raise Wrong(
                f"{case}: flattening keeps every position, so the layer has C x H x W inputs, not C"
            )
        if got == c * h * w * n + c * h * w:
            raise Wrong(f"{case}: one bias per unit (output), not per input")
        if got in (c * h * w + n, c * h * w + n + 1):
            raise Wrong(f"{case}: every input connects to every unit: multiply, don't add")
        raise Wrong(f"{case}: count the weights (inputs x units) and the biases (one per unit)")
