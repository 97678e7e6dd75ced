"""U-Net and CNN classifiers: shapes, parameter counts by hand, padding, a tiny overfit."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import course
from course.models import ConvBlock, SimpleCNN, UNet, count_parameters, layer_table, summary

# ----------------------------------------------------------------------------- U-Net: shapes


@pytest.mark.parametrize("up_mode", ["transpose", "bilinear"])
@pytest.mark.parametrize("norm", ["batch", "instance", None])
def test_unet_2d_odd_size(up_mode, norm):
    course.seed_everything(0)
    net = UNet(2, 3, depth=3, base_channels=4, up_mode=up_mode, norm=norm).eval()
    y = net(torch.randn(2, 2, 37, 45))
    assert y.shape == (2, 3, 37, 45)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("up_mode", ["transpose", "bilinear", "trilinear"])
@pytest.mark.parametrize("norm", ["batch", "instance", None])
def test_unet_3d_shapes(up_mode, norm):
    course.seed_everything(0)
    net = UNet(1, 2, depth=2, base_channels=2, dims=3, up_mode=up_mode, norm=norm).eval()
    assert y_shape(net, (1, 1, 9, 12, 7)) == (1, 2, 9, 12, 7)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv3d)]
    assert convs and not any(isinstance(m, nn.Conv2d) for m in net.modules())
    if up_mode == "transpose":
        assert any(isinstance(m, nn.ConvTranspose3d) for m in net.modules())
    else:
        ups = [m for m in net.modules() if isinstance(m, nn.Upsample)]
        assert ups and all(m.mode == "trilinear" for m in ups)


def y_shape(net, shape):
    with torch.no_grad():
        return tuple(net(torch.randn(shape)).shape)


@settings(max_examples=25, deadline=None)
@given(
    depth=st.integers(1, 3),
    h=st.integers(0, 20),
    w=st.integers(0, 20),
    up_mode=st.sampled_from(["transpose", "bilinear"]),
    pad_mode=st.sampled_from(["replicate", "zeros"]),
)
def test_unet_any_size_at_least_2_pow_depth(depth, h, w, up_mode, pad_mode):
    net = UNet(1, 1, depth=depth, base_channels=2, up_mode=up_mode, pad_mode=pad_mode).eval()
    size = (2**depth + h, 2**depth + w)
    assert y_shape(net, (1, 1, *size)) == (1, 1, *size)


def test_unet_pads_symmetrically_and_crops_back():
    """An odd-sized input gives the same output as the hand-padded input, cropped."""
    course.seed_everything(1)
    net = UNet(1, 2, depth=3, base_channels=4).eval()
    x = torch.randn(1, 1, 37, 45)
    # 37 -> 40: 1 row before, 2 after; 45 -> 48: 1 column before, 2 after
    padded = F.pad(x, (1, 2, 1, 2), mode="replicate")
    with torch.no_grad():
        expected = net(padded)[:, :, 1:38, 1:46]
        torch.testing.assert_close(net(x), expected)
        zero_net = UNet(1, 2, depth=3, base_channels=4, pad_mode="zeros").eval()
        zero_net.load_state_dict(net.state_dict())
        expected0 = net(F.pad(x, (1, 2, 1, 2)))[:, :, 1:38, 1:46]
        torch.testing.assert_close(zero_net(x), expected0)


def test_unet_structure():
    net = UNet(1, 1, depth=4, base_channels=16)
    assert len(net.encoder) == len(net.decoder) == len(net.upsamplers) == 4
    widths = [block[0].out_channels for block in net.encoder]
    assert widths == [16, 32, 64, 128]
    assert net.bottleneck[0].out_channels == 256
    assert [block[0].in_channels for block in net.decoder] == [256, 128, 64, 32]
    pools = [m for m in net.modules() if isinstance(m, nn.MaxPool2d)]
    assert pools and all(p.kernel_size == 2 for p in pools)
    assert net.head.kernel_size == (1, 1)
    with_dropout = UNet(1, 1, depth=2, dropout=0.3)
    drops = [m for m in with_dropout.modules() if isinstance(m, nn.Dropout2d)]
    assert len(drops) == 2 + 1 + 2 and all(d.p == 0.3 for d in drops)
    assert not any(isinstance(m, nn.Dropout2d) for m in net.modules())


# ---------------------------------------------------------------- U-Net: parameter counts


def test_unet_parameter_count_by_hand():
    # depth=1, base_channels=4, 1 -> 1 channel, no normalisation, transposed convolution:
    encoder = (9 * 1 * 4 + 4) + (9 * 4 * 4 + 4)  # conv 1->4, conv 4->4 (weights + biases)
    bottleneck = (9 * 4 * 8 + 8) + (9 * 8 * 8 + 8)  # conv 4->8, conv 8->8
    up = 2 * 2 * 8 * 4 + 4  # transposed conv 8->4, kernel 2x2
    decoder = (9 * 8 * 4 + 4) + (9 * 4 * 4 + 4)  # conv (4+4)->4 after the concat, conv 4->4
    head = 4 * 1 + 1  # 1x1 conv 4->1
    expected = encoder + bottleneck + up + decoder + head
    assert expected == 1645
    assert count_parameters(UNet(1, 1, depth=1, base_channels=4, norm=None)) == expected

    bilinear_up = 8 * 4 + 4  # 1x1 conv 8->4 after the interpolation
    net = UNet(1, 1, depth=1, base_channels=4, norm=None, up_mode="bilinear")
    assert count_parameters(net) == expected - up + bilinear_up

    norms = 2 * (2 * 4) + 2 * (2 * 8) + 2 * (2 * 4)  # scale + shift per channel, 6 norm layers
    for norm in ("batch", "instance"):
        assert count_parameters(UNet(1, 1, depth=1, base_channels=4, norm=norm)) == (
            expected + norms
        )

    # 3D: 27 weights per 3x3x3 filter and channel, 8 per 2x2x2 transposed filter
    encoder3 = (27 * 1 * 4 + 4) + (27 * 4 * 4 + 4)
    bottleneck3 = (27 * 4 * 8 + 8) + (27 * 8 * 8 + 8)
    up3 = 8 * 8 * 4 + 4
    decoder3 = (27 * 8 * 4 + 4) + (27 * 4 * 4 + 4)
    net3 = UNet(1, 1, depth=1, base_channels=4, dims=3, norm=None)
    assert count_parameters(net3) == encoder3 + bottleneck3 + up3 + decoder3 + head


def _formula(c_in, c_out, depth, b, dims, up_mode, norm):
    """The docstring's formula, written out independently of the module structure."""
    k = 3**dims
    n = 4 if norm else 0

    def block(a, c):
        return k * a * c + k * c * c + (2 + n) * c

    def up(a, c):
        return (2**dims * a * c + c) if up_mode == "transpose" else (a * c + c)

    ch = [b * 2**i for i in range(depth + 1)]
    total = block(c_in, ch[0]) + sum(block(ch[i - 1], ch[i]) for i in range(1, depth + 1))
    total += sum(up(ch[i + 1], ch[i]) + block(2 * ch[i], ch[i]) for i in range(depth))
    return total + ch[0] * c_out + c_out


