"""Regenerate the ``reference-ladder`` dataset from scratch: train, evaluate, ingest, bundle, forecast.

    python ladders/run_all.py --out ladders/out                      # the reference ladder
    python ladders/run_all.py --ladder cod --out ladders/out-cod     # the COD-regime ladder (world.py)

Stages (each resumes: a model with ``train.json``, a checkpoint with results, is not redone):

1. write the lm-eval tasks (``<out>/tasks``: YAML, generated JSONL, filter/metric module);
2. train the 8 ladder models and the target (``<out>/models/<model>/step<k>``, Hugging Face format), and
3. right after each, evaluate its own checkpoint and its two neighbours with lm-eval (``<out>/lmeval``);
4. ``benchcast ingest <out>/lmeval --store <out>/store.duckdb`` and ``benchcast export`` to Parquet;
5. bundle into ``src/benchcast/datasets/reference_ladder`` (``--bundle``; ``--no-bundle`` to skip);
6. forecast the target with every method and print each method's error per benchmark (``<out>/forecasts.json``).

Everything random takes a seed; training and sampling run on one torch thread so that a rerun on the same
software gives the same numbers. ``--models`` restricts stages 2-3 to some models (``check.py`` uses it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import bundle  # noqa: E402
import bundle_cod  # noqa: E402
import tasks  # noqa: E402
import torch  # noqa: E402
import world  # noqa: E402
from evaluate import REPEATS, evaluate_checkpoint, write_tasks  # noqa: E402
from model import ALL_SIZES, COD_SIZES, COD_TARGET, TARGET, Size, model_seed  # noqa: E402
from train import train  # noqa: E402

REPO = HERE.parent
DATASETS = REPO / "src" / "benchcast" / "datasets"
DEFAULT_BUNDLE = DATASETS / "reference_ladder"
LICENSE = DATASETS / "pythia_arithmetic" / "LICENSE"
EVAL_SEED = 0


@dataclass(frozen=True)
class Spec:
    """One ladder: its models, training stream, lm-eval tasks, bundle folder and the writer of that folder."""

    sizes: tuple[Size, ...]
    target: Size
    batches: Callable
    items_writer: Callable | None
    prefix: str
    max_answer: int
    bundle: Path
    write_dataset: Callable


SPECS = {
    "reference": Spec(
        ALL_SIZES,
        TARGET,
        tasks.training_batches,
        None,
        "refl_",
        tasks.MAX_ANSWER,
        DEFAULT_BUNDLE,
        bundle.write_dataset,
    ),
    "cod": Spec(
        COD_SIZES,
        COD_TARGET,
        world.training_batches,
        world.write_items,
        "codl_",
        world.MAX_ANSWER,
        DATASETS / "cod_ladder",
        bundle_cod.write_dataset,
    ),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def evaluate_model(out: Path, info: dict, tasks: list[str], task_dir: Path, tm) -> dict[str, float]:
    """Evaluate a model's own checkpoint and its two neighbours (skipping those already evaluated)."""
    seconds: dict[str, float] = {}
    for step in info["steps"]:
        folder = out / "lmeval" / f"{info['model']}__step{step}"
        done = folder / "eval.json"
        if not done.exists():
            checkpoint = out / "models" / info["model"] / f"step{step}"
            result = evaluate_checkpoint(
                checkpoint, info["model"], step, tasks, task_dir, out / "lmeval", seed=EVAL_SEED, task_manager=tm
            )
            done.write_text(json.dumps(result, indent=1))
            scores = " ".join(f"{k.removeprefix('refl_')}={v:.3f}" for k, v in result["scores"].items())
            log(f"evaluated {info['model']} step {step} in {result['seconds']:.0f}s: {scores}")
        seconds[f"{info['model']}@{step}"] = json.loads(done.read_text())["seconds"]
    return seconds


def ingest(out: Path) -> Path:
    store = out / "store.duckdb"
    export = out / "items.parquet"
    store.unlink(missing_ok=True)
    subprocess.run(["benchcast", "ingest", str(out / "lmeval"), "--store", str(store), "--quiet"], check=True)
    subprocess.run(["benchcast", "export", "--store", str(store), str(export)], check=True)
    return export


