"""The task mixture: four families of generated problems, each split into an easy and a hard difficulty family.

Every problem is one line ``<prompt><answer>\\n`` over a 41-character alphabet. The families, each with a
difficulty knob (uniform over its levels, in training and in the items):

* ``copy`` -- ``c:<letters>=`` -> the same letters; length 1-8 (short: 1-4, long: 5-8).
* ``rev`` -- ``r:<letters>=`` -> the letters reversed; length 1-7 (short: 1-3, long: 4-7).
* ``add`` -- ``<a>+<b>=`` -> the sum; both operands of n = 1-4 digits (short: 1-2, long: 3-4).
* ``mul`` -- ``<a>*<b>=`` -> the product; n = 1-3 digits times one digit (short: 1, long: 2-3).

The evaluation items (``items``: 600 distinct prompts per family) and the training stream (``training_lines``)
come from the same generators with different seeds, so the items are the training distribution (short problems
recur in training, long ones are rarely seen verbatim), as for a pretraining benchmark. Each family's items are
split by level into its two difficulty families (``difficulty_families``), one lm-eval task each.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

ALPHABET = "\n0123456789abcdefghijklmnopqrstuvwxyz+*:="
"""Every character a problem can hold; the character-level tokenizer's vocabulary (index = token id)."""
LETTERS = "abcdefghijklmnopqrstuvwxyz"
FAMILIES = ("copy", "rev", "add", "mul")
ITEMS_PER_FAMILY = 600
MAX_ANSWER = 12
"""Longest answer (copy of 12 letters); generations stop at the newline or after MAX_ANSWER + 1 characters."""


def _digits(rng: random.Random, n: int) -> int:
    return rng.randint(10 ** (n - 1) if n > 1 else 0, 10**n - 1)


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(n))


def copy_problem(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randint(1, 8)
    s = _letters(rng, n)
    return f"c:{s}=", s, f"len{n}"


def rev_problem(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randint(1, 7)
    s = _letters(rng, n)
    return f"r:{s}=", s[::-1], f"len{n}"


def add_problem(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randint(1, 4)
    a, b = _digits(rng, n), _digits(rng, n)
    return f"{a}+{b}=", str(a + b), f"{n}digit"


def mul_problem(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randint(1, 3)
    a, b = _digits(rng, n), _digits(rng, 1)
    return f"{a}*{b}=", str(a * b), f"{n}x1digit"


GENERATORS: dict[str, Callable[[random.Random], tuple[str, str, str]]] = {
    "copy": copy_problem,
    "rev": rev_problem,
    "add": add_problem,
    "mul": mul_problem,
}


def items(seed: int = 1234, per_family: int = ITEMS_PER_FAMILY) -> dict[str, list[dict[str, str]]]:
    """The evaluation items of every family: distinct prompts, ``{"id", "prompt", "answer", "level"}``."""
    out = {}
    for k, family in enumerate(FAMILIES):
        rng = random.Random(seed * 100 + k)
        seen: set[str] = set()
        rows: list[dict[str, str]] = []
        while len(rows) < per_family:
            prompt, answer, level = GENERATORS[family](rng)
            if prompt in seen:
                continue
            seen.add(prompt)
            rows.append({"id": f"{family}-{len(rows):04d}", "prompt": prompt, "answer": answer, "level": level})
        out[family] = rows
    return out


LONG_FROM = {"copy": 5, "rev": 4, "add": 3, "mul": 2}
"""The first level (length or digits) of each family's hard ("long") difficulty family."""
DIFFICULTY_FAMILIES = tuple(f"{family}_{name}" for family in FAMILIES for name in ("short", "long"))


def tier(family: str, level: str) -> str:
    number = int("".join(c for c in level.split("x")[0] if c.isdigit()))
    return "long" if number >= LONG_FROM[family] else "short"


def difficulty_families(seed: int = 1234, per_family: int = ITEMS_PER_FAMILY) -> dict[str, list[dict[str, str]]]:
    """The items by difficulty family (``copy_short``, ``copy_long``, ...), each in its family's item order."""
    out: dict[str, list[dict[str, str]]] = {}
    for family, rows in items(seed, per_family).items():
        for name in ("short", "long"):
            out[f"{family}_{name}"] = [row for row in rows if tier(family, row["level"]) == name]
    assert tuple(out) == DIFFICULTY_FAMILIES
    return out


def write_items(folder: Path, seed: int = 1234, per_family: int = ITEMS_PER_FAMILY) -> dict[str, Path]:
    """Write one JSONL file per difficulty family into ``folder``; returns the paths by difficulty family."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in difficulty_families(seed, per_family).items():
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        paths[name] = path
    return paths


def training_lines(seed: int) -> Iterator[str]:
    """An endless stream of training problems, families in equal shares, each ``prompt + answer + newline``."""
    rng = random.Random(seed)
    while True:
        family = FAMILIES[rng.randrange(len(FAMILIES))]
        prompt, answer, _ = GENERATORS[family](rng)
        yield prompt + answer + "\n"


def training_batches(seed: int, batch_size: int, seq_len: int) -> Iterator[list[str]]:
    """Batches of this mixture's training stream (``packed_batches``)."""
    return packed_batches(training_lines(seed), batch_size, seq_len)


def packed_batches(lines: Iterator[str], batch_size: int, seq_len: int) -> Iterator[list[str]]:
    """Batches of training sequences of exactly ``seq_len`` characters: ``lines`` packed from a line start, the
    last one cut at the sequence end (as a pretraining stream is cut into windows)."""
    while True:
        batch = []
        for _ in range(batch_size):
            text = ""
            while len(text) < seq_len:
                text += next(lines)
            batch.append(text[:seq_len])
        yield batch
