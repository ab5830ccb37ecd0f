"""Ladder data: item results joined with model cards, arranged per benchmark for the methods.

A ``Ladder`` holds every model's results and cards and knows roles (ladder, target, anchor). For one
benchmark it produces a ``BenchmarkLadder``: items by models, models in ascending compute, each model's
pass rates taken at its own checkpoint (the card's ``step``, else its last) and, when neighbouring
checkpoints exist, averaged with them. Intermediate checkpoints are never extra ladder points: a model
part-way through training is not a compute-optimal model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchcast.data.cards import ModelCard, Role
from benchcast.errors import InputError

FLOPS_UNIT = 1e18
"""COD's law and thresholds are stated for compute in units of 10^18 FLOPs (cod-method.md §4.1)."""


@dataclass(frozen=True)
class BenchmarkLadder:
    """One benchmark's results on the ladder, ready for a method.

    ``pass_rates`` is items x models, models sorted by ascending ``compute`` (FLOPs). ``trials`` has the same
    shape and holds the samples behind each pass rate (NaN where the input gave a continuous score).
    ``anchor_pass_rates`` is items x anchors. ``metrics`` maps a metric name (e.g. ``loss``) to one value per
    ladder model (NaN where unknown); ``anchor_compute`` and ``anchor_scores`` describe anchors.
    """

    benchmark: str
    models: tuple[str, ...]
    compute: np.ndarray
    pass_rates: np.ndarray
    trials: np.ndarray
    items: np.ndarray
    params: np.ndarray | None = None
    tokens: np.ndarray | None = None
    anchors: tuple[str, ...] = ()
    anchor_pass_rates: np.ndarray | None = None
    anchor_compute: np.ndarray | None = None
    metrics: Mapping[str, np.ndarray] = field(default_factory=dict)
    chance: float | None = None

    @property
    def n_items(self) -> int:
        return int(self.pass_rates.shape[0])

    @property
    def n_models(self) -> int:
        return int(self.pass_rates.shape[1])

    @property
    def scores(self) -> np.ndarray:
        """Each ladder model's benchmark score: the mean pass rate over items."""
        return self.pass_rates.mean(axis=0)

    @property
    def anchor_scores(self) -> np.ndarray:
        if self.anchor_pass_rates is None:
            return np.empty(0)
        return self.anchor_pass_rates.mean(axis=0)

    def subset(self, models: Sequence[int]) -> BenchmarkLadder:
        """The same benchmark on a subset of the ladder models (by position), e.g. to leave one out."""
        index = np.asarray(models, dtype=int)
        return self.resample(self.pass_rates[:, index], models=index)

    def resample(
        self, pass_rates: np.ndarray, items: np.ndarray | None = None, models: np.ndarray | None = None
    ) -> BenchmarkLadder:
        """The ladder of rows ``items`` (repeats allowed) and ladder models ``models`` (positions) of this one,
        with ``pass_rates`` of that shape in place of its own (a bootstrap replicate); trials, item names and
        anchors follow the rows, compute and sizes the models. ``None`` keeps every row or model."""
        index = np.arange(self.n_models) if models is None else np.asarray(models, dtype=int)
        return BenchmarkLadder(
            benchmark=self.benchmark,
            models=tuple(self.models[i] for i in index),
            compute=self.compute[index],
            pass_rates=pass_rates,
            trials=cells(self.trials, items, models),
            items=self.items if items is None else self.items[items],
            params=None if self.params is None else self.params[index],
            tokens=None if self.tokens is None else self.tokens[index],
            anchors=self.anchors,
            anchor_pass_rates=(
                self.anchor_pass_rates
                if items is None or self.anchor_pass_rates is None
                else self.anchor_pass_rates[items]
            ),
            anchor_compute=self.anchor_compute,
            metrics={name: values[index] for name, values in self.metrics.items()},
            chance=self.chance,
        )


def cells(table: np.ndarray, rows: np.ndarray | None, columns: np.ndarray | None) -> np.ndarray:
    """``table`` at rows ``rows`` (repeats allowed) and columns ``columns``; None keeps all of them. Rows are
    taken first, by ``np.take``: four times faster than ``table[np.ix_(rows, columns)]``."""
    out = table if rows is None else np.take(table, rows, axis=0)
    return out if columns is None else out[:, columns]


@dataclass(frozen=True)
class _BenchmarkTable:
    """One benchmark's results as columns: ``columns[model, step]`` is (pass rates, trials) in ``items`` order."""

    items: np.ndarray
    columns: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Selection:
    """Which models play which part in one forecast."""

    ladder: tuple[str, ...]
    anchors: tuple[str, ...]
    target: str | None
    target_compute: float


