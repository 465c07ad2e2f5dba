"""make_schedule: each schedule's LR sequence against its formula, intervals, resume, and the bad-input errors."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from vision.errors import InputError
from vision.train import SCHEDULES, make_optimizer, make_schedule


def _opt(name: str = "sgd", lrs: tuple[float, ...] = (0.1, 0.01), **kw) -> torch.optim.Optimizer:
    """An optimizer with one param group per entry of ``lrs`` (checks that group ratios are kept)."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad}[name]
    return cls(groups, **kw)


def _run(opt: torch.optim.Optimizer, schedule, n: int) -> tuple[np.ndarray, np.ndarray]:
    """LR and momentum (SGD ``momentum`` or Adam ``β1``) of every group at each of ``n`` steps → ``n × groups``."""
    lrs, moms = [], []
    for _ in range(n):
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([g["momentum"] if "momentum" in g else g["betas"][0] for g in opt.param_groups])
        opt.step()
        schedule.step()
    return np.asarray(lrs), np.asarray(moms)


def _formula_check(name: str, formula, n: int = 30, **kw) -> None:
    opt = _opt(momentum=0.9)
    schedule = make_schedule(opt, name, **kw)
    got, _ = _run(opt, schedule, n)
    for col, lr0 in enumerate((0.1, 0.01)):
        expected = np.array([formula(lr0, t) for t in range(n)])
        np.testing.assert_allclose(got[:, col], expected, rtol=1e-12, atol=0)
    assert schedule.interval == "epoch" and schedule.name == name


def test_time_based_decay_is_lr0_over_one_plus_k_t():
    _formula_check("time", lambda lr0, t: lr0 / (1 + 0.3 * t), decay=0.3)


def test_step_decay_is_lr0_times_k_to_the_floor_of_t_over_n():
    _formula_check("step", lambda lr0, t: lr0 * 0.5 ** math.floor(t / 4), step_size=4, gamma=0.5)
    _formula_check("step", lambda lr0, t: lr0 * 0.1 ** math.floor(t / 10), step_size=10)  # default gamma 0.1


def test_exponential_decay_is_lr0_times_e_to_the_minus_k_t():
    _formula_check("exponential", lambda lr0, t: lr0 * math.exp(-0.2 * t), decay=0.2)


def test_cosine_anneals_to_min_lr_over_the_epochs():
    _formula_check("cosine", lambda lr0, t: 1e-4 + (lr0 - 1e-4) * (1 + math.cos(math.pi * t / 12)) / 2,
                   n=13, epochs=12, min_lr=1e-4)


def test_interval_can_be_batch_for_the_epoch_schedules():
    s = make_schedule(_opt(), "exponential", decay=0.01, interval="batch")
    assert s.interval == "batch"
    s = make_schedule(_opt(), "cosine", epochs=3, steps_per_epoch=10, interval="batch")
    assert s.interval == "batch" and s.T_max == 30


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_one_cycle_lr_goes_up_then_down_while_momentum_goes_down_then_up(opt_name):
    opt = _opt(opt_name, lrs=(0.5, 0.05), **({"momentum": 0.9} if opt_name == "sgd" else {}))
    s = make_schedule(opt, "onecycle", steps_per_epoch=10, epochs=5)
    assert s.interval == "batch"
    lrs, moms = _run(opt, s, 50)
    peak = int(np.argmax(lrs[:, 0]))
    assert peak == pytest.approx(0.3 * 50, abs=1)  # pct_start 0.3
    assert np.all(np.diff(lrs[: peak + 1, 0]) > 0) and np.all(np.diff(lrs[peak:, 0]) < 0)
    assert np.argmin(moms[:, 0]) == peak  # the V: lowest momentum at the highest lr
    assert np.all(np.diff(moms[: peak + 1, 0]) < 0) and np.all(np.diff(moms[peak:, 0]) > 0)
    assert lrs[peak, 0] == pytest.approx(0.5, rel=1e-3) and lrs[peak, 1] == pytest.approx(0.05, rel=1e-3)
    assert lrs[0, 0] == pytest.approx(0.5 / 25) and lrs[-1, 0] < 0.5 / 25 / 1e3
    assert moms[0, 0] == pytest.approx(0.95) and moms[peak, 0] == pytest.approx(0.85, abs=1e-3)


