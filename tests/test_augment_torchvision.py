"""MixUp, CutMix and random erasing from scratch, compared with ``torchvision.transforms.v2``.

The two libraries draw their randomness differently (NumPy generator and a random permutation
here; torch's global generator and ``roll(1)`` pairing in torchvision), so no output is compared
draw by draw. What is compared is what both must satisfy:

* the mixing law, for the lambda and the pairing :math:`\\pi` recovered from the labels:
  :math:`\\tilde x_i = \\lambda x_i + (1 - \\lambda) x_{\\pi(i)}` (MixUp, Zhang et al., 2018) and
  :math:`\\tilde x_i = M \\odot x_i + (1 - M) \\odot x_{\\pi(i)}` with the label weight
  :math:`\\lambda' = 1 - |\\text{box}| / |\\text{image}|` (CutMix, Yun et al., 2019);
* distributions over many draws at a fixed seed: MixUp's lambda against ``scipy.stats.beta``,
  CutMix's pasted area, random erasing's box (Zhong et al., 2020) against its configured ranges.

Labels are one-hot over ``K = N`` classes with sample ``i`` in class ``i``, so that row ``i`` of
the mixed labels holds :math:`\\lambda` at column ``i`` and :math:`1 - \\lambda` at column
:math:`\\pi(i)`: both the weight and the partner can be read back.
"""

import numpy as np
import pytest
import torch
from scipy import stats
from torchvision.transforms import v2

from course.augment import cutmix, mixup, random_erasing

DRAWS = 2000  # draws per distribution; the KS tests need p > P_MIN to pass
P_MIN = 1e-3


# ------------------------------------------------------------------------------------- helpers
def one_hot_batch(n=8, shape=(3, 12, 14), seed=0):
    """Random float64 images ``(N, *shape)`` and one-hot labels ``(N, N)`` (class ``i`` = ``i``)."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand((n, *shape), generator=g, dtype=torch.float64)
    return images, torch.eye(n, dtype=torch.float64)


def ours(name, **params):
    """Our function as ``f(images, labels, seed) -> (images, labels)``."""
    function = {"mixup": mixup, "cutmix": cutmix}[name]
    return lambda images, labels, seed: function(images, labels, rng=seed, **params)


def theirs(name, **params):
    """torchvision's transform, seeded through torch's global generator (then restored)."""
    transform = {"mixup": v2.MixUp, "cutmix": v2.CutMix}[name](**params)

    def call(images, labels, seed):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return transform(images, labels)

    return call


IMPLEMENTATIONS = ["ours", "torchvision"]


def implementation(who, name, **params):
    return (ours if who == "ours" else theirs)(name, **params)


def weights_and_partners(soft):
    """``(lam_i, pi)`` from one-hot-derived labels: row ``i`` is ``lam_i e_i + (1-lam_i) e_pi(i)``.

    ``pi(i) = i`` when row ``i`` is still one-hot (paired with itself, or nothing pasted).
    """
    soft = np.asarray(soft, dtype=float)
    lam = np.diag(soft).copy()
    others = soft - np.diag(lam)
    partners = np.where(others.max(axis=1) > 0, others.argmax(axis=1), np.arange(len(soft)))
    assert ((others != 0).sum(axis=1) <= 1).all()  # at most one partner per sample
    np.testing.assert_allclose(others[np.arange(len(soft)), partners], 1 - lam, rtol=0, atol=0)
    return lam, partners


def mixup_lambda(soft):
    """The batch's lambda: the weight of any sample paired with another one (None if none)."""
    lam, partners = weights_and_partners(soft)
    moved = partners != np.arange(len(partners))
    return float(lam[moved][0]) if moved.any() else None


def pasted_box(original, mixed):
    """The pixels of every sample that no longer hold the original, as a boolean ``(N, H, W)``."""
    return (np.asarray(mixed) != np.asarray(original)).any(axis=1)


def erased_box(out):
    """``(h, w)`` of the zero box in an image of ones (``(0, 0)`` if nothing was erased)."""
    zero = np.asarray(out).reshape(np.shape(out)[-2:]) == 0
    rows, cols = zero.any(axis=1), zero.any(axis=0)
    np.testing.assert_array_equal(zero, np.outer(rows, cols))  # one axis-aligned rectangle
    return int(rows.sum()), int(cols.sum())


