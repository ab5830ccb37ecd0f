"""End to end with the real lm-evaluation-harness, offline: its own evaluator and file writer, then ingest and COD.

1. A ladder of synthetic-ability models (an ``LM`` subclass, no torch) runs through ``simple_evaluate`` and
   ``EvaluationTracker`` on generated tasks: a generation task with ``repeats: 8`` and two filters, and a
   multiple-choice task. Every item follows COD's per-item law in compute, so the target's true expected score
   is known; the files lm-eval writes are ingested into a store and forecast with COD from the store.
2. One ``lm_eval run --model hf`` CLI run with a tiny GPT-2 built locally (needs ``lm-eval[hf]`` and torch).

Needs the ``lmeval`` extra (``pip install -e .[lmeval]``); skipped cleanly without it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(variable, "1")

lm_eval = pytest.importorskip("lm_eval")
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.loggers import EvaluationTracker  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from benchcast.data.cards import load_model_cards  # noqa: E402
from benchcast.data.inputs import load_ladder  # noqa: E402
from benchcast.data.store import Store  # noqa: E402
from benchcast.forecast import forecast  # noqa: E402

pytestmark = pytest.mark.lmeval

SEED = 0
N_GEN, N_MC, REPEATS = 240, 120, 8
LADDER_COMPUTE = np.logspace(18.0, 20.5, 6)  # FLOPs
TARGET_COMPUTE = 10**21.5


def uniform(*parts: object) -> float:
    """A deterministic U(0, 1) draw from its arguments."""
    digest = hashlib.sha256("|".join(map(str, (SEED, *parts))).encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


def item_law(prompt: str) -> tuple[float, float]:
    """Per-item emergence compute (log10 FLOPs) and sharpness, hashed from the prompt."""
    return 18.0 + 4.0 * uniform("emerge", prompt), 0.4 + 0.6 * uniform("sharp", prompt)


def pass_probability(prompt: str, compute: float) -> float:
    """COD's per-item law exp(-a C^-b) with p = 1/2 at the emergence compute."""
    emerge, sharpness = item_law(prompt)
    return math.exp(-math.log(2.0) * (compute / 10**emerge) ** -sharpness)


class SyntheticLM(LM):
    """Answers an item correctly with probability ``pass_probability(prompt, compute)``, per repeat."""

    def __init__(self, compute: float, name: str) -> None:
        super().__init__()
        self.compute, self.name = compute, name

    def loglikelihood(self, requests, disable_tqdm=False):
        out = []
        for request in requests:
            context, continuation = request.args
            gold = continuation.strip() == request.doc["_gold"]
            knows = uniform(self.name, context) < pass_probability(context, self.compute)
            out.append((0.0 if gold and knows else -1.0 - uniform(self.name, context, continuation), False))
        return out

    def generate_until(self, requests, disable_tqdm=False):
        out, seen = [], {}
        for request in requests:  # with repeats, lm-eval passes the same instance N times in a row
            context = request.args[0]
            seen[context] = seen.get(context, 0) + 1
            right = uniform(self.name, context, seen[context]) < pass_probability(context, self.compute)
            out.append(request.doc["answer"] if right else "wrong")
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        return [-1.0 for _ in requests]


