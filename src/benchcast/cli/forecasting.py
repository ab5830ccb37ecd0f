"""``benchcast forecast``, ``demo`` and ``simulate``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from benchcast.cli import app, console, handle_errors, progress_callback

if TYPE_CHECKING:
    from benchcast.data.ladder import Ladder
    from benchcast.forecast import Forecast

DEMO_DATASET = "pythia-arithmetic"
DEMO_LADDER = [
    "pythia-125m-deduped",
    "pythia-350m-deduped",
    "pythia-800m-deduped",
    "pythia-1.3b-deduped",
    "pythia-2.7b-deduped",
]
DEMO_TARGET = "pythia-13b-deduped"


@contextlib.contextmanager
def _forecast_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """Bars for ``forecast``'s progress: "fitting" over the benchmarks, then "bootstrap BENCHMARK" each."""
    from benchcast.forecast import FITTING

    with progress_callback("", quiet) as bar:
        if bar is None:
            yield None
        else:
            yield lambda label, done, total: bar(label if label == FITTING else f"bootstrap {label}", done, total)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


LawOption = Annotated[
    str | None,
    typer.Option(
        help="With --method cod: the cluster law ('pooled', the default: the paper's unless the clusters show "
        "firmly that a logistic rise predicts better; 'cod': the paper's alone; 'select'; 'logistic')."
    ),
]


