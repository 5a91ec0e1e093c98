"""Head scores: prefix matching, previous token, copying; choosing heads.

Each detector is one small function with a named pattern (in the spirit of TransformerLens's
``head_detector.py``). The ``*_from_pattern`` functions work on an attention pattern you hand
them (``[..., n_heads, T, T]``, rows are queries, columns keys); the model-level functions run the
model once and reduce each layer's pattern as soon as it is computed, so a scan never holds every
layer's attention at once.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Iterable

import torch

from .models import check_tokens, eager_attention, get_adapter, input_device

# --------------------------------------------------------------------------------------
# Scores from a given attention pattern
# --------------------------------------------------------------------------------------


def _as_bhtt(pattern: torch.Tensor, tokens: torch.Tensor | None = None):
    if not isinstance(pattern, torch.Tensor):
        raise TypeError(f"pattern must be a tensor [..., T, T], got {type(pattern).__name__}")
    if pattern.dim() < 2 or pattern.shape[-1] != pattern.shape[-2]:
        raise ValueError(f"pattern must end with two equal dimensions [..., T, T], got {tuple(pattern.shape)}")
    squeeze_head = pattern.dim() == 2
    if pattern.dim() == 2:
        pattern = pattern[None, None]
    elif pattern.dim() == 3:
        pattern = pattern[None]
    elif pattern.dim() != 4:
        raise ValueError(f"pattern must be [T, T], [heads, T, T] or [batch, heads, T, T], got {tuple(pattern.shape)}")
    if tokens is not None:
        if tokens.dim() == 1:
            tokens = tokens[None]
        if tokens.shape[-1] != pattern.shape[-1] or tokens.shape[0] != pattern.shape[0]:
            raise ValueError(
                f"tokens {tuple(tokens.shape)} do not match the pattern {tuple(pattern.shape)} "
                "(need tokens [batch, T] for a pattern [batch, heads, T, T])"
            )
    return pattern.float(), tokens, squeeze_head


def prefix_matching_targets(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where a prefix-matching head should look.

    Returns ``(target, has_earlier)``: ``target[b, i, k]`` is True when token ``k - 1`` is an
    earlier occurrence of token ``i`` (``tokens[b, k-1] == tokens[b, i]`` with ``k - 1 < i``), i.e.
    ``k`` is the position right after an earlier occurrence; ``has_earlier[b, i]`` is True when
    token ``i`` occurred before position ``i``.
    """
    if tokens.dim() == 1:
        tokens = tokens[None]
    T = tokens.shape[-1]
    same = tokens[:, :, None] == tokens[:, None, :]  # [b, i, j]
    earlier = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril(-1)  # j < i
    same = same & earlier
    target = torch.zeros_like(same)
    target[:, :, 1:] = same[:, :, :-1]  # k = j + 1
    return target, same.any(-1)


