"""The batch engine (vision.infer.batch / sources / sinks) with real detectors, real files and real videos.

haar-face (OpenCV, ``predict`` only) carries most tests because it is fast; the shipped YOLO (ultralytics,
``predict_batch``) runs where batching matters. The SIGKILL-and-resume test of the real command is in
tests/cli/test_cli_predict_batch.py.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import json

import numpy as np
import pytest

from vision.data import load_sample
from vision.errors import InputError, SourceNotFoundError
from vision.infer.batch import run_batch
from vision.infer.sinks import parse_formats, read_jsonl
from vision.infer.sources import expand_sources, parse_shard
from vision.io import VideoSink, VideoSource, read_image, write_image
from vision.models import create_model

ASTRONAUT_FACE = [177.0, 67.0, 270.0, 160.0]


@functools.cache
def haar():
    return create_model("haar-face")


def _photos() -> list[np.ndarray]:
    out = []
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        img = load_sample(name)
        for k in range(10):  # crops and flips of real photos: 40 distinct images
            h, w = img.shape[:2]
            crop = img[k * 4:h - k * 3, k * 5:w - k * 2]
            crop = crop if k == 0 else crop[::2, ::2]  # small, so the tests stay quick
            out.append(crop[:, ::-1] if k % 2 else crop)
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 good images (PNG and JPEG, nested) and 4 bad ones (~9 %): corrupt, zero-byte, text as .jpg, truncated."""
    root = tmp_path_factory.mktemp("photos")
    for i, img in enumerate(_photos()):
        write_image(root / f"d{i % 3}" / f"img{i:03d}.{'jpg' if i % 2 else 'png'}", img)
    good = (root / "d0" / "img003.jpg").read_bytes()
    (root / "d1" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "d1" / "zero.jpg").write_bytes(b"")
    (root / "d2" / "notes.jpg").write_text("this is a text file, not a photo\n")
    (root / "d2" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    return root


BAD = {"d1/corrupt.png", "d1/zero.jpg", "d2/notes.jpg", "d2/truncated.jpg"}


def _lines(path):
    return list(read_jsonl(path))


# ------------------------------------------------------------------------------------------------ sources
def test_sources_expand_sorted_and_shards_partition_exactly(folder, tmp_path):
    plan = expand_sources([folder])
    rels = [i.rel for i in plan.images]
    assert len(rels) == 44 and rels == sorted(rels, key=lambda r: r.split("/"))
    shards = [[i.key for i in expand_sources([folder], shard=f"{k}/3").images] for k in (1, 2, 3)]
    assert sorted(k for s in shards for k in s) == sorted(i.key for i in plan.images)  # every item once
    assert all(len(s) in (14, 15) for s in shards) and not set(shards[0]) & set(shards[1])
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "a/b", "3", "1/0"):
        with pytest.raises(InputError, match="expected K/N"):
            parse_shard(bad)
    with pytest.raises(SourceNotFoundError, match="image source not found"):
        expand_sources([tmp_path / "nope"])
    with pytest.raises(SourceNotFoundError, match="no image or video files match"):
        expand_sources([str(tmp_path / "*.jpg")])
    glob_plan = expand_sources([str(folder / "d0" / "*.jpg"), str(folder / "d0" / "img003.jpg")])
    assert [i.rel for i in glob_plan.images] == ["img003.jpg", "img009.jpg", "img015.jpg", "img021.jpg",
                                                   "img027.jpg", "img033.jpg", "img039.jpg"]  # listed once


def test_text_file_of_paths(folder, tmp_path):
    lst = tmp_path / "lists" / "todo.txt"
    lst.parent.mkdir()
    lst.write_text(f"# two images\n{folder / 'd0' / 'img000.png'}\n\n../missing_is_reported.png\n"
                   f"{folder / 'd1' / 'img001.jpg'}\n")
    with pytest.raises(SourceNotFoundError, match="missing_is_reported.png"):
        expand_sources([lst])
    (tmp_path / "missing_is_reported.png").write_bytes((folder / "d0" / "img000.png").read_bytes())
    out = tmp_path / "out"
    summary = run_batch(haar(), [lst], out=out)  # a relative line resolves from the list's own folder
    assert summary.processed == 3 and summary.failed == 0
    records = _lines(out / "results.jsonl")  # in the list's order, named relative to the common folder
    assert [r["rel"] for r in records] == [f"{folder.name}/d0/img000.png", f"{tmp_path.name}/missing_is_reported.png",
                                           f"{folder.name}/d1/img001.jpg"]
    assert records[1]["path"] == str(lst.parent / "../missing_is_reported.png")
    lst.write_text("# nothing\n")
    with pytest.raises(InputError, match="empty"):
        expand_sources([lst])


