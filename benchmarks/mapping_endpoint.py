"""How much of COD's forecast rests on the mapping's (1, 1) endpoint, and how that tracks its misses (issue #15).

    python benchmarks/mapping_endpoint.py            # every public benchmark with items, then simulated ladders

For each forecast COD makes (``min_share=0``, so that it always forecasts): its error in points, the points that
rest on the mapping's (1, 1) endpoint alone (``details["endpoint_points"]``, the rise of the items outside the
predictable subset beyond the ladder's last point that the ladder's own relation between them and the subset
does not carry), and the error the forecast would have without those points (a counterfactual, not a method:
it is how much the endpoint's assumption cost or saved). The simulated ladders are item-response ladders
(``simulate_irt_ladder``, 4,000 items, default difficulty up to 5 decades above the smallest model or a long
tail to 9, the target at 4.4) and ladders drawn from the paper's own law (``simulate_ladder``, 1,000 items).
"""

from __future__ import annotations

import warnings

from joblib import Parallel, delayed

from benchcast.backtest.cases import public_suite
from benchcast.cod.method import COD
from benchcast.simulate import simulate_irt_ladder, simulate_ladder

SIMULATED = [
    *(("irt", {"chance": c}, seed) for c in (0.0, 0.25) for seed in range(3)),
    *(
        ("irt, long tail", {"difficulty": (-1.0, 9.0), "slope": s}, seed)
        for s in ((1.0, 4.0), (16.0, 32.0))
        for seed in range(3)
    ),
    *(("paper's law", {"chance": c}, seed) for c in (0.0, 0.25) for seed in range(3)),
]


def _row(label: str, bench, compute: float, truth: float) -> str | None:
    model = COD(min_share=0.0).fit(bench)
    if model.declined_:
        return None
    answer = model.forecast(compute)
    error = 100 * (answer.value - truth)
    endpoint = answer.details["endpoint_points"]
    share = 100 * answer.details["predictable_share"]
    return f"| {label} | {share:.0f}% | {error:+.1f} | {endpoint:.1f} | {error - endpoint:+.1f} |"


def _suite() -> list[str]:
    rows = []
    for case in public_suite():
        case = case.resolve()
        for benchmark in case.benchmarks or case.ladder.benchmarks:
            bench = case.ladder.benchmark_ladder(benchmark, list(case.ladder_models))
            if bench.n_items < 20:  # an aggregate-only benchmark: COD needs items
                continue
            for target in case.targets:
                truth = float(case.ladder.benchmark_ladder(benchmark, [target]).pass_rates.mean())
                label = f"{case.label} {benchmark} -> {target}"
                rows.append(_row(label, bench, case.ladder.cards[target].compute, truth))
    return [row for row in rows if row]


def _simulated(kind: str, settings: dict, seed: int) -> str | None:
    if kind == "paper's law":
        sim = simulate_ladder(n_items=1000, seed=seed, **settings)
    else:
        sim = simulate_irt_ladder(n_items=4000, seed=seed, **settings)
    label = f"{kind} {', '.join(f'{k}={v}' for k, v in settings.items())}, seed {seed}"
    return _row(label, sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models), sim.target_compute, sim.truth)


def main() -> None:
    warnings.filterwarnings("ignore")
    print("| forecast | predictable share | error | endpoint points | error without them |")
    print("|---|---|---|---|---|")
    for row in _suite():
        print(row)
    for row in Parallel(n_jobs=2)(delayed(_simulated)(*spec) for spec in SIMULATED):
        if row:
            print(row)


if __name__ == "__main__":
    main()
