"""The report's figures, built from a forecast's JSON form (``BenchmarkForecast.to_dict()``) and nothing else.

Every builder reads what the forecast stored and returns a ``Chart``, or None when the forecast lacks what the
figure needs (a baseline has no clusters, a JSON written without items has no item map): reports degrade, they
never refit. Evaluating a stored law at more compute values to draw its curve is drawing, not fitting.

Scores are shown in % (0-100), compute in training FLOPs on a log axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchcast.data.ladder import FLOPS_UNIT
from benchcast.laws import COD_LAW, LOGISTIC_LAW, cod_law
from benchcast.report.charts import Axis, Band, Chart, Mark, Series

EXTRAPOLATABLE = "extrapolatable"
NON_EXTRAPOLATABLE = "non-extrapolatable"
NON_EMERGENT = "non-emergent"
OUTLIER = "outlier"
CLASS_ORDER = (EXTRAPOLATABLE, NON_EXTRAPOLATABLE, NON_EMERGENT, OUTLIER)

# Okabe-Ito hues, safe for colour-blind readers; each class also has its own marker shape for grey print
CLASS_COLOURS = {
    EXTRAPOLATABLE: "#0072B2",
    NON_EXTRAPOLATABLE: "#E69F00",
    NON_EMERGENT: "#CC79A7",
    OUTLIER: "#8C8C8C",
}
CLASS_SYMBOLS = {EXTRAPOLATABLE: "circle", NON_EXTRAPOLATABLE: "diamond", NON_EMERGENT: "square", OUTLIER: "x"}
# shades per class for the item map, where every cluster gets its own colour
CLUSTER_SHADES = {
    EXTRAPOLATABLE: ("#0072B2", "#56B4E9", "#009E73", "#1B4F72", "#5DADA0", "#2E86C1", "#117A65", "#85C1E9"),
    NON_EXTRAPOLATABLE: ("#E69F00", "#D55E00", "#B9770E", "#F5B041", "#A04000", "#F0B27A"),
    NON_EMERGENT: ("#CC79A7", "#8E44AD", "#D7A1C4", "#6C3483", "#BB8FCE"),
    OUTLIER: ("#8C8C8C",),
}
UNCLUSTERED_COLOUR = "#C4C8CE"
LADDER_COLOUR = "#34495E"
ANCHOR_COLOUR = "#7F8C8D"
FORECAST_COLOUR = "#C0392B"
TRUTH_COLOUR = "#111111"

COMPUTE_TITLE = "Training compute (FLOPs, log scale)"
SCORE_RANGE = (-3.0, 103.0)
MAX_ITEM_POINTS = 2500
"""The item map shows at most this many items (an even sample of every cluster) to keep the file small."""
MAX_LEGEND_CLUSTERS = 8


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def flops_text(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2g} FLOPs".replace("e+", "e")


def flops_html(value: float | None) -> str:
    """Compute for the page: ``2.1×10<sup>22</sup> FLOPs``."""
    if value is None or not math.isfinite(value) or value <= 0:
        return "—"
    exponent = math.floor(math.log10(value))
    mantissa = float(f"{value / 10**exponent:.2g}")
    if mantissa >= 10:  # 9.99 rounds up to the next power
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:g}×10<sup>{exponent}</sup> FLOPs"


def _score(value: Any) -> float | None:
    return 100.0 * float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def intervals(bench: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """The forecast's intervals as (level, low, high), widest level last; malformed entries are skipped."""
    out = []
    for level, bounds in (bench.get("interval") or {}).items():
        if isinstance(bounds, list | tuple) and len(bounds) == 2 and all(isinstance(b, int | float) for b in bounds):
            out.append((str(level), float(bounds[0]), float(bounds[1])))
    return sorted(out, key=lambda item: _level(item[0]))


def _level(level: str) -> float:
    try:
        return float(level)
    except ValueError:
        return math.inf


def ladder_points(bench: Mapping[str, Any]) -> tuple[list[str], list[float], list[float]]:
    rows = [r for r in bench.get("ladder") or [] if isinstance(r, Mapping)]
    return [str(r.get("model", "")) for r in rows], [r.get("compute") for r in rows], [r.get("score") for r in rows]


def _target_label(bench: Mapping[str, Any]) -> str:
    return str(bench.get("target") or "target")


