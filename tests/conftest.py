"""Test-wide guards: no network (pytest-socket via addopts), offline resolver, project-owned caches."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch, tmp_path_factory):
    """Every test runs offline with its own empty user cache, so nothing leaks from the developer's home."""
    monkeypatch.setenv("VISION_OFFLINE", "1")
    monkeypatch.setenv("VISION_HOME", str(tmp_path_factory.mktemp("vision_home")))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
