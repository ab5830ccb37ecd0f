"""The COD-regime task world: a synthetic knowledge base whose facts are seen with Zipf frequencies.

Why this world: COD assumes that every item's pass rate rises smoothly with compute and that items differ in
*when* and *how fast* they rise. Memorised facts behave that way: a model learns the facts it has seen often
enough for its capacity, so a bigger model trained on more tokens recalls rarer facts, item by item, with no
single mechanism that switches on at once (the reference ladder's copy/reverse tasks did exactly that).

* ``ENTITIES`` entities, each a distinct 4-letter name, ranked by popularity; entity ``r`` (1-based) appears in
  the training stream with probability proportional to ``1 / r`` (Zipf, exponent ``ZIPF``).
* Three attributes per entity, of growing information content, one benchmark each:
  ``k`` a class in ``0-3`` (chance 1/4: ``qkzt:k=`` -> ``2``), ``c`` a two-letter code (``qkzt:c=`` -> ``xy``) and
  ``f`` a friend, another entity's name (``qkzt:f=`` -> ``bmwa``).
* Graded addition (both operands of n = 1-5 digits, ``ARITH_SHARE`` of the training lines) is mixed in: it is
  learned by mechanism, not by frequency, so its items do not rise like the facts and some of the mixed
  benchmark's clusters should not extrapolate.

The items of each fact benchmark are ``FACT_ITEMS`` distinct entities drawn without replacement with the
training stream's own weights (``1 / r``) from the ranks past the ``SKIP_TOP`` most popular ones: a benchmark
samples the same distribution as the pretraining data, and its difficulty spreads over about three decades of
popularity. Every line is ``<prompt><answer>\\n`` over ``tasks.ALPHABET``, so the reference ladder's tokenizer,
model, training loss (answer characters only) and sampler serve this world unchanged.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import cache
from itertools import accumulate
from pathlib import Path

from tasks import LETTERS, packed_batches

ENTITIES = 50_000
NAME_LENGTH = 4
NAME_ALPHABET = LETTERS
ZIPF = 1.0
ATTRIBUTES = {"class": "k", "code": "c", "friend": "f"}
"""Benchmark name -> attribute letter in the prompt."""
ARITH_SHARE = 0.1
ARITH_DIGITS = (1, 2, 3, 4, 5)
FACT_ITEMS = 1200
ARITH_ITEMS = 400
SKIP_TOP = 10
MAX_ANSWER = 6
"""Longest answer (a sum of two 5-digit numbers); generations stop at the newline or after MAX_ANSWER + 1."""
WORLD_SEED = 2026
ITEM_SEED = 7
BENCHMARKS = (*ATTRIBUTES, "arith")


@cache
def world(seed: int = WORLD_SEED) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The entities' names by rank (index 0 = rank 1) and each attribute's value per entity."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < ENTITIES:
        name = "".join(rng.choice(NAME_ALPHABET) for _ in range(NAME_LENGTH))
        if name not in seen:
            seen.add(name)
            names.append(name)
    values = {
        "class": tuple(str(rng.randrange(4)) for _ in names),
        "code": tuple(rng.choice(LETTERS) + rng.choice(LETTERS) for _ in names),
        "friend": tuple(names[(i + 1 + rng.randrange(ENTITIES - 1)) % ENTITIES] for i in range(ENTITIES)),
    }
    return tuple(names), values


@cache
def _zipf_cumulative() -> list[float]:
    return list(accumulate(1.0 / (rank**ZIPF) for rank in range(1, ENTITIES + 1)))


def fact(benchmark: str, index: int) -> tuple[str, str]:
    """Prompt and answer of entity ``index``'s attribute for ``benchmark``."""
    names, values = world()
    return f"{names[index]}:{ATTRIBUTES[benchmark]}=", values[benchmark][index]


def arith_problem(rng: random.Random) -> tuple[str, str, int]:
    n = rng.choice(ARITH_DIGITS)
    low = 10 ** (n - 1) if n > 1 else 0
    a, b = rng.randint(low, 10**n - 1), rng.randint(low, 10**n - 1)
    return f"{a}+{b}=", str(a + b), n


def items(seed: int = ITEM_SEED) -> dict[str, list[dict[str, str]]]:
    """Every benchmark's items, ``{"id", "prompt", "answer", "level"}``; a fact item's level is its entity's
    popularity rank, an addition's its number of digits."""
    out: dict[str, list[dict[str, str]]] = {}
    for k, benchmark in enumerate(ATTRIBUTES):
        rng = random.Random(seed * 100 + k)
        pool = list(range(SKIP_TOP, ENTITIES))
        weights = [1.0 / ((index + 1) ** ZIPF) for index in pool]
        chosen: list[int] = []
        taken: set[int] = set()
        while len(chosen) < FACT_ITEMS:  # weighted draws without replacement
            for index in rng.choices(pool, weights, k=FACT_ITEMS):
                if index not in taken and len(chosen) < FACT_ITEMS:
                    taken.add(index)
                    chosen.append(index)
        rows = []
        for index in chosen:
            prompt, answer = fact(benchmark, index)
            rows.append(
                {"id": f"{benchmark}-{len(rows):04d}", "prompt": prompt, "answer": answer, "level": str(index + 1)}
            )
        out[benchmark] = rows
    rng = random.Random(seed * 100 + len(ATTRIBUTES))
    seen: set[str] = set()
    rows = []
    while len(rows) < ARITH_ITEMS:
        prompt, answer, n = arith_problem(rng)
        if prompt not in seen:
            seen.add(prompt)
            rows.append({"id": f"arith-{len(rows):04d}", "prompt": prompt, "answer": answer, "level": f"{n}digit"})
    out["arith"] = rows
    return out


def write_items(folder: Path, seed: int = ITEM_SEED) -> dict[str, Path]:
    """One JSONL file per benchmark in ``folder``; returns the paths by benchmark."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in items(seed).items():
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        paths[name] = path
    return paths


def training_lines(seed: int) -> Iterator[str]:
    """An endless stream of training lines: a fact of a Zipf-drawn entity (attribute uniform), or, with
    probability ``ARITH_SHARE``, an addition."""
    rng = random.Random(seed)
    names, values = world()
    cumulative = _zipf_cumulative()
    attributes = list(ATTRIBUTES.items())
    population = range(ENTITIES)
    while True:
        if rng.random() < ARITH_SHARE:
            prompt, answer, _ = arith_problem(rng)
            yield prompt + answer + "\n"
            continue
        index = rng.choices(population, cum_weights=cumulative)[0]
        benchmark, letter = attributes[rng.randrange(len(attributes))]
        yield f"{names[index]}:{letter}={values[benchmark][index]}\n"


def training_batches(seed: int, batch_size: int, seq_len: int) -> Iterator[list[str]]:
    """Batches of this world's training stream, packed as the reference ladder's (``tasks.packed_batches``)."""
    return packed_batches(training_lines(seed), batch_size, seq_len)
