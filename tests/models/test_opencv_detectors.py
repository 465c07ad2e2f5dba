"""The OpenCV detectors on real photos that ship in pip packages."""

import numpy as np
import pytest

from vision.data import load_sample
from vision.errors import DTypeError, InputError, ShapeError, SourceNotFoundError
from vision.models import create_model
from vision.types import Detections


def _inside(box, region):
    """True when the centre of ``box`` lies inside ``region`` (both xyxy)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


@pytest.fixture(scope="module")
def faces():
    return create_model("haar-face")


def test_astronaut_has_one_face_on_her_face(faces):
    det = faces.predict(load_sample("astronaut"))
    assert isinstance(det, Detections) and det.labels == ("face",)
    # Eileen Collins' face lies roughly in x 170–280, y 60–170 of the 512×512 photo
    assert _inside(det.xyxy[0], (170, 60, 280, 170))
    assert det.image_shape == (512, 512)


def test_grace_hopper_face(faces):
    det = faces.predict(load_sample("grace_hopper"))
    assert len(det) == 1 and _inside(det.xyxy[0], (180, 150, 360, 330))


def test_no_face_in_a_cat_or_coffee(faces):
    assert len(faces.predict(load_sample("coffee"))) == 0


def test_bus_has_two_frontal_faces_and_three_people(faces):
    img = load_sample("bus")
    assert len(faces.predict(img)) == 2
    people = create_model("hog-people").predict(img)
    assert len(people) == 3 and set(people.labels) == {"person"}
    assert np.all(people.scores >= 0.5) and np.all(np.diff(people.scores) <= 0)  # sorted best first
    # the man in the beige coat (x ≈ 60–250, y ≈ 400–900) is the most confident detection
    assert _inside(people.xyxy[0], (40, 380, 260, 920))


def test_predict_accepts_paths_and_rejects_bad_input(faces, tmp_path):
    from vision.data import sample_path

    assert len(faces.predict(sample_path("grace_hopper"))) == 1
    with pytest.raises(SourceNotFoundError, match="nope.jpg"):
        faces.predict(tmp_path / "nope.jpg")
    with pytest.raises(ShapeError):
        faces.predict(np.zeros((4, 4, 4, 4), np.uint8))
    with pytest.raises(DTypeError):
        faces.predict(np.zeros((32, 32, 3), np.complex64))


def test_options_are_validated():
    with pytest.raises(InputError, match="scale_factor > 1"):
        create_model("haar-face", scale_factor=1.0)
    with pytest.raises(InputError, match="max_side: expected None or ≥ 64"):
        create_model("hog-people", max_side=10)
    with pytest.raises(InputError, match="min_score"):
        create_model("hog-people", min_score=2)


def test_shrinking_maps_boxes_back_to_full_size(faces):
    img = load_sample("astronaut")
    big = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)  # 1024×1024, shrunk to 512 inside
    small_det = faces.predict(img)
    det = create_model("haar-face", max_side=512).predict(big)
    assert det.image_shape == (1024, 1024)
    assert np.allclose(det.xyxy[0], small_det.xyxy[0] * 2, atol=4)


def test_hog_people_on_an_image_smaller_than_its_window_finds_nobody_instead_of_crashing():
    """OpenCV's HOG detectMultiScale segfaults on images smaller than its 64×128 window (a thumbnail, a video
    frame shrunk for speed); the detector returns no detections for them."""
    from vision.models import create_model

    det = create_model("hog-people")
    for shape in [(48, 64, 3), (127, 200, 3), (200, 63, 3)]:
        result = det.predict(np.full(shape, 100, np.uint8))
        assert len(result) == 0 and result.image_shape == shape[:2]
