"""The HTML report: one chart per figure per benchmark, truth and intervals shown, built from the JSON alone.

The page is checked as text and as data (each chart's Plotly figure and static SVG); that it renders in a real
browser is tests/test_report_browser.py's job.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from benchcast.cli import _register, app
from benchcast.cod.itemmap import item_map
from benchcast.forecast import forecast
from benchcast.report.figures import MAX_ITEM_POINTS, items_chart
from benchcast.report.html import load_forecast_json, render_report, write_report

_register()
runner = CliRunner()

COD_FIGURES = ["forecast", "clusters", "mapping", "items"]
FAKE_PLOTLY = "/* plotly.js stand-in for tests */ window.Plotly = undefined;"


@pytest.fixture(scope="module")
def cod_forecast(small_sim):
    return forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="cod")


@pytest.fixture()
def as_json(cod_forecast) -> dict[str, Any]:
    return json.loads(json.dumps(cod_forecast.to_dict()))


def render(data: Any, **kwargs: Any) -> str:
    return render_report(data, plotly_js=FAKE_PLOTLY, **kwargs)


def sections(html: str) -> dict[str, str]:
    parts = re.split(r'(?=<section class="benchmark")', html)
    out = {}
    for part in parts[1:]:
        name = re.search(r'data-benchmark="([^"]+)"', part).group(1)
        out[name] = part
    return out


def figure_kinds(html: str) -> list[str]:
    return re.findall(r'<figure class="chart [^"]*" id="[^"]+" data-kind="([a-z]+)"', html)


def figure_specs(html: str) -> dict[str, dict[str, Any]]:
    """Each chart's Plotly figure, by kind (the first of each kind)."""
    out: dict[str, dict[str, Any]] = {}
    for kind, spec in re.findall(
        r'data-kind="([a-z]+)">.*?<script type="application/json" class="chart-data">(.*?)</script>', html, re.S
    ):
        out.setdefault(kind, json.loads(spec.replace("<\\/", "</")))
    return out


def trace_names(spec: dict[str, Any]) -> list[str]:
    return [trace["name"] for trace in spec["data"]]


def test_one_chart_per_figure_per_benchmark(as_json):
    two = {"sim": as_json["sim"], "sim-copy": {**copy.deepcopy(as_json["sim"]), "benchmark": "sim-copy"}}
    html = render(two)
    per_benchmark = {name: figure_kinds(part) for name, part in sections(html).items()}
    assert per_benchmark == {"sim": COD_FIGURES, "sim-copy": COD_FIGURES}
    assert figure_kinds(html).count("overview") == 1
    assert f'data-charts-total="{1 + 2 * len(COD_FIGURES)}"' in html


def test_measured_truth_and_intervals_are_shown(as_json):
    bench = as_json["sim"]
    bench["interval"] = {"95": [0.80, 0.99], "80": [0.85, 0.97]}
    html = render(as_json)
    assert bench["truth"] is not None
    assert f"Measured: <b>{100 * bench['truth']:.1f}%</b>" in html
    assert "80%: 85.0%–97.0%" in html and "95%: 80.0%–99.0%" in html
    assert "<th>80% interval</th><td>85.0% – 97.0%</td>" in html
    spec = figure_specs(html)["forecast"]
    names = trace_names(spec)
    assert {"80% interval", "95% interval", "measured"} <= set(names)
    truth_trace = spec["data"][names.index("measured")]
    assert truth_trace["y"] == [pytest.approx(100 * bench["truth"])]
    interval = spec["data"][names.index("80% interval")]
    assert interval["y"] == [pytest.approx(85.0), pytest.approx(97.0)]
    assert "measured inside the 80% interval" in html or "measured outside" in html or "inside the 95%" in html


def test_without_truth_or_interval_the_page_says_so(as_json):
    as_json["sim"]["truth"] = None
    as_json["sim"]["error_points"] = None
    html = render(as_json)
    assert "No interval was computed" in html
    assert "Measured:" not in html
    assert "measured" not in trace_names(figure_specs(html)["forecast"])


def test_report_from_json_file_equals_report_from_forecast(cod_forecast, tmp_path):
    path = tmp_path / "forecast.json"
    cod_forecast.write_json(path, items=True)
    assert render(load_forecast_json(path)) == render(cod_forecast)


