"""The DuckDB store: idempotent, all-or-nothing ingests; a versioned schema; listing, export, forecasting from it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from benchcast.cli import _register as register_commands
from benchcast.cli import app
from benchcast.data.readers import get_reader, read_results
from benchcast.data.results import load_results
from benchcast.data.store import Store
from benchcast.errors import InputError
from fixtures.harness_outputs import DATE, gen_config, gen_sample, mc_run, mc_sample, write_lmeval_run

register_commands()
runner = CliRunner()


def snapshot(path) -> dict[str, list]:
    """Everything a store holds, to compare before and after."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("benchcast_meta", "ingests", "records")
        }


@pytest.fixture()
def store_with_a(tmp_path):
    """A store holding model 'a' on a 4-item multiple-choice task."""
    mc_run(tmp_path / "a", "a", [True, False, True, True])
    path = tmp_path / "runs.duckdb"
    with Store(path) as store:
        store.ingest([tmp_path / "a"])
    return path


def test_ingest_list_export_roundtrip(tmp_path):
    mc_run(tmp_path / "out", "m1", [True, False, True])
    mc_run(tmp_path / "out", "m2", [True, True, True])
    path = tmp_path / "runs.duckdb"
    result = runner.invoke(app, ["ingest", str(tmp_path / "out"), "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "6 added, 0 already in the store (2 model(s), 1 benchmark(s))" in result.output
    assert get_reader(path).name == "store"
    listing = runner.invoke(app, ["ls", "--store", str(path)])
    assert listing.exit_code == 0 and "m1" in listing.output and "mc" in listing.output
    exported = runner.invoke(app, ["export", str(tmp_path / "out.parquet"), "--store", str(path)])
    assert exported.exit_code == 0, exported.output
    back = load_results(tmp_path / "out.parquet")
    with Store(path, read_only=True) as store:
        pd.testing.assert_frame_equal(back, store.results())
    assert back.groupby("model")["pass_rate"].mean().to_dict() == pytest.approx({"m1": 2 / 3, "m2": 1.0})
    records = runner.invoke(app, ["export", str(tmp_path / "r.parquet"), "--store", str(path), "--records"])
    assert records.exit_code == 0
    assert {"filter", "repeat", "source", "line"} <= set(pd.read_parquet(tmp_path / "r.parquet").columns)


def test_reingesting_the_same_output_changes_nothing(store_with_a, tmp_path):
    before = snapshot(store_with_a)
    with Store(store_with_a) as store:
        summary = store.ingest([tmp_path / "a"])
    assert (summary.added, summary.present, summary.differing) == (0, 4, 0)
    assert snapshot(store_with_a) == before


def test_changed_values_for_stored_keys_are_kept_and_counted(store_with_a, tmp_path):
    mc_run(tmp_path / "a2", "a", [False, False, True, True])
    with Store(store_with_a) as store:
        summary = store.ingest([tmp_path / "a2"])
    assert (summary.added, summary.present, summary.differing) == (0, 4, 1)
    assert "1 of the records already stored differ" in str(summary)


def test_keys_include_filter_and_repeat(tmp_path):
    records = []
    for name in ("take-first", "maj@3"):
        records += [gen_sample(d, "x", ["x", "y", "x"], ["x"], 1.0, filter=name) for d in range(5)]
    filters = [("take-first", [{"function": "take_first"}]), ("maj@3", [{"function": "majority_vote"}])]
    write_lmeval_run(tmp_path / "out", {"gen": records}, {"gen": gen_config("gen", 3, filters)})
    with Store(tmp_path / "s.duckdb") as store:
        assert store.ingest([tmp_path / "out"]).added == 5 * 3 + 5
        frame = store.results()
    assert frame.groupby("benchmark")["trials"].first().to_dict() == {"gen": 3.0, "gen/maj@3": 1.0}


def test_later_ingests_add_models(store_with_a, tmp_path):
    mc_run(tmp_path / "b", "b", [True, True, True, True])
    progress = []
    with Store(store_with_a) as store:
        store.ingest([tmp_path / "b"], progress=lambda done, total, label: progress.append((done, total)))
        listing = store.listing()
    assert progress == [(0, 1), (1, 1)]
    assert listing["models"]["model"].tolist() == ["a", "b"]
    assert len(listing["ingests"]) == 2


# ------------------------------------------------------------------------------------------- failed ingests


def corrupt(folder, how):
    """Damage model b's samples file in one of the ways the reader must refuse."""
    path = folder / "b" / f"samples_mc_{DATE}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    record = json.loads(lines[1])
    if how == "truncated":
        lines[-1] = lines[-1][:40]
    elif how == "malformed":
        lines[1] = '{"doc_id": 1,, }\n'
    elif how == "wrong type":
        lines[1] = json.dumps({**record, "acc": "1.0"}) + "\n"
    elif how == "unknown metric":
        lines = [json.dumps({**json.loads(x), "metrics": ["bleu"]}) + "\n" for x in lines]
    elif how == "extra doc id":
        lines[1] = json.dumps({**record, "doc_id": 99}) + "\n"
    elif how == "missing doc id":
        lines = lines[:-1]
    elif how == "other document":
        lines[1] = json.dumps({**record, "doc_hash": "f" * 64}) + "\n"
    elif how == "unsupported version":
        results = path.parent / f"results_{DATE}.json"
        results.write_text(json.dumps({**json.loads(results.read_text()), "lm_eval_version": "0.5.0"}))
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("truncated", r"samples_mc_.*\.jsonl:4: truncated record"),
        ("malformed", r"samples_mc_.*\.jsonl:2: malformed JSON"),
        ("wrong type", r"samples_mc_.*\.jsonl:2: field 'acc': expected a number in \[0, 1\], got str '1.0'"),
        ("unknown metric", r"samples_mc_.*\.jsonl:1: field 'metrics': unknown metric"),
        ("extra doc id", r"b/samples_mc_.*\.jsonl:2: field 'item': benchmark 'mc': item '99' of model 'b'"),
        ("missing doc id", r"b/samples_mc_.*\.jsonl: field 'item': .* model 'b' has no result for 1 of the 4 items"),
        ("other document", r"b/samples_mc_.*\.jsonl:2: field 'doc_hash': .* item '1' of model 'b' is a different"),
        ("unsupported version", r"results_.*\.json: field 'lm_eval_version': lm-eval 0.5.0 output is not supported"),
    ],
)
def test_a_failed_ingest_leaves_the_store_unchanged(store_with_a, tmp_path, how, message):
    new = tmp_path / "new"
    mc_run(new, "c", [True, True, False, False])  # a good model in the same ingest, read first
    mc_run(new, "b", [True, False, False, True])
    corrupt(new, how)
    before = snapshot(store_with_a)
    result = runner.invoke(app, ["ingest", str(new / "c"), str(new / "b"), "--store", str(store_with_a)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    with pytest.raises(InputError, match=message), Store(store_with_a) as store:
        store.ingest([new / "c", new / "b"])
    assert snapshot(store_with_a) == before


CRASH = textwrap.dedent(
    """
    import os, sys
    from benchcast.data import store as module

    insert = module.Store._insert
    calls = []

    def crash_after_first(self, *args, **kwargs):
        insert(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            if sys.argv[1] == "exit":
                os._exit(3)
            raise RuntimeError("simulated failure mid-ingest")

    module.Store._insert = crash_after_first
    with module.Store(sys.argv[2]) as store:
        store.ingest(sys.argv[3:])
    """
)


@pytest.mark.parametrize("mode", ["exit", "raise"])
def test_a_crash_mid_transaction_leaves_the_store_readable_and_unchanged(store_with_a, tmp_path, mode):
    for model in ("b", "c", "d"):
        mc_run(tmp_path / "new", model, [True, False, True, False])
    before = snapshot(store_with_a)
    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    paths = [str(tmp_path / "new" / model) for model in ("b", "c", "d")]
    done = subprocess.run([sys.executable, str(script), mode, str(store_with_a), *paths], capture_output=True)
    assert done.returncode == (3 if mode == "exit" else 1), done.stderr.decode()
    assert snapshot(store_with_a) == before
    with Store(store_with_a) as store:
        assert store.ingest(paths).added == 12
        assert sorted(store.results()["model"].unique()) == ["a", "b", "c", "d"]


# ------------------------------------------------------------------------------------------- schema, opening


def test_a_failed_first_ingest_leaves_no_store(tmp_path):
    folder = mc_run(tmp_path / "out", "b", [True, True, True, True]).parent
    corrupt(folder, "malformed")
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "new.duckdb")])
    assert result.exit_code == 2 and "malformed JSON" in result.output
    assert not (tmp_path / "new.duckdb").exists()


