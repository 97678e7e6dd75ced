"""course.models.vit: the parameter formula against built models, the block against PyTorch's
own pre-norm encoder layer, the patch embedding against course.attention.patchify.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course.attention import patchify
from course.models import VisionTransformer, count_parameters, vit_parameter_count
from course.models.vit import PatchEmbedding, TransformerBlock

hyper_parameters = st.fixed_dictionaries(
    {
        "grid": st.tuples(st.integers(1, 4), st.integers(1, 4)),
        "patch_size": st.integers(1, 5),
        "in_channels": st.integers(1, 3),
        "num_classes": st.integers(1, 5),
        "head_dim": st.integers(1, 6),
        "heads": st.integers(1, 3),
        "depth": st.integers(1, 3),
        "mlp_dim": st.integers(1, 20),
    }
)


def _args(h):
    image_size = (h["grid"][0] * h["patch_size"], h["grid"][1] * h["patch_size"])
    kwargs = {k: h[k] for k in ("in_channels", "num_classes", "depth", "heads", "mlp_dim")}
    return image_size, h["patch_size"], {**kwargs, "dim": h["head_dim"] * h["heads"]}


def _torch_reference(image_size, patch_size, in_channels, num_classes, dim, depth, heads,
                     mlp_dim):  # fmt: skip
    """The same architecture assembled from PyTorch's own layers."""
    L = (image_size[0] // patch_size) * (image_size[1] // patch_size)
    layer = nn.TransformerEncoderLayer(
        dim, heads, mlp_dim, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    )
    return nn.ModuleDict(
        {
            "patches": nn.Conv2d(in_channels, dim, patch_size, stride=patch_size),
            "tokens": nn.ParameterList(
                [nn.Parameter(torch.zeros(1, L + 1, dim)), nn.Parameter(torch.zeros(1, 1, dim))]
            ),  # fmt: skip
            "encoder": nn.TransformerEncoder(layer, depth, enable_nested_tensor=False),
            "norm": nn.LayerNorm(dim),
            "head": nn.Linear(dim, num_classes),
        }
    )


@settings(max_examples=25, deadline=None)
@given(h=hyper_parameters)
def test_parameter_formula_equals_built_models(h):
    image_size, patch_size, kwargs = _args(h)
    count = vit_parameter_count(image_size, patch_size, **kwargs)
    model = VisionTransformer(image_size, patch_size, **kwargs)
    assert count == count_parameters(model)
    assert count == sum(p.numel() for p in _torch_reference(image_size, patch_size, **kwargs)
                        .parameters())  # fmt: skip


def test_parameter_formula_known_models():
    # ViT-Base/16 and ViT-Large/16 for ImageNet (Dosovitskiy et al., 2021, Table 1: 86M, 307M);
    # the exact numbers are those of the published implementations (e.g. timm)
    assert vit_parameter_count(224, 16, 3, 1000, 768, 12, 12, 3072) == 86_567_656
    assert vit_parameter_count(224, 16, 3, 1000, 1024, 24, 16, 4096) == 304_326_632
    base = dict(in_channels=1, num_classes=2, dim=32, depth=2, mlp_dim=64)
    counts = {vit_parameter_count(32, 8, heads=h, **base) for h in (1, 2, 4, 8, 16, 32)}
    assert len(counts) == 1  # heads split the features, they add no weights


def test_parameter_formula_rejects_bad_input():
    with pytest.raises(ValueError, match="patch_size must divide image_size"):
        vit_parameter_count(30, 8)
    with pytest.raises(ValueError, match="heads must divide dim=32"):
        vit_parameter_count(32, 8, dim=32, heads=5)
    with pytest.raises(TypeError, match="depth must be an int"):
        vit_parameter_count(32, 8, depth=2.0)
    with pytest.raises(ValueError, match="mlp_dim must be positive"):
        vit_parameter_count(32, 8, mlp_dim=0)
    with pytest.raises(TypeError, match="image_size must be an int or a pair of ints"):
        vit_parameter_count("32", 8)


def test_block_equals_pytorch_pre_norm_encoder_layer():
    torch.manual_seed(0)
    block = TransformerBlock(16, 4, 40).eval()
    reference = nn.TransformerEncoderLayer(
        16, 4, 40, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    ).eval()
    names = {"attn": "self_attn", "mlp.0": "linear1", "mlp.3": "linear2"}
    state = {}
    for key, value in block.state_dict().items():
        for ours, theirs in names.items():
            if key.startswith(ours + "."):
                key = theirs + key[len(ours) :]
        state[key] = value
    reference.load_state_dict(state)
    x = torch.randn(3, 7, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x), reference(x), rtol=1e-5, atol=1e-6)


def test_block_is_permutation_equivariant_without_positions():
    torch.manual_seed(1)
    block = TransformerBlock(8, 2, 16).eval()
    x, order = torch.randn(2, 6, 8), torch.randperm(6)
    with torch.no_grad():
        torch.testing.assert_close(block(x[:, order]), block(x)[:, order])


def test_patch_embedding_equals_patchify_and_a_matrix_product():
    torch.manual_seed(2)
    embed = PatchEmbedding(3, 5, (2, 4))
    x = torch.randn(2, 3, 6, 8)
    weight, bias = embed.proj.weight.detach().numpy(), embed.proj.bias.detach().numpy()
    expected = patchify(x.numpy(), (2, 4)) @ weight.reshape(5, -1).T + bias
    with torch.no_grad():
        np.testing.assert_allclose(embed(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_forward_and_attention_maps():
    torch.manual_seed(3)
    model = VisionTransformer(image_size=(16, 24), patch_size=8, in_channels=2, num_classes=3,
                              dim=12, depth=3, heads=3).eval()  # fmt: skip
    x = torch.randn(4, 2, 16, 24)
    assert tuple(model(x).shape) == (4, 3)
    maps = model.attention_maps(x)
    assert len(maps) == 3 and all(tuple(m.shape) == (4, 3, 7, 7) for m in maps)  # 2 x 3 + 1
    for m in maps:
        torch.testing.assert_close(m.sum(-1), torch.ones(4, 3, 7))
    assert not maps[0].requires_grad


def test_a_tiny_vit_fits_a_few_images():
    torch.manual_seed(4)
    model = VisionTransformer(image_size=8, patch_size=4, dim=16, depth=1, heads=2, mlp_dim=16)
    x, y = torch.randn(8, 1, 8, 8), torch.tensor([0, 1] * 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    assert (model(x).argmax(1) == y).all()


def test_model_rejects_bad_input():
    model = VisionTransformer(image_size=16, patch_size=4, dim=8, heads=2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 16, 16\)"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 16, 16\)"):
        model(torch.zeros(1, 16, 16))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model(np.zeros((1, 1, 16, 16)))
    with pytest.raises(ValueError, match="heads must divide dim=8"):
        VisionTransformer(image_size=16, patch_size=4, dim=8, heads=3)
    with pytest.raises(ValueError, match="patch_size must divide image_size"):
        VisionTransformer(image_size=16, patch_size=5)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        VisionTransformer(dropout=1.0)
