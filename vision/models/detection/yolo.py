"""YOLO (v8n, 11n) through ultralytics, with zero network attempts: predict, train and val → our Detections.

ultralytics is imported lazily, only here, by :func:`ultralytics_offline`, which sets ``YOLO_OFFLINE=1``,
``YOLO_AUTOINSTALL=0``, ``YOLO_VERBOSE=0``, ``ULTRALYTICS_SAFE_LOAD=1`` (checkpoints load with
``torch.load(weights_only=True)``) and ``YOLO_CONFIG_DIR`` (default ``$VISION_HOME/ultralytics``, holding its settings
file and matplotlib's DejaVuSans as ``Arial.ttf``, so no font download is tried) for the import, then restores what
the import changed: environment variables, torch / OpenCV thread counts, numpy / torch print options and warning
filters, and the functions it monkey-patches (``PIL.Image.open``, ``torch.save``, OpenCV's ``imread`` /
``imwrite`` / ``imshow``). ultralytics' CPU device selection pins torch to ``cores - 1`` threads; every call here restores the count.

Weights: ``create_model("yolov8n")`` and ``create_model("yolo11n")`` load our shipped scenes-trained weights
(``yolov8n-scenes`` / ``yolo11n-scenes``: the five ``SHAPE_CLASSES``); ``weights="yolov8n"`` / ``weights="yolo11n"``
the official COCO weights through :func:`vision.weights.resolve` (downloaded only when online; offline the error
says where to put the file). Our files are safetensors holding the state dict plus
the architecture YAML, task (detect / segment), class names and input size as metadata (see
:func:`save_yolo_weights`); ultralytics ``.pt`` checkpoints load through ultralytics' weights-only allow-list, never by
unpickling arbitrary objects. The instance-segmentation sibling (``yolov8n-seg``) is
:class:`vision.models.segmentation.yolo_seg.YoloSegmenter`, a subclass sharing all of this.

Example:
    >>> from vision.models import create_model                              # doctest: +SKIP
    >>> det = create_model("yolov8n")                                        # doctest: +SKIP
    >>> det.predict("scene.jpg").labels                                      # doctest: +SKIP
    ('circle', 'star')
"""

from __future__ import annotations

import dataclasses

import contextlib
import json
import logging
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, WeightsError, WeightsNotFoundError
from vision.models.config import ModelConfig, build_config, positive_int
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["WEIGHTS_FORMAT", "YoloConfig", "YoloDetector", "save_yolo_weights", "ultralytics_offline"]
_TRAINING = ("YoloTrainResult", "train_yolo", "val_yolo")  # live in vision.models.detection.yolo_train

logger = logging.getLogger(__name__)

#: the ``format`` metadata entry of our YOLO safetensors files
WEIGHTS_FORMAT = "vision.yolo/1"
#: registered name → default weights (both trained here on the synthetic scenes; the official COCO files by name)
_ARCHS = {"yolov8n": "yolov8n-scenes", "yolo11n": "yolo11n-scenes"}
_GUARD_ENV = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "0", "ULTRALYTICS_SAFE_LOAD": "1"}


# ---------------------------------------------------------------------------------------------- ultralytics import
def _config_dir() -> Path:
    """The project-owned ultralytics config folder (settings file, fonts): ``$VISION_HOME/ultralytics``."""
    home = os.environ.get("VISION_HOME")
    return (Path(home) if home else Path.home() / ".cache" / "vision") / "ultralytics"


def _place_fonts(folder: Path) -> None:
    """Put matplotlib's DejaVuSans where ultralytics looks for Arial (so it never tries to download a font)."""
    import matplotlib

    src = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        dst = folder / name
        if not dst.is_file():
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)


def _restore_env(saved: dict[str, str]) -> None:
    """Put ``os.environ`` back to ``saved``, touching only the variables that changed."""
    for key in [k for k in os.environ if k not in saved]:
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


