"""Baselines: each recovers data planted from its own law, declines with a reason when inputs are missing, and
Gadre et al. reproduces the published RedPajama 17-task forecasts from the bundled data."""

from __future__ import annotations

import numpy as np
import pytest

from benchcast.baselines.bnsl import bnsl
from benchcast.baselines.gadre import gadre_error, gadre_loss
from benchcast.baselines.sigmoid import log_sigmoid_law
from benchcast.baselines.two_stage import loss_sigmoid
from benchcast.data.ladder import BenchmarkLadder
from benchcast.datasets import load_dataset
from benchcast.forecast import forecast
from benchcast.laws import cod_law
from benchcast.methods import get_method, method_names

BASELINES = ("e2e-exp", "passrate", "powerlaw", "sigmoid", "bnsl", "two-stage", "gadre")
COMPUTE = np.logspace(19, 22, 8)
TARGET = 1e24


def aggregate_ladder(compute: np.ndarray, scores: np.ndarray, **fields) -> BenchmarkLadder:
    """A one-item ladder (aggregate scores), models in ascending compute."""
    n = len(compute)
    return BenchmarkLadder(
        benchmark="bench",
        models=tuple(f"m{i}" for i in range(n)),
        compute=np.asarray(compute, dtype=float),
        pass_rates=np.asarray(scores, dtype=float)[None, :],
        trials=np.full((1, n), np.nan),
        items=np.array(["all"]),
        **fields,
    )


# ----------------------------------------------------------------------------------------- registration
def test_every_baseline_is_registered_and_takes_target_size_keywords():
    assert set(BASELINES) | {"last"} <= set(method_names())
    ladder = aggregate_ladder(COMPUTE, cod_law(COMPUTE / 1e18, 20.0, 0.4, 0.1, 0.25))
    for name in ("e2e-exp", "passrate", "powerlaw", "sigmoid"):
        answer = get_method(name).fit(ladder).forecast(TARGET, params=1e9, tokens=1e11)
        assert answer.declined is None and 0.0 <= answer.value <= 1.0


# ----------------------------------------------------------------------------------------- planted truth
@pytest.mark.parametrize("floor", ["fit", 0.25, "chance"])
def test_e2e_exp_recovers_planted_law(floor):
    truth = {"a": 20.0, "b": 0.4, "c": 0.1, "g": 0.25}
    ladder = aggregate_ladder(COMPUTE, cod_law(COMPUTE / 1e18, **truth), chance=0.25)
    method = get_method("e2e-exp", floor=floor).fit(ladder)
    for name, value in truth.items():
        assert method.fit_.params[name] == pytest.approx(value, rel=1e-3)
    expected = float(cod_law(np.array([TARGET / 1e18]), **truth)[0])
    assert method.forecast(TARGET).value == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("chance", [None, 0.25])
def test_powerlaw_recovers_planted_law_with_and_without_chance_normalisation(chance):
    q = chance or 0.0
    scores = q + (1 - q) * np.exp(-3.0 * (COMPUTE / 1e18) ** -0.2)
    method = get_method("powerlaw", normalise=chance).fit(aggregate_ladder(COMPUTE, scores))
    assert method.fit_.amplitude == pytest.approx(3.0, rel=1e-6)
    assert method.fit_.exponent == pytest.approx(0.2, rel=1e-6)
    expected = q + (1 - q) * np.exp(-3.0 * (TARGET / 1e18) ** -0.2)
    assert method.forecast(TARGET).value == pytest.approx(expected, abs=1e-6)


def test_powerlaw_interval_brackets_the_forecast_on_noisy_data():
    rng = np.random.default_rng(7)
    log_neg_log = np.log(3.0) - 0.2 * np.log(COMPUTE / 1e18) + rng.normal(0, 0.05, COMPUTE.size)
    answer = get_method("powerlaw").fit(aggregate_ladder(COMPUTE, np.exp(-np.exp(log_neg_log)))).forecast(TARGET)
    lo95, hi95 = answer.interval["95"]
    lo80, hi80 = answer.interval["80"]
    assert lo95 <= lo80 <= answer.value <= hi80 <= hi95
    assert lo95 <= np.exp(-3.0 * (TARGET / 1e18) ** -0.2) <= hi95