def _interval_series(
    x: float, levels: list[tuple[str, float, float]], *, horizontal: bool = False, legend: bool = True
) -> list[Series]:
    """One thick segment per interval level, the widest palest; vertical at compute x, or horizontal at row x."""
    out = []
    for rank, (level, lo, hi) in enumerate(reversed(levels)):
        width = 4 + 5 * (len(levels) - 1 - rank)
        xs, ys = ([100 * lo, 100 * hi], [x, x]) if horizontal else ([x, x], [100 * lo, 100 * hi])
        out.append(
            Series(
                f"{level}% interval" if level[:1].isdigit() else f"interval {level}",
                xs,
                ys,
                FORECAST_COLOUR,
                mode="lines",
                width=width,
                opacity=0.25 + 0.2 * rank,
                hover=[f"{level}% interval: {100 * lo:.1f}–{100 * hi:.1f}%"] * 2,
                legend=legend,
                group=f"interval {level}",
            )
        )
    return out


def forecast_chart(bench: Mapping[str, Any]) -> Chart | None:
    """Ladder scores against compute, the forecast at the target compute with its intervals, and the truth."""
    models, compute, scores = ladder_points(bench)
    target_compute = bench.get("target_compute")
    if not models and bench.get("forecast") is None:
        return None
    series = [
        Series(
            "ladder models",
            compute,
            [_score(s) for s in scores],
            LADDER_COLOUR,
            mode="lines+markers",
            size=8,
            width=1.5,
            hover=[
                f"{m}<br>{flops_text(c)}<br>score {pct(s)}" for m, c, s in zip(models, compute, scores, strict=True)
            ],
        )
    ]
    anchors = [a for a in (bench.get("details") or {}).get("anchors") or [] if isinstance(a, Mapping)]
    anchors = [a for a in anchors if isinstance(a.get("compute"), int | float) and math.isfinite(a["compute"])]
    if anchors:
        series.append(
            Series(
                "anchor models",
                [a["compute"] for a in anchors],
                [_score(a.get("score")) for a in anchors],
                ANCHOR_COLOUR,
                symbol="square",
                size=8,
                hover=[f"anchor {a.get('model')}<br>score {pct(a.get('score'))}" for a in anchors],
            )
        )
    if isinstance(target_compute, int | float):
        series.extend(_interval_series(target_compute, intervals(bench)))
        if bench.get("forecast") is not None:
            series.append(
                Series(
                    f"forecast ({bench.get('method')})",
                    [target_compute],
                    [_score(bench["forecast"])],
                    FORECAST_COLOUR,
                    symbol="diamond",
                    size=13,
                    hover=[f"forecast {pct(bench['forecast'])} at {flops_text(target_compute)}"],
                )
            )
        if bench.get("truth") is not None:
            series.append(
                Series(
                    "measured",
                    [target_compute],
                    [_score(bench["truth"])],
                    TRUTH_COLOUR,
                    symbol="x",
                    size=11,
                    hover=[f"measured {_target_label(bench)}: {pct(bench['truth'])}"],
                )
            )
    return _compute_chart(bench, "forecast", "Forecast at the target's compute", "Benchmark score (%)", series)


def _compute_chart(
    bench: Mapping[str, Any], kind: str, title: str, y_title: str, series: list[Series], caption: str = ""
) -> Chart:
    """A chart of scores against compute, with the target's compute marked and the extrapolation shaded."""
    return Chart(
        kind=kind,
        title=title,
        x=Axis(COMPUTE_TITLE, log=True),
        y=Axis(y_title, range=SCORE_RANGE),
        series=series,
        marks=_target_marks(bench),
        bands=_extrapolation_band(bench),
        caption=caption,
    )


def _target_marks(bench: Mapping[str, Any]) -> list[Mark]:
    target_compute = bench.get("target_compute")
    if not isinstance(target_compute, int | float) or target_compute <= 0:
        return []
    return [Mark("x", float(target_compute), _target_label(bench), colour=FORECAST_COLOUR, dash="dot")]


def _extrapolation_band(bench: Mapping[str, Any]) -> list[Band]:
    _, compute, _ = ladder_points(bench)
    compute = [c for c in compute if isinstance(c, int | float) and c > 0]
    target_compute = bench.get("target_compute")
    if not compute or not isinstance(target_compute, int | float) or target_compute <= max(compute):
        return []
    return [Band(max(compute), float(target_compute), "extrapolation")]


