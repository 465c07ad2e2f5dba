"""Video models: clip classification with a per-frame CNN and a temporal head (LSTM / GRU / attention /
transformer), beside the frame-averaging baseline.

* :mod:`~vision.models.video.classify` — :class:`VideoClassifierConfig`, :class:`VideoClassifier` (registered
  ``video-cnn-lstm``, ``video-cnn-gru``, ``video-cnn-attention``, ``video-cnn-transformer``, ``video-frame-avg``),
  :func:`train_video_classifier`, :func:`evaluate_video_classifier`, :func:`clips_per_second`,
  :func:`videos_to_tensor`.
* :mod:`~vision.models.video.clips` — :func:`clips_from_frames`, :func:`read_clips` (a video file → clips).
* :mod:`~vision.models.video.predict` — :func:`classify_video` (a video → :class:`VideoLabels`: a label per clip,
  segments), :func:`plot_timeline`.
* :mod:`~vision.models.video.encoders` — :func:`build_encoder`: a registered classify model as the frame encoder
  (frozen or fine-tuned).

The synthetic training clips come from :func:`vision.data.action_videos.make_action_videos`; the recurrent layers
from :mod:`vision.nn.recurrent`. Names load on first use: importing this package imports no torch code.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ClipPrediction": "vision.models.video.classify",
    "FrameEncoder": "vision.models.video.classify",
    "HEADS": "vision.models.video.classify",
    "VideoClassifier": "vision.models.video.classify",
    "VideoClassifierConfig": "vision.models.video.classify",
    "clips_per_second": "vision.models.video.classify",
    "evaluate_video_classifier": "vision.models.video.classify",
    "train_video_classifier": "vision.models.video.classify",
    "videos_to_tensor": "vision.models.video.classify",
    "clips_from_frames": "vision.models.video.clips",
    "read_clips": "vision.models.video.clips",
    "VideoLabels": "vision.models.video.predict",
    "classify_video": "vision.models.video.predict",
    "plot_timeline": "vision.models.video.predict",
    "build_encoder": "vision.models.video.encoders",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
