"""Adaptive sampling: draw an item's samples in rounds and stop once more would not move the forecast.

The rule is a pure function of the counts so far, ``(trials, correct)`` as checkpoints x items with the
checkpoints in ladder order (ascending compute), so that a run can be resumed from the store and replayed from
stored samples. A (checkpoint, item) cell keeps sampling until it has drawn the ``budget``, or until it has at
least ``min_trials`` samples and the half-width of the Wilson interval (``z``) that its sample count would give at
its **least favourable pass rate** is at most ``tolerance``.

Ability rises with compute, so a cell's pass rate lies between those of its neighbours on the ladder (the next
smaller and next larger checkpoints; 0 below the first, 1 above the last). Its least favourable pass rate is the
value in that bracket nearest 1/2, where samples vary the most: an item its neighbours both fail (or both pass)
is settled after a couple of rounds, an item in its rise keeps sampling to the budget, and an item between two
low pass rates needs fewer samples than one near 1/2. The cell's own outcomes never decide when it stops:
stopping on them (at 0/k, or once its own interval is narrow) is optional stopping, which biases the cell's
pass rate towards the ends. ``docs/decisions.md`` ("Adaptive sampling") has the measurements;
``benchmarks/bench_adaptive.py`` replays the bundled ladders through the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AdaptiveRule:
    """Settings of the stopping rule (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rule = AdaptiveRule(budget=100, round_size=10, min_trials=20, tolerance=0.125)
    >>> trials = np.full((3, 3), 20)
    >>> correct = np.array([[0, 0, 20], [0, 2, 20], [0, 12, 20]])
    >>> keep_sampling(trials, correct, rule)  # items 0 and 2 settled but at the open end, item 1 rising
    array([[False,  True,  True],
           [False,  True, False],
           [ True,  True, False]])
    """

    budget: int = 100
    round_size: int = 10
    min_trials: int = 20
    tolerance: float = 0.125
    z: float = 1.96

    def __post_init__(self) -> None:
        if self.round_size < 1 or self.budget < self.round_size:
            raise ValueError(f"need 1 <= round_size <= budget, got {self.round_size} and {self.budget}")
        if self.min_trials < 1 or not 0.0 < self.tolerance < 1.0 or self.z <= 0:
            raise ValueError("need min_trials >= 1, 0 < tolerance < 1 and z > 0")

    @property
    def rounds(self) -> int:
        """The most rounds an item can take."""
        return -(-self.budget // self.round_size)

    def round_trials(self, round_index: int) -> int:
        """Samples an active item draws in round ``round_index`` (the last round may be shorter)."""
        return min(self.round_size, self.budget - round_index * self.round_size)


def wilson_half_width(trials: np.ndarray, pass_rate: np.ndarray, z: float = 1.96) -> np.ndarray:
    """Half the width of the Wilson score interval of a pass rate measured on ``trials`` samples (infinite
    where nothing was drawn)."""
    n = np.asarray(trials, dtype=float)
    p = np.asarray(pass_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / (1.0 + z * z / n)
    return np.where(n > 0, width, np.inf)


def bracketing_pass_rates(trials: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Each cell's least favourable pass rate: the value nearest 1/2 between its neighbours' pass rates (the
    checkpoints just below and above; 0 below the first, 1 above the last), where its samples vary the most.
    Nothing is known of a cell whose neighbours have no samples (nor of a one-checkpoint ladder): 1/2."""
    trials = np.asarray(trials, dtype=float)
    correct = np.asarray(correct, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(trials > 0, correct / trials, np.nan)
    below = np.vstack([np.zeros((1, rates.shape[1])), rates[:-1]])
    above = np.vstack([rates[1:], np.ones((1, rates.shape[1]))])
    low, high = np.fmin(below, above), np.fmax(below, above)
    nearest = np.clip(0.5, low, high)
    return np.where(np.isnan(below) | np.isnan(above), 0.5, nearest)


def keep_sampling(trials: np.ndarray, correct: np.ndarray, rule: AdaptiveRule) -> np.ndarray:
    """Which (checkpoint, item) cells draw another round; rows are checkpoints in ascending compute.

    A caller stops a cell for good the first time this says False (``replay`` shows the loop).
    """
    trials = np.asarray(trials, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if trials.shape != correct.shape or trials.ndim != 2:
        raise ValueError("trials and correct must be arrays of the same shape, checkpoints x items")
    precise = wilson_half_width(trials, bracketing_pass_rates(trials, correct), rule.z) <= rule.tolerance
    return (trials < rule.budget) & ~((trials >= rule.min_trials) & precise)


def replay(outcomes: np.ndarray, rule: AdaptiveRule) -> tuple[np.ndarray, np.ndarray]:
    """Run the rule on stored samples: ``outcomes`` is checkpoints x items x samples (0/1, in draw order, at
    least ``budget`` of them); returns the ``(trials, correct)`` the adaptive run would have drawn."""
    outcomes = np.asarray(outcomes)
    if outcomes.ndim != 3 or outcomes.shape[2] < rule.budget:
        raise ValueError(f"outcomes must be checkpoints x items x samples with at least {rule.budget} samples")
    drawn = np.concatenate([np.zeros((*outcomes.shape[:2], 1)), np.cumsum(outcomes, axis=2)], axis=2)
    trials = np.zeros(outcomes.shape[:2])
    active = np.ones(outcomes.shape[:2], dtype=bool)
    for round_index in range(rule.rounds):
        trials = np.where(active, trials + rule.round_trials(round_index), trials)
        correct = np.take_along_axis(drawn, trials.astype(int)[..., None], axis=2)[..., 0]
        active &= keep_sampling(trials, correct, rule)
        if not active.any():
            break
    return trials, correct
