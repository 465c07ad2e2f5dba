"""make_optimizer, the weight-decay vs L2 distinction, per-group learning rates, penalties and EMA averaging."""

from __future__ import annotations

import copy
import io

import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.train import (
    OPTIMIZERS,
    l1_penalty,
    l2_penalty,
    make_ema,
    make_optimizer,
    regularization_penalty,
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8), nn.LayerNorm(8))
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def _net(seed: int = 0) -> Net:
    torch.manual_seed(seed)
    return Net()


def _data(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)


def _train(model: nn.Module, opt: torch.optim.Optimizer, *, steps: int = 25, penalty: bool = False,
           include=None) -> nn.Module:
    x, y = _data()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        if penalty:
            loss = loss + regularization_penalty(model, opt, include=include)
        loss.backward()
        opt.step()
    return model


def _sq(t: torch.Tensor) -> float:
    return float(t.detach().pow(2).sum())


def _abs(t: torch.Tensor) -> float:
    return float(t.detach().abs().sum())


@torch.no_grad()
def _max_diff(a: nn.Module, b: nn.Module) -> float:
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


# --------------------------------------------------------------------------------------------------
# the factory
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("adagrad", torch.optim.Adagrad),
                                      ("adadelta", torch.optim.Adadelta), ("rmsprop", torch.optim.RMSprop),
                                      ("adam", torch.optim.Adam), ("AdamW", torch.optim.AdamW)])
def test_each_name_builds_its_torch_class_and_trains(name, cls):
    model = _net()
    opt = make_optimizer(model, name, lr=0.05)
    assert type(opt) is cls
    assert opt.param_groups[0]["lr"] == 0.05
    x, y = _data()
    before = nn.functional.cross_entropy(model(x), y).item()
    _train(model, opt, steps=30)
    assert nn.functional.cross_entropy(model(x), y).item() < before


