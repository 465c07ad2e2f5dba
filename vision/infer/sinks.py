"""The output folder of a batch run: results as JSON lines / CSV / COCO / YOLO txt, a done-list, safe to resume.

Layout of ``--out DIR``::

    run.json            what ran (task, model, formats, shard); a rerun must match it to resume
    done.jsonl          the done-list: {"item": KEY, "error": null | "Reason: message"} per finished item
    results.jsonl       one JSON object per item: {"item", "path", "rel", ["frame"], **result.to_dict()} or "error"
    results.csv         (--format csv) one row per box / class (an image with none: one row with empty fields)
    results.coco.json   (--format coco: detectors, instance segmenters) written at the end from results.jsonl
    labels/REL.txt      (--format yolo, detect) ``class cx cy w h`` normalised, one file per image, + classes.txt
    images/REL.jpg|png  (--save-images) the annotated images
    names.json          the class names of the results (kept out of every line: an ImageNet record would carry 1000)
    summary.json        counts, images/s, failures with reasons

Crash safety (SIGKILL at any moment): an item's lines are appended in one ``write`` and flushed, its own files are
written atomically (temporary file + rename, :mod:`vision.io.files`), and only then is it added to the done-list.
On resume a torn last line is cut off, lines of items missing from the done-list are dropped (they are redone), so
no item appears twice; COCO is written atomically at the end from the JSON lines. Writes are flushed to the
operating system, not ``fsync``-ed: a killed process loses nothing, a power cut may lose the last items (which
are then redone).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vision.errors import InputError
from vision.io.files import atomic_write_text

__all__ = ["FORMATS", "OutputFolder", "csv_rows", "parse_formats", "read_jsonl", "write_coco_results"]

log = logging.getLogger(__name__)

#: ``--format`` values; ``jsonl`` is always written (the record the others are built from)
FORMATS = ("jsonl", "csv", "coco", "yolo")
#: formats that only make sense for boxes
DETECT_FORMATS = ("coco", "yolo")
CSV_COLUMNS = ("item", "frame", "task", "rank", "class_id", "label", "score", "x1", "y1", "x2", "y2",
               "image_height", "image_width", "error")


def parse_formats(text: str | Iterable[str] | None, *, task: str | None = None) -> tuple[str, ...]:
    """``"csv,coco"`` → ``("jsonl", "csv", "coco")`` (jsonl first, always).

    Raises:
        InputError: an unknown format, or coco / yolo for a task without boxes (instance segmenters pass
            ``task="detect"``: their results are boxes with masks).
    """
    if text is None:
        items: list[str] = []
    elif isinstance(text, str):
        items = [t.strip().lower() for t in text.split(",") if t.strip()]
    else:
        items = [str(t).strip().lower() for t in text]
    bad = [t for t in items if t not in FORMATS]
    if bad:
        raise InputError(f"--format: expected a comma list of {', '.join(FORMATS)}; got {', '.join(bad)}")
    if task is not None and task != "detect":
        wrong = [t for t in items if t in DETECT_FORMATS]
        if wrong:
            raise InputError(f"--format {','.join(wrong)}: only for detect (boxes); {task} writes jsonl or csv")
    return tuple(["jsonl"] + [f for f in FORMATS[1:] if f in items])


def _cut_torn_tail(path: Path) -> bytes:
    """The complete lines of ``path`` (a last line without its newline is a torn write: dropped)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The objects of a JSON-lines file, one at a time (a torn last line is skipped)."""
    with open(path, "rb") as fh:
        for line in fh:
            if line.endswith(b"\n") and line.strip():
                yield json.loads(line)


def csv_rows(record: dict[str, Any]) -> list[list[Any]]:
    """The CSV rows of one result record (see :data:`CSV_COLUMNS`): a row per box or per class, at least one."""
    base = {"item": record["item"], "frame": record.get("frame", ""), "task": record.get("task", "")}
    if "error" in record:
        base["error"] = " ".join(str(record["error"]).split())
        return [[base.get(c, "") for c in CSV_COLUMNS]]
    shape = record.get("image_shape") or ["", ""]
    base["image_height"], base["image_width"] = shape[0], shape[1]
    rows = []
    labels, scores, ids = record.get("labels", []), record.get("scores", []), record.get("class_ids", [])
    boxes = record.get("xyxy")
    for i, (cid, label, score) in enumerate(zip(ids, labels, scores)):
        row = dict(base, rank=i + 1, class_id=cid, label=label, score=score)
        if boxes is not None:
            row.update(zip(("x1", "y1", "x2", "y2"), boxes[i]))
        rows.append([row.get(c, "") for c in CSV_COLUMNS])
    return rows or [[base.get(c, "") for c in CSV_COLUMNS]]


def _csv_text(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


class _LineFile:
    """An append-only lines file where each item's lines go out in one write; repaired on resume."""

    def __init__(self, path: Path, key_of: Any, header: str = "") -> None:
        self.path, self.key_of, self.header = path, key_of, header
        self._fh: Any = None

    def open(self, done: set[str]) -> None:
        if self.path.exists():
            self._repair(done)
        else:
            atomic_write_text(self.path, self.header)
        self._fh = open(self.path, "ab", buffering=0)

    def _repair(self, done: set[str]) -> None:
        """Keep the complete lines of items in the done-list (the others are redone); rewrite only when needed."""
        data = _cut_torn_tail(self.path)
        lines = data.splitlines(keepends=True)
        body = lines[1:] if self.header and lines else lines
        kept = [line for line in body if self.key_of(line) in done]
        if len(kept) != len(body) or len(data) != self.path.stat().st_size or (self.header and not lines):
            dropped = len(body) - len(kept)
            log.info("%s: dropped %d line(s) of unfinished items%s", self.path, dropped,
                     " and a torn last line" if len(data) != self.path.stat().st_size else "")
            from vision.io.files import atomic_write_bytes

            atomic_write_bytes(self.path, self.header.encode() + b"".join(kept))

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:  # one unbuffered write in practice; a short write continues where it stopped
            n = self._fh.write(view)
            view = view[n:]

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _json_key(line: bytes) -> str | None:
    try:
        return json.loads(line).get("item")
    except (ValueError, AttributeError):
        return None