# ------------------------------------------------------------------------------------------------ bad files
def test_bad_files_are_listed_with_reasons_and_the_rest_is_processed(folder, tmp_path):
    out = tmp_path / "out"
    seen = []
    summary = run_batch(haar(), [folder], out=out, batch_size=4, workers=2, meta={"model": "haar-face"},
                        on_result=lambda r: seen.append(r.item.rel))
    assert summary.processed == 40 and summary.failed == 4 and not summary.ok
    assert seen == [i.rel for i in expand_sources([folder]).images]  # in source order
    reasons = {json.loads(line)["item"].split("photos")[-1][2:]: json.loads(line)["error"]
               for line in (out / "done.jsonl").read_text().splitlines() if json.loads(line)["error"]}
    assert set(reasons) == BAD
    assert reasons["d1/zero.jpg"].startswith("ImageDecodeError") and "empty (0 bytes)" in reasons["d1/zero.jpg"]
    assert "not an image" in reasons["d2/notes.jpg"]
    assert reasons["d2/truncated.jpg"].startswith("ImageDecodeError")
    assert reasons["d1/corrupt.png"].startswith("ImageDecodeError")
    saved = json.loads((out / "summary.json").read_text())
    assert saved["processed"] == 40 and saved["failed"] == 4 and len(saved["failures"]) == 4
    records = _lines(out / "results.jsonl")
    assert len(records) == 44 and sum("error" in r for r in records) == 4
    face = next(r for r in records if r["rel"] == "d0/img000.png")  # the uncropped astronaut
    assert face["xyxy"] == [ASTRONAUT_FACE] and face["labels"] == ["face"]
    # the library on the same file gives the same boxes
    for r in records[:6]:
        if "error" not in r:
            np.testing.assert_allclose(np.reshape(r["xyxy"], (-1, 4)), haar().predict(read_image(r["path"])).xyxy,
                                       atol=0.01)


def test_oversized_images_fail_with_their_reason(folder, tmp_path):
    summary = run_batch(haar(), [folder / "d0"], out=tmp_path / "out", max_pixels=200_000)
    reasons = dict(summary.failures)
    assert summary.processed >= 1 and reasons  # the 512×512 astronauts are too big, small crops pass
    assert all(e.startswith("ImageTooLargeError") for e in reasons.values())


# ------------------------------------------------------------------------------------------------ writers
def test_every_writer_reads_back(folder, tmp_path):
    from pycocotools.coco import COCO

    from vision.data.formats import read_coco

    out = tmp_path / "out"
    summary = run_batch(haar(), [folder / "d0", folder / "d1"], out=out, formats="csv,coco,yolo",
                        save_images=True, meta={"model": "haar-face"})
    assert summary.processed == 27 and summary.failed == 2
    records = [r for r in _lines(out / "results.jsonl") if "error" not in r]
    by_rel = {r["rel"]: r for r in records}
    # CSV: a row per box, one row for an image without any, error rows for the bad files
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["item"] for r in rows} == {r["item"] for r in _lines(out / "results.jsonl")}
    boxes = [r for r in rows if r["x1"]]
    assert len(boxes) == sum(len(r["xyxy"]) for r in records) > 0
    for row in boxes:
        rec = next(r for r in records if r["item"] == row["item"])
        assert [float(row[k]) for k in ("x1", "y1", "x2", "y2")] in rec["xyxy"] and row["label"] == "face"
    assert sum(bool(r["error"]) for r in rows) == 2
    # COCO: read by vision's reader (files exist, boxes inside the images) and by pycocotools
    ds = read_coco(out / "results.coco.json", images_dir=folder)
    assert ds.classes == ["face"] and len(ds.images) == 27
    for rec in ds.images:
        want = by_rel[rec.file_name]["xyxy"]
        np.testing.assert_allclose([o.bbox for o in rec.objects] or np.zeros((0, 4)), np.reshape(want, (-1, 4)),
                                   atol=0.02)
    coco = COCO(str(out / "results.coco.json"))
    assert len(coco.getAnnIds()) == len(boxes) and all("score" in a for a in coco.anns.values())
    # YOLO txt: one file per image (empty without boxes), normalised centre / size
    assert (out / "labels" / "classes.txt").read_text() == "face\n"
    for rel, r in by_rel.items():
        txt = (out / "labels" / rel).with_suffix(".txt").read_text().split()
        got = np.asarray(txt, float).reshape(-1, 5)
        h, w = r["image_shape"]
        xyxy = np.reshape(r["xyxy"], (-1, 4))
        want = np.c_[np.zeros(len(xyxy)), (xyxy[:, 0] + xyxy[:, 2]) / 2 / w, (xyxy[:, 1] + xyxy[:, 3]) / 2 / h,
                     (xyxy[:, 2] - xyxy[:, 0]) / w, (xyxy[:, 3] - xyxy[:, 1]) / h]
        np.testing.assert_allclose(got, want, atol=1e-5)
    # annotated images: same size as the source, boxes drawn where there are boxes
    drawn = read_image(out / "images" / "d0" / "img000.png")
    plain = read_image(folder / "d0" / "img000.png")
    assert drawn.shape == plain.shape and np.abs(drawn.astype(int) - plain).sum() > 0
    assert sorted(p.suffix for p in (out / "images").rglob("*.*")) == sorted(
        (".jpg" if rel.endswith(".jpg") else ".png") for rel in by_rel)
    assert not list(out.rglob(".*.tmp"))  # no temporary file left