class Ladder:
    """Item results joined with model cards: the one input every method and command reads.

    Parameters
    ----------
    results
        Canonical results frame (see ``benchcast.data.results``).
    cards
        Model cards keyed by model name; every model in ``results`` that takes part needs one with compute.
    checkpoint_window
        Neighbouring checkpoints averaged on each side of a model's own checkpoint (COD App. A.2). Only
        symmetric windows are used: averaging a final checkpoint with earlier ones alone would bias it low.
    chance
        Optional random-guess level per benchmark (e.g. 0.25 for four-option multiple choice).
    benchmark_metrics
        Optional frame with columns ``model``, ``benchmark``, ``metric``, ``value`` (e.g. a task loss or
        bits-per-byte per model and benchmark) for methods that go through an intermediate metric.

    Examples
    --------
    >>> from benchcast.datasets import load_dataset
    >>> ladder = load_dataset("pythia-arithmetic")
    >>> "arithmetic_addition_16shot" in ladder.benchmarks
    True
    """

    def __init__(
        self,
        results: pd.DataFrame,
        cards: Mapping[str, ModelCard],
        *,
        checkpoint_window: int = 1,
        chance: Mapping[str, float] | None = None,
        benchmark_metrics: pd.DataFrame | None = None,
        name: str | None = None,
    ) -> None:
        if checkpoint_window < 0:
            raise ValueError(f"checkpoint_window must be >= 0, got {checkpoint_window}")
        self.results = results
        self.cards = dict(cards)
        self.checkpoint_window = checkpoint_window
        self.chance = dict(chance or {})
        self.benchmark_metrics = benchmark_metrics
        self.name = name
        # the distinct names, not a set built from every row: a million rows take seconds to iterate
        self._with_results = frozenset(results["model"].unique().tolist())
        unknown = sorted(self._with_results - set(self.cards))
        if unknown:
            raise InputError(f"model {unknown[0]!r} has results but no model card", field="model")
        self._tables: dict[str, _BenchmarkTable] = {}

    # ----------------------------------------------------------------- models and roles
    @property
    def benchmarks(self) -> list[str]:
        return sorted(self.results["benchmark"].unique())

    @property
    def models(self) -> list[str]:
        """Models with results, in ascending compute."""
        return sorted(self._with_results, key=lambda name: (self._compute(name, required=False) or math.inf, name))

    def _compute(self, name: str, *, required: bool = True) -> float | None:
        card = self.cards.get(name)
        if card is None:
            if required:
                raise InputError(f"no model card for {name!r}", field="model")
            return None
        if card.compute is None and required:
            raise InputError(
                f"model {name!r} has no compute: give 'compute', or 'params' and 'tokens'", field="compute"
            )
        return card.compute

    def role_of(self, name: str) -> Role | None:
        return self.cards[name].role if name in self.cards else None

    def select(
        self,
        target: str | None = None,
        compute: float | None = None,
        *,
        ladder: Iterable[str] | None = None,
        anchors: Iterable[str] | None = None,
    ) -> Selection:
        """Decide the ladder, anchors and target compute for one forecast.

        The target is a model name or a compute in FLOPs. The ladder is, in order of preference, the given
        names; the models with role ``ladder``; or every model with results below the target's compute.
        """
        if target is None and compute is None:
            targets = [name for name, card in self.cards.items() if card.role is Role.TARGET]
            if len(targets) != 1:
                raise InputError("name a target (--target) or a compute (--compute)", field="target")
            target = targets[0]
        if target is not None:
            if target not in self.cards:
                raise InputError(f"unknown target {target!r}: it has no model card", field="target")
            target_compute = self._compute(target)
            if compute is not None:
                target_compute = compute
        else:
            target_compute = float(compute)
        if not (target_compute and math.isfinite(target_compute) and target_compute > 0):
            raise InputError(f"target compute must be positive, got {target_compute}", field="compute")
        with_results = self._with_results
        if ladder is not None:
            chosen = list(ladder)
            for name in chosen:
                if name not in with_results:
                    raise InputError(f"ladder model {name!r} has no results", field="model")
        else:
            marked = [n for n, c in self.cards.items() if c.role is Role.LADDER and n in with_results]
            if marked:
                chosen = marked
            else:
                chosen = [
                    n
                    for n in with_results
                    if n != target
                    and self.cards[n].role is not Role.ANCHOR
                    and (self._compute(n) or math.inf) < target_compute
                ]
        chosen = [name for name in chosen if name != target]
        for name in chosen:
            self._compute(name)
        chosen.sort(key=lambda name: (self._compute(name), name))
        if anchors is None:
            anchor_names = [n for n, c in self.cards.items() if c.role is Role.ANCHOR and n in with_results]
        else:
            anchor_names = list(anchors)
        return Selection(tuple(chosen), tuple(anchor_names), target, float(target_compute))

    # ----------------------------------------------------------------- pass rates
    def _table(self, benchmark: str) -> _BenchmarkTable:
        """Pass rates and trials of one benchmark, one column per (model, step), items in sorted order."""
        if benchmark not in self._tables:
            rows = self.results[self.results["benchmark"] == benchmark]
            if rows.empty:
                raise InputError(f"no results for benchmark {benchmark!r}", field="benchmark")
            # placed by item code rather than by ``DataFrame.pivot``, which costs a second on a million rows;
            # the results are validated, so every (model, step, item) occurs at most once
            codes, items = pd.factorize(rows["item"], sort=True)
            steps = rows["step"].astype(float).fillna(-1.0).to_numpy(dtype=float)
            rates = rows["pass_rate"].to_numpy(dtype=float)
            trials = rows["trials"].to_numpy(dtype=float)
            columns: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}
            groups = pd.DataFrame({"model": rows["model"].to_numpy(dtype=object), "step": steps})
            for (model, step), positions in groups.groupby(["model", "step"], sort=True).indices.items():
                column_rates = np.full(len(items), np.nan)
                column_trials = np.full(len(items), np.nan)
                column_rates[codes[positions]] = rates[positions]
                column_trials[codes[positions]] = trials[positions]
                columns[str(model), float(step)] = column_rates, column_trials
            self._tables[benchmark] = _BenchmarkTable(np.asarray(items, dtype=object), columns)
        return self._tables[benchmark]

    def _steps(self, benchmark: str, model: str) -> list[float]:
        steps = sorted(step for name, step in self._table(benchmark).columns if name == model)
        if not steps:
            raise InputError(f"model {model!r} has no results on benchmark {benchmark!r}", field="model")
        return steps

    def own_step(self, benchmark: str, model: str) -> float:
        """The checkpoint that stands for the model: its card's step if present, else its last."""
        steps = self._steps(benchmark, model)
        card_step = self.cards[model].step
        if card_step is not None:
            if float(card_step) not in steps:
                raise InputError(
                    f"model {model!r}: card step {card_step} has no results on benchmark {benchmark!r}",
                    field="step",
                )
            return float(card_step)
        return steps[-1]

    def _model_rates(self, benchmark: str, model: str, *, smooth: bool) -> tuple[np.ndarray, np.ndarray]:
        table = self._table(benchmark)
        steps = self._steps(benchmark, model)
        position = steps.index(self.own_step(benchmark, model))
        width = min(self.checkpoint_window, position, len(steps) - 1 - position) if smooth else 0
        window = steps[position - width : position + width + 1]
        rates = np.column_stack([table.columns[model, step][0] for step in window])
        trials = np.column_stack([table.columns[model, step][1] for step in window])
        if np.isnan(rates).any():
            raise InputError(f"benchmark {benchmark!r}: model {model!r} lacks some items", field="item")
        return rates.mean(axis=1), trials.sum(axis=1)

    def measured(self, model: str, benchmark: str) -> float | None:
        """The model's measured benchmark score at its own checkpoint (no smoothing), or None."""
        try:
            rates, _ = self._model_rates(benchmark, model, smooth=False)
        except InputError:
            return None
        return float(rates.mean())

    def benchmark_ladder(self, benchmark: str, models: Sequence[str], anchors: Sequence[str] = ()) -> BenchmarkLadder:
        """Arrange one benchmark for a method: items x models in ascending compute."""
        ordered = sorted(models, key=lambda name: (self._compute(name), name))
        columns = [self._model_rates(benchmark, name, smooth=True) for name in ordered]
        anchor_rates = [self._model_rates(benchmark, name, smooth=True)[0] for name in anchors]
        cards = [self.cards[name] for name in ordered]
        metrics = self._metrics(benchmark, ordered)
        return BenchmarkLadder(
            benchmark=benchmark,
            models=tuple(ordered),
            compute=np.array([card.compute for card in cards], dtype=float),
            pass_rates=np.column_stack([rates for rates, _ in columns]) if columns else np.empty((0, 0)),
            trials=np.column_stack([trials for _, trials in columns]) if columns else np.empty((0, 0)),
            items=self._table(benchmark).items,
            params=np.array([np.nan if c.params is None else c.params for c in cards], dtype=float),
            tokens=np.array([np.nan if c.tokens is None else c.tokens for c in cards], dtype=float),
            anchors=tuple(anchors),
            anchor_pass_rates=np.column_stack(anchor_rates) if anchor_rates else None,
            anchor_compute=(
                np.array([self.cards[name].compute or np.nan for name in anchors], dtype=float) if anchors else None
            ),
            metrics=metrics,
            chance=self.chance.get(benchmark),
        )

    def _metrics(self, benchmark: str, models: Sequence[str]) -> dict[str, np.ndarray]:
        names: set[str] = set()
        for model in models:
            names.update(self.cards[model].metrics)
        values = {
            name: np.array([self.cards[m].metrics.get(name, np.nan) for m in models], dtype=float) for name in names
        }
        if self.benchmark_metrics is not None and not self.benchmark_metrics.empty:
            rows = self.benchmark_metrics[self.benchmark_metrics["benchmark"] == benchmark]
            for metric, group in rows.groupby("metric"):
                lookup = dict(zip(group["model"], group["value"], strict=False))
                values[str(metric)] = np.array([lookup.get(m, np.nan) for m in models], dtype=float)
        return values