def test_powerlaw_leaves_models_at_chance_out_with_a_warning():
    scores = 0.25 + 0.75 * np.exp(-3.0 * (COMPUTE / 1e18) ** -0.2)
    scores[0] = 0.2
    answer = get_method("powerlaw", normalise=0.25).fit(aggregate_ladder(COMPUTE, scores)).forecast(TARGET)
    assert answer.value == pytest.approx(0.25 + 0.75 * np.exp(-3.0 * (TARGET / 1e18) ** -0.2), abs=1e-6)
    assert any("m0" in warning for warning in answer.warnings)


def test_passrate_recovers_planted_mean_law():
    scores = np.exp(-2.0 * (COMPUTE / 1e18) ** -0.3)
    method = get_method("passrate").fit(aggregate_ladder(COMPUTE, scores))
    assert (method.mean_.fit_.amplitude, method.mean_.fit_.exponent) == pytest.approx((2.0, 0.3), rel=1e-6)
    assert method.forecast(TARGET).value == pytest.approx(np.exp(-2.0 * (TARGET / 1e18) ** -0.3), abs=1e-6)


def _item_ladder(seed: int, trials: int | None) -> tuple[BenchmarkLadder, float]:
    rng = np.random.default_rng(seed)
    n_items = 300
    amplitude, exponent = rng.uniform(0.5, 5.0, n_items), rng.uniform(0.1, 0.5, n_items)
    rates = np.exp(-amplitude[:, None] * (COMPUTE / 1e18)[None, :] ** -exponent[:, None])
    truth = float(np.exp(-amplitude * (TARGET / 1e18) ** -exponent).mean())
    counts = np.full(rates.shape, np.nan)
    if trials is not None:
        counts = np.full(rates.shape, float(trials))
        rates = rng.binomial(trials, rates) / trials
    ladder = BenchmarkLadder(
        "bench", tuple(f"m{i}" for i in range(COMPUTE.size)), COMPUTE, rates, counts, np.arange(n_items).astype(str)
    )
    return ladder, truth


def test_passrate_items_recovers_planted_per_item_laws():
    ladder, truth = _item_ladder(seed=0, trials=None)
    answer = get_method("passrate", aggregate="items").fit(ladder).forecast(TARGET)
    assert answer.value == pytest.approx(truth, abs=1e-9)
    assert len(answer.details["item_forecasts"]) == ladder.n_items
    assert not answer.warnings


def test_passrate_items_continuity_corrects_sampled_zeros_and_says_so():
    ladder, truth = _item_ladder(seed=1, trials=100)
    answer = get_method("passrate", aggregate="items").fit(ladder).forecast(TARGET)
    assert answer.value == pytest.approx(truth, abs=0.03)
    assert any("continuity-corrected" in warning for warning in answer.warnings)


def test_sigmoid_recovers_planted_law():
    scores = log_sigmoid_law(np.log10(COMPUTE), k=1.5, m=21.5, g=0.25, h=1.0)
    method = get_method("sigmoid").fit(aggregate_ladder(COMPUTE, scores))
    assert [method.fit_.params[p] for p in ("k", "m", "g")] == pytest.approx([1.5, 21.5, 0.25], rel=1e-4)
    expected = float(log_sigmoid_law(np.array([np.log10(TARGET)]), k=1.5, m=21.5, g=0.25, h=1.0)[0])
    assert method.forecast(TARGET).value == pytest.approx(expected, abs=1e-4)


def test_sigmoid_with_fitted_ceiling_recovers_it():
    scores = log_sigmoid_law(np.log10(COMPUTE), k=1.2, m=20.5, g=0.25, h=0.8)
    method = get_method("sigmoid", floor="chance", ceiling="fit").fit(aggregate_ladder(COMPUTE, scores, chance=0.25))
    assert method.fit_.params["h"] == pytest.approx(0.8, abs=1e-3)
    assert method.fit_.params["g"] == 0.25