def test_report_from_compact_json_draws_all_but_the_item_map(cod_forecast, tmp_path):
    # the JSON leaves per-item details out unless asked (``forecast --items``); the report notes what is missing
    path = tmp_path / "forecast.json"
    cod_forecast.write_json(path)
    html = render(load_forecast_json(path))
    assert figure_kinds(html) == ["forecast", "clusters", "mapping"]
    assert "No item map" in html and "--items" in html
    assert html == render(cod_forecast.to_dict(items=False))


def test_compact_json_drops_item_details_of_auto_s_cod_too(small_sim):
    result = forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="auto")
    full, compact = result.to_dict()["sim"], result.to_dict(items=False)["sim"]
    assert {"item_labels", "item_classes", "item_map"} <= set(full["details"]["cod"])
    assert not [key for key in compact["details"]["cod"] if key.startswith("item_")]
    assert figure_kinds(render({"sim": compact}))[:3] == ["forecast", "clusters", "mapping"]


def test_cod_figures_carry_clusters_mapping_and_items(as_json):
    details = as_json["sim"]["details"]
    specs = figure_specs(render(as_json))
    clusters = specs["clusters"]
    shown_classes = {trace["legendgroup"] for trace in clusters["data"]}
    assert shown_classes == {c["class"] for c in details["clusters"]}
    curves = [t for t in clusters["data"] if t["mode"] == "lines"]
    # every curve reaches the target compute
    assert all(max(x for x in t["x"] if x is not None) >= as_json["sim"]["target_compute"] for t in curves)
    mapping = specs["mapping"]
    names = trace_names(mapping)
    assert any(name.startswith("mapping (") for name in names)
    target = mapping["data"][names.index("target (subset forecast → forecast)")]
    assert target["x"] == [pytest.approx(100 * details["subset_forecast"])]
    assert target["y"] == [pytest.approx(100 * as_json["sim"]["forecast"])]
    items = specs["items"]
    assert sum(len(t["x"]) for t in items["data"]) == len(details["item_labels"])


def test_every_static_drawing_is_well_formed_svg(as_json):
    html = render(as_json)
    drawings = re.findall(r'<div class="chart-static">(<svg.*?</svg>)</div>', html, re.S)
    assert len(drawings) == len(figure_kinds(html))
    for svg in drawings:
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        assert len(root.findall(".//{http://www.w3.org/2000/svg}polyline")) + len(list(root.iter())) > 10


def test_every_figure_is_a_valid_plotly_figure(as_json):
    import plotly.graph_objects as go

    as_json["sim"]["interval"] = {"80": [0.9, 0.97]}
    as_json["sim"]["details"]["candidates"] = {"cod": as_json["sim"]["forecast"], "last": 0.7}
    for spec in figure_specs(render(as_json)).values():
        go.Figure(spec)  # raises on any property plotly does not know


def test_json_without_items_degrades_to_a_note(cod_forecast):
    html = render(cod_forecast.to_dict(items=False))
    assert figure_kinds(html) == ["forecast", "clusters", "mapping"]
    assert "No item map" in html


def test_a_baseline_forecast_has_the_forecast_chart_only(small_sim):
    result = forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="last")
    html = render(result)
    assert figure_kinds(html) == ["forecast"]
    assert "stored none" in html


def test_a_declined_benchmark_says_why(as_json):
    bench = as_json["sim"]
    bench.update(forecast=None, declined="needs item-level results", details={}, interval={}, error_points=None)
    html = render(as_json)
    assert "declined to forecast" in html and "needs item-level results" in html
    assert '<span class="badge muted">declined</span>' in html
    assert figure_kinds(html) == ["forecast"]


def test_candidate_methods_are_compared_side_by_side(as_json):
    bench = as_json["sim"]
    bench["details"]["chosen_method"] = "cod"
    bench["method"] = "auto"
    bench["details"]["candidates"] = {
        "cod": bench["forecast"],
        "last": 0.61,
        "sigmoid": {"forecast": 0.7, "interval": {"80": [0.6, 0.8]}},
        "bnsl": None,
    }
    html = render(as_json)
    assert figure_kinds(html) == [*COD_FIGURES, "methods"]
    spec = figure_specs(html)["methods"]
    labels = spec["layout"]["yaxis"]["ticktext"]
    assert labels == ["auto → cod", "cod (chosen)", "last", "sigmoid", "bnsl"]
    forecasts = spec["data"][trace_names(spec).index("forecast")]
    assert forecasts["x"] == [pytest.approx(100 * bench["forecast"])] * 2 + [pytest.approx(61.0), pytest.approx(70.0)]
    assert "declined" in trace_names(spec)


