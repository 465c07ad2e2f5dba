"""File placement shared by the format writers: image extensions, export names, link-or-copy, atomic text writes."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from vision.errors import DatasetError

#: Image file extensions the readers look for (lower case, as ultralytics and torchvision accept them).
IMAGE_EXTENSIONS = frozenset({".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".mpo"})


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive), sorted by path; hidden files and folders are skipped."""
    out = []
    for p in Path(folder).rglob("*"):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and is_image_file(p):
            out.append(p)
    return sorted(out)


def flat_names(file_names: Iterable[str], *, what: str) -> list[str]:
    """One flat, collision-free file name per input path, for formats that key annotations by file stem.

    The base name is kept when its stem is unique; otherwise the folders are joined in with ``__``
    (``a/x.jpg`` → ``a__x.jpg``), a leading ``images`` folder dropped.

    Raises:
        DatasetError: two paths would still map to the same stem (e.g. ``x.jpg`` and ``x.png`` in one folder).
    """
    paths = [PurePosixPath(Path(f).as_posix()) for f in file_names]
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    out = []
    for p in paths:
        if stems[p.stem] == 1:
            out.append(p.name)
        else:
            parts = [x for x in p.parts if x not in ("", ".", "..")]
            if len(parts) > 1 and parts[0] == "images":
                parts = parts[1:]
            out.append("__".join(parts))
    seen: dict[str, str] = {}
    for orig, name in zip(file_names, out):
        stem = PurePosixPath(name).stem
        if stem in seen:
            raise DatasetError(
                f"{what}: images {seen[stem]!r} and {orig!r} would share the annotation name {stem!r}; "
                "expected file names whose stems differ"
            )
        seen[stem] = str(orig)
    return out


def place_file(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (copy when linking is not possible); no-op when they are the same file."""
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        if dst.resolve() == src.resolve() or os.path.samefile(src, dst):
            return
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_empty_target(folder: Path, *, what: str, overwrite: bool, sources: Iterable[Path] = ()) -> None:
    """Refuse to mix a new export into a folder that already holds files, unless ``overwrite`` (then clear it).

    Raises:
        DatasetError: the folder holds files and ``overwrite`` is False, or one of ``sources`` (the files being
            exported) lies inside it, so clearing it would delete the data being written.
    """
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise DatasetError(f"{what}: {folder} already holds files; expected an empty or new folder "
                               "(pass overwrite=True to replace it)")
        inside = folder.resolve()
        for src in sources:
            if inside in Path(src).resolve().parents:
                raise DatasetError(f"{what}: cannot overwrite {folder}: it holds {src}, one of the files being "
                                   "written; write to another folder")
        shutil.rmtree(folder)


def fmt_number(v: float) -> str:
    """A coordinate as text: an integer when it is one, else up to 6 decimals without trailing zeros."""
    v = float(v)
    if v == int(v):
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")
