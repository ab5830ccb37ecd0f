"""What ``benchcast evaluate`` will run, checked before any work starts: the checkpoints (from the model cards)
and the tasks (from lm-eval's task configs).

Everything a run could trip over later (a checkpoint folder that is not there, a task lm-eval does not know, a
store whose items differ from the tasks') is an ``InputError`` here, so a bad command fails in seconds and
touches nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from benchcast.data.cards import load_model_cards
from benchcast.errors import InputError
from benchcast.evaluation.harness import HarnessSettings, quiet_harness, task_manager


@dataclass(frozen=True)
class LadderCheckpoint:
    """A checkpoint to evaluate: its model's card name, its step and its folder."""

    model: str
    step: int | None
    path: str


@dataclass(frozen=True)
class TaskInfo:
    """An lm-eval task as the plan needs it: its documents and whether it samples (``generate_until``)."""

    name: str
    docs: int
    repeats: int
    generates: bool


def ladder_checkpoints(cards_path: str | Path) -> list[LadderCheckpoint]:
    """Every checkpoint the cards give a path for, in ascending compute (then step); each path must exist.

    Cards without paths (e.g. a target known only by its compute) are left out.
    """
    cards_path = Path(cards_path)
    cards = load_model_cards(cards_path)
    order = {name: index for index, name in enumerate(cards)}
    out = []
    for card in sorted(cards.values(), key=lambda c: (c.compute or math.inf, order[c.name])):
        for checkpoint in sorted(card.checkpoints, key=lambda c: -1 if c.step is None else c.step):
            if not Path(checkpoint.path).exists():
                step = "" if checkpoint.step is None else f" step {checkpoint.step}"
                raise InputError(
                    f"model {card.name!r}{step}: checkpoint not found: {checkpoint.path}", path=cards_path, field="path"
                )
            out.append(LadderCheckpoint(card.name, checkpoint.step, checkpoint.path))
    if not out:
        raise InputError("no model card gives a checkpoint path ('path' or 'checkpoints')", path=cards_path)
    return out


def resolve_tasks(names: list[str], settings: HarnessSettings) -> tuple[dict[str, TaskInfo], HarnessSettings]:
    """The leaf tasks behind ``names`` (a group stands for its tasks), loaded once to count their documents.

    Tasks are looked up in ``include_path`` alone first (fast); lm-eval's built-in tasks are indexed only when a
    name is not found there. Returns the settings the workers need to find the same tasks.
    """
    if not names:
        raise InputError("give at least one task (--tasks)", field="tasks")
    if settings.include_path is not None and not Path(settings.include_path).is_dir():
        raise InputError("task folder not found", path=settings.include_path, field="include-path")
    quiet_harness()
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        raise InputError("benchcast evaluate needs lm-eval: pip install 'benchcast[lmeval]'") from None
    if settings.include_path is not None:
        manager = task_manager(settings)
        if set(names) <= set(manager.all_tasks):
            return _load(manager, names), settings
    settings = replace(settings, include_defaults=True)
    manager = task_manager(settings)
    known = set(manager.all_tasks)
    unknown = [name for name in names if name not in known]
    if unknown:
        where = f" (looked in {settings.include_path} and lm-eval's tasks)" if settings.include_path else ""
        raise InputError(f"unknown task {unknown[0]!r}{where}", field="tasks")
    return _load(manager, names), settings


def _load(manager, names: list[str]) -> dict[str, TaskInfo]:
    try:
        tasks = manager.load(names)["tasks"]
    except Exception as error:  # a broken YAML, a dataset that cannot be read offline, ...
        text = str(error).strip().splitlines()
        raise InputError(f"task {names} cannot be loaded ({text[0] if text else type(error).__name__})") from None
    out = {}
    for name, task in tasks.items():
        docs = task.eval_docs
        out[name] = TaskInfo(
            name=name,
            docs=len(docs),
            repeats=int(task.config.repeats or 1),
            generates=task.get_config("output_type") == "generate_until",
        )
    return out
