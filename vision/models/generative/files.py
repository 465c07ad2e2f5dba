"""Weights files of the generative models: safetensors with the model's kind and config in the metadata.

:meth:`Autoencoder.save <vision.models.generative.autoencoder.Autoencoder.save>` and
:meth:`GAN.save <vision.models.generative.gan.GAN.save>` write ``{"format": ..., "config": <JSON>}`` beside the
tensors (fp16 by default), so :func:`load_generative` rebuilds the right model from the file alone.
"""

from __future__ import annotations

import os
from typing import Any

from vision.errors import WeightsError
from vision.models.files import read_weights, saved_config

__all__ = ["AE_FORMAT", "GAN_FORMAT", "load_generative"]

#: the ``format`` metadata entry of autoencoder / GAN weights files
AE_FORMAT = "vision.autoencoder/1"
GAN_FORMAT = "vision.gan/1"


def load_generative(path: str | os.PathLike[str]) -> Any:
    """Rebuild an :class:`~vision.models.generative.autoencoder.Autoencoder` or a
    :class:`~vision.models.generative.gan.GAN` from a weights file (or a manifest name) written by its ``save``.

    Raises:
        WeightsNotFoundError: no such file. WeightsError: corrupt, or not an autoencoder / GAN file.
    """
    from vision.models.registry import create_model

    p, meta, _ = read_weights(path)
    fmt = meta.get("format")
    if fmt not in (AE_FORMAT, GAN_FORMAT):
        raise WeightsError(f"{p}: weights format {fmt!r}; expected {AE_FORMAT!r} or {GAN_FORMAT!r}")
    config = saved_config(meta, p, fmt)
    weights = str(path)  # a path, or the manifest name it was resolved from
    if fmt == AE_FORMAT:
        name = "vae" if config.get("variational") else ("dae" if config.get("noise") else "ae")
    else:
        name = "cgan" if config.get("num_classes") else "dcgan"
    return create_model(name, config={**config, "weights": weights})
