"""Hyper-parameter search over any configuration: :func:`search` with :class:`Int`, :class:`Float`, :class:`Choice`.

The objective is a plain function ``objective(params: dict) -> float | dict`` — it can build a model, a
:class:`~vision.train.trainer.Trainer` and return the validation loss, or anything else. Methods:

* ``"grid"`` — every combination; :class:`Choice` (or a plain list) gives its values, :class:`Int`/:class:`Float`
  need ``steps=`` (evenly spaced, log-spaced with ``log=True``). ``trials`` is ignored.
* ``"random"`` — ``trials`` independent draws (log-uniform for ``log=True``), from ``numpy``'s seeded generator.
* ``"multires"`` — coarse-to-fine (hand-written; no maintained library does this simple scheme): ``rounds`` rounds
  of random search sharing ``trials``; after each round every numeric range shrinks to a quarter of its width
  (in log space for ``log=True``) centred on the best value so far, clipped to the original range, and
  categorical parameters are frozen at their best value.
* ``"optuna"`` — optuna's ``TPESampler(seed=seed)``; needs the optional ``optuna`` package
  (``pip install optuna``), imported only for this method.

Parallel trials (``n_jobs > 1``) run in a ``concurrent.futures.ThreadPoolExecutor``: torch releases the GIL in its
kernels, so threads overlap real work, but keep ``torch.set_num_threads`` small per trial if the CPU is shared.
Parameters are drawn before any trial runs, so results do not depend on ``n_jobs`` (except for ``"optuna"``,
whose sampler sees finished trials; with ``n_jobs > 1`` its order is not reproducible).

A best value in the first or last 10 % of a numeric range (log-aware) is reported in
:attr:`SearchResult.edge_warnings` and logged with ``logging.warning``: the optimum may lie outside the range.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vision.errors import InputError, MissingDependencyError

__all__ = ["SEARCH_METHODS", "Choice", "Float", "Int", "SearchResult", "search"]

logger = logging.getLogger(__name__)

#: the accepted ``method`` names
SEARCH_METHODS = ("grid", "random", "multires", "optuna")

_EDGE = 0.1  # fraction of a range counted as its edge


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_steps(steps: Any, what: str) -> None:
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 2):
        raise InputError(f"{what}: steps must be an integer ≥ 2 or None; got {steps!r}")


@dataclass(frozen=True)
class Float:
    """A real parameter in ``[low, high]``; ``log=True`` samples log-uniformly (needs ``low > 0``).

    Args:
        low, high: the range, ``low < high``. log: sample/space in log scale. steps: grid points (for ``"grid"``).

    Raises:
        InputError: non-finite bounds, ``low >= high``, ``log`` with ``low <= 0``, bad ``steps``.
    """

    low: float
    high: float
    log: bool = False
    steps: int | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.low) and _is_number(self.high)) or self.low >= self.high:
            raise InputError(f"Float: expected finite numbers low < high; got low={self.low!r}, high={self.high!r}")
        if self.log and self.low <= 0:
            raise InputError(f"Float: log=True needs low > 0; got low={self.low!r}")
        _check_steps(self.steps, "Float")


@dataclass(frozen=True)
class Int:
    """An integer parameter in ``[low, high]`` (both included); ``log=True`` samples log-uniformly (``low >= 1``).

    Args:
        low, high: integer bounds, ``low < high``. log: log scale. steps: grid points (for ``"grid"``; duplicates
            after rounding are dropped).

    Raises:
        InputError: non-integer bounds, ``low >= high``, ``log`` with ``low < 1``, bad ``steps``.
    """

    low: int
    high: int
    log: bool = False
    steps: int | None = None

    def __post_init__(self) -> None:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high))
        if not ok or self.low >= self.high:
            raise InputError(f"Int: expected integers low < high; got low={self.low!r}, high={self.high!r}")
        if self.log and self.low < 1:
            raise InputError(f"Int: log=True needs low ≥ 1; got low={self.low!r}")
        _check_steps(self.steps, "Int")


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values (any objects); a plain list or tuple in the space means the same.

    Raises:
        InputError: an empty list or a non-sequence.
    """

    values: tuple[Any, ...]

    def __init__(self, values: Sequence[Any]) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise InputError(f"Choice: expected a non-empty list of values; got {values!r}")
        object.__setattr__(self, "values", tuple(values))


Spec = Float | Int | Choice


