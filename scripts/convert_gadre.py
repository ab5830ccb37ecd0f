"""Convert Gadre et al.'s over-training runs (shared/data/gadre_overtraining/exp_data) into a bundled dataset.

Run once from the repository root: ``python scripts/convert_gadre.py ../shared/data``. Every run becomes a
model card (params, tokens, compute = 6·N·D as in the authors' code, the training set as family, and its eight
validation losses, ``loss`` being the C4 validation loss the paper fits); every one of the 46 downstream tasks
becomes a benchmark with a single aggregate item ``all`` whose ``score`` is the task accuracy. Two more
benchmarks hold the averages the paper forecasts: ``avg_17_tasks`` (the 17-task ``SUBSET`` of
``scaling/constants.py``) and ``avg_46_tasks``, each scored as mean accuracy, i.e. 1 - Gadre's average error.
Chance levels come from ``eval_metadata.csv`` (random baseline / 100; the averages get the mean).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "benchcast" / "datasets" / "gadre_overtraining"
SOURCE_COMMIT = "a003c4913793ac2ae7ef87b28ecb562955d026d5"
SUBSET_17 = (
    "bigbench_operators",
    "pubmed_qa_labeled",
    "hellaswag_zeroshot",
    "boolq",
    "arc_easy",
    "coqa",
    "bigbench_dyck_languages",
    "lambada_openai",
    "bigbench_novel_concepts",
    "winograd",
    "bigbench_cs_algorithms",
    "commonsense_qa",
    "bigbench_qa_wikidata",
    "hellaswag",
    "copa",
    "squad",
    "piqa",
)
AVERAGES = {"avg_17_tasks": SUBSET_17}  # avg_46_tasks: every task, added below


def loss_split(val_data: str) -> str:
    """The authors' name for a validation set (``parse_model_json``): the folder, or the file for de-en."""
    parts = val_data.split("/")
    return parts[-1].split(".")[0] if "de-en" in parts[-2] else parts[-2]


def main(shared: Path) -> None:
    source = shared / "gadre_overtraining" / "exp_data"
    cards, scores = [], []
    for model_file in sorted((source / "models").glob("*.json")):
        run = json.loads(model_file.read_text())
        hyper = run["hyperparameters"]
        params, tokens = int(hyper["params"]), int(hyper["tokens"])
        losses = {f"loss_{loss_split(result['val_data'][0])}": result["loss"] for result in run["results"]}
        cards.append(
            {
                "model": run["name"],
                "params": params,
                "tokens": tokens,
                "compute": float(6 * params * tokens),
                "family": run["dataset_name"],
                "config": Path(hyper["model"]).stem,
                "chinchilla_multiplier": hyper["chinchilla_multiplier"],
                "params_no_embed": int(hyper["params_no_embed"]),
                "loss": losses["loss_c4_val"],
                **losses,
            }
        )
        evaluation = json.loads((source / "evals" / f"evaluation_{model_file.stem}_heavy.json").read_text())
        accuracy = evaluation["eval_metrics"]["icl"]
        averages = {**AVERAGES, "avg_46_tasks": tuple(accuracy)}
        rows = {**accuracy, **{name: sum(accuracy[t] for t in tasks) / len(tasks) for name, tasks in averages.items()}}
        scores += [{"model": run["name"], "benchmark": name, "score": value} for name, value in rows.items()]
    if len(cards) != 104:
        raise SystemExit(f"expected the 104 released runs, found {len(cards)}")

    results = pd.DataFrame(scores).assign(step=pd.NA, item="all", trials=pd.NA, correct=pd.NA)
    results = results[["model", "step", "benchmark", "item", "trials", "correct", "score"]]
    OUT.mkdir(parents=True, exist_ok=True)
    results.sort_values(["benchmark", "model"]).to_csv(OUT / "results.csv.gz", index=False)
    models = pd.DataFrame(cards).sort_values(["family", "params", "chinchilla_multiplier"])
    models.to_csv(OUT / "models.csv", index=False)

    metadata = pd.read_csv(source / "eval_metadata.csv").set_index("Eval Task")
    tasks = sorted(accuracy)
    chance = {task: float(metadata.loc[task, "Random baseline"]) / 100.0 for task in tasks}
    for name, members in {**AVERAGES, "avg_46_tasks": tasks}.items():
        chance[name] = sum(chance[task] for task in members) / len(members)
    meta = {
        "name": "gadre-overtraining",
        "title": "Gadre et al. 2024 over-training runs (open_lm, 46 downstream tasks)",
        "description": (
            "104 open_lm runs of 6 sizes (10.6M-6.9B parameters) on C4, RedPajama and RefinedWeb at 5-640 tokens "
            "per parameter, with 8 validation losses each and accuracy on 46 LLM-Foundry tasks plus the 17- and "
            "46-task averages. Aggregate per task: one item ('all') per benchmark, scored by accuracy."
        ),
        "license": "MIT",
        "source": f"github.com/mlfoundations/scaling @ {SOURCE_COMMIT}, exp_data/**",
        "chance": chance,
        "cases": backtest_cases(),
    }
    (OUT / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copyfile(shared / "gadre_overtraining" / "LICENSE.scaling", OUT / "LICENSE")


# Backtest cases (benchcast backtest): per training set, the paper's fit points - 10.6M-412M at M = 20 and 10.6M
# at M = 320 (loss law) plus 1.4B at M = 20 (error law) - forecast its over-trained 1.4B target and the 6.9B run,
# on the two averages the paper forecasts.
CASE_LADDER = (
    "d=96_l=8_h=4-1.0",
    "d=512_l=8_h=4-1.0",
    "d=576_l=24_h=8-1.0",
    "d=1024_l=24_h=8-1.0",
    "d=96_l=8_h=4-16.0",
    "open_lm_1b-1.0",
)
CASE_TARGETS = {
    "rpj": ("RedPajama", "open_lm_1b-32.0"),
    "rw_original": ("RefinedWeb", "open_lm_1b-16.0"),
    "c4_original": ("C4", "open_lm_1b-4.0"),
}


def backtest_cases() -> list[dict[str, object]]:
    return [
        {
            "name": data,
            "description": (
                f"{title}: the paper's fit points (10.6M-412M at M = 20, 10.6M at M = 320, 1.4B at M = 20) forecast "
                f"the over-trained 1.4B run and 6.9B at M = 20 on the 17- and 46-task averages"
            ),
            "ladder": [f"{data}-{run}" for run in CASE_LADDER],
            "targets": [f"{data}-{over_trained}", f"{data}-open_lm_7b-1.0"],
            "benchmarks": ["avg_17_tasks", "avg_46_tasks"],
        }
        for data, (title, over_trained) in CASE_TARGETS.items()
    ]


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
