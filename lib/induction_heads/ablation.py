"""Switching heads off: zero and mean ablation, attention knockout, and a per-head sweep.

Everything here works with forward hooks and never changes a weight: when a ``with`` block
ends (normally or by an exception) every hook is gone and the model computes bitwise the same
outputs as before. Ablations nest and compose.

**Ablation of a head** removes its contribution to the attention output. The attention module
concatenates the heads' outputs ``z = [z_0 | z_1 | ... ]`` (head ``h`` at columns
``h*d_head:(h+1)*d_head``) and applies the output projection ``W_O``. *Zero ablation* sets
``z_h = 0`` before ``W_O``: exactly the same as zeroing the head's slice of ``W_O`` (the
*columns* ``h*d_head:(h+1)*d_head`` of an ``nn.Linear`` weight, which is ``[out, in]``; the
*rows* of GPT-2's ``Conv1D`` weight, which is stored transposed). The projection's bias stays.
*Mean ablation* replaces ``z_h`` by its mean over a reference batch (over every sequence and
position), so the layer still sees a typical output of that head, without its information.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterable

import torch

from .models import check_tokens, eager_attention, get_adapter, input_device


def _group_by_layer(heads) -> dict[int, list[int]]:
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, [])
        if head not in by_layer[layer]:
            by_layer[layer].append(head)
    return by_layer


@torch.no_grad()
def head_output_means(model, reference: torch.Tensor, heads) -> dict[tuple[int, int], torch.Tensor]:
    """Mean of each head's output ``z_h`` (the input slice of ``W_O``) over a reference batch."""
    adapter = get_adapter(model)
    heads = adapter.check_heads(heads)
    reference = check_tokens(model, reference)
    by_layer = _group_by_layer(heads)
    means: dict = {}
    handles = []
    dh = adapter.d_head

    def make_hook(layer):
        def hook(module, args):
            z = args[0]
            for head in by_layer[layer]:
                means[(layer, head)] = z[..., head * dh:(head + 1) * dh].reshape(-1, dh).mean(0)

        return hook

    try:
        for layer in by_layer:
            handles.append(adapter.out_proj(layer).register_forward_pre_hook(make_hook(layer)))
        model.base_model(input_ids=reference.to(input_device(model)), use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    return means


def _check_method(method: str) -> None:
    if method not in ("zero", "mean"):
        raise ValueError(f"method must be 'zero' or 'mean', got {method!r}")


def _ablation_hook(adapter, layer: int, heads: list[int], method: str, means: dict | None):
    dh = adapter.d_head

    def hook(module, args):
        z = args[0].clone()
        for head in heads:
            if method == "zero":
                z[..., head * dh:(head + 1) * dh] = 0
            else:
                z[..., head * dh:(head + 1) * dh] = means[(layer, head)].to(z.device, z.dtype)
        return (z,) + tuple(args[1:])

    return hook


@contextlib.contextmanager
def ablate_heads(model, heads: Iterable, method: str = "zero", reference: torch.Tensor | None = None):
    """Context manager: inside the block, the given heads are ablated.

    ``heads``: an iterable of ``(layer, head)`` pairs. ``method="zero"`` removes each head's
    output (equal to zeroing its slice of ``W_O``); ``method="mean"`` replaces it by its mean
    over the ``reference`` token batch (required for mean ablation). The model's weights are
    never modified; on exit every hook is removed, also when the block raises::

        with ablate_heads(model, [(1, 0), (1, 3)]):
            loss = per_token_loss(model, tokens)
    """
    adapter = get_adapter(model)
    _check_method(method)
    heads = adapter.check_heads(heads)
    means = None
    if method == "mean":
        if reference is None:
            raise ValueError("mean ablation needs reference= tokens to average each head's output over")
        means = head_output_means(model, reference, heads)
    elif reference is not None:
        raise ValueError("reference= is only used by method='mean'")
    handles = []
    try:
        for layer, layer_heads in _group_by_layer(heads).items():
            handles.append(
                adapter.out_proj(layer).register_forward_pre_hook(
                    _ablation_hook(adapter, layer, layer_heads, method, means)
                )
            )
        yield model
    finally:
        for handle in handles:
            handle.remove()


def _position(value, edge) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, torch.Tensor) and value.dim() == 0 and not value.is_floating_point()
                                   and value.dtype != torch.bool)
    ):
        raise TypeError(f"edge positions must be ints, got {edge!r}")
    return int(value)


