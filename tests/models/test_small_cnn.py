"""The registered small CNN ``fmnist-cnn``: building, shapes, config round trip, bad input, one Trainer epoch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vision.errors import InputError, ShapeError
from vision.models import create_model, list_models, model_spec
from vision.models.classification.small_cnn import SmallCNN, SmallCNNConfig


def test_registered_as_classifier():
    assert "fmnist-cnn" in list_models("classify")
    assert model_spec("fmnist-cnn").task == "classify"


def test_builds_and_output_shape():
    torch.manual_seed(0)
    net = create_model("fmnist-cnn")
    assert isinstance(net, SmallCNN)
    net.eval()
    out = net(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10) and out.dtype == torch.float32 and torch.isfinite(out).all()


def test_parameter_count_matches_layout():
    net = create_model("fmnist-cnn")
    n = sum(p.numel() for p in net.parameters())
    # conv 1→32 (3·3·1·32) + BN 2·32, conv 32→64 (3·3·32·64) + BN 2·64, linear 64·7·7→128, linear 128→10
    expected = 9 * 32 + 64 + 9 * 32 * 64 + 128 + (64 * 49 * 128 + 128) + (128 * 10 + 10)
    assert n == expected
    assert n < 500_000  # small enough for a CPU


def test_overrides_change_the_network():
    net = create_model("fmnist-cnn", num_classes=5, widths=(8, 16), depths=(1, 2), hidden=32, channels_last=False)
    assert net.config.widths == (8, 16) and net.config.depths == (1, 2)
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 5)
    three = create_model("fmnist-cnn", in_channels=3, num_classes=4)
    assert three(torch.randn(2, 3, 32, 32)).shape == (2, 4)  # 32→16→8, pooled to the 7×7 head grid


def test_channels_last_does_not_change_results():
    torch.manual_seed(1)
    a = create_model("fmnist-cnn", channels_last=False).eval()
    b = create_model("fmnist-cnn", channels_last=True).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(a(x), b(x), rtol=1e-4, atol=1e-5)


def test_config_json_round_trip():
    cfg = SmallCNNConfig(num_classes=7, widths=(16, 32, 48), depths=(1, 1, 2), dropout=0.2, head_grid=3)
    text = cfg.to_json()
    assert json.loads(text)["widths"] == [16, 32, 48]
    back = SmallCNNConfig.from_json(text)
    assert back == cfg
    assert SmallCNNConfig.from_dict(cfg.to_dict()) == cfg
    net = create_model("fmnist-cnn", config=json.loads(text))
    assert net.config == cfg
    # the same config and weights rebuild an identical network
    net.eval()
    twin = SmallCNN(SmallCNNConfig.from_json(text)).eval()
    twin.load_state_dict(net.state_dict())
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(net(x), twin(x))


@pytest.mark.parametrize("kwargs", [
    {"num_classes": 0}, {"in_channels": True}, {"widths": ()}, {"widths": (8, "16")}, {"widths": "32"},
    {"depths": (1,)}, {"depths": (1, 0)}, {"dropout": 1.0}, {"dropout": float("nan")}, {"head_dropout": -0.1},
    {"hidden": 2.5}, {"head_grid": 0}, {"channels_last": 1},
])
def test_bad_config_values(kwargs):
    with pytest.raises(InputError):
        SmallCNNConfig(**kwargs)
    with pytest.raises(InputError):
        create_model("fmnist-cnn", **kwargs)


def test_bad_config_objects():
    with pytest.raises(InputError, match="unknown keys"):
        create_model("fmnist-cnn", colour=True)
    with pytest.raises(InputError, match="JSON"):
        SmallCNNConfig.from_json("{not json")
    with pytest.raises(InputError, match="dict"):
        SmallCNNConfig.from_dict([1, 2])
    with pytest.raises(InputError, match="SmallCNNConfig or dict"):
        create_model("fmnist-cnn", config="small")
    with pytest.raises(InputError, match="SmallCNNConfig"):
        SmallCNN(config={"num_classes": 3})


@pytest.mark.parametrize("shape", [(1, 28, 28), (2, 3, 28, 28), (2, 28, 28, 1)])
def test_bad_input_shape(shape):
    net = create_model("fmnist-cnn").eval()
    with pytest.raises(ShapeError, match="expected N×1×H×W"):
        net(torch.zeros(shape))


def test_one_trainer_epoch_on_fashion_mnist():
    from vision.data.mnist import fashion_mnist_available, load_fashion_mnist

    if not fashion_mnist_available():
        pytest.skip("Fashion-MNIST files (Debian package dataset-fashion-mnist) are not installed")
    from torch.utils.data import DataLoader, TensorDataset

    from vision.train import ClassificationTask, Trainer

    images, labels, _ = load_fashion_mnist("train")
    x = torch.from_numpy(images[:512].astype(np.float32) / 255.0).sub(0.286).div(0.353).unsqueeze(1)
    y = torch.from_numpy(labels[:512])
    torch.manual_seed(0)
    net = create_model("fmnist-cnn")
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    trainer = Trainer(net, ClassificationTask(), optimizer=torch.optim.Adam(net.parameters(), lr=3e-3))
    before = trainer.evaluate(DataLoader(TensorDataset(x, y), batch_size=256))
    history = trainer.fit(loader, epochs=1)
    after = trainer.evaluate(DataLoader(TensorDataset(x, y), batch_size=256))
    assert history.epoch == [1]
    assert np.isfinite(history.history["loss"]).all()
    assert after["loss"] < before["loss"]
    assert after["accuracy"] > 0.4  # chance is 0.1
