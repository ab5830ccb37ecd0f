"""Convert the Pythia v0 arithmetic operand groups (shared/data/pythia_evals) into a bundled dataset.

Run once from the repository root: ``python scripts/convert_pythia_arithmetic.py ../shared/data``. Each
(task, first operand) group of ~50 questions becomes one item with trials = 50 and correct = acc x 50
(acc_stderr confirms n = 50 for every row); each few-shot setting and operation is one benchmark.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "benchcast" / "datasets" / "pythia_arithmetic"
V0_TO_V1 = {"125m": "160m", "350m": "410m", "800m": "1b", "1.3b": "1.4b", "2.7b": "2.8b", "6.7b": "6.9b", "13b": "12b"}


def main(shared: Path) -> None:
    source = shared / "pythia_evals"
    raw = pd.read_csv(source / "pythia_v0_termfreq_arithmetic.csv.gz")
    trials = 50
    correct = raw["acc"] * trials
    if not np.allclose(correct, correct.round()):
        raise SystemExit("acc x 50 is not whole: the n = 50 assumption does not hold")
    parts = raw["task"].str.extract(r"num_reasoning_arithmetic_(?P<op>[a-z]+)_(?P<x1>\d+)")
    results = pd.DataFrame(
        {
            "model": raw["model"].str.replace("EleutherAI/", "", regex=False),
            "step": raw["checkpoint"].astype(int),
            "benchmark": "arithmetic_" + parts["op"] + "_" + raw["fewshot"].astype(str) + "shot",
            "item": "x" + parts["x1"].str.zfill(2),
            "trials": trials,
            "correct": correct.round().astype(int),
        }
    ).sort_values(["benchmark", "model", "step", "item"])
    OUT.mkdir(parents=True, exist_ok=True)
    results.to_csv(OUT / "results.csv.gz", index=False)

    sizes = pd.read_csv(source / "models.csv").set_index("size")
    cards = []
    for v0, v1 in V0_TO_V1.items():
        row = sizes.loc[v1]
        cards.append(
            {
                "model": f"pythia-{v0}-deduped",
                "params": int(row["params_total"]),
                "tokens": int(row["final_tokens"]),
                "family": "pythia-v0-deduped",
                "step": int(row["final_step"]),
            }
        )
    pd.DataFrame(cards).to_csv(OUT / "models.csv", index=False)
    shutil.copy(source / "LICENSE.pythia", OUT / "LICENSE")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
