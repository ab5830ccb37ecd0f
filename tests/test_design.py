"""The ladder-design table: smaller ladders cut out of measured data, and the page section it writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from benchcast.backtest.design import (
    MARKER_END,
    MARKER_START,
    Design,
    keep_design_section,
    spaced,
    thin,
    write_design_section,
)
from benchcast.cli import _register, app
from benchcast.data.results import validate_results

_register()
runner = CliRunner()


def _results() -> pd.DataFrame:
    rows = []
    for model in ("m1", "m2", "target"):
        for item in range(40):
            rows.append(
                {
                    "model": model,
                    "benchmark": "b",
                    "item": f"q{item}",
                    "trials": 100.0,
                    "correct": float(min(100, 5 * item)),
                }
            )
    return validate_results(pd.DataFrame(rows))


def test_spaced_keeps_both_ends_and_spreads_the_rest():
    names = [f"m{i}" for i in range(8)]
    assert spaced(names, 4) == ["m0", "m2", "m5", "m7"]
    assert spaced(names, 8) == names


def test_thinning_draws_fewer_samples_without_touching_the_target():
    results = _results()
    out = thin(results, Design(2, None, 10), ["target"], np.random.default_rng(0))
    ladder = out[out["model"] != "target"]
    assert (ladder["trials"] == 10).all()
    assert ((ladder["correct"] >= 0) & (ladder["correct"] <= 10)).all()
    # samples are drawn from the stored ones: an item with none right keeps none, one with all right keeps all
    stored = results.set_index(["model", "item"])["correct"]
    kept = ladder.set_index(["model", "item"])["correct"]
    assert (kept[stored.loc[kept.index] == 0] == 0).all()
    assert (kept[stored.loc[kept.index] == 100] == 10).all()
    assert (ladder["pass_rate"] == ladder["correct"] / 10).all()  # what the ladder reads moves with the counts
    target = out[out["model"] == "target"].set_index("item")
    assert (target["trials"] == 100).all() and (
        target["correct"] == results[results["model"] == "target"].set_index("item")["correct"]
    ).all()


def test_item_subsets_are_the_same_items_for_every_model():
    out = thin(_results(), Design(2, 15, None), ["target"], np.random.default_rng(1))
    per_model = out.groupby("model")["item"].apply(frozenset)
    assert per_model.map(len).eq(15).all() and per_model.nunique() == 1


def test_design_section_is_replaced_not_duplicated_and_survives_a_regenerated_page(tmp_path):
    page = tmp_path / "backtests.md"
    page.write_text("# Backtests\n\nbody\n")
    write_design_section(page, f"{MARKER_START}\nfirst\n{MARKER_END}")
    write_design_section(page, f"{MARKER_START}\nsecond\n{MARKER_END}")
    text = page.read_text()
    assert text.count(MARKER_START) == 1 and "second" in text and "first" not in text and "body" in text
    regenerated = keep_design_section(page, "# Backtests\n\nnew body\n")
    assert "new body" in regenerated and "second" in regenerated


def test_ladder_design_command_writes_a_table(tmp_path):
    page = tmp_path / "page.md"
    result = runner.invoke(
        app,
        [
            "ladder-design",
            "pythia-arithmetic",
            "--methods",
            "last",
            "--models",
            "3",
            "--items",
            "5",
            "--trials",
            "1",
            "--seeds",
            "1",
            "--markdown",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "| ladder models |" in text and "benchcast ladder-design pythia-arithmetic" in text
    assert text.count("\n| ") >= 4  # the full design, then one row per varied factor


def test_ladder_design_refuses_bad_input():
    result = runner.invoke(app, ["ladder-design", "no-such-dataset"])
    assert result.exit_code == 2 and "unknown dataset" in result.output
    result = runner.invoke(app, ["ladder-design", "pythia-arithmetic", "--items", "ten"])
    assert result.exit_code == 2 and "--items" in result.output


def test_ladder_design_runs_on_your_own_pilot_ladder(sim_files, small_sim):
    """A team's own ladder with a larger measured model held out: the same table, from its files."""
    results, cards = sim_files
    options = ["--methods", "last,powerlaw", "--models", "3", "--items", "50", "--trials", "10", "--seeds", "1"]
    base = ["ladder-design", "--data", str(results), "--cards", str(cards), "--target", "sim-target", *options]
    result = runner.invoke(app, base, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "(your ladder)" in result.output and "benchcast ladder-design --data" in result.output
    # markdown comes out whole in an 80-column terminal (and into a file it is piped to): no row folds
    table = [line for line in result.output.splitlines() if line.startswith("|")]
    assert len(table) == 6 and all(line.endswith("|") and line.count("|") == 11 for line in table), table
    rows = [line for line in result.output.splitlines() if line.startswith("| ") and "ladder models" not in line]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == [str(len(small_sim.ladder_models)), "3", "6", "6"]
    # the full design's "last" error is the largest ladder model's miss on the target's measured score
    last = small_sim.ladder.benchmark_ladder("sim", small_sim.ladder_models).scores[-1]
    measured = small_sim.ladder.measured("sim-target", "sim")
    assert float(rows[0].split(" | ")[3]) == pytest.approx(100 * abs(last - measured), abs=0.01)


def test_ladder_design_refuses_a_half_given_ladder(sim_files):
    results, cards = sim_files
    for arguments, words in (
        (["ladder-design"], "give a bundled dataset or --data"),
        (["ladder-design", "--data", str(results), "--target", "sim-target"], "--data needs --cards"),
        (["ladder-design", "--data", str(results), "--cards", str(cards)], "--data needs --target"),
        (["ladder-design", "pythia-arithmetic", "--target", "x"], "go with --data"),
    ):
        result = runner.invoke(app, arguments, env={"COLUMNS": "300"})
        assert result.exit_code == 2 and words in result.output, result.output
