"""Per-frame encoders for the video classifiers made from the suite's registered classification models.

:func:`build_encoder` turns a registered ``"classify"`` model (``"resnet-small"``, ``"vgg-small"``, ``"lenet"``,
``"fmnist-cnn"``, ``"efficientnet-lite0"``, ``"backbone"`` with its options) into a :class:`ClassifierFrameEncoder`:

1. the classifier is built through the registry with the frames' channels (and, for the small CNNs whose dense
   head is sized for it, ``input_size = frame_size``) unless the options say otherwise;
2. its weights: the model's own default (EfficientNet-Lite0: ImageNet), or ``encoder_weights`` (a manifest name or
   a state-dict file), or none at all when the whole video model is about to be loaded from its own file;
3. its classification head is found by :func:`~vision.models.classification.head_layer` (the transfer-learning
   head finder, which knows timm, torchvision and the suite's own ``.head`` / ``.classifier`` layouts) and put
   out of the way with an ``nn.Identity``, so the model returns its penultimate features;
4. with ``pool="grid"`` (the default) its final global average pool (torch's ``AdaptiveAvgPool2d(1)``, timm's
   ``SelectAdaptivePool2d``) becomes an average pool to ``grid``×``grid`` (at most the map's own size),
   flattened: like the small frame CNN's, the features then keep *where* things are in the frame, which a global
   pool throws away and the direction of motion needs (bench/results/video_encoders.md: ``"resnet-small"`` with
   its global pool stays near chance on left / right / up / down). Models that already flatten a spatial map
   (``"lenet"``, ``"vgg-small"``, ``"fmnist-cnn"``) are unchanged; ``pool="global"`` keeps the penultimate
   features as the classifier has them;
5. the frames (floats in [0, 1]) are normalised as the weights expect, from the ``preprocessing`` field of their
   manifest entry (EfficientNet-Lite0 ``(x·255 − 127) / 128``, torchvision ImageNet mean / std); models without
   such an entry (trained from scratch) take the frames as they are;
6. a linear layer + ReLU projects the features to ``feature_dim`` when their width differs.

With ``freeze=True`` the classifier's parameters do not train, it stays in eval mode through ``model.train()``
(its BatchNorm statistics and dropout stay those of inference) and runs without autograd bookkeeping.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vision.errors import InputError

__all__ = ["ENCODER_POOLS", "SMALL_ENCODER", "ClassifierFrameEncoder", "build_encoder", "check_encoder",
           "encoder_choices"]

#: the video classifiers' own tiny frame CNN (:class:`~vision.models.video.classify.FrameEncoder`)
SMALL_ENCODER = "small"

#: what a registered encoder's global average pool becomes: a ``grid``×``grid`` map, or kept (penultimate features)
ENCODER_POOLS: tuple[str, ...] = ("grid", "global")


def encoder_choices() -> list[str]:
    """What ``VideoClassifierConfig.encoder`` accepts: ``"small"`` and every registered classify model."""
    from vision.models.registry import list_models

    return [SMALL_ENCODER, *list_models("classify")]


def check_encoder(who: str, name: Any) -> None:
    """Refuse an encoder that is neither ``"small"`` nor a registered classify model (the message lists both).

    Raises:
        InputError: not a string, an unknown name, or a model of another task (``"yolov8n"`` is a detector).
    """
    if name == SMALL_ENCODER:
        return
    from vision.models.registry import MODELS

    choices = encoder_choices()
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"{who}: encoder must be one of {choices}; got {name!r}")
    task = MODELS.get(name).task
    if task != "classify":
        raise InputError(f"{who}: encoder {name!r} is a {task} model; expected 'small' or a classify model, one of "
                         f"{choices}")


def _config_fields(name: str) -> set[str]:
    """Field names of the config class a registered factory declares for its ``config=`` argument (empty if none).

    The factories annotate ``config: <TheirConfig> | dict | None`` as a string (postponed annotations); only that
    one annotation is evaluated, in the factory's module, because its other annotations may name types imported
    for type checking only.
    """
    from vision.models.config import ModelConfig
    from vision.models.registry import model_spec

    factory = model_spec(name).factory
    hint = getattr(factory, "__annotations__", {}).get("config")
    if isinstance(hint, str):
        try:
            hint = eval(hint, getattr(factory, "__globals__", {}))  # noqa: S307 - the library's own annotation text
        except Exception:  # an annotation this cannot read: inject nothing
            return set()
    for cls in (*getattr(hint, "__args__", ()), hint):
        if isinstance(cls, type) and issubclass(cls, ModelConfig):
            return {f.name for f in fields(cls)}
    return set()


def _is_path(weights: str) -> bool:
    """Whether ``encoder_weights`` names a file rather than a manifest entry."""
    return os.sep in weights or "/" in weights or Path(weights).suffix in (".safetensors", ".pt", ".pth")


def _weights_file(weights: str) -> tuple[Path, str | None]:
    """``(file, manifest name or None)`` of an ``encoder_weights`` value: an existing file, else a manifest name.

    Raises:
        WeightsNotFoundError: a path that does not exist, or a manifest entry whose file is absent offline.
        UnknownModelError: a name the manifest does not have.
    """
    p = Path(weights)
    if p.is_file():
        return p, None
    if _is_path(weights):
        from vision.errors import WeightsNotFoundError

        raise WeightsNotFoundError(f"encoder_weights {weights!r}: no such file; expected a weights manifest name or "
                                   "a .safetensors / .pt / .pth state dict of the encoder classifier")
    from vision.weights import resolve

    return resolve(weights), weights


def _load_encoder_weights(model: nn.Module, path: Path) -> None:
    """Load a state dict into the classifier: by name when the names match, else by position (the converted
    EfficientNet-Lite0 checkpoint names its tensors after another implementation, in timm's order).

    Raises:
        WeightsError: tensors that do not fit (the first misfit named).
    """
    from vision.models.classification.backbones import load_by_position
    from vision.weights import load_state_dict, load_tensors_into

    state = load_state_dict(path)
    if set(state) == set(model.state_dict()):
        load_tensors_into(model, state, path, hint="expected weights of the encoder's architecture and options")
    else:
        load_by_position(model, state, source=str(path))


def _normalisation(preprocessing: Any, channels: int, where: str) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """``(gain, offset, flip)`` so that ``x·gain + offset`` (C×1×1 each) on [0, 1] frames equals the weights'
    ``(pixel·scale − mean) / std`` on 0..255 pixels; ``flip``: the weights expect BGR."""
    from vision.models.classification.pretrained import Preprocessing

    pre = preprocessing if isinstance(preprocessing, Preprocessing) else \
        Preprocessing.from_manifest(preprocessing, where=where)
    if pre.channels != channels:
        raise InputError(f"encoder weights {where!r} expect {pre.channels}-channel ({pre.colour}) input; the video "
                         f"classifier gives {channels}-channel frames (in_channels)")
    mean = torch.tensor(pre.mean, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(pre.std, dtype=torch.float32).view(-1, 1, 1)
    return 255.0 * pre.scale / std, -mean / std, pre.colour == "bgr"


class ClassifierFrameEncoder(nn.Module):
    """A registered classifier without its head as a per-frame encoder: N×C×H×W in [0, 1] → N×``out_features``.

    Built by :func:`build_encoder`; see the module docstring for what it does to the frames.

    Attributes:
        backbone: the classifier, its head replaced by ``nn.Identity``.
        project: linear + ReLU to ``feature_dim`` (``nn.Identity`` when the widths already agree).
        feature_width: the width of the classifier's penultimate features. frozen: see :meth:`train`.
    """

    def __init__(self, backbone: nn.Module, feature_width: int, feature_dim: int, *, frozen: bool,
                 normalisation: tuple[torch.Tensor, torch.Tensor, bool] | None) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_width = feature_width
        self.out_features = feature_dim
        self.frozen = frozen
        self.project: nn.Module = (nn.Identity() if feature_width == feature_dim
                                   else nn.Sequential(nn.Linear(feature_width, feature_dim), nn.ReLU(inplace=True)))
        # derived from the config, so not saved with the weights (old files keep loading)
        gain, offset, flip = normalisation if normalisation is not None else (None, None, False)
        self.register_buffer("gain", gain, persistent=False)
        self.register_buffer("offset", offset, persistent=False)
        self.flip = flip
        if frozen:
            backbone.requires_grad_(False)
            backbone.eval()

    def train(self, mode: bool = True) -> ClassifierFrameEncoder:
        """Set training mode; a frozen classifier stays in eval mode (BatchNorm statistics do not drift)."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×C×H×W frames in [0, 1] → N×``out_features``."""
        if self.flip:
            x = x.flip(1)
        if self.gain is not None:
            x = x * self.gain + self.offset
        if self.frozen:
            with torch.no_grad():
                feats = self.backbone(x)
        else:
            feats = self.backbone(x)
        return self.project(feats.flatten(1))


def _global_pool(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The last global average pooling layer of ``model`` (name, module), or None."""
    found = None
    for name, m in model.named_modules():
        if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) and m.output_size in (1, (1, 1)):
            found = (name, m)
        elif type(m).__name__ == "SelectAdaptivePool2d":  # timm's, which also flattens
            found = (name, m)
    return found


def _pool_to_grid(model: nn.Module, grid: int, name: str, channels: int, size: int) -> bool:
    """Replace the global pool by an average pool to ``grid``×``grid`` (at most the map it gets from a
    ``size``×``size`` frame: EfficientNet-Lite0 pools a 1×1 map at 32 px, which a bigger grid would only repeat),
    flattened where timm's flattened; whether there was a global pool."""
    found = _global_pool(model)
    if found is None:
        return False
    pool_name, old = found
    seen: dict[str, tuple[int, int]] = {}

    def record(_module: nn.Module, args: tuple[Any, ...]) -> None:
        seen["hw"] = tuple(args[0].shape[-2:])

    hook = old.register_forward_pre_hook(record)
    try:
        _feature_width(model, name, channels, size)
    finally:
        hook.remove()
    h, w = seen.get("hw", (grid, grid))
    new: nn.Module = nn.AdaptiveAvgPool2d((min(grid, h), min(grid, w)))
    if not isinstance(old, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        new = nn.Sequential(new, nn.Flatten(1))
    model.set_submodule(pool_name, new)
    return True


def build_encoder(name: str, *, in_channels: int, frame_size: int, feature_dim: int, freeze: bool = False,
                  options: dict[str, Any] | None = None, weights: str | None = None, pool: str = "grid",
                  grid: int = 4, load_weights: bool = True) -> ClassifierFrameEncoder:
    """A registered classify model as a per-frame encoder (see the module docstring).

    Args:
        name: a registered classify model (:func:`encoder_choices`).
        in_channels: frame channels; frame_size: the frame side (checked with one dummy frame).
        feature_dim: output features per frame.
        freeze: no training for the classifier (eval mode kept, no gradients).
        options: keyword options of the model's factory (``{"arch": "resnet18"}`` for ``"backbone"``); they win
            over the injected ``in_channels`` / ``input_size``.
        weights: None (the model's own default), a weights manifest name (its ``preprocessing`` is then used), or
            a ``.safetensors`` / ``.pt`` state dict of the classifier with the same options (e.g. the
            ``weights.safetensors`` of a :func:`~vision.models.classification.save_classifier` bundle, with its
            ``model.json`` config as ``options``).
        pool: ``"grid"`` (the global pool becomes a ``grid``×``grid`` pool, flattened) or ``"global"``.
        grid: the side of that map.
        load_weights: False when the caller loads the whole video model from a file next: no pretrained or
            ``weights`` file is read (the normalisation is still the one those weights expect).

    Raises:
        InputError: an unknown / non-classify name, options the model refuses, a frame size it cannot take, a
        classifier without a recognisable head. WeightsNotFoundError / WeightsError: ``weights`` missing or unfit.
    """
    from vision.models.classification.transfer import head_layer
    from vision.models.registry import create_model

    check_encoder("build_encoder", name)
    if pool not in ENCODER_POOLS:
        raise InputError(f"build_encoder: pool must be one of {list(ENCODER_POOLS)}; got {pool!r}")
    opts = dict(options or {})
    known = _config_fields(name)
    for key in ("in_channels", "in_chans"):
        if key in known:
            opts.setdefault(key, in_channels)
    if "input_size" in known:
        opts.setdefault("input_size", frame_size)
    manifest = None
    if weights is not None and load_weights:
        source, manifest = _weights_file(weights)
    elif weights is not None and not _is_path(weights):
        manifest = weights  # a manifest name: only its preprocessing is read (the file is not needed)
    if "pretrained" in known and (weights is not None or not load_weights):
        opts["pretrained"] = False  # the weights come from elsewhere: do not read the pretrained file for nothing
    try:
        model = create_model(name, **opts)
    except InputError as exc:
        raise InputError(f"encoder {name!r} with options {opts}: {exc}") from exc
    if weights is not None and load_weights:
        _load_encoder_weights(model, source)
    entry_name = manifest or getattr(model, "weights_name", None)
    pre = None
    if entry_name:
        from vision.weights import get_entry

        pre = get_entry(entry_name).preprocessing or None
    norm = _normalisation(pre, in_channels, str(entry_name)) if pre else None
    head_name, _ = head_layer(model)
    model.set_submodule(head_name, nn.Identity())
    gridded = pool == "grid" and _pool_to_grid(model, grid, name, in_channels, frame_size)
    try:
        width = _feature_width(model, name, in_channels, frame_size)
    except InputError as exc:
        if not gridded:
            raise
        raise InputError(f"encoder {name!r}: layers between its global pool and its head expect the pooled width, "
                         "so encoder_pool='grid' does not fit it; expected encoder_pool='global'") from exc
    return ClassifierFrameEncoder(model, width, feature_dim, frozen=freeze, normalisation=norm)


def _feature_width(model: nn.Module, name: str, channels: int, size: int) -> int:
    """The headless classifier's output width on one ``size``×``size`` frame (and a check that it takes it)."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, channels, size, size))
    except (RuntimeError, ValueError) as exc:  # the model's own input checks (InputError is a ValueError) or torch's
        raise InputError(f"encoder {name!r} cannot encode {channels}×{size}×{size} frames (frame_size={size}): "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    finally:
        model.train(was)
    if not isinstance(out, torch.Tensor) or out.ndim < 2 or out.shape[0] != 1:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(f"encoder {name!r}: without its head it returns {got}; expected 1×features")
    return int(out[0].numel())
