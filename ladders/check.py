"""Check that the bundled dataset matches a fresh run: retrain and re-evaluate some models from scratch.

    python ladders/check.py                      # the two smallest ladder models, ~2 minutes
    python ladders/check.py --models refl-01,refl-02,refl-03 --work /tmp/refl-check
    python ladders/check.py --ladder cod         # the COD-regime ladder's two smallest models

Runs ``run_all.py`` stages 1-4 (tasks, training, lm-eval, ``benchcast ingest``/``export``) for the chosen models
in a fresh work folder and compares their per-item ``trials``/``correct`` at every checkpoint with the bundled
``results.csv.gz``, and their model cards with ``models.csv``. Seeds are fixed and torch runs on one thread, so on
the same software the numbers agree exactly; the script prints the share of rows that differ and the largest
difference of any pass rate, and exits 1 when anything differs. It also checks that the sampler's forward pass
equals ``GPT2LMHeadModel``'s on the fresh checkpoints.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pandas as pd  # noqa: E402
import run_all  # noqa: E402
import torch  # noqa: E402
from model import encode  # noqa: E402


def forward_matches(checkpoint: Path) -> float:
    from sampler import Sampler
    from transformers import GPT2LMHeadModel

    ids = encode(["123+45=168"])
    with torch.no_grad():
        reference = GPT2LMHeadModel.from_pretrained(str(checkpoint)).eval()(input_ids=ids).logits[:, -1]
    mine, _ = Sampler(checkpoint).forward(ids, 0, None)
    return float((reference - mine).abs().max())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ladder", choices=sorted(run_all.SPECS), default="reference")
    parser.add_argument("--models", help="comma-separated models (default: the ladder's two smallest)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--bundle", type=Path, help="dataset folder (default: the ladder's own)")
    args = parser.parse_args()
    spec = run_all.SPECS[args.ladder]
    bundle = args.bundle or spec.bundle
    models = args.models.split(",") if args.models else [size.name for size in spec.sizes[:2]]
    unknown = set(models) - {size.name for size in spec.sizes}
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="refl-check-"))
    run_all.main(["--ladder", args.ladder, "--out", str(work), "--models", ",".join(models), "--no-bundle"])
    fresh = pd.read_parquet(work / "items.parquet")[["model", "step", "benchmark", "item", "trials", "correct"]]
    bundled = pd.read_csv(bundle / "results.csv.gz", dtype={"item": str})
    bundled = bundled[bundled["model"].isin(models) & (bundled["benchmark"] != spec.prefix + "all")]
    keys = ["model", "step", "benchmark", "item"]
    merged = bundled.merge(fresh, on=keys, how="outer", suffixes=("_bundled", "_fresh"), indicator=True)
    missing = int((merged["_merge"] != "both").sum())
    both = merged[merged["_merge"] == "both"]
    differ = (both["trials_bundled"] != both["trials_fresh"]) | (both["correct_bundled"] != both["correct_fresh"])
    gap = (both["correct_bundled"] / both["trials_bundled"] - both["correct_fresh"] / both["trials_fresh"]).abs()
    print(
        f"{len(both)} rows compared for {', '.join(models)}: {int(differ.sum())} differ "
        f"({differ.mean():.2%}), largest pass-rate difference {gap.max():.3f}; {missing} rows in only one"
    )
    cards = pd.read_csv(bundle / "models.csv").set_index("model")
    bad_cards = []
    for model in models:
        fresh_card = pd.read_json(work / "models" / model / "train.json", typ="series")
        for column in ("params", "tokens", "step"):
            if int(cards.loc[model, column]) != int(fresh_card[column]):
                bad_cards.append(f"{model}.{column}")
    print("model cards:", "match" if not bad_cards else f"differ in {', '.join(bad_cards)}")
    torch.set_num_threads(1)
    step = int(cards.loc[models[0], "step"])
    diff = forward_matches(work / "models" / models[0] / f"step{step}")
    print(f"sampler forward vs GPT2LMHeadModel on {models[0]}: max |logit difference| {diff:.2e}")
    ok = not differ.any() and missing == 0 and not bad_cards and diff < 1e-4
    print("OK: the bundled data matches the fresh run" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
