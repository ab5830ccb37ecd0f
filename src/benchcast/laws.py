"""Scaling-law forms as plain functions, and the one robust fitting routine every method uses.

A ``Law`` is a documented function of compute plus named parameters with bounds and a rule for starting
points. ``fit_law`` runs bounded non-linear least squares (``scipy.optimize.least_squares``) from several
starts and keeps the best, returning a ``LawFit`` that carries its parameters, residuals and a success flag
(cod-method.md §4.1 leaves the procedure open; multi-start bounded least squares is its recommendation).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.optimize import least_squares, leastsq


def cod_law(compute: np.ndarray, a: float, b: float, c: float, g: float) -> np.ndarray:
    """COD's cluster law (Eq. 4): ``y = g + (1 - g) * exp(-a * C**-b - c)``.

    ``g`` is the random-guess floor, ``a`` and ``b`` set how accuracy rises with compute ``C`` (in the paper 10^18
    FLOPs), and ``c`` sets the ceiling ``g + (1 - g) * exp(-c)``.

    Examples
    --------
    >>> round(float(cod_law(np.array([1e6]), a=5.0, b=0.5, c=0.0, g=0.25)[0]), 4)
    0.9963
    """
    compute = np.asarray(compute, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return g + (1.0 - g) * np.exp(-a * compute ** (-b) - c)


@dataclass(frozen=True)
class Law:
    """A scaling law: a function ``f(x, *params)``, parameter names, bounds and a start-point rule."""

    name: str
    function: Callable[..., np.ndarray]
    parameters: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    starts: Callable[[np.ndarray, np.ndarray], list[tuple[float, ...]]]
    jacobian: Callable[..., np.ndarray] | None = None
    """Optional ``jacobian(x, *params)`` of shape (len(x), len(params)); without it the fit differentiates
    numerically."""
    compiled: int | None = None
    """Which compiled form of this law the fit may use (``COMPILED_COD``, ``COMPILED_LOGISTIC``): the same law and
    Jacobian as ``function`` and ``jacobian``, evaluated without the Python calls that make up nearly all of a
    small fit's cost (``_fit_compiled``)."""

    def __call__(self, x: np.ndarray, params: Sequence[float]) -> np.ndarray:
        return self.function(np.asarray(x, dtype=float), *params)


@dataclass(frozen=True)
class LawFit:
    """The outcome of fitting a ``Law``: parameters, residual error and whether the optimiser converged."""

    law: Law
    values: tuple[float, ...]
    rmse: float
    success: bool
    n_points: int
    message: str = ""
    residuals: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(self.law.parameters, self.values, strict=True))

    def predict(self, x: float | np.ndarray) -> np.ndarray:
        return self.law(np.atleast_1d(np.asarray(x, dtype=float)), self.values)

    def to_dict(self) -> dict[str, object]:
        return {
            "law": self.law.name,
            "params": {k: float(v) for k, v in self.params.items()},
            "rmse": float(self.rmse),
            "success": bool(self.success),
            "n_points": int(self.n_points),
        }


