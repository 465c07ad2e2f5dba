"""Synthetic scenes: determinism, exact masks and boxes, config limits, on-disk layout and exports, typed errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from vision.data.mnist import FASHION_MNIST_ENV, fashion_mnist_available
from vision.data.scenes import (
    ALL_CLASSES,
    DEFAULT_CLASSES,
    DIGIT_CLASSES,
    FASHION_CLASSES,
    GENERATOR_VERSION,
    SHAPE_CLASSES,
    SceneConfig,
    image_seed,
    make_scene,
    make_scenes,
)
from vision.errors import DatasetError, InputError, SourceNotFoundError

SEEDS = range(60)
SMALL = SceneConfig(image_size=(96, 128), objects=(1, 4), object_scale=(0.15, 0.45), min_visible_pixels=20)


@pytest.fixture(scope="module")
def scenes():
    return [make_scene(s) for s in SEEDS]


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


# ---------------------------------------------------------------------------------------------- one scene
def test_shapes_and_dtypes(scenes):
    for image, objects, inst, sem in scenes:
        assert image.shape == (320, 320, 3) and image.dtype == np.uint8
        assert inst.shape == sem.shape == (320, 320) and inst.dtype == sem.dtype == np.uint8
        assert all(0 <= o.category_id < len(DEFAULT_CLASSES) for o in objects)


def test_same_seed_same_bytes_different_seed_different_scene():
    a, b = make_scene(7), make_scene(7)
    assert a[0].tobytes() == b[0].tobytes()
    assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])
    assert a[1] == b[1]
    c = make_scene(8)
    assert c[0].tobytes() != a[0].tobytes()


def test_no_global_rng_is_used_or_touched():
    np.random.seed(1)
    random.seed(1)
    state_np, state_py = np.random.get_state()[1].copy(), random.getstate()
    first = make_scene(3, SMALL)[0]
    assert np.array_equal(np.random.get_state()[1], state_np) and random.getstate() == state_py
    np.random.seed(99)
    random.seed(99)
    assert np.array_equal(make_scene(3, SMALL)[0], first)


def test_box_is_the_tight_box_of_the_visible_mask(scenes):
    checked = 0
    for _, objects, inst, _ in scenes:
        for o in objects:
            ys, xs = np.nonzero(inst == o.instance_id)
            assert len(xs) == o.attributes["area"] > 0
            assert o.bbox == (xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0)
            checked += 1
    assert checked > 150


def test_instance_and_semantic_masks_agree(scenes):
    for _, objects, inst, sem in scenes:
        assert sorted(np.unique(inst[inst > 0]).tolist()) == [o.instance_id for o in objects]
        assert [o.instance_id for o in objects] == list(range(1, len(objects) + 1))
        lut = np.zeros(256, np.uint8)
        for o in objects:
            lut[o.instance_id] = o.category_id + 1
        assert np.array_equal(sem, lut[inst])
        assert np.array_equal(sem == 0, inst == 0)


def test_counts_within_config(scenes):
    counts = [len(s[1]) for s in scenes]
    assert min(counts) >= 1 and max(counts) <= 6
    assert len(set(counts)) >= 4  # the range is used, not one value
    cfg = SceneConfig(objects=(3, 3), image_size=(128, 128))
    assert all(len(make_scene(s, cfg)[1]) == 3 for s in range(10))
    assert all(len(make_scene(s, SceneConfig(objects=(0, 0), image_size=(64, 64)))[1]) == 0 for s in range(3))


def test_occlusion_and_truncation_limits(scenes):
    cfg = SceneConfig()
    occluded = truncated = 0
    for _, objects, _, _ in scenes:
        for o in objects:
            a = o.attributes
            assert 0 <= a["occluded_fraction"] <= cfg.max_occlusion + 1e-4
            assert 0 <= a["truncated_fraction"] <= cfg.max_truncation + 1e-4
            assert a["area"] >= cfg.min_visible_pixels
            assert a["occluded"] == int(a["occluded_fraction"] > 0)
            assert a["truncated"] == int(a["truncated_fraction"] > 0)
            occluded += a["occluded_fraction"] > 0.05
            truncated += a["truncated_fraction"] > 0.05
    assert occluded >= 5 and truncated >= 5  # the realism features are actually exercised


def test_truncated_boxes_touch_the_border(scenes):
    for _, objects, _, _ in scenes:
        for o in objects:
            if o.attributes["truncated_fraction"] > 0.01:
                x1, y1, x2, y2 = o.bbox
                assert x1 == 0 or y1 == 0 or x2 == 320 or y2 == 320


def test_no_occlusion_when_forbidden():
    cfg = SceneConfig(max_occlusion=0.0, max_truncation=0.0, image_size=(160, 160))
    for s in range(15):
        _, objects, inst, _ = make_scene(s, cfg)
        for o in objects:
            assert o.attributes["occluded_fraction"] == 0 and o.attributes["truncated_fraction"] == 0
            assert o.attributes["occluded"] == 0 and o.attributes["truncated"] == 0


def test_objects_stand_out_from_their_surroundings(scenes):
    """Objects must be visible: their pixels differ clearly from a ring of background around them."""
    import cv2

    diffs = []
    for image, objects, inst, _ in scenes[:30]:
        img = image.astype(np.float32)
        for o in objects:
            m = (inst == o.instance_id).astype(np.uint8)
            if m.sum() < 200:
                continue
            ring = (cv2.dilate(m, np.ones((7, 7), np.uint8)) > 0) & (inst == 0)
            if ring.sum() < 50:
                continue
            inner = cv2.erode(m, np.ones((3, 3), np.uint8)) > 0
            diffs.append(np.linalg.norm(img[inner].mean(0) - img[ring].mean(0)))
    assert len(diffs) > 30 and np.median(diffs) > 40


def test_backgrounds_are_photos_and_procedural():
    cfg = SceneConfig(image_size=(64, 64), objects=(0, 0))
    import vision.data.scene_drawing as drawing

    groups = set()
    for s in range(40):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(s)))
        groups.add(drawing._background(rng, cfg)[1])
    assert any(g.startswith("procedural:") for g in groups)
    assert len([g for g in groups if not g.startswith("procedural:")]) >= 6


def test_shapes_only_and_glyph_sprites_recorded():
    cfg = SceneConfig(classes=("circle", "star"), image_size=(128, 128))
    for s in range(5):
        for o in make_scene(s, cfg)[1]:
            assert o.category_id in (0, 1) and "sprite" not in o.attributes
    cfg = SceneConfig(classes=DIGIT_CLASSES, image_size=(128, 128), sprite_split="test")
    for s in range(5):
        for o in make_scene(s, cfg)[1]:
            src, idx = o.attributes["sprite"].split(":")
            assert src == "digits" and int(idx) >= 1438  # held-out digits only
            from vision.data.mnist import load_digits_dataset

            assert load_digits_dataset()[1][int(idx)] == o.category_id


@pytest.mark.skipif(not fashion_mnist_available(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_classes_render():
    cfg = SceneConfig(classes=SHAPE_CLASSES + FASHION_CLASSES, image_size=(160, 160), sprite_split="test")
    names = set()
    for s in range(10):
        for o in make_scene(s, cfg)[1]:
            names.add(cfg.classes[o.category_id])
            if o.category_id >= len(SHAPE_CLASSES):
                assert o.attributes["sprite"].startswith("fashion-mnist-test:")
    assert names & set(FASHION_CLASSES)


def test_fashion_classes_without_files_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv(FASHION_MNIST_ENV, str(tmp_path / "empty"))
    cfg = SceneConfig(classes=("circle", "bag"), image_size=(64, 64))
    out = tmp_path / "out"
    with pytest.raises(SourceNotFoundError, match="dataset-fashion-mnist"):
        make_scenes(out, n=2, config=cfg)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_other_image_sizes_and_png_when_jpeg_is_off(tmp_path):
    from vision.io import read_image

    cfg = SceneConfig(image_size=(48, 200), object_scale=(0.2, 0.6), jpeg_quality=None)
    image, objects, inst, _ = make_scene(image_seed(0, 0), cfg)
    assert image.shape == (48, 200, 3) and inst.shape == (48, 200)
    ds = make_scenes(tmp_path / "png", n=1, config=cfg, formats=())
    assert ds.images[0].file_name == "images/000000.png"
    assert np.array_equal(read_image(tmp_path / "png" / ds.images[0].file_name), image)


# ---------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": (16, 16)}, "image_size"),
    ({"image_size": (320,)}, "image_size"),
    ({"image_size": (320.5, 320)}, "integers"),
    ({"classes": ("circle", "sqare")}, "did you mean 'square'"),
    ({"classes": ()}, "at least one"),
    ({"classes": ("circle", "circle")}, "unique"),
    ({"objects": (3, 1)}, "objects"),
    ({"objects": (1, 300)}, "objects"),
    ({"objects": (-1, 2)}, "objects"),
    ({"object_scale": (0.5, 0.2)}, "object_scale"),
    ({"object_scale": (0.01, 0.2)}, "at least 6 px"),
    ({"max_occlusion": 1.0}, "max_occlusion"),
    ({"max_truncation": -0.1}, "max_truncation"),
    ({"min_visible_pixels": 0}, "min_visible_pixels"),
    ({"backgrounds": ("astronaut", "astronot")}, "did you mean 'astronaut'"),
    ({"jpeg_quality": (0, 90)}, "jpeg_quality"),
    ({"noise_sigma": (float("nan"), 1.0)}, "finite"),
    ({"sprite_split": "val"}, "sprite_split"),
    ({"photo_background": True}, "photo_background"),
])
def test_config_validation(kwargs, match):
    with pytest.raises(InputError, match=match):
        SceneConfig(**kwargs)


def test_config_round_trips_through_its_dict():
    cfg = SceneConfig(image_size=(100, 120), classes=("star", "digit_3"), jpeg_quality=None)
    again = SceneConfig(**yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert again == cfg
    assert np.array_equal(make_scene(5, again)[0], make_scene(5, cfg)[0])
    assert set(DEFAULT_CLASSES) <= set(ALL_CLASSES)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_bad_seed(seed):
    with pytest.raises(InputError, match="seed"):
        make_scene(seed, SMALL)


def test_config_must_be_a_scene_config():
    with pytest.raises(InputError, match="SceneConfig"):
        make_scene(0, {"image_size": (64, 64)})


# ---------------------------------------------------------------------------------------------- datasets on disk
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenes") / "ds"
    ds = make_scenes(out, n=6, seed=11, config=SMALL)
    return out, ds


def test_layout_and_card(written):
    out, ds = written
    assert ds.root == out and len(ds) == 6 and ds.classes == list(SMALL.classes)
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"{i:06d}.jpg" for i in range(6)]
    assert len(list((out / "masks/instance").glob("*.png"))) == len(list((out / "masks/semantic").glob("*.png"))) == 6
    card = yaml.safe_load((out / "dataset.yaml").read_text())
    assert card["generator"] == "vision.data.scenes" and card["generator_version"] == GENERATOR_VERSION
    assert card["seed"] == 11 and card["n"] == 6 and card["classes"] == list(SMALL.classes)
    assert SceneConfig(**card["config"]) == SMALL
    assert sum(card["images_per_group"].values()) == 6
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_files_read_back_to_make_scene(written):
    from vision.io import read_image

    out, ds = written
    for i, rec in enumerate(ds.images):
        assert rec.meta["seed"] == image_seed(11, i) and rec.meta["index"] == i and rec.meta["group"]
        image, objects, inst, sem = make_scene(rec.meta["seed"], SMALL)
        assert np.array_equal(read_image(out / rec.file_name), image)
        assert np.array_equal(read_png(out / rec.instance_mask), inst)
        assert np.array_equal(read_png(out / rec.semantic_mask), sem)
        assert rec.objects == objects and (rec.width, rec.height) == (128, 96)


def test_exports_are_readable_and_agree(written):
    from vision.data.formats import read_coco, read_voc, read_yolo

    out, ds = written
    doc = json.loads((out / "annotations.json").read_text())
    assert len(doc["images"]) == 6 and [c["name"] for c in doc["categories"]] == list(SMALL.classes)
    readers = {"coco": read_coco(out / "annotations.json"), "yolo": read_yolo(out / "yolo" / "data.yaml"),
               "voc": read_voc(out / "voc")}
    for name, back in readers.items():
        assert back.classes == ds.classes, name
        by_stem = {Path(r.file_name).stem: r for r in back.images}
        for rec in ds.images:
            got = by_stem[Path(rec.file_name).stem]
            assert [o.category_id for o in got.objects] == [o.category_id for o in rec.objects], name
            np.testing.assert_allclose([o.bbox for o in got.objects], [o.bbox for o in rec.objects], atol=1e-3,
                                       err_msg=name)
    coco_areas = [a["area"] for a in doc["annotations"]]
    assert coco_areas == [o.attributes["area"] for r in ds.images for o in r.objects]


def test_the_folder_itself_reads_as_its_coco_export(written):
    """The card is a dataset.yaml but not a YOLO data file: format detection follows its layout to the COCO file."""
    from vision.data.formats import detect_format, read_detection_dataset

    out, ds = written
    assert detect_format(out) == "coco"
    back = read_detection_dataset(out)
    assert back.classes == ds.classes and len(back) == len(ds)
    assert [len(r.objects) for r in back.images] == [len(r.objects) for r in ds.images]


def test_scene_i_does_not_depend_on_n(tmp_path, written):
    out, _ = written
    small = make_scenes(tmp_path / "three", n=3, seed=11, config=SMALL, formats=())
    for rec in small.images:
        assert (tmp_path / "three" / rec.file_name).read_bytes() == (out / rec.file_name).read_bytes()
    assert not (tmp_path / "three" / "annotations.json").exists()


@pytest.mark.slow  # starts two spawned worker processes (~5 s)
def test_workers_give_the_same_files(tmp_path, written):
    out, _ = written
    ds = make_scenes(tmp_path / "w2", n=6, seed=11, config=SMALL, formats=(), workers=2)
    for rec in ds.images:
        assert (tmp_path / "w2" / rec.file_name).read_bytes() == (out / rec.file_name).read_bytes()
        assert (tmp_path / "w2" / rec.instance_mask).read_bytes() == (out / rec.instance_mask).read_bytes()


def test_zero_scenes(tmp_path):
    ds = make_scenes(tmp_path / "empty", n=0, config=SMALL, formats=("coco",))
    assert len(ds) == 0 and (tmp_path / "empty" / "dataset.yaml").is_file()


# ------------------------------------------------------------------------------ bad input, nothing written
@pytest.mark.parametrize("kwargs, match", [
    ({"n": -1}, "n: expected an integer"),
    ({"n": 2.0}, "n: expected an integer"),
    ({"n": True}, "n: expected an integer"),
    ({"n": 2, "seed": -5}, "seed"),
    ({"n": 2, "formats": ("coco", "kitti")}, "kitti"),
    ({"n": 2, "workers": 0}, "workers"),
    ({"n": 2, "config": "default"}, "SceneConfig"),
])
def test_bad_arguments_write_nothing(tmp_path, kwargs, match):
    with pytest.raises(InputError, match=match):
        make_scenes(tmp_path / "out", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="overwrite=True"):
        make_scenes(out, n=1, config=SMALL)
    with pytest.raises(DatasetError, match="not a dataset written by"):
        make_scenes(out, n=1, config=SMALL, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and len(list(tmp_path.iterdir())) == 1


def test_out_dir_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        make_scenes(f, n=1, config=SMALL)
    assert f.read_text() == "x"


def test_overwrite_replaces_a_scenes_dataset(tmp_path):
    out = tmp_path / "out"
    make_scenes(out, n=3, config=SMALL, formats=())
    make_scenes(out, n=2, seed=4, config=SMALL, formats=("coco",), overwrite=True)
    assert len(list((out / "images").iterdir())) == 2
    assert yaml.safe_load((out / "dataset.yaml").read_text())["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_empty_existing_folder_is_fine(tmp_path):
    (tmp_path / "out").mkdir()
    assert len(make_scenes(tmp_path / "out", n=2, config=SMALL, formats=(), progress=True)) == 2
