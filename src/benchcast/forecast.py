"""Forecasts: run a method on every benchmark of a ladder and collect the answers with their context.

This is the library's main entry point (``benchcast.forecast``); the CLI is a thin call into it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchcast.data.ladder import Ladder, Selection
from benchcast.errors import BenchcastError, MethodError
from benchcast.methods import Method, MethodForecast, get_method
from benchcast.uncertainty import bootstrap


@dataclass
class BenchmarkForecast:
    """One benchmark's forecast, with the ladder it came from and the measured truth when known."""

    benchmark: str
    method: str
    forecast: float | None
    target: str | None
    target_compute: float
    ladder: list[dict[str, Any]]
    truth: float | None = None
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    declined: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def error(self) -> float | None:
        """Absolute error in points (0-100 scale) when both forecast and truth are known."""
        if self.forecast is None or self.truth is None:
            return None
        return abs(self.forecast - self.truth) * 100.0

    def to_dict(self, *, items: bool = True) -> dict[str, Any]:
        out = asdict(self)
        out["interval"] = {k: [float(v[0]), float(v[1])] for k, v in self.interval.items()}
        out["error_points"] = self.error
        if not items:
            out["details"] = {k: v for k, v in out["details"].items() if not k.startswith("item_")}
        return _plain(out)


def _plain(value: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable; NaN becomes null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Forecast:
    """Forecasts for several benchmarks of one target, keyed by benchmark."""

    benchmarks: dict[str, BenchmarkForecast]
    selection: Selection

    def to_dict(self, *, items: bool = True) -> dict[str, Any]:
        return {name: bf.to_dict(items=items) for name, bf in self.benchmarks.items()}

    def write_json(self, path: str | Path, *, items: bool = True) -> None:
        """Write ``{benchmark: {"forecast": <0..1>, ...details}}``, atomically (no half-written file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(items=items), indent=2))
        tmp.replace(path)


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(benchmark, done, total)`` while bootstrap replicates finish."""


def forecast_benchmark(
    ladder: Ladder,
    benchmark: str,
    method: Method,
    selection: Selection,
    *,
    n_bootstrap: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> BenchmarkForecast:
    """Fit ``method`` on one benchmark of the selected ladder and forecast the target compute.

    With ``n_bootstrap`` > 0 the forecast gets bootstrap prediction intervals (``benchcast.uncertainty``).
    """
    data = ladder.benchmark_ladder(benchmark, selection.ladder, selection.anchors)
    rows = [
        {"model": name, "compute": float(c), "score": float(s)}
        for name, c, s in zip(data.models, data.compute, data.scores, strict=True)
    ]
    truth = ladder.measured(selection.target, benchmark) if selection.target else None
    reason = method.applicable(data)
    size = {}
    if method.uses_target_size and selection.target:
        card = ladder.cards[selection.target]
        size = {"params": card.params, "tokens": card.tokens}
    answer = (
        MethodForecast(None, declined=reason) if reason else method.fit(data).forecast(selection.target_compute, **size)
    )
    if n_bootstrap > 0 and answer.value is not None and not method.own_intervals:
        result = bootstrap(
            method,
            data,
            selection.target_compute,
            n_samples=n_bootstrap,
            seed=seed,
            n_jobs=n_jobs,
            forecast_kwargs=size,
            progress=None if progress is None else lambda done: progress(benchmark, done, n_bootstrap),
        )
        if result.intervals:
            answer.interval = result.intervals
        answer.details["bootstrap"] = result.to_dict()
    return BenchmarkForecast(
        benchmark=benchmark,
        method=method.name,
        forecast=answer.value,
        target=selection.target,
        target_compute=selection.target_compute,
        ladder=rows,
        truth=truth,
        interval=dict(answer.interval),
        warnings=list(answer.warnings),
        declined=answer.declined,
        details=answer.details,
    )


def forecast(
    ladder: Ladder,
    *,
    target: str | None = None,
    compute: float | None = None,
    method: str | Method = "cod",
    benchmarks: Iterable[str] | None = None,
    ladder_models: Iterable[str] | None = None,
    anchors: Iterable[str] | None = None,
    n_bootstrap: int = 0,
    seed: int = 0,
    n_jobs: int = 1,
    progress: ProgressCallback | None = None,
    **method_params: Any,
) -> Forecast:
    """Forecast every benchmark (or the named ones) of ``ladder`` for a target model or compute.

    ``n_bootstrap`` replicates give prediction intervals (0 = none); ``seed`` makes them reproducible and
    ``n_jobs`` spreads them over cores.

    Examples
    --------
    >>> from benchcast.datasets import load_dataset
    >>> ladder = load_dataset("pythia-arithmetic")
    >>> result = forecast(ladder, target="pythia-13b-deduped", benchmarks=["arithmetic_addition_16shot"])
    >>> 0.0 <= result.benchmarks["arithmetic_addition_16shot"].forecast <= 1.0
    True
    """
    selection = ladder.select(target, compute, ladder=ladder_models, anchors=anchors)
    if not selection.ladder:
        raise MethodError("no ladder models: give models with role 'ladder' or below the target's compute")
    chosen = list(benchmarks) if benchmarks is not None else ladder.benchmarks
    unknown = sorted(set(chosen) - set(ladder.benchmarks))
    if unknown:
        raise BenchcastError(f"unknown benchmark {unknown[0]!r}; known: {', '.join(ladder.benchmarks)}")
    out = {}
    for benchmark in chosen:
        instance = method if isinstance(method, Method) else get_method(method, **method_params)
        out[benchmark] = forecast_benchmark(
            ladder, benchmark, instance, selection, n_bootstrap=n_bootstrap, seed=seed, n_jobs=n_jobs, progress=progress
        )
    return Forecast(out, selection)
