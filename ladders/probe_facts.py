"""How the COD-regime ladder's models learn single facts: each fact's pass probability by popularity rank.

    python ladders/probe_facts.py                      # reads ladders/out-cod (run_all.py --ladder cod)

For every model of the ladder and the target (own checkpoint) and facts over the whole popularity range (all
ranks 1-99, then evenly spaced ranks to 10,000), the exact probability that one sample at temperature 1.0 with
top-p 0.7 (the evaluation's settings) is right: the product over the answer's characters and the closing
newline of the correct token's probability in the nucleus, given the right characters before it. No sampling,
so no noise. It prints the mean per rank band, and for facts that switch on inside the ladder the span of
compute between the last model still near chance and the first that knows the fact: what an item-response
curve's slope is on this ladder, against the 1-4 logits per decade of ``simulate_irt_ladder``
(``benchmarks/irt_slopes.py``).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import world
from model import COD_SIZES
from scipy.optimize import curve_fit
from tasks import ALPHABET
from transformers import GPT2LMHeadModel

BANDS = ((1, 3), (4, 9), (10, 31), (32, 99), (100, 315), (316, 999), (1000, 3161), (3162, 10_000))
CHANCE = {"class": 0.25, "code": 0.0, "friend": 0.0}


def ranks() -> list[int]:
    return sorted({*range(1, 100), *np.unique(np.geomspace(100, 10_000, 400).astype(int)).tolist()})


@torch.no_grad()
def pass_probability(model: GPT2LMHeadModel, prompts: list[str], answers: list[str], top_p: float = 0.7):
    """Exact probability of sampling each answer (and the newline after it) at temperature 1 with top-p."""
    index = {char: i for i, char in enumerate(ALPHABET)}
    ids = torch.tensor([[index[c] for c in p + a + "\n"] for p, a in zip(prompts, answers, strict=True)])
    probs = torch.softmax(model(ids).logits, dim=-1)
    start = len(prompts[0]) - 1
    total = torch.ones(len(prompts))
    for pos in range(start, ids.shape[1] - 1):
        p = probs[:, pos]
        ordered, order = p.sort(dim=-1, descending=True)
        keep = torch.zeros_like(p, dtype=torch.bool).scatter(-1, order, (ordered.cumsum(-1) - ordered) < top_p)
        nucleus = torch.where(keep, p, 0.0)
        total *= (nucleus / nucleus.sum(-1, keepdim=True)).gather(-1, ids[:, pos + 1 : pos + 2]).squeeze(-1)
    return total.numpy()


def _frontier(rank: np.ndarray, known: np.ndarray) -> float:
    """The rank where a logistic curve in log10(rank), fitted by least squares to how well each fact is known
    (0 at chance, 1 known), crosses one half: how far down the popularity ranking a model's knowledge reaches."""

    def curve(z, centre, width):
        return 1.0 / (1.0 + np.exp((z - centre) / width))

    z = np.log10(rank)
    try:
        (centre, _), _ = curve_fit(curve, z, np.clip(known, 0, 1), p0=(1.0, 0.2), bounds=([-3, 0.01], [6, 3]))
    except RuntimeError:
        return float("nan")
    return float(10**centre)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out-cod")
    args = parser.parse_args()
    torch.set_num_threads(1)
    grid = ranks()
    compute, table = [], {}
    for size in COD_SIZES:
        info = json.loads((args.out / "models" / size.name / "train.json").read_text())
        model = GPT2LMHeadModel.from_pretrained(str(args.out / "models" / size.name / f"step{info['step']}"))
        model.eval()
        compute.append(info["compute"])
        for benchmark in world.ATTRIBUTES:
            prompts, answers = zip(*(world.fact(benchmark, r - 1) for r in grid), strict=True)
            table.setdefault(benchmark, []).append(pass_probability(model, list(prompts), list(answers)))
    names = [size.name.removeprefix("codl-") for size in COD_SIZES]
    rank = np.array(grid)
    gaps = np.diff(np.log10(compute[:-1]))  # between adjacent ladder models
    for benchmark, rows in table.items():
        passed = np.array(rows)  # models x facts
        print(f"\n{benchmark}: mean pass probability by popularity rank (one sample, T=1, top-p 0.7)")
        print("| ranks | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for low, high in BANDS:
            inside = (rank >= low) & (rank <= high)
            print(f"| {low}-{high} | " + " | ".join(f"{v:.2f}" for v in passed[:, inside].mean(axis=1)) + " |")
        chance = CHANCE[benchmark]
        known = (passed - chance) / (1 - chance)
        print(
            "popularity rank at which a fact is known half of the way (log-rank logistic fit): "
            + ", ".join(f"{name} {_frontier(rank, row):.3g}" for name, row in zip(names, known, strict=True))
        )
        spans = []
        for fact in range(known.shape[1]):
            low = np.flatnonzero(known[:-1, fact] <= 0.1)
            high = np.flatnonzero(known[:-1, fact] >= 0.9)
            if len(low) and len(high) and high[0] > low[-1] and known[-2, fact] >= 0.9:
                spans.append(math.log10(compute[high[0]] / compute[low[-1]]))
        if spans:
            print(
                f"facts that switch on inside the ladder: {len(spans)}; compute from near chance (<=10% of the way) "
                f"to known (>=90%): median {np.median(spans):.2f} decades, 90th percentile "
                f"{np.quantile(spans, 0.9):.2f} (adjacent ladder models are {min(gaps):.2f}-{max(gaps):.2f} decades "
                "apart)"
            )


if __name__ == "__main__":
    main()
