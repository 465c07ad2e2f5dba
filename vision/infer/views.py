"""Where :func:`vision.infer.stream.run_stream` shows frames: an OpenCV window when OpenCV has a GUI, else an MJPEG
page served on ``127.0.0.1``.

The MJPEG server is hand-written on :mod:`http.server` because no maintained library here serves a
``multipart/x-mixed-replace`` stream without a web framework; it binds to 127.0.0.1 by default, encodes a frame only
when a client asks for it, and joins every handler thread on close.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from vision.errors import InputError, VisionError

__all__ = ["DISPLAYS", "MjpegServer", "WindowOutput", "gui_available", "open_display"]

logger = logging.getLogger(__name__)

#: ``display=`` choices of :func:`vision.infer.stream.run_stream`
DISPLAYS = ("auto", "window", "http", "none")


def gui_available() -> bool:
    """True when this OpenCV build has a GUI backend and a display to open a window on."""
    import os
    import sys

    import cv2

    build = cv2.getBuildInformation()
    gui = next((line.split(":", 1)[1].strip() for line in build.splitlines() if line.strip().startswith("GUI:")),
               "NONE")
    if gui.upper() == "NONE":
        return False
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return True


class WindowOutput:
    """An OpenCV window; :meth:`show` returns False once the user pressed q / Esc or closed the window."""

    def __init__(self, title: str = "vision stream") -> None:
        import cv2

        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise VisionError(f"cannot open an OpenCV window ({str(exc).strip().splitlines()[-1]}); expected a GUI "
                              "build with a display; use display='http' or 'none'") from exc

    def show(self, image: np.ndarray) -> bool:
        import cv2

        cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            return False
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass


_PAGE = b"""<!doctype html><html><head><title>vision stream</title></head>
<body style="margin:0;background:#111"><img src="/stream.mjpg" style="max-width:100%;display:block;margin:auto">
</body></html>"""


class MjpegServer:
    """Serve the latest annotated frame as MJPEG (``multipart/x-mixed-replace``) over HTTP, for any browser.

    ``/`` is a page showing the stream, ``/stream.mjpg`` the stream, ``/frame.jpg`` one JPEG of the latest frame.

    Args:
        host: address to bind (default ``127.0.0.1``: this machine only).
        port: TCP port; 0 picks a free one (see :attr:`url`).
        quality: JPEG quality 1..100.
    Raises:
        VisionError: the port cannot be bound.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 8090, quality: int = 80) -> None:
        import http.server

        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InputError(f"MjpegServer: port must be an integer in [0, 65535]; got {port!r}")
        if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
            raise InputError(f"MjpegServer: quality must be an integer in [1, 100]; got {quality!r}")
        self.quality = quality
        self._cond = threading.Condition()
        self._seq = 0
        self._image: np.ndarray | None = None
        self._jpeg: tuple[int, bytes] | None = None
        self._served = 0
        self._closing = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                logger.debug("mjpeg %s " + fmt, self.client_address[0], *args)

            def do_GET(self) -> None:  # http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._send(200, "text/html; charset=utf-8", _PAGE)
                elif path == "/frame.jpg":
                    got = owner._next_jpeg(-1, timeout=10.0)
                    if got is None:
                        self._send(503, "text/plain", b"no frame yet\n")
                    else:
                        self._send(200, "image/jpeg", got[1])
                elif path == "/stream.mjpg":
                    self._stream()
                else:
                    self._send(404, "text/plain", b"not found; try / or /stream.mjpg\n")

            def _send(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                seq = -1
                try:
                    while not owner._closing.is_set():
                        got = owner._next_jpeg(seq, timeout=0.5)
                        if got is None:
                            continue
                        seq, data = got
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                        self.wfile.flush()
                        with owner._cond:
                            owner._served += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = False  # handler threads are joined by server_close()
            block_on_close = True

        try:
            self._server = Server((host, port), Handler)
        except OSError as exc:
            raise VisionError(f"cannot serve MJPEG on {host}:{port} ({exc.strerror or exc}); expected a free port "
                              "(use another --port, or 0 for any free one)") from exc
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"MjpegServer[{self.port}]", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The page address, e.g. ``http://127.0.0.1:8090/``."""
        return f"http://{self.host}:{self.port}/"

    @property
    def frames_served(self) -> int:
        """Stream frames sent to clients so far (all clients together)."""
        with self._cond:
            return self._served

    def show(self, image: np.ndarray) -> bool:
        """Publish a frame (RGB); clients get it at their own pace (it is JPEG-encoded only when one asks)."""
        with self._cond:
            self._seq += 1
            self._image = image
            self._cond.notify_all()
        return True

    def _next_jpeg(self, after: int, *, timeout: float) -> tuple[int, bytes] | None:
        """The JPEG of the newest frame newer than ``after`` (waits up to ``timeout``), or None."""
        import cv2

        with self._cond:
            if not self._cond.wait_for(lambda: self._seq > after and self._image is not None or
                                       self._closing.is_set(), timeout=timeout) or self._closing.is_set():
                return None
            if self._jpeg is not None and self._jpeg[0] == self._seq:
                return self._jpeg
            seq, image = self._seq, self._image
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            logger.warning("MJPEG: could not encode frame %d as JPEG", seq)
            return None
        data = (seq, buf.tobytes())
        with self._cond:
            if self._jpeg is None or self._jpeg[0] < seq:
                self._jpeg = data
        return data

    def close(self) -> None:
        """Stop serving: end client streams, stop the server, join its threads; idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()  # joins handler threads (each leaves its loop within 0.5 s)
        self._thread.join(5.0)


def open_display(display: str, *, host: str, port: int) -> Any:
    """The output for ``display`` (``auto``: a window when OpenCV has a GUI, else MJPEG); None for ``"none"``."""
    if display not in DISPLAYS:
        raise InputError(f"display must be one of {list(DISPLAYS)}; got {display!r}")
    if display == "auto":
        display = "window" if gui_available() else "http"
    if display == "window":
        return WindowOutput()
    if display == "http":
        return MjpegServer(host=host, port=port)
    return None
