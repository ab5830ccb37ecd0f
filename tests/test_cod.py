"""COD stage by stage on planted truth, and end to end on simulated ladders where its law holds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchcast import laws
from benchcast.cod.mapping import GRID, fit_mapping
from benchcast.cod.meanshift import improved_mean_shift
from benchcast.cod.method import (
    COD,
    ENDPOINT_WARNING,
    EXTRAPOLATABLE,
    NON_EMERGENT,
    NON_EXTRAPOLATABLE,
    classify,
    endpoint_points,
)
from benchcast.data.ladder import BenchmarkLadder
from benchcast.laws import COD_LAW, LOGISTIC_LAW, cod_law, fit_law, logistic_law
from benchcast.methods import get_method
from benchcast.simulate import simulate_irt_ladder, simulate_ladder

LADDER_UNITS = np.geomspace(40, 1.4e5, 8)


@pytest.mark.parametrize(
    "params",
    [
        dict(a=40.0, b=0.5, c=0.05, g=0.0),
        dict(a=8.0, b=0.3, c=0.2, g=0.25),
        dict(a=300.0, b=0.7, c=0.0, g=0.1),
    ],
)
def test_law_fit_recovers_planted_parameters(params):
    y = cod_law(LADDER_UNITS, **params)
    fit = fit_law(COD_LAW, LADDER_UNITS, y)
    assert fit.success and fit.rmse < 1e-4
    # parameters of a 4-parameter law on 8 points trade off; the curve, its floor and its extrapolation must match
    assert fit.params["g"] == pytest.approx(params["g"], abs=0.02)
    target = 25 * LADDER_UNITS[-1]
    assert fit.predict(target)[0] == pytest.approx(cod_law(np.array([target]), **params)[0], abs=0.01)


def test_law_fit_with_noise_stays_close():
    rng = np.random.default_rng(0)
    params = dict(a=40.0, b=0.5, c=0.05, g=0.0)
    y = cod_law(LADDER_UNITS, **params) + rng.normal(0, 0.005, LADDER_UNITS.size)
    fit = fit_law(COD_LAW, LADDER_UNITS, y)
    assert abs(fit.params["b"] - 0.5) < 0.1
    assert fit.rmse < 0.01


@pytest.mark.parametrize("seed", range(6))
def test_warm_law_fit_never_ends_worse_than_its_start(seed):
    # a bootstrap replicate refits each cluster from the full-data fit; the fit must start there (with a = 9.5
    # among bounds up to 1e8), not at a point moved far inside the bounds, and so can only improve on it
    rng = np.random.default_rng(seed)
    start = dict(a=9.4851, b=0.4045, c=0.2204, g=0.0)
    units = LADDER_UNITS[rng.permutation(8)[:7]]
    y = np.clip(cod_law(units, **start) + rng.normal(0, 0.01, units.size), 0, 1)
    fit = fit_law(COD_LAW, units, y, starts=[tuple(start.values())])
    start_rmse = float(np.sqrt(np.mean((cod_law(units, **start) - y) ** 2)))
    assert fit.rmse <= start_rmse * (1 + 1e-6)
    assert fit.params["a"] < 1000


@pytest.mark.parametrize("law", [COD_LAW, LOGISTIC_LAW], ids=lambda law: law.name)
@given(
    values=st.tuples(st.floats(0.1, 1e4), st.floats(0.01, 3.0), st.floats(0.0, 5.0), st.floats(0.0, 0.9)),
    free=st.lists(st.booleans(), min_size=4, max_size=4).filter(any),
)
@settings(max_examples=60, deadline=None)
def test_compiled_law_is_the_law_on_mapped_parameters(law, values, free):
    # the fit's compiled residual and Jacobian (sine-mapped free parameters, the rest fixed) against the law and
    # its NumPy Jacobian, chained through the map by hand
    x, y, w = LADDER_UNITS, np.linspace(0.1, 0.7, 8), np.linspace(1.0, 2.0, 8)
    free = np.array(free)
    lo, hi = np.array(law.lower), np.array(law.upper)
    half = (hi - lo)[free] / 2.0
    t = np.arcsin(np.clip((np.array(values)[free] - lo[free]) / half - 1.0, -1.0, 1.0))
    params = np.array(values, dtype=float)
    params[free] = lo[free] + half * (np.sin(t) + 1.0)
    fixed = np.array(values, dtype=float)
    args = (law.compiled, x, y, w, lo[free].copy(), half, fixed, np.flatnonzero(free))
    np.testing.assert_allclose(laws._mapped_residual(t, *args), w * (law(x, params) - y), rtol=1e-12, atol=1e-15)
    expected = w[:, None] * law.jacobian(x, *params)[:, free] * (half * np.cos(t))[None, :]
    np.testing.assert_allclose(laws._mapped_jacobian(t, *args), expected, rtol=1e-10, atol=1e-12)


def planted_clusters(seed: int, sizes=(60, 40, 30), spread=0.02):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.05, 0.1, 0.3, 0.6], [0.5, 0.6, 0.7, 0.8], [0.9, 0.92, 0.95, 0.97]])
    points = np.vstack([c + rng.normal(0, spread, (n, 4)) for c, n in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return np.clip(points, 0, 1), truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_improved_meanshift_recovers_planted_clusters(seed):
    points, truth = planted_clusters(seed)
    noise = np.random.default_rng(seed + 10).uniform(0, 1, (5, 4))
    labels, centres = improved_mean_shift(np.vstack([points, noise]), 0.1, min_cluster_size=10)
    planted = labels[: len(truth)]
    assert len(centres) == 3
    for cluster in range(3):
        found = planted[truth == cluster]
        assert (found == found[0]).all() and found[0] >= 0
    assert len(set(planted)) == 3


def test_small_groups_become_outliers():
    points, _ = planted_clusters(0, sizes=(60, 40, 5))
    labels, _ = improved_mean_shift(points, 0.1, min_cluster_size=10)
    assert (labels[100:] == -1).all()
    assert (labels[:100] >= 0).all()


@settings(max_examples=80, deadline=None)
@given(
    x=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10),
    noise=st.lists(st.floats(-0.3, 0.3), min_size=10, max_size=10),
    kind=st.sampled_from(["spline", "poly4", "isotonic"]),
)
def test_mapping_is_monotone_through_endpoints(x, noise, kind):
    xs = np.array(x)
    ys = np.clip(xs**1.3 + np.array(noise[: len(x)]), 0, 1)
    mapping = fit_mapping(xs, ys, kind=kind)
    assert float(mapping(0.0)) == pytest.approx(0.0, abs=1e-9)
    assert float(mapping(1.0)) == pytest.approx(1.0, abs=1e-9)
    values = mapping(GRID)
    assert np.all(np.diff(values) >= -1e-12)
    assert values.min() >= 0 and values.max() <= 1


@settings(max_examples=80, deadline=None)
@given(
    subset=st.lists(st.floats(0.0, 0.9), min_size=3, max_size=8, unique=True),
    share=st.floats(0.05, 0.95),
    rest_slope=st.floats(0.0, 1.0),
    beyond=st.floats(0.001, 0.1),
    extra=st.floats(0.0, 0.5),
)
def test_endpoint_points_count_only_the_rise_the_ladder_does_not_carry(subset, share, rest_slope, beyond, extra):
    """On a ladder where the rest of the benchmark rises linearly with the subset, a forecast that continues that
    line rests on nothing but the ladder (0 points), every extra point of rise counts one for one, and a forecast
    inside the ladder's range counts nothing."""
    x = np.array(subset)
    full = share * x + (1 - share) * rest_slope * x
    top = float(x.max())
    on_line = share * (top + beyond) + (1 - share) * rest_slope * (top + beyond)
    assert endpoint_points(x, full, share, top + beyond, on_line) == pytest.approx(0.0, abs=1e-9)
    lifted = endpoint_points(x, full, share, top + beyond, on_line + extra / 100)
    assert lifted == pytest.approx(extra, abs=1e-6)
    assert endpoint_points(x, full, share, top, 1.0) == 0.0


