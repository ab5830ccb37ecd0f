"""The bundled reference ladder (ladders/run_all.py): its shape, and the trend and emergence it was made to show.

Its benchmarks are difficulty families: each problem family's short and long problems."""

from __future__ import annotations

import pytest

from benchcast.datasets import dataset_info, load_dataset

NAME = "reference-ladder"
FAMILIES = tuple(f"refl_{f}_{t}" for f in ("copy", "rev", "add", "mul") for t in ("short", "long"))
TARGET = "refl-target"
LARGEST = "refl-08"


@pytest.fixture(scope="module")
def ladder():
    return load_dataset(NAME)


def test_models_and_roles(ladder):
    ladder_models = [m for m, card in ladder.cards.items() if card.role == "ladder"]
    assert len(ladder_models) >= 8
    assert ladder.cards[TARGET].role == "target"
    largest = max(ladder.cards[m].compute for m in ladder_models)
    assert ladder.cards[LARGEST].compute == largest
    assert ladder.cards[TARGET].compute >= 20 * largest
    for model in [*ladder_models, TARGET]:
        card = ladder.cards[model]
        assert card.compute == pytest.approx(6 * card.params * card.tokens)
        steps = sorted(ladder.results.loc[ladder.results["model"] == model, "step"].unique())
        assert len(steps) == 3 and steps[1] == card.step  # own checkpoint between its two neighbours


def test_items_and_trials(ladder):
    results = ladder.results
    families = results[results["benchmark"].isin(FAMILIES)]
    assert set(FAMILIES) <= set(results["benchmark"])
    assert families.groupby("benchmark")["item"].nunique().sum() >= 2000
    assert (results["trials"] >= 50).all()
    union = results[results["benchmark"] == "refl_all"]
    assert union["item"].nunique() == families.groupby("benchmark")["item"].nunique().sum()
    per_checkpoint = families.groupby(["model", "step", "benchmark"])["item"].nunique()
    assert per_checkpoint.groupby("benchmark").nunique().eq(1).all()  # every checkpoint has every item


def test_cases_follow_the_shared_format(ladder):
    cases = dataset_info(NAME).meta["cases"]
    assert len(cases) == 1
    assert len(cases[0]["ladder"]) == 8 and cases[0]["targets"] == [TARGET]
    assert set(cases[0]["ladder"]) <= set(ladder.models)


def test_trend_and_emergence(ladder):
    target = {b: ladder.measured(TARGET, b) for b in FAMILIES}
    largest = {b: ladder.measured(LARGEST, b) for b in FAMILIES}
    assert max(target[b] - largest[b] for b in FAMILIES) >= 0.10  # a trend to forecast
    assert min(largest.values()) <= 0.05  # a family still near zero at the largest ladder model
