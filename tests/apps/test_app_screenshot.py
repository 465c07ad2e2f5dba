"""The rendered pages: a real ``streamlit run`` server on loopback, photographed by headless Chromium.

Chromium's ``--screenshot --virtual-time-budget`` shortcut does not wait for what Streamlit sends over its
websocket after the page loads (measured here: the same command gives a skeleton, a half page or the full
page depending on the server's speed). So Chromium is driven through its DevTools protocol instead: load the
page, wait until Streamlit reports the script finished and every image has loaded, then take the screenshot.
The websocket client is the ``websockets`` package, a Streamlit dependency.

Set ``VISION_APP_SHOTS=/some/folder`` to keep the screenshots (otherwise they go to the test's temporary folder).
"""

from __future__ import annotations

import base64
import importlib.util
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.viz import color_for

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.slow,
    # Loopback only: the test talks to its own server and browser; every other host stays blocked by
    # pytest-socket. (Do not add enable_socket: pytest-socket then ignores allow_hosts and opens everything.)
    pytest.mark.allow_hosts(["127.0.0.1"]),
]

FACE_COLOR, PERSON_COLOR = color_for(0), color_for(1)  # box colours of class 0 / class 1 in vision.viz.annotate

# What the page looks like right now, read in the browser.
PAGE_STATE_JS = """JSON.stringify((() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
  const count = (id) => document.querySelectorAll(`[data-testid="${id}"]`).length;
  return {
    script: app ? app.getAttribute('data-test-script-state') : null,
    connection: app ? app.getAttribute('data-test-connection-state') : null,
    images: imgs.length,
    loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    skeletons: count('stSkeleton') + count('stAppSkeleton'),
    errors: count('stAlertContentError'),
    exceptions: count('stException'),
    text: document.body.innerText,
  };
})())"""


# ------------------------------------------------------------------------------------------------ processes
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """End a process started in its own session, and everything it started."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # the group may outlive its leader for a moment
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for(url: str, proc: subprocess.Popen, log: Path, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {seconds:.0f} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run apps/Home.py`` on a free loopback port; yields its base URL, stops it afterwards."""
    port = free_port()
    folder = tmp_path_factory.mktemp("streamlit_server")
    log = folder / "server.log"
    env = {**os.environ, "VISION_OFFLINE": "1", "VISION_HOME": str(folder / "vision_home"), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "streamlit", "run", "apps/Home.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/_stcore/health", proc, log, seconds=60)
        yield url
    finally:
        stop(proc)
    assert proc.poll() is not None


