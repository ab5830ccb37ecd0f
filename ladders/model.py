"""The model family: GPT-2-style decoder-only transformers over a character-level tokenizer built locally.

One recipe for every size: three GPT-2 blocks (pre-LayerNorm, GELU MLP of 4x width, learned positions, tied
embeddings, no dropout), heads of about 8 dimensions, a 64-character context. Sizes differ only in width.
Nothing is downloaded: the tokenizer is a fixed 41-character vocabulary (``tasks.ALPHABET``) plus an
end-of-text token.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tasks import ALPHABET
from tokenizers import Tokenizer, decoders, models
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

SEQ_LEN = 64
EOT = "<|endoftext|>"


@dataclass(frozen=True)
class Size:
    name: str
    n_layer: int
    n_embd: int

    @property
    def n_head(self) -> int:
        """About 8 dimensions per head (a divisor of the width)."""
        heads = max(1, round(self.n_embd / 8))
        while self.n_embd % heads:
            heads -= 1
        return heads


# The ladder (8 sizes) and the target: three layers each, only the width grows. The target has ~4.7x the
# parameters of the largest rung, so ~22x its compute at the fixed tokens-per-parameter ratio.
LADDER = tuple(Size(f"refl-{i + 1:02d}", 3, width) for i, width in enumerate((10, 12, 16, 20, 24, 28, 32, 36)))
TARGET = Size("refl-target", 3, 80)
ALL_SIZES = (*LADDER, TARGET)

# The COD-regime ladder (``world.py``): the same widths and recipe under other names, so that its compute span
# (2 decades) and target distance (~22x) are those of the reference ladder.
COD_LADDER = tuple(Size(f"codl-{i + 1:02d}", 3, size.n_embd) for i, size in enumerate(LADDER))
COD_TARGET = Size("codl-target", 3, TARGET.n_embd)
COD_SIZES = (*COD_LADDER, COD_TARGET)


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Character-level tokenizer: token id = position in ``ALPHABET``; ``<|endoftext|>`` last."""
    vocab = {char: i for i, char in enumerate(ALPHABET)}
    vocab[EOT] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=None))
    tok.decoder = decoders.Fuse()
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOT, bos_token=EOT, pad_token=EOT)
    hf.model_max_length = SEQ_LEN
    return hf


def build_model(size: Size, seed: int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(ALPHABET) + 1,
        n_positions=SEQ_LEN,
        n_embd=size.n_embd,
        n_layer=size.n_layer,
        n_head=size.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=len(ALPHABET),
        eos_token_id=len(ALPHABET),
        tie_word_embeddings=True,
    )
    return GPT2LMHeadModel(config)


def n_params(size: Size) -> int:
    """Total parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in build_model(size, 0).parameters())


def encode(texts: list[str]) -> torch.Tensor:
    """Encode equal-length strings as a (batch, length) tensor of token ids."""
    index = {char: i for i, char in enumerate(ALPHABET)}
    return torch.tensor([[index[c] for c in text] for text in texts], dtype=torch.long)


def model_seed(size: Size) -> int:
    """The initialisation seed of each size: its position in its ladder (``ALL_SIZES`` or ``COD_SIZES``), plus one."""
    sizes = COD_SIZES if size in COD_SIZES else ALL_SIZES
    return sizes.index(size) + 1
