"""The HTML report: one self-contained file per forecast, readable offline, on screen and on paper.

``write_report(forecast, path)`` takes a ``Forecast`` or its JSON form (what ``Forecast.write_json`` wrote);
a ``Forecast`` is turned into that same JSON form first, so a report made from a live forecast and one made
later from its file are the same page. The report reads what the forecast stored and never refits.

The page embeds plotly.js inline (no network needed to open it). Each chart is drawn twice from one
description (``benchcast.report.charts``): an interactive Plotly figure, and a static SVG that is shown until
Plotly has drawn the figure, whenever scripts cannot run, and always in print. Per benchmark the page has a
plain-language summary and up to five figures: the forecast against the ladder, the clusters and their laws,
the subset-to-full mapping, the item map, and, when several methods ran, their forecasts side by side.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from importlib import metadata
from pathlib import Path
from typing import Any

from benchcast.auto import Z
from benchcast.diagnostics import NON_MONOTONE
from benchcast.errors import InputError
from benchcast.forecast import Forecast
from benchcast.report import figures
from benchcast.report.charts import Chart, to_plotly, to_svg
from benchcast.report.figures import (
    CLASS_COLOURS,
    CLASS_ORDER,
    cod_view,
    flops_html,
    flops_text,
    intervals,
    ladder_points,
    pct,
)
from benchcast.report.wide import too_wide, why_not

PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "svg", "scale": 1},
}

GOOD_ERROR_POINTS, FAIR_ERROR_POINTS = 2.0, 5.0
"""Without an interval, a forecast within 2 points of the truth reads as good and within 5 as fair."""
WIDE_INTERVAL = 0.4
"""An interval wider than 40 points holds almost any truth: landing in it is only fair news."""


def load_forecast_json(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a forecast written by ``Forecast.write_json``: ``{benchmark: {...}}``; other keys are ignored."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not a forecast JSON file: {error}", path=path) from None
    benchmarks = _benchmarks(data)
    if not benchmarks:
        raise InputError('no benchmark forecasts in this file (expected {benchmark: {"forecast": ...}})', path=path)
    return benchmarks


def _benchmarks(data: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(data, Mapping):
        return {}
    return {
        str(name): {"benchmark": str(name), **entry}
        for name, entry in data.items()
        if isinstance(entry, Mapping) and "forecast" in entry
    }


def _as_benchmarks(forecast: Forecast | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    if isinstance(forecast, Forecast):
        # through JSON, so a live forecast and its file give the same page
        return _benchmarks(json.loads(json.dumps(forecast.to_dict())))
    return _benchmarks(forecast)


# ---------------------------------------------------------------------------------------------------------
# words


def verdict(bench: Mapping[str, Any]) -> tuple[str, str]:
    """A short judgement of the forecast and its CSS tone: ``good``, ``fair``, ``poor``, ``muted``, ``caution``."""
    value, truth = bench.get("forecast"), bench.get("truth")
    if not isinstance(value, int | float):
        return "muted", "declined"
    if isinstance(truth, int | float):
        error = abs(value - truth) * 100
        levels = intervals(bench)
        if levels:
            for rank, (level, lo, hi) in enumerate(levels):
                if lo - 1e-12 <= truth <= hi + 1e-12:
                    if hi - lo > WIDE_INTERVAL:
                        return "fair", f"inside the {level}% interval, which is very wide"
                    return ("good" if rank == 0 else "fair"), f"measured inside the {level}% interval"
            return "poor", f"measured outside the {levels[-1][0]}% interval"
        if error <= GOOD_ERROR_POINTS:
            return "good", f"within {error:.1f} points"
        return ("fair" if error <= FAIR_ERROR_POINTS else "poor"), f"off by {error:.1f} points"
    if bench.get("warnings"):
        return "caution", "not measured; read the warnings"
    return "muted", "not measured yet"


def _ratio_text(bench: Mapping[str, Any]) -> str:
    _, compute, _ = ladder_points(bench)
    compute = [c for c in compute if isinstance(c, int | float) and c > 0]
    target = bench.get("target_compute")
    if not compute or not isinstance(target, int | float):
        return ""
    ratio = target / max(compute)
    if ratio <= 1:
        return " (inside the ladder's compute range: interpolation)"
    return f" ({ratio:.3g}× the largest ladder model's compute)"


def summary_html(bench: Mapping[str, Any]) -> str:
    """The benchmark's story in a few plain sentences (HTML)."""
    method = escape(str(bench.get("method")))
    details = bench.get("details") or {}
    chosen = details.get("chosen_method")
    if chosen:
        method += " (a weighted combination)" if chosen == "weighted" else f" (chose {escape(str(chosen))})"
    target = escape(str(bench.get("target") or "the target"))
    where = flops_html(bench.get("target_compute")) + escape(_ratio_text(bench))
    value, truth = bench.get("forecast"), bench.get("truth")
    sentences = []
    if isinstance(value, int | float):
        sentences.append(f"<b>{method}</b> forecasts <b>{pct(value)}</b> for {target} at {where}.")
        levels = intervals(bench)
        if levels:
            spans = [f"{level}%: {pct(lo)}–{pct(hi)}" for level, lo, hi in levels]
            bootstrap = details.get("bootstrap")
            source = ""
            if isinstance(bootstrap, Mapping) and isinstance(bootstrap.get("n_samples"), int):
                source = f" (from {bootstrap['n_samples']} bootstrap replicates"
                error = bootstrap.get("validation_error")
                if isinstance(error, int | float):
                    source += f" and a {100 * error:.1f}-point error on held-out ladder models"
                source += ")"
            sentences.append("Intervals" + source + ": " + "; ".join(spans) + ".")
            eighty = [(lo, hi) for level, lo, hi in levels if level == "80"]
            if eighty and too_wide(eighty[0]):
                sentences.append(f"<b>This benchmark {escape(why_not(details, eighty[0]))}.</b>")
            outside = [level for level, lo, hi in levels if not lo - 1e-9 <= value <= hi + 1e-9]
            if outside:
                sentences.append(
                    f"<em>The forecast lies outside its own {outside[0]}% interval</em>: the resampled fits disagree "
                    "with the fit on all the data, so treat both with caution."
                )
        else:
            sentences.append("No interval was computed for this forecast.")
    else:
        reason = escape(str(bench.get("declined") or "no reason given"))
        sentences.append(f"<b>{method}</b> declined to forecast {target}: {reason}.")
    if isinstance(truth, int | float):
        text = f"Measured: <b>{pct(truth)}</b>"
        if isinstance(value, int | float):
            gap = 100 * (value - truth)
            side = "too high" if gap > 0 else "too low"
            text += f", so the forecast is {abs(gap):.1f} points {side}" if abs(gap) >= 0.05 else ", as forecast"
        sentences.append(text + ".")
    models, _, scores = ladder_points(bench)
    if models and isinstance(scores[-1], int | float):
        sentences.append(
            f"The largest of the {len(models)} ladder models, {escape(models[-1])}, scores {pct(scores[-1])}."
        )
    sentences += _cod_sentences(bench)
    return " ".join(f"<span>{s}</span>" for s in sentences)


