"""Home page of the vision demo apps: what the suite is, one image through one model, and what is installed.

Run from the repository root:  vision app   (or: streamlit run apps/Home.py)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running a page file from another
# folder) does not; add it so the shared widget modules beside this file import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parent)
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from image_input import ChosenImage, image_input  # noqa: E402  (needs the sys.path line above)
from result_view import show_result  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.models import create_model, list_models, model_spec  # noqa: E402

log = logging.getLogger("vision.apps.home")

#: Tasks whose models take one image and return one result that annotate() can draw.
IMAGE_TASKS = ("detect", "classify", "segment")
PAGES_DIR = Path(__file__).resolve().parent / "pages"
DEFAULT_MODEL = "haar-face"


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(name: str):
    """One model per name, built with its default options and kept for the whole server."""
    return create_model(name)


@st.cache_data(show_spinner=False, ttl=300)
def installation() -> dict:
    """``vision info`` as a dict (imports torch and OpenCV once, so it is cached)."""
    from vision.system import system_info

    return system_info()


def sidebar() -> None:
    """The essentials of ``vision info``: versions, device, offline status, available weights."""
    st.sidebar.header("Installation")
    try:
        info = installation()
    except VisionError as exc:
        st.sidebar.error(f"Could not read the installation details: {exc}")
        return
    packages, cv, torch = info["packages"], info["opencv"], info["torch"]
    st.sidebar.markdown(
        f"- **vision** {info['vision']} · Python {info['python']}\n"
        f"- **torch** {torch['version']} on `{torch['device']}` ({torch['threads']} threads)\n"
        f"- **OpenCV** {cv['version']} ({', '.join(cv['distributions']) or 'no pip distribution'})\n"
        f"- **streamlit** {packages.get('streamlit')} · **ultralytics** {packages.get('ultralytics')}"
    )
    offline = info["offline"]
    if offline["VISION_OFFLINE"]:
        st.sidebar.success(f"Offline: VISION_OFFLINE=1 ({offline['note']})")
    else:
        st.sidebar.info(f"Online allowed: VISION_OFFLINE unset ({offline['note']})")
    weights = info["weights"]
    st.sidebar.markdown(f"**Weights available ({len(weights['available'])})**: "
                        + (", ".join(f"`{w}`" for w in weights["available"]) or "none"))
    if weights["missing"]:
        with st.sidebar.expander(f"Not on this machine ({len(weights['missing'])})"):
            st.markdown("\n".join(f"- `{w}`" for w in weights["missing"]))
            st.caption(f"Put the files in `weights/` or the cache `{weights['cache']}`.")


def page_list(folder: Path = PAGES_DIR) -> list[tuple[Path, str, str]]:
    """Every page in ``folder``, in sidebar order: (file, title as Streamlit shows it, first line of its docstring).

    Read from the files themselves, so a page added to ``apps/pages/`` appears here with no edit to this file.
    """
    import ast

    pages = []
    for path in sorted(folder.glob("*.py"), key=lambda p: (p.name.split("_", 1)[0].zfill(4), p.name)):
        title = path.stem.split("_", 1)[1] if "_" in path.stem and path.stem.split("_", 1)[0].isdigit() else path.stem
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        except (OSError, SyntaxError, UnicodeDecodeError):
            doc = ""
        summary = " ".join(doc.split("\n\n", 1)[0].split())
        pages.append((path, title.replace("_", " "), summary))
    return pages


def pages_section() -> None:
    """Links to every page of the app, with what each one does."""
    st.subheader("Pages")
    for path, title, summary in page_list():
        link, text = st.columns([1, 3], vertical_alignment="center")
        link.page_link(f"pages/{path.name}", label=title)
        text.caption(summary)


def main() -> None:
    st.set_page_config(page_title="vision", page_icon="👁", layout="wide")
    st.title("vision — computer vision, offline")
    st.markdown(
        "One Python package for the whole road of a computer-vision practitioner: classic image operations, "
        "data preparation, training, classification, detection, segmentation, generative and video models. "
        "Everything runs on this machine with the weights and sample photos shipped with the suite — no "
        "download. The same library is behind the `vision` command, the Python API and these pages: pick a "
        "photo (or upload one) and a model to see its result; the pages in the sidebar go deeper."
    )

    chosen = image_input(key="home")
    models = [m for task in IMAGE_TASKS for m in list_models(task=task, available=True)]
    if not models:
        st.warning("No image model is registered.")
    else:
        name = st.selectbox("Model", models, index=models.index(DEFAULT_MODEL) if DEFAULT_MODEL in models else 0,
                            format_func=lambda m: f"{m} — {model_spec(m).description}", key="home.model")
        if chosen is not None:
            show(chosen, name)
    pages_section()
    sidebar()  # last: it imports torch on a cold server, and the photo should not wait for it


def show(chosen: ChosenImage, name: str) -> None:
    """Run model ``name`` on the chosen image and show the result; errors become a message, not a traceback."""
    try:
        result = load_model(name).predict(chosen.image)
    except VisionError as exc:
        st.error(f"{name} could not run: {exc}")
        return
    except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
        log.exception("model %s failed on %s", name, chosen.name)
        st.error(f"{name} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
        return
    show_result(chosen.image, result, model=name, caption=chosen.caption)


main()
