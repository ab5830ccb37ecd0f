"""Charts described once and drawn twice: as an interactive Plotly figure and as a static SVG drawn here.

A report must stay readable where Plotly cannot run: on paper, in a mail client, with scripts blocked.
Exporting Plotly's own static images needs kaleido and a Chrome download, which a report writer cannot count
on, so every chart is a small description (``Chart``: axes, series, reference lines, shaded bands) with two
renderers: ``to_plotly`` makes the figure the browser draws, ``to_svg`` draws a plain SVG of the same data
with no browser and no dependency. The page shows the SVG until Plotly has drawn the chart, and always when
printing.

Only what the report needs is supported: scatter series (markers, lines, both; ``None`` breaks a line), a
linear or log axis, fixed tick labels for category axes, reference lines and shaded x-ranges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
GRID_COLOUR = "#e6e8eb"
AXIS_COLOUR = "#8a9099"
TEXT_COLOUR = "#1f2933"
MUTED_COLOUR = "#5f6b7a"

TOP = 30
"""Room above the plot: the title is the page's, above the figure; Plotly's tool bar sits here."""
LEGEND_WIDTH = 520
"""Width assumed for wrapping legends (a chart is about 600 px wide in the report's two-column grid)."""

_DASHES = {"solid": "", "dash": "6 4", "dot": "2 3", "dashdot": "6 3 2 3"}


@dataclass
class Axis:
    """One axis: its title (with units), log or linear, an optional fixed range and fixed ticks."""

    title: str
    log: bool = False
    range: tuple[float, float] | None = None
    ticks: list[tuple[float, str]] | None = None
    suffix: str = ""


@dataclass
class Series:
    """A scatter series. ``mode`` is ``markers``, ``lines`` or ``lines+markers``; ``None`` in x or y breaks a line."""

    name: str
    x: Sequence[float | None]
    y: Sequence[float | None]
    colour: str
    mode: str = "markers"
    symbol: str = "circle"
    size: float = 7.0
    width: float = 2.0
    dash: str = "solid"
    opacity: float = 1.0
    hollow: bool = False
    hover: Sequence[str] | None = None
    legend: bool = True
    group: str | None = None


@dataclass
class Mark:
    """A reference line across the plot: vertical at ``value`` on the x axis, or horizontal on the y axis."""

    axis: str
    value: float
    label: str
    colour: str = MUTED_COLOUR
    dash: str = "dash"


@dataclass
class Band:
    """A shaded range of the x axis, labelled at its top (e.g. the extrapolation beyond the ladder)."""

    start: float
    end: float
    label: str
    colour: str = "rgba(95, 107, 122, 0.08)"


@dataclass
class Chart:
    """A whole chart: ``kind`` names the figure (``forecast``, ``clusters``, ...) for the page and its tests."""

    kind: str
    title: str
    x: Axis
    y: Axis
    series: list[Series]
    marks: list[Mark] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    height: int = 430
    width: int = 500
    caption: str = ""


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def _clean(values: Sequence[float | None]) -> list[float | None]:
    return [float(v) if _finite(v) else None for v in values]


# ---------------------------------------------------------------------------------------------------------
# Plotly


def _plotly_axis(axis: Axis, data_range: tuple[float, float]) -> dict[str, Any]:
    lo, hi = data_range
    out: dict[str, Any] = {
        "title": {"text": axis.title, "standoff": 8},
        "type": "log" if axis.log else "linear",
        "range": [math.log10(lo), math.log10(hi)] if axis.log else [lo, hi],
        "showgrid": True,
        "gridcolor": GRID_COLOUR,
        "zeroline": False,
        "showline": True,
        "linecolor": AXIS_COLOUR,
        "ticks": "outside",
        "tickcolor": AXIS_COLOUR,
        "exponentformat": "power",
        "automargin": True,
    }
    if axis.log:
        # decades only on wide ranges, else 2x and 5x labels too: the same ticks as the static drawing
        out["dtick"] = 1 if math.log10(hi / lo) > 2.5 else "D2"
    if axis.suffix:
        out["ticksuffix"] = axis.suffix
    if axis.ticks is not None:
        out["tickvals"] = [v for v, _ in axis.ticks]
        out["ticktext"] = [label for _, label in axis.ticks]
    return out


def _plotly_trace(series: Series) -> dict[str, Any]:
    symbol = series.symbol + ("-open" if series.hollow else "")
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": series.mode,
        "name": series.name,
        "x": _clean(series.x),
        "y": _clean(series.y),
        "opacity": series.opacity,
        "showlegend": series.legend,
        "line": {"color": series.colour, "width": series.width, "dash": series.dash},
        "marker": {
            "color": series.colour,
            "symbol": symbol,
            "size": series.size,
            "line": {"width": 1.5 if series.hollow else 0.6, "color": series.colour if series.hollow else "white"},
        },
    }
    if series.group is not None:
        trace["legendgroup"] = series.group
    if series.hover is not None:
        trace["text"] = list(series.hover)
        trace["hovertemplate"] = "%{text}<extra></extra>"
    else:
        trace["hoverinfo"] = "skip"
    return trace