def _cod_sentences(bench: Mapping[str, Any]) -> list[str]:
    """What COD's clusters say, for a COD forecast or for COD as one of ``auto``'s candidates."""
    view = cod_view(bench)
    details = (view or {}).get("details") or {}
    share = details.get("predictable_share")
    if view is None or not isinstance(share, int | float):
        return []
    clusters = [c for c in details.get("clusters") or [] if isinstance(c, Mapping)]
    kept = sum(1 for c in clusters if c.get("class") == "extrapolatable")
    text = f"{pct(share, 0)} of items are in clusters that scale cleanly ({kept} of {len(clusters)} clusters)"
    subset = details.get("subset_forecast")
    if isinstance(subset, int | float):
        text += f"; the laws forecast {pct(subset)} on them, and the mapping turns that into the full score"
    if view is not bench:
        own = f", which alone forecasts {pct(view['forecast'])}" if isinstance(view["forecast"], int | float) else ""
        text = f"COD is one of the candidates{own}: " + text
    return [text + ".", *_law_sentence(details)]


def _law_sentence(details: Mapping[str, Any]) -> list[str]:
    """Which law COD's clusters follow and why (``figures.law_evidence``)."""
    evidence = figures.law_evidence(details)
    if evidence is None:
        return []
    twin, logistic, paper = evidence
    lead = "The clusters follow the paper law's logistic twin" if twin else "The clusters follow the paper's law"
    return [
        f"{lead}: refitted without the largest ladder models, the twin's summed error was {logistic:.3g} against "
        f"{paper:.3g} for the paper's law (the twin is taken under half)."
    ]


