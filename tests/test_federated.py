"""FedAvg against hand computations; the simulated sites, local training and the federation."""

import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course import federated as fl
from course.federated import fedavg
from course.federated.training import _local_seed as local_seed


# --- fedavg ----------------------------------------------------------------------------------
def hand_fedavg(states, weights):
    """The weighted mean of every entry, in plain Python floats, written out."""
    total = float(sum(weights))
    result = {}
    for key in states[0]:
        flat = [s[key].double().reshape(-1).tolist() for s in states]
        values = [
            sum(w * f[i] for w, f in zip(weights, flat, strict=True)) / total
            for i in range(len(flat[0]))
        ]
        result[key] = np.array(values).reshape(tuple(states[0][key].shape))
    return result


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(shapes, min_size=1, max_size=4),
    st.lists(st.integers(0, 500), min_size=1, max_size=5).filter(lambda w: sum(w) > 0),
    st.integers(0, 10_000),
)
def test_fedavg_matches_a_hand_computation(key_shapes, weights, seed):
    g = torch.Generator().manual_seed(seed)
    states = [
        {f"layer{j}.weight": torch.randn(shape, generator=g) for j, shape in enumerate(key_shapes)}
        for _ in weights
    ]
    before = copy.deepcopy(states)
    got = fedavg(states, weights)
    expected = hand_fedavg(states, weights)
    assert list(got) == list(states[0])
    for key in expected:
        assert got[key].dtype == torch.float32 and got[key].shape == states[0][key].shape
        np.testing.assert_allclose(got[key].double().numpy(), expected[key], rtol=1e-6, atol=1e-6)
    for old, new in zip(before, states, strict=True):  # inputs unchanged
        assert all(torch.equal(old[k], new[k]) for k in old)


def test_equal_weights_give_the_plain_mean_and_scale_does_not_matter():
    g = torch.Generator().manual_seed(1)
    states = [{"w": torch.randn(3, 4, generator=g, dtype=torch.float64)} for _ in range(3)]
    mean = torch.stack([s["w"] for s in states]).mean(dim=0)
    torch.testing.assert_close(fedavg(states, [1, 1, 1])["w"], mean)
    torch.testing.assert_close(fedavg(states, [7.5, 7.5, 7.5])["w"], mean)
    torch.testing.assert_close(fedavg(states, [1, 2, 3])["w"], fedavg(states, [10, 20, 30])["w"])


def test_one_client_is_the_identity_and_a_zero_weight_ignores_a_client():
    a = {"w": torch.tensor([1.5, -2.0]), "n": torch.tensor(7)}
    b = {"w": torch.tensor([100.0, 100.0]), "n": torch.tensor(99)}
    alone = fedavg([a], [42])
    assert torch.equal(alone["w"], a["w"]) and alone["w"] is not a["w"]
    assert torch.equal(alone["n"], a["n"])
    assert torch.equal(fedavg([a, b], [3, 0])["w"], a["w"])


def test_three_numbers_weighted_by_client_size():
    states = [{"w": torch.tensor(v, dtype=torch.float64)} for v in (0.2, 0.5, 0.8)]
    # (100 * 0.2 + 300 * 0.5 + 600 * 0.8) / 1000 = 0.65
    assert fedavg(states, [100, 300, 600])["w"].item() == pytest.approx(0.65)


def test_integer_buffers_are_rounded_and_keep_their_dtype():
    states = [{"n": torch.tensor(10)}, {"n": torch.tensor(13)}]
    assert fedavg(states, [1, 1])["n"].item() == 12  # 11.5 -> 12 (halves to even)
    assert fedavg(states, [3, 1])["n"].item() == 11  # 10.75 -> 11
    states = [{"n": torch.tensor([10, 20])}, {"n": torch.tensor([20, 20])}]
    out = fedavg(states, [1, 3])["n"]
    assert out.dtype == torch.int64 and out.tolist() == [18, 20]  # 17.5 -> 18
    masks = [{"m": torch.tensor([True, False])}, {"m": torch.tensor([True, True])}]
    out = fedavg(masks, [1, 3])["m"]
    assert out.dtype == torch.bool and out.tolist() == [True, True]


def test_state_dicts_with_batch_norm_load_back():
    g = torch.Generator().manual_seed(0)
    models = [fl.small_cnn(batch_norm=True) for _ in range(3)]
    for model in models:  # different running statistics and counts
        model.train()
        for _ in range(int(torch.randint(1, 4, (1,), generator=g))):
            model(torch.randn(4, 1, 16, 16, generator=g))
    states = [m.state_dict() for m in models]
    sizes = [5, 10, 20]
    averaged = fedavg(states, sizes)
    target = fl.small_cnn(batch_norm=True)
    target.load_state_dict(averaged)  # strict: same keys, shapes, dtypes
    expected = hand_fedavg(states, sizes)
    for key, value in target.state_dict().items():
        if key.endswith("num_batches_tracked"):
            assert value.dtype == torch.int64
            assert value.item() == round(float(expected[key]))
        else:
            np.testing.assert_allclose(value.double().numpy(), expected[key], atol=1e-6)


