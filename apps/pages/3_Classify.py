"""Classify: ImageNet top-k of a photo with EfficientNet-Lite0, and a small CNN trained live on handwritten digits.

Run from the repository root:  streamlit run apps/Home.py   (then pick this page in the sidebar)
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path

import numpy as np
import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from image_input import image_input  # noqa: E402  (needs the sys.path line above)
from result_view import result_table, topk_chart  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.types import Classification  # noqa: E402

log = logging.getLogger("vision.apps.classify")

MODEL = "efficientnet-lite0"
DEFAULT_TOP_K = 5
#: the photo shown first: ImageNet knows espresso (astronaut, the other pages' default, is not an ImageNet class)
DEFAULT_SAMPLE = "coffee"
#: peak learning rates offered for the digits run (one-cycle schedule)
LEARNING_RATES = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
DEFAULT_LR = 3e-3
DEFAULT_EPOCHS = 3
#: session-state key of the last training run's results (they stay on the page while other widgets change)
RUN_KEY = "classify.digits_run"


# ------------------------------------------------------------------------------------------------ library calls
@st.cache_resource(show_spinner="Loading EfficientNet-Lite0…")
def load_classifier(name: str):
    """The pretrained ImageNet classifier, built once for the whole server and warmed up on a blank image.

    The first forward pass of a network is several times slower than the next ones (memory allocation, kernel
    selection); running it here keeps that out of the inference time the page shows.
    """
    from vision.models.classification import ImageClassifier

    classifier = ImageClassifier(name)
    classifier.predict(np.zeros((224, 224, 3), np.uint8), top_k=1)
    return classifier


@st.cache_data(show_spinner="Classifying…", max_entries=64)
def classify(name: str, image: np.ndarray, top_k: int) -> tuple[Classification, float]:
    """Top-``top_k`` classes of one image and the inference time in seconds (cached on model, image and k)."""
    classifier = load_classifier(name)
    start = time.perf_counter()
    result = classifier.predict(image, top_k=top_k)
    return result, time.perf_counter() - start


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes, for st.image."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ classify
def classify_panel() -> None:
    st.header("Classify an image")
    st.markdown("**EfficientNet-Lite0** trained on ImageNet-1k (1000 everyday classes, from *espresso* to "
                "*tabby cat*), run on this machine with the weights shipped with the suite. The scores are softmax "
                "probabilities over all 1000 classes; the chart shows the best ones.")
    chosen = image_input(key="classify", default=DEFAULT_SAMPLE)
    if chosen is None:
        return
    picture, details = st.columns(2)
    with picture:
        st.image(chosen.image, caption=chosen.caption, width="stretch")
    with details:
        top_k = st.slider("Classes to show (top-k)", 1, 10, DEFAULT_TOP_K, key="classify.top_k")
        try:
            result, seconds = classify(MODEL, chosen.image, top_k)
        except VisionError as exc:
            st.error(f"{MODEL} could not classify {chosen.name}: {exc}")
            return
        except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
            log.exception("%s failed on %s", MODEL, chosen.name)
            st.error(f"{MODEL} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
            return
        st.subheader(f"{result.top1} — {float(result.scores[0]):.1%}")
        st.altair_chart(topk_chart(result), width="stretch")
        st.caption(f"{MODEL}, ImageNet-1k · {seconds * 1000:.0f} ms inference")
        with st.expander("Scores as a table and JSON"):
            st.dataframe(result_table(result, model=MODEL), hide_index=True)
            st.json(result.to_dict())


# ------------------------------------------------------------------------------------------------ train
def train(epochs: int, lr: float) -> None:
    """Train on digits with live curves; keep the results in the session so they survive the next rerun."""
    import pandas as pd

    from vision.metrics import plot_confusion_matrix, plot_history
    from vision.train.demos import train_digits

    progress = st.progress(0.0, text=f"Training for {epochs} epoch{'s' if epochs != 1 else ''}…")
    chart = st.empty()
    rows: list[dict] = []

    def on_epoch_end(epoch: int, logs: dict) -> None:
        rows.append({"epoch": epoch, "train loss": logs["loss"], "val loss": logs["val_loss"],
                     "val accuracy": logs["val_accuracy"]})
        progress.progress(epoch / epochs, text=f"Epoch {epoch}/{epochs}: loss {logs['loss']:.3f}, "
                                               f"val accuracy {logs['val_accuracy']:.1%}")
        chart.line_chart(pd.DataFrame(rows).set_index("epoch"), x_label="epoch", height=260)

    st.session_state.pop(RUN_KEY, None)  # a failed run must not leave the previous one looking current
    try:
        run = train_digits(epochs=epochs, lr=lr, on_epoch_end=on_epoch_end)
    except VisionError as exc:
        progress.empty()
        st.error(f"Training could not run: {exc}")
        return
    except Exception as exc:  # a bug: keep the page usable and log the traceback for developers
        log.exception("training fmnist-cnn on digits failed")
        progress.empty()
        st.error(f"Training failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
        return
    progress.empty()
    chart.empty()
    st.session_state[RUN_KEY] = {
        "epochs": epochs, "lr": lr, "accuracy": run.accuracy, "macro_f1": run.macro_f1, "seconds": run.seconds,
        "sizes": (run.train_images, run.val_images, run.test_images),
        # loss and accuracy only: the schedule's lr panel would shrink the two that matter on a web page
        "curves": png(plot_history({k: v for k, v in run.history.items() if k != "lr"},
                                   title="fmnist-cnn on digits")),
        "confusion": png(plot_confusion_matrix(run.confusion, names=list(run.names), title="Test confusion matrix",
                                               dpi=80)),
    }


def show_run(shown: dict) -> None:
    """The last run: test accuracy, training curves and the test confusion matrix."""
    n_train, n_val, n_test = shown["sizes"]
    st.metric("Test accuracy", f"{shown['accuracy']:.1%}")
    st.caption(f"{shown['epochs']} epoch{'s' if shown['epochs'] != 1 else ''} at peak lr {shown['lr']:g} in "
               f"{shown['seconds']:.1f} s · macro F1 {shown['macro_f1']:.3f} · {n_train} training, {n_val} "
               f"validation and {n_test} test images")
    # one under the other at their own size: side by side, their labels would be too small to read
    st.image(shown["curves"], caption="Loss and accuracy per epoch (★ best validation)", width="content")
    st.image(shown["confusion"], caption="Test confusion matrix (true in rows, predicted in columns)",
             width="content")


def train_panel() -> None:
    st.header("Train on digits")
    st.markdown("Train the suite's small CNN (`fmnist-cnn`) from scratch on scikit-learn's 1797 handwritten digits "
                "(8×8, enlarged to 28×28): 80 % for training (10 % of it held out for validation), 20 % for the "
                "test. AdamW with a one-cycle learning-rate schedule; three epochs take a few seconds.")
    epochs_col, lr_col, button_col = st.columns([3, 3, 1], vertical_alignment="bottom")
    epochs = epochs_col.slider("Epochs", 1, 10, DEFAULT_EPOCHS, key="train.epochs")
    lr = lr_col.select_slider("Peak learning rate", LEARNING_RATES, value=DEFAULT_LR, format_func=lambda v: f"{v:g}",
                              key="train.lr")
    if button_col.button("Train", type="primary", key="train.run"):
        train(epochs, lr)
    shown = st.session_state.get(RUN_KEY)
    if shown is not None:
        show_run(shown)


def main() -> None:
    st.set_page_config(page_title="vision · classify", page_icon="👁", layout="wide")
    st.title("Classify")
    classify_panel()
    st.divider()
    train_panel()


main()