def prefix_matching_score_from_pattern(pattern: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Prefix-matching score of each head from its attention pattern.

    For each query position ``i`` whose token occurred earlier, the total attention it pays to
    the positions right after the earlier occurrences; averaged over those queries (pooled over
    the batch). In [0, 1]. ``pattern``: ``[batch, heads, T, T]`` (or ``[heads, T, T]``/``[T, T]``
    for one sequence); ``tokens``: ``[batch, T]``. Returns ``[heads]`` (a 0-d tensor for a
    ``[T, T]`` pattern).
    """
    pattern, tokens, squeeze = _as_bhtt(pattern, tokens)
    target, has_earlier = prefix_matching_targets(tokens.to(pattern.device))
    n = int(has_earlier.sum())
    if n == 0:
        raise ValueError("no token repeats in these sequences: the prefix-matching score is undefined")
    score = torch.einsum("bhik,bik->h", pattern, target.to(pattern.dtype)) / n
    return score[0] if squeeze else score


def previous_token_score_from_pattern(pattern: torch.Tensor) -> torch.Tensor:
    """Mean attention from position ``i`` to ``i - 1`` (over ``i >= 1`` and the batch), per head."""
    pattern, _, squeeze = _as_bhtt(pattern)
    if pattern.shape[-1] < 2:
        raise ValueError("the previous-token score needs sequences of at least 2 tokens")
    score = pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(0, 2))
    return score[0] if squeeze else score


# --------------------------------------------------------------------------------------
# Running the model and reducing attention layer by layer
# --------------------------------------------------------------------------------------


class _StopForward(Exception):
    """Raised by a hook once every layer we need has been seen."""


def _find_weights(output, batch: int, n_heads: int):
    if isinstance(output, tuple):
        for item in output[1:]:
            if isinstance(item, torch.Tensor) and item.dim() == 4 and item.shape[1] == n_heads:
                return item
    return None


def check_layers(adapter, layers) -> list[int]:
    if layers is None:
        return list(range(adapter.n_layers))
    if isinstance(layers, int):
        layers = [layers]
    out = []
    for layer in layers:
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise TypeError(f"layers must be ints, got {layer!r}")
        if not 0 <= layer < adapter.n_layers:
            raise ValueError(f"layer {layer} is outside the model, which has layers 0..{adapter.n_layers - 1}")
        out.append(layer)
    return sorted(set(out))


@torch.no_grad()
def scan_attention(model, tokens: torch.Tensor, reduce: Callable[[int, torch.Tensor], object], layers=None) -> dict:
    """Run ``model`` on ``tokens`` and call ``reduce(layer, pattern)`` as each layer's attention is made.

    ``pattern`` is ``[batch, n_heads, T, T]`` (queries x keys). Returns ``{layer: reduce(...)}``.
    The pattern is dropped from the model's outputs right away, the unembedding is never run,
    and the forward pass stops after the last requested layer. Attention is switched to the
    eager implementation for the call and restored afterwards.
    """
    adapter = get_adapter(model)
    tokens = check_tokens(model, tokens)
    wanted = check_layers(adapter, layers)
    results: dict = {}
    handles = []

    def make_hook(layer):
        def hook(module, args, output):
            weights = _find_weights(output, tokens.shape[0], adapter.n_heads)
            if weights is None:
                raise RuntimeError(
                    f"layer {layer}'s attention module returned no attention weights; "
                    "is the model running eager attention?"
                )
            results[layer] = reduce(layer, weights.detach())
            if layer == wanted[-1]:
                raise _StopForward
            return (output[0], None) + tuple(output[2:])

        return hook

    try:
        for layer in wanted:
            handles.append(adapter.attn(layer).register_forward_hook(make_hook(layer)))
        with eager_attention(model):
            try:
                model.base_model(input_ids=tokens.to(input_device(model)), use_cache=False)
            except _StopForward:
                pass
    finally:
        for handle in handles:
            handle.remove()
    return results


def attention_patterns(model, tokens: torch.Tensor, layers=None) -> torch.Tensor:
    """Attention patterns ``[n_selected_layers, batch, n_heads, T, T]`` (on the CPU, float32)."""
    adapter = get_adapter(model)
    wanted = check_layers(adapter, layers)
    got = scan_attention(model, tokens, lambda l, w: w.float().cpu(), layers=wanted)
    return torch.stack([got[l] for l in wanted])


def token_strings(tokenizer, ids) -> list[str]:
    """Readable strings for token ids (decoded one by one, so GPT-2's 'Ġ' shows as a space)."""
    return [tokenizer.decode([int(i)]) for i in ids]


def encode_text(tokenizer, text: str) -> torch.Tensor:
    """Token ids ``[1, T]`` of ``text``, starting with BOS (prepended if the tokenizer does not)."""
    from .probes import bos_id

    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    ids = tokenizer(text, add_special_tokens=True)["input_ids"]
    try:
        bos = bos_id(tokenizer)
    except ValueError:
        bos = None
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos] + list(ids)
    return torch.tensor([ids], dtype=torch.long)


def text_attention(model, tokenizer, text: str, layers=None) -> tuple[list[str], torch.Tensor]:
    """Token strings of ``text`` and the attention ``[n_layers, n_heads, T, T]`` for drawing."""
    ids = encode_text(tokenizer, text)
    patterns = attention_patterns(model, ids, layers=layers)[:, 0]
    return token_strings(tokenizer, ids[0]), patterns


def _scores_by_layer(model, tokens, per_layer) -> torch.Tensor:
    adapter = get_adapter(model)
    got = scan_attention(model, tokens, per_layer)
    return torch.stack([got[l].float().cpu() for l in range(adapter.n_layers)])


def prefix_matching_scores(model, tokens: torch.Tensor) -> torch.Tensor:
    """Prefix-matching score of every head, ``[n_layers, n_heads]``, in [0, 1].

    Use Olsson's probe (:func:`induction_heads.probes.repeated_tokens`). Definition: see
    :func:`prefix_matching_score_from_pattern`.
    """
    tokens = check_tokens(model, tokens)
    target, has_earlier = prefix_matching_targets(tokens)
    n = int(has_earlier.sum())
    if n == 0:
        raise ValueError("no token repeats in these sequences: the prefix-matching score is undefined")
    cache = {}

    def per_layer(layer, pattern):
        t = cache.get(pattern.device)
        if t is None:
            t = cache[pattern.device] = target.to(device=pattern.device, dtype=pattern.dtype)
        return torch.einsum("bhik,bik->h", pattern, t).float() / n

    return _scores_by_layer(model, tokens, per_layer)


def previous_token_scores(model, tokens: torch.Tensor) -> torch.Tensor:
    """Previous-token score of every head, ``[n_layers, n_heads]``: mean attention from i to i-1."""
    tokens = check_tokens(model, tokens)
    if tokens.shape[1] < 2:
        raise ValueError("the previous-token score needs sequences of at least 2 tokens")
    return _scores_by_layer(model, tokens, lambda l, p: previous_token_score_from_pattern(p))


# --------------------------------------------------------------------------------------
# Copying scores (weights only)
# --------------------------------------------------------------------------------------


def _norm_weight(norm, d_model: int, device, dtype) -> torch.Tensor:
    weight = getattr(norm, "weight", None) if norm is not None else None
    if weight is None:
        return torch.ones(d_model, device=device, dtype=dtype)
    return weight.detach().to(device=device, dtype=dtype)


def _is_centering(norm) -> bool:
    """LayerNorm subtracts the mean (RMSNorm does not)."""
    return isinstance(norm, torch.nn.LayerNorm)


@torch.no_grad()
def ov_circuit_eigenvalues(model, layer: int, head: int) -> torch.Tensor:
    """Complex eigenvalues of head ``layer.head``'s OV circuit ``W_E W_V W_O W_U`` (row convention).

    The vocab x vocab matrix has the same non-zero eigenvalues as the small
    ``d_head x d_head`` product ``W_O W_U W_E W_V`` (cyclic permutation), which is what is
    computed. The weights of the norm before attention and of the final norm are folded into
    ``W_V`` and ``W_U``; their centering and scaling are ignored (Elhage et al. 2021).
    """
    adapter = get_adapter(model)
    layer, head = adapter.check_head((layer, head))
    return _ov_eigs(adapter, [(layer, head)])[(layer, head)]


def _ov_eigs(adapter, heads) -> dict:
    W_U = adapter.W_U.detach()
    device = W_U.device
    W_U = W_U.double() * _norm_weight(adapter.final_norm, adapter.d_model, device, torch.float64)[:, None]
    W_E = adapter.W_E.detach().to(device=device, dtype=torch.float64)
    G = W_U @ W_E  # [d, d]: unembed then re-embed
    out = {}
    for layer, head in heads:
        gamma = _norm_weight(adapter.attn_norm(layer), adapter.d_model, device, torch.float64)
        W_V = adapter.W_V(layer, head).detach().to(device=device, dtype=torch.float64) * gamma[:, None]
        W_O = adapter.W_O(layer, head).detach().to(device=device, dtype=torch.float64)
        small = W_O @ G @ W_V  # [d_head, d_head]
        out[(layer, head)] = torch.linalg.eigvals(small).cpu()
    return out


@torch.no_grad()
def copying_scores(model, method: str = "eigen", *, n_tokens: int | None = 1000, seed: int = 0, tokenizer=None) -> torch.Tensor:
    """Copying score of every head, ``[n_layers, n_heads]``, from the weights alone.

    ``method="eigen"`` (Elhage et al. 2021): ``sum(λ) / sum(|λ|)`` over the eigenvalues of the
    head's OV circuit ``W_U W_O W_V W_E`` (see :func:`ov_circuit_eigenvalues`). In [-1, 1];
    positive means the head copies on average: attending to a token raises that token's logit.

    ``method="logit"`` (after Olsson et al. 2022): put token ``t``'s embedding (through the
    layer's norm) as the attended value, take the head's *direct* effect on the logits
    (``W_O``, then the final norm's centering and weight, then ``W_U``), and ask how ``t``'s
    logit ranks against the other tokens': the fraction of the other tokens whose logit the head
    raises less than ``t``'s. Averaged over ``n_tokens`` random tokens (all if ``None`` or if the
    vocabulary is smaller). In [0, 1]; 0.5 is chance, 1 means the attended token always wins.
    """
    adapter = get_adapter(model)
    if n_tokens is not None and (isinstance(n_tokens, bool) or not isinstance(n_tokens, int)):
        raise TypeError(f"n_tokens must be an int or None, got {n_tokens!r}")
    if n_tokens is not None and n_tokens < 1:
        raise ValueError(f"n_tokens must be at least 1 (or None for every token), got {n_tokens}")
    if method == "eigen":
        eigs = _ov_eigs(adapter, adapter.heads())
        scores = torch.zeros(adapter.n_layers, adapter.n_heads)
        for (layer, head), lam in eigs.items():
            denom = lam.abs().sum()
            scores[layer, head] = float(lam.sum().real / denom) if denom > 0 else 0.0
        return scores
    if method == "logit":
        return _logit_copying(adapter, n_tokens, seed, tokenizer)
    raise ValueError(f"method must be 'eigen' or 'logit', got {method!r}")


def _logit_copying(adapter, n_tokens, seed, tokenizer) -> torch.Tensor:
    W_U = adapter.W_U.detach()
    device = W_U.device
    dtype = torch.float32
    W_U = W_U.to(dtype) * _norm_weight(adapter.final_norm, adapter.d_model, device, dtype)[:, None]
    W_E = adapter.W_E.detach()
    vocab = W_E.shape[0]
    if tokenizer is not None:
        from .probes import ordinary_token_ids

        pool = torch.tensor([i for i in ordinary_token_ids(tokenizer) if i < vocab])
    else:
        pool = torch.arange(vocab)
    if n_tokens is not None and n_tokens < len(pool):
        generator = torch.Generator().manual_seed(seed)
        pool = pool[torch.randperm(len(pool), generator=generator)[:n_tokens]]
    centering = _is_centering(adapter.final_norm)
    scores = torch.zeros(adapter.n_layers, adapter.n_heads)
    for layer in range(adapter.n_layers):
        norm = adapter.attn_norm(layer)
        emb = W_E[pool.to(W_E.device)]
        x = norm(emb) if norm is not None else emb
        for head in range(adapter.n_heads):
            W_V = adapter.W_V(layer, head)
            W_O = adapter.W_O(layer, head)
            out = (x.to(W_V.device, W_V.dtype) @ W_V) @ W_O.to(W_V.device)
            out = out.to(device=device, dtype=dtype)
            if centering:
                out = out - out.mean(-1, keepdim=True)
            logits = out @ W_U  # [n, vocab]
            own = logits.gather(1, pool.to(device)[:, None])
            below = (logits < own).sum(1).float()
            scores[layer, head] = float((below / (logits.shape[1] - 1)).mean())
    return scores


# --------------------------------------------------------------------------------------
# Choosing heads
# --------------------------------------------------------------------------------------


def top_heads(
    scores: torch.Tensor, fraction: float | None = None, k: int | None = None, *, threshold: float | None = None
) -> list[tuple[int, int]]:
    """The highest-scoring heads, best first, as ``(layer, head)`` pairs.

    Give exactly one of ``k`` (a count), ``fraction`` of all heads (Crosbie & Shutova use
    the top 1% and 3%), or ``threshold`` (every head scoring above it, possibly none); a
    fraction selects ``fraction * n_heads_total`` heads rounded to the nearest count (halves
    up), and always at least one. Ties keep index order.
    """
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2:
        raise ValueError("scores must be a [n_layers, n_heads] tensor")
    if scores.is_floating_point() and bool(torch.isnan(scores).any()):
        raise ValueError("scores contain NaN: heads cannot be ranked")
    total = scores.numel()
    if sum(x is not None for x in (fraction, k, threshold)) != 1:
        raise ValueError("give exactly one of fraction=, k= or threshold=")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or math.isnan(threshold):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        k = int((scores.flatten().float() > threshold).sum())
        if k == 0:
            return []
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
            raise TypeError(f"fraction must be a number in (0, 1], got {fraction!r}")
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        # round half up (Python's round() sends 2.5 to 2); the epsilon absorbs float error
        k = max(1, math.floor(fraction * total + 0.5 + 1e-9))
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= total:
        raise ValueError(f"k must be an int between 1 and {total}, got {k!r}")
    flat = scores.flatten().float()
    order = sorted(range(total), key=lambda i: (-float(flat[i]), i))[:k]
    n_heads = scores.shape[1]
    return [(i // n_heads, i % n_heads) for i in order]


def random_heads_like(heads: Iterable, model, seed: int = 0, *, same_layers: bool = True,
                      exclude: Iterable = ()) -> list[tuple[int, int]]:
    """Random control heads, none of them in ``heads`` nor in ``exclude``.

    By default as many heads in each layer as ``heads`` has (the fairest control: heads of
    different layers play different roles). ``same_layers=False`` draws the same total count
    from every allowed head, whatever the layer: the control a small model needs when the
    chosen heads fill most of a layer (three induction heads of four in ``toy-2l``'s layer 1).
    ``exclude`` keeps other heads out of the control too (e.g. the previous-token head, which
    is part of the induction circuit).
    """
    adapter = get_adapter(model)
    chosen = list(dict.fromkeys(adapter.check_heads(heads)))  # a head listed twice counts once
    banned = set(chosen) | set(adapter.check_heads(exclude))
    if not same_layers:
        others = [h for h in adapter.heads() if h not in banned]
        if len(others) < len(chosen):
            raise ValueError(f"the model has only {len(others)} heads outside the chosen and excluded ones; "
                             f"cannot draw {len(chosen)} random control heads")
        return sorted(random.Random(seed).sample(others, len(chosen)))
    per_layer: dict[int, int] = {}
    for layer, _ in chosen:
        per_layer[layer] = per_layer.get(layer, 0) + 1
    rng = random.Random(seed)
    out = []
    for layer in sorted(per_layer):
        others = [h for h in range(adapter.n_heads) if (layer, h) not in banned]
        if len(others) < per_layer[layer]:
            raise ValueError(
                f"layer {layer} has only {len(others)} heads outside the chosen ones; cannot draw "
                f"{per_layer[layer]} random control heads there"
            )
        out += [(layer, h) for h in sorted(rng.sample(others, per_layer[layer]))]
    return out


def head_name(head) -> str:
    """``(5, 1) -> "5.1"``."""
    return f"{int(head[0])}.{int(head[1])}"