def test_format_and_option_errors(folder, tmp_path):
    with pytest.raises(InputError, match="expected a comma list of jsonl, csv, coco, yolo; got xml"):
        parse_formats("csv,xml")
    assert parse_formats("yolo,csv") == ("jsonl", "csv", "yolo")
    clf_like = type("Clf", (), {"task": "classify", "predict": lambda self, im: None})()
    with pytest.raises(InputError, match="only for detect"):
        run_batch(clf_like, [folder], out=tmp_path / "o", formats="coco")
    with pytest.raises(InputError, match="expected --out DIR"):
        run_batch(haar(), [folder], formats="csv")
    with pytest.raises(InputError, match="--batch-size must be ≥ 1; got 0"):
        run_batch(haar(), [folder], batch_size=0)
    with pytest.raises(InputError, match="--workers must be ≥ 1"):
        run_batch(haar(), [folder], workers=0)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("not ours")
    with pytest.raises(InputError, match="not empty and holds no run.json"):
        run_batch(haar(), [folder / "d0"], out=other)
    assert sorted(p.name for p in other.iterdir()) == ["keep.txt"]


# ------------------------------------------------------------------------------------------------ resume
def test_resume_repairs_torn_and_unfinished_lines_without_duplicates(folder, tmp_path):
    out = tmp_path / "out"
    src = [folder / "d0"]
    full = run_batch(haar(), src, out=out, formats="csv", meta={"model": "haar-face"})
    assert full.processed == 14
    want_jsonl = (out / "results.jsonl").read_text()
    want_csv = (out / "results.csv").read_text()
    # simulate a kill: the last 4 items are not in the done-list, the JSONL holds one of them plus a torn line,
    # the CSV a torn row
    done = (out / "done.jsonl").read_text().splitlines(keepends=True)
    (out / "done.jsonl").write_text("".join(done[:10]) + done[10][:7])
    lines = want_jsonl.splitlines(keepends=True)
    (out / "results.jsonl").write_text("".join(lines[:11]) + lines[11][:20])
    rows = want_csv.splitlines(keepends=True)
    (out / "results.csv").write_text("".join(rows[:-1]) + rows[-1][:5])
    stale = out / "images" / ".img000.png.0123456789ab.tmp"  # what a kill during an atomic write leaves
    stale.parent.mkdir()
    stale.write_bytes(b"half an image")
    again = run_batch(haar(), src, out=out, formats="csv", meta={"model": "haar-face"})
    assert not stale.exists()
    assert again.skipped == 10 and again.processed == 4 and again.ok
    assert (out / "results.jsonl").read_text() == want_jsonl
    assert sorted((out / "results.csv").read_text().splitlines()) == sorted(want_csv.splitlines())
    keys = [json.loads(x)["item"] for x in (out / "done.jsonl").read_text().splitlines()]
    assert sorted(keys) == sorted(json.loads(x)["item"] for x in want_jsonl.splitlines()) and len(set(keys)) == 14
    # a finished run reruns as a no-op; other settings are refused
    assert run_batch(haar(), src, out=out, formats="csv", meta={"model": "haar-face"}).skipped == 14
    with pytest.raises(InputError, match="holds a run with other settings.*model"):
        run_batch(haar(), src, out=out, formats="csv", meta={"model": "hog-people"})


