"""A training process killed with SIGKILL mid-epoch resumes from its last checkpoint to the same final weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import os, signal, sys
    import torch
    from safetensors.torch import save_file
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from vision.data import load_digits_dataset
    from vision.train import ClassificationTask, LambdaCallback, ModelCheckpoint, Trainer, make_optimizer

    out, mode = sys.argv[1], sys.argv[2]          # mode: full | killed | resume
    torch.manual_seed(0)
    images, labels, _ = load_digits_dataset()
    x = torch.from_numpy(images[:640]).float().div(255).unsqueeze(1)
    y = torch.from_numpy(labels[:640])
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1))
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))

    def kill(trainer, step, logs):                # dies in the middle of epoch 3 (20 batches an epoch)
        if mode == "killed" and step == 2 * 20 + 7:
            os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [ModelCheckpoint(os.path.join(out, "last.pt"), monitor="loss"), LambdaCallback(on_batch_end=kill)]
    trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "sgd", lr=0.05, momentum=0.9),
                      callbacks=callbacks)
    trainer.fit(loader, epochs=4, resume=os.path.join(out, "last.pt") if mode == "resume" else None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, mode + ".safetensors"))
''')


def _run(tmp_path, out, mode):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), str(out), mode], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path):
    from safetensors.torch import load_file
    import torch

    full, crash = tmp_path / "full", tmp_path / "crash"
    full.mkdir()
    crash.mkdir()
    assert _run(tmp_path, full, "full").returncode == 0
    killed = _run(tmp_path, crash, "killed")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (crash / "last.pt").is_file() and not (crash / "killed.safetensors").exists()
    assert not [p for p in crash.iterdir() if p.name.endswith(".tmp")], "a half-written checkpoint was left"
    resumed = _run(tmp_path, crash, "resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = load_file(full / "full.safetensors"), load_file(crash / "resume.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
