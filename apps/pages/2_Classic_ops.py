"""Classic ops: pick any registered op, set every one of its parameters, and see the photo before and after.

Run from the repository root:  streamlit run apps/Home.py   (then pick this page in the sidebar)
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import numpy as np
import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from image_input import image_input  # noqa: E402  (needs the sys.path line above)
from op_controls import op_controls, param_key, reset_op  # noqa: E402

from vision.classic import apply_op, get_op, list_ops, to_gray  # noqa: E402
from vision.classic.ops import CATEGORIES  # noqa: E402
from vision.classic.pipeline import Pipeline, PipelineResult, list_examples  # noqa: E402
from vision.classic.quality import psnr, ssim  # noqa: E402
from vision.errors import ShapeError, VisionError  # noqa: E402
from vision.io import encode_image  # noqa: E402

log = logging.getLogger("vision.apps.classic_ops")

PREFIX = "classic"
DEFAULT_OP = "canny"
#: Longest side the photo is shrunk to before the op runs (0 = as it is): keeps every slider interactive.
WORK_SIZES = (128, 256, 512, 1024, 0)
DEFAULT_WORK_SIZE = 512
#: What the op is fed, made from the photo: as it is, gray, degraded (so denoisers and deconvolutions have
#: something to repair, and their output can be compared with the clean photo) or an Otsu mask (for mask-only ops).
FEEDS = ("image", "gray", "noisy", "blurred", "mask", "mask_inverted")
NOISE_SIGMA = 20.0
FEED_LABELS = {"image": "the photo (RGB)", "gray": "its gray version",
               "noisy": f"the photo with Gaussian noise (σ = {NOISE_SIGMA:g})",
               "blurred": "the photo blurred by blur_psf's default PSF (motion, 15 px, 0°)",
               "mask": "its Otsu mask (bright = True)", "mask_inverted": "its inverted Otsu mask (dark = True)"}
NO_PIPELINE = ""


# ------------------------------------------------------------------------------------------------ library calls
@st.cache_data(show_spinner=False, max_entries=256)
def needs_mask(op: str) -> bool:
    """Whether ``op`` works on binary masks only: it refuses a small RGB photo but takes a bool mask."""
    rng = np.random.default_rng(0)
    try:
        apply_op(op, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
        return False
    except ShapeError:
        pass
    except VisionError:
        return False
    try:
        apply_op(op, rng.random((32, 32)) > 0.5)
        return True
    except VisionError:
        return False


def shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` scaled down (area interpolation) so its longer side is at most ``max_side``; 0 = unchanged."""
    longest = max(image.shape[:2])
    if not max_side or longest <= max_side:
        return image
    factor = max_side / longest
    return apply_op("scale", image, fx=factor, fy=factor, interpolation="area").image


def default_feed(op: str) -> str:
    """What ``op`` is fed before the user chooses: a mask for mask-only ops, a degraded photo for the ops that
    repair one (denoise; restore, except the blur itself), else the photo."""
    if needs_mask(op):
        return "mask"
    category = get_op(op).category
    if category == "denoise":
        return "noisy"
    if category == "restore" and op != "blur_psf":
        return "blurred"
    return "image"