def test_mapping_follows_clean_points():
    xs = np.linspace(0.1, 0.8, 8)
    mapping = fit_mapping(xs, xs**2)
    assert mapping.kind == "cubic smoothing spline"
    assert float(mapping(0.5)) == pytest.approx(0.25, abs=0.01)
    assert mapping.rmse < 0.005


def _fit_cluster(y):
    fit = fit_law(COD_LAW, LADDER_UNITS, y)
    return classify(fit, y, LADDER_UNITS)


def test_classification_of_planted_clusters():
    scaling = cod_law(LADDER_UNITS, a=40.0, b=0.5, c=0.05, g=0.0)
    flat_low = np.full(8, 0.25) + np.array([0, 0.002, -0.001, 0.001, 0, -0.002, 0.001, 0])
    saturated = np.full(8, 0.98) + np.array([0, 0.002, -0.001, 0.001, 0, -0.002, 0.001, 0])
    low_ceiling = cod_law(LADDER_UNITS, a=40.0, b=0.5, c=1.6, g=0.0)
    assert _fit_cluster(scaling)[0] == EXTRAPOLATABLE
    assert _fit_cluster(flat_low)[0] == NON_EMERGENT
    kind, reason = _fit_cluster(saturated)
    assert kind == NON_EXTRAPOLATABLE and "saturated" in reason
    kind, reason = _fit_cluster(low_ceiling)
    assert kind == NON_EXTRAPOLATABLE and "ceiling" in reason


