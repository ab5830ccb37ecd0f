"""Analyses computed from a backtest's records: where COD loses to a baseline and the measured conditions
that COD's design is known to be sensitive to, and the two-stage method against its published errors.

Everything here is derived from the records; the text the reports print is generated from these numbers
(nothing is hand-written per dataset). A *condition* is a measured property of a dataset that the COD paper
names as unfavourable (few ladder models, single-sample 0/1 results, aggregate-only data, a small or empty
predictable subset, a narrow ladder, a long extrapolation). The backtest does not isolate which condition
causes a gap; it reports the ones present.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from benchcast.backtest.harness import FORECAST, BacktestRecord, BacktestResult
from benchcast.backtest.published import (
    OLMO_CHAINED_13B,
    OLMO_DATASET,
    OLMO_PAPER_CASE,
    OLMO_PAPER_TARGET,
    TWO_STAGE,
    PublishedForecast,
)
from benchcast.backtest.summary import datasets_of

COD = "cod"
COD_PUBLISHED_LADDER = 8
"""Ladder size behind COD's published accuracy (8 small models, cod-method.md §9.1)."""
SMALL_PREDICTABLE_SHARE = 0.2
LONG_EXTRAPOLATION = 10.0
NARROW_LADDER = 10.0


def _cod_settings() -> tuple[int, int]:
    """COD's minimum ladder size and cluster size, read from its defaults (no copies of the numbers)."""
    from benchcast.methods import get_method

    cod = get_method(COD)
    return int(getattr(cod, "min_models", 3)), int(getattr(cod, "min_cluster_size", 10))


@dataclass
class DatasetProfile:
    """Measured facts about one dataset's backtest, for explaining method differences."""

    dataset: str
    cases: int
    ladder_sizes: tuple[int, int]
    ladder_span: tuple[float, float] | None
    items: tuple[int, int, float]
    trials_per_item: float | None
    extrapolation: tuple[float, float]
    benchmarks: int
    cod_forecasts: int = 0
    cod_declined: Counter[str] = field(default_factory=Counter)
    cod_failed: int = 0
    cod_predictable_share: tuple[float, float] | None = None
    cod_warnings: Counter[str] = field(default_factory=Counter)
    non_monotone: tuple[int, int] = (0, 0)
    target_below_ladder: tuple[int, int] = (0, 0)
    cod_signed_error: float | None = None
    cod_forecast_gain: float | None = None
    cod_measured_gain: float | None = None

    @property
    def cod_total(self) -> int:
        return self.cod_forecasts + sum(self.cod_declined.values()) + self.cod_failed


def profile(result: BacktestResult, dataset: str) -> DatasetProfile:
    records = [r for r in result.records if r.dataset == dataset]
    cases = [c for c in result.cases if c["dataset"] == dataset]
    # one entry per (case, benchmark): the ladder a method saw
    seen: dict[tuple[str, str], BacktestRecord] = {}
    for r in records:
        seen.setdefault((r.case, r.benchmark), r)
    items = np.array([r.n_items for r in seen.values()], dtype=float)
    trials = [r.trials_per_item for r in seen.values() if r.trials_per_item is not None]
    spans = [max(c["ladder_compute"]) / min(c["ladder_compute"]) for c in cases if len(c["ladder"]) > 1]
    ratios = [x for c in cases for x in c["extrapolation"]]
    out = DatasetProfile(
        dataset=dataset,
        cases=len(cases),
        ladder_sizes=(min(len(c["ladder"]) for c in cases), max(len(c["ladder"]) for c in cases)),
        ladder_span=(min(spans), max(spans)) if spans else None,
        items=(int(items.min()), int(items.max()), float(np.median(items))),
        trials_per_item=float(np.median(trials)) if trials else None,
        extrapolation=(min(ratios), max(ratios)),
        benchmarks=len({r.benchmark for r in records}),
        non_monotone=(sum(r.ladder_monotone is False for r in seen.values()), len(seen)),
    )
    pairs: dict[tuple[str, str, str], BacktestRecord] = {}
    for r in records:
        if r.truth is not None and r.ladder_last is not None:
            pairs.setdefault((r.case, r.target, r.benchmark), r)
    out.target_below_ladder = (sum(r.truth < r.ladder_last for r in pairs.values()), len(pairs))
    cod = [r for r in records if r.method == COD]
    shares = [r.diagnostics["predictable_share"] for r in cod if "predictable_share" in r.diagnostics]
    out.cod_forecasts = sum(r.status == FORECAST for r in cod)
    out.cod_failed = sum(r.failed is not None for r in cod)
    out.cod_declined = Counter(r.reason for r in cod if r.status != FORECAST and r.failed is None)
    out.cod_predictable_share = (float(np.mean(shares)), float(np.min(shares))) if shares else None
    out.cod_warnings = Counter(_warning_kind(w) for r in cod if r.status == FORECAST for w in r.warnings)
    made = [r for r in cod if r.status == FORECAST and r.ladder_last is not None]
    if made:
        out.cod_signed_error = float(np.mean([(r.forecast - r.truth) * 100 for r in made]))
        out.cod_forecast_gain = float(np.mean([(r.forecast - r.ladder_last) * 100 for r in made]))
        out.cod_measured_gain = float(np.mean([(r.truth - r.ladder_last) * 100 for r in made]))
    return out


