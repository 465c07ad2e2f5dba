"""Training tasks of the generative models for the shared :class:`~vision.train.Trainer`, and a sample-sheet callback.

* :class:`AutoencoderTask` — one backward pass per batch like any task: reconstruction loss (BCE or MSE) of the
  clean image from the (optionally noised) input, plus β·KL for a VAE; metrics ``psnr`` (mean per-image PSNR of
  the reconstruction against the clean image, dB on the [0, 1] scale) and ``kl`` for a VAE.
* :class:`GANTask` — a manual-optimisation task (:attr:`vision.train.Task.manual_optimization`): each batch makes
  one discriminator step (real vs generated, optional one-sided label smoothing) then one generator step
  (non-saturating loss), each with its own optimizer. The generator's optimizer is the trainer's ``optimizer`` (its
  rate is the logged ``lr``, a schedule steps it, checkpoints hold it); the discriminator's is saved through
  :meth:`GANTask.state_dict`, so a checkpoint resumes both exactly. Metrics: ``d_loss``, ``g_loss`` and the mean
  discriminator outputs ``d_real``, ``d_fake``; ``loss`` is ``d_loss + g_loss``.
* :class:`SampleGrid` — writes a sheet of generated samples (fixed latents) after every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vision.errors import InputError, ShapeError
from vision.train.callbacks import Callback
from vision.train.task import MetricAccumulator, StepOutput, Task

__all__ = ["AutoencoderTask", "GANTask", "SampleGrid"]


def _images(batch: Any, who: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(x, y or None)`` from a batch ``x`` or ``(x, y)``; x must be N×C×H×W floats."""
    y = None
    if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)):
        if len(batch) == 2:
            batch, y = batch
        elif len(batch) == 1:
            batch = batch[0]
    if not isinstance(batch, torch.Tensor) or batch.ndim != 4 or not batch.is_floating_point():
        got = f"{tuple(batch.shape)} {batch.dtype}" if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise ShapeError(f"{who}: expected a batch of N×C×H×W float images in [0, 1] (or (images, labels)); got {got}")
    return batch, y


