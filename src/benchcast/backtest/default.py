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


def _errors(records: Sequence[BacktestRecord], method: str) -> dict[tuple[str, str, str], float]:
    return {(r.case, r.target, r.benchmark): r.error for r in records if r.method == method and r.status == FORECAST}


def _biases(records: Sequence[BacktestRecord], method: str) -> dict[tuple[str, str, str], float]:
    return {
        (r.case, r.target, r.benchmark): 100.0 * (r.forecast - r.truth)
        for r in records
        if r.method == method and r.status == FORECAST
    }


def paired_with_auto(records: Sequence[BacktestRecord], methods: Sequence[str]) -> list[Paired]:
    """``auto`` against each other method in ``methods`` on the forecasts both made (records of one dataset
    or of several: keys include the case)."""
    auto, auto_bias = _errors(records, AUTO), _biases(records, AUTO)
    out = []
    for method in methods:
        if method == AUTO:
            continue
        other, other_bias = _errors(records, method), _biases(records, method)
        common = sorted(set(auto) & set(other))

        def mean(values: dict, keys=common) -> float | None:
            return float(np.mean([values[k] for k in keys])) if keys else None

        out.append(Paired(method, len(common), mean(auto), mean(other), mean(auto_bias), mean(other_bias)))
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


def choices(records: Sequence[BacktestRecord]) -> Counter[str]:
    """How often ``auto`` chose each method (or a weighted mix) among its forecasts."""
    return Counter(
        r.labels.get("chosen_method", "unknown") for r in records if r.method == AUTO and r.status == FORECAST
    )
