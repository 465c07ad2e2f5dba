"""MTCNN faces through facenet-pytorch (optional: installed with --no-deps; skipped with the reason otherwise)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from vision.data import load_sample
from vision.errors import InputError, MissingDependencyError, ShapeError
from vision.models import create_model
from vision.types import Detections

HAVE_FACENET = importlib.util.find_spec("facenet_pytorch") is not None
needs_facenet = pytest.mark.skipif(not HAVE_FACENET, reason="facenet-pytorch is not installed "
                                                            "(pip install --no-deps facenet-pytorch)")


@pytest.fixture(scope="module")
def mtcnn():
    return create_model("mtcnn-face")


@needs_facenet
@pytest.mark.parametrize("photo", ["astronaut", "grace_hopper"])
def test_one_face_on_a_portrait_agrees_with_haar(mtcnn, photo):
    """One face each, high probability, and the box overlaps the Haar cascade's box (a different algorithm)."""
    from torchvision.ops import box_iou
    import torch

    image = load_sample(photo)
    det = mtcnn.predict(image)
    assert isinstance(det, Detections) and det.labels == ("face",) and det.scores[0] > 0.99
    haar = create_model("haar-face").predict(image)
    assert len(haar) >= 1
    iou = box_iou(torch.from_numpy(det.xyxy), torch.from_numpy(haar.xyxy)).max().item()
    assert iou > 0.4


@needs_facenet
def test_no_face_in_a_textureless_image_and_shrinking_keeps_boxes_in_pixels(mtcnn):
    assert len(mtcnn.predict(np.full((200, 300, 3), 128, np.uint8))) == 0
    image = load_sample("astronaut")
    big = np.kron(image, np.ones((3, 3, 1), np.uint8))  # 1536 px: shrunk to max_side 1024 inside
    a, b = mtcnn.predict(image), mtcnn.predict(big)
    assert b.image_shape == (1536, 1536)
    np.testing.assert_allclose(b.xyxy[0] / 3, a.xyxy[0], atol=6)


@needs_facenet
def test_bad_input_and_options(mtcnn):
    with pytest.raises(ShapeError):
        mtcnn.predict(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(InputError, match="min_score"):
        mtcnn.predict(load_sample("astronaut"), min_score=2)
    with pytest.raises(InputError, match="min_face_size"):
        create_model("mtcnn-face", min_face_size=5)
    with pytest.raises(InputError, match="thresholds"):
        create_model("mtcnn-face", thresholds=(0.5, 0.5))
    assert len(mtcnn.predict_batch([load_sample("astronaut"), load_sample("grace_hopper")])) == 2


def test_missing_package_is_a_typed_error_with_the_install_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "facenet_pytorch", None)  # import now fails as if not installed
    with pytest.raises(MissingDependencyError, match="pip install --no-deps facenet-pytorch"):
        create_model("mtcnn-face")