def _warning_kind(message: str) -> str:
    """A warning with its numbers blanked, so that the same kind of warning is counted together."""
    kind = re.sub(r"\d+(?:\.\d+)?", "#", message)
    return kind if len(kind) <= 90 else kind[:89] + "…"


def conditions(p: DatasetProfile) -> list[str]:
    """The measured conditions present on a dataset, each a sentence built from its numbers."""
    min_models, min_cluster = _cod_settings()
    out = []
    lo, hi = p.ladder_sizes
    sizes = f"{lo}" if lo == hi else f"{lo}-{hi}"
    if hi < COD_PUBLISHED_LADDER:
        extra = f"; below COD's minimum of {min_models} it declines" if lo < min_models else ""
        out.append(
            f"few ladder models: {sizes} per case (COD's law has 4 parameters; its published accuracy used "
            f"{COD_PUBLISHED_LADDER}){extra}"
        )
    if p.items[2] < min_cluster:
        out.append(
            f"aggregate-only data: median {p.items[2]:g} item(s) per benchmark, fewer than one COD cluster "
            f"({min_cluster}); COD needs item-level results"
        )
    if p.trials_per_item is not None and p.trials_per_item <= 1:
        out.append(
            f"single-sample 0/1 results: {p.trials_per_item:g} trial per item, so every difficulty feature is a 0/1 "
            "pattern across the ladder"
        )
    no_subset = sum(n for reason, n in p.cod_declined.items() if reason and "extrapolatable" in reason)
    if no_subset:
        out.append(f"no predictable subset: no cluster was extrapolatable in {no_subset} of {p.cod_total} COD fits")
    if p.cod_predictable_share is not None and p.cod_predictable_share[0] < SMALL_PREDICTABLE_SHARE:
        mean, low = p.cod_predictable_share
        out.append(
            f"small predictable subset: COD kept {100 * mean:.0f}% of items on average (lowest {100 * low:.0f}%), "
            "so the mapping carries most of the forecast"
        )
    if p.ladder_span is not None and p.ladder_span[0] < NARROW_LADDER:
        out.append(f"narrow ladder: the ladder spans as little as {p.ladder_span[0]:.1f}x in compute")
    if p.extrapolation[1] > LONG_EXTRAPOLATION:
        out.append(f"long extrapolation: targets up to {p.extrapolation[1]:.0f}x the largest ladder model's compute")
    bumpy, ladders = p.non_monotone
    if bumpy:
        out.append(
            f"non-monotone ladder: scores fall between consecutive ladder models on {bumpy} of {ladders} ladders"
        )
    below, pairs = p.target_below_ladder
    if below:
        out.append(
            f"target below the ladder: the target scores below the largest ladder model on {below} of {pairs} "
            "target/benchmark pairs, which no increasing trend can forecast"
        )
    if p.cod_signed_error is not None:
        direction = "over" if p.cod_signed_error > 0 else "under"
        out.append(
            f"COD {direction}-predicts on average: mean signed error {p.cod_signed_error:+.1f} points; it forecast a "
            f"mean gain of {p.cod_forecast_gain:+.1f} points over the largest ladder model where the measured gain "
            f"was {p.cod_measured_gain:+.1f}"
        )
    if p.cod_warnings:
        common = "; ".join(f"{n}x '{kind}'" for kind, n in p.cod_warnings.most_common(3))
        out.append(f"COD's own warnings on its forecasts: {common}")
    declined = sum(p.cod_declined.values())
    if declined:
        reasons = "; ".join(f"{n}x {reason}" for reason, n in p.cod_declined.most_common(3))
        out.append(f"COD declined {declined} of {p.cod_total} forecasts ({reasons})")
    if p.cod_failed:
        out.append(f"COD failed (raised) on {p.cod_failed} of {p.cod_total} forecasts")
    return out


