"""Tests for vision.train.search: grid / random / multires / optuna, determinism, edge warnings, a real Trainer use."""

from __future__ import annotations

import csv
import importlib.util
import logging
import math

import pytest

from vision.errors import InputError, MissingDependencyError
from vision.train.search import Choice, Float, Int, SearchResult, search

LR_OPT = 10 ** -2.5  # ≈ 3.16e-3
N_OPT = 7


def bowl(params: dict) -> float:
    """A quadratic bowl in log10(lr) and an int, plus a penalty for the wrong activation: minimum 0."""
    act_penalty = 0.0 if params.get("act", "relu") == "relu" else 1.0
    return (math.log10(params["lr"]) + 2.5) ** 2 + 0.1 * (params["n"] - N_OPT) ** 2 + act_penalty


SPACE = {"lr": Float(1e-5, 1.0, log=True), "n": Int(1, 20), "act": Choice(["relu", "tanh"])}


def _close_to_optimum(result: SearchResult, *, log_tol: float, n_tol: int) -> None:
    assert abs(math.log10(result.best_params["lr"]) + 2.5) <= log_tol
    assert abs(result.best_params["n"] - N_OPT) <= n_tol
    assert result.best_params["act"] == "relu"
    assert result.best_value == pytest.approx(bowl(result.best_params))
    assert result.edge_warnings == []


def test_grid_finds_optimum_on_grid_points():
    space = {"lr": Float(1e-5, 1.0, log=True, steps=11), "n": Int(1, 13, steps=7), "act": ["relu", "tanh"]}
    result = search(bowl, space, method="grid")
    assert len(result.trials) == 11 * 7 * 2
    assert result.best_params["lr"] == pytest.approx(LR_OPT)
    assert result.best_params == {"lr": pytest.approx(LR_OPT), "n": 7, "act": "relu"}
    assert result.best_value == pytest.approx(0.0, abs=1e-12)


def test_random_finds_optimum_within_tolerance():
    result = search(bowl, SPACE, method="random", trials=80, seed=0)
    assert len(result.trials) == 80
    _close_to_optimum(result, log_tol=0.4, n_tol=1)


def test_multires_is_closer_than_random_with_same_budget():
    multi = search(bowl, SPACE, method="multires", trials=60, seed=3)
    rand = search(bowl, SPACE, method="random", trials=60, seed=3)
    _close_to_optimum(multi, log_tol=0.15, n_tol=0)
    assert multi.best_value < rand.best_value
    assert {row["round"] for row in multi.trials} == {0, 1, 2}
    # later rounds sample inside the shrunk range around the best
    last = [row for row in multi.trials if row["round"] == 2]
    assert all(row["act"] == "relu" for row in last)
    assert max(abs(math.log10(row["lr"]) + 2.5) for row in last) < 1.0


@pytest.mark.skipif(importlib.util.find_spec("optuna") is None, reason="optuna not installed")
def test_optuna_tpe_finds_optimum_and_is_deterministic():
    a = search(bowl, SPACE, method="optuna", trials=60, seed=1)
    b = search(bowl, SPACE, method="optuna", trials=60, seed=1)
    _close_to_optimum(a, log_tol=0.3, n_tol=1)
    assert a.trials == b.trials


def test_optuna_missing_is_typed_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna":
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(MissingDependencyError, match="optuna"):
        search(bowl, SPACE, method="optuna", trials=3)


@pytest.mark.parametrize("method", ["random", "multires"])
def test_same_seed_same_trials_other_seed_differs(method):
    a = search(bowl, SPACE, method=method, trials=12, seed=5)
    b = search(bowl, SPACE, method=method, trials=12, seed=5)
    c = search(bowl, SPACE, method=method, trials=12, seed=6)
    assert a.trials == b.trials
    assert a.trials != c.trials


def test_parallel_threads_give_the_same_table():
    one = search(bowl, SPACE, method="multires", trials=24, seed=2, n_jobs=1)
    four = search(bowl, SPACE, method="multires", trials=24, seed=2, n_jobs=4)
    assert one.trials == four.trials
    assert one.best_params == four.best_params


def test_maximize_direction():
    result = search(lambda p: -bowl(p), SPACE, method="random", trials=60, seed=0, direction="maximize")
    assert result.best_value == max(row["value"] for row in result.trials)
    assert result.direction == "maximize"


def test_log_sampling_is_log_uniform():
    result = search(lambda p: p["lr"], {"lr": Float(1e-6, 1.0, log=True)}, method="random", trials=400, seed=0)
    below = sum(row["lr"] < 1e-3 for row in result.trials)
    assert 150 < below < 250  # half the log range → about half the draws (uniform would give ~0)


def test_edge_warning_fires_when_optimum_outside_range(caplog):
    space = {"lr": Float(1e-2, 1.0, log=True), "n": Int(1, 20)}
    with caplog.at_level(logging.WARNING, logger="vision.train.search"):
        result = search(bowl, space, method="multires", trials=30, seed=0)
    assert len(result.edge_warnings) == 1
    note = result.edge_warnings[0]
    assert "best lr" in note and "lower edge" in note and "[0.01, 1]" in note and "widen the range" in note
    assert any("lower edge" in rec.getMessage() for rec in caplog.records)