class _MeanAccumulator(MetricAccumulator):
    """Batch-size-weighted means of named scalars in ``StepOutput.outputs["metrics"]``."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def update(self, out: StepOutput) -> None:
        for name, value in out.outputs["metrics"].items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value) * out.batch_size
        self.count += out.batch_size

    def state(self) -> Any:
        return dict(self.sums), self.count

    def merge(self, states: list[Any]) -> None:
        self.sums, self.count = {}, 0
        for sums, count in (s for s in states if s is not None):
            for k, v in sums.items():
                self.sums[k] = self.sums.get(k, 0.0) + v
            self.count += count

    def compute(self) -> dict[str, float]:
        return {k: v / self.count for k, v in self.sums.items()} if self.count else {}


class AutoencoderTask(Task):
    """Reconstruction (and, for a VAE, KL) loss for :class:`~vision.models.generative.autoencoder.AENet`.

    Args:
        loss: ``"bce"`` or ``"mse"``.
        noise: σ of Gaussian noise (on [0, 1]) added to the inputs, in training and evaluation alike (the
            validation PSNR then measures denoising); the target is always the clean image.
        beta: weight of the KL term of a VAE (ignored otherwise). The loss is per pixel, so the KL sum is divided
            by the values per image (the ELBO scaled by 1 / C·H·W).

    Raises:
        InputError: a bad option.
    """

    metric_names = ("psnr", "kl")

    def __init__(self, *, loss: str = "bce", noise: float = 0.0, beta: float = 1.0) -> None:
        if loss not in ("bce", "mse"):
            raise InputError(f"AutoencoderTask: loss must be 'bce' or 'mse'; got {loss!r}")
        for name, v in (("noise", noise), ("beta", beta)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InputError(f"AutoencoderTask: {name} must be a number ≥ 0; got {v!r}")
        self.loss, self.noise, self.beta = loss, float(noise), float(beta)

    @classmethod
    def from_config(cls, config: Any) -> AutoencoderTask:
        """The task an :class:`~vision.models.generative.autoencoder.AEConfig` trains with."""
        return cls(loss=config.loss, noise=config.noise, beta=config.beta)

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        x, _ = _images(batch, "AutoencoderTask")
        inp = (x + self.noise * torch.randn_like(x)).clamp_(0.0, 1.0) if self.noise > 0 else x
        logits, mean, logvar = model(inp)
        recon = torch.sigmoid(logits)
        if self.loss == "bce":
            loss = F.binary_cross_entropy_with_logits(logits, x)
        else:
            loss = F.mse_loss(recon, x)
        metrics: dict[str, float] = {}
        if logvar is not None:
            kl = (-0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(dim=1)).mean()
            loss = loss + self.beta * kl / x[0].numel()
            metrics["kl"] = float(kl.detach())
        with torch.no_grad():
            mse = (recon.detach().float() - x.float()).pow(2).flatten(1).mean(dim=1).clamp_min(1e-10)
            metrics["psnr"] = float((-10.0 * torch.log10(mse)).mean())
        return StepOutput(loss=loss, outputs={"recon": recon, "metrics": metrics}, targets=x, batch_size=len(x))

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """Reconstructions in [0, 1] of ``x`` or of the ``x`` of an ``(x, y)`` batch."""
        x, _ = _images(batch, "AutoencoderTask")
        return torch.sigmoid(model(x)[0])

    def metrics(self) -> MetricAccumulator:
        """Accumulates ``psnr`` (and ``kl`` for a VAE)."""
        return _MeanAccumulator()


class GANTask(Task):
    """Alternating discriminator / generator updates for :class:`~vision.models.generative.gan.GANNet`.

    Args:
        g_optimizer: the generator's optimizer — pass the same object as the :class:`~vision.train.Trainer`'s
            ``optimizer``.
        d_optimizer: the discriminator's optimizer (checkpointed by this task).
        label_smoothing: one-sided smoothing: the discriminator's target for real images is ``1 - label_smoothing``
            (Salimans et al., 2016); 0 = none.

    Raises:
        InputError: optimizers of the wrong type, or smoothing outside [0, 0.5].
    """

    manual_optimization = True
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer, *,
                 label_smoothing: float = 0.0) -> None:
        for name, opt in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer)):
            if not isinstance(opt, torch.optim.Optimizer):
                raise InputError(f"GANTask: {name} must be a torch.optim.Optimizer; got {type(opt).__name__}")
        if g_optimizer is d_optimizer:
            raise InputError("GANTask: g_optimizer and d_optimizer must be two optimizers (one per network); got the "
                             "same object twice")
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0.0 <= label_smoothing <= 0.5:
            raise InputError(f"GANTask: label_smoothing must be a number in [0, 0.5]; got {label_smoothing!r}")
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.label_smoothing = float(label_smoothing)

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        x, y = _images(batch, "GANTask")
        config = model.config
        if config.conditional and y is None:
            raise InputError("GANTask: a conditional GAN needs (images, labels) batches; got images only")
        labels = y if config.conditional else None
        gen, disc = model.generator, model.discriminator
        n = len(x)
        real = x * 2 - 1
        z = torch.randn(n, config.latent_dim, device=x.device)
        fake = gen(z, labels)
        ones = torch.ones(n, device=x.device)
        zeros = torch.zeros(n, device=x.device)
        # discriminator: real → 1 - smoothing, generated → 0 (the generator's graph is cut by detach)
        d_real = disc(real, labels)
        d_fake = disc(fake.detach(), labels)
        d_loss = F.binary_cross_entropy_with_logits(d_real, ones - self.label_smoothing) \
            + F.binary_cross_entropy_with_logits(d_fake, zeros)
        if train:
            self.d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_optimizer.step()
        # generator: make the (just updated) discriminator call its images real (the non-saturating loss)
        disc.requires_grad_(False)
        try:
            g_loss = F.binary_cross_entropy_with_logits(disc(fake, labels), ones)
            if train:
                self.g_optimizer.zero_grad(set_to_none=True)
                g_loss.backward()
                self.g_optimizer.step()
        finally:
            disc.requires_grad_(True)
        metrics = {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
                   "d_real": float(torch.sigmoid(d_real.detach()).mean()),
                   "d_fake": float(torch.sigmoid(d_fake.detach()).mean())}
        return StepOutput(loss=(d_loss + g_loss).detach(), outputs={"fake": fake.detach(), "metrics": metrics},
                          targets=y, batch_size=n)

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """The discriminator's "real" logits for ``x`` (or ``(x, y)``) images in [0, 1]."""
        x, y = _images(batch, "GANTask")
        return model.discriminator(x * 2 - 1, y if model.config.conditional else None)

    def metrics(self) -> MetricAccumulator:
        """Accumulates ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``."""
        return _MeanAccumulator()

    def state_dict(self) -> dict[str, Any]:
        """The discriminator optimizer's state (the generator's is the trainer's own)."""
        return {"d_optimizer": self.d_optimizer.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the discriminator optimizer's state.

        Raises:
            KeyError / ValueError: the state does not fit (the trainer reports it as an InputError).
        """
        self.d_optimizer.load_state_dict(state["d_optimizer"])


class SampleGrid(Callback):
    """After each epoch, write a sheet of samples from fixed latents (so sheets of successive epochs compare).

    Works with a :class:`~vision.models.generative.gan.GANNet` (a conditional one cycles through the classes) and a
    variational :class:`~vision.models.generative.autoencoder.AENet`; for a plain autoencoder give ``images`` and
    the sheet shows them above their reconstructions. The latents come from a private generator seeded by
    ``seed``: the training's random streams are not touched.

    Args:
        path_template: PNG path, ``str.format`` ted with ``epoch`` (e.g. ``"samples/epoch{epoch:03d}.png"``).
        n: samples per sheet. seed: seeds the fixed latents. every: write every ``every`` epochs.
        images: uint8 images to reconstruct (plain autoencoders).

    Attributes:
        saved: the paths written.

    Raises:
        InputError: bad options; at an epoch end, a model this callback cannot sample.
    """

    main_process_only = True

    def __init__(self, path_template: str = "samples/epoch{epoch:03d}.png", *, n: int = 64, seed: int = 0,
                 every: int = 1, images: Any = None) -> None:
        from vision.models.config import positive_int

        if not isinstance(path_template, (str, Path)) or not str(path_template).lower().endswith(".png"):
            raise InputError(f"SampleGrid: path_template must be a .png path template; got {path_template!r}")
        positive_int("SampleGrid", "n", n)
        positive_int("SampleGrid", "every", every)
        self.path_template, self.n, self.seed, self.every, self.images = str(path_template), n, seed, every, images
        self.saved: list[str] = []

    def sample(self, model: nn.Module) -> Any:
        """The sheet for ``model`` now, as a uint8 image."""
        from vision.models.generative.autoencoder import AENet
        from vision.models.generative.data import from_tensor, image_grid, to_tensor
        from vision.models.generative.gan import GANNet

        gen = torch.Generator().manual_seed(self.seed)
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                if isinstance(model, GANNet):
                    z = torch.randn(self.n, model.config.latent_dim, generator=gen).to(device)
                    y = (torch.arange(self.n) % model.config.num_classes).to(device) \
                        if model.config.conditional else None
                    out = (model.generator(z, y) + 1) / 2
                elif isinstance(model, AENet) and model.config.variational and self.images is None:
                    z = torch.randn(self.n, model.config.code_size, generator=gen).to(device)
                    out = torch.sigmoid(model.decode(z))
                elif isinstance(model, AENet) and self.images is not None:
                    x, _ = to_tensor(self.images, channels=model.config.channels, size=model.config.image_size,
                                     who="SampleGrid")
                    x = x[:self.n].to(device)
                    out = torch.cat([x, torch.sigmoid(model(x)[0])])
                    return image_grid(from_tensor(out), cols=len(x))
                else:
                    raise InputError(f"SampleGrid: cannot sample a {type(model).__name__} without images=; expected "
                                     "a GANNet, a variational AENet, or images= for an autoencoder")
        finally:
            model.train(was_training)
        return image_grid(from_tensor(out))

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, float]) -> None:
        from vision.io import write_image

        if epoch % self.every:
            return
        path = Path(self.path_template.format(epoch=epoch))
        write_image(path, self.sample(trainer.model))
        self.saved.append(str(path))

    def state_dict(self) -> dict[str, Any]:
        return {"saved": list(self.saved)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.saved = list(state.get("saved", []))
