"""COD as a method: cluster items by difficulty, fit each cluster's law, keep the extrapolatable clusters,
forecast their accuracy at the target compute, and map it to the whole benchmark.

Every paper default is a named parameter (cod-method.md §0.1). Where the paper is silent:

* the a > 1 threshold was set with compute in 10^18 FLOPs on ladders starting near 10^20 FLOPs (§4.1); the
  default unit is 1/100 of the smallest ladder model's compute, the same on such a ladder and scale-free on
  any other (``compute_unit``);
* the cluster accuracy is the members' mean pass rate: benchcast's input carries pass rates, not a separate
  greedy score (§4.1 names this as the alternative reading);
* the radius cap is sqrt(d)/10 for d ladder models (§2);
* the radius check uses the mean-shift mode (``centre="mode"``), the spec's default;
* anchors are added to the mapping points without a compatibility test (the paper does not specify one);
* the cluster law is the paper's unless the benchmark's clusters show firmly that another predicts better
  (``law="pooled"``, the default): every rising cluster is fitted with the paper's law and with its logistic
  twin, each refitted without the top one and two ladder models, and the logistic law replaces the paper's for
  the whole benchmark only where its hold-out error, summed over the clusters weighted by their size, is under
  half the paper law's, on ladders of at least 6 models and 10 trials per item. The paper's law rises as
  ``exp(-a C^-b)`` and under-forecasts clusters seen only in their onset when items rise like item-response
  curves (4-6 points low on simulated IRT ladders). ``law="cod"`` is the paper's law alone; ``law="select"``
  chooses per cluster, which noise misleads (docs/decisions.md, "Which law a cluster follows").

benchcast adds a diagnostic the paper does not have: how many points of a forecast rest on the mapping's (1, 1)
endpoint rather than on the ladder (``endpoint_points``), with a warning past ``ENDPOINT_WARNING``. A benchmark
with many items beyond the target's reach makes COD overshoot there (cod-ladder, docs/decisions.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from benchcast.cod.itemmap import item_map
from benchcast.cod.mapping import Mapping, fit_mapping
from benchcast.cod.meanshift import improved_mean_shift, radius
from benchcast.cod.seeded import reassign_clusters
from benchcast.data.ladder import BenchmarkLadder
from benchcast.laws import COD_LAW, LOGISTIC_LAW, Law, LawFit, fit_law
from benchcast.methods import Method, MethodForecast, register_method

EXTRAPOLATABLE = "extrapolatable"
NON_EXTRAPOLATABLE = "non-extrapolatable"
NON_EMERGENT = "non-emergent"
OUTLIER = "outlier"
CLASSES = (EXTRAPOLATABLE, NON_EXTRAPOLATABLE, NON_EMERGENT, OUTLIER)
LAWS = {
    "cod": (COD_LAW,),
    "logistic": (LOGISTIC_LAW,),
    "select": (COD_LAW, LOGISTIC_LAW),
    "pooled": (COD_LAW, LOGISTIC_LAW),
}
"""The cluster laws each ``law`` setting may use; with several, a hold-out on the ladder's top picks one, per
cluster (``select``) or for the whole benchmark (``pooled``)."""
SELECTION_HOLDOUT = 2
"""Law selection refits without the top 1, then the top 2, ladder models and scores the points left out."""
SELECTION_MARGIN = 0.5
"""Another law replaces the paper's only when its hold-out error is at most this share of the paper law's: on
items that follow the paper's law, a noisy hold-out must not switch clusters away from it."""
HOLDOUT_STARTS = 2
"""A hold-out refit runs the optimiser from the 2 best of its grid-searched starts (a full fit from all 4), for
at most 100 evaluations (a full fit: 400): it only scores the law, and degenerate 4-parameter fits on 6-7
points otherwise run to the limit."""
RELIABLE_TRIALS = 10
"""Below this median number of trials per item COD warns that clusters of 0/1 patterns extrapolate poorly, and
``law="pooled"`` keeps the paper's law: its hold-out comparison is then mostly noise."""
SELECTION_MIN_MODELS = 6
"""Below this many ladder models a 4-parameter refit on fewer points says little: the paper's law is used."""
ENDPOINT_WARNING = 10.0
"""COD warns when more than this many points of a forecast rest on the mapping's (1, 1) endpoint alone
(``endpoint_points``): on the public suite and simulated ladders where COD misses through its mapping
(cod-ladder, IRT ladders with items far beyond the target) 12-86 points did, and at most 4.8 where the
endpoint held (with one simulated exception at 13.5; docs/decisions.md, "How many points rest on the (1, 1)
endpoint")."""
LADDER_UNIT_DIVISOR = 100.0
"""With ``compute_unit="ladder"`` the smallest ladder model sits at C = 100, as a 10^20-FLOP model does in the
paper's unit of 10^18 FLOPs."""