def test_bnsl_recovers_a_planted_break():
    compute = np.logspace(18, 22, 9)
    truth = (0.1, 0.0, 0.05, 2.0, 0.4, 0.5)
    error = bnsl(np.log10(compute / 1e18), *truth)
    method = get_method("bnsl").fit(aggregate_ladder(compute, 1.0 - error))
    assert method.fit_.params["log10_d"] == pytest.approx(2.0, abs=0.05)
    expected = 1.0 - float(bnsl(np.log10(1e23 / 1e18), *truth))
    assert method.forecast(1e23).value == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("ideal_point, ceiling", [(None, 0.95), (1.0, 1.0)])
def test_two_stage_recovers_planted_loss_and_sigmoid(ideal_point, ceiling):
    loss = 2.0 * (COMPUTE / 1e18) ** -0.1 + 1.0
    scores = loss_sigmoid(loss, -0.7, 2.0, 4.0, ceiling)
    ladder = aggregate_ladder(COMPUTE, scores, metrics={"loss": loss})
    method = get_method("two-stage", ideal_point=ideal_point).fit(ladder)
    assert [method.step1_.params[p] for p in ("alpha", "E")] == pytest.approx([0.1, 1.0], rel=1e-4)
    answer = method.forecast(TARGET)
    target_loss = 2.0 * (TARGET / 1e18) ** -0.1 + 1.0
    assert answer.details["predicted_loss"] == pytest.approx(target_loss, rel=1e-5)
    assert answer.value == pytest.approx(
        float(loss_sigmoid(np.array([target_loss]), -0.7, 2.0, 4.0, ceiling)[0]), abs=1e-3
    )


def test_two_stage_in_params_and_tokens_prefers_task_bpb():
    params = np.logspace(8, 9.5, 8)
    tokens = params * np.array([20.0, 160.0] * 4)  # several tokens-per-parameter ratios separate N from D
    compute = 6 * params * tokens

    def task_bpb(n, d):
        return np.exp(6.0 - 0.3 * np.log(n)) + np.exp(7.0 - 0.3 * np.log(d)) + 0.5

    bpb = task_bpb(params, tokens)
    ladder = aggregate_ladder(
        compute,
        loss_sigmoid(bpb, -0.8, 1.8, 3.0, 0.9),
        params=params,
        tokens=tokens,
        metrics={"bpb": bpb, "loss": bpb + 1.0},
    )
    order = np.argsort(compute)
    method = get_method("two-stage", step1="nd", ideal_point=None).fit(ladder.subset(order))
    assert method.metric_ == "bpb"
    n, d = 7e9, 2e12
    answer = method.forecast(6 * n * d, params=n)  # tokens follow from C = 6·N·D
    assert answer.details["predicted_loss"] == pytest.approx(float(task_bpb(n, d)), rel=1e-3)
    assert answer.value == pytest.approx(
        float(loss_sigmoid(np.array([task_bpb(n, d)]), -0.8, 1.8, 3.0, 0.9)[0]), abs=2e-3
    )


def test_gadre_recovers_planted_laws():
    loss_law, error_law = (166.2, 366.7, -0.273, 1.837), (2.21, 0.715, 0.857)
    params = np.array([1.06e7, 7.9e7, 1.54e8, 4.12e8, 1.06e7, 7.9e7, 1.44e9])
    multiplier = np.array([20.0, 20.0, 20.0, 20.0, 320.0, 80.0, 20.0])
    tokens = params * multiplier
    loss = gadre_loss(np.vstack([params, multiplier]), *loss_law)
    ladder = aggregate_ladder(
        6 * params * tokens, 1.0 - gadre_error(loss, *error_law), params=params, tokens=tokens, metrics={"loss": loss}
    )
    order = np.argsort(ladder.compute)
    method = get_method("gadre").fit(ladder.subset(order))
    assert method.loss_fit_.values == pytest.approx(loss_law, rel=1e-3)
    assert method.error_fit_.values == pytest.approx(error_law, rel=1e-3)
    n, d = 6.9e9, 6.9e9 * 20
    answer = method.forecast(6 * n * d, params=n, tokens=d)
    target_loss = float(gadre_loss(np.array([[n], [20.0]]), *loss_law)[0])
    assert answer.details["predicted_loss"] == pytest.approx(target_loss, rel=1e-5)
    assert answer.value == pytest.approx(1.0 - float(gadre_error(target_loss, *error_law)), abs=1e-5)


