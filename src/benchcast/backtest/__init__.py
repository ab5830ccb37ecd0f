"""Backtests: hold out real targets, forecast them from their ladders with every method, and score the forecasts.

``public_suite()`` gives the cases that the bundled datasets declare; ``run_backtest(cases, methods)`` runs them
(in parallel with ``n_jobs``); ``write_csv``, ``write_json`` and ``write_markdown`` report the result. The
command ``benchcast backtest`` is a thin wrapper around these.
"""

from benchcast.backtest.cases import BacktestCase, custom_case, dataset_cases, public_suite
from benchcast.backtest.harness import BacktestRecord, BacktestResult, BacktestTask, build_tasks, run_backtest, run_task
from benchcast.backtest.markdown import render_markdown, write_markdown
from benchcast.backtest.output import summary_table, to_dict, write_csv, write_json
from benchcast.backtest.summary import MethodSummary, summarise

__all__ = [
    "BacktestCase",
    "BacktestRecord",
    "BacktestResult",
    "BacktestTask",
    "MethodSummary",
    "build_tasks",
    "custom_case",
    "dataset_cases",
    "public_suite",
    "render_markdown",
    "run_backtest",
    "run_task",
    "summarise",
    "summary_table",
    "to_dict",
    "write_csv",
    "write_json",
    "write_markdown",
]