def to_plotly(chart: Chart) -> dict[str, Any]:
    """The chart as a Plotly figure (plain ``{"data", "layout"}`` dict, ready for ``Plotly.newPlot``)."""
    x_range, y_range = _ranges(chart)
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for band in chart.bands:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": band.start,
                "x1": band.end,
                "y0": 0,
                "y1": 1,
                "fillcolor": band.colour,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "x": math.log10(band.start) if chart.x.log else band.start,
                "xref": "x",
                "xanchor": "left",
                "xshift": 3,
                "y": 1,
                "yref": "paper",
                "yanchor": "top",
                "text": escape(band.label),
                "showarrow": False,
                "font": {"size": 11, "color": MUTED_COLOUR},
            }
        )
    for mark in chart.marks:
        vertical = mark.axis == "x"
        shapes.append(
            {
                "type": "line",
                "xref": "x" if vertical else "paper",
                "yref": "paper" if vertical else "y",
                "x0": mark.value if vertical else 0,
                "x1": mark.value if vertical else 1,
                "y0": 0 if vertical else mark.value,
                "y1": 1 if vertical else mark.value,
                "line": {"color": mark.colour, "width": 1.2, "dash": mark.dash},
            }
        )
        position = (math.log10(mark.value) if chart.x.log else mark.value) if vertical else mark.value
        annotations.append(
            {
                "x": position if vertical else 0,
                "xref": "x" if vertical else "paper",
                "xanchor": "right" if vertical else "left",
                "xshift": -3 if vertical else 2,
                "y": 1 if vertical else position,
                "yref": "paper" if vertical else "y",
                "yanchor": "top" if vertical else "bottom",
                "text": escape(mark.label),
                "textangle": -90 if vertical else 0,
                "showarrow": False,
                "font": {"size": 11, "color": mark.colour},
            }
        )
    # Plotly's 11 px legend text is about 6.3 px a character
    legend_rows = len(_legend_rows([s for s in chart.series if s.legend], LEGEND_WIDTH, 6.3))
    return {
        "data": [_plotly_trace(s) for s in chart.series],
        "layout": {
            "height": chart.height,
            "margin": {"l": 64, "r": 18, "t": TOP, "b": 58 + 20 * legend_rows},
            "font": {"family": FONT, "size": 12, "color": TEXT_COLOUR},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "hovermode": "closest",
            "xaxis": _plotly_axis(chart.x, x_range),
            "yaxis": _plotly_axis(chart.y, y_range),
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 0,
                "yref": "container",
                "yanchor": "bottom",
                "font": {"size": 11},
                "itemsizing": "constant",
            },
            "shapes": shapes,
            "annotations": annotations,
        },
    }


# ---------------------------------------------------------------------------------------------------------
# ranges and ticks, shared by both renderers so the two pictures agree


def _values(chart: Chart, axis: str) -> list[float]:
    out: list[float] = []
    for series in chart.series:
        out.extend(v for v in (series.x if axis == "x" else series.y) if _finite(v))
    out.extend(mark.value for mark in chart.marks if mark.axis == axis and _finite(mark.value))
    if axis == "x":
        out.extend(v for band in chart.bands for v in (band.start, band.end) if _finite(v))
    return out


def _axis_range(axis: Axis, values: list[float]) -> tuple[float, float]:
    if axis.range is not None:
        return axis.range
    if axis.log:
        values = [v for v in values if v > 0]
        if not values:
            return (1.0, 10.0)
        lo, hi = math.log10(min(values)), math.log10(max(values))
        pad = max(0.08 * (hi - lo), 0.15)
        return (10 ** (lo - pad), 10 ** (hi + pad))
    if not values:
        return (0.0, 1.0)
    lo, hi = min(values), max(values)
    pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi) * 0.1, 1.0)
    return (lo - pad, hi + pad)


def _ranges(chart: Chart) -> tuple[tuple[float, float], tuple[float, float]]:
    return _axis_range(chart.x, _values(chart, "x")), _axis_range(chart.y, _values(chart, "y"))


