"""Readers for what evaluation harnesses write, one module per harness; importing this package registers them.

Each reader turns a harness's per-sample output into records (one row per model, step, benchmark, filter,
item, repeat; see ``_common``) and, through ``read``, into benchcast's canonical item-level frame. The
``store`` reader reads benchcast's own DuckDB store back.
"""

from benchcast.data.readers.harnesses import helm, inspectai, lighteval, lmeval, opencompass, store  # noqa: F401
