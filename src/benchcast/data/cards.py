"""Model cards: what benchcast knows about each model (size, data, compute, role in the ladder).

Compute is the training FLOPs; when a card gives none it is 6·N·D (Kaplan et al.), the standard estimate
for dense decoder-only transformers.

A card may also say where the model's checkpoints lie, for ``benchcast evaluate``: a ``path`` (with a
``{step}`` placeholder, filled with each of ``steps``, else with the card's ``step``), or a ``checkpoints``
list of ``{step, path}`` mappings (YAML). Relative paths are relative to the cards file. Cards without paths
read as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from benchcast.errors import InputError


@dataclass(frozen=True)
class Checkpoint:
    """One saved checkpoint of a model: its training step (None when the card gives none) and its folder."""

    step: int | None
    path: str


class Role(StrEnum):
    """What a model is for: fitting (ladder), being forecast (target), or calibrating the mapping (anchor)."""

    LADDER = "ladder"
    TARGET = "target"
    ANCHOR = "anchor"


@dataclass(frozen=True)
class ModelCard:
    """One model: its size, its training tokens and compute, and its role.

    Examples
    --------
    >>> card = ModelCard("tiny", params=1e8, tokens=2e9)
    >>> card.compute
    1.2e+18
    """

    name: str
    params: float | None = None
    tokens: float | None = None
    compute: float | None = None
    family: str | None = None
    step: int | None = None
    role: Role | None = None
    extra: tuple[tuple[str, float], ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()

    def __post_init__(self) -> None:
        if self.compute is None and self.params is not None and self.tokens is not None:
            object.__setattr__(self, "compute", 6.0 * self.params * self.tokens)

    def with_role(self, role: Role | None) -> ModelCard:
        return replace(self, role=role)

    @property
    def metrics(self) -> dict[str, float]:
        """Model-level measurements carried on the card (e.g. a validation ``loss``), used by some baselines."""
        return dict(self.extra)


_CARD_FIELDS = {
    "model",
    "name",
    "params",
    "tokens",
    "compute",
    "family",
    "step",
    "role",
    "path",
    "steps",
    "checkpoints",
}


_STEP_FIELDS = {"step", "steps", "checkpoints.step"}


def _number(value: Any, *, path: Path, line: int, field: str, integer: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {value!r}", path=path, line=line, field=field) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and field not in _STEP_FIELDS):
        raise InputError(f"expected a positive finite number, got {value!r}", path=path, line=line, field=field)
    if integer and number != int(number):
        raise InputError(f"expected a whole number, got {value!r}", path=path, line=line, field=field)
    return number


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _steps(value: Any, *, path: Path, line: int) -> list[int]:
    """``steps``: a YAML list, or in a CSV cell one number or several separated by ``;``, ``,`` or spaces."""
    if _missing(value):
        return []
    items = value if isinstance(value, list) else str(value).replace(";", " ").replace(",", " ").split()
    steps = []
    for item in items:
        number = _number(item, path=path, line=line, field="steps", integer=True)
        if number is None:
            raise InputError(f"expected step numbers, got {value!r}", path=path, line=line, field="steps")
        steps.append(int(number))
    return steps


def _checkpoints(record: dict[str, Any], step: int | None, *, path: Path, line: int) -> tuple[Checkpoint, ...]:
    """Where the card's checkpoints lie (module docstring); relative paths start at the cards file's folder."""

    def located(text: Any, field: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"expected a checkpoint path, got {text!r}", path=path, line=line, field=field)
        return str((path.parent / Path(text.strip()).expanduser()).absolute())  # workers may run elsewhere

    listed = record.get("checkpoints")
    template = record.get("path")
    steps = _steps(record.get("steps"), path=path, line=line)
    out: list[Checkpoint] = []
    if not _missing(listed):
        if not _missing(template) or steps:
            raise InputError("give either 'checkpoints' or 'path' (and 'steps'), not both", path=path, line=line)
        if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
            raise InputError("expected a list of {step, path} mappings", path=path, line=line, field="checkpoints")
        for entry in listed:
            number = _number(entry.get("step"), path=path, line=line, field="checkpoints.step", integer=True)
            out.append(Checkpoint(None if number is None else int(number), located(entry.get("path"), "checkpoints")))
    elif not _missing(template):
        text = located(template, "path")
        if "{step}" in text:
            chosen = steps or ([] if step is None else [step])
            if not chosen:
                raise InputError("a path with {step} needs 'steps' or 'step'", path=path, line=line, field="path")
            out = [Checkpoint(number, text.replace("{step}", str(number))) for number in chosen]
        elif len(steps) > 1:
            raise InputError("several steps need a {step} placeholder in the path", path=path, line=line, field="path")
        else:
            out = [Checkpoint(steps[0] if steps else step, text)]
    elif steps:
        raise InputError("'steps' needs a 'path' with a {step} placeholder", path=path, line=line, field="steps")
    seen = [checkpoint.step for checkpoint in out]
    if len(set(seen)) != len(seen):
        raise InputError("a step is listed twice", path=path, line=line, field="checkpoints")
    return tuple(out)


def _card(record: dict[str, Any], *, path: Path, line: int) -> ModelCard:
    name = record.get("model", record.get("name"))
    if name is None or str(name).strip() == "" or (isinstance(name, float) and math.isnan(name)):
        raise InputError("missing model name", path=path, line=line, field="model")
    role_value = record.get("role")
    role = None
    if role_value is not None and not (isinstance(role_value, float) and math.isnan(role_value)):
        role_text = str(role_value).strip().lower()
        if role_text:
            try:
                role = Role(role_text)
            except ValueError:
                raise InputError(
                    f"unknown role {role_value!r} (expected ladder, target or anchor)",
                    path=path,
                    line=line,
                    field="role",
                ) from None
    step = _number(record.get("step"), path=path, line=line, field="step", integer=True)
    family = record.get("family")
    if family is not None and (isinstance(family, float) and math.isnan(family)):
        family = None
    extra = []
    for key, value in record.items():
        if key in _CARD_FIELDS or value is None:
            continue
        if isinstance(value, int | float) and math.isfinite(float(value)):
            extra.append((str(key), float(value)))
    return ModelCard(
        name=str(name).strip(),
        params=_number(record.get("params"), path=path, line=line, field="params"),
        tokens=_number(record.get("tokens"), path=path, line=line, field="tokens"),
        compute=_number(record.get("compute"), path=path, line=line, field="compute"),
        family=None if family is None else str(family),
        step=None if step is None else int(step),
        role=role,
        extra=tuple(extra),
        checkpoints=_checkpoints(record, None if step is None else int(step), path=path, line=line),
    )


def _yaml_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise InputError(f"not valid YAML ({getattr(error, 'problem', error)})", path=path, line=line) from None
    if isinstance(document, dict) and "models" in document:
        document = document["models"]
    if isinstance(document, dict):
        document = [{"model": name, **(fields or {})} for name, fields in document.items()]
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise InputError("expected a list of model cards or a mapping of model name to card", path=path)
    return [(index + 1, item) for index, item in enumerate(document)]


def load_model_cards(path: str | Path) -> dict[str, ModelCard]:
    """Read model cards from a CSV or YAML file, keyed by model name.

    CSV columns: ``model``, ``params``, ``tokens``, optional ``compute`` (FLOPs), ``family``, ``step``, ``role``,
    ``path`` and ``steps`` (checkpoints, see the module docstring); any other numeric column (e.g. ``loss``) is
    kept as a model-level metric. YAML: a list of such mappings, a ``models:`` list, or a mapping from model
    name to its fields; a card there may list ``checkpoints`` instead of ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cards.csv"
    >>> _ = p.write_text("model,params,tokens,role\\nm1,1e8,2e9,ladder\\n")
    >>> load_model_cards(p)["m1"].compute
    1.2e+18
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        records = _yaml_records(path)
    else:
        try:
            frame = pd.read_csv(
                path, dtype={"model": str, "name": str, "family": str, "role": str, "path": str, "steps": str}
            )
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
            raise InputError(f"not a readable CSV ({str(error).splitlines()[0]})", path=path) from None
        if "model" not in frame.columns and "name" not in frame.columns:
            raise InputError("no 'model' column", path=path, line=1, field="model")
        records = [(index + 2, row) for index, row in enumerate(frame.to_dict("records"))]
    cards: dict[str, ModelCard] = {}
    for line, record in records:
        card = _card(record, path=path, line=line)
        if card.name in cards:
            raise InputError(f"model {card.name!r} is listed twice", path=path, line=line, field="model")
        cards[card.name] = card
    return cards
