"""YOLO instance segmentation (``yolov8n-seg``) offline: registry, weights errors, masks contract, train from the
shipped detector with zero network attempts, val with mask mAP, save/load round trips, bad input."""

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
    ImageDecodeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
    WeightsError,
    WeightsNotFoundError,
)
from vision.models import create_model, list_models, model_config, model_from_config, model_spec
from vision.models.detection.yolo import YoloDetector, save_yolo_weights
from vision.models.segmentation.yolo_seg import YoloSegmenter

ROOT = Path(__file__).resolve().parents[2]
DETECTOR = ROOT / "weights" / "yolov8n-scenes.safetensors"
needs_detector = pytest.mark.skipif(not DETECTOR.is_file(), reason="weights/yolov8n-scenes.safetensors not shipped")
NAMES = ("circle", "square", "triangle", "star", "hexagon")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _scenes(root: Path, n: int = 8, size: int = 96):
    from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes

    cfg = SceneConfig(image_size=(size, size), classes=SHAPE_CLASSES, objects=(1, 2), object_scale=(0.3, 0.5))
    return make_scenes(root, n=n, seed=3, config=cfg, formats=())


@pytest.fixture(scope="module")
def untrained(tmp_path_factory) -> Path:
    """An untrained 5-class yolov8n-seg network saved as our safetensors (seconds; for contract and error tests)."""
    import torch

    from vision.models.detection.yolo import ultralytics_offline

    ultralytics_offline()
    from ultralytics.nn.tasks import SegmentationModel, yaml_model_load

    torch.manual_seed(0)
    net = SegmentationModel(yaml_model_load("yolov8n-seg.yaml"), nc=5, verbose=False)
    net.names = dict(enumerate(NAMES))
    return save_yolo_weights(net.eval(), tmp_path_factory.mktemp("untrained") / "seg.safetensors", imgsz=96)


# ------------------------------------------------------------------------------------------------ registry, weights
def test_registered_as_a_segment_model():
    assert "yolov8n-seg" in list_models("segment") and "yolov8n-seg" not in list_models("detect")
    spec = model_spec("yolov8n-seg")
    assert spec.task == "segment" and spec.weights == "yolov8n-seg-scenes"


def test_default_and_official_weights_offline_say_what_to_do():
    from vision.weights import load_manifest

    if "yolov8n-seg-scenes" not in load_manifest():  # until the trained file is shipped
        with pytest.raises(WeightsNotFoundError) as err:
            create_model("yolov8n-seg")
        msg = str(err.value)
        assert "yolov8n-seg-scenes" in msg and "not shipped" in msg and "bench/train_yolo.py" in msg
        assert "weights='yolov8n-seg'" in msg
        assert "yolov8n-seg" not in list_models("segment", available=True)
    with pytest.raises(WeightsNotFoundError) as err:
        create_model("yolov8n-seg", weights="yolov8n-seg")
    msg = str(err.value)
    assert "VISION_OFFLINE=1" in msg and "yolov8n-seg.pt" in msg and "github.com/ultralytics" in msg


@needs_detector
def test_detection_weights_are_refused_and_segmentation_weights_by_the_detector(untrained):
    with pytest.raises(WeightsError, match="expected YOLO segmentation weights, got 'detect' weights"):
        create_model("yolov8n-seg", weights="yolov8n-scenes")
    with pytest.raises(WeightsError, match="expected YOLO detection weights, got 'segment' weights.*yolov8n-seg"):
        create_model("yolov8n", weights=str(untrained))


def test_untrained_file_loads_with_task_metadata_and_config_round_trip(untrained):
    from safetensors import safe_open

    with safe_open(str(untrained), framework="pt") as f:
        assert f.metadata()["task"] == "segment"
    seg = create_model("yolov8n-seg", weights=str(untrained), conf=0.3)
    assert isinstance(seg, YoloSegmenter) and seg.task == "segment" and seg.names == NAMES and seg.imgsz == 96
    assert type(seg.model).__name__ == "SegmentationModel"
    again = model_from_config(json.loads(json.dumps(model_config(seg))))
    assert isinstance(again, YoloSegmenter) and again.config == seg.config
    assert repr(seg).startswith("YoloSegmenter(arch='yolov8n-seg'")