def write_tasks(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    gen, mc = [], []
    for index in range(max(N_GEN, N_MC)):
        a, b = 100 + index, 7 * index % 97
        gold = str(a + b)
        gen.append({"id": index, "question": f"What is {a} + {b}?", "answer": gold})
        choices = [str(a + b + offset) for offset in (-1, 10, 1)]
        choices.insert(index % 4, gold)
        mc.append(
            {"id": index, "question": f"Which is {a} plus {b}?", "choices": choices, "label": index % 4, "_gold": gold}
        )
    (folder / "gen.jsonl").write_text("".join(json.dumps(row) + "\n" for row in gen[:N_GEN]))
    (folder / "mc.jsonl").write_text("".join(json.dumps(row) + "\n" for row in mc[:N_MC]))
    (folder / "syn_gen.yaml").write_text(
        f"""task: syn_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {folder / "gen.jsonl"}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer}}}}"
repeats: {REPEATS}
generation_kwargs:
  until: ["\\n"]
  do_sample: true
  temperature: 1.0
  max_gen_toks: 8
filter_list:
  - name: "take-first"
    filter:
      - function: "take_first"
  - name: "maj@{REPEATS}"
    filter:
      - function: "majority_vote"
      - function: "take_first"
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
metadata:
  version: 1.0
"""
    )
    (folder / "syn_mc.yaml").write_text(
        f"""task: syn_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {folder / "mc.jsonl"}
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""
    )


def model_names() -> list[str]:
    return [f"syn-{i}" for i in range(len(LADDER_COMPUTE))] + ["syn-target"]


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """The ladder and target evaluated by lm-eval; returns the output folder and each run's results."""
    root = tmp_path_factory.mktemp("lmeval")
    write_tasks(root / "tasks")
    manager = TaskManager(include_path=str(root / "tasks"), include_defaults=False)
    computes = [*LADDER_COMPUTE, TARGET_COMPUTE]
    aggregated = {}
    for name, compute in zip(model_names(), computes, strict=True):
        results = lm_eval.simple_evaluate(
            model=SyntheticLM(compute, name),
            tasks=["syn_gen", "syn_mc"],
            task_manager=manager,
            log_samples=True,
            bootstrap_iters=0,
            random_seed=SEED,
            numpy_random_seed=SEED,
            torch_random_seed=SEED,
            fewshot_random_seed=SEED,
        )
        tracker = EvaluationTracker(output_path=str(root / "out"))
        tracker.general_config_tracker.model_name = name
        tracker.general_config_tracker.model_name_sanitized = name
        samples = results.pop("samples")
        tracker.save_results_aggregated(results=results, samples=samples)
        for task in results["configs"]:
            tracker.save_results_samples(task_name=task, samples=samples[task])
        aggregated[name] = results["results"]
    cards = root / "cards.csv"
    rows = [
        f"{name},{float(compute)!r},{'target' if name == 'syn-target' else 'ladder'}"
        for name, compute in zip(model_names(), computes, strict=True)
    ]
    cards.write_text("model,compute,role\n" + "\n".join(rows) + "\n")
    return root, aggregated


def test_ingest_keeps_repeats_filters_and_the_harness_scores(synthetic_run, tmp_path):
    root, aggregated = synthetic_run
    path = tmp_path / "runs.duckdb"
    with Store(path) as store:
        summary = store.ingest([root / "out"])
        frame = store.results()
        again = store.ingest([root / "out"])
    assert summary.models == set(model_names())
    assert summary.benchmarks == {"syn_gen", f"syn_gen/maj@{REPEATS}", "syn_mc"}
    assert summary.added == len(model_names()) * (N_GEN * REPEATS + N_GEN + N_MC)
    assert again.added == 0
    gen = frame[frame["benchmark"] == "syn_gen"]
    assert (gen["trials"] == REPEATS).all()
    for name, results in aggregated.items():
        rows = frame[frame["model"] == name]
        by_benchmark = rows.groupby("benchmark")["pass_rate"].mean()
        assert by_benchmark["syn_mc"] == pytest.approx(results["syn_mc"]["acc,none"])
        assert by_benchmark[f"syn_gen/maj@{REPEATS}"] == pytest.approx(results["syn_gen"][f"exact_match,maj@{REPEATS}"])
        mc = rows[rows["benchmark"] == "syn_mc"]
        assert mc["score"].between(0, 1).all() and mc["score"].notna().all()


def test_cod_forecast_from_the_store_is_sane(synthetic_run, tmp_path):
    root, _ = synthetic_run
    path = tmp_path / "runs.duckdb"
    with Store(path) as store:
        store.ingest([root / "out"])
    ladder = load_ladder([path], root / "cards.csv")
    result = forecast(ladder, target="syn-target", method="cod", benchmarks=["syn_gen"])
    answer = result.benchmarks["syn_gen"]
    prompts = [json.loads(line)["question"] for line in (root / "tasks" / "gen.jsonl").read_text().splitlines()]
    truth = float(np.mean([pass_probability(f"Question: {q}\nAnswer:", TARGET_COMPUTE) for q in prompts]))
    largest = ladder.measured("syn-5", "syn_gen")
    assert answer.forecast is not None, answer.declined
    assert abs(answer.forecast - truth) < 0.08, (answer.forecast, truth)  # measured: 0.763 vs 0.817
    assert answer.forecast > largest + 0.1
    assert abs(answer.truth - truth) < 0.05  # the target's measured score agrees with the synthetic truth
    assert truth - largest > 0.1  # the forecast had to extrapolate, not copy the largest ladder model
    assert set(load_model_cards(root / "cards.csv")) == set(model_names())


TINY_GPT2 = """
import sys
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

torch.manual_seed(0)
corpus = ["The capital of France is Paris.", "2 + 2 = 4", "Question: What is 3 + 5? Answer: 8"] * 20
tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<unk>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tokenizer.train_from_iterator(corpus, trainer)
hf = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                             unk_token="<unk>", pad_token="<|endoftext|>")
hf.model_max_length = 256
config = GPT2Config(vocab_size=len(hf), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                    bos_token_id=hf.bos_token_id, eos_token_id=hf.eos_token_id)
GPT2LMHeadModel(config).save_pretrained(sys.argv[1])
hf.save_pretrained(sys.argv[1])
"""


@pytest.mark.slow
def test_lm_eval_cli_with_a_tiny_gpt2(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "TOKENIZERS_PARALLELISM": "false"}
    model_dir = tmp_path / "tiny-gpt2"
    script = tmp_path / "make_model.py"
    script.write_text(TINY_GPT2)
    subprocess.run([sys.executable, str(script), str(model_dir)], check=True, env=env, timeout=300)
    tasks = tmp_path / "tasks"
    write_tasks(tasks)
    for name in ("syn_gen", "syn_mc"):  # a few docs are enough here
        text = (tasks / f"{name}.yaml").read_text().replace(f"repeats: {REPEATS}", "repeats: 4")
        (tasks / f"{name}.yaml").write_text(text.replace(f"maj@{REPEATS}", "maj@4"))
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf",  # no "run": the form every 0.4.x accepts
        "--model_args", f"pretrained={model_dir},dtype=float32",
        "--tasks", "syn_mc,syn_gen", "--include_path", str(tasks), "--limit", "12",
        "--device", "cpu", "--batch_size", "4", "--seed", "0",
        "--output_path", str(tmp_path / "out"), "--log_samples",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    with Store(tmp_path / "runs.duckdb") as store:
        summary = store.ingest([tmp_path / "out"])
        frame = store.results()
    assert summary.models == {"tiny-gpt2"}
    assert summary.benchmarks == {"syn_mc", "syn_gen", "syn_gen/maj@4"}
    assert len(frame[frame["benchmark"] == "syn_mc"]) == 12
    assert frame.loc[frame["benchmark"] == "syn_mc", "score"].between(0, 1).all()
    assert (frame.loc[frame["benchmark"] == "syn_gen", "trials"] == 4).all()
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())
    acc = results["results"]["syn_mc"]["acc,none"]
    assert frame.loc[frame["benchmark"] == "syn_mc", "pass_rate"].mean() == pytest.approx(acc)
