"""Losses: values at perfect predictions, gradients, agreement with the metrics, and
equality with PyTorch's and torchvision's cross-entropy / focal losses where they coincide.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.class_weight import compute_class_weight
from torchvision.ops import sigmoid_focal_loss

from course.losses import (
    DiceCELoss,
    FocalLoss,
    class_weights_from_labels,
    focal_loss,
    soft_dice_loss,
    weighted_cross_entropy,
)
from course.metrics import dice, dice_per_class


def confident_logits(target_onehot, scale=40.0):
    """Logits that put (almost) all probability on the target: +scale / -scale."""
    return (2 * target_onehot.float() - 1) * scale


# ------------------------------------------------------------------ perfect predictions
def test_perfect_prediction_gives_zero_loss():
    gen = torch.Generator().manual_seed(0)
    binary = (torch.rand(2, 1, 8, 8, generator=gen) > 0.5).float()
    logits = confident_logits(binary)
    assert soft_dice_loss(logits, binary).item() == pytest.approx(0, abs=1e-6)
    assert soft_dice_loss(logits, binary[:, 0]).item() == pytest.approx(0, abs=1e-6)
    assert DiceCELoss()(logits, binary).item() == pytest.approx(0, abs=1e-6)
    assert focal_loss(logits, binary).item() == pytest.approx(0, abs=1e-6)
    # the opposite prediction: Dice 0 when nothing overlaps (smooth=0)
    assert soft_dice_loss(-logits, binary, smooth=0).item() == pytest.approx(1, abs=1e-6)

    labels = torch.randint(0, 4, (2, 6, 7, 5), generator=gen)  # 3D, 4 classes
    onehot = F.one_hot(labels, 4).movedim(-1, 1)
    logits = confident_logits(onehot)
    assert soft_dice_loss(logits, labels).item() == pytest.approx(0, abs=1e-6)
    assert soft_dice_loss(logits, onehot.float()).item() == pytest.approx(0, abs=1e-6)
    assert DiceCELoss()(logits, labels).item() == pytest.approx(0, abs=1e-6)
    assert FocalLoss()(logits, labels).item() == pytest.approx(0, abs=1e-6)
    assert weighted_cross_entropy(logits, labels, [1, 2, 3, 4]).item() == pytest.approx(0, abs=1e-6)


def test_soft_dice_hand_computed():
    probs = torch.tensor([[[0.9, 0.2, 0.6, 0.0]], [[0.1, 0.1, 0.1, 0.1]]])  # (N=2, C=1, 4)
    target = torch.tensor([[[1.0, 0.0, 1.0, 0.0]], [[0.0, 0.0, 0.0, 0.0]]])
    # sample 0: (2 * 1.5 + 1) / (1.7 + 2 + 1); sample 1: (0 + 1) / (0.4 + 0 + 1)
    dice0, dice1 = 4 / 4.7, 1 / 1.4
    loss = soft_dice_loss(probs, target, from_logits=False, reduction="none")
    np.testing.assert_allclose(loss.numpy().ravel(), [1 - dice0, 1 - dice1], rtol=1e-6)
    assert soft_dice_loss(probs, target, from_logits=False).item() == pytest.approx(
        1 - (dice0 + dice1) / 2
    )
    assert soft_dice_loss(probs, target, from_logits=False, reduction="sum").item() == (
        pytest.approx(2 - dice0 - dice1)
    )


def test_logits_and_probabilities_and_target_forms_agree():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 4, 5, 6, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 4, (3, 5, 6), generator=gen)
    onehot = F.one_hot(labels, 4).movedim(-1, 1).double()
    expected = soft_dice_loss(logits, labels)
    assert torch.allclose(soft_dice_loss(logits.softmax(1), labels, from_logits=False), expected)
    assert torch.allclose(soft_dice_loss(logits, onehot), expected)
    per_class = soft_dice_loss(logits, labels, reduction="none")
    assert per_class.shape == (3, 4)
    no_background = soft_dice_loss(logits, labels, include_background=False)
    assert torch.allclose(no_background, per_class[:, 1:].mean())
    binary = logits[:, :1]
    target = (labels[:, None] == 1).double()
    assert torch.allclose(
        soft_dice_loss(binary.sigmoid(), target, from_logits=False), soft_dice_loss(binary, target)
    )


# ------------------------------------------------------------------ agreement with the metric
@settings(max_examples=30, deadline=None)
@given(
    st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)).flatmap(
        lambda s: st.tuples(arrays(bool, s), arrays(bool, s))
    )
)
def test_soft_dice_with_hard_predictions_is_one_minus_dice(pair):
    pred, target = pair
    for n in range(pred.shape[0]):  # per sample, as the loss averages per sample
        logits = confident_logits(torch.from_numpy(pred[n]))[None, None].double()
        loss = soft_dice_loss(logits, torch.from_numpy(target[n])[None, None], smooth=1e-6)
        assert loss.item() == pytest.approx(1 - dice(pred[n], target[n]), abs=1e-4)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_multiclass_soft_dice_is_one_minus_mean_dice_per_class(seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.integers(0, 3, (5, 6)), rng.integers(0, 3, (5, 6))
    logits = confident_logits(F.one_hot(torch.from_numpy(pred), 3).movedim(-1, 0))[None]
    loss = soft_dice_loss(logits.double(), torch.from_numpy(target)[None], smooth=1e-6)
    assert loss.item() == pytest.approx(1 - dice_per_class(pred, target, 3).mean(), abs=1e-4)


def test_loss_decreases_as_the_prediction_improves():
    target = torch.zeros(1, 1, 16, 16)
    target[..., 4:12, 4:12] = 1
    losses, scores = [], []
    for shift in (8, 6, 4, 2, 0):  # a square sliding onto the target
        pred = torch.roll(target, shifts=shift, dims=3)
        logits = confident_logits(pred, scale=3.0)  # not saturated: a soft prediction
        losses.append(soft_dice_loss(logits, target).item())
        scores.append(dice(pred.numpy(), target.numpy()))
    assert all(np.diff(scores) > 0)
    assert all(np.diff(losses) < 0)


@pytest.mark.parametrize(
    "loss_fn",
    [soft_dice_loss, DiceCELoss(), DiceCELoss(lambda_dice=0.3, lambda_ce=2.0), FocalLoss()],
)
def test_gradient_descent_on_the_loss_improves_dice(loss_fn):
    gen = torch.Generator().manual_seed(2)
    target = torch.zeros(2, 1, 12, 12)
    target[:, :, 3:9, 2:7] = 1
    logits = torch.randn(2, 1, 12, 12, generator=gen, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.3)
    start = dice((logits > 0).detach().numpy(), target.numpy())
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        loss = loss_fn(logits, target)
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
    assert loss.item() < first
    assert dice((logits > 0).detach().numpy(), target.numpy()) > max(start, 0.9)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "compute",
    [
        lambda x, y: soft_dice_loss(x, y),
        lambda x, y: soft_dice_loss(x, y, include_background=False),
        lambda x, y: DiceCELoss(class_weights=[1.0, 2.0, 0.5])(x, y),
        lambda x, y: focal_loss(x, y, gamma=2.0, alpha=[0.2, 0.3, 0.5]),
        lambda x, y: weighted_cross_entropy(x, y, [1.0, 2.0, 0.5]),
    ],
)
def test_gradients_flow(compute):
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 6, 6, generator=gen, requires_grad=True)
    labels = torch.randint(0, 3, (2, 6, 6), generator=gen)
    loss = compute(logits, labels)
    assert loss.ndim == 0 and loss.requires_grad
    loss.backward()
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0


# ------------------------------------------------------------------ focal and cross-entropy
def test_focal_gamma_zero_is_cross_entropy():
    gen = torch.Generator().manual_seed(4)
    logits = torch.randn(4, 5, 3, 3, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (4, 3, 3), generator=gen)
    assert torch.allclose(focal_loss(logits, labels, gamma=0), F.cross_entropy(logits, labels))
    weights = torch.rand(5, generator=gen, dtype=torch.float64)
    assert torch.allclose(
        FocalLoss(gamma=0, alpha=weights, reduction="sum")(logits, labels),
        F.cross_entropy(logits, labels, weight=weights, reduction="sum"),
    )
    binary_logits = torch.randn(10, generator=gen, dtype=torch.float64)
    binary_target = (torch.rand(10, generator=gen) > 0.5).double()
    assert torch.allclose(
        focal_loss(binary_logits, binary_target, gamma=0, reduction="none"),
        F.binary_cross_entropy_with_logits(binary_logits, binary_target, reduction="none"),
    )


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.5, 0.8), (3.0, None)])
def test_binary_focal_matches_torchvision(gamma, alpha):
    gen = torch.Generator().manual_seed(5)
    logits = torch.randn(3, 1, 7, 7, generator=gen, dtype=torch.float64)
    target = (torch.rand(3, 1, 7, 7, generator=gen) > 0.7).double()
    expected = sigmoid_focal_loss(
        logits, target, alpha=-1 if alpha is None else alpha, gamma=gamma, reduction="mean"
    )
    assert torch.allclose(focal_loss(logits, target, gamma=gamma, alpha=alpha), expected)


def test_focal_down_weights_easy_examples():
    easy = focal_loss(torch.tensor([4.0]), torch.tensor([1.0]), reduction="sum")
    hard = focal_loss(torch.tensor([-4.0]), torch.tensor([1.0]), reduction="sum")
    ce_easy = F.binary_cross_entropy_with_logits(torch.tensor([4.0]), torch.tensor([1.0]))
    ce_hard = F.binary_cross_entropy_with_logits(torch.tensor([-4.0]), torch.tensor([1.0]))
    assert easy / hard < ce_easy / ce_hard / 100


def test_dice_ce_is_the_weighted_sum():
    gen = torch.Generator().manual_seed(6)
    logits = torch.randn(2, 3, 5, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 3, (2, 5, 5), generator=gen)
    weights = torch.tensor([0.5, 1.0, 3.0])
    loss = DiceCELoss(lambda_dice=0.7, lambda_ce=1.5, class_weights=weights)(logits, labels)
    expected = 0.7 * soft_dice_loss(logits, labels) + 1.5 * F.cross_entropy(
        logits, labels, weight=weights.double()
    )
    assert torch.allclose(loss, expected)
    onehot = F.one_hot(labels, 3).movedim(-1, 1).double()
    assert torch.allclose(DiceCELoss(0.7, 1.5, class_weights=weights)(logits, onehot), expected)
    binary = logits[:, :1]
    target = (labels == 1).double()[:, None]
    expected = soft_dice_loss(binary, target) + F.binary_cross_entropy_with_logits(binary, target)
    assert torch.allclose(DiceCELoss()(binary, target), expected)
    assert torch.allclose(DiceCELoss()(binary, target[:, 0].long()), expected)


def test_weighted_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 1])
    w = np.array([3.0, 0.5])
    log_p = logits.numpy() - np.log(np.exp(logits.numpy()).sum(1, keepdims=True))
    terms = -log_p[np.arange(3), labels.numpy()] * w[labels.numpy()]
    expected = terms.sum() / w[labels.numpy()].sum()
    assert weighted_cross_entropy(logits, labels, w.tolist()).item() == pytest.approx(expected)
    assert weighted_cross_entropy(logits, labels, torch.tensor(w), reduction="sum").item() == (
        pytest.approx(terms.sum())
    )


@settings(max_examples=25, deadline=None)
@given(arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 4)))
def test_class_weights_match_sklearn_balanced(labels):
    present = np.unique(labels)
    weights = class_weights_from_labels(labels, num_classes=5)
    expected = compute_class_weight("balanced", classes=present, y=labels)
    # scikit-learn's C counts the classes present; ours counts all num_classes = 5
    np.testing.assert_allclose(weights.numpy()[present] * 5 / present.size, expected, rtol=1e-6)
    absent = np.setdiff1d(np.arange(5), present)
    assert (weights.numpy()[absent] == 0).all()
    assert torch.equal(class_weights_from_labels(torch.from_numpy(labels), 5), weights)


# ------------------------------------------------------------------ errors
def test_loss_errors():
    logits = torch.randn(2, 3, 4, 4)
    labels = torch.randint(0, 3, (2, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        soft_dice_loss(logits, labels[:, :3])
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        soft_dice_loss(logits, labels + 3)
    with pytest.raises(ValueError, match="one-hot"):
        soft_dice_loss(logits, labels.float())
    with pytest.raises(ValueError, match="shape of the logits"):
        soft_dice_loss(logits[:, :1], torch.ones(2, 1, 4, 5))
    with pytest.raises(ValueError, match="probabilities in"):
        soft_dice_loss(logits, labels, from_logits=False)
    with pytest.raises(ValueError, match="smooth"):
        soft_dice_loss(logits, labels, smooth=-1)
    with pytest.raises(ValueError, match="reduction"):
        soft_dice_loss(logits, labels, reduction="average")
    with pytest.raises(TypeError, match="floating-point"):
        soft_dice_loss(labels, labels)
    with pytest.raises(TypeError, match="target"):
        soft_dice_loss(logits, labels.numpy())
    with pytest.raises(ValueError, match=r"\(N, C, \*spatial\)"):
        soft_dice_loss(torch.randn(5), torch.ones(5))
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1)
    with pytest.raises(ValueError, match="one weight per class"):
        focal_loss(logits, labels, alpha=[0.5, 0.5])
    with pytest.raises(ValueError, match="binary alpha"):
        focal_loss(logits, torch.ones_like(logits), alpha=1.5)
    with pytest.raises(ValueError, match="focal_loss expects"):
        focal_loss(logits, labels.float())
    with pytest.raises(ValueError, match="lambda_dice"):
        DiceCELoss(lambda_dice=-1)
    with pytest.raises(ValueError, match="lambda_dice"):
        DiceCELoss(lambda_dice=0, lambda_ce=0)
    with pytest.raises(ValueError, match="class_weights has 2"):
        DiceCELoss(class_weights=[1.0, 2.0])(logits, labels)
    with pytest.raises(ValueError, match="class weights must be"):
        DiceCELoss(class_weights=[1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match="one entry per class"):
        weighted_cross_entropy(logits, labels, [1.0, 2.0])
    with pytest.raises(TypeError, match="integer"):
        weighted_cross_entropy(logits, labels.float(), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="integer class indices"):
        class_weights_from_labels(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        class_weights_from_labels(np.array([0, -1]))
    with pytest.raises(ValueError, match="num_classes=2"):
        class_weights_from_labels(np.array([0, 2]), num_classes=2)
    with pytest.raises(ValueError, match="empty"):
        class_weights_from_labels(np.array([], dtype=int))
