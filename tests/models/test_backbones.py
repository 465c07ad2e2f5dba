"""Backbones by name: every arch builds and round-trips its config; pretrained weights only through the resolver;
heads replaced per family; backbone / head parameter split."""

from __future__ import annotations

import hashlib
import textwrap

import pytest
import torch

from vision.errors import ChecksumError, InputError, WeightsError, WeightsNotFoundError
from vision.models import (
    create_model,
    list_models,
    model_config,
    model_from_config,
    model_spec,
)
from vision.models.classification import (
    BACKBONES,
    BackboneConfig,
    backbone_parameters,
    create_backbone,
    head_module,
    head_parameters,
    imagenet_labels,
    replace_head,
)
from vision.models.classification.backbones import _ARCHS
from vision.weights import get_entry

SMALL = [a for a in BACKBONES if a not in ("vgg16", "inception_v3")]


def _shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def _out(model, chans=3, size=64, n=2):
    model.eval()
    with torch.no_grad():
        return model(torch.randn(n, chans, size, size))


def test_names_and_registry_entry():
    assert set(BACKBONES) == {"resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
                              "efficientnet_b0", "vgg16", "inception_v3", "xception", "efficientnet_lite0"}
    assert "backbone" in list_models("classify") and model_spec("backbone").task == "classify"
    net = create_model("backbone", arch="mobilenet_v3_small", num_classes=2)
    assert net.registry_name == "backbone" and net.config.arch == "mobilenet_v3_small"
    assert _out(net).shape == (2, 2)
    for arch in BACKBONES:  # every arch names a manifest entry with the input it expects
        entry = get_entry(_ARCHS[arch].weights)
        assert entry.task == "classify" and entry.preprocessing["input_size"] in (224, 299)


@pytest.mark.parametrize("arch", SMALL)
def test_config_round_trip_on_a_tiny_input(arch, tmp_path):
    net = create_backbone(arch, num_classes=3, in_chans=1, dropout=0.1)
    doc = model_config(net)
    assert doc["model"] == "backbone" and doc["config"] == {
        "arch": arch, "num_classes": 3, "pretrained": False, "in_chans": 1, "dropout": 0.1}
    from vision.models import save_model_config

    again = model_from_config(save_model_config(net, tmp_path / "arch.json"))
    assert again.config == net.config and _shapes(again) == _shapes(net)
    assert _out(net, chans=1).shape == (2, 3) and _out(again, chans=1).shape == (2, 3)
    assert net.num_features == again.num_features > 0 and net.class_names == ()


@pytest.mark.slow
def test_large_archs_round_trip():
    for arch, size in (("vgg16", 32), ("inception_v3", 80)):
        net = create_backbone(arch, num_classes=4)
        again = model_from_config(model_config(net))
        assert _shapes(again) == _shapes(net)
        assert _out(again, size=size, n=1).shape == (1, 4)
        assert isinstance(head_module(net), torch.nn.Linear) and head_module(net).out_features == 4
    assert net.num_features == 2048 and net.aux_logits is False  # inception: no auxiliary head to trip training


@pytest.mark.slow
def test_inception_loads_torchvision_weights_without_the_auxiliary_head(tmp_path, monkeypatch):
    import torchvision

    reference = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    path = tmp_path / "inception-test.pth"
    torch.save(reference.state_dict(), path)
    _point_manifest_at(tmp_path, monkeypatch, "inception_v3-imagenet", path)
    net = create_backbone("inception_v3", pretrained=True)
    assert net.transform_input is True and net.AuxLogits is None  # as torchvision sets it up for these weights
    assert torch.equal(net.Mixed_7c.branch_pool.conv.weight, reference.Mixed_7c.branch_pool.conv.weight)
    gray = create_backbone("inception_v3", pretrained=True, in_chans=1, num_classes=2)
    assert gray.transform_input is False and _out(gray, chans=1, size=80, n=1).shape == (1, 2)


@pytest.mark.parametrize("arch", [a for a in BACKBONES if a != "efficientnet_lite0"])
def test_pretrained_offline_says_where_to_put_the_file(arch):
    entry = get_entry(_ARCHS[arch].weights)
    with pytest.raises(WeightsNotFoundError) as info:
        create_backbone(arch, pretrained=True)  # pytest-socket: any download attempt would be another error
    msg = str(info.value)
    assert "VISION_OFFLINE=1" in msg and entry.file in msg and entry.url in msg


def test_feature_extractor_without_head():
    net = create_backbone("resnet18", num_classes=0)
    assert isinstance(net.fc, torch.nn.Identity) and _out(net).shape == (2, 512)
    assert head_parameters(net) == [] and len(backbone_parameters(net)) == len(list(net.parameters()))


# -- pretrained weights through the resolver ------------------------------------------------------------------------
def _point_manifest_at(tmp_path, monkeypatch, name, path, sha256=None):
    """A manifest of its own whose entry ``name`` is the file ``path`` (checksum ``sha256``, default the real one)."""
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(textwrap.dedent(f"""
        {name}:
          task: classify
          file: {path.name}
          sha256: "{sha256 or hashlib.sha256(path.read_bytes()).hexdigest()}"
          preprocessing: {get_entry(name).preprocessing}
    """))
    monkeypatch.setenv("VISION_WEIGHTS_MANIFEST", str(manifest))


@pytest.fixture
def resnet18_weights(tmp_path, monkeypatch):
    """A resnet18 state dict saved as the resolver's resnet18-imagenet file, in a manifest of its own."""
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18-test.pth"
    torch.save(reference.state_dict(), path)

    def use(sha256=None):
        _point_manifest_at(tmp_path, monkeypatch, "resnet18-imagenet", path, sha256)

    use()
    return reference, path, use


