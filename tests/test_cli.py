"""The command line: the demo, a forecast from files, the store commands, and bad input (exit 2, one line,
nothing written)."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from benchcast.cli import _register, app
from benchcast.data.readers import read_results
from benchcast.data.store import Store
from benchcast.report.html import load_forecast_json
from benchcast.simulate import simulate_irt_ladder

_register()
runner = CliRunner()


def test_demo_prints_forecast_and_measured_value():
    result = runner.invoke(app, ["demo", "--method", "cod", "--bootstrap", "0"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "pythia-13b-deduped" in result.output
    assert "arithmetic_addition_16shot" in result.output
    assert "measured" in result.output and "mean absolute error" in result.output


def test_demo_table_keeps_every_row_on_one_line_in_an_80_column_terminal():
    # the README's first command: in a default terminal the names' shared "arithmetic_" moves into the header and
    # the columns close up, so that each benchmark is one line with every number whole
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(i for i, line in enumerate(lines) if line.startswith("arithmetic_*"))
    assert set(lines[header + 1].strip()) == {"─"}
    rows = lines[header + 2 : header + 12]
    assert [row.split()[0] for row in rows] == [
        f"{op}_{shots}shot" for op in ("addition", "multiplication") for shots in (0, 16, 2, 4, 8)
    ]
    assert all(len(re.findall(r"\d+\.\d", row)) >= 4 for row in rows)
    assert re.match(r"1\. ", lines[header + 12])  # the notes follow the last row: no row folded onto two lines


def test_forecast_table_keeps_whole_names_where_they_fit_and_truth_columns_where_there_is_a_truth(sim_files):
    from rich.console import Console

    from benchcast import forecast
    from benchcast.data.inputs import load_ladder
    from benchcast.report.table import forecast_table, shared_prefix

    assert shared_prefix(["arithmetic_addition_0shot", "arithmetic_multiplication_2shot"]) == "arithmetic_"
    assert shared_prefix(["mmlu_pro", "mmlu"]) == ""  # would leave "mmlu" empty
    assert shared_prefix(["ab_x", "ab_y"]) == ""  # too short to be worth a header
    assert shared_prefix(["gsm8k"]) == ""
    results, models = sim_files
    ladder = load_ladder([results], models)
    for target, truth in (("sim-target", True), (None, False)):
        kwargs = {"target": target} if target else {"compute": 1e22}
        result = forecast(ladder, method="powerlaw", n_bootstrap=0, **kwargs)
        console = Console(width=200, record=True)
        console.print(forecast_table(result, console=console))
        text = console.export_text()
        assert ("measured" in text and "error" in text) is truth, text
        assert re.search(r"^sim\s", text, re.M), text


def test_forecast_json_is_compact_unless_items_are_asked_for(sim_files, tmp_path):
    results, models = sim_files
    command = ["forecast", str(results), "--models", str(models), "--target", "sim-target", "--method", "cod"]
    command += ["--bootstrap", "0"]
    compact, full = tmp_path / "compact.json", tmp_path / "full.json"
    assert runner.invoke(app, [*command, "--json", str(compact)]).exit_code == 0
    assert runner.invoke(app, [*command, "--json", str(full), "--items"]).exit_code == 0
    small, large = json.loads(compact.read_text())["sim"], json.loads(full.read_text())["sim"]
    assert len(large["details"]["item_labels"]) == len(large["details"]["item_map"]["x"]) == 400
    # the same forecast, without what grows with the benchmark
    assert small == {**large, "details": {k: v for k, v in large["details"].items() if not k.startswith("item_")}}
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(compact), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "No item map" in out.read_text()


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


def test_forecast_law_option_reaches_cod_and_refuses_misuse(sim_files, tmp_path):
    results, models = sim_files
    base = ["forecast", str(results), "--models", str(models), "--target", "sim-target", "--bootstrap", "0"]
    for law, name in (("cod", "cod"), ("logistic", "cod-logistic")):
        out = tmp_path / f"{law}.json"
        result = runner.invoke(app, [*base, "--method", "cod", "--law", law, "--json", str(out)])
        assert result.exit_code == 0, result.output
        clusters = json.loads(out.read_text())["sim"]["details"]["clusters"]
        assert clusters and {cluster["law"] for cluster in clusters} == {name}
    for args, words in (
        (["--method", "auto", "--law", "cod"], "--law applies to --method cod only"),
        (["--method", "cod", "--law", "quadratic"], "--law must be one of"),
    ):
        result = runner.invoke(app, [*base, *args], env={"COLUMNS": "200"})
        assert result.exit_code == 2
        assert words in result.output and len(result.output.strip().splitlines()) == 1


def test_cods_departure_from_the_papers_law_is_a_note(sim_files, tmp_path):
    # items that rise like item-response curves: COD moves to the logistic twin and the table says so, with the
    # evidence and the way back; on the paper law's own items (sim_files) no such note
    sim = simulate_irt_ladder(n_items=4000, seed=1)
    results, models = tmp_path / "irt.csv", tmp_path / "irt-models.csv"
    sim.results[["model", "benchmark", "item", "trials", "correct"]].to_csv(results, index=False)
    cards = [
        {"model": name, "compute": card.compute, "role": card.role.value} for name, card in sim.ladder.cards.items()
    ]
    pd.DataFrame(cards).to_csv(models, index=False)
    words = "COD's clusters follow the logistic twin of the paper's law"
    outputs = []
    for files, target in (((results, models), sim.target), (sim_files, "sim-target")):
        arguments = ["forecast", str(files[0]), "--models", str(files[1]), "--target", target, "--method", "cod"]
        result = runner.invoke(app, [*arguments, "--bootstrap", "0"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    irt, paper = outputs
    assert words in irt and "(--law cod keeps the paper's law)" in irt, irt
    assert words not in paper, paper


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


def test_demo_writes_its_forecasts_as_json(tmp_path):
    out = tmp_path / "demo.json"
    result = runner.invoke(app, ["demo", "--method", "last", "--bootstrap", "0", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert len(data) == 10 and all(name.startswith("arithmetic_") for name in data)
    assert {entry["target"] for entry in data.values()} == {"pythia-13b-deduped"}
    assert all(entry["method"] == "last" and entry["truth"] is not None for entry in data.values())
    assert set(load_forecast_json(out)) == set(data)  # what ``benchcast report`` reads


# ------------------------------------------------------------------------------------------------ the store

# steps, score-only items, ids that look like numbers or hold the separator, and floats needing 17 digits
STORE_ROWS = """model,step,benchmark,item,trials,correct,score
m1,1000,arith,007,10,3,
m1,1000,arith,q2,10,10,
m1,,arith,007,4,1,
m1,,arith,q2,4,2,
m2,,arith,007,10,0,
m2,,arith,q2,10,7,
m1,1000,prob,a,,,0.30000000000000004
m1,1000,prob,"b, c\tâ",,,0.123456789012345678
m1,,prob,a,,,0.1
m1,,prob,"b, c\tâ",,,1e-17
m2,,prob,a,,,0.5
m2,,prob,"b, c\tâ",,,0.25
"""


@pytest.fixture()
def store(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(STORE_ROWS)
    path = tmp_path / "runs.duckdb"
    with Store(path) as target:
        target.ingest([rows])
    return path


def _stored_results(path) -> pd.DataFrame:
    with Store(path, read_only=True) as source:
        return source.results()


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("items.csv", "model,step,benchmark,item,"),
        ("items.csv.gz", "model,step,benchmark,item,"),
        ("items.tsv", "model\tstep\tbenchmark\titem\t"),
        ("items.TSV.GZ", "model\tstep\tbenchmark\titem\t"),
        ("items.jsonl", '{"model": "m1", "step": 1000, "benchmark": "arith", "item": "007", '),
        ("items.jsonl.gz", '{"model": "m1", "step": 1000, "benchmark": "arith", "item": "007", '),
        ("items.parquet", None),
    ],
)
def test_export_writes_the_format_its_name_says_and_reads_back(store, tmp_path, name, starts):
    out = tmp_path / name
    result = runner.invoke(app, ["export", str(store), str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if starts is None:
        assert data[:4] == b"PAR1"
    else:
        gzipped = name.lower().endswith(".gz")
        assert (data[:2] == b"\x1f\x8b") == gzipped
        text = (gzip.decompress(data) if gzipped else data).decode()
        assert text.startswith(starts)
    pd.testing.assert_frame_equal(read_results(out), _stored_results(store))
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


@pytest.mark.parametrize("name", ["items.xlsx", "items.parquet.gz", "items", "items.csv.zip"])
def test_export_refuses_a_name_without_a_known_format_and_writes_nothing(store, tmp_path, name):
    before = sorted(tmp_path.iterdir())
    result = runner.invoke(app, ["export", str(store), str(tmp_path / name)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert name in result.output and ".csv" in result.output and ".parquet" in result.output
    assert ".jsonl.gz" in result.output
    assert sorted(tmp_path.iterdir()) == before


def test_export_records_take_the_named_format_too(store, tmp_path):
    result = runner.invoke(app, ["export", str(store), str(tmp_path / "r.jsonl"), "--records"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 12 and {"filter", "repeat", "source"} <= set(json.loads(lines[0]))


def test_ls_takes_the_store_as_argument_or_option(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"COLUMNS": "160"}
    outputs = [
        runner.invoke(app, ["ls", *arguments], env=env)
        for arguments in (
            ["runs.duckdb"],
            ["--store", "runs.duckdb"],
            ["-s", str(store)],
            ["runs.duckdb", "-s", str(store)],
        )
    ]
    assert all(output.exit_code == 0 for output in outputs), [output.output for output in outputs]
    assert "m2" in outputs[0].output and "prob" in outputs[0].output
    assert len({output.output for output in outputs}) == 1


def test_export_takes_the_store_as_argument_or_option(store, tmp_path):
    forms = {
        "a.csv": ["export", str(store), str(tmp_path / "a.csv")],
        "b.csv": ["export", "--store", str(store), str(tmp_path / "b.csv")],
        "c.csv": ["export", str(tmp_path / "c.csv"), "--store", str(store)],  # the older order still works
        "d.csv": ["export", str(store), str(tmp_path / "d.csv"), "--store", str(store)],
    }
    for name, arguments in forms.items():
        result = runner.invoke(app, arguments)
        assert result.exit_code == 0, result.output
        assert f"wrote 12 rows to {tmp_path / name}" in result.output.replace("\n", "")
    assert len({(tmp_path / name).read_text() for name in forms}) == 1


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["ls", "{store}", "--store", "{other}"], "two stores given"),
        (["export", "{store}", "{out}", "--store", "{other}"], "two stores given"),
        (["ls"], "no store given"),
        (["export", "{out}"], "no store given"),
    ],
)
def test_a_missing_or_second_store_is_refused(store, tmp_path, arguments, words):
    other = tmp_path / "other.duckdb"
    shutil.copy(store, other)
    out = tmp_path / "items.csv"
    arguments = [argument.format(store=store, other=other, out=out) for argument in arguments]
    result = runner.invoke(app, arguments, env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert words in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_forecast_json_into_a_missing_folder_is_a_one_line_error(tmp_path):
    """An unwritable --json path stops with exit 2 and one line naming the file, not a traceback."""
    sim = tmp_path / "sim"
    assert runner.invoke(app, ["simulate", "--out", str(sim), "--seed", "3", "--n-items", "200"]).exit_code == 0
    out = tmp_path / "missing" / "forecast.json"
    result = runner.invoke(
        app,
        [
            "forecast",
            str(sim / "results.csv"),
            "--models",
            str(sim / "models.csv"),
            "--target",
            "sim-target",
            "--method",
            "last",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "forecast.json" in result.output and "Traceback" not in result.output
    assert not out.parent.exists()


def test_demo_prints_no_interval_too_wide_to_tell_anything_but_says_why():
    """Issue #14: an 80% interval of 0-100 holds every truth; the table says why the benchmark cannot be
    forecast instead of printing the band."""
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    bands = [(int(low), int(high)) for low, high in re.findall(r"\s(\d+)–(\d+)\s", result.output)]
    assert bands and all(high - low <= 60 for low, high in bands)
    nones = [line for line in result.output.splitlines() if re.search(r"\snone\s", line)]
    notes = re.findall(r"cannot be forecast from this ladder \(its 80% interval spans (\d+)-(\d+)\)", result.output)
    assert nones and len(notes) == len(nones)
    assert all(int(high) - int(low) > 60 for low, high in notes)
    # a narrow band on a flat ladder (multiplication, 0-shot: 4.1 forecast, 9.8 measured) says what it leaves out
    flat = next(line for line in result.output.splitlines() if line.lstrip().startswith("arithmetic_multiplication_0"))
    note = re.search(r"(\d+)\s*$", flat)
    assert note, flat
    assert re.search(rf"^{note.group(1)}\. no reliable trend \(pre-emergence", result.output, re.M)
    assert "nothing on a flat ladder bounds a jump at the target" in result.output


def test_wide_interval_rule():
    from benchcast.report.wide import too_wide, why_not

    assert too_wide((0.0, 1.0)) and not too_wide((0.2, 0.7)) and not too_wide(None)
    assert "no reliable trend" in why_not({"verdict": "no reliable trend"}, (0.0, 1.0))
    assert "spans 0-100" in why_not({}, (0.0, 1.0))


def test_benchmark_option_takes_glob_patterns_as_the_table_header_writes_them(tmp_path):
    """``--benchmark 'arithmetic_*'`` picks what the narrow table's header names; names keep their order, each
    once; a pattern that matches nothing is refused in one line, like an unknown name."""
    from benchcast.datasets import load_dataset
    from benchcast.forecast import forecast as run_forecast

    ladder = load_dataset("pythia-arithmetic")
    picked = ["arithmetic_addition_0shot", "arithmetic_multiplication_1?shot", "arithmetic_addition_0shot"]
    picked.append("arithmetic_multiplication_16shot")
    result = run_forecast(ladder, target="pythia-13b-deduped", method="last", benchmarks=picked)
    assert list(result.benchmarks) == ["arithmetic_addition_0shot", "arithmetic_multiplication_16shot"]
    made = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--n-items", "200"])
    assert made.exit_code == 0, made.output
    results, models = tmp_path / "results.csv", tmp_path / "models.csv"
    base = ["forecast", str(results), "--models", str(models), "--target", "sim-target", "--method", "last", "-q"]
    assert runner.invoke(app, [*base, "--benchmark", "s*"]).exit_code == 0
    refused = runner.invoke(app, [*base, "--benchmark", "mmlu_*"])
    assert refused.exit_code == 2 and "no benchmark matches 'mmlu_*'; known: sim" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


@given(st.lists(st.text(alphabet="ab_-/0", max_size=8), min_size=1, max_size=6))
def test_shared_prefix_is_a_whole_leading_part_of_every_name(names):
    from benchcast.report.table import shared_prefix

    prefix = shared_prefix(names)
    if prefix:
        assert len(prefix) >= 4 and prefix[-1] in "_-/:."
        assert all(name.startswith(prefix) and len(name) > len(prefix) for name in names)
        # the longest such part: the names differ right after it, or one of them has no separator further on
        rests = [name[len(prefix) :] for name in names]
        longer = rests[0][: min(len(rest) for rest in rests)]
        assert not any(
            all(rest.startswith(longer[: i + 1]) for rest in rests) for i, c in enumerate(longer) if c in "_-/:."
        )


def test_library_default_is_the_commands_forecast(sim_files, tmp_path):
    """``forecast(ladder, target=...)`` with its defaults gives what ``benchcast forecast`` prints and writes (#14:
    the same defaults everywhere): the same method and the same numbers."""
    from benchcast import forecast
    from benchcast.data.inputs import load_ladder

    results, models = sim_files
    out = tmp_path / "cli.json"
    command = ["forecast", str(results), "--models", str(models), "--target", "sim-target", "--json", str(out), "-q"]
    assert runner.invoke(app, command).exit_code == 0
    library = forecast(load_ladder([results], models), target="sim-target").benchmarks["sim"]
    written = load_forecast_json(out)["sim"]
    assert library.method == written["method"] == "auto"
    assert library.forecast == written["forecast"]
    assert [list(library.interval[level]) for level in ("80", "95")] == [written["interval"][k] for k in ("80", "95")]


def test_a_target_inside_the_ladder_is_called_an_interpolation(sim_files):
    from benchcast import forecast
    from benchcast.data.inputs import load_ladder

    results, models = sim_files
    ladder = load_ladder([results], models)
    top = max(ladder.cards[name].compute for name in ladder.select("sim-target").ladder)
    inside = forecast(ladder, compute=top / 2, method="last").benchmarks["sim"]
    beyond = forecast(ladder, compute=top * 25, method="last").benchmarks["sim"]
    assert any("not above the largest ladder model's" in w for w in inside.warnings), inside.warnings
    assert not any("not above the largest ladder model's" in w for w in beyond.warnings), beyond.warnings
