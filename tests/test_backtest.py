"""The backtest harness: held-out targets, errors against the truth, skips with reasons, outputs and the CLI."""

from __future__ import annotations

import dataclasses
import json
from typing import Self

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from benchcast import methods as registry
from benchcast.backtest import (
    BacktestCase,
    build_tasks,
    dataset_cases,
    render_markdown,
    run_backtest,
    summarise,
    write_csv,
    write_json,
    write_markdown,
)
from benchcast.backtest.analysis import DatasetProfile, conditions, two_stage_vs_published
from benchcast.cli import _register, app
from benchcast.data.ladder import BenchmarkLadder
from benchcast.errors import InputError
from benchcast.methods import Method, MethodForecast, register_method
from benchcast.simulate import simulate_ladder

_register()
runner = CliRunner()

SEEN: list[dict] = []


class _Spy(Method):
    """Records what it is fitted on and forecast for; answers the mean ladder score with an interval."""

    def fit(self, ladder: BenchmarkLadder) -> Self:
        SEEN.append({"models": ladder.models, "anchors": ladder.anchors})
        self.score_ = float(ladder.scores.mean())
        return self

    def forecast(self, compute: float) -> MethodForecast:
        SEEN.append({"compute": compute})
        return MethodForecast(self.score_, interval={"80": (self.score_ - 0.01, self.score_ + 0.01), "95": (0.0, 1.0)})


class _Decliner(_Spy):
    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        return "declines on purpose"


class _Raiser(_Spy):
    def fit(self, ladder: BenchmarkLadder) -> Self:
        raise RuntimeError("broken on purpose")


@pytest.fixture()
def test_methods():
    """Register the test methods for one test only, so other tests see the real registry."""
    names = {"test-spy": _Spy, "test-decliner": _Decliner, "test-raiser": _Raiser}
    for name, cls in names.items():
        register_method(name)(cls)
    SEEN.clear()
    yield list(names)
    for name in names:
        registry._REGISTRY.pop(name, None)


@pytest.fixture(scope="module")
def sim():
    return simulate_ladder(n_items=300, n_models=6, trials=30, seed=11)


@pytest.fixture(scope="module")
def sim_case(sim):
    return BacktestCase("simulated", "six", sim.ladder, sim.ladder_models, (sim.target,)).resolve()


def test_error_is_absolute_difference_in_points(sim, sim_case):
    result = run_backtest([sim_case], ["last", "cod"])
    assert {r.method for r in result.records} == {"last", "cod"}
    for record in result.records:
        assert record.truth == pytest.approx(sim.ladder.measured(sim.target, "sim"))
        if record.status == "forecast":
            assert record.error == pytest.approx(abs(record.forecast - record.truth) * 100.0)
    last = next(r for r in result.records if r.method == "last")
    largest = sim.ladder.measured(sim.ladder_models[-1], "sim")
    # the naive method answers the largest *ladder* model's score: the held-out target did not enter the fit
    assert last.forecast == pytest.approx(largest)
    assert last.error > 1.0
    summary = {s.method: s for s in summarise(result.records, result.methods, overall=False)}
    assert summary["last"].mean_error == pytest.approx(last.error)


def test_targets_never_enter_the_fit(sim, sim_case, test_methods):
    result = run_backtest([sim_case], ["test-spy"])
    fitted = [entry for entry in SEEN if "models" in entry]
    assert len(fitted) == 1
    assert sim.target not in fitted[0]["models"]
    assert fitted[0]["models"] == tuple(sim.ladder_models)
    assert [entry["compute"] for entry in SEEN if "compute" in entry] == [sim.target_compute]
    for task in build_tasks([sim_case], ["test-spy"]):
        assert sim.target not in task.data.models
    assert result.records[0].forecast == pytest.approx(
        np.mean([sim.ladder.measured(m, "sim") for m in sim.ladder_models])
    )


def test_a_target_in_the_ladder_is_rejected(sim):
    leaky = BacktestCase("simulated", "leak", sim.ladder, (*sim.ladder_models, sim.target), (sim.target,))
    with pytest.raises(InputError, match="also a ladder model"):
        leaky.resolve()


def test_declined_and_failed_methods_are_skips_with_reasons(sim_case, test_methods):
    result = run_backtest([sim_case], ["test-decliner", "test-raiser", "test-spy"])
    by_method = {r.method: r for r in result.records}
    assert by_method["test-decliner"].status == "skipped"
    assert by_method["test-decliner"].reason == "declines on purpose"
    assert by_method["test-decliner"].error is None
    assert by_method["test-raiser"].status == "failed"
    assert "RuntimeError: broken on purpose" in by_method["test-raiser"].reason
    assert by_method["test-spy"].status == "forecast"  # a broken method does not stop the others
    summary = {s.method: s for s in summarise(result.records, result.methods, overall=False)}
    assert (summary["test-decliner"].skipped, summary["test-decliner"].forecasts) == (1, 0)
    assert summary["test-decliner"].mean_error is None
    assert summary["test-raiser"].failed == 1