def test_edge_warning_upper_edge_int_and_not_inside():
    result = search(lambda p: -p["n"], {"n": Int(0, 50)}, method="random", trials=40, seed=0)
    assert result.best_params["n"] >= 45
    assert result.edge_warnings and "upper edge" in result.edge_warnings[0]
    inside = search(lambda p: (p["n"] - 25) ** 2, {"n": Int(0, 50)}, method="random", trials=40, seed=0)
    assert inside.edge_warnings == []


def test_dict_objective_extras_table_markdown_and_csv(tmp_path):
    def objective(p):
        return {"val_loss": bowl(p), "epochs": 1}

    result = search(objective, SPACE, method="random", trials=5, seed=0, metric="val_loss")
    assert all(row["epochs"] == 1 for row in result.trials)
    md = result.to_markdown().splitlines()
    assert md[0] == "| trial | round | lr | n | act | value | epochs |"
    assert len(md) == 2 + 5
    path = result.to_csv(tmp_path / "sub" / "trials.csv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and float(rows[0]["value"]) == pytest.approx(result.trials[0]["value"])
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]


def test_nan_trials_are_never_best():
    calls = iter(range(100))

    def objective(p):
        return math.nan if next(calls) % 2 == 0 else p["n"]

    result = search(objective, {"n": Int(1, 10)}, method="random", trials=10, seed=0)
    assert not math.isnan(result.best_value)
    with pytest.raises(InputError, match="NaN"):
        search(lambda p: math.nan, {"n": Int(1, 10)}, method="random", trials=3)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Float(1.0, 1.0),
        lambda: Float(0.0, 1.0, log=True),
        lambda: Float(math.nan, 1.0),
        lambda: Float(0.0, 1.0, steps=1),
        lambda: Int(1.5, 3),
        lambda: Int(3, 1),
        lambda: Int(0, 10, log=True),
        lambda: Int(True, 4),
        lambda: Choice([]),
        lambda: Choice("abc"),
    ],
)
def test_bad_param_specs(make):
    with pytest.raises(InputError):
        make()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"space": {}}, "non-empty"),
        ({"space": {"lr": 0.1}}, "Int, Float, Choice"),
        ({"space": {1: [1, 2]}}, "strings"),
        ({"method": "bayes"}, "method"),
        ({"direction": "down"}, "direction"),
        ({"trials": 0}, "trials"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"seed": -1}, "seed"),
        ({"method": "multires", "trials": 2}, "rounds"),
        ({"method": "grid"}, "steps"),
    ],
)
def test_bad_search_arguments(kwargs, match):
    args = {"space": SPACE, **kwargs}
    with pytest.raises(InputError, match=match):
        search(bowl, **args)


def test_bad_objective_and_returns():
    with pytest.raises(InputError, match="callable"):
        search("bowl", SPACE)
    with pytest.raises(InputError, match="number"):
        search(lambda p: "low", SPACE, trials=2)
    with pytest.raises(InputError, match="metric"):
        search(lambda p: {"loss": 1.0}, SPACE, trials=2)


def test_to_csv_bad_path_writes_nothing(tmp_path):
    result = search(bowl, SPACE, trials=2)
    with pytest.raises(InputError, match="directory"):
        result.to_csv(tmp_path)
    with pytest.raises(InputError, match="path"):
        result.to_csv(42)
    assert list(tmp_path.iterdir()) == []


def test_real_trainer_lr_search_on_digits():
    """Search SGD's learning rate for a small MLP on sklearn digits: 3 trials × 1 epoch."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: thread hand-offs cost more than they save
    try:
        _digits_search(torch)
    finally:
        torch.set_num_threads(threads)


def _digits_search(torch):
    from sklearn.datasets import load_digits
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from vision.train import ClassificationTask, Trainer, make_optimizer

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    train_ds, val_ds = TensorDataset(x[:1400], y[:1400]), TensorDataset(x[1400:], y[1400:])

    def objective(params):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=params["lr"],
                                                                                momentum=0.9))
        train = DataLoader(train_ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
        history = trainer.fit(train, DataLoader(val_ds, batch_size=256), epochs=1).history
        return {"value": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1]}

    result = search(objective, {"lr": Choice([1e-4, 1e-2, 1e-1])}, method="grid")
    assert [row["lr"] for row in result.trials] == [1e-4, 1e-2, 1e-1]
    assert result.best_params["lr"] in (1e-2, 1e-1)  # 1e-4 barely moves in one epoch
    assert result.trials[0]["value"] > result.best_value + 0.5
    best_row = min(result.trials, key=lambda row: row["value"])
    assert best_row["val_accuracy"] > 0.7
    assert "val_accuracy" in result.to_markdown()