def _bench(sim):
    return sim.ladder.benchmark_ladder(sim.benchmark, sim.ladder_models)


@pytest.mark.slow
def test_forecast_within_one_point_where_the_law_holds():
    """Issue acceptance: >= 6 models, >= 2,000 items, 100 trials, target 25x: within 1 point in >= 18 of 20 seeds."""
    errors = []
    for seed in range(20):
        sim = simulate_ladder(
            n_items=2000, n_models=6, trials=100, target_ratio=25.0, flat_share=0.0, ceiling_gap=0.05, seed=seed
        )
        result = COD().fit(_bench(sim)).forecast(sim.target_compute)
        errors.append(abs(result.value - sim.truth) * 100)
    assert sum(error <= 1.0 for error in errors) >= 18, np.round(errors, 2)


@pytest.mark.slow
def test_item_response_ladders_lose_most_of_the_paper_laws_low_bias():
    """Items that rise as logistic curves in log-compute (graded difficulty, 100 trials, 8 models over 3
    decades, target 25x, floors 0 and 1/4, two seeds each): the paper's law forecasts 4-6 points low (clusters
    seen only in their onset). The default (``law="pooled"``) moves the whole benchmark to the logistic law where
    the clusters' summed hold-out error is under half the paper law's, and is then within about 1.5 points
    (3.2 on one ladder here, whose onset cluster the logistic law over-forecasts); where the sum is not that
    clear it keeps the paper's law (docs/decisions.md, "Which law a cluster follows"). It never does worse than
    the end-to-end exponential law."""
    default, paper, e2e = [], [], []
    for chance in (0.0, 0.25):
        for seed in (0, 1):
            sim = simulate_irt_ladder(n_items=4000, chance=chance, seed=seed)
            bench = _bench(sim)
            for errors, model in ((default, COD()), (paper, COD(law="cod")), (e2e, get_method("e2e-exp"))):
                errors.append(100 * (model.fit(bench).forecast(sim.target_compute).value - sim.truth))
    assert float(np.mean(paper)) < -3.0, paper  # the bias the choice is for
    assert np.mean(np.abs(default)) < 0.35 * np.mean(np.abs(paper)), (default, paper)
    assert all(abs(d) <= abs(e) for d, e in zip(default, e2e, strict=True)), (default, e2e)
    assert sum(abs(d) <= 1.5 for d in default) >= 3, default


def test_a_forecast_that_rests_on_the_mappings_endpoint_says_so():
    """Items far beyond the target (difficulty up to 9 decades above the smallest model, target at 4.4): the
    subset saturates at the target and the mapping's (1, 1) endpoint alone lifts the whole benchmark, as on the
    bundled cod-ladder. COD then names how many points rest on it; where the endpoint holds (difficulty up to 5
    decades, the ladder's own range plus the target's) it does not."""
    far = simulate_irt_ladder(n_items=2000, difficulty=(-1.0, 9.0), seed=0)
    answer = COD(min_share=0.0).fit(_bench(far)).forecast(far.target_compute)
    assert 100 * (answer.value - far.truth) > 10  # the miss the warning is about
    assert answer.details["endpoint_points"] > ENDPOINT_WARNING
    assert any("(1, 1) endpoint" in w for w in answer.warnings), answer.warnings
    near = simulate_irt_ladder(n_items=2000, seed=0)
    answer = COD().fit(_bench(near)).forecast(near.target_compute)
    assert abs(100 * (answer.value - near.truth)) < 3
    assert answer.details["endpoint_points"] < ENDPOINT_WARNING
    assert not any("(1, 1) endpoint" in w for w in answer.warnings), answer.warnings


