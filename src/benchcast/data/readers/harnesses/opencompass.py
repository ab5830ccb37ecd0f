"""OpenCompass: ``results/<model_abbr>/<dataset_abbr>.json`` details, else ``predictions/`` of choice tasks.

The model is the ``model_abbr`` folder, the benchmark the ``dataset_abbr`` file name. Items are the dataset
row index (``example_abbr`` ``<dataset_abbr>_<idx>`` gives ``idx``).

* Results ``details`` as a list (evaluators that return details, >= 0.5): each field is a list over the
  ``n`` repeats, so ``correct`` (or ``is_correct``, ``cascade_correct``) gives one trial per repeat.
* Results ``details`` as a dict keyed by index plus ``"type"`` (e.g. PPL multiple choice): ``correct`` per item.
* No details (runs before 0.5 without ``--dump-eval-details``): the predictions of choice tasks (PPL/CLP
  inferencers: ``prediction`` and ``gold`` labels, or ``pred_label``) give correct = prediction == gold; with
  ``n`` repeats (told by the results' ``(N runs average)`` metric names) entry ``r*M + i`` is repeat r of item i.
  Generation predictions carry no correctness (it needs the dataset's post-processor), so they are an error.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from benchcast.data.readers import register_reader
from benchcast.data.readers.harnesses._common import (
    HarnessReader,
    Part,
    RecordTable,
    natural_key,
    read_json,
    unit_value,
)
from benchcast.errors import InputError

_CORRECT = ("correct", "is_correct", "cascade_correct")
_RUNS = re.compile(r"\((\d+) runs average\)")
_SPLIT = re.compile(r"^(?P<dataset>.+)_(?P<index>\d+)$")


def _kind(path: Path) -> str | None:
    """'results' or 'predictions' when ``path`` sits at ``<kind>/<model_abbr>/<dataset>.json``."""
    if path.suffix != ".json" or path.name.startswith(("results_", "tmp_")):
        return None
    kind = path.parent.parent.name
    return kind if kind in ("results", "predictions") else None


def _candidates(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if _kind(path) else []
    found = [*path.rglob("results/*/*.json"), *path.rglob("predictions/*/*.json")]
    return sorted(p for p in found if _kind(p))


def _entries(data: Any, path: Path) -> list[tuple[str, Any]]:
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object keyed by index, got {type(data).__name__}", path=path)
    return sorted(((key, value) for key, value in data.items() if key != "type"), key=lambda kv: natural_key(kv[0]))


@register_reader("opencompass")
class OpenCompassReader(HarnessReader):
    """OpenCompass output folders (a run's ``results``/``predictions``), or one of their files."""

    def can_read(self, path: Path) -> bool:
        if path.is_file():
            return _kind(path) is not None and self._is_ours(path)
        return any(self._is_ours(p) for p in islice(_candidates(path), 5))

    @staticmethod
    def _is_ours(path: Path) -> bool:
        try:
            data = read_json(path)
        except InputError:
            return False
        return isinstance(data, dict) and "config_general" not in data and "results" not in data

    def parts(self, path: Path) -> list[Part]:
        runs: dict[tuple[Path, str, str], dict[str, list[Path]]] = {}
        for candidate in _candidates(path):
            kind = _kind(candidate)
            dataset = candidate.stem
            match = _SPLIT.match(dataset) if kind == "predictions" else None
            if match and (candidate.parent / f"{match.group('dataset')}_0.json").exists():
                dataset = match.group("dataset")  # split by the partitioner: <dataset>_0.json, _1.json, ...
            key = (candidate.parent.parent.parent, candidate.parent.name, dataset)
            runs.setdefault(key, {"results": [], "predictions": []})[kind].append(candidate)
        parts = []
        for (_, model, dataset), files in runs.items():
            files["predictions"].sort(key=lambda p: natural_key(p.stem.rsplit("_", 1)[-1]))
            main = files["results"][0] if files["results"] else files["predictions"][0]
            parts.append(Part(main, (model, dataset, files)))
        return parts

    def read_part(self, part: Part) -> pd.DataFrame:
        model, dataset, files = part.context
        results = read_json(files["results"][0]) if files["results"] else None
        if results is not None and not isinstance(results, dict):
            raise InputError("expected a JSON object of metrics and details", path=files["results"][0])
        details = results.get("details") if results else None
        if details is not None:
            return self._details(files["results"][0], model, dataset, details)
        if not files["predictions"]:
            raise InputError(
                "no per-sample 'details' (run OpenCompass with --dump-eval-details) and no predictions",
                path=files["results"][0],
                field="details",
            )
        repeats = 1
        for key in results or {}:
            if match := _RUNS.search(key):
                repeats = int(match.group(1))
        return self._predictions(files["predictions"], model, dataset, repeats)

    @staticmethod
    def _details(path: Path, model: str, dataset: str, details: Any) -> pd.DataFrame:
        table = RecordTable(path)
        fields = {"model": model, "step": None, "benchmark": dataset, "filter": ""}
        if isinstance(details, list):
            for position, detail in enumerate(details):
                where = f"details[{position}]"
                if not isinstance(detail, dict):
                    raise InputError(f"expected an object, got {type(detail).__name__}", path=path, field=where)
                name = next((name for name in _CORRECT if name in detail), None)
                if name is None:
                    raise InputError(
                        f"no per-sample correctness ({', '.join(_CORRECT)})", path=path, field=f"{where}.correct"
                    )
                abbr = str(detail.get("example_abbr", position))
                item = abbr[len(dataset) + 1 :] if abbr.startswith(dataset + "_") else abbr
                values = detail[name] if isinstance(detail[name], list) else [detail[name]]
                for repeat, value in enumerate(values):
                    number = unit_value(value, path=path, line=None, field=f"{where}.{name}[{repeat}]")
                    table.add_value(number, item=item, repeat=repeat, **fields)
        elif isinstance(details, dict):
            for key, detail in _entries(details, path):
                if not isinstance(detail, dict) or "correct" not in detail:
                    raise InputError(
                        "no per-sample 'correct' (generation details without an evaluator); re-score the "
                        "predictions with OpenCompass",
                        path=path,
                        field=f"details.{key}.correct",
                    )
                values = detail["correct"] if isinstance(detail["correct"], list) else [detail["correct"]]
                for repeat, value in enumerate(values):
                    number = unit_value(value, path=path, line=None, field=f"details.{key}.correct")
                    table.add_value(number, item=key, repeat=repeat, **fields)
        else:
            raise InputError(f"expected a list or object, got {type(details).__name__}", path=path, field="details")
        return table.frame()

    @staticmethod
    def _predictions(paths: list[Path], model: str, dataset: str, repeats: int) -> pd.DataFrame:
        entries: list[tuple[Path, str, Any]] = []
        for path in paths:
            entries.extend((path, key, value) for key, value in _entries(read_json(path), path))
        if len(entries) % repeats:
            raise InputError(
                f"{len(entries)} predictions do not split into {repeats} repeats", path=paths[0], field="predictions"
            )
        size = len(entries) // repeats
        table = RecordTable(paths[0])
        for position, (path, key, entry) in enumerate(entries):
            repeat, index = divmod(position, size)
            if not isinstance(entry, dict):
                raise InputError(f"expected an object, got {type(entry).__name__}", path=path, field=key)
            predicted = entry.get("pred_label", entry.get("prediction"))
            is_choice = "pred_label" in entry or any(name.startswith("label: ") for name in entry)
            if not is_choice or "gold" not in entry:
                raise InputError(
                    "generation predictions carry no correctness; give the results file with its 'details' "
                    "(OpenCompass --dump-eval-details)",
                    path=path,
                    field=f"{key}.prediction",
                )
            table.add(
                model=model,
                step=None,
                benchmark=dataset,
                filter="",
                item=str(index),
                repeat=repeat,
                trials=1.0,
                correct=float(str(predicted) == str(entry["gold"])),
            )
        return table.frame()
