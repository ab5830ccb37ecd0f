"""Mean-shift clustering, vectorised, and COD's iterative "improved MeanShift" (Algorithm 1).

``mean_shift`` reproduces scikit-learn's ``MeanShift(bandwidth=R, cluster_all=False)``: flat kernel, a seed at
every point, a seed stops when it moves at most 1e-3·R, modes are merged greedily by intensity and every point
takes the nearest mode within R. It gives the same labels, but fast:

* identical points are merged into one weighted point;
* all seeds move at once, and seeds that reach the same position (to 1e-12) are followed as one;
* neighbours come from a block index: points sorted into compact blocks (the leaves of a k-d tree) with
  bounding boxes; each group of nearby seeds is compared, as dense matrix products, only with the blocks its
  box can reach. Distances from the products are rechecked exactly where they lie within 1e-12 of R, so
  membership is decided as scikit-learn's tree decides it; modes are ordered on a 2^-32 grid, so that ties in
  intensity and coordinates fall as scikit-learn's bit-equal ties do;
* BLAS runs on one thread: the products are small and many, and threads only add waiting.

Seeding at every point costs about the square of the number of points. Above ``max_seeds`` (20,000) distinct
points, ``seeding="auto"`` switches to scikit-learn's bin seeding (``bin_seeding=True``: a seed at the centre
of every occupied grid cell of side R), again with scikit-learn's labels for that setting. Bin seeding is not
the same clustering as seeding at every point (adjusted Rand index about 0.99 on simulated ladders, within
what dropping 1% of the items does to the every-point clustering), which is why it is kept for inputs where
every-point seeding is out of reach. ``sample_size`` goes further for millions of items: modes found on a
random sample, every point labelled; see docs/performance.md for what each choice costs and changes.

``improved_mean_shift`` runs mean shift on the unclustered points again and again: points farther than R from
their mode and clusters smaller than K go back to the pool, and the loop stops when a round keeps no new
cluster. What is still unclustered then is an outlier (label -1).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import estimate_bandwidth
from sklearn.neighbors import KDTree
from threadpoolctl import threadpool_limits

# distances from the expanded matrix product carry rounding of about 1e-15 on [0, 1]^d; closer than this to
# the radius, a pair is measured again the way scikit-learn's tree measures it
_RECHECK = 1e-12
# positions closer than this step are one trajectory (the same neighbours give the same mean up to rounding)
_MERGE_STEP = 2.0**-40
# coordinates closer than this step are equal when modes are ordered
_ORDER_STEP = 2.0**-32
# pairs (seeds x candidate points) per dense product: small enough to stay in cache, large enough to amortise
# the call
_PAIRS_PER_PRODUCT = 65_536
# seeds per group: a group's box decides which blocks it is compared with; larger groups make better products
_GROUP = 256
# odd 64-bit multipliers for hashing merged positions (integer products wrap around)
_HASH = np.random.default_rng(20260226).integers(1, 2**62, size=64, dtype=np.int64) | 1


def merge_duplicates(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows, their multiplicities, and the index mapping each original row to its unique row.

    Examples
    --------
    >>> unique, counts, inverse = merge_duplicates(np.array([[0.5, 1.0], [0.0, 0.0], [0.5, 1.0]]))
    >>> unique.tolist(), counts.tolist(), inverse.tolist()
    ([[0.0, 0.0], [0.5, 1.0]], [1.0, 2.0], [1, 0, 1])
    """
    points = np.asarray(points, dtype=float)
    unique, inverse, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    return unique, counts.astype(float), inverse.reshape(-1)