@settings(max_examples=30, deadline=None)
@given(
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 4),
    depth=st.integers(1, 4),
    b=st.integers(1, 6),
    dims=st.sampled_from([2, 3]),
    up_mode=st.sampled_from(["transpose", "bilinear"]),
    norm=st.sampled_from(["batch", "instance", None]),
)
def test_unet_parameter_formula(c_in, c_out, depth, b, dims, up_mode, norm):
    net = UNet(c_in, c_out, depth=depth, base_channels=b, dims=dims, up_mode=up_mode, norm=norm)
    assert count_parameters(net) == _formula(c_in, c_out, depth, b, dims, up_mode, norm)


def test_conv_block_matches_torch_layers():
    block = ConvBlock(3, 5, norm="batch").eval()
    x = torch.randn(2, 3, 10, 10)
    c1, bn1, _, c2, bn2, _ = block
    expected = F.relu(bn2(c2(F.relu(bn1(c1(x))))))
    torch.testing.assert_close(block(x), expected)


# ------------------------------------------------------------------------- U-Net: errors


def test_unet_input_errors():
    net = UNet(1, 1, depth=3, base_channels=2)
    with pytest.raises(ValueError, match="2\\*\\*depth = 8"):
        net(torch.zeros(1, 1, 7, 32))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(1, 32, 32))  # no channel axis
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(1, 1, 8, 32, 32))  # a volume for a 2D U-Net
    with pytest.raises(ValueError, match="in_channels=1"):
        net(torch.zeros(1, 3, 32, 32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        net([[0.0]])
    with pytest.raises(ValueError, match="2\\*\\*depth"):
        UNet(1, 1, depth=2, dims=3)(torch.zeros(1, 1, 8, 3, 8))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(depth=0), "depth"),
        (dict(depth=2.5), "depth"),
        (dict(base_channels=0), "base_channels"),
        (dict(dims=1), "dims"),
        (dict(dims=True), "dims"),
        (dict(up_mode="nearest"), "up_mode"),
        (dict(norm="layer"), "norm"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(pad_mode="reflect"), "pad_mode"),
    ],
)
def test_unet_constructor_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        UNet(1, 1, **kwargs)


