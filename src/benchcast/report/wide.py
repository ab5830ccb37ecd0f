"""When an interval is too wide to tell a team anything, say why the benchmark cannot be forecast instead.

An 80% interval of 0-100 is calibrated and useless: it holds every truth. Tables and pages then print the reason
(``auto``'s own verdict where it gave one) in words, not the band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

USEFUL_WIDTH = 0.6
"""An 80% interval wider than this (60 points) is reported as "cannot be forecast", with the reason."""


def too_wide(interval: Sequence[float] | None) -> bool:
    """True for an interval that spans more than ``USEFUL_WIDTH`` of the scale."""
    return interval is not None and float(interval[1]) - float(interval[0]) > USEFUL_WIDTH


def why_not(details: Mapping[str, Any], interval: Sequence[float]) -> str:
    """Why the benchmark cannot be forecast from this ladder: the method's own verdict, else the band itself."""
    band = f"its 80% interval spans {100 * float(interval[0]):.0f}-{100 * float(interval[1]):.0f}"
    verdict = details.get("verdict")
    if isinstance(verdict, str) and verdict:
        return f"cannot be forecast from this ladder ({band}): {verdict}"
    return f"cannot be forecast from this ladder: {band}, the ladder does not pin the target's score down"