def test_pretrained_weights_load_exactly(resnet18_weights):
    reference, _, _ = resnet18_weights
    net = create_backbone("resnet18", pretrained=True)
    for (k, want), (k2, got) in zip(reference.state_dict().items(), net.state_dict().items()):
        assert k == k2 and torch.equal(want, got)
    assert net.class_names == imagenet_labels() and net.config.pretrained is True


def test_pretrained_with_new_head_and_gray_input(resnet18_weights):
    reference, _, _ = resnet18_weights
    net = create_backbone("resnet18", pretrained=True, num_classes=4, in_chans=1)
    assert torch.equal(net.layer3[0].conv1.weight, reference.layer3[0].conv1.weight)
    torch.testing.assert_close(net.conv1.weight, reference.conv1.weight.sum(dim=1, keepdim=True))
    assert net.fc.weight.shape == (4, 512) and net.class_names == ()
    gray = torch.rand(1, 1, 64, 64)
    reference.fc = net.fc  # same head: a gray image through the 1-channel stem = repeated to 3 channels
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(gray), reference.eval()(gray.repeat(1, 3, 1, 1)), rtol=1e-4, atol=1e-4)


def test_corrupt_or_foreign_weights_are_refused(resnet18_weights, tmp_path):
    _, path, use = resnet18_weights
    use("0" * 64)
    with pytest.raises(ChecksumError, match="resnet18-test.pth: sha256 is"):
        create_backbone("resnet18", pretrained=True)
    import torchvision

    torch.save(torchvision.models.mobilenet_v2(weights=None).state_dict(), path)
    use()
    with pytest.raises(WeightsError, match="does not fit resnet18"):
        create_backbone("resnet18", pretrained=True)


# -- heads ----------------------------------------------------------------------------------------------------------
def _dropout_p(net):
    """The dropout right before the final layer, per family."""
    arch = net.config.arch
    if arch == "resnet18":
        return net.fc[0].p
    if arch in ("mobilenet_v2", "efficientnet_b0"):
        return net.classifier[0].p
    if arch == "mobilenet_v3_small":
        return net.classifier[2].p
    return net.drop_rate  # timm


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "xception",
                                  "efficientnet_lite0"])
def test_replace_head_per_family(arch):
    net = create_backbone(arch)
    features = net.num_features
    assert replace_head(net, 5, dropout=0.25) is net
    assert _out(net).shape == (2, 5) and _dropout_p(net) == 0.25
    assert net.config.num_classes == 5 and net.config.dropout == 0.25 and net.num_features == features
    head = head_parameters(net)
    assert [tuple(p.shape) for p in head] == [(5, features), (5,)]
    body = backbone_parameters(net)
    assert len(head) + len(body) == len(list(net.parameters()))
    assert not {id(p) for p in head} & {id(p) for p in body}
    assert _shapes(model_from_config(model_config(net))) == _shapes(net)  # the config rebuilds the new head
    replace_head(net, 0)
    assert _out(net).shape == (2, features) and head_parameters(net) == []


def test_freezing_the_backbone_trains_only_the_head():
    net = create_backbone("mobilenet_v3_small", num_classes=3)
    for p in backbone_parameters(net):
        p.requires_grad_(False)
    net.train()
    net(torch.randn(2, 3, 64, 64)).sum().backward()
    assert all(p.grad is not None for p in head_parameters(net))
    assert all(p.grad is None for p in backbone_parameters(net))


def test_dropout_with_the_imagenet_head_keeps_the_layer():
    net = create_backbone("resnet18", dropout=0.2)
    assert isinstance(net.fc, torch.nn.Sequential) and net.fc[0].p == 0.2 and net.fc[1].out_features == 1000
    assert _shapes(model_from_config(model_config(net))) == _shapes(net)
    mobile = create_backbone("mobilenet_v2", dropout=0.4)
    assert mobile.classifier[0].p == 0.4 and mobile.classifier[1].out_features == 1000


# -- bad input ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, text", [
    ({"name": "resnet17"}, "arch must be one of"),
    ({"name": "resnet18", "num_classes": -1}, "num_classes must be an integer ≥ 0"),
    ({"name": "resnet18", "num_classes": True}, "num_classes must be"),
    ({"name": "resnet18", "num_classes": "5"}, "num_classes must be"),
    ({"name": "resnet18", "in_chans": 0}, "in_chans must be an integer ≥ 1"),
    ({"name": "resnet18", "dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ({"name": "resnet18", "pretrained": "yes"}, "pretrained must be True or False"),
])
def test_bad_options(kwargs, text):
    with pytest.raises(InputError, match=text):
        create_backbone(**kwargs)


def test_bad_config_documents():
    with pytest.raises(InputError, match=r"unknown keys \['depth'\]"):
        model_from_config({"format": "vision.model-config/1", "model": "backbone",
                           "config": {"arch": "resnet18", "depth": 3}})
    with pytest.raises(InputError, match="arch must be one of"):
        BackboneConfig.from_dict({"arch": "alexnet"})


def test_replace_head_bad_input_changes_nothing():
    net = create_backbone("mobilenet_v2")
    before = _shapes(net)
    for bad in ({"num_classes": -3}, {"num_classes": 2.0}, {"num_classes": 3, "dropout": 1.5}):
        with pytest.raises(InputError):
            replace_head(net, **bad)
    assert _shapes(net) == before and net.config.num_classes == 1000
    with pytest.raises(InputError, match="cannot find the classification head of Conv2d"):
        replace_head(torch.nn.Conv2d(3, 8, 3), 4)
