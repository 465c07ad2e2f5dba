"""The weights resolver: manifest validation, search order, checksums, offline behaviour."""

import hashlib
import textwrap

import pytest

from vision import weights as W
from vision.errors import ChecksumError, ManifestError, UnknownModelError, WeightsError, WeightsNotFoundError


def _manifest(tmp_path, body: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A manifest with one file entry whose checksum we know, pointed to by VISION_WEIGHTS_MANIFEST."""
    data = b"not really weights but bytes with a known hash"
    sha = hashlib.sha256(data).hexdigest()
    path = _manifest(tmp_path, f"""
        tiny:
          task: detect
          file: tiny.bin
          url: https://example.invalid/tiny.bin
          sha256: {sha}
          labels: [thing]
    """)
    monkeypatch.setenv("VISION_WEIGHTS_MANIFEST", str(path))
    return tmp_path, data


def test_shipped_manifest_is_valid_and_complete():
    entries = W.load_manifest()
    for name in ("haar-face", "hog-people", "yolov8n", "yolo11n", "fasterrcnn_mobilenet_v3_large_fpn-coco",
                 "fasterrcnn_resnet50_fpn-coco", "maskrcnn_resnet50_fpn-coco", "fcn_resnet50-coco-voc"):
        assert name in entries
    assert len(entries["yolov8n"].labels) == 80 and entries["yolov8n"].labels[0] == "person"
    assert len(entries["fasterrcnn_resnet50_fpn-coco"].labels) == 91
    for e in entries.values():
        if e.url:
            assert e.url.startswith("https://")
        if e.sha256_prefix:  # torchvision puts the prefix in the file name
            assert e.sha256_prefix in e.file


def test_package_shipped_haar_cascade_resolves_and_verifies():
    path = W.resolve("haar-face")
    assert path.name == "haarcascade_frontalface_default.xml" and path.is_file()
    assert W.verify("haar-face").state == "ok"
    assert W.resolve("hog-people") is None and W.verify("hog-people").state == "builtin"


def test_online_only_weights_fail_cleanly_offline():
    with pytest.raises(WeightsNotFoundError) as info:
        W.resolve("yolov8n")
    msg = str(info.value)
    assert "VISION_OFFLINE=1" in msg and "yolov8n.pt" in msg and "https://github.com/ultralytics" in msg
    assert W.verify("yolov8n").state == "missing"


def test_unknown_name_suggests_close_names():
    with pytest.raises(UnknownModelError, match="did you mean haar-face"):
        W.get_entry("haar-fase")


def test_search_order_local_then_cache(tiny, monkeypatch):
    root, data = tiny
    cache = W.cache_dir()
    cache.mkdir(parents=True)
    (cache / "tiny.bin").write_bytes(data)
    assert W.resolve("tiny") == cache / "tiny.bin"
    (root / "tiny.bin").write_bytes(data)  # the project folder wins over the cache
    assert W.resolve("tiny") == root / "tiny.bin"


def test_checksum_mismatch_is_an_error(tiny):
    root, data = tiny
    (root / "tiny.bin").write_bytes(data + b"!")
    with pytest.raises(ChecksumError, match=r"tiny.bin: sha256 is [0-9a-f]{64}, expected"):
        W.resolve("tiny")
    assert W.verify("tiny").state == "mismatch"


def test_offline_makes_no_download_attempt(tiny):
    # pytest-socket would turn any connection into an error other than WeightsNotFoundError
    with pytest.raises(WeightsNotFoundError, match="put tiny.bin from https://example.invalid/tiny.bin at"):
        W.resolve("tiny")


def test_download_disabled_by_argument(tiny, monkeypatch):
    monkeypatch.delenv("VISION_OFFLINE")
    with pytest.raises(WeightsNotFoundError, match="downloads are off"):
        W.resolve("tiny", download=False)


@pytest.mark.parametrize(
    "body, text",
    [
        ("x: [1, 2]", "expected a mapping of fields, got list"),
        ("x: {task: fly, file: a.pt}", "task 'fly' is not one of"),
        ("x: {task: detect}", "exactly one of 'file' or 'builtin'"),
        ("x: {task: detect, file: a.pt, sha256: abc}", "sha256 must be 64"),
        ("x: {task: detect, file: a.pt, url: ftp://h/a.pt}", "url must start with https://"),
        ("x: {task: detect, file: a.pt, colour: red}", r"unknown field\(s\) \['colour'\]"),
        ("x: {task: detect, file: a.pt, labels: labels/missing.txt}", "labels file .* does not exist"),
        ("- just\n- a list", "expected a mapping name → entry, got list"),
        ("x: {task: detect, file: [unclosed", "not valid YAML"),
    ],
)
def test_bad_manifest_entries_are_named(tmp_path, body, text):
    path = _manifest(tmp_path, body)
    with pytest.raises(ManifestError, match=text):
        W.load_manifest(path)


def test_missing_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("VISION_WEIGHTS_MANIFEST", str(tmp_path / "nope.yaml"))
    with pytest.raises(ManifestError, match="weights manifest not found at"):
        W.load_manifest()


def test_load_state_dict_safetensors_and_torch(tmp_path):
    import torch
    from safetensors.torch import save_file

    sd = {"w": torch.arange(6.0).reshape(2, 3)}
    save_file(sd, tmp_path / "a.safetensors")
    torch.save(sd, tmp_path / "a.pt")
    assert torch.equal(W.load_state_dict(tmp_path / "a.safetensors")["w"], sd["w"])
    assert torch.equal(W.load_state_dict(tmp_path / "a.pt")["w"], sd["w"])
    torch.save([torch.zeros(1)], tmp_path / "b.pt")
    with pytest.raises(ManifestError, match="expected a state dict"):
        W.load_state_dict(tmp_path / "b.pt")
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        W.load_state_dict(tmp_path / "missing.pt")


def test_arbitrary_pickles_are_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"x": Evil()}, protocol=2))
    with pytest.raises(WeightsError, match="refused to load"):
        W.load_state_dict(tmp_path / "evil.pt")
