"""COD against e2e-exp on simulated item-response (IRT) ladders: the regime COD describes in words (issue #15).

    python benchmarks/irt_ladders.py                 # 4,000 and 10,000 items, floors 0 and 1/4, seeds 0-2
    python benchmarks/irt_ladders.py --seeds 3 4 5   # other seeds

Each ladder is ``benchcast.simulate.simulate_irt_ladder`` (8 models over 3 decades, 100 trials per item, target
at 25x the largest); each cell is a forecast minus the simulated truth, in points, for COD's default
(``law="pooled"``), the paper's law alone, the per-cluster choice (``law="select"``) and e2e-exp.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from joblib import Parallel, delayed

from benchcast.cod.method import COD
from benchcast.methods import get_method
from benchcast.simulate import simulate_irt_ladder

METHODS = {
    "default (`pooled`)": lambda: COD(),
    "paper's law": lambda: COD(law="cod"),
    "`select`": lambda: COD(law="select"),
    "e2e-exp": lambda: get_method("e2e-exp"),
}


def _errors(n_items: int, chance: float, seed: int) -> list[float]:
    sim = simulate_irt_ladder(n_items=n_items, chance=chance, seed=seed)
    ladder = sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)
    return [100 * (make().fit(ladder).forecast(sim.target_compute).value - sim.truth) for make in METHODS.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    settings = list(itertools.product((4000, 10_000), (0.0, 0.25)))
    runs = list(itertools.product(settings, args.seeds))
    found = Parallel(n_jobs=args.jobs)(delayed(_errors)(n, chance, seed) for (n, chance), seed in runs)
    table = np.array(found).reshape(len(settings), len(args.seeds), len(METHODS))
    print("| IRT ladder (8 models, 100 trials, target 25x) | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 1) + "|")
    for (n, chance), cells in zip(settings, table, strict=True):
        floor = "0" if chance == 0 else "1/4"
        row = [", ".join(f"{v:+.1f}" for v in cells[:, m]) for m in range(len(METHODS))]
        print(f"| {n:,} items, floor {floor} | " + " | ".join(row) + " |")
    errors = np.abs(table.reshape(-1, len(METHODS)))
    print("| mean absolute error | " + " | ".join(f"{v:.1f}" for v in errors.mean(axis=0)) + " |")
    print("| within 1.5 points | " + " | ".join(f"{int(v)} of {len(errors)}" for v in (errors <= 1.5).sum(0)) + " |")


if __name__ == "__main__":
    main()
