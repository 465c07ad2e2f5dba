"""Gradient clipping, L1/L2 penalties, batch-norm freezing and parameter counts."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.nn import (
    clip_gradients,
    count_parameters,
    freeze_batchnorm,
    l1_penalty,
    l2_penalty,
    unfreeze_batchnorm,
)


def _model_with_grads(scale: float = 10.0) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    for p in model.parameters():
        p.grad = torch.randn_like(p) * scale
    return model


def _grad_norm(model: nn.Module) -> float:
    return math.sqrt(sum(float((p.grad**2).sum()) for p in model.parameters()))


def test_clip_by_norm_bounds_the_norm_and_returns_the_norm_before():
    model = _model_with_grads()
    before = _grad_norm(model)
    directions = [p.grad.clone() / before for p in model.parameters()]
    total = clip_gradients(model, max_norm=1.0)
    assert isinstance(total, torch.Tensor) and total.item() == pytest.approx(before, rel=1e-6)
    assert _grad_norm(model) <= 1.0 + 1e-6
    assert _grad_norm(model) == pytest.approx(1.0, rel=1e-4)
    for p, d in zip(model.parameters(), directions):  # the direction is kept
        assert torch.allclose(p.grad, d, atol=1e-5)


def test_clip_by_norm_leaves_small_gradients_alone():
    model = _model_with_grads(scale=0.01)
    grads = [p.grad.clone() for p in model.parameters()]
    clip_gradients(model.parameters(), max_norm=100.0)
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))


def test_clip_by_value_bounds_each_element():
    model = _model_with_grads()
    before = _grad_norm(model)
    grads = [p.grad.clone() for p in model.parameters()]
    total = clip_gradients(model, max_value=0.5)
    assert total.item() == pytest.approx(before, rel=1e-6)
    for p, g in zip(model.parameters(), grads):
        assert p.grad.abs().max().item() <= 0.5
        assert torch.equal(p.grad, g.clamp(-0.5, 0.5))


def test_clip_by_value_then_norm_and_skips_missing_grads():
    model = _model_with_grads()
    model[2].bias.grad = None
    total = clip_gradients(model, max_norm=0.3, max_value=2.0)
    assert total.item() == pytest.approx(_grad_norm_after_none(model, seed_model=_model_with_grads()), rel=1e-6)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert math.sqrt(sum(float((g**2).sum()) for g in grads)) <= 0.3 + 1e-6
    assert model[2].bias.grad is None
    weight = torch.randn(4, 4)
    weight.grad = torch.full((4, 4), 3.0)
    clip_gradients(weight, max_value=1.0)  # a single tensor works
    assert torch.all(weight.grad == 1.0)


def _grad_norm_after_none(model: nn.Module, *, seed_model: nn.Module) -> float:
    """The unclipped norm of seed_model's gradients, skipping the parameters whose grad model has dropped."""
    keep = [p.grad is not None for p in model.parameters()]
    return math.sqrt(sum(float((p.grad**2).sum()) for p, k in zip(seed_model.parameters(), keep) if k))


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs max_norm and/or max_value, got neither"),
    ({"max_norm": 0}, "max_norm must be a finite number > 0"),
    ({"max_value": -1.0}, "max_value must be"),
    ({"max_norm": float("nan")}, "max_norm must be"),
    ({"max_norm": True}, "max_norm must be"),
])
def test_clip_rejects_bad_bounds_without_touching_gradients(kwargs, message):
    model = _model_with_grads()
    grads = [p.grad.clone() for p in model.parameters()]
    with pytest.raises(InputError, match=message):
        clip_gradients(model, **kwargs)
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))


def _penalty_model() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2),
                         nn.LayerNorm(2))


def test_penalties_equal_hand_sums_over_weights_only():
    model = _penalty_model()
    weights = [model[0].weight, model[4].weight]
    assert torch.allclose(l1_penalty(model, 0.01), 0.01 * sum(w.abs().sum() for w in weights))
    assert torch.allclose(l2_penalty(model, 0.01), 0.01 / 2 * sum((w**2).sum() for w in weights))
    everything = list(model.parameters())
    assert torch.allclose(l1_penalty(model, 0.5, include="*"),
                          0.5 * sum(p.abs().sum() for p in everything))
    with torch.no_grad():
        model[1].weight.fill_(100.0)  # BN and biases do not move the default penalty
        model[0].bias.fill_(100.0)
    assert torch.allclose(l1_penalty(model, 0.01), 0.01 * sum(w.abs().sum() for w in weights))


