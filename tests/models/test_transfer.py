"""Transfer learning: blocks of real architectures, freezing (BatchNorm included), LR groups, the two-phase recipe."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from vision.errors import InputError
from vision.models import create_model
from vision.models.classification import (
    backbone_blocks,
    create_backbone,
    freeze_base,
    head_layer,
    transfer_learn,
    transfer_param_groups,
    unfreeze,
)
from vision.train import CSVLogger, LambdaCallback, ModelCheckpoint, make_optimizer


@pytest.fixture(scope="module")
def lite0():
    """ImageNet efficientnet-lite0 with a new 2-class head (copied per test before any change)."""
    return create_model("efficientnet-lite0", num_classes=2)


def _trainable(model: nn.Module) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def _names(model: nn.Module, module: nn.Module) -> set[str]:
    ids = {id(p) for p in module.parameters()}
    return {n for n, p in model.named_parameters() if id(p) in ids}


# -- blocks --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, head, blocks", [
    (lambda: create_model("efficientnet-lite0", num_classes=3, pretrained=False), "classifier",
     ["conv_stem+bn1", *[f"blocks.{i}" for i in range(7)], "conv_head+bn2"]),
    (lambda: create_backbone("resnet18", num_classes=3), "fc", ["conv1+bn1", "layer1", "layer2", "layer3", "layer4"]),
    (lambda: create_backbone("mobilenet_v3_small", num_classes=3), "classifier.3",
     [*[f"features.{i}" for i in range(13)], "classifier.0"]),
    (lambda: create_model("fmnist-cnn"), "head.5", ["features.0-3", "features.4-8", "head.2"]),
    (lambda: create_model("resnet-small"), "head.3", ["stem", "stages.0", "stages.1", "stages.2"]),
    (lambda: create_model("vgg-small"), "classifier.5", ["features.0-2", "features.3-5", "features.6-8",
                                                          "classifier.2"]),
])
def test_backbone_blocks_cover_the_base_once_in_order(build, head, blocks):
    model = build()
    assert head_layer(model)[0] == head
    got = backbone_blocks(model)
    assert [n for n, _ in got] == blocks
    head_ids = {id(p) for p in head_layer(model)[1].parameters()}
    in_blocks = [id(p) for _, b in got for p in b.parameters()]
    base = [id(p) for p in model.parameters() if id(p) not in head_ids]
    assert len(in_blocks) == len(set(in_blocks)) and set(in_blocks) == set(base)  # every base parameter once
    order = {id(p): i for i, p in enumerate(model.parameters())}
    firsts = [order[id(next(iter(b.parameters())))] for _, b in got]
    assert firsts == sorted(firsts)  # input side first


def test_vgg_features_split_at_pools_like_keras_blocks():
    vgg = create_backbone("vgg16", num_classes=2)
    names = [n for n, _ in backbone_blocks(vgg)]
    assert names == ["features.0-4", "features.5-9", "features.10-16", "features.17-23", "features.24-30",
                     "classifier.0", "classifier.3"]  # block1..block5, then the two hidden dense layers


def test_a_model_without_a_head_is_refused():
    with pytest.raises(InputError, match="cannot find the classification head"):
        backbone_blocks(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()))
    with pytest.raises(InputError, match="expected an nn.Module"):
        freeze_base("resnet18")


# -- freezing ------------------------------------------------------------------------------------------------------
def test_freeze_base_trains_the_head_only_and_keeps_base_statistics(lite0):
    net = copy.deepcopy(lite0)
    frozen = freeze_base(net)
    assert frozen[0] == "conv_stem+bn1" and len(frozen) == 9
    assert _trainable(net) == {"classifier.weight", "classifier.bias"}
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()  # what the Trainer does every epoch: frozen BatchNorm must still normalise in eval mode
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    x = torch.randn(4, 3, 32, 32) * 3 + 1
    nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 0, 1])).backward()
    opt.step()
    assert not net.bn1.training and not net.blocks[3][0].bn1.training
    after = net.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed == {"classifier.weight", "classifier.bias"}  # no running mean/var, no base weight moved


def test_unfreeze_last_blocks(lite0):
    net = copy.deepcopy(lite0)
    freeze_base(net)
    names = unfreeze(net, last_blocks=2)
    assert names == ["blocks.6", "conv_head+bn2"]
    blocks = dict(backbone_blocks(net))
    expected = _names(net, blocks["blocks.6"]) | _names(net, blocks["conv_head+bn2"]) | {"classifier.weight",
                                                                                           "classifier.bias"}
    assert _trainable(net) == expected
    net.train()
    running = net.bn2.running_mean.clone()
    net(torch.randn(2, 3, 32, 32))
    assert not net.bn2.training  # trained part: statistics still fixed by default (Keras' fine-tuning advice)
    assert torch.equal(net.bn2.running_mean, running)
    assert net.bn2.weight.requires_grad  # … while scale and shift train
    unfreeze(net, last_blocks=2, train_batchnorm=True)
    net.train()
    net(torch.randn(2, 3, 32, 32))
    assert net.bn2.training and not net.bn1.training  # the frozen stem keeps eval mode
    assert not torch.equal(net.bn2.running_mean, running)


def test_unfreeze_all_and_skip_first_layers(lite0):
    net = copy.deepcopy(lite0)
    freeze_base(net)
    assert unfreeze(net)[0] == "conv_stem+bn1"
    assert _trainable(net) == {n for n, _ in net.named_parameters()}
    names = unfreeze(net, skip_first_layers=2)  # conv_stem and bn1 stay frozen
    assert names[0] == "blocks.0.0.conv_dw"
    assert _trainable(net) == {n for n, _ in net.named_parameters()} - {"conv_stem.weight", "bn1.weight", "bn1.bias"}
    unfreeze(net, last_blocks=0)
    assert _trainable(net) == {"classifier.weight", "classifier.bias"}


def test_unfreeze_bad_arguments_name_the_numbers(lite0):
    net = copy.deepcopy(lite0)
    with pytest.raises(InputError, match=r"last_blocks=10, but EfficientNet has 9 blocks"):
        unfreeze(net, last_blocks=10)
    with pytest.raises(InputError, match="not both"):
        unfreeze(net, last_blocks=1, skip_first_layers=1)
    with pytest.raises(InputError, match="integer ≥ 0"):
        unfreeze(net, last_blocks=-1)
    with pytest.raises(InputError, match="parameterised layers"):
        unfreeze(net, skip_first_layers=10_000)


def test_transfer_param_groups_with_make_optimizer(lite0):
    net = copy.deepcopy(lite0)
    freeze_base(net)
    assert transfer_param_groups(net, base_lr=1e-4, head_lr=1e-2) == [{"params": "classifier.*", "lr": 1e-2}]
    unfreeze(net, last_blocks=1)
    groups = transfer_param_groups(net, base_lr=1e-4, head_lr=1e-2)
    opt = make_optimizer(net, "adamw", lr=1e-4, param_groups=groups)
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-4]
    assert set(opt.param_groups[0]["param_names"]) == {"classifier.weight", "classifier.bias"}
    assert set(opt.param_groups[1]["param_names"]) == _names(net, net.conv_head) | _names(net, net.bn2)
    for p in net.classifier.parameters():
        p.requires_grad_(False)
    with pytest.raises(InputError, match="is frozen"):
        transfer_param_groups(net, base_lr=1e-4, head_lr=1e-2)
    with pytest.raises(InputError, match="base_lr must be a finite number > 0"):
        transfer_param_groups(net, base_lr=0, head_lr=1e-2)


# -- the two-phase recipe ------------------------------------------------------------------------------------------
def _digits_loaders(n: int = 240):
    from torch.utils.data import DataLoader, TensorDataset

    from vision.data import load_digits_dataset

    images, labels, _ = load_digits_dataset()
    x = torch.from_numpy(images[:n]).float().div(16.0 if images.max() <= 16 else 255.0).unsqueeze(1)
    x = nn.functional.interpolate(x, size=28, mode="bilinear", align_corners=False)
    y = torch.from_numpy(labels[:n]).long()
    train = DataLoader(TensorDataset(x[:200], y[:200]), batch_size=32, shuffle=True,
                       generator=torch.Generator().manual_seed(0))
    val = DataLoader(TensorDataset(x[200:], y[200:]), batch_size=64)
    return train, val


def test_transfer_learn_two_phases_on_one_trainer(tmp_path):
    torch.manual_seed(0)
    net = create_model("fmnist-cnn")  # blocks: features.0-3, features.4-8, head.2; head: head.5
    train, val = _digits_loaders()
    snapshots = {}

    def snap(trainer, epoch, logs):
        snapshots[epoch] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    initial = {k: v.clone() for k, v in net.state_dict().items()}
    result = transfer_learn(net, train, val, head_epochs=2, fine_tune_epochs=2, head_lr=1e-2, base_lr=1e-3,
                            last_blocks=1, callbacks=[LambdaCallback(on_epoch_end=snap),
                                                      CSVLogger(tmp_path / "h.csv"),
                                                      ModelCheckpoint(str(tmp_path / "best.pt"),
                                                                      monitor="val_accuracy", save_best_only=True)])
    assert result.history.epoch == [1, 2, 3, 4]
    assert len(result.phases["head"]["loss"]) == 2 and len(result.phases["fine_tune"]["loss"]) == 2
    assert result.fine_tuned == ["head.2"]
    assert result.trainable["head"] < result.trainable["fine_tune"]
    assert set(result.seconds) == {"head", "fine_tune"}
    # phase 1 moved the head only; phase 2 also the last block (head.2), never the first two feature blocks
    moved1 = {k for k in initial if not torch.equal(initial[k], snapshots[2][k])}
    assert moved1 == {"head.5.weight", "head.5.bias"}
    moved2 = {k for k in initial if not torch.equal(snapshots[2][k], snapshots[4][k])}
    assert moved2 == {"head.2.weight", "head.2.bias", "head.5.weight", "head.5.bias"}
    groups = result.trainer.optimizer.param_groups  # phase 2: one-cycle peaks head_lr and base_lr
    assert [(g["name"], g["max_lr"]) for g in groups] == [("head.5.*", 1e-2), ("*", 1e-3)]
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # the callbacks saw one run of 4 epochs
    h = result.history.history  # a random base, 4 short epochs: it learns, if not well (chance is 0.1)
    assert h["loss"][-1] < h["loss"][0] and h["val_accuracy"][-1] > 0.2


def test_transfer_learn_checks_before_training(tmp_path):
    net = create_model("fmnist-cnn")
    train, val = _digits_loaders(240)
    log = tmp_path / "h.csv"
    with pytest.raises(InputError, match="last_blocks=5, but SmallCNN has 3 blocks"):
        transfer_learn(net, train, val, head_epochs=1, fine_tune_epochs=1, last_blocks=5, callbacks=[CSVLogger(log)])
    assert not log.exists()  # nothing trained, nothing written
    with pytest.raises(InputError, match="both 0"):
        transfer_learn(net, train, val, head_epochs=0, fine_tune_epochs=0)
    with pytest.raises(InputError, match="head_lr must be a finite number > 0"):
        transfer_learn(net, train, val, head_lr=float("nan"))


@pytest.mark.slow
def test_lfw_faces_from_frozen_imagenet_features_reach_95_percent(lite0):
    """The issue's goal: frozen pretrained efficientnet-lite0 features + a new head ≥ 95 % on lfw_subset."""
    from vision.data import classification_loaders, from_arrays, lfw_subset, stratified_split

    x, y = lfw_subset()
    table = from_arrays(x, y, names=["non-face", "face"])
    parts = stratified_split(table.labels, fractions={"train": 0.6, "val": 0.1, "test": 0.3}, seed=0)
    norm = ((127 / 255,) * 3, (128 / 255,) * 3)
    train, val = classification_loaders(table.subset(parts["train"]), size=96, batch_size=16,
                                        val=table.subset(parts["val"]), normalize=norm)
    _, test = classification_loaders(table.subset(parts["train"]), size=96, batch_size=64,
                                     val=table.subset(parts["test"]), normalize=norm)
    torch.manual_seed(0)
    result = transfer_learn(copy.deepcopy(lite0), train, val, head_epochs=6, fine_tune_epochs=0, head_lr=3e-3)
    accuracy = result.trainer.evaluate(test)["accuracy"]
    assert result.trainable["head"] == 2 * 1280 + 2
    assert accuracy >= 0.95, f"test accuracy {accuracy:.3f} on {len(parts['test'])} lfw patches"
    assert np.isfinite(result.history.history["loss"]).all()
