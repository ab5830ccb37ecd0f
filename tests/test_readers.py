"""Harness readers: every lm-eval layout, filters, repeats, multiple choice; OpenCompass, lighteval, inspect, HELM.

Fixtures are built in the tests (``fixtures/harness_outputs.py``) in the shapes the harnesses write. Bad input
must fail with one line naming the file and, where there is one, the line.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from benchcast.data.readers import get_reader, read_results
from benchcast.data.readers.harnesses.lmeval import LmEvalReader, exact_match, pass_at_k
from benchcast.errors import InputError
from fixtures.harness_outputs import (
    DATE,
    gen_config,
    gen_sample,
    helm_entry,
    inspect_sample,
    lighteval_row,
    mc_config,
    mc_run,
    mc_sample,
    ppl_entry,
    write_helm_run,
    write_inspect_log,
    write_lighteval,
    write_lmeval_run,
    write_opencompass_details,
    write_opencompass_predictions,
)


def by_item(frame, benchmark=None):
    rows = frame if benchmark is None else frame[frame["benchmark"] == benchmark]
    return {row.item: row for row in rows.itertuples()}


# ------------------------------------------------------------------------------------------- lm-eval layouts


def test_multiple_choice_counts_and_probability_of_the_gold_choice(tmp_path):
    logprobs = [-0.5, -1.0, -2.0, -3.0]
    records = [mc_sample(0, 0, logprobs), mc_sample(1, 2, logprobs)]
    write_lmeval_run(tmp_path, {"arc": records}, {"arc": mc_config("arc")}, model_name="EleutherAI/pythia-160m")
    assert get_reader(tmp_path).name == "lm-eval"
    frame = read_results(tmp_path)
    rows = by_item(frame)
    assert set(frame["model"]) == {"EleutherAI/pythia-160m"}
    assert (rows["0"].trials, rows["0"].correct, rows["1"].correct) == (1.0, 1.0, 0.0)
    probabilities = np.exp(logprobs) / np.exp(logprobs).sum()
    assert rows["0"].score == pytest.approx(probabilities[0])
    assert rows["1"].score == pytest.approx(probabilities[2])


def test_model_and_step_from_model_args_string(tmp_path):
    folder = write_lmeval_run(
        tmp_path,
        {"arc": [mc_sample(0, 0, [-1.0, -2.0])]},
        {"arc": mc_config("arc")},
        model_name=None,
        model_args="pretrained=/models/ckpts/tiny-gpt2,revision=step1000,dtype=float32",
    )
    frame = read_results(folder)
    assert frame[["model", "step"]].drop_duplicates().values.tolist() == [["tiny-gpt2", 1000]]


def test_model_args_dict_and_hub_id_kept_whole(tmp_path):
    write_lmeval_run(
        tmp_path,
        {"arc": [mc_sample(0, 0, [-1.0, -2.0])]},
        {"arc": mc_config("arc")},
        model_name=None,
        model_args={"pretrained": "EleutherAI/pythia-410m", "revision": "step143000"},
    )
    frame = read_results(tmp_path)
    assert frame[["model", "step"]].drop_duplicates().values.tolist() == [["EleutherAI/pythia-410m", 143000]]


@pytest.mark.parametrize("version", ["0.4.3", "0.4.5", "0.4.13"])
def test_new_layout_versions_agree(tmp_path, version):
    records = [mc_sample(i, i % 2, [-1.0, -1.5], version=version) for i in range(4)]
    write_lmeval_run(tmp_path, {"mc": records}, {"mc": mc_config("mc")}, version=version)
    frame = read_results(tmp_path)
    assert frame.sort_values("item")["correct"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert frame["score"].notna().all()


def test_old_layout_json_array_native_types(tmp_path):
    records = [mc_sample(i, i % 2, [-1.0, -1.5], version="0.4.0") for i in range(4)]
    folder = write_lmeval_run(
        tmp_path / "out",
        {"hellaswag": records},
        {"hellaswag": mc_config("hellaswag")},
        layout="old",
        model_name=None,
        model_args="pretrained=EleutherAI/pythia-70m",
    )
    sample_file = next(folder.glob("*.jsonl"))
    assert sample_file.read_text().startswith("[")
    assert get_reader(sample_file).name == "lm-eval"
    frame = read_results(folder)
    assert set(frame["benchmark"]) == {"hellaswag"}
    assert set(frame["model"]) == {"EleutherAI/pythia-70m"}
    assert frame.sort_values("item")["correct"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert frame["score"].notna().all()


def test_output_path_ending_in_json(tmp_path):
    write_lmeval_run(tmp_path, {"mc": [mc_sample(0, 0, [-1.0, -2.0])]}, {"mc": mc_config("mc")}, layout="json-path")
    assert (tmp_path / f"run_{DATE}.json").exists()
    assert read_results(tmp_path)["model"].tolist() == ["model-a"]


def test_single_samples_file_pairs_with_its_results_by_date(tmp_path):
    folder = mc_run(tmp_path, "m1", [True, False])
    write_lmeval_run(
        tmp_path,
        {"mc": [mc_sample(0, 0, [-1.0, -2.0])]},
        {"mc": mc_config("mc")},
        model_name="other",
        folder="m1",
        date="2026-05-05T05-05-05.5",
    )
    frame = read_results(folder / f"samples_mc_{DATE}.jsonl")
    assert set(frame["model"]) == {"m1"} and len(frame) == 2
    frame = read_results(folder / f"results_{DATE}.json")
    assert set(frame["model"]) == {"m1"} and len(frame) == 2


def test_samples_without_results_take_the_folder_name(tmp_path):
    folder = mc_run(tmp_path, "EleutherAI__pythia-160m", [True, True])
    (folder / f"results_{DATE}.json").unlink()
    frame = read_results(tmp_path, format="lm-eval")
    assert set(frame["model"]) == {"EleutherAI__pythia-160m"}
    assert set(frame["benchmark"]) == {"mc"}


def test_task_names_with_underscores_split_on_the_last_one(tmp_path):
    mc_run(tmp_path, "m", [True], task="arc_easy_v2")
    assert set(read_results(tmp_path)["benchmark"]) == {"arc_easy_v2"}


# ------------------------------------------------------------------------------------------- filters, repeats


GSM_FILTERS = [
    ("strict-match", [{"function": "regex", "regex_pattern": r"#### (\-?[0-9\.\,]+)"}, {"function": "take_first"}]),
    (
        "flexible-extract",
        [
            {"function": "regex", "group_select": -1, "regex_pattern": r"(-?[$0-9.,]{2,})|(-?[0-9]+)"},
            {"function": "take_first"},
        ],
    ),
]


def test_multiple_filters_become_benchmarks_and_regex_repeats_are_rescored(tmp_path):
    completions = {0: ["#### 4", "so 4", "#### 5"], 1: ["#### 7", "#### 7", "#### 7"]}
    targets = {0: "4", 1: "7"}
    records = []
    for name, _ in GSM_FILTERS:
        for doc_id, texts in completions.items():
            first = texts[0].split()[-1]
            records.append(gen_sample(doc_id, targets[doc_id], texts, [first], 1.0, filter=name))
    config = gen_config("gsm8k", 3, GSM_FILTERS)
    write_lmeval_run(tmp_path, {"gsm8k": records}, {"gsm8k": config})
    frame = read_results(tmp_path)
    assert set(frame["benchmark"]) == {"gsm8k", "gsm8k/flexible-extract"}
    strict = by_item(frame, "gsm8k")
    assert (strict["0"].trials, strict["0"].correct) == (3.0, 1.0)  # "so 4" has no "#### ", "#### 5" is wrong
    assert (strict["1"].trials, strict["1"].correct) == (3.0, 3.0)
    flexible = by_item(frame, "gsm8k/flexible-extract")
    assert (flexible["0"].trials, flexible["0"].correct) == (3.0, 2.0)  # "so 4" yields 4 here


def test_repeats_take_first_rescored_and_majority_vote_kept(tmp_path):
    rng = random.Random(7)
    records_first, records_maj, truth = [], [], {}
    for doc_id in range(6):
        target = str(10 + doc_id)
        texts = [target if rng.random() < 0.5 else "wrong" for _ in range(8)]
        truth[str(doc_id)] = texts.count(target)
        vote = max(set(texts), key=texts.count)
        records_first.append(
            gen_sample(doc_id, target, texts, [texts[0]], float(texts[0] == target), filter="take-first")
        )
        records_maj.append(gen_sample(doc_id, target, texts, [vote], float(vote == target), filter="maj@8"))
    config = gen_config(
        "gen",
        8,
        [
            ("take-first", [{"function": "take_first"}]),
            ("maj@8", [{"function": "majority_vote"}, {"function": "take_first"}]),
        ],
        ignore_case=True,
    )
    write_lmeval_run(tmp_path, {"gen": records_maj + records_first}, {"gen": config})  # order must not matter
    frame = read_results(tmp_path)
    first = by_item(frame, "gen")
    assert {item: (row.trials, row.correct) for item, row in first.items()} == {
        item: (8.0, float(count)) for item, count in truth.items()
    }
    assert (frame[frame["benchmark"] == "gen/maj@8"]["trials"] == 1.0).all()


def test_repeats_without_a_filter_field_or_filter_list(tmp_path):
    """0.4.3-0.4.6: no ``filter`` field; no filter_list means filter ``none`` = take the first completion."""
    records = [
        gen_sample(0, "A", ["a", "b", "A."], ["a"], 1.0, filter=None, version="0.4.5"),
        gen_sample(1, "B", ["c", "B", "b"], ["c"], 0.0, filter=None, version="0.4.5"),
    ]
    config = gen_config("gen", 3, None, ignore_case=True, ignore_punctuation=True)
    write_lmeval_run(tmp_path, {"gen": records}, {"gen": config}, version="0.4.5")
    rows = by_item(read_results(tmp_path))
    assert (rows["0"].trials, rows["0"].correct) == (3.0, 2.0)
    assert (rows["1"].trials, rows["1"].correct) == (3.0, 2.0)


def test_records_without_filter_field_follow_the_config_order_even_shuffled(tmp_path):
    """Before 0.4.7 the k-th record of a doc is the k-th filter; data-parallel ranks interleave docs."""
    filters = [
        ("take-first", [{"function": "take_first"}]),
        ("maj@2", [{"function": "majority_vote"}, {"function": "take_first"}]),
    ]
    first = [
        gen_sample(d, "x", ["x", "y"], ["x" if d % 2 else "y"], float(d % 2), filter=None, version="0.4.5")
        for d in range(4)
    ]
    second = [gen_sample(d, "x", ["x", "y"], ["x"], 1.0, filter=None, version="0.4.5") for d in range(4)]
    # rank 0 has docs 0,2; rank 1 has docs 1,3; each rank writes its take-first then its maj records
    order = [first[0], first[2], second[0], second[2], first[1], first[3], second[1], second[3]]
    write_lmeval_run(tmp_path, {"gen": order}, {"gen": gen_config("gen", 2, filters)}, version="0.4.5")
    with pytest.warns(UserWarning, match="doc 0: re-scoring the first completion does not reproduce"):
        frame = read_results(tmp_path)
    assert (frame[frame["benchmark"] == "gen/maj@2"]["correct"] == 1.0).all()
    assert by_item(frame, "gen")["0"].trials == 1.0  # doc 0: first completion "x" but filtered "y": not rescored


def test_rescoring_that_disagrees_with_the_harness_falls_back_with_a_warning(tmp_path):
    records = [gen_sample(0, "4", ["4", "4"], ["4"], 0.0), gen_sample(1, "5", ["5", "x"], ["5"], 1.0)]
    write_lmeval_run(tmp_path, {"gen": records}, {"gen": gen_config("gen", 2, None)})
    with pytest.warns(UserWarning, match="per-repeat correctness not re-derived"):
        frame = read_results(tmp_path)
    assert frame["trials"].tolist() == [1.0, 1.0]
    assert frame.sort_values("item")["correct"].tolist() == [0.0, 1.0]


def test_pass_at_k_keep_all_filter(tmp_path):
    """A filter that keeps all n samples with a pass@k metric: re-derived counts must reproduce pass@k."""
    n, k = 5, 2
    corrects = {0: 1, 1: 3, 2: 0}
    records = []
    for doc_id, c in corrects.items():
        texts = ["42"] * c + ["no"] * (n - c)
        records.append(gen_sample(doc_id, "42", texts, [texts], pass_at_k(n, c, k), filter="all", metric="pass_at_k"))
    config = gen_config("code", n, [("all", [{"function": "custom"}])], metric="pass_at_k", k=[k, 5])
    write_lmeval_run(tmp_path, {"code": records}, {"code": config})
    rows = by_item(read_results(tmp_path))
    assert {item: (row.trials, row.correct) for item, row in rows.items()} == {
        str(d): (float(n), float(c)) for d, c in corrects.items()
    }


def test_pass_at_k_that_cannot_be_reproduced_is_a_score(tmp_path):
    records = [gen_sample(0, "42", ["a", "b"], [["a", "b"]], 0.25, filter="all", metric="pass_at_k")]
    write_lmeval_run(tmp_path, {"code": records}, {"code": gen_config("code", 2, [("all", [])], metric="pass_at_k")})
    with pytest.warns(UserWarning):
        frame = read_results(tmp_path)
    assert math.isnan(frame["trials"].iloc[0]) and frame["pass_rate"].iloc[0] == 0.25


def test_duplicate_lines_are_ignored(tmp_path):
    folder = mc_run(tmp_path, "m", [True, False])
    path = folder / f"samples_mc_{DATE}.jsonl"
    path.write_text(path.read_text() * 2)
    assert len(read_results(tmp_path)) == 2


def test_metric_option_names_the_benchmark(tmp_path):
    records = [mc_sample(0, 0, [-1.0, -2.0], acc_norm=0.0)]
    write_lmeval_run(tmp_path, {"mc": records}, {"mc": mc_config("mc")})
    reader = LmEvalReader(metric="acc_norm")
    frame = reader.read(tmp_path)
    assert frame["benchmark"].tolist() == ["mc:acc_norm"] and frame["correct"].tolist() == [0.0]
    assert LmEvalReader(metric="acc").read(tmp_path)["benchmark"].tolist() == ["mc"]


def test_exact_match_matches_lm_eval_options():
    assert exact_match("The Answer.", "the answer", {"ignore_case": True, "ignore_punctuation": True}) == 1.0
    assert exact_match(" 4", "4", {}) == 0.0
    assert exact_match("x = 4", "4", {"regexes_to_ignore": ["x = "]}) == 1.0
    assert pass_at_k(5, 0, 2) == 0.0 and pass_at_k(5, 4, 2) == 1.0


# ------------------------------------------------------------------------------------------- lm-eval bad input


def write_mc_lines(tmp_path, lines, model="m"):
    folder = mc_run(tmp_path, model, [True, True, True])
    path = folder / f"samples_mc_{DATE}.jsonl"
    path.write_text("".join(lines))
    return path


def good_lines(n=3):
    return [json.dumps(mc_sample(i, 0, [-1.0, -2.0])) + "\n" for i in range(n)]


def test_truncated_jsonl_names_file_and_line(tmp_path):
    lines = good_lines()
    lines[-1] = lines[-1][: len(lines[-1]) // 2]
    path = write_mc_lines(tmp_path, lines)
    with pytest.raises(InputError, match=rf"^{path}:3: truncated record"):
        read_results(tmp_path)


def test_malformed_line_names_file_and_line(tmp_path):
    lines = good_lines()
    lines[1] = "{not json}\n"
    path = write_mc_lines(tmp_path, lines)
    with pytest.raises(InputError, match=rf"^{path}:2: malformed JSON"):
        read_results(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"doc_id": "first"}, "field 'doc_id': expected a whole number, got str 'first'"),
        ({"acc": "yes"}, "field 'acc': expected a number in \\[0, 1\\], got str 'yes'"),
        ({"acc": 3.5}, "field 'acc': expected a value in \\[0, 1\\], got 3.5"),
        ({"filter": 7}, "field 'filter': expected a string"),
        ({"acc": None}, "field 'acc': no value"),
    ],
)
def test_wrong_field_types_name_file_line_and_field(tmp_path, change, message):
    lines = good_lines()
    lines[1] = json.dumps({**json.loads(lines[1]), **change}) + "\n"
    path = write_mc_lines(tmp_path, lines)
    with pytest.raises(InputError, match=rf"^{path}:2: {message}"):
        read_results(tmp_path)


def test_unknown_metric(tmp_path):
    records = [gen_sample(0, "a b", ["a b"], ["a b"], 0.5, metric="bleu")]
    write_lmeval_run(tmp_path, {"tr": records}, {"tr": gen_config("tr", 1, None, metric="bleu")})
    with pytest.raises(InputError, match=r"samples_tr_.*\.jsonl:1: field 'metrics': unknown metric: none of 'bleu'"):
        read_results(tmp_path)
    with pytest.raises(InputError, match=r"unknown metric 'f1': the records have 'bleu'"):
        LmEvalReader(metric="f1").read(tmp_path)


def test_predict_only_output_is_refused(tmp_path):
    records = [mc_sample(0, 0, [-1.0, -2.0], metrics=[])]
    for key in ("acc", "acc_norm"):
        records[0].pop(key)
    write_lmeval_run(tmp_path, {"mc": records}, {"mc": mc_config("mc")})
    with pytest.raises(InputError, match=r":1: field 'metrics': the records carry no per-item metric"):
        read_results(tmp_path)


def test_predict_only_generation_is_refused(tmp_path):
    records = [gen_sample(0, "4", ["4"], ["4"], None, metric="bypass")]
    write_lmeval_run(tmp_path, {"gen": records}, {"gen": gen_config("gen", 1, None, metric="bypass")})
    with pytest.raises(InputError, match=r":1: field 'metrics': the records carry no per-item metric"):
        read_results(tmp_path)


def test_doc_ids_that_do_not_match_across_models(tmp_path):
    mc_run(tmp_path, "a", [True, False, True])
    folder = mc_run(tmp_path, "b", [True, False, True])
    path = folder / f"samples_mc_{DATE}.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = json.dumps({**json.loads(lines[2]), "doc_id": 57}) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(InputError, match=rf"^{path}:3: field 'item': benchmark 'mc': item '57' of model 'b'"):
        read_results(tmp_path)
    path.write_text("".join(lines[:2]))
    with pytest.raises(InputError, match=rf"^{path}: field 'item': .*model 'b' has no result for 1 of the 3 items"):
        read_results(tmp_path)


@pytest.mark.parametrize(
    ("version", "configs", "message"),
    [
        ("0.5.1", True, "lm-eval 0.5.1 output is not supported"),
        (None, False, "looks like lm-eval 0.3 or older output"),
    ],
)
def test_unsupported_harness_version(tmp_path, version, configs, message):
    folder = mc_run(tmp_path, "m", [True], version=version)
    results = folder / f"results_{DATE}.json"
    data = json.loads(results.read_text())
    if not configs:
        data.pop("configs")
    results.write_text(json.dumps(data))
    with pytest.raises(InputError, match=rf"^{results}: field '.*': {message}"):
        read_results(tmp_path)


def test_record_without_doc_id(tmp_path):
    path = write_mc_lines(tmp_path, [*good_lines(1), json.dumps({"id": 1, "resps": []}) + "\n"])
    with pytest.raises(InputError, match=rf"^{path}:2: field 'doc_id': not an lm-eval 0.4 samples record"):
        LmEvalReader().read(path)


# ------------------------------------------------------------------------------------------- OpenCompass


def test_opencompass_details_with_repeats(tmp_path):
    run = tmp_path / "outputs" / "default" / "20260101_000000"
    for model, pattern in (("m1", [True, False, False, True]), ("m2", [True, True, True, False])):
        details = [
            {"example_abbr": f"gsm8k_{i}", "pred": ["1"] * 4, "answer": ["1"] * 4, "correct": pattern[i:] + pattern[:i]}
            for i in range(3)
        ]
        write_opencompass_details(run, model, "gsm8k", details, **{"accuracy (4 runs average)": 50.0})
    assert get_reader(tmp_path).name == "opencompass"
    frame = read_results(tmp_path)
    assert set(frame["item"]) == {"0", "1", "2"}
    rows = by_item(frame[frame["model"] == "m2"])
    assert (rows["0"].trials, rows["0"].correct) == (4.0, 3.0)


def test_opencompass_ppl_details_dict_and_prediction_fallback(tmp_path):
    run = tmp_path / "run"
    details = {
        "type": "PPL",
        "0": {"predictions": "A", "references": "A", "correct": True},
        "1": {"predictions": "B", "references": "A", "correct": False},
    }
    write_opencompass_details(run, "m1", "arc", details, accuracy=50.0)
    # m2 has no details (OpenCompass < 0.5): its PPL predictions are scored, split in two partitioner files
    write_opencompass_predictions(run, "m2", "arc", {"0": ppl_entry("A", "A")}, suffix="_0")
    write_opencompass_predictions(run, "m2", "arc", {"0": ppl_entry("A", "B")}, suffix="_1")
    frame = read_results(run)
    assert frame.sort_values(["model", "item"])["correct"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_opencompass_prediction_repeats_follow_the_runs_suffix(tmp_path):
    run = tmp_path / "run"
    entries = {str(i): ppl_entry("A", "A" if i in (0, 1, 3) else "B") for i in range(4)}  # 2 items x 2 repeats
    write_opencompass_predictions(run, "m", "arc", entries)
    path = run / "results" / "m" / "arc.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"accuracy (2 runs average)": 75.0}))
    rows = by_item(read_results(run))
    assert (rows["0"].trials, rows["0"].correct, rows["1"].correct) == (2.0, 1.0, 2.0)


def test_opencompass_errors(tmp_path):
    run = tmp_path / "run"
    write_opencompass_details(run, "m", "gsm8k", [{"example_abbr": "gsm8k_0", "pred": ["1"], "answer": ["1"]}])
    with pytest.raises(InputError, match=r"gsm8k.json: field 'details\[0\].correct': no per-sample correctness"):
        read_results(run)
    write_opencompass_details(run, "m", "gsm8k", [{"example_abbr": "gsm8k_0", "correct": ["yes"]}])
    with pytest.raises(InputError, match=r"field 'details\[0\].correct\[0\]': expected a number"):
        read_results(run)
    path = run / "results" / "m" / "gsm8k.json"
    path.write_text(json.dumps({"accuracy": 10.0}))
    write_opencompass_predictions(run, "m", "gsm8k", {"0": {"origin_prompt": "?", "prediction": "18", "gold": "18"}})
    with pytest.raises(InputError, match="generation predictions carry no correctness"):
        read_results(run)


# ------------------------------------------------------------------------------------------- lighteval


def test_lighteval_details_new_shape(tmp_path):
    for model, accs in (("org/m1", [1.0, 0.0]), ("org/m2", [1.0, 1.0])):
        rows = [lighteval_row(str(i), 0, [-0.1, -2.0] if acc else [-3.0, -0.2], acc) for i, acc in enumerate(accs)]
        write_lighteval(tmp_path, model, "leaderboard|arc:challenge|25", rows)
    assert get_reader(tmp_path).name == "lighteval"
    frame = read_results(tmp_path)
    assert set(frame["model"]) == {"org/m1", "org/m2"}
    assert set(frame["benchmark"]) == {"leaderboard|arc:challenge|25"}
    rows = by_item(frame[frame["model"] == "org/m1"])
    assert rows["1"].correct == 0.0
    assert rows["0"].score == pytest.approx(1 / (1 + math.exp(-1.9)))


def test_lighteval_old_flat_shape_with_string_metrics(tmp_path):
    rows = [{"example": "q", "gold": ["a"], "metrics": json.dumps({"em": v}), "choices": []} for v in (1, 0)]
    write_lighteval(tmp_path, "m", "lighteval|gsm8k|5", rows)
    frame = read_results(tmp_path)
    assert frame.sort_values("item")["correct"].tolist() == [1.0, 0.0]


def test_lighteval_bad_metric_value_names_the_row(tmp_path):
    rows = [
        lighteval_row("0", 0, [-1.0, -2.0], 1.0),
        {**lighteval_row("1", 0, [-1.0, -2.0], 1.0), "metric": {"acc": 7}},
    ]
    path = write_lighteval(tmp_path, "m", "t|x|0", rows)
    with pytest.raises(InputError, match=rf"^{path}:2: field 'metric.acc': expected a value in \[0, 1\]"):
        read_results(tmp_path)


# ------------------------------------------------------------------------------------------- inspect


def test_inspect_eval_epochs_and_letter_scores(tmp_path):
    samples = [inspect_sample(i, e, v) for i, values in ((1, "CCI"), (2, "IPN")) for e, v in enumerate(values, 1)]
    write_inspect_log(tmp_path / "logs" / "a.eval", "hf/EleutherAI/pythia-160m", "gsm8k", samples)
    assert get_reader(tmp_path / "logs").name == "inspect"
    frame = read_results(tmp_path / "logs")
    assert set(frame["model"]) == {"EleutherAI/pythia-160m"}
    rows = by_item(frame)
    assert (rows["1"].trials, rows["1"].correct) == (3.0, 2.0)
    assert math.isnan(rows["2"].trials) and rows["2"].pass_rate == pytest.approx(0.5 / 3)


def test_inspect_json_log(tmp_path):
    log = {
        "version": 2,
        "status": "success",
        "eval": {"task": "arc", "model": "openai/gpt-4o", "model_args": {"revision": "step20"}},
        "results": {"scores": [{"name": "choice", "scorer": "choice"}]},
        "samples": [inspect_sample("q1", 1, True, "choice"), inspect_sample("q2", 1, 0.0, "choice")],
    }
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log))
    assert get_reader(path).name == "inspect"
    frame = read_results(path)
    assert frame[["model", "step"]].drop_duplicates().values.tolist() == [["gpt-4o", 20]]
    assert frame.sort_values("item")["correct"].tolist() == [1.0, 0.0]


def test_inspect_incomplete_log_is_refused(tmp_path):
    path = write_inspect_log(tmp_path / "a.eval", "openai/gpt-4o", "t", [inspect_sample(1, 1, "C")], status="error")
    with pytest.raises(InputError, match=rf"^{path}: field 'status': log status is 'error'"):
        read_results(path)


def test_inspect_unknown_score_value(tmp_path):
    path = write_inspect_log(tmp_path / "a.eval", "openai/gpt-4o", "t", [inspect_sample(1, 1, "maybe")])
    with pytest.raises(InputError, match=r"field 'samples/1_epoch_1.json.scores.match.value': unknown score value"):
        read_results(path)


# ------------------------------------------------------------------------------------------- HELM


def test_helm_trials_and_perturbations(tmp_path):
    suite = tmp_path / "benchmark_output" / "runs" / "v1"
    for model, values in (("openai/gpt2", (1.0, 0.0)), ("eleutherai/pythia-1b", (1.0, 1.0))):
        entries = [helm_entry(f"id{i}", v, trial=t) for i, v in enumerate(values) for t in (0, 1)]
        entries.append(helm_entry("id0", 0.0, perturbation="typos"))
        entries.append(helm_entry("id1", 0.0, perturbation="typos"))
        write_helm_run(suite, f"mmlu:subject=anatomy,model={model.replace('/', '_')}", model, entries)
    assert get_reader(suite).name == "helm"
    frame = read_results(tmp_path / "benchmark_output")
    assert set(frame["benchmark"]) == {"mmlu:subject=anatomy", "mmlu:subject=anatomy/typos"}
    rows = by_item(frame[frame["model"] == "openai/gpt2"], "mmlu:subject=anatomy")
    assert (rows["id0"].trials, rows["id0"].correct, rows["id1"].correct) == (2.0, 2.0, 0.0)


def test_helm_bad_value_names_line(tmp_path):
    entries = [helm_entry("id0", 1.0), helm_entry("id1", 2.0)]
    run = write_helm_run(tmp_path, "boolq:model=openai_gpt2", "openai/gpt2", entries)
    with pytest.raises(InputError, match=r"per_instance_stats.json:\d+: field 'stats.exact_match.mean'"):
        read_results(run)


# ------------------------------------------------------------------------------------------- detection


def test_format_override_and_unknown_format(tmp_path):
    mc_run(tmp_path, "m", [True])
    assert len(read_results(tmp_path, format="lm-eval")) == 1
    with pytest.raises(InputError, match="unknown format 'nope'"):
        read_results(tmp_path, format="nope")
    with pytest.raises(InputError, match="no helm results found"):
        read_results(tmp_path, format="helm")
