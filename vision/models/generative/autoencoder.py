"""Autoencoders — dense and convolutional, denoising, variational — registered as ``"ae"``, ``"dae"`` and ``"vae"``.

An encoder maps an image to a code of ``code_size`` numbers and a decoder maps the code back; training makes the
reconstruction match the input. The four classic hyper-parameters are :class:`AEConfig` fields:

* ``code_size`` — the bottleneck (``compression_ratio`` = input values / code values);
* ``hidden`` — the number of layers and their sizes: for ``kind="dense"`` the nodes of each encoder layer
  (shrinking, e.g. 784 → 256 → 128 → code), mirrored by the decoder (growing back, code → 128 → 256 → 784); for
  ``kind="conv"`` the channels of each stride-2 3×3 convolution (the map halves at each: 28 → 14 → 7), then a
  dense layer to the code, mirrored by transposed convolutions;
* ``loss`` — ``"bce"`` (binary cross-entropy on pixels in [0, 1], the decoder ends in a sigmoid) or ``"mse"``.

Variants: ``noise`` > 0 makes a **denoising** autoencoder (trained to map Gaussian-noised images, σ on the [0, 1]
scale, back to the clean ones); ``variational=True`` makes a **VAE** (Kingma & Welling): the encoder gives a mean
and a log-variance, the code is sampled by the reparameterisation trick, the loss adds ``beta`` × the KL divergence
to N(0, I), and :meth:`Autoencoder.generate` decodes samples of N(0, I).

The networks are written here (a few dozen lines of ``torch.nn``) because no maintained library the suite uses
ships configurable image autoencoders.

Example:
    >>> from vision.models import create_model                          # doctest: +SKIP
    >>> dae = create_model("dae")            # the shipped Fashion-MNIST denoiser
    >>> clean = dae.denoise(noisy_images)    # N×28×28 uint8 in, N×28×28 uint8 out
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import InputError
from vision.models.config import ModelConfig, bounded_number, int_tuple, positive_int
from vision.models.files import build_with_weights, save_weights
from vision.models.generative.data import from_tensor, to_tensor
from vision.models.generative.files import AE_FORMAT
from vision.models.registry import register_model

__all__ = ["AEConfig", "AENet", "Autoencoder", "AE_KINDS", "AE_LOSSES", "ae", "dae", "vae"]

AE_KINDS = ("dense", "conv")
AE_LOSSES = ("bce", "mse")
_DEFAULT_HIDDEN = {"dense": (256, 128), "conv": (32, 64)}


_number = bounded_number  # the shared check (vision.models.config)


@dataclass(frozen=True)
class AEConfig(ModelConfig):
    """Options of :class:`Autoencoder`; JSON-serialisable.

    Attributes:
        kind: ``"dense"`` (fully connected) or ``"conv"`` (convolutional).
        image_size: input side S (images are S×S).
        channels: 1 (gray) or 3 (RGB).
        code_size: numbers in the code (the bottleneck).
        hidden: encoder layer sizes — dense: nodes per layer; conv: channels per stride-2 stage; the decoder mirrors
            them. None = ``(256, 128)`` dense, ``(32, 64)`` conv.
        loss: ``"bce"`` or ``"mse"`` reconstruction loss.
        noise: σ of the Gaussian noise (on [0, 1] images) added to the inputs in training; > 0 = denoising.
        variational: a VAE (sampled code, KL term).
        beta: weight of the KL term (VAE only; β-VAE for β > 1).
        weights: a manifest name or ``.safetensors`` path to load, or None (untrained).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    kind: str = "conv"
    image_size: int = 28
    channels: int = 1
    code_size: int = 32
    hidden: tuple[int, ...] | None = None
    loss: str = "bce"
    noise: float = 0.0
    variational: bool = False
    beta: float = 1.0
    weights: str | None = None

    def __post_init__(self) -> None:
        who = "AEConfig"
        if self.kind not in AE_KINDS:
            raise InputError(f"{who}: kind must be one of {list(AE_KINDS)}; got {self.kind!r}")
        positive_int(who, "image_size", self.image_size)
        if self.image_size < 4:
            raise InputError(f"{who}: image_size must be ≥ 4; got {self.image_size}")
        if self.channels not in (1, 3):
            raise InputError(f"{who}: channels must be 1 (gray) or 3 (RGB); got {self.channels!r}")
        positive_int(who, "code_size", self.code_size)
        hidden = _DEFAULT_HIDDEN[self.kind] if self.hidden is None else int_tuple(who, "hidden", self.hidden)
        object.__setattr__(self, "hidden", hidden)
        if self.loss not in AE_LOSSES:
            raise InputError(f"{who}: loss must be one of {list(AE_LOSSES)}; got {self.loss!r}")
        object.__setattr__(self, "noise", _number(who, "noise", self.noise, low=0.0, high=1.0))
        if not isinstance(self.variational, bool):
            raise InputError(f"{who}: variational must be True or False; got {self.variational!r}")
        object.__setattr__(self, "beta", _number(who, "beta", self.beta, low=0.0))
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"{who}: weights must be None, a weights manifest name or a .safetensors path; "
                             f"got {self.weights!r}")

    @property
    def input_size(self) -> int:
        """Values per input image (C·S·S)."""
        return self.channels * self.image_size ** 2

    @property
    def compression_ratio(self) -> float:
        """Input values per code value (C·S·S / code_size)."""
        return self.input_size / self.code_size


