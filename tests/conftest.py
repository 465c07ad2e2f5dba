"""Test-wide guards: no network (pytest-socket via addopts), offline resolver, project-owned caches."""

from __future__ import annotations

import contextlib

import pytest

# urllib3 (imported by supervision through requests) asks at import whether IPv6 works by binding a socket to the
# loopback address ::1 — no traffic leaves the machine. Importing it once here, before pytest-socket blocks sockets
# in each test, keeps that probe out of the tests, so the guard's warnings stay for real network attempts.
with contextlib.suppress(ImportError):
    import urllib3  # noqa: F401


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch, tmp_path_factory):
    """Every test runs offline with its own empty user cache, so nothing leaks from the developer's home."""
    monkeypatch.setenv("VISION_OFFLINE", "1")
    monkeypatch.setenv("VISION_HOME", str(tmp_path_factory.mktemp("vision_home")))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of tiny networks: thread hand-offs cost more than they save (and
    oversubscribe a busy 2-core machine). Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

