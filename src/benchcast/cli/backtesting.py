"""``benchcast backtest``: hold out real targets and score every method's forecasts of them."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from benchcast.cli import app, console, handle_errors, progress_callback
from benchcast.cli.forecasting import _split
from benchcast.errors import InputError

if TYPE_CHECKING:
    from benchcast.backtest.cases import BacktestCase
    from benchcast.backtest.harness import ProgressCallback

SUITES = ("public",)
DEFAULT_BOOTSTRAP = 30
"""Replicates per case, benchmark and method: enough for the suite's coverage figures (over 100+ forecasts
per method), few enough that the public suite runs in minutes on two cores."""


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[ProgressCallback | None]:
    """The shared Rich progress bar (terminal only; never in CI or with --quiet) as a ``(done, total)`` callback."""
    with progress_callback("backtest", quiet) as bar:
        yield None if bar is None else (lambda done, total: bar("tasks", done, total))


def _command(
    suite: str | None,
    datasets: list[str] | None,
    data: list[Path] | None,
    models: Path | None,
    targets: list[str] | None,
    ladder: list[str] | None,
    methods: list[str] | None,
    jobs: int,
    bootstrap: int,
    seed: int,
    markdown: Path | None,
) -> str:
    """The command line that reproduces the run's content (output paths other than the markdown left out)."""
    parts = ["benchcast", "backtest"]
    if suite:
        parts += ["--suite", suite]
    for name in datasets or []:
        parts += ["--dataset", name]
    for path in data or []:
        parts += ["--data", str(path)]
    if models is not None:
        parts += ["--models", str(models)]
    if targets:
        parts += ["--target", ",".join(targets)]
    if ladder:
        parts += ["--ladder", ",".join(ladder)]
    if methods:
        parts += ["--methods", ",".join(methods)]
    if jobs != 1:
        parts += ["--jobs", str(jobs)]
    if bootstrap != DEFAULT_BOOTSTRAP:
        parts += ["--bootstrap", str(bootstrap)]
    if bootstrap and seed:
        parts += ["--seed", str(seed)]
    if markdown is not None:
        parts += ["--markdown", str(markdown)]
    return shlex.join(parts)


def _user_case(
    data: list[Path],
    cards: Path | None,
    cards_flag: str,
    targets: list[str] | None,
    ladder_models: list[str] | None,
    format: str | None,
    target_means: str,
) -> BacktestCase:
    """The backtest case over a user's own ladder (``--data``), refused in one line without its cards or target."""
    from benchcast.backtest import custom_case
    from benchcast.data.inputs import load_ladder

    if cards is None:
        raise InputError(f"--data needs {cards_flag} (model cards)", field=cards_flag.removeprefix("--"))
    if not targets:
        raise InputError(f"--data needs --target ({target_means})", field="target")
    return custom_case(load_ladder(data, cards, format=format), targets, ladder_models=ladder_models)


LadderOption = Annotated[
    list[str] | None,
    typer.Option(help="With --data: ladder models (default: role 'ladder', else all below the smallest target)."),
]
FormatOption = Annotated[str | None, typer.Option(help="With --data: input format; detected when omitted.")]


@app.command()
@handle_errors
def backtest(
    suite: Annotated[str | None, typer.Option(help="'public': every backtest case of the bundled datasets.")] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="With --suite: only these bundled datasets (repeatable).")
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Result files or folders of your own ladder (repeatable).")
    ] = None,
    models: Annotated[Path | None, typer.Option("--models", "-m", help="Model cards for --data.")] = None,
    target: Annotated[
        list[str] | None, typer.Option("--target", help="With --data: held-out target(s), comma-separated.")
    ] = None,
    ladder: LadderOption = None,
    format: FormatOption = None,
    methods: Annotated[
        str | None, typer.Option("--methods", help="Comma-separated methods (default: every registered method).")
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write one row per forecast here.")] = None,
    json: Annotated[Path | None, typer.Option("--json", help="Write records, summaries and analyses here.")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write the generated page (e.g. docs/backtests.md).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "--n-jobs", help="Parallel workers (-1: all cores).")] = 1,
    bootstrap: Annotated[
        int,
        typer.Option(
            help="Bootstrap replicates for the intervals of methods without their own (0: none); the interval "
            "also carries each method's error on held-out ladder models."
        ),
    ] = DEFAULT_BOOTSTRAP,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; no progress bar.")] = False,
) -> None:
    """Hold out each target, forecast it from its ladder with every method, and report the errors."""
    from benchcast.backtest import (
        public_suite,
        run_backtest,
        summary_table,
        write_csv,
        write_json,
        write_markdown,
    )

    if suite is not None and data:
        raise InputError("give either --suite or --data, not both", field="suite")
    chosen_methods = _split([methods]) if methods else None
    targets = _split(target)
    ladder_models = _split(ladder)
    if suite is not None:
        if suite not in SUITES:
            raise InputError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}", field="suite")
        if targets or ladder_models or models is not None:
            raise InputError("--target, --ladder and --models go with --data, not --suite", field="suite")
        cases = public_suite(dataset or None)
    elif data:
        cases = [_user_case(data, models, "--models", targets, ladder_models, format, "the held-out model")]
    else:
        raise InputError("give --suite public, or --data with --models and --target", field="suite")
    command = _command(
        suite, dataset, data, models, targets, ladder_models, chosen_methods, jobs, bootstrap, seed, markdown
    )
    with _progress(quiet) as progress:
        result = run_backtest(
            cases, chosen_methods, n_jobs=jobs, n_bootstrap=bootstrap, seed=seed, progress=progress, command=command
        )
    if not quiet:
        console.print(summary_table(result))
    for path, writer in ((csv, write_csv), (json, write_json), (markdown, write_markdown)):
        if path is not None:
            writer(result, path)
            if not quiet:
                console.print(f"wrote {path}")


