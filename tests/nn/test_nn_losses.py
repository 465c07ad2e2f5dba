"""make_loss: hand formulas, torch's functional losses and scikit-learn as references; from-logits = from-probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

from vision.errors import DTypeError, InputError, ShapeError
from vision.nn import LOSSES, make_loss


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_regression_losses_match_hand_formulas_and_torch():
    x = torch.randn(8, 5, generator=_gen())
    y = torch.randn(8, 5, generator=_gen(1))
    e = x - y
    assert torch.allclose(make_loss("mse")(x, y), (e**2).mean())
    assert torch.allclose(make_loss("mse")(x, y), F.mse_loss(x, y))
    assert torch.allclose(make_loss("mae")(x, y), e.abs().mean())
    assert torch.allclose(make_loss("mean_absolute_error")(x, y), F.l1_loss(x, y))
    # the cost is the mean over the batch of the per-sample losses
    per_sample = make_loss("mse", reduction="none")(x, y)
    assert per_sample.shape == (8,)
    assert torch.allclose(per_sample, (e**2).mean(dim=1))
    assert torch.allclose(make_loss("mse", reduction="sum")(x, y), (e**2).mean(dim=1).sum())


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_is_half_mse_inside_delta_and_linear_beyond(delta):
    e = torch.tensor([-5.0, -2.5, -1.9, -0.7, -0.2, 0.0, 0.3, 0.49, 1.5, 4.0])
    target = torch.zeros_like(e)
    got = make_loss("huber", delta=delta, reduction="none")(e.unsqueeze(1), target.unsqueeze(1))
    expected = torch.where(e.abs() <= delta, e**2 / 2, delta * (e.abs() - delta / 2))
    assert torch.allclose(got, expected)
    inside = e.abs() < delta
    assert torch.allclose(got[inside], F.mse_loss(e[inside], target[inside], reduction="none") / 2)
    assert torch.allclose(make_loss("huber", delta=delta)(e, target), F.huber_loss(e, target, delta=delta))


def test_binary_cross_entropy_from_logits_and_probabilities_agree():
    logits = torch.randn(16, 3, generator=_gen()) * 3
    t = (torch.rand(16, 3, generator=_gen(1)) > 0.5).float()
    p = torch.sigmoid(logits)
    hand = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    from_logits = make_loss("bce")(logits, t)
    from_probs = make_loss("binary_cross_entropy", from_logits=False)(p, t)
    assert torch.allclose(from_logits, hand, atol=1e-5)
    assert torch.allclose(from_logits, F.binary_cross_entropy_with_logits(logits, t), atol=1e-6)
    assert torch.allclose(from_probs, F.binary_cross_entropy(p, t), atol=1e-6)
    assert abs(from_logits.item() - from_probs.item()) < 1e-5
    # smoothing toward 1/2 (Keras' rule), both variants
    ts = t * 0.8 + 0.1
    smoothed = make_loss("bce", label_smoothing=0.2)(logits, t)
    assert torch.allclose(smoothed, F.binary_cross_entropy_with_logits(logits, ts), atol=1e-6)
    assert abs(make_loss("bce", from_logits=False, label_smoothing=0.2)(p, t).item() - smoothed.item()) < 1e-5
    # integer/bool-free float targets of another dtype are converted
    assert torch.allclose(make_loss("bce")(logits, t.double()), from_logits)


def test_categorical_cross_entropy_matches_torch_and_sklearn():
    logits = torch.randn(32, 5, generator=_gen()) * 2
    y = torch.randint(0, 5, (32,), generator=_gen(1))
    p = torch.softmax(logits, dim=1)
    from_logits = make_loss("cross_entropy")(logits, y)
    from_probs = make_loss("categorical_cross_entropy", from_logits=False)(p, y)
    assert torch.allclose(from_logits, F.cross_entropy(logits, y), atol=1e-6)
    assert abs(from_logits.item() - from_probs.item()) < 1e-5
    hand = -torch.log(p[torch.arange(32), y]).mean()
    assert torch.allclose(from_probs, hand, atol=1e-6)
    p64 = p.double().numpy()
    reference = log_loss(y.numpy(), p64 / p64.sum(axis=1, keepdims=True), labels=np.arange(5))
    assert from_probs.item() == pytest.approx(reference, abs=1e-5)
    # one-hot / probability targets give the same number
    one_hot = F.one_hot(y, 5).float()
    assert torch.allclose(make_loss("cce")(logits, one_hot), from_logits, atol=1e-6)
    assert torch.allclose(make_loss("cce", from_logits=False)(p, one_hot), from_probs, atol=1e-6)


@pytest.mark.parametrize("one_hot", [False, True])
def test_label_smoothing_matches_torch_in_both_variants(one_hot):
    logits = torch.randn(20, 4, generator=_gen(2))
    y = torch.randint(0, 4, (20,), generator=_gen(3))
    target = F.one_hot(y, 4).float() if one_hot else y
    reference = F.cross_entropy(logits, target, label_smoothing=0.15)
    assert torch.allclose(make_loss("cce", label_smoothing=0.15)(logits, target), reference, atol=1e-6)
    from_probs = make_loss("cce", from_logits=False, label_smoothing=0.15)(torch.softmax(logits, 1), target)
    assert abs(from_probs.item() - reference.item()) < 1e-5
    smoothed = F.one_hot(y, 4).float() * 0.85 + 0.15 / 4
    hand = -(smoothed * torch.log_softmax(logits, 1)).sum(1).mean()
    assert abs(from_probs.item() - hand.item()) < 1e-5


def test_dense_cross_entropy_per_sample_is_the_mean_over_positions():
    logits = torch.randn(3, 4, 5, 6, generator=_gen())
    y = torch.randint(0, 4, (3, 5, 6), generator=_gen(1))
    per_position = F.cross_entropy(logits, y, reduction="none")
    none = make_loss("cce", reduction="none")(logits, y)
    assert none.shape == (3,)
    assert torch.allclose(none, per_position.flatten(1).mean(1), atol=1e-6)
    assert torch.allclose(make_loss("cce")(logits, y), F.cross_entropy(logits, y), atol=1e-6)
    assert torch.allclose(make_loss("cce", reduction="sum")(logits, y), none.sum(), atol=1e-5)
    probs = make_loss("cce", from_logits=False, reduction="none")(torch.softmax(logits, 1), y)
    assert torch.allclose(probs, none, atol=1e-5)


def test_from_probabilities_clamps_to_eps():
    p = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 0])
    loss = make_loss("cce", from_logits=False, reduction="none")(p, y)
    assert torch.allclose(loss, torch.tensor([-math.log(1e-7), -math.log(1 - 1e-7)]), rtol=1e-4, atol=1e-6)
    bce = make_loss("bce", from_logits=False, eps=1e-3, reduction="none")(torch.tensor([0.0, 1.0]),
                                                                          torch.tensor([1.0, 1.0]))
    assert torch.allclose(bce, torch.tensor([-math.log(1e-3), -math.log(1 - 1e-3)]), rtol=1e-5)
    # half precision: 1 - 1e-7 rounds to 1 in float16, so the computation is done in float32 and stays finite
    half = make_loss("bce", from_logits=False)(torch.tensor([1.0, 0.0], dtype=torch.float16), torch.tensor([0.0, 1.0]))
    # (1 - 1e-7 in float32 is 1 - 2**-23, so the second term is -log(2**-23) = 15.94)
    assert half.dtype == torch.float32 and half.item() == pytest.approx((-math.log(1e-7) + 23 * math.log(2)) / 2, rel=1e-4)


def test_gradients_flow():
    logits = torch.randn(4, 3, requires_grad=True)
    make_loss("cce", label_smoothing=0.1)(logits, torch.tensor([0, 1, 2, 1])).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    # softmax + CE gradient = (p - t) / B
    logits.grad = None
    y = torch.tensor([0, 1, 2, 1])
    make_loss("cce")(logits, y).backward()
    expected = (torch.softmax(logits.detach(), 1) - F.one_hot(y, 3).float()) / 4
    assert torch.allclose(logits.grad, expected, atol=1e-6)


def test_unknown_loss_and_bad_options():
    with pytest.raises(InputError, match="unknown loss 'msee'.*'huber'.*'mse'"):
        make_loss("msee")
    assert "categorical_cross_entropy" in LOSSES
    with pytest.raises(InputError, match="'mse' does not accept options \\['delta'\\]"):
        make_loss("mse", delta=1.0)
    with pytest.raises(InputError, match="unknown reduction 'avg'"):
        make_loss("mae", reduction="avg")
    with pytest.raises(InputError, match="delta must be a number in \\(0, inf\\), got 0"):
        make_loss("huber", delta=0)
    with pytest.raises(InputError, match="label_smoothing must be a number in \\[0, 1\\), got 1.0"):
        make_loss("cce", label_smoothing=1.0)
    with pytest.raises(InputError, match="eps must be"):
        make_loss("bce", eps=0.7)
    with pytest.raises(InputError, match="must be a str"):
        make_loss(None)


def test_bad_inputs_are_typed_errors():
    with pytest.raises(ShapeError, match="expected target of the input's shape \\(4, 1\\), got \\(4,\\)"):
        make_loss("mse")(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ShapeError, match="batch dimension"):
        make_loss("mae")(torch.tensor(1.0), torch.tensor(1.0))
    with pytest.raises(ShapeError, match="class-index target of shape \\(4,\\) for input \\(4, 3\\), got \\(4, 1\\)"):
        make_loss("cce")(torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.long))
    with pytest.raises(ShapeError, match="probability target of the input's shape"):
        make_loss("cce")(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ShapeError, match="\\(B, C, ...\\)"):
        make_loss("cce")(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(DTypeError, match="got torch.bool"):
        make_loss("cce")(torch.zeros(4, 3), torch.zeros(4, dtype=torch.bool))
    with pytest.raises(DTypeError, match="floating-point input, got torch.int64"):
        make_loss("bce")(torch.zeros(4, dtype=torch.long), torch.zeros(4))
