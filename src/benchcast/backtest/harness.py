"""The backtest harness: hold out each target, fit every method on the ladder alone, score the forecast.

The work is split into independent tasks, one per (case, benchmark): a task gets the benchmark's
``BenchmarkLadder`` built from the case's ladder models only (targets never enter it), fits each method once and
forecasts every target of the case from that one fit - a fit sees only the ladder, so it is the same for every
target. ``auto`` reuses the task's fits of its candidates. Tasks share nothing, so they run in any order and in
parallel (joblib); the records are sorted at the end, so the result does not depend on ``n_jobs``.

A method that declines (``Method.applicable`` or ``MethodForecast.declined``) yields a *skipped* record with
its reason; a method that raises yields a *failed* record with the exception. Neither counts as an error.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchcast.auto import Auto
from benchcast.backtest.cases import BacktestCase
from benchcast.data.ladder import BenchmarkLadder
from benchcast.diagnostics import Validation, extrapolation_error, validate
from benchcast.methods import Method, MethodForecast, get_method, method_names
from benchcast.uncertainty import BootstrapResult, bootstrap_targets, widen

FORECAST, SKIPPED, FAILED = "forecast", "skipped", "failed"
LEVELS = ("80", "95")


@dataclass(frozen=True)
class Target:
    """A held-out model: its name, compute, size and measured score on the task's benchmark."""

    name: str
    compute: float
    truth: float | None
    params: float | None = None
    tokens: float | None = None


@dataclass(frozen=True)
class BacktestTask:
    """One unit of work: fit each of ``methods`` on ``data`` (the ladder only) and forecast each target."""

    dataset: str
    case: str
    benchmark: str
    methods: tuple[str, ...]
    data: BenchmarkLadder
    targets: tuple[Target, ...]
    n_bootstrap: int = 0
    seed: int = 0

    @property
    def cost(self) -> float:
        """A rough size, to start the heaviest tasks first."""
        return float(self.data.n_items * max(1, self.data.n_models) * len(self.methods))


