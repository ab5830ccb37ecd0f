"""Convert the OLMo-2 model-ladder wandb exports (shared/data/olmo_ladder) into the bundled ``olmo-ladder`` dataset.

Run once from the repository root: ``python scripts/convert_olmo.py ../shared/data``.

Choices, following Bhagia et al. 2024 (``allenai/OLMo-ladder``, ``src/scaling/task_utils.py`` ``v2_main`` tasks and
``src/scripts/paper/README.md``) so that the published chained errors can be compared:

* Runs: ``peteish-moreeval/<size>-<k>xC`` for 190M, 370M, 760M, 1B and 3B at k = 0.5, 1, 2, 5, 10. For 1xC the
  ``-rerun`` files are used: their evaluation interval matches the other multipliers (the original 1xC files
  were evaluated half as often). ``peteish-final-new`` is not used (different task names; its 28xC files are
  placeholders, see the data README).
* Targets: OLMo-2 7B (``peteish7_eval_anneal``, one row, 3.945T tokens) and 13B (``peteish13_eval_final``,
  step 596057 x 8,388,608 tokens = 5.000T tokens) - the two files of the paper's ``final.json``.
* Every model's value is the mean over its last 5 in-loop evaluations (the paper's ``--moving_avg 5``; the 7B
  file has one row). With this the 13B accuracies equal the ``Actual`` column of the paper's
  ``chained_main.csv`` exactly.
* Benchmarks (the paper's 8 tasks, ranked-classification 5-shot, length-normalised accuracy): mmlu (test, the
  4 category scores weighted 0.215/0.335/0.219/0.231 as in ``WEIGHT_BY_KEY``), hellaswag (val), arc_challenge
  (test), arc_easy (test), piqa (val), csqa (val), socialiqa (val), openbookqa (test). Aggregate: one item.
* Metrics: ``bpb`` per model and benchmark = the task bits-per-byte of the correct continuation
  (``eval/downstream_bpb/<task>_rc_5shot_bpb``, same weighting for MMLU), in ``metrics.csv.gz``; ``loss`` per
  model = C4 validation cross-entropy (``eval/c4_en-validation/CrossEntropyLoss``), a column of ``models.csv``.
* Model cards: params = non-embedding N (the ladder code's convention), tokens = the run's final
  ``throughput/total_tokens``; compute = 6·N·D.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "benchcast" / "datasets" / "olmo_ladder"
LAST_N = 5
SIZES = {"190M": 190354176, "370M": 371262464, "760M": 758220288, "1B": 1279395840, "3B": 3169537280}
MULTIPLIERS = ["0.5", "1", "2", "5", "10"]
TARGETS = {
    "OLMo-2-7B": ("peteish7_eval_anneal", 6887575552, None),
    "OLMo-2-13B": ("peteish13_eval_final", 13202396160, 8388608),
}
MMLU_WEIGHTS = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}
TASKS = {
    "hellaswag": "hellaswag_val",
    "arc_challenge": "arc_challenge_test",
    "arc_easy": "arc_easy_test",
    "piqa": "piqa_val",
    "csqa": "csqa_val",
    "socialiqa": "socialiqa_val",
    "openbookqa": "openbookqa_test",
}
CHANCE = {
    "mmlu": 0.25,
    "hellaswag": 0.25,
    "arc_challenge": 0.25,
    "arc_easy": 0.25,
    "piqa": 0.5,
    "csqa": 0.2,
    "socialiqa": 1 / 3,
    "openbookqa": 0.25,
}
LOSS = "eval/c4_en-validation/CrossEntropyLoss"


def _columns(kind: str) -> dict[str, dict[str, float]]:
    """Benchmark -> {wandb column: weight} for accuracy (``acc``) or bits-per-byte (``bpb``)."""

    def column(task: str) -> str:
        if kind == "acc":
            return f"eval/downstream/{task}_rc_5shot_len_norm"
        return f"eval/downstream_bpb/{task}_rc_5shot_bpb"

    out = {"mmlu": {column(f"mmlu_{cat}_test"): w for cat, w in MMLU_WEIGHTS.items()}}
    out.update({name: {column(task): 1.0} for name, task in TASKS.items()})
    return out


def _final(frame: pd.DataFrame, columns: dict[str, float]) -> float:
    """Weighted mean over ``columns`` of each of the last evaluations, averaged over the last ``LAST_N``."""
    values = frame[list(columns)].to_numpy(dtype=float)
    weights = np.array(list(columns.values()))
    rows = values @ weights / weights.sum()
    if np.isnan(rows[-LAST_N:]).any():
        raise SystemExit(f"missing values in {list(columns)}")
    return float(rows[-LAST_N:].mean())


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    order = "_step" if "_step" in frame.columns else "throughput/total_tokens"
    return frame.sort_values(order).reset_index(drop=True) if order in frame.columns else frame


def main(shared: Path) -> None:
    source = shared / "olmo_ladder" / "peteish-moreeval"
    accuracy, bpb = _columns("acc"), _columns("bpb")
    runs: list[tuple[str, pd.DataFrame, float, float, str]] = []
    for size, params in SIZES.items():
        for k in MULTIPLIERS:
            stem = f"{size}-{k}xC-rerun" if k == "1" else f"{size}-{k}xC"
            frame = _read(source / f"{stem}.csv.gz")
            tokens = float(frame["throughput/total_tokens"].iloc[-1])
            runs.append((f"olmo-ladder-{size}-{k}xC", frame, params, tokens, "olmo-2-ladder"))
    for name, (stem, params, batch_tokens) in TARGETS.items():
        frame = _read(source / f"{stem}.csv.gz")
        if batch_tokens is None:
            tokens = float(frame["throughput/total_tokens"].iloc[-1])
        else:
            tokens = float(frame["_step"].iloc[-1]) * batch_tokens
        runs.append((name, frame, params, tokens, "olmo-2"))

    results, metrics, cards = [], [], []
    for name, frame, params, tokens, family in runs:
        for benchmark in accuracy:
            results.append(
                {"model": name, "benchmark": benchmark, "item": "all", "score": _final(frame, accuracy[benchmark])}
            )
            metrics.append(
                {"model": name, "benchmark": benchmark, "metric": "bpb", "value": _final(frame, bpb[benchmark])}
            )
        cards.append(
            {
                "model": name,
                "params": int(params),
                "tokens": int(tokens),
                "family": family,
                "loss": _final(frame, {LOSS: 1.0}),
            }
        )

    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(results).to_csv(OUT / "results.csv.gz", index=False)
    pd.DataFrame(metrics).to_csv(OUT / "metrics.csv.gz", index=False)
    pd.DataFrame(cards).to_csv(OUT / "models.csv", index=False)

    def ladder(multipliers: list[str], sizes: list[str]) -> list[str]:
        return [f"olmo-ladder-{s}-{k}xC" for s in sizes for k in multipliers]

    small = ["190M", "370M", "760M", "1B"]
    meta = {
        "name": "olmo-ladder",
        "title": "OLMo-2 model ladder (Bhagia et al. 2024): 190M-3B at 0.5-10x Chinchilla, targets OLMo-2 7B and 13B",
        "description": (
            "AI2's OLMo-2-recipe model ladder: in-loop 5-shot ranked-classification accuracy (length-normalised) "
            "on 8 tasks, task bits-per-byte (metric 'bpb') and C4 validation loss (model metric 'loss'); each value "
            "is the mean of the run's last 5 evaluations. Aggregate data: one item per benchmark."
        ),
        "license": "Apache-2.0",
        "source": (
            "github.com/allenai/OLMo branch ladder-1xC @ 9bc064c72b1439640993e7ff28238e7b8f855aee, "
            "scripts/scaling/data/peteish-moreeval/*.csv (via shared/data/olmo_ladder)"
        ),
        "chance": CHANCE,
        "cases": [
            {
                "name": "0.5-10xC",
                "description": "190M-1B at 0.5, 1, 2, 5, 10x Chinchilla (20 runs) forecast OLMo-2 7B and 13B",
                "ladder": ladder(MULTIPLIERS, small),
                "targets": list(TARGETS),
            },
            {
                "name": "1-10xC",
                "description": "the paper's ladder: 190M-1B at 1, 2, 5, 10x Chinchilla (16 runs), OLMo-2 7B and 13B",
                "ladder": ladder(MULTIPLIERS[1:], small),
                "targets": list(TARGETS),
            },
        ],
    }
    (OUT / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copyfile(shared / "olmo_ladder" / "LICENSE.OLMo", OUT / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
