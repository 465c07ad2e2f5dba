"""What a batch run works through: files, folders, globs, text files of paths and videos → ordered, sharded items.

:func:`expand_sources` turns the command line's SOURCE arguments into one deterministic list of
:class:`SourceItem` (images sorted, then every video's frames) and :func:`parse_shard` / ``shard=`` splits that list
between machines: item ``i`` of the sorted image list goes to shard ``i % n + 1``, frame ``f`` of a video to shard
``f % n + 1``, so ``--shard 1/3``, ``2/3`` and ``3/3`` cover every item exactly once whatever machine lists the
folder (the listing is sorted, never the file system's order).

Only paths are listed up front (a few hundred bytes an image); pixels are read later, a few at a time, by
:mod:`vision.infer.batch`. Video frames are numbered while the video is read, so a video's items are produced lazily.

Example:
    >>> from vision.infer.sources import expand_sources                      # doctest: +SKIP
    >>> plan = expand_sources(["photos/", "clip.mp4"], shard=(1, 2))         # doctest: +SKIP
    >>> [item.key for item in plan.items()][:2]                               # doctest: +SKIP
    ['photos/a.jpg', 'photos/c.jpg']
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, SourceNotFoundError

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "SourceItem", "SourcePlan", "expand_sources", "parse_shard"]

#: files with these suffixes are images when found in a folder or a glob (a file named explicitly is tried whatever
#: its suffix, so a mislabelled file is reported, not silently skipped)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: files with these suffixes are read as videos, one item per frame ("clip.mp4#frame=12")
VIDEO_SUFFIXES = (".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv")
#: a SOURCE with this suffix is a list of paths, one a line (``#`` comments and blank lines are skipped)
LIST_SUFFIXES = (".txt",)


@dataclass(frozen=True)
class SourceItem:
    """One unit of work: an image file, or one frame of a video.

    Attributes:
        key: the item's name in every output and in the done-list: the path as given (``"photos/a.jpg"``), or
            ``"clip.mp4#frame=12"`` for a video frame.
        path: the file to read.
        rel: the path relative to the common folder of all images of the run (``sub/a.jpg``), used to name output
            files; for a frame ``<video stem>/frame_000012``.
        frame: the frame index for a video frame, else None.
        image: the decoded frame (videos are decoded in order by one reader), else None.
    """

    key: str
    path: Path
    rel: str
    frame: int | None = None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"k/n"`` (1-based k) → ``(k, n)``; None stays None.

    Raises:
        InputError: not two integers with ``1 ≤ k ≤ n``.
    """
    if text is None:
        return None
    if isinstance(text, tuple):
        k, n = text
    else:
        parts = str(text).split("/")
        try:
            k, n = (int(p) for p in parts)
        except ValueError:
            raise InputError(f"--shard: expected K/N with 1 ≤ K ≤ N (e.g. 2/4), got {text!r}") from None
    if isinstance(k, bool) or isinstance(n, bool) or not (1 <= int(k) <= int(n)):
        raise InputError(f"--shard: expected K/N with 1 ≤ K ≤ N (e.g. 2/4), got {text!r}")
    return int(k), int(n)


