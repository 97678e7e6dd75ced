"""Grad-CAM and MC dropout."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course
from course.explain import grad_cam, mc_dropout_predict
from course.models import SimpleCNN

# -------------------------------------------------------------------------------- Grad-CAM


def two_detector_net() -> nn.Sequential:
    """A hand-built classifier: class 0 = "bright object" detector, class 1 = "dark object".

    The 1x1 convolution makes two feature maps, ReLU(x) (bright pixels) and ReLU(-x) (dark
    pixels); global average pooling and an identity linear layer turn them into the logits.
    """
    conv = nn.Conv2d(1, 2, kernel_size=1)
    head = nn.Linear(2, 2)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
        conv.bias.zero_()
        head.weight.copy_(torch.eye(2))
        head.bias.zero_()
    return nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)


def left_bright_right_dark(n=2, size=32):
    x = torch.zeros(n, 1, size, size)
    x[:, :, 8:24, 2:14] = 1.0  # a bright object in the left half
    x[:, :, 10:20, 19:29] = -0.5  # a smaller dark object in the right half
    return x


def test_grad_cam_highlights_the_region_of_the_class():
    net = two_detector_net()
    x = left_bright_right_dark()
    left, right = slice(0, 16), slice(16, 32)
    heat0 = grad_cam(net, net[1], x, class_idx=0)
    heat1 = grad_cam(net, net[1], x, class_idx=1)
    assert heat0.shape == (2, 32, 32) and heat0.dtype == np.float32
    for heat, good, bad in ((heat0, left, right), (heat1, right, left)):
        assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
        mass_good = heat[:, :, good].sum(axis=(1, 2))
        mass_bad = heat[:, :, bad].sum(axis=(1, 2))
        assert np.all(mass_good > 0.95 * (mass_good + mass_bad))
    # the predicted class is the bright one (mean 0.1875 > 0.049): class_idx=None explains it
    np.testing.assert_array_equal(grad_cam(net, net[1], x), heat0)
    # one class per image
    both = grad_cam(net, net[1], x, class_idx=[0, 1])
    np.testing.assert_array_equal(both[0], heat0[0])
    np.testing.assert_array_equal(both[1], heat1[1])


def test_grad_cam_equals_cam_for_global_average_pooling():
    """For features -> GAP -> linear, Grad-CAM is CAM (Zhou et al., 2016): sum_k W[c, k] A_k."""
    course.seed_everything(0)
    net = SimpleCNN(1, 3, channels=(4, 6), kernel_size=3, global_pool=True).eval()
    x = torch.randn(3, 1, 20, 28)
    with torch.no_grad():
        features = net.features(x)  # (3, 6, 5, 7)
        weight = net.classifier[-1].weight.detach()  # (3, 6)
        logits = net(x)
    for c in range(3):
        cam = F.relu(torch.einsum("k,nkhw->nhw", weight[c], features))[:, None]
        cam = F.interpolate(cam, size=(20, 28), mode="bilinear", align_corners=False)[:, 0]
        peak = cam.amax(dim=(1, 2), keepdim=True)
        expected = torch.where(peak > 0, cam / peak, torch.zeros_like(cam)).numpy()
        heat = grad_cam(net, net.features[-1], x, class_idx=c)
        np.testing.assert_allclose(heat, expected, atol=1e-5)
    predicted = [grad_cam(net, net.features[-1], x[i : i + 1], int(k))[0]
                 for i, k in enumerate(logits.argmax(1))]  # fmt: skip
    np.testing.assert_allclose(grad_cam(net, net.features[-1], x), np.stack(predicted), atol=1e-6)


def test_grad_cam_zero_map_side_effects_and_3d():
    net = two_detector_net()
    net.train()
    x = left_bright_right_dark()
    # no evidence for either class in a blank image: all-zero heatmaps, no NaN
    blank = grad_cam(net, net[1], torch.zeros(2, 1, 32, 32), class_idx=1)
    assert np.array_equal(blank, np.zeros_like(blank))
    assert net.training  # mode restored
    assert all(p.grad is None for p in net.parameters())  # no gradient left behind
    for p in net.parameters():  # frozen weights (feature extraction) still work
        p.requires_grad_(False)
    with torch.no_grad():  # and so does a caller's no_grad block
        heat = grad_cam(net, net[1], x, class_idx=0)
    assert heat[:, :, :16].sum() > 0.95 * heat.sum()

    net3 = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                         nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 2))  # fmt: skip
    heat3 = grad_cam(net3, net3[2], torch.randn(2, 1, 8, 10, 12))
    assert heat3.shape == (2, 8, 10, 12) and heat3.min() >= 0 and heat3.max() <= 1


def test_grad_cam_errors():
    net = two_detector_net()
    x = left_bright_right_dark()
    with pytest.raises(ValueError, match="submodule"):
        grad_cam(net, nn.ReLU(), x)
    with pytest.raises(ValueError, match="feature map"):
        grad_cam(net, net[4], x)  # the linear layer's output is not a map
    with pytest.raises(ValueError, match="class_idx"):
        grad_cam(net, net[1], x, class_idx=2)
    with pytest.raises(ValueError, match="class_idx"):
        grad_cam(net, net[1], x, class_idx=[0, 1, 0])
    with pytest.raises(TypeError, match="class_idx"):
        grad_cam(net, net[1], x, class_idx="cat")
    with pytest.raises(TypeError, match="torch.Tensor"):
        grad_cam(net, net[1], x.numpy())
    with pytest.raises(ValueError, match="shape"):
        grad_cam(net, net[1], x[0])
    with pytest.raises(TypeError, match="Module"):
        grad_cam(net, "layer4", x)
    seg = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU())
    with pytest.raises(ValueError, match="num_classes"):
        grad_cam(seg, seg[0], x)  # a segmentation output is not (N, classes)

    class Skips(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.Conv2d(1, 1, 1)
            self.net = two_detector_net()

        def forward(self, x):
            return self.net(x)

    model = Skips()
    with pytest.raises(ValueError, match="not called"):
        grad_cam(model, model.unused, x)


# ----------------------------------------------------------------------------- MC dropout


def dropout_net(p=0.5, out=3):
    return nn.Sequential(
        nn.Linear(4, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(p), nn.Linear(32, out)
    )


def reference_mc(model, x, n, seed, single_output=False):
    """The definition, with NumPy: T stochastic passes, softmax/sigmoid, mean and std (ddof=0)."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    torch.manual_seed(seed)
    with torch.no_grad():
        logits = np.stack([model(x).double().numpy() for _ in range(n)])
    if single_output:
        probs = 1 / (1 + np.exp(-logits))
    else:
        e = np.exp(logits - logits.max(axis=2, keepdims=True))
        probs = e / e.sum(axis=2, keepdims=True)
    return probs.mean(axis=0), probs.std(axis=0)


