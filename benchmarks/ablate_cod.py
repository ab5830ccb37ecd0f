"""Ablate COD on a bundled ladder: which part of the method makes its error (issue #15).

    python benchmarks/ablate_cod.py                      # cod-ladder, every variant, markdown table
    python benchmarks/ablate_cod.py --dataset reference-ladder

Each row is one variant of COD (one setting changed from the default, with ``min_share=0`` so that every
variant forecasts) and reports, per benchmark, the signed error of the forecast in points, and split into its
two stages: the *subset* error (the forecast of the predictable subset against the target's measured score on
those same items) and the *mapping* error (the mapping applied to the target's true subset score, against the
truth). A variant that misses through the subset stage extrapolates the wrong curves; one that misses through
the mapping guesses the items that never rose on the ladder.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from benchcast.backtest.cases import dataset_cases
from benchcast.backtest.design import spaced
from benchcast.cod.method import COD
from benchcast.datasets import load_dataset

VARIANTS: dict[str, dict] = {
    "default (min_share=0)": {},
    "law choice (law=select)": {"law": "select"},
    "logistic law only": {"law": "logistic"},
    "mapping poly4 (paper v1)": {"mapping": "poly4"},
    "mapping isotonic": {"mapping": "isotonic"},
    "min cluster size 5": {"min_cluster_size": 5},
    "min cluster size 20": {"min_cluster_size": 20},
    "radius cap 0.15": {"radius_cap": 0.15},
    "radius cap 0.5": {"radius_cap": 0.5},
    "class rule off (a, b > 0)": {"a_min": 0.0, "b_min": 0.0},
    "paper's unit (10^18 FLOPs)": {"compute_unit": 1e18},
    "floor = chance": {"floor": "chance"},
}
LADDER_VARIANTS = {"no adjacent-checkpoint averaging": {"checkpoint_window": 0}}
SIZE_VARIANTS = {"6 ladder models": 6, "4 ladder models": 4}


def run(ladder, ladder_models, target, params) -> dict[str, tuple[float, float, float] | None]:
    """Per benchmark: (error, subset error, mapping error) in points, or None when COD declined."""
    out = {}
    compute = ladder.cards[target].compute
    for benchmark in ladder.benchmarks:
        bench = ladder.benchmark_ladder(benchmark, ladder_models)
        truth_rates = ladder.benchmark_ladder(benchmark, [target]).pass_rates[:, 0]
        model = COD(**{"min_share": 0.0, **params}).fit(bench)
        if model.declined_:
            out[benchmark] = None
            continue
        answer = model.forecast(compute)
        truth = float(truth_rates.mean())
        subset_truth = float(truth_rates[model.predictable_].mean())
        out[benchmark] = (
            100 * (answer.value - truth),
            100 * (answer.details["subset_forecast"] - subset_truth),
            100 * (float(model.mapping_(subset_truth)) - truth),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cod-ladder")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    case = dataset_cases(args.dataset)[0]
    target = case.targets[0]
    base = load_dataset(args.dataset)
    names = sorted(case.ladder_models, key=lambda name: base.cards[name].compute)
    rows = [(label, run(base, names, target, params)) for label, params in VARIANTS.items()]
    for label, kwargs in LADDER_VARIANTS.items():
        rows.append((label, run(load_dataset(args.dataset, **kwargs), names, target, {})))
    for label, count in SIZE_VARIANTS.items():
        rows.append((label, run(base, spaced(names, count), target, {})))
    benchmarks = base.benchmarks
    print("| variant | mean abs error | " + " | ".join(benchmarks) + " |")
    print("|---|---|" + "---|" * len(benchmarks))
    for label, result in rows:
        errors = [abs(v[0]) for v in result.values() if v is not None]
        cells = [
            "declined" if result[b] is None else f"{result[b][0]:+.1f} ({result[b][1]:+.1f} / {result[b][2]:+.1f})"
            for b in benchmarks
        ]
        mean = f"{np.mean(errors):.1f}" if errors else "-"
        print(f"| {label} | {mean} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