@dataclass
class SearchResult:
    """What :func:`search` found.

    Attributes:
        trials: one dict per trial, in run order: ``trial`` (index), ``round`` (multires round, else 0), each
            parameter, ``value`` (the objective), and any extra entries a dict-returning objective gave.
        best_params: the parameters of the best trial. best_value: its objective value.
        direction: ``"minimize"`` or ``"maximize"``. method: the search method.
        edge_warnings: one sentence per numeric parameter whose best value lies at the edge of its range.
    """

    trials: list[dict[str, Any]]
    best_params: dict[str, Any]
    best_value: float
    direction: str
    method: str
    edge_warnings: list[str] = field(default_factory=list)

    def _columns(self) -> list[str]:
        cols: list[str] = []
        for row in self.trials:
            cols.extend(k for k in row if k not in cols)
        return cols

    def to_markdown(self) -> str:
        """The trials table as GitHub markdown (floats to 4 significant digits)."""
        cols = self._columns()

        def fmt(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:.4g}"
            return "" if v is None else str(v).replace("|", "\\|")

        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(fmt(row.get(c)) for c in cols) + " |" for row in self.trials]
        return "\n".join(lines) + "\n"

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the trials table as CSV atomically (parent folders created).

        Returns:
            ``Path(path)``.

        Raises:
            InputError: ``path`` is not a path or is a directory. OSError: the write failed (nothing left behind).
        """
        from vision.io.files import atomic_write_bytes

        if not isinstance(path, (str, os.PathLike)):
            raise InputError(f"SearchResult.to_csv: expected a file path; got {type(path).__name__}")
        target = Path(path)
        if target.is_dir():
            raise InputError(f"SearchResult.to_csv: {target} is a directory; expected a .csv file path")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self._columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.trials)
        return atomic_write_bytes(target, buf.getvalue().encode("utf-8"))


# ------------------------------------------------------------------------------------------------------
# sampling helpers
# ------------------------------------------------------------------------------------------------------
def _normalize_space(space: Any) -> dict[str, Spec]:
    if not isinstance(space, Mapping) or not space:
        raise InputError(f"search: space must be a non-empty dict of name → Int/Float/Choice/list; got {space!r}")
    out: dict[str, Spec] = {}
    for name, spec in space.items():
        if not isinstance(name, str):
            raise InputError(f"search: space keys must be strings; got {name!r}")
        if isinstance(spec, (list, tuple)):
            spec = Choice(spec)
        if not isinstance(spec, (Int, Float, Choice)):
            raise InputError(f"search: space[{name!r}] must be Int, Float, Choice or a list of values; got "
                             f"{type(spec).__name__}")
        out[name] = spec
    return out


def _to_unit(spec: Int | Float, value: float) -> float:
    """Position of ``value`` in ``spec``'s range as a fraction in [0, 1] (log-aware)."""
    if spec.log:
        return (math.log(value) - math.log(spec.low)) / (math.log(spec.high) - math.log(spec.low))
    return (value - spec.low) / (spec.high - spec.low)


def _from_unit(spec: Int | Float, u: float) -> float:
    if spec.log:
        return math.exp(math.log(spec.low) + u * (math.log(spec.high) - math.log(spec.low)))
    return spec.low + u * (spec.high - spec.low)


def _cast(spec: Int | Float, value: float) -> int | float:
    if isinstance(spec, Int):
        return int(min(max(round(value), spec.low), spec.high))
    return float(min(max(value, spec.low), spec.high))


def _grid_values(name: str, spec: Spec) -> list[Any]:
    if isinstance(spec, Choice):
        return list(spec.values)
    if spec.steps is None:
        raise InputError(f"search: method 'grid' needs steps= for numeric parameter {name!r} "
                         f"({type(spec).__name__}({spec.low}, {spec.high})); expected e.g. steps=5 or a Choice")
    values = [_cast(spec, _from_unit(spec, i / (spec.steps - 1))) for i in range(spec.steps)]
    return list(dict.fromkeys(values))


def _sample(space: Mapping[str, Spec], rng: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, Choice):
            params[name] = spec.values[int(rng.integers(len(spec.values)))]
        elif isinstance(spec, Int) and not spec.log:
            params[name] = int(rng.integers(spec.low, spec.high + 1))
        elif isinstance(spec, Int):
            # log-uniform over [low - 0.5, high + 0.5) so the end integers get their share
            lo, hi = math.log(spec.low - 0.5 if spec.low > 1 else spec.low), math.log(spec.high + 0.5)
            params[name] = _cast(spec, math.exp(rng.uniform(lo, hi)))
        else:
            params[name] = _cast(spec, _from_unit(spec, float(rng.uniform(0.0, 1.0))))
    return params


