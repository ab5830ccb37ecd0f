"""The subset-to-full mapping: from accuracy on the predictable subset to accuracy on the whole benchmark.

COD v4 fits a cubic smoothing spline through (0, 0) and (1, 1), adding knots until the fit's RMSE is below
T = 0.005 (cod-method.md §7.1). A smoothing spline need not be monotone; a mapping that is not monotone can
turn a higher subset forecast into a lower full forecast, so the fit is checked on a fine grid and replaced
by a monotone PCHIP through the isotonic regression of the points when it fails (the spec's recommended
fallback). ``poly4`` is the earlier versions' quartic ``f(x) = x + x(1-x)(w0 + w1 x + w2 x²)``, fitted under a
monotonicity constraint.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator, UnivariateSpline
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

GRID = np.linspace(0.0, 1.0, 1001)


@dataclass
class Mapping:
    """A fitted monotone map from subset accuracy to full accuracy on [0, 1]."""

    kind: str
    x: np.ndarray
    y: np.ndarray
    curve: np.ndarray = field(repr=False)
    rmse: float = 0.0
    note: str = ""

    def __call__(self, subset_accuracy: float | np.ndarray) -> np.ndarray:
        values = np.interp(np.clip(subset_accuracy, 0.0, 1.0), GRID, self.curve)
        return np.clip(values, 0.0, 1.0)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "points": [[float(a), float(b)] for a, b in zip(self.x, self.y, strict=True)],
            "rmse": float(self.rmse),
            "note": self.note,
        }


def _with_endpoints(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points plus (0, 0) and (1, 1), sorted, with ties in x averaged; the mask marks the endpoints."""
    # accuracies closer than 1e-9 are the same point; keeping them apart only makes the interpolants unstable
    xs = np.round(np.concatenate([[0.0], np.clip(x, 0, 1), [1.0]]), 9)
    ys = np.concatenate([[0.0], np.clip(y, 0, 1), [1.0]])
    unique, inverse = np.unique(xs, return_inverse=True)
    y_mean = np.bincount(inverse, weights=ys) / np.bincount(inverse)
    y_mean[0], y_mean[-1] = (0.0 if unique[0] == 0 else y_mean[0]), (1.0 if unique[-1] == 1 else y_mean[-1])
    pinned = (unique == 0.0) | (unique == 1.0)
    return unique, y_mean, pinned


def _monotone(curve: np.ndarray) -> bool:
    return bool(
        np.isfinite(curve).all()
        and np.all(np.diff(curve) >= -1e-9)
        and abs(curve[0]) < 1e-3
        and abs(curve[-1] - 1) < 1e-3
    )


def _isotonic_pchip(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True).fit_transform(xs, ys)
    fitted[0], fitted[-1] = 0.0, 1.0
    return PchipInterpolator(xs, fitted)(GRID) if len(xs) > 2 else np.interp(GRID, xs, fitted)


def _spline(xs: np.ndarray, ys: np.ndarray, pinned: np.ndarray, rmse_target: float) -> tuple[np.ndarray, str]:
    inner = ~pinned
    weights = np.where(pinned, 1e3, 1.0)
    last = None
    for sigma in np.geomspace(0.2, 1e-4, 25):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spline = UnivariateSpline(xs, ys, w=weights, k=3, s=len(xs) * sigma**2)
        residual = spline(xs[inner]) - ys[inner]
        last = spline
        if residual.size == 0 or np.sqrt(np.mean(residual**2)) < rmse_target:
            break
    assert last is not None
    return last(GRID), "cubic smoothing spline"


def _poly4(xs: np.ndarray, ys: np.ndarray, pinned: np.ndarray) -> np.ndarray:
    inner = ~pinned
    x, y = xs[inner], ys[inner]

    def curve(w: np.ndarray, at: np.ndarray) -> np.ndarray:
        return at + at * (1 - at) * (w[0] + w[1] * at + w[2] * at**2)

    def slope(w: np.ndarray) -> np.ndarray:
        at = GRID[::10]
        inner_poly = w[0] + w[1] * at + w[2] * at**2
        return 1 + (1 - 2 * at) * inner_poly + at * (1 - at) * (w[1] + 2 * w[2] * at)

    result = minimize(
        lambda w: float(np.sum((curve(w, x) - y) ** 2)),
        np.zeros(3),
        constraints=[{"type": "ineq", "fun": slope}],
        method="SLSQP",
    )
    return curve(result.x, GRID)


def fit_mapping(
    subset_accuracy: np.ndarray,
    full_accuracy: np.ndarray,
    *,
    kind: str = "spline",
    rmse_target: float = 0.005,
) -> Mapping:
    """Fit the subset-to-full map on (subset, full) accuracy pairs of the ladder (and anchors).

    Always monotone and through (0, 0) and (1, 1). ``kind`` is ``"spline"`` (COD v4), ``"poly4"`` (COD v1)
    or ``"isotonic"`` (isotonic regression with PCHIP interpolation).

    Examples
    --------
    >>> m = fit_mapping(np.array([0.2, 0.5, 0.8]), np.array([0.1, 0.35, 0.7]))
    >>> float(m(0.0)), float(m(1.0))
    (0.0, 1.0)
    """
    if kind not in {"spline", "poly4", "isotonic"}:
        raise ValueError(f"mapping kind must be spline, poly4 or isotonic, got {kind!r}")
    xs, ys, pinned = _with_endpoints(np.asarray(subset_accuracy, float), np.asarray(full_accuracy, float))
    note = ""
    if kind == "spline" and len(xs) >= 4:
        curve, label = _spline(xs, ys, pinned, rmse_target)
    elif kind == "poly4" and (~pinned).sum() >= 1:
        curve, label = _poly4(xs, ys, pinned), "monotone quartic"
    else:
        curve, label = _isotonic_pchip(xs, ys), "isotonic + PCHIP"
        if kind != "isotonic":
            note = f"too few points for a {kind}; used isotonic + PCHIP"
    if not _monotone(curve):
        curve = _isotonic_pchip(xs, ys)
        note = f"{label} was not monotone on [0, 1]; replaced by isotonic + PCHIP"
        label = "isotonic + PCHIP"
    curve = np.maximum.accumulate(np.clip(curve, 0.0, 1.0))
    curve[0], curve[-1] = 0.0, 1.0  # the endpoints are part of the definition, not just heavily weighted
    fitted = np.interp(xs[~pinned], GRID, curve)
    rmse = float(np.sqrt(np.mean((fitted - ys[~pinned]) ** 2))) if (~pinned).any() else 0.0
    return Mapping(kind=label, x=xs, y=ys, curve=curve, rmse=rmse, note=note)