class Browser:
    """Headless Chromium driven over the DevTools protocol: open a URL, wait for a state, screenshot."""

    def __init__(self, folder: Path, *, window: tuple[int, int], flags: tuple[str, ...] = ()) -> None:
        from contextlib import ExitStack

        from websockets.sync.client import connect

        port = free_port()
        self.log = folder / "chromium.log"
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={folder / 'profile'}", f"--window-size={window[0]},{window[1]}",
               "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={port}", *flags, "about:blank"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(f"http://127.0.0.1:{port}/json/version", self.proc, self.log, seconds=30)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                page = next(t for t in json.load(r) if t["type"] == "page")
            self._closing = ExitStack()
            self.ws = self._closing.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        except BaseException:
            stop(self.proc)
            raise
        self._ids = itertools.count(1)
        # --window-size sizes the window, not the page; make the viewport exactly the requested size
        self.call("Emulation.setDeviceMetricsOverride", width=window[0], height=window[1], deviceScaleFactor=1,
                  mobile=False)

    def call(self, method: str, **params):
        """Send one DevTools command and return its result (events arriving meanwhile are skipped)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def state(self) -> dict:
        """The page's state; empty while a navigation replaces the document (nothing to evaluate in)."""
        result = self.call("Runtime.evaluate", expression=PAGE_STATE_JS, returnByValue=True)
        value = result.get("result", {}).get("value")
        return json.loads(value) if isinstance(value, str) else {}

    def wait(self, ready, *, what: str, seconds: float = 90) -> dict:
        """Poll the page until Streamlit has finished a run and ``ready(state)`` holds for three polls in a row."""
        deadline, last, stable = time.monotonic() + seconds, None, 0
        while time.monotonic() < deadline:
            state = self.state()
            done = (bool(state) and state["connection"] == "CONNECTED" and state["script"] == "notRunning"
                    and state["skeletons"] == 0 and state["loaded"] == state["images"] and ready(state))
            stable = stable + 1 if done and state == last else 0
            if stable >= 2:
                return state
            last = state
            time.sleep(0.25)
        pytest.fail(f"{what} did not finish within {seconds:.0f} s; last state: "
                    f"{ {k: v for k, v in (last or {}).items() if k != 'text'} }")

    def open(self, url: str) -> dict:
        """Load ``url`` and wait until the script has run to its end and shows at least one loaded image."""
        self.call("Page.navigate", url=url)
        return self.wait(lambda state: state["images"] > 0, what=url)

    def upload(self, path: Path, ready) -> dict:
        """Put ``path`` into the page's file uploader, as a user choosing it would; wait for ``ready(state)``."""
        root = self.call("DOM.getDocument", depth=-1)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector='[data-testid="stFileUploaderDropzoneInput"]')
        assert node["nodeId"], "no file uploader on the page"
        self.call("DOM.setFileInputFiles", files=[str(path)], nodeId=node["nodeId"])
        return self.wait(ready, what=f"uploading {path.name}")

    def screenshot(self, path: Path) -> np.ndarray:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        keep = os.environ.get("VISION_APP_SHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return np.asarray(Image.open(path).convert("RGB"))

    def close(self) -> None:
        try:
            self._closing.close()
        finally:
            stop(self.proc)


@pytest.fixture
def browser(tmp_path):
    made = []

    def make(*, window: tuple[int, int] = (1280, 900), flags: tuple[str, ...] = ()) -> Browser:
        made.append(Browser(tmp_path, window=window, flags=flags))
        return made[-1]

    yield make
    for b in made:
        b.close()
        assert b.proc.poll() is not None


# ------------------------------------------------------------------------------------------------ checks
def color_pixels(image: np.ndarray, color: tuple[int, int, int], tol: int = 30) -> int:
    return int((np.abs(image.astype(np.int16) - np.array(color, np.int16)).sum(axis=-1) < tol).sum())


def distinct_colors(image: np.ndarray) -> int:
    return len(np.unique(image.reshape(-1, 3), axis=0))


def assert_no_error(state: dict, png: Path) -> None:
    assert state["errors"] == 0 and state["exceptions"] == 0, f"{png}: the page shows an error:\n{state['text']}"
    assert "Traceback" not in state["text"]


def open_and_shoot(b: Browser, url: str, png: Path) -> tuple[dict, np.ndarray, Path]:
    """Load ``url``, take its screenshot into ``png`` and check the page shows no error: (state, shot, png)."""
    state = b.open(url)
    shot = b.screenshot(png)
    assert_no_error(state, png)
    return state, shot, png


def test_home_page_shows_the_sample_with_its_face_box(server, browser, tmp_path):
    b = browser(window=(1280, 900))
    state, shot, png = open_and_shoot(b, f"{server}/", tmp_path / "home.png")
    assert "vision — computer vision, offline" in state["text"]
    assert "1 detection" in state["text"] and "VISION_OFFLINE=1" in state["text"]
    assert shot.shape == (900, 1280, 3)
    assert distinct_colors(shot) > 5000, f"{png}: no photo on the page"
    assert color_pixels(shot, FACE_COLOR) > 300, f"{png}: no face box drawn"
    # taller: the list of pages under the result, read from apps/pages/
    b.call("Emulation.setDeviceMetricsOverride", width=1280, height=1500, deviceScaleFactor=1, mobile=False)
    state = b.wait(lambda s: s["images"] == 1, what="resizing the window")
    b.screenshot(tmp_path / "home_pages.png")
    pages = state["text"][state["text"].index("Pages\n"):]
    for title in ("Detect", "Classic ops", "Classify", "Compare detectors", "Train", "Video"):
        assert f"\n{title}\n" in pages, pages


def test_detect_page_shows_faces_and_people(server, browser, tmp_path):
    state, shot, png = open_and_shoot(browser(window=(1280, 1100)), f"{server}/Detect", tmp_path / "detect.png")
    assert "Detect" in state["text"] and "Held-out synthetic scene" in state["text"]
    assert re.search(r"\b3 detections\b", state["text"]), state["text"]  # astronaut: 1 face + 2 people
    assert "Download annotated PNG" in state["text"] and "Download JSON" in state["text"]
    assert distinct_colors(shot) > 5000, f"{png}: no photo on the page"
    assert color_pixels(shot, FACE_COLOR) > 300, f"{png}: no face box drawn"
    assert color_pixels(shot, PERSON_COLOR) > 300, f"{png}: no person box drawn"


def test_a_bad_upload_shows_the_library_message_not_a_traceback(server, browser, tmp_path):
    b = browser(window=(1280, 900))
    b.open(f"{server}/")
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"these are my notes, not a picture\n" * 20)
    state = b.upload(notes, lambda state: state["errors"] > 0)
    shot = b.screenshot(png := tmp_path / "home_bad_upload.png")
    assert state["errors"] == 1 and state["exceptions"] == 0 and "Traceback" not in state["text"]
    assert "Could not use the uploaded file: notes.png is not an image" in state["text"]
    assert state["images"] == 0  # no stale result left on the page
    assert color_pixels(shot, FACE_COLOR) == 0, f"{png}: a result is still drawn"


