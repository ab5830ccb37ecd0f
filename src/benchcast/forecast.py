"""Forecasts: run a method on every benchmark of a ladder and collect the answers with their context.

This is the library's main entry point (``benchcast.forecast``); the CLI is a thin call into it.
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from benchcast.data.ladder import BenchmarkLadder, Ladder, Selection
from benchcast.diagnostics import (
    THREADED_MIN_ITEMS,
    BackgroundValidation,
    Validation,
    extrapolation_error,
    validate_and_fit,
)
from benchcast.errors import BenchcastError, InputError, MethodError
from benchcast.methods import Method, MethodForecast, clone, get_method
from benchcast.uncertainty import bootstrap, widen


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
        """The JSON form. Without ``items`` the per-item details (``item_*`` keys, also in a candidate's own
        details such as ``auto``'s ``details["cod"]``) are left out: they grow with the benchmark, the rest not."""
        # not ``asdict``: it deep-copies every per-item list only for ``_plain`` to copy it again
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["interval"] = {k: [float(v[0]), float(v[1])] for k, v in self.interval.items()}
        out["error_points"] = self.error
        if not items:
            out["details"] = _without_items(self.details)
        return _plain(out)


def _without_items(details: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_items(v) if isinstance(v, dict) else v for k, v in details.items() if not k.startswith("item_")}


def _plain(value: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable; NaN becomes null."""
    if type(value) is float:  # the commonest value first: per-item lists hold hundreds of thousands
        return value if math.isfinite(value) else None
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
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    return value


@dataclass
class Forecast:
    """Forecasts for several benchmarks of one target, keyed by benchmark."""

    benchmarks: dict[str, BenchmarkForecast]
    selection: Selection

    def to_dict(self, *, items: bool = True) -> dict[str, Any]:
        return {name: bf.to_dict(items=items) for name, bf in self.benchmarks.items()}

    def write_json(self, path: str | Path, *, items: bool = False) -> None:
        """Write ``{benchmark: {"forecast": <0..1>, ...details}}``, atomically (no half-written file).

        Per-item details (COD's cluster label and class of every item, the item map) only with ``items``: on a
        large benchmark they are nearly all of the file and of the time spent writing it, and only the report's
        item map reads them."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.to_dict(items=items), indent=2))
            tmp.replace(path)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write: {error.strerror or error}", path=path) from None


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)``: with ``FITTING`` as benchmarks are fitted (done of total
benchmarks), then with a benchmark's name while its bootstrap replicates finish."""

FITTING = "fitting"
"""The progress label of the fits, which come before any bootstrap and on a large benchmark take seconds."""


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
    job = _Job.prepare(ladder, benchmark, method, selection)
    method, answer, validation = _fit_and_forecast(job, validating=n_bootstrap > 0)
    return job.finish(method, answer, validation, n_bootstrap=n_bootstrap, seed=seed, n_jobs=n_jobs, progress=progress)


@dataclass
class _Job:
    """One benchmark's forecast, split so that fits can run in worker processes: what a fit needs travels
    (the benchmark's ``BenchmarkLadder``, not the whole results table), the answer is assembled at home."""

    benchmark: str
    method: Method
    data: BenchmarkLadder
    target: str | None
    target_compute: float
    truth: float | None
    size: dict[str, float | None]

    @classmethod
    def prepare(cls, ladder: Ladder, benchmark: str, method: Method, selection: Selection) -> _Job:
        size = {}
        if method.uses_target_size and selection.target:
            card = ladder.cards[selection.target]
            size = {"params": card.params, "tokens": card.tokens}
        return cls(
            benchmark=benchmark,
            method=method,
            data=ladder.benchmark_ladder(benchmark, selection.ladder, selection.anchors),
            target=selection.target,
            target_compute=selection.target_compute,
            truth=ladder.measured(selection.target, benchmark) if selection.target else None,
            size=size,
        )

    def finish(
        self,
        method: Method,
        answer: MethodForecast,
        validation: Validation | None,
        *,
        n_bootstrap: int,
        seed: int,
        n_jobs: int,
        progress: ProgressCallback | None,
    ) -> BenchmarkForecast:
        data = self.data
        if n_bootstrap > 0 and answer.value is not None and not method.own_intervals:
            result = bootstrap(
                method,
                data,
                self.target_compute,
                n_samples=n_bootstrap,
                seed=seed,
                n_jobs=n_jobs,
                forecast_kwargs=self.size,
                progress=None if progress is None else lambda done: progress(self.benchmark, done, n_bootstrap),
            )
            # the bootstrap sees sampling noise only; the method's error on held-out ladder models adds the
            # error of the law itself (benchcast.uncertainty.widen)
            error = extrapolation_error(data, validation or {}, self.target_compute, float(answer.value))
            answer.interval = widen(float(answer.value), result, error)
            answer.details["bootstrap"] = {**result.to_dict(), "validation_error": error}
        rows = [
            {"model": name, "compute": float(c), "score": float(s)}
            for name, c, s in zip(data.models, data.compute, data.scores, strict=True)
        ]
        warnings = list(answer.warnings)
        top = float(np.max(data.compute, initial=-math.inf))  # an empty ladder is above no target
        if self.target_compute <= top:
            # every method's number is then a reading between ladder points, which no backtest here measures
            warnings.insert(
                0,
                f"the target's compute ({self.target_compute:.3g} FLOPs) is not above the largest ladder model's "
                f"({top:.3g}): an interpolation between ladder models, not a forecast beyond them",
            )
        return BenchmarkForecast(
            benchmark=self.benchmark,
            method=method.name,
            forecast=answer.value,
            target=self.target,
            target_compute=self.target_compute,
            ladder=rows,
            truth=self.truth,
            interval=dict(answer.interval),
            warnings=warnings,
            declined=answer.declined,
            details=answer.details,
        )


def _fit_and_forecast(
    job: _Job, *, validating: bool, n_jobs: int = 1
) -> tuple[Method, MethodForecast, Validation | None]:
    """Fit and forecast; with ``validating``, also the method's hold-out validation that its bootstrap
    interval needs. It costs two more fits, so it runs here, where benchmarks run side by side, or, with
    ``n_jobs``, in the workers that the bootstrap will use next, while this process makes the full fit."""
    method = job.method
    reason = method.applicable(job.data)
    if reason:
        return method, MethodForecast(None, declined=reason), None
    needed = validating and not method.own_intervals
    if needed and n_jobs != 1 and job.data.n_items >= THREADED_MIN_ITEMS:
        # a large benchmark: the full fit and the hold-out fits on threads of this process, as ``auto`` runs its
        # candidates' (``validate_and_fit``), without worker start-up or copies of the ladder
        validations, fitted = validate_and_fit({"method": method}, job.data, validating={"method"}, fitting={"method"})
        method = fitted["method"]
        answer = method.forecast(job.target_compute, **job.size)
        return method, answer, validations["method"] if answer.value is not None else None
    holdouts = BackgroundValidation(method, job.data, n_jobs=n_jobs) if needed else None
    answer = method.fit(job.data).forecast(job.target_compute, **job.size)
    if holdouts is None or answer.value is None:
        return method, answer, None
    return method, answer, holdouts.result()


def forecast(
    ladder: Ladder,
    *,
    target: str | None = None,
    compute: float | None = None,
    method: str | Method = "auto",
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

    ``method`` defaults to ``"auto"``, as ``benchcast forecast`` does: the same call gives the command's forecast
    and intervals (``auto`` gives its own). ``n_bootstrap`` replicates give the intervals of a method without its
    own (0 = none; the command asks for 200); ``seed`` makes them reproducible and ``n_jobs`` spreads them over
    cores.

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
    chosen = ladder.benchmarks if benchmarks is None else _chosen(benchmarks, ladder.benchmarks)
    jobs = []
    for benchmark in chosen:
        instance = clone(method) if isinstance(method, Method) else get_method(method, **method_params)
        jobs.append(_Job.prepare(ladder, benchmark, instance, selection))
    if progress is not None:
        progress(FITTING, 0, len(jobs))
    if n_jobs != 1 and len(jobs) > 1:
        # benchmarks are independent: their fits run side by side; each bootstrap then spreads its replicates
        run = delayed(_fit_and_forecast)
        results = Parallel(n_jobs=n_jobs, return_as="generator")(run(job, validating=n_bootstrap > 0) for job in jobs)
    else:
        results = (_fit_and_forecast(job, validating=n_bootstrap > 0, n_jobs=n_jobs) for job in jobs)
    fitted = []
    for done in results:
        fitted.append(done)
        if progress is not None:
            progress(FITTING, len(fitted), len(jobs))
    out = {}
    for job, (instance, answer, validation) in zip(jobs, fitted, strict=True):
        out[job.benchmark] = job.finish(
            instance, answer, validation, n_bootstrap=n_bootstrap, seed=seed, n_jobs=n_jobs, progress=progress
        )
    return Forecast(out, selection)


def _chosen(names: Iterable[str], known: list[str]) -> list[str]:
    """The benchmarks ``names`` pick, in their order and each once: a known name itself, a glob pattern
    (``arithmetic_*``, as the forecast table's header writes a shared prefix) every known name it matches."""
    chosen: dict[str, None] = {}
    for name in names:
        if name in known:
            chosen[name] = None
            continue
        pattern = any(char in name for char in "*?[")
        matches = fnmatch.filter(known, name) if pattern else []
        if not matches:
            what = "no benchmark matches" if pattern else "unknown benchmark"
            raise BenchcastError(f"{what} {name!r}; known: {', '.join(known)}")
        chosen.update(dict.fromkeys(matches))
    return list(chosen)
