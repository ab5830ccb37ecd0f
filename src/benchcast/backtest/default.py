"""How the default forecaster (``auto``) fared: against every single method on the forecasts both made, and
whether its reliability verdicts carry information.

Methods skip different benchmarks, so their plain means cover different forecasts; the fair comparison of
``auto`` with a method is on the (case, target, benchmark) triples both forecast. A verdict carries
information when the forecasts it marks unreliable miss by more, on average, than those it marks reliable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchcast.backtest.analysis import per_forecast
from benchcast.backtest.harness import FORECAST, BacktestRecord

AUTO = "auto"


@dataclass(frozen=True)
class Paired:
    """``auto`` against one method over the forecasts both made; ``*_bias`` is the mean signed error (forecast
    minus truth, points): negative means the forecasts fell short of the truth."""

    method: str
    common: int
    auto_error: float | None
    method_error: float | None
    auto_bias: float | None = None
    method_bias: float | None = None

    @property
    def auto_wins(self) -> bool | None:
        if not self.common:
            return None
        return self.auto_error < self.method_error


def paired_with_auto(records: Sequence[BacktestRecord], methods: Sequence[str]) -> list[Paired]:
    """``auto`` against each other method in ``methods`` on the forecasts both made (records of one dataset
    or of several: keys include the case)."""
    auto, auto_bias = per_forecast(records, AUTO), per_forecast(records, AUTO, "signed_error")
    out = []
    for method in methods:
        if method == AUTO:
            continue
        other, other_bias = per_forecast(records, method), per_forecast(records, method, "signed_error")
        common = sorted(set(auto) & set(other))
        means = [
            float(np.mean([v[k] for k in common])) if common else None for v in (auto, other, auto_bias, other_bias)
        ]
        out.append(Paired(method, len(common), *means))
    return out


@dataclass(frozen=True)
class VerdictGroup:
    """``auto``'s forecasts with one verdict (reliable or not): how many, and how far they missed."""

    reliable: bool
    count: int
    mean_error: float | None
    median_error: float | None
    regimes: Counter[str]


def verdict_split(records: Sequence[BacktestRecord]) -> list[VerdictGroup]:
    """``auto``'s forecasts grouped by its own reliability verdict."""
    out = []
    for reliable in (True, False):
        chosen = [r for r in records if r.method == AUTO and r.status == FORECAST and r.reliable is reliable]
        errors = [r.error for r in chosen]
        out.append(
            VerdictGroup(
                reliable=reliable,
                count=len(chosen),
                mean_error=float(np.mean(errors)) if errors else None,
                median_error=float(np.median(errors)) if errors else None,
                regimes=Counter(r.labels.get("regime", "unknown") for r in chosen),
            )
        )
    return out


@dataclass(frozen=True)
class RegimeIntervals:
    """``auto``'s forecasts in one regime: how far they missed, and how often and how widely their intervals
    held the truth (a calibrated method covers about 80% and 95% in every regime, not only on average)."""

    regime: str
    count: int
    mean_error: float
    covered80: float | None
    covered95: float | None
    width80: float | None


def regime_intervals(records: Sequence[BacktestRecord]) -> list[RegimeIntervals]:
    """``auto``'s forecasts grouped by the regime the diagnostics named, the most frequent first."""
    chosen = [r for r in records if r.method == AUTO and r.status == FORECAST]
    regimes = Counter(r.labels.get("regime", "unknown") for r in chosen)
    out = []
    for regime, count in regimes.most_common():
        group = [r for r in chosen if r.labels.get("regime", "unknown") == regime]

        def mean(values: list[float | bool | None]) -> float | None:
            known = [float(v) for v in values if v is not None]
            return float(np.mean(known)) if known else None

        out.append(
            RegimeIntervals(
                regime,
                count,
                float(np.mean([r.error for r in group])),
                mean([r.covered("80") for r in group]),
                mean([r.covered("95") for r in group]),
                mean([r.width("80") for r in group]),
            )
        )
    return out


def choices(records: Sequence[BacktestRecord]) -> Counter[str]:
    """How often ``auto`` chose each method (or a weighted mix) among its forecasts."""
    return Counter(
        r.labels.get("chosen_method", "unknown") for r in records if r.method == AUTO and r.status == FORECAST
    )