def test_classic_ops_page_shows_the_photo_before_and_after_canny(server, browser, tmp_path):
    state, shot, png = open_and_shoot(browser(window=(1400, 1100)), f"{server}/Classic_ops",
                                      tmp_path / "classic_ops.png")
    assert "Classic ops" in state["text"] and "After canny" in state["text"], state["text"]
    assert "Reset to defaults" in state["text"] and "Download output PNG" in state["text"]
    assert state["images"] == 2
    assert distinct_colors(shot) > 5000, f"{png}: no photo on the page"
    # the edge map: a large black area with white edge pixels beside the photo
    assert color_pixels(shot, (0, 0, 0), tol=3) > 50_000, f"{png}: no edge map drawn"
    assert color_pixels(shot, (255, 255, 255), tol=3) > 0


CLICK_TRAIN_JS = """(() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === 'Train');
  if (button) button.click();
  return Boolean(button);
})()"""


def test_classify_page_shows_the_top_k_chart_and_trains_on_digits(server, browser, tmp_path):
    b = browser(window=(1280, 1800))
    state, shot, png = open_and_shoot(b, f"{server}/Classify", tmp_path / "classify.png")
    assert "Classify an image" in state["text"] and "espresso — 95.1%" in state["text"], state["text"]
    assert "Train on digits" in state["text"] and state["images"] == 1
    assert distinct_colors(shot) > 5000, f"{png}: no photo on the page"
    assert b.call("Runtime.evaluate", expression="document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length",
                  returnByValue=True)["result"]["value"] == 1
    assert b.call("Runtime.evaluate", expression=CLICK_TRAIN_JS, returnByValue=True)["result"]["value"] is True
    state = b.wait(lambda s: s["images"] == 3 and "Test accuracy" in s["text"], what="training on digits",
                   seconds=120)
    # taller, so the curves and the confusion matrix under them are in the picture as well
    b.call("Emulation.setDeviceMetricsOverride", width=1280, height=2400, deviceScaleFactor=1, mobile=False)
    state = b.wait(lambda s: s["images"] == 3, what="resizing the window")
    shot = b.screenshot(png := tmp_path / "classify_trained.png")
    assert_no_error(state, png)
    assert shot.shape == (2400, 1280, 3)
    accuracy = re.search(r"Test accuracy\s*(\d+\.\d)%", state["text"])
    assert accuracy and float(accuracy.group(1)) > 90, state["text"]  # 3 epochs by default


def test_compare_page_shows_detectors_side_by_side(server, browser, tmp_path):
    b = browser(window=(1400, 1500))
    b.call("Page.navigate", url=f"{server}/Compare_detectors")
    # every shipped detector is loaded on the first visit (R-CNN, YOLO, ...): allow minutes on 2 busy cores
    state = b.wait(lambda s: s["images"] >= 3 and "Latency and boxes" in s["text"], what="the compare page",
                   seconds=300)
    shot = b.screenshot(png := tmp_path / "compare.png")
    assert_no_error(state, png)
    assert "Compare detectors" in state["text"] and "ground truth:" in state["text"], state["text"]
    assert re.search(r"haar-face: \d+ boxes in \d+ ms", state["text"]), state["text"]
    assert "Measure mAP" in state["text"]
    assert distinct_colors(shot) > 5000, f"{png}: no picture on the page"


