"""make_activation over torch.nn, the hand-written Maxout layer, and SELU's self-normalisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.nn import ACTIVATIONS, Maxout, init_weights, make_activation


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "maxout"])
def test_every_activation_keeps_the_shape(name):
    x = torch.randn(4, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    assert make_activation(name)(x).shape == x.shape


def test_activations_compute_their_functions():
    x = torch.linspace(-3, 3, 61)
    assert torch.allclose(make_activation("swish")(x), x * torch.sigmoid(x))
    assert torch.allclose(make_activation("silu")(x), x * torch.sigmoid(x))
    assert torch.allclose(make_activation("leaky_relu", negative_slope=0.2)(x), torch.where(x > 0, x, 0.2 * x))
    assert torch.allclose(make_activation("elu", alpha=0.5)(x), torch.where(x > 0, x, 0.5 * (torch.exp(x) - 1)))
    assert torch.allclose(make_activation("Leaky-ReLU")(x), torch.where(x > 0, x, 0.01 * x))  # case, dash
    assert torch.equal(make_activation("identity")(x), x)
    prelu = make_activation("prelu", num_parameters=1, init=0.1)
    assert isinstance(prelu, nn.PReLU) and pytest.approx(prelu.weight.item()) == 0.1


def test_softmax_normalises_the_class_dimension_by_default():
    x = torch.randn(2, 5, 3, 3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(make_activation("softmax")(x).sum(dim=1), torch.ones(2, 3, 3))
    assert torch.allclose(make_activation("softmax", dim=-1)(x).sum(dim=-1), torch.ones(2, 5, 3))


def test_unknown_activation_lists_the_choices():
    with pytest.raises(InputError, match="unknown activation 'relu7'.*'selu'.*'swish'"):
        make_activation("relu7")
    with pytest.raises(InputError, match="must be a str"):
        make_activation(nn.ReLU)


def test_bad_activation_options_are_an_input_error():
    with pytest.raises(InputError, match="'relu' does not accept options \\['slope'\\]"):
        make_activation("relu", slope=0.1)
    with pytest.raises(InputError, match="maxout"):
        make_activation("maxout")  # sizes missing


def test_maxout_is_the_max_over_pieces_of_linear_maps():
    torch.manual_seed(0)
    layer = Maxout(6, 4, pieces=3)
    x = torch.randn(10, 6)
    w = layer.linear.weight.detach().view(4, 3, 6)  # output j, piece k, input
    b = layer.linear.bias.detach().view(4, 3)
    pieces = torch.stack([x @ w[:, k, :].T + b[:, k] for k in range(3)], dim=-1)  # (10, 4, 3)
    expected = pieces.max(dim=-1).values
    got = layer(x)
    assert got.shape == (10, 4)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.all(got >= pieces[..., 0] - 1e-6)  # never below any single piece


def test_maxout_on_leading_dims_and_via_make_activation():
    layer = make_activation("maxout", in_features=5, out_features=2, pieces=4)
    assert isinstance(layer, Maxout) and layer.linear.out_features == 8
    assert layer(torch.randn(3, 7, 5)).shape == (3, 7, 2)
    one = Maxout(5, 2, pieces=1)
    x = torch.randn(3, 5)
    assert torch.allclose(one(x), one.linear(x))  # one piece = a linear layer
    y = layer(torch.randn(4, 5, requires_grad=True)).sum()
    y.backward()
    assert layer.linear.weight.grad is not None


@pytest.mark.parametrize("kwargs", [{"in_features": 0, "out_features": 2}, {"in_features": 3, "out_features": 2, "pieces": 0},
                                    {"in_features": 3.0, "out_features": 2}, {"in_features": 3, "out_features": True}])
def test_maxout_rejects_bad_sizes(kwargs):
    with pytest.raises(InputError, match="Maxout .* must be a positive int"):
        Maxout(**kwargs)


def test_selu_with_lecun_init_self_normalises():
    torch.manual_seed(0)
    width, depth = 256, 10
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.SELU()]
    net = init_weights(nn.Sequential(*layers))  # auto: SELU → LeCun normal
    x = torch.randn(4096, width)
    with torch.no_grad():
        h = x
        for i in range(0, len(net), 2):
            h = net[i + 1](net[i](h))
            assert abs(h.mean().item()) < 0.1, f"layer {i // 2}: mean {h.mean().item():.3f}"
            assert abs(h.std().item() - 1.0) < 0.1, f"layer {i // 2}: std {h.std().item():.3f}"
    # the same stack with ReLU + LeCun init shrinks the scale: the property is SELU's, not the test's
    relu_net = nn.Sequential(*[m if isinstance(m, nn.Linear) else nn.ReLU() for m in layers])
    init_weights(relu_net, scheme="lecun_normal")
    with torch.no_grad():
        assert relu_net(x).std().item() < 0.2
