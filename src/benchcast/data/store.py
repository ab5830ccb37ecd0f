"""The store: an embedded DuckDB file that accumulates harness results across runs (``benchcast ingest``).

It keeps **records**, one row per (model, step, benchmark, item, filter, repeat), with the file and line each
came from; forecasting reads them summed over repeats per item (``Store.results``, also the ``store`` reader).

Guarantees:

* one ingest is one transaction: a bad file, an inconsistency found at the end, or a crash part-way leaves
  the store exactly as it was (DuckDB discards an uncommitted transaction on the next open);
* ingesting the same output again changes nothing: a record whose key is already stored is skipped (the
  stored value wins; the summary counts skipped records whose values differ);
* after an ingest every (model, step) of a benchmark has the same items, and an item id names the same
  document everywhere (lm-eval's ``doc_hash``); otherwise the ingest fails naming the first offending file
  and line;
* the schema carries a version (``benchcast_meta.schema_version``); a store written by a newer benchcast is
  refused with a clear message rather than misread.

Records go in per file as Arrow tables (bulk insert with an anti-join on the key), never row by row.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd
import pyarrow as pa

from benchcast.data.readers import Reader, get_reader
from benchcast.data.readers.harnesses._common import (
    ITEM_LEVEL_SQL,
    RECORD_COLUMNS,
    RECORD_KEY,
    HarnessReader,
    Part,
    check_items,
)
from benchcast.data.readers.harnesses.store import StoreReader, is_duckdb_file
from benchcast.data.results import table_suffix, validate_results, write_table
from benchcast.errors import InputError

SCHEMA_VERSION = 1
PARALLEL_BYTES = 64 * 2**20
"""Ingests whose files add up to more than this parse in worker processes."""
PARALLEL_WORKERS = 2

_SCHEMA = (
    "CREATE TABLE benchcast_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE ingests (
        ingest_id INTEGER PRIMARY KEY, ingested_at TIMESTAMP NOT NULL, paths VARCHAR NOT NULL,
        parts INTEGER NOT NULL, added BIGINT NOT NULL, present BIGINT NOT NULL)""",
    """CREATE TABLE records (
        model VARCHAR NOT NULL, step BIGINT, benchmark VARCHAR NOT NULL, filter VARCHAR NOT NULL,
        item VARCHAR NOT NULL, repeat INTEGER NOT NULL, trials DOUBLE, correct DOUBLE, score DOUBLE,
        item_hash VARCHAR, harness VARCHAR NOT NULL, source VARCHAR, line INTEGER, ingest_id INTEGER NOT NULL)""",
)
_KEY_MATCH = " AND ".join(
    f"r.{column} IS NOT DISTINCT FROM b.{column}" if column == "step" else f"r.{column} = b.{column}"
    for column in RECORD_KEY
)

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, label)``: once before the first part (done 0), then after each part."""


@dataclass
class IngestSummary:
    """What one ingest did."""

    parts: int = 0
    records: int = 0
    added: int = 0
    present: int = 0
    differing: int = 0
    benchmarks: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        text = (
            f"{self.parts} file(s), {self.records:,} records: {self.added:,} added, {self.present:,} already in the "
            f"store ({len(self.models)} model(s), {len(self.benchmarks)} benchmark(s))"
        )
        if self.differing:
            text += f"; {self.differing:,} of the records already stored differ from the new ones (kept the stored)"
        return text


def read_part(reader: Reader, part: Part) -> pd.DataFrame:
    """The records of one part; a format without records (benchcast's own tables) gives one per item."""
    if isinstance(reader, HarnessReader):
        return reader.read_part(part)
    frame = reader.read(part.path)
    out = frame[["model", "step", "benchmark", "item", "trials", "correct", "score"]].copy()
    out.insert(3, "filter", "")
    out.insert(5, "repeat", 0)
    out["item_hash"] = None
    out["source"] = str(part.path)
    out["line"] = pd.array([None] * len(out), dtype="Int64")
    return out[RECORD_COLUMNS]


def _read_capturing_warnings(reader: Reader, part: Part) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = read_part(reader, part)
    return records, [str(warning.message) for warning in caught]


def _read_parts(plan: list[tuple[Reader, Part]]) -> Iterator[tuple[Reader, Part, pd.DataFrame]]:
    """Each part's records, in plan order. Large ingests parse in worker processes (parsing JSON is the bulk of
    the work and parts are independent) while this process inserts; a few parts are read ahead, no more."""
    workers = min(os.cpu_count() or 1, PARALLEL_WORKERS)
    size = sum(part.path.stat().st_size for _, part in plan if part.path.is_file())
    if workers < 2 or len(plan) < 2 or size < PARALLEL_BYTES:
        for reader, part in plan:
            yield reader, part, read_part(reader, part)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs DuckDB threads
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        pending: deque[Future] = deque()
        queue = iter(plan)
        for reader, part in islice(queue, 2 * workers):
            pending.append(pool.submit(_read_capturing_warnings, reader, part))
        for reader, part in plan:
            records, messages = pending.popleft().result()
            for message in messages:
                warnings.warn(message, stacklevel=2)
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(_read_capturing_warnings, *following))
            yield reader, part, records
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Store:
    """A benchcast store in a DuckDB file; use as a context manager.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "r.csv").write_text("model,benchmark,item,trials,correct\\nm1,b,q1,4,1\\nm1,b,q2,4,3\\n")
    >>> with Store(folder / "runs.duckdb") as store:
    ...     print(store.ingest([folder / "r.csv"]).added)
    2
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise InputError("store not found", path=self.path)
        if self.path.exists() and not is_duckdb_file(self.path):
            raise InputError("not a DuckDB store file", path=self.path)
        try:
            self.connection = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as error:
            raise InputError(f"cannot open the store ({_first_line(error)})", path=self.path) from None
        try:
            self._prepare()
        except BaseException:
            self.connection.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    # ----------------------------------------------------------------------------------------- schema
    def _prepare(self) -> None:
        tables = {
            row[0]
            for row in self.connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "benchcast_meta" not in tables:
            if tables or self.read_only:
                raise InputError("not a benchcast store (no benchcast_meta table)", path=self.path)
            self.connection.begin()
            for statement in _SCHEMA:
                self.connection.execute(statement)
            self.connection.execute("INSERT INTO benchcast_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            self.connection.commit()
            return
        row = self.connection.execute("SELECT value FROM benchcast_meta WHERE key = 'schema_version'").fetchall()
        try:
            version = int(row[0][0]) if row else None
        except ValueError:
            version = None
        if version is None or version < 1:
            raise InputError("store has no valid schema version", path=self.path, field="schema_version")
        if version > SCHEMA_VERSION:
            raise InputError(
                f"store schema version {version} is newer than this benchcast understands ({SCHEMA_VERSION}); "
                "upgrade benchcast to use it",
                path=self.path,
                field="schema_version",
            )

    @property
    def schema_version(self) -> int:
        query = "SELECT value FROM benchcast_meta WHERE key = 'schema_version'"
        return int(self.connection.execute(query).fetchall()[0][0])

    # ----------------------------------------------------------------------------------------- ingest
    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        format: str | None = None,
        metric: str | None = None,
        progress: Progress | None = None,
        repeat_offset: int = 0,
    ) -> IngestSummary:
        """Add the records of every path (files or folders, any supported format) in one transaction.

        ``repeat_offset`` numbers the records' repeats from there: a later round of samples of the same items
        (``benchcast evaluate --adaptive``) then adds to the earlier ones instead of being skipped as present.
        """
        if self.read_only:
            raise InputError("the store is open read-only", path=self.path)
        plan = self._plan([Path(path) for path in paths], format, metric)
        summary = IngestSummary()
        if progress is not None:
            progress(0, len(plan), "")
        self.connection.begin()
        try:
            row = self.connection.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()
            ingest_id = int(row[0][0])
            for done, (reader, part, records) in enumerate(_read_parts(plan), start=1):
                if repeat_offset:
                    records = records.assign(repeat=records["repeat"] + repeat_offset)
                self._insert(records, reader.name, ingest_id, summary)
                summary.parts += 1
                if progress is not None:
                    progress(done, len(plan), part.label)
            self._check(sorted(summary.benchmarks))
            if summary.added:  # an ingest that adds nothing leaves no trace either
                self._log(ingest_id, plan, summary)
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise
        return summary

    def _log(self, ingest_id: int, plan: list[tuple[Reader, Part]], summary: IngestSummary) -> None:
        self.connection.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "\n".join(sorted({str(part.path) for _, part in plan})),
                summary.parts,
                summary.added,
                summary.present,
            ],
        )

    def _plan(self, paths: list[Path], format: str | None, metric: str | None) -> list[tuple[Reader, Part]]:
        if not paths:
            raise InputError("give at least one file or folder to ingest")
        plan: list[tuple[Reader, Part]] = []
        for path in paths:
            if not path.exists():
                raise InputError("file not found", path=path)
            reader = get_reader(path, format)
            if isinstance(reader, StoreReader) and path.resolve() == self.path.resolve():
                raise InputError("cannot ingest a store into itself", path=path)
            if isinstance(reader, HarnessReader):
                reader = type(reader)(metric=metric)
                plan.extend((reader, part) for part in reader.parts(path))
            elif metric is not None:
                raise InputError(f"--metric applies to harness outputs, not to the {reader.name!r} format", path=path)
            else:
                plan.append((reader, Part(path)))
        if not plan:
            raise InputError("no results found", path=paths[0])
        return plan

    def _insert(self, records: pd.DataFrame, harness: str, ingest_id: int, summary: IngestSummary) -> None:
        batch = records.drop_duplicates(RECORD_KEY, keep="first")
        summary.records += len(batch)
        if batch.empty:
            return
        summary.benchmarks.update(batch["benchmark"].unique())
        summary.models.update(batch["model"].unique())
        table = pa.Table.from_pandas(batch[RECORD_COLUMNS], preserve_index=False)
        self.connection.register("batch", table)
        try:
            # the anti-join looks only at stored rows of this batch's models and benchmarks, so each insert
            # costs what the batch touches, not the size of the store
            scope = [sorted(batch["model"].unique()), sorted(batch["benchmark"].unique())]
            added = self.connection.execute(
                f"""INSERT INTO records
                    SELECT b.model, b.step, b.benchmark, b.filter, b.item, b.repeat, b.trials, b.correct, b.score,
                           b.item_hash, ?, b.source, b.line, ?
                    FROM batch b WHERE NOT EXISTS (
                        SELECT 1 FROM (SELECT * FROM records
                                       WHERE list_contains(?, model) AND list_contains(?, benchmark)) r
                        WHERE {_KEY_MATCH})""",
                [harness, ingest_id, *scope],
            ).fetchall()[0][0]
            present = len(batch) - int(added)
            if present:
                summary.differing += int(
                    self.connection.execute(
                        f"""SELECT count(*) FROM batch b JOIN records r ON {_KEY_MATCH}
                            WHERE r.ingest_id <> ? AND NOT (r.trials IS NOT DISTINCT FROM b.trials
                                AND r.correct IS NOT DISTINCT FROM b.correct
                                AND r.score IS NOT DISTINCT FROM b.score)""",
                        [ingest_id],
                    ).fetchall()[0][0]
                )
        finally:
            self.connection.unregister("batch")
        summary.added += int(added)
        summary.present += present

    def _check(self, benchmarks: list[str]) -> None:
        """Item ids must name the same documents, and every run of a benchmark must have the same items."""
        if not benchmarks:
            return
        conflict = self.connection.execute(
            """WITH clash AS (
                   SELECT benchmark, item FROM records
                   WHERE list_contains(?, benchmark) AND item_hash IS NOT NULL
                   GROUP BY benchmark, item HAVING count(DISTINCT item_hash) > 1 LIMIT 1)
               SELECT r.benchmark, r.item, r.model, r.item_hash, r.source, r.line
               FROM records r JOIN clash USING (benchmark, item) WHERE r.item_hash IS NOT NULL
               ORDER BY r.ingest_id, r.source, r.line""",
            [benchmarks],
        ).fetchall()
        if conflict:
            benchmark, item, ref_model, ref_hash, _, _ = conflict[0]
            offender = next(row for row in conflict if row[3] != ref_hash)
            raise InputError(
                f"benchmark {benchmark!r}: item {item!r} of model {offender[2]!r} is a different document from "
                f"item {item!r} of model {ref_model!r} (doc hash {offender[3]} vs {ref_hash}); item ids must name "
                "the same documents across models",
                path=offender[4],
                line=offender[5],
                field="doc_hash",
            )
        uneven = self.connection.execute(
            """WITH scoped AS (SELECT benchmark, model, step, item FROM records WHERE list_contains(?, benchmark)),
                    runs AS (SELECT benchmark, model, step, count(DISTINCT item) AS n FROM scoped GROUP BY ALL),
                    totals AS (SELECT benchmark, count(DISTINCT item) AS n FROM scoped GROUP BY ALL)
               SELECT DISTINCT runs.benchmark FROM runs JOIN totals USING (benchmark)
               WHERE runs.n <> totals.n ORDER BY 1""",
            [benchmarks],
        ).fetchall()
        for (benchmark,) in uneven:
            items = self.connection.execute(
                """SELECT model, step, benchmark, item, min(ingest_id) AS ingest_id, min(source) AS source,
                          min(line) AS line
                   FROM records WHERE benchmark = ? GROUP BY model, step, benchmark, item
                   ORDER BY ingest_id, source, line""",
                [benchmark],
            ).df()
            check_items(items)

    # ----------------------------------------------------------------------------------------- reading
    def results(self) -> pd.DataFrame:
        """The canonical item-level results: records summed over repeats, validated."""
        frame = self.connection.execute(ITEM_LEVEL_SQL.format(table="records")).df()
        if frame.empty:
            raise InputError("the store holds no records", path=self.path)
        return validate_results(frame, path=self.path, line_of=lambda index: None)

    def records(self) -> pd.DataFrame:
        """Every stored record, as stored."""
        return self.connection.execute(
            "SELECT * FROM records ORDER BY model, step, benchmark, filter, item, repeat"
        ).df()

    def round_counts(self, benchmark: str, round_size: int) -> pd.DataFrame:
        """One benchmark's records per (model, step, item, round), a round being ``round_size`` consecutive repeats
        (``benchcast evaluate``'s adaptive rounds): columns ``model, step, item, round, trials, correct``."""
        return self.connection.execute(
            """SELECT model, step, item, repeat // ? AS round, sum(trials) AS trials, sum(correct) AS correct
               FROM records WHERE benchmark = ? GROUP BY ALL ORDER BY model, step, item, round""",
            [round_size, benchmark],
        ).df()

    def listing(self) -> dict[str, pd.DataFrame]:
        """What the store holds: ``models``, ``checkpoints`` and ``benchmarks`` tables, and the ``ingests`` log."""
        query = self.connection.execute
        return {
            "models": query(
                """SELECT model, count(DISTINCT step) AS checkpoints, count(DISTINCT benchmark) AS benchmarks,
                          count(*) AS records
                   FROM records GROUP BY model ORDER BY model"""
            ).df(),
            "checkpoints": query(
                """SELECT model, step, count(DISTINCT benchmark) AS benchmarks, count(*) AS records
                   FROM records WHERE step IS NOT NULL GROUP BY model, step ORDER BY model, step"""
            ).df(),
            "benchmarks": query(
                """SELECT benchmark, string_agg(DISTINCT harness, ',') AS harness,
                          count(DISTINCT model) AS models, count(DISTINCT item) AS items,
                          max(repeat) + 1 AS repeats, count(*) AS records
                   FROM records GROUP BY benchmark ORDER BY benchmark"""
            ).df(),
            "ingests": query("SELECT * FROM ingests ORDER BY ingest_id").df(),
        }

    def export(self, out: str | Path, *, records: bool = False) -> int:
        """Write the item-level results (or, with ``records``, every record) in the format ``out``'s name says
        (CSV, TSV, Parquet or JSONL; see ``write_table``); return the rows written.

        The item-level file is benchcast's long table format, so it can be read back by any command.
        """
        table_suffix(out)  # an unknown name fails before the store is read
        frame = self.records() if records else self.results()
        write_table(frame, out)
        return len(frame)
