"""Evaluate checkpoints with the real lm-evaluation-harness on the local ``refl_*`` tasks.

One lm-eval task per difficulty family (``refl_copy_short``, ``refl_copy_long``, ... ``refl_mul_long``; see
``tasks.py``): a local JSONL of items,
``generate_until`` with ``repeats`` samples per item (temperature 1.0, top-p 0.7, as COD samples), a filter
that keeps every sample and the metric ``pass_at_1`` (the share of the samples that equal the answer). The
harness builds the requests, applies the filter and metric and writes its ordinary outputs
(``results_<date>.json`` and ``samples_<task>_<date>.jsonl`` with every sample in ``resps``) through its own
``EvaluationTracker``.

The model side is ``RefLadderLM`` (registered as ``refl-sampler``), an lm-eval ``LM`` over the checkpoint's
weights that serves each request batch with ``sampler.Sampler``: the harness passes an item's ``Instance``
``repeats`` times in a row, and the LM answers them with as many independent samples of that prompt, drawn
in large batches with shared prefixes computed once. The stock ``--model hf`` backend gives the same
distribution (``measure_hf.py`` measures its speed; the README has the figures) but runs ``generate`` once per
request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model
from sampler import Sampler
from tasks import MAX_ANSWER, write_items

REPEATS = 100
TASK_PREFIX = "refl_"

_UTILS = '''"""Filter and metric of the refl_* tasks (written by ladders/evaluate.py)."""


def keep_all(resps, docs):
    """Keep every sampled completion of an item."""
    return [[text.strip() for text in resp] for resp in resps]


def pass_at_1(references, predictions, **kwargs):
    """Share of an item's samples that equal the answer exactly (pass@1 estimated from all samples)."""
    samples = predictions[0]
    return sum(text == references[0] for text in samples) / len(samples)
'''

_YAML = """task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{answer}}}}"
repeats: {repeats}
generation_kwargs:
  until:
    - "\\n"
  do_sample: true
  temperature: 1.0
  top_p: 0.7
  max_gen_toks: {max_gen_toks}
filter_list:
  - name: all
    filter:
      - function: custom
        filter_fn: !function utils.keep_all
metric_list:
  - metric: !function utils.pass_at_1
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
  family: {family}
"""


def write_tasks(
    folder: Path,
    *,
    repeats: int = REPEATS,
    per_family: int | None = None,
    seed: int = 1234,
    items_writer: Callable[[Path], dict[str, Path]] | None = None,
    prefix: str = TASK_PREFIX,
    max_answer: int = MAX_ANSWER,
) -> list[str]:
    """Write the items, one YAML per task and the filter/metric module; return the task names. By default the
    reference ladder's difficulty families; ``items_writer(data_folder)`` writes another world's items (one
    JSONL per task) and ``prefix`` names its tasks."""
    folder = folder.resolve()
    if items_writer is None:
        kwargs = {} if per_family is None else {"per_family": per_family}
        paths = write_items(folder / "data", seed=seed, **kwargs)
    else:
        paths = items_writer(folder / "data")
    (folder / "utils.py").write_text(_UTILS)
    names = []
    for family, path in paths.items():
        task = prefix + family
        text = _YAML.format(task=task, data=path, repeats=repeats, max_gen_toks=max_answer + 1, family=family)
        (folder / f"{task}.yaml").write_text(text)
        names.append(task)
    return names


@register_model("refl-sampler")
class RefLadderLM(LM):
    """lm-eval model over a reference-ladder checkpoint; generation only (see the module docstring)."""

    def __init__(self, pretrained: str, revision: str | None = None, seed: int = 0, **_: object) -> None:
        super().__init__()
        self.sampler = Sampler(pretrained)
        self.seed = int(seed)
        self.revision = revision

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        # Consecutive requests with the same context and generation settings are one item's repeats.
        groups: dict[str, list[tuple[str, int]]] = {}
        settings: dict[str, dict] = {}
        order: list[tuple[str, str, int]] = []
        for request in requests:
            context, kwargs = request.args
            key = json.dumps(kwargs, sort_keys=True, default=str)
            settings[key] = kwargs
            counts = groups.setdefault(key, [])
            if counts and counts[-1][0] == context:
                counts[-1] = (context, counts[-1][1] + 1)
            else:
                counts.append((context, 1))
            order.append((key, context, len(counts) - 1))
        answers: dict[tuple[str, int], list[str]] = {}
        for key, entries in groups.items():
            kwargs = settings[key]
            until = [u for u in (kwargs.get("until") or []) if u]
            do_sample = bool(kwargs.get("do_sample", False))
            by_n: dict[int, list[int]] = {}
            for position, (_, n) in enumerate(entries):
                by_n.setdefault(n, []).append(position)
            for n, positions in by_n.items():
                texts = self.sampler.sample(
                    [entries[p][0] for p in positions],
                    n,
                    max_new=int(kwargs.get("max_gen_toks", MAX_ANSWER + 1)),
                    temperature=float(kwargs.get("temperature", 1.0)) if do_sample else 1.0,
                    top_p=float(kwargs.get("top_p", 1.0)) if do_sample else 1e-9,
                    seed=self.seed,
                )
                for p, completions in zip(positions, texts, strict=True):
                    answers[(key, p)] = [_cut(text, until) for text in completions]
        used: dict[tuple[str, int], int] = {}
        out = []
        for key, _context, position in order:
            k = used.get((key, position), 0)
            used[(key, position)] = k + 1
            out.append(answers[(key, position)][k])
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("the refl_* tasks only generate")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("the refl_* tasks only generate")


def _cut(text: str, until: list[str]) -> str:
    for stop in until:
        index = text.find(stop)
        if index >= 0:
            text = text[:index]
    return text


def evaluate_checkpoint(
    path: Path, model: str, step: int, tasks: list[str], task_dir: Path, out: Path, *, seed: int, task_manager=None
) -> dict:
    """Run the harness on one checkpoint; writes ``out/<model>__step<step>/results_*.json`` and samples."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    tm = task_manager or TaskManager(include_path=str(task_dir), include_defaults=False)
    tracker = EvaluationTracker(output_path=str(out))
    start = time.time()
    res = lm_eval.simple_evaluate(
        model="refl-sampler",
        model_args=f"pretrained={path.resolve()},revision=step{step},seed={seed}",
        tasks=tasks,
        task_manager=tm,
        log_samples=True,
        evaluation_tracker=tracker,
        bootstrap_iters=0,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )
    seconds = time.time() - start
    tracker.general_config_tracker.model_name = model
    tracker.general_config_tracker.model_name_sanitized = f"{model}__step{step}"
    samples = res.pop("samples")
    tracker.save_results_aggregated(results=res, samples=samples)
    for task in res["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    scores = {task: res["results"][task].get("pass_at_1,all") for task in tasks}
    return {"model": model, "step": step, "seconds": seconds, "scores": scores}
