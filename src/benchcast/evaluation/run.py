"""The driver of ``benchcast evaluate``: plans units, hands them to the workers, ingests what comes back.

Data flows one way: checkpoints x tasks -> units (one per checkpoint, task, shard and round) -> workers ->
the harness's files -> the work folder -> ``Store.ingest``. This process alone writes the store, one
transaction per finished (checkpoint, task, round) with all its shards, so a run that is killed loses only the
units in flight, and a unit already in the store is skipped when the command runs again.

With a fixed budget every task has one round. With ``--adaptive`` a sampling task is drawn in rounds of
``rule.round_size`` samples per item; round ``r`` is stored as repeats ``r * round_size ...``; before each round
the items that keep sampling are read back from the store and decided by ``adaptive.keep_sampling``, so a
resumed run takes the same decisions as an uninterrupted one. A round starts when the one before it is in the
store for every checkpoint, because the rule compares an item with its neighbours on the ladder.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchcast.data.store import Store
from benchcast.errors import InputError
from benchcast.evaluation.adaptive import AdaptiveRule, keep_sampling
from benchcast.evaluation.harness import Unit, UnitResult
from benchcast.evaluation.plan import LadderCheckpoint, TaskInfo
from benchcast.evaluation.workers import Workers

ONE_ROUND = 2**31 - 1
"""Round size of a fixed budget: every repeat is in round 0."""


@dataclass(frozen=True)
class Schedule:
    """How one task is sampled: ``rounds`` rounds of ``repeats(r)`` samples per item, stored from ``offset(r)``."""

    rule: AdaptiveRule | None
    fixed: int | None
    per_item: int

    @property
    def rounds(self) -> int:
        return 1 if self.rule is None else self.rule.rounds

    @property
    def round_size(self) -> int:
        return ONE_ROUND if self.rule is None else self.rule.round_size

    def repeats(self, round_index: int) -> int | None:
        return self.fixed if self.rule is None else self.rule.round_trials(round_index)

    def offset(self, round_index: int) -> int:
        return 0 if self.rule is None else round_index * self.rule.round_size


def schedule(task: TaskInfo, samples: int | None, rule: AdaptiveRule | None) -> Schedule:
    """Adaptive rounds for sampling tasks only: a log-likelihood task has nothing to sample."""
    if rule is not None and task.generates:
        return Schedule(rule, None, rule.budget)
    fixed = samples if samples is not None and task.generates else None
    return Schedule(None, fixed, fixed or task.repeats)


@dataclass(frozen=True)
class Status:
    """Where a run stands, for a progress display."""

    units_done: int
    units_total: int
    skipped: int
    samples: int
    saved: int
    seconds: float
    round: int
    label: str

    @property
    def rate(self) -> float:
        """Samples drawn per second of this run."""
        return self.samples / self.seconds if self.seconds > 0 else 0.0


@dataclass
class EvaluateSummary:
    """What a run did: units run and skipped, samples drawn now, records added, and samples drawn in all
    (``drawn``, the store's count for the planned checkpoints and tasks) against the fixed ``budget``."""

    units: int = 0
    skipped: int = 0
    samples: int = 0
    added: int = 0
    drawn: int = 0
    budget: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.units} unit(s) evaluated, {self.skipped} already in the store; {self.samples:,} samples in "
            f"{self.seconds:.1f} s ({self.rate:.1f} samples/s), {self.added:,} records added"
        )
        if self.budget and self.drawn < self.budget:
            saved = self.budget / max(self.drawn, 1)
            text += f"; {self.drawn:,} of a fixed budget of {self.budget:,} samples drawn ({saved:.1f}x fewer)"
        return text


