"""DCGAN and a class-conditional GAN, registered as ``"dcgan"`` and ``"cgan"``.

**DCGAN** (Radford, Metz & Chintala, 2016), at a CPU-sized width:

* generator: the latent vector z (``latent_dim`` numbers from N(0, I)) → a transposed convolution to a
  ``widths[0]``×s₀×s₀ map, then stride-2 transposed convolutions doubling the side (``widths[1:]`` channels), each
  with batch normalisation and ReLU, and a last one to the image's channels with ``tanh`` (pixels in [-1, 1]);
* discriminator: the mirror — stride-2 convolutions (no pooling) with LeakyReLU(0.2), batch normalisation on all
  but the first, and a last s₀×s₀ convolution to one logit ("real");
* the paper's stabilisers: weights drawn from N(0, 0.02) (batch-norm scales from N(1, 0.02)), Adam with lr 2e-4 and
  β₁ = 0.5 (:func:`~vision.models.generative.training.train_gan`), optional one-sided label smoothing.

**Conditional GAN** (Mirza & Osindero, 2014): with ``num_classes`` > 0 a learned class embedding is concatenated to
z in the generator, and another (one S×S plane per class) to the discriminator's input image, so both see the
class; :meth:`GAN.generate` takes ``labels``.

The networks are written here because no maintained library the suite uses ships DCGAN modules (torchvision has
none; the PyTorch DCGAN is an example script, not a package).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import InputError, ShapeError
from vision.models.config import ModelConfig, int_tuple, positive_int
from vision.models.files import build_with_weights, save_weights
from vision.models.generative.data import from_tensor, to_tensor
from vision.models.generative.files import GAN_FORMAT
from vision.models.registry import register_model

__all__ = ["Discriminator", "GAN", "GANConfig", "GANNet", "Generator", "cgan", "dcgan", "dcgan_init"]


@dataclass(frozen=True)
class GANConfig(ModelConfig):
    """Options of :class:`GAN`; JSON-serialisable.

    Attributes:
        latent_dim: numbers in z.
        image_size: image side S; must be a multiple of ``2 ** len(widths)`` (28 with two widths: 7 → 14 → 28).
        channels: 1 (gray) or 3 (RGB).
        widths: generator channels from the smallest map up (the discriminator uses them in reverse).
        num_classes: 0 for an unconditional DCGAN; > 0 for a class-conditional GAN.
        classes: class names (empty, or ``num_classes`` unique names).
        embed_dim: size of the generator's class embedding (conditional only).
        weights: a manifest name or ``.safetensors`` path to load, or None (untrained).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    latent_dim: int = 64
    image_size: int = 28
    channels: int = 1
    widths: tuple[int, ...] = (64, 32)
    num_classes: int = 0
    classes: tuple[str, ...] = ()
    embed_dim: int = 16
    weights: str | None = None

    def __post_init__(self) -> None:
        who = "GANConfig"
        for name in ("latent_dim", "image_size", "embed_dim"):
            positive_int(who, name, getattr(self, name))
        if self.channels not in (1, 3):
            raise InputError(f"{who}: channels must be 1 (gray) or 3 (RGB); got {self.channels!r}")
        widths = int_tuple(who, "widths", self.widths)
        object.__setattr__(self, "widths", widths)
        step = 2 ** len(widths)
        if self.image_size % step:
            raise InputError(f"{who}: image_size must be a multiple of 2**len(widths) = {step} (each width doubles "
                             f"the side); got image_size={self.image_size} with widths {list(widths)}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise InputError(f"{who}: num_classes must be an integer ≥ 0 (0 = unconditional); got "
                             f"{self.num_classes!r}")
        classes = self.classes
        if isinstance(classes, str) or not isinstance(classes, (tuple, list)) \
                or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes) \
                or (classes and len(classes) != self.num_classes):
            raise InputError(f"{who}: classes must be empty or {self.num_classes} unique names (one per class); "
                             f"got {classes!r}")
        object.__setattr__(self, "classes", tuple(classes))
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"{who}: weights must be None, a weights manifest name or a .safetensors path; "
                             f"got {self.weights!r}")

    @property
    def conditional(self) -> bool:
        """Whether the GAN is class-conditional."""
        return self.num_classes > 0

    @property
    def base_size(self) -> int:
        """Side s₀ of the generator's first map."""
        return self.image_size // 2 ** len(self.widths)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv / linear weights from N(0, 0.02), batch-norm scales from N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """z (N×latent_dim) [+ class ids] → images N×C×S×S in [-1, 1]."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        w = config.widths
        self.embed = nn.Embedding(config.num_classes, config.embed_dim) if config.conditional else None
        zin = config.latent_dim + (config.embed_dim if config.conditional else 0)
        layers: list[nn.Module] = [nn.ConvTranspose2d(zin, w[0], config.base_size, bias=False),
                                   nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True)]
        for a, b in zip(w, w[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(b),
                       nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(w[-1], config.channels, 4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """Images N×C×S×S in [-1, 1] [+ class ids] → N "real" logits."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        s = config.image_size
        self.size = s
        self.embed = nn.Embedding(config.num_classes, s * s) if config.conditional else None
        w = config.widths[::-1]
        cin = config.channels + (1 if config.conditional else 0)
        layers: list[nn.Module] = [nn.Conv2d(cin, w[0], 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        for a, b in zip(w, w[1:]):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(b),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Conv2d(w[-1], 1, config.base_size), nn.Flatten()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            x = torch.cat([x, self.embed(labels).view(-1, 1, self.size, self.size)], dim=1)
        return self.net(x)[:, 0]


class GANNet(nn.Module):
    """Generator and discriminator in one module (what the trainer and its checkpoints hold)."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Generated images in [-1, 1]."""
        return self.generator(z, labels)


#: the default config of each registered name
PRESETS: dict[str, GANConfig] = {
    "dcgan": GANConfig(weights="dcgan-fmnist"),
    "cgan": GANConfig(num_classes=10, classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                               "Shirt", "Sneaker", "Bag", "Ankle boot"), weights="cgan-fmnist"),
}


class GAN:
    """A trained (or untrained) DCGAN / conditional GAN with uint8 image methods.

    Args:
        config: a :class:`GANConfig` or its ``to_dict()``; default the ``preset``'s.
        preset: ``"dcgan"`` or ``"cgan"`` — the registered name whose defaults apply.
        **overrides: config fields to replace. With ``weights=`` (or a preset's default weights) and no explicit
            config, the architecture stored in the file is used.

    Attributes:
        config, model (the :class:`GANNet`, in eval mode), names (the class names, conditional only).

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: a corrupt file or
        one of another format / architecture.
    """

    task = "generate"

    def __init__(self, config: GANConfig | dict | None = None, *, preset: str = "dcgan", **overrides: Any) -> None:
        self.config, self.model = build_with_weights("GAN", GANConfig, GANNet, PRESETS, preset, config, overrides,
                                                     GAN_FORMAT)

    @property
    def names(self) -> tuple[str, ...]:
        """Class names (``"0"``, ``"1"``, … when the config has none); empty for an unconditional GAN."""
        c = self.config
        return c.classes or tuple(str(i) for i in range(c.num_classes))

    def labels(self, labels: Any, n: int, who: str = "GAN.generate") -> torch.Tensor | None:
        """Class ids for ``n`` samples: None → 0, 1, …, C-1, 0, … (balanced); an id or name → all that class; a
        sequence of ``n`` ids or names. None for an unconditional GAN.

        Raises:
            InputError: labels for an unconditional GAN, an unknown name, an id out of range, a wrong count.
        """
        c = self.config
        if not c.conditional:
            if labels is not None:
                raise InputError(f"{who}: this GAN is unconditional (num_classes=0); got labels={labels!r}, "
                                 "expected None")
            return None
        if labels is None:
            return torch.arange(n) % c.num_classes
        items = [labels] * n if isinstance(labels, (int, np.integer, str)) else list(labels)
        if len(items) != n:
            raise InputError(f"{who}: expected one label per sample ({n}); got {len(items)}")
        ids = []
        for item in items:
            if isinstance(item, str):
                if item not in self.names:
                    raise InputError(f"{who}: unknown class {item!r}; expected one of {list(self.names)}")
                ids.append(self.names.index(item))
            elif isinstance(item, (int, np.integer)) and not isinstance(item, bool) and 0 <= item < c.num_classes:
                ids.append(int(item))
            else:
                raise InputError(f"{who}: class ids must be integers in 0..{c.num_classes - 1} or names "
                                 f"{list(self.names)}; got {item!r}")
        return torch.tensor(ids, dtype=torch.int64)

    def latents(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n×latent_dim`` float32 draws of z from N(0, I) (same seed, same draws).

        Raises:
            InputError: n < 1.
        """
        positive_int("GAN.latents", "n", n)
        gen = torch.Generator()
        gen.manual_seed(int(seed)) if seed is not None else gen.seed()
        return torch.randn(n, self.config.latent_dim, generator=gen).numpy()

    def decode(self, z: Any, *, labels: Any = None, batch_size: int = 256) -> np.ndarray:
        """uint8 images generated from latent vectors ``z`` (``N×latent_dim``, or one vector → one image).

        Raises:
            ShapeError: z of another length. InputError: non-finite z, or bad labels (see :meth:`labels`).
        """
        arr = np.asarray(z, dtype=np.float32)
        single = arr.ndim == 1
        arr = arr[None] if single else arr
        if arr.ndim != 2 or arr.shape[1] != self.config.latent_dim or len(arr) == 0:
            raise ShapeError(f"GAN.decode: expected N×{self.config.latent_dim} latent vectors (N ≥ 1); got "
                             f"{'×'.join(map(str, np.asarray(z).shape))}")
        if not np.isfinite(arr).all():
            raise InputError("GAN.decode: latent vectors must be finite numbers; got NaN or infinity")
        positive_int("GAN.decode", "batch_size", batch_size)
        ids = self.labels(labels, len(arr), "GAN.decode")
        self.model.eval()
        out = []
        with torch.inference_mode():
            for s in range(0, len(arr), batch_size):
                part = torch.from_numpy(arr[s:s + batch_size])
                y = ids[s:s + batch_size] if ids is not None else None
                out.append((self.model.generator(part, y) + 1) / 2)
        return from_tensor(torch.cat(out), single=single)

    def generate(self, n: int, *, seed: int | None = None, labels: Any = None) -> np.ndarray:
        """``n`` new images.

        Args:
            n: how many (≥ 1).
            seed: seeds z (same seed, same images); None = random.
            labels: conditional GAN only — None (classes in turn), one class id / name, or ``n`` of them.

        Returns:
            ``n×S×S`` (gray) or ``n×S×S×3`` uint8.

        Raises:
            InputError: n < 1, or bad labels (see :meth:`labels`).
        """
        positive_int("GAN.generate", "n", n)
        return self.decode(self.latents(n, seed=seed), labels=labels)

    def interpolate(self, a: Any, b: Any, *, steps: int = 8, label: Any = None) -> np.ndarray:
        """Images along the straight line from latent ``a`` to latent ``b`` (both ends included).

        Args:
            a, b: an integer seed (its first :meth:`latents` draw) or a ``latent_dim`` vector.
            steps: images (≥ 2). label: the class of every image (conditional only; default class 0).

        Raises:
            InputError: steps < 2, bad seeds or vectors, bad label.
        """
        positive_int("GAN.interpolate", "steps", steps)
        if steps < 2:
            raise InputError(f"GAN.interpolate: steps must be ≥ 2 (both ends); got {steps}")

        def point(v: Any) -> np.ndarray:
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                return self.latents(1, seed=int(v))[0]
            arr = np.asarray(v, dtype=np.float32)
            if arr.shape != (self.config.latent_dim,):
                raise InputError(f"GAN.interpolate: a and b must be integer seeds or {self.config.latent_dim}-vectors;"
                                 f" got {type(v).__name__} of shape {arr.shape}")
            return arr

        za, zb = point(a), point(b)
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        if label is None and self.config.conditional:
            label = 0
        return self.decode((1 - t) * za + t * zb, labels=label)

    def discriminate(self, images: Any, *, labels: Any = None) -> np.ndarray:
        """The discriminator's probability that each uint8 image is real (float64, N).

        Raises:
            DTypeError / ShapeError: not uint8 images of the model's size and channels. InputError: bad labels.
        """
        x, single = to_tensor(images, channels=self.config.channels, size=self.config.image_size,
                              who="GAN.discriminate")
        ids = self.labels(labels, len(x), "GAN.discriminate")
        self.model.eval()
        with torch.inference_mode():
            p = torch.sigmoid(self.model.discriminator(x * 2 - 1, ids)).double().numpy()
        return p[0] if single else p

    def save(self, path: str | os.PathLike[str], *, half: bool = True) -> Path:
        """Write the weights (fp16 by default) with the config as a safetensors file."""
        return save_weights(self.model, path, fmt=GAN_FORMAT, config=self.config, half=half)

    def __repr__(self) -> str:
        g = sum(p.numel() for p in self.model.generator.parameters())
        d = sum(p.numel() for p in self.model.discriminator.parameters())
        kind = f"conditional, {self.config.num_classes} classes" if self.config.conditional else "DCGAN"
        return (f"GAN({kind}, latent_dim={self.config.latent_dim}, widths={list(self.config.widths)}, "
                f"generator params={g}, discriminator params={d}, weights={self.config.weights!r})")


@register_model("dcgan", task="generate", weights="dcgan-fmnist")
def dcgan(config: GANConfig | dict | None = None, **overrides: Any) -> GAN:
    """DCGAN (unconditional); default: the shipped Fashion-MNIST generator."""
    return GAN(config, preset="dcgan", **overrides)


@register_model("cgan", task="generate", weights="cgan-fmnist")
def cgan(config: GANConfig | dict | None = None, **overrides: Any) -> GAN:
    """Class-conditional GAN (class embedding on z and on the discriminator's input); default: the shipped
    Fashion-MNIST one (10 classes)."""
    return GAN(config, preset="cgan", **overrides)