def test_unet_channel_errors():
    with pytest.raises(ValueError, match="in_channels"):
        UNet(0, 1)
    with pytest.raises(TypeError, match="out_channels"):
        UNet(1, "2")


# ------------------------------------------------------------------- U-Net: tiny overfit


def test_unet_overfits_one_batch():
    course.seed_everything(0)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    disk = ((yy - 12) ** 2 + (xx - 18) ** 2 < 36).float()
    square = ((yy - 22).abs() < 5) & ((xx - 10).abs() < 6)
    target = torch.stack([disk, square.float()])[:, None]  # (2, 1, 32, 32)
    images = target + 0.3 * torch.randn_like(target)
    net = UNet(1, 1, depth=2, base_channels=8)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(120):
        opt.zero_grad()
        loss = loss_fn(net(images), target)
        loss.backward()
        opt.step()
    assert loss.item() < 0.02
    net.eval()
    with torch.no_grad():
        pred = net(images) > 0
    assert (pred == target.bool()).float().mean() > 0.99


# ------------------------------------------------------------------------------ SimpleCNN


def test_lenet5_parameter_count():
    # LeNet-5 (LeCun et al., 1998) on 32x32: the well-known 61,706 parameters
    lenet = SimpleCNN(1, 10, channels=(6, 16), kernel_size=5, padding=0, input_size=32)
    assert count_parameters(lenet) == 61706
    assert lenet.feature_size == (5, 5)
    assert lenet(torch.zeros(3, 1, 32, 32)).shape == (3, 10)


def test_simple_cnn_configurations():
    course.seed_everything(0)
    net = SimpleCNN(3, 4, channels=(8, 16, 32), kernel_size=3, hidden=(64,), input_size=(40, 24))
    assert net.feature_size == (5, 3)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32]
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(32 * 5 * 3, 64), (64, 4)]
    assert net(torch.randn(2, 3, 40, 24)).shape == (2, 4)

    gap = SimpleCNN(1, 3, channels=(4, 8), global_pool=True, dropout=0.5, batch_norm=True)
    assert gap(torch.randn(2, 1, 50, 37)).shape == (2, 3)  # any size
    assert count_parameters(gap) == (25 * 4 + 4) + 8 + (25 * 4 * 8 + 8) + 16 + (8 * 3 + 3)
    assert sum(isinstance(m, nn.Dropout) for m in gap.modules()) == 1
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gap.modules()) == 2


