"""Turn the exported item results into the bundled ``reference-ladder`` dataset folder.

Input: the item-level Parquet that ``benchcast export`` writes from the store that ``benchcast ingest`` filled
with the lm-eval outputs (model, step, benchmark, item, trials, correct, ...), and the training plans
(``out/models/<model>/train.json``). Output, in the dataset folder: ``results.csv.gz`` (canonical long format;
the eight ``refl_<family>_<short|long>`` benchmarks as ingested, plus ``refl_all``, their union, items named
``<family>_<tier>-<doc_id>``), ``models.csv``, ``dataset.json``, ``README.md`` and ``LICENSE``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from model import LADDER, TARGET
from tasks import DIFFICULTY_FAMILIES, LONG_FROM, difficulty_families
from train import TOKENS_PER_PARAM

assert LONG_FROM == {"copy": 5, "rev": 4, "add": 3, "mul": 2}, "update the task table in readme()"

NAME = "reference-ladder"
FAMILY_TAG = "benchcast-reference-ladder"


def results_frame(export: Path, prefix: str = "refl_") -> pd.DataFrame:
    """The exported items in canonical long format, plus ``<prefix>all``, the union of every task (items named
    ``<task without prefix>-<doc_id>``), sorted by model, step, benchmark and item number."""
    frame = pd.read_parquet(export)[["model", "step", "benchmark", "item", "trials", "correct"]].copy()
    for column in ("trials", "correct", "step"):
        frame[column] = frame[column].astype(int)
    frame["item"] = frame["item"].astype(str)
    union = frame.copy()
    union["item"] = union["benchmark"].str.removeprefix(prefix) + "-" + union["item"].str.zfill(4)
    union["benchmark"] = prefix + "all"
    out = pd.concat([frame, union], ignore_index=True)
    out["_order"] = out["item"].str.extract(r"(\d+)$")[0].astype(int)
    out = out.sort_values(["model", "step", "benchmark", "_order", "item"]).drop(columns="_order")
    return out.reset_index(drop=True)


def models_frame(plans: list[dict], family: str = FAMILY_TAG, target: str = TARGET.name) -> pd.DataFrame:
    """Model cards from the training plans: ``target`` is the target, every other model a ladder rung."""
    return pd.DataFrame(
        [
            {
                "model": info["model"],
                "params": info["params"],
                "tokens": info["tokens"],
                "compute": info["compute"],
                "family": family,
                "step": info["step"],
                "role": "target" if info["model"] == target else "ladder",
            }
            for info in plans
        ]
    )


def write_tables(
    export: Path, plans: list[dict], folder: Path, *, license_from: Path, prefix: str, family: str, target: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``results.csv.gz`` (byte-stable: no gzip time stamp), ``models.csv`` and ``LICENSE`` into
    ``folder``; return the results and model frames for the README."""
    folder.mkdir(parents=True, exist_ok=True)
    results = results_frame(export, prefix)
    results.to_csv(folder / "results.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    models = models_frame(plans, family, target)
    models.to_csv(folder / "models.csv", index=False)
    shutil.copyfile(license_from, folder / "LICENSE")
    return results, models


def truth_tables(results: pd.DataFrame, plans: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores (mean pass rate, own checkpoint) per model and benchmark; and per difficulty level."""
    own = {info["model"]: info["step"] for info in plans}
    rows = results[results["step"] == results["model"].map(own)].copy()
    rows["rate"] = rows["correct"] / rows["trials"]
    scores = rows.groupby(["model", "benchmark"])["rate"].mean().unstack("benchmark")
    scores = scores.loc[[info["model"] for info in plans]]
    levels = []
    for name, docs in difficulty_families().items():
        level = {str(k): doc["level"] for k, doc in enumerate(docs)}
        part = rows[rows["benchmark"] == f"refl_{name}"].copy()
        part["level"] = name.split("_")[0] + ":" + part["item"].map(level)
        levels.append(part)
    by_level = pd.concat(levels).groupby(["model", "level"])["rate"].mean().unstack("level")
    by_level = by_level.loc[[info["model"] for info in plans]]
    return scores, by_level


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    header = "| " + " | ".join([frame.index.name or "", *map(str, frame.columns)]) + " |"
    rule = "|" + "---|" * (len(frame.columns) + 1)
    lines = [header, rule]
    for name, row in frame.iterrows():
        cells = [f"{value:.{digits}f}" if isinstance(value, float) else str(value) for value in row]
        lines.append("| " + " | ".join([str(name), *cells]) + " |")
    return "\n".join(lines)


def write_dataset(
    export: Path, plans: list[dict], folder: Path, *, timings: dict, license_from: Path, repeats: int
) -> dict:
    results, models = write_tables(
        export, plans, folder, license_from=license_from, prefix="refl_", family=FAMILY_TAG, target=TARGET.name
    )
    ladder = [size.name for size in LADDER]
    meta = {
        "name": NAME,
        "title": "benchcast reference ladder: 8 character-level transformers (5k-52k params) and a 22x target",
        "description": (
            "A ladder trained and evaluated end to end in COD's regime: eight 3-layer GPT-2-style models and a "
            "target with ~22x the compute of the largest, one recipe at "
            f"{TOKENS_PER_PARAM} training tokens per parameter on a "
            f"generated mixture of copy, reverse, addition and multiplication problems; each of 2,400 items "
            f"sampled {repeats} times (temperature 1.0, top-p 0.7) at every model's own checkpoint and its two "
            "neighbours through lm-evaluation-harness. One benchmark per difficulty family (each task's short and "
            "long problems) plus refl_all, their union."
        ),
        "license": "Apache-2.0",
        "source": "generated by ladders/run_all.py in the benchcast repository (our own data; no weights bundled)",
        "chance": {},
        "cases": [
            {
                "name": "refl-01-08",
                "description": "the eight-model ladder forecasts the target (21.7x the largest ladder model's compute)",
                "ladder": ladder,
                "targets": [TARGET.name],
            }
        ],
    }
    (folder / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
    scores, by_level = truth_tables(results, plans)
    summary = {
        "scores": scores.round(4).to_dict(orient="index"),
        "levels": by_level.round(4).to_dict(orient="index"),
        "timings": timings,
    }
    (folder / "README.md").write_text(readme(models, scores, by_level, timings, repeats))
    return summary


def size_table(models: pd.DataFrame) -> pd.DataFrame:
    """The README's table of models: parameters, tokens (millions), compute, checkpoint and role, as text."""
    sizes = models.copy()
    sizes["compute"] = sizes["compute"].map(lambda c: f"{c:.3g}")
    sizes["tokens"] = sizes["tokens"].map(lambda t: f"{t / 1e6:.2f}M")
    sizes = sizes.set_index("model")[["params", "tokens", "compute", "step", "role"]]
    sizes["params"] = sizes["params"].map(str)
    sizes["step"] = sizes["step"].map(str)
    return sizes


def readme(models: pd.DataFrame, scores: pd.DataFrame, by_level: pd.DataFrame, timings: dict, repeats: int) -> str:
    sizes = size_table(models)
    scores = scores.copy()
    scores.index.name = "model"
    levels = by_level.copy()
    levels.index.name = "model"
    keep = [LADDER[-1].name, TARGET.name]
    levels = levels.loc[keep].T
    levels.index.name = "family:level"
    counts = {name: len(docs) for name, docs in difficulty_families().items()}
    items_per_task = ", ".join(f"`refl_{name}` {counts[name]}" for name in DIFFICULTY_FAMILIES)
    total = sum(timings.values()) / 60
    timing_lines = "\n".join(f"| {stage} | {seconds / 60:.1f} |" for stage, seconds in timings.items())
    return f"""# reference-ladder

A model ladder made for benchcast, trained and evaluated end to end in the regime of the Clustering-On-Difficulty
paper (Xu et al., ICLR 2026): one recipe, tokens growing with size at a fixed ratio, every item sampled many
times at temperature 1.0 (top-p 0.7) at each model's own checkpoint and its two neighbours, and a target with
more than 20x the compute of the largest ladder model. It is small enough to regenerate on a 2-core CPU.

## Recipe

* Models: GPT-2 blocks (`GPT2LMHeadModel`, pre-LayerNorm, GELU MLP 4x, learned positions, tied embeddings, no
  dropout), 3 layers, heads of about 8 dimensions, 64-character context; only the width differs
  (10, 12, 16, 20, 24, 28, 32, 36 for the ladder, 80 for the target). Tokenizer: the 41 characters
  `\\n0-9a-z+*:=` plus an end-of-text token, built locally.
* Data: an endless generated stream of problems, the four families in equal shares, packed into 64-character
  windows from a line start. Every model reads the same stream (seed 0).
* Training: {TOKENS_PER_PARAM} tokens per parameter at the model's own step (batch 32 x 64), loss on answer
  characters only, AdamW (0.9, 0.98), weight decay 0.1, clipping 1.0, peak learning rate
  1e-2 * sqrt(16/width), 5% warm-up, cosine to 10% at the own step, then 5% more steps at that rate;
  checkpoints at 95%, 100% and 105% of the own step (the two neighbours are what COD averages).
  Initialisation seed = rung number (target 9).
* Compute = 6 x params x tokens (tokens at the own step).

{_markdown(sizes)}

## Task and evaluation

Four problem families of 600 items each (2,400 in all), each split by level into a short (easy) and a long
(hard) difficulty family; each difficulty family is one lm-evaluation-harness task, `generate_until` with
`repeats: {repeats}`, temperature 1.0, top-p 0.7, `max_gen_toks` 13, stop at the newline, a filter keeping every
sample and the metric `pass_at_1` (share of samples equal to the answer):

| family | prompt -> answer | levels (uniform) | tasks: short / long |
|---|---|---|---|
| copy | `c:qwer=` -> `qwer` | length 1-8 | `refl_copy_short` 1-4 / `refl_copy_long` 5-8 |
| rev | `r:qwer=` -> `rewq` | length 1-7 | `refl_rev_short` 1-3 / `refl_rev_long` 4-7 |
| add | `38+54=` -> `92` | both operands n = 1-4 digits | `refl_add_short` 1-2 / `refl_add_long` 3-4 |
| mul | `123*7=` -> `861` | n = 1-3 digits times 1 digit | `refl_mul_short` 1 / `refl_mul_long` 2-3 |

Items per task: {items_per_task}.

The model side is an lm-eval `LM` subclass (`ladders/evaluate.py`, `refl-sampler`) that answers the harness's
repeated requests with independent samples drawn in large batches by `ladders/sampler.py` (a KV-cached forward
on the checkpoint weights; prefixes shared by several samples are computed once). The harness writes its
ordinary outputs (`--log_samples`-style `samples_<task>_<date>.jsonl` with all {repeats} samples per item, and
`results_<date>.json`); `benchcast ingest` reads them into a store, re-deriving each sample's correctness and
checking it against the harness's per-item value, and `benchcast export` writes the item table bundled here.
The stock `lm_eval run --model hf` path gives the same scores but was measured at 64 samples/s on this machine
(4,000 samples of refl-08 in 62 s, `ladders/measure_hf.py`), about an hour per checkpoint and more than a day for
the 27 checkpoints; `refl-sampler` drew the same 4,000 in 4.6 s.

Items: `item` is lm-eval's `doc_id`, i.e. line k of the task's generated JSONL (`ladders/tasks.py`, seed 1234).
`refl_all` is the union of the eight (item `<family>_<tier>-<doc_id>`). Each row of `results.csv.gz` is one
(model, checkpoint, benchmark, item) with `trials` = {repeats} samples and `correct` of them right.

## Measured scores (mean pass rate at each model's own checkpoint)

{_markdown(scores)}

Copying and reversing are learned abruptly (the training loss of a model drops sharply once it acquires the
mechanism): in the bundled run refl-07 (final training loss 0.89) has it and refl-08 (1.66) does not yet, so the
copy and rev families are not monotone along the ladder, the way real ladders sometimes are not. Addition of 3-4
digit numbers stays at or near zero on the whole ladder and is mostly solved by the target: emergence.

By difficulty level, largest ladder model vs target:

{_markdown(levels)}

## Regenerate

```bash
nohup nice -n 19 python ladders/run_all.py --out ladders/out > ladders/out/log.txt 2>&1 &   # everything
python ladders/check.py          # retrain + re-evaluate refl-01 and refl-02 from scratch, compare with this folder
```

`run_all.py` needs `torch` and `lm-eval[hf]` (not benchcast dependencies); it trains, evaluates, runs
`benchcast ingest` and `benchcast export`, writes this folder and prints every method's forecast error.
Measured stage times of the run that made this folder (2-core CPU shared with five other jobs, `nice -n 19`,
one torch thread), in minutes; run one after the other they add up to {total:.0f} minutes plus about a minute to
bundle and forecast (in this run the target trained in a second process beside the ladder):

| stage | minutes |
|---|---|
{timing_lines}

`check.py` on this folder: 14,400 rows (refl-01 and refl-02, three checkpoints, eight tasks) compared, 0
differ; model cards match; the sampler's forward pass equals `GPT2LMHeadModel`'s to 5e-7.

## Forecasting it

Everything is tiny: compute runs from 2e10 to 5e13 FLOPs, i.e. C = 2e-8 to 5e-5 in the paper's unit of 10^18
FLOPs, where COD's class rule a > 1 forces every cluster's accuracy to zero and `COD(compute_unit=1e18)`
declines every benchmark. COD's default unit is relative to the ladder (1/100 of the smallest model's compute,
the paper's unit on a ladder like the paper's), so it forecasts the benchmarks whose items rise smoothly and
declines those with no cluster that scales cleanly. Every method's error on this ladder is in
`docs/backtests.md`, generated by `benchcast backtest --suite public`.
Why no method does well here: the target scores 0.96-1.0 on every family while the largest ladder model
scores 0.0-0.71, and the largest ladder model falls clearly below the second largest on four of the nine
benchmarks (refl_all, copy_short, rev_short, rev_long). The abrupt copy/reverse transition and the near-zero
long additions are what no ladder-based method can see coming; that is what this ladder is for. An earlier
configuration with half the training (70 tokens per parameter) left every ladder model below 0.15 on every
family while the target reached 0.96-1.0; it was not bundled.

Licence: Apache-2.0 (our own generated data; `LICENSE`). Weights are not bundled.
"""