def test_options_reach_the_torch_optimizer():
    model = _net()
    sgd = make_optimizer(model, "sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    g = sgd.param_groups[0]
    assert (g["momentum"], g["nesterov"], g["weight_decay"]) == (0.9, True, 1e-4)
    adam = make_optimizer(model, "adam", lr=1e-3, betas=(0.8, 0.99), eps=1e-6, options={"amsgrad": True})
    g = adam.param_groups[0]
    assert (g["betas"], g["eps"], g["amsgrad"]) == ((0.8, 0.99), 1e-6, True)
    assert make_optimizer(model, "adagrad", lr=0.1).param_groups[0]["eps"] == 1e-10  # torch's default kept
    assert make_optimizer(model, "adamw", lr=0.1).param_groups[0]["weight_decay"] == 0.0  # ours, not torch's 0.01


def test_unknown_name_lists_the_choices():
    with pytest.raises(InputError) as err:
        make_optimizer(_net(), "lamb", lr=0.1)
    for name in OPTIMIZERS:
        assert name in str(err.value)


@pytest.mark.parametrize("kwargs,words", [
    ({"name": "sgd", "lr": 0.0}, "lr"),
    ({"name": "sgd", "lr": float("nan")}, "lr"),
    ({"name": "sgd", "lr": 0.1, "momentum": 1.0}, "momentum"),
    ({"name": "sgd", "lr": 0.1, "weight_decay": -1e-4}, "weight_decay"),
    ({"name": "sgd", "lr": 0.1, "l2": -1.0}, "l2"),
    ({"name": "adam", "lr": 0.1, "momentum": 0.9}, "betas"),
    ({"name": "sgd", "lr": 0.1, "nesterov": True}, "nesterov"),
    ({"name": "sgd", "lr": 0.1, "betas": (0.9, 0.99)}, "betas"),
    ({"name": "adam", "lr": 0.1, "betas": (0.9,)}, "pair"),
    ({"name": "adam", "lr": 0.1, "betas": (0.9, 1.0)}, "betas[1]"),
    ({"name": "adam", "lr": 0.1, "eps": 0.0}, "eps"),
    ({"name": "adam", "lr": 0.1, "options": {"rho": 0.9}}, "rho"),
    ({"name": "adam", "lr": 0.1, "options": {"lr": 0.5}}, "repeat"),
])
def test_bad_arguments_raise_input_error(kwargs, words):
    with pytest.raises(InputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        make_optimizer(_net(), **kwargs)


def test_bad_parameter_sources_raise_input_error():
    with pytest.raises(InputError, match="empty"):
        make_optimizer([], "sgd", lr=0.1)
    with pytest.raises(InputError, match="nn.Module"):
        make_optimizer(torch.zeros(3), "sgd", lr=0.1)
    with pytest.raises(InputError, match="items of type"):
        make_optimizer([1, 2], "sgd", lr=0.1)
    frozen = _net().requires_grad_(False)
    with pytest.raises(InputError, match="no trainable"):
        make_optimizer(frozen, "sgd", lr=0.1)


def test_parameter_lists_and_named_pairs_are_accepted_and_frozen_ones_skipped():
    model = _net()
    model.backbone.requires_grad_(False)
    opt = make_optimizer(model, "sgd", lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["head.weight", "head.bias"]
    opt = make_optimizer(list(model.head.parameters()) * 2, "sgd", lr=0.1)  # a repeated tensor is kept once
    assert len(opt.param_groups[0]["params"]) == 2
    opt = make_optimizer(model.head.named_parameters(), "sgd", lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


# --------------------------------------------------------------------------------------------------
# per-layer-group learning rates
# --------------------------------------------------------------------------------------------------
def test_param_groups_by_glob_every_parameter_in_exactly_one_group():
    model = _net()
    opt = make_optimizer(model, "sgd", lr=0.1, momentum=0.9, param_groups=[
        {"params": "backbone.*", "lr": 1e-4},
        {"params": ["head.weight"], "lr": 1e-2, "weight_decay": 1e-3},
    ])
    names = [g["name"] for g in opt.param_groups]
    assert names == ["backbone.*", "head.weight", "default"]
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-2, 0.1]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, 1e-3, 0.0]
    assert opt.param_groups[2]["param_names"] == ["head.bias"]
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters()) and len(ids) == len(set(ids))


def test_first_matching_group_wins_and_the_empty_default_group_is_left_out():
    model = _net()
    opt = make_optimizer(model, "sgd", lr=0.1, param_groups=[
        {"params": "*.bias", "lr": 0.5, "weight_decay": 0.0},
        {"params": "*", "lr": 0.01, "weight_decay": 1e-4},
    ])
    assert [g["name"] for g in opt.param_groups] == ["*.bias", "*"]
    assert all(n.endswith("bias") for n in opt.param_groups[0]["param_names"])
    assert not any(n.endswith("bias") for n in opt.param_groups[1]["param_names"])


def test_group_lrs_are_used_by_the_step():
    model = _net()
    opt = make_optimizer(model, "sgd", lr=1.0, param_groups=[{"params": "backbone.*", "lr": 0.0001}])
    before = copy.deepcopy(model)
    _train(model, opt, steps=1)
    moved_backbone = _max_diff(model.backbone, before.backbone)
    moved_head = _max_diff(model.head, before.head)
    assert moved_head > 100 * moved_backbone > 0


@pytest.mark.parametrize("groups,words", [
    ([{"params": "encoder.*", "lr": 1e-3}], ["encoder.*", "backbone.0.weight", "head.bias"]),
    ([{"params": "*"}, {"params": "head.*"}], ["already in an earlier group"]),
    ([{"params": "head.*", "momentum": 0.9, "betas": (0.9, 0.9)}], ["betas"]),
    ([{"lr": 0.1}], ["'params'"]),
    ([{"params": []}], ["glob pattern"]),
    ([{"params": "head.*", "lr": -1.0}], ["lr"]),
    ({"params": "head.*"}, ["list of dicts"]),
])
def test_bad_param_groups_raise_input_error(groups, words):
    with pytest.raises(InputError) as err:
        make_optimizer(_net(), "sgd", lr=0.1, param_groups=groups)
    for w in words:
        assert w in str(err.value)


def test_param_groups_need_names():
    with pytest.raises(InputError, match="by name"):
        make_optimizer(list(_net().parameters()), "sgd", lr=0.1, param_groups=[{"params": "head.*"}])


# --------------------------------------------------------------------------------------------------
# weight decay vs explicit L2
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_and_l2_penalty_coincide(momentum):
    c = 0.05
    wd_model, l2_model = _net(), _net()
    _train(wd_model, make_optimizer(wd_model, "sgd", lr=0.1, momentum=momentum, weight_decay=c))
    # weight_decay touches every parameter, so the L2 term is taken over every parameter too
    opt = make_optimizer(l2_model, "sgd", lr=0.1, momentum=momentum, l2=c)
    _train(l2_model, opt, penalty=True, include="*")
    assert _max_diff(wd_model, l2_model) < 1e-5
    plain = _net()
    _train(plain, make_optimizer(plain, "sgd", lr=0.1, momentum=momentum))
    assert _max_diff(plain, wd_model) > 1e-3  # and the decay did something


def test_adam_weight_decay_is_l2_but_adamw_decoupled_decay_differs():
    c = 0.1
    adam_wd = _net()
    _train(adam_wd, make_optimizer(adam_wd, "adam", lr=0.01, weight_decay=c))
    adam_l2 = _net()
    opt = make_optimizer(adam_l2, "adam", lr=0.01, l2=c)
    _train(adam_l2, opt, penalty=True, include="*")
    adamw = _net()
    _train(adamw, make_optimizer(adamw, "adamw", lr=0.01, weight_decay=c))
    assert _max_diff(adam_wd, adam_l2) < 1e-4  # torch's Adam weight_decay IS the L2 gradient term
    assert _max_diff(adamw, adam_l2) > 1e-2  # decoupled decay is not rescaled by 1/sqrt(v): different path
    # decoupled decay: with a zero loss gradient AdamW shrinks weights by exactly (1 - lr*c) per step
    w = nn.Parameter(torch.ones(3))
    opt = make_optimizer([w], "adamw", lr=0.01, weight_decay=c)
    w.grad = torch.zeros(3)
    opt.step()
    assert torch.allclose(w.detach(), torch.full((3,), 1 - 0.01 * c), rtol=0, atol=1e-7)


def test_default_penalty_excludes_biases_and_norm_layers():
    model = _net()
    weights = [model.backbone[0].weight, model.backbone[3].weight, model.head.weight]
    expected_l2 = 0.3 / 2 * sum(_sq(w) for w in weights)
    expected_l1 = 0.2 * sum(_abs(w) for w in weights)
    assert l2_penalty(model, 0.3).item() == pytest.approx(expected_l2, rel=1e-6)
    assert l1_penalty(model, 0.2).item() == pytest.approx(expected_l1, rel=1e-6)
    everything = 0.3 / 2 * sum(_sq(p) for p in model.parameters())
    assert l2_penalty(model, 0.3, include="*").item() == pytest.approx(everything, rel=1e-6)
    head_only = l2_penalty(model, 1.0, include=["head.*"]).item()
    assert head_only == pytest.approx(0.5 * (_sq(model.head.weight) + _sq(model.head.bias)))
    custom = l2_penalty(model, 1.0, include=lambda name, p, module: isinstance(module, nn.LayerNorm)).item()
    assert custom == pytest.approx(0.5 * sum(_sq(p) for p in model.backbone[4].parameters()))
    assert l2_penalty(model, 0.0).item() == 0.0
    penalty = l2_penalty(model, 1.0)
    penalty.backward()  # differentiable, gradient = coeff * w on the selected weights only
    assert torch.allclose(model.head.weight.grad, model.head.weight.detach())
    assert model.head.bias.grad is None


def test_penalty_errors():
    with pytest.raises(InputError, match="matches no trainable parameter"):
        l2_penalty(_net(), 0.1, include="encoder.*")
    with pytest.raises(InputError, match="coeff"):
        l1_penalty(_net(), -0.1)
    with pytest.raises(InputError, match="nn.Module"):
        l2_penalty([torch.zeros(2)], 0.1)
    with pytest.raises(InputError, match="Optimizer"):
        regularization_penalty(_net(), "sgd")


def test_regularization_penalty_uses_each_groups_coefficients():
    model = _net()
    opt = make_optimizer(model, "sgd", lr=0.1, l2=0.01, l1=0.001,
                         param_groups=[{"params": "head.*", "l2": 1.0, "l1": 0.0}])
    got = regularization_penalty(model, opt).item()
    head = 0.5 * _sq(model.head.weight)
    rest = [model.backbone[0].weight, model.backbone[3].weight]
    expected = head + 0.005 * sum(_sq(w) for w in rest) + 0.001 * sum(_abs(w) for w in rest)
    assert got == pytest.approx(expected, rel=1e-6)
    assert regularization_penalty(model, make_optimizer(model, "sgd", lr=0.1)).item() == 0.0
    assert regularization_penalty(model, torch.optim.SGD(model.parameters(), lr=0.1)).item() == 0.0


def test_l2_coefficients_survive_the_optimizer_state_dict():
    model = _net()
    opt = make_optimizer(model, "adam", lr=0.01, l2=0.02, param_groups=[{"params": "head.*", "l2": 0.5}])
    _train(model, opt, steps=2, penalty=True)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    fresh = make_optimizer(model, "adam", lr=0.01, param_groups=[{"params": "head.*"}])
    assert [g["l2"] for g in fresh.param_groups] == [0.0, 0.0]
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    assert [g["l2"] for g in fresh.param_groups] == [0.5, 0.02]
    assert regularization_penalty(model, fresh).item() == pytest.approx(regularization_penalty(model, opt).item())


# --------------------------------------------------------------------------------------------------
# EMA / Polyak averaging
# --------------------------------------------------------------------------------------------------
def test_ema_follows_the_exponential_average():
    model = _net()
    ema = make_ema(model, decay=0.9)
    expected = [p.detach().clone() for p in model.parameters()]  # the first update copies
    opt = make_optimizer(model, "sgd", lr=0.1)
    x, y = _data()
    ema.update_parameters(model)
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        ema.update_parameters(model)
        expected = [0.9 * e + 0.1 * p.detach() for e, p in zip(expected, model.parameters())]
    for e, p in zip(expected, ema.module.parameters()):
        assert torch.allclose(e, p, atol=1e-6)
    # BatchNorm running statistics are averaged as well (use_buffers=True)
    assert not torch.equal(ema.module.backbone[1].running_mean, model.backbone[1].running_mean)
    assert not torch.equal(ema.module.backbone[1].running_mean, torch.zeros(8))
    assert int(ema.n_averaged) == 6


def test_polyak_average_is_the_plain_mean():
    w = nn.Linear(2, 1, bias=False)
    ema = make_ema(w, decay=None)
    seen = []
    for v in (1.0, 2.0, 6.0):
        with torch.no_grad():
            w.weight.fill_(v)
        ema.update_parameters(w)
        seen.append(v)
    assert torch.allclose(ema.module.weight, torch.full((1, 2), sum(seen) / 3))


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5, float("nan")])
def test_ema_bad_decay(decay):
    with pytest.raises(InputError, match="decay"):
        make_ema(_net(), decay=decay)
    with pytest.raises(InputError, match="nn.Module"):
        make_ema("model")
