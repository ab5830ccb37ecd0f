"""Backtest output: CSV (one row per record), JSON (records, summaries, analyses) and a Rich summary table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from benchcast.backtest.analysis import compare_with_cod, profile, two_stage_vs_published
from benchcast.backtest.harness import BacktestResult, json_ready
from benchcast.backtest.summary import ALL, MethodSummary, datasets_of, skip_reasons, summarise


def write_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def write_csv(result: BacktestResult, path: str | Path) -> Path:
    """One row per (dataset, case, target, benchmark, method)."""
    return write_atomic(path, result.frame().to_csv(index=False))


def to_dict(result: BacktestResult) -> dict[str, Any]:
    """Everything a report needs, JSON-ready (NaN becomes null)."""
    reasons = skip_reasons(result.records)
    comparisons = [c for d in datasets_of(result.records) for c in compare_with_cod(result, d)]
    published = two_stage_vs_published(result)
    out = {
        "command": result.command,
        "seconds": result.seconds,
        "n_jobs": result.n_jobs,
        "n_bootstrap": result.n_bootstrap,
        "methods": result.methods,
        "cases": result.cases,
        "summary": [s.to_dict() for s in summarise(result.records, result.methods)],
        "skipped": [
            {"dataset": d, "method": m, "reason": reason, "count": n}
            for (d, m), counter in reasons.items()
            for reason, n in counter.most_common()
        ],
        "cod_vs_baselines": [
            {
                "dataset": c.dataset,
                "baseline": c.baseline,
                "common_forecasts": c.common,
                "cod_mean_error": c.cod_error,
                "baseline_mean_error": c.baseline_error,
                "baseline_only_forecasts": c.baseline_only,
                "cod_loses": c.cod_loses,
            }
            for c in comparisons
        ],
        "profiles": [_profile_dict(profile(result, d)) for d in datasets_of(result.records)],
        "two_stage_vs_published": None
        if published is None
        else [
            {
                "benchmark": row.benchmark,
                "published_actual": row.published.actual,
                "published_predicted": row.published.predicted,
                "published_error_points": row.published.error,
                "bundled_truth": row.truth,
                "two_stage_error_points": row.error,
                "two_stage_reason": row.reason,
                "two_stage_other_errors": row.other_errors,
            }
            for row in published
        ],
        "records": [r.to_dict() for r in result.records],
    }
    return json_ready(out)


def _profile_dict(p: Any) -> dict[str, Any]:
    return {
        "dataset": p.dataset,
        "cases": p.cases,
        "ladder_sizes": list(p.ladder_sizes),
        "ladder_span": list(p.ladder_span),
        "items_min_max_median": list(p.items),
        "trials_per_item": p.trials_per_item,
        "extrapolation": list(p.extrapolation),
        "cod_forecasts": p.cod_forecasts,
        "cod_declined": dict(p.cod_declined),
        "cod_failed": p.cod_failed,
        "cod_predictable_share_mean_min": None if p.cod_predictable_share is None else list(p.cod_predictable_share),
    }


def write_json(result: BacktestResult, path: str | Path) -> Path:
    return write_atomic(path, json.dumps(to_dict(result), indent=2) + "\n")


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def summary_table(result: BacktestResult) -> Table:
    """Mean and max absolute error (points) per dataset and method, with skip and interval counts.

    Datasets are sections headed by their name (no dataset column), so the table fits an 80-column terminal.
    """
    summaries = summarise(result.records, result.methods, overall=len(datasets_of(result.records)) > 1)
    show_intervals = any(s.with_interval for s in summaries)
    table = Table(
        title=f"Backtest: absolute error in points ({len(result.records)} records, {result.seconds:.0f} s)",
        caption="skip = declined (not an error); in80/in95 = truth inside the method's interval; w80 = its width",
    )
    table.add_column("method", no_wrap=True)
    for name in ("n", "skip", "fail", "mean", "max", *(("in80", "in95", "w80") if show_intervals else ())):
        table.add_column(name, justify="right", no_wrap=True)
    previous = None
    for s in summaries:
        if s.dataset != previous:
            if previous is not None:
                table.add_section()
            table.add_row(f"[bold]{s.dataset if s.dataset != ALL else 'all datasets'}[/]")
            previous = s.dataset
        cells = [
            f"  {s.method}",
            str(s.forecasts),
            str(s.skipped),
            str(s.failed),
            _num(s.mean_error),
            _num(s.max_error),
        ]
        if show_intervals:
            cells += [_share(s.coverage80), _share(s.coverage95), _num(s.width80, 1)]
        table.add_row(*cells)
    return table


def best_by_dataset(summaries: list[MethodSummary]) -> dict[str, str]:
    """The method with the lowest mean error on each dataset (ties: first in method order)."""
    best: dict[str, MethodSummary] = {}
    for s in summaries:
        if s.mean_error is None:
            continue
        if s.dataset not in best or s.mean_error < best[s.dataset].mean_error:
            best[s.dataset] = s
    return {dataset: s.method for dataset, s in best.items()}
