"""The fast mean shift against a plain reference built on scikit-learn's own MeanShift, and on planted truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.cluster import MeanShift

from benchcast.cod.meanshift import (
    _climb,
    _merge_positions,
    bin_seeds,
    improved_mean_shift,
    mean_shift,
    merge_duplicates,
    radius,
)
from benchcast.simulate import simulate_items

LADDER = np.geomspace(40e18, 1.4e23, 8)


def reference_improved_mean_shift(
    points: np.ndarray, bandwidth: float, min_cluster_size: int = 10, use_mode: bool = True, bin_seeding: bool = False
) -> np.ndarray:
    """Algorithm 1 of cod-method.md §3.1, written plainly: scikit-learn's MeanShift re-run on the pool."""
    labels = np.full(len(points), -1)
    n_clusters = 0
    while True:
        pool = np.flatnonzero(labels == -1)
        if pool.size == 0:
            break
        fitted = MeanShift(bandwidth=bandwidth, cluster_all=False, bin_seeding=bin_seeding).fit(points[pool])
        kept_any = False
        for cluster, mode in enumerate(fitted.cluster_centers_):
            members = pool[fitted.labels_ == cluster]
            if members.size == 0:
                continue
            centre = mode if use_mode else points[members].mean(axis=0)
            members = members[np.linalg.norm(points[members] - centre, axis=1) <= bandwidth]
            if members.size < min_cluster_size:
                continue
            labels[members] = n_clusters
            n_clusters += 1
            kept_any = True
        if not kept_any:
            break
    return labels


