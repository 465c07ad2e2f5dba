"""The model registry."""

import pytest

from vision.errors import InputError, UnknownModelError
from vision.models import create_model, list_models, model_spec, register_model


def test_detectors_are_registered():
    assert {"haar-face", "hog-people"} <= set(list_models("detect"))
    assert list_models("classify") == [] or all(model_spec(n).task == "classify" for n in list_models("classify"))
    assert model_spec("haar-face").weights == "haar-face"


def test_unknown_model_suggests():
    with pytest.raises(UnknownModelError, match="did you mean hog-people"):
        create_model("hog-peple")
    with pytest.raises(InputError, match="task 'fly' is not one of"):
        list_models("fly")


@pytest.fixture
def clean_registry():
    from vision.models.registry import MODELS

    before = MODELS.snapshot()
    yield
    MODELS.restore(before)


def test_register_rejects_duplicates_and_bad_tasks(clean_registry):
    @register_model("test-dummy-model", task="classify")
    def dummy(**kwargs):
        """A dummy."""
        return kwargs

    assert create_model("test-dummy-model", a=1) == {"a": 1}
    assert model_spec("test-dummy-model").description == "A dummy."
    with pytest.raises(InputError, match="already registered"):
        register_model("test-dummy-model", task="classify")(lambda: None)
    with pytest.raises(InputError, match="task 'bogus'"):
        register_model("x", task="bogus")


def test_available_lists_only_models_whose_default_weights_are_here():
    from vision.models import list_models

    available = list_models(available=True)
    assert {"yolov8n", "yolo11n", "faster-rcnn-lite0", "haar-face", "hog-people", "efficientnet-lite0", "fcn",
            "mask-rcnn-lite0"} <= set(available)
    # registered without default weights (untrained architectures), or online-only official weights
    assert not {"lenet", "faster-rcnn-mobilenet", "mask-rcnn-resnet50", "fcn-resnet50"} & set(available)
    assert set(list_models("detect", available=True)) <= set(list_models("detect"))
