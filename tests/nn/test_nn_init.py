"""init_weights: the empirical spread of the weights matches each scheme's formula; auto follows the activation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.nn import init_weights


def _fans(layer: nn.Module) -> tuple[int, int]:
    w = layer.weight
    receptive = w[0, 0].numel()
    return w.shape[1] * receptive, w.shape[0] * receptive


def _expected_std(scheme: str, fan_in: int, fan_out: int, slope: float = 0.0) -> float:
    family, _ = scheme.split("_")
    if family == "he":
        return math.sqrt(2.0 / (1 + slope**2)) / math.sqrt(fan_in)
    if family == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    return 1.0 / math.sqrt(fan_in)  # lecun


def _layers():
    return [nn.Linear(900, 500), nn.Conv2d(64, 96, 3)]


@pytest.mark.parametrize("scheme", ["he_normal", "he_uniform", "xavier_normal", "xavier_uniform",
                                    "lecun_normal", "lecun_uniform"])
def test_weight_std_matches_the_formula(scheme):
    torch.manual_seed(0)
    for layer in _layers():
        nn.init.ones_(layer.bias)
        init_weights(layer, scheme=scheme)
        fan_in, fan_out = _fans(layer)
        std = _expected_std(scheme, fan_in, fan_out)
        w = layer.weight.detach()
        assert w.std().item() == pytest.approx(std, rel=0.02), (scheme, type(layer).__name__)
        assert abs(w.mean().item()) < 0.02 * std
        if scheme.endswith("uniform"):
            bound = std * math.sqrt(3.0)
            assert w.abs().max().item() <= bound
            assert w.abs().max().item() > 0.99 * bound
        assert torch.count_nonzero(layer.bias) == 0


def test_he_uses_the_negative_slope_of_leaky_relu_and_prelu():
    torch.manual_seed(0)
    layer = nn.Linear(1000, 600)
    init_weights(layer, scheme="he_normal", activation=nn.LeakyReLU(0.3))
    assert layer.weight.std().item() == pytest.approx(_expected_std("he_normal", 1000, 600, 0.3), rel=0.02)
    init_weights(layer, activation=nn.PReLU(init=0.5))  # auto → He with a = 0.5
    assert layer.weight.std().item() == pytest.approx(_expected_std("he_normal", 1000, 600, 0.5), rel=0.02)


def test_auto_follows_the_activation_after_each_layer():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64), nn.ReLU(),  # He
        nn.Conv2d(64, 64, 3), nn.Tanh(),  # Xavier
        nn.Flatten(), nn.Linear(800, 800), nn.SELU(),  # LeCun
        nn.Linear(800, 400),  # no activation after it: Xavier
    )
    bn_weight = net[1].weight.detach().clone()
    init_weights(net)
    expect = {0: "he_normal", 3: "xavier_normal", 6: "lecun_normal", 8: "xavier_normal"}
    for index, scheme in expect.items():
        fan_in, fan_out = _fans(net[index])
        assert net[index].weight.std().item() == pytest.approx(_expected_std(scheme, fan_in, fan_out), rel=0.03), index
    assert torch.equal(net[1].weight, bn_weight) and torch.all(net[1].weight == 1)
    assert torch.all(net[1].bias == 0)


def test_a_given_activation_decides_every_layer():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(800, 800), nn.ReLU(), nn.Linear(800, 800))
    init_weights(net, activation="selu")
    for layer in (net[0], net[2]):
        assert layer.weight.std().item() == pytest.approx(1 / math.sqrt(800), rel=0.02)
    init_weights(net, activation=nn.GELU)  # a class works too
    for layer in (net[0], net[2]):
        assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 800), rel=0.02)


def test_norm_layers_are_untouched_and_biases_zeroed():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1), nn.GroupNorm(2, 4))
    with torch.no_grad():
        net[1].weight.fill_(0.7)
        net[1].bias.fill_(0.2)
        net[4].weight.fill_(0.3)
        net[0].bias.fill_(5.0)
        net[3].bias.fill_(5.0)
    init_weights(net, scheme="he_uniform")
    assert torch.all(net[1].weight == 0.7) and torch.all(net[1].bias == 0.2) and torch.all(net[4].weight == 0.3)
    assert torch.all(net[0].bias == 0) and torch.all(net[3].bias == 0)


def test_generator_makes_it_reproducible():
    a, b = nn.Linear(20, 10), nn.Linear(20, 10)
    init_weights(a, generator=torch.Generator().manual_seed(3))
    init_weights(b, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.weight, b.weight)


def test_bad_arguments_are_input_errors():
    layer = nn.Linear(4, 4)
    with pytest.raises(InputError, match="unknown init scheme 'glorot'.*'xavier_uniform'"):
        init_weights(layer, scheme="glorot")
    with pytest.raises(InputError, match="no rule for activation Hardshrink"):
        init_weights(layer, activation=nn.Hardshrink())
    with pytest.raises(InputError, match="unknown activation 'rellu'"):
        init_weights(layer, activation="rellu")
    with pytest.raises(InputError, match="expects an nn.Module, got Tensor"):
        init_weights(torch.zeros(3))
    with pytest.raises(InputError, match="cannot be built without arguments"):
        init_weights(layer, activation=nn.Threshold)


def test_lazy_layers_fail_before_anything_is_written():
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.LazyLinear(3))
    before = net[0].weight.detach().clone()
    with pytest.raises(InputError, match="layer '2' \\(LazyLinear\\) has uninitialised"):
        init_weights(net)
    assert torch.equal(net[0].weight, before)
