"""Fast exact sampling from a saved GPT-2 checkpoint: many samples per prompt, shared prefixes computed once.

``Sampler.sample(prompts, n, ...)`` draws ``n`` independent completions per prompt by ancestral sampling with
temperature and nucleus (top-p) filtering, exactly as Hugging Face ``generate(do_sample=True)`` would, but
organised for throughput on a CPU:

* The transformer runs on its own small KV-cached forward (the GPT-2 equations on the checkpoint's weights,
  checked against ``GPT2LMHeadModel`` in ``ladders/check.py``), not through ``generate``.
* Samples are grouped by prompt length (absolute positions start at 0 for every prompt, as in training).
* At each step every distinct prefix (prompt + tokens so far) is evaluated once and each live sample draws its
  next token from its prefix's distribution. Two samples that drew the same tokens so far share one row.
  This changes the cost, not the distribution: every sample is still an independent draw.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from tasks import ALPHABET
from transformers import GPT2LMHeadModel

NEWLINE = ALPHABET.index("\n")


class Sampler:
    def __init__(self, path: str | Path) -> None:
        model = GPT2LMHeadModel.from_pretrained(str(path), dtype=torch.float32)
        model.eval()
        self.config = model.config
        self.n_head = model.config.n_head
        self.eps = model.config.layer_norm_epsilon
        t = model.transformer
        self.wte = t.wte.weight.detach()
        self.wpe = t.wpe.weight.detach()
        self.blocks = [
            {
                "ln1": (b.ln_1.weight.detach(), b.ln_1.bias.detach()),
                "qkv": (b.attn.c_attn.weight.detach(), b.attn.c_attn.bias.detach()),
                "proj": (b.attn.c_proj.weight.detach(), b.attn.c_proj.bias.detach()),
                "ln2": (b.ln_2.weight.detach(), b.ln_2.bias.detach()),
                "fc": (b.mlp.c_fc.weight.detach(), b.mlp.c_fc.bias.detach()),
                "out": (b.mlp.c_proj.weight.detach(), b.mlp.c_proj.bias.detach()),
            }
            for b in t.h
        ]
        self.lnf = (t.ln_f.weight.detach(), t.ln_f.bias.detach())
        self.index = {char: i for i, char in enumerate(ALPHABET)}

    # ------------------------------------------------------------------ the forward pass
    def _ln(self, x: torch.Tensor, wb: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), wb[0], wb[1], self.eps)

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, start: int, cache: list[tuple[torch.Tensor, torch.Tensor]] | None):
        """Logits of the last position for ``ids`` (rows x new tokens) placed at positions ``start...``, given
        the rows' cached keys/values (one (k, v) per layer, rows x heads x past x head size). Returns the
        logits and the extended cache."""
        rows, length = ids.shape
        x = self.wte[ids] + self.wpe[start : start + length]
        d = x.shape[-1]
        h, hd = self.n_head, d // self.n_head
        new_cache = []
        for layer, block in enumerate(self.blocks):
            a = self._ln(x, block["ln1"])
            qkv = torch.addmm(block["qkv"][1], a.reshape(-1, d), block["qkv"][0]).view(rows, length, 3, h, hd)
            q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
            if cache is not None:
                k = torch.cat([cache[layer][0], k], dim=2)
                v = torch.cat([cache[layer][1], v], dim=2)
            new_cache.append((k, v))
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=cache is None and length > 1)
            att = att.transpose(1, 2).reshape(-1, d)
            x = x + torch.addmm(block["proj"][1], att, block["proj"][0]).view(rows, length, d)
            m = self._ln(x, block["ln2"]).reshape(-1, d)
            m = torch.nn.functional.gelu(torch.addmm(block["fc"][1], m, block["fc"][0]), approximate="tanh")
            x = x + torch.addmm(block["out"][1], m, block["out"][0]).view(rows, length, d)
        last = self._ln(x[:, -1], self.lnf)
        return last @ self.wte.T, new_cache

    # ------------------------------------------------------------------ sampling
    @staticmethod
    def _filter(logits: torch.Tensor, temperature: float, top_p: float) -> torch.Tensor:
        """Next-token probabilities after temperature and top-p, as transformers' warpers compute them."""
        if temperature != 1.0:
            logits = logits / temperature
        if top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=False)
            cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
            remove = cumulative <= (1 - top_p)
            remove[..., -1] = False
            logits = logits.masked_fill(remove.scatter(1, order, remove), -math.inf)
        return logits.softmax(dim=-1)

    @torch.no_grad()
    def sample(
        self,
        prompts: list[str],
        n: int,
        *,
        max_new: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int = 0,
        chunk: int = 256,
    ) -> list[list[str]]:
        """``n`` completions per prompt (each up to ``max_new`` characters, cut after a newline, the newline
        kept out), in prompt order."""
        generator = torch.Generator().manual_seed(seed)
        out: list[list[str]] = [[] for _ in prompts]
        by_length: dict[int, list[int]] = {}
        for i, prompt in enumerate(prompts):
            by_length.setdefault(len(prompt), []).append(i)
        for length in sorted(by_length):
            members = by_length[length]
            for lo in range(0, len(members), chunk):
                part = members[lo : lo + chunk]
                texts = self._sample_group([prompts[i] for i in part], n, max_new, temperature, top_p, generator)
                for i, completions in zip(part, texts, strict=True):
                    out[i] = completions
        return out

    def _sample_group(self, prompts, n, max_new, temperature, top_p, generator) -> list[list[str]]:
        length = len(prompts[0])
        ids = torch.tensor([[self.index[c] for c in p] for p in prompts], dtype=torch.long)
        logits, cache = self.forward(ids, 0, None)
        samples = len(prompts) * n
        node = torch.arange(len(prompts)).repeat_interleave(n)  # each live sample's prefix row
        sample_id = torch.arange(samples)
        tokens = torch.full((samples, max_new), -1, dtype=torch.long)
        for t in range(max_new):
            probs = self._filter(logits, temperature, top_p)
            drawn = torch.multinomial(probs[node], 1, generator=generator).squeeze(1)
            tokens[sample_id, t] = drawn
            live = (drawn != NEWLINE) & (drawn < len(ALPHABET))
            if t == max_new - 1 or not bool(live.any()):
                break
            node, drawn, sample_id = node[live], drawn[live], sample_id[live]
            key = node * (len(ALPHABET) + 1) + drawn
            unique, inverse = torch.unique(key, return_inverse=True)
            parent = unique // (len(ALPHABET) + 1)
            token = unique % (len(ALPHABET) + 1)
            cache = [(k.index_select(0, parent), v.index_select(0, parent)) for k, v in cache]
            logits, cache = self.forward(token.unsqueeze(1), length + t, cache)
            node = inverse
        texts: list[list[str]] = []
        rows = tokens.tolist()
        for p in range(len(prompts)):
            group = []
            for row in rows[p * n : (p + 1) * n]:
                chars = []
                for tok in row:
                    if tok < 0 or tok == NEWLINE or tok >= len(ALPHABET):
                        break
                    chars.append(ALPHABET[tok])
                group.append("".join(chars))
            texts.append(group)
        return texts
