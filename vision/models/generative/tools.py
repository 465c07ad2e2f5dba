"""Autoencoders and GANs as tools: a 2-D code scatter plot, anomaly scores with a threshold and ROC AUC, and a
classifier-based quality measure of generated samples.

* :func:`code_scatter` — dimensionality reduction: the codes of labelled images, reduced to 2-D (the codes
  themselves when ``code_size`` is 2, else PCA or t-SNE from scikit-learn), one colour per class.
* :func:`anomaly_report` — reconstruction error as an anomaly score: a threshold from the normal images' scores
  (a quantile), the detection and false-alarm rates at it, and the ROC AUC against known outliers.
* :func:`sample_quality` — how recognisable generated images are to a classifier trained on the real data
  (:func:`train_quality_classifier`): the fraction classified as the intended class (conditional GAN) and the class
  balance (normalised entropy of the predicted-class histogram: 1 = every class equally often, 0 = one class).

FID is not offered: torchmetrics' ``FrechetInceptionDistance`` needs the ``torch-fidelity`` package *and* its
Inception-v3 feature weights (``pt_inception-2015-12-05``), which it downloads from GitHub on first use; no package
from the registries this project may use ships them, so FID cannot run offline here. Online users can compute it
with ``torchmetrics.image.fid.FrechetInceptionDistance`` on :meth:`GAN.generate` output.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vision.errors import InputError, ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["AnomalyReport", "SampleQuality", "anomaly_report", "code_scatter", "reduce_codes", "sample_quality",
           "train_quality_classifier"]

REDUCTIONS = ("pca", "tsne")


def reduce_codes(codes: Any, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """``N×K`` codes → ``N×2`` points: unchanged for K = 2 (K = 1 gets a zero second axis), else PCA or t-SNE.

    Raises:
        InputError: an unknown method, fewer than 2 codes, non-finite values.
    """
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise InputError(f"reduce_codes: expected N×K codes with N ≥ 2; got shape {z.shape}")
    if not np.isfinite(z).all():
        raise InputError("reduce_codes: codes must be finite numbers; got NaN or infinity")
    if method not in REDUCTIONS:
        raise InputError(f"reduce_codes: method must be one of {list(REDUCTIONS)}; got {method!r}")
    if z.shape[1] <= 2:
        return np.hstack([z, np.zeros((len(z), 2 - z.shape[1]))])
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(z)
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, random_state=seed, init="pca", perplexity=min(30.0, (len(z) - 1) / 3)).fit_transform(z)


def code_scatter(model: Any, images: Any, labels: Any, *, names: Sequence[str] | None = None, method: str = "pca",
                 path: str | os.PathLike[str] | None = None, title: str | None = None, dpi: float = 100,
                 seed: int = 0) -> Figure:
    """Scatter plot of the images' codes in 2-D, coloured by class (dimensionality reduction with an autoencoder).

    Args:
        model: an :class:`~vision.models.generative.autoencoder.Autoencoder`.
        images: uint8 images of the model's layout. labels: their N class ids.
        names: class names for the legend (default the ids).
        method: ``"pca"`` or ``"tsne"`` when the code has more than 2 numbers.
        path: also write the figure as a PNG here. title: default names the method and the code size.
        dpi: figure resolution. seed: for PCA / t-SNE.

    Returns:
        The ``matplotlib.figure.Figure`` (built through the object API, no pyplot).

    Raises:
        InputError: bad method or path; labels whose count differs from the images'. DTypeError / ShapeError: images
        that do not fit the model.
    """
    from vision.metrics.plots import _figure, save_figure

    codes = model.encode(images)
    codes = codes.reshape(-1, model.config.code_size)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(codes) or (y.size and y.dtype.kind not in "iu"):
        raise InputError(f"code_scatter: expected {len(codes)} integer labels (one per image); got {y.dtype} array "
                         f"of shape {y.shape}")
    points = reduce_codes(codes, method=method, seed=seed)
    fig = _figure(6.4, 5.2, dpi)
    ax = fig.add_subplot()
    classes = np.unique(y)
    import matplotlib

    palette = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
    for i, c in enumerate(classes):
        sel = y == c
        label = names[int(c)] if names is not None and int(c) < len(names) else str(int(c))
        ax.scatter(points[sel, 0], points[sel, 1], s=6, alpha=0.7, color=palette(i % palette.N), label=label)
    how = "code" if codes.shape[1] <= 2 else method.upper() if method == "pca" else "t-SNE"
    ax.set_title(title or f"{codes.shape[1]}-number codes in 2-D ({how}), {len(codes)} images")
    ax.set_xlabel(f"{how} 1")
    ax.set_ylabel(f"{how} 2")
    ax.legend(markerscale=3, fontsize=7, loc="best", frameon=False)
    if path is not None:
        save_figure(fig, path)
    return fig


@dataclass(frozen=True)
class AnomalyReport:
    """Reconstruction-error anomaly detection on normal images and known outliers.

    Attributes:
        roc_auc: area under the ROC curve of the scores (outliers positive); 1 = perfect separation, 0.5 = chance.
        threshold: the score above which an image is called anomalous.
        detection_rate: fraction of outliers above the threshold (true-positive rate).
        false_alarm_rate: fraction of normal images above it (false-positive rate).
        normal_mean, outlier_mean: mean scores of each set.
        normal_count, outlier_count: how many images of each.
    """

    roc_auc: float
    threshold: float
    detection_rate: float
    false_alarm_rate: float
    normal_mean: float
    outlier_mean: float
    normal_count: int
    outlier_count: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-safe dict."""
        return asdict(self)