def _check_block(block):
    """Validate ``block`` once, when the context is entered: a bool mask, or a list of edges."""
    if isinstance(block, torch.Tensor):
        if block.dtype != torch.bool:
            raise TypeError(f"a block mask must be a bool tensor (True = blocked), got {block.dtype}")
        if block.dim() not in (2, 3) or block.shape[-1] != block.shape[-2]:
            raise ValueError(f"the block mask must be [T, T] or [batch, T, T], got {tuple(block.shape)}")
        if bool(block.triu(1).any()):
            q, k = (int(x) for x in block.triu(1).nonzero()[0, -2:])
            raise ValueError(f"the block mask blocks edge {q}->{k}, which points to a later position; causal attention never uses it")
        return block
    if isinstance(block, (str, bytes)) or not hasattr(block, "__iter__"):
        raise TypeError(f"block must be a bool mask [T, T] or an iterable of (query, key) pairs, got {block!r}")
    edges = []
    for edge in block:
        if isinstance(edge, (str, bytes)) or not hasattr(edge, "__len__") or len(edge) != 2:
            raise TypeError(f"each blocked edge must be a (query, key) pair of positions, got {edge!r}")
        q, k = _position(edge[0], edge), _position(edge[1], edge)
        if q < 0 or k < 0:
            raise ValueError(f"edge {q}->{k} has a negative position")
        if k > q:
            raise ValueError(f"edge {q}->{k} points to a later position, which causal attention never uses")
        edges.append((q, k))
    return edges


def _blocked_edges(block, T: int, device) -> torch.Tensor:
    """The checked ``block`` as a bool mask for a sequence of ``T`` tokens."""
    if isinstance(block, torch.Tensor):
        if block.shape[-1] != T:
            raise ValueError(f"the block mask must be [T, T] or [batch, T, T] with T={T}, got {tuple(block.shape)}")
        return block.to(device=device)
    mask = torch.zeros(T, T, dtype=torch.bool, device=device)
    for q, k in block:
        if q >= T:
            raise ValueError(f"edge {q}->{k} is outside a sequence of {T} tokens")
        mask[q, k] = True
    return mask


@contextlib.contextmanager
def attention_knockout(model, heads: Iterable, block):
    """Context manager: the given heads cannot attend along the blocked query->key edges.

    ``block`` is either a bool tensor ``[T, T]`` / ``[batch, T, T]`` (``True`` at ``[query, key]``
    = blocked) or an iterable of ``(query, key)`` position pairs. Blocked edges get a huge
    negative score before the softmax (half the dtype's minimum), so they get zero attention
    and the query's attention is redistributed over the keys it may still see; if every key a
    query can see is blocked, its attention becomes uniform over those keys (never over later
    positions, which keep the causal mask's lower value). Attention runs in the eager
    implementation inside the block; the original implementation is restored on exit.
    """
    adapter = get_adapter(model)
    heads = adapter.check_heads(heads)
    block = _check_block(block)
    by_layer = _group_by_layer(heads)
    handles = []

    def make_hook(layer):
        def hook(module, args, kwargs):
            hidden = kwargs.get("hidden_states", args[0] if args else None)
            B, T = hidden.shape[0], hidden.shape[1]
            blocked = _blocked_edges(block, T, hidden.device)
            if blocked.dim() == 3 and blocked.shape[0] != B:
                raise ValueError(f"the block mask has batch {blocked.shape[0]}, the input has batch {B}")
            base = kwargs.get("attention_mask")
            dtype = hidden.dtype
            low = torch.finfo(dtype).min
            if base is None:
                causal = torch.ones(T, T, dtype=torch.bool, device=hidden.device).tril()
                base = torch.where(causal, 0.0, low).to(dtype)[None, None]
            elif base.dtype == torch.bool:  # True = may attend
                base = torch.where(base, 0.0, low).to(dtype)
            S = base.shape[-1]
            if S != T:
                raise ValueError("attention knockout needs the full sequence (no cached keys)")
            mask = base.expand(B, adapter.n_heads, T, S).clone()
            edge = blocked if blocked.dim() == 3 else blocked[None].expand(B, T, T)
            for head in by_layer[layer]:
                mask[:, head][edge] = low / 2
            kwargs = dict(kwargs)
            kwargs["attention_mask"] = mask
            return args, kwargs

        return hook

    with eager_attention(model):
        try:
            for layer in by_layer:
                handles.append(adapter.attn(layer).register_forward_pre_hook(make_hook(layer), with_kwargs=True))
            yield model
        finally:
            for handle in handles:
                handle.remove()


