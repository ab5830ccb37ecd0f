"""End-to-end COD forecast speed, and where the bootstrap spends its time.

Run from the repository root::

    python benchmarks/bench_forecast.py                             # everything below, defaults
    python benchmarks/bench_forecast.py --sizes 10000 100000 --bootstrap-samples 20

Three parts, each printed as it finishes:

1. ``COD().fit(ladder).forecast(target)`` on one simulated benchmark of 10k, 100k and 1M items x 8 ladder
   models (100 trials per item), each in its own process (wall time; peak resident memory, interpreter and input
   included). Building the ladder from arrays is not timed.
2. The same forecast for 8 benchmarks x 12,000 items x 8 ladder models.
3. ``benchcast.uncertainty.bootstrap`` of a fitted COD (warm-started replicates, as ``forecast`` runs them) on
   one 12,000-item benchmark with ``--bootstrap-samples`` replicates, profiled: the time per replicate, split
   into the stages of COD, and the time 8 benchmarks x 200 replicates would take at that rate.
4. End to end, as a user runs it: ``benchcast.forecast(ladder, method="cod", n_bootstrap=200, n_jobs=2)`` on one
   ``Ladder`` of 8 benchmarks x 12,000 items x 8 ladder models (building the ladder from its results table,
   every fit, every bootstrap replicate).

This is a report, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time

import numpy as np

LADDER = np.geomspace(40e18, 1.4e23, 8)
TARGET = float(LADDER[-1] * 25)


def ladder(n_items: int, seed: int = 0, trials: int = 100):
    """A simulated benchmark as a ``BenchmarkLadder``, built straight from arrays."""
    from benchcast.data.ladder import BenchmarkLadder
    from benchcast.simulate import simulate_items

    rng = np.random.default_rng(seed)
    expected = simulate_items(n_items, rng=rng).pass_rates(LADDER)
    rates = rng.binomial(trials, expected) / trials
    return BenchmarkLadder(
        benchmark=f"sim{seed}",
        models=tuple(f"sim-{i + 1}" for i in range(len(LADDER))),
        compute=LADDER.copy(),
        pass_rates=rates,
        trials=np.full(rates.shape, float(trials)),
        items=np.array([f"q{i}" for i in range(n_items)]),
    )


def worker(n_items: int) -> None:
    from benchcast.cod.method import COD

    bench = ladder(n_items)
    start = time.perf_counter()
    result = COD().fit(bench).forecast(TARGET)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "value": result.value}))


def single_forecasts(sizes: list[int], cap: float) -> None:
    print("\n1. COD forecast, one benchmark, 8 ladder models")
    print(f"{'items':>9} {'wall':>10} {'peak MB':>8} {'forecast':>9}")
    for n_items in sizes:
        command = [sys.executable, __file__, "--worker", str(n_items)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=cap, check=True)
        except subprocess.TimeoutExpired:
            print(f"{n_items:>9} {'> ' + str(int(cap)) + ' s':>10}", flush=True)
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{n_items:>9} {result['seconds']:>8.2f} s {result['peak_mb']:>8.0f} {result['value']:>9.4f}", flush=True)


def suite(n_benchmarks: int, n_items: int) -> None:
    from benchcast.cod.method import COD

    print(f"\n2. COD forecast, {n_benchmarks} benchmarks x {n_items} items x 8 ladder models")
    ladders = [ladder(n_items, seed=seed) for seed in range(n_benchmarks)]
    start = time.perf_counter()
    for bench in ladders:
        COD().fit(bench).forecast(TARGET)
    elapsed = time.perf_counter() - start
    print(f"   total {elapsed:.2f} s, {elapsed / n_benchmarks:.2f} s per benchmark", flush=True)


# where a replicate's time goes, by the functions of each stage (cumulative time)
STAGES = {
    "resample (uncertainty.resample_ladder)": ("uncertainty.py", "resample_ladder"),
    "radius (estimate_bandwidth)": ("meanshift.py", "radius"),
    "clustering (improved_mean_shift)": ("meanshift.py", "improved_mean_shift"),
    "cluster membership (reassign_clusters, warm)": ("seeded.py", "reassign_clusters"),
    "cluster law fits (fit_law)": ("laws.py", "fit_law"),
    "mapping (fit_mapping)": ("mapping.py", "fit_mapping"),
    "COD.fit + forecast in all": ("method.py", "fit"),
}


def bootstrap_profile(n_samples: int, n_items: int, n_benchmarks: int, n_jobs: int) -> None:
    try:
        from benchcast.uncertainty import bootstrap
    except ImportError:
        print("\n3. bootstrap: benchcast.uncertainty is not available")
        return
    from benchcast.cod.method import COD

    print(f"\n3. bootstrap, COD, one benchmark x {n_items} items, {n_samples} replicates, n_jobs={n_jobs}")
    bench = ladder(n_items)
    # fitted, as forecast() passes it: every replicate starts from this fit (warm start)
    fitted = COD().fit(bench)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    result = bootstrap(fitted, bench, TARGET, n_samples=n_samples, seed=0, n_jobs=n_jobs)
    profile.disable()
    elapsed = time.perf_counter() - start
    per = elapsed / n_samples
    print(f"   {elapsed:.2f} s, {per:.2f} s per replicate; intervals {result.intervals}")
    full = per * 200 * n_benchmarks
    print(f"   at this rate {n_benchmarks} benchmarks x 200 replicates take {full:.0f} s ({full / 60:.1f} min)")
    if n_jobs != 1:
        return
    stats = pstats.Stats(profile).stats
    print(f"   {'stage':<42} {'s/replicate':>11} {'share':>6}")
    for label, (filename, function) in STAGES.items():
        total = sum(value[3] for key, value in stats.items() if key[0].endswith(filename) and key[2] == function)
        print(f"   {label:<42} {total / n_samples:>11.3f} {total / elapsed:>6.0%}")


def end_to_end(n_benchmarks: int, n_items: int, n_samples: int, n_jobs: int) -> None:
    import pandas as pd

    from benchcast.data.ladder import Ladder
    from benchcast.forecast import forecast
    from benchcast.simulate import simulate_ladder

    print(
        f"\n4. end to end: forecast(method='cod', n_bootstrap={n_samples}, n_jobs={n_jobs}), "
        f"{n_benchmarks} benchmarks x {n_items} items x 8 ladder models"
    )
    sims = [simulate_ladder(n_items=n_items, benchmark=f"sim{seed}", seed=seed) for seed in range(n_benchmarks)]
    ladder = Ladder(pd.concat([sim.results for sim in sims], ignore_index=True), sims[0].cards)
    start = time.perf_counter()
    result = forecast(ladder, target=sims[0].target, method="cod", n_bootstrap=n_samples, n_jobs=n_jobs)
    elapsed = time.perf_counter() - start
    widths = [b.interval["80"][1] - b.interval["80"][0] for b in result.benchmarks.values() if b.interval]
    print(f"   total {elapsed:.1f} s; {len(widths)} benchmarks with intervals, mean 80% width {np.mean(widths):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a single forecast is stopped")
    parser.add_argument("--benchmarks", type=int, default=8)
    parser.add_argument("--items", type=int, default=12_000)
    parser.add_argument("--bootstrap-samples", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1, help="bootstrap workers (the profile needs 1)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["single", "suite", "bootstrap", "end-to-end"])
    parser.add_argument("--end-to-end-jobs", type=int, default=2, help="workers of the end-to-end run")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    if "single" not in args.skip:
        single_forecasts(args.sizes, args.cap)
    if "suite" not in args.skip:
        suite(args.benchmarks, args.items)
    if "bootstrap" not in args.skip and args.bootstrap_samples > 0:
        bootstrap_profile(args.bootstrap_samples, args.items, args.benchmarks, args.jobs)
    if "end-to-end" not in args.skip:
        end_to_end(args.benchmarks, args.items, args.bootstrap_samples, args.end_to_end_jobs)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
    else:
        main()
