"""benchcast: forecast a large model's benchmark scores from a ladder of small models.

The public API: load data (``load_ladder``, ``load_dataset``, ``load_results``, ``load_model_cards``),
forecast (``forecast``), and the methods themselves (``benchcast.cod.method.COD``, ``benchcast.baselines``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchcast.data.cards import ModelCard, Role, load_model_cards
    from benchcast.data.inputs import load_ladder
    from benchcast.data.ladder import BenchmarkLadder, Ladder
    from benchcast.data.results import load_results
    from benchcast.datasets import list_datasets, load_dataset
    from benchcast.errors import BenchcastError, InputError
    from benchcast.forecast import BenchmarkForecast, Forecast, forecast
    from benchcast.methods import Method, MethodForecast, get_method, method_names
    from benchcast.simulate import simulate_ladder

# the public names and the modules that define them, imported on first use: a command that needs none of the
# numerical stack (``benchcast --help``, ``benchcast ls``) does not pay seconds for it
_PUBLIC = {
    "ModelCard": "benchcast.data.cards",
    "Role": "benchcast.data.cards",
    "load_model_cards": "benchcast.data.cards",
    "load_ladder": "benchcast.data.inputs",
    "BenchmarkLadder": "benchcast.data.ladder",
    "Ladder": "benchcast.data.ladder",
    "load_results": "benchcast.data.results",
    "list_datasets": "benchcast.datasets",
    "load_dataset": "benchcast.datasets",
    "BenchcastError": "benchcast.errors",
    "InputError": "benchcast.errors",
    "BenchmarkForecast": "benchcast.forecast",
    "Forecast": "benchcast.forecast",
    "forecast": "benchcast.forecast",
    "Method": "benchcast.methods",
    "MethodForecast": "benchcast.methods",
    "get_method": "benchcast.methods",
    "method_names": "benchcast.methods",
    "simulate_ladder": "benchcast.simulate",
}


class _Package(types.ModuleType):
    """The package module. Importing the submodule ``benchcast.forecast`` would bind the package's ``forecast``
    to that module; the public name stays the function, as it was when this file imported it eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'benchcast' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__version__ = "0.1.0"

__all__ = [
    "BenchcastError",
    "BenchmarkForecast",
    "BenchmarkLadder",
    "Forecast",
    "InputError",
    "Ladder",
    "Method",
    "MethodForecast",
    "ModelCard",
    "Role",
    "forecast",
    "get_method",
    "list_datasets",
    "load_dataset",
    "load_ladder",
    "load_model_cards",
    "load_results",
    "method_names",
    "simulate_ladder",
]