def _read_list(path: Path) -> list[str]:
    """Lines of a text file of paths; relative paths are tried from the working folder, then from the file's folder
    (as ``yolo predict source=list.txt`` does)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: expected a UTF-8 text file of image paths, one a line ({exc})") from exc
    for line in lines:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        p = Path(s).expanduser()
        if not p.is_absolute() and not p.exists() and (path.parent / p).exists():
            p = path.parent / p
        out.append(str(p))
    if not out:
        raise InputError(f"{path}: the list of paths is empty; expected one image path a line")
    return out


def _expand_one(source: str, images: list[Path], videos: list[Path], *, depth: int) -> None:
    p = Path(source).expanduser()
    if p.is_dir():
        for q in sorted(p.rglob("*")):
            if q.is_file() and not q.name.startswith("."):
                suffix = q.suffix.lower()
                if suffix in IMAGE_SUFFIXES:
                    images.append(q)
                elif suffix in VIDEO_SUFFIXES:
                    videos.append(q)
    elif p.is_file() and p.suffix.lower() in LIST_SUFFIXES and depth == 0:
        for line in _read_list(p):
            _expand_one(line, images, videos, depth=1)
    elif p.is_file():
        (videos if p.suffix.lower() in VIDEO_SUFFIXES else images).append(p)
    elif p.suffix.lower() in VIDEO_SUFFIXES and not any(ch in source for ch in "*?["):
        raise SourceNotFoundError(f"video file not found: {source}")
    elif any(ch in source for ch in "*?["):
        matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(source), recursive=True) if Path(m).is_file())
        matches = [m for m in matches if m.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES]
        if not matches:
            raise SourceNotFoundError(f"no image or video files match {source!r}")
        for m in matches:
            (videos if m.suffix.lower() in VIDEO_SUFFIXES else images).append(m)
    else:
        raise SourceNotFoundError(f"image source not found: {source}")


def _common_root(resolved: Sequence[Path]) -> Path | None:
    """The deepest folder holding every one of ``resolved`` (absolute, symlinks resolved) paths."""
    if not resolved:
        return None
    try:
        return Path(os.path.commonpath([str(p.parent) for p in resolved]))
    except ValueError:  # different drives (Windows)
        return None


@dataclass
class SourcePlan:
    """The expanded SOURCE arguments of one run: the (sharded) image files and the videos whose frames follow.

    Attributes:
        images: the image items of this shard, in order.
        videos: the video files; their frames (of this shard) come after the images.
        total_images: images before sharding. root: the common folder the items' ``rel`` names are relative to.
        shard: ``(k, n)`` or None.
    """

    images: list[SourceItem]
    videos: list[Path]
    total_images: int
    root: Path | None
    shard: tuple[int, int] | None = None

    def items(self) -> Iterator[SourceItem]:
        """Every item of this shard in order; video frames are decoded here, one at a time.

        Raises:
            SourceNotFoundError / VideoSourceError: a video cannot be opened (from :class:`vision.io.VideoSource`).
        """
        yield from self.images
        for video in self.videos:
            yield from self.frames(video)

    def frames(self, video: Path) -> Iterator[SourceItem]:
        """The frames of ``video`` that belong to this shard, as items holding the decoded image."""
        from vision.io import VideoSource

        k, n = self.shard or (1, 1)
        stem = self._video_stem(video)
        with VideoSource(video) as source:
            for frame in source:
                if frame.index % n == k - 1:
                    yield SourceItem(f"{video}#frame={frame.index}", video, f"{stem}/frame_{frame.index:06d}",
                                     frame.index, frame.image)

    def _video_stem(self, video: Path) -> str:
        rel = self._rel(video)
        return rel[: -len(video.suffix)] if video.suffix else rel

    def _rel(self, path: Path, resolved: Path | None = None) -> str:
        if self.root is not None:
            try:
                return (resolved or path.resolve()).relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.name

    def __len__(self) -> int:
        """Items known up front (the images; video frames are counted while they are read)."""
        return len(self.images)


def expand_sources(sources: Sequence[str | os.PathLike[str]], *,
                   shard: tuple[int, int] | str | None = None) -> SourcePlan:
    """Expand SOURCE arguments into a :class:`SourcePlan`.

    A SOURCE is an image file (tried whatever its suffix), a folder (searched recursively for
    :data:`IMAGE_SUFFIXES` and :data:`VIDEO_SUFFIXES`; hidden files skipped), a glob (``"photos/**/*.jpg"``), a
    ``.txt`` file of paths (one a line) or a video file. The same file named twice is listed once.

    Args:
        sources: the SOURCE arguments.
        shard: ``(k, n)`` or ``"k/n"``: keep every n-th item starting at the k-th (1-based).
    Raises:
        InputError: no sources, a bad shard, an empty or unreadable list file.
        SourceNotFoundError: a path that does not exist, or a glob that matches nothing.
    """
    if isinstance(sources, (str, os.PathLike)) or not sources:
        raise InputError(f"expected a list of sources (files, folders, globs, .txt lists, videos); got {sources!r}")
    shard = parse_shard(shard)
    images: list[Path] = []
    videos: list[Path] = []
    for source in sources:
        _expand_one(os.fspath(source), images, videos, depth=0)
    seen: dict[Path, Path] = {}  # resolved → as given; each path is resolved once (a few syscalls a component)
    unique_images: dict[Path, Path] = {}
    unique_videos: dict[Path, Path] = {}
    for found, unique in ((images, unique_images), (videos, unique_videos)):
        for p in found:
            r = p.resolve()
            if r not in seen:
                seen[r] = unique[r] = p
    root = _common_root(list(seen))
    plan = SourcePlan([], list(unique_videos.values()), len(unique_images), root, shard)
    k, n = shard or (1, 1)
    plan.images = [SourceItem(str(p), p, plan._rel(p, r)) for i, (r, p) in enumerate(unique_images.items())
                   if i % n == k - 1]
    return plan


def describe(plan: SourcePlan) -> dict[str, Any]:
    """A short JSON-able description of a plan (for logs and the run record)."""
    return {"images": len(plan.images), "total_images": plan.total_images, "videos": [str(v) for v in plan.videos],
            "root": str(plan.root) if plan.root else None,
            "shard": f"{plan.shard[0]}/{plan.shard[1]}" if plan.shard else None}
