"""DCGAN and conditional GAN on digits at 28 px through the shared Trainer: one-epoch runs, exact resume of an
interrupted run (both optimizers), seed reproducibility, save / load, sample sheets, the quality measure, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision.errors import DTypeError, InputError, ShapeError, WeightsError
from vision.models import create_model, list_models
from vision.models.generative import (
    GAN,
    GANConfig,
    GANTask,
    SampleGrid,
    load_generative,
    load_image_arrays,
    sample_quality,
    train_gan,
)
from vision.train import ModelCheckpoint, Trainer

TINY = {"widths": [16, 8], "latent_dim": 16}

pytestmark = pytest.mark.usefixtures("one_torch_thread")



@pytest.fixture(scope="module")
def digits():
    images, labels, names = load_image_arrays("digits", limit=128)
    return images, labels, names


@pytest.fixture(scope="module")
def dcgan(digits):
    return train_gan(digits[0], config=TINY, epochs=1, batch_size=32)


def same_weights(a: GAN, b: GAN) -> bool:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_registered_as_generate_models():
    assert {"ae", "dae", "vae", "dcgan", "cgan"} <= set(list_models("generate"))
    untrained = create_model("cgan", config={**TINY, "num_classes": 3})
    assert untrained.generate(4, seed=0, labels=[0, 1, 2, 0]).shape == (4, 28, 28)


def test_dcgan_one_epoch_through_the_trainer(dcgan, digits):
    gan, history = dcgan
    h = history.history
    assert set(h) == {"loss", "d_loss", "g_loss", "d_real", "d_fake", "lr"}
    assert h["loss"][0] == pytest.approx(h["d_loss"][0] + h["g_loss"][0])
    assert 0 < h["d_fake"][0] < 1 and 0 < h["d_real"][0] < 1 and h["lr"] == [2e-4]
    samples = gan.generate(9, seed=1)
    assert samples.shape == (9, 28, 28) and samples.dtype == np.uint8
    assert np.array_equal(samples, gan.generate(9, seed=1)) and not np.array_equal(samples, gan.generate(9, seed=2))
    assert gan.interpolate(1, 2, steps=5).shape == (5, 28, 28)
    ends = gan.interpolate(1, 2, steps=3)
    assert np.array_equal(ends[0], gan.generate(1, seed=1)[0]) and np.array_equal(ends[2], gan.generate(1, seed=2)[0])
    assert gan.discriminate(digits[0][:3]).shape == (3,)


def test_conditional_gan_one_epoch_and_labels(digits):
    images, labels, names = digits
    gan, history = train_gan(images, labels, names=names, config={**TINY, "num_classes": 10, "classes": list(names)},
                             epochs=1, batch_size=32)
    assert history.history["g_loss"][0] > 0
    assert gan.generate(10, seed=0).shape == (10, 28, 28)
    assert gan.generate(3, seed=0, labels="7").shape == (3, 28, 28)
    one = gan.generate(2, seed=0, labels=[3, "3"])
    assert np.array_equal(one[0], gan.generate(1, seed=0, labels=3)[0])
    assert not np.array_equal(gan.generate(1, seed=0, labels=3), gan.generate(1, seed=0, labels=4))
    with pytest.raises(InputError, match="unknown class 'cat'"):
        gan.generate(1, labels="cat")
    with pytest.raises(InputError, match="class ids must be integers in 0..9"):
        gan.generate(2, labels=[1, 10])
    with pytest.raises(InputError, match="expected one label per sample \\(3\\); got 2"):
        gan.generate(3, labels=[1, 2])
    with pytest.raises(InputError, match="needs labels"):
        train_gan(images, config={**TINY, "num_classes": 10}, epochs=1)


def _run(images, tmp_path, folder: str, epochs: int, seed: int, resume=None):
    cb = [ModelCheckpoint(str(tmp_path / folder / "e{epoch}.pt"), monitor="loss"),
          SampleGrid(str(tmp_path / folder / "s{epoch}.png"), n=4)]
    return train_gan(images, config=TINY, epochs=epochs, batch_size=32, label_smoothing=0.1, seed=seed,
                     callbacks=cb, resume=resume)


def test_resume_of_an_interrupted_run_gives_the_same_weights(digits, tmp_path):
    images = digits[0][:96]
    straight, h_straight = _run(images, tmp_path, "straight", 3, seed=0)
    _run(images, tmp_path, "first", 1, seed=0)  # "interrupted" after epoch 1
    ckpt = torch.load(tmp_path / "first" / "e1.pt", weights_only=True)
    assert ckpt["task"]["d_optimizer"]["state"] and ckpt["optimizer"]["state"]  # both optimizers' Adam moments
    torch.manual_seed(321)  # disturb the global generator; the checkpoint restores it
    resumed, h_resumed = _run(images, tmp_path, "first", 3, seed=7, resume=tmp_path / "first" / "e1.pt")
    assert same_weights(straight, resumed)
    assert h_resumed.history == h_straight.history and h_resumed.epoch == [1, 2, 3]
    assert (tmp_path / "first" / "s3.png").is_file() and (tmp_path / "first" / "e3.pt").is_file()


def test_same_seed_same_weights(digits):
    images = digits[0][:64]
    a, _ = train_gan(images, config=TINY, epochs=1, batch_size=32, seed=3)
    b, _ = train_gan(images, config=TINY, epochs=1, batch_size=32, seed=3)
    c, _ = train_gan(images, config=TINY, epochs=1, batch_size=32, seed=4)
    assert same_weights(a, b) and not same_weights(a, c)


def test_save_load_round_trip(dcgan, tmp_path):
    gan, _ = dcgan
    path = gan.save(tmp_path / "g.safetensors", half=False)
    again = load_generative(path)
    assert isinstance(again, GAN) and again.config.widths == (16, 8)
    assert np.array_equal(again.generate(4, seed=5), gan.generate(4, seed=5))
    half = create_model("dcgan", weights=str(gan.save(tmp_path / "h.safetensors")))
    assert np.abs(half.generate(4, seed=5).astype(int) - gan.generate(4, seed=5).astype(int)).max() <= 3


def test_sample_grid_is_deterministic_and_leaves_the_training_rng_alone(dcgan, tmp_path):
    gan, _ = dcgan
    grid = SampleGrid(str(tmp_path / "x{epoch}.png"), n=6, seed=2)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    sheet = grid.sample(gan.model)
    assert torch.equal(before, torch.get_rng_state())
    assert sheet.shape == (2 + 2 * 30, 2 + 3 * 30) and np.array_equal(sheet, grid.sample(gan.model))
    with pytest.raises(InputError, match=".png"):
        SampleGrid("samples/epoch{epoch}.jpg")


def test_sample_quality_with_a_known_classifier():
    class Brightness(torch.nn.Module):  # class 1 when the mean pixel > 0.5
        def forward(self, x):
            m = x.flatten(1).mean(1, keepdim=True)
            return torch.cat([0.5 - m, m - 0.5], dim=1) * 20

    images = np.concatenate([np.zeros((6, 8, 8), np.uint8), np.full((2, 8, 8), 255, np.uint8)])
    q = sample_quality(images, Brightness(), labels=[0, 0, 0, 0, 0, 0, 1, 0])
    assert q.histogram == [6, 2] and q.count == 8
    assert q.recognisability == pytest.approx(7 / 8) and q.confident == 1.0  # every logit margin is 10
    assert sample_quality(np.full((2, 8, 8), 128, np.uint8), Brightness()).confident == 0.0  # 50 / 50
    p = np.array([6, 2]) / 8
    assert q.class_balance == pytest.approx(float(-(p * np.log(p)).sum() / np.log(2)))
    balanced = sample_quality(images[4:], Brightness())
    assert balanced.class_balance == pytest.approx(1.0) and balanced.recognisability is None
    with pytest.raises(InputError, match="8 intended class ids"):
        sample_quality(images, Brightness(), labels=[0, 1])


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_input_is_typed(dcgan, tmp_path):
    gan, _ = dcgan
    for n in (0, -1):
        with pytest.raises(InputError, match="n must be an integer ≥ 1"):
            gan.generate(n)
    with pytest.raises(InputError, match="unconditional"):
        gan.generate(2, labels=1)
    with pytest.raises(ShapeError, match="expected N×28×28 uint8 \\(gray\\).*got 2×32×32"):
        gan.discriminate(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(DTypeError, match="dtype float64"):
        gan.discriminate(np.zeros((2, 28, 28)))
    with pytest.raises(ShapeError, match="expected N×16 latent vectors"):
        gan.decode(np.zeros((2, 5)))
    with pytest.raises(InputError, match="steps must be ≥ 2"):
        gan.interpolate(0, 1, steps=1)
    with pytest.raises(InputError, match="multiple of 2\\*\\*len\\(widths\\) = 4"):
        GANConfig(image_size=30, widths=(8, 4))
    with pytest.raises(ShapeError, match="expected N×28×28 uint8"):
        train_gan(np.zeros((4, 32, 32), np.uint8), config=TINY, epochs=1)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="junk.safetensors: not a readable safetensors file"):
        GAN(weights=str(junk))
    # a corrupt trainer checkpoint when resuming
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="bad.pt: not a readable trainer checkpoint"):
        train_gan(np.zeros((4, 28, 28), np.uint8), config=TINY, epochs=1, resume=bad)


def test_gan_task_checks(dcgan):
    gan, _ = dcgan
    opt = torch.optim.Adam(gan.model.generator.parameters())
    with pytest.raises(InputError, match="two optimizers"):
        GANTask(opt, opt)
    with pytest.raises(InputError, match="label_smoothing"):
        GANTask(opt, torch.optim.Adam(gan.model.discriminator.parameters()), label_smoothing=0.9)
    with pytest.raises(InputError, match="optimizes manually"):
        Trainer(gan.model, GANTask(opt, torch.optim.Adam(gan.model.discriminator.parameters())), optimizer=opt,
                grad_clip_norm=1.0)
