"""The training loop, evaluation, prediction and sliding-window inference."""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import course
from course.train import EarlyStopping, evaluate, fit, predict, sliding_window_inference

CPU = torch.device("cpu")


def blobs(n=96, seed=0, flip=False):
    """Two Gaussian blobs in 2D, labels 0/1 (``flip`` swaps the labels)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) + 2.0 * (2 * y[:, None] - 1)
    return x, (1 - y) if flip else y


def loaders(batch_size=16, **kwargs):
    x, y = blobs(**kwargs)
    train = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    xv, yv = blobs(seed=1)
    val = DataLoader(TensorDataset(xv, yv), batch_size=batch_size)
    return train, val, (xv, yv)


def accuracy(logits, target):
    return (logits.argmax(dim=1) == target).float().mean().item()


def mlp():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


# ------------------------------------------------------------------------------------ fit


def test_fit_two_epochs_history_and_metrics():
    course.seed_everything(0)
    train, val, (xv, yv) = loaders()
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    history = fit(
        model, train, val, nn.CrossEntropyLoss(), opt, epochs=2, device="cpu",
        metrics={"acc": accuracy}, progress=False,
    )  # fmt: skip
    assert set(history) == {"train_loss", "val_loss", "val_acc", "lr"}
    assert all(len(v) == 2 for v in history.values())
    assert history["lr"] == [0.05, 0.05]
    # the last epoch's validation numbers, recomputed independently from the final weights
    logits = predict(model, xv, device="cpu")
    assert history["val_acc"][-1] == pytest.approx(accuracy_score(yv.numpy(), logits.argmax(1)))
    assert history["val_loss"][-1] == pytest.approx(F.cross_entropy(logits, yv).item(), rel=1e-5)
    assert history["val_acc"][-1] > 0.9  # the blobs are well separated
    assert history["train_loss"][1] < history["train_loss"][0]


def test_fit_seed_makes_a_run_repeatable_and_is_recorded():
    def run(seed):
        torch.manual_seed(0)  # the same initial weights every time
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
        train, val, _ = loaders()
        history = fit(
            model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1),
            epochs=2, device="cpu", progress=False, seed=seed,
        )  # fmt: skip
        return history

    first, again, other = run(7), run(7), run(8)
    assert first.seed == 7 and other.seed == 8 and run(None).seed is None
    assert first == again  # same seed: same batches, same dropout masks, same numbers
    assert first["train_loss"] != other["train_loss"]  # another seed: another run
    assert "seed=7" in repr(first) and isinstance(first, dict)


def test_seed_everything_deterministic_mode():
    assert not torch.are_deterministic_algorithms_enabled()
    try:
        course.seed_everything(1, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] in (":4096:8", ":16:8")
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
    with pytest.raises(TypeError, match="deterministic must be a bool"):
        course.seed_everything(1, deterministic="yes")


def test_fit_train_loss_is_the_sample_mean():
    """With lr = 0 the weights never move: train_loss is the plain mean loss over all samples."""
    course.seed_everything(0)
    x, y = blobs(n=50)  # 50 = 3 batches of 16 + one of 2: the weighting by batch size matters
    model = mlp()
    history = fit(
        model, DataLoader(TensorDataset(x, y), batch_size=16), loss_fn=nn.CrossEntropyLoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0), epochs=1, device="cpu",
        progress=False,
    )  # fmt: skip
    with torch.no_grad():
        expected = F.cross_entropy(model(x), y).item()
    assert history["train_loss"][0] == pytest.approx(expected, rel=1e-6)
    assert set(history) == {"train_loss", "lr"}


def test_early_stopping_stops_after_patience():
    course.seed_everything(0)
    train, val, _ = loaders()
    model = mlp()
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # the val loss can never improve
    history = fit(
        model, train, val, nn.CrossEntropyLoss(), frozen, epochs=20, device="cpu",
        early_stopping=2, progress=False,
    )  # fmt: skip
    assert len(history["val_loss"]) == 3  # epoch 1 is the best, epochs 2 and 3 do not improve

    stopper = EarlyStopping(patience=3, monitor="val_acc", mode="max")
    history = fit(
        model, train, val, nn.CrossEntropyLoss(), frozen, epochs=20, device="cpu",
        metrics={"acc": accuracy}, early_stopping=stopper, progress=False,
    )  # fmt: skip
    assert len(history["val_acc"]) == 4 and stopper.stopped and stopper.best_epoch == 0


def test_early_stopping_restores_best_weights_and_checkpoint(tmp_path):
    """Training on flipped labels makes the validation loss worse every epoch."""
    course.seed_everything(0)
    train, val, (xv, yv) = loaders(flip=True)
    path = tmp_path / "best.pt"

    def run(restore_best):
        course.seed_everything(0)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        stopper = EarlyStopping(patience=2, restore_best=restore_best)
        history = fit(
            model, train, val, nn.CrossEntropyLoss(), opt, epochs=10, device="cpu",
            early_stopping=stopper, checkpoint=path, progress=False,
        )  # fmt: skip
        final = F.cross_entropy(predict(model, xv, device="cpu"), yv).item()
        return model, history, final

    model, history, final = run(restore_best=True)
    best = int(np.argmin(history["val_loss"]))
    assert best < len(history["val_loss"]) - 1  # it did get worse after the best epoch
    assert final == pytest.approx(min(history["val_loss"]), rel=1e-5)
    assert path.exists()
    fresh = mlp()
    fresh.load_state_dict(torch.load(path, weights_only=True))
    loss = F.cross_entropy(predict(fresh, xv, device="cpu"), yv).item()
    assert loss == pytest.approx(min(history["val_loss"]), rel=1e-5)

    _, history, final = run(restore_best=False)
    assert final == pytest.approx(history["val_loss"][-1], rel=1e-5)


def test_fit_schedulers():
    course.seed_everything(0)
    train, val, _ = loaders()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    step = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, train, val, nn.CrossEntropyLoss(), opt, 3, "cpu", scheduler=step,
                  progress=False)  # fmt: skip
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])

    # an optimiser over a parameter outside the model: the val loss stays constant, so
    # ReduceLROnPlateau (patience 0) halves the lr after the first epoch without improvement
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    history = fit(model, train, val, nn.CrossEntropyLoss(), opt, 3, "cpu", scheduler=plateau,
                  progress=False)  # fmt: skip
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05])


def test_fit_dict_batches_and_default_optimizer():
    course.seed_everything(0)
    x, y = blobs()
    batches = [{"image": x[i : i + 32], "label": y[i : i + 32]} for i in range(0, 96, 32)]
    model = mlp()
    history = fit(model, batches, batches, nn.CrossEntropyLoss(), epochs=3, device="cpu",
                  progress=False)  # fmt: skip
    assert history["lr"] == [1e-3] * 3  # Adam(lr=1e-3)
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_progress_bars(capsys):
    train, val, _ = loaders()
    fit(mlp(), train, val, nn.CrossEntropyLoss(), epochs=1, device="cpu", progress=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    fit(mlp(), train, val, nn.CrossEntropyLoss(), epochs=1, device="cpu", progress=True)
    out, err = capsys.readouterr()
    assert "epochs" in out + err


def test_fit_default_device_is_course_device():
    train, _, _ = loaders()
    model = mlp()
    fit(model, train, loss_fn=nn.CrossEntropyLoss(), epochs=1, progress=False)
    assert next(model.parameters()).device.type == course.get_device().type
    model.to("cpu")


def test_fit_errors():
    train, val, _ = loaders()
    ce = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="loss_fn"):
        fit(mlp(), train, val, epochs=1, progress=False)
    with pytest.raises(TypeError, match="model"):
        fit(lambda x: x, train, val, ce, epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(mlp(), train, val, ce, epochs=0, progress=False)
    with pytest.raises(ValueError, match="val_loader"):
        fit(mlp(), train, None, ce, epochs=1, metrics={"acc": accuracy}, progress=False)
    with pytest.raises(ValueError, match="val_loss"):
        fit(mlp(), train, None, ce, epochs=1, early_stopping=2, progress=False)
    with pytest.raises(ValueError, match="val_dice"):
        stopper = EarlyStopping(monitor="val_dice", mode="max")
        fit(mlp(), train, val, ce, epochs=1, early_stopping=stopper, progress=False)
    with pytest.raises(TypeError, match="metrics"):
        fit(mlp(), train, val, ce, epochs=1, metrics=[accuracy], progress=False)
    with pytest.raises(ValueError, match="no batches"):
        fit(mlp(), [], None, ce, epochs=1, device="cpu", progress=False)
    with pytest.raises(TypeError, match="batch"):
        fit(mlp(), [3.0], None, ce, epochs=1, device="cpu", progress=False)
    x, y = blobs()
    x[5, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="epoch 1"):
        fit(mlp(), [(x, y)], None, ce, epochs=1, device="cpu", progress=False)


def test_early_stopping_object():
    s = EarlyStopping(patience=1, min_delta=0.1, mode="min")
    assert [s.step(v) for v in (1.0, 0.95)] == [False, True]  # 0.05 is not enough improvement
    s = EarlyStopping(patience=2, mode="max")
    assert [s.step(v) for v in (0.5, 0.7, 0.6, 0.7)] == [False, False, False, True]
    assert s.best == 0.7 and s.best_epoch == 1
    s.reset()
    assert s.best_epoch == -1 and not s.stopped
    for kwargs in (dict(patience=0), dict(mode="up"), dict(min_delta=-1.0)):
        with pytest.raises(ValueError):
            EarlyStopping(**kwargs)
    with pytest.raises(TypeError, match="patience"):
        EarlyStopping(patience=2.5)


# ----------------------------------------------------------------------- evaluate, predict


def test_evaluate_and_predict():
    course.seed_everything(0)
    x, y = blobs(n=50)
    model = mlp().train()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    result = evaluate(model, loader, nn.CrossEntropyLoss(), {"acc": accuracy}, "cpu")
    with torch.no_grad():
        logits = model(x)
    assert result["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    assert result["acc"] == pytest.approx(accuracy_score(y.numpy(), logits.argmax(1).numpy()))
    assert model.training  # mode restored
    torch.testing.assert_close(predict(model, loader, "cpu"), logits)
    torch.testing.assert_close(predict(model, x, "cpu", batch_size=7), logits)
    assert predict(model, x, "cpu").device == CPU
    assert model.training
    assert set(evaluate(model, loader, metrics={"acc": accuracy}, device="cpu")) == {"acc"}

    dropout_net = nn.Sequential(nn.Linear(2, 50), nn.Dropout(0.5), nn.Linear(50, 2))
    torch.testing.assert_close(predict(dropout_net, x, "cpu"), predict(dropout_net, x, "cpu"))


def test_evaluate_predict_errors():
    with pytest.raises(ValueError, match="no batches"):
        evaluate(mlp(), [], nn.CrossEntropyLoss(), device="cpu")
    with pytest.raises(ValueError, match="empty"):
        predict(mlp(), [], "cpu")
    with pytest.raises(ValueError, match="batch_size"):
        predict(mlp(), torch.zeros(3, 2), "cpu", batch_size=0)
    with pytest.raises(TypeError, match="model"):
        predict(None, torch.zeros(3, 2), "cpu")


# ---------------------------------------------------------------- sliding-window inference


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(5, 40),
    w=st.integers(5, 40),
    ph=st.integers(4, 24),
    pw=st.integers(4, 24),
    overlap=st.sampled_from([0.0, 0.25, 0.5, 0.75]),
    blend=st.sampled_from(["gaussian", "constant"]),
    seed=st.integers(0, 1000),
)
def test_sliding_window_equals_full_image_for_pointwise_model(h, w, ph, pw, overlap, blend, seed):
    torch.manual_seed(seed)
    conv = nn.Conv2d(2, 3, kernel_size=1)  # translation-equivariant, no context: exact
    x = torch.randn(2, 2, h, w)
    y = sliding_window_inference(conv, x, (ph, pw), overlap=overlap, blend=blend, batch_size=3)
    with torch.no_grad():
        expected = conv(x)
    assert y.shape == (2, 3, h, w)
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("blend", ["gaussian", "constant"])
def test_sliding_window_3d_and_padding(blend):
    torch.manual_seed(0)
    conv = nn.Conv3d(1, 2, kernel_size=1)
    x = torch.randn(1, 1, 11, 30, 5)  # depth 5 < patch 8: padded, then cropped
    y = sliding_window_inference(conv, x, patch_size=8, overlap=0.5, blend=blend)
    with torch.no_grad():
        torch.testing.assert_close(y, conv(x), atol=1e-5, rtol=1e-5)


def test_sliding_window_covers_every_pixel_and_edges():
    class Ones(nn.Module):  # outputs 1 on every pixel of every patch
        def forward(self, x):
            return torch.ones_like(x[:, :1])

    class Seen(nn.Module):  # outputs each patch's own input: 0 where a pixel was never predicted
        def forward(self, x):
            return x

    x = torch.ones(1, 1, 37, 53)
    for blend in ("gaussian", "constant"):
        y = sliding_window_inference(Ones(), x, (16, 16), overlap=0.0, blend=blend)
        assert torch.equal(y, torch.ones_like(y))  # no NaN: every pixel covered
        z = sliding_window_inference(Seen(), x, (16, 20), overlap=0.0, blend=blend)
        torch.testing.assert_close(z, x)  # the last windows sit flush with the far edges


def test_sliding_window_patch_equal_to_image_is_exact_for_any_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1))
    net.train()
    x = torch.randn(2, 1, 24, 24)
    y = sliding_window_inference(net, x, 24)
    with torch.no_grad():
        torch.testing.assert_close(y, net.eval()(x))
    net.train()
    sliding_window_inference(net, x, 12)
    assert net.training  # mode restored


def test_sliding_window_errors():
    conv = nn.Conv2d(1, 1, 1)
    x = torch.zeros(1, 1, 20, 20)
    with pytest.raises(TypeError, match="image"):
        sliding_window_inference(conv, x.numpy(), 8)
    with pytest.raises(ValueError, match="shape"):
        sliding_window_inference(conv, torch.zeros(20, 20), 8)
    with pytest.raises(ValueError, match="patch_size"):
        sliding_window_inference(conv, x, (8, 8, 8))
    with pytest.raises(ValueError, match="patch_size"):
        sliding_window_inference(conv, x, 0)
    with pytest.raises(ValueError, match="overlap"):
        sliding_window_inference(conv, x, 8, overlap=1.0)
    with pytest.raises(ValueError, match="blend"):
        sliding_window_inference(conv, x, 8, blend="linear")
    with pytest.raises(ValueError, match="batch_size"):
        sliding_window_inference(conv, x, 8, batch_size=0)
    with pytest.raises(ValueError, match="sigma_scale"):
        sliding_window_inference(conv, x, 8, sigma_scale=0)
    with pytest.raises(ValueError, match="output"):
        sliding_window_inference(nn.Conv2d(1, 1, 3), x, 8)  # shrinks 8 -> 6


@pytest.mark.parametrize("shape", [(0, 1, 20, 20), (0, 1, 8, 8, 8), (1, 1, 0, 20)])
def test_sliding_window_empty_image_is_a_value_error(shape):
    # a batch of 0 images used to fail with a TypeError (None / tensor) after the loop
    with pytest.raises(ValueError, match=rf"image must not be empty, got shape \({shape[0]}, "):
        sliding_window_inference(nn.Conv2d(1, 2, 1), torch.zeros(shape), 8)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(patch_size=8.5), TypeError, "patch_size"),
        (dict(patch_size=(8, 8.0)), TypeError, "patch_size"),
        (dict(patch_size=8, batch_size=2.0), TypeError, "batch_size"),
        (dict(patch_size=8, overlap="0.5"), TypeError, "overlap"),
        (dict(patch_size=8, blend=1), TypeError, "blend"),
        (dict(patch_size=8, sigma_scale=float("nan")), ValueError, "sigma_scale"),
    ],
)
def test_sliding_window_argument_types(kwargs, error, name):
    with pytest.raises(error, match=name):
        sliding_window_inference(nn.Conv2d(1, 2, 1), torch.zeros(1, 1, 20, 20), **kwargs)
