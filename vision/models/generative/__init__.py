"""Generative models: autoencoders (dense, convolutional, denoising, variational) and GANs (DCGAN, conditional),
trained with the shared :class:`~vision.train.Trainer`, and their uses as tools.

* :mod:`~vision.models.generative.autoencoder` — :class:`AEConfig`, :class:`Autoencoder` (registered ``"ae"``,
  ``"dae"``, ``"vae"``): ``encode`` / ``decode`` / ``reconstruct`` / ``denoise`` / ``anomaly_scores`` /
  ``generate`` (VAE) / ``interpolate`` / ``save``.
* :mod:`~vision.models.generative.gan` — :class:`GANConfig`, :class:`GAN` (registered ``"dcgan"``, ``"cgan"``):
  ``generate(n, seed=, labels=)`` / ``interpolate`` / ``discriminate`` / ``save``.
* :mod:`~vision.models.generative.training` — :func:`train_autoencoder`, :func:`train_gan` (``→ (model, History)``).
* :mod:`~vision.models.generative.tasks` — :class:`AutoencoderTask`, :class:`GANTask` (manual optimisation: two
  optimizers in the trainer's loop), :class:`SampleGrid` (a sample sheet per epoch).
* :mod:`~vision.models.generative.tools` — :func:`code_scatter`, :func:`anomaly_report`, :func:`sample_quality`,
  :func:`train_quality_classifier` (FID: not available offline, see that module).
* :mod:`~vision.models.generative.data` — :func:`load_image_arrays` (Fashion-MNIST, digits, an image folder),
  :func:`image_grid`; :mod:`~vision.models.generative.files` — :func:`load_generative`.

Names load on first use: importing this package imports no torch code.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "AEConfig": "vision.models.generative.autoencoder",
    "AENet": "vision.models.generative.autoencoder",
    "Autoencoder": "vision.models.generative.autoencoder",
    "GANConfig": "vision.models.generative.gan",
    "GANNet": "vision.models.generative.gan",
    "GAN": "vision.models.generative.gan",
    "train_autoencoder": "vision.models.generative.training",
    "train_gan": "vision.models.generative.training",
    "AutoencoderTask": "vision.models.generative.tasks",
    "GANTask": "vision.models.generative.tasks",
    "SampleGrid": "vision.models.generative.tasks",
    "AnomalyReport": "vision.models.generative.tools",
    "SampleQuality": "vision.models.generative.tools",
    "anomaly_report": "vision.models.generative.tools",
    "code_scatter": "vision.models.generative.tools",
    "sample_quality": "vision.models.generative.tools",
    "train_quality_classifier": "vision.models.generative.tools",
    "load_image_arrays": "vision.models.generative.data",
    "image_grid": "vision.models.generative.data",
    "load_generative": "vision.models.generative.files",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports("vision.models.generative", _EXPORTS, globals())
