"""Pass-rate law of the GPT-4 report and PassUntil (Hu et al. 2023): ``-log pass = α·C^-k``.

``aggregate="mean"`` (the COD paper's "End-to-end (passrate)" baseline, baselines.md §1) fits the law to the
ladder's mean pass rate over all items, as a line in ``(log C, log(-log pass))``. ``aggregate="items"``
follows PassUntil, which found fitting every instance its own law and averaging the forecasts more faithful
(§3.3): each item's law is the same straight line in log space, so all items are fitted at once in closed
form (the least-squares solution ``fit_law`` would reach, without one optimiser call per item).

Finite sampling gives pass rates of exactly 0 or 1, where ``log(-log p)`` is infinite. The GPT-4 report
dropped such problems; a forecast of the whole benchmark cannot, so in ``"items"`` mode pass rates are
continuity-corrected to ``(correct + 1/2) / (trials + 1)`` (clipped to ``[eps, 1 - eps]`` where the input is
a continuous score without trials), with a warning saying how many items needed it. In ``"mean"`` mode a
ladder model with a mean pass rate of 0 or 1 is left out of the fit with a warning (it is the ``powerlaw``
baseline without chance normalisation).
"""

from __future__ import annotations

import numpy as np

from benchcast.baselines._common import Baseline
from benchcast.baselines.powerlaw import DirectPowerLaw
from benchcast.data.ladder import FLOPS_UNIT, BenchmarkLadder
from benchcast.methods import MethodForecast, register_method

AGGREGATES = ("mean", "items")


def corrected_pass_rates(pass_rates: np.ndarray, trials: np.ndarray, eps: float) -> np.ndarray:
    """Pass rates moved off 0 and 1: ``(correct + 1/2) / (trials + 1)`` with counts, else clipped to ``eps``."""
    counted = np.isfinite(trials) & (trials > 0)
    safe_trials = np.where(counted, trials, 1.0)
    corrected = (pass_rates * safe_trials + 0.5) / (safe_trials + 1.0)
    return np.where(counted, corrected, np.clip(pass_rates, eps, 1.0 - eps))


def fit_item_lines(log_x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line per row of ``z`` (items x models) against ``log_x``: (intercepts, slopes)."""
    centred = log_x - log_x.mean()
    slopes = (z - z.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)
    return z.mean(axis=1) - slopes * log_x.mean(), slopes


@register_method("passrate")
class PassRateLaw(Baseline):
    """``-log pass = α·C^-k`` on the mean pass rate, or per item and averaged (PassUntil).

    Parameters
    ----------
    aggregate : {"mean", "items"}
        Fit the law to the mean pass rate (COD's baseline), or to every item and average the forecasts.
    min_models : int
        Fewest usable ladder models the fit runs on.
    eps : float
        Clip for continuous scores without trials in ``"items"`` mode.
    compute_unit : float
        FLOPs per unit of C (changes α, not the forecast).

    Examples
    --------
    >>> import numpy as np
    >>> from benchcast.data.ladder import BenchmarkLadder
    >>> compute = np.logspace(19, 22, 5)
    >>> rates = np.exp(-2.0 * (compute / 1e18) ** -0.3)[None, :]
    >>> ladder = BenchmarkLadder("b", tuple("abcde"), compute, rates, np.full((1, 5), np.nan), np.array(["q"]))
    >>> round(PassRateLaw().fit(ladder).forecast(1e24).value, 4) == round(float(np.exp(-2.0 * 1e6**-0.3)), 4)
    True
    """

    description = "pass-rate law -log pass = α·C^-k (GPT-4 report; PassUntil)"

    def __init__(
        self, aggregate: str = "mean", min_models: int = 3, eps: float = 1e-4, compute_unit: float = FLOPS_UNIT
    ) -> None:
        self.aggregate = aggregate
        self.min_models = min_models
        self.eps = eps
        self.compute_unit = compute_unit

    def _validate(self) -> None:
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")
        if not 0.0 < self.eps < 0.5:
            raise ValueError(f"eps must lie in (0, 0.5), got {self.eps}")

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        x = ladder.compute / self.compute_unit
        if self.aggregate == "items":
            rates = corrected_pass_rates(ladder.pass_rates, ladder.trials, self.eps)
            moved = int(np.sum(np.any((ladder.pass_rates <= 0.0) | (ladder.pass_rates >= 1.0), axis=1)))
            if moved:
                self.warnings_.append(
                    f"{moved} of {ladder.n_items} items have a pass rate of 0 or 1 on some ladder model; "
                    "continuity-corrected"
                )
            self.log_x_ = np.log(x)
            self.intercepts_, self.slopes_ = fit_item_lines(self.log_x_, np.log(-np.log(rates)))
            return None if np.all(np.isfinite(self.slopes_)) else "the per-item fits are not finite"
        # the mean-pass-rate law is the direct power law without chance normalisation
        self.mean_ = DirectPowerLaw(min_models=self.min_models, compute_unit=self.compute_unit).fit(ladder)
        self.warnings_ = self.mean_.warnings_
        return self.mean_.declined_

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        x = compute / self.compute_unit
        if self.aggregate == "items":
            item_rates = np.exp(-np.exp(self.intercepts_ + self.slopes_ * np.log(x)))
            details = {
                "aggregate": "items",
                "median_k": float(np.median(-self.slopes_)),
                "item_forecasts": item_rates.tolist(),
            }
            return MethodForecast(float(item_rates.mean()), details=details)
        law = self.mean_.fit_
        details = {"aggregate": "mean", "law": {"alpha": law.amplitude, "k": law.exponent}}
        return MethodForecast(law.predict(x), details=details, interval=law.interval(x))