@dataclass
class Cluster:
    """One difficulty cluster: its members, the fitted law and its class."""

    id: int
    members: np.ndarray
    centre: np.ndarray
    accuracy: np.ndarray
    fit: LawFit
    kind: str
    reason: str

    @property
    def size(self) -> int:
        return int(self.members.size)

    def to_dict(self, target_units: float | None = None) -> dict[str, Any]:
        out = {
            "id": self.id,
            "size": self.size,
            "class": self.kind,
            "reason": self.reason,
            "centre": [float(v) for v in self.centre],
            "accuracy": [float(v) for v in self.accuracy],
            **self.fit.to_dict(),
        }
        if target_units is not None:
            out["prediction"] = float(self.fit.predict(target_units)[0])
        return out


def classify(
    fit: LawFit,
    accuracy: np.ndarray,
    compute_units: np.ndarray | None = None,
    *,
    a_min: float = 1.0,
    b_min: float = 0.1,
    c_max: float = 1.0,
    min_rise: float = 0.02,
    floor_margin: float = 0.1,
    saturation: float = 0.9,
) -> tuple[str, str]:
    """Class of a fitted cluster by COD's rules (a > 1, b > 0.1, 0 <= c < 1), with a plain reason.

    A flat curve's parameters are not identifiable (a flat line at 0.98 fits as a huge ``a`` with a steep ``b``
    as well as a tiny ``a``), so before the parameter rules a curve that rises by less than ``min_rise`` across
    the ladder counts as negligible growth — benchcast's addition, stated because the paper's rules alone
    misclassify flat clusters. Negligible growth near the floor is *non-emergent*; near the top it is a
    saturated *non-extrapolatable* cluster. Failing the ceiling rule is a low-ceiling *non-extrapolatable*.
    """
    p = fit.params
    if not all(math.isfinite(v) for v in fit.values) or not math.isfinite(fit.rmse):
        return NON_EXTRAPOLATABLE, "law fit failed"
    if compute_units is not None and len(compute_units):
        curve = fit.predict(np.array([np.min(compute_units), np.max(compute_units)]))
        rise = float(curve[1] - curve[0])
    else:
        rise = float(np.max(accuracy) - np.min(accuracy))
    grows = p["a"] > a_min and p["b"] > b_min and rise >= min_rise
    ceiling_ok = 0.0 <= p["c"] < c_max
    if grows and ceiling_ok:
        return EXTRAPOLATABLE, "scales cleanly"
    if not grows:
        top = float(np.max(accuracy))
        if top >= saturation:
            return NON_EXTRAPOLATABLE, "saturated: no growth left to extrapolate"
        if top - min(p["g"], float(np.min(accuracy))) < floor_margin:
            return NON_EMERGENT, "flat near its floor: not yet emerged"
        if rise < min_rise:
            return NON_EXTRAPOLATABLE, f"negligible growth (rise {100 * rise:.1f} points over the ladder)"
        if p["a"] <= a_min:
            return NON_EXTRAPOLATABLE, f"fails the rise rule a > {a_min:g} (a = {p['a']:.3g})"
        return NON_EXTRAPOLATABLE, f"fails the slope rule b > {b_min:g} (b = {p['b']:.3g})"
    return NON_EXTRAPOLATABLE, f"low ceiling (c = {p['c']:.3g})"


