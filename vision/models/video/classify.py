"""Clip classification: a per-frame CNN encoder followed by a temporal head (LSTM / GRU / RNN, attention,
transformer), and the frame-averaging baseline (same CNN, mean over time, linear head).

Registered models (task ``"video"``): ``video-cnn-lstm``, ``video-cnn-gru``, ``video-cnn-attention`` (LSTM states
pooled by additive attention), ``video-cnn-transformer`` and ``video-frame-avg`` (the baseline). All take a
B×T×C×H×W float batch in [0, 1] and return B×classes logits; :meth:`VideoClassifier.predict` takes N×T×H×W×3
uint8 RGB clips. Train with :func:`train_video_classifier` (the shared :class:`~vision.train.Trainer` with a
:class:`~vision.train.ClassificationTask`).

Example:
    >>> from vision.data.action_videos import make_action_videos
    >>> from vision.models import create_model
    >>> data = make_action_videos(4, seed=0)
    >>> model = create_model("video-cnn-lstm", num_classes=4)
    >>> model.predict(data.videos).labels.shape
    (4,)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import DTypeError, InputError, ShapeError
from vision.models.config import ModelConfig, int_tuple, positive_int, probability
from vision.models.registry import register_model

__all__ = ["HEADS", "VIDEO_FORMAT", "ClipPrediction", "FrameEncoder", "VideoClassifier", "VideoClassifierConfig", "clips_per_second",
           "evaluate_video_classifier", "train_video_classifier", "videos_to_tensor"]

#: the ``format`` metadata entry of video classifier weights files
VIDEO_FORMAT = "vision.video-classifier/1"

#: temporal heads; ``"mean"`` is the frame-averaging baseline (no notion of order)
HEADS: tuple[str, ...] = ("lstm", "gru", "rnn", "attention", "transformer", "mean")


@dataclass(frozen=True)
class VideoClassifierConfig(ModelConfig):
    """Hyper-parameters of :class:`VideoClassifier`.

    Attributes:
        num_classes: number of logits. in_channels: frame channels.
        widths: output channels of the frame CNN's stages (each: conv 3×3-BN-ReLU, max-pool 2).
        grid: side of the pooled feature map the CNN flattens (keeps *where* things are, which a global average
            pool would throw away and direction of motion needs).
        feature_dim: per-frame feature size.
        head: one of :data:`HEADS`.
        hidden_size: recurrent state / transformer width. num_layers: recurrent or transformer layers.
        bidirectional: bidirectional recurrent head. dropout: before the classifier.
        classes: the class names (``num_classes`` of them), or None (``class_<id>``).
        clip_length: frames per clip the model was trained on; frame_size: the side frames are resized to. Both
            are what :meth:`VideoClassifier.classify_video` cuts a video file into.
        weights: a manifest name or ``.safetensors`` path to load (the file's stored config is used unless a
            config is given), or None (randomly initialised).
        encoder: the per-frame CNN: ``"small"`` (:class:`FrameEncoder`, configured by ``widths`` / ``grid``) or a
            registered classify model (``"resnet-small"``, ``"vgg-small"``, ``"lenet"``, ``"efficientnet-lite0"``,
            ``"backbone"``...) without its head, its features projected to ``feature_dim``
            (:func:`~vision.models.video.encoders.build_encoder`; frames normalised as its weights expect).
        encoder_options: options of that model's factory (``{"arch": "resnet18"}`` for ``"backbone"``; the frames'
            channels and, for LeNet / VGG, ``input_size=frame_size`` are filled in unless given).
        encoder_weights: the encoder's weights: None (the model's own default: ImageNet for
            ``"efficientnet-lite0"``, none for the small CNNs), a weights manifest name, or a state-dict file.
        encoder_pool: what a registered encoder's final global average pool becomes: ``"grid"`` (an average pool
            to ``grid``×``grid``, flattened, so the features keep where things are, as the small encoder's do) or
            ``"global"`` (kept: the classifier's penultimate features).
        freeze_encoder: keep the encoder's parameters fixed and the encoder in eval mode while the rest trains
            (feature extraction); False fine-tunes it with the head.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    num_classes: int = 4
    in_channels: int = 3
    widths: tuple[int, ...] = (16, 32, 32)
    grid: int = 4
    feature_dim: int = 64
    head: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.1
    classes: tuple[str, ...] | None = None
    clip_length: int = 8
    frame_size: int = 32
    weights: str | None = None
    encoder: str = "small"
    encoder_options: dict[str, Any] | None = None
    encoder_weights: str | None = None
    encoder_pool: str = "grid"
    freeze_encoder: bool = False

    def __post_init__(self) -> None:
        who = "VideoClassifierConfig"
        for name in ("num_classes", "in_channels", "grid", "feature_dim", "hidden_size", "num_layers", "clip_length",
                     "frame_size"):
            positive_int(who, name, getattr(self, name))
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths))
        if self.head not in HEADS:
            raise InputError(f"{who}: head must be one of {list(HEADS)}; got {self.head!r}")
        if not isinstance(self.bidirectional, bool):
            raise InputError(f"{who}: bidirectional must be True or False; got {self.bidirectional!r}")
        if self.head == "transformer" and self.hidden_size % 4:
            raise InputError(f"{who}: the transformer head needs hidden_size divisible by its 4 heads; got "
                             f"{self.hidden_size}")
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        if self.classes is not None:
            if (not isinstance(self.classes, (tuple, list)) or len(self.classes) != self.num_classes
                    or not all(isinstance(c, str) and c for c in self.classes)):
                raise InputError(f"{who}: classes must be None or {self.num_classes} non-empty names (num_classes); "
                                 f"got {self.classes!r}")
            object.__setattr__(self, "classes", tuple(self.classes))
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"{who}: weights must be None, a weights manifest name or a .safetensors path; "
                             f"got {self.weights!r}")
        self._check_encoder(who)

    def _check_encoder(self, who: str) -> None:
        from vision.models.video.encoders import ENCODER_POOLS, SMALL_ENCODER, check_encoder

        check_encoder(who, self.encoder)
        if self.encoder_pool not in ENCODER_POOLS:
            raise InputError(f"{who}: encoder_pool must be one of {list(ENCODER_POOLS)}; got {self.encoder_pool!r}")
        if not isinstance(self.freeze_encoder, bool):
            raise InputError(f"{who}: freeze_encoder must be True or False; got {self.freeze_encoder!r}")
        if self.encoder_weights is not None and (not isinstance(self.encoder_weights, str) or not self.encoder_weights):
            raise InputError(f"{who}: encoder_weights must be None, a weights manifest name or a file path; got "
                             f"{self.encoder_weights!r}")
        if self.encoder_options is not None:
            if not isinstance(self.encoder_options, dict) or not all(isinstance(k, str) for k in self.encoder_options):
                raise InputError(f"{who}: encoder_options must be None or a dict of the encoder model's options; got "
                                 f"{self.encoder_options!r}")
            try:  # stored as its JSON form (tuples → lists), so a config read back from a weights file is equal
                options = json.loads(json.dumps(self.encoder_options))
            except (TypeError, ValueError) as exc:
                raise InputError(f"{who}: encoder_options must hold JSON values (numbers, strings, lists...); got "
                                 f"{self.encoder_options!r} ({exc})") from exc
            object.__setattr__(self, "encoder_options", options)
        if self.encoder == SMALL_ENCODER and (self.encoder_options or self.encoder_weights is not None):
            raise InputError(f"{who}: encoder 'small' is configured by widths / grid and saved with the video model; "
                             f"got encoder_options={self.encoder_options!r}, encoder_weights={self.encoder_weights!r} "
                             "(expected None; they apply to a registered classify encoder)")


