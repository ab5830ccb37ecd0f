"""Shared fixtures: small simulated ladders written to disk in benchcast's own formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchcast.simulate import SimulatedLadder, simulate_ladder


@pytest.fixture(scope="session")
def small_sim() -> SimulatedLadder:
    return simulate_ladder(n_items=400, n_models=6, trials=50, seed=3, flat_share=0.0, ceiling_gap=0.05)


@pytest.fixture()
def sim_files(tmp_path: Path, small_sim: SimulatedLadder) -> tuple[Path, Path]:
    """The small simulated ladder as results.csv + models.csv."""
    results = tmp_path / "results.csv"
    small_sim.results[["model", "benchmark", "item", "trials", "correct"]].to_csv(results, index=False)
    models = tmp_path / "models.csv"
    lines = ["model,compute,role"] + [f"{c.name},{c.compute!r},{c.role}" for c in small_sim.cards.values()]
    models.write_text("\n".join(lines) + "\n")
    return results, models