def _shrink(original: Mapping[str, Spec], current: Mapping[str, Spec], best: Mapping[str, Any],
            factor: float = 0.25) -> dict[str, Spec]:
    """Numeric ranges shrunk to ``factor`` of their width around ``best``; choices frozen at the best value."""
    out: dict[str, Spec] = {}
    for name, spec in current.items():
        orig = original[name]
        value = best[name]
        if isinstance(spec, Choice):
            out[name] = Choice([value])
            continue
        half = factor * 0.5
        u = _to_unit(spec, value)
        lo_u, hi_u = max(u - half, 0.0), min(u + half, 1.0)
        lo, hi = _from_unit(spec, lo_u), _from_unit(spec, hi_u)
        lo, hi = max(lo, orig.low), min(hi, orig.high)
        if isinstance(spec, Int):
            lo_i, hi_i = math.floor(lo), math.ceil(hi)
            if hi_i <= lo_i:
                hi_i = lo_i + 1 if lo_i + 1 <= orig.high else lo_i
                lo_i = hi_i - 1
            out[name] = Int(lo_i, hi_i, log=spec.log and lo_i >= 1)
        else:
            out[name] = Float(lo, hi, log=spec.log) if hi > lo else spec
    return out


# ------------------------------------------------------------------------------------------------------
# running trials
# ------------------------------------------------------------------------------------------------------
def _value(raw: Any, metric: str, params: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    extras: dict[str, Any] = {}
    if isinstance(raw, Mapping):
        if metric not in raw:
            raise InputError(f"search: the objective returned a dict without the metric {metric!r} "
                             f"(keys {sorted(map(str, raw))}) for params {dict(params)}; pass metric=")
        extras = {str(k): v for k, v in raw.items() if k != metric}
        raw = raw[metric]
    if hasattr(raw, "item") and callable(raw.item):  # numpy / torch scalars
        raw = raw.item()
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InputError(f"search: the objective must return a number or a dict holding {metric!r}; got "
                         f"{type(raw).__name__} for params {dict(params)}")
    return float(raw), extras


def _run_batch(objective: Callable[[dict[str, Any]], Any], batch: list[dict[str, Any]], n_jobs: int,
               metric: str) -> list[tuple[float, dict[str, Any]]]:
    if n_jobs == 1 or len(batch) == 1:
        return [_value(objective(dict(p)), metric, p) for p in batch]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        raws = list(pool.map(lambda p: objective(dict(p)), batch))
    return [_value(r, metric, p) for r, p in zip(raws, batch)]


def _better(a: float, b: float, direction: str) -> bool:
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return a < b if direction == "minimize" else a > b


def _edge_warnings(space: Mapping[str, Spec], best: Mapping[str, Any]) -> list[str]:
    notes = []
    for name, spec in space.items():
        if isinstance(spec, Choice):
            continue
        u = _to_unit(spec, best[name])
        side = "lower" if u <= _EDGE else "upper" if u >= 1 - _EDGE else None
        if side is not None:
            notes.append(f"best {name} {best[name]:.4g} is at the {side} edge of [{spec.low:.4g}, {spec.high:.4g}]"
                         f"{' (log scale)' if spec.log else ''}; widen the range")
    return notes


def _optuna_trials(objective: Callable[[dict[str, Any]], Any], space: Mapping[str, Spec], trials: int,
                   direction: str, seed: int, n_jobs: int, metric: str) -> list[tuple[dict[str, Any], float,
                                                                                     dict[str, Any]]]:
    try:
        import optuna
    except ImportError as exc:
        raise MissingDependencyError("search: method 'optuna' needs the optional package optuna (pip install optuna); "
                         "it is not installed — use method 'random' or 'multires'") from exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    records: dict[int, tuple[dict[str, Any], float, dict[str, Any]]] = {}

    def run(trial: Any) -> float:
        params: dict[str, Any] = {}
        for name, spec in space.items():
            if isinstance(spec, Choice):
                params[name] = spec.values[trial.suggest_categorical(name, list(range(len(spec.values))))]
            elif isinstance(spec, Int):
                params[name] = trial.suggest_int(name, spec.low, spec.high, log=spec.log)
            else:
                params[name] = trial.suggest_float(name, spec.low, spec.high, log=spec.log)
        value, extras = _value(objective(dict(params)), metric, params)
        records[trial.number] = (params, value, extras)
        return value

    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(run, n_trials=trials, n_jobs=n_jobs, catch=())
    return [records[i] for i in sorted(records)]


def search(objective: Callable[[dict[str, Any]], float | Mapping[str, Any]], space: Mapping[str, Any], *,
           method: str = "random", trials: int = 20, direction: str = "minimize", seed: int = 0, n_jobs: int = 1,
           rounds: int = 3, metric: str = "value") -> SearchResult:
    """Search ``space`` for the parameters that minimize (or maximize) ``objective``.

    Args:
        objective: ``objective(params) -> float`` or a dict holding ``metric`` (other entries go to the table).
            Exceptions it raises propagate. NaN values are recorded but never best.
        space: name → :class:`Int` / :class:`Float` / :class:`Choice` / list of values.
        method: ``"grid"``, ``"random"``, ``"multires"`` or ``"optuna"`` (see the module docstring).
        trials: number of trials (total over all rounds for ``"multires"``; ignored by ``"grid"``).
        direction: ``"minimize"`` or ``"maximize"``.
        seed: seeds the sampler; the same seed gives the same trials.
        n_jobs: trials run at once (threads).
        rounds: ``"multires"`` rounds (≥ 1; each gets ``trials // rounds`` trials, the first the remainder too).
        metric: the key of the objective value when the objective returns a dict.

    Returns:
        A :class:`SearchResult`.

    Raises:
        InputError: a bad argument or space, a numeric parameter without ``steps`` for ``"grid"``, an objective
            that returns no number, every trial NaN, ``"optuna"`` without optuna installed.
    """
    if not callable(objective):
        raise InputError(f"search: objective must be callable; got {type(objective).__name__}")
    spec_space = _normalize_space(space)
    if method not in SEARCH_METHODS:
        raise InputError(f"search: method must be one of {SEARCH_METHODS}; got {method!r}")
    if direction not in ("minimize", "maximize"):
        raise InputError(f"search: direction must be 'minimize' or 'maximize'; got {direction!r}")
    for name, value, low in (("trials", trials, 1), ("n_jobs", n_jobs, 1), ("rounds", rounds, 1),
                             ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"search: {name} must be an integer ≥ {low}; got {value!r}")
    if method == "multires" and trials < rounds:
        raise InputError(f"search: multires needs trials ≥ rounds; got trials={trials}, rounds={rounds}")
    if not isinstance(metric, str):
        raise InputError(f"search: metric must be a string; got {metric!r}")

    import numpy as np

    rows: list[dict[str, Any]] = []
    best_params: dict[str, Any] | None = None
    best_value = math.nan

    def record(batch: list[dict[str, Any]], results: list[tuple[float, dict[str, Any]]], round_: int) -> None:
        nonlocal best_params, best_value
        for params, (value, extras) in zip(batch, results):
            rows.append({"trial": len(rows), "round": round_, **params, "value": value, **extras})
            if best_params is None or _better(value, best_value, direction):
                best_params, best_value = dict(params), value

    if method == "grid":
        names = list(spec_space)
        grids = [_grid_values(n, spec_space[n]) for n in names]
        batch = [dict(zip(names, combo)) for combo in itertools.product(*grids)]
        record(batch, _run_batch(objective, batch, n_jobs, metric), 0)
    elif method == "random":
        rng = np.random.default_rng(seed)
        batch = [_sample(spec_space, rng) for _ in range(trials)]
        record(batch, _run_batch(objective, batch, n_jobs, metric), 0)
    elif method == "multires":
        rng = np.random.default_rng(seed)
        current = dict(spec_space)
        per_round = trials // rounds
        for r in range(rounds):
            count = per_round + (trials - per_round * rounds if r == 0 else 0)
            batch = [_sample(current, rng) for _ in range(count)]
            record(batch, _run_batch(objective, batch, n_jobs, metric), r)
            if best_params is not None and not math.isnan(best_value) and r + 1 < rounds:
                current = _shrink(spec_space, current, best_params)
            logger.info("multires round %d: best %s = %.4g", r, best_params, best_value)
    else:
        for params, value, extras in _optuna_trials(objective, spec_space, trials, direction, seed, n_jobs, metric):
            record([params], [(value, extras)], 0)

    if best_params is None or math.isnan(best_value):
        raise InputError(f"search: every one of the {len(rows)} trials returned NaN; expected at least one number")
    warnings = _edge_warnings(spec_space, best_params)
    for note in warnings:
        logger.warning("search: %s", note)
    return SearchResult(trials=rows, best_params=best_params, best_value=best_value, direction=direction,
                        method=method, edge_warnings=warnings)
