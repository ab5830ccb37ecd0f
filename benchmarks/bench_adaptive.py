"""Adaptive sampling benchmark: replays the bundled 100-sample ladders through the stopping rule, and measures
``benchcast evaluate``'s samples/s on tiny GPT-2 checkpoints with 1 and 2 workers.

Not a test. Two parts:

* **replay** (``--skip-replay`` to leave out). For every bundled dataset whose ladder items all have 100 stored
  samples (the reference ladder; ``cod-ladder`` too once it is bundled), each (checkpoint, item)'s samples are put
  in a seeded random order (its ``correct`` passes among its 100 trials, shuffled) and fed to
  ``benchcast.evaluation.adaptive.replay`` with the default rule. The forecasts (COD and auto) from the adaptive
  draws are compared with those from all 100 samples, and with two controls: every cell keeping a uniform
  random subset of the same total size ("uniform, same cost"), and every cell keeping 90 of its 100 ("uniform
  90"), which shows how far the forecast moves on any resampling at all. A first table shows how the ladder's
  benchmark scores move (the mean change is the bias), the second how the forecasts do. The target's own results
  are never subsampled (they are the truth, not an input).
* **throughput** (``--skip-throughput``). ``benchcast evaluate`` on a tiny ladder (random one-layer GPT-2s from
  ``tests/fixtures/tiny_ladder.py``, a generated one-digit addition task), in a fresh process per run: 1 worker
  (this process), 2 local processes, and 2 Ray workers when Ray is installed; reports the summary's samples/s
  (from the first unit submitted to the last ingested, worker start-up included) and the command's wall time.

Usage::

    python benchmarks/bench_adaptive.py [--seeds 2] [--methods cod,auto] [--datasets reference-ladder]
                                        [--tolerance 0.125] [--items 200] [--repeats 20]
                                        [--skip-replay] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchcast.data.cards import Role
from benchcast.datasets import list_datasets, load_dataset, load_results
from benchcast.evaluation.adaptive import AdaptiveRule, replay
from benchcast.forecast import forecast

BUDGET = 100
ROOT = Path(__file__).resolve().parents[1]


def replayable(name: str) -> bool:
    """A dataset whose ladder cells all hold exactly ``BUDGET`` samples."""
    results = load_results(name)
    cards = load_dataset(name).cards
    ladder = results[results["model"].map(lambda m: cards[m].role is not Role.TARGET)]
    return bool(len(ladder)) and bool((ladder["trials"] == BUDGET).all())


def draw_orders(correct: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each cell's ``BUDGET`` outcomes in a random order: its ``correct`` passes, shuffled among the trials."""
    ranks = rng.random((*correct.shape, BUDGET)).argsort(axis=2).argsort(axis=2)
    return ranks < correct[..., None]


def subsampled(name: str, rule: AdaptiveRule, seed: int) -> dict[str, tuple[pd.DataFrame, float]]:
    """The dataset's results with the ladder replayed three ways: ``adaptive``, ``uniform, same cost`` and
    ``uniform 90``; each with its samples drawn over the fixed budget."""
    results = load_results(name)
    cards = load_dataset(name).cards
    is_target = results["model"].map(lambda m: cards[m].role is Role.TARGET)
    ladder, target = results[~is_target], results[is_target]
    order = sorted(
        set(zip(ladder["model"], ladder["step"].fillna(-1), strict=True)), key=lambda c: (cards[c[0]].compute, c[1])
    )
    frames: dict[str, list[pd.DataFrame]] = {"adaptive": [], "uniform, same cost": [], "uniform 90": []}
    drawn = dict.fromkeys(frames, 0.0)
    cells = 0
    for index, (benchmark, rows) in enumerate(ladder.groupby("benchmark", sort=True)):
        rows = rows.assign(step=rows["step"].fillna(-1))
        pivot = rows.pivot(index=["model", "step"], columns="item", values="correct").loc[order]
        outcomes = draw_orders(pivot.to_numpy(), np.random.default_rng([seed, index]))
        trials, correct = replay(outcomes, rule)
        cumulative = np.cumsum(outcomes, axis=2)
        same = max(1, round(float(trials.mean())))
        ways = {
            "adaptive": (trials, correct),
            "uniform, same cost": (np.full(trials.shape, same), cumulative[..., same - 1]),
            "uniform 90": (np.full(trials.shape, 90), cumulative[..., 89]),
        }
        for way, (t, c) in ways.items():
            frames[way].append(
                pd.DataFrame(
                    {
                        "model": np.repeat([m for m, _ in order], pivot.shape[1]),
                        "step": np.repeat([s for _, s in order], pivot.shape[1]),
                        "benchmark": benchmark,
                        "item": np.tile(pivot.columns.to_numpy(), len(order)),
                        "trials": np.asarray(t, dtype=float).ravel(),
                        "correct": np.asarray(c, dtype=float).ravel(),
                    }
                )
            )
            drawn[way] += float(np.sum(t))
        cells += trials.size
    out = {}
    for way, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        frame["step"] = frame["step"].where(frame["step"] >= 0)
        frame["score"] = np.nan
        frame["pass_rate"] = frame["correct"] / frame["trials"]
        out[way] = (pd.concat([frame, target], ignore_index=True)[results.columns], drawn[way] / (cells * BUDGET))
    return out


