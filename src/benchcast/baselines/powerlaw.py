"""Direct power law on -log accuracy (Krajewski et al. 2025, Apple; baselines.md §3.1).

For a fixed tokens-per-parameter ratio, ``-log Acc = A·C^-α``: a straight line in
``(log C, log(-log Acc))``, fitted there by least squares as the authors do. With chance normalisation the law
applies to ``Acc' = (Acc - q) / (1 - q)``, q the chance level, so that a benchmark whose floor is 25% is not
read as a quarter of the way to mastery. Models at or below chance (or at 100%) have no finite
``log(-log Acc')`` and are left out of the fit with a warning; too few usable models and the method declines.
Because the fit is linear, a t-based prediction interval comes for free and is mapped back to accuracy.
The across-ratio form ``A·N^-α + B·D^-β`` is not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchcast.baselines._common import Baseline, check_level, fit_failure, fit_line, line_interval, resolve_level
from benchcast.data.ladder import FLOPS_UNIT, BenchmarkLadder
from benchcast.laws import LawFit
from benchcast.methods import MethodForecast, register_method


@dataclass(frozen=True)
class NegLogPowerFit:
    """``-log y = A·x^-α`` fitted as the line ``log(-log y) = log A - α·log x``."""

    line: LawFit
    log_x: np.ndarray

    @property
    def amplitude(self) -> float:
        return float(np.exp(self.line.values[0]))

    @property
    def exponent(self) -> float:
        return float(-self.line.values[1])

    def predict(self, x: float) -> float:
        return float(np.exp(-np.exp(self.line.predict(np.log(x))[0])))

    def interval(self, x: float) -> dict[str, tuple[float, float]]:
        # y falls as the line's value rises, so the bounds swap
        bounds = line_interval(self.line, self.log_x, float(np.log(x)))
        return {level: (float(np.exp(-np.exp(hi))), float(np.exp(-np.exp(lo)))) for level, (lo, hi) in bounds.items()}

    def to_dict(self) -> dict[str, object]:
        return {
            "A": self.amplitude,
            "alpha": self.exponent,
            "rmse_log_neg_log": self.line.rmse,
            "n_points": self.line.n_points,
        }


def fit_neg_log_power(x: np.ndarray, y: np.ndarray) -> NegLogPowerFit:
    """Fit ``-log y = A·x^-α`` to points with 0 < y < 1 by least squares in ``(log x, log(-log y))``."""
    log_x = np.log(np.asarray(x, dtype=float))
    return NegLogPowerFit(fit_line(log_x, np.log(-np.log(np.asarray(y, dtype=float)))), log_x)


def usable_points(values: np.ndarray) -> np.ndarray:
    """Mask of values with a finite ``log(-log y)``: strictly between 0 and 1."""
    return np.isfinite(values) & (values > 0.0) & (values < 1.0)


@register_method("powerlaw")
class DirectPowerLaw(Baseline):
    """``-log Acc = A·C^-α`` on the full-benchmark score, optionally chance-normalised (Krajewski et al. 2025).

    Parameters
    ----------
    normalise : None, "chance" or float
        Chance level q for ``Acc' = (Acc - q) / (1 - q)``: none, the benchmark's (declines when unknown), or a
        fixed number.
    min_models : int
        Fewest usable ladder models (strictly between chance and 100%) the fit runs on.
    compute_unit : float
        FLOPs per unit of C (changes A, not the forecast).

    Examples
    --------
    >>> import numpy as np
    >>> from benchcast.data.ladder import BenchmarkLadder
    >>> compute = np.logspace(19, 22, 6)
    >>> scores = np.exp(-3.0 * (compute / 1e18) ** -0.2)
    >>> ladder = BenchmarkLadder("b", tuple("abcdef"), compute, scores[None, :], np.ones((1, 6)), np.array(["all"]))
    >>> method = DirectPowerLaw().fit(ladder)
    >>> round(method.fit_.exponent, 3)
    0.2
    """

    description = "direct power law on -log accuracy (Krajewski et al. 2025)"

    def __init__(self, normalise: str | float | None = None, min_models: int = 3, compute_unit: float = FLOPS_UNIT):
        self.normalise = normalise
        self.min_models = min_models
        self.compute_unit = compute_unit

    def _validate(self) -> None:
        check_level(self.normalise, "normalise", (None, "chance"))

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        return resolve_level(self.normalise, ladder, "normalise")[1]

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        level, _ = resolve_level(self.normalise, ladder, "normalise")
        self.chance_ = 0.0 if level is None else level
        normalised = (ladder.scores - self.chance_) / (1.0 - self.chance_)
        usable = usable_points(normalised)
        self.used_models_ = tuple(name for name, keep in zip(ladder.models, usable, strict=True) if keep)
        if usable.sum() < self.min_models:
            return (
                f"only {int(usable.sum())} ladder model(s) score strictly between "
                f"{'chance' if level else '0'} and 1; needs {self.min_models}"
            )
        if not usable.all():
            left_out = [name for name, keep in zip(ladder.models, usable, strict=True) if not keep]
            self.warnings_.append(f"left out of the fit (score at the floor or at 1): {', '.join(left_out)}")
        self.fit_ = fit_neg_log_power(ladder.compute[usable] / self.compute_unit, normalised[usable])
        return fit_failure(self.fit_.line)

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        x = compute / self.compute_unit
        q = self.chance_
        interval = {level: (q + (1 - q) * lo, q + (1 - q) * hi) for level, (lo, hi) in self.fit_.interval(x).items()}
        details = {"law": self.fit_.to_dict(), "chance": q, "fit_models": list(self.used_models_)}
        return MethodForecast(q + (1 - q) * self.fit_.predict(x), details=details, interval=interval)
