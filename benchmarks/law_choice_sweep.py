"""How often COD's pooled law choice leaves the paper's law, where it should and where it should not (issue #15).

    python benchmarks/law_choice_sweep.py            # under a minute on 2 cores

Two families of simulated ladders, every one fitted with COD's default (``law="pooled"``) and with the paper's
law alone:

* **items that follow the paper's law** (``simulate_ladder``): 240 and 1,000 items, 6 and 8 models, 10, 20 and 50
  trials, floors 0 and 1/4, target at 25x, 10 seeds each. Here a switch to the logistic twin is a false alarm.
* **items that follow item-response curves** (``simulate_irt_ladder``): 4,000 and 10,000 items, floors 0 and 1/4,
  seeds 0-5, plus 6-model 2-decade and 20-trial variants. Here the paper's law forecasts low.

Per group: how many ladders switched, and the mean absolute error (points) of the default and of the paper's
law; then the quantiles of the ratio the choice compares (the logistic twin's summed hold-out error over the
paper law's; the twin is taken under ``SELECTION_MARGIN``) on the paper-law ladders.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from joblib import Parallel, delayed

from benchcast.cod.method import COD, SELECTION_MARGIN
from benchcast.laws import COD_LAW, LOGISTIC_LAW
from benchcast.simulate import simulate_irt_ladder, simulate_ladder


def _one(family: str, settings: dict) -> dict:
    sim = simulate_irt_ladder(**settings) if family == "irt" else simulate_ladder(**settings)
    ladder = sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)
    model = COD().fit(ladder)
    value = model.predict(sim.target_compute)
    paper = COD(law="cod").fit(ladder).predict(sim.target_compute)
    errors = (model.law_choice_ or {}).get("holdout_errors") or {}
    ratio = errors[LOGISTIC_LAW.name] / errors[COD_LAW.name] if errors.get(COD_LAW.name) else np.nan
    return {
        "switched": (model.law_choice_ or {}).get("chosen") == LOGISTIC_LAW.name,
        "default": np.nan if value is None else 100 * abs(value - sim.truth),
        "paper": np.nan if paper is None else 100 * abs(paper - sim.truth),
        "ratio": ratio,
    }


def _groups() -> dict[str, list[tuple[str, dict]]]:
    groups: dict[str, list[tuple[str, dict]]] = {}
    for items, models, trials, chance in itertools.product((240, 1000), (6, 8), (10, 20, 50), (0.0, 0.25)):
        name = f"paper's law, {items} items, {models} models, {trials} trials, floor {chance:g}"
        settings = {"n_items": items, "n_models": models, "trials": trials, "chance": chance, "target_ratio": 25.0}
        groups[name] = [("paper", {**settings, "seed": 100 + seed}) for seed in range(10)]
    for items, chance in itertools.product((4000, 10_000), (0.0, 0.25)):
        name = f"item-response, {items} items, floor {chance:g}"
        groups[name] = [("irt", {"n_items": items, "chance": chance, "seed": seed}) for seed in range(6)]
    groups["item-response, 4000 items, 6 models over 2 decades"] = [
        ("irt", {"n_items": 4000, "n_models": 6, "decades": 2.0, "seed": seed}) for seed in range(3)
    ]
    groups["item-response, 4000 items, 20 trials"] = [
        ("irt", {"n_items": 4000, "trials": 20, "seed": seed}) for seed in range(3)
    ]
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    groups = _groups()
    runs = [(name, family, settings) for name, members in groups.items() for family, settings in members]
    found = Parallel(n_jobs=args.jobs)(delayed(_one)(family, settings) for _, family, settings in runs)
    print("| ladders | n | switched | default: mean abs. error | paper's law |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for name in groups:
        rows = [row for (group, _, _), row in zip(runs, found, strict=True) if group == name]
        if name.startswith("paper"):
            ratios += [row["ratio"] for row in rows]
        default = np.nanmean([row["default"] for row in rows])
        paper = np.nanmean([row["paper"] for row in rows])
        switched = sum(row["switched"] for row in rows)
        print(f"| {name} | {len(rows)} | {switched} | {default:.2f} | {paper:.2f} |")
    ratios = np.array(ratios)
    ratios = ratios[np.isfinite(ratios)]
    quantiles = np.quantile(ratios, [0.01, 0.025, 0.05, 0.5])
    print(
        f"\nOn {len(ratios)} paper-law ladders with a comparison, the ratio's 1%, 2.5%, 5% and 50% quantiles: "
        + ", ".join(f"{q:.2f}" for q in quantiles)
        + f" (the twin is taken under {SELECTION_MARGIN})."
    )


if __name__ == "__main__":
    main()
