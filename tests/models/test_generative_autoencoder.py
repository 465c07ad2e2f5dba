"""Autoencoders (dense, conv, denoising, VAE) on 256 digits at 28 px: shapes, training through the shared Trainer,
reproducibility, save / load, the tools (code scatter, anomaly report) and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vision.errors import DTypeError, InputError, ShapeError, WeightsError, WeightsNotFoundError
from vision.models import create_model, model_config, model_from_config
from vision.models.generative import (
    AEConfig,
    Autoencoder,
    anomaly_report,
    code_scatter,
    image_grid,
    load_generative,
    load_image_arrays,
    train_autoencoder,
)

SMALL = {"kind": "conv", "hidden": [16, 32], "code_size": 16}

pytestmark = pytest.mark.usefixtures("one_torch_thread")



@pytest.fixture(scope="module")
def digits():
    images, labels, names = load_image_arrays("digits", limit=256)
    return images, labels, names


@pytest.fixture(scope="module")
def trained(digits):
    images, _, _ = digits
    return train_autoencoder(images, val_images=images[:64], config=SMALL, epochs=3, batch_size=16, lr=5e-3)


def test_digits_load_at_28_pixels(digits):
    images, labels, names = digits
    assert images.shape == (256, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (256,) and names == tuple("0123456789")
    rgb, _, _ = load_image_arrays("digits", size=16, channels=3, limit=4)
    assert rgb.shape == (4, 16, 16, 3)


@pytest.mark.parametrize("cfg", [
    {"kind": "dense", "hidden": [64, 32], "code_size": 4},
    {"kind": "conv", "hidden": [8, 16, 16], "code_size": 6},
    {"kind": "conv", "hidden": [8], "code_size": 6, "image_size": 9, "channels": 3},  # odd side: 9 → 5 → 9
    {"kind": "dense", "hidden": [16], "code_size": 3, "variational": True},
])
def test_shapes_of_every_kind(cfg):
    ae = Autoencoder(AEConfig(**cfg))
    s, c = ae.config.image_size, ae.config.channels
    shape = (5, s, s) if c == 1 else (5, s, s, c)
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert ae.reconstruct(images).shape == shape and ae.reconstruct(images).dtype == np.uint8
    assert ae.reconstruct(images[0]).shape == shape[1:]
    assert ae.encode(images).shape == (5, cfg["code_size"])
    assert ae.decode(np.zeros((2, cfg["code_size"]))).shape == (2, *shape[1:])
    assert ae.anomaly_scores(images).shape == (5,)
    assert ae.interpolate(images[0], images[1], steps=4).shape == (4, *shape[1:])
    assert ae.compression_ratio == pytest.approx(c * s * s / cfg["code_size"])
    logits, mean, logvar = ae.model(torch.zeros(2, c, s, s))
    assert logits.shape == (2, c, s, s) and mean.shape == (2, cfg["code_size"])
    assert (logvar is not None) == cfg.get("variational", False)


def test_training_lowers_the_loss_and_reports_psnr(trained):
    ae, history = trained
    h = history.history
    assert set(h) == {"loss", "psnr", "val_loss", "val_psnr", "lr"}
    assert h["loss"][2] < h["loss"][1] < h["loss"][0] and h["val_psnr"][2] > h["val_psnr"][0] > 5
    assert not ae.model.training


def test_vae_trains_and_samples(digits):
    images, _, _ = digits
    vae, history = train_autoencoder(images, preset="vae", config={**SMALL, "variational": True, "beta": 0.5},
                                     epochs=2, batch_size=32, lr=3e-3)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert history.history["kl"][0] > 0
    samples = vae.generate(6, seed=3)
    assert samples.shape == (6, 28, 28) and samples.dtype == np.uint8
    assert np.array_equal(samples, vae.generate(6, seed=3))
    assert not np.array_equal(samples, vae.generate(6, seed=4))


def test_denoising_autoencoder_beats_the_noisy_input(digits):
    from vision.classic.denoise import add_gaussian_noise
    from vision.classic.quality import psnr

    images, _, _ = digits
    dae, _ = train_autoencoder(images, preset="dae", config={**SMALL, "noise": 0.25}, epochs=3, batch_size=16,
                               lr=5e-3)
    clean = images[200:232]
    noisy = np.stack([add_gaussian_noise(im, sigma=0.25 * 255, seed=i) for i, im in enumerate(clean)])
    out = dae.denoise(noisy)
    assert np.mean([psnr(a, b) for a, b in zip(clean, out)]) > np.mean([psnr(a, b) for a, b in zip(clean, noisy)])


def test_same_seed_same_weights_other_seed_other_weights(digits):
    images = digits[0][:96]
    a, _ = train_autoencoder(images, config=SMALL, epochs=1, batch_size=32, seed=5)
    b, _ = train_autoencoder(images, config=SMALL, epochs=1, batch_size=32, seed=5)
    c, _ = train_autoencoder(images, config=SMALL, epochs=1, batch_size=32, seed=6)
    sa, sb, sc = (m.model.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_save_load_round_trip(trained, digits, tmp_path):
    ae, _ = trained
    images = digits[0][:8]
    path = ae.save(tmp_path / "ae.safetensors", half=False)
    again = load_generative(path)
    assert isinstance(again, Autoencoder) and again.config.hidden == ae.config.hidden
    assert np.array_equal(again.reconstruct(images), ae.reconstruct(images))
    assert again.config.weights == str(path)
    same = create_model("ae", weights=str(path))  # the file's config is used
    assert same.config.code_size == 16
    half = load_generative(ae.save(tmp_path / "half.safetensors"))  # fp16 file: nearly the same
    assert np.abs(half.reconstruct(images).astype(int) - ae.reconstruct(images).astype(int)).max() <= 2
    # the registry's architecture documents rebuild it
    doc = model_config(create_model("vae", config={**SMALL, "variational": True}))
    assert model_from_config(json.loads(json.dumps(doc))).config.variational


def test_code_scatter_writes_a_png(trained, digits, tmp_path):
    ae, _ = trained
    images, labels, names = digits
    fig = code_scatter(ae, images[:120], labels[:120], names=names, path=tmp_path / "codes.png")
    assert (tmp_path / "codes.png").stat().st_size > 1000
    ax = fig.axes[0]
    assert len(ax.collections) == len(np.unique(labels[:120]))
    assert "PCA" in ax.get_title()
    with pytest.raises(InputError, match="120 integer labels"):
        code_scatter(ae, images[:120], labels[:10])


def test_anomaly_report_separates_noise_from_digits(trained, digits):
    ae, _ = trained
    images = digits[0]
    outliers = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    report = anomaly_report(ae, images[200:], outliers, quantile=0.9)
    assert report.roc_auc > 0.95 and report.outlier_mean > report.normal_mean
    assert report.false_alarm_rate == pytest.approx(0.1, abs=0.05)
    assert report.detection_rate > 0.9 and report.to_dict()["normal_count"] == 56
    fixed = anomaly_report(ae, images[200:], outliers, threshold=1.0)
    assert fixed.detection_rate == 0.0 and fixed.threshold == 1.0
    with pytest.raises(InputError, match="quantile"):
        anomaly_report(ae, images[:4], outliers, quantile=1.5)


def test_image_grid():
    grid = image_grid(np.zeros((5, 4, 4), np.uint8), cols=3, gap=1)
    assert grid.shape == (2 * 4 + 3, 3 * 4 + 4)
    assert image_grid(np.zeros((4, 4, 4, 3), np.uint8)).shape == (2 * 4 + 6, 2 * 4 + 6, 3)
    with pytest.raises(InputError, match="at least one image"):
        image_grid(np.zeros((0, 4, 4), np.uint8))


# ------------------------------------------------------------------------------------------------ bad input
def test_wrong_size_channels_and_dtype_are_typed_errors(trained):
    ae, _ = trained
    with pytest.raises(ShapeError, match=r"expected N×28×28 uint8 \(gray\).*got 3×32×32"):
        ae.reconstruct(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(ShapeError, match="got 2×28×28×3"):
        ae.anomaly_scores(np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(DTypeError, match="got dtype float32"):
        ae.encode(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ShapeError, match="empty batch"):
        ae.denoise(np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(ShapeError, match="expected N×16 codes"):
        ae.decode(np.zeros((2, 8)))
    with pytest.raises(ShapeError, match="expected a batch of square images"):
        train_autoencoder(np.zeros((4, 28, 20), np.uint8), epochs=1)


def test_bad_counts_and_options_are_input_errors(trained):
    ae, _ = trained
    with pytest.raises(InputError, match="not variational"):
        ae.generate(4)
    vae = Autoencoder(AEConfig(**SMALL, variational=True))
    for n in (0, -3, 2.5):
        with pytest.raises(InputError, match="n must be an integer ≥ 1"):
            vae.generate(n)
    with pytest.raises(InputError, match="steps must be ≥ 2"):
        ae.interpolate(np.zeros((28, 28), np.uint8), np.zeros((28, 28), np.uint8), steps=1)
    with pytest.raises(InputError, match="kind must be one of"):
        AEConfig(kind="lstm")
    with pytest.raises(InputError, match="loss must be one of"):
        AEConfig(loss="l1")
    with pytest.raises(InputError, match="noise must be a number in"):
        AEConfig(noise=-0.1)
    with pytest.raises(InputError, match="preset must be one of"):
        train_autoencoder(np.zeros((4, 28, 28), np.uint8), preset="gan")


def test_corrupt_and_foreign_weights_are_weights_errors(trained, tmp_path):
    ae, _ = trained
    good = ae.save(tmp_path / "good.safetensors")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(WeightsError, match="cut.safetensors: not a readable safetensors file"):
        load_generative(cut)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        Autoencoder(weights=str(cut))
    with pytest.raises(WeightsNotFoundError, match="missing.safetensors"):
        load_generative(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "vision.fcn/1"})
    with pytest.raises(WeightsError, match="format 'vision.fcn/1'"):
        load_generative(tmp_path / "other.safetensors")
    with pytest.raises(WeightsError, match="tensor .* the model's is"):  # another architecture, explicit config
        Autoencoder(AEConfig(kind="conv", hidden=(16, 32), code_size=8, weights=str(good)))


def test_an_image_folder_loads_resized_gray_or_rgb(tmp_path):
    from vision.io import write_image

    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        for i in range(3):
            write_image(tmp_path / "data" / cls / f"{i}.png", rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    images, labels, names = load_image_arrays(tmp_path / "data", size=12)
    assert images.shape == (6, 12, 12) and names == ("cats", "dogs") and labels.tolist() == [0, 0, 0, 1, 1, 1]
    rgb, _, _ = load_image_arrays(tmp_path / "data", size=12, channels=3, limit=2)
    assert rgb.shape == (2, 12, 12, 3)
    with pytest.raises(InputError, match="give size= for an image folder"):
        load_image_arrays(tmp_path / "data")
    with pytest.raises(InputError, match="channels must be 1 or 3"):
        load_image_arrays("digits", channels=2)


def test_sample_grid_for_autoencoders(trained, digits, tmp_path):
    from vision.models.generative import SampleGrid

    ae, _ = trained
    sheet = SampleGrid(str(tmp_path / "r{epoch}.png"), n=5, images=digits[0][:5]).sample(ae.model)
    assert sheet.shape == (2 + 2 * 30, 2 + 5 * 30)  # the images above their reconstructions
    vae = Autoencoder(AEConfig(**SMALL, variational=True))
    assert SampleGrid(n=4).sample(vae.model).shape == (2 + 2 * 30, 2 + 2 * 30)
    with pytest.raises(InputError, match="cannot sample"):
        SampleGrid(n=4).sample(ae.model)


def test_two_number_codes_are_plotted_as_they_are(digits):
    images, labels, _ = digits
    ae = Autoencoder(AEConfig(kind="dense", hidden=(32,), code_size=2))
    fig = code_scatter(ae, images[:50], labels[:50])
    points = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    codes = ae.encode(images[:50])
    order = np.concatenate([np.flatnonzero(labels[:50] == c) for c in np.unique(labels[:50])])
    assert np.allclose(points, codes[order], atol=1e-5)
    assert "code" in fig.axes[0].get_title()