def planted(seed: int, n_noise: int = 40, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Three tight clusters and a few small loose groups, plus uniform noise, in [0, 1]^d."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.15, 0.85, (6, d))
    sizes = (80, 60, 40, 8, 6, 5)
    spreads = (0.02, 0.03, 0.02, 0.05, 0.05, 0.05)
    points = [c + rng.normal(0, s, (n, d)) for c, n, s in zip(centres, sizes, spreads, strict=True)]
    points.append(rng.uniform(0, 1, (n_noise, d)))
    truth = np.concatenate([np.repeat(np.arange(6), sizes), np.full(n_noise, -1)])
    return np.clip(np.vstack(points), 0, 1), truth


def pass_rates(n_items: int, seed: int, trials: int = 100) -> np.ndarray:
    """Pass-rate vectors of simulated items on an 8-model ladder, all-zero rows dropped (as COD does)."""
    rng = np.random.default_rng(seed)
    expected = simulate_items(n_items, rng=rng).pass_rates(LADDER)
    rates = rng.binomial(trials, expected) / trials
    return rates[rates.sum(axis=1) > 0]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal labels up to renaming the clusters (-1 must stay -1)."""
    if not np.array_equal(a == -1, b == -1):
        return False
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(np.unique(pairs[:, 0])) == len(pairs) == len(np.unique(pairs[:, 1]))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mean_shift_matches_scikit_learn(seed):
    points, _ = planted(seed)
    reference = MeanShift(bandwidth=0.12, cluster_all=False).fit(points)
    centres, labels = mean_shift(points, 0.12)
    np.testing.assert_array_equal(labels, reference.labels_)
    np.testing.assert_allclose(centres, reference.cluster_centers_, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_improved_mean_shift_matches_reference_on_planted_clusters(seed):
    points, _ = planted(seed)
    labels, _ = improved_mean_shift(points, 0.12)
    np.testing.assert_array_equal(labels, reference_improved_mean_shift(points, 0.12))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_improved_mean_shift_matches_reference_on_pass_rates(seed):
    points = pass_rates(300, seed)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    labels, _ = improved_mean_shift(points, bandwidth)
    np.testing.assert_array_equal(labels, reference_improved_mean_shift(points, bandwidth))


@pytest.mark.parametrize("seed", [0, 1])
def test_ties_in_intensity_and_coordinates_match_reference(seed):
    # late-emerging items are exactly 0 on the small models: modes of equal intensity share exact coordinates,
    # and scikit-learn breaks such ties on the next coordinate (seed 0 has such a tie)
    rng = np.random.default_rng(seed)
    expected = simulate_items(500, rng=rng, emergence=(2.5, 5.0)).pass_rates(LADDER)
    points = rng.binomial(100, expected) / 100
    points = points[points.sum(axis=1) > 0]
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    labels, _ = improved_mean_shift(points, bandwidth)
    np.testing.assert_array_equal(labels, reference_improved_mean_shift(points, bandwidth))


def test_member_mean_centre_matches_reference():
    points, _ = planted(4)
    labels, _ = improved_mean_shift(points, 0.12, use_mode=False)
    np.testing.assert_array_equal(labels, reference_improved_mean_shift(points, 0.12, use_mode=False))


def test_duplicates_and_lattice_ties_match_reference():
    # few trials put items on a coarse lattice: many duplicates and many pairs exactly the bandwidth apart
    points = pass_rates(400, 5, trials=4)[:, :4]
    assert len(merge_duplicates(points)[0]) < len(points) / 2
    labels, _ = improved_mean_shift(points, 0.5)
    np.testing.assert_array_equal(labels, reference_improved_mean_shift(points, 0.5))


@pytest.mark.slow
def test_same_clusters_as_reference_on_thousands_of_items():
    points = pass_rates(2000, 7)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    labels, _ = improved_mean_shift(points, bandwidth)
    assert same_partition(labels, reference_improved_mean_shift(points, bandwidth))


@pytest.mark.parametrize("n_items", [500, 4000])
def test_bin_seeding_matches_scikit_learn(n_items):
    points = pass_rates(n_items, 11)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    reference = MeanShift(bandwidth=bandwidth, cluster_all=False, bin_seeding=True).fit(points)
    _, labels = mean_shift(points, bandwidth, seeding="bins")
    np.testing.assert_array_equal(labels, reference.labels_)
    improved, _ = improved_mean_shift(points, bandwidth, seeding="bins")
    assert same_partition(improved, reference_improved_mean_shift(points, bandwidth, bin_seeding=True))


def test_auto_seeding_switches_to_bins_above_max_seeds():
    points = pass_rates(600, 12)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    np.testing.assert_array_equal(
        mean_shift(points, bandwidth, max_seeds=100)[1], mean_shift(points, bandwidth, seeding="bins")[1]
    )
    np.testing.assert_array_equal(
        mean_shift(points, bandwidth, max_seeds=10_000)[1], mean_shift(points, bandwidth, seeding="points")[1]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_clusters(seed):
    points, truth = planted(seed)
    labels, centres = improved_mean_shift(points, 0.12)
    # the three large, tight clusters come back whole, each as its own cluster
    found = [np.unique(labels[truth == cluster]) for cluster in range(3)]
    assert all(len(f) == 1 and f[0] >= 0 for f in found)
    assert len({int(f[0]) for f in found}) == 3
    # groups smaller than K never form a cluster of their own
    assert np.bincount(labels[labels >= 0]).min() >= 10
    assert len(centres) == labels.max() + 1


def test_weights_count_as_repeated_points():
    points, _ = planted(6)
    repeats = np.random.default_rng(6).integers(1, 4, len(points))
    expanded = np.repeat(points, repeats, axis=0)
    centres, labels = mean_shift(points, 0.12, weights=repeats.astype(float))
    expanded_centres, expanded_labels = mean_shift(expanded, 0.12)
    np.testing.assert_allclose(centres, expanded_centres, atol=1e-12)
    np.testing.assert_array_equal(np.repeat(labels, repeats), expanded_labels)


def test_edge_cases():
    assert mean_shift(np.empty((0, 3)), 0.1)[1].shape == (0,)
    labels, centres = improved_mean_shift(np.empty((0, 3)), 0.1)
    assert labels.shape == (0,) and centres.shape == (0, 3)
    same = np.full((12, 3), 0.4)
    labels, centres = improved_mean_shift(same, 0.1)
    assert (labels == 0).all() and np.allclose(centres, 0.4)
    labels, _ = improved_mean_shift(same[:5], 0.1)
    assert (labels == -1).all()
    with pytest.raises(ValueError, match="seeding"):
        mean_shift(same, 0.1, seeding="grid")
    centres, labels = mean_shift(same, 0.1, seeds=np.empty((0, 3)))
    assert centres.shape == (0, 3) and (labels == -1).all()


def plain_climb(points: np.ndarray, seed: np.ndarray, bandwidth: float, max_iter: int) -> tuple[np.ndarray, int]:
    """scikit-learn's ``_mean_shift_single_seed``, on a brute-force neighbour search."""
    for step in range(max_iter + 1):
        inside = ((points - seed) ** 2).sum(axis=1) <= bandwidth**2
        if not inside.any():
            return seed, 0
        seed, old = points[inside].mean(axis=0), seed
        if np.linalg.norm(seed - old) <= 1e-3 * bandwidth or step == max_iter:
            return seed, int(inside.sum())
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("max_iter", "n_threads"), [(3, 1), (300, 1), (300, 2)])
def test_compiled_climb_follows_each_seed_as_scikit_learn_does(max_iter, n_threads):
    # bin seeds drift for many steps, through fast steps, anchors, bands and shared paths; max_iter=3 stops most
    # of them early, where a shared path may not be taken
    points = pass_rates(3000, 13)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    seeds = np.vstack([bin_seeds(points, bandwidth), points[:200], points[:50]])
    modes, intensity = _climb(points, np.ones(len(points)), seeds, bandwidth, max_iter, n_threads)
    distinct, _ = _merge_positions(seeds)  # the order _climb reports them in
    assert len(modes) == len(distinct) == len(np.unique(seeds, axis=0))
    for mode, weight, seed in zip(modes, intensity, distinct, strict=True):
        expected, count = plain_climb(points, seed, bandwidth, max_iter)
        assert weight == count
        np.testing.assert_allclose(mode, expected, atol=1e-12)


@pytest.mark.parametrize("seeding", ["points", "bins"])
def test_result_does_not_depend_on_the_number_of_threads(seeding):
    # seeds climb in fixed blocks, each with its own anchors and paths, whatever the threads that share them
    points = pass_rates(4000, 21)
    bandwidth = radius(points, cap=math.sqrt(8) / 10)
    runs = [improved_mean_shift(points, bandwidth, seeding=seeding, n_threads=n) for n in (1, 2, 5)]
    for labels, centres in runs[1:]:
        np.testing.assert_array_equal(labels, runs[0][0])
        np.testing.assert_array_equal(centres, runs[0][1])
    assert runs[0][0].max() >= 2


def test_bin_seeds_are_occupied_cell_centres():
    points = np.array([[0.0, 0.1], [0.05, 0.0], [0.9, 0.9], [0.2, 0.2]])
    np.testing.assert_allclose(bin_seeds(points, 0.25), [[0.0, 0.0], [0.25, 0.25], [1.0, 1.0]], atol=1e-7)