def test_float16_and_float64_keep_their_dtype():
    for dtype in (torch.float16, torch.float64):
        states = [{"w": torch.ones(2, dtype=dtype)}, {"w": torch.full((2,), 3.0, dtype=dtype)}]
        out = fedavg(states, [1, 1])["w"]
        assert out.dtype == dtype and out.tolist() == [2.0, 2.0]


@pytest.mark.parametrize(
    "states, weights, error, match",
    [
        ([{"a": torch.ones(1)}, {"b": torch.ones(1)}], [1, 1], ValueError, r"missing \['a'\]"),
        ([{"a": torch.ones(1)}, {"a": torch.ones(2)}], [1, 1], ValueError, "shape"),
        (
            [{"a": torch.ones(1)}, {"a": torch.ones(1, dtype=torch.int64)}],
            [1, 1],
            ValueError,
            "dtype",
        ),  # fmt: skip
        ([{"a": torch.ones(1)}], [1, 1], ValueError, "one entry per state dict"),
        ([{"a": torch.ones(1)}, {"a": torch.ones(1)}], [1, -1], ValueError, r"weights\[1\]"),
        ([{"a": torch.ones(1)}, {"a": torch.ones(1)}], [0, 0], ValueError, "all be zero"),
        ([{"a": torch.ones(1)}], [float("nan")], ValueError, r"weights\[0\]"),
        ([{"a": torch.ones(1)}], [True], TypeError, r"weights\[0\]"),
        ([{"a": torch.ones(1)}], ["3"], TypeError, r"weights\[0\]"),
        ([{"a": torch.ones(1)}], 3, TypeError, "weights must be a sequence"),
        ([], [], ValueError, "at least one"),
        ({"a": torch.ones(1)}, [1], TypeError, "state_dicts must be a list"),
        ([[1, 2]], [1], TypeError, r"state_dicts\[0\]"),
        ([{"a": [1.0]}, {"a": [2.0]}], [1, 1], TypeError, "must be a tensor"),
    ],
)
def test_fedavg_rejects_bad_input(states, weights, error, match):
    with pytest.raises(error, match=match):
        fedavg(states, weights)


# --- data ------------------------------------------------------------------------------------
def test_lesion_patches_are_deterministic_and_balanced():
    hu, labels = fl.lesion_patches(9, seed=3)
    again, _ = fl.lesion_patches(9, seed=3)
    assert hu.shape == (9, 16, 16) and hu.dtype == np.float32
    assert labels.tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 0]
    np.testing.assert_array_equal(hu, again)
    assert not np.array_equal(hu, fl.lesion_patches(9, seed=4)[0])
    # the centre of a lesion patch differs from its surroundings more than a tissue patch's
    centre = hu[:, 7:9, 7:9].mean(axis=(1, 2))
    ring = np.median(hu.reshape(9, -1), axis=1)
    contrast = np.abs(centre - ring)
    assert contrast[1::2].mean() > 2 * contrast[0::2].mean()


def test_acquire_applies_the_scanner_formula():
    hu = np.array([[[-500.0, -160.0], [40.0, 400.0]]])
    scanner = fl.Scanner("test", gain=1.5, offset=-0.2, noise=0.0, blur=0.0)
    expected = 1.5 * np.clip((hu - (40 - 200)) / 400, 0, 1) - 0.2
    np.testing.assert_allclose(fl.acquire(hu, scanner).numpy()[:, 0], expected, atol=1e-6)
    noisy = fl.Scanner("noisy", noise=0.1)
    flat = np.zeros((2000, 4, 4))
    sample = fl.acquire(flat, noisy, seed=1).numpy()
    assert sample.std() == pytest.approx(0.1, rel=0.05)
    with pytest.raises(TypeError, match="scanner"):
        fl.acquire(hu, "A")


def test_make_sites():
    sites = fl.make_sites((12, 6), n_test=8, scanners=fl.SCANNERS[:2], seed=5)
    assert [s.n_train for s in sites] == [12, 6] and [s.name for s in sites] == [
        fl.SCANNERS[0].name,
        fl.SCANNERS[1].name,
    ]
    for site in sites:
        assert site.train_images.shape[1:] == (1, 16, 16) and len(site.test_labels) == 8
        labels = torch.cat([site.train_labels, site.test_labels])
        assert labels.sum().item() == len(labels) // 2  # half lesions
    again = fl.make_sites((12, 6), n_test=8, scanners=fl.SCANNERS[:2], seed=5)
    assert torch.equal(sites[1].train_images, again[1].train_images)
    with pytest.raises(ValueError, match="same, non-zero length"):
        fl.make_sites((12, 6, 3), n_test=8, scanners=fl.SCANNERS[:2])
    with pytest.raises(ValueError, match="n_train"):
        fl.make_sites((1,), scanners=fl.SCANNERS[:1])


