"""The generic table reader: benchcast's own long or wide format in CSV, TSV, Parquet or JSONL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchcast.data.readers import Reader, register_reader
from benchcast.data.results import load_results

_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson")


@register_reader("table")
class TableReader(Reader):
    """Long format (``model, benchmark, item, trials, correct`` or ``score``, optional ``step``) or a wide
    items-by-models table."""

    priority = 1000

    def can_read(self, path: Path) -> bool:
        if not path.is_file():
            return False
        name = path.name.lower().removesuffix(".gz")
        return name.endswith(_SUFFIXES)

    def read(self, path: Path) -> pd.DataFrame:
        return load_results(path)
