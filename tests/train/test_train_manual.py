"""Trainer with a manual-optimisation task (two optimizers stepped by the task): one update per batch, the task's
state in checkpoints, exact resume, and the options that do not apply refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from vision.errors import InputError
from vision.train import CSVLogger, EarlyStopping, StepOutput, Task, Trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread")

class TwoPart(nn.Module):
    """Two regressors, each trained by its own optimizer (the shape of a GAN's two networks)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 1))
        self.b = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))


class Alternating(Task):
    manual_optimization = True

    def __init__(self, opt_a: torch.optim.Optimizer, opt_b: torch.optim.Optimizer) -> None:
        self.opt_a, self.opt_b = opt_a, opt_b
        self.steps = 0

    def step(self, model, batch, *, train):
        x, y = batch
        noise = 0.1 * torch.randn_like(y)  # draws from the global generator: resuming must restore it
        loss_a = F.mse_loss(model.a(x), y + noise)
        if train:
            self.opt_a.zero_grad(set_to_none=True)
            loss_a.backward()
            self.opt_a.step()
        loss_b = F.mse_loss(model.b(x), -y)
        if train:
            self.opt_b.zero_grad(set_to_none=True)
            loss_b.backward()
            self.opt_b.step()
            self.steps += 1
        return StepOutput(loss=(loss_a + loss_b).detach(), outputs=None, targets=y, batch_size=len(x))

    def state_dict(self):
        return {"opt_b": self.opt_b.state_dict()}

    def load_state_dict(self, state):
        self.opt_b.load_state_dict(state["opt_b"])


def data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(7))


def build(seed: int, tmp_path, log: str = "log.csv"):
    torch.manual_seed(seed)
    model = TwoPart()
    opt_a = torch.optim.Adam(model.a.parameters(), lr=1e-2)
    opt_b = torch.optim.Adam(model.b.parameters(), lr=1e-2)
    callbacks = [EarlyStopping("loss", patience=10), CSVLogger(tmp_path / log)]
    return Trainer(model, Alternating(opt_a, opt_b), optimizer=opt_a, callbacks=callbacks)


def test_the_task_updates_once_per_batch_and_the_trainer_does_not_step_again(tmp_path):
    trainer = build(0, tmp_path)
    h = trainer.fit(data(), epochs=3)
    assert trainer.task.steps == trainer.global_step == 3 * 6
    p = next(trainer.model.a.parameters())
    assert int(trainer.optimizer.state[p]["step"]) == 18  # the trainer's own optimizer: 18 steps, not 36
    assert set(h.history) == {"loss", "lr"}
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_checkpoint_holds_the_task_state_and_resume_is_exact(tmp_path):
    straight = build(0, tmp_path, "straight.csv")
    straight.fit(data(), epochs=4)

    first = build(0, tmp_path, "first.csv")
    first.fit(data(), epochs=2)
    ckpt = first.save_checkpoint(tmp_path / "ckpt.pt")
    state = torch.load(ckpt, weights_only=True)
    assert set(state["task"]) == {"opt_b"} and state["task"]["opt_b"]["state"]  # opt_b's Adam moments are saved

    torch.manual_seed(123)  # disturb the global generator; the checkpoint restores it
    second = build(99, tmp_path, "second.csv")  # other initial weights, fresh optimizers
    h = second.fit(data(), epochs=4, resume=ckpt)
    for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    assert h.history == straight.history.history
    b_straight = straight.task.opt_b.state_dict()["state"]
    b_second = second.task.opt_b.state_dict()["state"]
    assert all(torch.equal(b_straight[k]["exp_avg"], b_second[k]["exp_avg"]) for k in b_straight)


def test_resume_without_the_task_state_differs(tmp_path):
    """The check above can fail: dropping the second optimizer's state changes the resumed weights."""
    straight = build(0, tmp_path)
    straight.fit(data(), epochs=3)
    first = build(0, tmp_path)
    first.fit(data(), epochs=1)
    ckpt = first.save_checkpoint(tmp_path / "c.pt")
    state = torch.load(ckpt, weights_only=True)
    del state["task"]  # as a checkpoint written before tasks had a state: still loads
    torch.save(state, tmp_path / "old.pt")
    second = build(5, tmp_path)
    second.fit(data(), epochs=3, resume=tmp_path / "old.pt")
    assert not all(torch.equal(a, b) for a, b in zip(straight.model.b.state_dict().values(),
                                                     second.model.b.state_dict().values()))


def test_a_task_state_that_does_not_fit_is_an_input_error(tmp_path):
    trainer = build(0, tmp_path)
    trainer.fit(data(), epochs=1)
    state = torch.load(trainer.save_checkpoint(tmp_path / "c.pt"), weights_only=True)
    state["task"] = {"something": 1}
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(InputError, match="does not fit this trainer's model/optimizer/schedule/task"):
        build(0, tmp_path).fit(data(), epochs=2, resume=tmp_path / "bad.pt")


def test_amp_and_grad_clipping_are_refused_for_manual_tasks():
    model = TwoPart()
    opt_a = torch.optim.SGD(model.a.parameters(), lr=0.1)
    task = Alternating(opt_a, torch.optim.SGD(model.b.parameters(), lr=0.1))
    with pytest.raises(InputError, match="optimizes manually.*amp=True"):
        Trainer(model, task, optimizer=opt_a, amp=True)
    with pytest.raises(InputError, match="grad_clip_norm=1.0"):
        Trainer(model, task, optimizer=opt_a, grad_clip_norm=1.0)


def test_ordinary_tasks_keep_an_empty_task_state(tmp_path):
    model = nn.Linear(3, 1)
    from vision.train import ClassificationTask

    trainer = Trainer(model, ClassificationTask(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert not ClassificationTask.manual_optimization
    assert trainer.state_dict()["task"] == {}
