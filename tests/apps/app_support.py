"""Helpers shared by the app tests (imported as ``from app_support import ...``: pytest's default import mode
puts tests/apps on sys.path for the test files here)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from vision.data.photos import load_sample

APPS = Path(__file__).resolve().parents[2] / "apps"
HOME = APPS / "Home.py"
DETECT_PAGE = APPS / "pages" / "1_Detect.py"
CLASSIC_PAGE = APPS / "pages" / "2_Classic_ops.py"
CLASSIFY_PAGE = APPS / "pages" / "3_Classify.py"
COMPARE_PAGE = APPS / "pages" / "4_Compare_detectors.py"
TRAIN_PAGE = APPS / "pages" / "5_Train.py"
VIDEO_PAGE = APPS / "pages" / "6_Video.py"
SEGMENT_PAGE = APPS / "pages" / "7_Segment.py"
GENERATE_PAGE = APPS / "pages" / "8_Generate.py"
TIMEOUT = 30  # the first run imports torch and OpenCV for the sidebar; later runs take well under a second
#: for runs that train or run several detectors: seconds on an idle 2-core machine, far more when it is busy
SLOW_TIMEOUT = 240


def encode(image: np.ndarray, fmt: str) -> bytes:
    """``image`` saved by Pillow in format ``fmt`` ("PNG", "JPEG", ...)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header announces width×height pixels but holds no pixel data (a decompression-bomb probe)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def truncated(fmt: str, sample: str = "astronaut") -> bytes:
    """The first half of ``sample`` encoded as ``fmt``: a file cut off mid-way."""
    data = encode(load_sample(sample), fmt)
    return data[: len(data) // 2]


def run_app(path: Path | str, *, timeout: float = TIMEOUT, **session) -> AppTest:
    """Run the Streamlit script at ``path`` once through AppTest, with ``session`` put in its session state first."""
    at = AppTest.from_file(str(path), default_timeout=timeout)
    for key, value in session.items():
        at.session_state[key] = value
    return at.run()


def assert_clean(at: AppTest) -> None:
    """The run raised nothing and shows no error."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
