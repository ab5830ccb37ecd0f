"""What the trend baselines share: a fit-then-forecast skeleton that declines with a reason, and the ladder
look-ups (chance level, intermediate metric, target size) whose absence is a reason to decline.

Every baseline follows one contract (``benchcast.methods``): settings in ``__init__``, ``fit(ladder)``
learns and returns ``self``, ``forecast(compute, *, params=None, tokens=None)`` answers. A method that cannot
run (too few models, a missing loss, an unknown chance level, a fit that did not converge) answers a
``MethodForecast`` with ``declined`` set instead of a number: a baseline never guesses silently.

Intermediate-metric keys (``BenchmarkLadder.metrics``): per-benchmark task metrics come from a dataset's
``metrics.csv.gz`` (``bpb``: bits per byte of the correct continuation, Bhagia et al.; ``task_loss``: the
gold-answer negative log-likelihood, Llama 3); a model-level pre-training or validation loss comes from a
numeric model-card column named ``loss`` (further losses as ``loss_<split>``, e.g. ``loss_c4_val``). Methods
that need a loss take ``metric=None`` to mean "the first of ``LOSS_METRICS`` the ladder carries", or an
explicit key.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Self

import numpy as np
from scipy import stats

from benchcast.data.ladder import BenchmarkLadder
from benchcast.laws import Law, LawFit, fit_law
from benchcast.methods import Method, MethodForecast

LOSS_METRICS = ("bpb", "task_loss", "loss")
"""Default search order for an intermediate loss: task bits-per-byte, task NLL, then a model-level loss."""

INTERVAL_LEVELS = (80, 95)
WARM_MAX_NFEV = 60
"""Evaluation budget of a warm-started refit: it starts next to its optimum, and a replicate that needs more
is one of many in a bootstrap, not a forecast."""


class Baseline(Method):
    """Skeleton of the trend baselines: ``fit`` records ``declined_`` or fits; ``forecast`` answers.

    Subclasses implement ``_fit`` (returns a reason to decline, or None) and ``_forecast``, and may add input
    checks in ``_reason``. ``min_models`` is the smallest ladder the method runs on.
    """

    min_models: int = 2

    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        if ladder.n_models < self.min_models:
            return f"needs at least {self.min_models} ladder models, has {ladder.n_models}"
        compute = np.asarray(ladder.compute, dtype=float)
        if not np.all(np.isfinite(compute) & (compute > 0)):
            return "needs a positive compute for every ladder model"
        return self._reason(ladder)

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        return None

    def _validate(self) -> None:
        """Raise ``ValueError`` for a setting that is wrong whatever the data (a user error, not a decline)."""

    def fit(self, ladder: BenchmarkLadder) -> Self:
        self._validate()
        self.warnings_: list[str] = []
        self.declined_ = self.applicable(ladder)
        if self.declined_ is None:
            self.declined_ = self._fit(ladder)
        return self

    @abstractmethod
    def _fit(self, ladder: BenchmarkLadder) -> str | None: ...

    def _fit_law(self, attribute: str, law: Law, x: np.ndarray, y: np.ndarray, **options: object) -> LawFit:
        """``fit_law``, warm-started when ``warm_start`` gave a fitted twin: its fit stored as ``attribute`` is
        the only start (a bootstrap replicate's optimum lies next to the full data's)."""
        previous = self._warm_fit(attribute)
        if previous is not None and previous.law is law:
            options = {**options, "starts": [previous.values], "max_nfev": WARM_MAX_NFEV}
        return fit_law(law, x, y, **options)

    def _warm_fit(self, attribute: str) -> LawFit | None:
        """The warm-start twin's finite fit stored as ``attribute``, if there is one."""
        previous = getattr(getattr(self, "warm_start_", None), attribute, None)
        if isinstance(previous, LawFit) and all(math.isfinite(v) for v in previous.values):
            return previous
        return None

    @abstractmethod
    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast: ...

    def forecast(self, compute: float, *, params: float | None = None, tokens: float | None = None) -> MethodForecast:
        """Forecast the full-benchmark score at ``compute`` FLOPs (``params``/``tokens``: the target's size)."""
        if not hasattr(self, "declined_"):
            raise RuntimeError(f"{type(self).__name__}: call fit(ladder) before forecast()")
        if self.declined_:
            return MethodForecast(None, declined=self.declined_, warnings=list(self.warnings_))
        compute = float(compute)
        if not (math.isfinite(compute) and compute > 0):
            raise ValueError(f"compute must be a positive number of FLOPs, got {compute}")
        answer = self._forecast(compute, params=params, tokens=tokens)
        answer.warnings = [*self.warnings_, *answer.warnings]
        if answer.value is None:
            return answer
        if not math.isfinite(answer.value):
            return MethodForecast(
                None,
                declined="the fitted law gives no finite forecast",
                warnings=answer.warnings,
                details=answer.details,
            )
        clipped = min(1.0, max(0.0, float(answer.value)))
        if clipped != answer.value:
            answer.warnings.append(f"the law's forecast {answer.value:.4g} lies outside [0, 1]; clipped")
            answer.value = clipped
        answer.interval = {
            level: (min(1.0, max(0.0, lo)), min(1.0, max(0.0, hi))) for level, (lo, hi) in answer.interval.items()
        }
        return answer


def fit_failure(fit: LawFit, what: str = "law") -> str | None:
    """The reason to decline when a fit did not converge or produced non-finite parameters, else None."""
    if not fit.success or not all(math.isfinite(v) for v in fit.values):
        return f"the {what} fit did not converge ({fit.message or 'no message'})"
    return None