def test_pooled_choice_keeps_the_papers_law_where_items_follow_it_or_samples_are_few():
    # items drawn from the paper's own law, 100 trials: every cluster keeps it, so the forecast is the paper law's
    for seed in range(3):
        bench = _bench(simulate_ladder(n_items=2000, seed=seed))
        model = COD().fit(bench)
        assert {c.fit.law.name for c in model.clusters_} == {COD_LAW.name}
    # 8 trials per item (under RELIABLE_TRIALS): the hold-out comparison is mostly noise and is not made, even on
    # items whose law is the logistic one
    sim = simulate_irt_ladder(n_items=4000, trials=8, seed=1)
    bench = _bench(sim)
    few = COD().fit(bench)
    assert {c.fit.law.name for c in few.clusters_} == {COD_LAW.name}
    answer = few.forecast(sim.target_compute)
    assert answer.value == COD(law="cod").fit(bench).forecast(sim.target_compute).value
    assert (
        answer.details["law_choice"]["chosen"] == COD_LAW.name
        and "not compared" in answer.details["law_choice"]["reason"]
    )
    # the same items with 100 trials: the comparison is made and the logistic law wins, by its summed error
    many = COD().fit(_bench(simulate_irt_ladder(n_items=4000, seed=1)))
    assert {c.fit.law.name for c in many.clusters_} == {LOGISTIC_LAW.name}
    errors = many.law_choice_["holdout_errors"]
    assert many.law_choice_["chosen"] == LOGISTIC_LAW.name
    assert 0 < errors[LOGISTIC_LAW.name] <= 0.5 * errors[COD_LAW.name]


def test_law_choice_keeps_the_papers_law_where_items_follow_it():
    """On items drawn from the paper's own law, the hold-out choice picks it for most of the items, and the
    forecast is the paper law's."""
    sim = simulate_ladder(n_items=2000, seed=3)
    model = COD(law="select").fit(_bench(sim))
    kept = [c for c in model.clusters_ if c.kind == EXTRAPOLATABLE]
    paper_items = sum(c.size for c in kept if c.fit.law is COD_LAW)
    assert paper_items > 0.6 * sum(c.size for c in kept)
    paper = COD().fit(_bench(sim)).forecast(sim.target_compute).value
    assert abs(model.forecast(sim.target_compute).value - paper) < 0.005


def test_logistic_law_fit_recovers_its_curve():
    y = logistic_law(LADDER_UNITS, a=2000.0, b=1.2, c=0.02, g=0.25)
    fit = fit_law(LOGISTIC_LAW, LADDER_UNITS, y)
    assert fit.rmse < 1e-4
    target = 25 * LADDER_UNITS[-1]
    assert fit.predict(target)[0] == pytest.approx(
        logistic_law(np.array([target]), 2000.0, 1.2, 0.02, 0.25)[0], abs=0.01
    )


def test_unknown_law_is_refused(small_sim):
    with pytest.raises(ValueError, match="law must be one of"):
        COD(law="gompertz").fit(_bench(small_sim))


def test_forecast_is_deterministic(small_sim):
    first = COD().fit(_bench(small_sim)).forecast(small_sim.target_compute)
    second = COD().fit(_bench(small_sim)).forecast(small_sim.target_compute)
    assert first.value == second.value
    assert first.details["item_labels"] == second.details["item_labels"]


def test_details_are_consistent(small_sim):
    result = COD().fit(_bench(small_sim)).forecast(small_sim.target_compute)
    details = result.details
    assert (
        sum(details["class_counts"].values())
        == small_sim.ladder.benchmark_ladder("sim", small_sim.ladder_models).n_items
    )
    kept = [c for c in details["clusters"] if c["class"] == EXTRAPOLATABLE]
    share = sum(c["size"] for c in kept) / len(details["item_labels"])
    assert details["predictable_share"] == pytest.approx(share)
    subset = sum(c["size"] * c["prediction"] for c in kept) / sum(c["size"] for c in kept)
    assert details["subset_forecast"] == pytest.approx(subset)


