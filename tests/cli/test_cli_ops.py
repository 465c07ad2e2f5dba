"""`vision ops`: list, one op on one image, a pipeline over files."""

import json

import numpy as np
import pytest

from vision.cli.main import main
from vision.data import load_sample, sample_path
from vision.io import read_image, write_image


def test_ops_list(capsys):
    assert main(["ops", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("canny", "hough_lines", "rotate", "nl_means", "connected_components", "pool2d"):
        assert name in out
    assert main(["ops", "list", "--category", "hough"]) == 0
    assert "rotate" not in capsys.readouterr().out


def test_one_op_writes_its_image_and_reports(tmp_path, capsys):
    out = tmp_path / "edges.png"
    assert main(["ops", "canny", str(sample_path("bus")), "--low", "30", "--high=90", "-o", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["op"] == "canny" and answer["output"] == str(out)
    edges = read_image(out)
    assert edges.shape[:2] == (1080, 810) and set(np.unique(edges)) <= {0, 255}


def test_analysis_op_draws_on_the_input(tmp_path, capsys):
    src = write_image(tmp_path / "coins.png", load_sample("coins"))
    assert main(["ops", "hough_circles", str(src), "--min_radius", "15", "--max_radius", "40",
                 "-o", str(tmp_path / "c.png")]) == 0
    assert "found" in capsys.readouterr().out
    drawn = read_image(tmp_path / "c.png")
    assert drawn.shape == load_sample("coins").shape and (drawn != load_sample("coins")).any()


@pytest.mark.parametrize(
    "args, text",
    [
        (["ops", "cany", "x.png"], "did you mean canny"),
        (["ops", "canny", "IMG", "--lowx", "3"], "has no parameter 'lowx'"),
        (["ops", "canny", "IMG", "--low", "abc"], "--low: expected a number, got 'abc'"),
        (["ops", "flip", "IMG", "--axis", "diagonal"], "--axis: expected one of"),
        (["ops", "canny"], "expected one IMAGE"),
        (["ops", "canny", "IMG", "--low"], "--low: expected a value"),
        (["ops", "run", "coin_count"], "expected at least one image"),
        (["ops", "run", "nope"], "unknown example pipeline 'nope'"),
    ],
)
def test_bad_op_arguments_are_one_line_errors(args, text, capsys):
    args = [str(sample_path("bus")) if a == "IMG" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_pipeline_run_over_files(tmp_path, capsys):
    src = tmp_path / "in"
    write_image(src / "coins.png", load_sample("coins"))
    (src / "bad.png").write_bytes(b"")
    rc = main(["ops", "run", "coin_count", str(src), "-o", str(tmp_path / "out")])
    assert rc == 1  # one file failed
    assert "1 done, 1 failed" in capsys.readouterr().out
    records = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    ok = [r for r in records if "error" not in r][0]
    assert ok["steps"][-1]["result"]["count"] == 24
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("steps:\n  - op: gaussian_blur\n    params: {sigma: 1.0}\n")
    assert main(["ops", "run", str(yaml_file), str(src / "coins.png"), "-o", str(tmp_path / "o2")]) == 0
    assert (tmp_path / "o2" / "coins.png").is_file()
