"""The run folder of a ``vision train …`` command: new or empty, or reused only with ``--overwrite``."""

from __future__ import annotations

from pathlib import Path

from vision.errors import InputError

__all__ = ["run_folder"]


def run_folder(out: str | Path, *, overwrite: bool) -> Path:
    """``out`` as a Path after checking it can take a new run.

    Raises:
        InputError: ``out`` is a file, or a non-empty folder without ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; expected a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"--out {out}: exists and is not empty; expected a new folder (or pass --overwrite)")
    return out
