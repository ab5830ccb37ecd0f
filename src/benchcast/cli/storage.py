"""``benchcast ingest``, ``ls`` and ``export``: the results store.

A command that reads a store takes it as its first argument or as ``--store`` (the same file both ways is
fine); ``ingest``, which may create the store, takes it as ``--store`` only, since its arguments are inputs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchcast.cli import app, console, err_console, handle_errors
from benchcast.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

StoreOption = Annotated[
    Path | None, typer.Option("--store", "-s", help="The store (a DuckDB file), instead of the first argument.")
]


def _one_store(argument: Path | None, option: Path | None, usage: str) -> Path:
    """The store named by the argument or ``--store``; two different files is an error, not a silent choice."""
    if argument is None:
        if option is None:
            raise InputError(f"no store given; use: {usage}")
        return option
    if option is not None and argument.resolve() != option.resolve():
        raise InputError(f"two stores given, {argument} and --store {option}; give one")
    return argument


@app.command()
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Harness outputs: files or folders (any supported format).")],
    store: Annotated[Path, typer.Option("--store", "-s", help="The store (a DuckDB file), created if missing.")],
    format: Annotated[str | None, typer.Option(help="Input format; detected from the files when omitted.")] = None,
    metric: Annotated[str | None, typer.Option(help="Per-item metric to read (default: the harness's first).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Add harness results to a store (created if missing), in one transaction; re-ingesting changes nothing."""
    from benchcast.data.store import Store

    show_progress = not quiet and err_console.is_terminal
    created = not store.exists()
    try:
        with Store(store) as target, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if show_progress:
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                with Progress(*columns, console=err_console, transient=True) as bar:
                    task = bar.add_task("ingesting", total=None)

                    def progress(done: int, total: int, label: str) -> None:
                        name = Path(label).name if label else ""
                        bar.update(task, completed=done, total=total, description=f"ingesting {name}")

                    summary = target.ingest(paths, format=format, metric=metric, progress=progress)
            else:
                summary = target.ingest(paths, format=format, metric=metric)
    except BaseException:
        if created:  # a first ingest that fails leaves no store behind
            for leftover in (store, store.with_name(store.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    for warning in caught:
        err_console.print(f"[yellow]warning:[/] {warning.message}", highlight=False, soft_wrap=True)
    if not quiet:
        console.print(f"{store}: {summary}", highlight=False, soft_wrap=True)


def _table(title: str, frame: pd.DataFrame) -> Table:
    import pandas as pd

    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(frame[column]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(
            *("-" if pd.isna(value) else f"{value:,}" if isinstance(value, int) else str(value) for value in row)
        )
    return table


@app.command("ls")
@handle_errors
def list_store(
    store: Annotated[
        Path | None, typer.Argument(metavar="STORE", help="The store (a DuckDB file); or give --store.")
    ] = None,
    store_option: StoreOption = None,
) -> None:
    """List the models, checkpoints and benchmarks in a store: ls STORE, or ls --store STORE."""
    from benchcast.data.store import Store

    store = _one_store(store, store_option, "benchcast ls STORE, or ls --store STORE")
    with Store(store, read_only=True) as source:
        listing = source.listing()
        version = source.schema_version
    if listing["models"].empty:
        console.print(f"{store}: empty")
        return
    console.print(_table("models", listing["models"]))
    if not listing["checkpoints"].empty:
        console.print(_table("checkpoints", listing["checkpoints"]))
    console.print(_table("benchmarks", listing["benchmarks"]))
    console.print(f"{len(listing['ingests'])} ingest(s); schema version {version}", highlight=False)


@app.command()
@handle_errors
def export(
    store: Annotated[
        Path,
        typer.Argument(
            metavar="STORE", help="The store (a DuckDB file). With --store, leave it out: the one argument is OUT."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Argument(
            metavar="OUT",
            help="The file to write; its name says the format: .csv, .tsv, .jsonl (each optionally .gz) or .parquet.",
            show_default=False,
        ),
    ] = None,
    store_option: StoreOption = None,
    records: Annotated[
        bool, typer.Option("--records", help="Every record (per filter and repeat) instead of item-level results.")
    ] = False,
) -> None:
    """Write a store's results in the format OUT's name says (item level, readable by every command; or every
    record): export STORE OUT, or export --store STORE OUT."""
    from benchcast.data.store import Store

    # one argument is the file to write, the store then comes from --store
    argument, out = (None, store) if out is None else (store, out)
    usage = "benchcast export STORE OUT, or export --store STORE OUT"
    with Store(_one_store(argument, store_option, usage), read_only=True) as source:
        rows = source.export(out, records=records)
    console.print(f"wrote {rows:,} rows to {out}", highlight=False)