def test_declines_with_reasons():
    sim = simulate_ladder(n_items=200, n_models=2, trials=20, seed=0)
    assert "at least 3 ladder models" in COD().applicable(_bench(sim))
    flat = BenchmarkLadder(
        benchmark="b",
        models=("a", "b", "c"),
        compute=np.array([1e20, 1e21, 1e22]),
        pass_rates=np.zeros((50, 3)),
        trials=np.full((50, 3), 10.0),
        items=np.arange(50),
    )
    result = COD().fit(flat).forecast(1e23)
    assert result.value is None and "extrapolatable" in result.declined


def test_warnings_for_interpolation_and_few_models(small_sim):
    bench = small_sim.ladder.benchmark_ladder("sim", small_sim.ladder_models[:4])
    result = COD().fit(bench).forecast(float(bench.compute[-2]))
    text = " ".join(result.warnings)
    assert "only 4 ladder models" in text and "interpolation" in text


def test_anchor_enters_the_mapping(small_sim):
    models = small_sim.ladder_models
    bench = small_sim.ladder.benchmark_ladder("sim", models[:-1], anchors=[models[-1]])
    with_anchor = COD().fit(bench).forecast(small_sim.target_compute)
    without = COD(use_anchors=False).fit(bench).forecast(small_sim.target_compute)
    assert len(with_anchor.details["mapping"]["points"]) == len(without.details["mapping"]["points"]) + 1


def test_forecast_depends_on_compute_ratios_only(small_sim):
    """With the default ladder-relative unit, the same ladder at 10^-8 times the FLOPs forecasts the same."""
    bench = _bench(small_sim)
    tiny = BenchmarkLadder(
        bench.benchmark, bench.models, bench.compute * 1e-8, bench.pass_rates, bench.trials, bench.items
    )
    usual = COD().fit(bench).forecast(small_sim.target_compute)
    scaled = COD().fit(tiny).forecast(small_sim.target_compute * 1e-8)
    assert usual.value is not None
    assert scaled.value == pytest.approx(usual.value, abs=1e-6)
    assert scaled.details["class_counts"] == usual.details["class_counts"]
    # the paper's fixed unit of 10^18 FLOPs puts the tiny ladder far outside the law's range: nothing scales
    fixed = COD(compute_unit=1e18).fit(tiny).forecast(small_sim.target_compute * 1e-8)
    assert fixed.value is None


def test_classification_names_the_rule_that_failed():
    units = LADDER_UNITS
    accuracy = cod_law(units, a=0.6, b=0.3, c=0.5, g=0.0)
    fit = fit_law(COD_LAW, units, accuracy)
    kind, reason = classify(fit, accuracy, units)
    assert kind == NON_EXTRAPOLATABLE
    assert "a > 1" in reason and "negligible" not in reason


def test_clustering_sample_applies_above_its_size_only():
    from benchcast.simulate import simulate_ladder

    sim = simulate_ladder(n_items=3000, seed=4)
    bench = sim.ladder.benchmark_ladder("sim", sim.ladder_models)
    full = COD(cluster_sample=None).fit(bench)
    # at or above the number of distinct items the sample is everything: the very same fit
    same = COD(cluster_sample=bench.n_items).fit(bench)
    np.testing.assert_array_equal(same.labels_, full.labels_)
    assert same.predict(sim.target_compute) == full.predict(sim.target_compute)
    # below it, modes come from a seeded sample: repeatable, every item still labelled, the forecast close
    sampled = COD(cluster_sample=1000).fit(bench)
    again = COD(cluster_sample=1000).fit(bench)
    np.testing.assert_array_equal(sampled.labels_, again.labels_)
    assert sampled.predict(sim.target_compute) == again.predict(sim.target_compute)
    assert not np.array_equal(sampled.labels_, full.labels_)
    assert abs(sampled.predict(sim.target_compute) - full.predict(sim.target_compute)) < 0.02
