"""Applicability diagnostics: what regime a benchmark is in on the ladder, and whether a trend validates.

The regime is read off the ladder's benchmark scores (ascending compute) against their noise:

* ``too few models`` — fewer than 3 ladder models: no trend can be checked;
* ``non-monotone`` — the largest model scores clearly below an earlier one;
* ``pre-emergence`` — every score within noise of the floor (chance, or the smallest model's score);
* ``saturating`` — the largest model is within 10 points of the top, or gains shrink fast;
* ``emerging`` — gains grow with compute (convex in log-compute);
* ``scaling`` — a steady rise.

Ladder-internal validation holds out the largest ladder model, fits a method on the rest and forecasts it;
its error, next to the same error of "the last model's score", says whether the method's trend holds on
this ladder. ``verdict`` turns both into plain language.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from benchcast.data.ladder import BenchmarkLadder
from benchcast.methods import Method, clone

TOO_FEW = "too few models"
NON_MONOTONE = "non-monotone"
PRE_EMERGENCE = "pre-emergence"
SATURATING = "saturating"
EMERGING = "emerging"
SCALING = "scaling"
UNRELIABLE_REGIMES = (TOO_FEW, NON_MONOTONE, PRE_EMERGENCE)

NOISE_FLOOR = 0.01
"""Benchmark scores are never trusted to better than one point: items and prompts vary more than binomial noise."""


def score_noise(ladder: BenchmarkLadder) -> float:
    """Standard error of a ladder model's benchmark score: binomial trial noise plus item sampling."""
    rates = ladder.pass_rates
    trials = np.where(np.isfinite(ladder.trials) & (ladder.trials > 0), ladder.trials, np.inf)
    binomial = np.sqrt(np.sum(rates * (1 - rates) / trials, axis=0)) / max(ladder.n_items, 1)
    items = rates.std(axis=0) / np.sqrt(max(ladder.n_items, 1))
    return float(np.max(np.sqrt(binomial**2 + items**2))) if rates.size else 0.0


@dataclass(frozen=True)
class Regime:
    name: str
    noise: float
    reason: str

    @property
    def reliable(self) -> bool:
        return self.name not in UNRELIABLE_REGIMES


def regime(ladder: BenchmarkLadder) -> Regime:
    """Classify the ladder's benchmark-level trend (see the module docstring)."""
    scores = ladder.scores
    noise = max(score_noise(ladder), NOISE_FLOOR)
    tolerance = 2 * noise
    if ladder.n_models < 3:
        return Regime(TOO_FEW, noise, f"{ladder.n_models} ladder model(s)")
    if scores.max() - scores[-1] > tolerance:
        best = ladder.models[int(np.argmax(scores))]
        return Regime(
            NON_MONOTONE, noise, f"largest model scores {100 * (scores.max() - scores[-1]):.1f} points below {best}"
        )
    floor = ladder.chance if ladder.chance is not None else float(scores[0])
    if scores[-1] - floor <= tolerance and np.ptp(scores) <= tolerance:
        return Regime(PRE_EMERGENCE, noise, "every score within noise of the floor")
    steps = np.diff(scores) / np.diff(np.log(ladder.compute))
    recent, earlier = steps[-1], steps[:-1].mean()
    if scores[-1] >= 0.9 or (earlier > 0 and recent < 0.5 * earlier):
        return Regime(SATURATING, noise, "gains shrink with compute")
    if earlier >= 0 and recent > 1.5 * max(earlier, 1e-9) and scores[-1] - scores[0] > tolerance:
        return Regime(EMERGING, noise, "gains grow with compute")
    return Regime(SCALING, noise, "steady rise")


def holdout_predictions(
    method: Method, ladder: BenchmarkLadder, *, holdout: int = 1, min_models: int = 2
) -> np.ndarray | None:
    """Forecasts of the ``holdout`` largest ladder models from the models below them (None if impossible)."""
    if ladder.n_models - holdout < min_models:
        return None
    train = ladder.subset(range(ladder.n_models - holdout))
    if method.applicable(train):
        return None
    fitted = method.fit(train)
    out = []
    for position in range(ladder.n_models - holdout, ladder.n_models):
        kwargs = {}
        if method.uses_target_size:
            kwargs = {"params": _finite(ladder.params, position), "tokens": _finite(ladder.tokens, position)}
        value = fitted.predict(float(ladder.compute[position]), **kwargs)
        if value is None:
            return None
        out.append(value)
    return np.asarray(out)