@register_method("cod")
class COD(Method):
    """Clustering-On-Difficulty (Xu et al., ICLR 2026), faithful to the published defaults where they are given
    (the law choice, ``law``, departs from the paper's law only on firm evidence; see the module docstring).

    Parameters
    ----------
    quantile : float
        Quantile Q for ``estimate_bandwidth`` (paper: 0.1).
    radius_cap : float or None
        Cap U on the radius; None means sqrt(d)/10 for d ladder models.
    min_cluster_size : int
        K, the smallest cluster kept (paper: 10).
    centre : {"mode", "mean"}
        Centre used in the radius check.
    a_min, b_min, c_max : float
        Extrapolatable filter a > a_min, b > b_min, 0 <= c < c_max (paper: 1, 0.1, 1).
    min_rise : float
        A cluster whose fitted curve rises less than this across the ladder is flat (see ``classify``).
    floor : "fit", "chance" or float
        The random-guess level g: fitted per cluster (paper), the benchmark's chance level when known, or fixed.
    mapping : {"spline", "poly4", "isotonic"}
        Subset-to-full map (paper v4: spline; v1: poly4).
    mapping_rmse : float
        Spline RMSE target T (paper: 0.005).
    min_share : float
        Below this predictable share COD declines: the mapping would then carry the forecast from a few
        items to the whole benchmark through its (1, 1) endpoint alone (benchcast's addition; the paper's
        shares were 53-94%).
    law : {"pooled", "cod", "select", "logistic"}
        The cluster law: the paper's unless the clusters agree firmly that its logistic twin predicts their
        held-out top better (``"pooled"``, default; see the module docstring), the paper's alone (``"cod"``),
        a choice per cluster (``"select"``) or the logistic twin alone.
    cluster_sample : int or None
        Above this many distinct items, the improved MeanShift finds its modes on a seeded random sample of
        that many and labels every item by them (``mean_shift``'s ``sample_size``); None clusters every item.
        The paper's benchmarks hold at most 12,000 items, where it never applies; at 1,000,000 items it cuts
        the clustering from about 50 s to under 10 s (docs/performance.md has the forecasts both ways).
    min_models : int
        Fewer ladder models than this and COD declines (a 4-parameter law needs points).
    compute_unit : float or "ladder"
        FLOPs per unit of C in the law. The paper uses 10^18 FLOPs, for ladders that start near 10^20 FLOPs;
        its class rules (a > 1, b > 0.1) and the fit's bounds hold in that unit only. ``"ladder"`` (default)
        takes 1/100 of the smallest ladder model's compute, which is the paper's unit on a ladder like the
        paper's and puts any other ladder at the same place on the law: the forecast then depends on compute
        ratios only, not on whether the models cost 10^10 or 10^24 FLOPs.

    Examples
    --------
    >>> from benchcast.simulate import simulate_ladder
    >>> sim = simulate_ladder(n_items=600, seed=0)
    >>> bench = sim.ladder.benchmark_ladder("sim", sim.ladder_models)
    >>> result = COD().fit(bench).forecast(sim.target_compute)
    >>> abs(result.value - sim.truth) < 0.05
    True
    """

    description = "Clustering-On-Difficulty (Xu et al. 2026)"

    def __init__(
        self,
        quantile: float = 0.1,
        radius_cap: float | None = None,
        min_cluster_size: int = 10,
        centre: str = "mode",
        a_min: float = 1.0,
        b_min: float = 0.1,
        c_max: float = 1.0,
        min_rise: float = 0.02,
        floor: str | float = "fit",
        mapping: str = "spline",
        mapping_rmse: float = 0.005,
        min_models: int = 3,
        compute_unit: float | str = "ladder",
        use_anchors: bool = True,
        law: str = "pooled",
        min_share: float = 0.2,
        cluster_sample: int | None = 100_000,
    ) -> None:
        self.quantile = quantile
        self.radius_cap = radius_cap
        self.min_cluster_size = min_cluster_size
        self.centre = centre
        self.a_min = a_min
        self.b_min = b_min
        self.c_max = c_max
        self.min_rise = min_rise
        self.floor = floor
        self.mapping = mapping
        self.mapping_rmse = mapping_rmse
        self.min_models = min_models
        self.compute_unit = compute_unit
        self.use_anchors = use_anchors
        self.law = law
        self.min_share = min_share
        self.cluster_sample = cluster_sample

    def _validate(self) -> None:
        if not 0 < self.quantile <= 1:
            raise ValueError(f"quantile must lie in (0, 1], got {self.quantile}")
        if self.min_cluster_size < 1:
            raise ValueError(f"min_cluster_size must be >= 1, got {self.min_cluster_size}")
        if self.law not in LAWS:
            raise ValueError(f"law must be one of {', '.join(LAWS)}, got {self.law!r}")
        if self.centre not in {"mode", "mean"}:
            raise ValueError(f"centre must be 'mode' or 'mean', got {self.centre!r}")
        if not (self.floor in {"fit", "chance"} or isinstance(self.floor, int | float)):
            raise ValueError(f"floor must be 'fit', 'chance' or a number, got {self.floor!r}")
        if not (
            self.compute_unit == "ladder" or (isinstance(self.compute_unit, int | float) and self.compute_unit > 0)
        ):
            raise ValueError(f"compute_unit must be 'ladder' or a positive number of FLOPs, got {self.compute_unit!r}")

    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        if ladder.n_models < self.min_models:
            return f"needs at least {self.min_models} ladder models, has {ladder.n_models}"
        if ladder.n_items < self.min_cluster_size:
            return f"needs item-level results: {ladder.n_items} item(s), fewer than a cluster ({self.min_cluster_size})"
        return None

    def _floor_bounds(self, ladder: BenchmarkLadder) -> tuple[float, float] | None:
        if self.floor == "fit":
            return None
        level = ladder.chance if self.floor == "chance" else float(self.floor)
        return None if level is None else (float(level), float(level))

    def fit(self, ladder: BenchmarkLadder) -> Self:
        """Cluster the ladder's items, fit and classify every cluster, and fit the mapping."""
        self._validate()
        self.ladder_ = ladder
        self.declined_ = self.applicable(ladder)
        if self.declined_:
            return self
        rates = ladder.pass_rates
        self.law_choice_: dict[str, Any] | None = None  # set by a pooled law choice (``_fit_clusters``)
        warm = self._warm_twin(ladder)
        # a warm-started refit keeps its twin's unit, so that the twin's parameters are a start in the same unit
        self.unit_ = self._unit(ladder) if warm is None else warm.unit_
        units = ladder.compute / self.unit_
        d = ladder.n_models
        nonzero = rates.sum(axis=1) > 0
        self.class_codes_ = np.full(ladder.n_items, CLASSES.index(OUTLIER), dtype=np.int8)
        self.class_codes_[~nonzero] = CLASSES.index(NON_EMERGENT)
        self.labels_ = np.full(ladder.n_items, -1, dtype=int)
        features = rates[nonzero]
        cap = math.sqrt(d) / 10 if self.radius_cap is None else self.radius_cap
        if warm is not None:
            # the twin's radius, rescaled for a left-out model: distances grow as the root of the dimension
            self.radius_ = min(warm.radius_ * math.sqrt(d / warm.ladder_.n_models), cap)
            kept_models = [warm.ladder_.models.index(name) for name in ladder.models]
            warm_centres = warm.centres_[:, kept_models]
        else:
            self.radius_ = radius(features, quantile=self.quantile, cap=cap) if len(features) else cap
        if not len(features):
            labels, centres = np.empty(0, dtype=int), np.empty((0, d))
        elif warm is not None:
            labels, twins = reassign_clusters(
                features, self.radius_, warm_centres, min_cluster_size=self.min_cluster_size
            )
            centres = warm_centres[twins]
        else:
            labels, centres = improved_mean_shift(
                features,
                self.radius_,
                min_cluster_size=self.min_cluster_size,
                use_mode=self.centre == "mode",
                sample_size=self.cluster_sample,
            )
        self.centres_ = centres
        self.labels_[nonzero] = labels
        floor_bounds = self._floor_bounds(ladder)
        self.clusters_: list[Cluster] = []
        nonzero_index = np.flatnonzero(nonzero)
        # members of every cluster at once, each in ascending item order: one stable sort by label (as 16-bit
        # integers where they fit, which NumPy sorts by radix, four times faster)
        narrow = labels.astype(np.int16) if len(centres) < np.iinfo(np.int16).max else labels
        by_label = np.argsort(narrow, kind="stable")
        bounds = np.searchsorted(labels[by_label], np.arange(len(centres) + 1))
        lower, upper = list(COD_LAW.lower), list(COD_LAW.upper)
        if floor_bounds is not None:
            lower[3], upper[3] = floor_bounds
        members = [nonzero_index[by_label[bounds[k] : bounds[k + 1]]] for k in range(len(centres))]
        accuracies = [rates[chosen].mean(axis=0) for chosen in members]
        if warm is not None:
            # the same cluster's full-data fit (and law) is the start: the replicate's curve lies close to it
            twin_fits = [warm.clusters_[int(twin)].fit for twin in twins]
            fits = [
                fit_law(twin.law, units, accuracy, lower=lower, upper=upper, starts=[twin.values])
                for twin, accuracy in zip(twin_fits, accuracies, strict=True)
            ]
        else:
            fits = self._fit_clusters(units, accuracies, [m.size for m in members], lower, upper)
        for cluster_id, (chosen, accuracy, law_fit) in enumerate(zip(members, accuracies, fits, strict=True)):
            kind, reason = classify(
                law_fit, accuracy, units, a_min=self.a_min, b_min=self.b_min, c_max=self.c_max, min_rise=self.min_rise
            )
            self.class_codes_[chosen] = CLASSES.index(kind)
            self.clusters_.append(Cluster(cluster_id, chosen, centres[cluster_id], accuracy, law_fit, kind, reason))
        self.predictable_ = np.zeros(ladder.n_items, dtype=bool)
        for cluster in self.clusters_:
            if cluster.kind == EXTRAPOLATABLE:
                self.predictable_[cluster.members] = True
        self.predictable_share_ = float(self.predictable_.mean())
        if not self.predictable_.any():
            self.declined_ = "no cluster is extrapolatable: nothing on this benchmark scales cleanly on the ladder"
            return self
        if self.predictable_share_ < self.min_share:
            self.declined_ = (
                f"only {100 * self.predictable_share_:.0f}% of items scale cleanly on the ladder (under "
                f"{100 * self.min_share:.0f}%): the rest, which have not emerged, would be guessed by the mapping"
            )
            return self
        subset_scores = rates[self.predictable_].mean(axis=0)
        full_scores = rates.mean(axis=0)
        if self.use_anchors and ladder.anchor_pass_rates is not None:
            subset_scores = np.concatenate([subset_scores, ladder.anchor_pass_rates[self.predictable_].mean(axis=0)])
            full_scores = np.concatenate([full_scores, ladder.anchor_pass_rates.mean(axis=0)])
        self.mapping_points_ = (subset_scores, full_scores)
        self.mapping_: Mapping = fit_mapping(
            subset_scores, full_scores, kind=self.mapping, rmse_target=self.mapping_rmse
        )
        return self

    @property
    def item_class_(self) -> np.ndarray:
        """Each item's class, one of ``CLASSES`` (kept as codes: a bootstrap refit never needs the names)."""
        return np.asarray(CLASSES, dtype=object)[self.class_codes_]

    def _fit_clusters(
        self, units: np.ndarray, accuracies: list[np.ndarray], sizes: list[int], lower: list, upper: list
    ) -> list[LawFit]:
        """Every cluster's law fit. With one candidate law, that law; with ``law="select"`` each cluster's own
        choice (``_fit_cluster``); with ``law="pooled"`` one law for the whole benchmark: the one whose refits
        without the top ladder models forecast the left-out points better, summed over the rising clusters and
        weighted by their size: the paper's law unless the other's sum is under ``SELECTION_MARGIN`` of it, on
        ladders of ``SELECTION_MIN_MODELS`` models and ``RELIABLE_TRIALS`` trials per item."""
        laws = LAWS[self.law]
        if self.law != "pooled":
            return [self._fit_cluster(units, accuracy, lower, upper) for accuracy in accuracies]
        trials = _median_trials(self.ladder_)
        if len(units) < SELECTION_MIN_MODELS or (trials is not None and trials < RELIABLE_TRIALS):
            self.law_choice_ = {
                "chosen": laws[0].name,
                "reason": f"not compared: needs {SELECTION_MIN_MODELS} ladder models and {RELIABLE_TRIALS} trials "
                "per item",
            }
            return [fit_law(laws[0], units, accuracy, lower=lower, upper=upper) for accuracy in accuracies]
        totals = np.zeros(len(laws))
        for accuracy, size in zip(accuracies, sizes, strict=True):
            if float(np.ptp(accuracy)) < self.min_rise:
                continue  # no rise, no shape to tell the laws apart
            errors = np.array([_holdout_error(law, units, accuracy, lower, upper) for law in laws])
            if np.all(np.isfinite(errors)):
                totals += size * errors
        best = 1 if totals[0] > 0 and totals[1] <= SELECTION_MARGIN * totals[0] else 0
        # the evidence behind the choice, for the forecast's details: each law's summed hold-out error
        self.law_choice_ = {
            "holdout_errors": dict(zip((law.name for law in laws), totals.tolist(), strict=True)),
            "chosen": laws[best].name,
        }
        return [fit_law(laws[best], units, accuracy, lower=lower, upper=upper) for accuracy in accuracies]

    def _fit_cluster(self, units: np.ndarray, accuracy: np.ndarray, lower: list, upper: list) -> LawFit:
        """The cluster's law fit; with several candidate laws, the one whose refits without the top ladder
        models forecast the left-out points best (ties and short ladders keep the paper's law)."""
        laws = LAWS[self.law]
        flat = float(np.ptp(accuracy)) < self.min_rise  # no rise, no shape to choose between
        if len(laws) == 1 or len(units) < SELECTION_MIN_MODELS or flat:
            return fit_law(laws[0], units, accuracy, lower=lower, upper=upper)
        fits = [fit_law(law, units, accuracy, lower=lower, upper=upper) for law in laws]
        errors = np.array([_holdout_error(fit.law, units, accuracy, lower, upper) for fit in fits])
        errors[1:] /= SELECTION_MARGIN  # the paper's law (first) wins unless another is clearly better
        return fits[int(np.argmin(errors))]

    def _warm_twin(self, ladder: BenchmarkLadder) -> COD | None:
        """The fitted COD given to ``warm_start``, with its centres on this ladder's models (a bootstrap
        replicate may leave a model out), or None."""
        twin = getattr(self, "warm_start_", None)
        if not isinstance(twin, COD) or getattr(twin, "declined_", "unfitted") or not hasattr(twin, "centres_"):
            return None
        if not set(ladder.models) <= set(twin.ladder_.models):
            return None
        return twin

    def _unit(self, ladder: BenchmarkLadder) -> float:
        if self.compute_unit != "ladder":
            return float(self.compute_unit)
        return float(np.min(ladder.compute)) / LADDER_UNIT_DIVISOR

    def _warnings(self, ladder: BenchmarkLadder) -> list[str]:
        """What a reader of the forecast should know about the ladder and the fit; asked by ``forecast`` only, so
        that a bootstrap refit, which needs the value alone, does not scan its 800,000 cells for them."""
        warnings = []
        if ladder.n_models < 6:
            warnings.append(
                f"only {ladder.n_models} ladder models: COD's law has 4 parameters and its published accuracy "
                "used 8 models"
            )
        if self.predictable_share_ < 0.2:
            warnings.append(
                f"predictable subset is {100 * self.predictable_share_:.0f}% of items (under 20%): the mapping "
                "carries most of the forecast"
            )
        trials = _median_trials(ladder)
        if trials is not None and trials < RELIABLE_TRIALS:
            warnings.append(
                f"pass rates rest on {trials:g} trial(s) per item: clusters of 0/1 patterns extrapolate poorly"
            )
        if np.all(np.ptp(ladder.pass_rates, axis=1) == 0):
            warnings.append("no item's pass rate varies across the ladder")
        if self.mapping_.note:
            warnings.append(f"mapping: {self.mapping_.note}")
        return warnings

    def _subset_forecast(self, units: float) -> float:
        """Size-weighted mean of the extrapolatable clusters' laws at ``units`` (10^18 FLOPs)."""
        kept = [c for c in self.clusters_ if c.kind == EXTRAPOLATABLE]
        sizes = np.array([c.size for c in kept], dtype=float)
        predictions = np.array([float(c.fit.predict(units)[0]) for c in kept])
        return float(np.dot(sizes, predictions) / sizes.sum())

    def predict(self, compute: float, **kwargs: object) -> float | None:
        if self.declined_:
            return None
        return float(self.mapping_(self._subset_forecast(compute / self.unit_)))

    def forecast(self, compute: float) -> MethodForecast:
        """Forecast the full-benchmark score of a model trained with ``compute`` FLOPs."""
        ladder = self.ladder_
        if self.declined_:
            return MethodForecast(None, declined=self.declined_)
        warnings = self._warnings(ladder)
        if compute <= float(np.max(ladder.compute)):
            warnings.append("target compute lies inside the ladder's range: this is interpolation")
        units = compute / self.unit_
        subset_forecast = self._subset_forecast(units)
        value = float(self.mapping_(subset_forecast))
        endpoint = endpoint_points(*self.mapping_points_, self.predictable_share_, subset_forecast, value)
        if endpoint > ENDPOINT_WARNING:
            warnings.append(
                f"{endpoint:.0f} points of this forecast rest on the mapping's (1, 1) endpoint alone: it assumes "
                f"that the {100 * (1 - self.predictable_share_):.0f}% of items outside the predictable subset "
                "catch up with it beyond the ladder, faster than they did on it; an anchor model above the "
                "ladder would test that"
            )
        class_counts = {k: int(np.sum(self.class_codes_ == code)) for code, k in enumerate(CLASSES)}
        details = {
            "subset_forecast": subset_forecast,
            "predictable_share": self.predictable_share_,
            "endpoint_points": endpoint,
            "radius": self.radius_,
            "compute_unit": self.unit_,
            "n_clusters": len(self.clusters_),
            "n_outliers": class_counts[OUTLIER],
            "n_all_zero": int(np.sum(ladder.pass_rates.sum(axis=1) == 0)),
            "class_counts": class_counts,
            "clusters": [c.to_dict(units) for c in self.clusters_],
            "mapping": self.mapping_.to_dict(),
            "law_choice": self.law_choice_,
            "ladder_subset_scores": [float(v) for v in ladder.pass_rates[self.predictable_].mean(axis=0)],
            "item_labels": self.labels_.tolist(),
            "item_classes": list(self.item_class_),
            # for reports, which draw but never refit: the fitted map on a grid, the anchors' points, an item map
            "mapping_curve": _curve_points(self.mapping_),
            "anchors": _anchor_points(ladder, self.predictable_) if self.use_anchors else [],
            "item_map": item_map(ladder.pass_rates),
        }
        return MethodForecast(value, details=details, warnings=warnings)


