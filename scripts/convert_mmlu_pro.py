"""Convert the MMLU-Pro per-question results (shared/data/mmlu_pro_item_level) into the bundled ``mmlu-pro`` dataset.

Run once from the repository root: ``python scripts/convert_mmlu_pro.py ../shared/data``.

* Models: the base models of the three ladders - Llama-2 7B/13B/70B, Llama-3 8B/70B, Yi 6B/34B.
* One benchmark ``mmlu_pro`` with 12,032 items (question ids). A question whose answer was extracted is one
  trial: trials = 1, correct = 0 or 1. A question whose answer extraction failed gets score = 1/n_options:
  the MMLU-Pro evaluation scripts replace a failed extraction by a uniformly random option, so its expected
  credit is 1/n_options, and with this rule the dataset reproduces the official numbers (Llama-2-13B 0.252,
  Llama-2-70B 0.375, Llama-3-70B 0.527); counting failures as 0 would not (0.235, 0.363, 0.520).
* Model cards: params and tokens from the data folder's models.csv (Llama-2: 2T, Llama-3: 15T, Yi: 3.0T as in
  ObsScaling; the Yi paper says 3.1T - the same for both Yi sizes, so ratios within the ladder are unaffected).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "benchcast" / "datasets" / "mmlu_pro"
LADDERS = {
    "llama-2": (["Llama-2-7b-hf", "Llama-2-13b-hf"], ["Llama-2-70b-hf"]),
    "llama-3": (["Meta-Llama-3-8B"], ["Meta-Llama-3-70B"]),
    "yi": (["Yi-6B"], ["Yi-34B"]),
}
OFFICIAL = {"Llama-2-13b-hf": 0.252, "Llama-2-70b-hf": 0.375, "Meta-Llama-3-70B": 0.527}


def main(shared: Path) -> None:
    source = shared / "mmlu_pro_item_level"
    questions = pd.read_csv(source / "questions.csv.gz").set_index("question_id")
    correct = pd.read_csv(source / "correct.csv.gz").set_index("question_id")
    pred = pd.read_csv(source / "pred.csv.gz", dtype=str).set_index("question_id")
    models = [name for ladder, targets in LADDERS.values() for name in (*ladder, *targets)]
    frames = []
    for model in models:
        if correct[model].isna().any():
            raise SystemExit(f"{model} lacks some questions")
        failed = pred[model].isna().to_numpy()
        if (correct.loc[failed, model] != 0).any():
            raise SystemExit(f"{model}: a failed extraction is marked correct")
        score = 1.0 / questions.loc[correct.index, "n_options"].to_numpy(dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "benchmark": "mmlu_pro",
                    "item": [f"q{qid:05d}" for qid in correct.index],
                    "trials": np.where(failed, np.nan, 1.0),
                    "correct": np.where(failed, np.nan, correct[model].to_numpy(dtype=float)),
                    "score": np.where(failed, score, np.nan),
                }
            )
        )
    results = pd.concat(frames, ignore_index=True).astype({"trials": "Int64", "correct": "Int64"})
    for model, official in OFFICIAL.items():
        rows = results[results["model"] == model]
        value = rows["correct"].astype(float).fillna(rows["score"]).mean()
        if abs(value - official) > 0.0015:
            raise SystemExit(f"{model}: {value:.4f} does not reproduce the official {official}")
    OUT.mkdir(parents=True, exist_ok=True)
    results.to_csv(OUT / "results.csv.gz", index=False, float_format="%.6g")

    info = pd.read_csv(source / "models.csv").set_index("model")
    cards = [
        {
            "model": model,
            "params": int(info.loc[model, "params_B"] * 1e9),
            "tokens": int(info.loc[model, "tokens_T"] * 1e12),
            "family": info.loc[model, "family"],
        }
        for model in models
    ]
    pd.DataFrame(cards).to_csv(OUT / "models.csv", index=False)

    cases = [
        {
            "name": name,
            "description": f"{name}: {', '.join(ladder)} forecast {', '.join(targets)}",
            "ladder": ladder,
            "targets": targets,
        }
        for name, (ladder, targets) in LADDERS.items()
    ]
    pooled = sorted({m for ladder, _ in LADDERS.values() for m in ladder} | {"Yi-34B"})
    cases.append(
        {
            "name": "pooled",
            "description": (
                "every base model below 8e23 FLOPs from all three families as one ladder (cross-family: compute "
                "alone does not capture data quality) forecast Llama-2-70B and Llama-3-70B"
            ),
            "ladder": pooled,
            "targets": ["Llama-2-70b-hf", "Meta-Llama-3-70B"],
        }
    )
    meta = {
        "name": "mmlu-pro",
        "title": "MMLU-Pro per-question results of Llama-2, Llama-3 and Yi base models (5-shot CoT)",
        "description": (
            "12,032 MMLU-Pro questions answered once each (5-shot chain of thought, regex answer extraction) by "
            "seven base models. Item-level, single sample: trials = 1; failed extractions score 1/n_options."
        ),
        "license": "Apache-2.0",
        "source": (
            "github.com/TIGER-AI-Lab/MMLU-Pro @ f418b116db00b065c2aea046518d8fcf74d39872, "
            "eval_results/model_outputs_<model>_5shots.zip (via shared/data/mmlu_pro_item_level)"
        ),
        "chance": {"mmlu_pro": 0.1},
        "cases": cases,
    }
    (OUT / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copyfile(source / "LICENSE.MMLU-Pro", OUT / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