def anomaly_report(model: Any, normal: Any, outliers: Any, *, threshold: float | None = None,
                   quantile: float = 0.95) -> AnomalyReport:
    """Score normal images and known outliers by reconstruction error; threshold, rates and ROC AUC.

    Args:
        model: an :class:`~vision.models.generative.autoencoder.Autoencoder` trained on normal data.
        normal, outliers: uint8 images of the model's layout (held out from training).
        threshold: the anomaly threshold; None = the ``quantile`` of the normal images' scores (so about
            ``1 - quantile`` of normal images raise a false alarm). For deployment, pick it on normal validation
            images and pass it here.
        quantile: in (0, 1), used when ``threshold`` is None.

    Returns:
        An :class:`AnomalyReport`.

    Raises:
        InputError: quantile outside (0, 1), a non-finite threshold. DTypeError / ShapeError: images that do not fit.
    """
    from vision.metrics import roc_auc

    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 < quantile < 1:
        raise InputError(f"anomaly_report: quantile must be a number in (0, 1); got {quantile!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        raise InputError(f"anomaly_report: threshold must be a finite number or None; got {threshold!r}")
    s_norm = np.atleast_1d(model.anomaly_scores(normal))
    s_out = np.atleast_1d(model.anomaly_scores(outliers))
    t = float(np.quantile(s_norm, quantile)) if threshold is None else float(threshold)
    y = np.concatenate([np.zeros(len(s_norm), np.int64), np.ones(len(s_out), np.int64)])
    auc = float(roc_auc(y, np.concatenate([s_norm, s_out])))
    return AnomalyReport(roc_auc=auc, threshold=t, detection_rate=float((s_out > t).mean()),
                         false_alarm_rate=float((s_norm > t).mean()), normal_mean=float(s_norm.mean()),
                         outlier_mean=float(s_out.mean()), normal_count=len(s_norm), outlier_count=len(s_out))


@dataclass(frozen=True)
class SampleQuality:
    """What a classifier trained on real data says about generated images.

    Attributes:
        recognisability: fraction classified as their intended class (None without intended labels).
        confident: fraction the classifier puts in some class with probability ≥ ``confident_at`` (for an
            unconditional GAN, the share of samples that look clearly like one class; compare with real images).
        class_balance: entropy of the predicted-class histogram divided by log(C): 1 = every class equally often.
        confidence: the classifier's mean top probability.
        histogram: images predicted per class.
        count: images scored.
    """

    recognisability: float | None
    confident: float
    class_balance: float
    confidence: float
    histogram: list[int]
    count: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-safe dict."""
        return asdict(self)


def sample_quality(images: Any, classifier: torch.nn.Module, *, labels: Any = None, confident_at: float = 0.9,
                   batch_size: int = 256) -> SampleQuality:
    """Score generated images with a classifier trained on the real data (e.g. :func:`train_quality_classifier`).

    Args:
        images: uint8 ``N×H×W`` or ``N×H×W×C`` generated images.
        classifier: an ``nn.Module`` taking ``N×C×H×W`` floats in [0, 1] (pixels / 255) and returning N×K logits.
        labels: the intended class of each image (a conditional GAN's), or None.
        confident_at: the top-class probability in (0, 1) that counts as a confident prediction.
        batch_size: images per classifier call.

    Returns:
        A :class:`SampleQuality`.

    Raises:
        DTypeError / ShapeError: not a uint8 batch. InputError: labels whose count differs, or out of range.
    """
    from vision.models.generative.data import to_tensor

    if isinstance(confident_at, bool) or not isinstance(confident_at, (int, float)) or not 0 < confident_at < 1:
        raise InputError(f"sample_quality: confident_at must be a number in (0, 1); got {confident_at!r}")
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ShapeError(f"sample_quality: expected N×H×W or N×H×W×C uint8 images; got shape {arr.shape}")
    channels = 1 if arr.ndim == 3 else arr.shape[3]
    if arr.shape[1] != arr.shape[2]:
        raise ShapeError(f"sample_quality: expected square images; got {arr.shape[1]}×{arr.shape[2]}")
    x, _ = to_tensor(arr, channels=channels, size=arr.shape[1], who="sample_quality")
    was_training = classifier.training
    classifier.eval()
    try:
        with torch.inference_mode():
            probs = torch.cat([torch.softmax(classifier(b).float(), dim=1) for b in torch.split(x, batch_size)])
    finally:
        classifier.train(was_training)
    k = probs.shape[1]
    pred = probs.argmax(dim=1).numpy()
    hist = np.bincount(pred, minlength=k)
    p = hist / hist.sum()
    nz = p[p > 0]
    balance = max(0.0, float(-(nz * np.log(nz)).sum() / math.log(k))) if k > 1 else 1.0
    recog = None
    if labels is not None:
        y = np.asarray(labels).reshape(-1)
        if len(y) != len(pred) or (y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= k)):
            raise InputError(f"sample_quality: expected {len(pred)} intended class ids in 0..{k - 1}; got "
                             f"{y.dtype} array of shape {y.shape}")
        recog = float((pred == y).mean())
    top = probs.max(dim=1)[0]
    return SampleQuality(recognisability=recog, confident=float((top >= confident_at).float().mean()),
                         class_balance=balance, confidence=float(top.mean()),
                         histogram=[int(v) for v in hist], count=len(pred))


def train_quality_classifier(images: Any, labels: Any, *, epochs: int = 3, batch_size: int = 128, lr: float = 2e-3,
                             seed: int = 0, val_images: Any = None, val_labels: Any = None) -> tuple[Any, Any]:
    """Train the registered ``"fmnist-cnn"`` on real images (pixels / 255) to judge generated ones.

    Args:
        images: uint8 ``N×S×S`` gray images (S ≥ 4); labels: N class ids.
        epochs, batch_size, lr, seed: the optimisation (AdamW, the shared trainer).
        val_images, val_labels: held-out real images for ``val_accuracy`` (report it beside the sample scores).

    Returns:
        ``(classifier nn.Module in eval mode, History)``.

    Raises:
        DTypeError / ShapeError / InputError: as the data checks.
    """
    from vision.models import create_model
    from vision.models.generative.training import _infer_shape, image_loader
    from vision.train import fit

    channels, size = _infer_shape(images, "train_quality_classifier")
    y = np.asarray(labels)
    k = int(y.max()) + 1 if val_labels is None else int(max(y.max(), np.asarray(val_labels).max())) + 1
    torch.manual_seed(seed)
    net = create_model("fmnist-cnn", num_classes=k, in_channels=channels)
    train = image_loader(images, y, channels=channels, size=size, batch_size=batch_size, shuffle=True, seed=seed,
                         who="train_quality_classifier")
    val = None if val_images is None else image_loader(val_images, val_labels, channels=channels, size=size,
                                                       batch_size=256, who="train_quality_classifier (val)")
    history = fit(net, train, val, epochs=epochs, optimizer="adamw", lr=lr, schedule="onecycle")
    net.eval()
    return net, history