def test_bad_sources_raise_the_detectors_typed_errors(untrained, tmp_path):
    seg = YoloSegmenter(weights=str(untrained))
    with pytest.raises(SourceNotFoundError):
        seg.predict(tmp_path / "missing.jpg")
    with pytest.raises(ShapeError):
        seg.predict(np.zeros((8, 8, 4, 2), np.uint8))
    with pytest.raises(DTypeError):  # integers beyond uint8 (floats in [0, 1] are read as images)
        seg.predict(np.full((32, 32, 3), 1000, np.int16))
    with pytest.raises(DTypeError):
        seg.predict_batch([np.zeros((32, 32, 3), np.complex64)])
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageDecodeError):
        seg(bad)
    with pytest.raises(InputError):
        seg.predict_batch("not-a-list.jpg")
    with pytest.raises(InputError):
        YoloSegmenter(weights=str(untrained), imgsz=100)
    with pytest.raises(InputError, match="arch must be one of"):
        YoloSegmenter(weights=str(untrained), arch="yolov8n")


def test_train_refuses_datasets_without_masks_and_mismatched_tasks(tmp_path):
    from vision.models.detection.yolo_train import train_yolo

    ds = _scenes(tmp_path / "scenes", n=2, size=64)
    for kwargs in ({"task": "bogus"}, {"task": "detect", "model": "yolov8n-seg"},
                   {"task": "segment", "model": "yolov8n.yaml"}):
        with pytest.raises(InputError, match="task"):
            train_yolo(ds, out_dir=tmp_path / "run", epochs=1, **kwargs)
    for rec in ds.images:
        rec.instance_mask = None
        for o in rec.objects:
            o.instance_id = 0
    with pytest.raises(DatasetError, match="no instance masks or polygons"):
        train_yolo(ds, out_dir=tmp_path / "run", epochs=1, task="segment")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------------ a tiny training
