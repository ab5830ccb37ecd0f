"""inspect-ai eval logs: ``.eval`` (a zip of JSON members) or ``.json`` (one ``EvalLog``), read without inspect.

One sample record per (id, epoch): the item is the sample ``id``, the repeat its ``epoch``. The score is the
first scorer of the log's ``results.scores`` (or the one named); string values follow inspect's convention
(``C`` correct = 1, ``I`` incorrect = 0, ``N`` no answer = 0, ``P`` partial = 0.5), bools and numbers in [0, 1]
are taken as they are. The model is ``eval.model`` without its provider prefix (``hf/EleutherAI/pythia-160m``
becomes ``EleutherAI/pythia-160m``); the benchmark is ``eval.task``. Only complete logs (status ``success``)
are read: a cancelled or failed log has an arbitrary subset of samples.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from benchcast.data.readers import register_reader
from benchcast.data.readers.harnesses._common import (
    HarnessReader,
    Part,
    RecordTable,
    find_files,
    pick_metric,
    read_json,
    step_of,
    unit_value,
    whole_number,
)
from benchcast.errors import InputError

_LETTERS = {"C": 1.0, "I": 0.0, "N": 0.0, "P": 0.5}


def _is_log(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("eval"), dict) and "status" in data


def _zip_json(archive: zipfile.ZipFile, member: str, path: Path) -> Any:
    try:
        return json.loads(archive.read(member))
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON in {member} ({error.msg})", path=path, line=error.lineno) from None


def _load(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The log header and its samples, each with the member (or index) it came from."""
    if path.suffix == ".eval":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "header.json" not in names:
                    raise InputError("not an inspect log (no header.json in the archive)", path=path)
                header = _zip_json(archive, "header.json", path)
                members = sorted(name for name in names if name.startswith("samples/") and name.endswith(".json"))
                samples = [(member, _zip_json(archive, member, path)) for member in members]
        except zipfile.BadZipFile:
            raise InputError("not a zip archive (truncated .eval log?)", path=path) from None
    else:
        header = read_json(path)
        listed = header.get("samples") if isinstance(header, dict) else None
        samples = [(f"samples[{index}]", sample) for index, sample in enumerate(listed or [])]
    if not _is_log(header):
        raise InputError("not an inspect eval log (no 'eval' and 'status')", path=path)
    return header, samples


def _score_value(value: Any, *, path: Path, field: str) -> float:
    if isinstance(value, str):
        if value.upper() in _LETTERS:
            return _LETTERS[value.upper()]
        raise InputError(f"unknown score value {value!r} (expected C, I, P, N or a number)", path=path, field=field)
    return unit_value(value, path=path, line=None, field=field)


@register_reader("inspect")
class InspectReader(HarnessReader):
    """inspect-ai logs (``.eval`` or ``.json``), or a folder of them."""

    def can_read(self, path: Path) -> bool:
        if path.is_file():
            if path.suffix == ".eval":
                return zipfile.is_zipfile(path)
            if path.suffix == ".json":
                try:
                    return _is_log(read_json(path))
                except InputError:
                    return False
            return False
        return any(zipfile.is_zipfile(p) for p in path.rglob("*.eval"))

    def parts(self, path: Path) -> list[Part]:
        if path.is_file():
            return [Part(path)]
        return [Part(file) for file in find_files(path, "*.eval")]

    def read_part(self, part: Part) -> pd.DataFrame:
        path = part.path
        header, samples = _load(path)
        status = header.get("status")
        if status != "success":
            raise InputError(f"log status is {status!r}: only complete logs are read", path=path, field="status")
        spec = header["eval"]
        model = str(spec.get("model", "")).strip()
        if not model:
            raise InputError("the log names no model", path=path, field="eval.model")
        model = model.split("/", 1)[1] if "/" in model else model
        task = str(spec.get("task", "")).strip() or path.stem
        args = spec.get("model_args") if isinstance(spec.get("model_args"), dict) else {}
        step = step_of(args.get("revision"))
        results = header.get("results") if isinstance(header.get("results"), dict) else {}
        scorers = [s.get("scorer") or s.get("name") for s in results.get("scores") or [] if isinstance(s, dict)]
        table = RecordTable(path)
        scorer: str | None = None
        for where, sample in samples:
            if not isinstance(sample, dict):
                raise InputError(f"{where}: expected an object", path=path, field=where)
            scores = sample.get("scores")
            if not isinstance(scores, dict) or not scores:
                raise InputError("sample has no scores", path=path, field=f"{where}.scores")
            if scorer is None:
                available = [name for name in scorers if name in scores] + [n for n in scores if n not in scorers]
                scorer = self.metric if self.metric is not None else available[0]
                pick_metric(available, scorer, path=path, line=None, field=f"{where}.scores")
            entry = scores.get(scorer)
            if not isinstance(entry, dict) or "value" not in entry:
                raise InputError("missing score", path=path, field=f"{where}.scores.{scorer}")
            value = _score_value(entry["value"], path=path, field=f"{where}.scores.{scorer}.value")
            epoch = whole_number(sample.get("epoch", 1), path=path, line=None, field=f"{where}.epoch")
            if "id" not in sample:
                raise InputError("sample has no id", path=path, field=f"{where}.id")
            table.add_value(
                value, model=model, step=step, benchmark=task, filter="", item=str(sample["id"]), repeat=epoch - 1
            )
        if not len(table):
            raise InputError("the log holds no samples", path=path)
        return table.frame()