def method_verdict_html(bench: Mapping[str, Any]) -> str:
    """The method's own judgement of its forecast (``details["verdict"]``), when it gave one."""
    details = bench.get("details") or {}
    judgement = details.get("verdict")
    if not isinstance(judgement, str) or not judgement:
        return ""
    reliable = details.get("reliable")
    tone = "good" if reliable is True else "caution" if reliable is False else "muted"
    label = "reliable" if reliable is True else "unreliable" if reliable is False else "verdict"
    return (
        f'<p class="method-verdict"><span class="badge {tone}">{label}</span> '
        f"{escape(str(bench.get('method')))}'s verdict: {escape(judgement)}</p>"
    ) + interval_story_html(bench)


def interval_story_html(bench: Mapping[str, Any]) -> str:
    """What the interval is made of (``auto``'s ``details["spread_parts"]``), so that a wide one says why."""
    parts = (bench.get("details") or {}).get("spread_parts")
    names = ("holdout_error", "distance_ratio", "between_candidates", "noise")
    if not isinstance(parts, Mapping) or not all(isinstance(parts.get(n), int | float) for n in names):
        return ""
    error, ratio, between, noise = (float(parts[n]) for n in names)
    half = Z["80"] * math.sqrt((error * ratio) ** 2 + between**2 + noise**2)
    farther = f", times {ratio:.1f} for a target {ratio:.1f} times farther out" if ratio > 1.0 else ""
    return (
        f'<p class="interval-story">Why the 80% interval is ±{100 * half:.1f} points before any clipping at 0 and '
        f"100%: the weighted candidates missed held-out ladder models by {100 * error:.1f} points{farther}; they "
        f"disagree with each other by {100 * between:.1f} points; the score's own noise is {100 * noise:.1f} "
        "points. Each counts as one standard deviation; they add in quadrature."
        + (
            " The ladder's top dips, so the interval is at least as wide as the spread of its top three scores."
            if (bench.get("details") or {}).get("regime") == NON_MONOTONE
            else ""
        )
        + "</p>"
    )


def share_bar_html(bench: Mapping[str, Any]) -> str:
    """The items' classes as one stacked bar, the predictable share first."""
    counts = ((cod_view(bench) or {}).get("details") or {}).get("class_counts")
    if not isinstance(counts, Mapping):
        return ""
    total = sum(v for v in counts.values() if isinstance(v, int | float))
    if total <= 0:
        return ""
    segments, legend = [], []
    for kind in CLASS_ORDER:
        count = counts.get(kind, 0)
        if not count:
            continue
        share = 100 * count / total
        title = f"{kind}: {count} of {total} items ({share:.0f}%)"
        segments.append(
            f'<span class="seg" style="width:{share:.2f}%;background:{CLASS_COLOURS[kind]}" title="{title}"></span>'
        )
        legend.append(f'<span class="key"><i style="background:{CLASS_COLOURS[kind]}"></i>{kind} {share:.0f}%</span>')
    return (
        f'<div class="share"><div class="share-title">Items by cluster class ({total:,} items)</div>'
        f'<div class="share-bar" role="img" aria-label="items by class">{"".join(segments)}</div>'
        f'<div class="share-legend">{"".join(legend)}</div></div>'
    )


def _numbers_html(bench: Mapping[str, Any]) -> str:
    rows = [("Forecast", pct(bench.get("forecast")))]
    rows += [(f"{level}% interval", f"{pct(lo)} – {pct(hi)}") for level, lo, hi in intervals(bench)]
    rows.append(("Measured", pct(bench.get("truth"))))
    error = bench.get("error_points")
    if isinstance(error, int | float):
        rows.append(("Error", f"{error:.1f} points"))
    _, _, scores = ladder_points(bench)
    if scores:
        rows.append(("Largest ladder model", pct(scores[-1])))
    view = cod_view(bench)
    details = (view or {}).get("details") or {}
    if view is not None and view is not bench and isinstance(view["forecast"], int | float):
        rows.append(("COD alone", pct(view["forecast"])))
    if isinstance(details.get("subset_forecast"), int | float):
        rows.append(("Predictable-subset forecast", pct(details["subset_forecast"])))
    if isinstance(details.get("predictable_share"), int | float):
        rows.append(("Predictable share", pct(details["predictable_share"], 0)))
    if isinstance(details.get("endpoint_points"), int | float):
        rows.append(("Resting on the mapping's (1, 1) endpoint", f"{details['endpoint_points']:.1f} points"))
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="numbers">{cells}</table>'


