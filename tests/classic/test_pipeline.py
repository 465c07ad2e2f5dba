"""Pipelines: build, save/load round trip, run on an image and on folders, shipped examples, bad files."""

import json

import numpy as np
import pytest

from vision.classic.pipeline import Pipeline, iter_image_files, list_examples
from vision.classic.results import Lines, Regions
from vision.data import load_sample
from vision.errors import InputError, SourceNotFoundError, UnknownModelError
from vision.io import read_image, write_image


def test_steps_are_checked_when_made():
    with pytest.raises(UnknownModelError, match="unknown op 'blurr'"):
        Pipeline(["blurr"])
    with pytest.raises(InputError, match="has no parameter 'sigmas'"):
        Pipeline([("gaussian_blur", {"sigmas": 1})])
    with pytest.raises(InputError, match="at least one step"):
        Pipeline([])
    with pytest.raises(InputError, match="step 0: expected"):
        Pipeline([42])


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_load_round_trip(tmp_path, suffix):
    p = Pipeline([("gaussian_blur", {"sigma": 2.0}), "canny"], name="edges", description="blur then edges")
    path = p.save(tmp_path / f"p{suffix}")
    q = Pipeline.load(path)
    assert q.to_dict() == p.to_dict()
    img = load_sample("camera")
    assert np.array_equal(p.run(img).image, q.run(img).image)


def test_bad_pipeline_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [unclosed")
    with pytest.raises(InputError, match="bad.yaml: not valid YAML"):
        Pipeline.load(bad)
    bad.write_text("stages: []")
    with pytest.raises(InputError, match="bad.yaml: .*expected a mapping with 'steps'"):
        Pipeline.load(bad)
    bad.write_text("steps:\n  - op: nope\n")
    with pytest.raises(UnknownModelError, match="bad.yaml: unknown op 'nope'"):
        Pipeline.load(bad)
    with pytest.raises(SourceNotFoundError, match="missing.yaml"):
        Pipeline.load(tmp_path / "missing.yaml")


def test_images_flow_and_analysis_is_drawn_on_the_input():
    img = np.zeros((120, 160, 3), np.uint8)
    img[40:80, 20:60] = 255
    img[30:90, 100:140] = 255
    result = Pipeline([("threshold", {"value": 128}), "connected_components"]).run(img)
    regions = result.steps[-1].result
    assert isinstance(regions, Regions) and regions.count == 2
    assert result.image.dtype == np.uint8 and set(np.unique(result.image)) <= {0, 255}  # bool mask written as 0/255
    assert result.annotated.shape == img.shape and (result.annotated != img).any()
    assert result.output_image is result.annotated
    assert json.dumps(result.to_dict())


def test_errors_name_the_failing_step():
    with pytest.raises(Exception, match=r"pipeline step 2 \(canny\)"):
        Pipeline([("threshold", {"value": 10}), "canny"]).run(load_sample("camera"))


def test_run_many_records_failures_and_goes_on(tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", load_sample("camera")[:64, :64])
    write_image(src / "sub" / "b.jpg", load_sample("coins")[:64, :64])
    (src / "broken.png").write_bytes(b"not an image")
    summary = Pipeline(["gaussian_blur", "canny"]).run_many([src], tmp_path / "out")
    assert summary == {"ok": 2, "failed": 1, "results": str(tmp_path / "out" / "results.jsonl")}
    lines = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [("error" in rec) for rec in lines] == [False, True, False]  # a.png, broken.png, sub/b.jpg (sorted)
    assert "ImageDecodeError" in lines[1]["error"]
    assert read_image(tmp_path / "out" / "a.png").shape == (64, 64, 3)


def test_iter_image_files(tmp_path):
    write_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "notes.txt").write_text("hi")
    assert list(iter_image_files([tmp_path])) == [tmp_path / "x.png"]
    assert list(iter_image_files([str(tmp_path / "*.png")])) == [tmp_path / "x.png"]
    with pytest.raises(SourceNotFoundError, match="no files match"):
        list(iter_image_files([str(tmp_path / "*.jpg")]))
    with pytest.raises(SourceNotFoundError, match="not found"):
        list(iter_image_files([tmp_path / "nope.png"]))


def test_shipped_examples():
    assert {"coin_count", "lane_lines"} <= set(list_examples())
    coins = Pipeline.example("coin_count").run(load_sample("coins"))
    assert coins.steps[-1].result.count == 24
    lines = Pipeline.example("lane_lines").run(load_sample("bus"))
    assert isinstance(lines.steps[-1].result, Lines) and len(lines.steps[-1].result) > 0
    with pytest.raises(InputError, match="unknown example pipeline 'nope'"):
        Pipeline.example("nope")
