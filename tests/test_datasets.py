"""Every bundled dataset loads, carries its licence and provenance, and its backtest cases resolve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchcast.backtest import dataset_cases
from benchcast.backtest.published import OLMO_CHAINED_13B
from benchcast.datasets import list_datasets, load_dataset

DATASETS = sorted(list_datasets())


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def test_bundled_data_stays_small():
    root = next(iter(list_datasets().values())).path.parent
    assert _size(root) < 15 * 2**20


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_loads_with_licence_and_provenance(name):
    info = list_datasets()[name]
    for key in ("name", "title", "description", "license", "source"):
        assert info.meta.get(key), f"dataset.json lacks {key!r}"
    assert (info.path / "LICENSE").is_file()
    assert (info.path / "README.md").is_file()
    ladder = load_dataset(name)
    assert ladder.benchmarks
    for model in ladder.models:
        compute = ladder.cards[model].compute
        assert compute is not None and math.isfinite(compute) and compute > 0
    for benchmark, level in (info.meta.get("chance") or {}).items():
        assert benchmark in ladder.benchmarks
        assert 0.0 <= level < 1.0


@pytest.mark.parametrize("name", [n for n in DATASETS if list_datasets()[n].meta.get("cases")])
def test_backtest_cases_resolve(name):
    cases = dataset_cases(name)
    assert len(cases) == len(list_datasets()[name].meta["cases"])
    for case in cases:
        assert not set(case.targets) & set(case.ladder_models)
        benchmarks = case.case_benchmarks()
        assert benchmarks, f"{case.label}: no benchmark has results for every ladder model"
        for target in case.targets:
            assert any(case.ladder.measured(target, b) is not None for b in benchmarks)
            assert case.compute(target) > max(case.compute(m) for m in case.ladder_models)


def test_every_dataset_declares_backtest_cases():
    without = [n for n in DATASETS if not list_datasets()[n].meta.get("cases")]
    assert not without


def test_pythia_arithmetic_cases():
    (case,) = dataset_cases("pythia-arithmetic")
    assert case.ladder_models[0] == "pythia-125m-deduped" and case.ladder_models[-1] == "pythia-2.7b-deduped"
    assert case.targets == ("pythia-13b-deduped", "pythia-6.7b-deduped")


def test_pythia_v1_final_checkpoints_and_mmlu_subjects():
    ladder = load_dataset("pythia-v1")
    assert {"arc_easy", "arc_challenge", "piqa", "sciq", "winogrande", "lambada_openai", "mmlu"} <= set(
        ladder.benchmarks
    )
    assert set(ladder.results["step"].dropna()) == {143000}  # intermediate checkpoints are not ladder points
    mmlu = ladder.benchmark_ladder("mmlu", ["pythia-70m-deduped", "pythia-2.8b-deduped"])
    assert mmlu.n_items == 57
    assert mmlu.trials[:, 0].sum() == 14042  # the MMLU test set, recovered from lm-eval's standard errors
    assert ladder.measured("pythia-12b", "arc_easy") == pytest.approx(0.702441, abs=1e-6)
    cases = {case.name: case for case in dataset_cases("pythia-v1")}
    assert len(cases["deduped"].ladder_models) == 6 and len(cases["standard"].ladder_models) == 5


def test_olmo_ladder_metrics_and_published_truth():
    ladder = load_dataset("olmo-ladder")
    (case, paper) = dataset_cases("olmo-ladder")
    assert len(case.ladder_models) == 20 and len(paper.ladder_models) == 16
    data = ladder.benchmark_ladder("piqa", paper.ladder_models)
    assert set(data.metrics) >= {"bpb", "loss"}
    assert all(math.isfinite(v) for v in data.metrics["bpb"]) and all(math.isfinite(v) for v in data.metrics["loss"])
    # each run's value is the mean of its last 5 evaluations, as in Bhagia et al.: the 13B truth is their "Actual"
    for published in OLMO_CHAINED_13B:
        assert ladder.measured("OLMo-2-13B", published.benchmark) == pytest.approx(published.actual, abs=1e-9)


def test_mmlu_pro_reproduces_official_scores():
    ladder = load_dataset("mmlu-pro")
    assert ladder.chance == {"mmlu_pro": 0.1}
    data = ladder.benchmark_ladder("mmlu_pro", ["Llama-2-7b-hf", "Llama-2-13b-hf"])
    assert data.n_items == 12032
    finite = np.isfinite(data.trials)
    assert set(np.unique(data.trials[finite])) == {1.0}  # one sample per question
    failed = ~finite[:, 0]  # failed extractions score 1/n_options, the expected credit of a random option
    assert failed.sum() == 2061
    assert np.all((data.pass_rates[failed, 0] > 0.09) & (data.pass_rates[failed, 0] <= 0.5))
    official = {"Llama-2-13b-hf": 0.252, "Llama-2-70b-hf": 0.375, "Meta-Llama-3-70B": 0.527}
    for model, score in official.items():
        assert ladder.measured(model, "mmlu_pro") == pytest.approx(score, abs=0.0015)
    cases = {case.name: case for case in dataset_cases("mmlu-pro")}
    assert cases["llama-2"].ladder_models == ("Llama-2-7b-hf", "Llama-2-13b-hf")
    assert cases["llama-3"].targets == ("Meta-Llama-3-70B",)
    assert cases["yi"].targets == ("Yi-34B",)
