"""benchcast: forecast a large model's benchmark scores from a ladder of small models.

The public API: load data (``load_ladder``, ``load_dataset``, ``load_results``, ``load_model_cards``),
forecast (``forecast``), and the methods themselves (``benchcast.cod.method.COD``, ``benchcast.baselines``).
"""

from benchcast.data.cards import ModelCard, Role, load_model_cards
from benchcast.data.inputs import load_ladder
from benchcast.data.ladder import BenchmarkLadder, Ladder
from benchcast.data.results import load_results
from benchcast.datasets import list_datasets, load_dataset
from benchcast.errors import BenchcastError, InputError
from benchcast.forecast import BenchmarkForecast, Forecast, forecast
from benchcast.methods import Method, MethodForecast, get_method, method_names
from benchcast.simulate import simulate_ladder

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