HOLDOUTS = (1, 2)
"""Ladder-internal validation holds out the largest model, and the two largest where the ladder allows: a
jump between the two largest models is the commonest way a trend fools a single hold-out."""

Validation = dict[int, "np.ndarray | None"]
"""Held-out count k -> the forecasts of the k largest ladder models from the models below (None: impossible)."""


def ladder_holdouts(ladder: BenchmarkLadder) -> list[int]:
    """The counts of ``HOLDOUTS`` this ladder allows: at least 2 models must remain to fit on."""
    return [k for k in HOLDOUTS if ladder.n_models - k >= 2]


def validate(method: Method, ladder: BenchmarkLadder) -> Validation:
    """``holdout_predictions`` for every k of ``HOLDOUTS`` the ladder allows, each on a fresh copy of ``method``."""
    return {k: holdout_predictions(clone(method), ladder, holdout=k) for k in ladder_holdouts(ladder)}


def can_validate(method: Method, ladder: BenchmarkLadder) -> bool:
    """Whether ``method`` applies to the ladder left after one of its allowed hold-outs, i.e. whether
    ``validate`` can give it any forecast at all."""
    return any(not method.applicable(ladder.subset(range(ladder.n_models - k))) for k in ladder_holdouts(ladder))


THREADED_MIN_ITEMS = 5000
"""From this many items on, ``validate_and_fit`` runs its fits on threads. Measured on the 2-core machine (auto's
fits on simulated ladders, serial against threaded wall time): 3,000 items 1.68 s against 1.75 s, 5,000 items
3.05 s against 2.59 s, 12,000 items 6.4 s against 4.6 s; the demo's 100-item benchmarks took half again as long
on threads."""


def validate_and_fit(
    methods: Mapping[str, Method], ladder: BenchmarkLadder, *, validating: set[str], fitting: set[str]
) -> tuple[dict[str, Validation], dict[str, Method]]:
    """``validate`` the methods named in ``validating`` and fit those in ``fitting`` on ``ladder``, every fit on
    its own thread, side by side.

    COD's clustering runs in compiled code without the GIL, and the trend laws' fits in Python: on a large
    benchmark the full fit and the two hold-out fits of COD overlap each other and every other method's fits.
    Below ``THREADED_MIN_ITEMS`` items the fits are Python-bound and threads only contend for the GIL, so they
    run one after another. Each fit works on its own copy of its method, so the results do not depend on how
    the threads interleave.
    """
    holdouts = ladder_holdouts(ladder)
    calls: list[tuple[str, int | None, Callable[[], object]]] = []
    for name, method in methods.items():
        if name in validating:
            for k in holdouts:
                calls.append((name, k, partial(holdout_predictions, clone(method), ladder, holdout=k)))
        if name in fitting:
            calls.append((name, None, partial(clone(method).fit, ladder)))
    # one BLAS thread and one warning filter state for all: both are process-wide, and threads entering and
    # leaving their own limits or filters would otherwise leave them changed behind them
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        if len(calls) > 1 and (os.cpu_count() or 1) > 1 and ladder.n_items >= THREADED_MIN_ITEMS:
            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                results = list(pool.map(lambda call: call[2](), calls))
        else:
            results = [call[2]() for call in calls]
    validations: dict[str, Validation] = {name: {} for name in validating}
    fitted: dict[str, Method] = {}
    for (name, k, _), result in zip(calls, results, strict=True):
        if k is None:
            fitted[name] = result
        else:
            validations[name][k] = result
    return validations, fitted


