"""Readers turn what evaluation harnesses write into canonical item results.

Each reader is one file that registers itself against the small ``Reader`` interface: ``can_read(path)``
says whether a file or folder is its format (looking at the files themselves), ``read(path)`` returns a
canonical results frame. ``read_results`` picks the reader, or takes ``format`` to override the choice.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pandas as pd

from benchcast.errors import InputError

_READERS: dict[str, type[Reader]] = {}


class Reader(ABC):
    """One input format."""

    name: ClassVar[str] = ""
    priority: ClassVar[int] = 100
    """Lower runs its ``can_read`` first; the generic table reader goes last."""

    @abstractmethod
    def can_read(self, path: Path) -> bool: ...

    @abstractmethod
    def read(self, path: Path) -> pd.DataFrame: ...


def register_reader(name: str) -> Callable[[type[Reader]], type[Reader]]:
    def decorate(cls: type[Reader]) -> type[Reader]:
        cls.name = name
        _READERS[name] = cls
        return cls

    return decorate


def _load_builtin_readers() -> None:
    from benchcast.data.readers import generic  # noqa: F401

    with contextlib.suppress(ImportError):  # harness readers live beside this file; each registers itself
        from benchcast.data.readers import harnesses  # noqa: F401


def reader_names() -> list[str]:
    _load_builtin_readers()
    return sorted(_READERS)


def get_reader(path: Path, format: str | None = None) -> Reader:
    _load_builtin_readers()
    if format is not None:
        if format not in _READERS:
            raise InputError(f"unknown format {format!r}; known: {', '.join(sorted(_READERS))}", path=path)
        return _READERS[format]()
    for cls in sorted(_READERS.values(), key=lambda c: (c.priority, c.name)):
        reader = cls()
        if reader.can_read(path):
            return reader
    raise InputError("no reader recognises this file or folder (give --format)", path=path)


def read_results(path: str | Path, format: str | None = None) -> pd.DataFrame:
    """Read one results file or folder with the matching reader (``format`` overrides detection)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    return get_reader(path, format).read(path)
