"""Sigmoid in log-compute: ``Acc = g + (h - g) / (1 + exp(-k·(log10 C - m)))``.

The shape used for emergent tasks by observational and two-stage methods (ObsScaling's sigmoid regression,
the Bhagia/Llama-3 step 2), here applied end to end on compute: accuracy rises from the floor g to the
ceiling h around the midpoint m (in log10 FLOPs) with slope k per decade. By default the floor is fitted and
the ceiling fixed at 1: with a handful of ladder models a fourth free parameter is rarely identified.
"""

from __future__ import annotations

import numpy as np

from benchcast.baselines._common import Baseline, check_level, fit_failure, resolve_level
from benchcast.data.ladder import BenchmarkLadder
from benchcast.laws import Law
from benchcast.methods import MethodForecast, register_method


def log_sigmoid_law(log_compute: np.ndarray, k: float, m: float, g: float, h: float) -> np.ndarray:
    """``g + (h - g) / (1 + exp(-k·(log10 C - m)))`` for ``log_compute`` = log10 C.

    Examples
    --------
    >>> float(log_sigmoid_law(np.array([21.0]), k=2.0, m=21.0, g=0.25, h=1.0)[0])
    0.625
    """
    with np.errstate(over="ignore"):
        return g + (h - g) / (1.0 + np.exp(-k * (np.asarray(log_compute, dtype=float) - m)))


def _sigmoid_starts(x: np.ndarray, y: np.ndarray) -> list[tuple[float, ...]]:
    floor = float(np.min(y))
    top = float(x.max())
    midpoints = (float(x.min()), float(np.median(x)), top, top + 1.0, top + 2.5)
    return [(k, m, floor, 1.0) for k in (0.5, 1.5, 4.0) for m in midpoints]


SIGMOID_LAW = Law(
    name="log-sigmoid",
    function=log_sigmoid_law,
    parameters=("k", "m", "g", "h"),
    lower=(0.0, 0.0, 0.0, 0.0),
    upper=(20.0, 40.0, 1.0, 1.0),
    starts=_sigmoid_starts,
)
"""Slope k <= 20 per decade; midpoint m in log10 FLOPs; floor and ceiling in [0, 1]."""


@register_method("sigmoid")
class LogSigmoid(Baseline):
    """Sigmoid in log10 compute fitted to the full-benchmark score.

    Parameters
    ----------
    floor : "fit", "chance" or float
        Floor g: fitted, the benchmark's chance level (declines when unknown), or fixed.
    ceiling : "fit" or float
        Ceiling h: fitted or fixed (default 1).
    min_models : int
        Fewest ladder models the fit runs on.

    Examples
    --------
    >>> from benchcast.data.ladder import BenchmarkLadder
    >>> compute = np.logspace(19, 22, 7)
    >>> scores = log_sigmoid_law(np.log10(compute), k=1.5, m=21.5, g=0.25, h=1.0)
    >>> ladder = BenchmarkLadder("b", tuple("abcdefg"), compute, scores[None, :], np.ones((1, 7)), np.array(["all"]))
    >>> round(LogSigmoid().fit(ladder).fit_.params["m"], 3)
    21.5
    """

    description = "sigmoid in log-compute on the full-benchmark score"

    def __init__(self, floor: str | float = "fit", ceiling: str | float = 1.0, min_models: int = 4) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.min_models = min_models

    def _validate(self) -> None:
        check_level(self.floor, "floor", ("fit", "chance"))
        if not (self.ceiling == "fit" or (isinstance(self.ceiling, int | float) and 0.0 < self.ceiling <= 1.0)):
            raise ValueError(f"ceiling must be 'fit' or a number in (0, 1], got {self.ceiling!r}")

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        return resolve_level(self.floor, ladder, "floor")[1]

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        floor, _ = resolve_level(self.floor, ladder, "floor")
        log_compute = np.log10(ladder.compute)
        lower, upper = list(SIGMOID_LAW.lower), list(SIGMOID_LAW.upper)
        # the midpoint may lie well beyond the ladder (a task that has not emerged yet), but not without limit
        lower[1], upper[1] = float(log_compute.min()) - 3.0, float(log_compute.max()) + 6.0
        if floor is not None:
            lower[2] = upper[2] = floor
        if self.ceiling != "fit":
            lower[3] = upper[3] = float(self.ceiling)
        # fixed parameters need no special starts: fit_law clips every start into the bounds
        self.fit_ = self._fit_law("fit_", SIGMOID_LAW, log_compute, ladder.scores, lower=lower, upper=upper)
        return fit_failure(self.fit_)

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        value = float(self.fit_.predict(np.log10(compute))[0])
        return MethodForecast(value, details={"law": self.fit_.to_dict()})
