"""`vision predict classify|detect SOURCE --out DIR`: streamed result files, bad files, shards, and SIGKILL + resume."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import vision
from vision.cli.main import main
from vision.data import load_sample
from vision.io import read_image, write_image

REPO = Path(vision.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """12 photo crops and 1 broken file (a text file named .jpg)."""
    root = tmp_path_factory.mktemp("photos")
    for i, name in enumerate(["astronaut", "coffee", "chelsea"] * 4):
        img = load_sample(name)
        write_image(root / f"{i % 2}" / f"{name}_{i:02d}.jpg", img[i * 3:, i * 5:][::2, ::2] if i else img)
    (root / "1" / "broken.jpg").write_text("not a photo")
    return root


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_detect_out_writes_every_format_and_lists_the_bad_file(photos, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["predict", "detect", str(photos), "--model", "haar-face", "--out", str(out),
                 "--format", "csv,coco,yolo", "--save-images", "--batch-size", "4", "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 1  # one file failed
    assert "12 item(s) done, 1 failed" in captured.out and "broken.jpg: ImageDecodeError" in captured.out
    assert captured.err.count("\n") == 1 and "broken.jpg" in captured.err
    records = _jsonl(out / "results.jsonl")
    assert len(records) == 13 and sum("error" in r for r in records) == 1
    astronaut = next(r for r in records if r["rel"] == "0/astronaut_00.jpg")
    assert astronaut["labels"] == ["face"]  # the astronaut's face (a JPEG here: within a pixel or two)
    np.testing.assert_allclose(astronaut["xyxy"], [[177.0, 67.0, 270.0, 160.0]], atol=2)
    assert sorted(p.name for p in out.iterdir()) == ["done.jsonl", "images", "labels", "names.json",
                                                     "results.coco.json", "results.csv", "results.jsonl", "run.json",
                                                     "summary.json"]
    assert len(list((out / "images").rglob("*.jpg"))) == len(list((out / "labels").rglob("*_*.txt"))) == 12
    # the same command again: everything was done, nothing is redone, it still says one file failed
    assert main(["predict", "detect", str(photos), "--model", "haar-face", "--out", str(out),
                 "--format", "csv,coco,yolo", "--save-images", "--batch-size", "4", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["skipped"] == 13 and summary["processed"] == 0 and len(summary["failures"]) == 1
    assert len(_jsonl(out / "results.jsonl")) == 13
    # another model into the same folder is refused (exit 2, one line)
    assert main(["predict", "detect", str(photos), "--model", "hog-people", "--out", str(out),
                 "--format", "csv,coco,yolo", "--save-images"]) == 2
    err = capsys.readouterr().err
    assert "holds a run with other settings" in err and err.count("\n") == 1


def test_classify_out_csv_shards_and_text_list(photos, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    model = tmp_path / "lite0.onnx"
    assert main(["export", "onnx", "efficientnet-lite0", "--out", str(model)]) == 0
    capsys.readouterr()
    lst = tmp_path / "list.txt"
    lst.write_text("".join(f"{p}\n" for p in sorted(photos.rglob("*.jpg"))))
    seen = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        code = main(["predict", "classify", str(lst), "--model", str(model), "--backend", "onnx", "--topk", "2",
                     "--out", str(out), "--format", "csv", "--shard", f"{k}/3", "--json"])
        assert code == (1 if any("broken" in r["item"] for r in _jsonl(out / "results.jsonl")) else 0)
        assert json.loads(capsys.readouterr().out)["shard"] == f"{k}/3"
        with open(out / "results.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert {r["rank"] for r in rows if not r["error"]} == {"1", "2"}
        seen += [r["item"] for r in _jsonl(out / "results.jsonl")]
    assert sorted(seen) == sorted(str(p) for p in photos.rglob("*.jpg"))  # the shards partition the list
    shard, coffee = next((k, r) for k in (1, 2, 3) for r in _jsonl(tmp_path / f"shard{k}" / "results.jsonl")
                         if "coffee_01" in r["item"])
    assert coffee["labels"][0] == "espresso" and "names" not in coffee
    assert len(json.loads((tmp_path / f"shard{shard}" / "names.json").read_text())) == 1000  # once, not per line
    # usage errors: exit 2, one line, nothing written
    for argv, message in [(["--format", "coco", "--out", str(tmp_path / "x")], "only for detect"),
                          (["--shard", "4/3"], "expected K/N"),
                          (["--save", str(tmp_path / "x"), "--out", str(tmp_path / "x")], "--save-images"),
                          (["--format", "csv"], "expected --out DIR")]:
        assert main(["predict", "classify", str(lst), "--model", str(model), "--backend", "onnx", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def _run_cli(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "vision", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_completes_with_valid_files(tmp_path):
    if importlib.util.find_spec("ultralytics") is None:  # never import it here: it has import side effects
        pytest.skip("ultralytics is not installed")
    from vision.data.formats import read_coco

    src = tmp_path / "src"
    photo = load_sample("chelsea")
    for i in range(150):
        write_image(src / f"{i // 50}" / f"cat_{i:03d}.jpg", np.roll(photo, 7 * i, axis=1)[i % 40:])
    (src / "0" / "zero.jpg").write_bytes(b"")
    out = tmp_path / "out"
    args = ["predict", "detect", str(src), "--model", "yolov8n", "--out", str(out), "--format", "csv,coco,yolo",
            "--save-images", "--batch-size", "4", "--workers", "2"]
    proc = _run_cli(args)
    done = out / "done.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if done.exists() and done.read_bytes().count(b"\n") >= 12:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "summary.json").exists() and not (out / "results.coco.json").exists()  # killed mid-run
    killed_at = done.read_bytes().count(b"\n")
    assert 12 <= killed_at < 151

    rerun = _run_cli(args)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 1, stderr  # the zero-byte file failed
    assert "zero.jpg" in stdout and "done before" in stdout
    records = _jsonl(out / "results.jsonl")  # every line is whole JSON
    items = [r["item"] for r in records]
    assert len(items) == len(set(items)) == 151
    assert sorted(items) == sorted(str(p) for p in src.rglob("*.jpg"))
    done_items = [json.loads(line)["item"] for line in done.read_text().splitlines()]
    assert sorted(done_items) == sorted(items)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] >= killed_at - 1 and summary["processed"] + summary["failed"] + summary["skipped"] == 151
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["item"] for r in rows} == set(items)
    assert sum(1 for r in rows if r["x1"]) == sum(len(r.get("xyxy", [])) for r in records)
    ds = read_coco(out / "results.coco.json", images_dir=src)
    assert len(ds.images) == 150
    for r in records:
        if "error" in r:
            continue
        txt = (out / "labels" / r["rel"]).with_suffix(".txt").read_text()
        assert np.asarray(txt.split(), float).reshape(-1, 5).shape[0] == len(r["xyxy"])
        assert read_image(out / "images" / r["rel"]).shape[:2] == tuple(r["image_shape"])
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
