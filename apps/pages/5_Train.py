"""Train: a Faster R-CNN on a few synthetic scenes, or a small CNN on handwritten digits, with a live loss curve.

Run from the repository root:  vision app   (or: streamlit run apps/Home.py; then pick this page in the sidebar)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from vision.errors import VisionError  # noqa: E402

log = logging.getLogger("vision.apps.train")

KINDS = ("Detector on synthetic scenes", "Classifier on digits")
DETECTOR = "faster-rcnn-lite0"
LEARNING_RATES = (3e-4, 1e-3, 3e-3, 1e-2)
#: session-state key of the last run (it stays on the page while other widgets change)
RUN_KEY = "train.last_run"
#: held-out scenes the trained detector is shown on
SHOWN_SCENES = 2
#: the trained detector's boxes drawn on them score at least this (its own threshold is low, for mAP)
SHOWN_SCORE = 0.25


def live_chart(title: str):
    """A placeholder, and a callback that appends one row and redraws the titled line chart in it (the live curve).

    Returns ``(add, rows, holder)``; ``holder.empty()`` removes the live chart once the run has ended.
    """
    import pandas as pd

    holder = st.empty()
    rows: list[dict] = []

    def add(row: dict) -> None:
        rows.append(row)
        frame = pd.DataFrame(rows).set_index(next(iter(row)))
        with holder.container():
            st.caption(title)
            st.line_chart(frame, height=260)

    return add, rows, holder


# ------------------------------------------------------------------------------------------------ detector
def train_detector(n: int, epochs: int, lr: float) -> dict:
    """``train_faster_rcnn`` on ``n`` training scenes (validated on 8 scenes of the val split); the loss of every
    batch is drawn as it arrives. Returns what the page shows afterwards."""
    from vision.io import read_image
    from vision.models.detection.faster_rcnn import train_faster_rcnn
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.train.callbacks import Callback
    from vision.viz import annotate

    with st.spinner("Generating the scenes…"):
        train, val = detection_scenes("train", n=n), detection_scenes("val", n=8)
        test = detection_scenes("test", n=SHOWN_SCENES)
    progress = st.progress(0.0, text="Training…")
    add, rows, holder = live_chart("Training loss per batch (live)")
    per_epoch = -(-len(train) // 4)

    class Live(Callback):
        """Draws each batch's loss and the progress bar."""

        def on_batch_end(self, trainer, step, logs) -> None:
            add({"batch": len(rows) + 1, "loss": float(logs["loss"])})
            progress.progress(min(1.0, len(rows) / (per_epoch * epochs)),
                              text=f"batch {len(rows)}/{per_epoch * epochs}: loss {float(logs['loss']):.3f}")

    detector, history = train_faster_rcnn(train, val, model=DETECTOR, epochs=epochs, batch_size=4, lr=lr,
                                          callbacks=[Live()])
    progress.empty()
    holder.empty()
    shown = []
    for i in range(len(test)):
        image = read_image(test.image_path(i))
        found = detector.predict(image).filter(min_score=SHOWN_SCORE)
        shown.append((annotate(image, test.detections(i), show_score=False), annotate(image, found)))
    epochs_log = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return {"kind": KINDS[0], "title": f"{DETECTOR}, {epochs} epoch{'s' if epochs != 1 else ''} on {n} scenes, "
                                       f"peak lr {lr:g}",
            "batches": [r["loss"] for r in rows], "history": epochs_log,
            "metric": ("val mAP50", epochs_log.get("val_map50", [float("nan")])[-1]), "pictures": shown}