def test_one_cycle_without_momentum_support_does_not_cycle_it():
    opt = _opt("adagrad")
    s = make_schedule(opt, "onecycle", steps_per_epoch=5, epochs=2, max_lr=0.3)
    lrs = _run_lr_only(opt, s, 10)
    assert "momentum" not in opt.param_groups[0] and max(lrs) == pytest.approx(0.3, rel=1e-2)
    with pytest.raises(InputError, match="momentum or betas"):
        make_schedule(_opt("adagrad"), "onecycle", steps_per_epoch=5, epochs=2, cycle_momentum=True)


def _run_lr_only(opt, s, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def test_cyclic_triangular_repeats_between_base_and_max():
    opt = _opt(lrs=(1.0, 0.1), momentum=0.9)
    s = make_schedule(opt, "cyclic", step_size_up=5)
    lrs, moms = _run(opt, s, 40)
    np.testing.assert_allclose(lrs[:10, 0], lrs[10:20, 0], rtol=1e-12)  # period 2·step_size_up
    assert lrs[0, 0] == pytest.approx(0.1) and lrs[5, 0] == pytest.approx(1.0) and lrs[10, 0] == pytest.approx(0.1)
    np.testing.assert_allclose(np.diff(lrs[:6, 0]), 0.18, rtol=1e-9)  # linear ramp
    np.testing.assert_allclose(lrs[:, 1], lrs[:, 0] / 10, rtol=1e-9)  # per-group ratio kept
    assert np.all(moms == 0.9)  # no momentum cycling by default
    assert s.interval == "batch"
    # default half-cycle: two epochs of batches
    assert make_schedule(_opt(), "cyclic", steps_per_epoch=7).total_size == 28


def test_triangular2_halves_its_amplitude_each_cycle():
    opt = _opt(lrs=(1.0,))
    s = make_schedule(opt, "triangular2", base_lr=0.2, step_size_up=4)
    lrs = np.asarray(_run_lr_only(opt, s, 32))
    amplitudes = [lrs[c * 8: (c + 1) * 8].max() - 0.2 for c in range(4)]
    np.testing.assert_allclose(amplitudes, [0.8, 0.4, 0.2, 0.1], rtol=1e-9)
    assert lrs.min() == pytest.approx(0.2)


def test_cyclic_can_cycle_momentum_when_asked():
    opt = _opt(lrs=(1.0,), momentum=0.9)
    s = make_schedule(opt, "cyclic", step_size_up=3, cycle_momentum=True, base_momentum=0.8, max_momentum=0.95)
    lrs, moms = _run(opt, s, 7)
    assert moms[0, 0] == pytest.approx(0.95) and moms[3, 0] == pytest.approx(0.8) and np.argmax(lrs[:, 0]) == 3


def test_warmup_is_linear_then_hands_over():
    opt = _opt(lrs=(0.1, 0.01))
    s = make_schedule(opt, "warmup", warmup_steps=5, warmup_start=0.2, after="exponential", decay=0.5)
    lrs, _ = _run(opt, s, 12)
    t = np.arange(5)
    for col, lr0 in enumerate((0.1, 0.01)):
        np.testing.assert_allclose(lrs[:5, col], lr0 * (0.2 + 0.8 * t / 5), rtol=1e-12)
        np.testing.assert_allclose(lrs[5:, col], lr0 * np.exp(-0.5 * np.arange(7)), rtol=1e-12)
    assert np.allclose(np.diff(lrs[:6, 0], n=2), 0.0, atol=1e-15)  # a straight line up to lr0
    assert s.interval == "epoch" and s.name == "warmup"


def test_warmup_alone_stays_at_lr0_and_steps_per_batch():
    opt = _opt(lrs=(0.1,))
    s = make_schedule(opt, "warmup", warmup_steps=4)
    lrs = _run_lr_only(opt, s, 8)
    np.testing.assert_allclose(lrs, [0.1 * (0.01 + 0.99 * t / 4) for t in range(4)] + [0.1] * 4, rtol=1e-12)
    assert s.interval == "batch"


def test_warmup_then_cosine_spends_the_remaining_steps():
    opt = _opt(lrs=(1.0,))
    s = make_schedule(opt, "warmup", warmup_steps=2, after="cosine", epochs=6)
    lrs = _run_lr_only(opt, s, 7)
    np.testing.assert_allclose(lrs[2:], [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)], atol=1e-12)