@dataclass
class BacktestRecord:
    """One method's forecast of one target on one benchmark, with the truth it is judged against."""

    dataset: str
    case: str
    target: str
    benchmark: str
    method: str
    target_compute: float
    truth: float | None
    forecast: float | None = None
    declined: str | None = None
    failed: str | None = None
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    n_ladder: int = 0
    n_items: int = 0
    trials_per_item: float | None = None
    ladder_last: float | None = None
    ladder_monotone: bool | None = None
    extrapolation: float = math.nan
    fit_seconds: float = 0.0
    forecast_seconds: float = 0.0
    interval_seconds: float = 0.0
    """Bootstrap and hold-out validation time for the method on this benchmark, shared by its targets' records
    like ``fit_seconds``."""
    diagnostics: dict[str, float] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    reliable: bool | None = None

    @property
    def status(self) -> str:
        if self.failed is not None:
            return FAILED
        if self.forecast is None or self.truth is None:
            return SKIPPED
        return FORECAST

    @property
    def reason(self) -> str | None:
        """Why there is no forecast: the method's declined reason, the failure, or a missing truth."""
        if self.failed is not None:
            return f"failed: {self.failed}"
        if self.declined is not None:
            return self.declined
        if self.truth is None:
            return "the target has no measured score on this benchmark"
        if self.forecast is None:
            return "no forecast returned"
        return None

    @property
    def signed_error(self) -> float | None:
        """Forecast minus truth in points (0-100 scale): negative when the forecast fell short."""
        if self.status != FORECAST:
            return None
        return (float(self.forecast) - float(self.truth)) * 100.0

    @property
    def error(self) -> float | None:
        """Absolute error in points (0-100 scale)."""
        return None if self.status != FORECAST else abs(self.signed_error)

    def covered(self, level: str) -> bool | None:
        if self.status != FORECAST or level not in self.interval:
            return None
        low, high = self.interval[level]
        return bool(low <= self.truth <= high)

    def width(self, level: str) -> float | None:
        """Interval width in points."""
        if self.status != FORECAST or level not in self.interval:
            return None
        low, high = self.interval[level]
        return (high - low) * 100.0

    def interval_score(self, level: str) -> float | None:
        """Winkler's interval score in points: the width, plus 2/alpha times any miss beyond the interval
        (alpha = 1 - level). Lower is better; it rewards sharp intervals only while they keep the truth.

        Examples
        --------
        >>> r = BacktestRecord("d", "c", "t", "b", "m", 1.0, truth=0.5, forecast=0.5, interval={"80": (0.55, 0.65)})
        >>> round(r.interval_score("80"), 6)  # 10 points wide, 5 points short: 10 + 2 / 0.2 * 5
        60.0
        """
        if self.status != FORECAST or level not in self.interval:
            return None
        low, high = self.interval[level]
        alpha = 1.0 - float(level) / 100.0
        miss = max(low - self.truth, 0.0) + max(self.truth - high, 0.0)
        return 100.0 * ((high - low) + 2.0 / alpha * miss)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "dataset": self.dataset,
            "case": self.case,
            "target": self.target,
            "benchmark": self.benchmark,
            "method": self.method,
            "status": self.status,
            "truth": self.truth,
            "forecast": self.forecast,
            "error_points": self.error,
            "reason": self.reason,
            "interval": {level: [float(lo), float(hi)] for level, (lo, hi) in self.interval.items()},
            "warnings": list(self.warnings),
            "target_compute": self.target_compute,
            "n_ladder": self.n_ladder,
            "n_items": self.n_items,
            "trials_per_item": self.trials_per_item,
            "ladder_last": self.ladder_last,
            "ladder_monotone": self.ladder_monotone,
            "extrapolation": self.extrapolation,
            "fit_seconds": self.fit_seconds,
            "forecast_seconds": self.forecast_seconds,
            "interval_seconds": self.interval_seconds,
            "diagnostics": dict(self.diagnostics),
            "labels": dict(self.labels),
            "reliable": self.reliable,
        }
        return json_ready(out)


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _diagnostics(details: dict[str, Any]) -> dict[str, float]:
    """The scalar numbers among a method's details (predictable share, cluster count, ...), and those one level
    down, named ``outer.inner`` (e.g. ``auto``'s ``candidates.powerlaw`` and ``holdout_errors.powerlaw``)."""
    out = {}
    for key, value in details.items():
        if _number(value):
            out[str(key)] = float(value)
        elif isinstance(value, dict):
            out.update({f"{key}.{inner}": float(v) for inner, v in value.items() if _number(v)})
    return out


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    return math.isfinite(float(value))


def _reliable(details: dict[str, Any]) -> bool | None:
    value = details.get("reliable")
    return value if isinstance(value, bool) else None


def _trials_per_item(data: BenchmarkLadder) -> float | None:
    finite = data.trials[np.isfinite(data.trials)]
    return float(np.median(finite)) if finite.size else None


def run_task(task: BacktestTask) -> list[BacktestRecord]:
    """Every method of the task, fitted once each; never raises (a failure becomes a ``failed`` record).

    ``auto`` (any method that combines others: an ``Auto``) runs last and reuses the fits and ladder-internal
    validations the task has already made of its candidates on the same ladder: they are what it would compute
    itself, so its forecast is unchanged and the work is not done twice.
    """
    combines = {name for name in task.methods if isinstance(get_method(name), Auto)}
    fitted: dict[str, Method] = {}
    validated: dict[str, Validation] = {}
    out = []
    for name in sorted(task.methods, key=lambda name: name in combines):
        out.extend(_run_method(name, task, fitted, validated, validate_all=bool(combines)))
    return out


