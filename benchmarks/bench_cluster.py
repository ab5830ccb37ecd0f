"""Clustering speed: benchcast's mean shift against scikit-learn's MeanShift on the same pass-rate vectors.

Run from the repository root::

    python benchmarks/bench_cluster.py                        # 10k, 100k and 1M items, 8 ladder models
    python benchmarks/bench_cluster.py --sizes 10000 --cap 60  # one size, scikit-learn stopped after 60 s

Items are simulated with ``benchcast.simulate`` (8 ladder models, 100 trials each; all-zero items dropped, as
COD drops them). Every measurement runs in its own process, so wall time and peak memory belong to that call
alone; scikit-learn is killed at ``--cap`` seconds and
reported as "> cap s". Peak memory is the process's peak resident size (``ru_maxrss``): interpreter, libraries
and input included. Rows:

* ``sklearn MeanShift``: ``MeanShift(bandwidth=R, cluster_all=False)``, a seed at every point;
* ``sklearn MeanShift bins``: the same with ``bin_seeding=True``;
* ``benchcast mean_shift``: one mean-shift run, ``seeding="auto"`` (every point up to 20,000 distinct points,
  scikit-learn's bins above: the same labels as the matching scikit-learn row);
* ``benchcast improved_mean_shift``: COD's whole clustering (Algorithm 1: mean shift re-run on the pool);
* ``... sample=N``: the same with ``sample_size=N`` (modes found on N points, every item labelled).

The clustering's compiled kernel (numba) is reported first: its compile time with an empty cache, and the
time to load it from numba's cache, which is what every later process pays. Each timed row below loads the
kernel from the cache inside its timing.

This is a report, not a test: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LADDER = np.geomspace(40e18, 1.4e23, 8)


def pass_rates(n_items: int, seed: int = 0, trials: int = 100) -> np.ndarray:
    """Pass-rate vectors of ``n_items`` simulated items on an 8-model ladder, all-zero rows dropped."""
    from benchcast.simulate import simulate_items

    rng = np.random.default_rng(seed)
    expected = simulate_items(n_items, rng=rng).pass_rates(LADDER)
    rates = rng.binomial(trials, expected) / trials
    return rates[rates.sum(axis=1) > 0]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(kind: str, path: str, bandwidth: float, sample_size: int | None) -> None:
    """Run one clustering on the saved points and print its time, memory and cluster count as JSON."""
    from sklearn.cluster import MeanShift

    from benchcast.cod.meanshift import improved_mean_shift, mean_shift

    points = np.load(path)
    start = time.perf_counter()
    if kind.startswith("sklearn"):
        fitted = MeanShift(bandwidth=bandwidth, cluster_all=False, bin_seeding=kind.endswith("bins")).fit(points)
        labels = fitted.labels_
    elif kind == "mean_shift":
        _, labels = mean_shift(points, bandwidth)
    else:
        labels, _ = improved_mean_shift(points, bandwidth, sample_size=sample_size)
    elapsed = time.perf_counter() - start
    np.save(path.replace(".npy", f".{kind}.labels.npy"), labels)
    print(json.dumps({"seconds": elapsed, "peak_mb": _rss_mb(), "clusters": int(labels.max() + 1)}))


def jit_worker() -> None:
    """Print the seconds of the first clustering call of a process (compile, or load from the cache)."""
    from benchcast.cod.meanshift import improved_mean_shift

    start = time.perf_counter()
    improved_mean_shift(np.random.default_rng(0).uniform(0, 1, (50, 3)), 0.2)
    print(json.dumps({"seconds": time.perf_counter() - start}))


def jit_seconds() -> tuple[float, float]:
    """Seconds of the first call with an empty numba cache (compiling), then with that cache filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        times = [
            json.loads(
                subprocess.run([sys.executable, __file__, "--jit"], capture_output=True, text=True, check=True, env=env)
                .stdout.strip()
                .splitlines()[-1]
            )["seconds"]
            for _ in range(2)
        ]
    return times[0], times[1]


