"""What every harness reader shares: the record table, value checks, JSON reading with line numbers.

A harness reader works at the level of **records**: one row per (model, step, benchmark, filter, item,
repeat), with ``trials``/``correct`` (usually 1 and 0/1) or a continuous ``score``, plus where it came from
(``source`` file and ``line``). The store keeps records; the canonical item-level frame
(``benchcast.data.results``) is their aggregate over repeats (``aggregate``).

Filters and variants. A harness may score the same item several ways: lm-eval's filter pipelines
(``strict-match``, ``maj@8``), HELM's perturbations. The primary one keeps the task's name as the benchmark;
every other one becomes its own benchmark named ``task/filter``. The ``filter`` column keeps the raw name
in both cases, so the store's key (model, step, benchmark, item, filter, repeat) is unique.
"""

from __future__ import annotations

import json
import math
import re
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from benchcast.data.readers import Reader
from benchcast.data.results import validate_results
from benchcast.errors import InputError

RECORD_COLUMNS = [
    "model",
    "step",
    "benchmark",
    "filter",
    "item",
    "repeat",
    "trials",
    "correct",
    "score",
    "item_hash",
    "source",
    "line",
]
RECORD_KEY = ["model", "step", "benchmark", "item", "filter", "repeat"]

ITEM_LEVEL_SQL = """
SELECT model, step, benchmark, item,
       CASE WHEN count(trials) = count(*) THEN sum(trials) END AS trials,
       CASE WHEN count(trials) = count(*) THEN sum(correct) END AS correct,
       CASE WHEN count(trials) = count(*) THEN avg(score)
            ELSE avg(coalesce(correct / trials, score)) END AS score
FROM {table}
GROUP BY model, step, benchmark, item
ORDER BY model, step, benchmark, item
"""
"""Records -> item level. An item whose repeats all carry counts sums them (``score`` is then the mean of any
per-repeat score, e.g. the probability of the right choice); an item with any score-only repeat becomes the
mean pass rate of its repeats."""

CORRECTNESS_METRICS = (
    "acc",
    "exact_match",
    "em",
    "accuracy",
    "correct",
    "pass_at_k",
    "pass@1",
    "pass_at_1",
    "acc_norm",
    "acc_mutual_info",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "extractive_match",
    "loglikelihood_acc",
    "loglikelihood_acc_norm",
    "contains",
    "f1",
    "mc1",
    "mc2",
)
_PASS_AT = re.compile(r"^(pass|maj|avg|mean)(@|_at_)(k|\d+)\b.*$")


def is_correctness_metric(name: str) -> bool:
    """Whether a per-item metric holds a correctness in [0, 1] (as opposed to a log-likelihood, a corpus-level
    metric's raw pair, or anything benchcast does not know)."""
    return name in CORRECTNESS_METRICS or bool(_PASS_AT.match(name))


def pick_metric(
    available: Sequence[str], requested: str | None, *, path: Path, line: int | None, field: str = "metrics"
) -> str:
    """The metric to read: the one requested, else the first known correctness metric, in the harness's order."""
    if requested is not None:
        if requested not in available:
            raise InputError(
                f"unknown metric {requested!r}: the records have {', '.join(map(repr, available)) or 'none'}",
                path=path,
                line=line,
                field=field,
            )
        return requested
    if not available or list(available) == ["bypass"]:
        raise InputError(
            "the records carry no per-item metric (was the run made in predict-only mode?)",
            path=path,
            line=line,
            field=field,
        )
    for name in available:
        if is_correctness_metric(name):
            return name
    raise InputError(
        f"unknown metric: none of {', '.join(map(repr, available))} is a per-item correctness that benchcast "
        f"knows ({', '.join(CORRECTNESS_METRICS[:6])}, pass@k, ...); name one with --metric",
        path=path,
        line=line,
        field=field,
    )


def unit_value(value: Any, *, path: Path, line: int | None, field: str) -> float:
    """A per-item correctness or score: a bool or a finite number in [0, 1]."""
    if type(value) is float and 0.0 <= value <= 1.0:  # the common case, first
        return value
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number) or number < 0.0 or number > 1.0:
            raise InputError(f"expected a value in [0, 1], got {value!r}", path=path, line=line, field=field)
        return number
    if value is None:
        raise InputError("no value (was the run made in predict-only mode?)", path=path, line=line, field=field)
    raise InputError(
        f"expected a number in [0, 1], got {type(value).__name__} {_short(value)}", path=path, line=line, field=field
    )


