"""Two-stage loss-intermediate forecast: compute -> a loss -> accuracy (Chen et al. 2024; Bhagia et al. 2024).

Step 1 extrapolates a loss to the target: ``L(C) = A·C^-α + E`` in compute (``step1="flops"``; FLP, and the
Llama-3 style default of baselines.md §5.3), or ``L(N, D) = A/N^α + B/D^β + E`` in parameters and tokens
(``step1="nd"``; Bhagia et al.'s step 1, which needs the target's params and tokens). As in Bhagia et al.'s
code, A and B are fitted as log A and log B, on log residuals with a Huber loss (delta 1e-3). Step 2 maps loss
to accuracy with ``Acc(L) = a / (1 + exp(-k·(L - L0))) + b``, a <= 0 so accuracy falls as loss rises, fitted on
the ladder's (loss, score) pairs plus Bhagia's artificial "ideal" point (L = 0 -> the task maximum).
Bhagia et al. fit step 2 on intermediate checkpoints as well; a ``BenchmarkLadder`` holds one point per
model, so here it sees the final checkpoints only.

Which loss: ``metric=None`` takes the first the ladder carries of ``bpb`` (per-benchmark bits per byte of the
correct answer, Bhagia), ``task_loss`` (per-benchmark gold-answer NLL, Llama 3) and ``loss`` (a model-level
pre-training or validation loss from the model cards, FLP); see ``benchcast.baselines._common``.
"""

from __future__ import annotations

import numpy as np

from benchcast.baselines._common import LOSS_METRICS, Baseline, fit_failure, resolve_metric, size_reason, target_size
from benchcast.data.ladder import FLOPS_UNIT, BenchmarkLadder
from benchcast.laws import Law, LawFit
from benchcast.methods import MethodForecast, register_method

STEP1_FORMS = ("flops", "nd")