# --- training --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sites():
    return fl.make_sites((24, 16, 8), n_test=12, scanners=fl.SCANNERS[:3], seed=0)


def test_local_train_is_deterministic_and_learns(sites):
    site = sites[0]
    torch.manual_seed(0)
    start = fl.small_cnn()
    a = fl.local_train(copy.deepcopy(start), site.train_images, site.train_labels, 3, seed=1)
    b = fl.local_train(copy.deepcopy(start), site.train_images, site.train_labels, 3, seed=1)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    assert not torch.equal(a[1].weight, start[1].weight)
    loss = nn.functional.cross_entropy
    trained = fl.local_train(copy.deepcopy(start), site.train_images, site.train_labels, 15)
    with torch.no_grad():
        before = loss(start(site.train_images), site.train_labels)
        after = loss(trained(site.train_images), site.train_labels)
    assert after < before


def test_local_train_rejects_bad_input(sites):
    site = sites[0]
    with pytest.raises(TypeError, match="model"):
        fl.local_train("net", site.train_images, site.train_labels)
    with pytest.raises(ValueError, match="same, non-zero length"):
        fl.local_train(fl.small_cnn(), site.train_images, site.train_labels[:3])
    with pytest.raises(ValueError, match="lr"):
        fl.local_train(fl.small_cnn(), site.train_images, site.train_labels, lr=0)


def test_federated_training_is_fedavg_of_local_copies(sites):
    torch.manual_seed(0)
    start = fl.small_cnn()
    got, history = fl.federated_training(start, sites, rounds=2, local_epochs=1, seed=3)
    # the same rounds written out, with the average computed by hand
    current = copy.deepcopy(start)
    for r in range(2):
        states = []
        for k, site in enumerate(sites):
            local = copy.deepcopy(current)
            fl.local_train(local, site.train_images, site.train_labels, 1, seed=local_seed(3, r, k))
            states.append(local.state_dict())
        averaged = hand_fedavg(states, [s.n_train for s in sites])
        current.load_state_dict({k: torch.from_numpy(v).float() for k, v in averaged.items()})
    for key, value in got.state_dict().items():
        torch.testing.assert_close(value, current.state_dict()[key], atol=1e-5, rtol=1e-5)
    assert len(history) == 2 and all(0 <= h <= 1 for h in history)
    with pytest.raises(ValueError, match="rounds"):
        fl.federated_training(start, sites, rounds=0)
    with pytest.raises(TypeError, match=r"sites\[0\]"):
        fl.federated_training(start, ["A"])


def test_one_site_one_round_is_local_training(sites):
    torch.manual_seed(1)
    start = fl.small_cnn()
    fed, _ = fl.federated_training(start, sites[:1], rounds=1, local_epochs=2, seed=0)
    local = fl.local_train(
        copy.deepcopy(start), sites[0].train_images, sites[0].train_labels, 2, seed=0
    )
    for key, value in fed.state_dict().items():
        torch.testing.assert_close(value, local.state_dict()[key])


def test_baselines_and_evaluation(sites):
    torch.manual_seed(2)
    models = fl.compare_training(fl.small_cnn(), sites, rounds=1, local_epochs=1, seed=0)
    assert list(models) == ["federated", "centralised"] + [f"local only, {s.name}" for s in sites]
    images, labels = fl.pooled(sites, "test")
    assert len(labels) == 36 and images.shape == (36, 1, 16, 16)
    model = models["centralised"]
    model.train()
    p = fl.predict_proba(model, images)
    assert model.training  # mode restored
    with torch.no_grad():
        model.eval()
        expected = torch.softmax(model(images).double(), dim=1)[:, 1].numpy()
    np.testing.assert_allclose(p, expected, rtol=1e-6)
    assert fl.accuracy(model, images, labels) == pytest.approx(
        float(np.mean((expected >= 0.5) == labels.numpy().astype(bool)))
    )
    table = fl.cross_site_accuracy(models, sites)
    assert table.shape == (len(models), len(sites))
    row = [fl.accuracy(model, s.test_images, s.test_labels) for s in sites]
    np.testing.assert_allclose(table[1], row)
    with pytest.raises(ValueError, match="split"):
        fl.pooled(sites, "validation")