class FrameEncoder(nn.Module):
    """A tiny per-frame CNN: stages of conv 3×3-BN-ReLU + max-pool, adaptive average pool to a ``grid``×``grid``
    map, flatten, linear + ReLU → ``feature_dim`` features. N×C×H×W → N×feature_dim."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], grid: int, feature_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(grid), nn.Flatten())
        self.project = nn.Sequential(nn.Linear(cin * grid * grid, feature_dim), nn.ReLU(inplace=True))
        self.out_features = feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(x))


class VideoClassifier(nn.Module):
    """Per-frame CNN → temporal head → logits.

    Args:
        config: a :class:`VideoClassifierConfig`.

    The ``"mean"`` head averages the frame features over time before a linear layer: the frame-averaging baseline,
    invariant to the order of frames by construction (a clip and its reverse get the same logits).
    """

    def __init__(self, config: VideoClassifierConfig | None = None) -> None:
        super().__init__()
        from vision.nn.recurrent import Attention, RecurrentEncoder, TemporalTransformer

        self.config = cfg = config or VideoClassifierConfig()
        self.encoder: nn.Module
        if cfg.encoder == "small":
            self.encoder = FrameEncoder(cfg.in_channels, cfg.widths, cfg.grid, cfg.feature_dim)
            if cfg.freeze_encoder:
                self.encoder.requires_grad_(False)
        else:
            from vision.models.video.encoders import build_encoder

            # with cfg.weights the whole model is loaded next (build_with_weights): no encoder file is read here
            self.encoder = build_encoder(cfg.encoder, in_channels=cfg.in_channels, frame_size=cfg.frame_size,
                                         feature_dim=cfg.feature_dim, freeze=cfg.freeze_encoder,
                                         options=cfg.encoder_options, weights=cfg.encoder_weights,
                                         pool=cfg.encoder_pool, grid=cfg.grid, load_weights=cfg.weights is None)
        self.temporal: nn.Module | None = None
        self.attention: nn.Module | None = None
        width = cfg.feature_dim
        if cfg.head in ("lstm", "gru", "rnn", "attention"):
            kind = "lstm" if cfg.head == "attention" else cfg.head
            self.temporal = RecurrentEncoder(kind, cfg.feature_dim, cfg.hidden_size, num_layers=cfg.num_layers,
                                             bidirectional=cfg.bidirectional,
                                             forget_bias=1.0 if kind == "lstm" else None)
            width = self.temporal.output_size
            if cfg.head == "attention":
                self.attention = Attention(width)
        elif cfg.head == "transformer":
            self.temporal = TemporalTransformer(cfg.feature_dim, d_model=cfg.hidden_size, nhead=4,
                                                num_layers=cfg.num_layers, dim_feedforward=2 * cfg.hidden_size)
            width = cfg.hidden_size
        self.classifier = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(width, cfg.num_classes))

    def train(self, mode: bool = True) -> VideoClassifier:
        """Set training mode; a frozen encoder (``freeze_encoder``) stays in eval mode, so its BatchNorm running
        statistics do not drift while the head trains."""
        super().train(mode)
        if self.config.freeze_encoder and isinstance(self.encoder, FrameEncoder):
            self.encoder.eval()  # (a registered encoder's ClassifierFrameEncoder.train does it for its classifier)
        return self

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names: the config's, else ``class_<id>``."""
        cfg = self.config
        return cfg.classes if cfg.classes is not None else tuple(f"class_{i}" for i in range(cfg.num_classes))

    def save(self, path: str | os.PathLike[str], *, half: bool = True) -> Path:
        """Write the weights (fp16 by default) with the config (classes, clip length, frame size) as safetensors;
        ``create_model("video-cnn-lstm", weights=path)`` (any ``video-*`` name) rebuilds the model from it."""
        from vision.models.files import save_weights

        return save_weights(self, path, fmt=VIDEO_FORMAT, config=self.config, half=half)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """B×T×C×H×W → B×T×``feature_dim`` per-frame features (frames encoded as one B·T batch)."""
        b, t = x.shape[:2]
        return self.encoder(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a B×T×C×H×W float batch.

        Raises:
            ShapeError: not 5-D, or the wrong channel count. DTypeError: not floating point.
        """
        _check_batch(x, self.config.in_channels)
        feats = self.frame_features(x)
        head = self.config.head
        if head == "mean":
            summary = feats.mean(dim=1)
        elif head == "transformer":
            summary = self.temporal(feats).mean(dim=1)  # type: ignore[misc]
        else:
            out, _ = self.temporal(feats)  # type: ignore[misc]
            summary = self.attention(out)[0] if self.attention is not None else self.temporal.last(out)  # type: ignore
        return self.classifier(summary)

    @torch.no_grad()
    def predict(self, videos: np.ndarray, *, batch_size: int = 64, classes: tuple[str, ...] | None = None
                ) -> ClipPrediction:
        """Classify N×T×H×W×3 uint8 RGB clips (a single T×H×W×3 clip is treated as N = 1).

        Args:
            videos: the clips. batch_size: clips per forward pass.
            classes: class names for :attr:`ClipPrediction.names` (default :attr:`classes`).

        Returns:
            A :class:`ClipPrediction`.

        Raises:
            ShapeError, DTypeError: as :func:`videos_to_tensor`.
        """
        positive_int("VideoClassifier.predict", "batch_size", batch_size)
        x = videos_to_tensor(videos)
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            probs = torch.cat([torch.softmax(self(x[i:i + batch_size].to(device)), dim=1).cpu()
                               for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)
        names = tuple(classes) if classes is not None else self.classes
        if len(names) != probs.shape[1]:
            raise InputError(f"VideoClassifier.predict: got {len(names)} class names; expected {probs.shape[1]}")
        return ClipPrediction(labels=probs.argmax(1).numpy(), probs=probs.numpy(), classes=names)


@dataclass(frozen=True)
class ClipPrediction:
    """Per-clip predictions: ``labels`` (N int), ``probs`` (N×classes float32), ``classes`` (names)."""

    labels: np.ndarray
    probs: np.ndarray
    classes: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """The predicted class name of each clip."""
        return [self.classes[int(i)] for i in self.labels]


def _check_batch(x: Any, channels: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise InputError(f"VideoClassifier: expected a B×T×{channels}×H×W float tensor; got {type(x).__name__}")
    if x.ndim != 5 or x.shape[2] != channels or 0 in x.shape:
        raise ShapeError(f"VideoClassifier: expected a B×T×{channels}×H×W tensor (batch, time, channels, height, "
                         f"width); got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise DTypeError(f"VideoClassifier: expected a floating-point tensor in [0, 1]; got {x.dtype} (convert "
                         "uint8 clips with videos_to_tensor)")


def videos_to_tensor(videos: Any) -> torch.Tensor:
    """N×T×H×W×3 uint8 RGB clips (or one T×H×W×3 clip) → N×T×3×H×W float32 tensor in [0, 1].

    Raises:
        ShapeError: not 4-D / 5-D with 3 channels last, or empty. DTypeError: not uint8.
    """
    if not isinstance(videos, np.ndarray):
        raise InputError(f"videos_to_tensor: expected a numpy N×T×H×W×3 uint8 array; got {type(videos).__name__}")
    if videos.ndim == 4:
        videos = videos[None]
    if videos.ndim != 5 or videos.shape[-1] != 3 or 0 in videos.shape:
        raise ShapeError(f"videos_to_tensor: expected N×T×H×W×3 (or T×H×W×3) RGB clips; got shape {videos.shape}")
    if videos.dtype != np.uint8:
        raise DTypeError(f"videos_to_tensor: expected uint8 RGB clips; got {videos.dtype}")
    return torch.from_numpy(np.ascontiguousarray(videos)).permute(0, 1, 4, 2, 3).float().div_(255)


class _ClipDataset(torch.utils.data.Dataset):
    """uint8 clips converted to float per item (a float copy of the whole set would take 4× the memory)."""

    def __init__(self, videos: np.ndarray, labels: np.ndarray) -> None:
        self.videos = torch.from_numpy(np.ascontiguousarray(videos)).permute(0, 1, 4, 2, 3)
        self.labels = torch.as_tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.videos[i].float().div_(255), self.labels[i]


def _arrays(data: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """(videos, labels) of an :class:`~vision.data.action_videos.ActionVideos` or a ``(videos, labels)`` pair."""
    if hasattr(data, "videos") and hasattr(data, "labels"):
        videos, labels = data.videos, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        videos, labels = data
    else:
        raise InputError(f"{who}: expected ActionVideos or (videos, labels); got {type(data).__name__}")
    videos_to_tensor(videos[:1] if isinstance(videos, np.ndarray) and videos.ndim == 5 else videos)  # validates
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(videos) or not np.issubdtype(labels.dtype, np.integer):
        raise ShapeError(f"{who}: expected {len(videos)} integer labels; got shape {labels.shape} {labels.dtype}")
    return videos, labels


def _loader(data: Any, batch_size: int, shuffle: bool, seed: int, who: str) -> torch.utils.data.DataLoader:
    videos, labels = _arrays(data, who)
    gen = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(_ClipDataset(videos, labels), batch_size=batch_size, shuffle=shuffle,
                                       generator=gen if shuffle else None)


def train_video_classifier(model: VideoClassifier, train: Any, val: Any = None, *, epochs: int = 10,
                           batch_size: int = 32, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0,
                           grad_clip_norm: float | None = 1.0, device: str = "cpu", callbacks: Any = ()) -> Any:
    """Fit a :class:`VideoClassifier` with the shared trainer (AdamW, one-cycle schedule, gradient clipping).

    Args:
        model: the classifier. train, val: :class:`~vision.data.action_videos.ActionVideos` or
            ``(N×T×H×W×3 uint8 videos, N labels)``; ``val`` is evaluated after each epoch (``val_accuracy``).
        epochs, batch_size, lr, weight_decay: the usual. seed: the shuffling order.
        grad_clip_norm: total gradient norm clip (recurrent nets' exploding gradients); None = off.
        device: where to train. callbacks: :class:`~vision.train.callbacks.Callback` objects.

    Returns:
        The trainer's :class:`~vision.train.trainer.History`.

    Raises:
        InputError, ShapeError, DTypeError: bad data or options.
    """
    from vision.train import ClassificationTask, Trainer
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    positive_int("train_video_classifier", "batch_size", batch_size)
    positive_int("train_video_classifier", "epochs", epochs)
    train_loader = _loader(train, batch_size, True, seed, "train_video_classifier")
    val_loader = _loader(val, batch_size, False, seed, "train_video_classifier") if val is not None else None
    optimizer = make_optimizer(model, "adamw", lr=lr, weight_decay=weight_decay)
    schedule = make_schedule(optimizer, "onecycle", steps_per_epoch=len(train_loader), epochs=epochs)
    trainer = Trainer(model, ClassificationTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks,
                      device=device, grad_clip_norm=grad_clip_norm)
    return trainer.fit(train_loader, val_loader, epochs=epochs)


def evaluate_video_classifier(model: VideoClassifier, data: Any, *, batch_size: int = 64) -> float:
    """Accuracy of ``model`` on ``data`` (:class:`~vision.data.action_videos.ActionVideos` or ``(videos, labels)``)."""
    videos, labels = _arrays(data, "evaluate_video_classifier")
    pred = model.predict(videos, batch_size=batch_size).labels
    return float((pred == labels).mean())


def clips_per_second(model: nn.Module, videos: np.ndarray, *, batch_size: int = 64, repeats: int = 3,
                     device: str = "cpu") -> float:
    """Inference throughput: clips per second of ``model`` on ``videos`` (best of ``repeats`` passes, after one
    warm-up pass; uint8 → float conversion included)."""
    positive_int("clips_per_second", "repeats", repeats)
    model = model.eval().to(device)
    best = float("inf")
    with torch.no_grad():
        for r in range(repeats + 1):
            start = time.perf_counter()
            for i in range(0, len(videos), batch_size):
                model(videos_to_tensor(videos[i:i + batch_size]).to(device))
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if r:
                best = min(best, time.perf_counter() - start)
    return len(videos) / best


def _factory(name: str, head: str, weights: str | None) -> Any:
    def build(*, config: VideoClassifierConfig | dict | None = None, **overrides: Any) -> VideoClassifier:
        from vision.models.files import build_with_weights

        presets = {name: VideoClassifierConfig(head=head, weights=weights)}
        _, model = build_with_weights(name, VideoClassifierConfig, VideoClassifier, presets, name, config, overrides,
                                      VIDEO_FORMAT)
        return model

    return build


#: registered name → (head, default weights, description)
_DESCRIPTIONS = {
    "video-cnn-lstm": ("lstm", "video-cnn-lstm-actions",
                       "Per-frame CNN + LSTM clip classifier; loads the shipped 8-action synthetic model by default."),
    "video-cnn-gru": ("gru", None, "Per-frame CNN + GRU clip classifier (randomly initialised)."),
    "video-cnn-attention": ("attention", None, "Per-frame CNN + LSTM with attention pooling (randomly initialised)."),
    "video-cnn-transformer": ("transformer", None, "Per-frame CNN + temporal transformer (randomly initialised)."),
    "video-frame-avg": ("mean", None, "Frame-averaging baseline: per-frame CNN, mean over time, linear head."),
}
for _name, (_head, _weights, _doc) in _DESCRIPTIONS.items():
    register_model(_name, task="video", weights=_weights, description=_doc)(_factory(_name, _head, _weights))
