"""Convert the Pythia v1 lm-eval results (shared/data/pythia_evals) into the bundled ``pythia-v1`` dataset.

Run once from the repository root: ``python scripts/convert_pythia_v1.py ../shared/data``.

* Models: the standard and the deduplicated Pythia v1 suites, final checkpoint (step 143000) only. Earlier
  checkpoints are partial training runs, not extra ladder points, so they are not bundled.
* Benchmarks: ARC-Easy, ARC-Challenge, PIQA, SciQ, WinoGrande, LAMBADA (OpenAI) and MMLU, zero-shot under the
  plain name and five-shot with a ``_5shot`` suffix; metric ``acc`` everywhere (lm-eval-harness v0.3).
* The single-number benchmarks become one item (``all``) with a ``score``. MMLU's 57 subjects are the items
  of one ``mmlu`` benchmark; each subject's question count n is recovered from lm-eval's standard error
  (stderr^2 = p(1 - p) / (n - 1)), checked to be whole and identical for every model, and written as
  trials = n, correct = acc * n (also checked to be whole).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "benchcast" / "datasets" / "pythia_v1"
FINAL_STEP = 143000
TASKS = {
    "arc_easy": 0.25,
    "arc_challenge": 0.25,
    "piqa": 0.5,
    "sciq": 0.25,
    "winogrande": 0.5,
    "lambada_openai": None,
}
MMLU_PREFIX = "hendrycksTest-"
SIZES = ["70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b"]
LADDER_SIZES = ["70m", "160m", "410m", "1b", "1.4b", "2.8b"]
TARGET_SIZES = ["6.9b", "12b"]


def _benchmark(task: str, shots: int) -> str:
    return task if shots == 0 else f"{task}_5shot"


def main(shared: Path) -> None:
    source = shared / "pythia_evals"
    raw = pd.read_csv(source / "pythia_v1_checkpoint_evals.csv.gz")
    final = raw[(raw["step"] == FINAL_STEP) & raw["variant"].isin(["standard", "deduped"]) & (raw["metric"] == "acc")]

    single = final[final["task"].isin(list(TASKS))]
    rows = [
        pd.DataFrame(
            {
                "model": single["model"],
                "step": FINAL_STEP,
                "benchmark": [_benchmark(t, s) for t, s in zip(single["task"], single["num_fewshot"], strict=True)],
                "item": "all",
                "score": single["value"],
            }
        )
    ]

    mmlu = final[final["task"].str.startswith(MMLU_PREFIX)].copy()
    p, stderr = mmlu["value"].to_numpy(), mmlu["stderr"].to_numpy()
    n = p * (1 - p) / stderr**2 + 1
    if not np.allclose(n, n.round(), atol=1e-3):
        raise SystemExit("MMLU question counts recovered from stderr are not whole numbers")
    mmlu["n"] = n.round().astype(int)
    if (mmlu.groupby("task")["n"].nunique() != 1).any():
        raise SystemExit("MMLU question counts differ between models for the same subject")
    correct = mmlu["value"] * mmlu["n"]
    if not np.allclose(correct, correct.round(), atol=1e-3):
        raise SystemExit("MMLU acc x n is not whole")
    rows.append(
        pd.DataFrame(
            {
                "model": mmlu["model"],
                "step": FINAL_STEP,
                "benchmark": ["mmlu" if s == 0 else "mmlu_5shot" for s in mmlu["num_fewshot"]],
                "item": mmlu["task"].str.removeprefix(MMLU_PREFIX),
                "trials": mmlu["n"],
                "correct": correct.round().astype(int),
            }
        )
    )
    results = pd.concat(rows, ignore_index=True)
    results = results[["model", "step", "benchmark", "item", "trials", "correct", "score"]]
    results = results.astype({"trials": "Int64", "correct": "Int64"})
    results = results.sort_values(["benchmark", "model", "item"]).reset_index(drop=True)
    OUT.mkdir(parents=True, exist_ok=True)
    results.to_csv(OUT / "results.csv.gz", index=False)

    sizes = pd.read_csv(source / "models.csv").set_index("size")
    cards = []
    for variant, suffix in (("standard", ""), ("deduped", "-deduped")):
        for size in SIZES:
            name = f"pythia-{size}{suffix}"
            if name not in set(results["model"]):
                continue  # upstream has no standard pythia-1b 0/5-shot folder
            row = sizes.loc[size]
            cards.append(
                {
                    "model": name,
                    "params": int(row["params_total"]),
                    "tokens": int(row["final_tokens"]),
                    "family": f"pythia-v1-{variant}",
                    "step": FINAL_STEP,
                }
            )
    pd.DataFrame(cards).to_csv(OUT / "models.csv", index=False)

    present = set(results["model"])
    cases = []
    for variant, suffix in (("deduped", "-deduped"), ("standard", "")):
        ladder = [f"pythia-{s}{suffix}" for s in LADDER_SIZES if f"pythia-{s}{suffix}" in present]
        cases.append(
            {
                "name": variant,
                "description": f"Pythia v1 {variant}: {ladder[0]} to {ladder[-1]} forecast 6.9B and 12B",
                "ladder": ladder,
                "targets": [f"pythia-{s}{suffix}" for s in TARGET_SIZES],
            }
        )
    chance = {}
    for task, level in TASKS.items():
        if level is not None:
            chance[task] = chance[f"{task}_5shot"] = level
    chance["mmlu"] = chance["mmlu_5shot"] = 0.25
    meta = {
        "name": "pythia-v1",
        "title": "Pythia v1 (standard and deduped) lm-eval results at the final checkpoint",
        "description": (
            "Zero- and five-shot lm-evaluation-harness accuracy of the Pythia v1 suites (70M-12B, 300B tokens) on "
            "ARC-Easy, ARC-Challenge, PIQA, SciQ, WinoGrande, LAMBADA and MMLU (57 subjects as items, "
            "trials = questions per subject). Aggregate data: one item per benchmark except MMLU."
        ),
        "license": "Apache-2.0",
        "source": (
            "github.com/EleutherAI/pythia @ a19eecb807ec2c79a39ebf18108816e6ffffc1d5, evals/pythia-v1/** "
            "(via shared/data/pythia_evals/pythia_v1_checkpoint_evals.csv.gz)"
        ),
        "chance": chance,
        "cases": cases,
    }
    (OUT / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copyfile(source / "LICENSE.pythia", OUT / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
