"""Train and validate YOLO detectors and segmenters with ultralytics' own trainers and validators, offline.

:func:`train_yolo` validates a :class:`~vision.data.records.DetectionDataset` (or a COCO / YOLO / VOC folder), writes
it in YOLO format, runs ``DetectionTrainer`` (``task="segment"``: ``SegmentationTrainer`` on polygons written from the
instance masks) and exports the best weights as our safetensors
(:func:`~vision.models.detection.yolo.save_yolo_weights`); :func:`val_yolo` gives mAP@0.5 and mAP@[.5:.95] with
``DetectionValidator`` (segmenters: ``SegmentationValidator``, box and mask mAP). ultralytics is imported through
:func:`~vision.models.detection.yolo.ultralytics_offline`
(zero network attempts), and what its runs change globally (RNG seeds, deterministic mode, environment, torch
threads) is put back afterwards.

Example:
    >>> from vision.models.detection.scenes_preset import detection_scenes                  # doctest: +SKIP
    >>> run = train_yolo(detection_scenes("train"), val=detection_scenes("val"), out_dir="runs/y", epochs=20,
    ...                  imgsz=160)                                                          # doctest: +SKIP
    >>> run.metrics["map50"], run.load().predict("scene.jpg")                                # doctest: +SKIP
    >>> seg = train_yolo(detection_scenes("train"), val=detection_scenes("val"), out_dir="runs/s", task="segment",
    ...                  model="yolov8n-scenes", epochs=10, imgsz=160)                       # doctest: +SKIP
    >>> seg.metrics["mask_map50"], seg.load().predict("scene.jpg").masks.shape               # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import DatasetError, InputError
from vision.models.config import positive_int
from vision.models.detection.yolo import (
    YoloDetector,
    _check_imgsz,
    _load_checkpoint,
    _load_safetensors,
    _model_task,
    _resolve_weights,
    _restore_env,
    _torch_threads,
    save_yolo_weights,
    ultralytics_offline,
)

__all__ = ["YoloTrainResult", "train_yolo", "val_yolo"]

logger = logging.getLogger(__name__)

_TASKS = ("detect", "segment")
#: ``model`` names that mean "this ultralytics architecture YAML, from scratch"
_SCRATCH = {"yolov8n": "yolov8n.yaml", "yolo11n": "yolo11n.yaml", "yolov8n-seg": "yolov8n-seg.yaml",
            "yolo11n-seg": "yolo11n-seg.yaml"}
_MANAGED_TRAIN_ARGS = {"data", "model", "project", "name", "exist_ok", "epochs", "imgsz", "batch", "seed", "device",
                       "workers", "verbose", "resume", "mode", "task", "save_dir"}


@contextlib.contextmanager
def _global_state() -> Iterator[None]:
    """Restore what an ultralytics training / validation run changes globally: env, RNGs, determinism, threads."""
    import random

    import torch

    env = dict(os.environ)
    rng = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    det = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    fill = torch.utils.deterministic.fill_uninitialized_memory
    try:
        with _torch_threads():
            yield
    finally:
        _restore_env(env)
        random.setstate(rng[0])
        np.random.set_state(rng[1])
        torch.set_rng_state(rng[2])
        torch.use_deterministic_algorithms(det[0], warn_only=det[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        torch.utils.deterministic.fill_uninitialized_memory = fill


@dataclass(frozen=True)
class YoloTrainResult:
    """What :func:`train_yolo` produced.

    Attributes:
        out_dir: the run folder. weights: our ``best.safetensors`` (load with :meth:`load`).
        checkpoint: ultralytics' ``best.pt``. metrics: its final validation (:func:`val_yolo`'s keys).
        names: class names. imgsz: training input size. arch: ``yolov8n``, ``yolo11n`` or ``yolov8n-seg`` (what
        :meth:`load` builds). epochs: epochs run. history: per-epoch validation metrics and losses, as ultralytics
        names them. task: ``"detect"`` or ``"segment"``. transferred: tensors copied from the starting weights
        (0 from scratch).
    """

    out_dir: Path
    weights: Path
    checkpoint: Path
    metrics: dict[str, Any]
    names: tuple[str, ...]
    imgsz: int
    arch: str = "yolov8n"
    epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    task: str = "detect"
    transferred: int = 0

    def load(self, **overrides: Any) -> YoloDetector:
        """A :class:`YoloDetector` (``task="segment"``: a ``YoloSegmenter``) on the trained weights (``overrides``:
        :class:`~vision.models.detection.yolo.YoloConfig` fields)."""
        return _yolo_class(self.task)(arch=self.arch, weights=str(self.weights), **overrides)


def _yolo_class(task: str) -> type[YoloDetector]:
    if task == "segment":
        from vision.models.segmentation.yolo_seg import YoloSegmenter

        return YoloSegmenter
    return YoloDetector


def _as_dataset(data: Any, what: str) -> Any:
    from vision.data.records import DetectionDataset

    if isinstance(data, DetectionDataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        from vision.data.formats import read_detection_dataset

        return read_detection_dataset(data)
    raise InputError(f"{what}: expected a DetectionDataset or a COCO / YOLO / VOC dataset path; got "
                     f"{type(data).__name__}")


def _metrics(validator: Any, names: Sequence[str], n_images: int) -> dict[str, Any]:
    box = validator.metrics.box
    seg = getattr(validator.metrics, "seg", None)  # SegmentMetrics: mask AP beside the box AP
    per_class = {}
    for i, c in enumerate(box.ap_class_index):
        row = {"ap50": float(box.ap50[i]), "ap50_95": float(box.ap[i])}
        if seg is not None:
            row.update(mask_ap50=float(seg.ap50[i]), mask_ap50_95=float(seg.ap[i]))
        per_class[str(names[int(c)])] = row
    out = {"map50": float(box.map50), "map50_95": float(box.map), "precision": float(box.mp),
           "recall": float(box.mr), "per_class": per_class, "images": n_images}
    if seg is not None:
        out.update(mask_map50=float(seg.map50), mask_map50_95=float(seg.map), mask_precision=float(seg.mp),
                   mask_recall=float(seg.mr))
    return out


def _segment_yaml(cfg: dict) -> dict:
    """A detection architecture dict → the same network with ultralytics' ``Segment`` head (32 prototypes of 256
    channels, as in ``yolov8-seg.yaml`` / ``yolo11-seg.yaml``), so that every detection tensor has a place in it."""
    head = cfg.get("head") or []
    if not head or len(head[-1]) != 4 or head[-1][2] != "Detect":
        last = head[-1][2] if head else None
        raise InputError(f"train_yolo: task='segment' from weights whose last layer is {last!r}; expected a Detect "
                         f"head (or segmentation weights)")
    seg = copy.deepcopy(cfg)
    src, repeats, _, args = seg["head"][-1]
    seg["head"][-1] = [src, repeats, "Segment", [args[0] if args else "nc", 32, 256]]
    name = Path(str(cfg.get("yaml_file") or "yolov8n.yaml"))
    seg["yaml_file"] = name.stem + "-seg" + (name.suffix or ".yaml")
    return seg


def _starting_point(model: str, task: str | None) -> tuple[Any, Any, str]:
    """``model`` / ``task`` arguments of :func:`train_yolo` → (architecture dict, module whose weights to start
    from or None, task)."""
    if task == "segment" and f"{model}-seg" in _SCRATCH:  # train_yolo(task="segment") with the default model
        model += "-seg"
    model = _SCRATCH.get(model, model)
    ultralytics_offline()
    if model.endswith((".yaml", ".yml")):
        from ultralytics.nn.tasks import yaml_model_load

        try:
            cfg = yaml_model_load(model)
        except FileNotFoundError as exc:
            raise InputError(f"train_yolo: model {model!r} is not an ultralytics architecture YAML ({exc})") from exc
        got = _model_task(cfg)
        if task is not None and got != task:
            raise InputError(f"train_yolo: task={task!r} but {model} is a {got!r} architecture; expected a "
                             f"{'*-seg.yaml' if task == 'segment' else 'detection YAML'} (or weights)")
        if got not in _TASKS:
            raise InputError(f"train_yolo: {model} is a {got!r} architecture; expected one of {list(_TASKS)}")
        return cfg, None, got
    path, _ = _resolve_weights(model)
    net, _, _ = (_load_safetensors if path.suffix == ".safetensors" else _load_checkpoint)(path)
    got = _model_task(net)
    if task is None or task == got:
        return dict(net.yaml), net, got
    if task == "segment":  # detection weights → a segmenter with their backbone, neck and box head
        return _segment_yaml(dict(net.yaml)), net, task
    raise InputError(f"train_yolo: task={task!r} from {got!r} weights {model!r}; expected detection weights or a "
                     f"detection YAML")


def _count_masks(ds: Any) -> int:
    """Objects of ``ds`` with an instance-mask id or a polygon (what a segment dataset is written from)."""
    return sum(1 for rec in ds.images for o in rec.objects
               if (rec.instance_mask and o.instance_id > 0) or o.attributes.get("segmentation"))


def train_yolo(data: Any, *, out_dir: str | os.PathLike, model: str = "yolov8n", task: str | None = None,
               val: Any = None, epochs: int = 50, imgsz: int = 256, batch: int = 16, seed: int = 0,
               device: str | None = None, workers: int = 0, threads: int | None = None, overwrite: bool = False,
               progress: bool = False, **options: Any) -> YoloTrainResult:
    """Train a YOLO detector or segmenter with ultralytics' trainer on our dataset, offline; export safetensors.

    The dataset is validated and written in YOLO format to ``out_dir/dataset`` (hard links), ultralytics trains into
    ``out_dir/train`` (``weights/best.pt``, ``results.csv``) and the best weights are exported to
    ``out_dir/best.safetensors``. Global state ultralytics changes (RNG seeds, deterministic mode, env, threads) is
    restored afterwards.

    Args:
        data: training images: a :class:`~vision.data.records.DetectionDataset` or a COCO / YOLO / VOC path (YOLO
            ``val`` splits are kept as validation when ``val`` is None).
        out_dir: run folder; must be absent or empty unless ``overwrite``.
        model: ``"yolov8n"`` / ``"yolo11n"`` / ``"yolov8n-seg"`` / ``"yolo11n-seg"`` (or any ultralytics ``*.yaml``)
            from scratch, or weights to fine-tune (a manifest name or a ``.safetensors`` / ``.pt`` path; tensors whose
            names and shapes match are transferred, and their count is logged and kept in the result).
        task: ``"detect"`` or ``"segment"``; None = the model's (a ``-seg`` name / YAML or segmentation weights
            segment, the rest detect; with ``task="segment"``, ``"yolov8n"`` / ``"yolo11n"`` mean their ``-seg``
            architectures). ``task="segment"`` from detection weights (e.g. ``"yolov8n-scenes"``) builds
            the same network with a ``Segment`` head and transfers the backbone, neck and box head; only the mask
            prototypes and coefficients start from scratch. The dataset is written as polygons from its instance
            masks (or polygons; see :func:`vision.data.formats.write_yolo` ``segments=True``).
        val: validation dataset or path; None = the data's own ``val`` split, else the training images.
        epochs, imgsz, batch, seed, device, workers: as in ultralytics (imgsz a multiple of 32).
        threads: torch threads while training; None = the count before the call (ultralytics would pin cores - 1).
        overwrite: replace an existing run folder.
        progress: show a tqdm bar over epochs (otherwise progress is logged at INFO).
        **options: other ultralytics train arguments (``lr0``, ``mosaic``, ``close_mosaic``, ``cache``, ``plots``…).
    Returns:
        A :class:`YoloTrainResult`.
    Raises:
        InputError: a bad argument or an unknown / managed ultralytics option, or a ``task`` the model cannot take.
        DatasetError / AnnotationError: a dataset problem, e.g. ``task="segment"`` on a dataset without instance
        masks or polygons (nothing is written). WeightsNotFoundError / WeightsError: bad starting weights.
    """
    for name, value in (("epochs", epochs), ("batch", batch)):
        positive_int("train_yolo", name, value)
    imgsz = _check_imgsz("train_yolo", imgsz)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"train_yolo: seed must be an integer ≥ 0; got {seed!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise InputError(f"train_yolo: workers must be an integer ≥ 0; got {workers!r}")
    if threads is not None:
        positive_int("train_yolo", "threads", threads)
    if not isinstance(model, str) or not model:
        raise InputError(f"train_yolo: model must be 'yolov8n', 'yolo11n', 'yolov8n-seg', a *.yaml or weights; got "
                         f"{model!r}")
    if task is not None and task not in _TASKS:
        raise InputError(f"train_yolo: task must be None or one of {list(_TASKS)}; got {task!r}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise DatasetError(f"train_yolo: out_dir {out} exists and is not empty; pass overwrite=True or another folder")
    ultralytics_offline()
    from ultralytics.cfg import DEFAULT_CFG_DICT, get_cfg

    bad = sorted(set(options) - set(DEFAULT_CFG_DICT)) + sorted(set(options) & _MANAGED_TRAIN_ARGS)
    if bad:
        raise InputError(f"train_yolo: unknown or managed option(s) {bad}; expected ultralytics train arguments "
                         f"other than {sorted(_MANAGED_TRAIN_ARGS)}")
    try:
        get_cfg(overrides=dict(options))  # ultralytics' own type and range checks, before anything is written
    except (TypeError, ValueError, SyntaxError) as exc:
        raise InputError(f"train_yolo: {str(exc).strip().splitlines()[0]}") from exc
    train_ds = _as_dataset(data, "train_yolo: data")
    val_ds = None if val is None else _as_dataset(val, "train_yolo: val")
    if val_ds is not None and list(val_ds.classes) != list(train_ds.classes):
        raise DatasetError(f"train_yolo: val classes {val_ds.classes[:10]} differ from data classes "
                           f"{train_ds.classes[:10]}")
    cfg, start, task = _starting_point(model, task)
    segments = task == "segment"

    from vision.data.formats import write_yolo
    from vision.data.formats.validation import check_dataset

    check_dataset(train_ds, what="train_yolo: data")
    if val_ds is not None:
        check_dataset(val_ds, what="train_yolo: val")
    for ds, what in ((train_ds, "data"), (val_ds, "val")):
        if segments and ds is not None and not _count_masks(ds):
            raise DatasetError(f"train_yolo: task='segment' but the {what} dataset at {ds.root} has no instance masks "
                               "or polygons; expected records with instance_mask PNGs (as vision.data.make_scenes "
                               "writes) or objects with attributes['segmentation']")
    if out.exists() and overwrite:
        shutil.rmtree(out)
    yaml_path = write_yolo(train_ds, out / "dataset", split=None if val_ds is None else "train", segments=segments)
    if val_ds is not None:
        write_yolo(val_ds, out / "dataset", split="val", segments=segments)

    if segments:
        from ultralytics.models.yolo.segment import SegmentationTrainer as Trainer
    else:
        from ultralytics.models.yolo.detect import DetectionTrainer as Trainer

    args = dict(options, data=str(yaml_path), model=str(cfg.get("yaml_file", "yolov8n.yaml")), project=str(out),
                name="train", exist_ok=True, epochs=epochs, imgsz=imgsz, batch=batch, seed=seed, device=device,
                workers=workers, verbose=False)
    history: list[dict[str, float]] = []
    bar = None
    import torch

    n_threads = threads or torch.get_num_threads()
    with _global_state():
        trainer = Trainer(overrides=args)  # its select_device pins torch threads; _on_start sets them back

        def _on_start(tr: Any) -> None:
            torch.set_num_threads(n_threads)

        def _on_epoch(tr: Any) -> None:
            if tr.epoch >= tr.epochs:  # ultralytics' final validation of best.pt calls this once more
                return
            row = {"epoch": tr.epoch + 1, **{k: round(float(v), 5) for k, v in (tr.metrics or {}).items()}}
            history.append(row)
            logger.info("train_yolo epoch %d/%d: %s", tr.epoch + 1, tr.epochs, row)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(mAP50=row.get("metrics/mAP50(M)" if segments else "metrics/mAP50(B)", float("nan")))

        trainer.add_callback("on_pretrain_routine_start", _on_start)
        trainer.add_callback("on_fit_epoch_end", _on_epoch)
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, desc="train_yolo", unit="epoch")
        try:
            trainer.model = trainer.get_model(cfg=cfg, weights=start, verbose=False)
            transferred = _log_transfer(start, trainer.model, model)
            with contextlib.redirect_stdout(io.StringIO()):  # ultralytics' image-caching bar ignores its verbosity
                trainer.train()
        finally:
            if bar is not None:
                bar.close()
    best = out / "train" / "weights" / "best.pt"
    if not best.is_file():
        best = out / "train" / "weights" / "last.pt"
    net, names, _ = _load_checkpoint(best, task)
    weights = save_yolo_weights(net, out / "best.safetensors", imgsz=imgsz)
    validator = getattr(trainer, "validator", None)
    metrics = _metrics(validator, names, len(val_ds or train_ds)) if validator is not None and validator.metrics is not None else {}
    arch = ("yolov8n-seg" if segments else
            "yolo11n" if "11" in Path(str(cfg.get("yaml_file", ""))).stem else "yolov8n")
    return YoloTrainResult(out_dir=out, weights=weights, checkpoint=best, metrics=metrics, names=names, imgsz=imgsz,
                           arch=arch, epochs=len(history), history=history, task=task, transferred=transferred)


def _log_transfer(start: Any, net: Any, model: str) -> int:
    """How many tensors of ``net`` came from the starting weights ``start`` (logged; 0 when training from scratch)."""
    if start is None:
        return 0
    from ultralytics.utils.torch_utils import intersect_dicts

    mine = net.state_dict()
    n = len(intersect_dicts(start.state_dict(), mine))
    logger.info("train_yolo: transferred %d/%d tensors from %s (the rest start from scratch)", n, len(mine), model)
    return n


def val_yolo(model: Any, data: Any, *, imgsz: int | None = None, batch: int = 16, conf: float = 0.001,
             iou: float = 0.7, device: str | None = None) -> dict[str, Any]:
    """mAP@0.5 and mAP@[.5:.95] of a YOLO detector or segmenter on a dataset, with ultralytics' validator (offline).

    Args:
        model: a :class:`YoloDetector` / ``YoloSegmenter``, or weights for one (a manifest name or a
            ``.safetensors`` / ``.pt`` path; the file's task picks which).
        data: a :class:`~vision.data.records.DetectionDataset` or a COCO / YOLO / VOC path; every image is used.
        imgsz: input size (default: the detector's). batch: images per forward pass.
        conf, iou: confidence floor and NMS IoU (mAP wants a low ``conf``). device: as in :class:`YoloConfig`.
    Returns:
        ``{"map50", "map50_95", "precision", "recall", "per_class": {name: {"ap50", "ap50_95"}}, "images"}`` (box
        metrics); a segmenter adds ``"mask_map50"``, ``"mask_map50_95"``, ``"mask_precision"``, ``"mask_recall"`` and
        per-class ``"mask_ap50"`` / ``"mask_ap50_95"`` (masks rasterised from the dataset's instance masks or
        polygons, as :func:`train_yolo` writes them).
    Raises:
        DatasetError: the dataset's class names differ from the model's. InputError: bad arguments.
    """
    positive_int("val_yolo", "batch", batch)
    det = model if isinstance(model, YoloDetector) else _load_any(str(model), device)
    imgsz = det.imgsz if imgsz is None else _check_imgsz("val_yolo", imgsz)
    ds = _as_dataset(data, "val_yolo: data")
    if list(ds.classes) != list(det.names):
        raise DatasetError(f"val_yolo: dataset classes {list(ds.classes)[:10]} differ from the model's "
                           f"{list(det.names)[:10]}; expected the same class table in the same order")
    import torch

    from vision.data.formats import write_yolo

    segments = det.task == "segment"
    if segments:
        from ultralytics.models.yolo.segment import SegmentationValidator as Validator
    else:
        from ultralytics.models.yolo.detect import DetectionValidator as Validator
    with tempfile.TemporaryDirectory(prefix="vision-val-yolo-") as tmp, _global_state():
        yaml_path = write_yolo(ds, Path(tmp) / "data", split="val", segments=segments)
        args = {"task": det.task, "mode": "val", "data": str(yaml_path), "imgsz": imgsz, "batch": batch, "conf": conf,
                "iou": iou, "device": device or det.config.device, "plots": False, "save_json": False,
                "verbose": False, "rect": True, "half": False}
        validator = Validator(args=args, save_dir=Path(tmp) / "run")
        threads = torch.get_num_threads()
        validator.add_callback("on_val_start", lambda v: torch.set_num_threads(threads))  # after select_device
        try:
            validator(model=copy.deepcopy(det.model))  # AutoBackend fuses conv + bn in place
        except ValueError as exc:
            raise InputError(f"val_yolo: {str(exc).splitlines()[0]}") from exc
        return _metrics(validator, det.names, len(ds))


def _load_any(weights: str, device: str | None) -> YoloDetector:
    """A detector or segmenter on ``weights``, whichever the file's network is."""
    path, _ = _resolve_weights(weights)
    net, _, _ = (_load_safetensors if path.suffix == ".safetensors" else _load_checkpoint)(path)
    return _yolo_class(_model_task(net))(weights=weights, device=device)
