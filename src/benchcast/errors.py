"""Errors benchcast raises on bad input, each a single line naming where the problem is."""

from __future__ import annotations

from pathlib import Path


class BenchcastError(Exception):
    """Base class: anything benchcast reports to a user as a one-line message (CLI exit code 2)."""


class InputError(BenchcastError):
    """Bad input data: names the file, the line or row, and the field when they are known.

    The message reads ``path:line: field 'x': what is wrong`` so that editors and terminals can jump to it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        elif line is not None:
            where = f"row {line}: "
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}{what}{message}")


class MethodError(BenchcastError):
    """A method cannot run on the given ladder (too few models, missing inputs); the message says why."""