# ----------------------------------------------------------------------------------------- declining
@pytest.mark.parametrize("name", BASELINES)
def test_too_few_models_is_declined_with_a_reason(name):
    ladder = aggregate_ladder(COMPUTE[:1], [0.5], metrics={"loss": np.array([3.0])})
    method = get_method(name)
    reason = method.applicable(ladder)
    assert reason and "ladder models" in reason
    answer = method.fit(ladder).forecast(TARGET)
    assert answer.value is None and answer.declined == reason


@pytest.mark.parametrize("name", ["two-stage", "gadre"])
def test_methods_needing_a_loss_decline_without_one(name):
    ladder = aggregate_ladder(COMPUTE, np.linspace(0.3, 0.6, 8), params=COMPUTE / 1e12, tokens=np.full(8, 1e12 / 6))
    answer = get_method(name).fit(ladder).forecast(TARGET, params=1e10, tokens=1e12)
    assert answer.value is None and "loss" in answer.declined


def test_a_loss_missing_for_one_model_is_declined_not_replaced():
    loss = np.linspace(4.0, 2.5, 8)
    loss[3] = np.nan
    ladder = aggregate_ladder(COMPUTE, np.linspace(0.3, 0.6, 8), metrics={"bpb": loss, "loss": loss + 1})
    reason = get_method("two-stage").applicable(ladder)
    assert "'bpb'" in reason and "m3" in reason
    assert "not in the ladder" in get_method("two-stage", metric="nll").applicable(ladder)


def test_gadre_declines_without_sizes_or_target_size():
    loss = np.linspace(4.0, 2.5, 8)
    no_sizes = aggregate_ladder(COMPUTE, np.linspace(0.3, 0.6, 8), metrics={"loss": loss})
    assert "params and tokens" in get_method("gadre").applicable(no_sizes)
    params = np.logspace(7, 9, 8)
    sized = aggregate_ladder(
        6 * params * 20 * params,
        1.0 - gadre_error(loss, 2.2, 0.7, 0.86),
        params=params,
        tokens=20 * params,
        metrics={"loss": gadre_loss(np.vstack([params, np.full(8, 20.0)]), 166.2, 366.7, -0.273, 1.837)},
    )
    method = get_method("gadre").fit(sized)
    assert method.declined_ is None
    answer = method.forecast(1e23)
    assert answer.value is None and "target's params or tokens" in answer.declined
    assert "not on the ladder" in get_method("gadre", loss_models=["m0", "elsewhere"]).applicable(sized)
    assert "at least 5" in get_method("gadre", loss_models=["m0", "m1"]).applicable(sized)


def test_two_stage_nd_declines_without_target_size():
    params = np.logspace(8, 9.5, 8)
    loss = np.exp(6.0 - 0.3 * np.log(params)) + np.exp(7.0 - 0.3 * np.log(40 * params)) + 0.5
    ladder = aggregate_ladder(
        240 * params**2,
        loss_sigmoid(loss, -0.8, 1.8, 3.0, 0.9),
        params=params,
        tokens=40 * params,
        metrics={"loss": loss},
    )
    answer = get_method("two-stage", step1="nd").fit(ladder).forecast(1e23)
    assert answer.value is None and "params or tokens" in answer.declined


@pytest.mark.parametrize(
    "name, setting",
    [("e2e-exp", {"floor": "chance"}), ("powerlaw", {"normalise": "chance"}), ("sigmoid", {"floor": "chance"})],
)
def test_chance_settings_decline_when_the_benchmark_has_no_chance_level(name, setting):
    ladder = aggregate_ladder(COMPUTE, np.linspace(0.3, 0.6, 8))
    assert "no known chance level" in get_method(name, **setting).applicable(ladder)


def test_powerlaw_declines_when_every_model_is_at_chance():
    ladder = aggregate_ladder(COMPUTE, np.full(8, 0.25), chance=0.25)
    answer = get_method("powerlaw", normalise="chance").fit(ladder).forecast(TARGET)
    assert answer.value is None and "strictly between chance and 1" in answer.declined


