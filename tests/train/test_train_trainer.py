"""Trainer on sklearn digits: accuracy, logs, schedules, clipping, predict/evaluate, checkpoints and exact resume."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.data import load_digits_dataset
from vision.errors import InputError, ShapeError, SourceNotFoundError
from vision.train import (
    CHECKPOINT_FORMAT,
    ClassificationTask,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    ReduceLROnPlateau,
    StepOutput,
    Task,
    Trainer,
    make_optimizer,
    make_schedule,
)


@pytest.fixture(scope="module")
def digits() -> tuple[TensorDataset, TensorDataset]:
    images, labels, _ = load_digits_dataset()
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255.0
    y = torch.tensor(labels)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))  # the file's tail is harder
    x, y = x[order], y[order]
    return TensorDataset(x[:1400], y[:1400]), TensorDataset(x[1400:], y[1400:])


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))


def loaders(data: tuple[TensorDataset, TensorDataset], seed: int = 1, batch_size: int = 64):
    train = DataLoader(data[0], batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    return train, DataLoader(data[1], batch_size=100)


def test_trains_digits_to_90_percent(digits, tmp_path) -> None:
    model = mlp()
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "adam", lr=1e-2))
    train, val = loaders(digits)
    history = trainer.fit(train, val, epochs=5)
    assert isinstance(history, History)
    assert history.epoch == [1, 2, 3, 4, 5]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 5 for v in history.history.values())
    assert history.history["val_accuracy"][-1] >= 0.90
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert trainer.epoch == 5 and trainer.global_step == 5 * len(train)
    from vision.metrics import plot_history

    plot_history(history, path=tmp_path / "history.png")  # History is what the plots take
    assert (tmp_path / "history.png").stat().st_size > 0


def test_evaluate_weights_batches_by_size_and_matches_predict(digits) -> None:
    model = mlp()
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1))
    x, y = digits[1].tensors
    uneven = DataLoader(digits[1], batch_size=150)  # 150, 150, 97
    logs = trainer.evaluate(uneven)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert logs["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y)), rel=1e-5)
    assert logs["accuracy"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    preds = trainer.predict(uneven)
    assert [len(p) for p in preds] == [150, 150, 97]
    assert torch.allclose(torch.cat(preds), logits, atol=1e-6)
    assert trainer.predict([x[:5]])[0].shape == (5, 10)  # bare inputs, no targets


def test_regularization_penalty_is_added_to_the_loss(digits) -> None:
    model = mlp()
    opt = make_optimizer(model, "sgd", lr=0.1, l2=0.5)
    trainer = Trainer(model, ClassificationTask(), optimizer=opt)
    val = DataLoader(digits[1], batch_size=100)
    with_penalty = trainer.evaluate(val)["loss"]
    opt.param_groups[0]["l2"] = 0.0
    without = trainer.evaluate(val)["loss"]
    weights = sum(float((m.weight.detach() ** 2).sum()) for m in model if isinstance(m, nn.Linear))
    assert with_penalty - without == pytest.approx(0.25 * weights, rel=1e-4)


def test_epoch_schedule_steps_after_each_epoch_and_batch_schedule_per_batch(digits) -> None:
    model = mlp()
    opt = make_optimizer(model, "sgd", lr=0.1)
    trainer = Trainer(model, ClassificationTask(), optimizer=opt,
                      schedule=make_schedule(opt, "step", step_size=1, gamma=0.5))
    train, _ = loaders(digits)
    h = trainer.fit(train, epochs=3)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert "val_loss" not in h.history

    model = mlp()
    opt = make_optimizer(model, "sgd", lr=0.1)
    trainer = Trainer(model, ClassificationTask(), optimizer=opt,
                      schedule=make_schedule(opt, "exponential", decay=0.01, interval="batch"))
    h = trainer.fit(train, epochs=2)
    n = len(train)
    assert h.history["lr"] == pytest.approx([0.1 * math.exp(-0.01 * n), 0.1 * math.exp(-0.02 * n)])


def test_grad_clip_norm_bounds_the_update(digits) -> None:
    model = mlp()
    before = [p.detach().clone() for p in model.parameters()]
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=1.0),
                      grad_clip_norm=1e-3)
    trainer.fit([digits[0][:64]], epochs=1)
    step = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert 0 < float(step) <= 1e-3 * (1 + 1e-4)


def test_custom_task_plugs_into_the_loop() -> None:
    class Regression(Task):
        def step(self, model, batch, *, train):
            x, y = batch["x"], batch["y"]
            out = model(x)
            return StepOutput(nn.functional.mse_loss(out, y), out, y, len(x))

    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1)
    trainer = Trainer(model, Regression(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    h = trainer.fit([{"x": x[:32], "y": y[:32]}, {"x": x[32:], "y": y[32:]}], epochs=30)
    assert set(h.history) == {"loss", "lr"}
    assert h.history["loss"][-1] < 0.01 * h.history["loss"][0]


def _resumable(digits, tmp_path, seed_model: int):
    model = mlp(seed_model)
    opt = make_optimizer(model, "adam", lr=5e-3, l2=1e-4)
    schedule = make_schedule(opt, "cosine", epochs=4, steps_per_epoch=22, interval="batch")
    callbacks = [EarlyStopping("val_loss", patience=10), ReduceLROnPlateau("val_loss", patience=5),
                 CSVLogger(tmp_path / f"log{seed_model}.csv")]
    trainer = Trainer(model, ClassificationTask(), optimizer=opt, schedule=schedule, callbacks=callbacks)
    return trainer, loaders(digits, seed=7)


def test_resume_is_exact(digits, tmp_path) -> None:
    straight, (train, val) = _resumable(digits, tmp_path, 0)
    assert len(train) == 22
    straight.fit(train, val, epochs=4)

    first, (train1, val1) = _resumable(digits, tmp_path, 0)
    first.fit(train1, val1, epochs=2)
    ckpt = first.save_checkpoint(tmp_path / "run" / "ckpt.pt")
    torch.manual_seed(123)  # disturb every global generator; the checkpoint must restore them
    second, (train2, val2) = _resumable(digits, tmp_path, 99)  # other initial weights, fresh loader generator
    second.callbacks[2].path = tmp_path / "log0-resumed.csv"
    h = second.fit(train2, val2, epochs=4, resume=ckpt)

    for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    assert h.epoch == [1, 2, 3, 4]
    assert h.history == straight.history.history
    assert second.global_step == straight.global_step
    assert second.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]
    with open(tmp_path / "log0-resumed.csv", newline="") as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [1, 2, 3, 4]


def test_checkpoint_loads_with_weights_only_and_is_atomic(digits, tmp_path) -> None:
    trainer, (train, val) = _resumable(digits, tmp_path, 0)
    trainer.fit(train, val, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.pt")
    state = torch.load(path, weights_only=True)
    assert state["format"] == CHECKPOINT_FORMAT and state["epoch"] == 1
    assert state["rng"]["loader"] is not None
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".csv") == ["c.pt"]  # no temp file left


def test_resume_with_every_epoch_done_trains_nothing(digits, tmp_path) -> None:
    trainer, (train, val) = _resumable(digits, tmp_path, 0)
    trainer.fit(train, val, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.pt")
    again, (train2, val2) = _resumable(digits, tmp_path, 5)
    h = again.fit(train2, val2, epochs=1, resume=path)
    assert h.epoch == [1] and again.global_step == trainer.global_step


def test_checkpoint_errors(digits, tmp_path) -> None:
    trainer, (train, val) = _resumable(digits, tmp_path, 0)
    with pytest.raises(SourceNotFoundError, match="missing.pt"):
        trainer.fit(train, val, epochs=1, resume=tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pt"):
        trainer.load_checkpoint(junk)
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="format 'other'"):
        trainer.load_checkpoint(tmp_path / "other.pt")
    trainer.fit(train, val, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "ok.pt")
    model = mlp()
    bare = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1))
    with pytest.raises(InputError, match="callbacks"):
        bare.load_checkpoint(path)
    assert bare.epoch == 0


def test_bad_arguments() -> None:
    model = mlp()
    opt = make_optimizer(model, "sgd", lr=0.1)
    task = ClassificationTask()
    with pytest.raises(InputError, match="nn.Module"):
        Trainer("model", task, optimizer=opt)
    with pytest.raises(InputError, match="Task"):
        Trainer(model, "classification", optimizer=opt)
    with pytest.raises(InputError, match="Optimizer"):
        Trainer(model, task, optimizer="adam")
    with pytest.raises(InputError, match="interval"):
        Trainer(model, task, optimizer=opt, schedule=torch.optim.lr_scheduler.StepLR(opt, 1))
    with pytest.raises(InputError, match="Callback"):
        Trainer(model, task, optimizer=opt, callbacks=[lambda: None])
    with pytest.raises(InputError, match="grad_clip_norm"):
        Trainer(model, task, optimizer=opt, grad_clip_norm=0)
    with pytest.raises(InputError, match="device"):
        Trainer(model, task, optimizer=opt, device="toaster")
    trainer = Trainer(model, task, optimizer=opt)
    with pytest.raises(InputError, match="epochs"):
        trainer.fit([], epochs=0)
    with pytest.raises(InputError, match="no batches"):
        trainer.fit([], epochs=1)
    with pytest.raises(InputError, match="no batches"):
        trainer.evaluate([])
    with pytest.raises(InputError, match=r"\(inputs, targets\)"):
        trainer.fit([(torch.zeros(2, 64),)], epochs=1)
    with pytest.raises(ShapeError, match="N×C"):
        trainer.fit([(torch.zeros(2, 64), torch.zeros(3, dtype=torch.long))], epochs=1)
    with pytest.raises(InputError, match="make_loss"):
        ClassificationTask(loss=3)
    with pytest.raises(InputError, match="loss name only"):
        ClassificationTask(loss=nn.CrossEntropyLoss(), label_smoothing=0.1)
    calls = []
    trainer = Trainer(model, task, optimizer=opt, callbacks=[LambdaCallback(on_train_end=lambda t: calls.append(1))])
    with pytest.raises(InputError):
        trainer.fit([], epochs=1)
    assert calls == [1]  # on_train_end runs even when training fails


def test_resume_from_a_model_checkpoint_written_mid_run_is_exact(digits, tmp_path) -> None:
    from vision.train import ModelCheckpoint

    def build(seed: int, folder: str):
        model = mlp(seed)
        opt = make_optimizer(model, "sgd", lr=0.05, momentum=0.9)
        callbacks = [ModelCheckpoint(str(tmp_path / folder / "e{epoch}.pt")),
                     ReduceLROnPlateau("val_loss", patience=0, factor=0.5), EarlyStopping("val_loss", patience=9)]
        return Trainer(model, ClassificationTask(), optimizer=opt, callbacks=callbacks,
                       schedule=make_schedule(opt, "step", step_size=1, gamma=0.9)), loaders(digits, seed=3)

    straight, (train, val) = build(0, "a")
    straight.fit(train, val, epochs=4)
    resumed, (train2, val2) = build(1, "b")
    h = resumed.fit(train2, val2, epochs=4, resume=tmp_path / "a" / "e2.pt")
    assert h.history == straight.history.history
    assert all(torch.equal(a, b) for a, b in zip(straight.model.state_dict().values(),
                                                  resumed.model.state_dict().values()))
    assert resumed.callbacks[1].state_dict() == straight.callbacks[1].state_dict()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["e3.pt", "e4.pt"]