def unit_seed(seed: int, *parts: object) -> int:
    """A unit's sampling seed: fixed by what the unit is, not by when or where it runs."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).hexdigest()
    return int(digest[:8], 16) % 2**31


def check_store_items(store_path: Path, tasks: dict[str, TaskInfo], limit: int | None) -> None:
    """A store that already holds a task with other items (another ``--limit``) would fail at the first ingest."""
    if not store_path.exists():
        return
    with Store(store_path, read_only=True) as store:
        for task in tasks.values():
            held = store.connection.execute(
                "SELECT count(DISTINCT item) FROM records WHERE benchmark = ?", [task.name]
            ).fetchall()[0][0]
            planned = _doc_count(task, limit)
            if held and held != planned:
                raise InputError(
                    f"task {task.name!r}: the store holds {held} items, this run would evaluate {planned} "
                    "(a different --limit?)",
                    path=store_path,
                )


def _doc_count(task: TaskInfo, limit: int | None) -> int:
    return task.docs if limit is None else min(limit, task.docs)


def evaluate(
    checkpoints: list[LadderCheckpoint],
    tasks: dict[str, TaskInfo],
    store: Store,
    workers: Workers,
    *,
    work: Path,
    samples: int | None = None,
    rule: AdaptiveRule | None = None,
    shards: int = 1,
    limit: int | None = None,
    seed: int = 0,
    progress: Callable[[Status], None] | None = None,
) -> EvaluateSummary:
    """Evaluate every checkpoint on every task into ``store`` (module docstring); ``checkpoints`` in ascending
    compute, as ``plan.ladder_checkpoints`` gives them."""
    start = time.perf_counter()
    summary = EvaluateSummary()
    schedules = {name: schedule(task, samples, rule) for name, task in tasks.items()}
    done = total = saved = 0

    def report(round_index: int, label: str) -> None:
        if progress is not None:
            seconds = time.perf_counter() - start
            progress(Status(done, total, summary.skipped, summary.samples, saved, seconds, round_index, label))

    for round_index in range(max(plan.rounds for plan in schedules.values())):
        units: list[Unit] = []
        expected: dict[tuple, int] = {}
        for name, task in tasks.items():
            plan = schedules[name]
            if round_index >= plan.rounds:
                continue
            counts = store.round_counts(name, plan.round_size)
            this_round = counts[counts["round"] == round_index]
            stored = set(zip(this_round["model"], this_round["step"].fillna(-1).astype("int64"), strict=True))
            active, stopped = _active_docs(checkpoints, list(range(_doc_count(task, limit))), counts, plan, round_index)
            saved += stopped
            for checkpoint, docs in zip(checkpoints, active, strict=True):
                if (checkpoint.model, -1 if checkpoint.step is None else checkpoint.step) in stored:
                    summary.skipped += 1
                    continue
                if not docs:
                    continue
                chunks = [chunk for chunk in np.array_split(np.array(docs), max(1, shards)) if len(chunk)]
                expected[(checkpoint, name)] = len(chunks)
                units.extend(
                    Unit(
                        model=checkpoint.model,
                        step=checkpoint.step,
                        path=checkpoint.path,
                        task=name,
                        docs=tuple(int(doc) for doc in chunk),
                        repeats=plan.repeats(round_index),
                        round=round_index,
                        shard=shard,
                        seed=unit_seed(seed, checkpoint.model, checkpoint.step, name, round_index, shard),
                    )
                    for shard, chunk in enumerate(chunks)
                )
        total += len(expected)
        report(round_index, "")
        arrived: dict[tuple, list[UnitResult]] = {}
        for result in workers.run(units):
            summary.samples += result.samples
            key = (LadderCheckpoint(result.unit.model, result.unit.step, result.unit.path), result.unit.task)
            arrived.setdefault(key, []).append(result)
            if len(arrived[key]) == expected[key]:
                plan = schedules[result.unit.task]
                summary.added += _ingest(store, work, arrived.pop(key), plan.offset(round_index))
                summary.units += 1
                done += 1
            report(round_index, f"{result.unit.folder} {result.unit.task}")
    summary.seconds = time.perf_counter() - start
    for name, task in tasks.items():
        plan = schedules[name]
        summary.budget += len(checkpoints) * _doc_count(task, limit) * plan.per_item
        summary.drawn += _drawn(store.round_counts(name, plan.round_size), checkpoints, plan)
    return summary


def _cells(counts: pd.DataFrame) -> pd.MultiIndex:
    """(model, step, item) of each row; a missing step is -1 (steps are never negative)."""
    steps = counts["step"].fillna(-1).astype("int64")
    return pd.MultiIndex.from_arrays([counts["model"], steps, counts["item"]], names=["model", "step", "item"])


def _grid(checkpoints: list[LadderCheckpoint], docs: list[int]) -> pd.MultiIndex:
    return pd.MultiIndex.from_tuples(
        [(c.model, -1 if c.step is None else c.step, str(doc)) for c in checkpoints for doc in docs],
        names=["model", "step", "item"],
    )


def _active_docs(
    checkpoints: list[LadderCheckpoint], docs: list[int], counts: pd.DataFrame, plan: Schedule, round_index: int
) -> tuple[list[list[int]], int]:
    """The documents each checkpoint samples in this round (all in the first, then those the rule keeps), and
    the samples saved by the items that stop now."""
    if round_index == 0 or plan.rule is None or not docs:
        return [docs for _ in checkpoints], 0
    before = counts[counts["round"] < round_index]
    cells = _cells(before)
    totals = before[["trials", "correct"]].set_axis(cells).groupby(level=[0, 1, 2]).sum()
    grid = _grid(checkpoints, docs)
    shape = (len(checkpoints), len(docs))
    values = totals.reindex(grid).fillna(0.0)
    trials = values["trials"].to_numpy(dtype=float).reshape(shape)
    correct = values["correct"].to_numpy(dtype=float).reshape(shape)
    sampled = grid.isin(cells[before["round"].to_numpy() == round_index - 1]).reshape(shape)
    keep = sampled & keep_sampling(trials, correct, plan.rule)
    saved = int((plan.rule.budget - trials[sampled & ~keep]).sum())
    return [
        [doc for doc, chosen in zip(docs, keep[row], strict=True) if chosen] for row in range(len(checkpoints))
    ], saved


def _drawn(counts: pd.DataFrame, checkpoints: list[LadderCheckpoint], plan: Schedule) -> int:
    planned = {(c.model, -1 if c.step is None else c.step) for c in checkpoints}
    steps = counts["step"].fillna(-1).astype("int64")
    chosen = counts[[pair in planned for pair in zip(counts["model"], steps, strict=True)]]
    if plan.rule is None:
        return len(chosen) * plan.per_item
    return int(sum(plan.rule.round_trials(int(r)) for r in chosen["round"]))


def _ingest(store: Store, work: Path, results: list[UnitResult], offset: int) -> int:
    """Write a unit's files (all its shards) under ``work`` and ingest them in one transaction."""
    unit = results[0].unit
    folder = work / unit.folder / unit.task / f"round{unit.round}"
    shutil.rmtree(folder, ignore_errors=True)  # a unit a killed run left half written
    paths = []
    for result in sorted(results, key=lambda r: r.unit.shard):
        shard = folder / f"shard{result.unit.shard}"
        shard.mkdir(parents=True)
        for name, data in result.files.items():
            (shard / name).write_bytes(data)
        paths.append(shard)
    return store.ingest(paths, format="lm-eval", repeat_offset=offset).added
