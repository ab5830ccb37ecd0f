"""``benchcast evaluate``: run lm-eval on every ladder checkpoint and fill a store, locally or on Ray.

Everything that can be checked is checked before the first unit runs (cards and checkpoint paths, tasks, Ray,
the store), so a bad command exits 2 with one line and leaves the store as it was.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import benchcast
from benchcast.cli import app, console, err_console, handle_errors, show_progress
from benchcast.errors import InputError

if TYPE_CHECKING:
    from benchcast.evaluation.run import Status


def _positive(value: int | None, option: str) -> None:
    if value is not None and value < 1:
        raise InputError(f"{option} must be at least 1, got {value}", field=option.lstrip("-"))


def _backend(name: str) -> tuple[str, str]:
    """The lm-eval model backend and device: vLLM when it is installed and a GPU is present, else HF."""
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:
        gpu = False
    if name not in {"auto", "hf", "vllm"}:
        raise InputError(f"unknown backend {name!r} (expected auto, hf or vllm)", field="backend")
    if name == "vllm" or (name == "auto" and gpu):
        try:
            import vllm  # noqa: F401

            vllm_ok = gpu
        except ImportError:
            vllm_ok = False
        if vllm_ok:
            return "vllm", "cuda"
        if name == "vllm":
            raise InputError("--backend vllm needs vllm installed and a GPU", field="backend")
    return "hf", "cuda" if gpu else "cpu"


@app.command("evaluate")
@handle_errors
def evaluate_command(
    models: Annotated[Path, typer.Option("--models", "-m", help="Model cards with checkpoint paths (YAML or CSV).")],
    tasks: Annotated[str, typer.Option("--tasks", "-t", help="lm-eval tasks or groups, comma-separated.")],
    store: Annotated[Path, typer.Option("--store", "-s", help="The store (a DuckDB file), created if missing.")],
    include_path: Annotated[
        Path | None, typer.Option("--include-path", help="A folder of lm-eval task YAMLs (as lm_eval's).")
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(help="Samples per item of sampling tasks (default: each task's repeats; 100 with --adaptive)."),
    ] = None,
    adaptive: Annotated[
        bool, typer.Option("--adaptive", help="Sample in rounds and stop items whose pass rate is settled.")
    ] = False,
    round_size: Annotated[int, typer.Option("--round", help="Samples per item and round with --adaptive.")] = 10,
    ray: Annotated[
        str | None, typer.Option("--ray", help="'auto' starts a local Ray; HOST:PORT joins a running cluster.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Units run side by side (local processes or Ray tasks).")] = 1,
    shards: Annotated[int, typer.Option(help="Split each task's items into this many units per checkpoint.")] = 1,
    limit: Annotated[int | None, typer.Option(help="Evaluate only each task's first N items.")] = None,
    backend: Annotated[str, typer.Option(help="lm-eval backend: auto (vllm on a GPU, else hf), hf, vllm.")] = "auto",
    batch_size: Annotated[str, typer.Option(help="The backend's batch size (a number or 'auto').")] = "16",
    threads: Annotated[int | None, typer.Option(help="Torch threads per worker (default: cores / workers).")] = None,
    seed: Annotated[int, typer.Option(help="Base seed; each unit's seed derives from it and what the unit is.")] = 0,
    work: Annotated[
        Path | None, typer.Option(help="Folder for lm-eval's output files (default: STORE's name + '.evaluate').")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Evaluate every checkpoint in the model cards with lm-eval and ingest each finished unit into the store;
    units already there are skipped, so an interrupted run picks up where it stopped."""
    from benchcast.data.store import Store
    from benchcast.evaluation.adaptive import AdaptiveRule
    from benchcast.evaluation.harness import HarnessSettings, quiet_harness
    from benchcast.evaluation.plan import ladder_checkpoints, resolve_tasks
    from benchcast.evaluation.run import check_store_items
    from benchcast.evaluation.workers import check_ray, make_workers

    quiet_harness()
    for value, option in ((workers, "--workers"), (shards, "--shards"), (samples, "--samples"), (limit, "--limit")):
        _positive(value, option)
    _positive(round_size, "--round")
    _positive(threads, "--threads")
    rule = None
    if adaptive:
        budget = samples or 100
        if round_size > budget:
            raise InputError(f"--round {round_size} is more than the budget of {budget} samples", field="round")
        rule = AdaptiveRule(budget=budget, round_size=round_size)
    if not (batch_size == "auto" or batch_size.isdigit()):
        raise InputError(f"--batch-size must be a number or 'auto', got {batch_size!r}", field="batch-size")
    backend_name, device = _backend(backend)
    checkpoints = ladder_checkpoints(models)
    check_ray(ray)
    settings = HarnessSettings(
        backend=backend_name,
        device=device,
        batch_size=int(batch_size) if batch_size.isdigit() else batch_size,
        include_path=None if include_path is None else str(include_path.resolve()),
        threads=threads or max(1, (os.cpu_count() or 1) // workers),
        seed=seed,
    )
    task_names = [name.strip() for name in tasks.split(",") if name.strip()]
    infos, settings = resolve_tasks(task_names, settings)
    if store.exists():
        Store(store, read_only=True).close()  # not a store, or a newer schema: fail before any work
    check_store_items(store, infos, limit)
    work = work or store.with_name(store.name + ".evaluate")

    pool = make_workers(settings, workers, ray)
    created = not store.exists()
    try:
        with Store(store) as target, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if not quiet:
                err_console.print(
                    f"evaluating {len(checkpoints)} checkpoint(s) x {len(infos)} task(s) on {pool.description} "
                    f"({settings.backend}, {settings.device})",
                    highlight=False,
                )
            summary = _run(checkpoints, infos, target, pool, work, samples, rule, shards, limit, seed, quiet)
    except BaseException:
        if created:  # a first run that fails before storing a unit leaves no store behind
            _remove_if_empty(store)
        raise
    finally:
        pool.close()
    package = str(Path(benchcast.__file__).parent)
    for warning in caught:
        if str(warning.filename).startswith(package):  # ingest's warnings, not the harness's chatter
            err_console.print(f"[yellow]warning:[/] {warning.message}", highlight=False, soft_wrap=True)
    if not quiet:
        where = pool.where()
        console.print(f"{store}: {summary}" + (f"; {where}" if where else ""), highlight=False, soft_wrap=True)


def _remove_if_empty(store: Path) -> None:
    from benchcast.data.store import Store

    with Store(store, read_only=True) as source:
        empty = source.listing()["ingests"].empty
    if empty:
        for leftover in (store, store.with_name(store.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _run(checkpoints, infos, target, pool, work, samples, rule, shards, limit, seed, quiet):
    from benchcast.evaluation.run import evaluate

    options = {"samples": samples, "rule": rule, "shards": shards, "limit": limit, "seed": seed, "work": work}
    if not show_progress(quiet):
        return evaluate(checkpoints, infos, target, pool, **options)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("units  {task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("evaluating", total=None, rate="")

        def progress(status: Status) -> None:
            bar.update(
                task,
                completed=status.units_done,
                total=status.units_total,
                description=f"round {status.round + 1} {status.label}".rstrip(),
                rate=f"{status.samples:,} samples, {status.rate:.1f}/s"
                + (f", {status.saved:,} saved" if status.saved else ""),
            )

        return evaluate(checkpoints, infos, target, pool, progress=progress, **options)
