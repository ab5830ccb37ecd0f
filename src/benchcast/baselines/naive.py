"""Naive baseline: the target scores what the largest ladder model scored."""

from __future__ import annotations

from typing import Self

import numpy as np

from benchcast.data.ladder import BenchmarkLadder
from benchcast.methods import Method, MethodForecast, register_method


@register_method("last")
class LastModel(Method):
    """Forecast = the benchmark score of the ladder model with the most compute.

    The reference every trend method must beat: it assumes no further improvement.
    """

    description = "score of the largest ladder model"

    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        return None if ladder.n_models >= 1 else "needs at least 1 ladder model"

    def fit(self, ladder: BenchmarkLadder) -> Self:
        self.score_ = float(ladder.scores[int(np.argmax(ladder.compute))])
        self.model_ = ladder.models[int(np.argmax(ladder.compute))]
        return self

    def forecast(self, compute: float) -> MethodForecast:
        return MethodForecast(self.score_, details={"from_model": self.model_})
