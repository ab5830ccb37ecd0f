"""Rich tables for forecasts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from benchcast.diagnostics import PRE_EMERGENCE
from benchcast.forecast import Forecast
from benchcast.report.figures import law_evidence
from benchcast.report.wide import too_wide, why_not


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _law_note(details: Mapping[str, Any]) -> list[str]:
    """A note where COD left the paper's law for its logistic twin: a departure from the published method that a
    user should see, with the evidence and how to undo it."""
    evidence = law_evidence(details)
    if evidence is None or not evidence[0]:
        return []
    return [
        "COD's clusters follow the logistic twin of the paper's law: refitted without the largest ladder models, "
        f"its summed error was {evidence[1]:.3g} against {evidence[2]:.3g} (--law cod keeps the paper's law)"
    ]


def shared_prefix(names: Sequence[str]) -> str:
    """The start that every name shares, up to and including its last separator ("_", "-", "/", ":", "."), or ""
    where it is short or would leave a name empty.

    Examples
    --------
    >>> shared_prefix(["arithmetic_addition_0shot", "arithmetic_multiplication_2shot"])
    'arithmetic_'
    >>> shared_prefix(["mmlu", "gsm8k"]), shared_prefix(["bbh"])
    ('', '')
    """
    if len(names) < 2:
        return ""
    first, last = min(names), max(names)  # what these two share, every name between them shares
    common = first[: next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))]
    prefix = common[: max(common.rfind(sep) for sep in "_-/:.") + 1]
    if len(prefix) < 4 or any(len(name) == len(prefix) for name in names):
        return ""
    return prefix


def forecast_table(result: Forecast, *, title: str | None = None, console: Console | None = None) -> Table:
    """One row per benchmark: forecast (with interval), measured truth and error (where the target was
    measured), the last ladder score.

    Warnings are numbered in the last column and spelled out in the caption, each once. An 80% interval too wide
    to tell anything (``report.wide``) reads "none", and the note says why the benchmark cannot be forecast.
    Given the ``console`` it is printed on, a table wider than it first leaves out the benchmarks' shared prefix
    (named in the column's header), then narrows the gaps between columns, so that a row stays on one line in an
    80-column terminal; the names fold only where that is not enough.
    """
    names = [bf.benchmark for bf in result.benchmarks.values()]
    prefix = shared_prefix(names)
    layouts = [("", 1)] + ([(prefix, 1), (prefix, 0)] if prefix else [("", 0)])
    for shared, gap in layouts:
        table = _table(result, title, shared, gap)
        if (
            console is None
            or Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width
        ):
            break
    return table


def _table(result: Forecast, title: str | None, prefix: str, gap: int) -> Table:
    """The table with ``prefix`` left out of every benchmark name and ``gap`` + 1 spaces between columns."""
    sel = result.selection
    target = sel.target or f"{sel.target_compute:.3g} FLOPs"
    notes: list[str] = []

    def note_ids(messages: list[str]) -> str:
        ids = []
        for message in messages:
            if message not in notes:
                notes.append(message)
            ids.append(str(notes.index(message) + 1))
        return ",".join(ids)

    table = Table(
        title=title or f"Forecast for {target} from {len(sel.ladder)} ladder models (scores in %)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, gap),
        collapse_padding=True,
    )
    benchmarks = list(result.benchmarks.values())
    methods = {bf.details.get("chosen_method", bf.method) for bf in benchmarks}
    show_method = len(methods) > 1 or "auto" in {bf.method for bf in benchmarks}
    show_cod = any("cod" in bf.details.get("candidates", {}) for bf in benchmarks)
    show_share = any(bf.details.get("predictable_share") is not None for bf in benchmarks)
    show_truth = any(bf.truth is not None for bf in benchmarks)
    rows = []
    for bf in benchmarks:
        interval = bf.interval.get("80")
        share = bf.details.get("predictable_share")
        messages = ([f"declined: {bf.declined}"] if bf.declined else []) + list(bf.warnings)
        if too_wide(interval):
            messages.insert(0, why_not(bf.details, interval))
        elif bf.details.get("regime") == PRE_EMERGENCE and isinstance(bf.details.get("verdict"), str):
            # a narrow band on a flat ladder looks like confidence; the verdict says what it does not cover
            messages.insert(0, bf.details["verdict"])
        messages += _law_note(bf.details)
        cells = [bf.benchmark[len(prefix) :]]
        if show_method:
            cells.append(str(bf.details.get("chosen_method", bf.method)))
        cells += [
            _pct(bf.forecast),
            "—"
            if interval is None
            else "none"
            if too_wide(interval)
            else f"{100 * interval[0]:.0f}–{100 * interval[1]:.0f}",
            *([_pct(bf.details.get("candidates", {}).get("cod"))] if show_cod else []),
            *([_pct(bf.truth), "—" if bf.error is None else f"{bf.error:.1f}"] if show_truth else []),
            _pct(bf.ladder[-1]["score"]) if bf.ladder else "—",
            *(["—" if share is None else f"{100 * share:.0f}%"] if show_share else []),
        ]
        rows.append((cells, note_ids(messages)))
    # the benchmark names fold in a narrow terminal; numbers never lose digits to an ellipsis
    table.add_column(f"{prefix}*" if prefix else "benchmark", overflow="fold", min_width=12)
    if show_method:
        table.add_column("method", no_wrap=True)
    table.add_column("forecast", justify="right", no_wrap=True)
    table.add_column("80% int.", justify="right", no_wrap=True)
    if show_cod:
        table.add_column("COD", justify="right", no_wrap=True)
    if show_truth:
        table.add_column("measured", justify="right", no_wrap=True)
        table.add_column("error", justify="right", no_wrap=True)
    table.add_column("last", justify="right", no_wrap=True)
    if show_share:
        table.add_column("pred.", justify="right", no_wrap=True)
    if notes:
        table.add_column("notes", no_wrap=True)
    for cells, ids in rows:
        table.add_row(*cells, *([ids] if notes else []))
    if notes:
        table.caption = "\n".join(f"{i}. {message}" for i, message in enumerate(notes, start=1))
        table.caption_justify = "left"
    return table
