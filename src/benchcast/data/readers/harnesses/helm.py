"""Stanford HELM: ``benchmark_output/runs/<suite>/<run_name>/per_instance_stats.json``.

Each entry is one (instance, perturbation, train trial) with a list of stats. The metric is the first of
``exact_match``, ``quasi_exact_match``, ``prefix_exact_match``, ``quasi_prefix_exact_match`` (or another known
correctness) present, or the one named; its per-instance ``mean`` is the value. The item is ``instance_id``;
train trials (different few-shot draws) are repeats; a perturbed instance belongs to the benchmark
``<run>/<perturbation>`` (``filter`` = the perturbation's name). The model is ``run_spec.json``'s
``adapter_spec.model``, else the run name's ``model=``; the benchmark is the run name without the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from benchcast.data.readers import register_reader
from benchcast.data.readers.harnesses._common import (
    HarnessReader,
    Part,
    RecordTable,
    find_files,
    iter_json_records,
    pick_metric,
    read_json,
    require_object,
    unit_value,
    whole_number,
)
from benchcast.errors import InputError

_NAME = "per_instance_stats.json"
_PREFERRED = ("exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match")


def _identity(run_dir: Path) -> tuple[str, str]:
    """(model, benchmark) of a run folder."""
    run_name = run_dir.name
    model = None
    spec_path = run_dir / "run_spec.json"
    if spec_path.exists():
        spec = read_json(spec_path)
        adapter = spec.get("adapter_spec") if isinstance(spec, dict) else None
        if isinstance(adapter, dict) and isinstance(adapter.get("model"), str):
            model = adapter["model"]
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            run_name = spec["name"]
    head, _, tail = run_name.partition(":")
    args = [part for part in tail.split(",") if part]
    named = dict(part.split("=", 1) for part in args if "=" in part)
    model = model or named.get("model") or named.get("model_deployment")
    if not model:
        raise InputError("cannot tell the model (no run_spec.json and no model= in the run name)", path=run_dir)
    kept = [part for part in args if part.split("=", 1)[0] not in ("model", "model_deployment")]
    benchmark = f"{head}:{','.join(kept)}" if kept else head
    return model, benchmark


def _stats_by_name(stats: Any) -> tuple[list[str], dict[str, Any]]:
    names: list[str] = []
    by_name: dict[str, Any] = {}
    for stat in stats if isinstance(stats, list) else []:
        name = stat.get("name") if isinstance(stat, dict) else None
        key = name.get("name") if isinstance(name, dict) else None
        if isinstance(key, str) and key not in by_name:
            names.append(key)
            by_name[key] = stat
    return names, by_name


@register_reader("helm")
class HelmReader(HarnessReader):
    """HELM run folders (each with ``per_instance_stats.json``), a suite folder, or the file itself."""

    def can_read(self, path: Path) -> bool:
        if path.is_file():
            return path.name == _NAME
        return (path / _NAME).exists() or next(path.rglob(_NAME), None) is not None

    def parts(self, path: Path) -> list[Part]:
        return [Part(file) for file in find_files(path, _NAME)]

    def read_part(self, part: Part) -> pd.DataFrame:
        path = part.path
        model, base = _identity(path.parent)
        table = RecordTable(path)
        metric: str | None = None
        for line, raw in iter_json_records(path):
            entry = require_object(raw, path=path, line=line)
            names, by_name = _stats_by_name(entry.get("stats"))
            if metric is None:
                ordered = [n for n in _PREFERRED if n in names] + [n for n in names if n not in _PREFERRED]
                metric = pick_metric(ordered, self.metric, path=path, line=line, field="stats")
            if metric not in by_name:
                raise InputError("missing metric", path=path, line=line, field=f"stats.{metric}")
            stat = by_name[metric]
            value = stat.get("mean")
            if value is None and stat.get("count"):
                value = stat.get("sum", 0.0) / stat["count"]
            value = unit_value(value, path=path, line=line, field=f"stats.{metric}.mean")
            if "instance_id" not in entry:
                raise InputError("missing instance_id", path=path, line=line, field="instance_id")
            trial = whole_number(entry.get("train_trial_index", 0), path=path, line=line, field="train_trial_index")
            perturbation = entry.get("perturbation")
            name = perturbation.get("name", "perturbed") if isinstance(perturbation, dict) else ""
            table.add_value(
                value,
                model=model,
                step=None,
                benchmark=f"{base}/{name}" if name else base,
                filter=str(name),
                item=str(entry["instance_id"]),
                repeat=trial,
                line=line,
            )
        return table.frame()
