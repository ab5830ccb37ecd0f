"""Assemble a ``Ladder`` from what a user points at: result files or folders, and a model-card file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchcast.data.cards import load_model_cards
from benchcast.data.ladder import Ladder
from benchcast.data.readers import read_results
from benchcast.data.results import concat_results
from benchcast.errors import InputError


def load_ladder(
    paths: Sequence[str | Path],
    models: str | Path | None,
    *,
    format: str | None = None,
    checkpoint_window: int = 1,
) -> Ladder:
    """Read every results path (any supported format), join them, and attach the model cards."""
    if not paths:
        raise InputError("give at least one results file")
    frames: list[pd.DataFrame] = [read_results(path, format) for path in paths]
    results = concat_results(frames)
    if models is None:
        raise InputError("give a model-card file (--models) with params/tokens or compute per model")
    cards = load_model_cards(models)
    missing = sorted(set(results["model"].unique().tolist()) - set(cards))
    if missing:
        raise InputError(f"model {missing[0]!r} has results but no card", path=models, field="model")
    return Ladder(results, cards, checkpoint_window=checkpoint_window)
