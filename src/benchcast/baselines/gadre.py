"""Gadre et al. 2024, "Language models scale reliably with over-training and on downstream tasks".

Two chained laws (baselines.md §2): the loss in parameters N and tokens per parameter M,
``L(N, M) = α·N^b + β·6^(b/2)·(M·N)^b + E`` (b < 0; the paper's ``E + (a·M^η + b·M^-η)·C^-η`` after
substituting C = 6·M·N²), then the average top-1 error as an exponential in loss, ``Err(L) = ε - k·exp(-γ·L)``.
The forecast chains them: (N, M) of the target -> its loss -> its error; the score is ``1 - Err``.

Faithful to ``mlfoundations/scaling:scaling/shared.py::fit_ds``: the loss law starts from the authors' grid
(α0, β0 in {1e2, 3e2, 1e3, 3e3}, b0 in {-0.1, -0.3}, E0 in {0, 1, 2, 10}) and keeps the lowest residual; the
error law is fitted on the *observed* losses. The authors fit the loss law on cheap runs only and the error
law on those plus a 1.4B run: ``loss_models`` names the ladder models the loss law uses (default: all), the
error law always uses the whole ladder. The law is meant for averages over many tasks (Gadre's 17- or 46-task
mean error); single tasks are noisy or emergent. Needs a model-level loss (``metric``, default ``loss``; the
bundled ``gadre-overtraining`` dataset's ``loss`` is the C4 validation loss the paper uses), params and tokens
for the ladder, and the target's params and tokens (or one of them, the other following from C = 6·N·D).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchcast.baselines._common import Baseline, fit_failure, resolve_metric, size_reason, target_size
from benchcast.data.ladder import BenchmarkLadder
from benchcast.laws import Law, LawFit, fit_law
from benchcast.methods import MethodForecast, register_method


def gadre_loss(size: np.ndarray, alpha: float, beta: float, b: float, e: float) -> np.ndarray:
    """``α·N^b + β·6^(b/2)·(M·N)^b + E`` with ``size`` = rows (N, M), M = tokens per parameter.

    Examples
    --------
    >>> round(float(gadre_loss(np.array([[1e9], [20.0]]), 166.2, 366.7, -0.273, 1.837)[0]), 3)
    2.86
    """
    n, m = np.asarray(size, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return alpha * n**b + beta * 6.0 ** (b / 2.0) * (m * n) ** b + e


def gadre_loss_jacobian(size: np.ndarray, alpha: float, beta: float, b: float, e: float) -> np.ndarray:
    """Partial derivatives of ``gadre_loss`` with respect to (α, β, b, E), one row per model."""
    n, m = np.asarray(size, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        own = n**b
        tokens = 6.0 ** (b / 2.0) * (m * n) ** b
        slope = alpha * own * np.log(n) + beta * tokens * (np.log(6.0) / 2.0 + np.log(m * n))
        return np.stack([own, tokens, slope, np.ones_like(n)], axis=1)


def gadre_error(loss: np.ndarray, k: float, gamma: float, epsilon: float) -> np.ndarray:
    """Average top-1 error ``ε - k·exp(-γ·L)`` at loss L."""
    with np.errstate(over="ignore"):
        return epsilon - k * np.exp(-gamma * np.asarray(loss, dtype=float))


def _loss_starts(size: np.ndarray, loss: np.ndarray) -> list[tuple[float, ...]]:
    grid = (1e2, 3e2, 1e3, 3e3)
    return [(a, b, c, e) for a in grid for b in grid for c in (-0.1, -0.3) for e in (0.0, 1.0, 2.0, 10.0)]


def _error_starts(loss: np.ndarray, error: np.ndarray) -> list[tuple[float, ...]]:
    # curve_fit's default start (all ones) as in the authors' code, and one scaled to the data
    return [(1.0, 1.0, 1.0), (float(np.ptp(error)) * float(np.exp(np.min(loss))) + 1e-3, 1.0, float(np.max(error)))]


GADRE_LOSS_LAW = Law(
    name="gadre-loss",
    function=gadre_loss,
    parameters=("alpha", "beta", "b", "E"),
    lower=(0.0, 0.0, -3.0, 0.0),
    upper=(1e7, 1e7, 0.0, 20.0),
    starts=_loss_starts,
    jacobian=gadre_loss_jacobian,
)
"""Wide bounds: the authors' fit is unbounded; these only keep the optimiser in the physical region."""

GADRE_ERROR_LAW = Law(
    name="gadre-error",
    function=gadre_error,
    parameters=("k", "gamma", "epsilon"),
    lower=(0.0, 0.0, 0.0),
    upper=(1e6, 50.0, 1.0),
    starts=_error_starts,
)


_LOSS_FITS: dict[bytes, LawFit] = {}
_LOSS_FITS_KEPT = 256


