"""Trainer speed switches and the one-call ``fit``: mixed precision (autocast + gradient scaling), channels-last,
the skipped zero penalty, exact resume with a scaler state."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.data import load_digits_dataset
from vision.errors import InputError
from vision.train import AMP_MODES, ClassificationTask, ModelCheckpoint, Trainer, fit, make_optimizer


@pytest.fixture(scope="module")
def digits() -> tuple[TensorDataset, TensorDataset]:
    images, labels, _ = load_digits_dataset()
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0  # N×1×8×8
    y = torch.tensor(labels)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[order], y[order]
    return TensorDataset(x[:1400], y[:1400]), TensorDataset(x[1400:], y[1400:])


def cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 16, 10))


def loaders(data, seed: int = 1):
    return (DataLoader(data[0], batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(seed)),
            DataLoader(data[1], batch_size=200))


@pytest.mark.parametrize("amp", [True, "bfloat16", "float16"])
def test_mixed_precision_trains_and_predicts_float32(digits, amp) -> None:
    model = cnn()
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "adam", lr=1e-2), amp=amp)
    expected = torch.float16 if amp == "float16" else torch.bfloat16  # CPU: True means bfloat16
    assert trainer.amp_dtype == expected
    assert trainer.scaler.is_enabled() == (expected == torch.float16)
    train, val = loaders(digits)
    history = trainer.fit(train, val, epochs=3)
    assert history.history["val_accuracy"][-1] >= 0.90
    logits = torch.cat(trainer.predict(val))
    assert logits.dtype == torch.float32 and logits.shape == (397, 10)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast keeps float32 master weights


def test_float16_scaler_state_is_checkpointed_and_resume_is_exact(digits, tmp_path) -> None:
    def run(epochs: int, resume=None) -> Trainer:
        model = cnn()
        opt = make_optimizer(model, "sgd", lr=0.05, momentum=0.9)
        t = Trainer(model, ClassificationTask(), optimizer=opt, amp="float16",
                    callbacks=[ModelCheckpoint(str(tmp_path / "e{epoch}.pt"), monitor="loss")])
        t.fit(loaders(digits)[0], epochs=epochs, resume=resume)
        return t

    full = run(3)
    run(2)
    state = torch.load(tmp_path / "e2.pt", weights_only=True)
    assert state["scaler"]["scale"] > 0 and "_growth_tracker" in state["scaler"]
    resumed = run(3, resume=tmp_path / "e2.pt")
    assert resumed.scaler.get_scale() == full.scaler.get_scale()
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_channels_last_model_and_batches(digits) -> None:
    model = cnn()
    seen = []
    model[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].is_contiguous(
        memory_format=torch.channels_last)))
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "adam", lr=1e-2),
                      channels_last=True)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    history = trainer.fit(loaders(digits)[0], loaders(digits)[1], epochs=2)
    assert seen and all(seen)
    assert history.history["val_accuracy"][-1] >= 0.85


def test_channels_last_gives_the_same_numbers(digits) -> None:
    results = []
    for cl in (False, True):
        model = cnn()
        trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.05),
                          channels_last=cl)
        trainer.fit(loaders(digits)[0], epochs=1)
        results.append(torch.cat(trainer.predict(loaders(digits)[1])))
    torch.testing.assert_close(results[0], results[1], rtol=1e-4, atol=1e-4)


def test_penalty_skipped_without_coefficients_and_added_with_them() -> None:
    model = cnn()
    plain = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1))
    assert plain._penalty() == 0.0 and not isinstance(plain._penalty(), torch.Tensor)
    l2 = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1, l2=1e-2))
    expected = sum(float((p.detach() ** 2).sum()) for n, p in model.named_parameters() if n.endswith("weight")
                   and p.ndim > 1) * 1e-2 / 2
    assert float(l2._penalty().detach()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("amp", ["fp16", "half", 1, None])
def test_bad_amp_value(amp) -> None:
    model = cnn()
    with pytest.raises(InputError, match="amp must be one of"):
        Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1), amp=amp)
    assert AMP_MODES == (False, True, "float16", "bfloat16")


def test_bad_channels_last() -> None:
    model = cnn()
    with pytest.raises(InputError, match="channels_last must be True or False; got 'yes'"):
        Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.1), channels_last="yes")


def test_fit_in_one_call_with_named_optimizer_and_schedule(digits) -> None:
    train, val = loaders(digits)
    history = fit(cnn(), train, val, epochs=3, optimizer="adamw", lr=3e-3, schedule="onecycle")
    assert history.epoch == [1, 2, 3]
    assert history.history["val_accuracy"][-1] >= 0.90
    assert history.history["lr"][-1] < 3e-3 / 10  # one-cycle annealed at the end


def test_fit_named_schedule_needs_a_length() -> None:
    batches = (b for b in [(torch.zeros(2, 1, 8, 8), torch.tensor([0, 1]))])
    with pytest.raises(InputError, match="needs the number of batches per epoch; got a generator"):
        fit(cnn(), batches, epochs=1, schedule="onecycle")
