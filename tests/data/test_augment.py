"""Augmentation presets: exact flips, identity, seeding, gray in/out, fill modes, config round trips, bad inputs."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

from vision.data.augment import (
    AUGMENT_PRESETS,
    Augmentation,
    AugmentConfig,
    augmentation_grid,
    make_augmentation,
)
from vision.errors import DTypeError, InputError, ShapeError
from vision.io import read_image


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def gray(rgb) -> np.ndarray:
    return rgb[..., 1].copy()


# --------------------------------------------------------------------------------------------------
def test_horizontal_and_vertical_flip_with_p1_are_exact(rgb, gray):
    h = make_augmentation(AugmentConfig(horizontal_flip=True, p_flip=1.0), seed=0)
    v = make_augmentation(AugmentConfig(vertical_flip=True, p_flip=1.0), seed=0)
    np.testing.assert_array_equal(h(rgb), np.fliplr(rgb))
    np.testing.assert_array_equal(v(rgb), np.flipud(rgb))
    np.testing.assert_array_equal(h(gray), np.fliplr(gray))


def test_everything_off_is_the_identity(rgb, gray):
    for aug in (make_augmentation(None), make_augmentation("none", seed=3),
                make_augmentation(AugmentConfig(rotation_range=0, p_flip=1.0, p_geometric=1.0))):
        assert aug.config.is_identity
        out = aug(rgb)
        np.testing.assert_array_equal(out, rgb)
        assert out is not rgb
        np.testing.assert_array_equal(aug(gray), gray)
    assert not AUGMENT_PRESETS["standard"].is_identity


@pytest.mark.parametrize("preset", ["light", "standard", "strong"])
def test_presets_keep_kind_dtype_and_size_and_change_the_image(preset, rgb, gray):
    aug = make_augmentation(preset, seed=1)
    out = aug(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert not np.array_equal(out, rgb)
    g = aug(gray)
    assert g.shape == gray.shape and g.dtype == np.uint8  # gray in → gray out (H×W, not H×W×1)


def test_same_seed_same_sequence_different_seed_different(rgb):
    a, b, c = (make_augmentation("standard", seed=s) for s in (7, 7, 8))
    seq_a = [a(rgb) for _ in range(3)]
    seq_b = [b(rgb) for _ in range(3)]
    seq_c = [c(rgb) for _ in range(3)]
    for x, y in zip(seq_a, seq_b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(seq_a[0], seq_a[1])  # the generator advances between calls
    assert not any(np.array_equal(x, y) for x, y in zip(seq_a, seq_c))
    a.reset(7)
    np.testing.assert_array_equal(a(rgb), seq_a[0])


def test_per_call_seed_is_repeatable_and_leaves_the_running_generator_alone(rgb):
    a = make_augmentation("strong", seed=0)
    b = make_augmentation("strong", seed=0)
    k1 = a(rgb, seed=123)
    np.testing.assert_array_equal(a(rgb, seed=123), k1)
    assert not np.array_equal(a(rgb, seed=124), k1)
    np.testing.assert_array_equal(a(rgb), b(rgb))  # the per-call seeds did not advance a's generator


def test_flips_are_drawn_independently(rgb):
    """albumentations 2.0's Compose(seed=) gives every transform the same seed; the two flips must not be tied."""
    aug = make_augmentation(AugmentConfig(horizontal_flip=True, vertical_flip=True, p_flip=0.5), seed=0)
    outcomes = set()
    for _ in range(40):
        out = aug(rgb)
        hflip = np.array_equal(out, np.fliplr(rgb)) or np.array_equal(out, np.flipud(np.fliplr(rgb)))
        vflip = np.array_equal(out, np.flipud(rgb)) or np.array_equal(out, np.flipud(np.fliplr(rgb)))
        outcomes.add((hflip, vflip))
    assert outcomes == {(False, False), (True, False), (False, True), (True, True)}


