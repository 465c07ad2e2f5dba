"""lr_range_test on a real tiny problem (sklearn digits), its sweep arithmetic, state restoration, plot and errors."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.data import load_digits_dataset
from vision.errors import InputError
from vision.io import read_image
from vision.train import LRFinderResult, lr_range_test

loss_fn = nn.functional.cross_entropy


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    images, labels, _ = load_digits_dataset()
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255.0
    y = torch.tensor(labels)
    return x[:1400], y[:1400], x[1400:], y[1400:]


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def _loader(x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, batch_size: int = 8) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def _train_and_score(digits, lr: float, *, epochs: int = 2) -> tuple[float, float]:
    x, y, xv, yv = digits
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        for xb, yb in _loader(x, y, seed=100 + epoch):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    with torch.no_grad():
        out = model(xv)
        loss = float(loss_fn(out, yv))
        acc = float((out.argmax(1) == yv).float().mean())
    return (loss if math.isfinite(loss) else math.inf), acc


# --------------------------------------------------------------------------------------------------
# on real data
# --------------------------------------------------------------------------------------------------
def test_suggestion_on_digits_trains_better_than_too_small_and_too_large(digits, tmp_path):
    x, y, _, _ = digits
    result = lr_range_test(_mlp(), loss_fn, _loader(x, y))
    assert isinstance(result, LRFinderResult)
    assert 1e-4 <= result.suggested_lr <= 1.0
    assert result.suggested_lr == pytest.approx(result.min_loss_lr / 10)
    assert result.steepest_lr <= result.min_loss_lr
    loss_s, acc_s = _train_and_score(digits, result.suggested_lr)
    loss_small, acc_small = _train_and_score(digits, 1e-6)
    loss_big, acc_big = _train_and_score(digits, 10.0)
    assert loss_s < 0.7 * min(loss_small, loss_big)
    assert acc_s > 0.75 and acc_s > acc_small + 0.3 and acc_s > acc_big + 0.3
    path = result.plot(tmp_path / "plots" / "digits_lr.png")
    img = read_image(path)
    assert img.shape == (450, 700, 3) and img.dtype == np.uint8
    green = (np.abs(img.astype(int) - (44, 160, 44)).sum(axis=2) < 40).sum()  # the suggestion line
    red = (np.abs(img.astype(int) - (214, 39, 40)).sum(axis=2) < 40).sum()  # the minimum marker
    assert green > 100 and red > 20


def test_suggestion_is_stable_across_shuffles(digits):
    x, y, _, _ = digits
    found = [lr_range_test(_mlp(), loss_fn, _loader(x, y, seed=s), start=1e-5).suggested_lr for s in range(3)]
    assert max(found) / min(found) < 3.0


def test_a_single_loss_spike_neither_stops_the_sweep_nor_moves_the_suggestion(digits):
    x, y, _, _ = digits
    clean = lr_range_test(_mlp(), loss_fn, _loader(x, y), start=1e-5)
    calls = {"n": 0}

    def spiky(out, target):
        loss = loss_fn(out, target)
        calls["n"] += 1
        return loss + 10 * loss.detach() if calls["n"] == 20 else loss  # one batch reads 11× its loss

    noisy = lr_range_test(_mlp(), spiky, _loader(x, y), start=1e-5)
    assert noisy.losses[19] == pytest.approx(11 * clean.losses[19], rel=1e-5)
    assert len(noisy.lrs) == len(clean.lrs)
    assert noisy.suggested_lr == pytest.approx(clean.suggested_lr, rel=0.5)


# --------------------------------------------------------------------------------------------------
# the sweep itself
# --------------------------------------------------------------------------------------------------
def _regression(n: int = 256, batch_size: int = 8) -> tuple[nn.Module, DataLoader]:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, 5, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0], [0.0]]) + 0.1 * torch.randn(n, 1, generator=g)
    torch.manual_seed(0)
    return nn.Linear(5, 1), DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def test_lrs_follow_the_exponential_factor_to_end():
    model, loader = _regression()
    r = lr_range_test(model, nn.functional.mse_loss, loader, start=1e-6, end=1e-2, diverge=math.inf)
    steps = len(loader)
    q = (1e-2 / 1e-6) ** (1 / (steps - 1))
    assert len(r.lrs) == r.steps == steps and not r.diverged
    np.testing.assert_allclose(r.lrs, 1e-6 * q ** np.arange(steps), rtol=1e-12)
    assert r.lrs[-1] == pytest.approx(1e-2, rel=1e-12)
    # the smoothed loss is the bias-corrected exponential average of the raw losses
    avg, expected = 0.0, []
    for i, loss in enumerate(r.losses):
        avg = 0.98 * avg + 0.02 * loss
        expected.append(avg / (1 - 0.98 ** (i + 1)))
    np.testing.assert_allclose(r.smoothed, expected, rtol=1e-12)
    json.dumps(r.to_dict())


def test_the_sweep_stops_when_the_loss_diverges():
    model, loader = _regression()
    r = lr_range_test(model, nn.functional.mse_loss, loader, start=1e-4, end=100.0)
    assert r.diverged and len(r.lrs) < len(loader)
    assert r.smoothed[-1] > 4.0 * np.min(r.smoothed[r.skip_start:-1]) or not np.isfinite(r.losses[-1])
    assert 1e-3 < r.suggested_lr < 1.0  # well below the lr (~1 for this well-conditioned problem) that blows up
    assert r.lrs[-1] < 100.0


def test_steps_limit_and_iterables_without_len():
    model, loader = _regression()
    r = lr_range_test(model, nn.functional.mse_loss, loader, steps=10, start=1e-5, end=1e-1)
    assert len(r.lrs) == 10 and r.lrs[-1] == pytest.approx(1e-1)
    r = lr_range_test(model, nn.functional.mse_loss, (b for b in loader), steps=12, start=1e-5, end=1e-1)
    assert len(r.lrs) == 12


# --------------------------------------------------------------------------------------------------
# nothing is left changed
# --------------------------------------------------------------------------------------------------
def test_model_optimizer_mode_and_rng_are_restored(digits):
    x, y, _, _ = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for xb, yb in list(_loader(x, y, batch_size=32))[:3]:  # give Adam some state
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    model.eval()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(opt.state_dict())  # state_dict() shares the live tensors
    adam_avg = [opt.state[p]["exp_avg"].clone() for p in model.parameters()]
    torch.manual_seed(7)
    r = lr_range_test(model, loss_fn, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True), optimizer=opt)
    after_rng = torch.rand(4)
    torch.manual_seed(7)
    assert torch.equal(after_rng, torch.rand(4))  # the global RNG is as if the test never ran
    assert len(r.lrs) > 10
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[k]), k  # weights and BatchNorm running statistics
    assert not model.training
    assert [g["lr"] for g in opt.param_groups] == [3e-3]
    assert opt.state_dict()["state"][0]["step"] == opt_state["state"][0]["step"]
    for p, avg in zip(model.parameters(), adam_avg):
        assert torch.equal(opt.state[p]["exp_avg"], avg)
        assert p.grad is None


def test_restored_even_when_the_loss_function_fails(digits):
    x, y, _, _ = digits
    model = _mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = {"n": 0}

    def failing(out, target):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("boom")
        return loss_fn(out, target)

    with pytest.raises(RuntimeError, match="boom"):
        lr_range_test(model, failing, _loader(x, y), start=1e-2, end=1.0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,words", [
    ({"start": 0.0}, "start"),
    ({"start": 1.0, "end": 0.5}, "start < end"),
    ({"end": math.inf}, "end"),
    ({"start": "1e-3"}, "start"),
    ({"steps": 1}, "steps"),
    ({"steps": 10_000}, "exceeds"),
    ({"smooth": 1.0}, "smooth"),
    ({"diverge": 1.0}, "diverge"),
    ({"skip_start": -1}, "skip_start"),
    ({"optimizer": "lbfgs"}, "unknown optimizer"),
    ({"optimizer": 3}, "optimizer must be"),
])
def test_bad_arguments_raise_input_error(kwargs, words):
    model, loader = _regression()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(InputError, match=words):
        lr_range_test(model, nn.functional.mse_loss, loader, **kwargs)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_bad_models_batches_and_losses_raise_input_error():
    model, loader = _regression()
    mse = nn.functional.mse_loss
    with pytest.raises(InputError, match="nn.Module"):
        lr_range_test(lambda t: t, mse, loader)
    with pytest.raises(InputError, match="callable"):
        lr_range_test(model, "mse", loader)
    with pytest.raises(InputError, match="empty"):
        lr_range_test(model, mse, [])
    with pytest.raises(InputError, match="no len"):
        lr_range_test(model, mse, (b for b in loader))
    with pytest.raises(InputError, match="iterable"):
        lr_range_test(model, mse, torch.zeros(3, 5))
    with pytest.raises(InputError, match=r"batch 0: expected an \(inputs, targets\) pair"):
        lr_range_test(model, mse, [torch.zeros(2, 5)] * 4)
    with pytest.raises(InputError, match="scalar tensor"):
        lr_range_test(model, lambda out, t: (out - t) ** 2, loader)
    other = torch.optim.SGD(nn.Linear(5, 1).parameters(), lr=0.1)
    with pytest.raises(InputError, match="not parameters of the model"):
        lr_range_test(model, mse, loader, optimizer=other)
    with pytest.raises(InputError, match="at least 2 finite steps"):
        lr_range_test(model, lambda out, t: torch.tensor(float("nan")), loader)


def test_plot_refuses_a_non_png_path_and_writes_nothing(tmp_path):
    model, loader = _regression()
    r = lr_range_test(model, nn.functional.mse_loss, loader, start=1e-5, end=1.0)
    with pytest.raises(InputError, match=".png"):
        r.plot(tmp_path / "lr.jpg")
    with pytest.raises(InputError, match="directory"):
        (tmp_path / "dir.png").mkdir()
        r.plot(tmp_path / "dir.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png"] and not any((tmp_path / "dir.png").iterdir())
