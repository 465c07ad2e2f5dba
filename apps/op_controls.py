"""Sidebar controls generated from a classic op's parameters: one widget per :class:`vision.classic.Param`.

The widget follows the parameter's kind: a slider for ``int``/``float`` with a range (a number box without one),
a checkbox for ``bool``, a select box for ``choice``, a text box for ``str``, and a YAML text box for ``value``
(points, matrices, sizes, "None = computed" options) read with :meth:`Param.parse`. Widget keys are namespaced
per op (``{prefix}.{op}.{param}``) so switching ops never carries a value over, and :func:`reset_op` clears them.
The pure helpers (:func:`slider_step`, :func:`value_text`) hold the arithmetic so tests can check it directly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from vision.classic import OpSpec, Param
from vision.errors import VisionError

__all__ = ["MAX_SLIDER_STEPS", "ParamValues", "op_controls", "param_key", "reset_op", "slider_step", "value_text"]

#: An int range with more values than this gets a number box instead of a slider (e.g. a seed in 0..2³¹−1).
MAX_SLIDER_STEPS = 10_000


@dataclass
class ParamValues:
    """What the controls hold: the values to call the op with, and a message per parameter that could not be read."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def param_key(prefix: str, op: str, param: str) -> str:
    """The session-state key of one parameter's widget."""
    return f"{prefix}.{op}.{param}"


def reset_op(prefix: str, op: str) -> None:
    """Forget every widget value of ``op`` so its controls show the op's defaults again (a button callback)."""
    start = f"{prefix}.{op}."
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(start)]:
        del st.session_state[key]


def _decimals(x: float) -> int:
    """Decimal places needed to write ``x`` exactly (at most 6)."""
    text = f"{abs(float(x)):.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def slider_step(low: float, high: float, default: float) -> float:
    """A float slider's step: 1/100 of the range's order of magnitude, or finer where ``low`` or ``default`` need it.

    ``0.1..20`` → 0.1, ``0..1`` → 0.01, ``0.0001..1`` → 0.0001 (so 0.0001 itself can be chosen); never coarser
    than 1 for whole-number ends (``0..1000`` → 1).
    """
    span = float(high) - float(low)
    step = 10.0 ** (math.floor(math.log10(span)) - 2) if span > 0 else 1.0
    return min(step, 10.0 ** -max(_decimals(low), _decimals(default)))


def _format(step: float) -> str:
    return f"%.{_decimals(step)}f"


def value_text(default: Any) -> str:
    """How a ``value`` parameter's default is written in its text box: JSON (which YAML reads), empty for None."""
    if default is None:
        return ""
    try:
        return json.dumps(default)
    except (TypeError, ValueError):
        return repr(default)


def _help(p: Param) -> str:
    parts = [p.help] if p.help else []
    if p.low is not None or p.high is not None:
        parts.append(f"Range {p.low if p.low is not None else '−∞'} … {p.high if p.high is not None else '∞'}.")
    if p.kind == "value":
        parts.append("YAML, e.g. `[[0, 0], [100, 0]]`, `[640, 480]` or `12.5`; leave empty for the op's "
                     "default (computed from the image)." if p.default is None else "YAML, e.g. `[1, 2]`.")
    parts.append(f"Default: {value_text(p.default) or 'None'}.")
    return " ".join(parts)


def _number(p: Param, key: str) -> Any:
    """Slider when the op gives a usable range containing the default, else a number box."""
    is_int = p.kind == "int"
    cast = int if is_int else float
    low = None if p.low is None else cast(p.low)
    high = None if p.high is None else cast(p.high)
    default = cast(p.default)
    bounded = low is not None and high is not None and low < high and low <= default <= high
    if is_int:
        if bounded and high - low <= MAX_SLIDER_STEPS:
            return st.slider(p.name, low, high, default, step=1, key=key, help=_help(p))
        return st.number_input(p.name, min_value=low if low is not None and low <= default else None,
                               max_value=high if high is not None and default <= high else None,
                               value=default, step=1, key=key, help=_help(p))
    if bounded:
        step = slider_step(low, high, default)
        return st.slider(p.name, low, high, default, step=step, format=_format(step), key=key, help=_help(p))
    step = 10.0 ** -max(_decimals(default), 2)
    return st.number_input(p.name, min_value=low if low is not None and low <= default else None,
                           max_value=high if high is not None and default <= high else None,
                           value=default, step=step, format=_format(step), key=key, help=_help(p))


def _control(p: Param, key: str, out: ParamValues) -> None:
    if p.kind in ("int", "float"):
        out.values[p.name] = _number(p, key)
    elif p.kind == "bool":
        out.values[p.name] = st.checkbox(p.name, value=bool(p.default), key=key, help=_help(p))
    elif p.kind == "choice":
        choices = list(p.choices or ())
        index = choices.index(p.default) if p.default in choices else 0
        out.values[p.name] = st.selectbox(p.name, choices, index=index, key=key, help=_help(p))
    elif p.kind == "str":
        out.values[p.name] = st.text_input(p.name, value=str(p.default), key=key, help=_help(p))
    else:  # "value": YAML text, read by the registry's own parser
        text = st.text_input(p.name, value=value_text(p.default), key=key, help=_help(p),
                             placeholder="None — the op's default" if p.default is None else None)
        try:
            out.values[p.name] = p.parse(text)
        except VisionError as exc:
            out.errors[p.name] = str(exc)
            st.error(f"{p.name}: {exc}")


def op_controls(spec: OpSpec, *, prefix: str) -> ParamValues:
    """Draw one widget per parameter of ``spec`` (in the current container) and return their values.

    Args:
        spec: the op, from :func:`vision.classic.get_op`.
        prefix: namespace of the widget keys (the page's own prefix).
    Returns:
        The values to pass to the op, and the parameters whose text could not be read (each also shown with
        ``st.error`` under its box); run the op only when ``errors`` is empty.
    """
    out = ParamValues()
    for p in spec.params:
        _control(p, param_key(prefix, spec.name, p.name), out)
    return out
