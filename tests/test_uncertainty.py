"""Bootstrap intervals: reproducible, independent of the number of workers, and sensible on planted truth."""

from __future__ import annotations

import numpy as np
import pytest

from benchcast.baselines.naive import LastModel
from benchcast.cod.method import COD
from benchcast.uncertainty import bootstrap, resample_ladder


@pytest.fixture()
def bench(small_sim):
    return small_sim.ladder.benchmark_ladder("sim", small_sim.ladder_models)


def test_resample_keeps_shape_and_trial_grid(bench):
    rng = np.random.default_rng(0)
    replicate = resample_ladder(bench, rng, items=True, trials=True, leave_out=1, min_models=3)
    assert replicate.pass_rates.shape == (bench.n_items, bench.n_models - 1)
    counts = replicate.pass_rates * replicate.trials
    assert np.allclose(counts, np.round(counts))
    assert set(replicate.models) < set(bench.models)


def test_bootstrap_is_seeded_and_worker_independent(bench, small_sim):
    one = bootstrap(COD(), bench, small_sim.target_compute, n_samples=6, seed=3, n_jobs=1)
    two = bootstrap(COD(), bench, small_sim.target_compute, n_samples=6, seed=3, n_jobs=2)
    assert np.array_equal(one.samples, two.samples, equal_nan=True)
    other = bootstrap(COD(), bench, small_sim.target_compute, n_samples=6, seed=4, n_jobs=1)
    assert not np.array_equal(one.samples, other.samples, equal_nan=True)


def test_intervals_nest_and_cover_the_truth_on_a_clean_ladder(bench, small_sim):
    result = bootstrap(COD(), bench, small_sim.target_compute, n_samples=30, seed=0)
    low80, high80 = result.intervals["80"]
    low95, high95 = result.intervals["95"]
    assert low95 <= low80 <= high80 <= high95
    assert low95 - 0.01 <= small_sim.truth <= high95 + 0.01


def test_last_model_interval_reflects_item_noise(bench, small_sim):
    result = bootstrap(LastModel(), bench, small_sim.target_compute, n_samples=40, leave_out=0, seed=1)
    low, high = result.intervals["95"]
    assert low < bench.scores[-1] < high
    assert high - low < 0.1