def test_a_newer_schema_is_refused(store_with_a):
    with duckdb.connect(str(store_with_a)) as connection:
        connection.execute("UPDATE benchcast_meta SET value = '7' WHERE key = 'schema_version'")
    with pytest.raises(InputError, match="store schema version 7 is newer than this benchcast understands \\(1\\)"):
        Store(store_with_a)
    result = runner.invoke(app, ["ls", "--store", str(store_with_a)])
    assert result.exit_code == 2 and "schema version 7 is newer" in result.output


def test_other_files_are_not_stores(tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(InputError, match="not a benchcast store"):
        Store(other)
    text = tmp_path / "notes.duckdb"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a DuckDB store file"):
        Store(text)
    with pytest.raises(InputError, match="store not found"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_metric_option_only_for_harness_outputs(tmp_path, sim_files):
    results, _ = sim_files
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(InputError, match="--metric applies to harness"):
        store.ingest([results], metric="acc")


def test_quiet_prints_nothing(tmp_path):
    mc_run(tmp_path / "out", "m", [True])
    options = ["--store", str(tmp_path / "s.duckdb"), "--format", "lm-eval", "--quiet"]
    result = runner.invoke(app, ["ingest", str(tmp_path / "out"), *options])
    assert result.exit_code == 0 and result.output == ""


# ------------------------------------------------------------------------------------------- forecasting


def test_forecast_reads_a_store(tmp_path, sim_files, small_sim):
    results, models = sim_files
    path = tmp_path / "runs.duckdb"
    assert runner.invoke(app, ["ingest", str(results), "--store", str(path), "-q"]).exit_code == 0
    pd.testing.assert_frame_equal(
        read_results(path).sort_values(["model", "item"], ignore_index=True),
        read_results(results).sort_values(["model", "item"], ignore_index=True),
        check_dtype=False,
    )
    out = tmp_path / "forecast.json"
    options = ["--models", str(models), "--target", small_sim.target, "--method", "powerlaw", "--json", str(out)]
    result = runner.invoke(app, ["forecast", str(path), *options])  # the store reader is under test, not COD
    assert result.exit_code == 0, result.output
    assert 0.0 <= json.loads(out.read_text())[small_sim.benchmark]["forecast"] <= 1.0


def test_a_model_without_compute_is_named(tmp_path, store_with_a):
    mc_run(tmp_path / "b", "b", [True, True, True, True])
    with Store(store_with_a) as store:
        store.ingest([tmp_path / "b"])
    cards = tmp_path / "cards.csv"
    cards.write_text("model,params,tokens\na,1e8,\nb,2e8,4e9\n")
    result = runner.invoke(app, ["forecast", str(store_with_a), "--models", str(cards), "--compute", "1e22"])
    assert result.exit_code == 2
    assert "model 'a' has no compute" in result.output


def test_store_reader_on_an_empty_store(tmp_path):
    with Store(tmp_path / "empty.duckdb"):
        pass
    with pytest.raises(InputError, match="the store holds no records"):
        read_results(tmp_path / "empty.duckdb")


def test_mc_probability_survives_the_store(tmp_path):
    write_lmeval_run(
        tmp_path / "o", {"mc": [mc_sample(0, 1, [-2.0, -0.1])]}, {"mc": {"output_type": "multiple_choice"}}
    )
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([tmp_path / "o"])
        frame = store.results()
    assert frame["correct"].tolist() == [1.0] and 0.5 < frame["score"].iloc[0] < 1.0


def test_large_ingests_parse_in_worker_processes_with_the_same_result(tmp_path, monkeypatch):
    import benchcast.data.store as store_module

    for model in ("a", "b", "c"):
        mc_run(tmp_path / "out", model, [True, False, True])
    rescored = [gen_sample(0, "4", ["4", "4"], ["4"], 0.0)]  # disagrees with the harness: a warning
    write_lmeval_run(tmp_path / "out", {"gen": rescored}, {"gen": gen_config("gen", 2, None)}, folder="a-gen")
    warns = pytest.warns(UserWarning, match="per-repeat correctness not re-derived")
    with warns, Store(tmp_path / "one.duckdb") as store:
        store.ingest([tmp_path / "out"])
    monkeypatch.setattr(store_module, "PARALLEL_BYTES", 0)
    warns = pytest.warns(UserWarning, match="per-repeat correctness not re-derived")
    with warns, Store(tmp_path / "two.duckdb") as store:
        store.ingest([tmp_path / "out"])
    assert snapshot(tmp_path / "one.duckdb")["records"] == snapshot(tmp_path / "two.duckdb")["records"]
    path = corrupt(tmp_path / "out", "malformed")
    before = snapshot(tmp_path / "two.duckdb")
    with pytest.raises(InputError, match=rf"{path}:2: malformed JSON"), Store(tmp_path / "two.duckdb") as store:
        store.ingest([tmp_path / "out" / model for model in ("a", "b", "c")])
    assert snapshot(tmp_path / "two.duckdb") == before