def test_shards_write_disjoint_outputs_covering_the_folder(folder, tmp_path):
    items = []
    for k in (1, 2, 3):
        s = run_batch(haar(), [folder], out=tmp_path / f"s{k}", shard=(k, 3))
        assert s.shard == f"{k}/3"
        items += [r["item"] for r in _lines(tmp_path / f"s{k}" / "results.jsonl")]
    assert len(items) == len(set(items)) == 44


# ------------------------------------------------------------------------------------------------ videos, batching
@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "pan.avi"
    photo = load_sample("astronaut")
    with VideoSink(path, fps=5.0) as sink:
        for k in range(7):
            sink.write(photo[k * 8:k * 8 + 300, k * 8:k * 8 + 300])
    return path


def test_video_frames_are_items(clip, tmp_path):
    out = tmp_path / "out"
    summary = run_batch(haar(), [clip], out=out, formats="coco", save_images=True, batch_size=3)
    assert summary.processed == 7
    records = _lines(out / "results.jsonl")
    assert [r["item"] for r in records] == [f"{clip}#frame={k}" for k in range(7)]
    with VideoSource(clip) as video:
        frames = [f.image for f in video]
    for r, frame in zip(records, frames):
        np.testing.assert_allclose(np.reshape(r["xyxy"], (-1, 4)), haar().predict(frame).xyxy, atol=0.01)
    assert sorted(p.name for p in (out / "images" / "pan").iterdir()) == [f"frame_{k:06d}.jpg" for k in range(7)]
    # shards split the frames; a broken video is a listed failure
    odd = run_batch(haar(), [clip], out=tmp_path / "odd", shard="2/2")
    assert odd.processed == 3
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    bad = run_batch(haar(), [broken], out=tmp_path / "bad")
    assert bad.failed == 1 and bad.failures[0][0] == str(broken)


def test_yolo_batches_give_the_same_boxes_as_single_predicts(folder, tmp_path):
    if importlib.util.find_spec("ultralytics") is None:  # never import it here: it has import side effects
        pytest.skip("ultralytics is not installed")
    yolo = create_model("yolov8n")
    scenes = [folder / "d0" / f"img{i:03d}.{'jpg' if i % 2 else 'png'}" for i in (0, 3, 6, 9, 12)]
    got = []
    summary = run_batch(yolo, scenes, batch_size=4, on_result=lambda r: got.append(r.result))
    assert summary.processed == 5
    for path, det in zip(scenes, got):
        want = yolo.predict(read_image(path))
        assert det.labels == want.labels
        np.testing.assert_allclose(det.xyxy, want.xyxy, atol=1.0)


def test_two_inference_lanes_give_the_records_of_one_in_source_order(folder, tmp_path):
    """lanes=2 runs two YOLO replicas side by side; what is written (records, order, done-list) is lanes=1's."""
    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed")
    yolo = create_model("yolov8n", conf=0.01)  # low threshold: boxes on the photos to compare
    twin = yolo.replicate()
    assert twin is not yolo and twin._predictor is not yolo._predictor and twin.names == yolo.names
    runs = {}
    for lanes in (1, 2):
        seen = []
        summary = run_batch(yolo, [folder], out=tmp_path / f"l{lanes}", batch_size=2, lanes=lanes,
                            on_result=lambda r: seen.append(r.item.key))
        assert summary.processed == 40 and summary.failed == 4
        runs[lanes] = (_lines(tmp_path / f"l{lanes}" / "results.jsonl"), seen,
                       _lines(tmp_path / f"l{lanes}" / "done.jsonl"))
    (one, seen1, done1), (two, seen2, done2) = runs[1], runs[2]
    assert seen1 == seen2 == [item.key for item in expand_sources([folder]).images]
    assert [r["item"] for r in one] == [r["item"] for r in two] and [d["item"] for d in done1] == [
        d["item"] for d in done2]
    assert sum(len(r.get("xyxy", [])) for r in one) > 0
    for a, b in zip(one, two):
        assert a.get("labels") == b.get("labels") and a.get("error") == b.get("error")
        np.testing.assert_allclose(np.array(a.get("xyxy", []), float), np.array(b.get("xyxy", []), float),
                                   atol=1e-3)
    with pytest.raises(InputError, match="lanes must be ≥ 1"):
        run_batch(yolo, [folder], lanes=0)


class _SizeProbe:
    """A model that answers each image with its own size and records the sizes of every call."""

    task = "classify"

    class Result:
        def __init__(self, shape):
            self.shape = shape

        def to_dict(self):
            return {"shape": list(self.shape)}

    def __init__(self):
        self.calls = []

    def predict_batch(self, images, batch_size=8):
        self.calls.append([im.shape[:2] for im in images])
        return [self.Result(im.shape[:2]) for im in images]


