"""The ``benchcast`` command: thin wrappers that parse arguments, call the library and print.

Each command group lives in its own module and registers on ``app``. Any ``BenchcastError`` becomes a
one-line message on stderr and exit code 2; nothing is written in that case.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from benchcast.errors import BenchcastError

app = typer.Typer(
    name="benchcast",
    help="Forecast a large model's benchmark scores from a ladder of small models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn benchcast's input errors into a one-line message and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (BenchcastError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only on an interactive terminal, never in CI or with ``--quiet``."""
    return not quiet and console.is_terminal and not os.environ.get("CI")


@contextlib.contextmanager
def progress_callback(description: str, quiet: bool = False) -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(label, done, total)`` callback drawing one Rich bar per label, or None when quiet."""
    if not show_progress(quiet):
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"{description} {label}".strip(), total=total)
            bar.update(tasks[label], completed=done)

        yield update


def _register() -> None:
    # imported for their side effect: each module adds its commands to ``app``
    from benchcast.cli import forecasting  # noqa: F401

    for module in ("backtesting", "storage", "reporting", "evaluating"):
        try:
            __import__(f"benchcast.cli.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"benchcast.cli.{module}":
                raise


def main() -> None:
    _register()
    app(prog_name="benchcast")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
