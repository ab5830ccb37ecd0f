"""HuggingFace lighteval: ``details/<model>/<date>/details_<task>_<date>.parquet`` (one row per doc).

Two row shapes: >= 0.11 has struct columns ``doc``, ``model_response`` and ``metric`` (a dict of per-doc
scores); 0.3-0.10 have flat columns with a ``metrics`` dict (a string in some old versions). The metric is the
first known correctness metric of the row (``acc``, ``em``, ``extractive_match``, ``pass@k``...) or the one named.

The model is the results file's ``config_general.model_name`` (``results/<model>/results_<date>.json``, paired
by date), else the folders between ``details/`` and the date folder; the benchmark is the task's full name
(``suite|task|shots``); the item is ``doc.id``, else the row index. Multiple-choice rows with per-choice
``logprobs`` and an integer ``gold_index`` also get the probability of the gold choice as ``score``. An
``avg@n``-style value over ``num_samples`` samples becomes that many trials when it is a whole count.
"""

from __future__ import annotations

import ast
import json
import math
import re
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchcast.data.readers import register_reader
from benchcast.data.readers.harnesses._common import (
    HarnessReader,
    Part,
    RecordTable,
    find_files,
    local_name,
    pick_metric,
    read_json,
    softmax_at,
    unit_value,
)
from benchcast.errors import InputError

_DATE = r"\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d+)?"
_DETAILS = re.compile(rf"^details_(?P<task>.+)_(?P<date>{_DATE})\.parquet$")


def _model_from_layout(path: Path, date: str) -> str:
    parts = path.parts
    if "details" in parts:
        start = len(parts) - 1 - parts[::-1].index("details")
        names = [part for part in parts[start + 1 : -1] if part != date]
        if names:
            return "/".join(names)
    return path.parent.parent.name


def _model_from_results(path: Path, model: str, date: str) -> str | None:
    """``config_general.model_name`` of the results file of the same run (same model folder and date)."""
    parts = path.parts
    if "details" not in parts:
        return None
    start = len(parts) - 1 - parts[::-1].index("details")
    candidate = Path(*parts[:start]) / "results" / model / f"results_{date}.json"
    if not candidate.is_file():
        return None
    data = read_json(candidate)
    general = data.get("config_general") if isinstance(data, dict) else None
    if isinstance(general, dict) and isinstance(general.get("model_name"), str):
        return general["model_name"]
    return None


def _as_dict(value: Any, *, path: Path, line: int, field: str) -> dict[str, Any]:
    if isinstance(value, str):  # some old versions cast nested values to str
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise InputError("expected a dict of metrics", path=path, line=line, field=field) from None
    if not isinstance(value, dict):
        raise InputError(f"expected a dict of metrics, got {type(value).__name__}", path=path, line=line, field=field)
    return {key: item for key, item in value.items() if item is not None}


@register_reader("lighteval")
class LightevalReader(HarnessReader):
    """lighteval details parquet files, or a folder holding them."""

    def can_read(self, path: Path) -> bool:
        if path.is_file():
            return _DETAILS.match(path.name) is not None
        return next(islice(path.rglob("details_*.parquet"), 1), None) is not None

    def parts(self, path: Path) -> list[Part]:
        parts = []
        for file in find_files(path, "details_*.parquet"):
            match = _DETAILS.match(file.name)
            if match is None:
                raise InputError("not a lighteval details file (details_<task>_<date>.parquet)", path=file)
            date = match.group("date")
            layout_model = _model_from_layout(file, date)
            model = _model_from_results(file, layout_model, date) or layout_model
            parts.append(Part(file, (match.group("task"), local_name(model))))
        return parts

    def read_part(self, part: Part) -> pd.DataFrame:
        path = part.path
        task, model = part.context
        try:
            rows = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"cannot read parquet ({error})", path=path) from None
        table = RecordTable(path)
        metric: str | None = None
        for number, row in enumerate(rows, start=1):
            new = "metric" in row
            if not new and "metrics" not in row:
                raise InputError("no 'metric' or 'metrics' column", path=path, line=number, field="metric")
            field = "metric" if new else "metrics"
            scores = _as_dict(row[field], path=path, line=number, field=field)
            if metric is None:
                metric = pick_metric(list(scores), self.metric, path=path, line=number, field=field)
            if metric not in scores:
                raise InputError("missing metric value", path=path, line=number, field=f"{field}.{metric}")
            value = unit_value(scores[metric], path=path, line=number, field=f"{field}.{metric}")
            doc = row.get("doc") if new and isinstance(row.get("doc"), dict) else row
            response = row.get("model_response") if new and isinstance(row.get("model_response"), dict) else {}
            item = doc.get("id") if new else None
            fields = {"model": model, "step": None, "benchmark": task, "filter": "", "line": number}
            fields["item"] = str(item) if item not in (None, "") else str(number - 1)
            samples = doc.get("num_samples")
            count = value * samples if isinstance(samples, int) and samples > 1 else None
            if count is not None and metric.startswith(("avg@", "mean@")) and math.isclose(count, round(count)):
                table.add(trials=float(samples), correct=float(round(count)), **fields)
            elif value in (0.0, 1.0):
                table.add(trials=1.0, correct=value, score=self._probability(doc, response), **fields)
            else:
                table.add(trials=None, correct=None, score=value, **fields)
        return table.frame()

    @staticmethod
    def _probability(doc: dict[str, Any], response: dict[str, Any]) -> float | None:
        logprobs = response.get("logprobs")
        gold = doc.get("gold_index")
        choices = doc.get("choices")
        if isinstance(gold, list) and len(gold) == 1:
            gold = gold[0]
        if (
            not isinstance(logprobs, list)
            or not isinstance(gold, int)
            or not isinstance(choices, list)
            or len(logprobs) != len(choices)
            or len(logprobs) < 2
            or not 0 <= gold < len(logprobs)
            or not all(isinstance(value, int | float) for value in logprobs)
        ):
            return None
        return softmax_at(logprobs, gold)
