"""The adaptive stopping rule on planted counts, its replay over stored samples, and the checkpoint forms of the
model cards that ``benchcast evaluate`` reads."""

from __future__ import annotations

import numpy as np
import pytest

from benchcast.data.cards import Checkpoint, load_model_cards
from benchcast.errors import InputError
from benchcast.evaluation.adaptive import (
    AdaptiveRule,
    bracketing_pass_rates,
    keep_sampling,
    replay,
    wilson_half_width,
)

RULE = AdaptiveRule(budget=100, round_size=10, min_trials=20, tolerance=0.125)


def test_a_cell_stops_when_its_neighbours_bracket_it_whatever_its_own_outcomes():
    # rows: checkpoints in ascending compute; 20 samples each
    trials = np.full((4, 4), 20)
    correct = np.array(
        [
            [0, 0, 20, 0],
            [9, 0, 20, 0],
            [0, 1, 20, 0],
            [0, 12, 20, 0],
        ]
    )
    keep = keep_sampling(trials, correct, RULE)
    # column 0: the second cell's own 9/20 does not keep it going: the cells on either side fail everything;
    # the first cell lies between 0 and that 9/20 (0.45), so it does keep sampling
    assert not keep[1, 0] and keep[0, 0] and keep[2, 0]
    # column 1: an item in its rise: the cell below the rise lies between 1/20 and 12/20, and the top cell
    # between 1/20 and anything above it; both keep sampling, the two lowest are settled
    assert keep[2, 1] and keep[3, 1] and not keep[:2, 1].any()
    # column 2: passed everywhere: settled except at the bottom, below which anything is possible
    assert keep[0, 2] and not keep[1:, 2].any()
    # column 3: failed everywhere: settled except at the top
    assert not keep[:3, 3].any() and keep[3, 3]
    # the cell's own outcomes never enter: flipping them decides the same
    flipped = correct.copy()
    flipped[1] = trials[1] - correct[1]
    np.testing.assert_array_equal(keep_sampling(trials, flipped, RULE)[1], keep[1])


def test_too_few_samples_never_stop_and_the_budget_stops_everything():
    assert keep_sampling(np.full((2, 1), 10), np.zeros((2, 1)), RULE).all()
    assert not keep_sampling(np.full((2, 1), 100), np.full((2, 1), 50), RULE).any()


def test_an_item_near_one_half_samples_longer_than_one_near_the_ends():
    rule = AdaptiveRule(budget=200, round_size=10, min_trials=10, tolerance=0.1)
    rng = np.random.default_rng(1)
    rates = np.array([0.03, 0.15, 0.5])
    outcomes = rng.random((3, 3, 200)) < rates[None, :, None]  # the same pass rate on all three checkpoints
    trials, _ = replay(outcomes, rule)
    assert trials[1, 0] < trials[1, 1] < trials[1, 2]


def test_the_least_favourable_pass_rate_is_the_point_of_the_bracket_nearest_one_half():
    trials = np.array([[10.0], [20.0], [40.0], [10.0]])
    correct = np.array([[1.0], [8.0], [36.0], [10.0]])  # 0.1, 0.4, 0.9, 1.0
    # brackets: [0, 0.4] -> 0.4; [0.1, 0.9] -> 0.5; [0.4, 1.0] -> 0.5; [0.9, 1] -> 0.9
    np.testing.assert_allclose(bracketing_pass_rates(trials, correct)[:, 0], [0.4, 0.5, 0.5, 0.9])
    assert bracketing_pass_rates(np.array([[5.0]]), np.array([[1.0]]))[0, 0] == 0.5  # one checkpoint: nothing known
    assert (bracketing_pass_rates(np.zeros((2, 1)), np.zeros((2, 1))) == 0.5).all()


def test_wilson_half_width_matches_the_formula_and_shrinks_with_samples():
    z = 1.96
    p, n = 0.3, 50
    expected = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_half_width(np.array([n]), np.array([p]))[0] == pytest.approx(expected)
    widths = wilson_half_width(np.array([10, 40, 160]), np.full(3, 0.5))
    assert np.all(np.diff(widths) < 0)
    assert np.isinf(wilson_half_width(np.array([0]), np.array([0.5]))[0])