def _conv_sizes(size: int, stages: int) -> list[int]:
    """Spatial sizes after each stride-2, pad-1, 3×3 convolution: ceil(n / 2) per stage."""
    sizes = [size]
    for _ in range(stages):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class AENet(nn.Module):
    """The network of :class:`Autoencoder`: N×C×S×S floats in [0, 1] → ``(logits, mean, log-variance)``.

    ``logits`` are the reconstruction before the sigmoid; ``log-variance`` is None unless variational. In training
    mode a VAE decodes a sample ``mean + σ·ε``; in eval mode it decodes the mean.
    """

    def __init__(self, config: AEConfig) -> None:
        super().__init__()
        self.config = config
        c, s, hidden = config.channels, config.image_size, list(config.hidden or ())
        if config.kind == "dense":
            dims = [c * s * s, *hidden]
            enc: list[nn.Module] = [nn.Flatten()]
            for a, b in zip(dims, dims[1:]):
                enc += [nn.Linear(a, b), nn.ReLU(inplace=True)]
            feat = dims[-1]
            back = [*reversed(hidden), c * s * s]
            dec: list[nn.Module] = [nn.Linear(config.code_size, back[0])]
            for a, b in zip(back, back[1:]):
                dec += [nn.ReLU(inplace=True), nn.Linear(a, b)]
            dec.append(nn.Unflatten(1, (c, s, s)))
        else:
            sizes = _conv_sizes(s, len(hidden))
            enc, cin = [], c
            for w in hidden:
                enc += [nn.Conv2d(cin, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                cin = w
            enc.append(nn.Flatten())
            feat = hidden[-1] * sizes[-1] ** 2
            dec = [nn.Linear(config.code_size, feat), nn.ReLU(inplace=True),
                   nn.Unflatten(1, (hidden[-1], sizes[-1], sizes[-1]))]
            chans = [*reversed(hidden), c]
            rev = sizes[::-1]
            for i, (a, b) in enumerate(zip(chans, chans[1:])):
                pad = rev[i + 1] - (2 * rev[i] - 1)  # output size (n-1)·2 - 2 + 3 + pad = target
                dec.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=pad,
                                              bias=i == len(hidden) - 1))
                if i < len(hidden) - 1:
                    dec += [nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
        self.encoder = nn.Sequential(*enc)
        self.to_mean = nn.Linear(feat, config.code_size)
        self.to_logvar = nn.Linear(feat, config.code_size) if config.variational else None
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(mean code, log-variance or None)`` for images in [0, 1]."""
        h = self.encoder((x - 0.5) / 0.5)
        return self.to_mean(h), (self.to_logvar(h) if self.to_logvar is not None else None)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits (apply ``sigmoid`` for pixels in [0, 1]) for codes ``z``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        mean, logvar = self.encode(x)
        z = mean
        if logvar is not None and self.training:
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)  # the reparameterisation trick
        return self.decode(z), mean, logvar


#: the default config of each registered name
PRESETS: dict[str, AEConfig] = {
    "ae": AEConfig(code_size=8, weights="conv-ae-fmnist"),
    "dae": AEConfig(code_size=64, noise=0.2, weights="dae-fmnist"),
    "vae": AEConfig(variational=True, code_size=16),
}


class Autoencoder:
    """An autoencoder (dense / conv, denoising, variational) with uint8 image methods.

    Args:
        config: an :class:`AEConfig` or its ``to_dict()``; default the ``preset``'s.
        preset: ``"ae"``, ``"dae"`` or ``"vae"`` — the registered name whose defaults apply.
        **overrides: config fields to replace. With ``weights=`` (or a preset's default weights) and no explicit
            config, the architecture stored in the file is used.

    Attributes:
        config, model (the :class:`AENet`, in eval mode), compression_ratio.

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: a corrupt file or
        one of another format / architecture.
    """

    task = "generate"

    def __init__(self, config: AEConfig | dict | None = None, *, preset: str = "ae", **overrides: Any) -> None:
        self.config, self.model = build_with_weights("Autoencoder", AEConfig, AENet, PRESETS, preset, config,
                                                     overrides, AE_FORMAT)

    # ------------------------------------------------------------------------------------------ properties
    @property
    def compression_ratio(self) -> float:
        """Input values per code value: C·S·S / code_size (e.g. 784 / 32 = 24.5)."""
        return self.config.compression_ratio

    def _input(self, images: Any, who: str) -> tuple[torch.Tensor, bool]:
        return to_tensor(images, channels=self.config.channels, size=self.config.image_size, who=f"{who}")

    def _batches(self, x: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
        positive_int("Autoencoder", "batch_size", batch_size)
        return list(torch.split(x, batch_size))

    # ------------------------------------------------------------------------------------------ inference
    def encode(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """The codes (a VAE's means) of uint8 images: ``N×code_size`` float32 (``code_size`` for one image).

        Raises:
            DTypeError / ShapeError: not uint8 images of the model's size and channels.
        """
        x, single = self._input(images, "Autoencoder.encode")
        self.model.eval()
        with torch.inference_mode():
            codes = torch.cat([self.model.encode(b)[0] for b in self._batches(x, batch_size)])
        out = codes.float().numpy()
        return out[0] if single else out

    def decode(self, codes: Any, *, batch_size: int = 256) -> np.ndarray:
        """uint8 images decoded from ``N×code_size`` codes (one image for a ``code_size`` vector).

        Raises:
            ShapeError: codes of another length. InputError: not finite numbers.
        """
        from vision.errors import ShapeError

        z = np.asarray(codes, dtype=np.float32)
        single = z.ndim == 1
        z = z[None] if single else z
        if z.ndim != 2 or z.shape[1] != self.config.code_size or len(z) == 0:
            raise ShapeError(f"Autoencoder.decode: expected N×{self.config.code_size} codes (N ≥ 1); got "
                             f"{'×'.join(map(str, np.asarray(codes).shape))}")
        if not np.isfinite(z).all():
            raise InputError("Autoencoder.decode: codes must be finite numbers; got NaN or infinity")
        self.model.eval()
        with torch.inference_mode():
            out = torch.cat([torch.sigmoid(self.model.decode(b))
                             for b in self._batches(torch.from_numpy(z), batch_size)])
        return from_tensor(out, single=single)

    def _reconstruct(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        self.model.eval()
        with torch.inference_mode():
            return torch.cat([torch.sigmoid(self.model(b)[0]) for b in self._batches(x, batch_size)])

    def reconstruct(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """Encode then decode: uint8 images of the input's layout.

        Raises:
            DTypeError / ShapeError: not uint8 images of the model's size and channels.
        """
        x, single = self._input(images, "Autoencoder.reconstruct")
        return from_tensor(self._reconstruct(x, batch_size), single=single)

    def denoise(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """Noisy uint8 images → cleaned ones (the reconstruction; meant for a denoising autoencoder, ``noise`` > 0).

        Raises:
            DTypeError / ShapeError: not uint8 images of the model's size and channels.
        """
        x, single = self._input(images, "Autoencoder.denoise")
        return from_tensor(self._reconstruct(x, batch_size), single=single)

    def anomaly_scores(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """Reconstruction error per image: the mean squared difference on the [0, 1] scale (float64, N).

        Images unlike the training data reconstruct worse, so a higher score means more anomalous; see
        :func:`~vision.models.generative.tools.anomaly_report` for a threshold and ROC AUC.

        Raises:
            DTypeError / ShapeError: not uint8 images of the model's size and channels.
        """
        x, single = self._input(images, "Autoencoder.anomaly_scores")
        err = (self._reconstruct(x, batch_size) - x).pow(2).flatten(1).mean(dim=1).double().numpy()
        return err[0] if single else err

    def generate(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` new images decoded from codes drawn from N(0, I) (a VAE only).

        Args:
            n: how many (≥ 1). seed: seeds the draw (same seed, same images); None = random.

        Returns:
            ``n×S×S`` (gray) or ``n×S×S×3`` uint8.

        Raises:
            InputError: n < 1, or a model that is not variational (a plain autoencoder's codes have no prior to
            sample from).
        """
        positive_int("Autoencoder.generate", "n", n)
        if not self.config.variational:
            raise InputError("Autoencoder.generate: this autoencoder is not variational (its codes have no prior to "
                             "sample); expected a VAE (create_model('vae') or variational=True)")
        gen = torch.Generator()
        gen.manual_seed(int(seed)) if seed is not None else gen.seed()
        z = torch.randn(n, self.config.code_size, generator=gen)
        return self.decode(z.numpy())

    def interpolate(self, a: Any, b: Any, *, steps: int = 8) -> np.ndarray:
        """Images decoded along the straight line between the codes of images ``a`` and ``b`` (both ends included).

        Raises:
            InputError: steps < 2. DTypeError / ShapeError: ``a`` or ``b`` is not one uint8 image of the model's
            size and channels.
        """
        positive_int("Autoencoder.interpolate", "steps", steps)
        if steps < 2:
            raise InputError(f"Autoencoder.interpolate: steps must be ≥ 2 (both ends); got {steps}")
        za, zb = (np.asarray(self.encode(im)).reshape(-1, self.config.code_size) for im in (a, b))
        if len(za) != 1 or len(zb) != 1:
            raise InputError(f"Autoencoder.interpolate: expected one image each for a and b; got {len(za)} and "
                             f"{len(zb)}")
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        return self.decode((1 - t) * za + t * zb)

    # ------------------------------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str], *, half: bool = True) -> Path:
        """Write the weights (fp16 by default) with the config as a safetensors file (read by
        :func:`~vision.models.generative.files.load_generative` or ``weights=PATH``)."""
        return save_weights(self.model, path, fmt=AE_FORMAT, config=self.config, half=half)

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.model.parameters())
        c = self.config
        kind = "VAE" if c.variational else ("denoising" if c.noise else "plain")
        return (f"Autoencoder({c.kind}, {kind}, code_size={c.code_size}, hidden={list(c.hidden or ())}, "
                f"compression={c.compression_ratio:.1f}x, params={params}, weights={c.weights!r})")


def untrained(config: AEConfig) -> AEConfig:
    """``config`` without weights (what training starts from)."""
    return replace(config, weights=None)


@register_model("ae", task="generate", weights="conv-ae-fmnist")
def ae(config: AEConfig | dict | None = None, **overrides: Any) -> Autoencoder:
    """Autoencoder (dense or convolutional); default: the shipped Fashion-MNIST conv autoencoder."""
    return Autoencoder(config, preset="ae", **overrides)


@register_model("dae", task="generate", weights="dae-fmnist")
def dae(config: AEConfig | dict | None = None, **overrides: Any) -> Autoencoder:
    """Denoising autoencoder; default: the shipped Fashion-MNIST denoiser (trained at σ = 0.2 on [0, 1])."""
    return Autoencoder(config, preset="dae", **overrides)


@register_model("vae", task="generate")
def vae(config: AEConfig | dict | None = None, **overrides: Any) -> Autoencoder:
    """Variational autoencoder (reparameterised code, KL + reconstruction loss, β option); untrained by default."""
    return Autoencoder(config, preset="vae", **overrides)