@dataclass(frozen=True)
class Comparison:
    """COD against one baseline on one dataset, over the forecasts both made."""

    dataset: str
    baseline: str
    common: int
    cod_error: float | None
    baseline_error: float | None
    baseline_only: int

    @property
    def cod_loses(self) -> bool:
        if self.common:
            return self.baseline_error < self.cod_error
        return self.baseline_only > 0


def per_forecast(
    records: Sequence[BacktestRecord], method: str, value: str = "error"
) -> dict[tuple[str, str, str], float]:
    """``method``'s forecasts keyed by (case, target, benchmark), each giving the record's ``value`` attribute
    (``error`` or ``signed_error``): the keys on which two methods are compared pair for pair."""
    return {
        (r.case, r.target, r.benchmark): getattr(r, value)
        for r in records
        if r.method == method and r.status == FORECAST
    }


def compare_with_cod(result: BacktestResult, dataset: str) -> list[Comparison]:
    """COD against every other method on ``dataset`` (empty when COD is not among the methods)."""
    if COD not in result.methods:
        return []
    records = [r for r in result.records if r.dataset == dataset]
    cod = per_forecast(records, COD)
    out = []
    for method in result.methods:
        if method == COD:
            continue
        other = per_forecast(records, method)
        common = sorted(set(cod) & set(other))
        if not common and not other:
            continue
        out.append(
            Comparison(
                dataset=dataset,
                baseline=method,
                common=len(common),
                cod_error=float(np.mean([cod[k] for k in common])) if common else None,
                baseline_error=float(np.mean([other[k] for k in common])) if common else None,
                baseline_only=len(set(other) - set(cod)),
            )
        )
    return out


def cod_losses(result: BacktestResult) -> dict[str, tuple[list[Comparison], DatasetProfile, list[str]]]:
    """Per dataset where COD loses to at least one baseline: the losing comparisons, the profile, the conditions."""
    out = {}
    for dataset in datasets_of(result.records):
        losing = [c for c in compare_with_cod(result, dataset) if c.cod_loses]
        if losing:
            p = profile(result, dataset)
            out[dataset] = (losing, p, conditions(p))
    return out


@dataclass(frozen=True)
class PublishedRow:
    """The two-stage method's backtest error next to the published chained error, for one benchmark."""

    benchmark: str
    published: PublishedForecast
    truth: float | None
    error: float | None
    reason: str | None
    other_errors: dict[str, float | None]


def two_stage_vs_published(result: BacktestResult) -> list[PublishedRow] | None:
    """Rows for the OLMo comparison; None when the two-stage method or the OLMo paper case was not run."""
    if TWO_STAGE not in result.methods:
        return None
    records = [r for r in result.records if r.dataset == OLMO_DATASET and r.method == TWO_STAGE]
    paper = {r.benchmark: r for r in records if r.case == OLMO_PAPER_CASE and r.target == OLMO_PAPER_TARGET}
    if not paper:
        return None
    others = {(r.case, r.target): {} for r in records if (r.case, r.target) != (OLMO_PAPER_CASE, OLMO_PAPER_TARGET)}
    for r in records:
        if (r.case, r.target) in others:
            others[(r.case, r.target)][r.benchmark] = r.error
    rows = []
    for published in OLMO_CHAINED_13B:
        r = paper.get(published.benchmark)
        rows.append(
            PublishedRow(
                benchmark=published.benchmark,
                published=published,
                truth=None if r is None else r.truth,
                error=None if r is None else r.error,
                reason=None if r is None else r.reason,
                other_errors={
                    f"{case}, {target}": errs.get(published.benchmark) for (case, target), errs in others.items()
                },
            )
        )
    return rows