def test_interval_coverage_and_width(sim, test_methods):
    # two targets: the spy's narrow 80% interval misses both, its 95% interval (0..1) holds both
    cases = [
        BacktestCase("simulated", "a", sim.ladder, sim.ladder_models[:3], (sim.ladder_models[4], sim.target)).resolve()
    ]
    result = run_backtest(cases, ["test-spy"])
    assert len(result.records) == 2
    expected80 = np.mean([r.interval["80"][0] <= r.truth <= r.interval["80"][1] for r in result.records])
    (summary,) = summarise(result.records, result.methods, overall=False)
    assert summary.coverage80 == pytest.approx(expected80)
    assert summary.coverage95 == 1.0
    assert summary.width80 == pytest.approx(2.0)
    assert summary.width95 == pytest.approx(100.0)
    assert summary.with_interval == 2


def test_parallel_run_gives_the_same_records(sim_case):
    serial = run_backtest([sim_case], ["last"], n_jobs=1)
    parallel = run_backtest([sim_case], ["last"], n_jobs=2)
    assert [r.to_dict()["forecast"] for r in serial.records] == [r.to_dict()["forecast"] for r in parallel.records]


def test_bundled_case_and_outputs(tmp_path):
    (case,) = dataset_cases("pythia-arithmetic")
    case = dataclasses.replace(case, benchmarks=("arithmetic_addition_16shot", "arithmetic_multiplication_16shot"))
    result = run_backtest([case], ["cod", "last"], command="benchcast backtest --test")
    assert len(result.records) == 2 * 2 * 2  # targets x benchmarks x methods
    csv_path = write_csv(result, tmp_path / "out" / "bt.csv")
    table = pd.read_csv(csv_path)
    assert len(table) == len(result.records)
    forecast = table[table["status"] == "forecast"]
    assert np.allclose(forecast["error_points"], (forecast["forecast"] - forecast["truth"]).abs() * 100)
    data = json.loads(write_json(result, tmp_path / "bt.json").read_text())
    assert {"summary", "records", "cod_vs_baselines", "profiles", "skipped"} <= set(data)
    assert len(data["records"]) == len(result.records)
    page = write_markdown(result, tmp_path / "bt.md").read_text()
    assert page.startswith("<!-- Generated by `benchcast backtest --test`")
    assert "Do not edit" in page
    assert "## Where COD loses to a baseline" in page
    assert "pythia-13b-deduped" in page
    # the page is a function of the records: rendering twice at the same time gives the same text
    when = pd.Timestamp("2025-01-01", tz="UTC").to_pydatetime()
    assert render_markdown(result, generated=when) == render_markdown(result, generated=when)


def test_conditions_are_built_from_the_numbers():
    base = DatasetProfile(
        dataset="d",
        cases=1,
        ladder_sizes=(2, 2),
        ladder_span=(1.9, 1.9),
        items=(12032, 12032, 12032),
        trials_per_item=1.0,
        extrapolation=(5.0, 40.0),
        benchmarks=1,
    )
    text = " | ".join(conditions(base))
    assert "few ladder models: 2 per case" in text
    assert "declines" in text  # 2 is below COD's minimum ladder size
    assert "single-sample 0/1 results: 1 trial per item" in text
    assert "narrow ladder" in text and "1.9x" in text
    assert "long extrapolation: targets up to 40x" in text
    assert "aggregate-only" not in text
    rich = dataclasses.replace(
        base, ladder_sizes=(8, 8), ladder_span=(100.0, 100.0), trials_per_item=50.0, extrapolation=(2.0, 4.0)
    )
    assert conditions(rich) == []
    aggregate = dataclasses.replace(rich, items=(1, 1, 1.0), trials_per_item=None)
    assert any("aggregate-only data: median 1 item(s)" in line for line in conditions(aggregate))


def test_two_stage_comparison_needs_the_method_and_the_case(sim_case):
    result = run_backtest([sim_case], ["last"])
    assert two_stage_vs_published(result) is None
    assert "Not available" in render_markdown(result)


