"""Conv building blocks of vision.nn.blocks: shapes, parameter counts against the formulas, shortcuts, gradients,
bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.nn import (
    ConvBNAct,
    InceptionModule,
    ResidualBlock,
    SeparableConv,
    XceptionBlock,
    count_parameters,
    init_weights,
)


def _params(module: nn.Module) -> int:
    return count_parameters(module)


def _x(c: int, h: int = 9, w: int | None = None, n: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, c, h, h if w is None else w, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------------------------------- ConvBNAct
@pytest.mark.parametrize(("kernel", "stride", "size", "out"), [(3, 1, 9, 9), (3, 2, 9, 5), (5, 1, 8, 8), (1, 2, 8, 4)])
def test_conv_bn_act_shape(kernel, stride, size, out):
    block = ConvBNAct(3, 8, kernel=kernel, stride=stride)
    assert block(_x(3, size)).shape == (2, 8, out, out)


def test_conv_bn_act_parameter_counts():
    # BN replaces the conv bias: k·k·cin·cout weights + 2·cout BN parameters
    assert _params(ConvBNAct(3, 8, kernel=3)) == 3 * 3 * 3 * 8 + 2 * 8
    assert ConvBNAct(3, 8).conv.bias is None
    # without BN the conv has a bias
    plain = ConvBNAct(3, 8, kernel=5, bn=False)
    assert isinstance(plain.bn, nn.Identity) and plain.conv.bias is not None
    assert _params(plain) == 5 * 5 * 3 * 8 + 8
    # groups split the input channels: k·k·(cin/g)·cout
    assert _params(ConvBNAct(8, 16, groups=4)) == 3 * 3 * 2 * 16 + 2 * 16
    assert _params(ConvBNAct(8, 8, groups=8)) == 3 * 3 * 8 + 2 * 8  # depthwise


def test_conv_bn_act_activation_and_padding():
    assert isinstance(ConvBNAct(1, 2, activation="leaky_relu").act, nn.LeakyReLU)
    assert isinstance(ConvBNAct(1, 2, activation="identity").act, nn.Identity)
    relu = ConvBNAct(2, 4).eval()
    assert (relu(_x(2)) >= 0).all()
    assert ConvBNAct(1, 2, kernel=5, padding=0)(_x(1, 12)).shape == (2, 2, 8, 8)
    assert ConvBNAct(1, 2, kernel=3, padding=2)(_x(1, 12)).shape == (2, 2, 14, 14)


def test_conv_bn_act_computes_conv_then_bn_then_act():
    block = ConvBNAct(2, 3, activation="tanh").eval()
    with torch.no_grad():
        block.bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        block.bn.running_var.copy_(torch.tensor([2.0, 0.5, 1.0]))
        block.bn.weight.copy_(torch.tensor([1.5, 0.5, -1.0]))
        block.bn.bias.copy_(torch.tensor([0.0, 0.2, 0.1]))
    x = _x(2)
    conv = nn.functional.conv2d(x, block.conv.weight, padding=1)
    bn = (conv - block.bn.running_mean[:, None, None]) / torch.sqrt(block.bn.running_var[:, None, None] + 1e-5)
    expected = torch.tanh(bn * block.bn.weight[:, None, None] + block.bn.bias[:, None, None])
    torch.testing.assert_close(block(x), expected)


# ---------------------------------------------------------------------------------------------------- ResidualBlock
def test_residual_identity_shortcut():
    block = ResidualBlock(8, 8)
    assert isinstance(block.shortcut, nn.Identity)
    assert _params(block) == 2 * (9 * 8 * 8 + 2 * 8)
    # with the last BN's scale at 0 the main path is 0 and the block is act(x): the identity really is added
    with torch.no_grad():
        block.conv2.bn.weight.zero_()
    block.eval()
    x = _x(8)
    torch.testing.assert_close(block(x), torch.relu(x))


@pytest.mark.parametrize(("cin", "cout", "stride", "size", "out"), [(4, 8, 1, 9, 9), (8, 8, 2, 9, 5), (4, 8, 2, 8, 4)])
def test_residual_projection_shortcut(cin, cout, stride, size, out):
    block = ResidualBlock(cin, cout, stride=stride)
    assert isinstance(block.shortcut, ConvBNAct)
    conv = block.shortcut.conv
    assert conv.kernel_size == (1, 1) and conv.stride == (stride, stride)
    # two 3×3 ConvBN + a 1×1 ConvBN projection
    assert _params(block) == (9 * cin * cout + 2 * cout) + (9 * cout * cout + 2 * cout) + (cin * cout + 2 * cout)
    x = _x(cin, size)
    assert block(x).shape == (2, cout, out, out)
    with torch.no_grad():
        block.conv2.bn.weight.zero_()
    block.eval()
    torch.testing.assert_close(block(x), torch.relu(block.shortcut(x)))


# ---------------------------------------------------------------------------------------------------- InceptionModule
def test_inception_module_channels_params_and_branch_order():
    cfg = {"c1": 4, "c3_reduce": 3, "c3": 6, "c5_reduce": 2, "c5": 5, "pool_proj": 7}
    block = InceptionModule(10, **cfg).eval()
    assert block.out_channels == 4 + 6 + 5 + 7
    x = _x(10, 11)
    y = block(x)
    assert y.shape == (2, 22, 11, 11)
    # every conv is a ConvBNAct (k·k·cin·cout + 2·cout)
    expected = ((10 * 4 + 8) + (10 * 3 + 6) + (9 * 3 * 6 + 12) + (10 * 2 + 4) + (25 * 2 * 5 + 10) + (10 * 7 + 14))
    assert _params(block) == expected
    parts = [block.branch1(x), block.branch3(x), block.branch5(x), block.branch_pool(x)]
    torch.testing.assert_close(y, torch.cat(parts, dim=1))
    assert [p.shape[1] for p in parts] == [4, 6, 5, 7]
    assert block.branch5[1].conv.kernel_size == (5, 5)


def test_inception_reductions_are_cheaper_than_direct_convs():
    reduced = InceptionModule(64, c1=16, c3_reduce=16, c3=32, c5_reduce=8, c5=16, pool_proj=16)
    # the same outputs without the 1×1 reductions: 3×3 and 5×5 convs on all 64 input channels
    direct = 64 * 16 + 9 * 64 * 32 + 25 * 64 * 16 + 64 * 16
    assert _params(reduced) < direct / 3


# ---------------------------------------------------------------------------------------------------- SeparableConv
@pytest.mark.parametrize(("cin", "cout", "kernel"), [(8, 16, 3), (32, 64, 3), (6, 4, 5)])
def test_separable_conv_parameter_count(cin, cout, kernel):
    sep = SeparableConv(cin, cout, kernel=kernel)
    assert sep.depthwise.groups == cin and sep.depthwise.weight.shape == (cin, 1, kernel, kernel)
    weights = kernel * kernel * cin + cin * cout
    assert _params(sep) == weights + 2 * cout
    full = kernel * kernel * cin * cout
    assert weights < full
    if cin >= 32:
        assert weights * 7 < full  # ≈ 1/cout + 1/k² of a full conv


@pytest.mark.parametrize(("stride", "size", "out"), [(1, 9, 9), (2, 9, 5), (2, 8, 4)])
def test_separable_conv_shape_and_composition(stride, size, out):
    sep = SeparableConv(4, 6, stride=stride, activation="identity").eval()
    x = _x(4, size)
    y = sep(x)
    assert y.shape == (2, 6, out, out)
    # a depthwise conv (one filter per channel) then a 1×1 mix, then (eval-mode) BN
    dw = torch.cat([nn.functional.conv2d(x[:, i:i + 1], sep.depthwise.weight[i:i + 1], stride=stride, padding=1)
                    for i in range(4)], dim=1)
    pw = nn.functional.conv2d(dw, sep.pointwise.weight)
    torch.testing.assert_close(y, pw / (1 + 1e-5) ** 0.5, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------- XceptionBlock
def test_xception_identity_shortcut():
    block = XceptionBlock(8, 8, reps=3)
    assert isinstance(block.shortcut, nn.Identity)
    seps = [m for m in block.body if isinstance(m, SeparableConv)]
    assert len(seps) == 3 and not any(isinstance(m, nn.MaxPool2d) for m in block.body)
    assert isinstance(seps[-1].act, nn.Identity) and isinstance(seps[0].act, nn.ReLU)
    assert _params(block) == 3 * (9 * 8 + 8 * 8 + 2 * 8)
    with torch.no_grad():
        seps[-1].bn.weight.zero_()
    block.eval()
    x = _x(8)
    torch.testing.assert_close(block(x), torch.relu(x))


@pytest.mark.parametrize(("size", "out"), [(9, 5), (8, 4), (1, 1)])
def test_xception_strided_projection(size, out):
    block = XceptionBlock(4, 16, reps=2, stride=2)
    assert isinstance(block.shortcut, ConvBNAct) and block.shortcut.conv.stride == (2, 2)
    assert any(isinstance(m, nn.MaxPool2d) for m in block.body)
    assert _params(block) == (9 * 4 + 4 * 16 + 32) + (9 * 16 + 16 * 16 + 32) + (4 * 16 + 32)
    assert block(_x(4, size)).shape == (2, 16, out, out)


# ---------------------------------------------------------------------------------------------------- all blocks
BLOCKS = {
    "ConvBNAct": lambda: ConvBNAct(3, 6, stride=2),
    "ResidualBlock-identity": lambda: ResidualBlock(3, 3),
    "ResidualBlock-projection": lambda: ResidualBlock(3, 6, stride=2),
    "InceptionModule": lambda: InceptionModule(3, c1=2, c3_reduce=2, c3=3, c5_reduce=2, c5=3, pool_proj=2),
    "SeparableConv": lambda: SeparableConv(3, 6),
    "XceptionBlock": lambda: XceptionBlock(3, 6, stride=2),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_gradients_reach_every_parameter_and_the_input(name):
    torch.manual_seed(0)
    block = BLOCKS[name]()
    init_weights(block)
    x = _x(3, 8, n=4).requires_grad_(True)
    block(x).square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in block.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize(("factory", "match"), [
    (lambda: ConvBNAct(0, 4), "cin"),
    (lambda: ConvBNAct(3, 4.0), "cout"),
    (lambda: ConvBNAct(3, 4, kernel=0), "kernel"),
    (lambda: ConvBNAct(3, 4, stride=True), "stride"),
    (lambda: ConvBNAct(6, 4, groups=3), "groups"),
    (lambda: ConvBNAct(3, 4, activation="nope"), "activation"),
    (lambda: ConvBNAct(3, 4, activation="maxout"), "activation"),
    (lambda: ConvBNAct(3, 4, activation=None), "activation"),
    (lambda: ConvBNAct(3, 4, bn="yes"), "bn"),
    (lambda: ConvBNAct(3, 4, padding=-1), "padding"),
    (lambda: ResidualBlock(3, 0), "cout"),
    (lambda: ResidualBlock(3, 4, stride=0), "stride"),
    (lambda: ResidualBlock(3, 4, activation="relu6x"), "activation"),
    (lambda: InceptionModule(3, c1=2, c3_reduce=0, c3=3, c5_reduce=2, c5=3, pool_proj=2), "c3_reduce"),
    (lambda: InceptionModule(3, c1=2, c3_reduce=2, c3=3, c5_reduce=2, c5=3, pool_proj="2"), "pool_proj"),
    (lambda: InceptionModule(3, c1=2, c3_reduce=2, c3=3, c5_reduce=2, c5=3, pool_proj=2, bn=1), "bn"),
    (lambda: SeparableConv(3, 4, kernel=-3), "kernel"),
    (lambda: SeparableConv(3, 4, activation="softplus"), "activation"),
    (lambda: XceptionBlock(3, 4, reps=0), "reps"),
    (lambda: XceptionBlock(3, 4, stride=1.5), "stride"),
])
def test_bad_arguments(factory, match):
    with pytest.raises(InputError, match=match):
        factory()


def test_inception_requires_keyword_sizes():
    with pytest.raises(TypeError):
        InceptionModule(3, 2, 2, 3, 2, 3, 2)  # type: ignore[misc]
