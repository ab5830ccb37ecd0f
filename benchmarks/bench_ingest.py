"""Ingest benchmark: 1,000,000 lm-eval sample records into a fresh store; reports wall time and peak memory.

Not a test. Writes lm-eval 0.4.13-shaped output (results file plus ``samples_*.jsonl`` per model, with full
``doc``, ``arguments``, ``resps`` and hashes) for a ladder of models, then times ``benchcast ingest`` on it in a
fresh process. Half of the records are 4-choice multiple choice, half come from a generation task with
``repeats: 4`` and two filters (take-first, re-scored per repeat, and maj@4).

Target on 2 cores: under 60 s and under 2 GB peak RSS for 1,000,000 records.

Usage::

    python benchmarks/bench_ingest.py [--records 1000000] [--models 10] [--workdir DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATE = "2026-01-02T03-04-05.123456"
REPEATS = 4
TARGET_SECONDS, TARGET_BYTES = 60.0, 2 * 2**30


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _config(task: str, kind: str) -> dict:
    if kind == "mc":
        return {
            "task": task,
            "output_type": "multiple_choice",
            "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}],
        }
    return {
        "task": task,
        "output_type": "generate_until",
        "repeats": REPEATS,
        "filter_list": [
            {"name": "take-first", "filter": [{"function": "take_first"}]},
            {"name": f"maj@{REPEATS}", "filter": [{"function": "majority_vote"}, {"function": "take_first"}]},
        ],
        "metric_list": [{"metric": "exact_match", "ignore_case": True}],
    }


def write_model(folder: Path, model: str, n_mc: int, n_gen: int, ability: float, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    results = {
        "results": {"mc": {}, "gen": {}},
        "configs": {"mc": _config("mc", "mc"), "gen": _config("gen", "gen")},
        "versions": {"mc": 1.0, "gen": 1.0},
        "config": {"model": "hf", "model_args": {"pretrained": model}},
        "lm_eval_version": "0.4.13",
        "model_name": model,
    }
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    with (folder / f"samples_mc_{DATE}.jsonl").open("w") as handle:
        for doc_id in range(n_mc):
            a, b = doc_id % 997, doc_id % 89
            question = f"What is {a} + {b}?"
            choices = [str(a + b + d) for d in (0, 1, -1, 10)]
            doc = {"id": doc_id, "question": question, "choices": choices, "label": 0}
            context = f"Question: {question}\nAnswer:"
            knows = rng.random() < ability
            logprobs = [-rng.random() * 3 for _ in choices]
            if knows:
                logprobs[0] = 0.0
            acc = float(max(range(4), key=logprobs.__getitem__) == 0)
            record = {
                "doc_id": doc_id,
                "doc": doc,
                "target": "0",
                "arguments": {f"gen_args_{i}": {"arg_0": context, "arg_1": f" {c}"} for i, c in enumerate(choices)},
                "resps": [[[repr(lp), "False"]] for lp in logprobs],
                "filtered_resps": [[repr(lp), "False"] for lp in logprobs],
                "filter": "none",
                "metrics": ["acc", "acc_norm"],
                "doc_hash": _sha(json.dumps(doc, indent=2)),
                "prompt_hash": _sha(context),
                "target_hash": _sha("0"),
                "acc": acc,
                "acc_norm": acc,
            }
            handle.write(json.dumps(record) + "\n")
    with (folder / f"samples_gen_{DATE}.jsonl").open("w") as handle:
        samples = []
        for doc_id in range(n_gen):
            answer = str(doc_id * 7 % 1000)
            samples.append((doc_id, answer, [answer if rng.random() < ability else "wrong" for _ in range(REPEATS)]))
        for name in ("take-first", f"maj@{REPEATS}"):
            for doc_id, answer, texts in samples:
                doc = {"id": doc_id, "question": f"What is {doc_id} times 7 mod 1000?", "answer": answer}
                chosen = texts[0] if name == "take-first" else max(set(texts), key=texts.count)
                context = f"Question: {doc['question']}\nAnswer:"
                record = {
                    "doc_id": doc_id,
                    "doc": doc,
                    "target": answer,
                    "arguments": {"gen_args_0": {"arg_0": context, "arg_1": {"until": ["\n"], "do_sample": True}}},
                    "resps": [texts],
                    "filtered_resps": [chosen],
                    "filter": name,
                    "metrics": ["exact_match"],
                    "doc_hash": _sha(json.dumps(doc, indent=2)),
                    "prompt_hash": _sha(context),
                    "target_hash": _sha(answer),
                    "exact_match": float(chosen == answer),
                }
                handle.write(json.dumps(record) + "\n")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="sample records (JSONL lines) in all")
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and store")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    out, store = workdir / "out", workdir / "runs.duckdb"
    if out.exists():
        shutil.rmtree(out)
    store.unlink(missing_ok=True)
    per_model = args.records // args.models
    n_mc, n_gen = per_model // 2, per_model // 4  # gen: two filter records per doc
    rng = random.Random(args.seed)
    started = time.perf_counter()
    for index in range(args.models):
        write_model(out / f"model-{index}", f"model-{index}", n_mc, n_gen, 0.2 + 0.6 * index / args.models, rng)
    lines = args.models * (n_mc + 2 * n_gen)
    size = sum(path.stat().st_size for path in out.rglob("*.jsonl"))
    print(f"generated {lines:,} sample records ({size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.1f} s")

    cli = "import sys; from benchcast.cli import main; sys.argv[0] = 'benchcast'; main()"
    command = [sys.executable, "-c", cli, "ingest", str(out), "--store", str(store), "--quiet"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree_peak = 0
    while process.poll() is None:  # the ingest and its parser workers together, sampled every 50 ms
        tree_peak = max(tree_peak, tree_rss(process.pid))
        time.sleep(0.05)
    _, stderr = process.communicate()
    done = subprocess.CompletedProcess(command, process.returncode, "", stderr)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    import duckdb

    with duckdb.connect(str(store), read_only=True) as connection:
        stored = connection.execute("SELECT count(*) FROM records").fetchall()[0][0]
    peak = max(peak, tree_peak)
    print(
        f"ingest: {wall:.1f} s wall, peak RSS {peak / 2**20:,.0f} MiB (all processes together); {stored:,} records "
        f"in the store ({store.stat().st_size / 2**20:,.0f} MiB)"
    )
    summary = {"sample_records": lines, "stored_records": stored, "wall_s": round(wall, 2)}
    print(json.dumps({**summary, "peak_rss_mib": round(peak / 2**20)}))
    ok = wall < TARGET_SECONDS and peak < TARGET_BYTES
    print(f"target (< {TARGET_SECONDS:.0f} s, < {TARGET_BYTES / 2**30:.0f} GiB): {'met' if ok else 'MISSED'}")
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
