"""Score other error models for ``auto``'s intervals on the public suite (issue #14: sharper at the same coverage).

    python benchmarks/auto_interval_models.py            # every public dataset, markdown table

``auto`` is fitted once per (case, benchmark) of the public suite; each row below rebuilds its 80% and 95%
intervals around the same forecast from another half-width ("sigma"), made of the parts ``auto`` reports in
``details["spread_parts"]`` and of the held-out residuals it validated its candidates on. Nothing is fitted to
the truths: every model is a fixed formula, and the table shows what each would have given. The rules that
``auto`` applies on top of its sigma (one or two models, pre-emergence, a non-monotone top) are kept as they are.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed

from benchcast.auto import Auto, Z
from benchcast.backtest.cases import public_suite
from benchcast.backtest.harness import BacktestTask, build_tasks
from benchcast.diagnostics import MAX_DISTANCE_RATIO, NON_MONOTONE


@dataclass(frozen=True)
class Case:
    dataset: str
    truth: float
    value: float
    interval: dict[str, tuple[float, float]]
    parts: dict[str, float] | None
    regime: str
    top_spread: float
    raw_ratio: float
    ensemble_in: float | None
    ensemble_cv: float | None


def _ensemble_error(model: Auto, noise: float, *, cross: bool) -> float | None:
    """Root-mean-square error of ``auto``'s own weighted mean on its held-out models. With ``cross``, each hold-out
    is scored with weights from the other hold-out only (the errors are then out of sample)."""
    ladder, holdouts = model.ladder_, model.holdouts_
    scores, n = ladder.scores, ladder.n_models

    def residuals(name: str, k: int) -> np.ndarray | None:
        if name == "last":
            return np.full(k, scores[n - k - 1]) - scores[n - k :]
        predicted = model.validated_[name].get(k)
        return None if predicted is None else np.asarray(predicted) - scores[n - k :]

    names = ["last", *model.methods_]
    out = []
    for k in holdouts:
        rest = [other for other in holdouts if other != k] if cross and len(holdouts) > 1 else holdouts
        weights, combined = {}, {}
        for name in names:
            here = residuals(name, k)
            seen = [residuals(name, other) for other in rest]
            if here is None or any(r is None for r in seen):
                continue
            error = float(np.mean(np.abs(np.concatenate(seen))))
            last = float(np.mean(np.abs(np.concatenate([residuals("last", other) for other in rest]))))
            if name != "last" and error > last:
                continue
            weights[name], combined[name] = 1.0 / (error**2 + noise**2), here
        total = sum(weights.values())
        out.append(sum(weights[name] * combined[name] for name in weights) / total)
    return float(np.sqrt(np.mean(np.concatenate(out) ** 2))) if out else None


def _run(task: BacktestTask) -> list[Case]:
    model = Auto().fit(task.data)
    ladder = task.data
    out = []
    for target in task.targets:
        answer = model.forecast(target.compute, params=target.params, tokens=target.tokens)
        details = answer.details
        parts = details.get("spread_parts")
        raw = math.nan
        ens_in = ens_cv = None
        if parts is not None:
            held = math.log(ladder.compute[-1] / ladder.compute[-1 - max(model.holdouts_)])
            raw = math.log(max(target.compute, ladder.compute[-1]) / ladder.compute[-1]) / held
            ens_in = _ensemble_error(model, parts["noise"], cross=False)
            ens_cv = _ensemble_error(model, parts["noise"], cross=True)
        out.append(
            Case(
                task.dataset,
                float(target.truth),
                float(answer.value),
                {k: (float(lo), float(hi)) for k, (lo, hi) in answer.interval.items()},
                parts,
                details["regime"],
                float(np.ptp(ladder.scores[-3:])),
                raw,
                ens_in,
                ens_cv,
            )
        )
    return out


def _capped(ratio: float) -> float:
    return min(MAX_DISTANCE_RATIO, max(1.0, ratio))


MODELS: dict[str, Callable[[Case], float]] = {
    "auto (hold-out x ratio, between, noise)": lambda c: math.hypot(
        c.parts["holdout_error"] * _capped(c.raw_ratio), c.parts["between_candidates"], c.parts["noise"]
    ),
    "without the spread between candidates": lambda c: math.hypot(
        c.parts["holdout_error"] * _capped(c.raw_ratio), c.parts["noise"]
    ),
    "... and the ratio uncapped": lambda c: math.hypot(
        c.parts["holdout_error"] * max(1.0, c.raw_ratio), c.parts["noise"]
    ),
    "error growing as sqrt(distance)": lambda c: math.hypot(
        c.parts["holdout_error"] * max(1.0, math.sqrt(c.raw_ratio)), c.parts["between_candidates"], c.parts["noise"]
    ),
    "max(hold-out x ratio, between)": lambda c: math.hypot(
        max(c.parts["holdout_error"] * _capped(c.raw_ratio), c.parts["between_candidates"]), c.parts["noise"]
    ),
    "the combination's own hold-out error x ratio": lambda c: math.hypot(
        c.ensemble_in * _capped(c.raw_ratio), c.parts["noise"]
    ),
    "... with cross-validated weights": lambda c: math.hypot(c.ensemble_cv * _capped(c.raw_ratio), c.parts["noise"]),
    "auto x 0.85": lambda c: 0.85 * MODELS["auto (hold-out x ratio, between, noise)"](c),
    "auto x 0.7": lambda c: 0.7 * MODELS["auto (hold-out x ratio, between, noise)"](c),
}


def _interval(case: Case, sigma: Callable[[Case], float] | None) -> dict[str, tuple[float, float]]:
    if sigma is None or case.parts is None or case.ensemble_in is None:
        return case.interval
    spread = sigma(case)
    if case.regime == NON_MONOTONE:
        spread = max(spread, case.top_spread)
    return {level: (max(0.0, case.value - z * spread), min(1.0, case.value + z * spread)) for level, z in Z.items()}


def _score(cases: list[Case], sigma: Callable[[Case], float] | None) -> list[float]:
    """80% width, coverage, 95% width, coverage, 80% and 95% interval (Winkler) scores, in points and %."""
    rows = []
    for case in cases:
        interval = _interval(case, sigma)
        row = []
        for level, alpha in (("80", 0.2), ("95", 0.05)):
            low, high = interval[level]
            miss = max(0.0, low - case.truth, case.truth - high)
            row += [100 * (high - low), 100.0 * (miss == 0), 100 * (high - low + 2 / alpha * miss)]
        rows.append(row)
    width80, cover80, score80, width95, cover95, score95 = np.mean(rows, axis=0)
    return [width80, cover80, width95, cover95, score80, score95]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    tasks = build_tasks(public_suite(), ["auto"])
    cases = [case for batch in Parallel(n_jobs=args.jobs)(delayed(_run)(task) for task in tasks) for case in batch]
    print(f"{len(cases)} forecasts\n")
    print("| error model | 80% width | in 80% (%) | 95% width | in 95% (%) | 80% score | 95% score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("| as reported | " + " | ".join(f"{v:.1f}" for v in _score(cases, None)) + " |")
    for name, sigma in MODELS.items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in _score(cases, sigma)) + " |")


if __name__ == "__main__":
    main()
