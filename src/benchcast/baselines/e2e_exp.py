"""End-to-end exponential law on the full-benchmark score (the COD paper's "End-to-end (exp)" baseline).

The whole benchmark's score is extrapolated directly with COD's own law (Eq. 4),
``y = g + (1 - g)·exp(-a·C^-b - c)``, fitted on the ladder's scores: COD without clustering and mapping. COD
attributes the baseline to Xiao et al. 2024 without giving its form (baselines.md §1, [U]); using COD's law
makes the comparison isolate what clustering adds. The direct form ``-log Acc = A·C^-α`` that baselines.md
recommends as an alternative is the ``powerlaw`` baseline.
"""

from __future__ import annotations

from benchcast.baselines._common import Baseline, check_level, fit_failure, resolve_level
from benchcast.data.ladder import FLOPS_UNIT, BenchmarkLadder
from benchcast.laws import COD_LAW
from benchcast.methods import MethodForecast, register_method


@register_method("e2e-exp")
class EndToEndExp(Baseline):
    """COD's Eq. 4 fitted to the full-benchmark score of every ladder model.

    Parameters
    ----------
    floor : "fit", "chance" or float
        The random-guess level g: fitted (as COD fits it per cluster), the benchmark's chance level (declines
        when unknown), or a fixed number.
    min_models : int
        Fewer ladder models than this and the method declines (the law has up to 4 parameters).
    compute_unit : float
        FLOPs per unit of C in the law (COD: 10^18).

    Examples
    --------
    >>> import numpy as np
    >>> from benchcast.laws import cod_law
    >>> from benchcast.data.ladder import BenchmarkLadder
    >>> compute = np.logspace(19, 22, 7)
    >>> scores = cod_law(compute / 1e18, a=20.0, b=0.4, c=0.1, g=0.25)
    >>> ladder = BenchmarkLadder("b", tuple("abcdefg"), compute, scores[None, :], np.ones((1, 7)), np.array(["all"]))
    >>> method = EndToEndExp(floor=0.25).fit(ladder)
    >>> round(method.forecast(1e23).value, 3) == round(float(cod_law(1e5, 20.0, 0.4, 0.1, 0.25)), 3)
    True
    """

    description = "end-to-end exponential law on the full-benchmark score (COD Eq. 4)"

    def __init__(self, floor: str | float = "fit", min_models: int = 4, compute_unit: float = FLOPS_UNIT) -> None:
        self.floor = floor
        self.min_models = min_models
        self.compute_unit = compute_unit

    def _validate(self) -> None:
        check_level(self.floor, "floor", ("fit", "chance"))

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        return resolve_level(self.floor, ladder, "floor")[1]

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        floor, _ = resolve_level(self.floor, ladder, "floor")
        lower, upper = list(COD_LAW.lower), list(COD_LAW.upper)
        if floor is not None:
            lower[3] = upper[3] = floor
        self.fit_ = self._fit_law(
            "fit_", COD_LAW, ladder.compute / self.compute_unit, ladder.scores, lower=lower, upper=upper
        )
        return fit_failure(self.fit_)

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        value = float(self.fit_.predict(compute / self.compute_unit)[0])
        return MethodForecast(value, details={"law": self.fit_.to_dict()})