def _law_curve(cluster: Mapping[str, Any], compute: np.ndarray, unit: float) -> np.ndarray | None:
    params = cluster.get("params") or {}
    if cluster.get("law", "cod") != "cod" or not all(isinstance(params.get(k), int | float) for k in "abcg"):
        return None
    return cod_law(compute / unit, params["a"], params["b"], params["c"], params["g"])


def clusters_chart(bench: Mapping[str, Any]) -> Chart | None:
    """Every cluster's accuracy on each ladder model and its fitted law, extended to the target compute."""
    details = bench.get("details") or {}
    clusters = [c for c in details.get("clusters") or [] if isinstance(c, Mapping)]
    models, compute, _ = ladder_points(bench)
    if not clusters or not compute:
        return None
    unit = float(details.get("compute_unit") or FLOPS_UNIT)
    target_compute = bench.get("target_compute")
    finite = [c for c in compute if isinstance(c, int | float) and c > 0]
    high = max([*finite, target_compute if isinstance(target_compute, int | float) else 0.0])
    grid = np.geomspace(min(finite) / 1.5, high * 1.5, 80)
    counts = details.get("class_counts") or {}
    n_items = sum(v for v in counts.values() if isinstance(v, int)) or None
    series: list[Series] = []
    for kind in CLASS_ORDER:
        members = [c for c in clusters if c.get("class") == kind]
        if not members:
            continue
        colour = CLASS_COLOURS[kind]
        share = f", {100 * counts.get(kind, 0) / n_items:.0f}% of items" if n_items else ""
        label = f"{kind} ({len(members)} cluster{'s' if len(members) != 1 else ''}{share})"
        xs: list[float | None] = []
        ys: list[float | None] = []
        hover: list[str] = []
        curve_x: list[float | None] = []
        curve_y: list[float | None] = []
        curve_hover: list[str] = []
        at_target_x: list[float | None] = []
        at_target_y: list[float | None] = []
        at_target_hover: list[str] = []
        for cluster in members:
            name = f"cluster {cluster.get('id')} ({cluster.get('size')} items, {kind})"
            accuracy = cluster.get("accuracy") or []
            if len(accuracy) == len(compute):
                xs.extend(compute)
                ys.extend(_score(a) for a in accuracy)
                hover.extend(f"{name}<br>{m}: {pct(a)}" for m, a in zip(models, accuracy, strict=True))
            curve = _law_curve(cluster, grid, unit)
            if curve is not None:
                params = cluster.get("params") or {}
                law_text = ", ".join(f"{k} = {params[k]:.3g}" for k in "abcg")
                curve_x.extend([*grid.tolist(), None])
                curve_y.extend([*(100 * curve).tolist(), None])
                curve_hover.extend([f"{name}<br>fit: {law_text}<br>{cluster.get('reason', '')}"] * len(grid) + [""])
            prediction = cluster.get("prediction")
            if isinstance(target_compute, int | float) and isinstance(prediction, int | float):
                at_target_x.append(target_compute)
                at_target_y.append(100 * prediction)
                at_target_hover.append(f"{name}<br>law at target: {pct(prediction)}")
        series.append(
            Series(
                label,
                curve_x,
                curve_y,
                colour,
                mode="lines",
                width=2,
                opacity=0.9,
                hover=curve_hover,
                group=kind,
                dash="solid" if kind == EXTRAPOLATABLE else "dash",
            )
        )
        series.append(
            Series(
                label,
                xs,
                ys,
                colour,
                symbol=CLASS_SYMBOLS[kind],
                size=7,
                hover=hover,
                legend=False,
                group=kind,
            )
        )
        if at_target_x:
            series.append(
                Series(
                    label,
                    at_target_x,
                    at_target_y,
                    colour,
                    symbol=CLASS_SYMBOLS[kind],
                    hollow=True,
                    size=9,
                    hover=at_target_hover,
                    legend=False,
                    group=kind,
                )
            )
    return _compute_chart(
        bench,
        "clusters",
        "Difficulty clusters: accuracy per ladder model and fitted law",
        "Cluster accuracy (%)",
        series,
        caption=(
            "Dots: each cluster's mean pass rate on each ladder model. Lines: its fitted law "
            "y = g + (1 − g)·exp(−a·C^−b − c), C in 10^18 FLOPs (dashed where the class is not used). "
            "Hollow markers: the law at the target compute."
        ),
    )


