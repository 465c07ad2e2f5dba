"""The shipped-detector scenes preset (cache, determinism, atomicity) and compare_detectors (table, timing, PNG)."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from vision.data.scenes import GENERATOR_VERSION, SHAPE_CLASSES, SceneConfig
from vision.errors import DatasetError, InputError
from vision.models.detection.compare import Comparison, compare_detectors
from vision.models.detection.scenes_preset import (
    DEFAULT_SIZES,
    DETECTION_SCENES,
    SPLIT_SEEDS,
    detection_scenes,
    scenes_cache_dir,
)
from vision.types import Detections


# --------------------------------------------------------------------------------------------------
# Scenes preset
# --------------------------------------------------------------------------------------------------
def test_preset_is_the_agreed_recipe():
    assert DETECTION_SCENES == SceneConfig(image_size=(256, 256), classes=SHAPE_CLASSES, objects=(1, 5),
                                           object_scale=(0.12, 0.4))
    assert SPLIT_SEEDS == {"train": 0, "val": 1, "test": 9}
    assert DEFAULT_SIZES == {"train": 1000, "val": 100, "test": 200}


def test_detection_scenes_caches_once_and_reads_back(tmp_path):
    ds = detection_scenes("val", n=4, root=tmp_path)
    folder = tmp_path / f"scenes-val-4-v{GENERATOR_VERSION}"
    assert ds.root == folder and len(ds) == 4 and ds.classes == list(SHAPE_CLASSES)
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary folder left
    assert (folder / "annotations.json").is_file() and (folder / "yolo" / "data.yaml").is_file()
    assert all(ds.image_path(i).is_file() and (folder / r.instance_mask).is_file() for i, r in enumerate(ds.images))
    stamp = (folder / "records.json").stat().st_mtime_ns
    again = detection_scenes("val", n=4, root=tmp_path)
    assert (folder / "records.json").stat().st_mtime_ns == stamp  # read back, not regenerated
    assert again.images == ds.images and again.classes == ds.classes
    # scene i depends only on (seed, i): the first scenes of a larger split are the same images
    more = detection_scenes("val", n=5, root=tmp_path)
    digest = [hashlib.sha256(d.image_path(0).read_bytes()).hexdigest() for d in (ds, more)]
    assert digest[0] == digest[1] and more.images[:4] == ds.images
    # and another split is another seed
    assert detection_scenes("test", n=1, root=tmp_path).images[0].objects != ds.images[0].objects


def test_detection_scenes_default_root_is_vision_home(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_HOME", str(tmp_path))
    assert scenes_cache_dir() == tmp_path / "datasets"
    ds = detection_scenes("train", n=2)
    assert ds.root.parent == tmp_path / "datasets" and ds.images[0].meta["index"] == 0


def test_detection_scenes_bad_arguments_write_nothing(tmp_path):
    for split, n in (("validation", None), ("train", 0), ("train", 2.0), ("test", True), (None, 3)):
        with pytest.raises(InputError):
            detection_scenes(split, n=n, root=tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_incomplete_or_foreign_cache_is_refused(tmp_path):
    folder = tmp_path / f"scenes-test-2-v{GENERATOR_VERSION}"
    folder.mkdir()
    (folder / "images").mkdir()  # e.g. an interrupted copy: no records.json
    with pytest.raises(DatasetError, match="delete"):
        detection_scenes("test", n=2, root=tmp_path)
    ds = detection_scenes("test", n=3, root=tmp_path)
    records = ds.root / "records.json"
    doc = json.loads(records.read_text())
    doc["config"]["objects"] = [1, 6]  # made with another recipe
    records.write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="config"):
        detection_scenes("test", n=3, root=tmp_path)
    records.write_text("{not json")
    with pytest.raises(DatasetError, match="unreadable"):
        detection_scenes("test", n=3, root=tmp_path)


# --------------------------------------------------------------------------------------------------
# compare_detectors
# --------------------------------------------------------------------------------------------------
class OracleDetector:
    """Returns each scene's ground truth (found by the image's pixels) with score 1 — a perfect detector."""

    def __init__(self, dataset):
        from vision.io import read_image

        self.calls = 0
        self.truth = {hashlib.sha1(read_image(dataset.image_path(i)).tobytes()).hexdigest(): dataset.detections(i)
                      for i in range(len(dataset))}

    def predict(self, image):
        self.calls += 1
        return self.truth[hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()]


class ShiftedDetector(OracleDetector):
    """The ground truth moved by half a box width: IoU 1/3, so no match at IoU ≥ 0.5."""

    def predict(self, image):
        gt = super().predict(image)
        shift = (gt.xyxy[:, 2:3] - gt.xyxy[:, 0:1]) / 2
        return Detections(gt.xyxy + np.concatenate([shift, 0 * shift] * 2, axis=1), gt.scores * 0.9, gt.class_ids,
                          names=gt.names, image_shape=gt.image_shape)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return detection_scenes("test", n=3, root=tmp_path_factory.mktemp("scenes"))


def test_compare_on_scenes_with_oracle(scenes, tmp_path):
    from PIL import Image

    oracle, shifted = OracleDetector(scenes), ShiftedDetector(scenes)
    cmp = compare_detectors(scenes, {"oracle": oracle, "shifted": shifted}, path=tmp_path / "cmp.png", cell=128)
    assert isinstance(cmp, Comparison)
    assert oracle.calls == len(scenes) + 1  # one untimed warm-up call, then every image
    rows = {r.model: r for r in cmp.rows}
    assert rows["oracle"].map50 == pytest.approx(1.0) and rows["oracle"].map50_95 == pytest.approx(1.0)
    assert rows["shifted"].map50 == 0.0
    n_boxes = np.mean([len(r.objects) for r in scenes.images])
    assert rows["oracle"].boxes_per_image == pytest.approx(n_boxes) and rows["oracle"].images == 3
    assert len(cmp.latencies_ms["oracle"]) == 3 and rows["oracle"].latency_ms == np.median(cmp.latencies_ms["oracle"])
    assert cmp.reports["oracle"].num_targets == sum(len(r.objects) for r in scenes.images)
    table = cmp.table().splitlines()
    assert table[0].startswith("| model |") and table[2].startswith("| oracle | 3 |") and "1.000" in table[2]
    json.dumps(cmp.to_dict(), allow_nan=False)
    # the sheet: 3 rows (images) × 3 columns (ground truth, oracle, shifted) of 128 px cells with a 4 px gap
    assert cmp.sheet.shape == (3 * 128 + 4 * 4, 3 * 128 + 4 * 4, 3) and cmp.path == tmp_path / "cmp.png"
    with Image.open(cmp.path) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), cmp.sheet)
    # targets given as Detections; sheet limited to the first image
    gts = [scenes.detections(i) for i in range(len(scenes))]
    from vision.io import read_image

    images = [read_image(scenes.image_path(i)) for i in range(len(scenes))]
    again = compare_detectors(images, {"oracle": OracleDetector(scenes)}, targets=gts, sheet_images=1, cell=64)
    assert again.rows[0].map50 == pytest.approx(1.0) and again.sheet.shape == (72, 2 * 64 + 12, 3)
    assert again.path is None


@pytest.mark.slow
def test_compare_opencv_detectors_on_photos(tmp_path):
    from vision.data import load_sample
    from vision.models import create_model

    images = [load_sample("astronaut"), load_sample("bus")]
    cmp = compare_detectors(images, {"haar-face": create_model("haar-face"), "hog-people": create_model("hog-people")},
                            path=tmp_path / "photos.png", cell=200)
    rows = {r.model: r for r in cmp.rows}
    faces = cmp.detections["haar-face"]
    assert len(faces[0]) >= 1 and faces[0].labels[0] == "face"  # Eileen Collins' face
    assert len(cmp.detections["hog-people"][1]) >= 1  # people in front of the bus
    assert all(r.map50 is None for r in cmp.rows) and not cmp.reports  # no targets, no mAP
    assert rows["haar-face"].latency_ms > 0 and cmp.sheet.shape == (2 * 200 + 12, 2 * 200 + 12, 3)
    assert (tmp_path / "photos.png").stat().st_size > 10_000
    # a face detector on the scenes: its classes differ from the targets', so no mAP but a note
    scenes = detection_scenes("test", n=1, root=tmp_path / "s")
    mixed = compare_detectors(scenes, {"haar-face": create_model("haar-face")})
    assert mixed.rows[0].map50 is None and "differ" in mixed.notes["haar-face"]


class NotADetector:
    def predict(self, image):
        return [(0, 0, 1, 1)]


def test_compare_bad_input_writes_nothing(scenes, tmp_path):
    oracle = OracleDetector(scenes)
    png = tmp_path / "out.png"
    cases = [
        (dict(images=scenes, detectors={}), "non-empty mapping"),
        (dict(images=scenes, detectors=[oracle]), "mapping"),
        (dict(images=scenes, detectors={"x": object()}), r"detectors\['x'\]: expected an object with .predict"),
        (dict(images=scenes, detectors={"x": NotADetector()}), "returned list"),
        (dict(images=[], detectors={"o": oracle}), "at least one image"),
        (dict(images=scenes, detectors={"o": oracle}, targets=[scenes.detections(0)]), "one per image"),
        (dict(images=scenes, detectors={"o": oracle}, targets="labels.json"), "targets"),
        (dict(images=scenes, detectors={"o": oracle}, path=tmp_path / "out.jpg"), ".png"),
        (dict(images=scenes, detectors={"o": oracle}, sheet_images=0), "sheet_images"),
        (dict(images=scenes, detectors={"o": oracle}, draw_min_score=2), "draw_min_score"),
    ]
    for kwargs, match in cases:
        kwargs.setdefault("path", png)
        with pytest.raises(InputError, match=match):
            compare_detectors(kwargs.pop("images"), kwargs.pop("detectors"), **kwargs)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------------------------------
# evaluate_detector, detector_options, shipped_detectors
# --------------------------------------------------------------------------------------------------
def test_evaluate_detector_oracle_and_shifted(scenes, tmp_path):
    from vision.io import read_image
    from vision.metrics.detection import evaluate_detections
    from vision.models.detection.compare import evaluate_detector

    oracle = OracleDetector(scenes)
    oracle.names = tuple(scenes.classes)
    png = tmp_path / "pr.png"
    report = evaluate_detector(oracle, scenes, path=png)
    assert oracle.calls == len(scenes) and report.map50 == pytest.approx(1.0) and report.map50_95 == pytest.approx(1.0)
    assert report.num_targets == sum(len(r.objects) for r in scenes.images) and png.stat().st_size > 10_000
    shifted = ShiftedDetector(scenes)
    again = evaluate_detector(shifted, scenes)
    want = evaluate_detections([shifted.predict(read_image(scenes.image_path(i))) for i in range(len(scenes))], scenes)
    assert again.map50 == want.map50 == 0.0 and sorted(os.listdir(tmp_path)) == ["pr.png"]


def test_evaluate_detector_bad_input_writes_nothing(scenes, tmp_path):
    from vision.data.records import DetectionDataset, ImageRecord
    from vision.models import create_model
    from vision.models.detection.compare import evaluate_detector

    png = tmp_path / "pr.png"
    empty = DetectionDataset(root=tmp_path, classes=list(scenes.classes), images=[])
    no_objects = DetectionDataset(root=scenes.root, classes=list(scenes.classes),
                                  images=[ImageRecord(scenes.images[0].file_name, 256, 256, [])])
    oracle = OracleDetector(scenes)
    cases = [
        ((oracle, [scenes.detections(0)]), {}, "expected a DetectionDataset"),
        ((oracle, empty), {}, "at least one image"),
        ((oracle, scenes), {"path": tmp_path / "pr.jpg"}, ".png"),
        ((oracle, no_objects), {"path": png}, "holds no object"),
        ((object(), scenes), {"path": png}, r"\.predict"),
        ((NotADetector(), scenes), {"path": png}, "returned list"),
        ((create_model("haar-face"), scenes), {"path": png}, r"detects \['face'\] but the dataset"),
        (("fmnist-cnn", scenes), {"path": png}, "expected a detector"),
    ]
    for args, kwargs, match in cases:
        with pytest.raises(InputError, match=match):
            evaluate_detector(*args, **kwargs)
    assert os.listdir(tmp_path) == []
    # images without objects are allowed (no curve asked for): every detection is a false positive
    assert evaluate_detector(OracleDetector(scenes), no_objects).num_targets == 0


def test_detector_options_pick_each_family_field():
    import importlib

    from vision.models import create_model, list_models
    from vision.models.detection.compare import detector_options

    expected = {"haar-face": ("min_score", "iou"), "hog-people": ("min_score", "iou"),
                "yolov8n": ("conf", "iou"), "yolo11n": ("conf", "iou"),
                "faster-rcnn-lite0": ("box_score_thresh", "box_nms_thresh"),
                "faster-rcnn-mobilenet": ("box_score_thresh", "box_nms_thresh"),
                "rcnn": ("score_threshold", "nms_iou"), "fast-rcnn": ("score_threshold", "nms_iou")}
    for module in ("rcnn", "fast_rcnn"):  # registered by their modules (the registry list may not hold them yet)
        try:
            importlib.import_module(f"vision.models.detection.{module}")
        except ImportError:
            pass
    registered = list_models("detect")
    assert {"haar-face", "hog-people"} <= set(registered)
    for name, (conf_field, iou_field) in expected.items():
        if name in registered:
            assert detector_options(name, conf=0.4, iou=0.6) == {conf_field: 0.4, iou_field: 0.6}, name
    assert all(detector_options(name) == {} for name in registered)  # every registered detector is understood
    assert detector_options("hog-people", iou=1) == {"iou": 1.0}
    det = create_model("hog-people", **detector_options("hog-people", conf=0.9, iou=0.2))
    assert det.min_score == 0.9 and det.iou == 0.2  # the options reach the detector
    from vision.errors import UnknownModelError

    for kwargs, match in [({"conf": 1.5}, r"conf: expected a number in \[0, 1\]"), ({"iou": 0}, r"iou: .*\(0, 1\]"),
                          ({"conf": True}, "conf"), ({"conf": "0.5"}, "conf")]:
        with pytest.raises(InputError, match=match):
            detector_options("haar-face", **kwargs)
    with pytest.raises(InputError, match="'classify' model; expected a detector"):
        detector_options("fmnist-cnn", conf=0.5)
    with pytest.raises(UnknownModelError):
        detector_options("no-such-model")


def test_shipped_detectors_are_registered_and_their_weights_are_here():
    from vision.models import list_models, model_spec
    from vision.models.detection.compare import shipped_detectors
    from vision.weights import verify

    shipped = shipped_detectors()
    assert {"haar-face", "hog-people"} <= set(shipped) and set(shipped) <= set(list_models("detect"))
    assert "faster-rcnn-mobilenet" not in shipped  # an architecture without default weights
    for name in shipped:
        assert verify(model_spec(name).weights).state in ("ok", "unverified", "builtin"), name
