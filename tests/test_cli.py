"""The command line: the demo, a forecast from files, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from benchcast.cli import _register, app

_register()
runner = CliRunner()


def test_demo_prints_forecast_and_measured_value():
    result = runner.invoke(app, ["demo", "--method", "cod", "--bootstrap", "0"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "pythia-13b-deduped" in result.output
    assert "arithmetic_addition_16shot" in result.output
    assert "measured" in result.output and "mean absolute error" in result.output


def test_demo_table_keeps_every_number_whole_in_an_80_column_terminal():
    # the README's first command: in a default terminal the benchmark names fold, numbers are never cut
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    rows = [line for line in result.output.splitlines() if line.lstrip().startswith("arithmetic_")]
    assert len(rows) == 10
    assert all(len(re.findall(r"\d+\.\d", row)) >= 4 for row in rows)


def test_forecast_from_files_writes_json(sim_files, small_sim, tmp_path):
    results, models = sim_files
    out = tmp_path / "f.json"
    result = runner.invoke(
        app,
        [
            "forecast",
            str(results),
            "--models",
            str(models),
            "--target",
            "sim-target",
            "--json",
            str(out),
            "--bootstrap",
            "8",
            "--jobs",
            "1",
            "--method",
            "cod",
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert set(data) == {"sim"}
    entry = data["sim"]
    assert 0 <= entry["forecast"] <= 1
    assert entry["truth"] == pytest.approx(small_sim.ladder.measured("sim-target", "sim"))
    assert entry["method"] == "cod" and entry["details"]["clusters"]
    assert abs(entry["forecast"] - small_sim.truth) < 0.05
    low, high = entry["interval"]["80"]
    assert low <= high and entry["details"]["bootstrap"]["n_samples"] == 8


def test_forecast_by_compute_without_roles(sim_files, tmp_path):
    results, models = sim_files
    lines = models.read_text().splitlines()
    plain = tmp_path / "plain.csv"
    plain.write_text("model,compute\n" + "\n".join(",".join(line.split(",")[:2]) for line in lines[1:]) + "\n")
    result = runner.invoke(
        app,
        ["forecast", str(results), "--models", str(plain), "--compute", "1e24", "--bootstrap", "0"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "from 7 ladder models" in result.output.replace("\n", " ") or "ladder" in result.output


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("model,benchmark,item,trials,correct\nsim-1,sim,q1,10,11\n", "exceeds trials"),
        ("model,benchmark,item,trials,correct\nsim-1,sim,q1,10,x\n", "expected a number"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, sim_files, body, words):
    _, models = sim_files
    bad = tmp_path / "bad.csv"
    bad.write_text(body)
    out = tmp_path / "f.json"
    result = runner.invoke(
        app,
        ["forecast", str(bad), "--models", str(models), "--target", "sim-target", "--json", str(out)],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2
    assert words in result.output and "bad.csv:2" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_card_and_unknown_target(sim_files, tmp_path):
    results, models = sim_files
    partial = tmp_path / "m.csv"
    partial.write_text("\n".join(models.read_text().splitlines()[:-2]) + "\n")
    result = runner.invoke(app, ["forecast", str(results), "--models", str(partial), "--target", "sim-target"])
    assert result.exit_code == 2 and "has results but no card" in result.output
    result = runner.invoke(app, ["forecast", str(results), "--models", str(models), "--target", "nope"])
    assert result.exit_code == 2 and "unknown target 'nope'" in result.output


def test_simulate_writes_loadable_files(tmp_path):
    out = tmp_path / "sim"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--n-items", "200", "--n-models", "5", "--seed", "4"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        app,
        [
            "forecast",
            str(out / "results.csv"),
            "--models",
            str(out / "models.csv"),
            "--target",
            "sim-target",
            "--bootstrap",
            "0",
        ],
        env={"COLUMNS": "160"},
    )
    assert again.exit_code == 0, again.output
