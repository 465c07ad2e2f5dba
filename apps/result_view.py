"""Showing results on a page: result tables, a top-k bar chart, and combining the detections of several detectors.

Drawing is :func:`vision.viz.annotate`; serialising is the result types' own ``to_dict``. This module only
arranges them as Streamlit elements.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from vision.types import Classification, Detections, Segmentation
from vision.viz import annotate

__all__ = ["DETECTION_COLUMNS", "detections_table", "result_table", "show_result", "topk_chart"]

#: Columns of a detections table, in order.
DETECTION_COLUMNS = ("model", "label", "score", "x1", "y1", "x2", "y2")


def detections_table(results: Mapping[str, Detections]):
    """One row per detection of every model: model, label, score, x1, y1, x2, y2 (whole pixels), best first per model.

    Args:
        results: model name → its detections.
    Returns:
        A ``pandas.DataFrame`` with :data:`DETECTION_COLUMNS`.
    """
    import pandas as pd

    rows = []
    for model, det in results.items():
        order = np.argsort(-det.scores, kind="stable")
        for i in order:
            x1, y1, x2, y2 = (round(float(v)) for v in det.xyxy[i])  # whole pixels; the JSON keeps decimals
            rows.append((model, det.labels[i], round(float(det.scores[i]), 3), x1, y1, x2, y2))
    return pd.DataFrame(rows, columns=list(DETECTION_COLUMNS))


def result_table(result: Detections | Classification | Segmentation, *, model: str = ""):
    """A small table of any result: boxes for detections, top-k for classification, pixel counts for masks."""
    import pandas as pd

    if isinstance(result, Detections):
        return detections_table({model: result})
    if isinstance(result, Classification):
        return pd.DataFrame({"label": list(result.labels), "score": [round(float(s), 4) for s in result.scores]})
    counts = result.pixel_counts()
    return pd.DataFrame({"label": list(counts), "pixels": list(counts.values())})


def topk_chart(result: Classification, *, bar_height: int = 30):
    """A horizontal bar chart of a classification's top-k: one labelled bar per class, best on top, percent at the end.

    Args:
        result: the classification (its ``labels`` and ``scores``, best first).
        bar_height: pixels per bar (its band, with the gap); the plot is ``k`` bands tall.
    Returns:
        An ``altair.Chart`` for ``st.altair_chart``; its data has the columns ``rank``, ``label`` and ``probability``.
    """
    import altair as alt
    import pandas as pd

    data = pd.DataFrame({"rank": range(1, len(result) + 1), "label": list(result.labels),
                         "probability": [float(s) for s in result.scores]})
    # order the y axis by rank (best on top), not alphabetically as Vega-Lite would
    y = alt.Y("label:N", sort=alt.EncodingSortField(field="rank", order="ascending"), title=None,
              axis=alt.Axis(labelLimit=260, labelFontSize=14))
    x = alt.X("probability:Q", title="probability", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"))
    base = alt.Chart(data).encode(y=y, x=x, tooltip=["rank", "label", alt.Tooltip("probability:Q", format=".2%")])
    bars = base.mark_bar(height={"band": 0.75})
    text = base.mark_text(align="left", dx=4, fontSize=13).encode(text=alt.Text("probability:Q", format=".1%"))
    # a fixed step per bar: Vega-Lite then sizes the plot to the bars, axis labels and title outside it
    return (bars + text).properties(height=alt.Step(bar_height))


def show_result(image: np.ndarray, result: Detections | Classification | Segmentation, *, model: str,
                caption: str = "") -> np.ndarray:
    """Show the annotated image, a table and the JSON of one result; return the annotated image."""
    drawn = annotate(image, result)
    picture, details = st.columns(2)
    with picture:
        st.image(drawn, caption=caption or None, width="stretch")
    with details:
        if isinstance(result, Detections):
            st.subheader(f"{len(result)} detection{'s' if len(result) != 1 else ''}")
        st.dataframe(result_table(result, model=model), hide_index=True)
        with st.expander("Result as JSON"):
            st.json(result.to_dict())
    return drawn
