"""vision.models.video: CNN + temporal head clip classifiers vs the frame-averaging baseline, clip cutting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vision.data.action_videos import make_action_videos
from vision.errors import DTypeError, InputError, ShapeError, SourceNotFoundError
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
