"""Inputs that probe for induction: Olsson et al.'s repeated random tokens."""

from __future__ import annotations

import torch


def ordinary_token_ids(tokenizer) -> list[int]:
    """Ids of the tokenizer's ordinary tokens: every id that is not a special token."""
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    special |= {i for i, tok in added.items() if getattr(tok, "special", False)}
    size = len(tokenizer)
    return [i for i in range(size) if i not in special]


def bos_id(tokenizer) -> int:
    """The id that starts a sequence: BOS, else EOS (GPT-2 uses ``<|endoftext|>`` for both)."""
    for name in ("bos_token_id", "eos_token_id"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            return int(value)
    raise ValueError("the tokenizer has neither a BOS nor an EOS token to start the probe sequences")


def repeated_tokens(tokenizer, *, seq_len: int = 25, n_repeats: int = 4, batch: int = 10, seed: int = 0) -> torch.Tensor:
    """Olsson et al. (2022)'s probe for induction heads.

    Each row is BOS followed by ``seq_len`` *distinct* random ordinary (non-special) tokens,
    repeated ``n_repeats`` times: shape ``[batch, 1 + seq_len * n_repeats]`` (defaults: 10 rows of
    101 tokens). Deterministic for a ``seed``. In the 2nd and later copies every token has
    occurred before, so a model that copies from context predicts them well.
    """
    for name, value, low in (("seq_len", seq_len, 1), ("n_repeats", n_repeats, 1), ("batch", batch, 1)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    pool = torch.tensor(ordinary_token_ids(tokenizer), dtype=torch.long)
    if len(pool) < seq_len:
        raise ValueError(
            f"the tokenizer has only {len(pool)} ordinary (non-special) tokens, fewer than seq_len={seq_len} "
            "distinct tokens the probe needs"
        )
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(batch):
        segment = pool[torch.randperm(len(pool), generator=generator)[:seq_len]]
        rows.append(segment.repeat(n_repeats))
    body = torch.stack(rows)
    bos = torch.full((batch, 1), bos_id(tokenizer), dtype=torch.long)
    return torch.cat([bos, body], dim=1)
