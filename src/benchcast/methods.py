"""The small interface every forecasting method implements, and the registry that finds them by name.

A method takes its settings in ``__init__`` and stores them unchanged; ``fit(ladder)`` learns from one
benchmark's ``BenchmarkLadder`` and returns ``self``; ``forecast(compute)`` returns a ``MethodForecast`` for a
target compute in FLOPs. A method that cannot run on a ladder (too few models, a missing loss, ...) declines
with a stated reason instead of guessing. New methods register themselves; nothing central needs editing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from benchcast.data.ladder import BenchmarkLadder

_REGISTRY: dict[str, type[Method]] = {}


@dataclass
class MethodForecast:
    """A method's answer for one benchmark: the forecast (None when it declined) and why.

    ``value`` is the full-benchmark score in [0, 1]; ``interval`` maps a level such as ``"80"`` to a
    (low, high) pair; ``details`` holds method-specific diagnostics (clusters, fitted parameters, ...).
    """

    value: float | None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    declined: str | None = None
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)


class Method(ABC):
    """Base class of forecasting methods (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    own_intervals: ClassVar[bool] = False
    """True when the method gives its own prediction intervals, so callers need not bootstrap it."""
    uses_target_size: ClassVar[bool] = False
    """True when ``forecast`` also takes the target's ``params=`` and ``tokens=`` keywords (e.g. Gadre et al.'s
    loss law in N and tokens per parameter); callers pass them only to such methods."""

    def get_params(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if not key.endswith("_")}

    def applicable(self, ladder: BenchmarkLadder) -> str | None:
        """Why the method cannot run on this ladder, or None when it can."""
        if ladder.n_models < 2:
            return f"needs at least 2 ladder models, has {ladder.n_models}"
        return None

    @abstractmethod
    def fit(self, ladder: BenchmarkLadder) -> Self: ...

    @abstractmethod
    def forecast(self, compute: float) -> MethodForecast: ...

    def warm_start(self, fitted: Method) -> Self:
        """Let the next ``fit`` start from ``fitted``: the same method already fitted on similar data (the full
        ladder, for a bootstrap replicate). Methods that can use it take its solution as a first start and
        skip work whose result it already holds; the others ignore it. Returns ``self``."""
        self.warm_start_ = fitted
        return self

    def predict(self, compute: float, **kwargs: Any) -> float | None:
        """Only the forecast value, for repeated refits (the bootstrap); override to skip costly diagnostics."""
        return self.forecast(compute, **kwargs).value


def clone(method: Method) -> Method:
    """A fresh, unfitted copy of ``method`` with the same settings."""
    return type(method)(**method.get_params())


def register_method(name: str) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: make a method available by ``name`` (CLI ``--method``, backtests)."""

    def decorate(cls: type[Method]) -> type[Method]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"method {name!r} is registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtin_methods() -> None:
    # imported for their registration side effect
    import benchcast.auto
    import benchcast.baselines
    import benchcast.cod.method  # noqa: F401


def method_names() -> list[str]:
    _load_builtin_methods()
    return sorted(_REGISTRY)


def get_method(name: str, **params: Any) -> Method:
    """A fresh instance of the method registered as ``name``."""
    _load_builtin_methods()
    if name not in _REGISTRY:
        raise KeyError(f"unknown method {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**params)