def mapping_chart(bench: Mapping[str, Any]) -> Chart | None:
    """The subset-to-full mapping: its curve, the ladder and anchor points, and the target's mapped point."""
    details = bench.get("details") or {}
    mapping = details.get("mapping")
    if not isinstance(mapping, Mapping):
        return None
    series: list[Series] = [
        Series("y = x", [0, 100], [0, 100], "#B8BEC6", mode="lines", width=1, dash="dot", legend=False)
    ]
    curve = [p for p in details.get("mapping_curve") or [] if isinstance(p, list | tuple) and len(p) == 2]
    points = [p for p in mapping.get("points") or [] if isinstance(p, list | tuple) and len(p) == 2]
    kind = mapping.get("kind", "mapping")
    if curve:
        series.append(
            Series(
                f"mapping ({kind})",
                [_score(p[0]) for p in curve],
                [_score(p[1]) for p in curve],
                LADDER_COLOUR,
                mode="lines",
                width=2.5,
                hover=[f"subset {pct(p[0])} → full {pct(p[1])}" for p in curve],
            )
        )
    if points:
        series.append(
            Series(
                "points the map was fitted to" if curve else f"mapping points ({kind}; curve not stored)",
                [_score(p[0]) for p in points],
                [_score(p[1]) for p in points],
                "#95A5A6",
                mode="markers" if curve else "lines+markers",
                size=5,
                hover=[f"fit point: subset {pct(p[0])}, full {pct(p[1])}" for p in points],
            )
        )
    models, _, scores = ladder_points(bench)
    subset = details.get("ladder_subset_scores") or []
    if len(subset) == len(scores) and scores:
        series.append(
            Series(
                "ladder models",
                [_score(v) for v in subset],
                [_score(v) for v in scores],
                LADDER_COLOUR,
                size=8,
                hover=[
                    f"{m}<br>subset {pct(a)}, full {pct(b)}" for m, a, b in zip(models, subset, scores, strict=True)
                ],
            )
        )
    anchors = [a for a in details.get("anchors") or [] if isinstance(a, Mapping)]
    if anchors:
        series.append(
            Series(
                "anchor models",
                [_score(a.get("subset_score")) for a in anchors],
                [_score(a.get("score")) for a in anchors],
                ANCHOR_COLOUR,
                symbol="square",
                size=8,
                hover=[
                    f"anchor {a.get('model')}<br>subset {pct(a.get('subset_score'))}, full {pct(a.get('score'))}"
                    for a in anchors
                ],
            )
        )
    subset_forecast, value = details.get("subset_forecast"), bench.get("forecast")
    if isinstance(subset_forecast, int | float) and isinstance(value, int | float):
        sx, sy = 100 * subset_forecast, 100 * value
        series.append(
            Series(
                "target: law → map",
                [sx, sx, None, sx, 0],
                [0, sy, None, sy, sy],
                FORECAST_COLOUR,
                mode="lines",
                width=1,
                dash="dot",
                legend=False,
            )
        )
        series.append(
            Series(
                "target (subset forecast → forecast)",
                [sx],
                [sy],
                FORECAST_COLOUR,
                symbol="diamond",
                size=13,
                hover=[f"subset forecast {pct(subset_forecast)} maps to {pct(value)}"],
            )
        )
    marks = []
    if isinstance(bench.get("truth"), int | float):
        marks.append(Mark("y", 100 * bench["truth"], f"measured {pct(bench['truth'])}", colour=TRUTH_COLOUR))
    rmse = mapping.get("rmse")
    caption = f"Fitted as {kind}"
    caption += f", RMSE {100 * rmse:.2f} points" if isinstance(rmse, int | float) else ""
    caption += f"; {mapping['note']}" if mapping.get("note") else ""
    endpoint = details.get("endpoint_points")
    if isinstance(endpoint, int | float) and endpoint >= 0.05:
        caption += f"; {endpoint:.1f} points of the forecast rest on the (1, 1) endpoint, beyond the ladder's points"
    return Chart(
        kind="mapping",
        title="From the predictable subset to the full benchmark",
        x=Axis("Accuracy on the predictable subset (%)", range=SCORE_RANGE),
        y=Axis("Full-benchmark score (%)", range=SCORE_RANGE),
        series=series,
        marks=marks,
        caption=caption + ".",
    )


