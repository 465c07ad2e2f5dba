"""Offline sample photos: every name loads as RGB uint8, paths where promised, typed errors, no ultralytics import."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from vision.data.photos import SampleInfo, lfw_subset, load_sample, sample_names, sample_path, samples
from vision.errors import InputError

EXPECTED = {
    "astronaut", "camera", "coins", "coffee", "chelsea", "rocket", "retina", "page", "text", "hubble_deep_field",
    "stereo_motorcycle", "china", "flower", "grace_hopper", "bus", "zidane",
}


def test_catalogue_lists_every_offline_photo_with_source_and_licence():
    cat = samples()
    assert set(cat) == EXPECTED
    assert sample_names() == sorted(EXPECTED)
    for name, info in cat.items():
        assert isinstance(info, SampleInfo) and info.name == name
        assert info.source and info.license and info.description
        assert callable(info.loader)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_loads_as_rgb_uint8(name):
    img = load_sample(name)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert min(img.shape[:2]) >= 100
    assert img.std() > 5  # a real picture, not a blank array
    assert img.flags.writeable


def test_gray_photos_become_three_equal_channels():
    import skimage.data

    cam = load_sample("camera")
    assert np.array_equal(cam[:, :, 0], skimage.data.camera())
    assert np.array_equal(cam[:, :, 0], cam[:, :, 1]) and np.array_equal(cam[:, :, 1], cam[:, :, 2])


def test_stereo_motorcycle_is_the_left_image():
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    img = load_sample("stereo_motorcycle")
    assert np.array_equal(img, left) and not np.array_equal(img, right)


def test_load_sample_returns_a_fresh_copy():
    a = load_sample("coffee")
    a[:] = 0
    assert load_sample("coffee").max() > 0


@pytest.mark.parametrize("name", ["bus", "zidane", "grace_hopper", "china", "flower"])
def test_sample_path_points_at_the_same_pixels(name):
    from vision.io import read_image

    path = sample_path(name)
    assert path is not None and path.is_file()
    assert np.array_equal(read_image(path), load_sample(name))


def test_sample_path_is_none_for_skimage_photos():
    assert sample_path("astronaut") is None
    assert sample_path("camera") is None


def test_known_sizes():
    assert load_sample("bus").shape == (1080, 810, 3)
    assert load_sample("zidane").shape == (720, 1280, 3)
    assert load_sample("china").shape == (427, 640, 3)


@pytest.mark.parametrize("func", [load_sample, sample_path])
def test_unknown_name_suggests_close_names_and_lists_all(func):
    with pytest.raises(InputError) as err:
        func("astronot")
    msg = str(err.value)
    assert "'astronot'" in msg and "did you mean 'astronaut'" in msg
    assert "zidane" in msg  # the full list


def test_non_string_name_is_an_input_error():
    with pytest.raises(InputError, match="expected a str"):
        load_sample(3)


def test_loading_ultralytics_assets_does_not_import_ultralytics():
    code = (
        "import os, sys\n"
        "before = os.environ.get('OMP_NUM_THREADS')\n"
        "from vision.data.photos import load_sample, sample_path\n"
        "load_sample('bus'); load_sample('zidane'); sample_path('bus')\n"
        "assert 'ultralytics' not in sys.modules, 'ultralytics was imported'\n"
        "assert os.environ.get('OMP_NUM_THREADS') == before\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr


def test_lfw_subset_faces_then_non_faces():
    images, labels = lfw_subset()
    assert images.shape == (200, 25, 25) and images.dtype == np.uint8
    assert images.max() > 200
    assert labels.tolist() == [1] * 100 + [0] * 100
    # Check the documented order (faces first) on the pixels: in aligned face crops the eye band (rows 7-9) is
    # darker than the forehead (rows 2-4) and the cheeks (rows 11-13); background patches have no such band.
    def eye_band(x: np.ndarray) -> np.ndarray:
        rows = x.astype(np.float64).mean(axis=2)
        return (rows[:, 2:5].mean(1) + rows[:, 11:14].mean(1)) / 2 - rows[:, 7:10].mean(1)

    assert np.mean(eye_band(images[:100]) > 0) > 0.8
    assert np.mean(eye_band(images[100:]) > 0) < 0.5


def test_descriptions_give_width_by_height():
    from vision.data import samples

    for name, info in samples().items():
        h, w = load_sample(name).shape[:2]
        assert f"{w}×{h} px" in info.description, f"{name}: {info.description!r} vs {w}×{h}"