def test_l2_gradient_equals_torch_weight_decay():
    model = _penalty_model()
    l2_penalty(model, 0.2).backward()
    assert torch.allclose(model[0].weight.grad, 0.2 * model[0].weight.detach())
    assert model[0].bias.grad is None and model[1].weight.grad is None


def test_penalty_include_patterns_callables_and_frozen_parameters():
    model = _penalty_model()
    only_linear = l2_penalty(model, 1.0, include=["4.weight"])  # patterns select exactly (biases too if matched)
    assert torch.allclose(only_linear, (model[4].weight**2).sum() / 2)
    by_callable = l1_penalty(model, 1.0, include=lambda name, p, module: p.dim() == 4)
    assert torch.allclose(by_callable, model[0].weight.abs().sum())
    model[0].weight.requires_grad_(False)  # frozen parameters never count
    assert torch.allclose(l1_penalty(model, 1.0), model[4].weight.abs().sum())
    assert l1_penalty(model, 0.0).item() == 0.0
    assert l2_penalty(nn.ReLU(), 1.0).item() == 0.0


def test_penalty_errors():
    model = _penalty_model()
    with pytest.raises(InputError, match="pattern 'head.\\*' matches no trainable parameter.*0.weight"):
        l1_penalty(model, 0.1, include=["head.*"])
    with pytest.raises(InputError, match="coeff must be a finite number >= 0, got -0.1"):
        l2_penalty(model, -0.1)
    with pytest.raises(InputError, match="must be a glob pattern or a non-empty list"):
        l2_penalty(model, 0.1, include=[3])
    with pytest.raises(InputError, match="expected an nn.Module"):
        l1_penalty([torch.zeros(2)], 0.1)


def _bn_model() -> nn.Module:
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2))
    model.train()
    with torch.no_grad():  # give the BN layers non-trivial running statistics
        for _ in range(3):
            model(torch.randn(8, 3, 6, 6) * 2 + 1)
    return model


def _stats(model: nn.Module) -> list[torch.Tensor]:
    return [b.clone() for n, b in model.named_buffers()]


def test_freeze_batchnorm_keeps_running_stats_fixed_in_train_mode():
    model = _bn_model()
    names = freeze_batchnorm(model)
    assert names == ["1", "4"]
    model.train()  # as a training loop does each epoch
    before = _stats(model)
    x = torch.randn(8, 3, 6, 6)
    out = model(x)
    assert all(torch.equal(a, b) for a, b in zip(before, _stats(model)))
    model.eval()
    assert torch.allclose(out, model(x))  # normalised with the stored statistics
    assert not any(p.requires_grad for m in (model[1], model[4]) for p in m.parameters())
    assert all(p.requires_grad for m in (model[0], model[3]) for p in m.parameters())
    assert count_parameters(model) == count_parameters(model, trainable_only=False) - 2 * (4 + 2)


def test_frozen_batchnorm_survives_deepcopy_and_unfreezes():
    model = _bn_model()
    freeze_batchnorm(model)
    clone = copy.deepcopy(model).train()
    before = _stats(clone)
    clone(torch.randn(8, 3, 6, 6))
    assert all(torch.equal(a, b) for a, b in zip(before, _stats(clone)))
    assert unfreeze_batchnorm(model) == ["1", "4"]
    model.train()
    before = _stats(model)
    model(torch.randn(8, 3, 6, 6))
    assert not torch.equal(before[0], model[1].running_mean)  # BN updates again
    assert all(p.requires_grad for p in model.parameters())


def test_count_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert count_parameters(model) == 3 * 4 + 4 + 4 * 2 + 2
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 4 + 4 * 2 + 2
    assert count_parameters(model, trainable_only=False) == 26
    shared = nn.Linear(5, 5)
    assert count_parameters(nn.Sequential(shared, shared)) == 30  # shared weights once
    with pytest.raises(InputError, match="uninitialised \\(lazy\\)"):
        count_parameters(nn.LazyLinear(3))
    with pytest.raises(InputError, match="expects an nn.Module"):
        count_parameters("model")
    with pytest.raises(InputError, match="expects an nn.Module"):
        freeze_batchnorm(None)
