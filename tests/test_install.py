"""The installation itself: one consistent OpenCV 4.x, and an ``import vision`` without side effects."""

import base64
import hashlib
import importlib.metadata as md
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_opencv_is_4x_with_cascades_and_hog():
    import cv2

    major = int(cv2.__version__.split(".")[0])
    assert major == 4, f"expected OpenCV 4.x (5.0 dropped CascadeClassifier and cv2.data), got {cv2.__version__}"
    assert Path(cv2.data.haarcascades, "haarcascade_frontalface_default.xml").is_file()
    assert not cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml").empty()
    assert len(cv2.HOGDescriptor_getDefaultPeopleDetector()) == 3781


def test_exactly_one_consistent_cv2():
    """Every installed OpenCV wheel has cv2's version, and the cv2 binary on disk is one wheel's, byte for byte."""
    import cv2

    from vision.system import opencv_distributions

    dists = opencv_distributions()
    assert dists, "no OpenCV distribution installed"
    for name, version in dists.items():
        assert version.startswith(cv2.__version__ + "."), f"{name} {version} differs from cv2 {cv2.__version__}"
    binary = Path(cv2.__file__).parent / "cv2.abi3.so"
    if not binary.exists():
        pytest.skip(f"no {binary.name} here (platform-specific name)")
    digest = base64.urlsafe_b64encode(hashlib.sha256(binary.read_bytes()).digest()).rstrip(b"=").decode()
    owners = [n for n in dists for f in (md.distribution(n).files or [])
              if str(f) == "cv2/cv2.abi3.so" and f.hash is not None and f.hash.value == digest]
    assert owners, f"cv2/cv2.abi3.so matches none of the installed wheels {dists}: a mixed install"


def test_import_vision_has_no_side_effects(tmp_path):
    """Importing the package (and reading its public names) imports no heavy library and writes no file."""
    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys, os, vision\n"
        "names = [n for n in vision.__all__ if n != '__version__']\n"
        "heavy = [m for m in ('torch', 'cv2', 'ultralytics', 'streamlit', 'matplotlib') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
        "print('omp:', os.environ.get('OMP_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "YOLO_CONFIG_DIR")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "heavy: []" in out
    assert "omp: None" in out
    assert list(home.rglob("*")) == [], f"import vision wrote files: {list(home.rglob('*'))}"


def test_public_names_resolve():
    import vision

    for name in vision.__all__:
        assert getattr(vision, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vision.nope  # noqa: B018
