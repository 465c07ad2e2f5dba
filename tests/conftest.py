"""Test-wide guards: no network (pytest-socket via addopts), offline resolver, project-owned caches."""

from __future__ import annotations


import pytest


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