def test_cli_suite_writes_outputs_quietly(tmp_path):
    paths = [tmp_path / "bt.csv", tmp_path / "bt.json", tmp_path / "bt.md"]
    args = ["backtest", "--suite", "public", "--dataset", "olmo-ladder", "--methods", "last", "--quiet"]
    args += ["--csv", str(paths[0]), "--json", str(paths[1]), "--markdown", str(paths[2])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert all(path.exists() for path in paths)
    page = paths[2].read_text()
    assert "`benchcast backtest --suite public --dataset olmo-ladder --methods last --markdown" in page
    assert len(pd.read_csv(paths[0])) == 2 * 2 * 8  # cases x targets x benchmarks


def test_cli_custom_data_prints_table(sim_files):
    results, models = sim_files
    args = ["backtest", "--data", str(results), "--models", str(models), "--target", "sim-target"]
    result = runner.invoke(app, [*args, "--methods", "last"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "last" in result.output and "custom" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["backtest"],
        ["backtest", "--suite", "private"],
        ["backtest", "--suite", "public", "--methods", "no-such-method"],
        ["backtest", "--suite", "public", "--dataset", "no-such-dataset"],
    ],
)
def test_cli_bad_input_exits_2(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output


def test_two_stage_against_published_olmo_errors():
    pytest.importorskip("benchcast.baselines.two_stage")
    cases = {case.name: case for case in dataset_cases("olmo-ladder")}
    paper = dataclasses.replace(cases["1-10xC"], targets=("OLMo-2-13B",), benchmarks=("piqa",))
    result = run_backtest([paper], ["two-stage"])
    rows = {row.benchmark: row for row in two_stage_vs_published(result)}
    assert set(rows) == {"mmlu", "hellaswag", "arc_challenge", "arc_easy", "piqa", "csqa", "socialiqa", "openbookqa"}
    row, (record,) = rows["piqa"], result.records
    assert row.truth == pytest.approx(row.published.actual, abs=1e-9)
    assert row.error == record.error
    assert rows["hellaswag"].error is None  # not run: the row is there, without a backtest error
    assert rows["piqa"].published.error == pytest.approx(0.879, abs=1e-3)
    page = render_markdown(result)
    assert "## Two-stage method against the published OLMo ladder errors" in page
    assert "Not available" not in page


def test_auto_in_the_backtest_equals_auto_alone(sim, sim_case):
    """The harness hands auto its own fits of the candidates; the forecast must be what auto gets by itself."""
    from benchcast.auto import Auto

    candidates = ("e2e-exp", "powerlaw", "sigmoid")
    register_method("test-auto-fast")(type("FastAuto", (Auto,), {"__init__": _fast_auto_init}))
    try:
        result = run_backtest([sim_case], [*candidates, "test-auto-fast"])
    finally:
        registry._REGISTRY.pop("test-auto-fast", None)
    in_backtest = next(r for r in result.records if r.method == "test-auto-fast")
    data = sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)
    alone = Auto(candidates=candidates).fit(data).forecast(sim.target_compute)
    assert in_backtest.forecast == pytest.approx(alone.value, abs=1e-12)
    assert in_backtest.labels["chosen_method"] == alone.details["chosen_method"]
    assert in_backtest.reliable is alone.details["reliable"]


def _fast_auto_init(self, **kwargs):
    from benchcast.auto import Auto

    Auto.__init__(self, candidates=("e2e-exp", "powerlaw", "sigmoid"), **kwargs)


def test_default_forecaster_analysis_pairs_forecasts_and_splits_verdicts():
    from benchcast.backtest.default import paired_with_auto, regime_intervals, verdict_split
    from benchcast.backtest.harness import BacktestRecord

    def rec(method, benchmark, forecast, reliable=None, regime="scaling"):
        return BacktestRecord(
            "d", "c", "t", benchmark, method, 1.0, 0.5, forecast=forecast, reliable=reliable, labels={"regime": regime}
        )

    records = [
        rec("auto", "a", 0.52, reliable=True),
        rec("auto", "b", 0.70, reliable=False, regime="non-monotone"),
        rec("x", "a", 0.60),
        rec("x", "c", 0.50),
    ]
    (pair,) = paired_with_auto(records, ["auto", "x"])
    assert (pair.common, pair.auto_error, pair.method_error, pair.auto_wins) == (
        1,
        pytest.approx(2.0),
        pytest.approx(10.0),
        True,
    )
    reliable, unreliable = verdict_split(records)
    assert (reliable.count, reliable.mean_error) == (1, pytest.approx(2.0))
    records[0].interval = {"80": (0.45, 0.55), "95": (0.40, 0.60)}  # holds the truth, 0.5
    records[1].interval = {"80": (0.65, 0.75)}  # misses it
    by_regime = {g.regime: g for g in regime_intervals(records)}
    assert set(by_regime) == {"scaling", "non-monotone"}
    scaling, dip = by_regime["scaling"], by_regime["non-monotone"]
    assert (scaling.count, scaling.covered80, scaling.covered95, scaling.width80) == (1, 1.0, 1.0, pytest.approx(10))
    assert (dip.covered80, dip.covered95, dip.mean_error) == (0.0, None, pytest.approx(20.0))
    assert (unreliable.count, unreliable.mean_error, dict(unreliable.regimes)) == (
        1,
        pytest.approx(20.0),
        {"non-monotone": 1},
    )


def test_interval_score_adds_the_penalised_miss_to_the_width():
    from benchcast.backtest.harness import BacktestRecord

    def record(low, high, truth=0.5):
        return BacktestRecord("d", "c", "t", "b", "m", 1.0, truth=truth, forecast=0.5, interval={"80": (low, high)})

    assert record(0.45, 0.55).interval_score("80") == pytest.approx(10.0)  # covered: the width alone
    assert record(0.55, 0.65).interval_score("80") == pytest.approx(10.0 + 10.0 * 5.0)  # 5 points short, 2/0.2
    assert record(0.45, 0.55).interval_score("95") is None
    assert record(0.0, 1.0).interval_score("80") > record(0.45, 0.55).interval_score("80")  # sharpness pays
