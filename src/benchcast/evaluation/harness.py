"""One unit of ``benchcast evaluate`` on a worker: a checkpoint, a task, some of its documents, some samples each.

The worker runs the real lm-evaluation-harness (``simple_evaluate`` with logged samples), lets the harness's own
``EvaluationTracker`` write its ordinary ``results_<date>.json`` and ``samples_<task>_<date>.jsonl`` into a
scratch folder, and returns those files' bytes: the worker may be on another machine (Ray), and only the
process that owns the store writes to it. Nothing here knows about the store.

A worker keeps the last model and the task manager it built, so units of the same checkpoint in a row do not
reload it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Unit:
    """One piece of work. ``docs`` are the task's document indices (lm-eval's ``doc_id``), ``repeats`` the
    samples per document (None: the task's own), ``round`` the adaptive round (0 for a fixed budget)."""

    model: str
    step: int | None
    path: str
    task: str
    docs: tuple[int, ...]
    repeats: int | None
    round: int
    shard: int
    seed: int

    @property
    def folder(self) -> str:
        """The run's folder name, ``<model>__step<step>`` as ``ladders/evaluate.py`` and the lm-eval reader use."""
        return self.model if self.step is None else f"{self.model}__step{self.step}"


@dataclass(frozen=True)
class HarnessSettings:
    """How every worker runs the harness: the lm-eval model backend and where its task configs come from."""

    backend: str = "hf"
    device: str = "cpu"
    batch_size: int | str = 16
    include_path: str | None = None
    include_defaults: bool = False
    threads: int = 1
    seed: int = 0


@dataclass(frozen=True)
class UnitResult:
    """The files the harness wrote for a unit (name -> bytes), the samples drawn and the seconds it took."""

    unit: Unit
    files: dict[str, bytes]
    samples: int
    seconds: float


_cache: dict[str, Any] = {}


def quiet_harness() -> None:
    """Keep the harness's logs and per-request bars out of benchcast's progress display."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # read when tqdm is imported: call this before the harness
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("lm_eval", "lm-eval", "transformers", "datasets", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)


def task_manager(settings: HarnessSettings) -> Any:
    """The worker's lm-eval ``TaskManager``, built once: indexing the ~10k built-in tasks takes seconds."""
    from lm_eval.tasks import TaskManager

    key = f"tasks:{settings.include_path}:{settings.include_defaults}"
    if key not in _cache:
        _cache[key] = TaskManager(include_path=settings.include_path, include_defaults=settings.include_defaults)
    return _cache[key]


def model_args(path: str, settings: HarnessSettings) -> str:
    if settings.backend == "vllm":
        return f"pretrained={path},dtype=auto,seed={settings.seed}"
    return f"pretrained={path},dtype={'float32' if settings.device == 'cpu' else 'auto'}"


def _model(path: str, settings: HarnessSettings) -> Any:
    """The lm-eval model for a checkpoint; the last one is kept (one model per worker at a time)."""
    from lm_eval.api.registry import get_model

    key = f"{settings.backend}:{path}:{settings.device}:{settings.batch_size}"
    if _cache.get("model_key") != key:
        _cache.pop("model", None)  # free the previous model before loading the next
        _cache["model"] = get_model(settings.backend).create_from_arg_string(
            model_args(path, settings), {"batch_size": settings.batch_size, "device": settings.device}
        )
        _cache["model_key"] = key
    return _cache["model"]


@contextlib.contextmanager
def _silenced_stderr() -> Iterator[None]:
    """Hide what the harness prints while it runs: a progress bar per request batch (tqdm, told explicitly to
    show) and git's "not a git repository" from a subprocess. Its errors still come back as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stderr(io.StringIO()):
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_unit(unit: Unit, settings: HarnessSettings) -> UnitResult:
    """Evaluate one unit with lm-eval and return the files its tracker wrote."""
    quiet_harness()
    start = time.perf_counter()
    if settings.device == "cpu" and settings.backend == "hf":
        import torch

        torch.set_num_threads(settings.threads)  # workers are the parallelism; also keeps sampling reproducible
    import lm_eval
    from lm_eval.loggers import EvaluationTracker

    manager = task_manager(settings)
    task = manager.load([unit.task])["tasks"][unit.task]
    if unit.repeats is not None:
        task.set_config(key="repeats", value=unit.repeats)
    repeats = int(task.config.repeats or 1)
    lm = _model(unit.path, settings)
    with tempfile.TemporaryDirectory(prefix="benchcast-unit-") as scratch:
        tracker = EvaluationTracker(output_path=scratch)
        with _silenced_stderr():
            results = lm_eval.simple_evaluate(
                model=lm,
                tasks=[task],
                task_manager=manager,
                samples={unit.task: list(unit.docs)},
                log_samples=True,
                evaluation_tracker=tracker,
                bootstrap_iters=0,
                random_seed=unit.seed,
                numpy_random_seed=unit.seed,
                torch_random_seed=unit.seed,
                fewshot_random_seed=settings.seed,  # the same few-shot examples for every checkpoint and round
            )
        tracker.general_config_tracker.model_name = unit.model
        tracker.general_config_tracker.model_name_sanitized = unit.folder
        samples = results.pop("samples")
        if unit.step is not None:
            # the reader takes the step from the model revision; a local checkpoint folder has none of its own
            results["config"]["model_revision"] = f"step{unit.step}"
        tracker.save_results_aggregated(results=results, samples=samples)
        tracker.save_results_samples(task_name=unit.task, samples=samples[unit.task])
        files = {path.name: path.read_bytes() for path in sorted(Path(scratch).rglob("*")) if path.is_file()}
    return UnitResult(unit, files, len(unit.docs) * repeats, time.perf_counter() - start)