_TRAIN = r"""
import json, os, socket, sys
attempts = []
def _blocked(*a, **k):
    attempts.append(repr(a[:2]))
    raise OSError("network blocked by test")
socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
import torch
torch.set_num_threads(1)
from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes
from vision.models.detection.yolo_train import train_yolo, val_yolo
cfg = SceneConfig(image_size=(96, 96), classes=SHAPE_CLASSES, objects=(1, 2), object_scale=(0.3, 0.5))
ds = make_scenes(sys.argv[1] + "/scenes", n=8, seed=3, config=cfg, formats=())
run = train_yolo(ds, out_dir=sys.argv[1] + "/run", task="segment", model="yolov8n-scenes", epochs=1, imgsz=96,
                 batch=8, plots=False)
m = val_yolo(str(run.weights), ds)
print(json.dumps({
    "attempts": attempts, "task": run.task, "arch": run.arch, "transferred": run.transferred, "epochs": run.epochs,
    "weights": str(run.weights), "metrics": run.metrics, "val": m, "names": list(run.names),
    "images": [str(ds.image_path(i)) for i in range(len(ds))],
    "home": sorted(str(p) for p in __import__("pathlib").Path(os.environ["HOME"]).rglob("*")),
}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    drop = ("OMP_NUM_THREADS", "YOLO_CONFIG_DIR", "YOLO_OFFLINE", "YOLO_VERBOSE", "ULTRALYTICS_SAFE_LOAD")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), VISION_HOME=str(tmp_path / "vision_home"), PYTHONPATH=str(ROOT),
               MPLCONFIGDIR=str(tmp_path / "mpl"))
    return env


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """1 epoch on 8 tiny scenes from the shipped detector, in a process whose sockets record every attempt."""
    if not DETECTOR.is_file():
        pytest.skip("weights/yolov8n-scenes.safetensors not shipped")
    tmp = tmp_path_factory.mktemp("yolo_seg_train")
    proc = subprocess.run([sys.executable, "-c", _TRAIN, str(tmp)], cwd=tmp, env=_env(tmp), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, lines[:5]  # the library printed nothing
    return json.loads(lines[0])


@pytest.mark.slow
def test_train_from_the_detector_offline_transfers_its_layers(trained):
    from vision.weights import load_state_dict

    assert trained["attempts"] == [] and trained["home"] == []
    assert (trained["task"], trained["arch"], trained["epochs"]) == ("segment", "yolov8n-seg", 1)
    assert trained["names"] == list(NAMES)
    # every tensor of the detector (backbone, neck, box head) has a place in the segmenter; only the mask head is new
    assert trained["transferred"] == len(load_state_dict(DETECTOR))
    for metrics in (trained["metrics"], trained["val"]):
        for key in ("map50", "map50_95", "mask_map50", "mask_map50_95", "mask_precision", "mask_recall"):
            assert 0.0 <= metrics[key] <= 1.0, (key, metrics)
        assert all({"ap50", "mask_ap50"} <= set(row) for row in metrics["per_class"].values())
    assert trained["val"]["map50"] > 0.3  # the transferred box head already finds the shapes after one epoch


@pytest.fixture(scope="module")
def segmenter(trained) -> YoloSegmenter:
    return create_model("yolov8n-seg", weights=trained["weights"], conf=0.05)


def _masks_inside_boxes(det) -> None:
    assert det.masks.any(axis=(1, 2)).all()  # ultralytics keeps only detections with a mask
    for box, mask in zip(det.xyxy, det.masks):  # and crops each mask to its box
        ys, xs = np.nonzero(mask)
        assert xs.min() >= np.floor(box[0]) - 1 and xs.max() <= np.ceil(box[2]) + 1
        assert ys.min() >= np.floor(box[1]) - 1 and ys.max() <= np.ceil(box[3]) + 1


@pytest.mark.slow
def test_predict_returns_boolean_masks_at_the_image_size(segmenter, trained):
    from vision.io import read_image

    image = read_image(trained["images"][0])
    det = segmenter.predict(image)
    assert det.names == NAMES and det.image_shape == (96, 96) and len(det) >= 1
    assert det.masks is not None and det.masks.dtype == np.bool_ and det.masks.shape == (len(det), 96, 96)
    _masks_inside_boxes(det)
    # a non-square image: masks at its own size, in its own pixels (the same as its boxes)
    wide = np.ascontiguousarray(np.pad(image, ((0, 0), (0, 64), (0, 0))))
    det2 = segmenter.predict(wide)
    assert det2.image_shape == (96, 160) and det2.masks.shape == (len(det2), 96, 160)
    _masks_inside_boxes(det2)
    # predict_batch and __call__ agree with predict
    batch = segmenter.predict_batch(trained["images"][:3], batch_size=2)
    for path, b in zip(trained["images"][:3], batch):
        one = segmenter(path)
        assert b.masks.shape == one.masks.shape and b.masks.dtype == np.bool_
        np.testing.assert_array_equal(b.class_ids, one.class_ids)


@pytest.mark.slow
@pytest.mark.parametrize("pad", [0, 64])
def test_masks_match_ultralytics_own_predict(segmenter, trained, pad):
    import torch
    from ultralytics import YOLO

    from vision.io import read_image

    image = np.ascontiguousarray(np.pad(read_image(trained["images"][1]), ((0, 0), (0, pad), (0, 0))))
    peer = YOLO("yolov8n-seg.yaml", task="segment")
    peer.model = segmenter.model
    threads = torch.get_num_threads()
    try:
        res = peer.predict(np.ascontiguousarray(image[..., ::-1]), imgsz=segmenter.imgsz, conf=0.05, retina_masks=True,
                           verbose=False)[0]
    finally:
        torch.set_num_threads(threads)
    ours = segmenter.predict(image)
    assert len(ours) >= 1 and ours.masks.shape == (len(ours), *image.shape[:2])
    np.testing.assert_allclose(ours.xyxy, res.boxes.xyxy.numpy(), atol=1e-3)
    np.testing.assert_array_equal(ours.masks, res.masks.data.numpy().astype(bool))


@pytest.mark.slow
def test_save_load_round_trips_give_identical_masks(segmenter, trained, tmp_path):
    import torch

    image = trained["images"][2]
    a = segmenter.predict(image)
    path = save_yolo_weights(segmenter.model, tmp_path / "copy.safetensors", imgsz=segmenter.imgsz)
    b = YoloSegmenter(weights=str(path), conf=0.05).predict(image)
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-4)
    # an ultralytics-style .pt checkpoint of the segmenter loads through the weights-only allow-list
    torch.save({"model": copy.deepcopy(segmenter.model).half(), "train_args": {"imgsz": segmenter.imgsz}},
               tmp_path / "best.pt")
    c = YoloSegmenter(weights=str(tmp_path / "best.pt"), conf=0.05).predict(image)
    np.testing.assert_array_equal(a.masks, c.masks)
    with pytest.raises(WeightsError, match="got 'segment' weights"):
        YoloDetector(weights=str(tmp_path / "best.pt"))