def whole_number(value: Any, *, path: Path, line: int | None, field: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise InputError(
            f"expected a whole number, got {type(value).__name__} {_short(value)}", path=path, line=line, field=field
        )
    return value


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def softmax_at(logprobs: Sequence[float], index: int) -> float:
    """Probability of choice ``index`` among the choices, from their log-likelihoods."""
    top = max(logprobs)
    return math.exp(logprobs[index] - top) / sum(math.exp(value - top) for value in logprobs)


def natural_key(item: str) -> tuple[int, int | str]:
    return (0, int(item)) if item.isdigit() else (1, item)


# ----------------------------------------------------------------------------------------------- JSON files


def read_json(path: Path) -> Any:
    """One JSON document; a syntax error names its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read ({error})", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON ({error.msg})", path=path, line=error.lineno) from None


def first_char(path: Path) -> str:
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return chr(stripped[0])
    return ""


def iter_json_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, record) for a JSON Lines file, or for a JSON array (lm-eval 0.4.0-0.4.2 wrote those under a
    ``.jsonl`` name): the line is where each record starts, so an error can point at it."""
    if first_char(path) == "[":
        yield from _iter_json_array(path)
        return
    try:
        with path.open("r", encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    yield number, json.loads(text)
                except json.JSONDecodeError as error:
                    problem = "truncated record" if not text.endswith("\n") else "malformed JSON"
                    raise InputError(f"{problem} ({error.msg})", path=path, line=number) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", path=path) from None


def _iter_json_array(path: Path) -> Iterator[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    whitespace = re.compile(r"\s*")
    position = whitespace.match(text, 0).end() + 1  # past "["
    line = 1 + text.count("\n", 0, position)
    counted = position

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    position = whitespace.match(text, position).end()
    if text.startswith("]", position):
        return
    while True:
        start = line_at(position)
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise InputError(f"malformed JSON ({error.msg})", path=path, line=error.lineno) from None
        yield start, record
        position = whitespace.match(text, position).end()
        if text.startswith(",", position):
            position = whitespace.match(text, position + 1).end()
            continue
        if text.startswith("]", position):
            return
        problem = "truncated JSON array" if position >= len(text) else "expected ',' or ']'"
        raise InputError(problem, path=path, line=line_at(min(position, len(text))))


def require_object(record: Any, *, path: Path, line: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, got {type(record).__name__}", path=path, line=line)
    return record


# ----------------------------------------------------------------------------------------------- records


@dataclass
class RecordTable:
    """Accumulates records column by column (cheap per row), then makes the frame."""

    source: Path
    columns: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in RECORD_COLUMNS})

    def add(
        self,
        *,
        model: str,
        step: int | None,
        benchmark: str,
        filter: str,
        item: str,
        repeat: int = 0,
        trials: float | None = 1.0,
        correct: float | None = None,
        score: float | None = None,
        item_hash: str | None = None,
        line: int | None = None,
    ) -> None:
        columns = self.columns
        columns["model"].append(model)
        columns["step"].append(step)
        columns["benchmark"].append(benchmark)
        columns["filter"].append(filter)
        columns["item"].append(item)
        columns["repeat"].append(repeat)
        columns["trials"].append(trials)
        columns["correct"].append(correct)
        columns["score"].append(score)
        columns["item_hash"].append(item_hash)
        columns["line"].append(line)

    def add_many(self, **values: Any) -> None:
        """Many rows at once: each field is a list (one value per row) or a scalar shared by all rows."""
        size = len(values["item"])
        for name in RECORD_COLUMNS:
            if name == "source":
                continue
            value = values.get(name)
            if isinstance(value, list):
                self.columns[name].extend(value)
            else:
                self.columns[name].extend([value] * size)

    def add_value(self, value: float, **fields: Any) -> None:
        """A 0/1 value is one trial; anything between is a continuous score."""
        if value in (0.0, 1.0):
            self.add(trials=1.0, correct=value, **fields)
        else:
            self.add(trials=None, correct=None, score=value, **fields)

    def __len__(self) -> int:
        return len(self.columns["item"])

    def frame(self) -> pd.DataFrame:
        columns = self.columns
        size = len(self)
        return pd.DataFrame(
            {
                "model": pd.array(columns["model"], dtype=object),
                "step": pd.array(columns["step"], dtype="Int64"),
                "benchmark": pd.array(columns["benchmark"], dtype=object),
                "filter": pd.array(columns["filter"], dtype=object),
                "item": pd.array(columns["item"], dtype=object),
                "repeat": np.asarray(columns["repeat"], dtype=np.int32),
                "trials": np.asarray(columns["trials"], dtype=float),
                "correct": np.asarray(columns["correct"], dtype=float),
                "score": np.asarray(columns["score"], dtype=float),
                "item_hash": pd.array(columns["item_hash"], dtype=object),
                "source": pd.array([str(self.source)] * size, dtype=object),
                "line": pd.array(columns["line"], dtype="Int64"),
            }
        )


def empty_records() -> pd.DataFrame:
    return RecordTable(Path("")).frame()


def aggregate(records: pd.DataFrame) -> pd.DataFrame:
    """Item-level rows (model, step, benchmark, item, trials, correct, score) from records."""
    connection = duckdb.connect()
    try:
        connection.register("records", records[["model", "step", "benchmark", "item", "trials", "correct", "score"]])
        return connection.sql(ITEM_LEVEL_SQL.format(table="records")).df()
    finally:
        connection.close()


def check_items(records: pd.DataFrame) -> None:
    """Every (model, step) run of a benchmark must have the same items; raise naming the first mismatch.

    ``records`` needs model, step, benchmark, item, source, line; runs are compared in order of appearance
    and the first run of each benchmark is the reference, so the error names the later file.
    """
    runs = records[["model", "step", "benchmark", "item", "source", "line"]].copy()
    runs["step"] = runs["step"].astype("Float64").fillna(-1.0)
    for benchmark, rows in runs.groupby("benchmark", sort=False):
        per_run = list(rows.groupby(["model", "step"], sort=False))
        if len(per_run) < 2:
            continue
        (ref_model, _), ref_rows = per_run[0]
        reference = set(ref_rows["item"])
        for (model, step), run in per_run[1:]:
            items = set(run["item"])
            if items == reference:
                continue
            at = "" if step < 0 else f" at step {int(step)}"
            extra = run[~run["item"].isin(reference)]
            if not extra.empty:
                first = extra.iloc[0]
                raise InputError(
                    f"benchmark {benchmark!r}: item {first['item']!r} of model {model!r}{at} is not among the "
                    f"{len(reference)} items of model {ref_model!r} (item ids must match across models)",
                    path=first["source"],
                    line=None if pd.isna(first["line"]) else int(first["line"]),
                    field="item",
                )
            missing = sorted(reference - items, key=natural_key)
            raise InputError(
                f"benchmark {benchmark!r}: model {model!r}{at} has no result for {len(missing)} of the "
                f"{len(reference)} items of model {ref_model!r} (first: {missing[0]!r}; item ids must match "
                "across models)",
                path=run["source"].iloc[0],
                field="item",
            )


# ----------------------------------------------------------------------------------------------- readers


@dataclass(frozen=True)
class Part:
    """One independently readable piece of a harness's output (a samples file and its run's metadata)."""

    path: Path
    context: Any = None

    @property
    def label(self) -> str:
        return str(self.path)


class HarnessReader(Reader):
    """A reader that yields records: ``parts(path)`` lists the pieces, ``read_part`` reads one.

    ``metric`` names the per-item metric to read where a harness has several (default: the first known
    correctness metric, in the harness's own order).
    """

    priority = 50

    def __init__(self, metric: str | None = None) -> None:
        self.metric = metric

    @abstractmethod
    def parts(self, path: Path) -> list[Part]: ...

    @abstractmethod
    def read_part(self, part: Part) -> pd.DataFrame: ...

    def records(self, path: Path) -> pd.DataFrame:
        frames = [self.read_part(part) for part in self.parts(path)]
        if not frames:
            raise InputError(f"no {self.name} results found", path=path)
        records = pd.concat(frames, ignore_index=True)
        return records.drop_duplicates(RECORD_KEY, keep="first", ignore_index=True)

    def read(self, path: Path) -> pd.DataFrame:
        records = self.records(path)
        if records.empty:
            raise InputError("no records", path=path)
        check_items(records)
        return validate_results(aggregate(records), path=path)


def find_files(path: Path, pattern: str) -> list[Path]:
    """``path`` itself if it is a file, else the matching files below it, in a stable order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob(pattern) if p.is_file())


def local_name(name: str) -> str:
    """A model given as a filesystem path is named by its last component (``/ckpt/tiny-gpt2/`` -> ``tiny-gpt2``);
    a hub id (``EleutherAI/pythia-160m``) is kept whole."""
    text = name.strip()
    if text.startswith(("/", "./", "../", "~")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return Path(text.rstrip("/\\")).name or text
    return text


_STEP = re.compile(r"^(?:step|global_step|ckpt|checkpoint)[-_]?(\d+)$")


def step_of(revision: Any) -> int | None:
    """A training step from a checkpoint revision such as Pythia's ``step143000``."""
    if not isinstance(revision, str):
        return None
    match = _STEP.match(revision.strip())
    return int(match.group(1)) if match else None
