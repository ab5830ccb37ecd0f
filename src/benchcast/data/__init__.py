"""Ladder data: model cards, item results, their validation and loaders."""

from benchcast.data.cards import ModelCard, Role, load_model_cards
from benchcast.data.ladder import BenchmarkLadder, Ladder
from benchcast.data.results import RESULT_COLUMNS, load_results, validate_results

__all__ = [
    "RESULT_COLUMNS",
    "BenchmarkLadder",
    "Ladder",
    "ModelCard",
    "Role",
    "load_model_cards",
    "load_results",
    "validate_results",
]
