"""Run by tests/train/test_train_distributed.py under ``torchrun --nproc-per-node 2``: an unchanged single-process
training script (Trainer + ModelCheckpoint + CSVLogger) whose per-rank output folder shows who wrote what."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vision.data import load_digits_dataset
from vision.train import ClassificationTask, CSVLogger, ModelCheckpoint, Trainer, make_optimizer

out = Path(sys.argv[1])
resume = sys.argv[2] if len(sys.argv) > 2 else None
rank_dir = out / f"rank{os.environ['RANK']}"  # the same script line, a different folder per process
images, labels, _ = load_digits_dataset()
x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255.0
y = torch.tensor(labels)
train = DataLoader(TensorDataset(x[:1400], y[:1400]), batch_size=50, shuffle=True,
                   generator=torch.Generator().manual_seed(3))
val = DataLoader(TensorDataset(x[1400:], y[1400:]), batch_size=200)
torch.manual_seed(int(os.environ["RANK"]))  # different initial weights: DDP must broadcast rank 0's
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
trainer = Trainer(model, ClassificationTask(), optimizer=make_optimizer(model, "adam", lr=1e-2),
                  callbacks=[ModelCheckpoint(str(rank_dir / "epoch{epoch}.pt"), monitor="val_loss"),
                             CSVLogger(rank_dir / "history.csv")])
epochs = 4 if resume else 3
history = trainer.fit(train, val, epochs=epochs, resume=resume)
report = {"rank": trainer.dist.rank, "world_size": trainer.dist.world_size, "global_step": trainer.global_step,
          "history": history.history,
          "weights_sum": float(sum(p.detach().double().sum() for p in model.parameters()))}
(out / f"report{os.environ['RANK']}.json").write_text(json.dumps(report))