def fit_loss_law(size: np.ndarray, loss: np.ndarray) -> LawFit:
    """The loss law fitted to ``size`` (rows N, M) and ``loss``, remembered by its inputs.

    The loss law does not depend on the benchmark: every benchmark of a ladder (and every refit on the same
    models) asks for the same 64-start fit, which is deterministic, so it is computed once per process.
    """
    size = np.ascontiguousarray(size, dtype=float)
    loss = np.ascontiguousarray(loss, dtype=float)
    key = size.tobytes() + b"|" + loss.tobytes()
    if key not in _LOSS_FITS:
        if len(_LOSS_FITS) >= _LOSS_FITS_KEPT:
            _LOSS_FITS.pop(next(iter(_LOSS_FITS)))
        _LOSS_FITS[key] = fit_law(GADRE_LOSS_LAW, size, loss, max_nfev=10_000)
    return _LOSS_FITS[key]


@register_method("gadre")
class Gadre(Baseline):
    """Loss law in (N, tokens per parameter), then average error exponential in loss (Gadre et al. 2024).

    Parameters
    ----------
    metric : str or None
        The model-level loss key in ``BenchmarkLadder.metrics``; None means ``loss``.
    loss_models : sequence of str or None
        Ladder models the loss law is fitted on (the paper: four sizes at M = 20 and the smallest at M = 320);
        None uses every ladder model. The error law always uses every ladder model.
    min_models : int
        Fewest ladder models (error-law points) the method runs on.
    min_loss_models : int
        Fewest loss-law points (the law has 4 parameters; the paper uses 5).

    Examples
    --------
    >>> from benchcast.datasets import load_dataset
    >>> from benchcast.forecast import forecast
    >>> small = ["rpj-d=96_l=8_h=4-1.0", "rpj-d=512_l=8_h=4-1.0", "rpj-d=576_l=24_h=8-1.0",
    ...          "rpj-d=1024_l=24_h=8-1.0", "rpj-d=96_l=8_h=4-16.0"]
    >>> result = forecast(load_dataset("gadre-overtraining"), target="rpj-open_lm_7b-1.0", method="gadre",
    ...                   benchmarks=["avg_17_tasks"], ladder_models=[*small, "rpj-open_lm_1b-1.0"], loss_models=small)
    >>> round(1 - result.benchmarks["avg_17_tasks"].forecast, 3)
    0.472
    """

    description = "Gadre et al. 2024: loss law in (N, M), then error exponential in loss"
    uses_target_size = True

    def __init__(
        self,
        metric: str | None = None,
        loss_models: Sequence[str] | None = None,
        min_models: int = 4,
        min_loss_models: int = 5,
    ) -> None:
        self.metric = metric
        self.loss_models = loss_models
        self.min_models = min_models
        self.min_loss_models = min_loss_models

    def _loss_index(self, ladder: BenchmarkLadder) -> list[int] | str:
        if self.loss_models is None:
            return list(range(ladder.n_models))
        missing = [name for name in self.loss_models if name not in ladder.models]
        if missing:
            return f"loss model(s) {', '.join(missing)} are not on the ladder"
        return [ladder.models.index(name) for name in self.loss_models]

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        reason = resolve_metric(ladder, self.metric, ("loss",))[1]
        if reason:
            return reason
        index = self._loss_index(ladder)
        if isinstance(index, str):
            return index
        if len(index) < self.min_loss_models:
            return f"the loss law needs at least {self.min_loss_models} models, has {len(index)}"
        return size_reason(ladder, index)

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        self.metric_, _ = resolve_metric(ladder, self.metric, ("loss",))
        loss = np.asarray(ladder.metrics[self.metric_], dtype=float)
        index = self._loss_index(ladder)
        assert not isinstance(index, str)
        size = np.vstack([ladder.params[index], ladder.tokens[index] / ladder.params[index]])
        if self._warm_fit("loss_fit_") is not None:
            self.loss_fit_: LawFit = self._fit_law("loss_fit_", GADRE_LOSS_LAW, size, loss[index], max_nfev=10_000)
        else:
            self.loss_fit_ = fit_loss_law(size, loss[index])
        self.error_fit_: LawFit = self._fit_law(
            "error_fit_", GADRE_ERROR_LAW, loss, 1.0 - ladder.scores, max_nfev=10_000
        )
        self.loss_fit_models_ = tuple(ladder.models[i] for i in index)
        return fit_failure(self.loss_fit_, "loss-law") or fit_failure(self.error_fit_, "error-law")

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        size = target_size(compute, params, tokens)
        if isinstance(size, str):
            return MethodForecast(None, declined=size)
        n, d = size
        loss = float(self.loss_fit_.predict(np.array([[n], [d / n]]))[0])
        error = float(gadre_error(loss, *self.error_fit_.values))
        details = {
            "metric": self.metric_,
            "predicted_loss": loss,
            "predicted_error": error,
            "target_params": n,
            "target_tokens": d,
            "tokens_per_param": d / n,
            "loss_law": self.loss_fit_.to_dict(),
            "error_law": self.error_fit_.to_dict(),
            "loss_fit_models": list(self.loss_fit_models_),
        }
        return MethodForecast(1.0 - error, details=details)
