"""The ladder-design table: how a forecast's error depends on the ladder a team pays for.

From a measured ladder (a bundled dataset's backtest case, or a team's own pilot ladder with a larger model held
out as the target), smaller ladders are cut out of the measured data and each is forecast as a team would:
fewer ladder models (evenly spaced over the same compute range, both ends kept), fewer items per benchmark
(a random subset; the target is scored on the same subset) and fewer samples per item (drawn without
replacement from the stored samples: a hypergeometric draw from each item's ``correct`` of ``trials``). One
factor varies at a time from the full design; subsampled designs repeat over several seeds and report the
mean absolute error over benchmarks and seeds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchcast.backtest.cases import BacktestCase
from benchcast.backtest.output import write_atomic
from benchcast.data.ladder import Ladder
from benchcast.forecast import forecast

MARKER_START = "<!-- ladder-design:start -->"
MARKER_END = "<!-- ladder-design:end -->"
SECTION = re.compile(re.escape(MARKER_START) + r".*?" + re.escape(MARKER_END), re.S)
"""The ladder-design section of a page, markers included."""


@dataclass(frozen=True)
class Design:
    """One ladder design: how many ladder models, items per benchmark (None: all) and samples per item."""

    models: int
    items: int | None
    trials: int | None

    def label(self, full_items: int, full_trials: int) -> tuple[str, str, str]:
        return (
            str(self.models),
            f"{self.items:,}" if self.items else f"all ({full_items:,})",
            str(self.trials) if self.trials else f"all ({full_trials})",
        )


def designs(n_models: int, models: Sequence[int], items: Sequence[int], trials: Sequence[int]) -> list[Design]:
    """The full design, then each factor varied alone (fewer models, items, trials)."""
    out = [Design(n_models, None, None)]
    out += [Design(m, None, None) for m in models if m < n_models]
    out += [Design(n_models, k, None) for k in items]
    out += [Design(n_models, None, t) for t in trials]
    return out


def spaced(names: Sequence[str], count: int) -> list[str]:
    """``count`` of the ascending ladder ``names``, evenly spaced, smallest and largest kept."""
    picks = np.unique(np.round(np.linspace(0, len(names) - 1, count)).astype(int))
    return [names[i] for i in picks]


def thin(results: pd.DataFrame, design: Design, keep_whole: Sequence[str], rng: np.random.Generator) -> pd.DataFrame:
    """``results`` cut to the design's items (per benchmark) and samples (ladder models only; ``keep_whole``,
    the target, keeps every sample so that the truth does not move)."""
    out = results
    if design.items is not None:
        parts = []
        for _, frame in out.groupby("benchmark", sort=False):
            ids = frame["item"].unique()
            chosen = rng.choice(ids, size=min(design.items, ids.size), replace=False)
            parts.append(frame[frame["item"].isin(chosen)])
        out = pd.concat(parts, ignore_index=True)
    if design.trials is not None:
        out = out.copy()
        thinned = ~out["model"].isin(keep_whole) & out["trials"].notna() & (out["trials"] > design.trials)
        total = out.loc[thinned, "trials"].to_numpy(int)
        good = out.loc[thinned, "correct"].to_numpy(int)
        out.loc[thinned, "correct"] = rng.hypergeometric(good, total - good, design.trials).astype(float)
        out.loc[thinned, "trials"] = float(design.trials)
        if "pass_rate" in out:  # derived from the counts on validation: derive it again
            out.loc[thinned, "pass_rate"] = out.loc[thinned, "correct"] / out.loc[thinned, "trials"]
    return out


def design_table(
    case: BacktestCase,
    *,
    methods: Sequence[str] = ("cod", "auto"),
    models: Sequence[int] = (4, 6),
    items: Sequence[int] = (250, 500),
    trials: Sequence[int] = (10, 30),
    seeds: int = 3,
) -> pd.DataFrame:
    """Mean absolute error (points) of each method per design, over the case's benchmarks and targets."""
    full = case.ladder
    results = full.results
    ladder_names = sorted(case.ladder_models, key=lambda name: full.cards[name].compute or 0.0)
    full_items = int(results.groupby("benchmark")["item"].nunique().max())
    known = results["trials"].dropna()
    full_trials = int(known.max()) if len(known) else 0
    rows = []
    for design in designs(len(ladder_names), models, items, trials):
        repeats = 1 if design.items is None and design.trials is None else seeds
        errors: dict[str, list[float]] = {method: [] for method in methods}
        declined: dict[str, int] = {method: 0 for method in methods}
        for seed in range(repeats):
            rng = np.random.default_rng(seed)
            ladder = Ladder(
                thin(results, design, case.targets, rng),
                full.cards,
                checkpoint_window=full.checkpoint_window,
                chance=full.chance,
                benchmark_metrics=full.benchmark_metrics,
                name=full.name,
            )
            chosen = spaced(ladder_names, design.models)
            for method in methods:
                for target in case.targets:
                    answer = forecast(
                        ladder,
                        target=target,
                        method=method,
                        ladder_models=chosen,
                        anchors=case.anchors,
                        benchmarks=case.benchmarks,
                    )
                    for bench in answer.benchmarks.values():
                        if bench.forecast is None or bench.truth is None:
                            declined[method] += 1
                        else:
                            errors[method].append(100 * abs(bench.forecast - bench.truth))
        label = design.label(full_items, full_trials)
        row = {"ladder models": label[0], "items per benchmark": label[1], "samples per item": label[2]}
        for method in methods:
            row[f"{method} mean error"] = float(np.mean(errors[method])) if errors[method] else None
            row[f"{method} max error"] = float(np.max(errors[method])) if errors[method] else None
            row[f"{method} declined"] = declined[method]
        row["seeds"] = repeats
        rows.append(row)
    return pd.DataFrame(rows)


def render_design(table: pd.DataFrame, dataset: str, command: str) -> str:
    """The page section: what was varied, the command, and the table."""
    header = "| " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * len(table.columns)]
    for _, row in table.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append("-" if np.isnan(value) else f"{value:.2f}")
            else:
                cells.append("-" if value is None else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(
        [
            MARKER_START,
            f"## Ladder design: what a smaller ladder would have cost in accuracy ({dataset})",
            "",
            "Each row cuts a smaller ladder out of the measured data and forecasts the same target: fewer ladder "
            "models (evenly spaced over the same compute range), fewer items per benchmark (a random subset; the "
            "target is scored on the same subset), fewer samples per item (drawn without replacement from the "
            "stored ones). One factor varies at a time; subsampled rows average over the seeds shown. Errors are "
            "absolute, in points, over every benchmark of the dataset. Generated by:",
            "",
            f"    {command}",
            "",
            *lines,
            MARKER_END,
        ]
    )


def write_design_section(page: Path, section: str) -> None:
    """Put ``section`` into ``page`` between the markers, replacing an earlier one, else at the end."""
    text = page.read_text() if page.exists() else ""
    if SECTION.search(text):
        text = SECTION.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    write_atomic(page, text)


def keep_design_section(old_page: Path, new_text: str) -> str:
    """``new_text`` with the design section of ``old_page`` carried over (the backtest page is regenerated
    as a whole; the design table is made by its own, slower command)."""
    if not old_page.exists():
        return new_text
    found = SECTION.search(old_page.read_text())
    return new_text if found is None else new_text.rstrip("\n") + "\n\n" + found.group(0) + "\n"
