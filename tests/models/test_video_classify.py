"""vision.models.video: CNN + temporal head clip classifiers vs the frame-averaging baseline, clip cutting."""

from __future__ import annotations

from dataclasses import replace as dataclasses_replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vision.data.action_videos import make_action_videos
from vision.errors import DTypeError, InputError, ShapeError, SourceNotFoundError, WeightsNotFoundError
from vision.models import create_model, list_models
from vision.models.video import (
    HEADS,
    VideoClassifier,
    VideoClassifierConfig,
    clips_from_frames,
    evaluate_video_classifier,
    read_clips,
    train_video_classifier,
    videos_to_tensor,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def test_registered_under_video():
    assert {"video-cnn-lstm", "video-cnn-gru", "video-cnn-attention", "video-cnn-transformer",
            "video-frame-avg"} <= set(list_models("video"))
    assert create_model("video-frame-avg").config.head == "mean"
    assert create_model("video-cnn-gru", num_classes=3).config == VideoClassifierConfig(head="gru", num_classes=3)


@pytest.mark.parametrize("head", HEADS)
def test_shapes_every_head(head):
    model = VideoClassifier(VideoClassifierConfig(head=head, num_classes=5, bidirectional=head == "gru")).eval()
    x = torch.rand(2, 6, 3, 32, 32)
    assert model(x).shape == (2, 5)
    assert model(torch.rand(1, 3, 3, 48, 40)).shape == (1, 5)  # any clip length and frame size
    pred = model.predict(make_action_videos(3, frames=6, seed=0).videos, classes=tuple("abcde"))
    assert pred.labels.shape == (3,) and pred.probs.shape == (3, 5)
    assert np.allclose(pred.probs.sum(1), 1, atol=1e-5) and set(pred.names) <= set("abcde")


def test_frame_averaging_ignores_order_and_the_lstm_does_not():
    torch.manual_seed(0)
    x = torch.rand(2, 8, 3, 32, 32)
    avg = create_model("video-frame-avg").eval()
    lstm = create_model("video-cnn-lstm").eval()
    with torch.no_grad():
        assert torch.allclose(avg(x), avg(x.flip(1)), atol=1e-5)  # a reversed "left" clip is a "right" clip
        assert not torch.allclose(lstm(x), lstm(x.flip(1)), atol=1e-4)


def test_bad_input_is_typed():
    model = create_model("video-cnn-lstm").eval()
    with pytest.raises(ShapeError, match=r"expected a B×T×3×H×W tensor .* got shape \(2, 3, 32, 32\)"):
        model(torch.rand(2, 3, 32, 32))
    with pytest.raises(DTypeError, match="torch.uint8"):
        model(torch.zeros(1, 4, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ShapeError, match=r"expected N×T×H×W×3 .* got shape \(4, 32, 32\)"):
        videos_to_tensor(np.zeros((4, 32, 32), np.uint8))
    with pytest.raises(DTypeError, match="expected uint8 RGB clips; got float32"):
        model.predict(np.zeros((1, 4, 32, 32, 3), np.float32))
    with pytest.raises(InputError, match="head must be one of"):
        create_model("video-cnn-lstm", head="conv3d")
    with pytest.raises(ShapeError, match="expected 4 integer labels"):
        train_video_classifier(model, (np.zeros((4, 4, 32, 32, 3), np.uint8), np.zeros(3, int)), epochs=1)


def _trained(name: str, actions: tuple[str, ...], n: int, epochs: int) -> tuple[float, float]:
    torch.manual_seed(0)
    train = make_action_videos(n, frames=6, actions=actions, seed=11)
    test = make_action_videos(96, frames=6, actions=actions, seed=12)  # held-out seed
    model = create_model(name, weights=None, num_classes=len(actions), widths=(8, 16, 16), feature_dim=32,
                         hidden_size=32)
    hist = train_video_classifier(model, train, epochs=epochs, batch_size=32, lr=1e-2)
    return hist.history["accuracy"][-1], evaluate_video_classifier(model, test)


def test_lstm_learns_direction_of_motion():
    fit, acc = _trained("video-cnn-lstm", ("left", "right", "up", "down"), 384, 8)
    print(f"cnn+lstm: train accuracy {fit:.3f}, held-out {acc:.3f}")
    assert acc > 0.7, acc  # chance 0.25; measured 0.94


def test_frame_averaging_stays_at_chance_on_opposite_directions():
    fit, acc = _trained("video-frame-avg", ("left", "right"), 384, 8)
    print(f"frame averaging: train accuracy {fit:.3f}, held-out {acc:.3f}")
    assert acc < 0.65, acc  # chance 0.5 (measured 0.50): a frame-order-free model cannot tell a clip from its reverse


def test_clips_from_frames_windows_and_errors():
    frames = np.arange(10)[:, None, None, None].repeat(8, 1).repeat(8, 2).repeat(3, 3).astype(np.uint8)
    clips, starts = clips_from_frames(frames, length=4, stride=3)
    assert clips.shape == (3, 4, 8, 8, 3) and starts.tolist() == [0, 3, 6]
    assert clips[1, :, 0, 0, 0].tolist() == [3, 4, 5, 6]
    assert clips_from_frames(list(frames), length=5, size=(4, 6))[0].shape == (2, 5, 6, 4, 3)
    with pytest.raises(ShapeError, match="got 3 frames; expected at least one clip of length=4"):
        clips_from_frames(frames[:3], length=4)
    with pytest.raises(ShapeError, match="frame 1 is 9×8 but frame 0 is 8×8"):
        clips_from_frames([frames[0], np.zeros((8, 9, 3), np.uint8)], length=2)
    with pytest.raises(DTypeError, match="float64"):
        clips_from_frames(frames.astype(float), length=2)
    with pytest.raises(InputError, match="stride must be an integer ≥ 1; got 0"):
        clips_from_frames(frames, length=2, stride=0)


def test_read_clips_from_a_file(tmp_path):
    from vision.io import VideoSink

    path = tmp_path / "short.avi"
    with VideoSink(path, fps=10) as sink:
        for v in make_action_videos(1, frames=6, size=64, seed=0).videos[0]:
            sink.write(v)
    clips, starts, fps = read_clips(path, length=3, stride=2, size=(32, 32))
    assert clips.shape == (2, 3, 32, 32, 3) and starts.tolist() == [0, 2] and fps == pytest.approx(10)
    with pytest.raises(ShapeError, match="has 6 frames; expected at least one clip of length=8"):
        read_clips(path, length=8)
    with pytest.raises(SourceNotFoundError):
        read_clips(tmp_path / "missing.avi")


@pytest.mark.skipif(not VTEST.exists(), reason="opencv-doc's vtest.avi is not installed")
def test_read_clips_on_vtest_and_predict():
    clips, starts, fps = read_clips(VTEST, length=8, stride=8, size=(32, 32), max_frames=24)
    assert clips.shape == (3, 8, 32, 32, 3) and fps and fps > 0
    assert create_model("video-cnn-lstm").predict(clips).labels.shape == (3,)


# ---------------------------------------------------------------------------------------------------------------
# a registered classification model as the frame encoder
# ---------------------------------------------------------------------------------------------------------------
#: a small "resnet-small" (one block per stage) so that a training epoch takes a fraction of a second
TINY_RESNET = {"stem": 8, "widths": [8, 16], "depths": [1, 1]}


def _with_encoder(freeze: bool, **overrides):
    torch.manual_seed(0)
    opts = {"num_classes": 4, "feature_dim": 16, "hidden_size": 16, "encoder": "resnet-small",
            "encoder_options": TINY_RESNET, "freeze_encoder": freeze, **overrides}
    return VideoClassifier(VideoClassifierConfig(**opts))


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _one_epoch(model):
    data = make_action_videos(32, frames=4, seed=3)
    train_video_classifier(model, data, epochs=1, batch_size=8, lr=1e-2)


def test_frozen_encoder_does_not_train_and_keeps_its_batchnorm_statistics():
    model = _with_encoder(True)
    backbone = model.encoder.backbone
    assert not any(p.requires_grad for p in backbone.parameters())
    assert all(p.requires_grad for p in model.encoder.project.parameters())  # the projection belongs to the head
    bn = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bn, "resnet-small has BatchNorm layers"
    enc_before, head_before = _state(backbone), _state(model.classifier)
    model.train()
    assert model.training and not backbone.training and not any(m.training for m in bn)
    _one_epoch(model)
    enc_after, head_after = _state(backbone), _state(model.classifier)
    assert enc_after.keys() == enc_before.keys()
    assert all(torch.equal(enc_before[k], enc_after[k]) for k in enc_before)  # weights and running stats, bit for bit
    assert any("running_mean" in k for k in enc_before)
    assert not all(torch.equal(head_before[k], head_after[k]) for k in head_before)


def test_fine_tuned_encoder_trains_and_updates_its_statistics():
    model = _with_encoder(False)
    backbone = model.encoder.backbone
    assert all(p.requires_grad for p in backbone.parameters())
    before = _state(backbone)
    model.train()
    assert backbone.training
    _one_epoch(model)
    after = _state(backbone)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.endswith("weight") and "conv" in k for k in changed), sorted(changed)[:5]
    assert any(k.endswith("running_mean") for k in changed)


def test_registered_encoder_shapes_and_pooling():
    x = torch.rand(2, 5, 3, 32, 32)
    grid = _with_encoder(False).eval()
    assert grid(x).shape == (2, 4) and grid.frame_features(x).shape == (2, 5, 16)
    assert grid.encoder.feature_width == 16 * 4 * 4  # last stage 16 channels, pooled to the 4×4 grid
    pooled = _with_encoder(False, encoder_pool="global").eval()
    assert pooled.encoder.feature_width == 16 and pooled(x).shape == (2, 4)
    lenet = VideoClassifier(VideoClassifierConfig(encoder="lenet", head="gru", num_classes=3)).eval()
    assert lenet.encoder.feature_width == 84 and lenet(x).shape == (2, 3)  # LeNet's hidden layer, 3 channels in
    assert lenet.encoder.backbone.config.in_channels == 3 and lenet.encoder.backbone.config.input_size == 32
    assert lenet.encoder.gain is None  # trained from scratch: frames in [0, 1] as they are
    pred = lenet.predict(make_action_videos(2, frames=5, seed=0).videos)
    assert pred.probs.shape == (2, 3)
    with pytest.raises(InputError, match="encoder 'lenet' with options .*input_size must be ≥ 12 .*got 8"):
        VideoClassifier(VideoClassifierConfig(encoder="lenet", frame_size=8))
    # torchvision's MobileNetV3 has a hidden layer after its global pool: a 2×2 grid (64 px) cannot feed it
    mobilenet = {"encoder": "backbone", "encoder_options": {"arch": "mobilenet_v3_small"}, "frame_size": 64}
    with pytest.raises(InputError, match="so encoder_pool='grid' does not fit it; expected encoder_pool='global'"):
        VideoClassifier(VideoClassifierConfig(**mobilenet))
    pooled = VideoClassifier(VideoClassifierConfig(**mobilenet, encoder_pool="global")).eval()
    assert pooled.encoder.feature_width == 1024 and pooled(torch.rand(1, 2, 3, 64, 64)).shape == (1, 4)


def test_efficientnet_lite0_encoder_uses_its_imagenet_weights_and_normalisation():
    model = create_model("video-cnn-lstm", weights=None, encoder="efficientnet-lite0", freeze_encoder=True).eval()
    enc = model.encoder
    reference = create_model("efficientnet-lite0")  # the classifier with its ImageNet weights
    ref = reference.state_dict()
    own = enc.backbone.state_dict()
    assert "classifier.weight" not in own and all(torch.equal(v, ref[k]) for k, v in own.items())
    # (x·255 − 127) / 128, as the weights manifest entry says
    assert torch.allclose(enc.gain.flatten(), torch.full((3,), 255 / 128)) and torch.allclose(
        enc.offset.flatten(), torch.full((3,), -127 / 128))
    x = torch.rand(1, 2, 3, 32, 32)
    with torch.no_grad():
        reference.reset_classifier(0)
        want = reference.eval()(x[0] * 255 / 128 - 127 / 128)
        assert enc.feature_width == 1280  # a 1×1 map at 32 px: the grid pool keeps it 1×1
        assert torch.allclose(enc.backbone(enc.gain * x[0] + enc.offset), want, atol=1e-5)
    assert model(x).shape == (1, 4)
    by_name = create_model("video-cnn-lstm", weights=None, encoder="efficientnet-lite0",
                           encoder_weights="efficientnet-lite0-imagenet")  # the manifest entry, loaded by position
    assert all(torch.equal(v, own[k]) for k, v in by_name.encoder.backbone.state_dict().items())


def test_encoder_weights_from_a_file_and_a_config_round_trip(tmp_path):
    from safetensors.torch import save_file

    classifier = create_model("resnet-small", in_channels=3, input_size=32, num_classes=4, **TINY_RESNET)
    save_file({k: v.contiguous() for k, v in classifier.state_dict().items()}, tmp_path / "encoder.safetensors")
    model = _with_encoder(True, encoder_weights=str(tmp_path / "encoder.safetensors"),
                          encoder_options={**TINY_RESNET, "num_classes": 4})
    ref = classifier.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in model.encoder.backbone.state_dict().items())
    _one_epoch(model)
    path = model.save(tmp_path / "video.safetensors", half=False)
    again = create_model("video-cnn-gru", weights=str(path))  # any video-* name: the file says what it is
    assert again.config == dataclasses_replace(model.config, weights=str(path))
    assert again.config.encoder_options == {**TINY_RESNET, "num_classes": 4}
    (tmp_path / "encoder.safetensors").unlink()  # the video file holds the encoder: its source is not needed
    again = create_model("video-cnn-gru", weights=str(path))
    x = torch.rand(3, 4, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    with pytest.raises(WeightsNotFoundError, match="no such file"):
        _with_encoder(True, encoder_weights=str(tmp_path / "encoder.safetensors"))


def test_encoder_errors_are_typed():
    with pytest.raises(InputError, match=r"encoder must be one of \['small', .*'resnet-small'.*got 'resnet-tiny'"):
        VideoClassifierConfig(encoder="resnet-tiny")
    with pytest.raises(InputError, match="encoder 'yolov8n' is a detect model; expected 'small' or a classify model"):
        create_model("video-cnn-lstm", weights=None, encoder="yolov8n")
    with pytest.raises(InputError, match="encoder_pool must be one of"):
        VideoClassifierConfig(encoder="lenet", encoder_pool="max")
    with pytest.raises(InputError, match="encoder 'small' is configured by widths / grid"):
        VideoClassifierConfig(encoder_options={"stem": 8})
    with pytest.raises(InputError, match="freeze_encoder must be True or False"):
        VideoClassifierConfig(encoder="lenet", freeze_encoder="yes")
    with pytest.raises(InputError, match="encoder_options must hold JSON values"):
        VideoClassifierConfig(encoder="lenet", encoder_options={"x": object()})
    with pytest.raises(InputError, match="unknown keys"):
        VideoClassifier(VideoClassifierConfig(encoder="lenet", encoder_options={"no_such_option": 1}))
    assert create_model("video-cnn-lstm").config.encoder == "small"  # the shipped weights still load
