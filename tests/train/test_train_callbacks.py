"""Callbacks in a real Trainer on a small digits subset; monitored values are scripted where a test needs them exact."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.data import load_digits_dataset
from vision.errors import InputError
from vision.train import (
    Callback,
    ClassificationTask,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    make_optimizer,
)


@pytest.fixture(scope="module")
def data() -> tuple[DataLoader, DataLoader]:
    images, labels, _ = load_digits_dataset()
    x = torch.tensor(images.reshape(len(images), -1)[:320], dtype=torch.float32) / 255.0
    y = torch.tensor(labels[:320])
    train = DataLoader(TensorDataset(x[:256], y[:256]), batch_size=64, shuffle=True,
                       generator=torch.Generator().manual_seed(0))
    return train, DataLoader(TensorDataset(x[256:], y[256:]), batch_size=64)


def make_trainer(callbacks, *, lr: float = 0.05) -> Trainer:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    return Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=lr), callbacks=callbacks)


def scripted(values):
    """A callback that writes ``score`` = values[epoch - 1] into the logs for the callbacks after it."""
    return LambdaCallback(on_epoch_end=lambda tr, epoch, logs: logs.__setitem__("score", values[epoch - 1]))


def weights_log():
    """A callback recording a copy of the weights after each epoch (``.weights[epoch]``)."""
    cb = LambdaCallback(on_epoch_end=lambda tr, epoch, logs: cb.weights.__setitem__(
        epoch, {k: v.clone() for k, v in tr.model.state_dict().items()}))
    cb.weights = {}
    return cb


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping_stops_and_restores_best_weights(data) -> None:
    snaps = weights_log()
    stop = EarlyStopping("score", patience=2, mode="min")
    trainer = make_trainer([scripted([1.0, 0.5, 0.6, 0.7, 0.1, 0.0]), snaps, stop])
    h = trainer.fit(*data, epochs=6)
    assert h.epoch == [1, 2, 3, 4]
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2 and stop.best == 0.5
    assert same(trainer.model.state_dict(), snaps.weights[2])
    assert not same(snaps.weights[2], snaps.weights[4])


def test_early_stopping_min_delta_and_auto_mode(data) -> None:
    stop = EarlyStopping("val_accuracy", patience=1, min_delta=2.0, restore_best=False)
    assert stop.mode == "max" and EarlyStopping("val_loss").mode == "min"
    snaps = weights_log()
    trainer = make_trainer([snaps, stop])
    h = trainer.fit(*data, epochs=5)
    assert h.epoch == [1, 2]  # no change can exceed 2.0 accuracy
    assert same(trainer.model.state_dict(), snaps.weights[2])  # restore_best=False keeps the last weights


def test_model_checkpoint_best_only_writes_improving_epochs(data, tmp_path) -> None:
    snaps = weights_log()
    ckpt = ModelCheckpoint(str(tmp_path / "w{epoch:02d}-{score:.1f}.safetensors"), monitor="score", mode="min",
                           save_best_only=True, weights_only=True)
    make_trainer([scripted([3.0, 1.0, 2.0, 0.5, 4.0]), snaps, ckpt]).fit(*data, epochs=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w01-3.0.safetensors", "w02-1.0.safetensors",
                                                         "w04-0.5.safetensors"]
    assert ckpt.saved == [str(tmp_path / n) for n in ("w01-3.0.safetensors", "w02-1.0.safetensors",
                                                      "w04-0.5.safetensors")]
    assert same(load_file(tmp_path / "w04-0.5.safetensors"), snaps.weights[4])


def test_model_checkpoint_full_checkpoints_resume(data, tmp_path) -> None:
    ckpt = ModelCheckpoint(str(tmp_path / "e{epoch}-{val_loss:.3f}.pt"))
    trainer = make_trainer([ckpt])
    trainer.fit(*data, epochs=2)
    assert len(ckpt.saved) == 2
    resumed = make_trainer([ModelCheckpoint(str(tmp_path / "r{epoch}.pt"))])
    resumed.load_checkpoint(ckpt.saved[0], loader=data[0])
    assert resumed.epoch == 1 and resumed.history.epoch == [1]
    assert resumed.callbacks[0].saved == ckpt.saved[:1]


def test_model_checkpoint_unknown_field_writes_nothing(data, tmp_path) -> None:
    trainer = make_trainer([ModelCheckpoint(str(tmp_path / "e{epoch}-{val_f1:.3f}.pt"))])
    with pytest.raises(InputError, match=r"'val_f1'.*available: epoch, accuracy, loss, lr, val_accuracy, val_loss"):
        trainer.fit(*data, epochs=1)
    assert list(tmp_path.iterdir()) == []


def test_csv_logger_rows_match_history(data, tmp_path) -> None:
    path = tmp_path / "logs" / "train.csv"
    trainer = make_trainer([CSVLogger(path, separator=";")])
    h = trainer.fit(*data, epochs=3)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == h.epoch
    for name, values in h.history.items():
        assert [float(r[name]) for r in rows] == values  # repr round-trips floats exactly
    # append=True keeps the earlier rows; append=False starts over
    make_trainer([CSVLogger(path, separator=";", append=True)]).fit(*data, epochs=1)
    assert len(path.read_text().splitlines()) == 1 + 4
    make_trainer([CSVLogger(path, separator=";")]).fit(*data, epochs=1)
    assert len(path.read_text().splitlines()) == 1 + 1


def test_csv_logger_append_refuses_other_columns(data, tmp_path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(InputError, match=r"train.csv.*header's columns \['epoch', 'loss'\]"):
        make_trainer([CSVLogger(path, append=True)]).fit(*data, epochs=1)
    assert path.read_text() == "epoch,loss\n1,0.5\n"


def test_terminate_on_nan_stops_after_the_batch(data) -> None:
    class NaNAfter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(64, 10)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            out = self.linear(x)
            return out * math.nan if self.calls >= 6 else out

    model = NaNAfter()
    steps = []
    guard = TerminateOnNaN()
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.01),
                      callbacks=[guard, LambdaCallback(on_batch_end=lambda tr, step, logs: steps.append(step))])
    h = trainer.fit(*data, epochs=5)  # 4 batches per epoch + validation: call 6 is epoch 2, batch 1
    assert guard.stopped_step == 5 and steps == [1, 2, 3, 4, 5]
    assert h.epoch == [1] and trainer.epoch == 1


def test_reduce_lr_on_plateau(data) -> None:
    plateau = ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min")
    trainer = make_trainer([scripted([1.0, 1.0, 1.0, 1.0, 1.0]), plateau], lr=0.1)
    h = trainer.fit(*data, epochs=5)
    # best at 1; bad epochs 2, 3 → reduce after 3 (0.05); bad 4, 5 → reduce after 5 (0.025)
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.025)
    state = plateau.state_dict()
    again = ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min")
    again.load_state_dict(state)
    assert again.state_dict() == state


def test_learning_rate_scheduler_and_lambda_hooks(data) -> None:
    events = []
    hooks = LambdaCallback(on_train_begin=lambda tr: events.append("begin"),
                           on_epoch_begin=lambda tr, ep: events.append(f"e{ep}"),
                           on_epoch_end=lambda tr, ep, logs: events.append(f"end{ep}"),
                           on_train_end=lambda tr: events.append("end"))
    trainer = make_trainer([LearningRateScheduler(lambda epoch, lr: 0.1 / epoch), hooks])
    h = trainer.fit(*data, epochs=3)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert events == ["begin", "e1", "end1", "e2", "end2", "e3", "end3", "end"]
    bad = make_trainer([LearningRateScheduler(lambda epoch, lr: -1.0)])
    with pytest.raises(InputError, match="returned -1.0"):
        bad.fit(*data, epochs=1)


@pytest.mark.parametrize("make", [lambda: EarlyStopping("val_f1"), lambda: ReduceLROnPlateau("val_f1"),
                                  lambda: ModelCheckpoint("x{epoch}.pt", monitor="val_f1", save_best_only=True)])
def test_unknown_monitor_lists_available_names(data, make, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"'val_f1'.*available: accuracy, loss, lr, val_accuracy, val_loss"):
        make_trainer([make()]).fit(*data, epochs=1)
    assert list(tmp_path.iterdir()) == []


def test_bad_options() -> None:
    with pytest.raises(InputError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(InputError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(InputError, match="monitor"):
        EarlyStopping(monitor="")
    with pytest.raises(InputError, match="factor"):
        ReduceLROnPlateau(factor=1.5)
    with pytest.raises(InputError, match="min_lr"):
        ReduceLROnPlateau(min_lr=-1)
    with pytest.raises(InputError, match="separator"):
        CSVLogger("x.csv", separator=",,")
    with pytest.raises(InputError, match="path_template"):
        ModelCheckpoint("")
    with pytest.raises(InputError, match="fn"):
        LearningRateScheduler(3)
    with pytest.raises(InputError, match="on_step"):
        LambdaCallback(on_step=print)
    with pytest.raises(InputError, match="callable"):
        LambdaCallback(on_train_begin=3)


def test_callback_states_round_trip() -> None:
    stop = EarlyStopping("val_loss", patience=3)
    stop.load_state_dict({"best": 0.25, "wait": 2, "best_epoch": 4, "stopped_epoch": 0, "best_weights": None})
    assert stop.state_dict() == {"best": 0.25, "wait": 2, "best_epoch": 4, "stopped_epoch": 0, "best_weights": None}
    assert Callback().state_dict() == {}


def test_progress_bar_draws_one_bar_per_epoch():
    import io

    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from vision.train import ClassificationTask, Trainer, make_optimizer
    from vision.train.callbacks import ProgressBar

    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = nn.Linear(4, 3)
    sink = io.StringIO()
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1),
                      callbacks=[ProgressBar(file=sink)])
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=2)
    text = sink.getvalue()
    assert "epoch 1" in text and "epoch 2" in text and "4/4" in text and "loss=" in text