def feed(image: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The op's input made from the RGB photo, and the clean photo it should be compared with (None if unchanged
    in kind: the input itself is then the reference)."""
    if how == "gray":
        return to_gray(image), None
    if how == "noisy":
        return apply_op("add_gaussian_noise", image, sigma=NOISE_SIGMA), image
    if how == "blurred":
        return apply_op("blur_psf", image), image
    if how in ("mask", "mask_inverted"):
        return apply_op("threshold_otsu", image, invert=how == "mask_inverted"), None
    return image, None


@st.cache_data(show_spinner="Running the op…", max_entries=64)
def run_op(op: str, params: dict, image: np.ndarray) -> PipelineResult:
    """One op on one image, as a one-step pipeline (which gives the image to show and the step's time)."""
    return Pipeline([(op, params)]).run(image)


@st.cache_data(show_spinner="Running the pipeline…", max_entries=16)
def run_example(name: str, image: np.ndarray) -> tuple[PipelineResult, list[dict]]:
    """A shipped example pipeline on one image; also returns its steps (op and parameters) for the table."""
    pipeline = Pipeline.example(name)
    return pipeline.run(image), [step.to_dict() for step in pipeline.steps]


@st.cache_data(show_spinner=False, ttl=600)
def example_description(name: str) -> str:
    try:
        return Pipeline.example(name).description
    except VisionError as exc:
        return f"(cannot be read: {exc})"


# ------------------------------------------------------------------------------------------------ display helpers
def for_display(image: np.ndarray) -> tuple[np.ndarray, str]:
    """An op's output as uint8 pixels a browser shows, and a note saying how it was mapped ('' when unchanged).

    Real-valued maps (float32 convolutions) are scaled min–max to 0..255; a gray map of small values 0..k with
    k < 16 (e.g. a multi-Otsu class map) is stretched so they can be told apart; other uint8 images are shown as
    they are.
    """
    if image.dtype == bool:
        return image.astype(np.uint8) * 255, ""
    if image.dtype != np.uint8:
        values = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        scaled = np.zeros(values.shape, np.uint8) if hi <= lo else np.round((values - lo) * (255.0 / (hi - lo)))
        return scaled.astype(np.uint8), f"{image.dtype} values in [{lo:.4g}, {hi:.4g}], shown scaled to 0–255"
    top = int(image.max(initial=0))
    if image.ndim == 2 and 0 < top < 16:
        return (image * (255 // top)).astype(np.uint8), f"values 0…{top}, shown stretched to 0–255"
    return image, ""


def describe(image: np.ndarray) -> str:
    h, w = image.shape[:2]
    layout = "RGB" if image.ndim == 3 else ("mask" if image.dtype == bool else "gray")
    return f"{w}×{h} {layout} {image.dtype}"


def _psnr_text(value: float) -> str:
    return "∞ (identical)" if value == float("inf") else f"{value:.2f} dB"


def quality_metrics(before: np.ndarray, after: np.ndarray, result, clean: np.ndarray | None = None) -> dict:
    """PSNR and SSIM of the op's output image, as ``{label: (value, delta or None)}``; empty when not comparable.

    With ``clean`` (the photo before noise or blur was added) the output is compared with it, and the delta is
    the gain over the degraded input; otherwise the output is compared with the input.
    """
    if not isinstance(result, np.ndarray) or result.dtype == bool or before.dtype == bool:
        return {}
    reference = before if clean is None else clean
    if after.dtype != np.uint8 or reference.dtype != np.uint8 or after.shape != reference.shape:
        return {}
    out: dict[str, tuple[str, str | None]] = {}
    value = psnr(reference, after)
    if clean is None:
        out["PSNR vs input"] = (_psnr_text(value), None)
    else:
        gain = value - psnr(clean, before)
        out["PSNR vs clean photo"] = (_psnr_text(value), None if not np.isfinite(gain) else f"{gain:+.2f} dB")
    try:
        value = ssim(reference, after)
        if clean is None:
            out["SSIM vs input"] = (f"{value:.4f}", None)
        else:
            out["SSIM vs clean photo"] = (f"{value:.4f}", f"{value - ssim(clean, before):+.4f}")
    except VisionError:  # smaller than the SSIM window
        out["SSIM"] = ("n/a (image too small)", None)
    return out


def result_summary(result) -> str:
    """'12 lines', '24 regions', '3 circles'; '' for an image or a warp (their picture says it all)."""
    summary = result.to_dict() if hasattr(result, "to_dict") and not isinstance(result, np.ndarray) else {}
    return f"{summary['count']} {summary.get('kind', '')}".strip() if "count" in summary else ""


def step_summary(result) -> str:
    """A pipeline step's answer in a few words: what it found, or the image it made."""
    image = result if isinstance(result, np.ndarray) else getattr(result, "image", None)
    return result_summary(result) or (describe(image) if isinstance(image, np.ndarray) else type(result).__name__)


def downloads(output: np.ndarray, shown: np.ndarray, *, stem: str, key: str) -> None:
    st.download_button("Download output PNG", encode_image(shown, format=".png"), file_name=f"{stem}.png",
                       mime="image/png", key=f"{key}.png", on_click="ignore")
    if output.dtype not in (np.uint8, bool):  # the PNG is a scaled picture: offer the exact values too
        buffer = io.BytesIO()
        np.save(buffer, output)
        st.download_button(f"Download exact {output.dtype} values (.npy)", buffer.getvalue(), file_name=f"{stem}.npy",
                           mime="application/octet-stream", key=f"{key}.npy", on_click="ignore")


# ------------------------------------------------------------------------------------------------ page parts
def choose_op() -> str:
    """Category, then op, in the sidebar; returns the op's name."""
    categories = [c for c in CATEGORIES if list_ops(c)]
    default_category = get_op(DEFAULT_OP).category if DEFAULT_OP in list_ops() else categories[0]
    category = st.selectbox("Category", categories, index=categories.index(default_category),
                            key=f"{PREFIX}.category")
    names = list_ops(category)
    return st.selectbox("Op", names, index=names.index(DEFAULT_OP) if DEFAULT_OP in names else 0,
                        format_func=lambda n: f"{n} — {get_op(n).summary}", key=f"{PREFIX}.op.{category}")


def sidebar() -> tuple[str, dict | None, str, int]:
    """The op, its parameter values (None when one cannot be read), what it is fed and the working size."""
    with st.sidebar:
        st.header("Op")
        op = choose_op()
        spec = get_op(op)
        st.caption(spec.summary)
        st.subheader("Parameters")
        if not spec.params:
            st.caption("This op has no parameters.")
        controls = op_controls(spec, prefix=PREFIX)
        st.button("Reset to defaults", key=f"{PREFIX}.reset", on_click=reset_op, args=(PREFIX, op),
                  help=f"Put every parameter of {op} back to its default.")
        st.subheader("Input")
        how = st.selectbox("Feed the op", FEEDS, index=FEEDS.index(default_feed(op)),
                           format_func=FEED_LABELS.get, key=param_key(PREFIX, op, "__feed__"),
                           help="Components, skeletons and hole filling need a binary mask: the Otsu threshold "
                                "of the photo makes one. Denoisers get a noisy photo and deconvolutions a blurred "
                                "one, and their output is compared with the clean photo.")
        size = st.select_slider("Working size (longest side, px)", WORK_SIZES, value=DEFAULT_WORK_SIZE,
                                format_func=lambda s: f"{s}" if s else "original", key=f"{PREFIX}.work_size",
                                help="The photo is shrunk to this before the op runs, so slow ops stay interactive.")
    return op, (None if controls.errors else controls.values), how, size


def show_op(op: str, params: dict, before: np.ndarray, *, clean: np.ndarray | None, fed: str, stem: str) -> None:
    """Run the op and show input and output side by side, with time, quality, JSON and downloads."""
    try:
        result = run_op(op, params, before)
    except VisionError as exc:
        st.error(f"{op} could not run: {exc}")
        return
    except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
        log.exception("op %s failed with %s", op, params)
        st.error(f"{op} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
        return
    step = result.steps[0]
    output = result.output_image
    shown, note = for_display(output)
    shown_before, _ = for_display(before)

    left, right = st.columns(2)
    with left:
        what_in = "" if fed == "image" else f" {FEED_LABELS[fed]},"
        st.image(shown_before, caption=f"Before:{what_in} {describe(before)}", width="stretch")
    with right:
        what = step.result if isinstance(step.result, np.ndarray) else output
        caption = f"After {op}: {describe(what)}" + (f" — {note}" if note else "")
        if what.dtype == bool:
            caption += ", shown as white on black"
        if result.annotated is not None:
            caption += f" — the input with the {result_summary(step.result)} found drawn on it"
        # PNG, not Streamlit's default JPEG for photos: edge maps and masks must show their exact pixels
        st.image(shown, caption=caption, width="stretch", output_format="PNG")

    metrics: dict[str, tuple[str, str | None]] = {"Op time": (f"{step.seconds * 1000:.1f} ms", None)}
    found = result_summary(step.result)
    if found:
        metrics["Found"] = (found, None)
    if isinstance(step.result, np.ndarray) and step.result.dtype == bool:
        share = 100 * float(step.result.mean()) if step.result.size else 0.0
        metrics["White (True) pixels"] = (f"{share:.2f} %", None)
    quality = quality_metrics(before, output, step.result, clean)
    metrics.update(quality)
    for column, (label, (value, delta)) in zip(st.columns(len(metrics)), metrics.items(), strict=True):
        column.metric(label, value, delta=delta)
    note = "Op time is the op's own run on this input; results are cached, so going back to a setting shows the " \
           "time of its first run."
    if clean is not None and quality:
        note += " PSNR/SSIM compare the output with the clean photo; the change is the gain over the degraded input."
    elif quality:
        note += " PSNR/SSIM compare the output with the input (how much the op changed it)."
    st.caption(note)
    downloads(output, shown, stem=f"{stem}_{op}", key=f"{PREFIX}.download")
    with st.expander("Result as JSON"):
        st.json(step.to_dict())


def pipeline_section(image: np.ndarray, *, stem: str) -> None:
    """Pick a shipped example pipeline and run it on the photo: each step's time and the final output."""
    st.divider()
    st.subheader("Example pipelines")
    names = list_examples()
    if not names:
        st.caption("No example pipelines are shipped with this installation.")
        return
    name = st.selectbox("Run an example pipeline on the photo", [NO_PIPELINE, *names], key=f"{PREFIX}.pipeline",
                        format_func=lambda n: "(none)" if n == NO_PIPELINE else f"{n} — {example_description(n)}")
    if name == NO_PIPELINE:
        return
    try:
        result, steps = run_example(name, image)
    except VisionError as exc:
        st.error(f"Pipeline {name} could not run: {exc}")
        return
    except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
        log.exception("example pipeline %s failed", name)
        st.error(f"Pipeline {name} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
        return
    import pandas as pd

    table = pd.DataFrame({
        "step": range(1, len(steps) + 1),
        "op": [s["op"] for s in steps],
        "params": [", ".join(f"{k}={v}" for k, v in s["params"].items()) for s in steps],
        "result": [step_summary(r.result) for r in result.steps],
        "ms": [round(r.seconds * 1000, 2) for r in result.steps],
    })
    shown, note = for_display(result.output_image)
    left, right = st.columns(2)
    with left:
        st.image(image, caption=f"Before: {describe(image)}", width="stretch")
    with right:
        st.image(shown, caption=f"After {name}: {describe(result.output_image)}" + (f" — {note}" if note else ""),
                 width="stretch", output_format="PNG")
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"{len(steps)} steps in {sum(r.seconds for r in result.steps) * 1000:.1f} ms. Each step gets the "
               "previous step's image; lines, circles and regions found are drawn on the input.")
    downloads(result.output_image, shown, stem=f"{stem}_{name}", key=f"{PREFIX}.pipeline_download")
    with st.expander("Pipeline result as JSON"):
        st.json(result.to_dict())


def main() -> None:
    st.set_page_config(page_title="vision · classic ops", page_icon="👁", layout="wide")
    st.title("Classic ops")
    st.markdown(f"Every one of the {len(list_ops())} classic image operations of `vision.classic` — edges, Hough, "
                "morphology, geometry, denoising, sharpening, deblurring, contrast, segmentation and convolution — "
                "with a control for each parameter. Pick a category and an op in the sidebar; the output updates "
                "as you move the sliders. The same op runs from Python (`apply_op(name, image, **params)`) and "
                "the command line (`vision ops NAME IMAGE --param value`).")
    op, params, how, size = sidebar()
    chosen = image_input(key=PREFIX)
    if chosen is None:
        return
    photo = shrink(chosen.image, size)
    stem = Path(chosen.name).stem
    try:
        before, clean = feed(photo, how)
    except VisionError as exc:
        st.error(f"Could not make the op's input ({FEED_LABELS[how]}): {exc}")
        return
    if params is None:
        st.info(f"{op} did not run: fix the parameter shown in red in the sidebar.")
    else:
        show_op(op, params, before, clean=clean, fed=how, stem=stem)
    pipeline_section(photo, stem=stem)


main()
