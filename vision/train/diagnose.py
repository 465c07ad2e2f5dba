"""Error analysis: bias / variance / data mismatch / dev-set overfitting from error rates (:func:`diagnose`).

Hand-written (no maintained library does it); the recipe is Andrew Ng's (*Machine Learning Yearning*,
deeplearning.ai's "Structuring ML projects"). With human-level error as a proxy for the Bayes error:

* avoidable bias = train − human  → "high bias": a bigger model, longer training, a better optimizer.
* variance = train-dev − train (dev − train when there is no train-dev set)  → "high variance": more data,
  regularization.
* data mismatch = dev − train-dev (needs a train-dev set: held-out data from the *training* distribution)  →
  "data mismatch": make training data more like the target, or add target data to the training set.
* overfitting to the dev set = test − dev  → "overfit to the dev set": a bigger dev set.

A gap counts when it exceeds ``tolerance``; with none, the verdict is "good".
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Any

from vision.errors import InputError

__all__ = ["Diagnosis", "Verdict", "diagnose"]

#: verdict name → (the gap it reads, the recommended next step)
_RULES: dict[str, tuple[str, str]] = {
    "high bias": ("avoidable_bias", ("reduce bias: a bigger model, train longer or with a better optimizer, "
                                     "search the architecture/hyper-parameters")),
    "high variance": ("variance", ("reduce variance: more training data, regularization (L2, dropout, "
                                   "augmentation), early stopping")),
    "data mismatch": ("data_mismatch", ("make the training data more like the target (error analysis, "
                                        "augmentation, synthesis) or add target-distribution data to train")),
    "overfit to the dev set": ("dev_overfit", "get a bigger dev set (the dev set has been tuned to)"),
}

_GAP_LABELS = {"avoidable_bias": "avoidable bias", "variance": "variance", "data_mismatch": "data mismatch",
               "dev_overfit": "dev overfit"}

_LEVEL_LABELS = {"human": "human (Bayes proxy)", "train": "train", "train_dev": "train-dev", "dev": "dev",
                 "test": "test"}


@dataclass(frozen=True)
class Verdict:
    """One finding: ``name`` (e.g. ``"high variance"``), the ``gap`` behind it, a sentence and the next step."""

    name: str
    gap: float
    message: str
    next_step: str


@dataclass
class Diagnosis:
    """What :func:`diagnose` concluded.

    Attributes:
        errors: level → error rate, in order ``human``, ``train``, (``train_dev``), ``dev``, (``test``).
        gaps: ``avoidable_bias``, ``variance``, ``data_mismatch``, ``dev_overfit`` → value, or None where the
            levels it needs were not given.
        verdicts: the findings, in the order to act on them (bias first); a single "good" when no gap exceeds
            ``tolerance``.
        notes: oddities worth a look (e.g. train error below the human-level estimate).
        tolerance: the gap size that counts.
    """

    errors: dict[str, float]
    gaps: dict[str, float | None]
    verdicts: list[Verdict]
    tolerance: float
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The verdict names, e.g. ``["high bias", "high variance"]``."""
        return [v.name for v in self.verdicts]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of errors, gaps, verdicts, notes and tolerance."""
        return {
            "errors": dict(self.errors),
            "gaps": dict(self.gaps),
            "verdicts": [{"name": v.name, "gap": v.gap, "message": v.message, "next_step": v.next_step}
                         for v in self.verdicts],
            "notes": list(self.notes),
            "tolerance": self.tolerance,
        }

    def to_text(self) -> str:
        """A short human-readable report: the error levels, the gaps, then each verdict with its next step."""
        lines = ["Error levels: " + ", ".join(f"{_LEVEL_LABELS[k]} {v:.1%}" for k, v in self.errors.items())]
        lines.append("Gaps: " + ", ".join(f"{_GAP_LABELS[k]} {v:+.1%}" for k, v in self.gaps.items()
                                          if v is not None) + f" (tolerance {self.tolerance:.1%})")
        for v in self.verdicts:
            lines.append(f"- {v.name}: {v.message}" + (f" → next: {v.next_step}" if v.next_step else ""))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def plot(self, path: str | os.PathLike[str] | None = None, *, dpi: float = 100) -> Any:
        """Bar chart of the error levels with the gap between neighbours drawn as labelled arrows.

        Gaps above the tolerance are red. Uses matplotlib's object API (no pyplot state).

        Args:
            path: write a PNG there atomically (:func:`vision.metrics.plots.save_figure`); None = don't write.
            dpi: figure resolution.

        Returns:
            The ``matplotlib.figure.Figure``.

        Raises:
            InputError: ``path`` is not a ``.png`` path or is a directory.
        """
        from matplotlib.figure import Figure

        from vision.metrics.plots import save_figure

        levels = list(self.errors)
        values = [self.errors[k] * 100 for k in levels]
        fig = Figure(figsize=(1.6 * len(levels) + 2.5, 4.2), dpi=dpi, layout="constrained")
        ax = fig.add_subplot()
        ax.bar(range(len(levels)), values, width=0.55, color="#8fb3d9", edgecolor="#35608f")
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.1f}%", ha="center", va="bottom", fontsize=9)
        top = max(max(values) * 1.18, 1.0)
        gap_between = self._gap_names(levels)
        for i, gap_name in enumerate(gap_between):
            if gap_name is None:
                continue
            gap = self.gaps[gap_name]
            if gap is None:
                continue
            color = "#c0392b" if gap > self.tolerance else "#2e7d32"
            x = i + 0.5
            ax.annotate("", xy=(x, values[i + 1]), xytext=(x, values[i]),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.8})
            ax.plot([i + 0.28, x], [values[i], values[i]], color=color, lw=0.8, ls=":")
            ax.plot([x, i + 1 - 0.28], [values[i + 1], values[i + 1]], color=color, lw=0.8, ls=":")
            short = abs(values[i + 1] - values[i]) < 0.15 * top  # label above a short arrow, not across bars
            y = max(values[i], values[i + 1]) + 0.09 * top if short else (values[i] + values[i + 1]) / 2
            ax.text(x, y, f" {_GAP_LABELS[gap_name]}\n {gap * 100:+.1f}%",
                    ha="center", va="center", fontsize=8, color=color,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": color, "lw": 0.6})
        ax.set_xticks(range(len(levels)), [_LEVEL_LABELS[k] for k in levels])
        ax.set_ylabel("error (%)")
        ax.set_ylim(0, top)
        ax.set_title("Diagnosis: " + ", ".join(self.names), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if path is not None:
            save_figure(fig, path)
        return fig

    def _gap_names(self, levels: list[str]) -> list[str | None]:
        pairs = {("human", "train"): "avoidable_bias", ("train", "train_dev"): "variance",
                 ("train", "dev"): "variance", ("train_dev", "dev"): "data_mismatch", ("dev", "test"): "dev_overfit"}
        return [pairs.get((a, b)) for a, b in itertools.pairwise(levels)]


def _check_error(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= 1.0:
        raise InputError(f"diagnose: {name} must be an error rate in [0, 1] (a fraction, e.g. 0.05 for 5 %); "
                         f"got {value!r}")
    return float(value)


def diagnose(*, train_error: float, dev_error: float, test_error: float | None = None,
             train_dev_error: float | None = None, human_error: float = 0.0, tolerance: float = 0.02) -> Diagnosis:
    """Bias / variance / data-mismatch / dev-overfit analysis of error rates (see the module docstring).

    Args:
        train_error: error on the training set, in [0, 1].
        dev_error: error on the dev (validation) set.
        test_error: error on the test set; enables the dev-overfit check.
        train_dev_error: error on held-out data from the training distribution; separates variance from data
            mismatch.
        human_error: human-level error, the proxy for the Bayes (irreducible) error.
        tolerance: the smallest gap that counts as a problem, in [0, 1).

    Returns:
        A :class:`Diagnosis`.

    Raises:
        InputError: an error rate outside [0, 1] or not a number, a tolerance outside [0, 1).
    """
    train = _check_error("train_error", train_error)
    dev = _check_error("dev_error", dev_error)
    test = None if test_error is None else _check_error("test_error", test_error)
    train_dev = None if train_dev_error is None else _check_error("train_dev_error", train_dev_error)
    human = _check_error("human_error", human_error)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0.0 <= tolerance < 1.0:
        raise InputError(f"diagnose: tolerance must be a number in [0, 1); got {tolerance!r}")

    errors: dict[str, float] = {"human": human, "train": train}
    if train_dev is not None:
        errors["train_dev"] = train_dev
    errors["dev"] = dev
    if test is not None:
        errors["test"] = test
    gaps: dict[str, float | None] = {
        "avoidable_bias": train - human,
        "variance": (train_dev if train_dev is not None else dev) - train,
        "data_mismatch": dev - train_dev if train_dev is not None else None,
        "dev_overfit": test - dev if test is not None else None,
    }
    what = {
        "avoidable_bias": f"train error {train:.1%} is {{gap:.1%}} above human-level {human:.1%}",
        "variance": (f"train-dev error {train_dev:.1%}" if train_dev is not None else f"dev error {dev:.1%}")
        + f" is {{gap:.1%}} above train error {train:.1%}",
        "data_mismatch": f"dev error {dev:.1%} is {{gap:.1%}} above train-dev error "
                         f"{train_dev if train_dev is not None else math.nan:.1%}",
        "dev_overfit": f"test error {test if test is not None else math.nan:.1%} is {{gap:.1%}} above dev error "
                       f"{dev:.1%}",
    }
    verdicts: list[Verdict] = []
    for name, (gap_name, step) in _RULES.items():
        gap = gaps[gap_name]
        if gap is not None and gap > tolerance + 1e-12:  # 1e-12: float noise in differences
            verdicts.append(Verdict(name=name, gap=gap, message=what[gap_name].format(gap=gap), next_step=step))
    if not verdicts:
        verdicts.append(Verdict(name="good", gap=0.0,
                                message=f"every gap is within the tolerance {tolerance:.1%}",
                                next_step="" if test is not None else "confirm on a held-out test set"))

    notes = []
    if human - train > tolerance:
        notes.append(f"train error {train:.1%} is below the human-level estimate {human:.1%}: the Bayes error proxy "
                     "may be too high, or the model memorizes the training set")
    if train_dev is not None and train_dev - dev > tolerance:
        notes.append(f"dev error {dev:.1%} is below train-dev error {train_dev:.1%}: the dev data looks easier than "
                     "the training distribution")
    if test is not None and dev - test > tolerance:
        notes.append(f"test error {test:.1%} is below dev error {dev:.1%}: check that dev and test come from the "
                     "same distribution")
    return Diagnosis(errors=errors, gaps=gaps, verdicts=verdicts, tolerance=float(tolerance), notes=notes)