def test_detect_page_with_an_uploaded_photo(server, browser, tmp_path):
    """A user uploads a photo of their own on the Detect page: the face and the people in it get boxes."""
    from vision.data.photos import load_sample
    from vision.io import write_image

    photo = write_image(tmp_path / "my_photo.jpg", load_sample("grace_hopper"))
    b = browser(window=(1280, 1100))
    b.open(f"{server}/Detect")
    state = b.upload(photo, lambda s: "my_photo.jpg (uploaded" in s["text"] and s["images"] == 1)
    shot = b.screenshot(png := tmp_path / "detect_upload.png")
    assert_no_error(state, png)
    assert re.search(r"\b\d+ detections?\b", state["text"]) and "haar-face: face" in state["text"]
    assert distinct_colors(shot) > 5000, f"{png}: no photo on the page"
    assert color_pixels(shot, FACE_COLOR) > 300, f"{png}: no face box drawn on the upload"


def test_video_page_runs_a_detector_over_the_synthetic_clip(server, browser, tmp_path):
    b = browser(window=(1400, 1100))
    b.call("Page.navigate", url=f"{server}/Video")
    state = b.wait(lambda s: s["images"] >= 1 and "Frames processed" in s["text"], what="the video page", seconds=180)
    shot = b.screenshot(png := tmp_path / "video.png")
    assert_no_error(state, png)
    assert "yolov8n on synthetic scenes clip" in state["text"] and "Detector fps" in state["text"], state["text"]
    assert re.search(r"frame 0: \d+ box", state["text"]), state["text"]
    assert distinct_colors(shot) > 3000, f"{png}: no frame on the page"


CLICK_JS = """((label) => {
  const button = [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === label);
  if (button) button.click();
  return Boolean(button);
})"""


def test_train_page_trains_a_detector_with_a_live_curve(server, browser, tmp_path):
    b = browser(window=(1280, 1600))
    b.call("Page.navigate", url=f"{server}/Train")
    b.wait(lambda s: "What to train" in s["text"], what="the train page")
    assert b.call("Runtime.evaluate", expression=f"{CLICK_JS}('Train')", returnByValue=True)["result"]["value"]
    state = b.wait(lambda s: s["images"] == 4 and "val mAP50" in s["text"], what="training a detector", seconds=180)
    shot = b.screenshot(png := tmp_path / "train_detector.png")
    assert_no_error(state, png)
    assert "faster-rcnn-lite0, 1 epoch on 16 scenes" in state["text"] and "Training loss per batch" in state["text"]
    assert distinct_colors(shot) > 3000, f"{png}: no scenes on the page"


CLICK_LABEL_JS = """((text) => {
  const label = [...document.querySelectorAll('label')].find((l) => l.innerText.trim() === text);
  if (label) label.click();
  return Boolean(label);
})"""


IN_PLAYER_JS = """((what) => {
  const doc = document.querySelector('iframe').contentDocument;
  if (what === 'start' || what === 'stop') {
    const button = [...doc.querySelectorAll('button')].find((b) => b.innerText.trim() === what.toUpperCase());
    if (button) button.click();
    return Boolean(button);
  }
  const video = doc.querySelector('video');
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(video, 0, 0);
  return {time: video.currentTime, width: video.videoWidth, corner: [...ctx.getImageData(8, 8, 1, 1).data].slice(0, 3)};
})"""