def fit_law(
    law: Law,
    x: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    lower: Sequence[float] | None = None,
    upper: Sequence[float] | None = None,
    starts: Sequence[Sequence[float]] | None = None,
    loss: str = "linear",
    max_nfev: int = 400,
    refine: int | None = None,
) -> LawFit:
    """Fit ``law`` to points ``(x, y)`` by bounded least squares from several starts; keep the lowest cost.

    ``lower``/``upper`` override the law's bounds (e.g. to pin a parameter by giving equal bounds, which
    is handled by fixing it). ``weights`` multiply the residuals. ``loss`` is passed to ``least_squares``
    (``"soft_l1"`` for a robust fit). ``refine`` runs the optimiser from only that many starts, those whose
    own squared error is lowest: a grid search first, then local refinement of its best points.

    A law with an analytic ``jacobian``, fitted with the plain squared loss inside finite bounds, is solved by
    MINPACK's Levenberg-Marquardt on sine-mapped parameters (``x = lo + (hi - lo)(sin t + 1)/2``, the bounds
    handling of MINUIT and lmfit): the same bounded least-squares problem, at a fraction of the cost of the
    trust-region solver that every other law uses.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    lo = np.array(law.lower if lower is None else lower, dtype=float)
    hi = np.array(law.upper if upper is None else upper, dtype=float)
    fixed = hi - lo <= 1e-12
    free = ~fixed
    candidates = [tuple(s) for s in (starts if starts is not None else law.starts(x, y))]
    best: tuple[float, np.ndarray, str, bool] | None = None
    if refine is not None and len(candidates) > refine:
        candidates = _best_starts(law, x, y, w, candidates, lo, hi, refine)

    def full(theta: np.ndarray) -> np.ndarray:
        values = lo.copy()
        values[free] = theta
        return values

    def residual(theta: np.ndarray) -> np.ndarray:
        predicted = law.function(x, *full(theta))
        out = w * (predicted - y)
        return np.where(np.isfinite(out), out, 1e3)

    def jacobian(theta: np.ndarray) -> np.ndarray:
        out = w[:, None] * law.jacobian(x, *full(theta))[:, free]
        return np.where(np.isfinite(out), out, 0.0)

    # MINPACK needs at least as many points as free parameters; fewer go to the trust-region solver
    mapped = (
        law.jacobian is not None
        and loss == "linear"
        and bool(np.all(np.isfinite(np.r_[lo, hi])))
        and x.size >= int(free.sum())
    )
    for start in candidates:
        theta0 = np.clip(np.asarray(start, dtype=float), lo, hi)[free]
        # keep starts strictly inside the bounds: least_squares rejects starts on them, and the sine-mapped fit
        # could never move a start on a bound (its slope in t is zero there)
        span = (hi - lo)[free]
        theta0 = np.clip(theta0, lo[free] + 1e-9 * span, hi[free] - 1e-9 * span)
        if not free.any():
            cost = float(np.sum(residual(theta0) ** 2))
            best = (cost, np.empty(0), "all parameters fixed", True)
            break
        if mapped:
            if law.compiled is None:
                theta, message, ok = _fit_mapped(residual, jacobian, theta0, lo[free], hi[free], max_nfev)
            else:
                theta, message, ok = _fit_compiled(law.compiled, x, y, w, lo, hi, free, theta0, max_nfev)
            cost = float(np.sum(residual(theta) ** 2))
            if best is None or cost < best[0]:
                best = (cost, theta, message, ok)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = least_squares(
                    residual,
                    theta0,
                    jac=jacobian if law.jacobian is not None else "2-point",
                    bounds=(lo[free], hi[free]),
                    loss=loss,
                    max_nfev=max_nfev,
                    x_scale="jac",
                )
            except (ValueError, FloatingPointError) as error:
                if best is None:
                    best = (np.inf, theta0, str(error), False)
                continue
        cost = float(np.sum(result.fun**2))
        if best is None or cost < best[0]:
            best = (cost, result.x, result.message, bool(result.status > 0))
    assert best is not None
    cost, theta, message, success = best
    values = full(theta)
    residuals = law.function(x, *values) - y
    rmse = float(np.sqrt(np.mean(residuals**2))) if residuals.size else float("nan")
    return LawFit(
        law=law,
        values=tuple(float(v) for v in values),
        rmse=rmse,
        success=bool(success and np.isfinite(cost)),
        n_points=int(x.size),
        message=str(message),
        residuals=residuals,
    )


def _best_starts(
    law: Law,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    candidates: list[tuple[float, ...]],
    lo: np.ndarray,
    hi: np.ndarray,
    keep: int,
) -> list[tuple[float, ...]]:
    """The ``keep`` starts with the lowest weighted squared error (ties keep the given order)."""
    costs = []
    for start in candidates:
        with np.errstate(all="ignore"):
            residual = w * (law.function(x, *np.clip(np.asarray(start, dtype=float), lo, hi)) - y)
        costs.append(float(np.sum(residual**2)) if np.all(np.isfinite(residual)) else np.inf)
    order = np.argsort(np.asarray(costs), kind="stable")[:keep]
    return [candidates[i] for i in sorted(order)]


def _fit_mapped(
    residual: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    max_nfev: int,
) -> tuple[np.ndarray, str, bool]:
    """Bounded least squares by MINPACK ``lmder`` on t, with parameters ``lo + (hi - lo)(sin t + 1)/2``."""
    half = (hi - lo) / 2.0

    def forward(t: np.ndarray) -> np.ndarray:
        return lo + half * (np.sin(t) + 1.0)

    def mapped_residual(t: np.ndarray) -> np.ndarray:
        return residual(forward(t))

    def mapped_jacobian(t: np.ndarray) -> np.ndarray:
        return jacobian(forward(t)) * (half * np.cos(t))[None, :]

    return _solve_mapped(mapped_residual, mapped_jacobian, start, lo, hi, max_nfev)


def _fit_compiled(
    law: int,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    free: np.ndarray,
    start: np.ndarray,
    max_nfev: int,
) -> tuple[np.ndarray, str, bool]:
    """``_fit_mapped`` with the compiled residual and Jacobian of ``law`` (a ``COMPILED_*`` code) on the free
    parameters ``free`` of bounds ``lo`` and ``hi``, the fixed ones at ``lo``."""
    half = (hi[free] - lo[free]) / 2.0
    args = (law, x, y, w, lo[free].copy(), half, lo.copy(), np.flatnonzero(free))
    return _solve_mapped(_mapped_residual, _mapped_jacobian, start, lo[free], hi[free], max_nfev, args)


def _solve_mapped(
    residual: Callable[..., np.ndarray],
    jacobian: Callable[..., np.ndarray],
    start: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    max_nfev: int,
    args: tuple = (),
) -> tuple[np.ndarray, str, bool]:
    """MINPACK ``lmder`` on t for ``residual(t, *args)`` and its ``jacobian``, from ``start`` mapped to t; the
    parameters ``lo + (hi - lo)(sin t + 1)/2`` it ends at, MINPACK's message and whether it converged."""
    half = (hi - lo) / 2.0
    # ``fit_law`` hands over starts 1e-9 of the bounds' width inside them, where t has a slope; the start is used
    # as it is (an extra margin of 1e-6 of the width here moved a warm start at a = 2 to a = 100 for a law whose a
    # may reach 1e8)
    t0 = np.arcsin(np.clip((start - lo) / half - 1.0, -1.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, _, _, message, status = leastsq(
            residual, t0, args=args, Dfun=jacobian, full_output=True, maxfev=max_nfev * (len(t0) + 1)
        )
    return np.clip(lo + half * (np.sin(t) + 1.0), lo, hi), str(message), status in (1, 2, 3, 4)


COMPILED_COD = 0
"""``cod_law`` and ``cod_law_jacobian`` in ``_law_value`` and ``_law_gradient``."""
COMPILED_LOGISTIC = 1
"""``logistic_law`` and ``logistic_law_jacobian`` in ``_law_value`` and ``_law_gradient``."""


@numba.njit(cache=True, nogil=True)
def _law_value(law: int, x: float, a: float, b: float, c: float, g: float) -> float:
    if law == COMPILED_COD:
        return g + (1.0 - g) * np.exp(-a * x ** (-b) - c)
    return g + (1.0 - g) * np.exp(-c) / (1.0 + a * x ** (-b))


@numba.njit(cache=True, nogil=True)
def _law_gradient(law: int, x: float, a: float, b: float, c: float, g: float, out: np.ndarray) -> None:
    """The law's partial derivatives in (a, b, c, g) at ``x``, into ``out``."""
    power = x ** (-b)
    if law == COMPILED_COD:
        share = np.exp(-a * power - c)
        rise = (1.0 - g) * share
        out[0], out[1], out[2], out[3] = -rise * power, rise * a * power * np.log(x), -rise, 1.0 - share
        return
    denominator = 1.0 + a * power
    share = np.exp(-c) / denominator
    slope = (1.0 - g) * share / denominator
    out[0], out[1] = -slope * power, slope * a * power * np.log(x)
    out[2], out[3] = -(1.0 - g) * share, 1.0 - share


@numba.njit(cache=True, nogil=True)
def _mapped_residual(t, law, x, y, w, lo, half, values, free):
    """``fit_law``'s residual (non-finite entries 1e3) at mapped point ``t``: the ``free`` parameters are
    ``lo + half (sin t + 1)``, the others ``values``."""
    a, b, c, g = _mapped_values(t, lo, half, values, free)
    out = np.empty(x.size)
    for i in range(x.size):
        r = w[i] * (_law_value(law, x[i], a, b, c, g) - y[i])
        out[i] = r if np.isfinite(r) else 1e3
    return out


@numba.njit(cache=True, nogil=True)
def _mapped_jacobian(t, law, x, y, w, lo, half, values, free):
    """The Jacobian of ``_mapped_residual`` in ``t``: weighted (non-finite entries 0), chained through the map."""
    a, b, c, g = _mapped_values(t, lo, half, values, free)
    out = np.empty((x.size, free.size))
    row = np.empty(4)
    for i in range(x.size):
        _law_gradient(law, x[i], a, b, c, g, row)
        for j in range(free.size):
            value = w[i] * row[free[j]]
            out[i, j] = (value if np.isfinite(value) else 0.0) * (half[j] * np.cos(t[j]))
    return out


@numba.njit(cache=True, nogil=True)
def _mapped_values(t: np.ndarray, lo: np.ndarray, half: np.ndarray, values: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The law's parameters at mapped point ``t``: ``values`` with its ``free`` entries ``lo + half (sin t + 1)``."""
    out = values.copy()
    for j in range(free.size):
        out[free[j]] = lo[j] + half[j] * (np.sin(t[j]) + 1.0)
    return out


def cod_law_jacobian(compute: np.ndarray, a: float, b: float, c: float, g: float) -> np.ndarray:
    """Partial derivatives of ``cod_law`` with respect to (a, b, c, g), one row per compute value."""
    compute = np.asarray(compute, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        power = compute ** (-b)
        share = np.exp(-a * power - c)
        rise = (1.0 - g) * share
        return np.stack([-rise * power, rise * a * power * np.log(compute), -rise, 1.0 - share], axis=1)


# (b, log10 C_half) grid for the COD law's starts: b spans flat to sharp rises, the midpoint C_half spans
# from well below the ladder to well beyond the target (C in 10^18 FLOPs)
_GRID_B = np.geomspace(0.05, 3.0, 24)
_GRID_HALF = np.linspace(-3.0, 12.0, 46)


def _cod_starts(x: np.ndarray, y: np.ndarray) -> list[tuple[float, ...]]:
    """Starts for the COD law from a profiled grid search, plus the closed-form ceiling start.

    For fixed (a, b) the law is linear in the floor and the ceiling scale, ``y = g + k * exp(-a C^-b)`` with
    ``k = (1 - g) e^-c``, so every (a, b) on a grid gets its best (g, c) in closed form; the best few grid
    points, from different sharpness ranges, become the starts of the bounded fit.
    """
    return _profiled_starts(x, y, _gompertz_rise, cod_law)


def _gompertz_rise(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(-a[:, None] * x[None, :] ** (-b[:, None]))


def _logistic_rise(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return 1.0 / (1.0 + a[:, None] * x[None, :] ** (-b[:, None]))


def _profiled_starts(
    x: np.ndarray, y: np.ndarray, rise: Callable[..., np.ndarray], law: Callable[..., np.ndarray]
) -> list[tuple[float, ...]]:
    """The profiled grid search of ``_cod_starts`` for any law ``y = g + (1 - g) e^-c * rise(C; a, b)``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    floor = float(max(0.0, np.min(y) * 0.9)) if y.size else 0.0
    top = float(np.clip(np.max(y) if y.size else 0.5, 1e-3, 0.999))
    ceiling = (2.0, 0.3, max(0.0, -np.log(max(top - floor, 1e-3) / max(1 - floor, 1e-3))), floor)
    if y.size < 2 or np.any(x <= 0):
        return [*((a, b, 0.05, floor) for b in (0.1, 0.3, 0.6, 1.2) for a in (1.0, 10.0, 100.0)), ceiling]
    b = np.repeat(_GRID_B, _GRID_HALF.size)
    a = np.minimum(np.log(2.0) * (10.0 ** np.tile(_GRID_HALF, _GRID_B.size)) ** b, 1e8)
    u = rise(x, a, b)
    # least squares of y on [1, u] per grid point, then g clipped to [0, 1] and k to [(1 - g) e^-20, 1 - g]
    mean_u, mean_y = u.mean(axis=1), float(y.mean())
    spread = ((u - mean_u[:, None]) ** 2).sum(axis=1)
    k = np.where(spread > 1e-18, ((u - mean_u[:, None]) * (y - mean_y)).sum(axis=1) / np.maximum(spread, 1e-300), 0.0)
    g = np.clip(mean_y - k * mean_u, 0.0, 1.0)
    k = np.clip(((u * (y - g[:, None])).sum(axis=1)) / np.maximum((u * u).sum(axis=1), 1e-300), 0.0, 1.0 - g)
    k = np.maximum(k, (1.0 - g) * np.exp(-20.0))
    cost = ((g[:, None] + k[:, None] * u - y) ** 2).sum(axis=1)
    c = np.clip(-np.log(np.maximum(k, 1e-300) / np.maximum(1.0 - g, 1e-300)), 0.0, 20.0)
    starts = []
    for band in (b < 0.3, (b >= 0.3) & (b < 1.0), b >= 1.0):
        best = np.flatnonzero(band)[np.argmin(np.where(np.isfinite(cost[band]), cost[band], np.inf))]
        starts.append((float(a[best]), float(b[best]), float(c[best]), float(g[best])))
    starts.sort(key=lambda start: float(np.sum((law(x, *start) - y) ** 2)))
    return [*starts, ceiling]


COD_LAW = Law(
    name="cod",
    function=cod_law,
    parameters=("a", "b", "c", "g"),
    lower=(0.0, 0.0, 0.0, 0.0),
    upper=(1e8, 4.0, 20.0, 1.0),
    starts=_cod_starts,
    jacobian=cod_law_jacobian,
    compiled=COMPILED_COD,
)
"""Eq. 4 with bounds a, b, c >= 0 and 0 <= g <= 1 (cod-method.md §4.1)."""


def logistic_law(compute: np.ndarray, a: float, b: float, c: float, g: float) -> np.ndarray:
    """COD's law with a logistic rise in log-compute: ``y = g + (1 - g) * exp(-c) / (1 + a * C**-b)``.

    The same floor ``g``, ceiling ``g + (1 - g) e^-c`` and top tail ``1 - a C^-b`` as ``cod_law``; below its
    midpoint it rises as a power of compute, as an item-response (2PL) curve in log-compute does, where the
    paper's law rises as ``exp(-a C^-b)``, far more steeply. A cluster seen only in its onset therefore
    extrapolates very differently under the two (docs/decisions.md, "Which law a cluster follows").

    Examples
    --------
    >>> round(float(logistic_law(np.array([100.0]), a=100.0, b=1.0, c=0.0, g=0.0)[0]), 4)
    0.5
    """
    compute = np.asarray(compute, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return g + (1.0 - g) * np.exp(-c) / (1.0 + a * compute ** (-b))


def logistic_law_jacobian(compute: np.ndarray, a: float, b: float, c: float, g: float) -> np.ndarray:
    """Partial derivatives of ``logistic_law`` with respect to (a, b, c, g), one row per compute value."""
    compute = np.asarray(compute, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        power = compute ** (-b)
        denominator = 1.0 + a * power
        share = np.exp(-c) / denominator
        slope = (1.0 - g) * share / denominator
        return np.stack([-slope * power, slope * a * power * np.log(compute), -(1.0 - g) * share, 1.0 - share], axis=1)


def _logistic_starts(x: np.ndarray, y: np.ndarray) -> list[tuple[float, ...]]:
    return _profiled_starts(x, y, _logistic_rise, logistic_law)


LOGISTIC_LAW = Law(
    name="cod-logistic",
    function=logistic_law,
    parameters=("a", "b", "c", "g"),
    lower=COD_LAW.lower,
    upper=COD_LAW.upper,
    starts=_logistic_starts,
    jacobian=logistic_law_jacobian,
    compiled=COMPILED_LOGISTIC,
)
"""``logistic_law`` with COD_LAW's bounds, so that COD's class rules read the same on both."""