def _csv_key(line: bytes) -> str | None:
    try:
        row = next(csv.reader([line.decode("utf-8")]))
    except (StopIteration, UnicodeDecodeError, csv.Error):
        return None
    return row[0] if row else None


class OutputFolder:
    """The files of one run in ``root``; resumes a folder holding an interrupted run of the same settings.

    Args:
        root: the output folder (created).
        meta: what runs (task, model, options); stored as run.json and compared on resume.
        formats: from :func:`parse_formats`.
    Raises:
        InputError: ``root`` is a file, or holds a run with other settings (``meta`` differs).
    """

    def __init__(self, root: str | os.PathLike[str], meta: dict[str, Any], formats: tuple[str, ...]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--out {self.root}: is a file; expected a folder for the results")
        self.formats = formats
        self.meta = {**meta, "formats": list(formats)}
        self.done: dict[str, str | None] = {}
        self.names: list[str] | None = None
        self._files: list[_LineFile] = []
        self._done_file = _LineFile(self.root / "done.jsonl", _json_key)

    # -------------------------------------------------------------------------------------------- life cycle
    def open(self) -> OutputFolder:
        run = self.root / "run.json"
        if run.exists():
            try:
                old = json.loads(run.read_text(encoding="utf-8"))
            except ValueError:
                old = None
            if old != self.meta:
                differ = sorted(k for k in set(self.meta) | set(old or {}) if (old or {}).get(k) != self.meta.get(k))
                raise InputError(f"--out {self.root}: holds a run with other settings ({', '.join(differ)} differ: "
                                 f"{ {k: (old or {}).get(k) for k in differ} }); expected the same command to resume, "
                                 f"or a new folder")
        elif self.root.is_dir() and any(self.root.iterdir()):
            raise InputError(f"--out {self.root}: not empty and holds no run.json; expected a new or empty folder, or "
                             f"the folder of an interrupted run to resume")
        self.root.mkdir(parents=True, exist_ok=True)
        if run.exists():
            self._remove_stale_temporaries()
        if not run.exists():
            atomic_write_text(run, json.dumps(self.meta, indent=2))
        names = self.root / "names.json"
        if names.exists():
            self.names = json.loads(names.read_text(encoding="utf-8"))
        done_path = self.root / "done.jsonl"
        if done_path.exists():
            for line in _cut_torn_tail(done_path).splitlines():
                try:
                    entry = json.loads(line)
                    self.done[entry["item"]] = entry.get("error")
                except (ValueError, KeyError, TypeError):
                    continue
        self._done_file.open(set(self.done))
        self._files = [_LineFile(self.root / "results.jsonl", _json_key)]
        if "csv" in self.formats:
            self._files.append(_LineFile(self.root / "results.csv", _csv_key, ",".join(CSV_COLUMNS) + "\n"))
        for f in self._files:
            f.open(set(self.done))
        return self

    def _remove_stale_temporaries(self) -> None:
        """Delete the temporary files of atomic writes a killed run left behind (``.NAME.<12 hex>.tmp``).

        One folder belongs to one run at a time: shards write to folders of their own.
        """
        import re

        pattern = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
        stale = [p for p in self.root.rglob(".*.tmp") if pattern.match(p.name) and p.is_file()]
        for p in stale:
            p.unlink(missing_ok=True)
        if stale:
            log.info("%s: removed %d temporary file(s) of an interrupted run", self.root, len(stale))

    def close(self) -> None:
        for f in [*self._files, self._done_file]:
            f.close()

    def __enter__(self) -> OutputFolder:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- per item
    def is_done(self, key: str) -> bool:
        return key in self.done

    def write_record(self, record: dict[str, Any]) -> None:
        """Append an item's result lines (JSON line, CSV rows); call :meth:`mark_done` once its files exist."""
        self._files[0].write(json.dumps(record, allow_nan=False) + "\n")
        if "csv" in self.formats:
            self._files[1].write(_csv_text(csv_rows(record)))

    def set_names(self, names: list[str]) -> None:
        if names and names != self.names:
            self.names = list(names)
            atomic_write_text(self.root / "names.json", json.dumps(self.names))

    def mark_done(self, key: str, error: str | None = None) -> None:
        self._done_file.write(json.dumps({"item": key, "error": error}) + "\n")
        self.done[key] = error

    def item_files(self, record: dict[str, Any], image_suffix: str) -> dict[str, Path]:
        """Where an item's own files go: ``{"image": images/REL.jpg, "labels": labels/REL.txt}`` (as asked)."""
        rel = record["rel"]
        stem = rel[: -len(Path(rel).suffix)] if Path(rel).suffix and record.get("frame") is None else rel
        out = {}
        if "yolo" in self.formats:
            out["labels"] = self.root / "labels" / f"{stem}.txt"
        out["image"] = self.root / "images" / f"{stem}{image_suffix}"
        return out

    # -------------------------------------------------------------------------------------------- the end
    def failures(self) -> list[tuple[str, str]]:
        return [(k, e) for k, e in self.done.items() if e]

    def finish(self, summary: dict[str, Any]) -> dict[str, str]:
        """Write the end-of-run files (COCO, classes.txt, summary.json); returns {what: path}."""
        files = {"jsonl": str(self.root / "results.jsonl"), "done": str(self.root / "done.jsonl")}
        if "csv" in self.formats:
            files["csv"] = str(self.root / "results.csv")
        if "coco" in self.formats:
            files["coco"] = str(write_coco_results(self.root / "results.jsonl", self.root / "results.coco.json",
                                                   names=self.names or []))
        if "yolo" in self.formats:
            files["yolo"] = str(self.root / "labels")
            atomic_write_text(self.root / "labels" / "classes.txt", "".join(f"{n}\n" for n in self.names or []))
        files["summary"] = str(self.root / "summary.json")
        atomic_write_text(self.root / "summary.json", json.dumps({**summary, "files": files}, indent=2))
        return files


def yolo_label_text(record: dict[str, Any]) -> str:
    """An item's YOLO label file: ``class cx cy w h`` per box, normalised by the image size (ultralytics' save_txt)."""
    h, w = record["image_shape"]
    lines = []
    for (x1, y1, x2, y2), cid in zip(record["xyxy"], record["class_ids"]):
        cx, cy, bw, bh = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h
        lines.append(f"{cid} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")
    return "".join(lines)


def write_coco_results(jsonl: str | os.PathLike[str], path: str | os.PathLike[str], *,
                       names: list[str]) -> Path:
    """A COCO JSON (images, categories, annotations with ``score``; with ``segmentation`` as uncompressed RLE for
    instance segmenters) from a run's results.jsonl, written atomically.

    ``file_name`` is each image's path relative to the run's common folder (``rel``), so
    ``read_coco(path, images_dir=<that folder>)`` and pycocotools read it; category ids are class id + 1.
    Failed items are left out. Streams the JSON lines; the COCO document itself is built in memory (it is one JSON
    object), at about 100 bytes a box.
    """
    images, annotations = [], []
    seen_ids: set[int] = set()
    for record in read_jsonl(jsonl):
        if "error" in record or record.get("task") != "detect":
            continue
        iid = len(images) + 1
        h, w = record.get("image_shape") or (0, 0)
        images.append({"id": iid, "file_name": record["rel"] if record.get("frame") is None else record["item"],
                       "width": int(w), "height": int(h)})
        masks = record.get("masks") or [None] * len(record["xyxy"])
        for (x1, y1, x2, y2), score, cid, rle in zip(record["xyxy"], record["scores"], record["class_ids"], masks):
            seen_ids.add(int(cid))
            ann = {"id": len(annotations) + 1, "image_id": iid, "category_id": int(cid) + 1,
                   "bbox": [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)],
                   "area": round((x2 - x1) * (y2 - y1), 2), "iscrowd": 0, "score": score}
            if rle is not None:  # an instance segmenter: COCO's uncompressed RLE, area = the mask's pixels
                ann["segmentation"] = rle
                ann["area"] = int(sum(rle["counts"][1::2]))
            annotations.append(ann)
    count = max(len(names), max(seen_ids, default=-1) + 1)
    categories = [{"id": i + 1, "name": names[i] if i < len(names) else f"class_{i}"} for i in range(count)]
    doc = {"info": {"description": "vision predict results"}, "images": images,
           "annotations": annotations, "categories": categories}
    return atomic_write_text(path, json.dumps(doc))
