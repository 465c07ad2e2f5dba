"""`vision app`: finds the apps folder, builds the streamlit command, and really serves the app on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vision.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_print_command_runs_home_with_this_python_on_loopback(capsys, monkeypatch):
    monkeypatch.delenv("VISION_APPS_DIR", raising=False)
    assert main(["app", "--print-command"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(REPO / "apps" / "Home.py")]
    options = dict(zip(cmd[5::2], cmd[6::2]))
    assert options == {"--server.port": "8501", "--server.address": "127.0.0.1", "--server.headless": "true",
                       "--browser.gatherUsageStats": "false"}


def test_options_and_extra_streamlit_flags(capsys, tmp_path):
    (tmp_path / "Home.py").write_text("import streamlit as st\n")
    assert main(["app", "--apps", str(tmp_path), "--port", "9123", "--address", "0.0.0.0", "--browser",
                 "--print-command", "--", "--theme.base", "dark"]) == 0
    out = capsys.readouterr().out
    assert f"run {tmp_path / 'Home.py'} " in out
    assert "--server.port 9123 --server.address 0.0.0.0 --server.headless false" in out
    assert out.strip().endswith("--theme.base dark")


@pytest.mark.parametrize("how", ["env", "flag"])
def test_missing_apps_folder_is_a_clear_error(capsys, tmp_path, monkeypatch, how):
    args = ["app", "--print-command"]
    if how == "env":
        monkeypatch.setenv("VISION_APPS_DIR", str(tmp_path))
    else:
        args += ["--apps", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the Streamlit apps (Home.py and pages/) were not found; looked in: " + str(tmp_path))
    assert "pip install -e ." in err and "VISION_APPS_DIR" in err


def test_bad_port_is_refused(capsys):
    assert main(["app", "--port", "70000", "--print-command"]) == 2
    assert "--port must be in 1..65535; got 70000" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_vision_app_serves_the_home_page_and_stops_on_ctrl_c(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VISION_OFFLINE": "1", "VISION_HOME": str(tmp_path / "home"), "MPLBACKEND": "Agg",
           "PYTHONPATH": str(REPO)}  # this checkout, whatever vision is installed
    log = tmp_path / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "vision", "app", "--port", str(port)], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<div id=\"root\">" in r.read()
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) in (0, 130, -signal.SIGINT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert f"vision app: http://127.0.0.1:{port}" in text and f"apps from {REPO / 'apps'}" in text
