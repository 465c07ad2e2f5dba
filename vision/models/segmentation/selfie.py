"""MediaPipe's selfie segmentation (person vs background), registered as ``"selfie-segmentation"``: a real segmenter
that works offline when the pip package ``mediapipe`` is installed.

The network is MediaPipe's own TFLite file, shipped inside the ``mediapipe`` wheel
(``mediapipe/modules/selfie_segmentation/``; the 0.10 releases carry it, later ones do not) and run by OpenCV's DNN
module (``cv2.dnn.readNetFromTFLite``), so no MediaPipe code is imported and MediaPipe's own dependency pins (numpy < 2
for 0.10.21) do not matter: install it with ``pip install --no-deps "mediapipe==0.10.21"``. The resolver finds the file
in the package and checks its sha256 (manifest entries ``selfie-segmentation`` and
``selfie-segmentation-landscape``).

Input: RGB resized to 256×256 (``landscape=True``: 256×144, the model for wide frames), scaled to [0, 1]; output: one
sigmoid map, upsampled back to the image; pixels above ``threshold`` are ``"person"``. The
:class:`~vision.types.Segmentation` carries the winning side's probability as ``confidence``.

Example:
    >>> from vision.models import create_model                                      # doctest: +SKIP
    >>> seg = create_model("selfie-segmentation")
    >>> seg.predict("portrait.jpg").pixel_counts()                                  # doctest: +SKIP
    {'background': 120034, 'person': 142110}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vision.errors import InputError
from vision.models.config import ModelConfig, build_config
from vision.models.registry import register_model
from vision.types import Segmentation

__all__ = ["SelfieConfig", "SelfieSegmenter"]

NAMES = ("background", "person")
_INPUT = {False: (256, 256), True: (256, 144)}  # (width, height) of the square and the landscape model


@dataclass(frozen=True)
class SelfieConfig(ModelConfig):
    """Options of :class:`SelfieSegmenter`.

    Attributes:
        landscape: the 256×144 model for wide frames (else the 256×256 one).
        threshold: person probability above which a pixel is ``"person"``, in (0, 1).
    """

    landscape: bool = False
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.landscape, bool):
            raise InputError(f"SelfieConfig: landscape must be True or False; got {self.landscape!r}")
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < float(t) < 1.0:
            raise InputError(f"SelfieConfig: threshold must be a number in (0, 1); got {t!r}")

    @property
    def weights(self) -> str:
        return "selfie-segmentation-landscape" if self.landscape else "selfie-segmentation"


class SelfieSegmenter:
    """Person / background maps from MediaPipe's selfie-segmentation TFLite network, through OpenCV DNN."""

    task = "segment"
    names = NAMES

    def __init__(self, config: SelfieConfig | dict | None = None, **overrides: Any) -> None:
        import cv2

        from vision.weights import resolve

        self.config = build_config(SelfieConfig, config, overrides, "selfie-segmentation")
        self.weights_path = resolve(self.config.weights)  # WeightsNotFoundError says: pip install mediapipe
        self._net = cv2.dnn.readNetFromTFLite(str(self.weights_path))

    def person_probability(self, source: Any) -> np.ndarray:
        """The H×W float32 probability that each pixel shows a person, at the image's size."""
        import cv2

        from vision.io import read_image

        image = read_image(source)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        size = _INPUT[self.config.landscape]
        self._net.setInput(cv2.dnn.blobFromImage(cv2.resize(image, size, interpolation=cv2.INTER_AREA),
                                                 1 / 255.0, size, swapRB=False))
        prob = self._net.forward().reshape(size[1], size[0])
        h, w = image.shape[:2]
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0).astype(np.float32)

    def predict(self, source: Any) -> Segmentation:
        """The person / background map of one image (a path, bytes or an H×W×3 / H×W uint8 array).

        Raises:
            ShapeError / DTypeError / ImageDecodeError / SourceNotFoundError: as :func:`vision.io.read_image`.
        """
        prob = self.person_probability(source)
        person = prob > self.config.threshold
        return Segmentation(person.astype(np.int64), names=NAMES, confidence=np.where(person, prob, 1.0 - prob))

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, batch_size: int = 8) -> list[Segmentation]:
        """:meth:`predict` for each image (the network takes one image at a time)."""
        if not isinstance(sources, (list, tuple)):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        return [self.predict(s) for s in sources]

    def __repr__(self) -> str:
        return f"SelfieSegmenter(landscape={self.config.landscape}, threshold={self.config.threshold})"


@register_model("selfie-segmentation", task="segment", weights="selfie-segmentation")
def selfie_segmentation(*, config: SelfieConfig | dict | None = None, **overrides: Any) -> SelfieSegmenter:
    """MediaPipe selfie segmentation (person vs background), offline with ``pip install --no-deps mediapipe==0.10.21``."""
    return SelfieSegmenter(config, **overrides)