def _warnings_html(bench: Mapping[str, Any]) -> str:
    messages = [str(w) for w in bench.get("warnings") or []]
    if not messages:
        return ""
    items = "".join(f"<li>{escape(m)}</li>" for m in messages)
    return f'<div class="warnings"><div class="warnings-title">Warnings</div><ul>{items}</ul></div>'


# ---------------------------------------------------------------------------------------------------------
# figures


class _Charts:
    """Numbers every chart on the page so SVG clip paths and element ids stay unique."""

    def __init__(self) -> None:
        self.count = 0

    def figure(self, chart: Chart, *, wide: bool = False) -> str:
        self.count += 1
        uid = f"c{self.count}"
        spec = json.dumps(to_plotly(chart), separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
        caption = f"<figcaption>{escape(chart.caption)}</figcaption>" if chart.caption else ""
        return (
            f'<figure class="chart chart-{chart.kind}{" wide" if wide else ""}" id="chart-{uid}" '
            f'data-kind="{chart.kind}">'
            f'<h3 class="chart-title">{escape(chart.title)}</h3>'
            f'<div class="chart-interactive"></div>'
            f'<div class="chart-static">{to_svg(chart, uid)}</div>'
            f'<script type="application/json" class="chart-data">{spec}</script>'
            f"{caption}</figure>"
        )


def _missing_notes(bench: Mapping[str, Any], built: set[str]) -> list[str]:
    details = bench.get("details") or {}
    method = str(bench.get("method"))
    notes = []
    if bench.get("declined") and "clusters" not in built:
        notes.append(f"{method} declined, so there are no clusters, mapping or item map to show.")
    elif "clusters" not in built and "mapping" not in built and "candidates" in details:
        notes.append(
            f"COD did not contribute to {method}'s forecast here (it declined or was skipped), so there are no "
            "cluster, mapping or item figures."
        )
    elif "clusters" not in built and "mapping" not in built:
        notes.append(f"No cluster or mapping figures: method {method!r} stored none (COD does).")
    elif "items" not in built:
        notes.append(
            "No item map: this forecast was saved without item-level details (item_map, item_labels; "
            "forecast --items keeps them)."
        )
    view = cod_view(bench)
    if view is not None and view is not bench and {"clusters", "mapping", "items"} & built:
        notes.append(
            f"The cluster, mapping and item figures show COD, one of {bench.get('method')}'s candidates: their "
            f"target point is COD's own forecast ({pct(view['forecast'])}), not the combined one."
        )
    return notes


def _benchmark_section(
    name: str, anchor: str, bench: Mapping[str, Any], others: list[Mapping[str, Any]], charts: _Charts
) -> str:
    tone, judgement = verdict(bench)
    view = cod_view(bench) or bench
    built = [
        chart
        for chart in (
            figures.forecast_chart(bench),
            figures.clusters_chart(view),
            figures.mapping_chart(view),
            figures.items_chart(view),
            figures.methods_chart(bench, others),
        )
        if chart is not None
    ]
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in _missing_notes(bench, {c.kind for c in built}))
    # the comparison takes a whole row when it would otherwise sit alone in one
    wide = len(built) % 2 == 1
    figures_html = "".join(charts.figure(chart, wide=wide and chart.kind == "methods") for chart in built)
    return (
        f'<section class="benchmark" id="{anchor}" data-benchmark="{escape(name)}">'
        f'<div class="benchmark-head"><h2>{escape(name)}</h2>'
        f'<span class="badge {tone}">{escape(judgement)}</span></div>'
        f'<div class="summary"><div class="story"><p>{summary_html(bench)}</p>{method_verdict_html(bench)}'
        f"{share_bar_html(bench)}"
        f"{_warnings_html(bench)}</div>{_numbers_html(bench)}</div>"
        f'{notes}<div class="charts">{figures_html}</div></section>'
    )