def test_video_page_action_timeline_on_the_sample(server, browser, tmp_path):
    """The action-timeline mode: the sample video's clips labelled, the timeline figure (thumbnails, predicted and
    true bands, probabilities) drawn, the segments and the per-action accuracy beside it."""
    b = browser(window=(1400, 1500))
    b.call("Page.navigate", url=f"{server}/Video")
    b.wait(lambda s: "Frames processed" in s["text"], what="the video page", seconds=180)
    assert b.call("Runtime.evaluate", expression=f"{CLICK_LABEL_JS}('Action timeline')",
                  returnByValue=True)["result"]["value"]
    state = b.wait(lambda s: s["images"] == 1 and "Clips correct" in s["text"], what="the action timeline",
                   seconds=120)
    shot = b.screenshot(png := tmp_path / "video_action_timeline.png")
    assert_no_error(state, png)
    assert re.search(r"Clips correct\s*12/12", state["text"]), state["text"]
    assert "Segments" in state["text"] and "Accuracy per action" in state["text"], state["text"]
    assert "Download clips (JSON lines)" in state["text"]
    assert "Frames processed" not in state["text"]  # the detector's result is not shown under the timeline
    # the timeline's bands: big blocks of matplotlib's tab10 colours (blue = left, orange = right, ...)
    for color in ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)):
        assert color_pixels(shot, color, tol=12) > 3000, f"{png}: no {color} band in the timeline"


@pytest.mark.skipif(importlib.util.find_spec("streamlit_webrtc") is None,
                    reason="streamlit-webrtc is not installed (pip install -e '.[app]')")
def test_video_page_live_webcam_round_trip_over_webrtc(server, browser, tmp_path):
    """Chromium's fake camera → WebRTC → the server's detector and annotation → back to the page, live.

    Chromium's ``--use-fake-device-for-media-stream`` camera (a green test pattern) stands in for a webcam. The
    frames coming back must be playing and carry the server-side overlay: the white label box with the model
    name, frames per second and latency drawn at the top-left corner (the fake camera has no white there)."""
    b = browser(window=(1280, 900), flags=("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"))
    b.call("Page.navigate", url=f"{server}/Video")
    b.wait(lambda s: "Frames processed" in s["text"], what="the video page", seconds=180)
    assert b.call("Runtime.evaluate", expression=f"{CLICK_LABEL_JS}('Live webcam (WebRTC)')",
                  returnByValue=True)["result"]["value"]
    state = b.wait(lambda s: "Press START" in s["text"], what="the WebRTC player")
    assert "Using the app from another machine (TURN)" in state["text"]
    assert "camera snapshots instead" not in state["text"], state["text"]  # the real player, not the fallback

    def player(what: str):
        return b.call("Runtime.evaluate", expression=f"{IN_PLAYER_JS}('{what}')", returnByValue=True)["result"].get(
            "value")

    deadline = time.monotonic() + 30
    while not player("start"):  # the component's iframe loads after the page
        assert time.monotonic() < deadline, "no START button in the WebRTC player"
        time.sleep(0.5)
    deadline, frame = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        frame = player("frame")
        if frame and frame["time"] > 2:
            break
        time.sleep(0.5)
    assert frame and frame["time"] > 2, f"the annotated stream did not play: {frame}"
    shot = b.screenshot(png := tmp_path / "video_webrtc_live.png")
    assert frame["width"] > 0 and min(frame["corner"]) > 220, f"{png}: no overlay on the returned frames: {frame}"
    assert distinct_colors(shot) > 50
    assert player("stop")


def test_segment_page_shows_scene_truths_and_both_predictions(server, browser, tmp_path):
    b = browser(window=(1400, 1700))
    b.call("Page.navigate", url=f"{server}/Segment")
    state = b.wait(lambda s: s["images"] >= 5 and "mIoU on this scene" in s["text"]
                   and "mask AP@0.5 on this scene" in s["text"], what="the segment page",
                   seconds=240)
    shot = b.screenshot(png := tmp_path / "segment.png")
    assert_no_error(state, png)
    assert "Segment" in state["text"] and "hexagon" in state["text"], state["text"]
    assert distinct_colors(shot) > 5000, f"{png}: no picture on the page"


def test_generate_page_shows_a_sample_sheet(server, browser, tmp_path):
    b = browser(window=(1400, 1100))
    b.call("Page.navigate", url=f"{server}/Generate")
    state = b.wait(lambda s: s["images"] >= 1 and "images from dcgan" in s["text"], what="the generate page",
                   seconds=240)
    shot = b.screenshot(png := tmp_path / "generate.png")
    assert_no_error(state, png)
    assert "Generate" in state["text"] and "DCGAN" in state["text"], state["text"]
    assert distinct_colors(shot) > 100, f"{png}: no picture on the page"
