"""Weights files of the suite's own torch models: safetensors with the model's format and config in the metadata.

A model's ``save`` writes ``{"format": ..., "config": <JSON>}`` beside the tensors (fp16 by default) with
:func:`save_weights`; :func:`build_with_weights` rebuilds the network from the file alone (its stored config), so a
weights file is all a user needs to share. Used by the autoencoders / GANs (:mod:`vision.models.generative`) and
the video classifiers (:mod:`vision.models.video`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vision.errors import WeightsError, WeightsNotFoundError

__all__ = ["build_with_weights", "load_into", "read_weights", "save_weights", "saved_config", "weights_path"]


def weights_path(weights: str | os.PathLike[str]) -> Path:
    """A ``.safetensors`` path as given, or a manifest name resolved by :func:`vision.weights.resolve`.

    Raises:
        WeightsNotFoundError: no such file, or the manifest entry's file is absent offline. UnknownModelError: a
        name the manifest does not have.
    """
    text = str(weights)
    if isinstance(weights, os.PathLike) or text.endswith(".safetensors") or os.sep in text or "/" in text:
        p = Path(weights)
        if not p.is_file():
            raise WeightsNotFoundError(f"{p}: weights file not found; expected a .safetensors file written by save()")
        return p
    from vision.weights import resolve

    return resolve(text)


def read_weights(weights: str | os.PathLike[str]) -> tuple[Path, dict[str, str], dict[str, torch.Tensor]]:
    """``(path, metadata, tensors)`` of a weights file.

    Raises:
        WeightsNotFoundError: as :func:`weights_path`. WeightsError: not a readable safetensors file (corrupt,
        truncated, another format).
    """
    from safetensors import safe_open

    path = weights_path(weights)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except Exception as exc:  # safetensors raises its own error types for a foreign or corrupt file
        raise WeightsError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc}); expected "
                           "weights written by a vision model's save()") from exc
    return path, meta, tensors


def saved_config(meta: dict[str, str], path: Path, fmt: str) -> dict[str, Any]:
    """The config dict in a file's metadata, checked to be of format ``fmt``.

    Raises:
        WeightsError: another format, or config metadata that is missing or not a JSON object.
    """
    if meta.get("format") != fmt:
        raise WeightsError(f"{path}: weights format {meta.get('format')!r}; expected {fmt!r}")
    try:
        config = json.loads(meta.get("config", ""))
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: its config metadata is not JSON ({exc}); expected a file written by save()") \
            from exc
    if not isinstance(config, dict):
        raise WeightsError(f"{path}: its config metadata is {type(config).__name__}; expected a JSON object")
    return config


def build_with_weights(who: str, cls: type, net_cls: type, presets: dict[str, Any], preset: str, config: Any,
                       overrides: dict[str, Any], fmt: str) -> tuple[Any, nn.Module]:
    """The config and the network (eval mode) of a model saved with :func:`save_weights`: the ``preset``'s defaults
    (or ``config``) with ``overrides``; with weights and no explicit config, the architecture stored in the file
    (explicit options still win), and the file's tensors loaded.

    Raises:
        InputError: an unknown preset or a bad option. WeightsNotFoundError / WeightsError: as :func:`read_weights`,
        :func:`saved_config`, :func:`load_into`.
    """
    from vision.errors import InputError
    from vision.models.config import build_config

    if preset not in presets:
        raise InputError(f"{who}: preset must be one of {list(presets)}; got {preset!r}")
    cfg = build_config(cls, presets[preset] if config is None else config, overrides, preset)
    tensors = path = None
    if cfg.weights is not None:
        path, meta, tensors = read_weights(cfg.weights)
        stored = saved_config(meta, path, fmt)
        if config is None:  # the file says what it is; explicit options still win
            cfg = build_config(cls, {**stored, "weights": cfg.weights},
                               {k: v for k, v in overrides.items() if k != "weights"}, preset)
    net = net_cls(cfg)
    if tensors is not None:
        load_into(net, tensors, path)  # type: ignore[arg-type]
    return cfg, net.eval()


def load_into(module: nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Copy ``tensors`` into ``module``, refusing missing, extra or mis-shaped tensors (WeightsError)."""
    from vision.weights import load_tensors_into

    load_tensors_into(module, tensors, path)


def save_weights(module: nn.Module, path: str | os.PathLike[str], *, fmt: str, config: Any, half: bool = True) -> Path:
    """Write ``module``'s tensors (floating ones as fp16 when ``half``) with format and config metadata, atomically."""
    from safetensors.torch import save

    from vision.io.files import atomic_write_bytes

    cfg = config.to_dict()
    cfg["weights"] = None  # the file is the weights; a loaded copy names its own path
    tensors = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
               for k, v in module.state_dict().items()}
    return atomic_write_bytes(path, save(tensors, metadata={"format": fmt, "config": json.dumps(cfg, sort_keys=True)}))
