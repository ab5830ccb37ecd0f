"""Real evaluation data bundled with benchcast, each folder with its licence and provenance.

A dataset folder holds ``results.csv.gz`` (canonical long results), ``models.csv`` (model cards),
optional ``metrics.csv.gz`` (model x benchmark metrics such as a task loss), ``dataset.json`` (title,
licence, source, chance levels) and ``README.md``. Folders are made by the scripts in ``scripts/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from benchcast.data.cards import load_model_cards
from benchcast.data.ladder import Ladder
from benchcast.data.results import validate_results


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    path: Path
    meta: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.name))


def _root() -> Path:
    return Path(str(resources.files("benchcast.datasets")))


@cache
def list_datasets() -> dict[str, DatasetInfo]:
    """Bundled datasets by name."""
    out = {}
    for folder in sorted(_root().iterdir()):
        meta_file = folder / "dataset.json"
        if meta_file.is_file():
            meta = json.loads(meta_file.read_text())
            out[meta["name"]] = DatasetInfo(meta["name"], folder, meta)
    return out


def dataset_info(name: str) -> DatasetInfo:
    datasets = list_datasets()
    if name not in datasets:
        raise KeyError(f"unknown dataset {name!r}; bundled: {', '.join(datasets)}")
    return datasets[name]


def load_results(name: str) -> pd.DataFrame:
    """A bundled dataset's item results, validated (the long format of ``results.csv.gz``)."""
    return validate_results(pd.read_csv(dataset_info(name).path / "results.csv.gz", dtype={"item": str}))


def load_dataset(name: str, *, checkpoint_window: int = 1, results: pd.DataFrame | None = None) -> Ladder:
    """Load a bundled dataset as a ``Ladder``; ``results`` replaces its item results (e.g. a subsample of
    ``load_results(name)``, to ask what a smaller ladder would have forecast).

    Examples
    --------
    >>> ladder = load_dataset("pythia-arithmetic")
    >>> len(ladder.models)
    7
    """
    info = dataset_info(name)
    results = load_results(name) if results is None else results
    cards = load_model_cards(info.path / "models.csv")
    metrics_file = info.path / "metrics.csv.gz"
    metrics = pd.read_csv(metrics_file) if metrics_file.exists() else None
    return Ladder(
        results,
        cards,
        checkpoint_window=checkpoint_window,
        chance=info.meta.get("chance") or None,
        benchmark_metrics=metrics,
        name=name,
    )
