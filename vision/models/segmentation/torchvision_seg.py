"""torchvision's semantic segmenters, registered: ``"fcn-resnet50"`` and ``"deeplabv3-mobilenet"``.

Both are torchvision's own networks (``torchvision.models.segmentation.fcn_resnet50`` and
``deeplabv3_mobilenet_v3_large``), built with ``weights=None`` and filled from a file the resolver finds: by default
the official COCO-with-VOC-labels weights (manifest entries ``fcn_resnet50-coco-voc`` and
``deeplabv3_mobilenet_v3_large-coco-voc``: 20 VOC classes + background), downloaded online and verified by their
sha256 prefix, or placed where :class:`~vision.errors.WeightsNotFoundError` says when offline. ``weights=None`` builds
an untrained network for ``classes`` (for fine-tuning), and ``weights="file.pth"`` loads a state dict.

Preprocessing is torchvision's (the manifest entry's ``preprocessing``): RGB / 255, the shorter side resized to
``resize`` (520), ImageNet mean / std. The logits are resized back to the image's size before the argmax, so the
:class:`~vision.types.Segmentation` is at the image's resolution (with the winning class's softmax probability as
``confidence``), like :class:`~vision.models.segmentation.fcn.FCNSegmenter`'s.

Example:
    >>> from vision.models import create_model                                      # doctest: +SKIP
    >>> seg = create_model("deeplabv3-mobilenet")          # official VOC weights (online, or the file placed)
    >>> seg.predict("street.jpg").pixel_counts()                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, WeightsError, WeightsNotFoundError
from vision.models.config import ModelConfig, build_config, positive_int
from vision.models.registry import register_model
from vision.types import Segmentation

__all__ = ["TorchvisionSegConfig", "TorchvisionSegmenter"]

#: registered name → (torchvision builder, default manifest weights)
ARCHS = {
    "fcn-resnet50": ("fcn_resnet50", "fcn_resnet50-coco-voc"),
    "deeplabv3-mobilenet": ("deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large-coco-voc"),
}
_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _voc_classes() -> tuple[str, ...]:
    from vision.weights import get_entry

    labels = get_entry("fcn_resnet50-coco-voc").labels
    return tuple(labels[1:] if labels and labels[0] == "__background__" else labels)


@dataclass(frozen=True)
class TorchvisionSegConfig(ModelConfig):
    """Options of :class:`TorchvisionSegmenter`; JSON-serialisable.

    Attributes:
        arch: ``"fcn-resnet50"`` or ``"deeplabv3-mobilenet"``.
        weights: a manifest name, a ``.pth`` / ``.pt`` state-dict path, or None (untrained; default: the arch's
            official COCO-with-VOC-labels entry).
        classes: foreground classes (class 0 is background); None = the weights' labels (the 20 VOC classes).
        resize: the shorter side the image is resized to before the network (torchvision's 520).
        device: ``"cpu"`` or ``"cuda"``.
    """

    arch: str = "fcn-resnet50"
    weights: str | None = "default"
    classes: tuple[str, ...] | None = None
    resize: int = 520
    device: str = "cpu"

    def __post_init__(self) -> None:
        who = "TorchvisionSegConfig"
        if self.arch not in ARCHS:
            raise InputError(f"{who}: arch must be one of {sorted(ARCHS)}; got {self.arch!r}")
        if self.weights == "default":
            object.__setattr__(self, "weights", ARCHS[self.arch][1])
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"{who}: weights must be a manifest name, a file path or None; got {self.weights!r}")
        if self.classes is not None:
            c = self.classes
            if isinstance(c, str) or not isinstance(c, (tuple, list)) or not c or len(set(c)) != len(c) \
                    or not all(isinstance(x, str) and x for x in c) or "background" in c:
                raise InputError(f"{who}: classes must be unique non-empty names without 'background'; got {c!r}")
            object.__setattr__(self, "classes", tuple(c))
        positive_int(who, "resize", self.resize)
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise InputError(f"{who}: device must be 'cpu' or 'cuda[:N]'; got {self.device!r}")


def _state_dict(weights: str) -> dict[str, Any]:
    """The state dict of a manifest name or a file (the resolver verifies manifest files)."""
    import torch

    from vision.weights import load_manifest, resolve

    if weights in load_manifest():
        path = resolve(weights)
    else:
        path = Path(weights)
        if not path.is_file():
            raise WeightsNotFoundError(f"weights file {path} does not exist; expected a .pth state dict or a "
                                       f"manifest name such as {ARCHS['fcn-resnet50'][1]!r}")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise WeightsError(f"{path}: not a readable torch state dict ({type(exc).__name__}: {str(exc)[:200]})") \
            from exc
    if not isinstance(state, dict) or not state:
        raise WeightsError(f"{path}: expected a state dict (name → tensor); got {type(state).__name__}")
    return state


class TorchvisionSegmenter:
    """A torchvision FCN-ResNet50 / DeepLabV3-MobileNetV3 with its class names: ``predict(image) -> Segmentation``."""

    task = "segment"

    def __init__(self, config: TorchvisionSegConfig | dict | None = None, **overrides: Any) -> None:
        import torchvision.models.segmentation as tvseg

        cfg = build_config(TorchvisionSegConfig, config, overrides, "torchvision segmenter")
        state = _state_dict(cfg.weights) if cfg.weights is not None else None
        classes = cfg.classes or _voc_classes()
        aux = state is not None and any(k.startswith("aux_classifier.") for k in state)
        builder = getattr(tvseg, ARCHS[cfg.arch][0])
        self.model = builder(weights=None, weights_backbone=None, num_classes=len(classes) + 1, aux_loss=aux)
        if state is not None:
            final = state.get("classifier.4.weight")  # the last 1×1 conv of both heads (FCNHead, DeepLabHead)
            stored = int(final.shape[0]) if final is not None and getattr(final, "ndim", 0) == 4 else None
            if stored is not None and stored != len(classes) + 1:
                raise WeightsError(f"weights {cfg.weights!r} hold {stored} classes (background included); the model "
                                   f"is configured for {len(classes) + 1} ({len(classes)} + background); pass "
                                   f"classes= with {stored - 1} names")
            try:
                self.model.load_state_dict(state, strict=True)
            except RuntimeError as exc:
                raise WeightsError(f"weights {cfg.weights!r} do not fit {cfg.arch} ({str(exc)[:300]})") from exc
        self.config = cfg
        self.names = ("background", *classes)
        self.model.eval().to(cfg.device)

    def predict(self, source: Any) -> Segmentation:
        """The class map of one image (a path, bytes or an H×W×3 uint8 RGB array) at the image's size.

        Raises:
            ShapeError / DTypeError / ImageDecodeError / SourceNotFoundError: as :func:`vision.io.read_image`.
        """
        return self.predict_batch([source])[0]

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, batch_size: int = 4) -> list[Segmentation]:
        """:meth:`predict` for a list of images; same-size images share a network call (``batch_size`` at most)."""
        import torch
        from torch.nn import functional as F

        from vision.io import read_image

        if not isinstance(sources, (list, tuple)):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        positive_int("predict_batch", "batch_size", batch_size)
        images = [read_image(s) for s in sources]
        out: list[Segmentation | None] = [None] * len(images)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        dev = torch.device(self.config.device)
        mean = torch.tensor(_MEAN, device=dev).view(1, 3, 1, 1)
        std = torch.tensor(_STD, device=dev).view(1, 3, 1, 1)
        for idx in groups.values():
            for s in range(0, len(idx), batch_size):
                part = idx[s:s + batch_size]
                rgb = np.stack([images[i] if images[i].ndim == 3 else np.repeat(images[i][..., None], 3, -1)
                                for i in part])
                h, w = rgb.shape[1:3]
                scale = self.config.resize / min(h, w)
                size = (max(1, round(h * scale)), max(1, round(w * scale)))
                x = torch.from_numpy(rgb).to(dev).permute(0, 3, 1, 2).float().div_(255.0)
                with torch.inference_mode():
                    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
                    logits = self.model((x - mean) / std)["out"]
                    prob = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False).softmax(1)
                    conf, cls = prob.max(1)
                for j, i in enumerate(part):
                    out[i] = Segmentation(cls[j].cpu().numpy(), names=self.names, confidence=conf[j].cpu().numpy())
        return out  # type: ignore[return-value]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the state dict (``torch.save``) for ``weights=path`` later, with the same ``classes``."""
        import torch

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.model.state_dict(), path)
        return path

    def __repr__(self) -> str:
        return (f"TorchvisionSegmenter({self.config.arch!r}, classes={len(self.names) - 1}, "
                f"weights={self.config.weights!r})")


