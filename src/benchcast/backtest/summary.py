"""Numbers that summarise a backtest: error per method (per dataset and overall), interval coverage, skips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from benchcast.backtest.harness import FAILED, FORECAST, LEVELS, SKIPPED, BacktestRecord

ALL = "all"


@dataclass(frozen=True)
class MethodSummary:
    """One method's results on one dataset (``dataset == "all"``: every dataset pooled).

    Errors are absolute, in points. Coverage is the share of forecasts with an interval whose truth fell
    inside it; widths are mean interval widths in points; scores are mean Winkler interval scores in points
    (width plus 2/alpha times each miss: sharpness and coverage in one number, lower is better).
    """

    dataset: str
    method: str
    forecasts: int
    skipped: int
    failed: int
    mean_error: float | None
    max_error: float | None
    median_error: float | None
    with_interval: int
    coverage80: float | None
    coverage95: float | None
    width80: float | None
    width95: float | None
    score80: float | None
    score95: float | None
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def summarise_records(dataset: str, method: str, records: Sequence[BacktestRecord]) -> MethodSummary:
    errors = [r.error for r in records if r.status == FORECAST]
    coverage, widths, scores = {}, {}, {}
    for level in LEVELS:
        hits = [r.covered(level) for r in records if r.covered(level) is not None]
        coverage[level] = _mean([float(hit) for hit in hits])
        widths[level] = _mean([r.width(level) for r in records if r.width(level) is not None])
        scores[level] = _mean([r.interval_score(level) for r in records if r.interval_score(level) is not None])
    return MethodSummary(
        dataset=dataset,
        method=method,
        forecasts=len(errors),
        skipped=sum(r.status == SKIPPED for r in records),
        failed=sum(r.status == FAILED for r in records),
        mean_error=_mean(errors),
        max_error=float(np.max(errors)) if errors else None,
        median_error=float(np.median(errors)) if errors else None,
        with_interval=sum(bool(r.interval) for r in records if r.status == FORECAST),
        coverage80=coverage["80"],
        coverage95=coverage["95"],
        width80=widths["80"],
        width95=widths["95"],
        score80=scores["80"],
        score95=scores["95"],
        seconds=compute_seconds(records),
    )


def compute_seconds(records: Sequence[BacktestRecord]) -> float:
    """Time spent: each task's one fit and bootstrap (shared by its targets' records) plus every forecast."""
    fits = {(r.dataset, r.case, r.benchmark, r.method): r.fit_seconds + r.interval_seconds for r in records}
    return float(sum(fits.values()) + sum(r.forecast_seconds for r in records))


def datasets_of(records: Iterable[BacktestRecord]) -> list[str]:
    return list(dict.fromkeys(r.dataset for r in records))


def summarise(
    records: Sequence[BacktestRecord], methods: Sequence[str], *, overall: bool = True
) -> list[MethodSummary]:
    """Per (dataset, method) summaries in dataset then method order; with ``overall`` also every dataset pooled."""
    out = []
    groups = [*datasets_of(records), *([ALL] if overall else [])]
    for dataset in groups:
        chosen = [r for r in records if dataset in (ALL, r.dataset)]
        for method in methods:
            these = [r for r in chosen if r.method == method]
            if these:
                out.append(summarise_records(dataset, method, these))
    return out


def skip_reasons(records: Sequence[BacktestRecord]) -> dict[tuple[str, str], Counter[str]]:
    """(dataset, method) -> how often each reason for a missing forecast occurred."""
    out: dict[tuple[str, str], Counter[str]] = {}
    for r in records:
        if r.status != FORECAST:
            out.setdefault((r.dataset, r.method), Counter())[r.reason or "unknown"] += 1
    return out
