"""What a head writes, read as logits: direct logit attribution.

The seed writes ``P(w_i | w_<i) = f(InductionHead(w_<i))``. Concretely, a head adds a vector to the
residual stream at every position: ``z_h W_O^h`` (its output through its slice of the output
projection). Its *direct* effect on the prediction is that vector read by the unembedding,
through the final norm (linearised with the norm's scale from the actual forward pass, as usual
for direct logit attribution):

``direct_logits = (center(z_h W_O^h) / scale) * gamma_final @ W_U``

where ``center`` subtracts the mean for LayerNorm (not for RMSNorm) and ``scale`` is the final
norm's denominator at that position. Summed over every component (embeddings, every head, every
MLP, biases), these direct effects add up to the model's logits, up to the final norm's bias.
"""

from __future__ import annotations

import torch

from .models import check_tokens, get_adapter, input_device


@torch.no_grad()
def head_direct_logits(model, tokens: torch.Tensor, head) -> torch.Tensor:
    """Head ``(layer, head)``'s direct contribution to the logits, ``[batch, T, vocab]`` (CPU, float32).

    Entry ``[b, t]`` is how much the head pushes each vocabulary item's logit for the prediction
    made at position ``t`` (of token ``t + 1``).
    """
    adapter = get_adapter(model)
    layer, h = adapter.check_head(head)
    tokens = check_tokens(model, tokens)
    dh = adapter.d_head
    captured = {}

    def grab_z(module, args):
        captured["z"] = args[0][..., h * dh:(h + 1) * dh].detach()

    def grab_final(module, args):
        captured["resid"] = args[0].detach()

    handles = [adapter.out_proj(layer).register_forward_pre_hook(grab_z)]
    if adapter.final_norm is not None:
        handles.append(adapter.final_norm.register_forward_pre_hook(grab_final))
    try:
        model.base_model(input_ids=tokens.to(input_device(model)), use_cache=False)
    finally:
        for handle in handles:
            handle.remove()

    W_O = adapter.W_O(layer, h).detach()
    W_U = adapter.W_U.detach()
    device = W_U.device
    out = (captured["z"].to(W_O.device, W_O.dtype) @ W_O).to(device=device, dtype=torch.float32)
    norm = adapter.final_norm
    if norm is not None:
        resid = captured["resid"].to(device=device, dtype=torch.float32)
        eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5)))
        if isinstance(norm, torch.nn.LayerNorm):
            out = out - out.mean(-1, keepdim=True)
            scale = (resid.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
        else:  # RMSNorm
            scale = (resid.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        out = out / scale
        weight = getattr(norm, "weight", None)
        if weight is not None:
            out = out * weight.detach().to(device=device, dtype=torch.float32)
    return (out @ W_U.to(torch.float32)).cpu()


def top_pushed_tokens(direct_logits: torch.Tensor, tokenizer, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` tokens a head pushes up most at one position (``direct_logits`` is ``[vocab]``)."""
    if direct_logits.dim() != 1:
        raise ValueError("give the direct logits of one position, a [vocab] tensor")
    values, ids = direct_logits.topk(k)
    return [(tokenizer.decode([int(i)]), float(v)) for v, i in zip(values, ids)]
