"""Where COD's regime ends: forecast error against how abruptly items switch on and how far beyond the target
the hardest items lie (issue #15).

    python benchmarks/irt_slopes.py                  # 6 item settings x floors 0 and 1/4 x seeds 0-2
    python benchmarks/irt_slopes.py --items 10000    # larger benchmarks

Each ladder is ``benchcast.simulate.simulate_irt_ladder`` (8 models over 3 decades, 100 trials per item, target
at 25x the largest, i.e. 4.4 decades above the smallest) with item slopes drawn from one range per row and
difficulty uniform from 1 decade below the smallest model to 5 decades above it (the simulator's default) or to
9 (a long tail of items that the target does not reach either, like the rare facts of cod-ladder). A slope
of s logits per decade moves an item from 10% to 90% of its range over 4.4/s decades of compute: the default
range (1-4) spreads that over 1.1-4.4 decades, as COD assumes; a slope of 16-32 makes items switch on within
one ladder step (0.43 decades here), as the facts of the bundled cod-ladder do (``ladders/probe_facts.py``).
Each cell is the mean absolute error in points over the seeds, and the mean signed error; COD runs with
``min_share=0`` so that it always forecasts. ``subset`` is COD's forecast of its predictable subset at the
target, which the mapping then carries to the whole benchmark; ``endpoint`` is how many points of COD's
forecast rest on the mapping's (1, 1) endpoint alone (``details["endpoint_points"]``), where COD warns past 10.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from joblib import Parallel, delayed

from benchcast.cod.method import COD
from benchcast.methods import get_method
from benchcast.simulate import simulate_irt_ladder

SETTINGS = (
    ((1.0, 4.0), (-1.0, 5.0)),
    ((4.0, 8.0), (-1.0, 5.0)),
    ((8.0, 16.0), (-1.0, 5.0)),
    ((16.0, 32.0), (-1.0, 5.0)),
    ((1.0, 4.0), (-1.0, 9.0)),
    ((16.0, 32.0), (-1.0, 9.0)),
)
"""(slope range, difficulty range) per row."""
METHODS = ("cod", "e2e-exp", "powerlaw", "auto")


def _run(n_items: int, setting: tuple, chance: float, seed: int) -> tuple[list[float], float, float, float]:
    slope, difficulty = setting
    sim = simulate_irt_ladder(n_items=n_items, slope=slope, difficulty=difficulty, chance=chance, seed=seed)
    ladder = sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)
    errors, subset, share, endpoint = [], np.nan, np.nan, np.nan
    for name in METHODS:
        method = COD(min_share=0.0) if name == "cod" else get_method(name)
        forecast = method.fit(ladder).forecast(sim.target_compute)
        if forecast.value is None:  # declined: a blank cell
            errors.append(np.nan)
            continue
        errors.append(100 * (forecast.value - sim.truth))
        if name == "cod":
            subset = 100 * forecast.details["subset_forecast"]
            share = 100 * forecast.details["predictable_share"]
            endpoint = forecast.details["endpoint_points"]
    return errors, subset, share, endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    runs = list(itertools.product(SETTINGS, (0.0, 0.25), args.seeds))
    found = Parallel(n_jobs=args.jobs)(delayed(_run)(args.items, s, c, seed) for s, c, seed in runs)
    header = " | ".join(f"{m} mean abs (signed)" for m in METHODS)
    print(f"| slope (logits/decade) | difficulty (decades) | floor | {header} | subset | share | endpoint |")
    print("|---" * (len(METHODS) + 6) + "|")
    for k, ((slope, difficulty), chance) in enumerate(itertools.product(SETTINGS, (0.0, 0.25))):
        rows = found[k * len(args.seeds) : (k + 1) * len(args.seeds)]
        errors = np.array([r[0] for r in rows])
        cells = [
            f"{np.nanmean(np.abs(errors[:, m])):.1f} ({np.nanmean(errors[:, m]):+.1f})" for m in range(len(METHODS))
        ]
        subset = np.mean([r[1] for r in rows])
        share = np.mean([r[2] for r in rows])
        endpoint = np.mean([r[3] for r in rows])
        floor = "0" if chance == 0 else "1/4"
        print(
            f"| {slope[0]:g}-{slope[1]:g} | {difficulty[0]:g} to {difficulty[1]:g} | {floor} | "
            + " | ".join(cells)
            + f" | {subset:.0f}% | {share:.0f}% | {endpoint:.1f} |"
        )


if __name__ == "__main__":
    main()