def _run_method(
    name: str, task: BacktestTask, fitted: dict[str, Method], validated: dict[str, Validation], *, validate_all: bool
) -> list[BacktestRecord]:
    data = task.data
    largest = float(np.max(data.compute)) if data.n_models else math.nan
    common = {
        "dataset": task.dataset,
        "case": task.case,
        "benchmark": task.benchmark,
        "method": name,
        "n_ladder": data.n_models,
        "n_items": data.n_items,
        "trials_per_item": _trials_per_item(data),
        "ladder_last": float(data.scores[-1]) if data.n_models else None,
        "ladder_monotone": bool(np.all(np.diff(data.scores) >= 0)) if data.n_models else None,
    }

    def record(target: Target, **fields: Any) -> BacktestRecord:
        return BacktestRecord(
            target=target.name,
            target_compute=target.compute,
            truth=target.truth,
            extrapolation=target.compute / largest if largest > 0 else math.nan,
            **common,
            **fields,
        )

    start = time.perf_counter()
    try:
        method = get_method(name)
        reason = method.applicable(data)
        if reason:
            return [record(t, declined=reason, fit_seconds=time.perf_counter() - start) for t in task.targets]
        if isinstance(method, Auto):
            method.fit(data, fitted=fitted, validated=validated)
        else:
            fitted[name] = method.fit(data)
    except Exception as error:  # a broken method must not stop the backtest; the record says what happened
        return [record(t, failed=_describe(error), fit_seconds=time.perf_counter() - start) for t in task.targets]
    fit_seconds = time.perf_counter() - start
    bootstrapped = _bootstrap(method, task)
    if not isinstance(method, Auto) and (bootstrapped is not None or validate_all):
        validated[name] = validate(method, data)
    interval_seconds = time.perf_counter() - start - fit_seconds
    out = []
    for i, target in enumerate(task.targets):
        begin = time.perf_counter()
        try:
            answer = method.forecast(target.compute, **_size(method, target))
        except Exception as error:
            out.append(
                record(
                    target,
                    failed=_describe(error),
                    fit_seconds=fit_seconds,
                    forecast_seconds=time.perf_counter() - begin,
                )
            )
            continue
        value = answer.value
        if value is not None and not math.isfinite(float(value)):
            answer = MethodForecast(None, declined="the method returned a non-finite forecast")
            value = None
        interval = answer.interval
        if bootstrapped is not None and value is not None:
            error = extrapolation_error(data, validated[name], target.compute, float(value))
            interval = widen(float(value), bootstrapped[i], error)
        out.append(
            record(
                target,
                forecast=None if value is None else float(value),
                declined=answer.declined if value is None else None,
                interval={str(k): (float(lo), float(hi)) for k, (lo, hi) in interval.items()},
                warnings=list(answer.warnings),
                diagnostics=_diagnostics(answer.details),
                labels={k: v for k, v in answer.details.items() if isinstance(v, str)},
                reliable=_reliable(answer.details),
                fit_seconds=fit_seconds,
                interval_seconds=interval_seconds,
                forecast_seconds=time.perf_counter() - begin,
            )
        )
    return out


def _size(method: Method, target: Target) -> dict[str, float | None]:
    if getattr(method, "uses_target_size", False):
        return {"params": target.params, "tokens": target.tokens}
    return {}


def _bootstrap(method: Method, task: BacktestTask) -> list[BootstrapResult] | None:
    """Bootstrap replicates for every target from one set of refits, or None (no bootstrap asked for, or the
    method gives its own intervals)."""
    if task.n_bootstrap <= 0 or getattr(method, "own_intervals", False) or getattr(method, "declined_", None):
        return None
    targets = [(t.compute, _size(method, t)) for t in task.targets]
    return bootstrap_targets(method, task.data, targets, n_samples=task.n_bootstrap, seed=task.seed)


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


def build_tasks(
    cases: Sequence[BacktestCase], methods: Sequence[str], *, n_bootstrap: int = 0, seed: int = 0
) -> list[BacktestTask]:
    """Every (case, benchmark) task, with the benchmark ladders built from ladder models only."""
    tasks = []
    for case in cases:
        held_out = set(case.targets)
        for benchmark in case.case_benchmarks():
            data = case.ladder.benchmark_ladder(benchmark, case.ladder_models, case.anchors)
            if held_out & (set(data.models) | set(data.anchors)):
                raise AssertionError(f"{case.label}: a target entered the ladder of {benchmark!r}")
            targets = tuple(
                Target(
                    name=name,
                    compute=case.compute(name),
                    truth=case.ladder.measured(name, benchmark),
                    params=case.ladder.cards[name].params,
                    tokens=case.ladder.cards[name].tokens,
                )
                for name in case.targets
            )
            tasks.append(
                BacktestTask(case.dataset, case.name, benchmark, tuple(methods), data, targets, n_bootstrap, seed)
            )
    return tasks