def auto_like(bench: dict[str, Any]) -> dict[str, Any]:
    """A COD forecast dressed as ``auto`` stores it: COD's details nested, candidates, weights, a verdict."""
    cod_value = bench["forecast"]
    return {
        **bench,
        "method": "auto",
        "forecast": 0.8,
        "interval": {"80": [0.7, 0.9], "95": [0.6, 0.95]},
        "details": {
            "regime": "scaling",
            "cod": bench["details"],
            "chosen_method": "weighted",
            "candidates": {"last": 0.6, "cod": cod_value, "sigmoid": 0.9},
            "holdout_errors": {"last": 0.05, "cod": 0.02, "sigmoid": 0.2},
            "weights": {"last": 0.3, "cod": 0.7},
            "skipped": {"bnsl": "declined on the full ladder"},
            "verdict": "trend validated (scaling; held-out error 2.0 points)",
            "reliable": True,
        },
    }


def test_an_auto_forecast_shows_cods_evidence_and_the_candidates(as_json):
    cod_value = as_json["sim"]["forecast"]
    subset = as_json["sim"]["details"]["subset_forecast"]
    html = render({"sim": auto_like(as_json["sim"])})
    assert figure_kinds(html) == [*COD_FIGURES, "methods"]
    specs = figure_specs(html)
    # the mapping's target point is COD's own forecast, not the combined one
    mapping = specs["mapping"]
    target = mapping["data"][trace_names(mapping).index("target (subset forecast → forecast)")]
    assert target["x"] == [pytest.approx(100 * subset)] and target["y"] == [pytest.approx(100 * cod_value)]
    labels = specs["methods"]["layout"]["yaxis"]["ticktext"]
    assert labels == ["auto → weighted", "last · weight 30%", "cod · weight 70%", "sigmoid · no weight", "bnsl"]
    assert "auto's verdict: trend validated" in html and '<span class="badge good">reliable</span>' in html
    assert "COD is one of the candidates, which alone forecasts" in html
    assert "<th>COD alone</th>" in html


def test_a_real_auto_forecast_renders_with_cods_figures(small_sim):
    result = forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="auto")
    html = render(result)
    kinds = figure_kinds(html)
    assert kinds[0] == "forecast" and kinds[-1] == "methods"
    if "cod" in (result.benchmarks["sim"].details.get("candidates") or {}):
        assert kinds == [*COD_FIGURES, "methods"]


def test_an_auto_interval_says_what_it_is_made_of(small_sim):
    result = forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="auto")
    bench = result.benchmarks["sim"]
    parts = bench.details["spread_parts"]
    html = render(result)
    story = re.search(r'<p class="interval-story">(.*?)</p>', html)
    assert story, "no interval story on the page"
    assert f"missed held-out ladder models by {100 * parts['holdout_error']:.1f} points" in story.group(1)
    low, high = bench.interval["80"]
    if low > 0.0 and high < 1.0:  # not clipped: the story's half-width is the interval's
        assert f"±{100 * (high - low) / 2:.1f} points" in story.group(1)


def test_cods_law_choice_is_said_with_its_evidence(as_json):
    name = next(iter(as_json))
    details = as_json[name]["details"]
    details["law_choice"] = {"holdout_errors": {"cod": 34.05, "cod-logistic": 8.44}, "chosen": "cod-logistic"}
    assert "follow the paper law's logistic twin" in render(as_json) and "was 8.44 against 34 for" in render(as_json)
    details["law_choice"] = {"chosen": "cod", "reason": "not compared"}  # no evidence, no sentence
    assert "The clusters follow" not in render(as_json)


def test_the_points_resting_on_the_mappings_endpoint_are_shown(as_json):
    name = next(iter(as_json))
    as_json[name]["details"]["endpoint_points"] = 23.456
    html = render(as_json)
    assert "<th>Resting on the mapping&#x27;s (1, 1) endpoint</th><td>23.5 points</td>" in html
    assert "23.5 points of the forecast rest on the (1, 1) endpoint" in html  # the mapping chart's caption
    del as_json[name]["details"]["endpoint_points"]  # a forecast saved before the measure existed
    assert "(1, 1) endpoint" not in render(as_json)


