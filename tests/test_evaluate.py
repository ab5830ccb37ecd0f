"""``benchcast evaluate`` end to end, offline, with the real lm-evaluation-harness: tiny GPT-2 checkpoints built
locally (``fixtures/tiny_ladder.py``), a generated one-digit addition task with ``repeats: 4``, evaluated into a
store and forecast from it; the same store from local processes, from a local Ray and from a Ray cluster
started apart and joined by address; a run killed midway and resumed;
adaptive rounds; and bad input (exit 2, one line, the store as it was).

Needs the ``lmeval`` extra with torch and transformers; the Ray test also needs ``ray``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(variable, "1")

pytest.importorskip("lm_eval")
pytest.importorskip("torch")
pytest.importorskip("transformers")

from benchcast.cli import _register, app  # noqa: E402
from benchcast.data.store import Store  # noqa: E402
from benchcast.evaluation.adaptive import AdaptiveRule, keep_sampling  # noqa: E402
from benchcast.evaluation.harness import HarnessSettings  # noqa: E402
from benchcast.evaluation.plan import ladder_checkpoints, resolve_tasks  # noqa: E402
from benchcast.evaluation.run import evaluate  # noqa: E402
from benchcast.evaluation.workers import InProcess  # noqa: E402
from fixtures.tiny_ladder import TASK, write_ladder, write_task  # noqa: E402

pytestmark = pytest.mark.lmeval
_register()
runner = CliRunner()
CHECKPOINTS = {("tiny-1", 1), ("tiny-2", 1), ("tiny-3", 1), ("tiny-3", 2), ("tiny-4", 1)}
ITEMS, REPEATS = 6, 4


class Killed(Exception):
    """Stands for the process dying part-way through a run."""


@pytest.fixture(scope="module")
def ladder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-ladder")
    write_ladder(root)
    write_task(root / "tasks", items=ITEMS, repeats=REPEATS)
    return root


def run(ladder: Path, store: Path, *options: str, cards: Path | None = None, tasks: str = TASK):
    arguments = ["evaluate", "--models", str(cards or ladder / "cards.yaml"), "--tasks", tasks]
    arguments += ["--include-path", str(ladder / "tasks"), "--store", str(store), "--threads", "1", *options]
    return runner.invoke(app, arguments, env={"COLUMNS": "300"})


def contents(store: Path) -> pd.DataFrame:
    """The records, less where they were read from and in which ingest (work folders and timing differ)."""
    with Store(store, read_only=True) as source:
        frame = source.records().drop(columns=["source", "ingest_id"])
    return frame.sort_values(["model", "step", "benchmark", "filter", "item", "repeat"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def baseline(ladder, tmp_path_factory) -> Path:
    """One uninterrupted run in this process: the store every other run must reproduce."""
    store = tmp_path_factory.mktemp("baseline") / "runs.duckdb"
    result = run(ladder, store, "-q")
    assert result.exit_code == 0, result.output
    return store


def test_evaluate_fills_the_store_then_forecast_and_report_read_it(ladder, baseline, tmp_path):
    frame = contents(baseline)
    assert set(zip(frame["model"], frame["step"], strict=True)) == CHECKPOINTS
    assert len(frame) == len(CHECKPOINTS) * ITEMS * REPEATS
    assert set(frame["benchmark"]) == {TASK} and set(frame["repeat"]) == set(range(REPEATS))
    assert frame["correct"].isin([0.0, 1.0]).all() and 0 < frame["correct"].sum() < len(frame)
    files = list((baseline.parent / "runs.duckdb.evaluate").rglob("samples_*.jsonl"))
    assert len(files) == len(CHECKPOINTS)  # the harness's own output files, kept in the work folder

    again = tmp_path / "again.duckdb"
    shutil.copy(baseline, again)
    result = run(ladder, again)
    assert result.exit_code == 0, result.output
    assert "0 unit(s) evaluated, 5 already in the store" in result.output
    pd.testing.assert_frame_equal(contents(again), frame)

    out = tmp_path / "forecast.json"
    arguments = ["forecast", str(baseline), "--models", str(ladder / "cards.yaml"), "--target", "tiny-4"]
    result = runner.invoke(app, [*arguments, "--bootstrap", "0", "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(out.read_text())[TASK]
    assert answer["forecast"] is not None and 0.0 <= answer["forecast"] <= 1.0
    result = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "report.html")])
    assert result.exit_code == 0 and (tmp_path / "report.html").stat().st_size > 0


def test_local_worker_processes_give_the_same_store(ladder, baseline, tmp_path):
    store = tmp_path / "runs.duckdb"
    result = run(ladder, store, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "2 local processes" in result.output
    pd.testing.assert_frame_equal(contents(store), contents(baseline))


def test_ray_with_two_workers_gives_the_same_store(ladder, baseline, tmp_path):
    pytest.importorskip("ray")
    store = tmp_path / "runs.duckdb"
    result = run(ladder, store, "--ray", "auto", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "a local Ray, 2 worker(s)" in result.output
    pd.testing.assert_frame_equal(contents(store), contents(baseline))


def test_joining_a_running_ray_cluster_gives_the_same_store(ladder, baseline, tmp_path, monkeypatch):
    # a cluster started apart from this process (``ray start --head``, as on a real head node) with a second node
    # joined to it (``ray start --address``, as on a worker machine; here both on this machine, one CPU each), and
    # joined by address: the units run on both nodes and come back to this process, which alone writes the store.
    # Token authentication is off explicitly: Ray turns it on by itself on a head node where a token file exists,
    # and a client joining by address then needs RAY_AUTH_MODE=token (what benchcast's error says)
    pytest.importorskip("ray")
    ray = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    port = unused_port()
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = [ray, "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false"]
    node = [ray, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1"]
    try:
        for command in (head, node):
            started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
            assert started.returncode == 0, started.stderr[-2000:]
        store = tmp_path / "runs.duckdb"
        result = run(ladder, store, "--ray", f"127.0.0.1:{port}", "--workers", "2")
        assert result.exit_code == 0, result.output
        assert f"the Ray cluster at 127.0.0.1:{port}, 2 worker(s)" in result.output
        assert "units ran on 2 Ray node(s)" in result.output
        pd.testing.assert_frame_equal(contents(store), contents(baseline))
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=180)


def kill_after(monkeypatch, ingests: int) -> None:
    """Make the run die right after its ``ingests``-th unit is stored."""
    original = Store.ingest
    calls = []

    def ingest(self, *args, **kwargs):
        if len(calls) == ingests:
            raise Killed
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "ingest", ingest)


def test_a_run_killed_midway_resumes_to_the_same_store(ladder, baseline, tmp_path, monkeypatch):
    store = tmp_path / "runs.duckdb"
    with monkeypatch.context() as patch:
        kill_after(patch, 2)
        result = run(ladder, store, "-q")
    assert isinstance(result.exception, Killed)
    assert len(contents(store)) == 2 * ITEMS * REPEATS  # the two finished units, nothing of the third
    result = run(ladder, store)
    assert result.exit_code == 0, result.output
    assert "3 unit(s) evaluated, 2 already in the store" in result.output
    pd.testing.assert_frame_equal(contents(store), contents(baseline))


def adaptive_run(ladder: Path, store: Path, rule: AdaptiveRule):
    settings = HarnessSettings(include_path=str(ladder / "tasks"), threads=1)
    tasks, settings = resolve_tasks([TASK], settings)
    with Store(store) as target:
        return evaluate(
            ladder_checkpoints(ladder / "cards.yaml"), tasks, target, InProcess(settings), work=store.parent, rule=rule
        )


def test_adaptive_rounds_stop_settled_items_and_resume_to_the_same_store(ladder, tmp_path, monkeypatch):
    rule = AdaptiveRule(budget=8, round_size=4, min_trials=4, tolerance=0.3)
    first = tmp_path / "a" / "runs.duckdb"
    first.parent.mkdir()
    summary = adaptive_run(ladder, first, rule)
    frame = contents(first)
    cells = frame.groupby(["model", "step", "item"])[["trials", "correct"]].sum()
    assert set(cells["trials"]) <= {4.0, 8.0}
    assert summary.drawn == cells["trials"].sum() < summary.budget == len(CHECKPOINTS) * ITEMS * 8
    # the cells that stopped after one round are exactly those the rule stops on the first round's counts
    round_one = frame[frame["repeat"] < 4].groupby(["model", "step", "item"])[["trials", "correct"]].sum()
    order = [(model, step) for model, step in sorted(CHECKPOINTS)]  # compute rises with the model's number
    items = sorted(frame["item"].unique(), key=int)
    trials = np.array([[round_one.loc[(m, s, i), "trials"] for i in items] for m, s in order])
    correct = np.array([[round_one.loc[(m, s, i), "correct"] for i in items] for m, s in order])
    stopped = np.array([[cells.loc[(m, s, i), "trials"] == 4 for i in items] for m, s in order])
    np.testing.assert_array_equal(stopped, ~keep_sampling(trials, correct, rule))
    assert stopped.any() and not stopped.all()

    second = tmp_path / "b" / "runs.duckdb"
    second.parent.mkdir()
    with monkeypatch.context() as patch:
        kill_after(patch, len(CHECKPOINTS) + 1)  # dies in the second round
        with pytest.raises(Killed):
            adaptive_run(ladder, second, rule)
    resumed = adaptive_run(ladder, second, rule)
    assert resumed.skipped == len(CHECKPOINTS) + 1
    pd.testing.assert_frame_equal(contents(second), frame)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case", ["missing checkpoint", "unknown task", "silent ray"])
def test_bad_input_stops_before_any_work_and_leaves_the_store_as_it_was(ladder, baseline, tmp_path, case):
    store = tmp_path / "runs.duckdb"
    shutil.copy(baseline, store)
    before, records = store.read_bytes(), contents(store)
    cards, tasks, options, words = None, TASK, [], ""
    if case == "missing checkpoint":
        cards = tmp_path / "cards.yaml"
        text = (ladder / "cards.yaml").read_text().replace("steps: [1, 2]", "steps: [1, 2, 3]")
        cards.write_text(text.replace("path: models/", f"path: {ladder}/models/"))
        words = "model 'tiny-3' step 3: checkpoint not found"
    elif case == "unknown task":
        tasks, words = "tiny_add,no_such_task", "unknown task 'no_such_task'"
    else:
        options = ["--ray", f"127.0.0.1:{unused_port()}"]
        words = "does not answer" if _has_ray() else "--ray needs Ray"
    result = run(ladder, store, *options, cards=cards, tasks=tasks)
    assert result.exit_code == 2, result.output
    assert words in result.output and len(result.output.strip().splitlines()) == 1
    assert store.read_bytes() == before
    pd.testing.assert_frame_equal(contents(store), records)
    fresh = tmp_path / "fresh.duckdb"
    assert run(ladder, fresh, *options, cards=cards, tasks=tasks).exit_code == 2 and not fresh.exists()


def _has_ray() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_ray_token_refusal_says_what_to_set():
    from benchcast.evaluation.workers import _why

    try:
        try:
            raise RuntimeError("Failed to connect to GCS. ... RPC error: InvalidAuthToken: token missing")
        except RuntimeError as inner:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379") from inner
    except ConnectionError as error:
        message = _why(error)
    assert message.startswith("Failed to connect to Ray cluster at 10.0.0.1:6379: ")
    assert "RAY_AUTH_MODE=token" in message and "\n" not in message
    assert _why(ConnectionError("refused\nmore")) == "refused"