def test_simple_cnn_errors():
    net = SimpleCNN(1, 2, input_size=28)
    with pytest.raises(ValueError, match="input_size"):
        net(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(1, 3, 28, 28))
    with pytest.raises(TypeError, match="torch.Tensor"):
        net(None)
    with pytest.raises(ValueError, match="too small"):
        SimpleCNN(1, 2, channels=(4, 4, 4, 4, 4, 4), input_size=28)
    with pytest.raises(ValueError, match="odd"):
        SimpleCNN(kernel_size=4)
    with pytest.raises(ValueError, match="padding"):
        SimpleCNN(padding="valid")
    with pytest.raises(ValueError, match="channels"):
        SimpleCNN(channels=())
    with pytest.raises(TypeError, match="channels"):
        SimpleCNN(channels=8)
    with pytest.raises(ValueError, match="dropout"):
        SimpleCNN(dropout=1.5)
    with pytest.raises(ValueError, match="input_size"):
        SimpleCNN(input_size=(28, 28, 28))


# ------------------------------------------------------- count_parameters, layer tables


def test_count_parameters_torchvision_and_frozen():
    resnet = torchvision.models.resnet18(weights=None)
    assert count_parameters(resnet) == 11_689_512  # the number torchvision documents
    for p in resnet.parameters():
        p.requires_grad_(False)
    resnet.fc = nn.Linear(512, 2)  # transfer learning: a new trainable head
    assert count_parameters(resnet) == 512 * 2 + 2
    assert count_parameters(resnet, trainable_only=False) == 11_689_512 - 513_000 + 1026
    with pytest.raises(TypeError, match="Module"):
        count_parameters([torch.zeros(3)])


def test_layer_table_resnet18():
    resnet = torchvision.models.resnet18(weights=None)
    resnet.train()
    rows = layer_table(resnet, (3, 32, 32), batch_size=2)
    assert resnet.training  # mode restored
    assert sum(r["params"] for r in rows) == count_parameters(resnet, trainable_only=False)
    by_name = {r["name"]: r for r in rows}
    assert by_name["conv1"]["output_shape"] == (2, 64, 16, 16)  # (32 + 2*3 - 7) // 2 + 1 = 16
    assert by_name["conv1"]["params"] == 64 * 3 * 7 * 7
    assert by_name["fc"]["output_shape"] == (2, 1000)
    assert by_name["layer4.1.bn2"]["output_shape"] == (2, 512, 1, 1)
    # the ReLU of each BasicBlock is used twice: two rows
    assert "layer1.0.relu (again)" in by_name
    assert all(r["type"] != "Sequential" for r in rows)  # leaves only

    text = summary(resnet, (3, 32, 32))
    assert "Total params: 11,689,512" in text and "Trainable params: 11,689,512" in text
    assert text.count("\n") == len(rows) + 5


def test_layer_table_mobilenet_and_unused_module():
    mobilenet = torchvision.models.mobilenet_v3_small(weights=None)
    rows = layer_table(mobilenet, (3, 32, 32))
    assert sum(r["params"] for r in rows) == count_parameters(mobilenet)

    class WithUnused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(4, 2), nn.Linear(4, 3)
            self.scale = nn.Parameter(torch.ones(2))  # owned directly by a non-leaf module

        def forward(self, x):
            return self.used(x) * self.scale

    model = WithUnused()
    rows = layer_table(model, (4,))
    assert sum(r["params"] for r in rows) == 10 + 15 + 2
    unused = [r for r in rows if r["name"] == "unused"]
    assert unused and unused[0]["output_shape"] is None


def test_layer_table_errors():
    with pytest.raises(TypeError, match="Module"):
        layer_table("resnet", (3, 8, 8))
    with pytest.raises(TypeError, match="input_size"):
        layer_table(nn.ReLU(), 8)
    with pytest.raises(ValueError, match="input_size"):
        layer_table(nn.ReLU(), (0, 8))
    with pytest.raises(ValueError, match="batch_size"):
        summary(nn.ReLU(), (1, 8), batch_size=0)