def endpoint_points(
    subset_scores: np.ndarray, full_scores: np.ndarray, share: float, subset_forecast: float, value: float
) -> float:
    """How many points of a forecast rest on the mapping's (1, 1) endpoint rather than on the ladder.

    Past the largest subset score the mapping has no data, only its pin at (1, 1), which says that the items
    outside the predictable subset are all solved when the subset is. The full score is ``share * subset +
    (1 - share) * rest``; this returns the rise of the rest beyond the mapping's last point that exceeds what
    the ladder's own relation between the rest and the subset (a straight line from the lowest to the highest
    subset score) carries, in points of the whole benchmark. Zero when the forecast stays inside the data.

    Examples
    --------
    >>> subset, full = np.array([0.1, 0.5, 0.9]), np.array([0.01, 0.05, 0.09])  # the rest never moves
    >>> round(endpoint_points(subset, full, 0.1, 1.0, 1.0), 1)
    90.0
    >>> endpoint_points(subset, full, 0.1, 0.8, 0.08)
    0.0
    """
    top, first = int(np.argmax(subset_scores)), int(np.argmin(subset_scores))
    if subset_forecast <= subset_scores[top] or share >= 1.0:
        return 0.0
    rest = (full_scores - share * subset_scores) / (1.0 - share)
    spread = subset_scores[top] - subset_scores[first]
    carried = max((rest[top] - rest[first]) / spread, 0.0) if spread > 0 else 0.0
    implied = (value - share * subset_forecast) / (1.0 - share)
    leap = implied - rest[top] - carried * (subset_forecast - subset_scores[top])
    return float(100.0 * (1.0 - share) * leap)


