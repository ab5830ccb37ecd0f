"""Would a redesigned cod-ladder put COD in its regime? A check before spending the CPU time (issue #15).

    python benchmarks/cod_ladder_designs.py

The bundled cod-ladder misses COD's regime because two thirds of each fact benchmark lies beyond even the
target's reach (docs/decisions.md). A second ladder with the same model sizes and recipe could bound the
items' difficulty instead: give each benchmark's 1,000 facts training frequencies spread log-uniformly over a
chosen range. This script simulates such ladders from what the bundled one measured, before any training:

* a fact whose share of the training stream's fact lines is ``f`` is known by a model once ``f`` exceeds
  ``1 / B``, where ``B`` (the model's *fact budget*) is ``3 x H x r``: the three attributes, the Zipf
  normaliser H of 50,000 entities and the popularity rank ``r`` that the model knows half of the way, fitted by
  ``ladders/probe_facts.py`` on `code` and `friend` (codl-02 to codl-08: 1, 2, 4.7, 12, 33, 53, 94; target 800;
  codl-01 knows nothing, 0.3 stands for it);
* difficulty ``d = log10(1 / f)``, uniform over the design's range, and a fact's pass rate a logistic curve in
  ``log10 B - d`` with the slope the probe measured (13-18 logits per decade: facts switch on within one ladder
  step) or, for comparison, a 2-3x broader one (4-8) that memorised facts do not show;
* the ladder's real compute (codl-01 to codl-08, target 21.7x), 300 trials per item (100 samples at three
  checkpoints), 1,000 items, floors 0 and 1/4, 3 seeds.

``budget`` is the share of all fact lines that the benchmark's facts need at these frequencies: three such
benchmarks must fit in one stream, so a design above about 0.3 cannot be trained as specified. Each method
cell is the mean absolute error in points over the seeds (mean signed error in brackets).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
from joblib import Parallel, delayed

from benchcast.cod.method import COD
from benchcast.methods import get_method
from benchcast.simulate import _simulated

COMPUTE = np.array([2.16e10, 4.06e10, 1.12e11, 2.52e11, 4.95e11, 8.79e11, 1.45e12, 2.27e12])
TARGET_COMPUTE = 4.93e13
HALF_KNOWN_RANK = np.array([0.3, 1.0, 2.0, 4.7, 12.0, 32.6, 53.0, 94.0, 800.0])
"""codl-01 ... codl-08, target: the rank each knows half of the way (probe_facts.py, code and friend)."""
BUDGET = np.log10(3 * 11.4 * HALF_KNOWN_RANK)
DESIGNS = ((2.6, 5.0), (2.6, 4.7), (2.0, 4.7), (1.5, 4.7))
SLOPES = {"measured (13-18)": (13.0, 18.0), "2-3x broader (4-8)": (4.0, 8.0)}
METHODS = ("cod", "e2e-exp", "powerlaw", "auto")
ITEMS, TRIALS = 1000, 300


def _run(design: tuple[float, float], slope: tuple[float, float], chance: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    difficulty = rng.uniform(*design, ITEMS)
    slopes = rng.uniform(*slope, ITEMS)
    expected = chance + (1 - chance) / (1 + np.exp(-slopes[:, None] * (BUDGET[None, :] - difficulty[:, None])))
    sim = _simulated(
        rng.binomial(TRIALS, expected),
        TRIALS,
        COMPUTE,
        TARGET_COMPUTE,
        family="design",
        benchmark="facts",
        chance=chance,
        name="cod-ladder-design",
        truth=float(expected[:, -1].mean()),
        expected=expected,
    )
    ladder = sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)
    out = [100 * sim.truth, 100 * expected[:, -2].mean()]
    for name in METHODS:
        answer = (COD() if name == "cod" else get_method(name)).fit(ladder).forecast(sim.target_compute)
        out.append(np.nan if answer.value is None else 100 * (answer.value - sim.truth))
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    rows = list(itertools.product(DESIGNS, SLOPES.items(), (0.0, 0.25)))
    found = Parallel(n_jobs=2)(
        delayed(_run)(design, slope, chance, seed) for design, (_, slope), chance in rows for seed in range(3)
    )
    print("| difficulty (decades) | budget | item slope | floor | target | ladder top | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 6) + "|")
    for k, (design, (label, _), chance) in enumerate(rows):
        cells = np.array(found[3 * k : 3 * k + 3])
        low, high = design
        budget = ITEMS / (high - low) * (10**-low - 10**-high) / math.log(10)
        errors = " | ".join(
            f"{np.nanmean(np.abs(cells[:, i])):.1f} ({np.nanmean(cells[:, i]):+.1f})" for i in range(2, cells.shape[1])
        )
        floor = "0" if chance == 0 else "1/4"
        scores = f"{cells[:, 0].mean():.0f}% | {cells[:, 1].mean():.0f}%"
        print(f"| {low}-{high} | {budget:.2f} | {label} | {floor} | {scores} | {errors} |")


if __name__ == "__main__":
    main()