@pytest.mark.parametrize("name,kw", [
    ("time", {"decay": 0.1}),
    ("onecycle", {"steps_per_epoch": 4, "epochs": 3}),
    ("triangular2", {"step_size_up": 2}),
    ("warmup", {"warmup_steps": 3, "after": "step", "step_size": 2, "gamma": 0.5}),
])
def test_a_restored_schedule_continues_exactly(name, kw):
    full_opt = _opt(momentum=0.9)
    full = make_schedule(full_opt, name, **kw)
    expected, _ = _run(full_opt, full, 12)

    opt = _opt(momentum=0.9)
    first = make_schedule(opt, name, **kw)
    head, _ = _run(opt, first, 5)
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": first.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    opt2 = _opt(momentum=0.9)
    second = make_schedule(opt2, name, **kw)
    opt2.load_state_dict(saved["opt"])
    second.load_state_dict(saved["sched"])
    tail, _ = _run(opt2, second, 7)
    np.testing.assert_allclose(np.vstack([head, tail]), expected, rtol=1e-12)
    assert second.interval == full.interval


def test_works_with_make_optimizer_groups():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    opt = make_optimizer(model, "sgd", lr=0.1, momentum=0.9, param_groups=[{"params": "0.*", "lr": 0.01}])
    s = make_schedule(opt, "onecycle", steps_per_epoch=3, epochs=2)
    assert [g["max_lr"] for g in opt.param_groups] == [0.01, 0.1]
    assert [g["lr"] for g in opt.param_groups] == [pytest.approx(0.01 / 25), pytest.approx(0.1 / 25)]
    assert s.interval == "batch"


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------
def test_unknown_schedule_lists_the_choices():
    with pytest.raises(InputError) as err:
        make_schedule(_opt(), "poly")
    for name in SCHEDULES:
        assert name in str(err.value)


@pytest.mark.parametrize("name,kw,words", [
    ("time", {}, "decay="),
    ("exponential", {"decay": -0.1}, "decay"),
    ("step", {}, "step_size="),
    ("step", {"step_size": 0}, "step_size"),
    ("step", {"step_size": 2, "gamma": 1.5}, "gamma"),
    ("step", {"step_size": 2, "decay": 0.1}, "does not take ['decay']"),
    ("time", {"decay": 0.1, "interval": "iteration"}, "interval"),
    ("cosine", {}, "epochs="),
    ("cosine", {"epochs": 3, "interval": "batch"}, "steps_per_epoch="),
    ("onecycle", {"epochs": 3}, "steps_per_epoch="),
    ("onecycle", {"steps_per_epoch": 3}, "epochs="),
    ("onecycle", {"steps_per_epoch": 3, "epochs": 2, "interval": "epoch"}, "does not take ['interval']"),
    ("onecycle", {"steps_per_epoch": 3, "epochs": 2, "pct_start": 1.0}, "pct_start"),
    ("onecycle", {"steps_per_epoch": 3, "epochs": 2, "anneal": "cosine"}, "anneal"),
    ("onecycle", {"steps_per_epoch": 3, "epochs": 2, "max_lr": [0.1]}, "one per param group"),
    ("onecycle", {"steps_per_epoch": 3, "epochs": 2, "base_momentum": 0.96}, "base_momentum"),
    ("onecycle", {"steps_per_epoch": 0, "epochs": 2}, "steps_per_epoch"),
    ("cyclic", {}, "steps_per_epoch (or step_size_up)"),
    ("cyclic", {"step_size_up": 2, "base_lr": 0.5}, "below max_lr"),
    ("cyclic", {"step_size_up": 2, "base_momentum": 0.5}, "cycle_momentum=True"),
    ("warmup", {}, "warmup_steps="),
    ("warmup", {"warmup_steps": 2, "after": "onecycle"}, "after='onecycle' is not supported"),
    ("warmup", {"warmup_steps": 2, "warmup_start": 0.0}, "warmup_start"),
    ("warmup", {"warmup_steps": 2, "after": "time"}, "decay="),
    ("warmup", {"warmup_steps": 2, "decay": 0.1}, "does not take ['decay']"),
    ("warmup", {"warmup_steps": 5, "after": "cosine", "epochs": 5}, "leave none"),
])
def test_bad_options_raise_input_error(name, kw, words):
    with pytest.raises(InputError) as err:
        make_schedule(_opt(momentum=0.9), name, **kw)
    assert words in str(err.value)


def test_not_an_optimizer():
    with pytest.raises(InputError, match="Optimizer"):
        make_schedule([torch.zeros(1)], "time", decay=0.1)