def test_size_resizes_every_output(rgb, gray):
    aug = make_augmentation("light", size=(20, 24), seed=0)
    assert aug(rgb).shape == (20, 24, 3)
    assert aug(gray).shape == (20, 24)
    assert make_augmentation(None, size=16)(rgb).shape == (16, 16, 3)


def test_constant_fill_brings_in_the_fill_value_nearest_does_not():
    img = np.full((32, 32, 3), 200, np.uint8)
    shift = {"width_shift": 0.4, "height_shift": 0.4, "rotation_range": 30}
    const = make_augmentation(AugmentConfig(**shift, fill_mode="constant", fill=(10, 20, 30)), seed=0)
    near = make_augmentation(AugmentConfig(**shift, fill_mode="nearest"), seed=0)
    out = const(img)
    assert np.any(np.all(out == (10, 20, 30), axis=-1))
    np.testing.assert_array_equal(near(img), img)  # replicating a constant border changes nothing
    g = const(img[..., 0])  # gray images get the fill's luma
    assert np.any(g == round(0.299 * 10 + 0.587 * 20 + 0.114 * 30))


def test_colour_and_noise_change_values_but_not_geometry():
    img = np.tile(np.linspace(40, 200, 64, dtype=np.uint8), (48, 1))
    img = np.dstack([img, img[:, ::-1], np.full_like(img, 120)])
    bright = make_augmentation(AugmentConfig(brightness=0.5), seed=0)
    means = [bright(img).mean() for _ in range(8)]
    assert np.ptp(means) > 5
    noisy = make_augmentation(AugmentConfig(noise=0.1), seed=0)(img)
    diff = noisy.astype(int) - img.astype(int)
    assert diff.std() > 1 and abs(diff.mean()) < 3


def test_config_dict_round_trip_is_json_safe():
    cfg = dataclasses.replace(AUGMENT_PRESETS["strong"], fill=(1, 2, 3), fill_mode="constant")
    d = json.loads(json.dumps(cfg.to_dict()))
    assert AugmentConfig.from_dict(d) == cfg
    assert AugmentConfig.from_dict({}) == AugmentConfig()
    assert make_augmentation({"horizontal_flip": True}).config.horizontal_flip
    for name, preset in AUGMENT_PRESETS.items():
        assert AugmentConfig.from_dict(preset.to_dict()) == preset, name


def test_augmentation_pickles_and_repeats(rgb):
    a = make_augmentation("standard", seed=5)
    b = pickle.loads(pickle.dumps(a))
    assert isinstance(b, Augmentation)
    np.testing.assert_array_equal(a(rgb), b(rgb))
    assert "rotation_range" in repr(a)


# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, value", [
    ("rotation_range", -1), ("rotation_range", 181), ("width_shift", 1.0), ("height_shift", -0.1),
    ("zoom_range", 1.0), ("shear_range", 90), ("brightness", 1.5), ("contrast", -0.2), ("saturation", 2),
    ("hue", 0.6), ("noise", 1.1), ("perspective", 0.6), ("p_flip", 1.1), ("p_color", -0.1),
    ("p_geometric", float("nan")), ("rotation_range", "10"), ("zoom_range", True), ("horizontal_flip", 1),
    ("vertical_flip", "yes"), ("fill_mode", "mirror"), ("fill", 256), ("fill", (1, 2)), ("fill", -1),
    ("fill", 1.5), ("fill", (0, 0, True)),
])
def test_bad_config_values_raise_input_error_naming_the_option(option, value):
    with pytest.raises(InputError, match=option):
        AugmentConfig(**{option: value})


def test_from_dict_rejects_unknown_options_and_non_mappings():
    with pytest.raises(InputError, match="rotation_rnage.*expected some of"):
        AugmentConfig.from_dict({"rotation_rnage": 10})
    with pytest.raises(InputError, match="mapping"):
        AugmentConfig.from_dict([("rotation_range", 10)])


