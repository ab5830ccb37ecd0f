"""Loaders and validation of item results and model cards: every bad input names its file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchcast.data.cards import ModelCard, Role, load_model_cards
from benchcast.data.ladder import Ladder
from benchcast.data.results import load_results, validate_results
from benchcast.errors import InputError

HEADER = "model,benchmark,item,trials,correct\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_long_csv_pass_rates(tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "a,b,q1,10,3\na,b,q2,10,10\nc,b,q1,4,0\nc,b,q2,4,1\n")
    frame = load_results(path)
    assert frame["pass_rate"].tolist() == [0.3, 1.0, 0.0, 0.25]
    assert frame["step"].isna().all()


def test_score_instead_of_counts_and_jsonl(tmp_path):
    rows = [
        {"model": m, "benchmark": "b", "item": i, "score": s, "step": 5}
        for m, i, s in [("a", "q1", 0.2), ("a", "q2", 0.9), ("c", "q1", 0.4), ("c", "q2", 1.0)]
    ]
    path = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    frame = load_results(path)
    assert np.allclose(frame["pass_rate"], [0.2, 0.9, 0.4, 1.0])
    assert frame["trials"].isna().all()
    assert frame["step"].tolist() == [5, 5, 5, 5]


def test_parquet_roundtrip(tmp_path):
    frame = pd.DataFrame(
        {"model": ["a", "a"], "benchmark": "b", "item": ["1", "2"], "trials": [3, 3], "correct": [1, 2]}
    )
    path = tmp_path / "r.parquet"
    frame.to_parquet(path)
    assert np.allclose(load_results(path)["pass_rate"], [1 / 3, 2 / 3])


def test_wide_table_binary_and_rates(tmp_path):
    binary = load_results(write(tmp_path, "mmlu.csv", "item,m1,m2\nq1,0,1\nq2,1,1\n"))
    assert set(binary["benchmark"]) == {"mmlu"}
    assert binary["trials"].eq(1).all()
    rates = load_results(write(tmp_path, "w.csv", "benchmark,item,m1,m2\nb,q1,0.5,0.75\nb,q2,0.1,0.2\n"))
    assert rates["trials"].isna().all() and rates["score"].max() == 0.75


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ("a,b,q1,10,11\n", 2, "correct", "exceeds trials"),
        ("a,b,q1,-1,0\n", 2, "trials", "negative"),
        ("a,b,q1,10,2.5\n", 2, "correct", "whole number"),
        ("a,b,q1,ten,2\n", 2, "trials", "expected a number"),
        ("a,b,q1,0,0\n", 2, "trials", "at least 1"),
        ("a,b,q1,10,2\na,b,q1,10,3\n", 3, "item", "duplicate"),
        ("a,b,,10,2\n", 2, "item", "empty"),
    ],
)
def test_bad_counts_name_line_and_field(tmp_path, body, line, field, words):
    path = write(tmp_path, "bad.csv", HEADER + body)
    with pytest.raises(InputError) as caught:
        load_results(path)
    assert caught.value.line == line
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: field '{field}'")
    assert "\n" not in str(caught.value)


def test_missing_item_for_a_model(tmp_path):
    path = write(tmp_path, "r.csv", HEADER + "a,b,q1,1,1\na,b,q2,1,0\nc,b,q1,1,1\n")
    with pytest.raises(InputError, match=r"model 'c' has no result for 1 of 2 items \(first: 'q2'\)"):
        load_results(path)


def test_malformed_jsonl_names_line(tmp_path):
    good = json.dumps({"model": "a", "benchmark": "b", "item": "q", "trials": 1, "correct": 1})
    path = write(tmp_path, "r.jsonl", good + "\n" + good[:-5] + "\n")
    with pytest.raises(InputError) as caught:
        load_results(path)
    assert caught.value.line == 2 and "malformed JSON" in str(caught.value)


def test_score_out_of_range(tmp_path):
    path = write(tmp_path, "r.csv", "model,benchmark,item,score\na,b,q,1.5\n")
    with pytest.raises(InputError, match="must lie in"):
        load_results(path)


def test_missing_columns(tmp_path):
    with pytest.raises(InputError, match="'item': required column"):
        load_results(write(tmp_path, "r.csv", "model,benchmark,trials,correct\na,b,1,1\n"))
    with pytest.raises(InputError, match="either trials and correct, or score"):
        load_results(write(tmp_path, "r2.csv", "model,benchmark,item\na,b,q\n"))


counts = st.integers(min_value=-3, max_value=40)


@settings(max_examples=150, deadline=None)
@given(trials=st.lists(counts, min_size=1, max_size=6), correct=st.lists(counts, min_size=1, max_size=6))
def test_validator_accepts_exactly_the_valid_counts(trials, correct):
    n = min(len(trials), len(correct))
    frame = pd.DataFrame(
        {
            "model": "m",
            "benchmark": "b",
            "item": [f"q{i}" for i in range(n)],
            "trials": trials[:n],
            "correct": correct[:n],
        }
    )
    valid = all(t >= 1 and 0 <= k <= t for t, k in zip(trials[:n], correct[:n], strict=True))
    if valid:
        out = validate_results(frame)
        assert ((out["pass_rate"] >= 0) & (out["pass_rate"] <= 1)).all()
        assert np.allclose(out["pass_rate"], np.array(correct[:n]) / np.array(trials[:n]))
    else:
        with pytest.raises(InputError) as caught:
            validate_results(frame)
        bad = next(
            i for i, (t, k) in enumerate(zip(trials[:n], correct[:n], strict=True)) if not (t >= 1 and 0 <= k <= t)
        )
        assert caught.value.line == bad + 1


@settings(max_examples=60, deadline=None)
@given(scores=st.lists(st.floats(min_value=-1, max_value=2, allow_nan=False), min_size=1, max_size=8))
def test_validator_scores_in_unit_interval(scores):
    frame = pd.DataFrame(
        {"model": "m", "benchmark": "b", "item": [str(i) for i in range(len(scores))], "score": scores}
    )
    if all(0 <= s <= 1 for s in scores):
        assert np.allclose(validate_results(frame)["pass_rate"], scores)
    else:
        with pytest.raises(InputError, match="score"):
            validate_results(frame)


def test_cards_compute_from_params_and_tokens(tmp_path):
    path = write(tmp_path, "m.csv", "model,params,tokens,role,loss\nx,1e9,2e10,ladder,2.5\ny,,,target,\n")
    cards = load_model_cards(path)
    assert cards["x"].compute == pytest.approx(1.2e20)
    assert cards["x"].role is Role.LADDER and cards["x"].metrics == {"loss": 2.5}
    assert cards["y"].compute is None


def test_cards_yaml_and_errors(tmp_path):
    path = write(
        tmp_path, "m.yaml", "models:\n  - {model: a, compute: 1e20, role: ladder}\n  - {model: b, params: 1e9}\n"
    )
    cards = load_model_cards(path)
    assert cards["a"].compute == 1e20 and cards["b"].compute is None
    with pytest.raises(InputError, match="unknown role 'boss'"):
        load_model_cards(write(tmp_path, "r.csv", "model,compute,role\na,1e20,boss\n"))
    with pytest.raises(InputError, match=r"r2\.csv:3: field 'compute'"):
        load_model_cards(write(tmp_path, "r2.csv", "model,compute\na,1e20\nb,-5\n"))
    with pytest.raises(InputError, match="listed twice"):
        load_model_cards(write(tmp_path, "r3.csv", "model,compute\na,1e20\na,2e20\n"))


def test_model_without_compute_is_named(tmp_path):
    results = load_results(write(tmp_path, "r.csv", HEADER + "a,b,q,1,1\nc,b,q,1,0\n"))
    cards = load_model_cards(write(tmp_path, "m.csv", "model,params,compute\na,,1e20\nc,1e9,\n"))
    ladder = Ladder(results, cards)
    with pytest.raises(InputError, match="model 'c' has no compute"):
        ladder.select(compute=1e22)


def test_checkpoints_smooth_symmetrically_and_are_not_ladder_points(tmp_path):
    rows = []
    for step, rate in [(1, 0.1), (2, 0.2), (3, 0.6), (4, 0.5)]:
        rows.append({"model": "a", "step": step, "benchmark": "b", "item": "q", "trials": 10, "correct": rate * 10})
    rows.append({"model": "big", "step": 1, "benchmark": "b", "item": "q", "trials": 10, "correct": 9})
    results = validate_results(pd.DataFrame(rows))
    cards = load_model_cards(write(tmp_path, "m.csv", "model,compute,step\na,1e20,3\nbig,1e21,\n"))
    ladder = Ladder(results, cards)
    bench = ladder.benchmark_ladder("b", ["a", "big"])
    assert bench.models == ("a", "big")
    assert bench.pass_rates[0, 0] == pytest.approx((0.2 + 0.6 + 0.5) / 3)  # step 3 with both neighbours
    assert bench.trials[0, 0] == 30
    assert ladder.measured("a", "b") == pytest.approx(0.6)
    last = Ladder(results, load_model_cards(write(tmp_path, "m2.csv", "model,compute\na,1e20\nbig,1e21\n")))
    # the last checkpoint has no later neighbour, so it is not averaged with earlier ones only
    assert last.benchmark_ladder("b", ["a"]).pass_rates[0, 0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "text",
    [
        HEADER + 'a,b,007,10,3\na,b,"x,y",10,4\nc,b,007,10,3\nc,b,"x,y",10,4\n',  # numbers as ids, separators
        HEADER + "a,b,NA,10,5\n",  # pandas reads NA as missing: an empty id
        HEADER + "a,b,q1, 10,3\na,b,q2,ten,3\n",  # a number after a space, a word where a number belongs
        "item,a,c\nq1,True,0\nq2,1,1\n",  # a wide table mixing True and 1, which pyarrow and pandas type apart
        "model,step,benchmark,item,score\na,2000,b,q1,0.12345678901234567\na,2000,b,q2,1e-3\n",
        HEADER,
    ],
)
def test_csv_reads_as_pandas_reads_it(tmp_path, monkeypatch, text):
    # pyarrow parses where it can; what is accepted, and every message, stay those of pandas' own parser
    from benchcast.data import results as module

    path = write(tmp_path, "r.csv", text)

    def outcome():
        try:
            return load_results(path)
        except InputError as error:
            return str(error)

    ours = outcome()
    options = {"dtype": {"model": str, "benchmark": str, "item": str}}
    monkeypatch.setattr(module, "_read_csv", lambda path, sep: pd.read_csv(path, sep=sep, **options))
    theirs = outcome()
    if isinstance(ours, str) or isinstance(theirs, str):
        assert ours == theirs
    else:
        pd.testing.assert_frame_equal(ours, theirs)


def test_benchmark_ladder_is_the_pivot_of_the_results():
    # items in sorted order and each (model, checkpoint) in its own column, whatever the row order
    rng = np.random.default_rng(0)
    rows = [
        {"model": model, "step": step, "benchmark": "b", "item": f"q{item}", "trials": 20, "correct": rng.integers(21)}
        for model, steps in (("m1", [10, 20, 30]), ("m2", [None]), ("m3", [5, 6]))
        for step in steps
        for item in rng.permutation(60)
    ]
    results = validate_results(pd.DataFrame(rows).sample(frac=1.0, random_state=1))
    cards = {name: ModelCard(name, compute=compute) for name, compute in (("m1", 1e20), ("m2", 1e21), ("m3", 1e22))}
    bench = Ladder(results, cards, checkpoint_window=0).benchmark_ladder("b", ["m1", "m2", "m3"])
    steps = results["step"].astype(float).fillna(-1.0)
    pivot = results.assign(step=steps).pivot(index="item", columns=["model", "step"], values="pass_rate").sort_index()
    assert bench.items.tolist() == pivot.index.tolist()
    for column, (model, step) in enumerate([("m1", 30.0), ("m2", -1.0), ("m3", 6.0)]):
        np.testing.assert_array_equal(bench.pass_rates[:, column], pivot[model][step].to_numpy())


def test_key_code_checks_agree_with_pandas_on_random_tables():
    # the coded duplicate and completeness checks decide what the frame-based checks decided before them
    from benchcast.data.results import _check_complete, _KeyCodes

    rng = np.random.default_rng(3)
    for _ in range(200):
        models = [f"m{i}" for i in range(rng.integers(1, 4))]
        steps = [np.nan, *map(float, range(rng.integers(0, 3)))]
        rows = [
            (model, step, f"b{b}", f"q{item}")
            for model in models
            for step in rng.choice(steps, size=rng.integers(1, len(steps) + 1), replace=False)
            for b in range(rng.integers(1, 3))
            for item in range(rng.integers(1, 5))
        ]
        frame = pd.DataFrame(rows, columns=["model", "step", "benchmark", "item"])
        if rng.random() < 0.4 and len(frame) > 1:  # drop some rows (not all): incomplete runs
            frame = frame.drop(index=rng.choice(len(frame), size=rng.integers(1, len(frame)), replace=False))
        if rng.random() < 0.4:  # repeat some rows: duplicates
            frame = pd.concat([frame, frame.sample(n=int(rng.integers(1, len(frame) + 1)), random_state=0)])
        frame = frame.sample(frac=1.0, random_state=int(rng.integers(1000))).reset_index(drop=True)
        codes = _KeyCodes(frame)
        keys = frame.astype({"step": "float"}).fillna({"step": -1.0})
        expected = keys.duplicated(keep="first").to_numpy()
        np.testing.assert_array_equal(codes.duplicated(), expected)
        unique = frame[~expected]
        try:
            _check_complete(unique, None)
            complete = True
        except InputError:
            complete = False
        assert _KeyCodes(unique).complete() == complete


def test_a_run_without_a_step_is_checked_apart_from_the_same_models_steps():
    # m has a run without a step that lacks q2 and a run at step 5 that has it: the error names q2 (it used to
    # look at all of m's rows, find nothing missing and fail on an empty list)
    frame = pd.DataFrame(
        {
            "model": ["m", "m", "m", "n", "n"],
            "step": [np.nan, 5, 5, np.nan, np.nan],
            "benchmark": "b",
            "item": ["q1", "q1", "q2", "q1", "q2"],
            "trials": 1,
            "correct": 1,
        }
    )
    with pytest.raises(InputError, match=r"model 'm' has no result for 1 of 2 items \(first: 'q2'\)"):
        validate_results(frame)
