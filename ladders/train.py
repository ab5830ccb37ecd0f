"""Train one model of the family and save its checkpoints in Hugging Face format.

The recipe is the same for every size: ``tokens = TOKENS_PER_PARAM x params`` training tokens at the
model's own (nominal) step (windows of 64 characters, 32 per batch, problems packed from a line start), the
loss on answer characters only (after ``=``, through the newline: the operands are random and cannot be
learned), AdamW (0.9, 0.98; weight decay 0.1 on matrices; gradient clipping at 1), a peak learning rate of
1e-2 * sqrt(16 / width), linear warm-up over 5% of the nominal steps then cosine decay to 10% at the nominal
step, held there for the extra steps. Checkpoints are written at the nominal step S and at
S - d and S + d (d = 5% of S), the two neighbours COD averages with the model's own checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from model import SEQ_LEN, Size, build_model, build_tokenizer, encode, n_params
from tasks import ALPHABET, training_batches

TOKENS_PER_PARAM = 140
BATCH_SIZE = 32
NEIGHBOUR_SHARE = 0.05
DATA_SEED = 0
"""Every model reads the same training stream, in the same order."""


def learning_rate(size: Size) -> float:
    """Peak learning rate: 1e-2 at width 16, falling as 1/sqrt(width)."""
    return 1e-2 * math.sqrt(16 / size.n_embd)


def answer_labels(ids: torch.Tensor) -> torch.Tensor:
    """``ids`` with every character that is not part of an answer (after ``=``, through the newline) set to
    -100, the label Hugging Face's loss ignores. Windows start at a line start."""
    events = torch.full_like(ids, -1)
    events[ids == ALPHABET.index("=")] = 1
    events[ids == ALPHABET.index("\n")] = 0
    position = torch.arange(ids.shape[1]).expand_as(ids)
    last = torch.where(events >= 0, position, -1).cummax(dim=1).values
    state = torch.where(last >= 0, events.gather(1, last.clamp(min=0)), 0)
    inside = torch.zeros_like(ids, dtype=torch.bool)
    inside[:, 1:] = state[:, :-1] == 1
    return torch.where(inside, ids, -100)


def plan(size: Size, tokens_per_param: float = TOKENS_PER_PARAM, batch_size: int = BATCH_SIZE) -> dict:
    """Steps, tokens and compute of one model under the recipe."""
    params = n_params(size)
    tokens_per_step = batch_size * SEQ_LEN
    step = max(20, round(tokens_per_param * params / tokens_per_step))
    delta = max(1, round(NEIGHBOUR_SHARE * step))
    tokens = step * tokens_per_step
    return {
        "model": size.name,
        "n_layer": size.n_layer,
        "n_embd": size.n_embd,
        "n_head": size.n_head,
        "params": params,
        "step": step,
        "steps": [step - delta, step, step + delta],
        "tokens": tokens,
        "compute": 6.0 * params * tokens,
        "batch_size": batch_size,
        "lr": learning_rate(size),
    }


def schedule(step: int, nominal: int, peak: float) -> float:
    warmup = max(1, nominal // 20)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, nominal - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(
    size: Size,
    out: Path,
    *,
    seed: int,
    tokens_per_param: float = TOKENS_PER_PARAM,
    log=print,
    batches: Callable[[int, int, int], Iterator[list[str]]] = training_batches,
) -> dict:
    """Train ``size`` and write ``out/<model>/step<k>/`` for the three checkpoints; return the plan with
    the final training loss. ``seed`` sets the initialisation; deterministic for a given seed and thread count.
    A model whose ``train.json`` exists is not trained again. ``batches(seed, batch_size, seq_len)`` is the
    training stream (the reference ladder's task mixture unless another world's is given)."""
    info = plan(size, tokens_per_param)
    folder = out / size.name
    done = folder / "train.json"
    lock = folder / "training.pid"
    while not done.exists() and lock.exists() and _alive(int(lock.read_text() or 0)):
        time.sleep(10)  # another process is training this model: wait for it
    if done.exists():
        previous = json.loads(done.read_text())
        changed = [key for key in ("params", "step", "steps", "tokens", "lr") if previous.get(key) != info[key]]
        if changed:
            raise SystemExit(f"{done} was trained with another recipe ({', '.join(changed)} differ): use a new --out")
        return previous
    folder.mkdir(parents=True, exist_ok=True)
    lock.write_text(str(os.getpid()))
    torch.manual_seed(seed)
    model = build_model(size, seed)
    tokenizer = build_tokenizer()
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
        lr=info["lr"],
        betas=(0.9, 0.98),
    )
    stream = batches(DATA_SEED, BATCH_SIZE, SEQ_LEN)
    last = info["steps"][-1]
    saves = set(info["steps"])
    start = time.time()
    losses = []
    for step in range(1, last + 1):
        for group in optimizer.param_groups:
            group["lr"] = schedule(step - 1, info["step"], info["lr"])
        ids = encode(next(stream))[:, :SEQ_LEN]
        loss = model(input_ids=ids, labels=answer_labels(ids)).loss  # the model shifts the labels itself
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 200 == 0 or step == last:
            log(
                f"{size.name} step {step}/{last} loss {sum(losses[-50:]) / len(losses[-50:]):.4f} "
                f"{time.time() - start:.0f}s"
            )
        if step in saves:
            path = folder / f"step{step}"
            model.save_pretrained(path)
            tokenizer.save_pretrained(path)
    info["loss"] = sum(losses[-50:]) / len(losses[-50:])
    info["train_seconds"] = time.time() - start
    done.write_text(json.dumps(info, indent=1))
    lock.unlink(missing_ok=True)
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0
