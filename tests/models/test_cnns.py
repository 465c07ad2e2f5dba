"""The from-scratch CNN classifiers "lenet", "vgg-small", "resnet-small": shapes, parameter counts, config round
trips, weight initialisation, bad configs and inputs, and training on the 8×8 digits resized to 28×28."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from vision.errors import DTypeError, InputError, ShapeError
from vision.models import (
    create_model,
    list_models,
    model_config,
    model_from_config,
    model_spec,
    save_model_config,
)
from vision.models.classification.cnns import LeNet, LeNetConfig, ResNetSmall, VGGSmall
from vision.nn import ResidualBlock, count_parameters

NAMES = ("lenet", "vgg-small", "resnet-small")

#: small widths that train in a second or two on 2 CPU cores
SMALL = {
    "lenet": {},
    "vgg-small": {"widths": (8, 16), "depths": (1, 1), "hidden": 64, "dropout": 0.2},
    "resnet-small": {"stem": 8, "widths": (8, 16, 32), "depths": (1, 1, 1)},
}

#: a non-default config of each, for the round trips
CUSTOM = {
    "lenet": {"in_channels": 3, "num_classes": 4, "input_size": 32, "widths": (4, 8), "hidden": (16,),
              "activation": "tanh", "pool": "avg", "bn": True, "dropout": 0.1},
    "vgg-small": {"in_channels": 3, "num_classes": 4, "input_size": 32, "widths": (4, 8, 8), "depths": (1, 2, 1),
                  "hidden": 16, "dropout": 0.3, "activation": "leaky_relu", "bn": False},
    "resnet-small": {"in_channels": 3, "num_classes": 4, "input_size": 32, "stem": 4, "widths": (4, 8),
                     "depths": (2, 1), "dropout": 0.1, "activation": "silu"},
}


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", NAMES)
def test_registered_as_classifiers(name):
    assert name in list_models("classify")
    assert model_spec(name).task == "classify" and model_spec(name).weights is None


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("name", NAMES)
def test_forward_shapes(name, size, channels):
    torch.manual_seed(0)
    net = create_model(name, in_channels=channels, num_classes=7, input_size=size).eval()
    out = net(_randn(2, channels, size, size))
    assert out.shape == (2, 7) and out.dtype == torch.float32 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_other_input_sizes_are_pooled_to_the_head(name):
    net = create_model(name, **SMALL[name]).eval()
    for h, w in [(40, 40), (28, 36), (net.min_input_size, net.min_input_size)]:
        assert net(_randn(1, 1, h, w)).shape == (1, 10)


def test_lenet_is_lenet5():
    net = create_model("lenet")
    assert isinstance(net, LeNet)
    # conv 1→6 5×5 + bias, conv 6→16 5×5 + bias, 16·5·5→120, 120→84, 84→10: the classic 61 706
    expected = (25 * 6 + 6) + (25 * 6 * 16 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert count_parameters(net) == expected == 61_706
    assert net.grid == 5  # 28 → 28 → 14 → 10 → 5, like the classic 32 px without padding
    assert create_model("lenet", input_size=32).grid == 6


def test_vgg_small_layout():
    net = create_model("vgg-small", widths=(8, 16), depths=(2, 1), hidden=32, bn=False)
    assert isinstance(net, VGGSmall) and net.grid == 7 and net.min_input_size == 4
    convs = (9 * 1 * 8 + 8) + (9 * 8 * 8 + 8) + (9 * 8 * 16 + 16)  # bn=False: convs have biases
    assert count_parameters(net) == convs + (16 * 49 * 32 + 32) + (32 * 10 + 10)
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.features) == 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in create_model("vgg-small").modules())


def test_resnet_small_layout():
    net = create_model("resnet-small", stem=8, widths=(8, 16, 32), depths=(2, 2, 1))
    assert isinstance(net, ResNetSmall)
    blocks = [[b for b in stage] for stage in net.stages]
    assert [len(s) for s in blocks] == [2, 2, 1] and all(isinstance(b, ResidualBlock) for s in blocks for b in s)
    # only the first block of each later stage strides 2 and projects; everything else is an identity shortcut
    assert [[b.conv1.conv.stride[0] for b in s] for s in blocks] == [[1, 1], [2, 1], [2]]
    assert [[isinstance(b.shortcut, nn.Identity) for b in s] for s in blocks] == [[True, True], [False, True], [False]]
    x = _randn(2, 1, 28, 28)
    net.eval()
    feats = net.stages(net.stem(x))
    assert feats.shape == (2, 32, 7, 7)  # 28 → 14 → 7


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_rebuilds_identical_network(name, tmp_path):
    torch.manual_seed(0)
    net = create_model(name, **CUSTOM[name])
    doc = model_config(net)
    assert doc["model"] == name
    text = json.dumps(doc)
    twin = model_from_config(text)
    assert type(twin) is type(net) and twin.config == net.config and twin.registry_name == name
    path = save_model_config(net, tmp_path / f"{name}.json")
    again = model_from_config(path)
    assert again.config == net.config
    for other in (twin, again):
        assert [(k, v.shape) for k, v in other.state_dict().items()] == [(k, v.shape) for k, v in net.state_dict().items()]
        other.load_state_dict(net.state_dict())
        other.eval()
    net.eval()
    x = _randn(3, 3, 32, 32, seed=1)
    out = net(x)
    assert torch.equal(out, twin(x)) and torch.equal(out, again(x))


@pytest.mark.parametrize("name", NAMES)
def test_channels_last_does_not_change_results(name):
    torch.manual_seed(0)
    a = create_model(name, channels_last=False, **SMALL[name]).eval()
    b = create_model(name, channels_last=True, **SMALL[name]).eval()
    b.load_state_dict(a.state_dict())
    first_conv = next(m for m in b.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.weight.is_contiguous(memory_format=torch.channels_last)
    x = _randn(4, 1, 28, 28)
    torch.testing.assert_close(a(x), b(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("activation", "scheme"), [("relu", "he"), ("tanh", "xavier"), ("selu", "lecun")])
def test_weights_initialised_by_activation(activation, scheme):
    torch.manual_seed(0)
    net = create_model("vgg-small", widths=(64, 64), depths=(1, 1), activation=activation, channels_last=False)
    w = net.features[2].conv.weight  # 64→64 3×3: 36 864 draws
    fan_in = fan_out = 64 * 9
    expected = {"he": (2 / fan_in) ** 0.5, "xavier": (2 / (fan_in + fan_out)) ** 0.5, "lecun": (1 / fan_in) ** 0.5}
    assert float(w.detach().std()) == pytest.approx(expected[scheme], rel=0.03)
    logits = net.classifier[-1]
    bound = (2 / (logits.in_features + logits.out_features)) ** 0.5  # the logits layer: Xavier
    assert float(logits.weight.detach().std()) == pytest.approx(bound, rel=0.15)
    assert float(logits.bias.detach().abs().sum()) == 0.0


# ---------------------------------------------------------------------------------------------------- bad configs
COMMON_BAD = [
    ("in_channels", 0), ("num_classes", -1), ("num_classes", 2.0), ("input_size", 3), ("activation", "nope"),
    ("activation", "maxout"), ("activation", 3), ("channels_last", 1),
]
SPECIFIC_BAD = {
    "lenet": [("widths", (6,)), ("widths", (6, 0)), ("hidden", ()), ("hidden", "120"), ("pool", "sum"),
              ("bn", "no"), ("dropout", 1.0), ("input_size", 11)],
    "vgg-small": [("widths", ()), ("depths", (1, 1)), ("hidden", 0), ("dropout", float("nan")), ("bn", None),
                  ("input_size", 7)],
    "resnet-small": [("stem", 0), ("widths", (16, "32")), ("depths", (1, 0, 1)), ("dropout", -0.1),
                     ("input_size", 2)],
}


@pytest.mark.parametrize(("name", "field", "value"),
                         [(n, f, v) for n in NAMES for f, v in COMMON_BAD + SPECIFIC_BAD[n]])
def test_bad_config_names_the_field(name, field, value):
    with pytest.raises(InputError, match=field):
        create_model(name, **{field: value})


@pytest.mark.parametrize("name", NAMES)
def test_bad_config_objects(name):
    with pytest.raises(InputError, match="unknown keys"):
        create_model(name, colour=True)
    with pytest.raises(InputError, match="or dict"):
        create_model(name, config="small")
    with pytest.raises(InputError, match="Config"):
        type(create_model(name))(config={"num_classes": 3})
    with pytest.raises(InputError, match="unknown keys"):
        model_from_config({"format": "vision.model-config/1", "model": name, "config": {"width": 3}})


def test_config_dataclass_accepts_lists_and_is_frozen():
    cfg = LeNetConfig(widths=[4, 8], hidden=[32])
    assert cfg.widths == (4, 8) and cfg.hidden == (32,)
    assert LeNetConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(AttributeError):
        cfg.num_classes = 3  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs(name):
    net = create_model(name, **SMALL[name]).eval()
    small = net.min_input_size - 1
    for shape in [(1, 28, 28), (2, 3, 28, 28), (2, 28, 28, 1), (1, 1, small, 28), (1, 1, 28, small)]:
        with pytest.raises(ShapeError, match=r"expected N×1×H×W .*got \(" + ", ".join(map(str, shape))):
            net(torch.zeros(shape))
    with pytest.raises(DTypeError, match="uint8"):
        net(torch.zeros(1, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(InputError, match="ndarray"):
        net(np.zeros((1, 1, 28, 28), np.float32))


# ---------------------------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def digits():
    """(train, val) TensorDatasets: scikit-learn's 8×8 digits resized to 28×28, standardised."""
    from torch.utils.data import TensorDataset

    from vision.data import load_digits_dataset

    images, labels, _ = load_digits_dataset()
    x = torch.from_numpy(images).float().div(255.0).unsqueeze(1)
    x = nn.functional.interpolate(x, size=28, mode="bilinear", align_corners=False)
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(labels)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, val = order[:1400], order[1400:]
    return TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val])


@pytest.fixture
def one_thread():
    """Train on one intra-op thread: these batches are too small to gain from two, and on a busy 2-core machine
    two spinning threads made the same training 3-5× slower (measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", NAMES)
def test_trains_on_digits(name, digits, one_thread):
    from torch.utils.data import DataLoader

    from vision.train import ClassificationTask, Trainer, make_optimizer

    train, val = digits
    torch.manual_seed(0)
    net = create_model(name, **SMALL[name])
    trainer = Trainer(net, ClassificationTask(), optimizer=make_optimizer(net, "adam", lr=3e-3))
    loader = DataLoader(train, batch_size=24, shuffle=True, generator=torch.Generator().manual_seed(0))
    val_loader = DataLoader(val, batch_size=256)
    before = trainer.evaluate(val_loader)
    history = trainer.fit(loader, epochs=3)
    after = trainer.evaluate(val_loader)
    assert trainer.global_step == 3 * len(loader) >= 175
    assert np.isfinite(history.history["loss"]).all()
    assert before["accuracy"] < 0.3  # chance is 0.1
    assert after["accuracy"] > 0.85, after
