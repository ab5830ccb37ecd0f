"""Bootstrap intervals: reproducible, independent of the number of workers, and sensible on planted truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchcast.baselines.naive import LastModel
from benchcast.cod.method import COD
from benchcast.forecast import forecast
from benchcast.uncertainty import BinomialTable, bootstrap, bootstrap_targets, resample_ladder


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
    # the same replicates on other workers; NumPy's vectorised sums may round differently with the memory
    # alignment of an array, which differs between processes, and a law fit can carry that last bit to ~1e-10
    np.testing.assert_allclose(one.samples, two.samples, rtol=0, atol=1e-8)
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


def test_warm_started_cod_refit_reuses_the_clusters_and_lands_near_a_cold_refit(bench, small_sim):
    fitted = COD().fit(bench)
    replicate = resample_ladder(bench, np.random.default_rng(5), items=True, trials=True, leave_out=0, min_models=3)
    warm = COD().warm_start(fitted).fit(replicate)
    cold = COD().fit(replicate)
    assert warm.radius_ == fitted.radius_
    assert all(any(np.array_equal(c, f) for f in fitted.centres_) for c in warm.centres_)
    assert warm.predict(small_sim.target_compute) == pytest.approx(cold.predict(small_sim.target_compute), abs=0.02)


def test_warm_start_follows_a_left_out_model(bench, small_sim):
    fitted = COD().fit(bench)
    replicate = bench.subset(range(1, bench.n_models))
    warm = COD().warm_start(fitted).fit(replicate)
    assert warm.centres_.shape[1] == replicate.n_models
    assert warm.unit_ == fitted.unit_
    assert warm.predict(small_sim.target_compute) is not None


def test_several_targets_share_replicates(bench, small_sim):
    computes = [small_sim.target_compute, small_sim.target_compute / 4]
    fitted = COD().fit(bench)
    both = bootstrap_targets(fitted, bench, [(c, {}) for c in computes], n_samples=5, seed=2)
    for compute, result in zip(computes, both, strict=True):
        alone = bootstrap(fitted, bench, compute, n_samples=5, seed=2)
        assert np.array_equal(alone.samples, result.samples, equal_nan=True)


def test_interval_error_is_the_hold_out_error_or_else_the_whole_move(bench, small_sim):
    from benchcast.diagnostics import extrapolation_error, validate, validation_error

    value = float(bench.scores[-1]) + 0.2
    assert extrapolation_error(bench, {}, small_sim.target_compute, value) == pytest.approx(0.2)
    validation = validate(LastModel(), bench)
    measured = validation_error(bench, validation, small_sim.target_compute)
    assert measured is not None and measured > 0
    assert extrapolation_error(bench, validation, small_sim.target_compute, value) == measured
    # farther targets carry more of it, up to four times the held-out gap
    assert validation_error(bench, validation, small_sim.target_compute * 1e6) <= 4 * measured + 1e-12
    assert validation_error(bench, validation, small_sim.target_compute * 1e6) > measured


def test_a_replicate_is_the_inverse_transform_resample(bench):
    # pins the random stream: items by rng.integers, the left-out model by rng.choice, then one uniform per cell
    # inverted through scipy's binomial CDF of the cell's (trials, pass rate)
    ours, plain = np.random.default_rng(7), np.random.default_rng(7)
    replicate = resample_ladder(bench, ours, items=True, trials=True, leave_out=1, min_models=3)
    index = plain.integers(0, bench.n_items, size=bench.n_items)
    kept = np.setdiff1d(np.arange(bench.n_models), plain.choice(bench.n_models, size=1, replace=False))
    n = bench.trials[index][:, kept].astype(np.int64)
    p = np.clip(bench.pass_rates[index][:, kept], 0.0, 1.0)
    uniform = plain.random(n.shape)
    successes = np.array(
        [
            np.searchsorted(stats.binom.cdf(np.arange(trials), trials, rate), u, side="right")
            for trials, rate, u in zip(n.ravel(), p.ravel(), uniform.ravel(), strict=True)
        ]
    ).reshape(n.shape)
    np.testing.assert_array_equal(replicate.pass_rates, successes / n)
    np.testing.assert_array_equal(replicate.trials, bench.trials[index][:, kept])
    np.testing.assert_array_equal(replicate.items, bench.items[index])
    np.testing.assert_array_equal(replicate.compute, bench.compute[kept])
    assert replicate.models == tuple(bench.models[k] for k in kept)


@pytest.mark.parametrize("trials", [1, 7, 100, 1000])
def test_redraws_follow_the_binomial_distribution(trials):
    rates = np.arange(trials + 1) / trials
    cells = np.repeat(rates[None, :], 4000, axis=0)
    redrawn = BinomialTable(np.full(cells.shape, trials), cells).draw(np.random.default_rng(0))
    assert set(np.unique(redrawn * trials).round(9)) <= set(np.arange(trials + 1.0))
    for column, p in enumerate(rates):
        successes = np.round(redrawn[:, column] * trials)
        # mean within 5 standard errors, and the variance of a binomial
        mean, var = trials * p, trials * p * (1 - p)
        assert abs(successes.mean() - mean) <= 5 * np.sqrt(var / len(successes)) + 1e-12
        assert successes.var() == pytest.approx(var, rel=0.15, abs=1e-12)
    # the whole distribution at p = 0.3: every count's frequency within 5 standard errors of its probability
    p = 0.3
    draws = BinomialTable(np.full((200_000, 1), trials), np.full((200_000, 1), p)).draw(np.random.default_rng(1))
    counts = np.bincount(np.round(draws.ravel() * trials).astype(int), minlength=trials + 1)
    pmf = stats.binom.pmf(np.arange(trials + 1), trials, p)
    assert np.all(np.abs(counts / draws.size - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / draws.size) + 1e-6)


def test_too_many_distinct_pass_rates_fall_back_to_numpy():
    rates = np.random.default_rng(2).uniform(size=(1000, 4))
    table = BinomialTable(np.full(rates.shape, 5000), rates, max_table=10_000)
    assert table.table is None
    redrawn = table.draw(np.random.default_rng(3))
    assert redrawn.shape == rates.shape and np.all((redrawn >= 0) & (redrawn <= 1))
    assert abs(float((redrawn - rates).mean())) < 0.01


def test_cluster_membership_is_the_kd_trees_even_on_exact_ties():
    from scipy.spatial import cKDTree

    from benchcast.cod.seeded import reassign_clusters

    rng = np.random.default_rng(1)
    for _ in range(50):
        dims = int(rng.integers(2, 9))
        # a lattice: many points lie exactly R from a centre, or exactly as far from two centres
        points = rng.integers(0, 11, (500, dims)) / 10
        centres = rng.integers(0, 11, (int(rng.integers(1, 30)), dims)) / 10
        radius = float(rng.choice([0.1, 0.2, np.sqrt(0.02)]))
        distance, nearest = cKDTree(centres).query(points)
        nearest = np.where(distance <= radius, nearest, -1)
        sizes = np.bincount(nearest[nearest >= 0], minlength=len(centres))
        kept = sizes >= 3
        new_id = np.where(kept, np.cumsum(kept) - 1, -1)
        expected = np.where(nearest >= 0, new_id[np.maximum(nearest, 0)], -1)
        labels, twins = reassign_clusters(points, radius, centres, min_cluster_size=3)
        np.testing.assert_array_equal(labels, expected)
        np.testing.assert_array_equal(twins, np.flatnonzero(kept))


def test_hold_outs_in_workers_give_the_same_forecast(small_sim):
    # with workers, the hold-out fits run beside the full fit; nothing else changes
    kwargs = {"target": small_sim.target, "ladder_models": small_sim.ladder_models, "n_bootstrap": 4, "seed": 1}
    one = forecast(small_sim.ladder, method="cod", n_jobs=1, **kwargs).benchmarks["sim"]
    two = forecast(small_sim.ladder, method="cod", n_jobs=2, **kwargs).benchmarks["sim"]
    assert two.forecast == one.forecast
    # worker processes may round a vectorised sum differently in the last bit (see above)
    error = one.details["bootstrap"]["validation_error"]
    assert two.details["bootstrap"]["validation_error"] == pytest.approx(error, rel=1e-9)
    for level, (low, high) in one.interval.items():
        assert two.interval[level] == pytest.approx((low, high), abs=1e-8)


def test_large_benchmarks_fit_and_bootstrap_on_threads_with_the_serial_answer(monkeypatch):
    # from THREADED_MIN_ITEMS items on, workers are threads of this process, for the fits and the replicates
    import importlib

    import benchcast.uncertainty as uncertainty
    from benchcast.diagnostics import THREADED_MIN_ITEMS
    from benchcast.simulate import simulate_ladder

    forecasting = importlib.import_module("benchcast.forecast")  # the module: ``benchcast.forecast`` is the function
    sim = simulate_ladder(n_items=THREADED_MIN_ITEMS, n_models=6, trials=50, seed=2)
    kwargs = {"target": sim.target, "ladder_models": sim.ladder_models, "n_bootstrap": 8, "seed": 1}
    threaded_batches = []
    on_threads = uncertainty._replicates_on_threads
    monkeypatch.setattr(uncertainty, "_replicates_on_threads", lambda *a: threaded_batches.append(1) or on_threads(*a))
    threaded = forecast(sim.ladder, method="cod", n_jobs=2, **kwargs).benchmarks["sim"]
    assert threaded_batches and threaded.forecast is not None
    serial = forecast(sim.ladder, method="cod", n_jobs=1, **kwargs).benchmarks["sim"]
    monkeypatch.setattr(forecasting, "THREADED_MIN_ITEMS", 10**9)
    monkeypatch.setattr(uncertainty, "THREADED_MIN_ITEMS", 10**9)
    processes = forecast(sim.ladder, method="cod", n_jobs=2, **kwargs).benchmarks["sim"]
    for other in (serial, processes):
        assert threaded.forecast == other.forecast
        error = other.details["bootstrap"]["validation_error"]
        assert threaded.details["bootstrap"]["validation_error"] == pytest.approx(error, rel=1e-9)
        assert threaded.details["bootstrap"]["std"] == pytest.approx(other.details["bootstrap"]["std"], abs=1e-8)
        for level, (low, high) in other.interval.items():
            assert threaded.interval[level] == pytest.approx((low, high), abs=1e-8)


def test_threaded_replicates_stop_when_their_reader_stops(monkeypatch, bench):
    # Ctrl-C or an error in the caller closes the batches' generator: batches not yet started must not run
    # (Executor.map cancels them when its iterator is closed; the pool's exit then waits only for running ones)
    import time

    import benchcast.uncertainty as uncertainty

    ran = []

    def slow(method, resampler, targets, seed, *, warm):
        ran.append(seed)
        time.sleep(0.02)
        return [0.5]

    monkeypatch.setattr(uncertainty, "_replicate", slow)
    resampler = uncertainty.Resampler(bench, items=True, trials=True, leave_out=0, min_models=3)
    chunks = [[seed] for seed in np.random.SeedSequence(0).spawn(40)]
    batches = uncertainty._replicates_on_threads(LastModel(), resampler, [(1e24, {})], chunks, False, 2)
    assert next(batches) == [[0.5]]
    batches.close()
    assert len(ran) < 10


def test_forecast_reports_its_fits_then_each_bootstrap(small_sim):
    from benchcast.forecast import FITTING

    calls = []
    kwargs = {"target": small_sim.target, "ladder_models": small_sim.ladder_models, "n_bootstrap": 4}
    forecast(small_sim.ladder, method="cod", progress=lambda *call: calls.append(call), **kwargs)
    fits = [call for call in calls if call[0] == FITTING]
    assert fits[0] == (FITTING, 0, 1) and fits[-1] == (FITTING, 1, 1)
    assert calls.index(fits[-1]) < calls.index(("sim", 4, 4))  # the fits come before the replicates
    assert {call[0] for call in calls} == {FITTING, "sim"}