@app.command("ladder-design")
@handle_errors
def ladder_design(
    dataset: Annotated[
        str | None, typer.Argument(help="A bundled dataset with a backtest case (e.g. cod-ladder); or give --data.")
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="Result files or folders of your own ladder, its target included (repeatable)."),
    ] = None,
    cards: Annotated[Path | None, typer.Option("--cards", help="Model cards for --data.")] = None,
    target: Annotated[
        list[str] | None, typer.Option("--target", help="With --data: the measured model to forecast.")
    ] = None,
    ladder: LadderOption = None,
    format: FormatOption = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Put the table into this page (e.g. docs/backtests.md).")
    ] = None,
    methods: Annotated[str, typer.Option("--methods", help="Comma-separated methods.")] = "cod,auto",
    models: Annotated[str, typer.Option(help="Smaller ladder sizes to try, comma-separated.")] = "4,6",
    items: Annotated[str, typer.Option(help="Items per benchmark to try, comma-separated.")] = "250,500",
    trials: Annotated[str, typer.Option(help="Samples per item to try, comma-separated.")] = "10,30",
    seeds: Annotated[int, typer.Option(help="Repeats of each subsampled design.")] = 3,
) -> None:
    """How each method's error grows as the ladder shrinks: fewer models, items or samples per item.

    On a bundled dataset, or on your own pilot ladder (--data, --cards) with a larger measured model as --target:
    the question to answer before paying for the full ladder."""
    from benchcast.backtest.cases import dataset_cases
    from benchcast.backtest.design import design_table, render_design, write_design_section
    from benchcast.datasets import list_datasets

    def numbers(text: str, name: str) -> list[int]:
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise InputError(f"--{name} takes whole numbers separated by commas, got {text!r}", field=name) from None
        if any(value < 1 for value in values):
            raise InputError(f"--{name} values must be positive, got {text!r}", field=name)
        return values

    sizes = {name: numbers(value, name) for name, value in (("models", models), ("items", items), ("trials", trials))}
    targets, ladder_models = _split(target), _split(ladder)
    if (dataset is None) == (not data):
        raise InputError("give a bundled dataset or --data (with --cards and --target), not both", field="dataset")
    parts = ["benchcast", "ladder-design"]
    if data:
        what = "a measured model larger than the ladder"
        case, label = _user_case(data, cards, "--cards", targets, ladder_models, format, what), "your ladder"
        parts += [part for path in data for part in ("--data", str(path))] + ["--cards", str(cards)]
        parts += [part for name in targets for part in ("--target", name)]
        parts += [part for name in ladder_models or () for part in ("--ladder", name)]
    else:
        if dataset not in list_datasets():
            raise InputError(f"unknown dataset {dataset!r}; bundled: {', '.join(list_datasets())}", field="dataset")
        if targets or ladder_models or cards is not None:
            raise InputError("--cards, --target and --ladder go with --data", field="dataset")
        case, label = dataset_cases(dataset)[0], dataset
        parts.append(str(dataset))
    table = design_table(case, methods=_split([methods]), seeds=seeds, **sizes)
    parts += ["--methods", methods, "--models", models, "--items", items, "--trials", trials, "--seeds", str(seeds)]
    if markdown is not None:
        parts += ["--markdown", str(markdown)]
    section = render_design(table, label, shlex.join(parts))
    if markdown is not None:
        write_design_section(markdown, section)
        console.print(f"wrote the ladder-design table into {markdown}")
    else:
        # markdown: a line folded at the terminal's width would break the table's rows (and a file it is piped to)
        console.print(section, markup=False, highlight=False, soft_wrap=True)
