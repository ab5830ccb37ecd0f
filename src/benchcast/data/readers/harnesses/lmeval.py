"""EleutherAI lm-evaluation-harness 0.4.x: ``samples_<task>_<date>.jsonl`` files with their ``results_<date>.json``.

Layouts read (``shared/docs/harness-formats.md`` §1): the 0.4.3+ layout (``<out>/<model>/results_<date>.json`` and
``samples_<task>_<date>.jsonl``, or the same without the model folder when ``--output_path`` ended in ``.json``),
paired by their ``date_id``; and the 0.4.0-0.4.2 layout (``results.json`` beside ``<model_args>_<task>.jsonl``
files that hold a pretty-printed JSON array, with native-typed responses and list-style ``arguments``).

Identity. The model is the results file's ``model_name``, else ``config.model_args``' ``pretrained=`` (a local
path is named by its last component), else the samples file's folder; the step comes from a ``revision`` such
as ``step143000``. The task is the samples file's name; its config (output type, filters, metric options,
repeats) comes from the results file's ``configs`` when present.

Filters. A task writes one record per (doc, filter). The primary filter (the first of the task's
``filter_list``, else ``none``) keeps the task's name as the benchmark; every other filter ``f`` is the
benchmark ``task/f``. Records older than 0.4.7 carry no ``filter`` field: the k-th record of a doc belongs to
the k-th filter of the config (``none``, ``filter-1``, ... without a config). Repeated lines are ignored.

Correctness. Per item: the first known correctness metric among the record's ``metrics`` (``acc`` before
``acc_norm``; ``exact_match``; ``pass_at_k``...), or the one named by ``metric`` (then the benchmark name gets a
``:metric`` suffix unless it is the default). A 0/1 value is one trial; a value in between (f1, pass@k) is a
continuous score. Multiple-choice records also get, where log-likelihoods are present, the probability of the
correct choice (softmax over the choices' summed log-likelihoods) as ``score``.

Repeats (``repeats: N``). The harness keeps all N completions in ``resps`` but scores only the filtered answer.
The per-repeat correctness is re-derived when, and only when, it can be checked against the harness itself:

* a filter whose pipeline is per-completion steps (``regex``, ``remove_whitespace``, ``lowercase``,
  ``uppercase``) followed by ``take_first`` (or no filter, i.e. ``none``), scored with ``exact_match``: every
  completion goes through the same steps and lm-eval's ``exact_match`` (with the task's ``ignore_case``,
  ``ignore_punctuation``, ``ignore_numbers``, ``regexes_to_ignore``). Check: on every record, completion 1 must
  reproduce the harness's ``filtered_resps`` and its ``exact_match`` value;
* a filter that keeps all N completions (``filtered_resps == [[c1..cN]]``): each is scored by exact match, and
  the count c of correct ones must reproduce the harness's per-item value as c/N or as pass@k(N, c, k) for one
  of the task's ``k``.

If the check holds for every record of the (task, filter), the item gets N trials and c correct; if it fails
anywhere, the item gets the harness's own value (one trial) and a warning says so. Other pipelines
(``majority_vote``, ``take_first_k``, custom) are scored by the harness's value alone.
"""

from __future__ import annotations

import math
import re
import string
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from benchcast.data.readers import register_reader
from benchcast.data.readers.harnesses._common import (
    HarnessReader,
    Part,
    RecordTable,
    find_files,
    iter_json_records,
    local_name,
    pick_metric,
    read_json,
    require_object,
    softmax_at,
    step_of,
    unit_value,
    whole_number,
)
from benchcast.errors import InputError

_DATE = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
_SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+)_(?P<date>{_DATE})\.jsonl$")
_DATED_JSON = re.compile(rf"^.+_(?P<date>{_DATE})\.json$")
_RECORD_FIELDS = {
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
}
_PER_COMPLETION = {"regex", "remove_whitespace", "lowercase", "uppercase"}


@dataclass(frozen=True)
class Run:
    """What a results file says about its run."""

    path: Path
    model: str
    step: int | None
    configs: dict[str, Any]
    tasks: tuple[str, ...]
    date: str | None


@dataclass(slots=True)
class _Sample:
    doc_id: int
    line: int
    value: float
    item_hash: str | None
    probability: float | None
    completions: list[Any] | None = None
    filtered: Any = None
    target: Any = None


@dataclass
class _Group:
    metric: str
    samples: list[_Sample] = field(default_factory=list)


