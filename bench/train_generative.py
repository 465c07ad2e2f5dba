"""Train, measure and export the shipped generative models on Fashion-MNIST: a conv autoencoder, a denoising
autoencoder, a DCGAN (and a conditional GAN for the recognisability figure).

Reproduce (CPU, one thread, about 45 minutes on the 2-core machine)::

    python bench/train_generative.py --threads 1

Data: Fashion-MNIST from the Debian package ``dataset-fashion-mnist``: the first 55 000 training images train, the
last 5 000 are validation (threshold and classic-denoiser parameter choice), the 10 000 test images are held out.
Outliers for the anomaly score: scikit-learn's 1797 8×8 digits resized to 28×28 (never seen in training).

Measured, each on the float16 safetensors file as shipped (loaded back through ``load_generative``):

* conv AE: reconstruction PSNR on the test set, compression ratio, anomaly ROC AUC Fashion-MNIST test (normal) vs
  digits (outliers), detection / false-alarm rates at the 95 % quantile of the validation images' scores;
* DAE: PSNR on 1000 test images noised with Gaussian σ (on [0, 1]; ``vision.classic.add_gaussian_noise`` with
  σ·255 gray levels, clipped), against every classic denoiser of ``vision.classic`` with its parameter chosen on
  200 validation images;
* DCGAN / cGAN: a ``fmnist-cnn`` classifier trained on the real training images (its test accuracy reported)
  scores 1000 samples each: class balance (normalised entropy of the predicted-class histogram) and, for the
  cGAN, recognisability (fraction classified as the class asked for). FID is not measured: its Inception
  weights cannot be had offline (see ``vision.models.generative.tools``).

Results go to ``bench/results/generative.json`` (stages already there are kept when ``--only`` reruns some).
``--eval-only`` measures the weights files already in ``--weights-dir`` again (training figures are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ae", "dae", "classifier", "dcgan", "cgan")


def _config(model, path: Path) -> dict:
    return {**model.config.to_dict(), "weights": path.name}


def _sha(path: Path) -> dict:
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "bytes": path.stat().st_size}


def _psnr_mean(clean: np.ndarray, test: np.ndarray) -> float:
    from vision.classic.quality import psnr

    return float(np.mean([min(psnr(a, b), 100.0) for a, b in zip(clean, test)]))


def _noisy(images: np.ndarray, sigma: float, seed0: int) -> np.ndarray:
    from vision.classic.denoise import add_gaussian_noise

    return np.stack([add_gaussian_noise(im, sigma=sigma * 255, seed=seed0 + i) for i, im in enumerate(images)])


def _classic_grid(sigma255: float) -> dict:
    return {
        "gaussian_blur": [{"sigma": s} for s in (0.5, 0.7, 1.0, 1.3)],
        "box_blur": [{"size": s} for s in (3,)],
        "median_blur": [{"size": s} for s in (3, 5)],
        "bilateral": [{"diameter": 5, "sigma_color": c, "sigma_space": 3} for c in (50, 75, 100, 150)],
        "nl_means": [{"h": h, "template": t, "search": 11} for h in (25, 35, 45, 55) for t in (3, 5)],
        "tv_denoise": [{"weight": w} for w in (0.05, 0.1, 0.15, 0.2, 0.3)],
        "wavelet_denoise": [{"sigma": sigma255}, {"sigma": sigma255, "method": "VisuShrink"}, {}],
    }


def classic_baselines(tune_clean, tune_noisy, test_clean, test_noisy, sigma: float) -> dict:
    """Each classic denoiser with its best parameters on the tuning images, then scored on the test images."""
    import vision.classic.denoise as dn

    out = {}
    for name, grid in _classic_grid(sigma * 255).items():
        fn = getattr(dn, name)
        scored = [(_psnr_mean(tune_clean, np.stack([fn(im, **p) for im in tune_noisy])), p) for p in grid]
        best_tune, params = max(scored, key=lambda t: t[0])
        t = time.perf_counter()
        test_out = np.stack([fn(im, **params) for im in test_noisy])
        out[name] = {"params": params, "val_psnr": round(best_tune, 3), "test_psnr": round(_psnr_mean(test_clean,
                     test_out), 3), "ms_per_image": round(1000 * (time.perf_counter() - t) / len(test_noisy), 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma-separated stages of {list(STAGES)}")
    parser.add_argument("--ae-epochs", type=int, default=8)
    parser.add_argument("--gan-epochs", type=int, default=5)
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--sigma", type=float, default=0.2, help="DAE noise σ on [0, 1]")
    parser.add_argument("--n-train", type=int, default=55000)
    parser.add_argument("--weights-dir", default=str(ROOT / "weights"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "generative.json"))
    parser.add_argument("--figures", default=None, help="folder for sample sheets and the code scatter plot")
    parser.add_argument("--eval-only", action="store_true", help="measure the existing weights files, no training")
    args = parser.parse_args(argv)

    import torch

    from vision.models.generative import (
        anomaly_report,
        code_scatter,
        image_grid,
        load_generative,
        load_image_arrays,
        sample_quality,
        train_autoencoder,
        train_gan,
        train_quality_classifier,
    )

    torch.set_num_threads(args.threads)
    stages = [s for s in args.only.split(",") if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stages {unknown}; expected some of {list(STAGES)}")
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.is_file() else {}
    command = "python bench/train_generative.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.eval_only:
        results.setdefault("setup", {})["eval_command"] = command
    else:
        results["setup"] = {"threads": args.threads, "torch": torch.__version__, "n_train": args.n_train,
                            "command": command}
    wdir = Path(args.weights_dir)
    figs = Path(args.figures) if args.figures else None

    images, labels, names = load_image_arrays("fashion-mnist")
    train_x, train_y = images[:args.n_train], labels[:args.n_train]
    val_x = images[55000:]
    test_x, test_y, _ = load_image_arrays("fashion-mnist", split="test")
    digits, _, _ = load_image_arrays("digits")

    def kept(stage: str, *keys: str) -> dict:
        """The training figures of an earlier run (for --eval-only)."""
        old = results.get(stage, {})
        return {k: old[k] for k in keys if k in old}

    def save(stage: str) -> None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"[{stage}] {json.dumps(results[stage])}", flush=True)

    if "ae" in stages:
        path = wdir / "conv_ae_fmnist.safetensors"
        train_info = kept("ae", "epochs", "train_seconds", "val_psnr_last_epoch")
        if not args.eval_only:
            t = time.perf_counter()
            ae, hist = train_autoencoder(train_x, val_images=val_x, preset="ae",
                                         config={"kind": "conv", "hidden": [32, 64], "code_size": 8, "loss": "bce"},
                                         epochs=args.ae_epochs, batch_size=128, lr=2e-3, seed=0)
            train_info = {"epochs": args.ae_epochs, "train_seconds": round(time.perf_counter() - t, 1),
                          "val_psnr_last_epoch": round(hist.history["val_psnr"][-1], 3)}
            ae.save(path)
        ae = load_generative(path)
        threshold = float(np.quantile(ae.anomaly_scores(val_x), 0.95))
        report = anomaly_report(ae, test_x, digits, threshold=threshold)
        results["ae"] = {"config": _config(ae, path), **train_info,
                         "test_psnr": round(_psnr_mean(test_x, ae.reconstruct(test_x)), 3),
                         "compression_ratio": ae.compression_ratio,
                         "anomaly_fmnist_vs_digits": {k: (round(v, 4) if isinstance(v, float) else v)
                                                      for k, v in report.to_dict().items()},
                         "threshold_rule": "95th percentile of the 5000 validation images' scores",
                         "weights": _sha(path)}
        if figs is not None:
            code_scatter(ae, test_x[:2000], test_y[:2000], names=names, path=figs / "ae_codes.png")
        save("ae")

    if "dae" in stages:
        path = wdir / "dae_fmnist.safetensors"
        train_info = kept("dae", "epochs", "train_seconds")
        if not args.eval_only:
            t = time.perf_counter()
            dae, hist = train_autoencoder(train_x, val_images=val_x, preset="dae",
                                          config={"kind": "conv", "hidden": [32, 64], "code_size": 64, "loss": "bce",
                                                  "noise": args.sigma},
                                          epochs=args.ae_epochs, batch_size=128, lr=2e-3, seed=0)
            train_info = {"epochs": args.ae_epochs, "train_seconds": round(time.perf_counter() - t, 1)}
            dae.save(path)
        dae = load_generative(path)
        clean, tune = test_x[:1000], val_x[:200]
        noisy, tune_noisy = _noisy(clean, args.sigma, 0), _noisy(tune, args.sigma, 100000)
        classic = classic_baselines(tune, tune_noisy, clean, noisy, args.sigma)
        best = max(classic, key=lambda k: classic[k]["test_psnr"])
        t = time.perf_counter()
        denoised = dae.denoise(noisy)
        ms = 1000 * (time.perf_counter() - t) / len(noisy)
        results["dae"] = {"config": _config(dae, path), **train_info,
                          "sigma": args.sigma, "sigma_gray_levels": args.sigma * 255,
                          "noisy_psnr": round(_psnr_mean(clean, noisy), 3),
                          "dae_psnr": round(_psnr_mean(clean, denoised), 3), "dae_ms_per_image": round(ms, 3),
                          "best_classic": best, "best_classic_psnr": classic[best]["test_psnr"],
                          "classic": classic, "compression_ratio": dae.compression_ratio, "weights": _sha(path)}
        results["dae"]["dae_beats_best_classic_by_db"] = round(results["dae"]["dae_psnr"]
                                                               - classic[best]["test_psnr"], 3)
        if figs is not None:
            from vision.io import write_image

            write_image(figs / "dae_before_after.png",
                        image_grid(np.concatenate([clean[:12], noisy[:12], denoised[:12]]), cols=12))
        save("dae")

    clf = None
    if any(s in stages for s in ("classifier", "dcgan", "cgan")):
        t = time.perf_counter()
        clf, hist = train_quality_classifier(train_x, train_y, epochs=args.classifier_epochs, seed=0,
                                             val_images=test_x, val_labels=test_y)
        results["classifier"] = {"model": "fmnist-cnn", "epochs": args.classifier_epochs,
                                 "train_seconds": round(time.perf_counter() - t, 1),
                                 "test_accuracy": round(hist.history["val_accuracy"][-1], 4)}
        real = sample_quality(test_x[:1000], clf, labels=test_y[:1000])
        results["classifier"]["real_test_images"] = {k: (round(v, 4) if isinstance(v, float) else v)
                                                     for k, v in real.to_dict().items()}
        save("classifier")

    for stage, conditional in (("dcgan", False), ("cgan", True)):
        if stage not in stages:
            continue
        path = wdir / f"{stage}_fmnist.safetensors"
        train_info = kept(stage, "epochs", "train_seconds", "last_epoch")
        if not args.eval_only:
            t = time.perf_counter()
            gan, hist = train_gan(train_x, train_y if conditional else None, names=names if conditional else (),
                                  config={"widths": [64, 32], "latent_dim": 64,
                                          **({"num_classes": 10, "classes": list(names)} if conditional else {})},
                                  epochs=args.gan_epochs, batch_size=128, lr=2e-4, label_smoothing=0.1, seed=0)
            train_info = {"epochs": args.gan_epochs, "train_seconds": round(time.perf_counter() - t, 1),
                          "last_epoch": {k: round(v[-1], 4) for k, v in hist.history.items()}}
            gan.save(path)
        gan = load_generative(path)
        wanted = np.arange(1000) % 10 if conditional else None
        samples = gan.generate(1000, seed=123, labels=wanted)
        q = sample_quality(samples, clf, labels=wanted)
        results[stage] = {"config": _config(gan, path), **train_info, "samples": 1000, "quality": {k: (round(v, 4) if isinstance(v, float) else v)
                                                       for k, v in q.to_dict().items()},
                          "fid": "not measured: torchmetrics' FID needs Inception weights that cannot be had offline",
                          "weights": _sha(path)}
        if figs is not None:
            from vision.io import write_image

            write_image(figs / f"{stage}_samples.png", image_grid(samples[:100], cols=10))
        save(stage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