def test_other_forecasts_join_the_comparison(cod_forecast, small_sim):
    baseline = forecast(small_sim.ladder, target=small_sim.target, ladder_models=small_sim.ladder_models, method="last")
    html = render(cod_forecast, compare=[baseline])
    assert figure_kinds(html) == [*COD_FIGURES, "methods"]
    assert figure_specs(html)["methods"]["layout"]["yaxis"]["ticktext"] == ["cod", "last"]


def test_the_page_is_self_contained(cod_forecast, tmp_path):
    path = write_report(cod_forecast, tmp_path / "report.html")
    html = path.read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html), "no remote resources"
    assert re.search(r"<script>/\*\*?\s*\n?\s*\* plotly\.js v\d", html), "plotly.js is inlined"
    assert html.count("<figure") == html.count('<div class="chart-static"><svg ') == len(figure_kinds(html))
    assert not (tmp_path / "report.html.tmp").exists()


def test_render_is_deterministic(as_json):
    assert render(copy.deepcopy(as_json)) == render(as_json)


def test_a_large_item_map_is_sampled_evenly_and_the_file_stays_small(as_json):
    rng = np.random.default_rng(0)
    n = 12_000
    details = as_json["sim"]["details"]
    ids = [c["id"] for c in details["clusters"]]
    labels = rng.choice([*ids, -1], size=n).tolist()
    details["item_labels"] = labels
    details["item_classes"] = ["outlier" if label == -1 else "extrapolatable" for label in labels]
    details["item_map"] = item_map(rng.random((n, 6)))
    chart = items_chart(as_json["sim"])
    shown = sum(len(s.x) for s in chart.series)
    assert MAX_ITEM_POINTS <= shown <= MAX_ITEM_POINTS + len(ids) + 1
    # every cluster keeps its share of the points
    sizes = {s.name.split(" · ")[0]: len(s.x) for s in chart.series}
    assert min(sizes.values()) > 0.5 * MAX_ITEM_POINTS / (len(ids) + 1)
    assert "even sample" in chart.caption
    html = render(as_json)
    assert len(html.encode()) < 1_500_000
    assert render(as_json) == html


def test_item_map_is_deterministic_and_oriented():
    rates = np.array([[0.0, 0.1, 0.5], [0.2, 0.6, 0.9], [0.9, 1.0, 1.0], [0.0, 0.0, 0.1], [0.5, 0.5, 0.5]])
    first, second = item_map(rates), item_map(rates.copy())
    assert first == second
    x = np.array(first["x"])
    # PC1 points towards items passed more often
    assert np.corrcoef(x, rates.mean(axis=1))[0, 1] > 0.9
    assert 0.0 < first["explained"][1] <= first["explained"][0] <= 1.0
    assert item_map(np.zeros((3, 4))) == {"x": [0.0] * 3, "y": [0.0] * 3, "explained": [0.0, 0.0]}


def _bootstrap_off(command) -> list[str]:
    return ["--bootstrap", "0"] if "bootstrap" in inspect.signature(command).parameters else []


def test_cli_report_from_json(cod_forecast, tmp_path):
    path = tmp_path / "forecast.json"
    cod_forecast.write_json(path, items=True)
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(path), "--out", str(out), "--title", "My ladder"])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<title>My ladder</title>" in html and figure_kinds(html) == COD_FIGURES


def test_cli_report_rejects_a_file_that_is_not_a_forecast(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "no benchmark forecasts" in result.output
    assert not out.exists()


def test_cli_forecast_writes_a_report(sim_files, tmp_path):
    from benchcast.cli.forecasting import forecast as forecast_command

    results, models = sim_files
    out = tmp_path / "report.html"
    args = ["forecast", str(results), "--models", str(models), "--target", "sim-target", "--method", "cod"]
    args += ["--report", str(out)]
    result = runner.invoke(app, args + _bootstrap_off(forecast_command))
    assert result.exit_code == 0, result.output
    assert figure_kinds(Path(out).read_text()) == COD_FIGURES


def test_an_interval_too_wide_to_tell_anything_is_replaced_by_why(as_json):
    name = next(iter(as_json))
    as_json[name]["interval"] = {"80": [0.0, 1.0]}
    as_json[name]["details"] = {**as_json[name].get("details", {}), "verdict": "no reliable trend: a test verdict"}
    html = render(as_json)
    assert "cannot be forecast from this ladder (its 80% interval spans 0-100): no reliable trend" in html
    assert ">none</span>" in html  # the overview table does not print the band