def _nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + 1e-9 * span:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[tuple[float, int, int]]:
    """(value, mantissa, exponent) for decades, plus 2x and 5x when the range spans under two decades."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mantissas = (1,) if math.log10(hi / lo) > 2.5 else (1, 2, 5)
    out = []
    for exponent in range(first, last + 1):
        for mantissa in mantissas:
            value = mantissa * 10.0**exponent
            if lo <= value <= hi:
                out.append((value, mantissa, exponent))
    return out


def _format_number(value: float, suffix: str) -> str:
    text = f"{value:.10g}"
    if "e" in text or len(text) > 8:
        text = f"{value:.3g}"
    return text + suffix


# ---------------------------------------------------------------------------------------------------------
# SVG


def _marker(symbol: str, x: float, y: float, size: float, colour: str, hollow: bool, opacity: float) -> str:
    r = size / 2
    fill = "white" if hollow else colour
    style = f'fill="{fill}" stroke="{colour if hollow else "white"}" stroke-width="{1.5 if hollow else 0.6}"'
    if opacity < 1:
        style += f' opacity="{opacity:g}"'
    if symbol == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{size:.1f}" height="{size:.1f}" {style}/>'
    if symbol == "diamond":
        r *= 1.25
        points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{points}" {style}/>'
    if symbol == "triangle-up":
        points = f"{x:.1f},{y - r * 1.2:.1f} {x + r * 1.1:.1f},{y + r * 0.8:.1f} {x - r * 1.1:.1f},{y + r * 0.8:.1f}"
        return f'<polygon points="{points}" {style}/>'
    if symbol == "x":
        stroke = f'stroke="{colour}" stroke-width="{max(1.6, size / 4):.1f}" stroke-linecap="round"'
        path = f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}L{x + r:.1f},{y - r:.1f}"
        return f'<path d="{path}" {stroke}/>'
    if symbol == "star":
        corners = []
        for k in range(10):
            radius = r * 1.3 if k % 2 == 0 else r * 0.55
            angle = math.pi / 2 + k * math.pi / 5
            corners.append(f"{x + radius * math.cos(angle):.1f},{y - radius * math.sin(angle):.1f}")
        return f'<polygon points="{" ".join(corners)}" {style}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>'


def _legend_rows(items: list[Series], width: float, char_width: float = 6.8) -> list[list[tuple[Series, float]]]:
    """Legend entries laid out in rows of at most ``width`` px, each entry placed at its offset in its row."""
    rows: list[list[tuple[Series, float]]] = [[]]
    used = 0.0
    for series in items:
        item_width = 44 + char_width * len(series.name)
        if rows[-1] and used + item_width > width:
            rows.append([])
            used = 0.0
        rows[-1].append((series, used))
        used += item_width
    return [row for row in rows if row]


def to_svg(chart: Chart, uid: str) -> str:
    """A static SVG of the chart (same ranges, series, marks and legend as the Plotly figure)."""
    width = chart.width
    x_range, y_range = _ranges(chart)
    y_labels = [label for _, label in chart.y.ticks] if chart.y.ticks else []
    left = max(64.0, 7.0 * max((len(label) for label in y_labels), default=0) + 30)
    right, top = 18.0, float(TOP)
    legend_rows = _legend_rows([s for s in chart.series if s.legend], width - 24, 7.0)
    bottom = 52.0 + 18 * len(legend_rows) + (8 if legend_rows else 0)
    plot_w, plot_h = width - left - right, chart.height - top - bottom

    def to_unit(value: float, axis: Axis, span: tuple[float, float]) -> float:
        if axis.log:
            return (math.log10(value) - math.log10(span[0])) / (math.log10(span[1]) - math.log10(span[0]))
        return (value - span[0]) / (span[1] - span[0])

    def px(value: float) -> float:
        return left + plot_w * to_unit(value, chart.x, x_range)

    def py(value: float) -> float:
        return top + plot_h * (1 - to_unit(value, chart.y, y_range))

    def usable(value: float | None, axis: Axis) -> bool:
        return _finite(value) and (not axis.log or value > 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {chart.height}" width="100%" '
        f'role="img" aria-label="{escape(chart.title)}" font-family="{escape(FONT)}" font-size="14" '
        f'fill="{TEXT_COLOUR}">',
        f'<defs><clipPath id="clip-{uid}"><rect x="{left:.1f}" y="{top:.1f}" width="{plot_w:.1f}" '
        f'height="{plot_h:.1f}"/></clipPath></defs>',
        f'<rect width="{width}" height="{chart.height}" fill="white"/>',
    ]
    for band in chart.bands:
        x0, x1 = px(max(band.start, x_range[0])), px(min(band.end, x_range[1]))
        if x1 > x0:
            parts.append(
                f'<rect x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" height="{plot_h:.1f}" fill="{band.colour}"/>'
            )
            parts.append(
                f'<text x="{x0 + 4:.1f}" y="{top + 14:.1f}" font-size="12" '
                f'fill="{MUTED_COLOUR}">{escape(band.label)}</text>'
            )
    # grid and tick labels
    x_ticks, y_ticks = _svg_ticks(chart.x, x_range), _svg_ticks(chart.y, y_range)
    for value, label in x_ticks:
        x = px(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{top + plot_h:.1f}" stroke="{GRID_COLOUR}"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 17:.1f}" text-anchor="middle" fill="{MUTED_COLOUR}">{label}</text>'
        )
    for value, label in y_ticks:
        y = py(value)
        parts.append(
            f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>'
        )
        parts.append(f'<text x="{left - 7:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED_COLOUR}">{label}</text>')
    parts.append(
        f'<path d="M{left:.1f},{top:.1f}V{top + plot_h:.1f}H{left + plot_w:.1f}" fill="none" stroke="{AXIS_COLOUR}"/>'
    )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 37:.1f}" text-anchor="middle">'
        f"{escape(chart.x.title)}</text>"
    )
    parts.append(
        f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(chart.y.title)}</text>"
    )
    # data, clipped to the plot area
    parts.append(f'<g clip-path="url(#clip-{uid})">')
    for series in chart.series:
        points = [
            (px(x), py(y)) if usable(x, chart.x) and usable(y, chart.y) else None
            for x, y in zip(series.x, series.y, strict=True)
        ]
        if "lines" in series.mode:
            dash = _DASHES.get(series.dash, "")
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            opacity = f' stroke-opacity="{series.opacity:g}"' if series.opacity < 1 else ""
            run: list[tuple[float, float]] = []
            for point in [*points, None]:
                if point is not None:
                    run.append(point)
                    continue
                if len(run) > 1:
                    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                    parts.append(
                        f'<polyline points="{coords}" fill="none" stroke="{series.colour}" '
                        f'stroke-width="{series.width:g}" stroke-linejoin="round"{dash_attr}{opacity}/>'
                    )
                run = []
        if "markers" in series.mode:
            parts.extend(
                _marker(series.symbol, x, y, series.size, series.colour, series.hollow, series.opacity)
                for x, y in (p for p in points if p is not None)
            )
    parts.append("</g>")
    for mark in chart.marks:
        if not usable(mark.value, chart.x if mark.axis == "x" else chart.y):
            continue
        dash = _DASHES.get(mark.dash, "")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if mark.axis == "x":
            x = px(mark.value)
            inside = left <= x <= left + plot_w
            x1, x2, y1, y2 = x, x, top, top + plot_h
            label = f'transform="translate({x - 4:.1f} {top + 4:.1f}) rotate(-90)" text-anchor="end"'
        else:
            y = py(mark.value)
            inside = top <= y <= top + plot_h
            x1, x2, y1, y2 = left, left + plot_w, y, y
            label = f'x="{left + 4:.1f}" y="{y - 4:.1f}"'
        if inside:
            parts.append(
                f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{mark.colour}" '
                f'stroke-width="1.2"{dash_attr}/>'
            )
            parts.append(f'<text {label} font-size="12" fill="{mark.colour}">{escape(mark.label)}</text>')
    legend_top = top + plot_h + 56
    for row_index, row in enumerate(legend_rows):
        y = legend_top + 18 * row_index
        for series, offset in row:
            x = 12 + offset
            if "lines" in series.mode:
                dash = _DASHES.get(series.dash, "")
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                opacity = f' stroke-opacity="{series.opacity:g}"' if series.opacity < 1 else ""
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x + 24:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{series.colour}" '
                    f'stroke-width="{min(series.width, 6):g}"{dash_attr}{opacity}/>'
                )
            if "markers" in series.mode:
                parts.append(_marker(series.symbol, x + 12, y, min(series.size, 10), series.colour, series.hollow, 1))
            parts.append(f'<text x="{x + 30:.1f}" y="{y + 4:.1f}" font-size="13">{escape(series.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_ticks(axis: Axis, span: tuple[float, float]) -> list[tuple[float, str]]:
    """Tick positions and their SVG labels: the axis's own, decades (and 2x, 5x) on a log axis, or nice steps."""
    if axis.ticks is not None:
        return [(v, escape(label)) for v, label in axis.ticks]
    if axis.log:
        return [(v, _power_label(m, e)) for v, m, e in _log_ticks(*span)]
    return [(v, escape(_format_number(v, axis.suffix))) for v in _nice_ticks(*span)]


def _power_label(mantissa: int, exponent: int) -> str:
    power = f'10<tspan dy="-6" font-size="10">{exponent}</tspan>'
    return power if mantissa == 1 else f"{mantissa}×{power}"