def forecasts(name: str, results: pd.DataFrame | None, method: str) -> dict[str, float | None]:
    ladder = load_dataset(name, results=results)
    target = next(n for n, c in ladder.cards.items() if c.role is Role.TARGET)
    return {b: answer.forecast for b, answer in forecast(ladder, target=target, method=method).benchmarks.items()}


def ladder_scores(results: pd.DataFrame) -> pd.Series:
    return results.groupby(["model", "step", "benchmark"], dropna=False)["pass_rate"].mean()


def run_replay(seeds: int, methods: list[str], rule: AdaptiveRule, datasets: list[str] | None) -> None:
    """Two tables: how the ladder's benchmark scores move (fast), then the forecasts (slow; none without methods)."""
    names = [name for name in datasets or list_datasets() if replayable(name)]
    print(f"rule: {rule}\n")
    replays = {(name, seed): subsampled(name, rule, seed) for name in names for seed in range(seeds)}
    columns = ["dataset", "seed", "replay", "samples drawn / fixed budget", "mean change", "mean abs. change", "max"]
    print("ladder scores (each ladder checkpoint's mean pass rate per benchmark), change in points:\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for (name, seed), ways in replays.items():
        full_scores = ladder_scores(load_results(name))
        for way, (results, share) in ways.items():
            change = (ladder_scores(results) - full_scores).dropna() * 100
            change = change[change.index.isin(ladder_scores(ladder_only(name, results)).index)]
            print(
                f"| {name} | {seed} | {way} | {share:.3f} ({1 / share:.2f}x fewer) | {change.mean():+.3f} | "
                f"{change.abs().mean():.3f} | {change.abs().max():.2f} |",
                flush=True,
            )
    if not methods:
        return
    columns = [
        "dataset",
        "method",
        "seed",
        "replay",
        "mean abs. change of the forecast (points)",
        "max",
        "declined on one side only",
    ]
    print("\nforecasts of the target, change against the forecast from all samples:\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    base = {(name, method): forecasts(name, None, method) for name in names for method in methods}
    for (name, seed), ways in replays.items():
        for way, (results, _) in ways.items():
            for method in methods:
                before = base[(name, method)]
                new = forecasts(name, results, method)
                both = [b for b in before if before[b] is not None and new[b] is not None]
                changes = [abs(new[b] - before[b]) * 100 for b in both]
                flips = [b for b in before if (before[b] is None) != (new[b] is None)]
                print(
                    f"| {name} | {method} | {seed} | {way} | {np.mean(changes):.2f} ({len(both)} benchmarks) | "
                    f"{np.max(changes):.2f} | {', '.join(flips) or '-'} |",
                    flush=True,
                )


def ladder_only(name: str, results: pd.DataFrame) -> pd.DataFrame:
    cards = load_dataset(name).cards
    return results[results["model"].map(lambda m: cards[m].role is not Role.TARGET)]


def run_throughput(items: int, repeats: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.tiny_ladder import TASK, write_ladder, write_task

    runs = [["--workers", "1"], ["--workers", "2"]]
    try:
        import ray  # noqa: F401

        runs.append(["--ray", "auto", "--workers", "2"])
    except ImportError:
        pass
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="bench-adaptive-") as folder:
        root = Path(folder)
        cards = write_ladder(root)
        write_task(root / "tasks", items=items, repeats=repeats)
        env["HF_HOME"] = str(root / "hf")
        total = 5 * items * repeats
        print(f"\ntiny ladder: 5 checkpoints x {TASK} ({items} items x {repeats} samples = {total:,} samples)")
        print("| workers | samples/s (run) | wall time of the command |")
        print("|---|---|---|")
        for number, options in enumerate(runs):
            label = " ".join(options) + (" (this process)" if options[-1] == "1" else "")
            store = root / f"runs-{number}.duckdb"
            command = [sys.executable, "-c", "from benchcast.cli import main; main()", "evaluate"]
            command += ["--models", str(cards), "--tasks", TASK]
            command += ["--include-path", str(root / "tasks"), "--store", str(store), "--threads", "1", *options]
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            if done.returncode:
                print(f"| {label} | failed: {done.stderr.strip().splitlines()[-1]} | |")
                continue
            rate = re.search(r"\(([\d.]+) samples/s\)", done.stdout)
            print(f"| {label} | {rate.group(1) if rate else '?'} | {wall:.1f} s |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="Draw orders replayed per dataset.")
    parser.add_argument("--methods", default="cod,auto", help="Forecasting methods; '' for the ladder scores only.")
    parser.add_argument("--tolerance", type=float, default=AdaptiveRule.tolerance, help="The rule's tolerance.")
    parser.add_argument("--datasets", help="Comma-separated bundled datasets (default: every replayable one).")
    parser.add_argument("--items", type=int, default=200, help="Items of the throughput task.")
    parser.add_argument("--repeats", type=int, default=20, help="Samples per item of the throughput task.")
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.skip_replay:
        datasets = args.datasets.split(",") if args.datasets else None
        methods = [method for method in args.methods.split(",") if method]
        run_replay(args.seeds, methods, AdaptiveRule(budget=BUDGET, tolerance=args.tolerance), datasets)
    if not args.skip_throughput:
        run_throughput(args.items, args.repeats)


if __name__ == "__main__":
    main()
