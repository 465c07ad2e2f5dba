"""Pipelines: a list of (op, params) steps, saved as YAML/JSON, run on one image or on many files.

Each step gets the previous step's image. An op that answers with an image passes it on; a geometric op passes its
``Warped.image`` on; an analysis op (lines, circles, regions) is recorded and the image passes through unchanged.
The result of a run has the final image, every step's answer and time, and — when analysis ops ran — the input
image with their answers drawn on it.

Example:
    >>> from vision.data import load_sample
    >>> p = Pipeline([("gaussian_blur", {"sigma": 2.0}), ("hough_segments", {})])      # doctest: +SKIP
    >>> result = p.run(load_sample("bus"))                                             # doctest: +SKIP
    >>> Pipeline.example("coin_count").run(load_sample("coins")).results[-1].result.count  # doctest: +SKIP
    24
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from vision.classic.ops import get_op
from vision.classic.results import Circles, Lines, Regions, Warped
from vision.errors import InputError, SourceNotFoundError, VisionError

__all__ = ["Step", "StepResult", "PipelineResult", "Pipeline", "list_examples", "iter_image_files", "IMAGE_SUFFIXES"]

log = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).with_name("pipelines")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_ANALYSIS = (Lines, Circles, Regions)


@dataclass(frozen=True)
class Step:
    """One op with its parameters; the parameter names are checked against the op when the step is made."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, dict):
            raise InputError(f"step {self.op!r}: params must be a mapping, got {type(self.params).__name__}")
        spec = get_op(self.op)
        for key in self.params:
            spec.param(key)

    @classmethod
    def parse(cls, raw: Any, index: int = 0) -> "Step":
        """Accept ``Step``, ``"op"``, ``("op", {params})`` or ``{"op": name, "params": {...}}``."""
        if isinstance(raw, Step):
            return raw
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, (tuple, list)) and len(raw) == 2 and isinstance(raw[0], str):
            return cls(raw[0], dict(raw[1] or {}))
        if isinstance(raw, dict) and "op" in raw and set(raw) <= {"op", "params"}:
            return cls(str(raw["op"]), dict(raw.get("params") or {}))
        raise InputError(f"step {index}: expected 'op', ('op', {{params}}) or {{op: ..., params: {{...}}}}, got {raw!r:.80}")

    def to_dict(self) -> dict:
        return {"op": self.op, "params": _jsonable(self.params)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class StepResult:
    """What one step gave: its answer (an image array or a result object) and how long it took."""

    op: str
    result: Any
    seconds: float

    def to_dict(self) -> dict:
        r = self.result
        if isinstance(r, np.ndarray):
            summary: dict[str, Any] = {"kind": "image", "shape": list(r.shape), "dtype": str(r.dtype)}
        elif hasattr(r, "to_dict"):
            summary = r.to_dict()
        else:
            summary = {"kind": type(r).__name__}
        return {"op": self.op, "seconds": round(self.seconds, 6), "result": summary}


@dataclass
class PipelineResult:
    """The final image, each step's answer, and the input with any lines/circles/regions drawn on it."""

    image: np.ndarray
    steps: list[StepResult]
    annotated: np.ndarray | None = None

    @property
    def results(self) -> list[StepResult]:
        """The steps whose answer is not a plain image (lines, circles, regions, warps)."""
        return [s for s in self.steps if not isinstance(s.result, np.ndarray)]

    @property
    def output_image(self) -> np.ndarray:
        """What a person wants to see: the annotated input when analysis ran, else the final image (uint8)."""
        return self.annotated if self.annotated is not None else self.image

    def to_dict(self) -> dict:
        return {"steps": [s.to_dict() for s in self.steps], "seconds": round(sum(s.seconds for s in self.steps), 6)}


class Pipeline:
    """An ordered list of :class:`Step`; see the module docstring for how images flow between steps."""

    def __init__(self, steps: Iterable[Any], *, name: str = "", description: str = "") -> None:
        self.steps = [Step.parse(s, i) for i, s in enumerate(steps)]
        if not self.steps:
            raise InputError("pipeline: expected at least one step, got none")
        self.name, self.description = name, description

    def __repr__(self) -> str:
        return f"Pipeline({' → '.join(s.op for s in self.steps)})"

    # ---------------------------------------------------------------- files
    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        if self.name:
            d["name"] = self.name
        if self.description:
            d["description"] = self.description
        d["steps"] = [s.to_dict() for s in self.steps]
        return d

    @classmethod
    def from_dict(cls, d: Any, *, where: str = "pipeline") -> "Pipeline":
        if isinstance(d, list):
            return cls(d)
        if not isinstance(d, dict) or "steps" not in d:
            raise InputError(f"{where}: expected a mapping with 'steps' (or a list of steps), got {type(d).__name__}")
        unknown = set(d) - {"name", "description", "steps"}
        if unknown:
            raise InputError(f"{where}: unknown keys {sorted(unknown)}; expected name, description, steps")
        return cls(d["steps"] or [], name=str(d.get("name", "")), description=str(d.get("description", "")))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Pipeline":
        """Read a pipeline from ``.yaml``/``.yml``/``.json``; errors name the file."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(f"pipeline file not found: {p}")
        text = p.read_text(encoding="utf-8")
        try:
            raw = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise InputError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'YAML'} ({exc})") from None
        try:
            return cls.from_dict(raw, where=str(p))
        except VisionError as exc:
            raise type(exc)(f"{p}: {exc}") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write YAML (or JSON for a ``.json`` suffix) atomically."""
        import yaml

        p = Path(path)
        text = (json.dumps(self.to_dict(), indent=2) if p.suffix.lower() == ".json"
                else yaml.safe_dump(self.to_dict(), sort_keys=False))
        from vision.io.files import atomic_write_text

        return atomic_write_text(p, text)

    @classmethod
    def example(cls, name: str) -> "Pipeline":
        """A shipped example pipeline (``list_examples()`` names them)."""
        path = EXAMPLES_DIR / f"{name}.yaml"
        if not path.is_file():
            raise InputError(f"unknown example pipeline {name!r}; expected one of {list_examples()}")
        return cls.load(path)

    # ---------------------------------------------------------------- running
    def run(self, image: Any) -> PipelineResult:
        """Run every step on one image (an array or anything :func:`vision.io.read_image` reads)."""
        from vision.io import read_image

        original = image if isinstance(image, np.ndarray) else read_image(image)
        current: np.ndarray = original
        done: list[StepResult] = []
        for i, step in enumerate(self.steps):
            t0 = time.perf_counter()
            try:
                out = get_op(step.op)(current, **step.params)
            except VisionError as exc:
                raise type(exc)(f"pipeline step {i + 1} ({step.op}): {exc}") from None
            done.append(StepResult(step.op, out, time.perf_counter() - t0))
            if isinstance(out, np.ndarray):
                current = out
            elif isinstance(out, Warped):
                current = out.image
        final = current.astype(np.uint8) * 255 if current.dtype == bool else current
        analysis = [s.result for s in done if isinstance(s.result, _ANALYSIS)]
        annotated = None
        if analysis:
            from vision.viz import annotate

            annotated = original if original.ndim == 3 else np.repeat(original[:, :, None], 3, axis=2)
            for res in analysis:
                annotated = annotate(annotated, res)
        return PipelineResult(final, done, annotated)

    def run_many(self, sources: Iterable[str | os.PathLike], out_dir: str | os.PathLike, *,
                 progress: bool = False) -> dict[str, Any]:
        """Run on every image file in ``sources`` (files, folders searched recursively, globs).

        Writes ``out_dir/<name>.png`` (the output image) and one JSON line per file to ``out_dir/results.jsonl``.
        A file that cannot be read or processed is recorded with its error and the run goes on.
        Returns:
            ``{"ok": n, "failed": n, "results": path}``.
        """
        from vision.io import read_image, write_image

        files = list(iter_image_files(sources))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        it: Iterable[Path] = files
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(files, desc=self.name or "pipeline", unit="img")
        ok = failed = 0
        used: set[str] = set()
        with open(out / "results.jsonl", "w", encoding="utf-8") as jl:
            for path in it:
                stem = path.stem
                while stem in used:
                    stem += "_"
                used.add(stem)
                record: dict[str, Any] = {"file": str(path)}
                try:
                    result = self.run(read_image(path))
                    record.update(result.to_dict(), output=str(write_image(out / f"{stem}.png", result.output_image)))
                    ok += 1
                except VisionError as exc:
                    record["error"] = f"{type(exc).__name__}: {exc}"
                    failed += 1
                    log.warning("%s: %s", path, exc)
                jl.write(json.dumps(record) + "\n")
        return {"ok": ok, "failed": failed, "results": str(out / "results.jsonl")}


def iter_image_files(sources: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Expand files, folders (recursive, sorted) and glob patterns into image file paths, in order."""
    import glob

    for src in sources:
        s = str(src)
        p = Path(s)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            yield p
        elif any(ch in s for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(s, recursive=True) if Path(m).is_file())
            if not matches:
                raise SourceNotFoundError(f"no files match {s!r}")
            yield from matches
        else:
            raise SourceNotFoundError(f"image source not found: {s}")


def list_examples() -> list[str]:
    """Names of the shipped example pipelines."""
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))
