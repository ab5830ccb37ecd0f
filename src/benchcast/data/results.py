"""Item results: one row per (model, checkpoint, benchmark, item) with trials and correct answers.

The canonical in-memory form is a pandas frame with the columns in ``RESULT_COLUMNS``. ``trials`` and
``correct`` are the samples drawn and passed; ``score`` is an optional continuous score in [0, 1] (e.g. the
probability of the correct answer) that stands in for the counts when they are absent. ``pass_rate`` is derived:
correct / trials where counts exist, else the score.

Validation happens here, once, at the edge: every later stage may assume a clean, complete table.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchcast.errors import InputError

RESULT_COLUMNS = ["model", "step", "benchmark", "item", "trials", "correct", "score", "pass_rate"]
KEY_COLUMNS = ["model", "step", "benchmark", "item"]
_TEXT_COLUMNS = ("model", "benchmark", "item")


def _suffixes(path: Path) -> list[str]:
    return [suffix.lower() for suffix in path.suffixes]


def _open_text(path: Path):
    if _suffixes(path)[-1:] == [".gz"]:
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, Callable[[int], int]]:
    records = []
    lines = []
    with _open_text(path) as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise InputError(f"malformed JSON ({error.msg})", path=path, line=number) from None
            if not isinstance(record, dict):
                raise InputError("expected a JSON object per line", path=path, line=number)
            records.append(record)
            lines.append(number)
    frame = pd.DataFrame.from_records(records)
    line_numbers = np.asarray(lines)
    return frame, lambda index: int(line_numbers[index])


def _read_table(path: Path) -> tuple[pd.DataFrame, Callable[[int], int]]:
    """Read a results file in any supported container; return it with a row-index -> file-line function."""
    suffixes = _suffixes(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        if ".parquet" in suffixes or ".pq" in suffixes:
            return pd.read_parquet(path), lambda index: index + 1
        if ".jsonl" in suffixes or ".ndjson" in suffixes:
            return _read_jsonl(path)
        return _read_csv(path, "\t" if ".tsv" in suffixes else ","), lambda index: index + 2
    except InputError:
        raise
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        ValueError,
    ) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"cannot read ({first})", path=path) from None


def _read_csv(path: Path, separator: str) -> pd.DataFrame:
    """The file as pandas reads it, parsed by pyarrow where it can: on a million rows that takes a third of the
    time. A file pyarrow refuses goes to pandas' own parser, so what is accepted and every error stay pandas'."""
    options = {"sep": separator, "dtype": {"model": str, "benchmark": str, "item": str}}
    try:
        frame = pd.read_csv(path, engine="pyarrow", **options)
    except Exception:  # whatever pyarrow refuses, pandas decides
        return pd.read_csv(path, **options)
    # the two infer other column types differently only off plain numbers (mixed True/1, dates, empty columns)
    others = [column for column in frame.columns if column not in _TEXT_COLUMNS]
    if frame.empty or not all(frame[column].dtype.kind in "iuf" for column in others):
        return pd.read_csv(path, **options)
    return frame


def _wide_to_long(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, Callable[[int], int]]:
    """Items-by-models table: ``item``, optional ``benchmark``, then one column of pass rates per model."""
    id_columns = [column for column in ("benchmark", "item", "step") if column in frame.columns]
    model_columns = [column for column in frame.columns if column not in id_columns]
    if not model_columns:
        raise InputError("wide table has no model columns", path=path, line=1)
    frame = frame.reset_index(names="_row")
    long = frame.melt(id_vars=["_row", *id_columns], value_vars=model_columns, var_name="model", value_name="v")
    if "benchmark" not in long.columns:
        long["benchmark"] = path.name.split(".")[0]
    missing = long["v"].isna()
    if missing.any():
        first = long[missing].iloc[0]
        raise InputError(
            f"item {first['item']!r} has no result for model {first['model']!r}",
            path=path,
            line=int(first["_row"]) + 2,
            field=str(first["model"]),
        )
    values = pd.to_numeric(long["v"], errors="coerce")
    bad = values.isna()
    if bad.any():
        first = long[bad].iloc[0]
        raise InputError(
            f"expected a number in [0, 1], got {first['v']!r}",
            path=path,
            line=int(first["_row"]) + 2,
            field=str(first["model"]),
        )
    binary = bool(np.isin(values.to_numpy(), (0.0, 1.0)).all())
    long["trials"] = 1.0 if binary else np.nan
    long["correct"] = values if binary else np.nan
    long["score"] = np.nan if binary else values
    rows = long["_row"].to_numpy()
    return long.drop(columns=["v"]), lambda index: int(rows[index]) + 2


def _is_wide(frame: pd.DataFrame) -> bool:
    return "model" not in frame.columns and "item" in frame.columns


def load_results(path: str | Path, *, benchmark: str | None = None) -> pd.DataFrame:
    """Load item results from CSV, TSV, Parquet or JSONL (optionally gzipped), long or wide, and validate them.

    Long format: columns ``model``, ``benchmark``, ``item``, ``trials``, ``correct`` (or ``score`` in [0, 1]
    instead of the counts), optional ``step``. Wide format: ``item``, optional ``benchmark``, then one column
    per model holding 0/1 results or pass rates.

    Raises ``InputError`` naming the file, line and field of the first problem found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("model,benchmark,item,trials,correct\\nm1,b,q1,10,3\\n")
    >>> float(load_results(p)["pass_rate"].iloc[0])
    0.3
    """
    path = Path(path)
    frame, line_of = _read_table(path)
    if frame.empty:
        raise InputError("no records", path=path)
    if _is_wide(frame):
        frame, line_of = _wide_to_long(frame, path)
    if benchmark is not None and "benchmark" not in frame.columns:
        frame["benchmark"] = benchmark
    return validate_results(frame, path=path, line_of=line_of)


def _first_bad(mask: np.ndarray | pd.Series) -> int | None:
    positions = np.flatnonzero(np.asarray(mask))
    return int(positions[0]) if positions.size else None


def validate_results(
    frame: pd.DataFrame,
    *,
    path: str | Path | None = None,
    line_of: Callable[[int], int] | None = None,
    require_complete: bool = True,
) -> pd.DataFrame:
    """Check a raw results frame and return it in canonical form (``RESULT_COLUMNS``).

    Checks: required columns; non-empty names; counts that are whole, non-negative numbers with
    correct <= trials; scores in [0, 1]; no duplicate (model, step, benchmark, item); and, when
    ``require_complete``, the same items for every model and checkpoint of a benchmark.
    """
    line_of = line_of or (lambda index: index + 1)
    frame = frame.reset_index(drop=True)

    def fail(position: int | None, field: str | None, message: str) -> None:
        raise InputError(message, path=path, line=None if position is None else line_of(position), field=field)

    for column in _TEXT_COLUMNS:
        if column not in frame.columns:
            fail(None, column, "required column is missing")
    has_counts = "trials" in frame.columns or "correct" in frame.columns
    if has_counts and not {"trials", "correct"} <= set(frame.columns):
        fail(None, "correct" if "trials" in frame.columns else "trials", "trials and correct go together")
    if not has_counts and "score" not in frame.columns:
        fail(None, "trials", "give either trials and correct, or score")

    out = pd.DataFrame(index=frame.index)
    for column in _TEXT_COLUMNS:
        values = frame[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if (position := _first_bad(empty)) is not None:
            fail(position, column, "empty value")
        out[column] = values.astype(str).str.strip()

    def numeric(column: str) -> pd.Series:
        if column not in frame.columns:
            return pd.Series(np.nan, index=frame.index, dtype=float)
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        if isinstance(raw.dtype, pd.BooleanDtype) or raw.dtype == bool:
            values = raw.astype(float)
        bad = values.isna() & raw.notna()
        if bad.any():  # only then look at the text: turning a million numbers into strings costs a second
            bad &= raw.astype(str).str.strip() != ""
        if (position := _first_bad(bad)) is not None:
            fail(position, column, f"expected a number, got {raw.iloc[position]!r}")
        return values.astype(float)

    trials, correct, score = numeric("trials"), numeric("correct"), numeric("score")
    step = numeric("step")
    counted = trials.notna() | correct.notna()
    # (mask, field, message) per rule; the error names the first offending row in file order
    rules: list[tuple[pd.Series, str, Callable[[int], str]]] = [
        (counted & trials.isna(), "trials", lambda i: "trials and correct go together"),
        (counted & correct.isna(), "correct", lambda i: "trials and correct go together"),
    ]
    for name, values in (("trials", trials), ("correct", correct), ("step", step)):
        rules.append((values < 0, name, lambda i, v=values: f"must not be negative, got {v.iloc[i]:g}"))
        rules.append(
            (
                values.notna() & (values != np.floor(values)),
                name,
                lambda i, v=values: f"must be a whole number, got {v.iloc[i]:g}",
            )
        )
    rules += [
        (trials == 0, "trials", lambda i: "must be at least 1"),
        (
            counted & (correct > trials),
            "correct",
            lambda i: f"correct ({correct.iloc[i]:g}) exceeds trials ({trials.iloc[i]:g})",
        ),
        ((score < 0) | (score > 1), "score", lambda i: f"must lie in [0, 1], got {score.iloc[i]:g}"),
        (~counted & score.isna(), "score", lambda i: "row has neither trials/correct nor a score"),
    ]
    failures = [
        (position, field, message)
        for mask, field, message in rules
        if (position := _first_bad(mask.fillna(False))) is not None
    ]
    if failures:
        position, field, message = min(failures, key=lambda failure: failure[0])
        fail(position, field, message(position))

    out["step"] = step.astype("Int64")
    out["trials"] = trials
    out["correct"] = correct
    out["score"] = score
    out["pass_rate"] = np.where(counted, correct / trials.where(trials > 0, 1.0), score)
    out = out[RESULT_COLUMNS]

    codes = _KeyCodes(out)
    if (position := _first_bad(codes.duplicated())) is not None:
        row = out.iloc[position]
        step_text = "" if pd.isna(row["step"]) else f" at step {row['step']}"
        fail(
            position,
            "item",
            f"duplicate record for model {row['model']!r}{step_text}, benchmark {row['benchmark']!r}, "
            f"item {row['item']!r}",
        )
    if require_complete and not codes.complete():
        _check_complete(out, path)
    return out


class _KeyCodes:
    """Integer codes of the key columns, factorized once: a million rows' duplicate and completeness checks on
    codes take a fraction of what pandas takes on the text columns themselves (it factorizes them anew for each
    check). Where a check fails, the frame-based code finds the row or group to name."""

    def __init__(self, frame: pd.DataFrame) -> None:
        step = frame["step"].astype("float").fillna(-1.0)
        self.columns = [pd.factorize(values)[0] for values in (frame["model"], step, frame["benchmark"], frame["item"])]
        self.sizes = tuple(int(codes.max()) + 1 if codes.size else 1 for codes in self.columns)

    def _combined(self, which: tuple[int, ...]) -> np.ndarray:
        return np.ravel_multi_index([self.columns[i] for i in which], [self.sizes[i] for i in which])

    def duplicated(self) -> np.ndarray:
        """The rows whose (model, step, benchmark, item) came earlier (``DataFrame.duplicated(keep="first")``)."""
        if math.prod(self.sizes) >= 2**62:  # the codes do not fit one integer: let pandas hash the columns
            return pd.DataFrame(dict(enumerate(self.columns))).duplicated(keep="first").to_numpy()
        return pd.Series(self._combined((0, 1, 2, 3))).duplicated(keep="first").to_numpy()

    def complete(self) -> bool:
        """Whether every (model, step) of every benchmark has a row for each of the benchmark's items (the rows
        are already free of duplicates)."""
        if math.prod(self.sizes) >= 2**62:
            return False  # the frame-based check decides
        n_models, n_steps, n_benchmarks, n_items = self.sizes
        if n_benchmarks * n_models * n_steps > 2**24 or n_benchmarks * n_items > 2**27:
            return False  # tables too large to count in: the frame-based check decides
        rows = np.bincount(self._combined((2, 0, 1)), minlength=n_benchmarks * n_models * n_steps)
        seen = np.zeros(n_benchmarks * n_items, dtype=bool)
        seen[self._combined((2, 3))] = True
        items = seen.reshape(n_benchmarks, n_items).sum(axis=1)
        runs = np.flatnonzero(rows)
        return bool(np.all(rows[runs] == items[runs // (n_models * n_steps)]))


def _check_complete(frame: pd.DataFrame, path: str | Path | None) -> None:
    """Every model and checkpoint of a benchmark must have a result for every item of that benchmark."""
    runs = frame[["model", "step", "benchmark"]].astype({"step": "float"}).fillna({"step": -1.0})
    counts = runs.groupby(["benchmark", "model", "step"], sort=True).size()
    items_per_benchmark = frame.groupby("benchmark")["item"].nunique()
    for (benchmark, model, step), count in counts.items():
        expected = items_per_benchmark[benchmark]
        if count == expected:
            continue
        these = frame[(frame["benchmark"] == benchmark) & (frame["model"] == model)]
        # a run without a step is the model's rows without one, not all its rows
        these = these[these["step"] == step] if step >= 0 else these[these["step"].isna()]
        missing = sorted(set(frame.loc[frame["benchmark"] == benchmark, "item"]) - set(these["item"]))
        step_text = "" if step < 0 else f" at step {int(step)}"
        raise InputError(
            f"benchmark {benchmark!r}: model {model!r}{step_text} has no result for {len(missing)} of "
            f"{expected} items (first: {missing[0]!r})",
            path=path,
            field="item",
        )


def concat_results(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Join results from several files, re-checking duplicates and completeness across them."""
    if not frames:
        raise InputError("no results given")
    if len(frames) == 1:
        return frames[0]
    joined = pd.concat(frames, ignore_index=True)
    return validate_results(joined, line_of=lambda index: index + 1)


TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".jsonl", ".jsonl.gz")
"""The file names ``write_table`` accepts; each says its format, and ``load_results`` reads every one back."""


def table_suffix(path: str | Path) -> str:
    """The suffix in ``TABLE_SUFFIXES`` that ``path`` ends with; any other name is refused, so that a file
    never holds a format its name does not say."""
    name = Path(path).name.lower()
    matches = [suffix for suffix in TABLE_SUFFIXES if name.endswith(suffix)]
    if not matches:
        raise InputError(f"unknown format; name the file {', '.join(TABLE_SUFFIXES[:-1])} or .jsonl.gz", path=path)
    return max(matches, key=len)


def _write_jsonl(frame: pd.DataFrame, path: Path, *, gzipped: bool) -> None:
    # json rather than pandas' writer, which keeps only 15 significant digits of a float; object dtype gives
    # plain Python values (missing ones as None, written as null)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    with gzip.open(path, "wt", encoding="utf-8") if gzipped else path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _write(frame: pd.DataFrame, path: Path, suffix: str) -> None:
    gzipped = suffix.endswith(".gz")
    kind = suffix.removesuffix(".gz")
    if kind == ".parquet":
        frame.to_parquet(path, index=False)
    elif kind == ".jsonl":
        _write_jsonl(frame, path, gzipped=gzipped)
    else:
        separator = "\t" if kind == ".tsv" else ","
        frame.to_csv(path, sep=separator, index=False, compression="gzip" if gzipped else None)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` in the format its file name says (``TABLE_SUFFIXES``), atomically: a failed write leaves
    no file behind, and an unknown name is refused before anything is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv.gz"
    >>> frame = pd.DataFrame({"model": ["m1"], "benchmark": ["b"], "item": ["q1"], "trials": [10], "correct": [3]})
    >>> write_table(frame, p)
    >>> float(load_results(p)["pass_rate"].iloc[0])
    0.3
    """
    path = Path(path)
    suffix = table_suffix(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        _write(frame, tmp, suffix)
        tmp.replace(path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InputError(f"cannot write ({error.strerror or error})", path=path) from None
        raise
