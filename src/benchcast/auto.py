"""The default forecaster: every applicable method, weighted by how well it forecast the ladder itself.

Plain trend fits and COD as published lose to "the target scores what the largest ladder model scored" on
short, noisy, real ladders (single jumps, non-monotone families, pre-emergence benchmarks). ``auto`` keeps the
trend methods where the ladder supports them and falls back towards the last score where it does not:

1. The regime (``benchcast.diagnostics``) decides first. With fewer than 3 models nothing can be validated:
   the forecast is a damped trend, last + ½·slope·Δlog C (a half step of the last observed slope); with one
   model, its score, with an interval open up to 100% (one model shows no trend to bound the rise). A
   pre-emergence ladder gives the last model's score: its trend is not there yet. A non-monotone ladder (the
   largest model below an earlier one) goes through the validation below like any other - a dip at the top
   is as often a noisy run as a turn of the trend, and the held-out models decide - but its verdict stays
   "no reliable trend".
2. Otherwise every candidate forecasts the largest ladder model (and, with 5 or more models, the two largest)
   from the models below, and so does "last". Each candidate gets weight 1 / (error² + noise²); methods that
   missed by more than "last" did get no weight. The forecast is the weighted mean of the candidates' full-ladder
   forecasts, "last" included, so a trend must beat doing nothing on the ladder to move the forecast.
3. No candidate may move away from the last score faster per log-compute than the fastest move between two
   ladder models: a law fitted to a flat, tiny score can otherwise place emergence anywhere.
4. The interval's half-width combines the weighted held-out error, scaled by how much farther the target lies
   than the held-out model (in log-compute), with the spread between the weighted candidates.

Nothing here is tuned per dataset; the constants are stated and fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

import numpy as np

from benchcast.data.ladder import BenchmarkLadder
from benchcast.diagnostics import (
    MAX_DISTANCE_RATIO,
    NON_MONOTONE,
    PRE_EMERGENCE,
    TOO_FEW,
    Validation,
    can_validate,
    distance_ratio,
    ladder_holdouts,
    regime,
    validate_and_fit,
    verdict,
)
from benchcast.methods import Method, MethodForecast, get_method, register_method

DEFAULT_CANDIDATES = ("cod", "e2e-exp", "powerlaw", "sigmoid", "bnsl", "two-stage", "gadre")
"""The distinct forms: "passrate" on the mean is "powerlaw" without chance normalisation, so it is left out."""
Z = {"80": 1.2816, "95": 1.9600}


@register_method("auto")
class Auto(Method):
    """Validated combination of methods with a fall-back to the last ladder score (see the module docstring).

    Parameters
    ----------
    candidates : tuple of str
        Registered methods to consider besides "last".
    damping : float
        Share of the last slope used with fewer than 3 models (0.5: half a step).
    max_gap_ratio : float
        Cap on how much the held-out error is scaled up for a farther target.
    """

    description = "validated combination of methods, falling back to the last score"
    uses_target_size = True
    own_intervals = True

    def __init__(
        self,
        candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
        damping: float = 0.5,
        max_gap_ratio: float = MAX_DISTANCE_RATIO,
    ) -> None:
        self.candidates = tuple(candidates)
        self.damping = damping
        self.max_gap_ratio = max_gap_ratio

    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        return None if ladder.n_models >= 1 else "needs at least 1 ladder model"

    def fit(
        self,
        ladder: BenchmarkLadder,
        *,
        fitted: Mapping[str, Method] | None = None,
        validated: Mapping[str, Validation] | None = None,
    ) -> Self:
        """Validate and fit every candidate. ``fitted`` and ``validated`` may hold candidates already fitted on
        this very ladder with their default settings, and their ``diagnostics.validate`` results (the backtest
        computes both anyway); they are used instead of doing the same work again."""
        fitted, validated = fitted or {}, validated or {}
        self.ladder_ = ladder
        self.regime_ = regime(ladder)
        self.methods_: dict[str, Method] = {}
        self.declined_: dict[str, str] = {}
        self.holdout_: dict[str, float] = {}
        if self.regime_.name in (TOO_FEW, PRE_EMERGENCE):
            return self
        holdouts = ladder_holdouts(ladder)
        self.holdout_["last"] = _last_error(ladder, holdouts)
        self.last_error_: dict[str, float] = {}
        methods = {}
        for name in self.candidates:
            method = get_method(name)
            reason = method.applicable(ladder)
            if reason:
                self.declined_[name] = reason
            else:
                methods[name] = method
        # a full fit only where the hold-outs can run at all: a method that cannot be validated gets no weight
        testable = {name for name, method in methods.items() if name in validated or can_validate(method, ladder)}
        ours, built = validate_and_fit(
            methods, ladder, validating=set(methods) - set(validated), fitting=testable - set(fitted)
        )
        validated, fitted = {**validated, **ours}, {**fitted, **built}
        for name in methods:
            validation = validated[name]
            errors, used = [], []
            for k in holdouts:
                predicted = validation.get(k)
                if predicted is not None:
                    errors.extend(np.abs(predicted - ladder.scores[ladder.n_models - k :]))
                    used.append(k)
            if not used:
                self.declined_[name] = "cannot be validated: too few models once the largest are held out"
                continue
            self.holdout_[name] = float(np.mean(errors))
            self.last_error_[name] = _last_error(ladder, used)
            self.methods_[name] = fitted[name]  # every candidate with a hold-out forecast was fitted above
        self.holdouts_ = holdouts
        self.validated_ = {name: validated[name] for name in self.methods_}
        return self

    def _last(self) -> float:
        return float(self.ladder_.scores[-1])

    def forecast(self, compute: float, *, params: float | None = None, tokens: float | None = None) -> MethodForecast:
        ladder, found = self.ladder_, self.regime_
        last = self._last()
        details: dict[str, Any] = {"regime": found.name, "regime_reason": found.reason, "noise": found.noise}
        spread = max(found.noise, 0.01)
        if found.name == TOO_FEW:
            value = last
            if ladder.n_models == 2:
                slope = (ladder.scores[1] - ladder.scores[0]) / math.log(ladder.compute[1] / ladder.compute[0])
                value = last + self.damping * slope * math.log(compute / ladder.compute[-1])
                spread = max(spread, abs(value - last))
            details["chosen_method"] = "damped trend" if ladder.n_models == 2 else "last"
            answer = self._answer(value, spread, details, None, None)
            if ladder.n_models == 1:
                # one model shows no trend at all: a larger model scores at least about as well, and how much
                # better it scores, nothing here says (the interval is open up to 100%)
                answer.interval = {level: (low, 1.0) for level, (low, _) in answer.interval.items()}
                answer.details["verdict"] = (
                    f"no trend: {ladder.n_models} ladder model shows none; forecast = its score, which the "
                    "target should at least reach"
                )
            return answer
        if found.name == PRE_EMERGENCE:
            details["chosen_method"] = "last"
            spread = max(spread, float(np.ptp(ladder.scores[-3:])))
            return self._answer(last, spread, details, None, None)
        # no candidate may move faster per log-compute than the fastest move seen on the ladder: a law fitted to
        # a flat, tiny score otherwise "predicts" emergence anywhere
        rates = np.abs(np.diff(ladder.scores)) / np.diff(np.log(ladder.compute))
        gap = math.log(max(compute, ladder.compute[-1]) / ladder.compute[-1])
        max_move = float(rates.max()) * gap + found.noise
        forecasts = {"last": last}
        kwargs = {"params": params, "tokens": tokens}
        for name, method in self.methods_.items():
            value = method.predict(compute, **kwargs) if method.uses_target_size else method.predict(compute)
            if value is None or not math.isfinite(value):
                self.declined_[name] = "declined on the full ladder"
                continue
            forecasts[name] = float(np.clip(value, last - max_move, last + max_move))
        floor2 = found.noise**2
        weights = {}
        for name in forecasts:
            error = self.holdout_[name]
            if name != "last" and error > self.last_error_[name]:
                continue
            weights[name] = 1.0 / (error**2 + floor2)
        total = sum(weights.values())
        value = sum(weights[n] * forecasts[n] for n in weights) / total
        weighted_error = math.sqrt(sum(weights[n] * self.holdout_[n] ** 2 for n in weights) / total)
        spread_between = math.sqrt(sum(weights[n] * (forecasts[n] - value) ** 2 for n in weights) / total)
        ratio = distance_ratio(ladder, compute, max(self.holdouts_), self.max_gap_ratio)
        spread = math.sqrt((weighted_error * ratio) ** 2 + spread_between**2 + found.noise**2)
        # what the interval's half-width is made of, for a user asking why it is this wide
        details["spread_parts"] = {
            "holdout_error": weighted_error,
            "distance_ratio": ratio,
            "between_candidates": spread_between,
            "noise": found.noise,
        }
        if found.name == NON_MONOTONE:
            # the dip itself is the uncertainty: the top of the ladder does not say which of its scores holds
            spread = max(spread, float(np.ptp(ladder.scores[-3:])))
        if "cod" in self.methods_ and "cod" in forecasts:
            # COD's own diagnostics (clusters, mapping) travel with the forecast for reports
            details["cod"] = self.methods_["cod"].forecast(compute).details
        top = max(weights, key=weights.get)
        details.update(
            {
                "chosen_method": top if weights[top] / total >= 0.5 else "weighted",
                "candidates": forecasts,
                "holdout_errors": dict(self.holdout_),
                "weights": {n: w / total for n, w in weights.items()},
                "skipped": dict(self.declined_),
            }
        )
        trends = [n for n in weights if n != "last"]
        best = min(trends, key=lambda n: self.holdout_[n]) if trends else None
        trend_error = None if best is None else self.holdout_[best]
        last_error = self.holdout_["last"] if best is None else self.last_error_[best]
        return self._answer(value, spread, details, trend_error, last_error)

    def _answer(
        self, value: float, spread: float, details: dict, trend_error: float | None, last_error: float | None
    ) -> MethodForecast:
        value = float(np.clip(value, 0.0, 1.0))
        interval = {level: (max(0.0, value - z * spread), min(1.0, value + z * spread)) for level, z in Z.items()}
        details["verdict"] = verdict(self.regime_, trend_error, last_error, spread)
        details["reliable"] = details["verdict"].startswith("trend validated")
        return MethodForecast(value, details=details, interval=interval)


def _last_error(ladder: BenchmarkLadder, holdouts: list[int]) -> float:
    """Mean error of "the last training model's score" on the same held-out models."""
    errors = []
    for k in holdouts:
        last_train = ladder.scores[ladder.n_models - k - 1]
        errors.extend(np.abs(ladder.scores[ladder.n_models - k :] - last_train))
    return float(np.mean(errors))
