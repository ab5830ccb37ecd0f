"""Backtest cases: which models form the ladder and which held-out models are forecast.

A bundled dataset lists its cases in ``dataset.json`` under ``"cases"``, each a mapping with ``name``,
``ladder`` (model names), ``targets`` (model names; ``target`` with one name is accepted too), and optionally
``anchors``, ``benchmarks`` and ``description``. A case is checked once, when it is resolved: every ladder
model and target has results and a compute, and no target is also a ladder model or an anchor - a held-out
target must never enter the fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchcast.data.cards import Role
from benchcast.data.ladder import Ladder
from benchcast.errors import InputError


@dataclass(frozen=True, eq=False)
class BacktestCase:
    """One ladder and the held-out targets it forecasts, on one dataset.

    Examples
    --------
    >>> from benchcast.datasets import load_dataset
    >>> ladder = load_dataset("pythia-arithmetic")
    >>> case = BacktestCase("pythia-arithmetic", "demo", ladder, ("pythia-125m-deduped", "pythia-350m-deduped",
    ...     "pythia-800m-deduped"), ("pythia-13b-deduped",))
    >>> case.resolve().targets
    ('pythia-13b-deduped',)
    """

    dataset: str
    name: str
    ladder: Ladder
    ladder_models: tuple[str, ...]
    targets: tuple[str, ...]
    anchors: tuple[str, ...] = ()
    benchmarks: tuple[str, ...] | None = None
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.dataset}/{self.name}"

    def resolve(self) -> BacktestCase:
        """Check the case against its data; returns the case with its ladder sorted by compute."""
        where = f"backtest case {self.label!r}"
        if not self.ladder_models:
            raise InputError(f"{where}: no ladder models", field="ladder")
        if not self.targets:
            raise InputError(f"{where}: no targets", field="targets")
        with_results = set(self.ladder.results["model"])
        for role, names in (("ladder model", self.ladder_models), ("target", self.targets), ("anchor", self.anchors)):
            for name in names:
                if name not in self.ladder.cards:
                    raise InputError(f"{where}: {role} {name!r} has no model card", field="model")
                if name not in with_results:
                    raise InputError(f"{where}: {role} {name!r} has no results", field="model")
                compute = self.ladder.cards[name].compute
                if compute is None or not math.isfinite(compute) or compute <= 0:
                    raise InputError(f"{where}: {role} {name!r} has no compute", field="compute")
        held_out = set(self.targets)
        leaked = sorted(held_out & (set(self.ladder_models) | set(self.anchors)))
        if leaked:
            raise InputError(f"{where}: target {leaked[0]!r} is also a ladder model or anchor", field="targets")
        if len(set(self.ladder_models)) != len(self.ladder_models) or len(held_out) != len(self.targets):
            raise InputError(f"{where}: a model is listed twice", field="ladder")
        if self.benchmarks is not None:
            unknown = sorted(set(self.benchmarks) - set(self.ladder.benchmarks))
            if unknown:
                raise InputError(f"{where}: unknown benchmark {unknown[0]!r}", field="benchmarks")
        ordered = tuple(sorted(self.ladder_models, key=lambda name: (self.ladder.cards[name].compute, name)))
        return BacktestCase(
            self.dataset,
            self.name,
            self.ladder,
            ordered,
            tuple(self.targets),
            tuple(self.anchors),
            None if self.benchmarks is None else tuple(self.benchmarks),
            self.description,
            self.meta,
        )

    def case_benchmarks(self) -> list[str]:
        """Benchmarks on which every ladder model (and anchor) has results."""
        chosen = list(self.benchmarks) if self.benchmarks is not None else self.ladder.benchmarks
        results = self.ladder.results
        needed = set(self.ladder_models) | set(self.anchors)
        have = results.groupby("benchmark")["model"].agg(set)
        return [name for name in chosen if needed <= have.get(name, set())]

    def compute(self, name: str) -> float:
        return float(self.ladder.cards[name].compute)

    def summary(self) -> dict[str, Any]:
        """Plain description for reports: models, computes and the extrapolation ratio of each target."""
        largest = max(self.compute(name) for name in self.ladder_models)
        return {
            "dataset": self.dataset,
            "case": self.name,
            "description": self.description,
            "ladder": list(self.ladder_models),
            "ladder_compute": [self.compute(name) for name in self.ladder_models],
            "targets": list(self.targets),
            "target_compute": [self.compute(name) for name in self.targets],
            "extrapolation": [self.compute(name) / largest for name in self.targets],
            "anchors": list(self.anchors),
        }


def _names(value: Any, *, where: str, field_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InputError(f"{where}: '{field_name}' must be a model name or a list of names", field=field_name)


def case_from_mapping(dataset: str, ladder: Ladder, spec: Mapping[str, Any], *, index: int = 0) -> BacktestCase:
    """A case from its ``dataset.json`` entry (see the module docstring for the keys)."""
    name = str(spec.get("name", f"case-{index + 1}"))
    where = f"dataset {dataset!r}, case {name!r}"
    ladder_models = _names(spec.get("ladder", spec.get("ladder_models")), where=where, field_name="ladder")
    targets = _names(spec.get("targets", spec.get("target")), where=where, field_name="targets")
    anchors = _names(spec.get("anchors"), where=where, field_name="anchors")
    benchmarks = spec.get("benchmarks")
    return BacktestCase(
        dataset=dataset,
        name=name,
        ladder=ladder,
        ladder_models=ladder_models,
        targets=targets,
        anchors=anchors,
        benchmarks=None if benchmarks is None else _names(benchmarks, where=where, field_name="benchmarks"),
        description=str(spec.get("description", "")),
        meta=dict(spec),
    ).resolve()


def dataset_cases(name: str) -> list[BacktestCase]:
    """The backtest cases of one bundled dataset (an empty list when it declares none)."""
    from benchcast.datasets import dataset_info, load_dataset

    info = dataset_info(name)
    specs = info.meta.get("cases") or []
    if not specs:
        return []
    ladder = load_dataset(name)
    return [case_from_mapping(name, ladder, spec, index=i) for i, spec in enumerate(specs)]


def public_suite(datasets: Iterable[str] | None = None) -> list[BacktestCase]:
    """Every case of every bundled dataset that declares cases (or of the named datasets only)."""
    from benchcast.datasets import list_datasets

    bundled = list_datasets()
    names = list(bundled) if datasets is None else list(datasets)
    unknown = [name for name in names if name not in bundled]
    if unknown:
        raise InputError(f"unknown dataset {unknown[0]!r}; bundled: {', '.join(bundled)}", field="dataset")
    cases = [case for name in names for case in dataset_cases(name)]
    if not cases:
        raise InputError("no backtest cases: the chosen datasets declare none", field="dataset")
    return cases


def custom_case(
    ladder: Ladder,
    targets: Sequence[str],
    *,
    ladder_models: Sequence[str] | None = None,
    anchors: Sequence[str] | None = None,
    dataset: str = "custom",
    name: str = "custom",
) -> BacktestCase:
    """A case over user data: the given ladder, else the models marked ``ladder`` in the cards, else every
    model with results and less compute than the smallest target (targets and anchors excluded)."""
    if not targets:
        raise InputError("name at least one target (--target)", field="target")
    for target in targets:
        if target not in ladder.cards:
            raise InputError(f"unknown target {target!r}: it has no model card", field="target")
    if anchors is None:
        anchors = [n for n, c in ladder.cards.items() if c.role is Role.ANCHOR and n not in targets]
    if ladder_models is None:
        with_results = set(ladder.results["model"])
        marked = [n for n, c in ladder.cards.items() if c.role is Role.LADDER and n in with_results]
        if marked:
            ladder_models = [n for n in marked if n not in targets]
        else:
            smallest = min(ladder.cards[t].compute or math.inf for t in targets)
            ladder_models = [
                n
                for n in with_results
                if n not in targets and n not in anchors and (ladder.cards[n].compute or math.inf) < smallest
            ]
    return BacktestCase(
        dataset=dataset,
        name=name,
        ladder=ladder,
        ladder_models=tuple(ladder_models),
        targets=tuple(targets),
        anchors=tuple(anchors),
        description="user data",
    ).resolve()
