"""The `vision` command: thin wrappers that print what the library returns, with exit codes that mean something."""

import json
import shutil
import subprocess
import sys

import pytest

from vision.cli.main import main


def test_entry_point_help():
    exe = shutil.which("vision")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "vision", "--help"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for word in ("info", "demo", "weights", "data", "models"):
        assert word in out


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["opencv"]["version"].startswith("4.")
    assert info["opencv"]["has_cascade_classifier"] is True
    assert info["offline"]["VISION_OFFLINE"] is True
    assert "haar-face" in info["weights"]["available"] and "yolov8n" in info["weights"]["missing"]
    assert info["torch"]["device"] in ("cpu", "cuda")


def test_info_text(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "opencv: 4." in out and "offline: VISION_OFFLINE=1" in out


def test_weights_list_verify_path(capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "haar-face" in out and "builtin" in out and "online only" in out
    assert main(["weights", "verify", "haar-face", "yolov8n"]) == 0
    out = capsys.readouterr().out
    assert "haar-face: ok" in out and "yolov8n: missing" in out
    assert main(["weights", "path", "haar-face"]) == 0
    assert capsys.readouterr().out.strip().endswith("haarcascade_frontalface_default.xml")


def test_errors_are_one_line_with_exit_code_2(capsys):
    assert main(["weights", "path", "yolov8n"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: weights 'yolov8n' not found locally and VISION_OFFLINE=1 is set")
    assert "Traceback" not in err
    assert main(["weights", "path", "haar-fase"]) == 2
    assert "did you mean haar-face" in capsys.readouterr().err


def test_models_list(capsys):
    assert main(["models", "list", "--task", "detect"]) == 0
    out = capsys.readouterr().out
    assert "haar-face" in out and "hog-people" in out


def test_make_scenes_and_stats(tmp_path, capsys):
    out_dir = tmp_path / "scenes"
    assert main(["data", "make-scenes", str(out_dir), "-n", "4", "--size", "160", "--formats", "coco,yolo"]) == 0
    assert "4 scenes" in capsys.readouterr().out
    assert (out_dir / "images").is_dir()
    assert main(["data", "make-scenes", str(out_dir), "-n", "2", "--size", "160"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["data", "make-scenes", str(out_dir), "-n", "4", "--size", "160", "--formats", "coco", "--overwrite"]) == 0
    capsys.readouterr()
    assert main(["data", "stats", str(out_dir), "--format", "coco", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert json.dumps(stats)  # JSON-able
    assert main(["data", "stats", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["data", "make-scenes"])
    assert info.value.code == 2
