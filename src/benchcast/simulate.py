"""A ladder simulator: items with graded difficulty, random-guess floors, emergence and sampling noise.

Each item follows COD's per-item law ``p(C) = g + (1 - g) * exp(-a * C**-b - c)`` (C in 10^18 FLOPs) with its
own emergence point ``C_half`` (where the rise is half done), sharpness ``b`` and ceiling gap ``c``. Models sit
on a geometric compute ladder; each answers every item ``trials`` times (binomial noise). The true expected
score of any compute is known exactly, which is what tests and users need to judge a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchcast.data.cards import ModelCard, Role
from benchcast.data.ladder import FLOPS_UNIT, Ladder
from benchcast.data.results import validate_results
from benchcast.laws import cod_law


@dataclass(frozen=True)
class ItemLaws:
    """Per-item law parameters (arrays of length n_items)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    g: np.ndarray

    def pass_rates(self, compute_flops: float | np.ndarray) -> np.ndarray:
        """Expected pass rate of every item (rows) at each compute (columns)."""
        units = np.atleast_1d(np.asarray(compute_flops, dtype=float)) / FLOPS_UNIT
        return cod_law(units[None, :], self.a[:, None], self.b[:, None], self.c[:, None], self.g[:, None])

    def expected_score(self, compute_flops: float) -> float:
        return float(self.pass_rates(compute_flops).mean())


@dataclass(frozen=True)
class SimulatedLadder:
    """A simulated ladder with its target: the data a user would have, and the truth they would not."""

    ladder: Ladder
    results: pd.DataFrame
    cards: dict[str, ModelCard]
    ladder_models: tuple[str, ...]
    target: str
    target_compute: float
    truth: float
    items: ItemLaws | None
    """The per-item laws, where the items follow COD's law (``simulate_ladder``)."""
    benchmark: str
    expected: np.ndarray | None = None
    """Every item's true pass rate at each model, target last (``simulate_irt_ladder``)."""


def _simulated(
    correct: np.ndarray,
    trials: int,
    compute: np.ndarray,
    target_compute: float,
    *,
    family: str,
    benchmark: str,
    chance: float,
    name: str,
    truth: float,
    items: ItemLaws | None = None,
    expected: np.ndarray | None = None,
) -> SimulatedLadder:
    """What a user of a simulated ladder sees, with the truth beside it: ``correct`` (items x models, target last)
    as long results of models ``<family>-1`` ... and ``<family>-target``, their cards and the ``Ladder``."""
    names = [f"{family}-{i + 1}" for i in range(len(compute))]
    target = f"{family}-target"
    item_ids = np.array([f"q{i:05d}" for i in range(correct.shape[0])])
    frames = [
        pd.DataFrame(
            {
                "model": model,
                "benchmark": benchmark,
                "item": item_ids,
                "trials": float(trials),
                "correct": correct[:, column].astype(float),
            }
        )
        for column, model in enumerate([*names, target])
    ]
    results = validate_results(pd.concat(frames, ignore_index=True))
    cards = {
        model: ModelCard(model, compute=float(c), family=family, role=Role.LADDER)
        for model, c in zip(names, compute, strict=True)
    }
    cards[target] = ModelCard(target, compute=target_compute, family=family, role=Role.TARGET)
    return SimulatedLadder(
        ladder=Ladder(results, cards, chance={benchmark: chance} if chance else None, name=name),
        results=results,
        cards=cards,
        ladder_models=tuple(names),
        target=target,
        target_compute=target_compute,
        truth=truth,
        items=items,
        benchmark=benchmark,
        expected=expected,
    )


def simulate_items(
    n_items: int,
    *,
    rng: np.random.Generator,
    emergence: tuple[float, float] = (1.0, 5.0),
    sharpness: tuple[float, float] = (0.3, 0.9),
    chance: float = 0.0,
    ceiling_gap: float = 0.3,
    flat_share: float = 0.05,
) -> ItemLaws:
    """Draw item laws: emergence ``log10 C_half`` uniform in ``emergence`` (10^18 FLOPs), ``b`` uniform in
    ``sharpness``, ``c`` exponential with mean ``ceiling_gap``/3 (most items can be fully learned), floor
    ``chance``; a ``flat_share`` of items never improve (ambiguous or mislabelled questions)."""
    log_half = rng.uniform(*emergence, size=n_items)
    b = rng.uniform(*sharpness, size=n_items)
    # exp(-a C_half^-b) = 1/2  =>  a = ln 2 * C_half^b
    a = np.log(2.0) * (10.0**log_half) ** b
    c = np.minimum(rng.exponential(ceiling_gap / 3.0, size=n_items), 3.0)
    flat = rng.random(n_items) < flat_share
    a = np.where(flat, 1e9, a)
    g = np.full(n_items, float(chance))
    return ItemLaws(a=a, b=b, c=c, g=g)