# ------------------------------------------------------------------------------------------------ classifier
def train_classifier(epochs: int, lr: float) -> dict:
    """``train_digits`` (fmnist-cnn on scikit-learn's digits) with the loss curve drawn after every epoch."""
    from vision.train.demos import train_digits

    progress = st.progress(0.0, text="Training…")
    add, _, holder = live_chart("Loss per epoch (live)")

    def on_epoch_end(epoch: int, logs: dict) -> None:
        add({"epoch": epoch, "train loss": logs["loss"], "val loss": logs["val_loss"]})
        progress.progress(epoch / epochs, text=f"epoch {epoch}/{epochs}: val accuracy {logs['val_accuracy']:.1%}")

    run = train_digits(epochs=epochs, lr=lr, on_epoch_end=on_epoch_end)
    progress.empty()
    holder.empty()
    return {"kind": KINDS[1], "title": f"fmnist-cnn, {epochs} epoch{'s' if epochs != 1 else ''} on digits, "
                                       f"peak lr {lr:g}",
            "batches": [], "history": {k: [float(v) for v in vals] for k, vals in run.history.items()},
            "metric": ("test accuracy", run.accuracy), "pictures": []}


def show_run(run: dict) -> None:
    """The last run: its headline metric, the per-epoch logs and (detector) predictions on held-out scenes."""
    import pandas as pd

    name, value = run["metric"]
    st.metric(f"{run['title']} — {name}", f"{value:.3f}" if name.endswith("mAP50") else f"{value:.1%}")
    if run["batches"]:
        st.caption("Training loss per batch")
        st.line_chart(pd.DataFrame({"loss": run["batches"]}, index=pd.RangeIndex(1, len(run["batches"]) + 1,
                                                                                  name="batch")), height=220)
    table = pd.DataFrame(run["history"])
    table.index = pd.RangeIndex(1, len(table) + 1, name="epoch")
    st.dataframe(table.round(4))
    for truth, predicted in run["pictures"]:
        left, right = st.columns(2)
        left.image(truth, caption="held-out scene: ground truth", width="stretch")
        right.image(predicted, caption=f"held-out scene: the trained detector (scores ≥ {SHOWN_SCORE})",
                    width="stretch")


def main() -> None:
    st.set_page_config(page_title="vision · train", page_icon="👁", layout="wide")
    st.title("Train")
    st.markdown("A short training run through the suite's shared trainer, on this machine. **Detector**: "
                f"`{DETECTOR}` (Faster R-CNN on an ImageNet EfficientNet-Lite0 backbone, new heads) on a few synthetic "
                "shape scenes — one epoch on 16 scenes takes seconds and learns little; the shipped weights took "
                "1000 scenes and many epochs (`vision train detect --model faster_rcnn --data scenes`). "
                "**Classifier**: the small `fmnist-cnn` from scratch on scikit-learn's 1797 digits.")
    kind = st.radio("What to train", KINDS, horizontal=True, key="train.kind")
    if kind == KINDS[0]:
        a, b, c = st.columns(3)
        n = a.slider("Training scenes", 4, 64, 16, step=4, key="train.scenes")
        epochs = b.slider("Epochs", 1, 5, 1, key="train.det_epochs")
        lr = c.select_slider("Peak learning rate", LEARNING_RATES, value=1e-3, format_func=lambda v: f"{v:g}",
                             key="train.det_lr")
    else:
        a, b = st.columns(2)
        epochs = a.slider("Epochs", 1, 10, 3, key="train.clf_epochs")
        lr = b.select_slider("Peak learning rate", LEARNING_RATES, value=3e-3, format_func=lambda v: f"{v:g}",
                             key="train.clf_lr")
    if st.button("Train", type="primary", key="train.run"):
        st.session_state.pop(RUN_KEY, None)  # a failed run must not leave the previous one looking current
        try:
            st.session_state[RUN_KEY] = (train_detector(n, epochs, lr) if kind == KINDS[0]
                                         else train_classifier(epochs, lr))
        except VisionError as exc:
            st.error(f"Training could not run: {exc}")
        except Exception as exc:  # a bug: keep the page usable and log the traceback for developers
            log.exception("training (%s) failed", kind)
            st.error(f"Training failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
    run = st.session_state.get(RUN_KEY)
    if run is not None:
        st.divider()
        show_run(run)


main()