@pytest.mark.parametrize("out", [3, 1])
def test_mc_dropout_matches_definition(out):
    course.seed_everything(0)
    model = dropout_net(out=out)
    x = torch.randn(6, 4)
    mean, std = mc_dropout_predict(model, x, n_samples=15, seed=7)
    ref_mean, ref_std = reference_mc(model, x, 15, seed=7, single_output=out == 1)
    np.testing.assert_allclose(mean.numpy(), ref_mean, atol=1e-6)
    np.testing.assert_allclose(std.numpy(), ref_std, atol=1e-6)
    assert mean.shape == std.shape == (6, out)
    assert (std > 0).any()


def test_mc_dropout_zero_p_seed_mode_and_batchnorm():
    course.seed_everything(0)
    model = dropout_net(p=0.0)
    x = torch.randn(5, 4)
    model.train()
    running = model[1].running_mean.clone()
    mean, std = mc_dropout_predict(model, x, n_samples=8)
    assert torch.equal(std, torch.zeros_like(std))  # no dropout: every pass is identical
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(mean, torch.softmax(model(x), dim=1))

    model = dropout_net(p=0.5)
    model.train()
    model[0].eval()  # a mixed state must come back exactly as it was
    before = {m: m.training for m in model.modules()}
    running = model[1].running_mean.clone()
    counter = model[1].num_batches_tracked.clone()
    state = torch.get_rng_state()
    a = mc_dropout_predict(model, x, n_samples=10, seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # the global random state is untouched
    b = mc_dropout_predict(model, x, n_samples=10, seed=3)
    c = mc_dropout_predict(model, x, n_samples=10, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    assert (a[1] > 0).all()
    assert {m: m.training for m in model.modules()} == before
    assert torch.equal(model[1].running_mean, running)  # BatchNorm in eval: stats not updated
    assert torch.equal(model[1].num_batches_tracked, counter)


def test_mc_dropout_segmentation_output():
    from course.models import UNet

    course.seed_everything(0)
    net = UNet(1, 2, depth=2, base_channels=4, dropout=0.3)
    mean, std = mc_dropout_predict(net, torch.randn(1, 1, 16, 16), n_samples=4, seed=0)
    assert mean.shape == std.shape == (1, 2, 16, 16)
    torch.testing.assert_close(mean.sum(dim=1), torch.ones(1, 16, 16))  # softmax over classes
    assert std.max() > 0


def test_mc_dropout_errors():
    with pytest.raises(ValueError, match="dropout"):
        mc_dropout_predict(nn.Linear(4, 2), torch.randn(2, 4))
    with pytest.raises(ValueError, match="n_samples"):
        mc_dropout_predict(dropout_net(), torch.randn(2, 4), n_samples=0)
    with pytest.raises(TypeError, match="Module"):
        mc_dropout_predict(None, torch.randn(2, 4))
    with pytest.raises(TypeError, match="Tensor"):
        mc_dropout_predict(dropout_net(), np.zeros((2, 4)))
