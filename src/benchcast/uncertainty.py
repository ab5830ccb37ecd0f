"""Prediction intervals by bootstrap: resample what is uncertain, refit the whole method, read off quantiles.

Each replicate (1) resamples items with replacement, (2) redraws every pass rate's binomial trial noise
(k* ~ Binomial(n, k/n); continuous scores are kept), and (3) leaves ``leave_out`` randomly chosen ladder models
out when enough remain for the method. The method is refitted from scratch on the replicate — for COD the
clusters too — and forecasts the same target compute. Percentile intervals of the replicates are the
prediction intervals. Replicates are seeded from one ``SeedSequence``, so the result is the same for any
number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed

from benchcast.data.ladder import BenchmarkLadder
from benchcast.methods import Method

DEFAULT_LEVELS = (80, 95)


@dataclass(frozen=True)
class BootstrapResult:
    """Replicate forecasts (NaN where the method declined on a replicate) and the intervals they give."""

    samples: np.ndarray
    intervals: dict[str, tuple[float, float]]
    declined: int

    def to_dict(self) -> dict[str, object]:
        finite = self.samples[np.isfinite(self.samples)]
        return {
            "n_samples": int(self.samples.size),
            "declined": int(self.declined),
            "std": float(np.std(finite)) if finite.size else None,
        }


def clone(method: Method) -> Method:
    """A fresh, unfitted copy of ``method`` with the same settings."""
    return type(method)(**method.get_params())


def resample_ladder(
    ladder: BenchmarkLadder, rng: np.random.Generator, *, items: bool, trials: bool, leave_out: int, min_models: int
) -> BenchmarkLadder:
    """One bootstrap replicate of a benchmark ladder (see the module docstring)."""
    rates = ladder.pass_rates
    index = None
    if items:
        index = rng.integers(0, ladder.n_items, size=ladder.n_items)
        rates = rates[index]
    if trials:
        counts = ladder.trials if index is None else ladder.trials[index]
        known = np.isfinite(counts) & (counts > 0)
        n = np.where(known, counts, 1).astype(np.int64)
        redrawn = rng.binomial(n, np.clip(rates, 0.0, 1.0)) / n
        rates = np.where(known, redrawn, rates)
    replicate = ladder.with_pass_rates(rates, index)
    if leave_out > 0 and ladder.n_models - leave_out >= min_models:
        dropped = rng.choice(ladder.n_models, size=leave_out, replace=False)
        replicate = replicate.subset(np.setdiff1d(np.arange(ladder.n_models), dropped))
    return replicate


def _replicate(
    method: Method,
    ladder: BenchmarkLadder,
    compute: float,
    seed: np.random.SeedSequence,
    options: dict,
    forecast_kwargs: dict,
) -> float:
    rng = np.random.default_rng(seed)
    instance = clone(method)
    sample = resample_ladder(ladder, rng, min_models=_min_models(instance), **options)
    if instance.applicable(sample):
        return np.nan
    value = instance.fit(sample).predict(compute, **forecast_kwargs)
    return np.nan if value is None else float(value)


def _min_models(method: Method) -> int:
    return int(getattr(method, "min_models", 3))


def bootstrap(
    method: Method,
    ladder: BenchmarkLadder,
    compute: float,
    *,
    n_samples: int = 200,
    levels: Sequence[int] = DEFAULT_LEVELS,
    items: bool = True,
    trials: bool = True,
    leave_out: int = 1,
    seed: int = 0,
    n_jobs: int = 1,
    forecast_kwargs: dict | None = None,
    progress: Callable[[int], None] | None = None,
) -> BootstrapResult:
    """Bootstrap prediction intervals for ``method`` on ``ladder`` at ``compute`` FLOPs.

    ``forecast_kwargs`` go to every ``forecast`` call (e.g. the target's size). ``progress`` is called with
    the number of replicates finished, batch by batch.

    Examples
    --------
    >>> from benchcast.simulate import simulate_ladder
    >>> from benchcast.baselines.naive import LastModel
    >>> sim = simulate_ladder(n_items=200, n_models=5, trials=20, seed=0)
    >>> bench = sim.ladder.benchmark_ladder("sim", sim.ladder_models)
    >>> result = bootstrap(LastModel(), bench, sim.target_compute, n_samples=50, leave_out=0)
    >>> lo, hi = result.intervals["80"]
    >>> lo < bench.scores[-1] < hi
    True
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    options = {"items": items, "trials": trials, "leave_out": leave_out}
    extra = dict(forecast_kwargs or {})
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    batch = max(1, min(25, n_samples // max(1, 4 * n_jobs)))
    samples: list[float] = []
    runner = Parallel(n_jobs=n_jobs) if n_jobs != 1 else None
    for start in range(0, n_samples, batch):
        chunk = seeds[start : start + batch]
        if runner is None:
            samples.extend(_replicate(method, ladder, compute, s, options, extra) for s in chunk)
        else:
            samples.extend(runner(delayed(_replicate)(method, ladder, compute, s, options, extra) for s in chunk))
        if progress is not None:
            progress(len(samples))
    values = np.asarray(samples, dtype=float)
    finite = values[np.isfinite(values)]
    intervals = {}
    if finite.size >= 2:
        for level in levels:
            tail = (100 - level) / 2
            low, high = np.percentile(finite, [tail, 100 - tail])
            intervals[str(level)] = (float(low), float(high))
    return BootstrapResult(values, intervals, int(np.sum(~np.isfinite(values))))
