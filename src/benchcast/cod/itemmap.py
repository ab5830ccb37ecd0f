"""A 2-D map of a benchmark's items: the principal components of their pass-rate vectors across the ladder.

COD clusters items by these vectors (one pass rate per ladder model), so their first two principal components
are the plainest picture of the clustering: the first is close to overall easiness, the second to how late an
item emerges. The projection is computed once, when the forecast is made, and stored in the forecast's details,
so a report draws it without the pass-rate matrix and without refitting anything.

The signs of principal components are arbitrary; they are fixed here (each component's loadings sum to a
positive number, so "right" means "passed more often") to keep the map the same from run to run.
"""

from __future__ import annotations

import numpy as np

DECIMALS = 4
"""Coordinates are rounded: four decimals are far below what a plot shows, and keep the JSON small."""


def item_map(pass_rates: np.ndarray) -> dict[str, list[float]]:
    """Project items (rows of ``pass_rates``, items x models) on their first two principal components.

    Returns ``{"x": [...], "y": [...], "explained": [share of PC1, share of PC2]}``: one coordinate pair per
    item, in item order, and the share of the variance each component explains. With fewer than two models,
    or no variance at all, the missing components are zeros.

    Examples
    --------
    >>> rates = np.array([[0.0, 0.1, 0.5], [0.2, 0.6, 0.9], [0.9, 1.0, 1.0], [0.0, 0.0, 0.1]])
    >>> projection = item_map(rates)
    >>> len(projection["x"]), projection["x"][2] > projection["x"][3]
    (4, True)
    """
    rates = np.asarray(pass_rates, dtype=float)
    n_items = rates.shape[0]
    coords = np.zeros((n_items, 2))
    explained = [0.0, 0.0]
    if n_items and rates.ndim == 2 and rates.shape[1]:
        centred = rates - rates.mean(axis=0)
        _, singular, components = np.linalg.svd(centred, full_matrices=False)
        total = float(np.sum(singular**2))
        for k in range(min(2, components.shape[0])):
            if total <= 0 or singular[k] <= 0:
                break
            direction = components[k] if components[k].sum() >= 0 else -components[k]
            coords[:, k] = centred @ direction
            explained[k] = float(singular[k] ** 2 / total)
    coords = np.round(coords, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    return {
        "x": coords[:, 0].tolist(),
        "y": coords[:, 1].tolist(),
        "explained": [round(v, DECIMALS) for v in explained],
    }
