"""Every registered model round-trips its architecture through model_config / model_from_config (registry-driven)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from vision.errors import (
    InputError,
    SourceNotFoundError,
    UnknownModelError,
    WeightsNotFoundError,
)
from vision.models import (
    ModelConfig,
    create_model,
    list_models,
    model_config,
    model_from_config,
    save_model_config,
)
from vision.models.config import CONFIG_FORMAT

MODELS = list_models()  # evaluated at collection: models added to the registry are tested without editing this file

_built: dict[str, object] = {}


def build(name: str):
    """The model built with its defaults (cached per session); skipped only when its default weights are absent."""
    if name not in _built:
        try:
            _built[name] = create_model(name)
        except WeightsNotFoundError as exc:
            pytest.skip(f"{name}: the default build needs weights that are absent offline ({exc})")
    return _built[name]


def same_architecture(a, b) -> None:
    """Same type, registered name and config; for nn.Modules the same state_dict keys and tensor shapes."""
    assert type(a) is type(b)
    assert b.registry_name == a.registry_name
    assert b.config == a.config and type(b.config) is type(a.config)
    if hasattr(a, "state_dict"):
        sa, sb = a.state_dict(), b.state_dict()
        assert list(sa) == list(sb)
        assert [tuple(v.shape) for v in sa.values()] == [tuple(v.shape) for v in sb.values()]


def test_the_registry_is_not_empty():
    assert {"fmnist-cnn", "haar-face", "hog-people"} <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_config_json_round_trip(name, tmp_path):
    model = build(name)
    assert isinstance(model.config, ModelConfig) and dataclasses.is_dataclass(model.config)
    doc = model_config(model)
    assert doc == {"format": CONFIG_FORMAT, "model": name, "config": model.config.to_dict()}
    text = json.dumps(doc)  # through JSON text: tuples become lists, and must come back equal
    same_architecture(model, model_from_config(text))
    same_architecture(model, model_from_config(json.loads(text)))
    assert type(model.config).from_json(model.config.to_json()) == model.config
    # a file, given as a Path and as a string
    path = save_model_config(model, tmp_path / "arch" / f"{name}.json")
    assert json.loads(path.read_text()) == doc
    same_architecture(model, model_from_config(path))
    same_architecture(model, model_from_config(str(path)))


@pytest.mark.parametrize("name", MODELS)
def test_config_and_dict_and_overrides_are_accepted(name):
    model = build(name)
    cfg = model.config
    assert create_model(name, config=cfg).config == cfg
    assert create_model(name, config=cfg.to_dict()).config == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.__setattr__(dataclasses.fields(cfg)[0].name, None)


@pytest.mark.parametrize("name", MODELS)
def test_unknown_keys_and_wrong_config_types_are_refused(name, tmp_path):
    build(name)  # skip models whose weights are absent
    with pytest.raises(InputError, match="not_an_option"):
        create_model(name, not_an_option=1)
    doc = model_config(build(name))
    doc["config"]["not_an_option"] = 1
    with pytest.raises(InputError, match="unknown keys \\['not_an_option'\\]"):
        model_from_config(doc)
    with pytest.raises(InputError, match="config must be a"):
        create_model(name, config="big")
    with pytest.raises(InputError, match="config must be a"):
        create_model(name, config=3)


def test_wrong_documents_are_refused(tmp_path):
    good = model_config(build("fmnist-cnn"))
    for bad in ({**good, "format": "vision.model-config/0"}, {**good, "config": [1, 2]}, {"model": "fmnist-cnn"},
                {**good, "model": 3}):
        with pytest.raises(InputError, match="expected \\{'format'"):
            model_from_config(bad)
    with pytest.raises(InputError, match="not valid JSON"):
        model_from_config('{"format": ')
    with pytest.raises(InputError, match="expected \\{'format'"):
        model_from_config('{"model": "fmnist-cnn", "widths": [8, 16]}')  # a bare config, not a model_config document
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    with pytest.raises(InputError, match="broken.json: not valid JSON"):
        model_from_config(broken)


def test_unknown_model_and_missing_file():
    doc = {**model_config(build("fmnist-cnn")), "model": "fmnist-cn"}
    with pytest.raises(UnknownModelError, match="did you mean fmnist-cnn"):
        model_from_config(doc)
    with pytest.raises(SourceNotFoundError, match="nope.json: architecture config file not found"):
        model_from_config(Path("/no/such/dir/nope.json"))
    with pytest.raises(SourceNotFoundError, match="nope.json"):
        model_from_config("/no/such/dir/nope.json")


def test_objects_outside_the_registry_are_refused_and_nothing_is_written(tmp_path):
    import torch

    for obj in (torch.nn.Linear(2, 2), object(), create_model("fmnist-cnn").config):
        with pytest.raises(InputError, match="expected a model built by vision.models.create_model"):
            save_model_config(obj, tmp_path / "arch.json")
    assert not (tmp_path / "arch.json").exists()


# ------------------------------------------------------------------------------------------------------------
# the OpenCV detectors: plain objects, same protocol
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "options", "photo"), [
    ("haar-face", {"weights": "haar-face-alt2", "min_neighbors": 3, "scale_factor": 1.2, "max_side": None,
                   "min_score": 0.0}, "astronaut"),
    ("hog-people", {"win_stride": 8, "scale": 1.1, "hit_threshold": 0.2, "max_side": 400, "iou": 0.5}, "bus"),
])
def test_opencv_detector_rebuilt_from_its_file_detects_the_same(name, options, photo, tmp_path):
    from vision.data import load_sample

    detector = create_model(name, **options)
    for key, value in options.items():
        assert getattr(detector.config, key) == value and getattr(detector, key) == value
    assert create_model(name).config != detector.config
    again = model_from_config(save_model_config(detector, tmp_path / "det.json"))
    assert again.config == detector.config and repr(again) == repr(detector)
    image = load_sample(photo)
    a, b = detector.predict(image), again.predict(image)
    assert len(a) > 0
    np.testing.assert_array_equal(a.xyxy, b.xyxy)
    np.testing.assert_array_equal(a.scores, b.scores)


def test_opencv_detector_options_are_read_only_and_numbers_are_normalised():
    from vision.models.detection.opencv import HaarFaceConfig, HogPeopleConfig

    detector = create_model("haar-face", min_score=1, max_side=np.int64(512), scale_factor=np.float32(1.25))
    assert detector.config == HaarFaceConfig(min_score=1.0, max_side=512, scale_factor=1.25)
    assert type(detector.config.max_side) is int and type(detector.config.min_score) is float
    assert json.loads(json.dumps(model_config(detector)))["config"]["max_side"] == 512
    with pytest.raises(AttributeError, match="min_score is read-only"):
        detector.min_score = 0.2
    assert create_model("hog-people", config=HogPeopleConfig(win_stride=8)).win_stride == 8


@pytest.mark.parametrize(("name", "options", "match"), [
    ("haar-face", {"scale_factor": 1.0}, "expected scale_factor > 1"),
    ("haar-face", {"scale_factor": "1.2"}, "scale_factor must be a finite number"),
    ("haar-face", {"min_neighbors": -1}, "min_neighbors must be an integer ≥ 0"),
    ("haar-face", {"min_neighbors": 2.5}, "min_neighbors must be an integer"),
    ("haar-face", {"min_size": 0}, "min_size must be an integer ≥ 1"),
    ("haar-face", {"weights": ""}, "weights must be a weights manifest name"),
    ("haar-face", {"max_side": 63}, "max_side: expected None or ≥ 64"),
    ("haar-face", {"max_side": True}, "max_side: expected None or ≥ 64"),
    ("haar-face", {"min_score": 1.5}, "0 ≤ min_score ≤ 1"),
    ("hog-people", {"iou": 0.0}, "0 < iou ≤ 1"),
    ("hog-people", {"iou": float("nan")}, "iou must be a finite number"),
    ("hog-people", {"win_stride": 0}, "win_stride must be an integer ≥ 1"),
    ("hog-people", {"scale": 0.9}, "expected scale > 1"),
    ("hog-people", {"hit_threshold": float("inf")}, "hit_threshold must be a finite number"),
])
def test_opencv_detector_bad_options(name, options, match, tmp_path):
    with pytest.raises(InputError, match=match):
        create_model(name, **options)
    doc = model_config(create_model(name))
    doc["config"].update(options)
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=match):
        model_from_config(path)


def test_haar_unknown_cascade_names_the_manifest():
    with pytest.raises(UnknownModelError, match="haar-face"):
        create_model("haar-face", weights="haar-fcae")