def simulate_ladder(
    *,
    n_items: int = 2000,
    n_models: int = 8,
    trials: int = 100,
    compute_range: tuple[float, float] = (40e18, 1.4e23),
    target_ratio: float = 25.0,
    chance: float = 0.0,
    emergence: tuple[float, float] = (1.0, 5.0),
    sharpness: tuple[float, float] = (0.3, 0.9),
    ceiling_gap: float = 0.3,
    flat_share: float = 0.05,
    benchmark: str = "sim",
    seed: int = 0,
) -> SimulatedLadder:
    """Simulate ``n_models`` ladder models (geometric compute over ``compute_range``) and a target at
    ``target_ratio`` times the largest, each evaluated ``trials`` times on ``n_items`` items.

    Examples
    --------
    >>> sim = simulate_ladder(n_items=100, n_models=4, trials=10, seed=1)
    >>> len(sim.ladder_models), sim.results["model"].nunique()
    (4, 5)
    """
    if n_models < 1 or n_items < 1 or trials < 1:
        raise ValueError("n_models, n_items and trials must be positive")
    rng = np.random.default_rng(seed)
    items = simulate_items(
        n_items,
        rng=rng,
        emergence=emergence,
        sharpness=sharpness,
        chance=chance,
        ceiling_gap=ceiling_gap,
        flat_share=flat_share,
    )
    compute = np.geomspace(*compute_range, n_models)
    target_compute = float(compute[-1] * target_ratio)
    all_compute = np.append(compute, target_compute)
    correct = rng.binomial(trials, items.pass_rates(all_compute))
    return _simulated(
        correct,
        trials,
        compute,
        target_compute,
        family="sim",
        benchmark=benchmark,
        chance=chance,
        name="simulated",
        truth=items.expected_score(target_compute),
        items=items,
    )


def simulate_irt_ladder(
    *,
    n_items: int = 10_000,
    n_models: int = 8,
    trials: int = 100,
    decades: float = 3.0,
    smallest: float = 1e20,
    target_ratio: float = 25.0,
    chance: float = 0.0,
    difficulty: tuple[float, float] = (-1.0, 5.0),
    slope: tuple[float, float] = (1.0, 4.0),
    benchmark: str = "irt",
    seed: int = 0,
) -> SimulatedLadder:
    """A ladder whose items follow item-response curves rather than COD's own law: item ``i`` passes with
    ``g + (1 - g) * sigmoid(s_i * (log10(C / smallest) - d_i))``, difficulty ``d_i`` uniform in ``difficulty``
    (decades above the smallest ladder model) and slope ``s_i`` uniform in ``slope`` (per decade). This is the
    world COD describes in words (graded difficulty, smooth per-item growth in log-compute), with a law that
    is not the one it fits, so a forecast's error here is the method's, not the simulator's echo.

    Examples
    --------
    >>> sim = simulate_irt_ladder(n_items=200, n_models=4, trials=10, seed=1)
    >>> len(sim.ladder_models), sim.expected.shape
    (4, (200, 5))
    """
    if n_models < 2 or n_items < 1 or trials < 1:
        raise ValueError("n_models must be at least 2; n_items and trials positive")
    rng = np.random.default_rng(seed)
    d = rng.uniform(*difficulty, size=n_items)
    s = rng.uniform(*slope, size=n_items)
    decade = np.linspace(0.0, decades, n_models)
    compute = smallest * 10.0**decade
    target_compute = float(compute[-1] * target_ratio)
    all_decades = np.append(decade, decades + np.log10(target_ratio))
    expected = chance + (1 - chance) / (1 + np.exp(-s[:, None] * (all_decades[None, :] - d[:, None])))
    return _simulated(
        rng.binomial(trials, expected),
        trials,
        compute,
        target_compute,
        family="irt",
        benchmark=benchmark,
        chance=chance,
        name="simulated-irt",
        truth=float(expected[:, -1].mean()),
        expected=expected,
    )