@contextlib.contextmanager
def _torch_threads(threads: int | None = None) -> Iterator[None]:
    """Run with ``threads`` torch threads (None: the current count) and restore the count afterwards."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def ultralytics_offline() -> Any:
    """Import ultralytics with zero network attempts and no lasting side effects; returns the module.

    A second call returns the module already imported (its offline switches are fixed at its first import: import
    ultralytics through this function, not before it).
    """
    import sys

    if "ultralytics" in sys.modules:
        return sys.modules["ultralytics"]
    import warnings

    import cv2
    import torch

    env = dict(os.environ)
    threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()  # also starts torch's pool at its own size
    np_print = np.get_printoptions()
    opts = torch._tensor_str.PRINT_OPTS
    torch_print = {"precision": opts.precision, "threshold": opts.threshold, "edgeitems": opts.edgeitems,
                   "linewidth": opts.linewidth, "sci_mode": opts.sci_mode}
    filters = list(warnings.filters)
    from PIL import Image

    patched = [(Image, "open"), (torch, "save"), (cv2, "imread"), (cv2, "imwrite"), (cv2, "imshow")]
    originals = [getattr(mod, name) for mod, name in patched]  # ultralytics monkey-patches these at import
    cfg = Path(os.environ.get("YOLO_CONFIG_DIR") or _config_dir())
    _place_fonts(cfg / "Ultralytics")
    os.environ.update(_GUARD_ENV, YOLO_CONFIG_DIR=str(cfg))
    os.environ.setdefault("YOLO_VERBOSE", "False")
    try:
        import ultralytics
        import ultralytics.models.yolo.detect  # predictor, trainer, validator: their import-time code runs here
        import ultralytics.nn.tasks
        from ultralytics.utils import SETTINGS

        if SETTINGS.get("sync"):
            SETTINGS.update(sync=False)  # no analytics, even if a later process is online
    finally:
        _restore_env(env)
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv2_threads)
        np.set_printoptions(**np_print)
        torch.set_printoptions(**torch_print)
        warnings.filters[:] = filters
        for (mod, name), original in zip(patched, originals):
            setattr(mod, name, original)
    return ultralytics


# ---------------------------------------------------------------------------------------------- weights files
def save_yolo_weights(model: Any, path: str | os.PathLike, *, imgsz: int, half: bool = True) -> Path:
    """Write an ultralytics ``DetectionModel`` / ``SegmentationModel`` as safetensors: state dict + architecture YAML,
    task, names, imgsz.

    Args:
        model: the network (``YoloDetector.model``, ``YoloSegmenter.model`` or a trainer's model); its ``names`` become
            the class table, its head the ``task`` (``"detect"`` or ``"segment"``) that :class:`YoloDetector` /
            :class:`~vision.models.segmentation.yolo_seg.YoloSegmenter` check when loading.
        path: the ``.safetensors`` file to write (atomically).
        imgsz: the default inference size stored with the weights (what :class:`YoloDetector` uses unless given
            ``imgsz``; may differ from the training size when another size measured better on validation images).
        half: store floating tensors as fp16 (ultralytics' own checkpoints are fp16).
    Returns:
        The path written.
    """
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise InputError(f"save_yolo_weights: expected a .safetensors path, got {path}")
    names = getattr(model, "names", None)
    names = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names or [])
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        tensors[k] = (v.half() if half and v.is_floating_point() else v).contiguous().clone()
    meta = {"format": WEIGHTS_FORMAT, "task": _model_task(model), "yaml": json.dumps(model.yaml),
            "names": json.dumps(names), "imgsz": str(int(imgsz)), "torch": torch.__version__}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


#: ultralytics tasks our YOLO files and classes cover → the ultralytics model class (in ultralytics.nn.tasks)
_MODEL_CLASSES = {"detect": "DetectionModel", "segment": "SegmentationModel"}
_TASK_WORDS = {"detect": "detection", "segment": "segmentation"}


def _model_task(model: Any) -> str:
    """``"detect"`` / ``"segment"`` (…) of an ultralytics model or architecture dict, from its head."""
    ultralytics_offline()
    from ultralytics.nn.tasks import guess_model_task

    return guess_model_task(model)


def _check_task(path: Path, got: str, task: str | None) -> None:
    if task is not None and got != task:
        use = {"detect": "yolov8n (YoloDetector)", "segment": "yolov8n-seg (YoloSegmenter)"}.get(got)
        raise WeightsError(f"{path}: expected YOLO {_TASK_WORDS.get(task, task)} weights, got {got!r} weights"
                           + (f"; load them with {use}" if use else ""))


def _load_safetensors(path: Path, task: str | None = None) -> tuple[Any, tuple[str, ...], int]:
    """A file of :func:`save_yolo_weights` → (model, names, imgsz); ``task`` (None = any) is checked."""
    from safetensors import safe_open

    from vision.weights import load_state_dict

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != WEIGHTS_FORMAT:
        raise WeightsError(f"{path}: not a YOLO weights file written by save_yolo_weights (metadata format "
                           f"{meta.get('format')!r}, expected {WEIGHTS_FORMAT!r})")
    ultralytics_offline()
    import ultralytics.nn.tasks as tasks

    try:
        names, cfg, imgsz = tuple(json.loads(meta["names"])), json.loads(meta["yaml"]), int(meta["imgsz"])
    except (KeyError, ValueError) as exc:
        raise WeightsError(f"{path}: broken YOLO metadata ({type(exc).__name__}: {exc}); expected names, yaml and "
                           f"imgsz entries as written by save_yolo_weights") from exc
    got = meta.get("task", "detect")  # files written before segmentation support are detection files
    if got not in _MODEL_CLASSES or _model_task(cfg) != got:
        raise WeightsError(f"{path}: metadata task {got!r} with a {_model_task(cfg)!r} architecture; expected one of "
                           f"{sorted(_MODEL_CLASSES)}, matching the architecture's head")
    _check_task(path, got, task)
    model = getattr(tasks, _MODEL_CLASSES[got])(cfg, ch=3, nc=len(names), verbose=False)
    try:
        model.load_state_dict(load_state_dict(path), strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{path}: the tensors do not fit the architecture in its metadata ({str(exc)[:300]})") \
            from exc
    model.names = dict(enumerate(names))
    return model.float().eval(), names, imgsz


def _load_checkpoint(path: Path, task: str | None = None) -> tuple[Any, tuple[str, ...], int]:
    """An ultralytics ``.pt`` (loaded with ``weights_only=True``) → (model, names, imgsz); ``task`` (None = any of
    detect / segment) is checked."""
    ultralytics_offline()
    from ultralytics.nn.tasks import torch_safe_load

    try:
        ckpt, _ = torch_safe_load(str(path), safe_only=True)
    except (TypeError, ModuleNotFoundError) as exc:
        raise WeightsError(f"{path}: refused or could not load the ultralytics checkpoint with weights_only=True "
                           f"({str(exc).strip()[:300]})") from exc
    model = ckpt.get("ema") or ckpt.get("model")
    if model is None or not hasattr(model, "yaml"):
        raise WeightsError(f"{path}: expected an ultralytics checkpoint holding a model, got keys {sorted(ckpt)[:10]}")
    got = getattr(model, "task", None) or _model_task(model)
    if got not in _MODEL_CLASSES:
        raise WeightsError(f"{path}: expected an ultralytics detection or segmentation checkpoint, got task {got!r}")
    _check_task(path, got, task)
    names = model.names
    names = tuple(names[i] for i in sorted(names)) if isinstance(names, dict) else tuple(names)
    imgsz = (ckpt.get("train_args") or {}).get("imgsz", 640)
    return model.float().eval(), names, int(imgsz if isinstance(imgsz, int) else max(imgsz))


def _resolve_weights(weights: str) -> tuple[Path, tuple[str, ...]]:
    """A weights manifest name or a file path → (local path, manifest labels or ())."""
    from vision.weights import get_entry, load_manifest, resolve

    if weights in load_manifest():
        path = resolve(weights)
        if path is None:
            raise WeightsError(f"weights {weights!r} are built into a library, not a YOLO weights file")
        return path, get_entry(weights).labels
    p = Path(weights).expanduser()
    if p.suffix in (".pt", ".safetensors") or os.sep in weights or "/" in weights:
        if not p.is_file():
            raise WeightsNotFoundError(f"YOLO weights file {p} does not exist; expected a .safetensors written by "
                                       f"save_yolo_weights / train_yolo, an ultralytics .pt, or a manifest name")
        return p, ()
    get_entry(weights)  # raises UnknownModelError with close names
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------- the detector
def _check_imgsz(who: str, value: Any) -> int:
    value = positive_int(who, "imgsz", value)
    if value < 32 or value % 32:
        raise InputError(f"{who}: imgsz must be a multiple of 32 (the network's largest stride) ≥ 32; got {value}")
    return value


@dataclass(frozen=True)
class YoloConfig(ModelConfig):
    """Options of :class:`YoloDetector`; JSON-serialisable.

    Args:
        weights: a manifest name (``yolov8n-scenes``, ``yolov8n`` = official COCO, …) or a ``.safetensors`` / ``.pt``
            path; None = the registered architecture's default weights.
        imgsz: network input size (multiple of 32); None = the size stored with the weights (ultralytics ``.pt``:
            the training size).
        conf: minimum confidence kept.
        iou: NMS IoU threshold.
        max_det: most detections per image.
        classes: keep only these class ids (None = all).
        device: ``"cpu"``, ``"cuda:0"``, ``"0"``…; None = ultralytics' choice (first GPU, else CPU).
    Raises:
        InputError: a value of the wrong type or out of range.
    """

    weights: str | None = None
    imgsz: int | None = None
    conf: float = 0.25
    iou: float = 0.7
    max_det: int = 300
    classes: tuple[int, ...] | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        who = "YoloConfig"
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights.strip()):
            raise InputError(f"{who}: weights must be a manifest name or a file path; got {self.weights!r}")
        if self.imgsz is not None:
            object.__setattr__(self, "imgsz", _check_imgsz(who, self.imgsz))
        for name, lo_open in (("conf", False), ("iou", True)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or not (0.0 < v if lo_open else 0.0 <= v) or v > 1.0:
                raise InputError(f"{who}: {name} must be a number in {'(0' if lo_open else '[0'}, 1]; got {v!r}")
            object.__setattr__(self, name, float(v))
        object.__setattr__(self, "max_det", positive_int(who, "max_det", self.max_det))
        if self.classes is not None:
            c = self.classes
            if isinstance(c, (str, bytes)) or not isinstance(c, (list, tuple)) or not c or any(
                    isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in c):
                raise InputError(f"{who}: classes must be None or a non-empty list of class ids ≥ 0; got {c!r}")
            object.__setattr__(self, "classes", tuple(c))
        if self.device is not None and (not isinstance(self.device, str) or not self.device.strip()):
            raise InputError(f"{who}: device must be None or a string like 'cpu' or 'cuda:0'; got {self.device!r}")


def _image(source: Any) -> np.ndarray:
    """An H×W×3 uint8 RGB image from ``source`` (such arrays as they are: they are only read, never changed)."""
    if isinstance(source, np.ndarray) and source.dtype == np.uint8 and source.ndim == 3 and source.shape[2] == 3 \
            and source.shape[0] and source.shape[1]:
        return source
    from vision.io import read_image

    return read_image(source)


class YoloDetector:
    """An ultralytics YOLO network behind our API: ``predict(source) -> Detections``, offline.

    Predictions run through ultralytics' own ``DetectionPredictor`` (letterbox, NMS, box rescaling) and are converted
    to :class:`~vision.types.Detections` with boxes in pixels of the original image and names from the model.

    Args:
        config: a :class:`YoloConfig` or its dict; keyword overrides set single fields.
        arch: the registered architecture, which picks the default weights (``yolov8n`` or ``yolo11n``).
    Attributes:
        model: the ultralytics ``DetectionModel`` (unfused, eval mode). names: class names. imgsz: input size used.
        weights_path: the file loaded.
    Raises:
        InputError: a bad option, or ``classes`` naming ids the model does not have.
        WeightsNotFoundError: the weights are not available (offline: the message says where to put the file).
        WeightsError: a file that is not YOLO weights, or that does not match its manifest entry's class count.
    """

    task = "detect"
    #: registered architecture → default weights (a subclass for another task has its own table)
    archs: dict[str, str] = _ARCHS

    def __init__(self, config: YoloConfig | dict | None = None, *, arch: str | None = None,
                 **overrides: Any) -> None:
        arch = next(iter(self.archs)) if arch is None else arch
        if arch not in self.archs:
            raise InputError(f"{type(self).__name__}: arch must be one of {sorted(self.archs)}; got {arch!r}")
        self.arch = arch
        self.config = build_config(YoloConfig, config, overrides, arch)
        weights = self.config.weights or self.archs[arch]
        path, labels = _resolve_weights(weights)
        self.model, self.names, trained = (_load_safetensors if path.suffix == ".safetensors"
                                           else _load_checkpoint)(path, self.task)
        if labels and len(labels) != len(self.names):
            raise WeightsError(f"{path}: the network has {len(self.names)} classes but the manifest entry "
                               f"{weights!r} lists {len(labels)}; the file is for another class count")
        if self.config.classes is not None and max(self.config.classes) >= len(self.names):
            raise InputError(f"{arch}: classes {list(self.config.classes)} name ids ≥ {len(self.names)}, the number "
                             f"of classes of {weights!r} ({list(self.names)[:10]})")
        self.weights_path = path
        self.imgsz = self.config.imgsz or trained
        self._predictor = self._make_predictor()

    def _predictor_class(self) -> Any:
        from ultralytics.models.yolo.detect import DetectionPredictor

        return DetectionPredictor

    def _predictor_args(self) -> dict[str, Any]:
        c = self.config
        return {"task": self.task, "mode": "predict", "conf": c.conf, "iou": c.iou, "imgsz": self.imgsz,
                "max_det": c.max_det, "classes": list(c.classes) if c.classes else None, "device": c.device,
                "batch": 1, "rect": True, "save": False, "verbose": False}

    def _make_predictor(self) -> Any:
        c = self.config
        predictor = self._predictor_class()(overrides=self._predictor_args())
        try:
            with _torch_threads():  # select_device pins torch to cores-1 threads on CPU
                predictor.setup_model(model=self.model, verbose=False)
        except ValueError as exc:  # ultralytics' message for an unavailable device
            raise InputError(f"{self.arch}: device {c.device!r} is not available ({str(exc).splitlines()[0]})") \
                from exc
        return predictor

    def _run(self, images: list[np.ndarray], batch: int) -> list[Detections]:
        import cv2

        bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in images]  # ultralytics takes arrays as BGR
        self._predictor.args.batch = batch
        try:
            results = self._predictor(source=bgr if len(bgr) > 1 else bgr[0], stream=False)
            return [self._convert(r, im.shape[:2]) for r, im in zip(results, images)]
        finally:  # the predictor keeps its last source, batch and results (each holding the full-size images)
            self._predictor.dataset = self._predictor.batch = self._predictor.results = None

    def _convert(self, result: Any, shape: tuple[int, int]) -> Detections:
        """ultralytics ``Results`` → :class:`Detections` (xyxy pixels of the original image, names of the model)."""
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float32, copy=False)
        return Detections(xyxy, boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy().astype(np.int64),
                          names=self.names, image_shape=(int(shape[0]), int(shape[1])))

    def predict(self, source: Any) -> Detections:
        """Detect objects in one image (a path, bytes, file object or H×W×3 uint8 RGB array).

        Raises:
            SourceNotFoundError / ImageDecodeError / ShapeError / DTypeError: from :func:`vision.io.read_image`.
        """
        return self._run([_image(source)], 1)[0]

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, batch_size: int = 8) -> list[Detections]:
        """Detect objects in several images, ``batch_size`` at a time (images of different sizes are padded square).

        Raises:
            InputError: ``sources`` is not a sequence or ``batch_size`` < 1; plus :meth:`predict`'s errors.
        """
        batch_size = positive_int("predict_batch", "batch_size", batch_size)
        if isinstance(sources, (str, bytes, np.ndarray)) or not isinstance(sources, Sequence):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        images = [_image(s) for s in sources]  # every source is checked before any inference
        out: list[Detections] = []
        for i in range(0, len(images), batch_size):
            chunk = images[i:i + batch_size]
            out.extend(self._run(chunk, len(chunk)))
        return out

    def stream(self, source: Any, *, every: int = 1) -> Iterator[tuple[Any, Detections]]:
        """Detect on the frames of a video file, camera or stream: yields ``(Frame, Detections)``.

        Args:
            source: anything :class:`vision.io.VideoSource` opens.
            every: run on every ``every``-th frame only.
        Raises:
            SourceNotFoundError / VideoSourceError / InputError: from :class:`~vision.io.VideoSource`.
        """
        from vision.io import VideoSource

        every = positive_int("stream", "every", every)
        with VideoSource(source) as video:
            for frame in video:
                if frame.index % every == 0:
                    yield frame, self._run([frame.image], 1)[0]

    def replicate(self) -> YoloDetector:
        """An independent copy (same config, weights reloaded from :attr:`weights_path`) for another thread:
        ultralytics' predictor keeps per-call state, so concurrent calls need one predictor each."""
        return type(self)(dataclasses.replace(self.config, weights=str(self.weights_path)), arch=self.arch)

    def __repr__(self) -> str:
        weights = str(self.config.weights or self.archs[self.arch])
        return (f"{type(self).__name__}(arch={self.arch!r}, weights={weights!r}, classes={len(self.names)}, "
                f"imgsz={self.imgsz})")


@register_model("yolov8n", task="detect", weights="yolov8n-scenes")
def yolov8n(config: YoloConfig | dict | None = None, **overrides: Any) -> YoloDetector:
    """Ultralytics YOLOv8n; default weights trained on our synthetic scenes (offline), ``weights="yolov8n"`` = COCO."""
    return YoloDetector(config, arch="yolov8n", **overrides)


@register_model("yolo11n", task="detect", weights="yolo11n-scenes")
def yolo11n(config: YoloConfig | dict | None = None, **overrides: Any) -> YoloDetector:
    """Ultralytics YOLO11n; default weights trained on our synthetic scenes (offline), ``weights="yolo11n"`` = COCO."""
    return YoloDetector(config, arch="yolo11n", **overrides)


def __getattr__(name: str) -> Any:
    """``train_yolo``, ``val_yolo`` and ``YoloTrainResult`` load from :mod:`vision.models.detection.yolo_train`."""
    if name in _TRAINING:
        from vision.models.detection import yolo_train

        return getattr(yolo_train, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