@pytest.mark.parametrize("kwargs, match", [
    ({"config": "medium"}, "unknown preset 'medium'.*'standard'"),
    ({"config": 3}, "AugmentConfig, a preset name"),
    ({"config": None, "size": 0}, "size"),
    ({"config": None, "size": (10, 0)}, "size"),
    ({"config": None, "size": (10.0, 10)}, "size"),
    ({"config": None, "seed": -1}, "seed"),
    ({"config": None, "seed": 1.5}, "seed"),
])
def test_make_augmentation_bad_arguments(kwargs, match):
    config = kwargs.pop("config")
    with pytest.raises(InputError, match=match):
        make_augmentation(config, **kwargs)


def test_bad_images_raise_typed_errors(rgb):
    aug = make_augmentation("light", seed=0)
    with pytest.raises(DTypeError, match="float32"):
        aug(rgb.astype(np.float32))
    with pytest.raises(ShapeError, match="40×56×4"):
        aug(np.zeros((40, 56, 4), np.uint8))
    with pytest.raises(ShapeError):
        aug(np.zeros((0, 5), np.uint8))
    with pytest.raises(ShapeError):
        aug(np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(InputError, match="list"):
        aug(rgb.tolist())
    with pytest.raises(InputError, match="seed"):
        aug(rgb, seed=-3)


# --------------------------------------------------------------------------------------------------
def test_augmentation_grid_layout_repeatability_and_file(tmp_path, rgb, gray):
    path = tmp_path / "grid.png"
    sheet = augmentation_grid([rgb, gray], "standard", n=3, cell=64, path=path)
    gap = 4
    assert sheet.shape == (2 * 64 + 3 * gap, 4 * 64 + 5 * gap, 3) and sheet.dtype == np.uint8
    np.testing.assert_array_equal(read_image(path), sheet)
    again = augmentation_grid([rgb, gray], make_augmentation("standard", seed=99), n=3, cell=64)
    np.testing.assert_array_equal(again, sheet)  # cells are seeded from (seed, row, column), not the generator
    other = augmentation_grid([rgb, gray], "standard", n=3, cell=64, seed=1)
    assert not np.array_equal(other, sheet)
    # a plain callable works too, and a single image is one row
    flipped = augmentation_grid(rgb, np.fliplr, n=1, cell=64)
    assert flipped.shape == (64 + 2 * gap, 2 * 64 + 3 * gap, 3)


def test_augmentation_grid_bad_inputs_write_nothing(tmp_path, rgb):
    path = tmp_path / "grid.png"
    with pytest.raises(InputError, match="at least one image"):
        augmentation_grid([], "light", path=path)
    with pytest.raises(InputError, match="n must be"):
        augmentation_grid([rgb], "light", n=0, path=path)
    with pytest.raises(InputError, match="augment must be"):
        augmentation_grid([rgb], 42, path=path)
    with pytest.raises(InputError, match="unknown preset"):
        augmentation_grid([rgb], "heavy", path=path)
    with pytest.raises(DTypeError):
        augmentation_grid([rgb, rgb.astype(np.float64)], "light", path=path)
    with pytest.raises(InputError, match="image 1"):
        augmentation_grid([rgb, "cat.png"], "light", path=path)
    assert not path.exists()


_NO_NETWORK = """
import os, socket
calls = []
def refuse(*args, **kwargs):
    calls.append(args)
    raise OSError("network disabled in this test")
socket.getaddrinfo = socket.create_connection = refuse
import numpy as np
from vision.data.augment import make_augmentation
make_augmentation("light", seed=0)(np.zeros((8, 8, 3), np.uint8))
print("calls", len(calls), "env", os.environ.get("NO_ALBUMENTATIONS_UPDATE"))
"""


@pytest.mark.slow
def test_albumentations_is_imported_without_a_network_attempt():
    """albumentations asks PyPI for its newest version on import (a plain import makes one call here)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    out = subprocess.run([sys.executable, "-c", _NO_NETWORK], env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "calls 0 env None"  # no attempt, environment left as it was
