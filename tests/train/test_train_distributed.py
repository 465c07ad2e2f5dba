"""Two processes through ``torchrun`` (gloo, CPU, loopback only): one unchanged script trains with DDP, every
process ends with the same weights and logs, and files are written once — by rank 0 — not once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("ddp_train_script.py")

pytestmark = pytest.mark.slow


def torchrun(out: Path, *extra: str) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(SCRIPT),
           str(out), *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert proc.returncode == 0, f"files written: {written}\n{proc.stderr[-4000:]}"
    return [json.loads((out / f"report{r}.json").read_text()) for r in (0, 1)]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("ddp")
    return out, torchrun(out)


def test_two_processes_train_one_model(first_run) -> None:
    _, (r0, r1) = first_run
    assert (r0["rank"], r1["rank"], r0["world_size"]) == (0, 1, 2)
    # each process trains on half of the 1400 images: 700 / 50 = 14 batches per epoch
    assert r0["global_step"] == r1["global_step"] == 3 * 14
    assert r0["weights_sum"] == pytest.approx(r1["weights_sum"], rel=0, abs=1e-9)  # DDP kept them identical
    assert r0["history"] == r1["history"]  # losses and metrics summed over both processes
    assert r0["history"]["val_accuracy"][-1] >= 0.8  # 42 steps of 2×50 images


def test_checkpoints_and_logs_written_once(first_run) -> None:
    out, _ = first_run
    assert sorted(p.name for p in (out / "rank0").iterdir()) == ["epoch1.pt", "epoch2.pt", "epoch3.pt", "history.csv"]
    assert not (out / "rank1").exists()
    rows = (out / "rank0" / "history.csv").read_text().splitlines()
    assert len(rows) == 4


def test_resume_in_two_processes(first_run, tmp_path) -> None:
    out, (r0, _) = first_run
    resumed = torchrun(tmp_path, str(out / "rank0" / "epoch3.pt"))
    assert [r["global_step"] for r in resumed] == [4 * 14, 4 * 14]
    assert resumed[0]["history"]["loss"][:3] == r0["history"]["loss"]  # the first three epochs came from the file
    assert resumed[0]["weights_sum"] == pytest.approx(resumed[1]["weights_sum"], rel=0, abs=1e-9)
    assert (tmp_path / "rank0" / "epoch4.pt").is_file() and not (tmp_path / "rank1").exists()