def measure(kind: str, path: str, bandwidth: float, cap: float, sample_size: int | None = None) -> dict:
    command = [sys.executable, __file__, "--worker", kind, path, repr(bandwidth), str(sample_size or 0)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap, check=True)
    except subprocess.TimeoutExpired:
        return {"seconds": math.inf, "peak_mb": math.nan, "clusters": None}
    except subprocess.CalledProcessError as error:
        return {"seconds": math.nan, "peak_mb": math.nan, "clusters": None, "error": error.stderr[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(path: str, kind: str, reference: str) -> str:
    """Adjusted Rand index of two saved labellings (1.0: the same clusters up to renaming)."""
    from sklearn.metrics import adjusted_rand_score

    files = [path.replace(".npy", f".{k}.labels.npy") for k in (kind, reference)]
    if not all(os.path.exists(f) for f in files):
        return ""
    a, b = (np.load(f) for f in files)
    return "identical" if np.array_equal(a, b) else f"ARI {adjusted_rand_score(a, b):.4f}"


def seconds(value: float, cap: float) -> str:
    return f"> {cap:.0f} s" if math.isinf(value) else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cap", type=float, default=120.0, help="seconds before scikit-learn is stopped")
    parser.add_argument("--our-cap", type=float, default=1800.0, help="seconds before a benchcast run is stopped")
    parser.add_argument("--sample-size", type=int, default=100_000, help="sample_size row above this many items")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from benchcast.cod.meanshift import merge_duplicates, radius

    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    compile_seconds, cached_seconds = jit_seconds()
    print(f"compiled kernel, first call: {compile_seconds:.1f} s compiling, {cached_seconds:.2f} s from the cache")
    header = f"{'items':>9} {'distinct':>9} {'method':<44} {'wall':>10} {'peak MB':>8} {'clusters':>8}  vs sklearn"
    print(header)
    with tempfile.TemporaryDirectory() as folder:
        for n_items in args.sizes:
            points = pass_rates(n_items, seed=args.seed)
            start = time.perf_counter()
            bandwidth = radius(points, cap=math.sqrt(points.shape[1]) / 10)
            radius_seconds = time.perf_counter() - start
            path = str(Path(folder) / f"points{n_items}.npy")
            np.save(path, points)
            distinct = len(merge_duplicates(points)[0])
            print(
                f"{n_items:>9} {distinct:>9} {'radius (estimate_bandwidth, R=' + f'{bandwidth:.4f})':<44} "
                f"{radius_seconds:>8.2f} s"
            )
            rows = [
                ("sklearn MeanShift", "sklearn", args.cap, None),
                ("sklearn MeanShift bins", "sklearn-bins", args.cap, None),
                ("benchcast mean_shift", "mean_shift", args.our_cap, None),
                ("benchcast improved_mean_shift", "improved", args.our_cap, None),
            ]
            if n_items > args.sample_size:
                rows.append(
                    (
                        f"benchcast improved_mean_shift sample={args.sample_size}",
                        "improved-sample",
                        args.our_cap,
                        args.sample_size,
                    )
                )
            results = {}
            for label, kind, cap, sample in rows:
                results[kind] = result = measure(kind, path, bandwidth, cap, sample)
                same = distinct <= 20_000
                reference = "sklearn" if same else "sklearn-bins"
                note = ""
                if kind == "mean_shift":
                    ref = results[reference]["seconds"]
                    if math.isfinite(ref):
                        speed = f"{ref / result['seconds']:.1f}x faster than {reference}"
                    elif result["seconds"] < args.cap:
                        speed = f"> {args.cap / result['seconds']:.1f}x faster than {reference}"
                    else:
                        speed = f"{reference} stopped at {args.cap:.0f} s"
                    labels = agreement(path, kind, reference) or "not compared"
                    note = f"{speed}; labels {labels}"
                elif kind == "improved-sample":
                    note = f"labels vs full improved: {agreement(path, kind, 'improved') or 'n/a'}"
                cap_used = args.cap if kind.startswith("sklearn") else args.our_cap
                peak = "" if math.isnan(result["peak_mb"]) else f"{result['peak_mb']:.0f}"
                clusters = "" if result["clusters"] is None else str(result["clusters"])
                print(
                    f"{n_items:>9} {distinct:>9} {label:<44} {seconds(result['seconds'], cap_used):>10} "
                    f"{peak:>8} {clusters:>8}  {note}",
                    flush=True,
                )
                if "error" in result:
                    print(result["error"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]) or None)
    elif len(sys.argv) > 1 and sys.argv[1] == "--jit":
        jit_worker()
    else:
        main()
