"""The default forecaster on simulated ladders in each regime: the verdict, and the truth inside the interval."""

from __future__ import annotations

import numpy as np
import pytest

from benchcast.auto import Auto
from benchcast.data.ladder import BenchmarkLadder
from benchcast.diagnostics import NON_MONOTONE, PRE_EMERGENCE, SATURATING, TOO_FEW, regime
from benchcast.simulate import simulate_ladder

FAST = ("e2e-exp", "powerlaw", "sigmoid")


def ladder_and_truth(**kwargs):
    sim = simulate_ladder(n_items=300, n_models=6, trials=50, seed=kwargs.pop("seed", 0), **kwargs)
    return sim.ladder.benchmark_ladder("sim", sim.ladder_models), sim


def inside(result, truth, level="95"):
    low, high = result.interval[level]
    return low <= truth <= high


def test_flat_ladder_is_pre_emergence_and_forecasts_last():
    bench, sim = ladder_and_truth(emergence=(9.0, 10.0), flat_share=0.0)
    assert regime(bench).name == PRE_EMERGENCE
    result = Auto(candidates=FAST).fit(bench).forecast(sim.target_compute)
    assert result.value == pytest.approx(bench.scores[-1])
    assert "no reliable trend" in result.details["verdict"] and not result.details["reliable"]
    assert "nothing on a flat ladder bounds a jump at the target" in result.details["verdict"]
    assert inside(result, sim.truth)


def test_emerging_ladder_validates_a_trend():
    bench, sim = ladder_and_truth(emergence=(3.0, 5.5), sharpness=(0.4, 0.8), flat_share=0.0, ceiling_gap=0.05)
    found = regime(bench)
    assert found.reliable
    result = Auto(candidates=FAST).fit(bench).forecast(sim.target_compute)
    assert result.details["reliable"], result.details["verdict"]
    assert result.value > bench.scores[-1]  # the trend moves the forecast up from the last score
    assert inside(result, sim.truth)


def test_saturating_ladder():
    bench, sim = ladder_and_truth(emergence=(0.0, 1.5), flat_share=0.0, ceiling_gap=0.05)
    assert regime(bench).name == SATURATING
    result = Auto(candidates=FAST).fit(bench).forecast(sim.target_compute)
    assert inside(result, sim.truth)
    assert abs(result.value - sim.truth) < 0.03


def test_non_monotone_ladder_is_validated_but_never_called_reliable():
    bench, sim = ladder_and_truth(emergence=(2.0, 5.0), flat_share=0.0)
    rates = bench.pass_rates.copy()
    rates[:, -1] = rates[:, -3]  # a bad final checkpoint: the largest model scores like a much smaller one
    broken = bench.resample(rates)
    assert regime(broken).name == NON_MONOTONE
    result = Auto(candidates=FAST).fit(broken).forecast(sim.target_compute)
    # the trends overshoot the broken largest model on the hold-out, so "last" keeps most of the weight
    assert result.details["weights"]["last"] >= 0.5
    assert "no reliable trend" in result.details["verdict"]
    assert result.details["reliable"] is False
    assert inside(result, broken.scores[-2], "80")


def test_two_models_give_a_damped_trend():
    rates = np.array([[0.2, 0.4]] * 20)
    bench = BenchmarkLadder(
        benchmark="b",
        models=("s", "m"),
        compute=np.array([1e20, 1e21]),
        pass_rates=rates,
        trials=np.full_like(rates, 100.0),
        items=np.arange(20),
    )
    assert regime(bench).name == TOO_FEW
    result = Auto(candidates=FAST).fit(bench).forecast(1e22)
    # last + 0.5 x slope x gap, with one decade of gap and 0.2 per decade of slope
    assert result.value == pytest.approx(0.4 + 0.5 * 0.2)
    assert result.details["chosen_method"] == "damped trend"


def test_weights_exclude_methods_that_lose_to_last_on_the_ladder():
    bench, sim = ladder_and_truth(emergence=(2.0, 5.0), flat_share=0.0, seed=4)
    result = Auto(candidates=FAST).fit(bench).forecast(sim.target_compute)
    errors, weights = result.details["holdout_errors"], result.details["weights"]
    assert "last" in weights and sum(weights.values()) == pytest.approx(1.0)
    for name in weights:
        assert errors[name] <= errors["last"] or name == "last"
    low, high = result.interval["80"]
    assert low <= result.value <= high


def test_threaded_fits_give_the_serial_forecast(monkeypatch):
    # from THREADED_MIN_ITEMS items on, the candidates' fits run on threads; the answer must not depend on it
    import benchcast.diagnostics as diagnostics

    sim = simulate_ladder(n_items=diagnostics.THREADED_MIN_ITEMS, n_models=6, trials=50, seed=2)
    bench = sim.ladder.benchmark_ladder("sim", sim.ladder_models)
    candidates = ("cod", *FAST)
    threaded = Auto(candidates=candidates).fit(bench).forecast(sim.target_compute)
    monkeypatch.setattr(diagnostics, "THREADED_MIN_ITEMS", bench.n_items + 1)
    serial = Auto(candidates=candidates).fit(bench).forecast(sim.target_compute)
    assert "cod" in threaded.details["holdout_errors"]
    assert threaded.value == pytest.approx(serial.value, rel=0, abs=1e-12)
    for name, error in serial.details["holdout_errors"].items():
        assert threaded.details["holdout_errors"][name] == pytest.approx(error, rel=0, abs=1e-12)
    for level, (low, high) in serial.interval.items():
        assert threaded.interval[level] == pytest.approx((low, high), rel=0, abs=1e-12)


def test_one_model_gives_its_score_with_an_interval_open_above():
    rates = np.array([[0.3]] * 20 + [[0.4]] * 20)
    bench = BenchmarkLadder(
        benchmark="b",
        models=("s",),
        compute=np.array([1e21]),
        pass_rates=rates,
        trials=np.full_like(rates, 100.0),
        items=np.arange(40),
    )
    result = Auto(candidates=FAST).fit(bench).forecast(1e22)
    assert result.value == pytest.approx(0.35)
    for low, high in result.interval.values():
        assert high == 1.0 and 0.3 < low < 0.35
    assert not result.details["reliable"] and "no trend" in result.details["verdict"]


def test_interval_half_width_is_the_sum_of_its_reported_parts():
    """``details["spread_parts"]`` says what the interval is made of: the weighted hold-out error scaled by the
    distance to the target, the spread between the candidates and the score noise, added in quadrature."""
    bench, sim = ladder_and_truth(emergence=(3.0, 5.5), sharpness=(0.4, 0.8), flat_share=0.0, ceiling_gap=0.05)
    result = Auto(candidates=FAST).fit(bench).forecast(sim.target_compute)
    parts = result.details["spread_parts"]
    assert 1.0 <= parts["distance_ratio"] <= 4.0 and parts["holdout_error"] > 0
    spread = np.hypot(parts["holdout_error"] * parts["distance_ratio"], parts["between_candidates"])
    spread = float(np.hypot(spread, parts["noise"]))
    low, _ = result.interval["80"]
    assert low > 0  # not clipped at 0, so the lower half-width is the spread's
    assert result.value - low == pytest.approx(1.2816 * spread)