def _head(path: Path, size: int = 4096) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8", errors="replace")
    except OSError:
        return ""


def looks_like_samples(path: Path) -> bool:
    """A samples file starts with a record (or an array of them) holding ``doc_id``."""
    head = _head(path).lstrip()
    return head[:1] in ("{", "[") and '"doc_id"' in head


def _is_results(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and ("configs" in data or "config" in data or "versions" in data)
        and "config_general" not in data
    )


def _model_args(config: dict[str, Any]) -> dict[str, Any]:
    args = config.get("model_args")
    if isinstance(args, dict):
        return args
    if isinstance(args, str):
        pairs = (part.split("=", 1) for part in args.split(",") if "=" in part)
        return {key.strip(): value.strip() for key, value in pairs}
    return {}


def check_version(data: dict[str, Any], path: Path) -> None:
    """Refuse output of lm-eval versions this reader does not know (0.3 and before, 0.5 and after)."""
    version = data.get("lm_eval_version")
    if version is not None:
        match = re.match(r"^(\d+)\.(\d+)", str(version))
        if not match or (int(match.group(1)), int(match.group(2))) != (0, 4):
            raise InputError(
                f"lm-eval {version} output is not supported (benchcast reads lm-eval 0.4.x)",
                path=path,
                field="lm_eval_version",
            )
    elif "configs" not in data:
        raise InputError(
            "looks like lm-eval 0.3 or older output (no 'configs'); benchcast reads lm-eval 0.4.x",
            path=path,
            field="configs",
        )


def _run_of(path: Path, data: dict[str, Any]) -> Run:
    check_version(data, path)
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    args = _model_args(config)
    name = data.get("model_name")
    if not isinstance(name, str) or not name.strip():
        for key in ("peft", "delta", "pretrained", "model", "path", "engine"):
            if isinstance(args.get(key), str) and args[key].strip():
                name = args[key]
                break
        else:
            name = path.parent.name
    revision = config.get("model_revision") or args.get("revision")
    configs = data.get("configs") if isinstance(data.get("configs"), dict) else {}
    tasks = tuple(dict.fromkeys([*configs, *data["results"]]))
    match = _DATED_JSON.match(path.name)
    return Run(path, local_name(name), step_of(revision), configs, tasks, match.group("date") if match else None)


class _RunIndex:
    """Results files by folder, loaded once."""

    def __init__(self) -> None:
        self._by_folder: dict[Path, list[Run]] = {}

    def runs(self, folder: Path) -> list[Run]:
        if folder not in self._by_folder:
            runs = []
            for candidate in sorted(folder.glob("*.json")):
                if candidate.stat().st_size > 64 * 2**20:
                    continue
                try:
                    data = read_json(candidate)
                except InputError:
                    continue
                if _is_results(data):
                    runs.append(_run_of(candidate, data))
            self._by_folder[folder] = runs
        return self._by_folder[folder]

    def pair(self, samples: Path) -> tuple[str, Run | None]:
        """The task a samples file holds and the run that wrote it."""
        runs = self.runs(samples.parent)
        match = _SAMPLES_NAME.match(samples.name)
        if match:
            task, date = match.group("task"), match.group("date")
            dated = [run for run in runs if run.date == date]
            return task, dated[0] if dated else None
        stem = samples.name.removesuffix(".jsonl")
        for run in runs:  # 0.4.0-0.4.2: "<model_args>_<task>.jsonl" beside results.json
            names = sorted((t for t in run.tasks if stem == t or stem.endswith("_" + t)), key=len, reverse=True)
            if names:
                return names[0], run
        return stem.removeprefix("samples_"), runs[0] if len(runs) == 1 else None


def _filters(config: dict[str, Any]) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    names, pipelines = [], {}
    for entry in config.get("filter_list") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            names.append(entry["name"])
            steps = entry.get("filter") or []
            pipelines[entry["name"]] = [step for step in steps if isinstance(step, dict)]
    if config and not names:
        names, pipelines = ["none"], {"none": []}
    return names, pipelines


def _metric_options(config: dict[str, Any], metric: str) -> dict[str, Any]:
    for entry in config.get("metric_list") or []:
        if isinstance(entry, dict) and entry.get("metric") == metric:
            return entry
    return {}


