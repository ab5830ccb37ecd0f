"""The bundled COD-regime ladder (ladders/run_all.py --ladder cod): its shape and the requirements it was built to.

Facts about synthetic entities seen with Zipf frequencies, plus graded addition (ladders/world.py); the
regeneration check is ``python ladders/check.py --ladder cod``."""

from __future__ import annotations

import itertools
import math

import pytest

from benchcast.datasets import dataset_info, load_dataset

NAME = "cod-ladder"
FACTS = ("codl_class", "codl_code", "codl_friend")
BENCHMARKS = (*FACTS, "codl_arith", "codl_all")
TARGET = "codl-target"
LADDER = tuple(f"codl-{i:02d}" for i in range(1, 9))


@pytest.fixture(scope="module")
def ladder():
    return load_dataset(NAME)


def test_one_recipe_over_a_wide_compute_range_and_a_distant_target(ladder):
    compute = [ladder.cards[m].compute for m in LADDER]
    assert compute == sorted(compute) and math.log10(compute[-1] / compute[0]) >= 1.5
    assert ladder.cards[TARGET].compute >= 20 * compute[-1]
    tokens_per_param = {round(ladder.cards[m].tokens / ladder.cards[m].params, -1) for m in (*LADDER, TARGET)}
    assert len(tokens_per_param) == 1  # tokens grow with size at one ratio
    for model in (*LADDER, TARGET):
        steps = sorted(ladder.results.loc[ladder.results["model"] == model, "step"].unique())
        assert len(steps) == 3 and steps[1] == ladder.cards[model].step  # own checkpoint and two neighbours


def test_benchmarks_items_and_samples(ladder):
    results = ladder.results
    assert set(BENCHMARKS) == set(results["benchmark"])
    items = results.groupby("benchmark")["item"].nunique()
    assert (items[list(FACTS)] >= 1000).all()
    assert items["codl_all"] == items.drop("codl_all").sum()
    assert (results["trials"] >= 100).all()
    per_checkpoint = results.groupby(["model", "step", "benchmark"])["item"].nunique()
    assert per_checkpoint.groupby("benchmark").nunique().eq(1).all()  # every checkpoint has every item
    assert dataset_info(NAME).meta["chance"] == {"codl_class": 0.25}


def test_target_is_neither_saturated_nor_at_zero_and_the_ladder_rises(ladder):
    for benchmark in BENCHMARKS:
        scores = [ladder.measured(m, benchmark) for m in LADDER]
        assert 0.25 <= ladder.measured(TARGET, benchmark) <= 0.85, benchmark
        # monotone up to sampling noise at the floor (100 samples x >= 400 items: well under a point)
        assert all(later >= earlier - 0.005 for earlier, later in itertools.pairwise(scores)), benchmark
        assert scores[-1] - scores[0] >= 0.05, benchmark


def test_facts_are_learned_in_order_of_popularity(ladder):
    """A more popular entity's fact is known at least as well, at every ladder size: what COD clusters on."""
    from benchcast.datasets import load_results

    results = load_results(NAME)
    own = results[results["step"] == results["model"].map({m: ladder.cards[m].step for m in (*LADDER, TARGET)})]
    code = own[own["benchmark"] == "codl_code"]
    largest = code[code["model"] == LADDER[-1]]
    target = code[code["model"] == TARGET]
    # items the largest ladder model knows are a subset of what the target knows, nearly always
    known = set(largest.loc[largest["correct"] >= 50, "item"])
    assert known and len(known & set(target.loc[target["correct"] >= 50, "item"])) >= 0.95 * len(known)
