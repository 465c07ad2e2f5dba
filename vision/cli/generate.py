"""``vision generate`` and ``vision train generate``: thin over :mod:`vision.models.generative`.
``vision.cli.main`` adds these parsers to its own."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from vision.errors import InputError

__all__ = ["add_generate_parser", "add_train_parser", "cmd_generate", "cmd_train_generate"]

log = logging.getLogger("vision.cli")

#: train --model → (trainer, preset)
_TRAIN = {"ae": "autoencoder", "dae": "autoencoder", "vae": "autoencoder", "dcgan": "gan", "cgan": "gan"}


def _open(name: str, weights: str | None) -> Any:
    from vision.models import create_model, model_spec

    if model_spec(name).task != "generate":
        raise InputError(f"--model {name}: a {model_spec(name).task!r} model; expected a generative model "
                         "(vision models list --task generate)")
    return create_model(name, **({"weights": weights} if weights else {}))


def cmd_generate(args: argparse.Namespace) -> int:
    from vision.io import write_image
    from vision.models.generative.data import image_grid

    model = _open(args.model, args.weights)
    if isinstance(args.n, bool) or args.n < 1:
        raise InputError(f"-n must be ≥ 1; got {args.n}")
    if args.interpolate:
        a, b = args.interpolate
        images = model.interpolate(a, b, steps=args.n) if args.label is None else \
            model.interpolate(a, b, steps=args.n, label=args.label)
    elif args.label is not None:
        images = model.generate(args.n, seed=args.seed, labels=[args.label] * args.n)
    else:
        images = model.generate(args.n, seed=args.seed)
    out = Path(args.output)
    grid = image_grid(images, cols=args.cols)
    write_image(out, grid)
    print(f"{len(images)} image(s) from {args.model} (seed {args.seed}) → {out} ({grid.shape[1]}×{grid.shape[0]})")
    return 0


def add_generate_parser(sub: Any) -> None:
    """``vision generate`` under the top-level sub-commands ``sub``."""
    s = sub.add_parser("generate", help="new images from a generative model (a sample sheet PNG)",
                       description="Sample a GAN (dcgan, cgan) or a VAE, or walk its latent space (--interpolate), "
                                   "and write the images as one sheet.")
    s.add_argument("--model", default="dcgan", help="registered generative model (default dcgan: Fashion-MNIST)")
    s.add_argument("--weights", help="a weights file or manifest name (default: the model's own)")
    s.add_argument("-n", type=int, default=64, help="images (with --interpolate: steps) (default 64)")
    s.add_argument("-o", "--output", default="generated.png", help="the sheet to write (default generated.png)")
    s.add_argument("--seed", type=int, default=0, help="latent seed: the same seed gives the same images")
    s.add_argument("--label", help="cgan: the class to draw (id or name, e.g. Sneaker)")
    s.add_argument("--interpolate", nargs=2, type=int, metavar=("SEED_A", "SEED_B"),
                   help="GANs: -n images from latent SEED_A to SEED_B")
    s.add_argument("--cols", type=int, help="images per row (default √n)")
    s.set_defaults(func=cmd_generate)


def cmd_train_generate(args: argparse.Namespace) -> int:
    from vision.cli.folders import run_folder
    from vision.io import write_image
    from vision.models.generative.data import image_grid, load_image_arrays
    from vision.models.generative.training import train_autoencoder, train_gan

    out = run_folder(args.out or f"runs/train/generate/{args.model}", overwrite=args.overwrite)
    images, labels, names = load_image_arrays(args.data, split="train", size=args.size, limit=args.limit)
    options = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
               if v is not None}
    if _TRAIN[args.model] == "autoencoder":
        model, history = train_autoencoder(images, preset=args.model, seed=args.seed, progress=True, **options)
        preview = model.generate(16, seed=0) if args.model == "vae" else model.reconstruct(images[:16])
    else:
        conditional = args.model == "cgan"
        model, history = train_gan(images, labels if conditional else None, names=names if conditional else (),
                                   seed=args.seed, progress=True, **options)
        preview = model.generate(16, seed=0)
    out.mkdir(parents=True, exist_ok=True)
    weights = model.save(out / f"{args.model}.safetensors")
    write_image(out / "samples.png", image_grid(preview))
    last = {k: round(v[-1], 4) for k, v in history.history.items() if v}
    (out / "history.json").write_text(json.dumps(history.history, indent=2) + "\n")
    print(f"trained {args.model} on {args.data} ({len(images)} images) in {out}: " +
          ", ".join(f"{k} {v}" for k, v in last.items()))
    print(f"weights: {weights}; samples: {out / 'samples.png'} "
          f"({'new images' if args.model in ('vae', 'dcgan', 'cgan') else 'reconstructions of training images'})")
    if args.model in ("vae", "dcgan", "cgan"):
        print(f"  vision generate --model {args.model} --weights {weights} -n 64 -o grid.png")
    return 0


def add_train_parser(t: Any) -> None:
    """``vision train generate`` under the ``train`` sub-commands ``t``."""
    s = t.add_parser("generate", help="train an autoencoder or a GAN on Fashion-MNIST, digits or an image folder",
                     description="Train ae / dae (denoising) / vae / dcgan / cgan (class-conditional) from scratch; "
                                 "writes the weights, history.json and a samples.png sheet.")
    s.add_argument("--model", required=True, choices=sorted(_TRAIN))
    s.add_argument("--data", default="fashion-mnist", help="fashion-mnist (default), digits, or a folder root/<class>/")
    s.add_argument("--size", type=int, help="image size (default 28; required for a folder)")
    s.add_argument("--limit", type=int, help="use only the first N images")
    s.add_argument("--epochs", type=int, help="epochs (default 10)")
    s.add_argument("--batch-size", type=int, help="images per batch (default 128)")
    s.add_argument("--lr", type=float, help="learning rate (default: autoencoders 1e-3, GANs 2e-4)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", metavar="DIR", help="run folder (default runs/train/generate/MODEL)")
    s.add_argument("--overwrite", action="store_true", help="train into a non-empty --out")
    s.set_defaults(func=cmd_train_generate)
