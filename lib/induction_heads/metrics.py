"""Losses and the in-context learning score."""

from __future__ import annotations

import torch

from .models import check_tokens, input_device


def loss_from_logits(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy ``[batch, T-1]``: entry ``t`` is the loss of predicting token ``t+1``.

    Computed as ``logsumexp(logits[t]) - logits[t, token t+1]`` (the same value as
    ``F.cross_entropy``, without copying the logits: about a third cheaper on a large vocabulary).
    """
    logits = logits[:, :-1]
    if logits.dtype not in (torch.float32, torch.float64):
        logits = logits.float()
    target = tokens[:, 1:].to(logits.device)
    return torch.logsumexp(logits, dim=-1) - logits.gather(-1, target[..., None]).squeeze(-1)


@torch.no_grad()
def per_token_loss(model, tokens: torch.Tensor) -> torch.Tensor:
    """Loss (nats) of predicting each next token, ``[batch, T-1]``, on the CPU.

    Column ``t`` is the loss on token ``t + 1`` given tokens ``0..t``. Runs inside any active
    ablation (see :func:`induction_heads.ablation.ablate_heads`).
    """
    tokens = check_tokens(model, tokens)
    if tokens.shape[1] < 2:
        raise ValueError("per-token loss needs sequences of at least 2 tokens")
    logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits
    return loss_from_logits(logits, tokens).cpu()


def default_icl_positions(n_tokens: int) -> tuple[int, int]:
    """Olsson et al. compare token 500 with token 50; keep that 10:1 ratio.

    For ``n_tokens`` tokens, ``late`` is the last token (``n_tokens - 1``) and ``early`` is
    ``max(1, round(late / 10))``.
    """
    late = n_tokens - 1
    return max(1, round(late / 10)), late


def icl_score(model, tokens: torch.Tensor, early: int | None = None, late: int | None = None) -> float:
    """In-context learning score: mean loss at token ``late`` minus mean loss at token ``early``.

    Positions are token indices (the loss *on* that token, predicted from the ones before it),
    as in Olsson et al. (2022), who use tokens 500 and 50. Negative means the model predicts
    later tokens better: it learns from its context. Defaults: see :func:`default_icl_positions`.
    """
    tokens = check_tokens(model, tokens)
    T = tokens.shape[1]
    if T < 3:
        raise ValueError(
            f"the in-context learning score needs sequences of at least 3 tokens (two positions with a loss), got {T}"
        )
    d_early, d_late = default_icl_positions(T)
    early = d_early if early is None else early
    late = d_late if late is None else late
    for name, value in (("early", early), ("late", late)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int token position, got {value!r}")
        if not 1 <= value < T:
            raise ValueError(f"{name}={value} must be a token position in 1..{T - 1} (the first token has no loss)")
    if early >= late:
        raise ValueError(f"early ({early}) must come before late ({late})")
    losses = per_token_loss(model, tokens)
    return float(losses[:, late - 1].mean() - losses[:, early - 1].mean())
