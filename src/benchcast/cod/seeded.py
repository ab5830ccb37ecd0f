"""COD's clusters carried over to a bootstrap replicate.

A bootstrap replicate's items are the full data's items, resampled and with their trial noise redrawn, so its
difficulty modes lie where the full data's do. Re-running the improved MeanShift from scratch on every
replicate costs seconds per replicate on ten thousand items; ``reassign_clusters`` keeps the full-data modes
and decides membership again on the replicate's own pass rates, by the rule every round of the improved
MeanShift (cod-method.md §3.1) applies: an item belongs to its nearest mode if it lies within R of it, and a
cluster needs at least K members. An item whose redrawn pass rates move it past R becomes an outlier, one that
moves closer to another mode changes cluster, and a cluster that falls under K members is dropped: the
interval carries the membership noise of the clustering. What it does not carry is the movement of the modes
themselves, nor a cluster that only the replicate's data would form (the paper itself reuses saved cluster
labels to skip re-clustering).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.spatial import cKDTree

MARGIN = 1e-9
"""Distances here are summed in another order than scipy's tree sums them, a few units in the 16th digit apart on
pass rates. A point whose nearest centre, or whose side of the radius, is decided within this margin is put to the
tree itself, so that every label is the tree's."""


def reassign_clusters(
    points: np.ndarray, bandwidth: float, centres: np.ndarray, *, min_cluster_size: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Each point joins its nearest centre within ``bandwidth``; returns the labels (-1 = outlier) and, for
    each label, the index of its centre in ``centres`` (clusters with fewer than ``min_cluster_size`` members
    are dropped).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = np.vstack([rng.normal(0.2, 0.01, (30, 3)), rng.normal(0.8, 0.01, (20, 3)), [[0.5, 0.5, 0.5]]])
    >>> labels, kept = reassign_clusters(pts, 0.1, np.array([[0.8, 0.8, 0.8], [0.5, 0.0, 0.0], [0.2, 0.2, 0.2]]))
    >>> np.bincount(labels + 1).tolist(), kept.tolist()
    ([1, 20, 30], [0, 2])
    """
    points = np.asarray(points, dtype=float)
    centres = np.asarray(centres, dtype=float)
    if not len(points) or not len(centres):
        return np.full(len(points), -1, dtype=int), np.empty(0, dtype=int)
    # every point against every centre in one compiled pass: a bootstrap replicate of 100,000 items asks this
    # once, and the tree's per-point search took 25 ms of it
    nearest, best, second = _nearest_two(points, np.ascontiguousarray(centres.T))
    distance = np.sqrt(best)
    unsure = np.flatnonzero((second - best <= MARGIN) | (np.abs(distance - bandwidth) <= MARGIN))
    if unsure.size:
        distance[unsure], nearest[unsure] = cKDTree(centres).query(points[unsure])
    nearest = np.where(distance <= bandwidth, nearest, -1)
    sizes = np.bincount(nearest[nearest >= 0], minlength=len(centres))
    kept = sizes >= min_cluster_size
    new_id = np.where(kept, np.cumsum(kept) - 1, -1)
    labels = np.where(nearest >= 0, new_id[np.maximum(nearest, 0)], -1)
    return labels.astype(int), np.flatnonzero(kept)


@numba.njit(cache=True, nogil=True)
def _nearest_two(points: np.ndarray, centres_by_dim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's nearest centre (columns of ``centres_by_dim``) and its two smallest squared distances."""
    n_points, n_dims = points.shape
    n_centres = centres_by_dim.shape[1]
    nearest = np.zeros(n_points, np.int64)
    best = np.empty(n_points)
    second = np.empty(n_points)
    sums = np.empty(n_centres)
    for i in range(n_points):
        sums[:] = 0.0
        for dim in range(n_dims):
            x = points[i, dim]
            for c in range(n_centres):
                diff = x - centres_by_dim[dim, c]
                sums[c] += diff * diff
        # without branches: which centre is nearer is a coin toss the processor cannot predict (half the time)
        low, runner_up, at = np.inf, np.inf, 0
        for c in range(n_centres):
            value = sums[c]
            runner_up = min(runner_up, max(low, value))
            at = c if value < low else at
            low = min(low, value)
        nearest[i], best[i], second[i] = at, low, runner_up
    return nearest, best, second