def _arch_overrides(arch: str, config: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    """The factory's arch, and its default weights unless the config or the overrides name weights."""
    given = "weights" in overrides or isinstance(config, ModelConfig) or (isinstance(config, dict) and "weights" in config)
    return {"arch": arch, **({} if given else {"weights": ARCHS[arch][1]}), **overrides}


@register_model("fcn-resnet50", task="segment", weights=ARCHS["fcn-resnet50"][1])
def fcn_resnet50(*, config: TorchvisionSegConfig | dict | None = None, **overrides: Any) -> TorchvisionSegmenter:
    """torchvision's FCN-ResNet50 (dilated ResNet-50 + FCN head); official VOC-label weights by default (online)."""
    return TorchvisionSegmenter(config, **_arch_overrides("fcn-resnet50", config, overrides))


@register_model("deeplabv3-mobilenet", task="segment", weights=ARCHS["deeplabv3-mobilenet"][1])
def deeplabv3_mobilenet(*, config: TorchvisionSegConfig | dict | None = None,
                        **overrides: Any) -> TorchvisionSegmenter:
    """torchvision's DeepLabV3 with a MobileNetV3-Large backbone; official VOC-label weights by default (online)."""
    return TorchvisionSegmenter(config, **_arch_overrides("deeplabv3-mobilenet", config, overrides))
