"""benchcast's own DuckDB store (``benchcast ingest``) as an input: its records at item level."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchcast.data.readers import Reader, register_reader

_MAGIC = b"DUCK"


def is_duckdb_file(path: Path) -> bool:
    """A DuckDB database file carries ``DUCK`` at byte 8 of its header."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:12] == _MAGIC
    except OSError:
        return False


@register_reader("store")
class StoreReader(Reader):
    """A store written by ``benchcast ingest``: every record, summed over repeats per item."""

    priority = 10

    def can_read(self, path: Path) -> bool:
        return is_duckdb_file(path)

    def read(self, path: Path) -> pd.DataFrame:
        from benchcast.data.store import Store

        with Store(path, read_only=True) as store:
            return store.results()