def log_flops_loss(log_x: np.ndarray, log_a: float, alpha: float, e: float) -> np.ndarray:
    """``log(A·x^-α + E)`` with ``log_x = log x``: step 1 in compute, in the log space it is fitted in."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.log(np.exp(log_a - alpha * np.asarray(log_x, dtype=float)) + e)


def log_nd_loss(log_nd: np.ndarray, log_a: float, log_b: float, alpha: float, beta: float, e: float) -> np.ndarray:
    """``log(A/N^α + B/D^β + E)`` with ``log_nd`` = rows (log N, log D): Bhagia et al.'s step 1, in log space."""
    log_n, log_d = np.asarray(log_nd, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.log(np.exp(log_a - alpha * log_n) + np.exp(log_b - beta * log_d) + e)


def loss_sigmoid(loss: np.ndarray, a: float, l0: float, k: float, b: float) -> np.ndarray:
    """Step 2, ``a / (1 + exp(-k·(L - L0))) + b`` (Bhagia et al.; a <= 0).

    Examples
    --------
    >>> float(loss_sigmoid(np.array([1.0]), a=-0.8, l0=1.0, k=5.0, b=0.9)[0])
    0.5
    """
    with np.errstate(over="ignore"):
        return a / (1.0 + np.exp(-k * (np.asarray(loss, dtype=float) - l0))) + b


def _flops_starts(log_x: np.ndarray, log_loss: np.ndarray) -> list[tuple[float, ...]]:
    floor = float(np.exp(log_loss.min()))
    return [(log_a, alpha, e * floor) for log_a in (0.0, 2.0, 4.0) for alpha in (0.05, 0.2, 0.5) for e in (0.0, 0.5)]


def _nd_starts(log_nd: np.ndarray, log_loss: np.ndarray) -> list[tuple[float, ...]]:
    floor = float(np.exp(log_loss.min()))
    # Bhagia et al.'s start (3, 6, 0.1, 0.2, 1) and a small grid around it
    starts = [(3.0, 6.0, 0.1, 0.2, min(1.0, 0.9 * floor))]
    for log_a, log_b in ((5.0, 5.0), (8.0, 8.0)):
        for exponent in (0.2, 0.4):
            starts.append((log_a, log_b, exponent, exponent, 0.5 * floor))
    return starts


def _sigmoid_starts(loss: np.ndarray, accuracy: np.ndarray) -> list[tuple[float, ...]]:
    low, high = float(np.min(accuracy)), float(np.max(accuracy))
    return [(low - 1.0, 0.9, 3.0, high)] + [
        (low - high, float(l0), k, high) for l0 in np.quantile(loss, (0.25, 0.5, 0.75)) for k in (1.0, 5.0)
    ]


FLOPS_LOSS_LAW = Law(
    name="loss-flops",
    function=log_flops_loss,
    parameters=("log_A", "alpha", "E"),
    lower=(-20.0, 0.0, 0.0),
    upper=(50.0, 3.0, 100.0),
    starts=_flops_starts,
)
ND_LOSS_LAW = Law(
    name="loss-nd",
    function=log_nd_loss,
    parameters=("log_A", "log_B", "alpha", "beta", "E"),
    lower=(0.0, 0.0, 0.0, 0.0, 0.0),
    upper=(60.0, 60.0, 3.0, 3.0, 100.0),
    starts=_nd_starts,
)
LOSS_SIGMOID_LAW = Law(
    name="loss-sigmoid",
    function=loss_sigmoid,
    parameters=("a", "L0", "k", "b"),
    lower=(-1.0, -100.0, 0.0, 0.0),
    upper=(0.0, 100.0, 100.0, 1.0),
    starts=_sigmoid_starts,
)


@register_method("two-stage")
class TwoStage(Baseline):
    """Compute -> loss (power law) -> accuracy (sigmoid), chained (Chen et al. 2024; Bhagia et al. 2024).

    Parameters
    ----------
    metric : str or None
        The intermediate loss key in ``BenchmarkLadder.metrics``; None takes the first of ``bpb``,
        ``task_loss``, ``loss`` the ladder carries.
    step1 : {"flops", "nd"}
        Step-1 law in compute, or in params and tokens (needs them for the ladder and the target).
    huber_delta : float or None
        Huber threshold on step 1's log residuals (Bhagia: 1e-3); None for plain least squares.
    ideal_point : float or None
        Accuracy of the artificial (L = 0) point added to step 2 (Bhagia: the task maximum, 1); None for none.
    min_models : int
        Fewest ladder models the method runs on.
    compute_unit : float
        FLOPs per unit of C in step 1.

    Examples
    --------
    >>> from benchcast.data.ladder import BenchmarkLadder
    >>> compute = np.logspace(19, 22, 6)
    >>> loss = 2.0 * (compute / 1e18) ** -0.1 + 1.0
    >>> scores = loss_sigmoid(loss, -0.7, 2.0, 4.0, 1.0)
    >>> ladder = BenchmarkLadder("b", tuple("abcdef"), compute, scores[None, :], np.ones((1, 6)), np.array(["all"]),
    ...                          metrics={"loss": loss})
    >>> truth = float(loss_sigmoid(2.0 * 1e5 ** -0.1 + 1.0, -0.7, 2.0, 4.0, 1.0))
    >>> abs(TwoStage().fit(ladder).forecast(1e23).value - truth) < 0.01
    True
    """

    description = "two-stage: compute -> loss -> accuracy (Chen et al. 2024; Bhagia et al. 2024)"
    uses_target_size = True

    def __init__(
        self,
        metric: str | None = None,
        step1: str = "flops",
        huber_delta: float | None = 1e-3,
        ideal_point: float | None = 1.0,
        min_models: int = 4,
        compute_unit: float = FLOPS_UNIT,
    ) -> None:
        self.metric = metric
        self.step1 = step1
        self.huber_delta = huber_delta
        self.ideal_point = ideal_point
        self.min_models = min_models
        self.compute_unit = compute_unit

    def _validate(self) -> None:
        if self.step1 not in STEP1_FORMS:
            raise ValueError(f"step1 must be one of {STEP1_FORMS}, got {self.step1!r}")
        if self.huber_delta is not None and not self.huber_delta > 0:
            raise ValueError(f"huber_delta must be positive or None, got {self.huber_delta}")

    def _reason(self, ladder: BenchmarkLadder) -> str | None:
        reason = resolve_metric(ladder, self.metric, LOSS_METRICS)[1]
        if reason is None and self.step1 == "nd":
            reason = size_reason(ladder)
        return reason

    def _fit(self, ladder: BenchmarkLadder) -> str | None:
        self.metric_, _ = resolve_metric(ladder, self.metric, LOSS_METRICS)
        loss = np.asarray(ladder.metrics[self.metric_], dtype=float)
        if np.any(loss <= 0):
            return f"metric {self.metric_!r} must be positive to be a loss"
        if self.step1 == "nd":
            law, x = ND_LOSS_LAW, np.log(np.vstack([ladder.params, ladder.tokens]))
        else:
            law, x = FLOPS_LOSS_LAW, np.log(ladder.compute / self.compute_unit)
        upper = list(law.upper)
        upper[-1] = float(loss.min())  # the irreducible loss lies below every observed loss
        robust = {}
        if self.huber_delta is not None:
            # residuals scaled by 1/delta under a unit Huber loss = Huber with threshold delta on the residuals
            robust = {"loss": "huber", "weights": np.full(loss.size, 1.0 / self.huber_delta)}
        self.step1_: LawFit = self._fit_law("step1_", law, x, np.log(loss), upper=upper, **robust)
        losses, scores = loss, ladder.scores
        if self.ideal_point is not None:
            losses, scores = np.append(losses, 0.0), np.append(scores, self.ideal_point)
        self.step2_: LawFit = self._fit_law("step2_", LOSS_SIGMOID_LAW, losses, scores)
        return fit_failure(self.step1_, "step-1 (loss)") or fit_failure(self.step2_, "step-2 (sigmoid)")

    def _forecast(self, compute: float, *, params: float | None, tokens: float | None) -> MethodForecast:
        if self.step1 == "nd":
            size = target_size(compute, params, tokens)
            if isinstance(size, str):
                return MethodForecast(None, declined=size)
            log_loss = self.step1_.predict(np.log(np.array(size, dtype=float)).reshape(2, 1))[0]
        else:
            log_loss = self.step1_.predict(np.log(compute / self.compute_unit))[0]
        loss = float(np.exp(log_loss))
        details = {
            "metric": self.metric_,
            "predicted_loss": loss,
            "step1": self.step1_.to_dict(),
            "step2": self.step2_.to_dict(),
        }
        return MethodForecast(float(self.step2_.predict(loss)[0]), details=details)
