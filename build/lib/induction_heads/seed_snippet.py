"""The source document's ablation snippet, reproduced faithfully so the book can show its bug.

The seed (the document the course mirrors) proposes::

    def ablate_induction_heads(model, head_indices):
        for layer in model.layers:
            for head_idx in head_indices:
                # Zera a saída da cabeça de atenção específica
                layer.self_attn.out_proj.weight[head_idx*model.config.hidden_size:(head_idx+1)*model.config.hidden_size] = 0
        return model

What is wrong with it:

1. ``out_proj`` is an ``nn.Linear`` whose weight is ``[out, in]`` = ``[d_model, n_heads * d_head]``.
   Indexing the first dimension selects *rows*, i.e. output features, not a head. A head owns
   the *columns* ``h*d_head:(h+1)*d_head`` (its slice of the input).
2. The blocks have ``hidden_size`` (= ``d_model``) rows, not ``d_head``: for ``head_idx = 0`` the
   slice is every row (the whole attention output of the layer is wiped, except the bias); for
   ``head_idx >= 1`` the slice starts past the last row and is empty (nothing happens).
3. It does this in *every* layer: a head is a ``(layer, head)`` pair, not a head index.
4. It writes into the weights in place, outside ``torch.no_grad()`` (PyTorch refuses: a leaf
   tensor that requires grad), and never restores them.

:func:`seed_ablation` applies exactly that indexing (inside ``no_grad``, restoring the weights on
exit) so its effect can be measured next to the library's correct
:func:`induction_heads.ablation.ablate_heads`.
"""

from __future__ import annotations

import contextlib

import torch

from .models import get_adapter

SEED_SNIPPET = '''def ablate_induction_heads(model, head_indices):
    for layer in model.layers:
        for head_idx in head_indices:
            # Zera a saída da cabeça de atenção específica
            layer.self_attn.out_proj.weight[head_idx*model.config.hidden_size:(head_idx+1)*model.config.hidden_size] = 0
    return model
'''


def _linear_view(adapter, layer: int) -> torch.Tensor:
    """The output projection's weight seen as an ``nn.Linear`` weight ``[out, in]`` (a view)."""
    weight = adapter.out_proj(layer).weight
    return weight.T if adapter.family == "gpt2" else weight  # GPT-2's Conv1D stores [in, out]


def seed_zeroed_mask(adapter, layer: int, head_indices) -> torch.Tensor:
    """Bool mask ``[out, in]`` of the weights the seed's snippet zeroes in one layer."""
    weight = _linear_view(adapter, layer)
    mask = torch.zeros(weight.shape, dtype=torch.bool)
    hidden = adapter.d_model
    for head_idx in head_indices:
        mask[head_idx * hidden:(head_idx + 1) * hidden] = True
    return mask


@contextlib.contextmanager
def seed_ablation(model, head_indices):
    """Context manager running the seed's snippet on ``model`` (any supported architecture).

    Zeroes rows ``head_idx*hidden_size:(head_idx+1)*hidden_size`` of every layer's output
    projection (seen as ``[out, in]``), as the seed does; restores every weight on exit, also if
    the block raises.
    """
    adapter = get_adapter(model)
    head_indices = [int(h) for h in head_indices]
    saved = []
    try:
        with torch.no_grad():
            for layer in range(adapter.n_layers):
                weight = _linear_view(adapter, layer)
                saved.append((weight, weight.detach().clone()))
                for head_idx in head_indices:
                    weight[head_idx * adapter.d_model:(head_idx + 1) * adapter.d_model] = 0
        yield model
    finally:
        with torch.no_grad():
            for weight, original in saved:
                weight.copy_(original)