def _completion_steps(pipeline: list[dict[str, Any]] | None) -> Callable[[str], str] | None:
    """The per-completion steps of a ``... -> take_first`` pipeline, or None for any other pipeline."""
    if pipeline is None:
        return None
    steps = list(pipeline)
    if steps:
        if steps[-1].get("function") != "take_first":
            return None
        steps = steps[:-1]
    functions: list[Callable[[str], str]] = []
    for step in steps:
        name = step.get("function")
        if name not in _PER_COMPLETION:
            return None
        if name == "regex":
            functions.append(
                _regex_step(
                    step.get("regex_pattern", r"#### (\-?[0-9\.\,]+)"),
                    int(step.get("group_select", 0)),
                    step.get("fallback", "[invalid]"),
                )
            )
        elif name == "remove_whitespace":
            functions.append(str.strip)
        elif name == "lowercase":
            functions.append(str.lower)
        else:
            functions.append(str.upper)

    def apply(text: str) -> str:
        for function in functions:
            text = function(text)
        return text

    return apply


def _regex_step(pattern: str, group_select: int, fallback: str) -> Callable[[str], str]:
    """lm-eval's ``RegexFilter`` on one completion."""
    regex = re.compile(pattern)

    def extract(text: str) -> str:
        found = regex.findall(text if isinstance(text, str) else "")
        if not found:
            return fallback
        match = found[group_select]
        if isinstance(match, tuple):
            parts = [part for part in match if part]
            match = parts[0] if parts else fallback
        return match.strip()

    return extract


def exact_match(prediction: str, target: str, options: dict[str, Any]) -> float:
    """lm-eval's ``exact_match`` (``exact_match_hf_evaluate``) on one prediction."""
    for pattern in options.get("regexes_to_ignore") or []:
        prediction, target = re.sub(pattern, "", prediction), re.sub(pattern, "", target)
    if options.get("ignore_case"):
        prediction, target = prediction.lower(), target.lower()
    if options.get("ignore_punctuation"):
        table = str.maketrans("", "", string.punctuation)
        prediction, target = prediction.translate(table), target.translate(table)
    if options.get("ignore_numbers"):
        table = str.maketrans("", "", string.digits)
        prediction, target = prediction.translate(table), target.translate(table)
    return float(prediction == target)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator (Chen et al. 2021) for c correct of n samples."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _choices(arguments: Any) -> list[str] | None:
    if isinstance(arguments, dict):  # >= 0.4.3: {"gen_args_i": {"arg_0": ctx, "arg_1": continuation}}
        entries = [arguments[key] for key in sorted(arguments, key=lambda k: int(k.rsplit("_", 1)[-1]))]
        texts = [entry.get("arg_1") if isinstance(entry, dict) else None for entry in entries]
    elif isinstance(arguments, list):  # 0.4.0-0.4.2: [[ctx, continuation], ...]
        texts = [entry[1] if isinstance(entry, list) and len(entry) > 1 else None for entry in arguments]
    else:
        return None
    return [text.strip() for text in texts] if all(isinstance(text, str) for text in texts) else None


def choice_probability(record: dict[str, Any], multiple_choice: bool | None) -> float | None:
    """Probability of the correct choice, from a multiple-choice record's per-choice log-likelihoods."""
    if multiple_choice is False:
        return None
    filtered = record.get("filtered_resps")
    if not isinstance(filtered, list) or len(filtered) < 2:
        return None
    logprobs = []
    for entry in filtered:  # [logprob, is_greedy] per choice; strings from 0.4.3 on
        if type(entry) is not list or len(entry) != 2:
            return None
        value = _number(entry[0])
        if value is None:
            return None
        logprobs.append(value)
    target = record.get("target")
    gold: int | None = None
    if isinstance(target, int) and not isinstance(target, bool):
        gold = target
    elif isinstance(target, str) and target.strip().isdigit():
        gold = int(target.strip())
    elif isinstance(target, str):
        choices = _choices(record.get("arguments"))
        if choices is not None and choices.count(target.strip()) == 1:
            gold = choices.index(target.strip())
    if gold is None or not 0 <= gold < len(logprobs):
        return None
    return softmax_at(logprobs, gold)