# ------------------------------------------------------------------------ (a) the mixing law
@pytest.mark.parametrize("who", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", range(5))
def test_mixup_law(who, seed):
    images, labels = one_hot_batch(seed=seed)
    mixed, soft = implementation(who, "mixup", alpha=1.0)(images, labels, seed)
    lam, partners = weights_and_partners(soft)
    moved = partners != np.arange(len(partners))
    assert moved.any() and np.all(lam[moved] == lam[moved][0])  # one lambda per batch
    lam = lam[moved][0]
    expected = lam * images + (1 - lam) * images[torch.as_tensor(partners)]
    torch.testing.assert_close(torch.as_tensor(mixed), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("who", IMPLEMENTATIONS)
@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_class_indices_give_the_same_labels_as_one_hot(who, name):
    images, labels = one_hot_batch(seed=3)
    run = implementation(who, name, alpha=1.0, num_classes=len(labels))
    _, from_one_hot = run(images, labels, 3)
    _, from_indices = run(images, torch.arange(len(labels)), 3)
    np.testing.assert_allclose(np.asarray(from_indices), np.asarray(from_one_hot), atol=1e-6)
    np.testing.assert_allclose(np.asarray(from_indices).sum(axis=1), 1.0, atol=1e-6)


# ----------------------------------------- (b) CutMix: label weight = fraction left original
@pytest.mark.parametrize("who", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", range(8))
def test_cutmix_label_weight_is_the_original_fraction(who, seed):
    images, labels = one_hot_batch(shape=(2, 20, 24), seed=seed)  # (N, C, H, W), H != W
    mixed, soft = implementation(who, "cutmix", alpha=1.0)(images, labels, seed)
    lam, partners = weights_and_partners(soft)
    changed = pasted_box(images, mixed)
    moved = partners != np.arange(len(partners))
    box = changed[moved].any(axis=0) if moved.any() else np.zeros(changed.shape[1:], bool)
    np.testing.assert_array_equal(box, np.outer(box.any(axis=1), box.any(axis=0)))  # a box
    for i, j in enumerate(partners):
        inside = box if j != i else np.zeros_like(box)
        np.testing.assert_array_equal(changed[i], inside)  # one box for the whole batch
        expected = torch.where(torch.as_tensor(inside), images[j], images[i])
        torch.testing.assert_close(torch.as_tensor(mixed[i]), expected, rtol=0, atol=0)
        assert lam[i] == pytest.approx(1 - inside.mean(), abs=1e-12)


# ------------------------------------------------------------ (c) distributions over draws
def mixup_lambdas(who, alpha, draws=DRAWS):
    images, labels = one_hot_batch(n=8, shape=(1, 2, 2))
    run = implementation(who, "mixup", alpha=alpha)
    found = (mixup_lambda(run(images, labels, seed)[1]) for seed in range(draws))
    return np.array([lam for lam in found if lam is not None])  # None: identity pairing


@pytest.mark.parametrize("alpha", [0.4, 1.0, 2.0])
def test_mixup_lambda_is_beta_in_both(alpha):
    """Zhang et al. (2018): lambda ~ Beta(alpha, alpha), one draw per batch."""
    here, there = mixup_lambdas("ours", alpha), mixup_lambdas("torchvision", alpha)
    assert len(here) > 0.99 * DRAWS and len(there) == DRAWS
    assert stats.kstest(here, stats.beta(alpha, alpha).cdf).pvalue > P_MIN
    assert stats.kstest(there, stats.beta(alpha, alpha).cdf).pvalue > P_MIN
    assert stats.ks_2samp(here, there).pvalue > P_MIN


def cutmix_areas(who, alpha=1.0, draws=DRAWS, side=64):
    """The pasted fraction of the image, ``1 - lambda'``, read from the labels."""
    images, labels = torch.zeros(8, 1, side, side, dtype=torch.float64), torch.eye(8).double()
    run = implementation(who, "cutmix", alpha=alpha)
    areas = []
    for seed in range(draws):
        lam, partners = weights_and_partners(run(images, labels, seed)[1])
        moved = partners != np.arange(len(partners))
        areas.append(1 - lam[moved][0] if moved.any() else 0.0)
    return np.array(areas)


def yun_areas(alpha=1.0, draws=50_000, side=64, seed=0):
    """Pasted fractions of the published CutMix (Yun et al., 2019, Algorithm A1 and the authors'
    ``rand_bbox``): box sides ``int(side sqrt(1 - lambda))`` centred on a uniform pixel, clipped
    at the border.
    """
    rng = np.random.default_rng(seed)
    cut = (side * np.sqrt(1 - rng.beta(alpha, alpha, draws))).astype(int) // 2
    centres = rng.integers(0, side, (2, draws))
    lengths = np.clip(centres + cut, 0, side) - np.clip(centres - cut, 0, side)
    return lengths.prod(axis=0) / side**2


@pytest.mark.parametrize("who", ["ours", "torchvision"])
def test_cutmix_mean_area_matches_yun_et_al(who):
    assert cutmix_areas(who).mean() == pytest.approx(yun_areas().mean(), abs=0.03)


def test_cutmix_area_distributions_agree():
    assert stats.ks_2samp(cutmix_areas("ours"), cutmix_areas("torchvision")).pvalue > P_MIN


# --------------------------------------------------------------------------- random erasing
SIDE = 64
SIZE = (0.15, 0.5)  # ours: side fractions -> areas in [0.0225, 0.25], aspect in [0.3, 3.33]
SCALE, RATIO = (0.02, 0.33), (0.3, 3.3)  # torchvision's defaults (area fraction, h / w)


def erased_boxes(who, draws=DRAWS, **params):
    """``(h, w)`` of the erased box over many draws on a ``SIDE x SIDE`` image of ones."""
    if who == "ours":
        rng = np.random.default_rng(0)
        image = np.ones((SIDE, SIDE))
        return [erased_box(random_erasing(image, rng=rng, **params)[0]) for _ in range(draws)]
    transform = v2.RandomErasing(p=1.0, value=0, **params)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return [erased_box(transform(torch.ones(1, SIDE, SIDE))) for _ in range(draws)]


def consistent(h, w, area, ratio):
    """Whether a real box rounded to ``(h, w)`` pixels can have area fraction in ``area`` and
    aspect ratio ``h / w`` in ``ratio`` (each side is off by at most half a pixel).
    """
    lo_area, hi_area = (h - 0.5) * (w - 0.5) / SIDE**2, (h + 0.5) * (w + 0.5) / SIDE**2
    lo_ratio, hi_ratio = (h - 0.5) / (w + 0.5), (h + 0.5) / (w - 0.5)
    return (
        lo_area <= area[1] and hi_area >= area[0] and lo_ratio <= ratio[1] and hi_ratio >= ratio[0]
    )


@pytest.mark.parametrize("who", IMPLEMENTATIONS)
def test_erased_box_is_inside_the_configured_ranges(who):
    if who == "ours":
        boxes = erased_boxes(who, size=SIZE)
        area, ratio = (SIZE[0] ** 2, SIZE[1] ** 2), (SIZE[0] / SIZE[1], SIZE[1] / SIZE[0])
    else:
        boxes = erased_boxes(who, scale=SCALE, ratio=RATIO)
        area, ratio = SCALE, RATIO
    erased = [(h, w) for h, w in boxes if h * w > 0]  # torchvision gives up after 10 misfits
    assert len(erased) > 0.95 * len(boxes)
    assert all(consistent(h, w, area, ratio) for h, w in erased)
    fractions = np.array([h * w for h, w in erased]) / SIDE**2
    assert fractions.min() < area[0] + 0.02 and fractions.max() > area[1] - 0.05  # range used


@pytest.mark.parametrize(
    "who",
    [
        pytest.param(
            "ours",
            marks=pytest.mark.xfail(
                strict=True,
                reason="a documented simplification (random_erasing's docstring): ours draws "
                "each side's fraction from `size`, so the area is a product of two uniforms; "
                "Zhong et al. draw the area S_e ~ U(s_l, s_h) S and the aspect ratio separately",
            ),
        ),
        "torchvision",
    ],
)
def test_erased_area_is_uniform_over_its_range(who):
    """Zhong et al. (2020), Algorithm 1: :math:`S_e \\sim \\mathcal{U}(s_l, s_h)\\, S`. With
    aspect ratios in [0.5, 2] every box fits the image, so no draw is rejected.
    """
    if who == "ours":
        area = (SIZE[0] ** 2, SIZE[1] ** 2)
        boxes = erased_boxes(who, size=SIZE)
    else:
        area = SCALE
        boxes = erased_boxes(who, scale=SCALE, ratio=(0.5, 2.0))
    fractions = np.array([h * w for h, w in boxes]) / SIDE**2
    law = stats.uniform(area[0], area[1] - area[0])
    assert stats.kstest(fractions, law.cdf).pvalue > P_MIN