def test_wrong_settings_raise_and_unfitted_forecast_raises():
    ladder = aggregate_ladder(COMPUTE, np.linspace(0.3, 0.6, 8))
    for name, setting in [
        ("e2e-exp", {"floor": "guess"}),
        ("passrate", {"aggregate": "median"}),
        ("two-stage", {"step1": "tokens"}),
        ("sigmoid", {"ceiling": 1.5}),
    ]:
        with pytest.raises(ValueError, match=next(iter(setting))):
            get_method(name, **setting).fit(ladder)
    with pytest.raises(RuntimeError, match="fit"):
        get_method("powerlaw").forecast(TARGET)


# ----------------------------------------------------------------------------------------- Gadre et al. reproduction
RPJ_LOSS_MODELS = [
    "rpj-d=96_l=8_h=4-1.0",
    "rpj-d=512_l=8_h=4-1.0",
    "rpj-d=576_l=24_h=8-1.0",
    "rpj-d=1024_l=24_h=8-1.0",
    "rpj-d=96_l=8_h=4-16.0",
]
RPJ_LADDER = [*RPJ_LOSS_MODELS, "rpj-open_lm_1b-1.0"]


@pytest.fixture(scope="module")
def gadre_data():
    return load_dataset("gadre-overtraining")


def test_gadre_dataset_is_bundled_with_cards_losses_and_averages(gadre_data):
    assert len(gadre_data.models) == 104
    assert {"avg_17_tasks", "avg_46_tasks", "arc_easy"} <= set(gadre_data.benchmarks)
    card = gadre_data.cards["rpj-open_lm_1b-32.0"]
    assert card.tokens / card.params == pytest.approx(640.0)
    assert card.compute == pytest.approx(7.96e21, rel=1e-3)
    assert card.metrics["loss"] == card.metrics["loss_c4_val"] == pytest.approx(2.5021, abs=1e-4)
    assert 1.0 - gadre_data.measured("rpj-open_lm_1b-32.0", "avg_17_tasks") == pytest.approx(0.4752, abs=1e-4)
    assert gadre_data.chance["avg_17_tasks"] == pytest.approx(3.25 / 17)


def test_gadre_reproduces_the_redpajama_17_task_forecasts(gadre_data):
    """baselines.md §2.5: 1.4B at M = 640 -> 0.4925 (truth 0.4752); 6.9B at M = 20 -> 0.4719 (truth 0.4716)."""
    bench = gadre_data.benchmark_ladder("avg_17_tasks", RPJ_LADDER)
    method = get_method("gadre", loss_models=RPJ_LOSS_MODELS).fit(bench)
    assert method.loss_fit_.values == pytest.approx((166.2, 366.7, -0.273, 1.837), rel=2e-3)
    assert method.error_fit_.values == pytest.approx((2.21, 0.715, 0.857), rel=2e-3)
    for target, loss, error in [("rpj-open_lm_1b-32.0", 2.5198, 0.4925), ("rpj-open_lm_7b-1.0", 2.4427, 0.4719)]:
        card = gadre_data.cards[target]
        answer = method.forecast(card.compute, params=card.params, tokens=card.tokens)
        assert answer.details["predicted_loss"] == pytest.approx(loss, abs=5e-4)
        assert 1.0 - answer.value == pytest.approx(error, abs=0.003)


def test_gadre_through_forecast_gets_the_target_size_from_its_card(gadre_data):
    result = forecast(
        gadre_data,
        target="rpj-open_lm_7b-1.0",
        method="gadre",
        benchmarks=["avg_17_tasks"],
        ladder_models=RPJ_LADDER,
        loss_models=RPJ_LOSS_MODELS,
    ).benchmarks["avg_17_tasks"]
    assert result.declined is None
    assert result.details["tokens_per_param"] == pytest.approx(20.0)
    assert 1.0 - result.forecast == pytest.approx(0.4719, abs=0.003)
    assert 1.0 - result.truth == pytest.approx(0.4716, abs=1e-4)


def test_gadre_loss_law_is_fitted_once_per_loss_data():
    from benchcast.baselines.gadre import fit_loss_law

    size = np.array([[1e8, 3e8, 1e9, 3e9, 1e8], [20.0, 20.0, 20.0, 20.0, 320.0]])
    loss = np.array([3.9, 3.5, 3.2, 3.0, 3.6])
    first = fit_loss_law(size, loss)
    assert fit_loss_law(size.copy(), loss.copy()) is first
    other = fit_loss_law(size, loss + 0.1)
    assert other is not first
    assert other.values != first.values
