"""Train autoencoders and GANs on uint8 image arrays with the shared :class:`~vision.train.Trainer`.

Both functions seed torch (weights, noise, latents) and the loader's shuffling from ``seed``, so two runs with the
same arguments give the same weights; both take trainer callbacks and ``resume=`` (a checkpoint written by a
:class:`~vision.train.ModelCheckpoint` or :meth:`Trainer.save_checkpoint <vision.train.Trainer.save_checkpoint>`)
and continue exactly where it stopped.

Example:
    >>> from vision.models.generative import load_image_arrays, train_autoencoder      # doctest: +SKIP
    >>> images, labels, names = load_image_arrays("fashion-mnist", limit=5000)
    >>> ae, history = train_autoencoder(images, epochs=5, config={"kind": "conv", "code_size": 32})
    >>> ae.reconstruct(images[:8]).shape
    (8, 28, 28)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from vision.errors import InputError, ShapeError
from vision.models.config import build_config, positive_int
from vision.models.generative.autoencoder import PRESETS as AE_PRESETS
from vision.models.generative.autoencoder import AEConfig, Autoencoder
from vision.models.generative.data import to_tensor
from vision.models.generative.gan import PRESETS as GAN_PRESETS
from vision.models.generative.gan import GAN, GANConfig

__all__ = ["image_loader", "train_autoencoder", "train_gan"]


def _infer_shape(images: Any, who: str) -> tuple[int, int]:
    """``(channels, size)`` of a uint8 batch N×S×S or N×S×S×C (checked square)."""
    arr = np.asarray(images)
    if arr.ndim == 3 and arr.shape[1] == arr.shape[2]:
        return 1, arr.shape[1]
    if arr.ndim == 4 and arr.shape[1] == arr.shape[2] and arr.shape[3] in (1, 3):
        return arr.shape[3], arr.shape[1]
    raise ShapeError(f"{who}: expected a batch of square images N×S×S (gray) or N×S×S×3 uint8; got "
                     f"{'×'.join(map(str, arr.shape))}")


def _labels(labels: Any, n: int, who: str) -> torch.Tensor:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n or (y.size and y.dtype.kind not in "iu"):
        raise ShapeError(f"{who}: expected {n} integer labels (one per image); got {y.dtype} array of shape {y.shape}")
    if y.size and y.min() < 0:
        raise InputError(f"{who}: labels must be ≥ 0; got {int(y.min())}")
    return torch.from_numpy(y.astype(np.int64))


def image_loader(images: Any, labels: Any = None, *, channels: int, size: int, batch_size: int = 128,
                 shuffle: bool = False, seed: int = 0, who: str = "image_loader") -> DataLoader:
    """A ``DataLoader`` of ``N×C×S×S`` float batches in [0, 1] (with int64 labels when given).

    Shuffling uses its own generator seeded by ``seed`` (the trainer checkpoints it, so resuming is exact).

    Raises:
        DTypeError / ShapeError: not uint8 images of ``channels`` × ``size``, or labels that do not match.
    """
    positive_int(who, "batch_size", batch_size)
    x, _ = to_tensor(images, channels=channels, size=size, who=who)
    tensors = [x] if labels is None else [x, _labels(labels, len(x), who)]
    gen = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle, generator=gen)


def _callbacks(callbacks: Sequence[Any], progress: bool) -> list[Any]:
    from vision.train.callbacks import ProgressBar

    return [*callbacks, *([ProgressBar()] if progress else [])]


def train_autoencoder(images: Any, *, val_images: Any = None, config: AEConfig | dict | None = None,
                      preset: str = "ae", epochs: int = 10, batch_size: int = 128, lr: float = 1e-3,
                      weight_decay: float = 0.0, seed: int = 0, callbacks: Sequence[Any] = (),
                      progress: bool = False, resume: str | os.PathLike[str] | None = None
                      ) -> tuple[Autoencoder, Any]:
    """Train an autoencoder (plain, denoising or variational; dense or conv) from scratch.

    Adam, :class:`~vision.models.generative.tasks.AutoencoderTask` (logs ``loss``, ``psnr``, ``kl`` for a VAE, and
    the same with ``val_`` for ``val_images``).

    Args:
        images: uint8 ``N×S×S`` (gray) or ``N×S×S×3`` training images.
        val_images: held-out images of the same layout (evaluated after each epoch), or None.
        config: model options; default the ``preset``'s with the images' size and channels. ``weights`` is
            ignored: training starts from scratch.
        preset: ``"ae"``, ``"dae"`` or ``"vae"`` (the defaults when ``config`` is None).
        epochs, batch_size, lr, weight_decay: the optimisation.
        seed: seeds the weights, the noise and the shuffling (same seed, same weights).
        callbacks: trainer callbacks (e.g. ``ModelCheckpoint``, ``SampleGrid``). progress: a progress bar.
        resume: a trainer checkpoint to continue from.

    Returns:
        ``(Autoencoder, History)``; the model is in eval mode.

    Raises:
        InputError: bad options. DTypeError / ShapeError: images that are not uint8 or do not fit the config.
    """
    from vision.models.generative.tasks import AutoencoderTask
    from vision.train import Trainer
    from vision.train.optim import make_optimizer

    who = "train_autoencoder"
    positive_int(who, "epochs", epochs)
    if preset not in AE_PRESETS:
        raise InputError(f"{who}: preset must be one of {list(AE_PRESETS)}; got {preset!r}")
    channels, size = _infer_shape(images, who)
    if config is None:
        cfg = replace(AE_PRESETS[preset], image_size=size, channels=channels)
    else:
        cfg = build_config(AEConfig, config, {}, who)
    cfg = replace(cfg, weights=None)
    torch.manual_seed(seed)
    autoencoder = Autoencoder(cfg)
    net = autoencoder.model
    train = image_loader(images, channels=cfg.channels, size=cfg.image_size, batch_size=batch_size, shuffle=True,
                         seed=seed, who=who)
    val = None if val_images is None else image_loader(val_images, channels=cfg.channels, size=cfg.image_size,
                                                       batch_size=max(batch_size, 256), who=f"{who} (val_images)")
    optimizer = make_optimizer(net, "adam", lr=lr, weight_decay=weight_decay)
    trainer = Trainer(net, AutoencoderTask.from_config(cfg), optimizer=optimizer,
                      callbacks=_callbacks(callbacks, progress))
    history = trainer.fit(train, val, epochs=epochs, resume=resume)
    net.eval()
    return autoencoder, history


def train_gan(images: Any, labels: Any = None, *, config: GANConfig | dict | None = None, names: Sequence[str] = (),
              epochs: int = 10, batch_size: int = 128, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
              label_smoothing: float = 0.0, seed: int = 0, callbacks: Sequence[Any] = (), progress: bool = False,
              resume: str | os.PathLike[str] | None = None) -> tuple[GAN, Any]:
    """Train a DCGAN (no ``labels``) or a conditional GAN (``labels`` given) from scratch with the DCGAN recipe.

    Two Adam optimizers (``lr`` 2e-4, β₁ 0.5 by default: the generator's is the trainer's own, the discriminator's
    belongs to the :class:`~vision.models.generative.tasks.GANTask`; checkpoints hold both), N(0, 0.02)
    initialisation, optional one-sided label smoothing. Logs ``loss`` (= ``d_loss + g_loss``), ``d_loss``,
    ``g_loss``, ``d_real``, ``d_fake``, ``lr``.

    Args:
        images: uint8 ``N×S×S`` (gray) or ``N×S×S×3`` training images.
        labels: N class ids for a conditional GAN, or None for a DCGAN.
        config: model options; default DCGAN / cGAN defaults with the images' size and channels and, for a cGAN,
            ``num_classes = max(labels) + 1`` (or ``len(names)``). ``weights`` is ignored.
        names: class names for a conditional GAN (optional).
        epochs, batch_size, lr, betas: the optimisation. label_smoothing: real target ``1 - label_smoothing``.
        seed: seeds the weights, the latents and the shuffling (same seed, same weights).
        callbacks: trainer callbacks (e.g. ``ModelCheckpoint``, ``SampleGrid``). progress: a progress bar.
        resume: a trainer checkpoint to continue from.

    Returns:
        ``(GAN, History)``; the model is in eval mode.

    Raises:
        InputError: bad options, labels beyond the config's classes, labels for an unconditional config or none for a
        conditional one. DTypeError / ShapeError: images that are not uint8 or do not fit the config.
    """
    from vision.models.generative.tasks import GANTask
    from vision.train import Trainer
    from vision.train.optim import make_optimizer

    who = "train_gan"
    positive_int(who, "epochs", epochs)
    channels, size = _infer_shape(images, who)
    y = None if labels is None else _labels(labels, len(np.asarray(images)), who)
    if config is None:
        if y is None:
            cfg = replace(GAN_PRESETS["dcgan"], image_size=size, channels=channels)
        else:
            k = len(names) if names else int(y.max()) + 1
            cfg = GANConfig(image_size=size, channels=channels, num_classes=k, classes=tuple(names))
    else:
        cfg = build_config(GANConfig, config, {}, who)
    cfg = replace(cfg, weights=None)
    if cfg.conditional != (y is not None):
        raise InputError(f"{who}: a {'conditional' if cfg.conditional else 'unconditional'} GAN config "
                         f"(num_classes={cfg.num_classes}) {'needs labels' if cfg.conditional else 'takes no labels'};"
                         f" got {'none' if y is None else f'{len(y)} labels'}")
    if y is not None and int(y.max()) >= cfg.num_classes:
        raise InputError(f"{who}: label {int(y.max())} is outside the config's {cfg.num_classes} classes "
                         f"(0..{cfg.num_classes - 1})")
    torch.manual_seed(seed)
    gan = GAN(cfg)
    net = gan.model
    train = image_loader(images, None if y is None else y.numpy(), channels=cfg.channels, size=cfg.image_size,
                         batch_size=batch_size, shuffle=True, seed=seed, who=who)
    g_opt = make_optimizer(net.generator, "adam", lr=lr, betas=tuple(betas))
    d_opt = make_optimizer(net.discriminator, "adam", lr=lr, betas=tuple(betas))
    task = GANTask(g_opt, d_opt, label_smoothing=label_smoothing)
    trainer = Trainer(net, task, optimizer=g_opt, callbacks=_callbacks(callbacks, progress))
    history = trainer.fit(train, epochs=epochs, resume=resume)
    net.eval()
    return gan, history