def _overview_table(benchmarks: Mapping[str, Mapping[str, Any]], anchors: Mapping[str, str]) -> str:
    levels = sorted({lvl for b in benchmarks.values() for lvl, _, _ in intervals(b)}, key=figures._level)
    level = levels[0] if levels else None
    head = ["Benchmark", "Method", "Forecast"] + ([f"{level}% interval"] if level else [])
    head += ["Measured", "Error (points)", "Largest ladder model", "Predictable share", "Verdict"]
    rows = []
    for name, bench in benchmarks.items():
        details = bench.get("details") or {}
        method = str(bench.get("method")) + (f" → {details['chosen_method']}" if details.get("chosen_method") else "")
        tone, judgement = verdict(bench)
        _, _, scores = ladder_points(bench)
        cells = [f'<a href="#{anchors[name]}">{escape(name)}</a>', escape(method), pct(bench.get("forecast"))]
        if level:
            match = [(lo, hi) for lvl, lo, hi in intervals(bench) if lvl == level]
            if match and level == "80" and too_wide(match[0]):
                cells.append('<span title="too wide to tell anything: see the benchmark below">none</span>')
            else:
                cells.append(f"{pct(match[0][0])} – {pct(match[0][1])}" if match else "—")
        error = bench.get("error_points")
        cells += [
            pct(bench.get("truth")),
            f"{error:.1f}" if isinstance(error, int | float) else "—",
            pct(scores[-1]) if scores else "—",
            pct(((cod_view(bench) or {}).get("details") or {}).get("predictable_share"), 0),
            f'<span class="badge {tone}">{escape(judgement)}</span>',
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    errors = [b["error_points"] for b in benchmarks.values() if isinstance(b.get("error_points"), int | float)]
    foot = ""
    if errors:
        foot = (
            f'<tfoot><tr><td colspan="{len(head)}">Mean absolute error {sum(errors) / len(errors):.1f} points over '
            f"{len(errors)} benchmark{'s' if len(errors) != 1 else ''} with a measured score.</td></tr></tfoot>"
        )
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="overview"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody>{foot}</table>'


def _facts(benchmarks: Mapping[str, Mapping[str, Any]]) -> str:
    first = next(iter(benchmarks.values()))
    models, compute, _ = ladder_points(first)
    finite = [c for c in compute if isinstance(c, int | float)]
    methods = sorted({str(b.get("method")) for b in benchmarks.values()})
    facts = [
        ("Target", escape(str(first.get("target") or "—"))),
        ("Target compute", flops_html(first.get("target_compute"))),
        (
            "Ladder",
            f"{len(models)} models, {flops_html(min(finite)).removesuffix(' FLOPs')} – {flops_html(max(finite))}"
            if finite
            else "—",
        ),
        ("Method", escape(", ".join(methods))),
        ("Benchmarks", str(len(benchmarks))),
    ]
    ladder = ", ".join(escape(m) for m in models)
    items = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{items}</dl><p class="ladder-models">Ladder models: {ladder}</p>'


def _slug(name: str, used: set[str]) -> str:
    base = "b-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "benchmark")
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _version() -> str:
    try:
        return metadata.version("benchcast")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def render_report(
    forecast: Forecast | Mapping[str, Any],
    *,
    title: str | None = None,
    compare: Sequence[Forecast | Mapping[str, Any]] = (),
    plotly_js: str | None = None,
) -> str:
    """The report as one HTML string.

    ``forecast`` is a ``Forecast`` or its JSON form. ``compare`` adds other forecasts of the same benchmarks
    (other methods) to each benchmark's comparison figure. ``plotly_js`` replaces the embedded plotly.js
    (tests use it to make a page whose library is broken); by default plotly's own bundle is inlined.
    """
    benchmarks = _as_benchmarks(forecast)
    if not benchmarks:
        raise InputError("nothing to report: the forecast has no benchmarks")
    others = [_as_benchmarks(other) for other in compare]
    first = next(iter(benchmarks.values()))
    target = str(first.get("target") or flops_text(first.get("target_compute")))
    title = title or f"Benchmark forecast for {target}"
    used: set[str] = set()
    anchors = {name: _slug(name, used) for name in benchmarks}
    charts = _Charts()
    overview = figures.overview_chart(benchmarks)
    overview_html = charts.figure(overview) if overview is not None and len(benchmarks) > 1 else ""
    sections = "".join(
        _benchmark_section(name, anchors[name], bench, [o[name] for o in others if name in o], charts)
        for name, bench in benchmarks.items()
    )
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    return _PAGE.format(
        title=escape(title),
        version=escape(_version()),
        css=_CSS,
        facts=_facts(benchmarks),
        overview_table=_overview_table(benchmarks, anchors),
        overview_chart=overview_html,
        sections=sections,
        plotly_js=plotly_js.replace("</script", "<\\/script"),
        bootstrap=_BOOTSTRAP.replace("__CONFIG__", json.dumps(PLOTLY_CONFIG)),
        n_charts=charts.count,
        good=GOOD_ERROR_POINTS,
        fair=FAIR_ERROR_POINTS,
    )


def write_report(
    forecast: Forecast | Mapping[str, Any],
    path: str | Path,
    *,
    title: str | None = None,
    compare: Sequence[Forecast | Mapping[str, Any]] = (),
) -> Path:
    """Write the report to ``path`` atomically (no half-written file) and return the path.

    Examples
    --------
    >>> from benchcast.datasets import load_dataset
    >>> from benchcast.forecast import forecast
    >>> ladder = load_dataset("pythia-arithmetic")
    >>> result = forecast(ladder, target="pythia-13b-deduped", method="cod", benchmarks=["arithmetic_addition_16shot"])
    >>> import tempfile, pathlib
    >>> out = write_report(result, pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> out.read_text().count('class="chart ')
    4
    """
    path = Path(path)
    html = render_report(forecast, title=title, compare=compare)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


_BOOTSTRAP = """
(function () {
  "use strict";
  var body = document.body;
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
  body.setAttribute("data-charts-expected", String(figures.length));
  function finish(count) {
    body.setAttribute("data-charts-rendered", String(count));
    body.setAttribute("data-charts-done", "true");
  }
  if (typeof Plotly === "undefined") {
    console.error("benchcast report: plotly.js did not load; the static charts stay");
    finish(0);
    return;
  }
  var config = __CONFIG__;
  var rendered = 0;
  var jobs = figures.map(function (figure) {
    return Promise.resolve().then(function () {
      var spec = JSON.parse(figure.querySelector("script.chart-data").textContent);
      return Plotly.newPlot(figure.querySelector(".chart-interactive"), spec.data, spec.layout, config);
    }).then(function () {
      figure.classList.add("is-interactive");
      rendered += 1;
    }, function (error) {
      console.error("benchcast report: chart " + figure.id + " (" + figure.getAttribute("data-kind") +
        ") could not be drawn, its static version stays: " + error);
    });
  });
  Promise.all(jobs).then(function () { finish(rendered); });
})();
"""

_CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #e3e6ea; --paper: #ffffff; --wash: #f5f7f9;
  --good: #1e7b4b; --fair: #a86a00; --poor: #b3261e; --caution: #8a5a00; --accent: #0072B2; }
* { box-sizing: border-box; }
html { font-family: Inter, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: var(--ink);
  background: var(--wash); font-size: 15px; line-height: 1.5; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.page-header { background: var(--paper); border-bottom: 1px solid var(--line); padding: 28px 40px 18px; }
.page-header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
.lede { margin: 0 0 16px; color: var(--muted); max-width: 70em; }
.facts { display: flex; flex-wrap: wrap; gap: 10px 34px; margin: 0; }
.facts div { min-width: 8em; }
.facts dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
.facts dd { margin: 0; font-weight: 600; }
.ladder-models { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 32px 40px; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 20px 24px;
  margin-bottom: 24px; }
section h2 { margin: 0; font-size: 20px; font-weight: 650; }
.section-intro { color: var(--muted); margin: 4px 0 14px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.overview { width: 100%; margin: 8px 0 16px; font-size: 14px; }
table.overview th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600;
  border-bottom: 1px solid var(--line); padding: 6px 10px; }
table.overview td { border-bottom: 1px solid var(--line); padding: 6px 10px; white-space: nowrap; }
table.overview tfoot td { border: 0; color: var(--muted); padding-top: 10px; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12.5px; font-weight: 600;
  white-space: nowrap; border: 1px solid currentColor; }
.badge.good { color: var(--good); background: #e9f6ef; }
.badge.fair { color: var(--fair); background: #fdf3e1; }
.badge.poor { color: var(--poor); background: #fbeceb; }
.badge.caution { color: var(--caution); background: #fdf6e3; }
.badge.muted { color: var(--muted); background: var(--wash); }
.benchmark-head { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; margin-bottom: 10px; }
.summary { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 24px; margin-bottom: 10px; }
.story p { margin: 0 0 12px; max-width: 62em; }
.method-verdict .badge { margin-right: 4px; }
.story p span + span::before { content: " "; }
table.numbers { font-size: 14px; align-self: start; width: 100%; }
table.numbers th { text-align: left; font-weight: 500; color: var(--muted); padding: 3px 12px 3px 0; }
table.numbers td { text-align: right; font-weight: 600; padding: 3px 0; white-space: nowrap; }
table.numbers tr + tr th, table.numbers tr + tr td { border-top: 1px solid var(--line); }
.share { margin: 6px 0 12px; max-width: 620px; }
.share-title, .warnings-title { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--muted); margin-bottom: 4px; }
.share-bar { display: flex; height: 14px; border-radius: 4px; overflow: hidden; background: var(--line); }
.share-bar .seg { display: block; height: 100%; }
.share-legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; margin-top: 5px; }
.share-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.warnings { background: #fdf6e3; border-left: 3px solid #e0a500; padding: 8px 14px; border-radius: 4px;
  max-width: 62em; }
.warnings ul { margin: 0; padding-left: 18px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; min-width: 0;
  break-inside: avoid; page-break-inside: avoid; }
figure.chart-overview { border: 0; padding: 0; }
figure.chart.wide { grid-column: 1 / -1; }
.chart-title { font-size: 15px; font-weight: 600; margin: 4px 6px 0; }
figure.chart figcaption { font-size: 12.5px; color: var(--muted); margin: 4px 6px 2px; }
.chart-static svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure.is-interactive .chart-static { display: none; }
.note { color: var(--muted); font-style: italic; margin: 0 0 12px; }
footer { max-width: 1360px; margin: 0 auto; padding: 0 32px 40px; color: var(--muted); font-size: 13px; }
footer p { margin: 4px 0; max-width: 75em; }
@media (max-width: 900px) {
  .summary { grid-template-columns: 1fr; }
  .charts { grid-template-columns: 1fr; }
  main, .page-header { padding-left: 14px; padding-right: 14px; }
}
@media print {
  html { background: white; font-size: 11pt; }
  main { padding: 0; max-width: none; }
  .page-header { padding: 0 0 10px; border: 0; }
  section { border: 0; padding: 0; margin: 0 0 18px; border-radius: 0; }
  section.benchmark { break-before: page; page-break-before: always; }
  .chart-interactive { display: none !important; }
  .chart-static, figure.is-interactive .chart-static { display: block !important; }
  .charts { grid-template-columns: 1fr 1fr; gap: 10px; }
  .summary { grid-template-columns: minmax(0, 1fr) 230px; gap: 16px; }
  a { color: inherit; }
  .badge, .share-bar .seg, .share-legend i, .warnings { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="benchcast {version}">
<title>{title}</title>
<style>{css}</style>
</head>
<body data-charts-total="{n_charts}">
<header class="page-header">
<h1>{title}</h1>
<p class="lede">A forecast of a large model's benchmark scores from a ladder of smaller models. Each benchmark below
says what was forecast, how sure the method is, how the forecast compares with the measured score when there is
one, and shows the evidence: the ladder, the difficulty clusters and their fitted laws, the mapping from the
predictable items to the whole benchmark, and the items themselves.</p>
{facts}
</header>
<main>
<section id="overview">
<h2>Overview</h2>
<p class="section-intro">Scores in %; errors in percentage points. Click a benchmark for its details.</p>
{overview_table}
{overview_chart}
</section>
{sections}
</main>
<footer>
<p>How to read the verdicts: <i>inside the 80% interval</i> is what a calibrated forecast achieves four times out of
five; without an interval, a forecast within {good:g} points of the measured score reads as good and within {fair:g}
as fair. COD's classes: <i>extrapolatable</i> clusters scale cleanly and carry the forecast; <i>non-extrapolatable</i>
ones are saturated, flat or low-ceilinged; <i>non-emergent</i> ones are still at their floor; <i>outliers</i> belong
to no cluster.</p>
<p>Charts are interactive (zoom, hover, click legend entries to hide them). Each has a static drawing of the same
data, shown when scripts cannot run and when printing. Made by benchcast {version}; the file needs no network.</p>
</footer>
<script>{plotly_js}</script>
<script>{bootstrap}</script>
</body>
</html>
"""