def test_replay_is_unbiased_where_stopping_on_own_outcomes_is_not():
    rng = np.random.default_rng(2)
    truth = rng.beta(0.3, 3.0, size=(6, 4000))  # mostly near zero, as on a ladder's hard items
    outcomes = rng.random((6, 4000, 100)) < truth[..., None]
    trials, correct = replay(outcomes, RULE)
    assert trials.mean() < 50  # it saves samples
    bias = (correct / trials - outcomes.mean(axis=2)).mean()
    assert abs(bias) < 0.002


def test_replay_draws_rounds_in_order_and_never_more_than_the_budget():
    rng = np.random.default_rng(0)
    outcomes = rng.random((4, 50, 100)) < rng.random((4, 50, 1))
    trials, correct = replay(outcomes, RULE)
    assert set(np.unique(trials)) <= set(range(20, 101, 10))
    drawn_first = np.array([[outcomes[m, i, : int(trials[m, i])].sum() for i in range(50)] for m in range(4)])
    np.testing.assert_array_equal(correct, drawn_first)  # the first k samples in draw order, nothing else
    # a rule that never stops early replays the full budget
    never = AdaptiveRule(budget=100, round_size=25, min_trials=1000, tolerance=1e-6)
    full_trials, full_correct = replay(outcomes, never)
    assert (full_trials == 100).all()
    np.testing.assert_array_equal(full_correct, outcomes.sum(axis=2))


def test_the_rule_refuses_settings_that_cannot_work():
    with pytest.raises(ValueError):
        AdaptiveRule(budget=5, round_size=10)
    with pytest.raises(ValueError):
        AdaptiveRule(tolerance=0.0)
    assert AdaptiveRule(budget=25, round_size=10).rounds == 3
    assert AdaptiveRule(budget=25, round_size=10).round_trials(2) == 5


def test_cards_give_checkpoints_in_every_form(tmp_path):
    (tmp_path / "cards.yaml").write_text(
        """models:
  - {model: a, compute: 1e18, step: 5, path: ckpt/a}
  - {model: b, compute: 1e19, step: 7, path: "ckpt/b/step{step}"}
  - {model: c, compute: 1e20, step: 0, path: "/abs/c/step{step}", steps: [0, 10, 20]}
  - {model: d, compute: 1e21, checkpoints: [{step: 3, path: d3}, {path: d-final}]}
  - {model: e, compute: 1e22}
"""
    )
    cards = load_model_cards(tmp_path / "cards.yaml")
    assert cards["a"].checkpoints == (Checkpoint(5, str(tmp_path / "ckpt/a")),)
    assert cards["b"].checkpoints == (Checkpoint(7, str(tmp_path / "ckpt/b/step7")),)
    assert [c.path for c in cards["c"].checkpoints] == ["/abs/c/step0", "/abs/c/step10", "/abs/c/step20"]
    assert cards["d"].checkpoints == (Checkpoint(3, str(tmp_path / "d3")), Checkpoint(None, str(tmp_path / "d-final")))
    assert cards["e"].checkpoints == () and cards["e"].metrics == {}
    assert cards["c"].metrics == {}  # steps is not a model-level metric


def test_csv_cards_take_a_path_and_steps(tmp_path):
    (tmp_path / "cards.csv").write_text('model,compute,step,path,steps\nm,1e18,2,runs/m/step{step},"1;2"\nn,1e19,,,\n')
    cards = load_model_cards(tmp_path / "cards.csv")
    assert [c.step for c in cards["m"].checkpoints] == [1, 2] and cards["n"].checkpoints == ()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ("path: 'x/step{step}'", "needs 'steps' or 'step'"),
        ("path: x, steps: [1, 2]", "several steps need a {step} placeholder"),
        ("steps: [1, 2]", "'steps' needs a 'path'"),
        ("checkpoints: [{step: 1, path: x}], path: y", "either 'checkpoints' or 'path'"),
        ("checkpoints: [{step: 1}]", "expected a checkpoint path"),
        ("path: 'x{step}', steps: [1, 1]", "a step is listed twice"),
        ("path: 'x{step}', steps: [one]", "expected a number"),
    ],
)
def test_bad_checkpoint_fields_name_the_card(tmp_path, fields, words):
    (tmp_path / "cards.yaml").write_text(f"- {{model: a, compute: 1e18, {fields}}}\n")
    with pytest.raises(InputError, match=r"cards\.yaml:1") as error:
        load_model_cards(tmp_path / "cards.yaml")
    assert words in str(error.value)