def _sample(indices: np.ndarray, keep: int) -> np.ndarray:
    if keep >= indices.size:
        return indices
    return indices[np.unique(np.linspace(0, indices.size - 1, max(keep, 1)).round().astype(int))]


def items_chart(bench: Mapping[str, Any], *, max_points: int = MAX_ITEM_POINTS) -> Chart | None:
    """Items on the first two principal components of their pass rates, coloured by cluster."""
    details = bench.get("details") or {}
    projection = details.get("item_map")
    labels = details.get("item_labels")
    if not isinstance(projection, Mapping) or not isinstance(labels, list):
        return None
    xs, ys = projection.get("x") or [], projection.get("y") or []
    if not xs or len(xs) != len(ys) or len(xs) != len(labels):
        return None
    classes = details.get("item_classes") or [None] * len(labels)
    cluster_class = {c.get("id"): c.get("class") for c in details.get("clusters") or [] if isinstance(c, Mapping)}
    label_array = np.asarray(labels, dtype=int)
    x_array, y_array = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    n = label_array.size
    groups = sorted(set(label_array.tolist()), key=lambda g: (g < 0, -int(np.sum(label_array == g)), g))
    shade_used = dict.fromkeys(CLUSTER_SHADES, 0)
    series: list[Series] = []
    shown = 0
    for group in groups:
        members = np.flatnonzero(label_array == group)
        keep = _sample(members, math.ceil(max_points * members.size / n)) if n > max_points else members
        if group >= 0:
            kind = cluster_class.get(group, OUTLIER)
            shades = CLUSTER_SHADES.get(kind, CLUSTER_SHADES[OUTLIER])
            colour = shades[shade_used.get(kind, 0) % len(shades)]
            shade_used[kind] = shade_used.get(kind, 0) + 1
            name = f"cluster {group} · {kind} ({members.size:,})"
            symbol = CLASS_SYMBOLS.get(kind, "circle")
            in_legend = shown < MAX_LEGEND_CLUSTERS
            shown += in_legend
        else:
            kinds = {classes[i] for i in members.tolist()}
            kind = NON_EMERGENT if kinds == {NON_EMERGENT} else OUTLIER
            colour = UNCLUSTERED_COLOUR if kind == NON_EMERGENT else CLASS_COLOURS[OUTLIER]
            name = f"{'never passed' if kind == NON_EMERGENT else 'outliers'} ({members.size:,})"
            symbol, in_legend = CLASS_SYMBOLS[kind], True
        series.append(
            Series(
                name,
                x_array[keep].tolist(),
                y_array[keep].tolist(),
                colour,
                symbol=symbol,
                size=6,
                opacity=0.8,
                hover=[f"item #{i}<br>{name}" for i in keep.tolist()],
                legend=in_legend,
            )
        )
    explained = projection.get("explained") or [None, None]
    titles = [
        f"PC{k + 1} of pass rates" + (f" ({100 * e:.0f}% of variance)" if isinstance(e, int | float) else "")
        for k, e in enumerate(explained[:2])
    ]
    caption = (
        "Each dot is one item, placed by the principal components of its pass rates across the ladder "
        "(PC1 ≈ how often it is passed). Colours are clusters, shapes their class."
    )
    if n > max_points:
        caption += f" Showing an even sample of {sum(len(s.x) for s in series):,} of {n:,} items from every cluster."
    hidden = sum(1 for s in series if not s.legend)
    if hidden:
        caption += f" The legend lists the {MAX_LEGEND_CLUSTERS} largest clusters; hover for the other {hidden}."
    return Chart(
        kind="items",
        title="Items by difficulty pattern, coloured by cluster",
        x=Axis(titles[0]),
        y=Axis(titles[1] if len(titles) > 1 else "PC2"),
        series=series,
        height=470,
        caption=caption,
    )