@dataclass
class BacktestResult:
    """All records of a backtest, the cases behind them, and how it was run."""

    records: list[BacktestRecord]
    cases: list[dict[str, Any]]
    methods: list[str]
    seconds: float
    n_jobs: int
    command: str | None = None
    n_bootstrap: int = 0

    def frame(self):  # -> pandas.DataFrame
        """One row per record (intervals flattened to ``low80``/``high80``/...)."""
        import pandas as pd

        rows = []
        for r in self.records:
            row = {
                "dataset": r.dataset,
                "case": r.case,
                "target": r.target,
                "benchmark": r.benchmark,
                "method": r.method,
                "status": r.status,
                "truth": r.truth,
                "forecast": r.forecast,
                "error_points": r.error,
            }
            for level in LEVELS:
                low, high = r.interval.get(level, (None, None))
                row[f"low{level}"], row[f"high{level}"] = low, high
                row[f"covered{level}"] = r.covered(level)
            row.update(
                {
                    "reason": r.reason,
                    "n_ladder": r.n_ladder,
                    "n_items": r.n_items,
                    "trials_per_item": r.trials_per_item,
                    "ladder_last": r.ladder_last,
                    "ladder_monotone": r.ladder_monotone,
                    "extrapolation": r.extrapolation,
                    "predictable_share": r.diagnostics.get("predictable_share"),
                    "fit_seconds": r.fit_seconds,
                    "forecast_seconds": r.forecast_seconds,
                    "interval_seconds": r.interval_seconds,
                    "chosen_method": r.labels.get("chosen_method"),
                    "regime": r.labels.get("regime"),
                    "reliable": r.reliable,
                    "warnings": " | ".join(r.warnings),
                }
            )
            rows.append(row)
        return pd.DataFrame(rows)


ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each task."""


def run_backtest(
    cases: Iterable[BacktestCase],
    methods: Sequence[str] | None = None,
    *,
    n_jobs: int = 1,
    n_bootstrap: int = 0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    command: str | None = None,
) -> BacktestResult:
    """Backtest ``methods`` (default: every registered method) on ``cases``.

    Examples
    --------
    >>> from benchcast.backtest import BacktestCase, run_backtest
    >>> from benchcast.simulate import simulate_ladder
    >>> sim = simulate_ladder(n_items=200, n_models=5, trials=20, seed=0)
    >>> case = BacktestCase("sim", "demo", sim.ladder, sim.ladder_models, (sim.target,)).resolve()
    >>> result = run_backtest([case], ["last"])
    >>> record = result.records[0]
    >>> round(record.error, 6) == round(abs(record.forecast - record.truth) * 100, 6)
    True
    """
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive number of workers or -1, got {n_jobs}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    cases = [case.resolve() for case in cases]
    chosen = list(methods) if methods else method_names()
    for name in chosen:
        get_method(name)  # unknown names fail here, before any work
    start = time.perf_counter()
    tasks = sorted(build_tasks(cases, chosen, n_bootstrap=n_bootstrap, seed=seed), key=lambda t: -t.cost)
    records: list[BacktestRecord] = []
    total = len(tasks)
    if n_jobs == 1:
        for done, task in enumerate(tasks, start=1):
            records.extend(run_task(task))
            if progress is not None:
                progress(done, total)
    else:
        from joblib import Parallel, delayed

        runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for done, batch in enumerate(runner(delayed(run_task)(task) for task in tasks), start=1):
            records.extend(batch)
            if progress is not None:
                progress(done, total)
    order = {name: i for i, name in enumerate(chosen)}
    case_order = {(c.dataset, c.name): i for i, c in enumerate(cases)}
    target_order = {(c.dataset, c.name, t): i for c in cases for i, t in enumerate(c.targets)}
    records.sort(
        key=lambda r: (
            case_order[(r.dataset, r.case)],
            target_order[(r.dataset, r.case, r.target)],
            r.benchmark,
            order[r.method],
        )
    )
    return BacktestResult(
        records=records,
        cases=[case.summary() for case in cases],
        methods=chosen,
        seconds=time.perf_counter() - start,
        n_jobs=n_jobs,
        command=command,
        n_bootstrap=n_bootstrap,
    )
