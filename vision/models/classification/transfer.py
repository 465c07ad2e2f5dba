"""Transfer learning: freeze a pretrained base, train a new head, then fine-tune the last blocks at a lower rate.

* :func:`backbone_blocks` — the ordered stages of a classifier's base (everything but its head): timm EfficientNet
  (``conv_stem+bn1``, ``blocks.0`` … ``blocks.6``, ``conv_head+bn2``), torchvision ResNet (``conv1+bn1``,
  ``layer1`` … ``layer4``), MobileNet / EfficientNet (``features.0`` …), VGG (``features`` cut after each pooling
  layer, Keras' ``block1`` … ``block5``, then the hidden dense layers), Inception (``Conv2d_1a_3x3`` …
  ``Mixed_7c``), Xception and the suite's small CNNs (``"fmnist-cnn"``, ``"lenet"``, ``"vgg-small"``,
  ``"resnet-small"``).
* :func:`freeze_base` — base frozen (no gradients; its BatchNorm layers kept in eval mode even while the model
  trains, so their running statistics stay the pretrained ones), head trainable: feature extraction.
* :func:`unfreeze` — fine-tuning: all the base, only its last N blocks, or all but its first N parameterised
  layers.
* :func:`transfer_param_groups` — :func:`~vision.train.make_optimizer` parameter groups with a lower learning rate
  for the base than for the head.
* :func:`transfer_learn` — the usual two-phase recipe in one call, on the shared :class:`~vision.train.Trainer`:
  phase 1 trains the new head on the frozen base, phase 2 unfreezes the last blocks and trains them at ``base_lr``
  with the head at ``head_lr``.

The head is the layer :func:`~vision.models.classification.head_module` finds (what
:func:`~vision.models.classification.replace_head` replaces), or the last parameterised layer of a ``.head``
module (``"fmnist-cnn"``, ``"resnet-small"``).

Example:
    >>> from vision.models import create_model                                       # doctest: +SKIP
    >>> net = create_model("efficientnet-lite0", num_classes=2)                       # doctest: +SKIP
    >>> result = transfer_learn(net, train_loader, val_loader, head_epochs=3,        # doctest: +SKIP
    ...                         fine_tune_epochs=2, last_blocks=3)
    >>> result.phases["fine_tune"]["val_accuracy"]                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vision.errors import InputError

if TYPE_CHECKING:
    from torch import nn

    from vision.train.callbacks import Callback
    from vision.train.trainer import History, Trainer

__all__ = ["TransferResult", "backbone_blocks", "freeze_base", "head_layer", "transfer_learn",
           "transfer_param_groups", "unfreeze"]

logger = logging.getLogger(__name__)

#: containers whose children are the stages (timm ``blocks``, torchvision ``features``, the suite's ``stages``)
_STAGE_CONTAINERS = ("blocks", "features", "stages", "layers")


# ---------------------------------------------------------------------------------------------------------------
# the head and the blocks
# ---------------------------------------------------------------------------------------------------------------
def _check_model(model: Any, who: str) -> None:
    from torch import nn

    if not isinstance(model, nn.Module):
        raise InputError(f"{who}: expected an nn.Module classifier; got {type(model).__name__}")


def _has_params(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def head_layer(model: nn.Module) -> tuple[str, nn.Module]:
    """The classification head of ``model`` and its qualified name (e.g. ``("classifier", Linear)``).

    timm and torchvision models: :func:`~vision.models.classification.head_module`; otherwise the last
    parameterised layer of ``model.head`` (the suite's ``"fmnist-cnn"`` and ``"resnet-small"``).

    Raises:
        InputError: not a module, or no recognisable head.
    """
    from vision.models.classification.backbones import head_module

    _check_model(model, "head_layer")
    try:
        head = head_module(model)
    except InputError:
        head = None
        container = getattr(model, "head", None)
        if container is not None and hasattr(container, "modules"):
            layers = [m for m in container.modules() if any(True for _ in m.parameters(recurse=False))]
            head = layers[-1] if layers else None
        if head is None:
            raise InputError(f"{type(model).__name__}: cannot find the classification head; expected a timm model, "
                             "a torchvision-style model with .fc or .classifier, or a .head module ending in a "
                             "parameterised layer") from None
    for name, module in model.named_modules():
        if module is head:
            return name, head
    raise InputError(f"{type(model).__name__}: its head {type(head).__name__} is not one of its sub-modules")


def _group(modules: list[tuple[str, nn.Module]]) -> tuple[str, nn.Module]:
    """One block from several sibling modules: ``"conv1+bn1"`` as an ``nn.ModuleList`` (sharing the modules)."""
    from torch import nn

    if len(modules) == 1:
        return modules[0]
    return "+".join(n for n, _ in modules), nn.ModuleList([m for _, m in modules])


def _split_at_pools(prefix: str, container: nn.Module) -> list[tuple[str, nn.Module]]:
    """Children of a Sequential grouped into stages that end at each pooling layer (VGG's ``block1`` …)."""
    from torch import nn

    pools = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    children = list(container.named_children())
    out, start = [], 0
    for i, (_, child) in enumerate(children):
        if isinstance(child, pools) or i == len(children) - 1:
            members = children[start:i + 1]
            if any(_has_params(m) for _, m in members):
                seq = nn.ModuleList([m for _, m in members]) if len(members) > 1 else members[0][1]
                name = (f"{prefix}.{members[0][0]}" if len(members) == 1
                        else f"{prefix}.{members[0][0]}-{members[-1][0]}")
                out.append((name, seq))
            start = i + 1
    return out


def backbone_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The ordered stages of ``model``'s base (input to head), as ``(name, module)`` pairs.

    Rules, in model order over the top-level children: stage containers (``blocks``, ``features``, ``stages``,
    ``layers``) are expanded into their children — a container holding pooling layers (VGG) into the runs that
    end at each pool; a normalization layer joins the block before it (``conv1+bn1``); a module holding the head
    contributes its other parameterised layers (VGG's hidden dense layers, ``"fmnist-cnn"``'s hidden layer); modules
    without parameters are left out. Merged blocks are ``nn.ModuleList`` s of the model's own modules.

    Args:
        model: a classifier (timm, torchvision or the suite's own; see the module docstring).

    Returns:
        ``[(name, module), ...]`` from the input side to the head; freezing a block's parameters freezes that stage.

    Raises:
        InputError: not a module, or no recognisable head (:func:`head_layer`).
    """
    from torch import nn

    from vision.nn.regularization import _NORM_LAYERS

    _check_model(model, "backbone_blocks")
    head_name, head = head_layer(model)
    head_ids = {id(p) for p in head.parameters()}
    blocks: list[list[tuple[str, nn.Module]]] = []

    def add(name: str, module: nn.Module, *, mergeable: bool = True) -> None:
        if isinstance(module, _NORM_LAYERS) and blocks and mergeable:
            blocks[-1].append((name, module))
        else:
            blocks.append([(name, module)])

    for name, child in model.named_children():
        params = list(child.parameters())
        if not params or all(id(p) in head_ids for p in params):
            continue
        if child is not head and any(id(p) in head_ids for p in params):  # a container holding the head
            for sub_name, sub in child.named_children():
                if _has_params(sub) and not any(id(p) in head_ids for p in sub.parameters()):
                    add(f"{name}.{sub_name}", sub, mergeable=False)
            continue
        if name in _STAGE_CONTAINERS and isinstance(child, nn.Sequential):
            if any(isinstance(c, (nn.MaxPool2d, nn.AvgPool2d)) for c in child.children()):
                blocks.extend([[pair] for pair in _split_at_pools(name, child)])
            else:
                blocks.extend([[(f"{name}.{n}", c)] for n, c in child.named_children() if _has_params(c)])
            continue
        add(name, child)
    if not blocks:
        logger.debug("%s: no parameters outside its head %s", type(model).__name__, head_name)
    return [_group(members) for members in blocks]


def _base_layers(model: nn.Module, head: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules of the base that own parameters directly, in module order."""
    head_ids = {id(m) for m in head.modules()}
    return [(n, m) for n, m in model.named_modules()
            if id(m) not in head_ids and any(True for _ in m.parameters(recurse=False))]


# ---------------------------------------------------------------------------------------------------------------
# freezing
# ---------------------------------------------------------------------------------------------------------------
def _set_trainable(module: nn.Module, trainable: bool, *, train_batchnorm: bool) -> None:
    """(Un)freeze ``module``'s own parameters; a frozen BatchNorm layer is also kept in eval mode."""
    from vision.nn.regularization import _BATCHNORM, freeze_batchnorm, unfreeze_batchnorm

    for p in module.parameters(recurse=False):
        p.requires_grad_(trainable)
    if isinstance(module, _BATCHNORM):
        if trainable and train_batchnorm:
            unfreeze_batchnorm(module)
        else:
            freeze_batchnorm(module)  # running statistics fixed (eval mode kept through model.train())
            for p in module.parameters(recurse=False):
                p.requires_grad_(trainable)  # … while the affine scale and shift may still train


def freeze_base(model: nn.Module) -> list[str]:
    """Freeze everything but the head: feature extraction with a pretrained base (Keras' ``base.trainable = False``).

    The base's parameters get ``requires_grad=False`` and its BatchNorm layers stay in eval mode even after
    ``model.train()`` (:func:`~vision.nn.freeze_batchnorm`), so its running statistics remain the pretrained ones;
    the head's parameters are made trainable. Build the optimizer afterwards (over the trainable parameters).

    Args:
        model: a classifier (see :func:`backbone_blocks` for the families understood).

    Returns:
        The names of the frozen blocks (:func:`backbone_blocks`).

    Raises:
        InputError: not a module, or no recognisable head.
    """
    _check_model(model, "freeze_base")
    _, head = head_layer(model)
    for _, layer in _base_layers(model, head):
        _set_trainable(layer, False, train_batchnorm=False)
    for p in head.parameters():
        p.requires_grad_(True)
    return [name for name, _ in backbone_blocks(model)]


def _count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"unfreeze: {name} must be an integer ≥ 0 or None; got {value!r}")
    return value


def unfreeze(model: nn.Module, *, last_blocks: int | None = None, skip_first_layers: int | None = None,
             train_batchnorm: bool = False) -> list[str]:
    """Make (part of) the base trainable again for fine-tuning; the rest of the base stays frozen.

    With neither option, the whole base trains. ``last_blocks=N`` trains only the last N of
    :func:`backbone_blocks` (0 = none: the same as :func:`freeze_base`); ``skip_first_layers=N`` trains everything
    but the first N parameterised layers (each convolution, normalization and dense layer counts once, as Keras'
    ``for layer in base.layers[:N]: layer.trainable = False``). The head is always trainable.

    BatchNorm layers of the frozen part stay in eval mode. In the trained part they keep their running statistics
    fixed too by default while their scale and shift train (Keras' advice for fine-tuning on a small dataset:
    batch statistics of small batches would wreck the pretrained ones); ``train_batchnorm=True`` lets them update.

    Args:
        model: a classifier (see :func:`backbone_blocks`).
        last_blocks: train the last N blocks of the base (N ≤ the number of blocks).
        skip_first_layers: keep the first N parameterised layers frozen.
        train_batchnorm: let the trained part's BatchNorm layers update their statistics.

    Returns:
        The names of the trained parts of the base: blocks (whole base or ``last_blocks``) or layers
        (``skip_first_layers``).

    Raises:
        InputError: both options, a negative or non-integer count, a count above the model's blocks or layers (the
        message gives both numbers), no recognisable head.
    """
    _check_model(model, "unfreeze")
    last_blocks = _count(last_blocks, "last_blocks")
    skip_first_layers = _count(skip_first_layers, "skip_first_layers")
    if last_blocks is not None and skip_first_layers is not None:
        raise InputError(f"unfreeze: give last_blocks or skip_first_layers, not both; got last_blocks={last_blocks}, "
                         f"skip_first_layers={skip_first_layers}")
    if not isinstance(train_batchnorm, bool):
        raise InputError(f"unfreeze: train_batchnorm must be True or False; got {train_batchnorm!r}")
    _, head = head_layer(model)
    layers = _base_layers(model, head)
    blocks = backbone_blocks(model)
    if last_blocks is not None and last_blocks > len(blocks):
        raise InputError(f"unfreeze: last_blocks={last_blocks}, but {type(model).__name__} has {len(blocks)} blocks "
                         f"({', '.join(n for n, _ in blocks[:3])}, …); expected at most {len(blocks)}")
    if skip_first_layers is not None and skip_first_layers > len(layers):
        raise InputError(f"unfreeze: skip_first_layers={skip_first_layers}, but the base of {type(model).__name__} "
                         f"has {len(layers)} parameterised layers; expected at most {len(layers)}")
    if last_blocks is not None:
        chosen = blocks[len(blocks) - last_blocks:]
        trained = {id(m) for _, b in chosen for m in b.modules()}
        names = [n for n, _ in chosen]
    elif skip_first_layers is not None:
        trained = {id(m) for _, m in layers[skip_first_layers:]}
        names = [n for n, _ in layers[skip_first_layers:]]
    else:
        trained = {id(m) for _, m in layers}
        names = [n for n, _ in blocks]
    for _, layer in layers:
        _set_trainable(layer, id(layer) in trained, train_batchnorm=train_batchnorm)
    for p in head.parameters():
        p.requires_grad_(True)
    return names


def transfer_param_groups(model: nn.Module, *, base_lr: float, head_lr: float) -> list[dict[str, Any]]:
    """:func:`~vision.train.make_optimizer` ``param_groups``: head at ``head_lr``, trainable base at ``base_lr``.

    Only trainable parameters are grouped (freeze or unfreeze first); the base group is left out when nothing of
    the base trains. Example: ``make_optimizer(net, "adamw", lr=base_lr, param_groups=transfer_param_groups(net,
    base_lr=1e-4, head_lr=1e-3))``.

    Args:
        model: a classifier.
        base_lr: learning rate of the base (usually 10–100× below ``head_lr``).
        head_lr: learning rate of the head.

    Returns:
        ``[{"params": "<head>.*", "lr": head_lr}, {"params": "*", "lr": base_lr}]`` (glob patterns over parameter
        names; the first match wins, so ``"*"`` takes the rest).

    Raises:
        InputError: a learning rate that is not a finite number > 0, a frozen head, no recognisable head.
    """
    _check_model(model, "transfer_param_groups")
    for name, value in (("base_lr", base_lr), ("head_lr", head_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise InputError(f"transfer_param_groups: {name} must be a finite number > 0; got {value!r}")
    head_name, head = head_layer(model)
    head_ids = {id(p) for p in head.parameters()}
    if not any(p.requires_grad for p in head.parameters()):
        raise InputError(f"transfer_param_groups: the head {head_name!r} of {type(model).__name__} is frozen; "
                         "expected a trainable head (call freeze_base or unfreeze first)")
    groups: list[dict[str, Any]] = [{"params": f"{head_name}.*", "lr": float(head_lr)}]
    if any(p.requires_grad and id(p) not in head_ids for p in model.parameters()):
        groups.append({"params": "*", "lr": float(base_lr)})
    return groups


# ---------------------------------------------------------------------------------------------------------------
# the two-phase recipe
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class TransferResult:
    """What :func:`transfer_learn` did.

    Attributes:
        history: the combined :class:`~vision.train.History` (both phases, epochs numbered on).
        phases: ``{"head": logs, "fine_tune": logs}``, each log name → one value per epoch of that phase.
        trainer: the :class:`~vision.train.Trainer` (its model holds the last epoch's weights, or the best ones
            when an ``EarlyStopping(restore_best=True)`` stopped it).
        fine_tuned: the names of the base blocks / layers trained in phase 2 (empty without one).
        seconds: wall time per phase.
        trainable: trainable parameter count per phase.
    """

    history: History
    phases: dict[str, dict[str, list[float]]]
    trainer: Trainer
    fine_tuned: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    trainable: dict[str, int] = field(default_factory=dict)


def _epochs(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"transfer_learn: {name} must be an integer ≥ 0; got {value!r}")
    return value


def _trainable_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def transfer_learn(model: nn.Module, train: Iterable[Any], val: Iterable[Any] | None = None, *,
                   head_epochs: int = 3, fine_tune_epochs: int = 3, head_lr: float = 1e-3, base_lr: float = 1e-4,
                   last_blocks: int | None = None, skip_first_layers: int | None = None,
                   optimizer: str = "adamw", weight_decay: float = 1e-4, schedule: str | None = "onecycle",
                   train_batchnorm: bool = False, task: Any = None, callbacks: Iterable[Callback] = (),
                   device: str = "cpu", amp: bool | str = False, channels_last: bool = False,
                   grad_clip_norm: float | None = None) -> TransferResult:
    """Two-phase transfer learning in one call: train a new head on the frozen base, then fine-tune the last blocks.

    Phase 1 (``head_epochs``): :func:`freeze_base`, optimizer ``optimizer`` at ``head_lr`` over the head. Phase 2
    (``fine_tune_epochs``): :func:`unfreeze` (``last_blocks`` / ``skip_first_layers``; neither = the whole base), a
    new optimizer with :func:`transfer_param_groups` (base at ``base_lr``, head at ``head_lr``) and a new schedule.
    Both phases run in one :meth:`Trainer.fit <vision.train.Trainer.fit>` of ``head_epochs + fine_tune_epochs``
    epochs: the switch happens at the start of the first fine-tuning epoch, so callbacks see one run (a
    ``ModelCheckpoint(save_best_only=True)`` keeps the best epoch of either phase; an ``EarlyStopping`` ends the
    whole run). ``model`` already has its new head (e.g. ``create_model("efficientnet-lite0", num_classes=5)`` or
    :func:`~vision.models.classification.replace_head`).

    Args:
        model: the classifier with a pretrained base and a new head.
        train, val: batches ``(x, y)`` (``DataLoader`` s; ``train`` needs ``len()`` for a schedule).
        head_epochs: epochs of phase 1 (0 = fine-tune from the start).
        fine_tune_epochs: epochs of phase 2 (0 = feature extraction only).
        head_lr: learning rate of the head (peak rate with ``"onecycle"``).
        base_lr: learning rate of the unfrozen base in phase 2 (usually 10–100× below ``head_lr``).
        last_blocks, skip_first_layers, train_batchnorm: what phase 2 trains (see :func:`unfreeze`).
        optimizer: a :func:`~vision.train.make_optimizer` name.
        weight_decay: the optimizer's weight decay.
        schedule: a :func:`~vision.train.make_schedule` name built per phase (with ``steps_per_epoch=len(train)`` and
            the phase's epochs), or None for constant rates.
        task: the :class:`~vision.train.Task`; default :class:`~vision.train.ClassificationTask`.
        callbacks, device, amp, channels_last, grad_clip_norm: as for :class:`~vision.train.Trainer`.

    Returns:
        A :class:`TransferResult`.

    Raises:
        InputError: both phases empty, a bad count or learning rate, the errors of :func:`unfreeze` (checked before
        any training), :func:`~vision.train.make_optimizer`, :func:`~vision.train.make_schedule` and the Trainer.
    """
    from vision.train.callbacks import Callback
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule
    from vision.train.task import ClassificationTask
    from vision.train.trainer import Trainer

    _check_model(model, "transfer_learn")
    head_epochs = _epochs(head_epochs, "head_epochs")
    fine_tune_epochs = _epochs(fine_tune_epochs, "fine_tune_epochs")
    if head_epochs + fine_tune_epochs == 0:
        raise InputError("transfer_learn: head_epochs and fine_tune_epochs are both 0; expected at least one epoch")
    for name, value in (("head_lr", head_lr), ("base_lr", base_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise InputError(f"transfer_learn: {name} must be a finite number > 0; got {value!r}")
    if base_lr > head_lr:
        logger.warning("transfer_learn: base_lr %g is above head_lr %g; fine-tuning usually trains the base slower",
                       base_lr, head_lr)
    # check the phase-2 choice before any epoch runs (a bad count would otherwise fail after phase 1)
    if fine_tune_epochs:
        _check_unfreeze_counts(model, last_blocks, skip_first_layers)

    def phase_schedule(opt: Any, epochs: int) -> Any:
        if schedule is None:
            return None
        try:
            steps = len(train)  # type: ignore[arg-type]
        except TypeError as exc:
            raise InputError(f"transfer_learn: schedule={schedule!r} needs the number of batches per epoch; got a "
                             f"{type(train).__name__} without len() (pass a DataLoader or schedule=None)") from exc
        return make_schedule(opt, schedule, steps_per_epoch=steps, epochs=epochs)

    fine_tuned: list[str] = []
    trainable: dict[str, int] = {}

    def start_fine_tuning() -> tuple[Any, Any]:
        fine_tuned[:] = unfreeze(model, last_blocks=last_blocks, skip_first_layers=skip_first_layers,
                                 train_batchnorm=train_batchnorm)
        trainable["fine_tune"] = _trainable_count(model)
        opt = make_optimizer(model, optimizer, lr=base_lr, weight_decay=weight_decay,
                             param_groups=transfer_param_groups(model, base_lr=base_lr, head_lr=head_lr))
        logger.info("transfer_learn: fine-tuning %d parameters (%s) at base_lr %g, head_lr %g",
                    trainable["fine_tune"], ", ".join(fine_tuned) or "head only", base_lr, head_lr)
        return opt, phase_schedule(opt, fine_tune_epochs)

    seconds: dict[str, float] = {}
    clock = {"start": time.perf_counter()}

    class _SwitchToFineTuning(Callback):
        """At the first fine-tuning epoch: unfreeze and give the trainer the phase-2 optimizer and schedule."""

        def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
            if epoch == head_epochs + 1 and head_epochs > 0:
                seconds["head"] = time.perf_counter() - clock["start"]
                clock["start"] = time.perf_counter()
                trainer.optimizer, trainer.schedule = start_fine_tuning()

    if head_epochs > 0:
        freeze_base(model)
        trainable["head"] = _trainable_count(model)
        opt = make_optimizer(model, optimizer, lr=head_lr, weight_decay=weight_decay)
        sched = phase_schedule(opt, head_epochs)
    else:
        opt, sched = start_fine_tuning()
    trainer = Trainer(model, task if task is not None else ClassificationTask(), optimizer=opt, schedule=sched,
                      callbacks=[_SwitchToFineTuning(), *callbacks], device=device, amp=amp,
                      channels_last=channels_last, grad_clip_norm=grad_clip_norm)
    history = trainer.fit(train, val, epochs=head_epochs + fine_tune_epochs)
    seconds["fine_tune" if trainer.epoch > head_epochs else "head"] = time.perf_counter() - clock["start"]
    phases = {"head": _slice(history, 1, head_epochs), "fine_tune": _slice(history, head_epochs + 1, None)}
    return TransferResult(history, phases, trainer, fine_tuned, seconds, trainable)


def _check_unfreeze_counts(model: nn.Module, last_blocks: Any, skip_first_layers: Any) -> None:
    """What :func:`unfreeze` would refuse, refused now (without changing the model)."""
    last_blocks = _count(last_blocks, "last_blocks")
    skip_first_layers = _count(skip_first_layers, "skip_first_layers")
    if last_blocks is not None and skip_first_layers is not None:
        raise InputError(f"transfer_learn: give last_blocks or skip_first_layers, not both; got "
                         f"last_blocks={last_blocks}, skip_first_layers={skip_first_layers}")
    if last_blocks is not None:
        n = len(backbone_blocks(model))
        if last_blocks > n:
            raise InputError(f"transfer_learn: last_blocks={last_blocks}, but {type(model).__name__} has {n} blocks; "
                             f"expected at most {n}")
    if skip_first_layers is not None:
        _, head = head_layer(model)
        n = len(_base_layers(model, head))
        if skip_first_layers > n:
            raise InputError(f"transfer_learn: skip_first_layers={skip_first_layers}, but the base of "
                             f"{type(model).__name__} has {n} parameterised layers; expected at most {n}")


def _slice(history: History, first: int, last: int | None) -> dict[str, list[float]]:
    """The logs of epochs ``first`` … ``last`` (inclusive; None = to the end)."""
    keep = [i for i, e in enumerate(history.epoch) if e >= first and (last is None or e <= last)]
    return {k: [v[i] for i in keep] for k, v in history.history.items()} if keep else {}