@register_reader("lm-eval")
class LmEvalReader(HarnessReader):
    """lm-evaluation-harness 0.4.x samples (with their results files); see the module docstring."""

    def can_read(self, path: Path) -> bool:
        if path.is_file():
            if path.name.endswith(".jsonl"):
                return looks_like_samples(path)
            if path.suffix == ".json" and path.stat().st_size < 64 * 2**20:
                try:
                    return _is_results(read_json(path))
                except InputError:
                    return False
            return False
        return any(looks_like_samples(p) for p in islice(path.rglob("*.jsonl"), 200))

    def parts(self, path: Path) -> list[Part]:
        index = _RunIndex()
        if path.is_file() and path.suffix == ".json":
            run = _run_of(path, read_json(path))
            candidates = [p for p in sorted(path.parent.glob("*.jsonl")) if looks_like_samples(p)]
            samples = [p for p in candidates if getattr(index.pair(p)[1], "path", None) == path]
        else:
            samples = [p for p in find_files(path, "*.jsonl") if looks_like_samples(p)]
            if path.is_file() and not samples:
                raise InputError("not an lm-eval samples file (no 'doc_id' in its first record)", path=path)
        parts = []
        for sample_path in samples:
            task, run = index.pair(sample_path)
            parts.append(Part(sample_path, (task, run)))
        if path.is_file() and path.suffix == ".json" and not parts:
            raise InputError(f"no samples files of run {run.model!r} beside this results file", path=path)
        return parts

    def read_part(self, part: Part) -> pd.DataFrame:
        path = part.path
        task, run = part.context
        config = run.configs.get(task, {}) if run is not None else {}
        config = config if isinstance(config, dict) else {}
        model = run.model if run is not None else part.path.parent.name
        step = run.step if run is not None else None
        output_type = config.get("output_type")
        multiple_choice = None if output_type is None else output_type == "multiple_choice"
        filter_names, pipelines = _filters(config)
        groups: dict[str, _Group] = {}
        seen: set[tuple[int, str]] = set()
        occurrences: dict[int, int] = {}
        metric_names = [e.get("metric") for e in config.get("metric_list") or [] if isinstance(e, dict)]
        suffix: dict[str, str] = {}

        for line, raw in iter_json_records(path):
            record = require_object(raw, path=path, line=line)
            if "doc_id" not in record:
                raise InputError(
                    "not an lm-eval 0.4 samples record (no 'doc_id')", path=path, line=line, field="doc_id"
                )
            doc_id = whole_number(record["doc_id"], path=path, line=line, field="doc_id")
            name = record.get("filter")
            if name is None:  # before 0.4.7: the k-th record of a doc is the k-th filter
                k = occurrences.get(doc_id, 0)
                occurrences[doc_id] = k + 1
                if k < len(filter_names):
                    name = filter_names[k]
                elif filter_names:
                    continue  # more records than filters: an appended duplicate
                else:
                    name = "none" if k == 0 else f"filter-{k}"
            elif not isinstance(name, str):
                raise InputError(f"expected a string, got {type(name).__name__}", path=path, line=line, field="filter")
            if (doc_id, name) in seen:
                continue
            seen.add((doc_id, name))
            group = groups.get(name)
            if group is None:
                listed = record.get("metrics")
                if isinstance(listed, list):
                    available = [m for m in listed if isinstance(m, str)]
                else:
                    available = [m for m in metric_names if isinstance(m, str) and m in record] or [
                        key for key in record if key not in _RECORD_FIELDS
                    ]
                metric = pick_metric(available, self.metric, path=path, line=line)
                if self.metric is not None:
                    try:
                        default = pick_metric(available, None, path=path, line=line)
                    except InputError:
                        default = None
                    suffix[name] = "" if default == metric else f":{metric}"
                group = groups[name] = _Group(metric)
            if group.metric not in record:
                raise InputError("missing metric value", path=path, line=line, field=group.metric)
            value = unit_value(record[group.metric], path=path, line=line, field=group.metric)
            doc_hash = record.get("doc_hash")
            sample = _Sample(
                doc_id=doc_id,
                line=line,
                value=value,
                item_hash=doc_hash[:16] if isinstance(doc_hash, str) else None,
                probability=choice_probability(record, multiple_choice),
            )
            resps = record.get("resps")
            if (
                multiple_choice is not True
                and isinstance(resps, list)
                and len(resps) == 1
                and isinstance(resps[0], list)
                and len(resps[0]) > 1
                and set(map(type, resps[0])) == {str}
            ):
                sample.completions = resps[0]
                sample.filtered = record.get("filtered_resps")
                sample.target = record.get("target")
            group.samples.append(sample)

        if not groups:
            raise InputError("no records", path=path)
        primary = filter_names[0] if filter_names else next(iter(groups))
        table = RecordTable(path)
        for name, group in groups.items():
            benchmark = (task if name == primary else f"{task}/{name}") + suffix.get(name, "")
            per_repeat = self._per_repeat(group, pipelines.get(name), config, path, task, name)
            samples = group.samples
            fixed = {"model": model, "step": step, "benchmark": benchmark, "filter": name}
            if per_repeat is not None:
                repeats = [per_repeat[sample.doc_id] for sample in samples]
                table.add_many(
                    item=[str(s.doc_id) for s, rs in zip(samples, repeats, strict=True) for _ in rs],
                    repeat=[r for rs in repeats for r in range(len(rs))],
                    trials=1.0,
                    correct=[c for rs in repeats for c in rs],
                    score=None,
                    item_hash=[s.item_hash for s, rs in zip(samples, repeats, strict=True) for _ in rs],
                    line=[s.line for s, rs in zip(samples, repeats, strict=True) for _ in rs],
                    **fixed,
                )
                continue
            counted = [sample.value in (0.0, 1.0) for sample in samples]  # else a continuous score
            table.add_many(
                item=[str(sample.doc_id) for sample in samples],
                repeat=0,
                trials=[1.0 if ok else None for ok in counted],
                correct=[s.value if ok else None for s, ok in zip(samples, counted, strict=True)],
                score=[s.probability if ok else s.value for s, ok in zip(samples, counted, strict=True)],
                item_hash=[sample.item_hash for sample in samples],
                line=[sample.line for sample in samples],
                **fixed,
            )
        return table.frame()

    @staticmethod
    def _per_repeat(
        group: _Group,
        pipeline: list[dict[str, Any]] | None,
        config: dict[str, Any],
        path: Path,
        task: str,
        name: str,
    ) -> dict[int, list[float]] | None:
        """Per-repeat correctness of every doc, when it can be re-derived and checked (module docstring)."""
        sampled = [sample for sample in group.samples if sample.completions is not None]
        if not sampled:
            return None
        if len(sampled) != len(group.samples):
            return _warn_fallback(path, task, name, group.metric, "not every record has its sampled completions")
        if group.metric != "exact_match" and not group.metric.startswith("pass"):
            return None
        options = _metric_options(config, group.metric)
        ks = options.get("k", [])
        ks = [ks] if isinstance(ks, int) else [k for k in ks if isinstance(k, int)] if isinstance(ks, list) else []
        guessed = pipeline is None and not config  # no results file: assume the first completion is scored as is
        steps = _completion_steps([] if guessed else pipeline)
        out: dict[int, list[float]] = {}
        for sample in sampled:
            target = sample.target
            if not isinstance(target, str):
                return _warn_fallback(path, task, name, group.metric, "the target is not a single string")
            filtered = sample.filtered
            if isinstance(filtered, list) and len(filtered) == 1 and isinstance(filtered[0], list):
                answers = filtered[0]
                if len(answers) != len(sample.completions) or not all(isinstance(a, str) for a in answers):
                    return _warn_fallback(path, task, name, group.metric, "the filter keeps some completions only")
                correct = [exact_match(answer, target, options) for answer in answers]
                n, c = len(correct), int(sum(correct))
                candidates = [c / n] + [pass_at_k(n, c, k) for k in ks if 0 < k <= n]
                if not any(math.isclose(sample.value, x, abs_tol=1e-9) for x in candidates):
                    reason = f"doc {sample.doc_id}: re-scored {c}/{n} does not reproduce the harness's {sample.value:g}"
                    return _warn_fallback(path, task, name, group.metric, reason)
            else:
                if steps is None:
                    return None  # majority vote, take_first_k, custom: the harness's value stands
                if not (isinstance(filtered, list) and len(filtered) == 1 and isinstance(filtered[0], str)):
                    return _warn_fallback(path, task, name, group.metric, "unexpected filtered_resps")
                answers = [steps(text) for text in sample.completions]
                correct = [exact_match(answer, target, options) for answer in answers]
                if answers[0] != filtered[0] or correct[0] != sample.value:
                    if guessed:
                        return None  # without a config this may be a majority vote: keep the harness's value
                    reason = f"doc {sample.doc_id}: re-scoring the first completion does not reproduce the harness"
                    return _warn_fallback(path, task, name, group.metric, reason)
            out[sample.doc_id] = correct
        return out


def _warn_fallback(path: Path, task: str, name: str, metric: str, reason: str) -> None:
    warnings.warn(
        f"{path}: task {task!r}, filter {name!r}: per-repeat correctness not re-derived ({reason}); "
        f"using the harness's per-item {metric}",
        stacklevel=3,
    )
    return None
