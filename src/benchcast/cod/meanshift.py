"""Mean-shift clustering, vectorised, and COD's iterative "improved MeanShift" (Algorithm 1).

``mean_shift`` reproduces scikit-learn's ``MeanShift(bandwidth=R, cluster_all=False)``: flat kernel, a seed at
every point, a seed stops when it moves at most 1e-3·R, modes are merged greedily by intensity and every point
takes the nearest mode within R. It gives the same labels, but fast:

* identical points are merged into one weighted point;
* each seed climbs in compiled code (numba; compiled once, then loaded from numba's cache), and a seed that
  reaches a position another seed has visited (to 2^-40) takes that seed's end when that is within its own
  step budget;
* a seed's ball changes little from one step to the next, so a slow seed keeps the points within R + m of an
  anchor position sorted into shells by their distance to it: while it stays within m of the anchor, whole
  shells are known to be inside or outside its ball and only the band of shells around R is measured (see
  ``_climb_seeds``); a fast seed sums its ball straight from a k-d tree built on the data's principal axes;
* seeds climb in tree order, in a fixed number of blocks that run on all cores (numba releases the GIL); each
  block keeps its own anchors and visited paths, so the result does not depend on the number of threads;
* membership is always decided on distances summed dimension by dimension, as scikit-learn's tree computes
  them, and modes are ordered on a 2^-32 grid, so that ties in intensity and coordinates fall as
  scikit-learn's bit-equal ties do.

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
from concurrent.futures import ThreadPoolExecutor

import numba
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
    unique, inverse, counts = unique_rows(np.asarray(points, dtype=float))
    return unique, counts.astype(float), inverse


def unique_rows(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(points, axis=0, return_inverse=True, return_counts=True)`` for a 2-D float array, the same
    arrays in the same order: a ``lexsort`` of the columns, 3-7 times faster at 100,000 rows than the row-wise
    comparisons of ``np.unique`` on a structured view.

    Examples
    --------
    >>> unique, inverse, counts = unique_rows(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]))
    >>> unique.tolist(), inverse.tolist(), counts.tolist()
    ([[0.0, 2.0], [1.0, 0.0]], [1, 0, 1], [1, 2])
    """
    if len(points) == 0:
        return points.copy(), np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    order = np.lexsort(points.T[::-1])
    ordered = points[order]
    starts = np.ones(len(ordered), dtype=bool)
    np.any(ordered[1:] != ordered[:-1], axis=1, out=starts[1:])
    inverse = np.empty(len(ordered), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    return ordered[first], inverse, np.diff(first, append=len(ordered))


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


# ---- ball sums: a k-d tree to collect candidates, then bands of shells (compiled with numba) ----
#
# A slow seed's ball barely changes from one step to the next, and pass-rate data are nearly low-dimensional
# (points within 1.1 R of a seed are about 1.2 times those within R). So the points within R + m of an anchor
# position a are kept, sorted into shells by their distance to a. While a seed is within e < m of a, a point
# closer than R - e to a is inside its ball and one farther than R + e outside (triangle inequality): those come
# as per-shell prefix sums, and only the band of shells around R is measured, exactly. A new anchor (a gather
# from the tree and a sort) is made where a seed has drifted more than m from the last one.

# shells per side of R; the band of a step is the shells within e of R
_SHELLS = 32
# margin m of a new anchor, in steps of the last move: a wider margin means fewer gathers but wider bands
_MARGIN_STEPS = 16.0
# bounds on m, as fractions of R
_MARGIN_MIN = 0.01
_MARGIN_MAX = 0.3
# a seed that moved more than this (times R) in its last step, and is not within the last anchor's margin, is
# summed straight from the tree
_DIRECT = 0.05
# band slots measured and summed at a time (in cache between the two)
_CHUNK = 256
# leaf size of the k-d tree that answers the gathers
_LEAF = 64
# slack for rounding in box distances, triangle bounds and shell edges, relative to the data's scale: far above
# the 1e-16 of rounding, and only ever widens what is measured exactly
_SLACK = 1e-9
# seed blocks climbed independently (on as many threads as there are cores); more blocks share fewer paths
_BLOCKS = 8


@numba.njit(cache=True)
def _near_leaves(qr, reach, leaf, lo, hi, stack, leaves):  # pragma: no cover
    """The tree's leaves whose boxes come within ``reach`` of qr (q in the principal axes, where the boxes
    are); returns how many, written to ``leaves``."""
    count = 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if _box_gap(qr, lo[node], hi[node]) > reach * reach:
            continue
        if leaf[node]:
            leaves[count] = node
            count += 1
        else:
            stack[top] = 2 * node + 2
            stack[top + 1] = 2 * node + 1
            top += 2
    return count


@numba.njit(cache=True)
def _gather(q, rad2, leaves, coords, starts, ends, buf, ids, dist2):  # pragma: no cover
    """Points (tree order) of ``leaves`` within sqrt(rad2) of q, with their squared distances; returns how
    many."""
    found = 0
    for node in leaves:
        dist = _distances(q, coords, starts[node], ends[node], buf)
        for k in range(len(dist)):
            ids[found] = starts[node] + k
            dist2[found] = dist[k]
            found += dist[k] <= rad2
    return found


@numba.njit(cache=True)
def _box_gap(qr, lo, hi):  # pragma: no cover
    """Squared distance from qr to the box [lo, hi]."""
    gap = 0.0
    for j in range(len(qr)):
        below = lo[j] - qr[j]
        above = qr[j] - hi[j]
        if below > 0.0:
            gap += below * below
        elif above > 0.0:
            gap += above * above
    return gap


@numba.njit(cache=True, fastmath={"reassoc"})
def _add_sums(coords, weights, first, last, out):  # pragma: no cover
    """Add the weighted coordinate sums and the weight of slots [first, last) to ``out``."""
    d = coords.shape[0]
    w = weights[first:last]
    total = 0.0
    for k in range(last - first):
        total += w[k]
    out[d] += total
    for j in range(d):
        row = coords[j, first:last]
        acc = 0.0
        for k in range(last - first):
            acc += w[k] * row[k]
        out[j] += acc


@numba.njit(cache=True)
def _distances(q, coords, first, last, out):  # pragma: no cover
    """Squared distances from q to the slots [first, last), summed dimension by dimension as scikit-learn's
    tree sums them, so that membership is decided as scikit-learn decides it."""
    size = last - first
    dist = out[:size]
    dist[:] = 0.0
    for j in range(coords.shape[0]):
        qj = q[j]
        row = coords[j, first:last]
        for k in range(size):
            diff = qj - row[k]
            dist[k] += diff * diff
    return dist


@numba.njit(cache=True, fastmath={"reassoc"})
def _add_inside(dist, r2, coords, weights, first, out):  # pragma: no cover
    """Add the sums of the slots from ``first`` on whose squared distance (``dist``) is at most r2."""
    d = coords.shape[0]
    size = len(dist)
    w = weights[first : first + size]
    total = 0.0
    for k in range(size):
        dist[k] = w[k] if dist[k] <= r2 else 0.0
        total += dist[k]
    out[d] += total
    for j in range(d):
        row = coords[j, first : first + size]
        acc = 0.0
        for k in range(size):
            acc += dist[k] * row[k]
        out[j] += acc


@numba.njit(cache=True)
def _shell(distance, inner, scale, n_shells):  # pragma: no cover
    """Shell of a distance to the anchor, as a float: 0 up to ``inner`` (R - m), then one per 1 / ``scale``."""
    return min(max(np.floor((distance - inner) * scale) + 1.0, 0.0), n_shells - 1.0)


@numba.njit(cache=True)
def _rotate(q, rotation, centre, out):  # pragma: no cover
    """q in the tree's principal axes."""
    for j in range(len(q)):
        out[j] = 0.0
        for i in range(len(q)):
            out[j] += rotation[j, i] * (q[i] - centre[i])


@numba.njit(cache=True)
def _move(q, sums):  # pragma: no cover
    """Move q to the mean given by ``sums`` (coordinate sums, then the weight); returns the distance moved."""
    d = len(q)
    moved = 0.0
    for j in range(d):
        mean = sums[j] / sums[d]
        moved += (mean - q[j]) ** 2
        q[j] = mean
    return np.sqrt(moved)


@numba.njit(cache=True, nogil=True)
def _climb_seeds(
    seeds,
    coords,
    weights,
    starts,
    ends,
    leaf,
    lo,
    hi,
    rotation,
    centre,
    bandwidth,
    slack,
    max_iter,
    hash_weights,
    modes,
    intensity,
):  # pragma: no cover
    """Move each seed to its mode as scikit-learn does (a seed stops when it moves at most 1e-3 R, after at
    most max_iter + 1 means); fills ``modes`` and ``intensity`` (the weight within R at the last step)."""
    d, n_points = coords.shape
    r2 = bandwidth * bandwidth
    stop = 1e-3 * bandwidth
    n_shells = 2 * _SHELLS + 2  # shell 0: within R - m of the anchor; the last: beyond R + m
    stack = np.empty(512, dtype=np.int64)
    leaves = np.empty(len(leaf), dtype=np.int64)
    ids = np.empty(n_points, dtype=np.int64)
    dist2 = np.empty(n_points)
    shell = np.empty(n_points, dtype=np.int64)
    slot_coords = np.empty((d, n_points))
    slot_points = np.empty((n_points, d))
    slot_weights = np.empty(n_points)
    buf = np.empty(n_points)
    shell_start = np.zeros(n_shells + 1, dtype=np.int64)
    prefix = np.zeros((n_shells + 1, d + 1))
    q = np.empty(d)
    qr = np.empty(d)
    sums = np.empty(d + 1)
    # the shells of the last anchor serve any seed, of any later step, that comes within its margin
    anchored = False
    anchor = np.zeros(d)
    margin = 0.0
    inner = 0.0
    scale = 1.0
    # positions already visited (on a 2^-40 grid, as seeds are merged): a seed reaching one follows the same path
    # from there, so it takes that path's end if the path stopped by the 1e-3 R rule within the seed's own steps
    visited = numba.typed.Dict.empty(key_type=numba.types.int64, value_type=numba.types.int64)
    visit_seed = np.empty(4096, dtype=np.int64)
    visit_step = np.empty(4096, dtype=np.int64)
    visit_key = np.empty((4096, d), dtype=np.int64)
    n_visits = 0
    last_step = np.zeros(seeds.shape[0], dtype=np.int64)
    converged = np.zeros(seeds.shape[0], dtype=np.bool_)
    key = np.empty(d, dtype=np.int64)
    for s in range(seeds.shape[0]):
        q[:] = seeds[s]
        total = 0.0
        moved = 0.0
        for step in range(max_iter + 1):
            code = 0
            for j in range(d):
                key[j] = np.int64(np.round(q[j] / _MERGE_STEP))
                code += key[j] * hash_weights[j]
            seen = -1
            if code in visited:
                seen = visited[code]
            if seen < 0:
                if n_visits == len(visit_seed):
                    visit_seed = np.concatenate((visit_seed, np.empty_like(visit_seed)))
                    visit_step = np.concatenate((visit_step, np.empty_like(visit_step)))
                    visit_key = np.concatenate((visit_key, np.empty_like(visit_key)))
                visited[code] = n_visits
                visit_seed[n_visits] = s
                visit_step[n_visits] = step
                visit_key[n_visits] = key
                n_visits += 1
            elif (visit_key[seen] == key).all():
                other = visit_seed[seen]
                end = step - visit_step[seen] + last_step[other]
                if other != s and converged[other] and end <= max_iter:
                    q[:] = modes[other]
                    total = intensity[other]
                    last_step[s] = end
                    converged[s] = True
                    break
            last_step[s] = step
            drift = 0.0
            for j in range(d):
                drift += (q[j] - anchor[j]) ** 2
            drift = np.sqrt(drift)
            covered = anchored and drift + slack <= margin
            if not covered and (step == 0 or moved > _DIRECT * bandwidth):
                # away from the last anchor, a fast seed would need a new one at every step: sum its ball straight
                # from the tree
                _rotate(q, rotation, centre, qr)
                sums[:] = 0.0
                for node in leaves[: _near_leaves(qr, bandwidth + slack, leaf, lo, hi, stack, leaves)]:
                    dist = _distances(q, coords, starts[node], ends[node], buf)
                    _add_inside(dist, r2, coords, weights, starts[node], sums)
            else:
                if not covered:
                    margin = min(max(_MARGIN_STEPS * moved, _MARGIN_MIN * bandwidth), _MARGIN_MAX * bandwidth)
                    anchored = True
                    anchor[:] = q
                    drift = 0.0
                    _rotate(q, rotation, centre, qr)
                    reach = bandwidth + margin
                    near = leaves[: _near_leaves(qr, reach + slack, leaf, lo, hi, stack, leaves)]
                    found = _gather(q, reach * reach, near, coords, starts, ends, buf, ids, dist2)
                    # shells of width m / _SHELLS around R, by distance to the anchor (counting sort)
                    inner = bandwidth - margin
                    scale = _SHELLS / margin
                    for i in range(found):
                        buf[i] = _shell(np.sqrt(dist2[i]), inner, scale, n_shells)
                    for i in range(found):
                        shell[i] = int(buf[i])
                    shell_start[:] = 0
                    for i in range(found):
                        shell_start[shell[i] + 1] += 1
                    for k in range(n_shells):
                        shell_start[k + 1] += shell_start[k]
                    for i in range(found):
                        k = shell[i]
                        shell[i] = shell_start[k]  # now the point's slot
                        shell_start[k] += 1
                    for k in range(n_shells, 0, -1):
                        shell_start[k] = shell_start[k - 1]
                    shell_start[0] = 0
                    # whole points are moved (one cache line each), then turned into one row per coordinate
                    for i in range(found):
                        for j in range(d):
                            slot_points[shell[i], j] = coords[j, ids[i]]
                        slot_weights[shell[i]] = weights[ids[i]]
                    for i in range(found):
                        for j in range(d):
                            slot_coords[j, i] = slot_points[i, j]
                    prefix[0] = 0.0
                    for k in range(n_shells):
                        prefix[k + 1] = prefix[k]
                        _add_sums(slot_coords, slot_weights, shell_start[k], shell_start[k + 1], prefix[k + 1])
                # shells wholly within R - drift of the anchor are inside, those beyond R + drift outside
                low = bandwidth - drift - slack
                high = bandwidth + drift + slack
                first = int(_shell(low, inner, scale, n_shells))
                last = int(_shell(high, inner, scale, n_shells))
                sums[:] = prefix[first]
                # in chunks that stay in cache between the distances and the sums
                for begin in range(shell_start[first], shell_start[last + 1], _CHUNK):
                    dist = _distances(q, slot_coords, begin, min(begin + _CHUNK, shell_start[last + 1]), buf)
                    _add_inside(dist, r2, slot_coords, slot_weights, begin, sums)
            total = sums[d]
            if total == 0.0:
                converged[s] = True
                break
            moved = _move(q, sums)
            if moved <= stop:
                converged[s] = True
                break
        modes[s] = q
        intensity[s] = total


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


def _climb(
    points: np.ndarray, weights: np.ndarray, seeds: np.ndarray, bandwidth: float, max_iter: int, n_threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move every distinct seed to its mode; returns the modes and their intensity (weight within R)."""
    positions, _ = _merge_positions(seeds)
    if not len(positions):
        return positions, np.empty(0)
    centre = points.mean(axis=0)
    # the tree is built on principal axes, where its boxes hug correlated data; distances stay in the input's
    # own coordinates
    rotation = np.linalg.eigh((points - centre).T @ (points - centre))[1].T
    tree = KDTree((points - centre) @ rotation.T, leaf_size=_LEAF)
    _, order, nodes, bounds = tree.get_arrays()
    order = np.asarray(order)
    # seeds in the tree order of their own positions: neighbouring seeds climb one after the other, so they share
    # anchors and visited paths, and each block below holds whole neighbourhoods
    climb_order = np.asarray(KDTree((positions - centre) @ rotation.T, leaf_size=_LEAF).get_arrays()[1])
    starts = positions[climb_order]
    ends = np.empty_like(starts)
    weight_within = np.empty(len(starts))
    shared = (
        np.ascontiguousarray(points[order].T),
        np.ascontiguousarray(weights[order]),
        nodes["idx_start"].astype(np.int64),
        nodes["idx_end"].astype(np.int64),
        nodes["is_leaf"].astype(np.bool_),
        np.ascontiguousarray(bounds[0]),
        np.ascontiguousarray(bounds[1]),
        np.ascontiguousarray(rotation),
        centre,
        float(bandwidth),
        _SLACK * (bandwidth + float(np.abs(points).max())),
        int(max_iter),
        _HASH[: points.shape[1]] if points.shape[1] <= len(_HASH) else np.ones(points.shape[1], dtype=np.int64),
    )
    # a fixed number of blocks, each climbed with its own anchors and visited paths, so that the modes do not
    # depend on how many threads share the blocks
    cuts = np.linspace(0, len(starts), min(_BLOCKS, len(starts)) + 1).astype(np.int64)

    def climb_block(k: int) -> None:
        block = slice(cuts[k], cuts[k + 1])
        _climb_seeds(starts[block], *shared, ends[block], weight_within[block])

    if n_threads > 1:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(climb_block, range(len(cuts) - 1)))
    else:
        for k in range(len(cuts) - 1):
            climb_block(k)
    modes = np.empty_like(positions)
    intensity = np.empty(len(positions))
    modes[climb_order] = ends
    intensity[climb_order] = weight_within
    return modes, intensity


def bin_seeds(points: np.ndarray, bin_size: float) -> np.ndarray:
    """scikit-learn's bin seeding (``get_bin_seeds`` with ``min_bin_freq=1``): the centre of every grid cell
    of side ``bin_size`` that holds a point.

    Examples
    --------
    >>> bin_seeds(np.array([[0.0, 0.1], [0.05, 0.0], [0.9, 0.9]]), 0.5).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    cells = unique_rows(np.round(np.asarray(points, dtype=float) / bin_size))[0]
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
    n_threads: int | None = None,
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
    n_threads : int, optional
        Threads that climb the seeds; the default is numba's thread count (``NUMBA_NUM_THREADS``: every core,
        or a joblib worker's share of them). The result does not depend on it.

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
        threads = numba.config.NUMBA_NUM_THREADS if n_threads is None else max(1, int(n_threads))
        modes, intensity = _climb(points, weights, np.asarray(seeds, dtype=float), bandwidth, max_iter, threads)
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
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """COD's iterative MeanShift (cod-method.md §3.1); returns (labels, centres), -1 for outliers.

    ``use_mode`` picks the centre of the radius check: the mean-shift mode (default) or the members' mean.
    ``seeding``, ``max_seeds``, ``sample_size``, ``random_state`` and ``n_threads`` go to every round's
    ``mean_shift``.

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
            n_threads=n_threads,
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