def _exact_sqdist(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Row-wise squared distances summed dimension by dimension, as scikit-learn's trees sum them."""
    total = np.zeros(len(queries))
    for dim in range(queries.shape[1]):
        diff = queries[:, dim] - points[:, dim]
        total += diff * diff
    return total


def _merge_positions(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positions (to ``_MERGE_STEP``) and, for each row, the index of its distinct position."""
    keys = np.round(positions / _MERGE_STEP).astype(np.int64)
    # one 64-bit hash per row sorts far faster than rows; a collision is caught and falls back to rows
    hashes = keys @ _HASH[: keys.shape[1]] if keys.shape[1] <= len(_HASH) else None
    if hashes is not None:
        _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        if np.array_equal(keys[first][inverse], keys):
            return positions[first], inverse.reshape(-1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return positions[first], inverse.reshape(-1)


def _kd_order(points: np.ndarray, leaf_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A k-d tree's point order and its leaves: (order, leaf starts, leaf ends, leaf boxes as (2, n, d))."""
    tree = KDTree(points, leaf_size=max(1, leaf_size))
    _, order, nodes, bounds = tree.get_arrays()
    leaves = np.flatnonzero(nodes["is_leaf"])
    return np.asarray(order), nodes["idx_start"][leaves], nodes["idx_end"][leaves], np.asarray(bounds)[:, leaves]


class _BallIndex:
    """Weighted points in k-d-tree blocks, answering "weighted sum and weight of the points within R"."""

    def __init__(self, points: np.ndarray, weights: np.ndarray, bandwidth: float, leaf_size: int = 128) -> None:
        order, self.starts, self.ends, self.boxes = _kd_order(points, leaf_size)
        self.points = points[order]
        self.bandwidth = float(bandwidth)
        self.r2 = self.bandwidth * self.bandwidth
        weights = weights[order]
        # one product gives [sum of w*x, sum of w]; another gives |q - x|^2 - R^2 directly
        self.weighted = np.hstack([self.points * weights[:, None], weights[:, None]])
        self.expanded = np.hstack(
            [-2.0 * self.points, np.ones((len(points), 1)), (np.einsum("ij,ij->i", self.points, self.points))[:, None]]
        )
        self.expanded[:, -1] -= self.r2

    def reachable(self, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Runs of consecutive points (starts, ends in block order) in the blocks within R of [low, high]."""
        gap = np.maximum(0.0, np.maximum(self.boxes[0] - high, low - self.boxes[1]))
        near = np.einsum("ij,ij->i", gap, gap) <= self.r2 * (1 + 1e-9)
        starts, ends = self.starts[near], self.ends[near]
        # blocks are consecutive ranges of the sorted points: neighbouring reachable blocks form one run
        joined = np.flatnonzero(starts[1:] != ends[:-1]) + 1
        return starts[np.r_[0, joined]], ends[np.r_[joined - 1, len(ends) - 1]] if len(ends) else ends

    def sums(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted coordinate sums (queries x d) and total weights of the points within R of each query."""
        d = queries.shape[1]
        out = np.zeros((len(queries), d + 1))
        if len(queries) <= _GROUP:
            groups = [np.arange(len(queries))]
        else:
            order, starts, ends, _ = _kd_order(queries, _GROUP // 2)
            groups = [order[s:e] for s, e in zip(starts, ends, strict=True)]
        for group in groups:
            local = queries[group]
            expanded = np.hstack([local, np.einsum("ij,ij->i", local, local)[:, None], np.ones((len(local), 1))])
            total = np.zeros((len(group), d + 1))
            step = max(1, _PAIRS_PER_PRODUCT // len(group))
            for run_start, run_end in zip(*self.reachable(local.min(axis=0), local.max(axis=0)), strict=True):
                for first in range(run_start, run_end, step):
                    total += self._dense_sums(local, expanded, first, min(first + step, run_end))
            out[group] = total
        return out[:, :d], out[:, d]

    def _dense_sums(self, queries: np.ndarray, expanded: np.ndarray, first: int, last: int) -> np.ndarray:
        margin = expanded @ self.expanded[first:last].T  # |q - x|^2 - R^2, up to rounding
        inside = margin < -_RECHECK
        maybe = margin <= _RECHECK
        if np.count_nonzero(maybe) != np.count_nonzero(inside):
            rows, cols = np.nonzero(maybe & ~inside)
            inside[rows, cols] = _exact_sqdist(queries[rows], self.points[first + cols]) <= self.r2
        return inside.astype(float) @ self.weighted[first:last]


def _greedy_modes(modes: np.ndarray, bandwidth: float) -> np.ndarray:
    """Mask of the modes kept by scikit-learn's greedy merge; ``modes`` must be sorted strongest first.

    A mode is dropped when a kept, stronger mode lies within the bandwidth. Decided in rounds rather than one
    mode at a time: a mode is kept once all its stronger neighbours are dropped.
    """
    neighbours = KDTree(modes).query_radius(modes, r=bandwidth)
    lengths = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=len(neighbours))
    weaker = np.repeat(np.arange(len(modes)), lengths)
    stronger = np.concatenate(neighbours) if len(neighbours) else np.empty(0, dtype=np.int64)
    edge = stronger < weaker
    weaker, stronger = weaker[edge], stronger[edge]
    state = np.zeros(len(modes), dtype=np.int8)  # 0 undecided, 1 kept, -1 dropped
    while (state == 0).any():
        beaten = np.bincount(weaker, weights=state[stronger] == 1, minlength=len(modes)) > 0
        waiting = np.bincount(weaker, weights=state[stronger] == 0, minlength=len(modes)) > 0
        undecided = state == 0
        state[undecided & beaten] = -1
        state[undecided & ~beaten & ~waiting] = 1
    return state == 1


def _nearest(points: np.ndarray, centres: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre for each point and the distance to it (ties measured exactly)."""
    nearest = np.empty(len(points), dtype=np.int64)
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    for first in range(0, len(points), chunk):
        block = points[first : first + chunk]
        approx = centre_norms[None, :] - 2.0 * block @ centres.T
        if len(centres) > 1:
            two = np.partition(approx, 1, axis=1)[:, :2]
            close = np.flatnonzero(two[:, 1] - two[:, 0] <= _RECHECK)
        else:
            close = np.empty(0, dtype=np.int64)
        best = np.argmin(approx, axis=1)
        if close.size:
            exact = np.stack([_exact_sqdist(block[close], np.broadcast_to(c, block[close].shape)) for c in centres])
            best[close] = np.argmin(exact, axis=0)
        nearest[first : first + chunk] = best
    distance = np.sqrt(_exact_sqdist(points, centres[nearest]))
    return nearest, distance


def _climb(index: _BallIndex, seeds: np.ndarray, bandwidth: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Move every distinct seed to its mode; returns the modes and their intensity (weight within R)."""
    positions, _ = _merge_positions(seeds)
    intensity = np.zeros(len(positions))
    active = np.ones(len(positions), dtype=bool)
    stop = 1e-3 * bandwidth
    for _ in range(max_iter + 1):
        moving = np.flatnonzero(active)
        if moving.size == 0:
            break
        distinct, back = _merge_positions(positions[moving])
        sums, totals = index.sums(distinct)
        empty = totals == 0
        new = np.where(empty[:, None], distinct, sums / np.where(empty, 1.0, totals)[:, None])
        moved = np.linalg.norm(new - distinct, axis=1)
        intensity[moving] = totals[back]
        positions[moving] = new[back]
        active[moving[(empty | (moved <= stop))[back]]] = False
    return positions, intensity


def bin_seeds(points: np.ndarray, bin_size: float) -> np.ndarray:
    """scikit-learn's bin seeding (``get_bin_seeds`` with ``min_bin_freq=1``): the centre of every grid cell
    of side ``bin_size`` that holds a point.

    Examples
    --------
    >>> bin_seeds(np.array([[0.0, 0.1], [0.05, 0.0], [0.9, 0.9]]), 0.5).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    cells = np.unique(np.round(np.asarray(points, dtype=float) / bin_size), axis=0)
    # scikit-learn keeps the cells in float32 and scales them there; the seeds match it to the bit
    return (cells.astype(np.float32) * np.float32(bin_size)).astype(float)


def mean_shift(
    points: np.ndarray,
    bandwidth: float,
    *,
    weights: np.ndarray | None = None,
    seeds: np.ndarray | None = None,
    max_iter: int = 300,
    seeding: str = "auto",
    max_seeds: int = 20_000,
    sample_size: int | None = None,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat-kernel mean shift; returns (cluster centres, labels) with -1 for points farther than ``bandwidth``
    from every centre (``cluster_all=False``).

    Parameters
    ----------
    points : array of shape (n, d)
    bandwidth : float
        Kernel radius R.
    weights : array of shape (n,), optional
        Multiplicity of each point: a point of weight k counts as k identical points.
    seeds : array of shape (m, d), optional
        Starting positions; overrides ``seeding``.
    max_iter : int
        Steps per seed, as scikit-learn counts them.
    seeding : {"auto", "points", "bins"}
        ``"points"`` seeds at every distinct point (scikit-learn's default); ``"bins"`` at the centre of every
        occupied grid cell of side ``bandwidth`` (scikit-learn's ``bin_seeding=True``); ``"auto"`` is
        ``"points"`` up to ``max_seeds`` distinct points and ``"bins"`` above.
    sample_size : int, optional
        Above this many distinct points, find the modes on a random sample of that many (drawn with
        ``random_state``; seeds from the sample too) and label every point by them. Off by default: it trades
        agreement with scikit-learn for time on inputs too large for it (see docs/performance.md).

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0], [0.99, 1.0]])
    >>> centres, labels = mean_shift(pts, 0.1)
    >>> labels.tolist()
    [1, 1, 0, 0]
    """
    if seeding not in {"auto", "points", "bins"}:
        raise ValueError(f"seeding must be 'auto', 'points' or 'bins', got {seeding!r}")
    points = np.asarray(points, dtype=float)
    if len(points) == 0:
        return np.empty((0, points.shape[1] if points.ndim == 2 else 0)), np.empty(0, dtype=int)
    weights = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=float)
    everything = points
    if sample_size is not None and len(points) > sample_size:
        chosen = np.sort(np.random.default_rng(random_state).choice(len(points), size=sample_size, replace=False))
        points, weights = points[chosen], weights[chosen]
    if seeds is None:
        seeds = points
        if seeding == "bins" or (seeding == "auto" and len(points) > max_seeds):
            cells = bin_seeds(points, bandwidth)
            # as in scikit-learn, binning that leaves one seed per point falls back to the points
            if len(cells) != round(weights.sum()):
                seeds = cells
    with threadpool_limits(1, user_api="blas"):
        index = _BallIndex(points, weights, bandwidth)
        modes, intensity = _climb(index, np.asarray(seeds, dtype=float), bandwidth, max_iter)
        return _centres_and_labels(everything, modes, intensity, bandwidth)


def _centres_and_labels(
    points: np.ndarray, modes: np.ndarray, intensity: np.ndarray, bandwidth: float
) -> tuple[np.ndarray, np.ndarray]:
    keep = intensity > 0
    if not keep.any():
        return np.empty((0, points.shape[1])), np.full(len(points), -1, dtype=int)
    centres, group = _merge_positions(modes[keep])
    strength = np.zeros(len(centres))
    np.maximum.at(strength, group, intensity[keep])
    # scikit-learn orders modes by (intensity, centre) descending, then drops any within bandwidth of a stronger.
    # Equal intensities are common and so are equal coordinates (means of the same values, e.g. all zeros in the
    # smallest models), which scikit-learn gets bit for bit and the blocked sums only to rounding: coordinates
    # are compared on a 2^-32 grid, so that a tie stays a tie and the next coordinate decides
    keys = np.round(centres / _ORDER_STEP)
    order = np.lexsort((*tuple(keys[:, dim] for dim in range(keys.shape[1] - 1, -1, -1)), strength))[::-1]
    centres = centres[order]
    centres = centres[_greedy_modes(centres, bandwidth)]
    nearest, distance = _nearest(points, centres)
    labels = np.where(distance <= bandwidth, nearest, -1)
    return centres, labels.astype(int)


def radius(
    points: np.ndarray,
    *,
    quantile: float = 0.1,
    cap: float | None = None,
    seed: int = 0,
    max_points: int = 5000,
) -> float:
    """COD's bandwidth: ``min(estimate_bandwidth(X, quantile=Q), U)``.

    scikit-learn's estimate costs O(n²); above ``max_points`` points it runs on a seeded random sample of that
    size, which changes the estimate by well under a percent on pass-rate data.

    Examples
    --------
    >>> pts = np.random.default_rng(0).uniform(0, 1, (200, 3))
    >>> radius(pts, cap=0.1)
    0.1
    """
    points = np.asarray(points, dtype=float)
    if len(points) < 2:
        estimate = cap if cap is not None else 0.1
    else:
        sample = points
        if len(points) > max_points:
            rng = np.random.default_rng(seed)
            sample = points[rng.choice(len(points), size=max_points, replace=False)]
        estimate = float(estimate_bandwidth(sample, quantile=quantile))
    if cap is not None:
        estimate = min(estimate, cap)
    if not math.isfinite(estimate) or estimate <= 0:
        # every point identical: any positive radius groups them
        estimate = cap if cap is not None and cap > 0 else 1e-6
    return float(estimate)


def _weighted_means(points: np.ndarray, weights: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Weighted mean of the points in each of ``n_groups`` groups (zeros for an empty group)."""
    total = np.bincount(labels, weights=weights, minlength=n_groups)
    sums = np.stack(
        [np.bincount(labels, weights=weights * points[:, dim], minlength=n_groups) for dim in range(points.shape[1])],
        axis=1,
    )
    return sums / np.where(total > 0, total, 1.0)[:, None]


def improved_mean_shift(
    points: np.ndarray,
    bandwidth: float,
    *,
    min_cluster_size: int = 10,
    max_rounds: int = 100,
    use_mode: bool = True,
    seeding: str = "auto",
    max_seeds: int = 20_000,
    sample_size: int | None = None,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """COD's iterative MeanShift (cod-method.md §3.1); returns (labels, centres), -1 for outliers.

    ``use_mode`` picks the centre of the radius check: the mean-shift mode (default) or the members' mean.
    ``seeding``, ``max_seeds``, ``sample_size`` and ``random_state`` go to every round's ``mean_shift``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = np.vstack([rng.normal(0.2, 0.01, (30, 3)), rng.normal(0.8, 0.01, (20, 3)), [[0.5, 0.5, 0.5]]])
    >>> labels, centres = improved_mean_shift(pts, 0.1)
    >>> np.bincount(labels + 1).tolist()
    [1, 30, 20]
    """
    points = np.asarray(points, dtype=float)
    if len(points) == 0:
        return np.empty(0, dtype=int), np.empty((0, points.shape[1] if points.ndim == 2 else 0))
    unique, counts, inverse = merge_duplicates(points)
    labels = np.full(len(unique), -1, dtype=int)
    centres: list[np.ndarray] = []
    for _ in range(max_rounds):
        pool = np.flatnonzero(labels == -1)
        if pool.size == 0:
            break
        modes, local = mean_shift(
            unique[pool],
            bandwidth,
            weights=counts[pool],
            seeding=seeding,
            max_seeds=max_seeds,
            sample_size=sample_size,
            random_state=random_state,
        )
        member = local >= 0
        if use_mode:
            centre = modes
        else:
            centre = _weighted_means(unique[pool][member], counts[pool][member], local[member], len(modes))
        clustered = pool[member]
        own = local[member]
        close = np.linalg.norm(unique[clustered] - centre[own], axis=1) <= bandwidth
        clustered, own = clustered[close], own[close]
        size = np.bincount(own, weights=counts[clustered], minlength=len(modes))
        kept = size >= min_cluster_size
        if not kept.any():
            break
        new_id = np.full(len(modes), -1, dtype=int)
        new_id[kept] = len(centres) + np.arange(int(kept.sum()))
        chosen = kept[own]
        labels[clustered[chosen]] = new_id[own[chosen]]
        centres.extend(centre[kept])
    centre_array = np.array(centres) if centres else np.empty((0, points.shape[1]))
    return labels[inverse], centre_array