def law_evidence(details: Mapping[str, Any]) -> tuple[bool, float, float] | None:
    """COD's pooled law choice (``details["law_choice"]``): whether the clusters took the logistic twin, and the
    twin's and the paper law's summed hold-out errors; None where no comparison was made."""
    choice = details.get("law_choice")
    if not isinstance(choice, Mapping) or not isinstance(choice.get("holdout_errors"), Mapping):
        return None
    errors = choice["holdout_errors"]
    logistic, paper = errors.get(LOGISTIC_LAW.name), errors.get(COD_LAW.name)
    if not isinstance(logistic, int | float) or not isinstance(paper, int | float):
        return None
    return choice.get("chosen") == LOGISTIC_LAW.name, float(logistic), float(paper)


def cod_view(bench: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The benchmark as COD saw it: itself when COD made it, COD's part of an ``auto`` forecast, else None.

    ``auto`` keeps COD's diagnostics in ``details["cod"]`` and COD's own value in ``details["candidates"]``; the
    view swaps them in, so the cluster, mapping and item figures show COD's numbers, not the combined forecast.
    """
    details = bench.get("details") or {}
    if isinstance(details.get("clusters"), list) or isinstance(details.get("mapping"), Mapping):
        return bench
    nested = details.get("cod")
    if not isinstance(nested, Mapping) or not nested:
        return None
    value = (details.get("candidates") or {}).get("cod")
    value = value.get("forecast", value.get("value")) if isinstance(value, Mapping) else value
    return {**bench, "method": "cod", "forecast": value, "interval": {}, "details": nested, "declined": None}


def candidate_forecasts(
    bench: Mapping[str, Any], others: list[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every method's forecast for this benchmark: the report's own, ``details["candidates"]`` (with their
    ``weights`` and ``holdout_errors`` when ``auto`` stored them, and the ``skipped`` ones), other forecasts.

    Each entry is ``{"method", "forecast", "interval", "declined", "chosen", "note"}``; the first per method wins.
    """
    details = bench.get("details") or {}
    chosen = details.get("chosen_method")
    weights = details.get("weights") if isinstance(details.get("weights"), Mapping) else {}
    errors = details.get("holdout_errors") if isinstance(details.get("holdout_errors"), Mapping) else {}
    out: dict[str, dict[str, Any]] = {}

    def add(method: str, value: Any, interval: Any = None, declined: Any = None, candidate: bool = True) -> None:
        if method in out:
            return
        notes = []
        if isinstance(weights.get(method), int | float):
            notes.append(f"weight {100 * weights[method]:.0f}%")
        elif weights and candidate and isinstance(value, int | float):
            notes.append("no weight")
        if isinstance(errors.get(method), int | float):
            notes.append(f"held-out error {100 * errors[method]:.1f} points")
        out[method] = {
            "method": method,
            "forecast": float(value) if isinstance(value, int | float) else None,
            "interval": intervals({"interval": interval or {}}),
            "declined": declined,
            "chosen": method == chosen,
            "note": ", ".join(notes),
        }

    own = str(bench.get("method"))
    label = own if not chosen else f"{own} → {chosen}"
    add(label, bench.get("forecast"), bench.get("interval"), bench.get("declined"), candidate=False)
    candidates = details.get("candidates")
    if isinstance(candidates, Mapping):
        for method, entry in candidates.items():
            if isinstance(entry, Mapping):
                add(
                    str(method), entry.get("forecast", entry.get("value")), entry.get("interval"), entry.get("declined")
                )
            else:
                add(str(method), entry)
    skipped = details.get("skipped")
    if isinstance(skipped, Mapping):
        for method, reason in skipped.items():
            add(str(method), None, None, str(reason))
    for other in others or []:
        add(str(other.get("method")), other.get("forecast"), other.get("interval"), other.get("declined"), False)
    return list(out.values())


def methods_chart(bench: Mapping[str, Any], others: list[Mapping[str, Any]] | None = None) -> Chart | None:
    """Several methods' forecasts side by side, with their intervals and the measured truth."""
    entries = candidate_forecasts(bench, others)
    if len(entries) < 2:
        return None
    series: list[Series] = []
    for row, entry in enumerate(entries):
        series.extend(_interval_series(row, entry["interval"], horizontal=True, legend=not series))
    rows = [(row, e) for row, e in enumerate(entries) if e["forecast"] is not None]
    series.append(
        Series(
            "forecast",
            [100 * e["forecast"] for _, e in rows],
            [row for row, _ in rows],
            FORECAST_COLOUR,
            symbol="diamond",
            size=12,
            hover=[f"{e['method']}: {pct(e['forecast'])}" + (f"<br>{e['note']}" if e["note"] else "") for _, e in rows],
        )
    )
    declined = [(row, e) for row, e in enumerate(entries) if e["forecast"] is None]
    if declined:
        series.append(
            Series(
                "declined",
                [0.0] * len(declined),
                [row for row, _ in declined],
                "#8C8C8C",
                symbol="x",
                size=9,
                hover=[f"{e['method']} declined: {e['declined'] or 'no forecast'}" for _, e in declined],
            )
        )
    # reference values as legend entries: rotated labels do not fit a chart this short
    span = [-0.5, len(entries) - 0.5]
    _, _, scores = ladder_points(bench)
    if scores and isinstance(scores[-1], int | float):
        value = 100 * scores[-1]
        name = f"largest ladder model {pct(scores[-1])}"
        series.append(Series(name, [value, value], span, "#95A5A6", mode="lines", dash="dash", width=1.5))
    if isinstance(bench.get("truth"), int | float):
        value = 100 * bench["truth"]
        name = f"measured {pct(bench['truth'])}"
        series.append(Series(name, [value, value], span, TRUTH_COLOUR, mode="lines", dash="dash", width=1.5))
    labels = [
        (
            row,
            e["method"] + (" (chosen)" if e["chosen"] else "") + (f" · {e['note'].split(',')[0]}" if e["note"] else ""),
        )
        for row, e in enumerate(entries)
    ]
    return Chart(
        kind="methods",
        title="Methods compared",
        x=Axis("Forecast score (%)", range=SCORE_RANGE),
        y=Axis("", range=(len(entries) - 0.5, -0.5), ticks=labels),
        series=series,
        height=max(240, 130 + 40 * len(entries)),
    )


def overview_chart(benchmarks: Mapping[str, Mapping[str, Any]]) -> Chart | None:
    """All benchmarks in one view: the largest ladder model's score, the forecast with intervals, the truth."""
    names = list(benchmarks)
    if not names:
        return None
    series: list[Series] = []
    last_x, last_y, last_hover = [], [], []
    fx, fy, f_hover = [], [], []
    tx, ty, t_hover = [], [], []
    for row, name in enumerate(names):
        bench = benchmarks[name]
        _, _, scores = ladder_points(bench)
        if scores and isinstance(scores[-1], int | float):
            last_x.append(100 * scores[-1])
            last_y.append(row)
            last_hover.append(f"{name}<br>largest ladder model: {pct(scores[-1])}")
        series.extend(_interval_series(row, intervals(bench), horizontal=True, legend=not series))
        if isinstance(bench.get("forecast"), int | float):
            fx.append(100 * bench["forecast"])
            fy.append(row)
            f_hover.append(f"{name}<br>forecast {pct(bench['forecast'])}")
        if isinstance(bench.get("truth"), int | float):
            tx.append(100 * bench["truth"])
            ty.append(row)
            t_hover.append(f"{name}<br>measured {pct(bench['truth'])}")
    series.append(Series("largest ladder model", last_x, last_y, "#95A5A6", size=8, hover=last_hover))
    series.append(Series("forecast", fx, fy, FORECAST_COLOUR, symbol="diamond", size=12, hover=f_hover))
    if tx:
        series.append(Series("measured", tx, ty, TRUTH_COLOUR, symbol="x", size=11, hover=t_hover))
    levels = sorted({level for b in benchmarks.values() for level, _, _ in intervals(b)}, key=_level)
    caption = "Bars: the forecast's " + " and ".join(f"{level}%" for level in levels) + " intervals." if levels else ""
    return Chart(
        kind="overview",
        title="All benchmarks: forecast, measured score and the ladder's best",
        x=Axis("Score (%)", range=SCORE_RANGE),
        y=Axis("", range=(len(names) - 0.5, -0.5), ticks=list(enumerate(names))),
        series=series,
        height=max(260, 140 + 30 * len(names)),
        width=900,
        caption=caption,
    )
