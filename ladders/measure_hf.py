"""Measure the stock lm-eval HF path (``lm_eval run --model hf``) against ``refl-sampler`` on a few items.

    python ladders/measure_hf.py --out ladders/out --checkpoint ladders/out/models/refl-08/step1776 --limit 10

Runs both on the first ``--limit`` items of every refl_* task (each sampled ``repeats`` times), prints the
wall time and samples per second of each, and the extrapolated time of one full checkpoint (2,400 items).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from evaluate import REPEATS  # noqa: E402
from tasks import DIFFICULTY_FAMILIES, ITEMS_PER_FAMILY  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    task_dir = (args.out / "tasks").resolve()
    tasks = ",".join(f"refl_{name}" for name in DIFFICULTY_FAMILIES)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1")
    samples = args.limit * len(DIFFICULTY_FAMILIES) * REPEATS
    full = ITEMS_PER_FAMILY * len(DIFFICULTY_FAMILIES) // 2 * REPEATS
    common = ["--tasks", tasks, "--include_path", str(task_dir), "--limit", str(args.limit), "--seed", "0"]
    runs = {
        "hf": [
            "--model",
            "hf",
            "--model_args",
            f"pretrained={args.checkpoint.resolve()},dtype=float32",
            "--device",
            "cpu",
            "--batch_size",
            str(args.batch_size),
        ],
    }
    for name, model in runs.items():
        out = args.out / "measure" / name
        start = time.time()
        subprocess.run(
            ["lm_eval", "run", *model, *common, "--output_path", str(out), "--log_samples"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.time() - start
        print(
            f"{name}: {samples} samples in {seconds:.1f}s wall ({samples / seconds:.0f}/s); "
            f"one checkpoint ({full} samples) ~ {full / samples * seconds / 60:.1f} min; scores {_scores(out)}"
        )
    import torch

    torch.set_num_threads(1)
    from evaluate import evaluate_checkpoint, write_tasks

    names = write_tasks(args.out / "measure" / "tasks", per_family=args.limit)
    start = time.time()
    result = evaluate_checkpoint(
        args.checkpoint, "measure", 0, names, args.out / "measure" / "tasks", args.out / "measure" / "refl", seed=0
    )
    print(
        f"refl-sampler: {samples} samples in {time.time() - start:.1f}s wall "
        f"({result['seconds']:.1f}s in simple_evaluate); scores {_scores(args.out / 'measure' / 'refl')}"
    )


def _scores(folder: Path) -> dict[str, float]:
    import json

    latest = max(folder.rglob("results_*.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(latest.read_text())["results"]
    return {task: round(values["pass_at_1,all"], 3) for task, values in results.items()}


if __name__ == "__main__":
    main()