def _median_trials(ladder: BenchmarkLadder) -> float | None:
    """The median number of trials behind the ladder's pass rates (None where every score is continuous)."""
    finite = ladder.trials[np.isfinite(ladder.trials)]
    return float(np.median(finite)) if finite.size else None


def _holdout_error(law: Law, units: np.ndarray, accuracy: np.ndarray, lower: list, upper: list) -> float:
    """Squared error of ``law`` fitted without the top 1, then 2, ladder points, on the points left out. Each
    refit starts afresh: one started from a fit to every point, which saw the left-out points, would stay near it
    and score the law on points it was fitted to."""
    total = 0.0
    for held in range(1, SELECTION_HOLDOUT + 1):
        fit = fit_law(
            law, units[:-held], accuracy[:-held], lower=lower, upper=upper, refine=HOLDOUT_STARTS, max_nfev=100
        )
        total += float(np.sum((fit.predict(units[-held:]) - accuracy[-held:]) ** 2))
    return total if math.isfinite(total) else math.inf


def _curve_points(mapping: Mapping) -> list[list[float]]:
    """The fitted map at 201 even steps plus its own points (where its detail is), as (subset, full) pairs."""
    grid = np.union1d(np.linspace(0.0, 1.0, 201), mapping.x)
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(grid, mapping(grid), strict=True)]


def _anchor_points(ladder: BenchmarkLadder, predictable: np.ndarray) -> list[dict[str, Any]]:
    """Each anchor's name, compute and (predictable-subset, full) scores: its point in the mapping."""
    if ladder.anchor_pass_rates is None or not ladder.anchors:
        return []
    compute = ladder.anchor_compute if ladder.anchor_compute is not None else np.full(len(ladder.anchors), np.nan)
    return [
        {
            "model": name,
            "compute": float(compute[k]),
            "subset_score": float(ladder.anchor_pass_rates[predictable, k].mean()),
            "score": float(ladder.anchor_pass_rates[:, k].mean()),
        }
        for k, name in enumerate(ladder.anchors)
    ]