def forecasts(folder: Path, out: Path, target: str = TARGET.name) -> dict:
    from benchcast import load_ladder, method_names
    from benchcast.forecast import forecast

    ladder = load_ladder([folder / "results.csv.gz"], folder / "models.csv")
    table: dict[str, dict[str, dict]] = {}
    for method in method_names():
        try:
            result = forecast(ladder, target=target, method=method)
        except Exception as error:  # a method that fails is reported, not fatal
            table[method] = {"error": f"{type(error).__name__}: {error}"}
            continue
        table[method] = {
            name: {"forecast": bf.forecast, "truth": bf.truth, "error_points": bf.error, "declined": bf.declined}
            for name, bf in result.benchmarks.items()
        }
    (out / "forecasts.json").write_text(json.dumps(table, indent=1))
    benchmarks = sorted(next(v for v in table.values() if "error" not in v))
    print("error (points) of each method's forecast of " + target)
    width = max(len(b) for b in benchmarks) + 2
    print(f"{'method':<10}" + "".join(f"{b:>{width}}" for b in benchmarks))
    for method, rows in table.items():
        if "error" in rows:
            print(f"{method:<10} failed: {rows['error']}")
            continue
        cells = []
        for b in benchmarks:
            e = rows[b]["error_points"]
            cells.append(f"{e:>{width}.2f}" if e is not None else f"{'declined':>{width}}")
        print(f"{method:<10}" + "".join(cells))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ladder", choices=sorted(SPECS), default="reference", help="which ladder to make")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="work folder (weights, lm-eval outputs)")
    parser.add_argument("--bundle", type=Path, help="dataset folder to write (default: the ladder's own)")
    parser.add_argument("--no-bundle", action="store_true", help="stop after ingest/export")
    parser.add_argument("--models", help="comma-separated models to train and evaluate (default: all)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: reproducible, and fastest on a busy machine)"
    )
    args = parser.parse_args(argv)
    spec = SPECS[args.ladder]
    bundle_folder = args.bundle or spec.bundle
    torch.set_num_threads(args.threads)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.models.split(",")) if args.models else None
    sizes = [size for size in spec.sizes if wanted is None or size.name in wanted]
    start = time.time()

    task_dir = out / "tasks"
    names = write_tasks(
        task_dir, repeats=REPEATS, items_writer=spec.items_writer, prefix=spec.prefix, max_answer=spec.max_answer
    )
    log(f"tasks {', '.join(names)} written to {task_dir}")

    # Each model is evaluated right after its training, so that a target trained by another process (train.py
    # waits on its lock) does not hold up the ladder's evaluation.
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(task_dir), include_defaults=False)
    plans, eval_seconds = [], {}
    for size in sizes:
        info = train(size, out / "models", seed=model_seed(size), log=log, batches=spec.batches)
        log(
            f"trained {size.name}: {info['params']} params, {info['tokens']} tokens, loss {info['loss']:.4f}, "
            f"{info['train_seconds']:.0f}s"
        )
        plans.append(info)
        eval_seconds.update(evaluate_model(out, info, names, task_dir, tm))

    ingest_start = time.time()
    export = ingest(out)
    ingest_seconds = time.time() - ingest_start
    log(f"ingested and exported to {export}")
    timings = {
        "train ladder": sum(p["train_seconds"] for p in plans if p["model"] != spec.target.name),
        "train target": sum(p["train_seconds"] for p in plans if p["model"] == spec.target.name),
        "evaluate ladder (24 checkpoints)": sum(
            v for k, v in eval_seconds.items() if not k.startswith(spec.target.name)
        ),
        "evaluate target (3 checkpoints)": sum(v for k, v in eval_seconds.items() if k.startswith(spec.target.name)),
        "benchcast ingest + export": ingest_seconds,
    }
    (out / "timings.json").write_text(json.dumps(timings, indent=1))
    if args.no_bundle:
        log(f"done in {time.time() - start:.0f}s (no bundle)")
        return 0
    summary = spec.write_dataset(export, plans, bundle_folder, timings=timings, license_from=LICENSE, repeats=REPEATS)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    log(f"bundled into {bundle_folder}")
    forecasts(bundle_folder, out, spec.target.name)
    log(f"done in {time.time() - start:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
