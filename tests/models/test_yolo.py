"""YOLO through ultralytics, offline: shipped weights, Detections conversion, zero network, threads, train, errors."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.errors import (
    DatasetError,
    DTypeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
    UnknownModelError,
    WeightsError,
    WeightsNotFoundError,
)
from vision.models import create_model, model_config, model_from_config
from vision.models.detection.yolo import YoloConfig, YoloDetector, save_yolo_weights
from vision.models.detection.yolo_train import train_yolo, val_yolo

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "weights" / "yolov8n-scenes.safetensors"
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason="weights/yolov8n-scenes.safetensors not shipped")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def detector():
    if not SHIPPED.is_file():
        pytest.skip("weights/yolov8n-scenes.safetensors not shipped")
    return create_model("yolov8n")


@pytest.fixture(scope="module")
def test_scenes(tmp_path_factory):
    from vision.models.detection.scenes_preset import detection_scenes

    return detection_scenes("test", n=20, root=tmp_path_factory.mktemp("scenes"))


def _tiny_scenes(root: Path, n: int = 8, size: int = 64):
    from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes

    cfg = SceneConfig(image_size=(size, size), classes=SHAPE_CLASSES, objects=(1, 2), object_scale=(0.3, 0.5))
    return make_scenes(root, n=n, seed=3, config=cfg, formats=())


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize("bad", [
    {"imgsz": 100}, {"imgsz": 0}, {"imgsz": True}, {"conf": 1.5}, {"conf": -0.1}, {"iou": 0.0}, {"iou": "x"},
    {"max_det": 0}, {"classes": []}, {"classes": [-1]}, {"classes": "circle"}, {"device": ""}, {"weights": ""},
    {"nope": 1},
])
def test_config_rejects_bad_values(bad):
    with pytest.raises(InputError):
        YoloConfig.from_dict(bad)


def test_config_round_trip_through_registry(detector):
    det = create_model("yolov8n", conf=0.4, classes=[0, 2])
    again = model_from_config(json.loads(json.dumps(model_config(det))))
    assert isinstance(again, YoloDetector) and again.config == det.config and again.names == det.names


def test_registered_and_import_is_light():
    code = ("import sys; from vision.models import list_models; names = list_models(task='detect'); "
            "assert 'yolov8n' in names and 'yolo11n' in names, names; "
            "assert 'ultralytics' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


# ------------------------------------------------------------------------------------------------ weights errors
def test_official_weights_offline_say_where_to_put_them():
    with pytest.raises(WeightsNotFoundError) as err:
        create_model("yolov8n", weights="yolov8n")
    msg = str(err.value)
    assert "VISION_OFFLINE=1" in msg and "yolov8n.pt" in msg and "weights" in msg and "github.com/ultralytics" in msg
    with pytest.raises(WeightsNotFoundError, match="yolo11n.pt"):  # the official COCO file, by name
        create_model("yolo11n", weights="yolo11n")


def test_missing_or_unknown_weights(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        create_model("yolov8n", weights=str(tmp_path / "absent.safetensors"))
    with pytest.raises(UnknownModelError, match="did you mean"):
        create_model("yolo11n", weights="yolov8n-scene")
    with pytest.raises(WeightsError, match="built into a library"):
        create_model("yolov8n", weights="hog-people")


def test_foreign_safetensors_is_refused(tmp_path):
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "something-else"})
    with pytest.raises(WeightsError, match="not a YOLO weights file"):
        YoloDetector(weights=str(path))


@needs_shipped
def test_weights_for_another_class_count_are_refused(tmp_path, monkeypatch, detector):
    with pytest.raises(InputError, match="classes"):
        create_model("yolov8n", classes=[7])
    # the same file under a manifest entry that promises 3 classes
    import shutil

    import yaml

    shutil.copyfile(SHIPPED, tmp_path / "three.safetensors")
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"three": {
        "task": "detect", "file": "three.safetensors", "labels": ["a", "b", "c"]}}), encoding="utf-8")
    monkeypatch.setenv("VISION_WEIGHTS_MANIFEST", str(tmp_path / "manifest.yaml"))
    with pytest.raises(WeightsError, match="5 classes but the manifest entry 'three' lists 3"):
        create_model("yolov8n", weights="three")
    # tensors that do not fit the architecture recorded in the file
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(SHIPPED), framework="pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
    meta["names"] = json.dumps(["a", "b"])  # a 2-class head cannot take 5-class tensors
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata=meta)
    with pytest.raises(WeightsError, match="do not fit"):
        YoloDetector(weights=str(tmp_path / "bad.safetensors"))


# ------------------------------------------------------------------------------------------------ predict
def test_detections_conversion_names_and_pixels(detector, test_scenes):
    from vision.io import read_image

    image = read_image(test_scenes.image_path(0))
    det = detector.predict(image)
    assert det.names == ("circle", "square", "triangle", "star", "hexagon") == detector.names
    assert det.image_shape == image.shape[:2] and len(det) >= 1
    assert np.all(det.xyxy >= 0) and np.all(det.xyxy[:, [0, 2]] <= image.shape[1])
    assert np.all(det.scores >= detector.config.conf)
    # the same image twice as large (a non-square crop, too): boxes are in the pixels of the image given
    big = np.ascontiguousarray(np.repeat(np.repeat(image, 2, axis=0), 2, axis=1))
    det2 = detector.predict(big)
    assert det2.image_shape == (512, 512)
    best = det.xyxy[np.argmax(det.scores)]
    assert _iou(det2.xyxy[np.argmax(det2.scores)], 2 * best) > 0.85
    wide = np.ascontiguousarray(np.pad(image, ((0, 0), (0, 128), (0, 0))))  # letterboxed differently, same pixels
    det3 = detector.predict(wide)
    assert det3.image_shape == (256, 384)
    assert _iou(det3.xyxy[np.argmax(det3.scores)], best) > 0.7


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def test_same_boxes_as_ultralytics_own_predict(detector, test_scenes):
    from ultralytics import YOLO

    from vision.io import read_image

    image = read_image(test_scenes.image_path(1))
    peer = YOLO("yolov8n.yaml", task="detect")
    peer.model = detector.model  # the same weights
    res = peer.predict(np.ascontiguousarray(image[..., ::-1]), imgsz=detector.imgsz, conf=0.25, verbose=False)[0]
    ours = detector.predict(image)
    np.testing.assert_allclose(ours.xyxy, res.boxes.xyxy.numpy(), atol=1e-3)
    np.testing.assert_array_equal(ours.class_ids, res.boxes.cls.numpy().astype(int))


def test_predict_batch_and_paths_match_single(detector, test_scenes):
    paths = [test_scenes.image_path(i) for i in range(3)]
    batch = detector.predict_batch(paths, batch_size=2)
    single = [detector.predict(p) for p in paths]
    for a, b in zip(batch, single):
        np.testing.assert_allclose(a.xyxy, b.xyxy, atol=0.5)
        np.testing.assert_array_equal(a.class_ids, b.class_ids)


def test_stream_over_a_video(detector, test_scenes, tmp_path):
    from vision.io import VideoSink, read_image

    frames = [read_image(test_scenes.image_path(i)) for i in range(3)]
    video = tmp_path / "clip.avi"
    with VideoSink(video, fps=5, codec="MJPG") as sink:
        for f in frames:
            sink.write(f)
    out = list(detector.stream(video))
    assert [f.index for f, _ in out] == [0, 1, 2]
    assert all(d.image_shape == (256, 256) and d.names == detector.names for _, d in out)
    assert [f.index for f, _ in detector.stream(video, every=2)] == [0, 2]


def test_bad_sources_raise_typed_errors(detector, tmp_path):
    with pytest.raises(SourceNotFoundError):
        detector.predict(tmp_path / "missing.jpg")
    with pytest.raises((ShapeError, DTypeError)):
        detector.predict(np.zeros((8, 8, 4, 2), np.uint8))
    with pytest.raises(InputError):
        detector.predict_batch("not-a-list.jpg")
    with pytest.raises(SourceNotFoundError):
        detector.predict_batch([tmp_path / "missing.png"])
    with pytest.raises(SourceNotFoundError):
        list(detector.stream(tmp_path / "missing.avi"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    from vision.errors import ImageDecodeError

    with pytest.raises(ImageDecodeError):
        detector.predict(bad)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["yolov8n", "yolo11n"])
def test_shipped_weights_reach_map50_on_held_out_scenes(detector, test_scenes, arch):
    """Both architectures' shipped scenes weights (their registered defaults), on held-out scenes."""
    from vision.metrics.detection import evaluate_detections

    low = create_model(arch, conf=0.001)
    assert low.imgsz == 192 and low.names == detector.names
    preds = low.predict_batch([test_scenes.image_path(i) for i in range(len(test_scenes))], batch_size=10)
    report = evaluate_detections(preds, test_scenes)
    assert report.map50 >= 0.8, report.ap50
    metrics = val_yolo(low, test_scenes)
    assert metrics["map50"] >= 0.8 and set(metrics["per_class"]) <= set(detector.names)


