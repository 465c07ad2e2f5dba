"""The TensorBoard callback in a real Trainer: event files read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import sys
import time

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.errors import InputError, MissingDependencyError
from vision.train import (
    ClassificationTask,
    LambdaCallback,
    ModelCheckpoint,
    TensorBoard,
    Trainer,
    make_optimizer,
    make_schedule,
)

pytest.importorskip("tensorboard")

STEPS_PER_EPOCH = 6  # 96 training samples in batches of 16


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (128,), generator=g)
    x = torch.randn(128, 1, 8, 8, generator=g) * 0.5
    x[:, 0, 2:6, 2:6] += y.view(-1, 1, 1).float()  # learnable: brightness of the centre says the class
    return x, y


def loaders(data) -> tuple[DataLoader, DataLoader]:
    x, y = data
    train = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=16, shuffle=True,
                       generator=torch.Generator().manual_seed(1))
    return train, DataLoader(TensorDataset(x[96:], y[96:]), batch_size=32)


def make_trainer(callbacks) -> Trainer:
    """A conv net with batch norm and dropout (state a careless graph trace would disturb), one-cycle schedule."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.2),
                          nn.Flatten(), nn.Linear(4 * 8 * 8, 3))
    optimizer = make_optimizer(model, "sgd", lr=0.05)
    schedule = make_schedule(optimizer, "onecycle", steps_per_epoch=STEPS_PER_EPOCH, epochs=4)
    return Trainer(model, ClassificationTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks)


def read_events(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def scalars(acc, tag) -> tuple[list[int], list[float]]:
    events = acc.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]


def batch_losses():
    """A callback recording (step, loss, batch_size) of every training batch in ``.seen``."""
    cb = LambdaCallback(on_batch_end=lambda tr, step, logs: cb.seen.append((step, logs["loss"], logs["batch_size"])))
    cb.seen = []
    return cb