def resolve_level(setting: str | float | None, ladder: BenchmarkLadder, name: str) -> tuple[float | None, str | None]:
    """Turn a floor/normalisation setting into a number: ``"fit"``/None -> free (None); ``"chance"`` -> the
    benchmark's chance level, or a reason when the ladder does not know it; a number -> itself."""
    if setting is None or setting == "fit":
        return None, None
    if setting == "chance":
        if ladder.chance is None:
            return None, f"{name}='chance' but benchmark {ladder.benchmark!r} has no known chance level"
        return float(ladder.chance), None
    return float(setting), None


def check_level(setting: str | float | None, name: str, words: Sequence[str | None]) -> None:
    """Validate a floor/normalisation setting: one of ``words`` (e.g. ``"fit"``, ``"chance"``, None) or a
    number in [0, 1)."""
    if setting in words:
        return
    if isinstance(setting, str) or not isinstance(setting, int | float) or not 0.0 <= float(setting) < 1.0:
        allowed = " or ".join(repr(word) for word in words)
        raise ValueError(f"{name} must be {allowed} or a number in [0, 1), got {setting!r}")


def resolve_metric(
    ladder: BenchmarkLadder, metric: str | None, candidates: Sequence[str] = LOSS_METRICS
) -> tuple[str | None, str | None]:
    """The metric key a method should use, or a reason to decline.

    ``metric=None`` takes the first of ``candidates`` the ladder carries; a key that is present but missing
    for some ladder model is a reason to decline, not to fall back to another metric silently.
    """
    if metric is None:
        present = [name for name in candidates if name in ladder.metrics]
        if not present:
            known = ", ".join(sorted(ladder.metrics)) or "none"
            return None, f"needs a loss metric ({' / '.join(candidates)}) per ladder model; the ladder has: {known}"
        metric = present[0]
    elif metric not in ladder.metrics:
        known = ", ".join(sorted(ladder.metrics)) or "none"
        return None, f"metric {metric!r} is not in the ladder's metrics (has: {known})"
    values = np.asarray(ladder.metrics[metric], dtype=float)
    missing = [name for name, value in zip(ladder.models, values, strict=True) if not math.isfinite(value)]
    if missing:
        return None, f"metric {metric!r} is missing for ladder model(s) {', '.join(missing)}"
    return metric, None


def size_reason(ladder: BenchmarkLadder, index: Sequence[int] | None = None) -> str | None:
    """A reason to decline when some ladder models (optionally only ``index``) lack params or tokens."""
    if ladder.params is None or ladder.tokens is None:
        return "needs params and tokens for every ladder model"
    chosen = range(ladder.n_models) if index is None else index
    missing = [
        ladder.models[i]
        for i in chosen
        if not (math.isfinite(ladder.params[i]) and math.isfinite(ladder.tokens[i]) and ladder.params[i] > 0)
    ]
    if missing:
        return f"needs params and tokens for every ladder model; missing for {', '.join(missing)}"
    return None


def target_size(compute: float, params: float | None, tokens: float | None) -> tuple[float, float] | str:
    """The target's (params, tokens), completing one from the other with C = 6·N·D; a reason if both are absent.

    C = 6·N·D is the convention model cards use to derive compute, so it is the one used to invert it.
    """
    if params is not None and tokens is not None:
        return float(params), float(tokens)
    if params is not None:
        return float(params), compute / (6.0 * float(params))
    if tokens is not None:
        return compute / (6.0 * float(tokens)), float(tokens)
    return "needs the target's params or tokens (give forecast(..., params=, tokens=) or a target model card)"


# ----------------------------------------------------------------------------------- straight line in log space
def _line(x: np.ndarray, intercept: float, slope: float) -> np.ndarray:
    return intercept + slope * x


def _line_start(x: np.ndarray, y: np.ndarray) -> list[tuple[float, ...]]:
    slope, intercept = np.polyfit(x, y, 1) if x.size >= 2 and np.ptp(x) > 0 else (0.0, float(np.mean(y)))
    return [(float(intercept), float(slope)), (float(np.mean(y)), 0.0)]


LINE = Law(
    name="line",
    function=_line,
    parameters=("intercept", "slope"),
    lower=(-1e3, -50.0),
    upper=(1e3, 50.0),
    starts=_line_start,
)
"""A straight line, for laws that are linear after a transform (``log(-log y) = log A - α·log C``)."""


def fit_line(x: np.ndarray, y: np.ndarray) -> LawFit:
    """Least-squares straight line through ``(x, y)`` with the shared fitting routine."""
    return fit_law(LINE, x, y)


def line_interval(fit: LawFit, x: np.ndarray, x0: float) -> dict[str, tuple[float, float]]:
    """Prediction intervals of a least-squares line at ``x0`` (t-based, from the residuals; needs 3+ points).

    Keys are the levels in ``INTERVAL_LEVELS`` as strings; bounds are in the line's own (transformed) units.
    """
    n = x.size
    if n < 3 or np.ptp(x) == 0:
        return {}
    dof = n - 2
    s = math.sqrt(float(np.sum(fit.residuals**2)) / dof)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = s * math.sqrt(1.0 + 1.0 / n + (x0 - float(x.mean())) ** 2 / sxx)
    centre = float(fit.predict(x0)[0])
    out = {}
    for level in INTERVAL_LEVELS:
        half = float(stats.t.ppf(0.5 + level / 200.0, dof)) * se
        out[str(level)] = (centre - half, centre + half)
    return out
