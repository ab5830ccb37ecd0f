"""``benchcast report``: an HTML report from forecasts saved as JSON (``forecast --json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchcast.cli import app, console, handle_errors


@app.command()
@handle_errors
def report(
    forecasts: Annotated[
        list[Path],
        typer.Argument(help="Forecast JSON (from --json); more files add other methods' forecasts for comparison."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML report.")] = Path("report.html"),
    title: Annotated[str | None, typer.Option(help="Page title; by default names the target.")] = None,
) -> None:
    """Write a self-contained HTML report (interactive charts, works offline) of a saved forecast."""
    from benchcast.report.html import load_forecast_json, write_report

    main, *others = [load_forecast_json(path) for path in forecasts]
    write_report(main, out, title=title, compare=others)
    console.print(f"wrote {out}")