def mean_loss_metric(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Default sweep metric: mean next-token cross-entropy (nats) over every position."""
    from .metrics import loss_from_logits

    return loss_from_logits(logits, tokens).mean()


@torch.no_grad()
def ablation_sweep(
    model,
    tokens: torch.Tensor,
    metric: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    *,
    method: str = "zero",
    reference: torch.Tensor | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """The effect of ablating each head alone: ``[n_layers, n_heads]`` of ``metric(ablated) - metric(clean)``.

    ``metric(logits, tokens) -> scalar`` defaults to the mean next-token loss, so a positive
    entry means the loss rose without that head. Ablating a head of layer ``l`` leaves layers
    below ``l`` untouched, so the clean run's input to each block is cached and each ablated
    run starts at its head's layer (same result as a full forward pass per head, less work).
    """
    from tqdm.auto import tqdm

    adapter = get_adapter(model)
    _check_method(method)
    tokens = check_tokens(model, tokens)
    if metric is None:
        if tokens.shape[1] < 2:
            raise ValueError("the default metric (next-token loss) needs sequences of at least 2 tokens")
        metric = mean_loss_metric
    elif not callable(metric):
        raise TypeError(f"metric must be callable as metric(logits, tokens) -> scalar, got {metric!r}")
    if method == "mean" and reference is None:
        raise ValueError("mean ablation needs reference= tokens to average each head's output over")
    if method == "zero" and reference is not None:
        raise ValueError("reference= is only used by method='mean'")
    means = head_output_means(model, reference, adapter.heads()) if method == "mean" else None

    # Clean run, keeping each block's inputs (args, kwargs).
    inputs: dict[int, tuple] = {}
    handles = []

    def make_capture(layer):
        def capture(module, args, kwargs):
            inputs[layer] = (args, kwargs)

        return capture

    try:
        for layer in range(adapter.n_layers):
            handles.append(adapter.layers[layer].register_forward_pre_hook(make_capture(layer), with_kwargs=True))
        ids = tokens.to(input_device(model))
        clean_logits = model(input_ids=ids, use_cache=False).logits
    finally:
        for handle in handles:
            handle.remove()
    tokens_out = tokens.to(clean_logits.device)
    clean = float(metric(clean_logits, tokens_out))
    del clean_logits

    effects = torch.zeros(adapter.n_layers, adapter.n_heads)
    bar = tqdm(total=adapter.n_layers * adapter.n_heads, desc="ablação por cabeça", disable=not progress)
    try:
        for layer in range(adapter.n_layers):
            for head in range(adapter.n_heads):
                out_proj = adapter.out_proj(layer)
                handle = out_proj.register_forward_pre_hook(_ablation_hook(adapter, layer, [head], method, means))
                try:
                    hidden = None
                    for m in range(layer, adapter.n_layers):
                        args, kwargs = inputs[m]
                        if hidden is not None:
                            if args:
                                args = (hidden.to(args[0].device),) + tuple(args[1:])
                            else:  # a block called with hidden_states=...
                                kwargs = {**kwargs, "hidden_states": hidden.to(kwargs["hidden_states"].device)}
                        out = adapter.layers[m](*args, **kwargs)
                        hidden = out[0] if isinstance(out, tuple) else out
                finally:
                    handle.remove()
                logits = adapter.unembed(hidden)
                effects[layer, head] = float(metric(logits, tokens.to(logits.device))) - clean
                bar.update(1)
    finally:
        bar.close()
    return effects