MethodOption = Annotated[str, typer.Option(help="Forecasting method ('auto': validated combination).")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Write the forecast as JSON here.")]
ItemsOption = Annotated[
    bool, typer.Option("--items", help="Put per-item details (clusters, item map) into --json; large.")
]
ReportOption = Annotated[Path | None, typer.Option("--report", help="Write an HTML report here.")]
BootstrapOption = Annotated[int, typer.Option(help="Bootstrap replicates for prediction intervals (0: none).")]
SeedOption = Annotated[int, typer.Option(help="Seed of the bootstrap.")]
JobsOption = Annotated[int, typer.Option(help="Parallel workers for the bootstrap (-1: all cores).")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _run(data: Ladder, *, bootstrap: int, seed: int, jobs: int, quiet: bool, **selection: object) -> Forecast:
    """``benchcast.forecast`` as the commands run it, with their ``--bootstrap``, ``--seed`` and ``--jobs`` and
    progress bars unless ``--quiet``; ``selection`` is what to forecast and how."""
    from benchcast.forecast import forecast as run_forecast

    with _forecast_progress(quiet) as progress:
        return run_forecast(data, n_bootstrap=bootstrap, seed=seed, n_jobs=jobs, progress=progress, **selection)


def _write(result: Forecast, json: Path | None, items: bool, report: Path | None) -> None:
    """The forecast's files, as ``--json`` (per-item details with ``--items``) and ``--report`` ask."""
    if json is not None:
        result.write_json(json, items=items)
        console.print(f"wrote {json}")
    if report is not None:
        from benchcast.report.html import write_report

        write_report(result, report)
        console.print(f"wrote {report}")


def _law(law: str | None, method: str) -> dict[str, str]:
    """``--law`` as COD's parameter (none when not given); refused, in one line, with any other method or an
    unknown law."""
    if law is None:
        return {}
    from benchcast.cod.method import LAWS
    from benchcast.errors import InputError

    if method != "cod":
        raise InputError(f"--law applies to --method cod only (got --method {method})")
    if law not in LAWS:
        raise InputError(f"--law must be one of {', '.join(LAWS)}, got {law!r}")
    return {"law": law}


@app.command()
@handle_errors
def forecast(
    results: Annotated[list[Path], typer.Argument(help="Result files or folders (any supported format).")],
    models: Annotated[Path, typer.Option("--models", "-m", help="Model cards (CSV or YAML).")],
    target: Annotated[str | None, typer.Option(help="Target model name (needs a card).")] = None,
    compute: Annotated[float | None, typer.Option(help="Target training compute in FLOPs.")] = None,
    method: MethodOption = "auto",
    law: LawOption = None,
    benchmark: Annotated[
        list[str] | None,
        typer.Option(help="Only these benchmarks (repeatable; glob patterns like 'arithmetic_*' too)."),
    ] = None,
    ladder: Annotated[list[str] | None, typer.Option(help="Ladder models (comma-separated or repeated).")] = None,
    anchor: Annotated[list[str] | None, typer.Option(help="Anchor models for COD's mapping.")] = None,
    format: Annotated[str | None, typer.Option(help="Input format; detected when omitted.")] = None,
    json: JsonOption = None,
    items: ItemsOption = False,
    report: ReportOption = None,
    bootstrap: BootstrapOption = 200,
    seed: SeedOption = 0,
    jobs: JobsOption = -1,
    quiet: QuietOption = False,
) -> None:
    """Forecast a target's benchmark scores from a ladder of small models."""
    from benchcast.data.inputs import load_ladder
    from benchcast.report.table import forecast_table

    cod_params = _law(law, method)
    data = load_ladder(results, models, format=format)
    result = _run(
        data,
        bootstrap=bootstrap,
        seed=seed,
        jobs=jobs,
        quiet=quiet,
        target=target,
        compute=compute,
        method=method,
        benchmarks=benchmark or None,
        ladder_models=_split(ladder),
        anchors=_split(anchor),
        **cod_params,
    )
    console.print(forecast_table(result, console=console))
    _write(result, json, items, report)


@app.command()
@handle_errors
def demo(
    method: MethodOption = "auto",
    law: LawOption = None,
    json: JsonOption = None,
    items: ItemsOption = False,
    report: ReportOption = None,
    bootstrap: BootstrapOption = 200,
    seed: SeedOption = 0,
    jobs: JobsOption = -1,
    quiet: QuietOption = False,
) -> None:
    """Forecast Pythia-13B's arithmetic scores from Pythia 125M-2.7B (bundled real data)."""
    from benchcast.datasets import load_dataset
    from benchcast.report.table import forecast_table

    cod_params = _law(law, method)
    data = load_dataset(DEMO_DATASET)
    result = _run(
        data,
        bootstrap=bootstrap,
        seed=seed,
        jobs=jobs,
        quiet=quiet,
        target=DEMO_TARGET,
        method=method,
        ladder_models=DEMO_LADDER,
        **cod_params,
    )
    console.print(
        forecast_table(
            result,
            title=f"{DEMO_TARGET} forecast from Pythia 125M-2.7B, method {method} (scores in %)",
            console=console,
        )
    )
    errors = [bf.error for bf in result.benchmarks.values() if bf.error is not None]
    if errors:
        console.print(f"mean absolute error {sum(errors) / len(errors):.1f} points over {len(errors)} benchmarks")
    _write(result, json, items, report)


@app.command()
@handle_errors
def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write results.csv and models.csv into.")],
    n_items: Annotated[int, typer.Option(help="Items in the benchmark.")] = 2000,
    n_models: Annotated[int, typer.Option(help="Ladder models.")] = 8,
    trials: Annotated[int, typer.Option(help="Samples per item and model.")] = 100,
    target_ratio: Annotated[float, typer.Option(help="Target compute / largest ladder compute.")] = 25.0,
    chance: Annotated[float, typer.Option(help="Random-guess floor of every item.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Write a simulated ladder (and its target) with known truth, for trying the method."""
    from benchcast.simulate import simulate_ladder

    sim = simulate_ladder(
        n_items=n_items, n_models=n_models, trials=trials, target_ratio=target_ratio, chance=chance, seed=seed
    )
    out.mkdir(parents=True, exist_ok=True)
    sim.results.drop(columns=["pass_rate", "score", "step"]).to_csv(out / "results.csv", index=False)
    rows = ["model,compute,family,role"]
    rows += [f"{c.name},{c.compute:.6g},{c.family},{c.role}" for c in sim.cards.values()]
    (out / "models.csv").write_text("\n".join(rows) + "\n")
    console.print(
        f"wrote {out / 'results.csv'} and {out / 'models.csv'}: {n_models} ladder models + target "
        f"{sim.target!r}; its true expected score is {100 * sim.truth:.2f}%"
    )