# ------------------------------------------------------------------------------------------------ train / val errors
def test_train_rejects_bad_input_and_writes_nothing(tmp_path):
    ds = _tiny_scenes(tmp_path / "scenes", n=2)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        train_yolo(ds, out_dir=busy, epochs=1)
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]
    for kwargs in ({"imgsz": 100}, {"epochs": 0}, {"lr_zero": 1}, {"project": "x"}, {"lr0": "fast"}, {"mosaic": 2.0}, {"model": ""}, {"model": "nope.yaml"}, {"workers": -1}):
        with pytest.raises(InputError):
            train_yolo(ds, out_dir=tmp_path / "run", **kwargs)
    with pytest.raises(InputError):
        train_yolo(42, out_dir=tmp_path / "run")
    ds.images[0].objects[0].category_id = 9  # an unknown class id
    with pytest.raises(DatasetError):
        train_yolo(ds, out_dir=tmp_path / "run", epochs=1)
    assert not (tmp_path / "run").exists()


def test_val_refuses_another_class_table(detector, tmp_path):
    ds = _tiny_scenes(tmp_path / "scenes", n=2)
    ds.classes = ["a", "b", "c", "d", "e"]
    with pytest.raises(DatasetError, match="differ"):
        val_yolo(detector, ds)


def test_save_weights_round_trip(detector, tmp_path, test_scenes):
    path = save_yolo_weights(detector.model, tmp_path / "copy.safetensors", imgsz=detector.imgsz)
    again = YoloDetector(weights=str(path))
    a, b = detector.predict(test_scenes.image_path(2)), again.predict(test_scenes.image_path(2))
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-3)
    with pytest.raises(InputError):
        save_yolo_weights(detector.model, tmp_path / "x.pt", imgsz=160)
    # an ultralytics-style .pt checkpoint loads through the weights-only allow-list, with the same outputs
    import torch

    ckpt = {"model": copy.deepcopy(detector.model).half(), "train_args": {"imgsz": detector.imgsz}}
    torch.save(ckpt, tmp_path / "best.pt")
    from_pt = YoloDetector(weights=str(tmp_path / "best.pt"))
    assert from_pt.names == detector.names and from_pt.imgsz == detector.imgsz
    np.testing.assert_allclose(from_pt.predict(test_scenes.image_path(2)).xyxy, a.xyxy, atol=1e-3)
    # a pickle holding arbitrary objects is refused, not unpickled
    torch.save({"model": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match="weights_only"):
        YoloDetector(weights=str(tmp_path / "evil.pt"))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


# ------------------------------------------------------------------------------------------------ subprocesses
_OFFLINE_RUN = r"""
import json, os, socket, sys
attempts = []
def _blocked(*a, **k):
    attempts.append(repr(a[:2]))
    raise OSError("network blocked by test")
socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
import random
import numpy as np
import torch
torch.set_num_threads(2)
random.seed(5); np.random.seed(5)
state = np.random.get_state()[1][:4].tolist()
from vision.models.detection.yolo import train_yolo, val_yolo, ultralytics_offline
from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes
cfg = SceneConfig(image_size=(64, 64), classes=SHAPE_CLASSES, objects=(1, 2), object_scale=(0.3, 0.5))
ds = make_scenes(sys.argv[1] + "/scenes", n=8, seed=3, config=cfg, formats=())
run = train_yolo(ds, out_dir=sys.argv[1] + "/run", epochs=1, imgsz=64, batch=8, plots=True, cache="ram",
                 progress=True)
det = run.load()
d = det.predict(ds.image_path(0))
m = val_yolo(det, ds)
print(json.dumps({
    "attempts": attempts, "threads": torch.get_num_threads(), "rng": np.random.get_state()[1][:4].tolist() == state,
    "deterministic": torch.are_deterministic_algorithms_enabled(), "omp": os.environ.get("OMP_NUM_THREADS"),
    "yolo_env": sorted(k for k in os.environ if k.startswith(("YOLO_", "ULTRALYTICS_"))),
    "epochs": run.epochs, "names": list(d.names), "shape": list(d.image_shape), "map50": m["map50"],
    "files": sorted(p.name for p in (run.out_dir).iterdir()),
    "weights": run.weights.name, "ckpt": run.checkpoint.name,
    "home": sorted(str(p.relative_to(os.environ["HOME"])) for p in __import__("pathlib").Path(os.environ["HOME"]).rglob("*")),
    "config_dir": sorted(p.name for p in (__import__("pathlib").Path(os.environ["VISION_HOME"]) / "ultralytics" / "Ultralytics").iterdir()),
}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    drop = ("OMP_NUM_THREADS", "YOLO_CONFIG_DIR", "YOLO_OFFLINE", "YOLO_VERBOSE", "ULTRALYTICS_SAFE_LOAD")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), VISION_HOME=str(tmp_path / "vision_home"), PYTHONPATH=str(ROOT),
               MPLCONFIGDIR=str(tmp_path / "mpl"))  # matplotlib's font cache is not ours to test
    return env


@pytest.mark.slow
def test_train_predict_val_make_zero_network_attempts(tmp_path):
    """A 1-epoch training on 8 tiny scenes, predict and val: no socket use, no files in $HOME, state restored."""
    proc = subprocess.run([sys.executable, "-c", _OFFLINE_RUN, str(tmp_path)], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, lines[:5]  # the library printed nothing (the epoch bar of progress=True is on stderr)
    assert "train_yolo" in proc.stderr
    out = json.loads(lines[0])
    assert out["attempts"] == []
    assert out["home"] == []  # no ~/.config/Ultralytics settings file, nothing else
    assert {"Arial.ttf", "settings.json"} <= set(out["config_dir"])
    assert out["threads"] == 2 and out["rng"] and not out["deterministic"] and out["omp"] is None
    assert out["yolo_env"] == []
    assert out["epochs"] == 1 and out["names"] == ["circle", "square", "triangle", "star", "hexagon"]
    assert out["shape"] == [64, 64] and 0.0 <= out["map50"] <= 1.0
    assert {"dataset", "train", "best.safetensors"} <= set(out["files"])
    assert (out["weights"], out["ckpt"]) == ("best.safetensors", "best.pt")
    assert not list(tmp_path.glob("runs")), "ultralytics wrote a runs/ folder in the working directory"


_THREADS = r"""
import json, os, cv2, torch, numpy as np
from PIL import Image
torch.set_num_threads(2); cv2.setNumThreads(3)
np_opts = np.get_printoptions()
funcs = (Image.open, torch.save, cv2.imread)
from vision.models.detection.yolo import ultralytics_offline
ultralytics_offline()
print(json.dumps({"torch": torch.get_num_threads(), "cv2": cv2.getNumThreads(), "omp": os.environ.get("OMP_NUM_THREADS"),
                  "numexpr": os.environ.get("NUMEXPR_MAX_THREADS"), "np": np.get_printoptions() == np_opts,
                  "unpatched": funcs == (Image.open, torch.save, cv2.imread),
                  "yolo_env": sorted(k for k in os.environ if k.startswith(("YOLO_", "ULTRALYTICS_")))}))
"""


def test_thread_settings_restored_after_import(tmp_path):
    """Threads, env, print options and the functions ultralytics monkey-patches are as they were after the import."""
    proc = subprocess.run([sys.executable, "-c", _THREADS], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"torch": 2, "cv2": 3, "omp": None, "numexpr": None, "np": True, "unpatched": True, "yolo_env": []}