def next_second() -> None:
    """Event file names start with the creation second; a later writer must sort after the earlier one."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.02)


def test_scalars_histograms_and_graph_match_the_training(data, tmp_path):
    log_dir = tmp_path / "tb"
    recorder = batch_losses()
    tb = TensorBoard(log_dir, update_freq=4, histogram_freq=2, write_graph=True)
    trainer = make_trainer([recorder, tb])
    history = trainer.fit(*loaders(data), epochs=4)
    assert tb.writer is None  # closed at the end

    acc = read_events(log_dir)
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"batch/loss"} | {f"epoch/{name}" for name in history.history}
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    epoch_steps = [STEPS_PER_EPOCH * e for e in history.epoch]
    for name, values in history.history.items():
        steps, logged = scalars(acc, f"epoch/{name}")
        assert steps == epoch_steps
        assert logged == pytest.approx(values, rel=1e-6, abs=1e-7), name
    assert history.history["lr"][0] != history.history["lr"][-1]  # the schedule moved: lr is really per epoch

    # batch/loss every 4 batches: the size-weighted mean of the batches since the previous write
    steps, logged = scalars(acc, "batch/loss")
    assert steps == [4, 8, 12, 16, 20, 24]
    expected = []
    for end in steps:
        window = [(loss, n) for s, loss, n in recorder.seen if end - 4 < s <= end]
        expected.append(sum(loss * n for loss, n in window) / sum(n for _, n in window))
    assert logged == pytest.approx(expected, rel=1e-6)

    # weight histograms after epochs 2 and 4, one per parameter, holding every weight
    params = dict(trainer.model.named_parameters())
    assert set(tags["histograms"]) == {f"weights/{name}" for name in params}
    hist = acc.Histograms("weights/0.weight")
    assert [h.step for h in hist] == [epoch_steps[1], epoch_steps[3]]
    assert hist[-1].histogram_value.num == params["0.weight"].numel()
    assert hist[-1].histogram_value.max == pytest.approx(float(params["0.weight"].detach().max()), rel=1e-6)

    graph = acc.Graph()
    ops = {node.op for node in graph.node}
    assert any("conv" in op.lower() for op in ops) and any("linear" in op.lower() for op in ops), ops


def test_logging_does_not_change_the_training(data, tmp_path):
    """Tracing the graph on the first batch must not move batch-norm statistics or draw random numbers."""
    plain = make_trainer([])
    plain_history = plain.fit(*loaders(data), epochs=3)
    logged = make_trainer([TensorBoard(tmp_path / "tb", update_freq=1, histogram_freq=1, write_graph=True)])
    logged_history = logged.fit(*loaders(data), epochs=3)
    assert logged_history.history == plain_history.history
    for (name, a), b in zip(plain.model.state_dict().items(), logged.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_resume_appends_with_continuing_steps_and_purges_orphans(data, tmp_path):
    log_dir = tmp_path / "tb"
    ckpt = str(tmp_path / "ckpt" / "epoch{epoch}.pt")
    first = make_trainer([ModelCheckpoint(ckpt), TensorBoard(log_dir, update_freq=3)])
    full = first.fit(*loaders(data), epochs=4)  # the "interrupted" run: it went on past the checkpoint of epoch 2
    next_second()
    resumed_tb = TensorBoard(log_dir, update_freq=3)
    second = make_trainer([ModelCheckpoint(ckpt), resumed_tb])
    history = second.fit(*loaders(data), epochs=4, resume=tmp_path / "ckpt" / "epoch2.pt")
    assert history.history == full.history  # the trainer resumes exactly
    assert len(list(log_dir.glob("events.out.tfevents.*"))) == 2  # the same run folder, a second event file

    acc = read_events(log_dir)
    for name, values in history.history.items():
        steps, logged = scalars(acc, f"epoch/{name}")
        assert steps == [6, 12, 18, 24], name  # epochs 3–4 once, not again after the first run's copies
        assert logged == pytest.approx(values, rel=1e-6, abs=1e-7), name
    steps, _ = scalars(acc, "batch/loss")
    assert steps == [3, 6, 9, 12, 15, 18, 21, 24]
    assert resumed_tb.state_dict()["step"] == 24


def test_resume_keeps_a_partly_filled_batch_window(data, tmp_path):
    """update_freq=4 with 6 batches an epoch: the window open at the checkpoint is finished after resuming."""
    ckpt = str(tmp_path / "epoch{epoch}.pt")
    recorder = batch_losses()
    whole = make_trainer([recorder, ModelCheckpoint(ckpt), TensorBoard(tmp_path / "a", update_freq=4)])
    whole.fit(*loaders(data), epochs=2)
    resumed = make_trainer([batch_losses(), ModelCheckpoint(ckpt), TensorBoard(tmp_path / "b", update_freq=4)])
    resumed.fit(*loaders(data), epochs=2, resume=tmp_path / "epoch1.pt")
    window = [(loss, n) for s, loss, n in recorder.seen if 4 < s <= 8]  # batches 5, 6 before; 7, 8 after resume
    steps, logged = scalars(read_events(tmp_path / "b"), "batch/loss")
    assert steps == [8, 12]
    assert logged[0] == pytest.approx(sum(loss * n for loss, n in window) / sum(n for _, n in window), rel=1e-6)


def test_writer_is_closed_when_training_stops_early_or_fails(data, tmp_path):
    tb = TensorBoard(tmp_path / "early", update_freq=1)
    stopper = LambdaCallback(on_batch_end=lambda tr, step, logs: setattr(tr, "stop_training_now", step == 8))
    trainer = make_trainer([tb, stopper])
    trainer.fit(*loaders(data), epochs=4)
    assert tb.writer is None
    acc = read_events(tmp_path / "early")
    assert scalars(acc, "batch/loss")[0] == list(range(1, 9))
    assert scalars(acc, "epoch/loss")[0] == [6]  # epoch 2 stopped mid-way: no epoch scalars for it

    tb = TensorBoard(tmp_path / "failed")

    def boom(tr, epoch, logs):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        make_trainer([tb, LambdaCallback(on_epoch_end=boom)]).fit(*loaders(data), epochs=2)
    assert tb.writer is None
    assert scalars(read_events(tmp_path / "failed"), "epoch/loss")[0] == [6]  # written before the failure


def test_untraceable_model_logs_a_warning_and_trains_on(data, tmp_path, caplog):
    class Untraceable(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 3)

        def forward(self, x):
            if torch.jit.is_tracing():
                raise RuntimeError("this model cannot be traced")
            return self.fc(x.flatten(1))

    model = Untraceable()
    tb = TensorBoard(tmp_path / "tb", write_graph=True)
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.05), callbacks=[tb])
    with caplog.at_level("WARNING", logger="vision.train.tensorboard"):
        history = trainer.fit(loaders(data)[0], epochs=2)
    assert history.epoch == [1, 2] and tb.writer is None
    assert "could not trace the model graph of Untraceable" in caplog.text
    assert model.training  # put back in train mode after the attempt
    assert scalars(read_events(tmp_path / "tb"), "epoch/loss")[0] == [6, 12]


def test_is_called_on_the_main_process_only_and_exported():
    import vision.train

    assert TensorBoard.main_process_only is True
    assert "TensorBoard" in vision.train.__all__


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"update_freq": "weekly"}, "update_freq must be 'epoch', 'batch' or an integer ≥ 1"),
    ({"update_freq": 0}, "update_freq"),
    ({"update_freq": True}, "update_freq"),
    ({"update_freq": 2.5}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq must be an integer ≥ 0"),
    ({"histogram_freq": "1"}, "histogram_freq"),
    ({"write_graph": "yes"}, "write_graph must be True or False"),
])
def test_bad_options_are_refused_and_nothing_is_written(tmp_path, kwargs, match):
    with pytest.raises(InputError, match=match):
        TensorBoard(tmp_path / "tb", **kwargs)
    assert not (tmp_path / "tb").exists()


@pytest.mark.parametrize("log_dir", ["", 3, None])
def test_bad_log_dir(log_dir):
    with pytest.raises(InputError, match="log_dir must be a non-empty folder path"):
        TensorBoard(log_dir)


def test_missing_package_says_how_to_install(tmp_path, monkeypatch):
    # an entry of None in sys.modules makes `import` raise ImportError, as when the package is absent
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(MissingDependencyError, match="pip install tensorboard") as info:
        TensorBoard(tmp_path / "tb")
    assert isinstance(info.value.__cause__, ImportError)
    assert not (tmp_path / "tb").exists()


def test_update_freq_batch_means_every_batch(data, tmp_path):
    recorder = batch_losses()
    make_trainer([recorder, TensorBoard(tmp_path, update_freq="batch")]).fit(loaders(data)[0], epochs=1)
    steps, logged = scalars(read_events(tmp_path), "batch/loss")
    assert steps == [s for s, _, _ in recorder.seen] == list(range(1, 7))
    assert logged == pytest.approx([loss for _, loss, _ in recorder.seen], rel=1e-6)