class BackgroundValidation:
    """``validate(method, ladder)`` started in ``n_jobs`` worker processes, so that the caller can fit ``method``
    on the full ladder meanwhile: the hold-out fits do not need that fit, and on a large benchmark each costs
    about as much. ``result()`` waits for them. With ``n_jobs=1`` nothing starts and ``result()`` validates
    here, as ``validate`` does.
    """

    def __init__(self, method: Method, ladder: BenchmarkLadder, *, n_jobs: int = 1) -> None:
        self.method = method
        self.ladder = ladder
        self._holdouts = ladder_holdouts(ladder)
        self._pending: Iterator[np.ndarray | None] | None = None
        self._result: Validation | None = None
        if n_jobs != 1 and self._holdouts:
            # copied now, not when joblib draws the next task: by then the caller may be fitting ``method``
            calls = [delayed(holdout_predictions)(clone(method), ladder, holdout=k) for k in self._holdouts]
            self._pending = Parallel(n_jobs=n_jobs, return_as="generator")(calls)

    def result(self) -> Validation:
        if self._result is None:
            if self._pending is None:
                self._result = validate(self.method, self.ladder)
            else:
                self._result = dict(zip(self._holdouts, self._pending, strict=True))
        return self._result


MAX_DISTANCE_RATIO = 4.0
"""Cap on how much a hold-out error is scaled up for a target farther out than the held-out models."""


def distance_ratio(
    ladder: BenchmarkLadder, compute: float, holdout: int, max_ratio: float = MAX_DISTANCE_RATIO
) -> float:
    """How much farther (in log-compute) ``compute`` lies beyond the largest ladder model than the ``holdout``
    largest models lay beyond the rest, between 1 and ``max_ratio``: the factor a hold-out error grows by."""
    gap = math.log(max(compute, ladder.compute[-1]) / ladder.compute[-1])
    held = float(np.log(ladder.compute[-1] / ladder.compute[-1 - holdout]))
    return min(max_ratio, max(1.0, gap / max(held, 1e-9)))


def validation_error(
    ladder: BenchmarkLadder, validation: Validation, compute: float, max_ratio: float = MAX_DISTANCE_RATIO
) -> float | None:
    """Root-mean-square error of the held-out forecasts, scaled by ``distance_ratio`` for the target; None
    when no hold-out was possible."""
    errors, used = [], []
    for k, predicted in validation.items():
        if predicted is None:
            continue
        errors.extend(np.asarray(predicted) - ladder.scores[ladder.n_models - k :])
        used.append(k)
    if not errors:
        return None
    return float(np.sqrt(np.mean(np.square(errors)))) * distance_ratio(ladder, compute, max(used), max_ratio)


def extrapolation_error(ladder: BenchmarkLadder, validation: Validation, compute: float, value: float) -> float:
    """The error an interval around the forecast ``value`` should carry beyond sampling noise: the hold-out
    ``validation_error`` where the method could be validated, else the whole move from the largest ladder
    model's score to the forecast - an extrapolation nothing on the ladder has checked."""
    error = validation_error(ladder, validation, compute)
    return abs(float(value) - float(ladder.scores[-1])) if error is None else error


def _finite(values: np.ndarray | None, position: int) -> float | None:
    if values is None or not np.isfinite(values[position]):
        return None
    return float(values[position])


def verdict(regime_: Regime, validation_error: float | None, last_error: float | None, spread: float) -> str:
    """Plain-language verdict on a forecast (errors and spread in score units, 0-1).

    A trend counts as validated when, on held-out ladder models, it missed by at most 2 points or by at most
    half of what "the last model's score" missed; a trend that merely ties doing nothing is not evidence.
    """
    if not regime_.reliable:
        text = f"no reliable trend ({regime_.name}: {regime_.reason}): forecast ≈ last model ± {100 * spread:.1f}"
        if regime_.name == PRE_EMERGENCE:
            # on the public suite such intervals held 1 of 6 targets: the ± cannot speak for a jump
            text += " (the ladder's noise only: nothing on a flat ladder bounds a jump at the target)"
        return text
    if validation_error is None:
        return f"no trend validated on the ladder: forecast ≈ last model ± {100 * spread:.1f}"
    tolerance = max(0.02, 2 * regime_.noise)
    if validation_error > tolerance and (last_error is None or validation_error > 0.5 * last_error):
        return (
            f"no reliable trend: on held-out ladder models the best trend missed by {100 * validation_error:.1f} "
            f"points (the last model's score by {100 * (last_error or 0):.1f}); forecast ± {100 * spread:.1f}"
        )
    return f"trend validated ({regime_.name}; held-out error {100 * validation_error:.1f} points)"