@pytest.mark.parametrize("lanes", [1, 2])
def test_mixed_sizes_make_full_calls_of_one_size_and_results_keep_source_order(tmp_path, lanes):
    """Landscape and portrait photos interleaved (one in four portrait, bad files between): every call holds one
    image size and nearly all are full, yet every record lands on its own item, in source order."""
    root = tmp_path / "mixed"
    photo = load_sample("astronaut")
    for i in range(30):
        img = photo[:48, :64] if i % 4 != 3 else photo[:64, :48]
        write_image(root / f"img{i:03d}.png", np.ascontiguousarray(img if i % 2 else img[:, ::-1]))
    (root / "img010b.png").write_bytes(b"")  # a bad file between good ones
    (root / "img021b.jpg").write_text("not an image")
    probe, seen = _SizeProbe(), []
    summary = run_batch(probe, [root], out=tmp_path / "out", batch_size=4, prefetch=8, workers=2, lanes=lanes,
                        on_result=lambda r: seen.append(r.item.key))
    assert summary.processed == 30 and summary.failed == 2
    assert all(len(set(call)) == 1 for call in probe.calls)
    assert sorted(len(call) for call in probe.calls).count(4) >= 6 and len(probe.calls) <= 10  # 23 + 7 images
    order = [item.key for item in expand_sources([root]).images]
    records = _lines(tmp_path / "out" / "results.jsonl")
    assert seen == order and [r["item"] for r in records] == order
    assert [d["item"] for d in _lines(tmp_path / "out" / "done.jsonl")] == order
    for r in records:
        if "error" not in r:
            assert r["shape"] == list(read_image(r["path"]).shape[:2])


class _Copyable:
    def __init__(self, config):
        self.config, self.copies = config, 0

    def replicate(self):
        self.copies += 1
        return _Copyable(self.config)


def test_lane_copies_are_kept_for_the_next_run_until_the_config_changes():
    from vision.infer.lanes import replicas

    model = _Copyable({"conf": 0.25})
    first = replicas(model, 2)
    assert first[0] is model and first[1] is not model and model.copies == 1
    again = replicas(model, 3)
    assert again[1] is first[1] and model.copies == 2 and replicas(model, 1) == [model]
    model.config = {"conf": 0.5}  # another threshold: copies of the old one would answer differently
    fresh = replicas(model, 2)
    assert fresh[1] is not first[1] and fresh[1].config == {"conf": 0.5} and model.copies == 3


@pytest.mark.parametrize(("cores", "expected"), [(1, 2), (2, 2), (4, 2), (6, 3), (16, 8), (64, 8)])
def test_default_decoders_are_half_the_cores_between_2_and_8(monkeypatch, cores, expected):
    from vision.infer import lanes

    monkeypatch.setattr(lanes, "cores", lambda: cores)
    assert lanes.default_workers() == expected


def test_an_instance_segmenter_writes_coco_with_its_masks(tmp_path):
    """Mask R-CNN's results are boxes with masks: --format coco carries each mask as uncompressed RLE whose
    pixels pycocotools counts as the annotation's area, and decodes back to the mask in results.jsonl."""
    from pycocotools import mask as mask_utils

    from vision.data.scenes import make_scenes
    from vision.types import rle_to_mask

    make_scenes(tmp_path / "scenes", n=2, seed=3)
    images = sorted((tmp_path / "scenes").glob("images/*"))
    summary = run_batch(create_model("mask-rcnn-lite0"), [str(p) for p in images], out=tmp_path / "out",
                        formats="coco", batch_size=2)
    assert summary.ok
    doc = json.loads((tmp_path / "out" / "results.coco.json").read_text())
    records = {r["rel"]: r for r in read_jsonl(tmp_path / "out" / "results.jsonl")}
    assert doc["annotations"] and all("segmentation" in a for a in doc["annotations"])
    first = doc["annotations"][0]
    rle = mask_utils.frPyObjects(first["segmentation"], *first["segmentation"]["size"])
    assert int(mask_utils.area(rle)) == first["area"] > 0
    image = next(im for im in doc["images"] if im["id"] == first["image_id"])
    mask = rle_to_mask(records[image["file_name"]]["masks"][0])
    assert np.array_equal(mask_utils.decode(rle).astype(bool), mask)
    with pytest.raises(InputError, match="only for detect"):
        run_batch(create_model("fcn"), [str(images[0])], out=tmp_path / "fcn", formats="coco")
