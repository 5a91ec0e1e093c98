"""Loading models and knowing where each architecture keeps its parts.

The library works on plain Hugging Face ``transformers`` causal language models, with no
conversion. Everything that depends on an architecture's module names lives in one small
adapter per family (GPT-2, GPT-NeoX/Pythia, the Llama family, OPT); the rest of the library
only talks to :class:`Adapter`.

Conventions (row vectors, as in the residual stream ``x @ W``):

* ``W_E``: ``[vocab, d_model]`` token embedding (after OPT's ``project_in``, if any);
* ``W_U``: ``[d_model, vocab]`` unembedding (before the final norm's weight is folded in);
* ``W_V(layer, kv_head)``: ``[d_model, d_head]``, residual stream -> value of that key/value head;
* ``W_O(layer, head)``: ``[d_head, d_model]``, the head's slice of the output projection.

A head ``h`` reads the values of key/value head ``h // (n_heads // n_kv_heads)``
(grouped-query attention; ``n_kv_heads == n_heads`` without it).
"""

from __future__ import annotations

import contextlib
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

ASSETS = Path(__file__).resolve().parent / "assets"
SHIPPED_MODELS = ("toy-1l", "toy-2l")


# --------------------------------------------------------------------------------------
# Adapters
# --------------------------------------------------------------------------------------


@dataclass
class Adapter:
    """Where one loaded model keeps what the analysis needs.

    ``attn(l)`` is the self-attention module of layer ``l`` (its forward returns
    ``(attn_output, attn_weights, ...)``); ``out_proj(l)`` the linear map that mixes the
    concatenated heads (its *input* is ``[..., n_heads * d_head]``, head ``h`` at
    ``h*d_head:(h+1)*d_head``); ``attn_norm(l)`` the norm applied to the residual stream
    before attention (``None`` for post-norm models); ``final_norm`` the norm before the
    unembedding.
    """

    family: str
    model: nn.Module
    layers: list  # decoder blocks, in order
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_model: int
    n_ctx: int
    _attn: Callable[[nn.Module], nn.Module]
    _out_proj: Callable[[nn.Module], nn.Module]
    _attn_norm: Callable[[nn.Module], nn.Module | None]
    final_norm: nn.Module | None
    _w_v: Callable[["Adapter", int, int], torch.Tensor]
    _w_o: Callable[["Adapter", int, int], torch.Tensor]
    _w_e: Callable[["Adapter"], torch.Tensor]
    _w_u: Callable[["Adapter"], torch.Tensor]
    _unembed: Callable[["Adapter", torch.Tensor], torch.Tensor] = None

    # -- modules ------------------------------------------------------------------
    def attn(self, layer: int) -> nn.Module:
        return self._attn(self.layers[layer])

    def out_proj(self, layer: int) -> nn.Module:
        return self._out_proj(self.layers[layer])

    def attn_norm(self, layer: int) -> nn.Module | None:
        return self._attn_norm(self.layers[layer])

    # -- weights ------------------------------------------------------------------
    def kv_head(self, head: int) -> int:
        """Index of the key/value head that query head ``head`` reads (GQA)."""
        return head // (self.n_heads // self.n_kv_heads)

    def W_V(self, layer: int, head: int) -> torch.Tensor:
        """``[d_model, d_head]`` value weights used by query head ``head`` (GQA-aware)."""
        return self._w_v(self, layer, self.kv_head(head))

    def W_O(self, layer: int, head: int) -> torch.Tensor:
        """``[d_head, d_model]`` slice of the output projection that belongs to ``head``."""
        return self._w_o(self, layer, head)

    @property
    def W_E(self) -> torch.Tensor:
        return self._w_e(self)

    @property
    def W_U(self) -> torch.Tensor:
        return self._w_u(self)

    def unembed(self, residual: torch.Tensor) -> torch.Tensor:
        """Logits from the residual stream after the last block (final norm, then unembedding)."""
        return self._unembed(self, residual)

    def heads(self) -> list[tuple[int, int]]:
        return [(l, h) for l in range(self.n_layers) for h in range(self.n_heads)]

    def check_head(self, head) -> tuple[int, int]:
        """Validate one ``(layer, head)`` spec and return it as a tuple of ints."""
        if isinstance(head, (str, bytes)) or not hasattr(head, "__len__") or len(head) != 2:
            raise TypeError(
                f"a head must be a (layer, head) pair of ints, got {head!r}"
            )
        layer, h = head
        for value in (layer, h):
            if not _is_index(value):
                raise TypeError(f"a head must be a (layer, head) pair of ints, got {head!r}")
        layer, h = int(layer), int(h)
        if not 0 <= layer < self.n_layers:
            raise ValueError(
                f"head {layer}.{h}: layer {layer} is outside the model, which has layers 0..{self.n_layers - 1}"
            )
        if not 0 <= h < self.n_heads:
            raise ValueError(
                f"head {layer}.{h}: head {h} is outside layer {layer}, which has heads 0..{self.n_heads - 1}"
            )
        return layer, h

    def check_heads(self, heads) -> list[tuple[int, int]]:
        if isinstance(heads, tuple) and len(heads) == 2 and all(_is_index(x) for x in heads):
            raise TypeError(
                f"heads must be an iterable of (layer, head) pairs; got the single pair {heads!r} "
                f"(write [{heads!r}])"
            )
        try:
            items = list(heads)
        except TypeError:
            raise TypeError(f"heads must be an iterable of (layer, head) pairs, got {heads!r}") from None
        return [self.check_head(h) for h in items]


def _is_index(value) -> bool:
    """An integer (Python, NumPy or a 0-d integer tensor), not a bool."""
    if isinstance(value, torch.Tensor):
        return value.dim() == 0 and not value.is_floating_point() and not value.is_complex() and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _linear_in_cols(weight: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """nn.Linear weight is [out, in]: the input slice is a block of columns; return [d_head, out]."""
    return weight[:, start:stop].T


def _gpt2(model) -> Adapter:
    cfg = model.config
    base = model.transformer
    d = cfg.n_embd
    dh = d // cfg.n_head
    return Adapter(
        family="gpt2", model=model, layers=list(base.h), n_layers=cfg.n_layer, n_heads=cfg.n_head,
        n_kv_heads=cfg.n_head, d_head=dh, d_model=d, n_ctx=cfg.n_positions,
        _attn=lambda blk: blk.attn,
        _out_proj=lambda blk: blk.attn.c_proj,
        _attn_norm=lambda blk: blk.ln_1,
        final_norm=base.ln_f,
        # Conv1D stores weight as [in, out]: value columns are 2d + g*dh ...
        _w_v=lambda a, l, g: a.layers[l].attn.c_attn.weight[:, 2 * d + g * dh: 2 * d + (g + 1) * dh],
        # ... and the output projection's input slice is a block of *rows*.
        _w_o=lambda a, l, h: a.layers[l].attn.c_proj.weight[h * dh:(h + 1) * dh, :],
        _w_e=lambda a: base.wte.weight,
        _w_u=lambda a: model.lm_head.weight.T,
        _unembed=lambda a, x: model.lm_head(base.ln_f(x)),
    )


def _neox(model) -> Adapter:
    cfg = model.config
    base = model.gpt_neox
    d = cfg.hidden_size
    nh = cfg.num_attention_heads
    dh = d // nh
    # query_key_value output is laid out per head as [q(dh) k(dh) v(dh)] (see GPTNeoXAttention).
    return Adapter(
        family="gpt_neox", model=model, layers=list(base.layers), n_layers=cfg.num_hidden_layers,
        n_heads=nh, n_kv_heads=nh, d_head=dh, d_model=d, n_ctx=cfg.max_position_embeddings,
        _attn=lambda blk: blk.attention,
        _out_proj=lambda blk: blk.attention.dense,
        _attn_norm=lambda blk: blk.input_layernorm,
        final_norm=base.final_layer_norm,
        _w_v=lambda a, l, g: a.layers[l].attention.query_key_value.weight[g * 3 * dh + 2 * dh: g * 3 * dh + 3 * dh].T,
        _w_o=lambda a, l, h: _linear_in_cols(a.layers[l].attention.dense.weight, h * dh, (h + 1) * dh),
        _w_e=lambda a: base.embed_in.weight,
        _w_u=lambda a: model.get_output_embeddings().weight.T,
        _unembed=lambda a, x: model.get_output_embeddings()(base.final_layer_norm(x)),
    )


def _llama(model) -> Adapter:
    cfg = model.config
    base = model.model
    d = cfg.hidden_size
    nh = cfg.num_attention_heads
    nkv = getattr(cfg, "num_key_value_heads", None) or nh
    dh = getattr(cfg, "head_dim", None) or d // nh
    return Adapter(
        family="llama", model=model, layers=list(base.layers), n_layers=cfg.num_hidden_layers,
        n_heads=nh, n_kv_heads=nkv, d_head=dh, d_model=d, n_ctx=cfg.max_position_embeddings,
        _attn=lambda blk: blk.self_attn,
        _out_proj=lambda blk: blk.self_attn.o_proj,
        _attn_norm=lambda blk: blk.input_layernorm,
        final_norm=base.norm,
        _w_v=lambda a, l, g: a.layers[l].self_attn.v_proj.weight[g * dh:(g + 1) * dh].T,
        _w_o=lambda a, l, h: _linear_in_cols(a.layers[l].self_attn.o_proj.weight, h * dh, (h + 1) * dh),
        _w_e=lambda a: base.embed_tokens.weight,
        _w_u=lambda a: model.lm_head.weight.T,
        _unembed=lambda a, x: model.lm_head(base.norm(x)),
    )


def _opt(model) -> Adapter:
    cfg = model.config
    dec = model.model.decoder
    d = cfg.hidden_size
    nh = cfg.num_attention_heads
    dh = d // nh

    def w_e(a):
        w = dec.embed_tokens.weight
        return w @ dec.project_in.weight.T if dec.project_in is not None else w

    def w_u(a):
        w = model.lm_head.weight.T  # [word_embed_proj_dim, vocab]
        return dec.project_out.weight.T @ w if dec.project_out is not None else w

    def unembed(a, x):
        if dec.final_layer_norm is not None:
            x = dec.final_layer_norm(x)
        if dec.project_out is not None:
            x = dec.project_out(x)
        return model.lm_head(x)

    return Adapter(
        family="opt", model=model, layers=list(dec.layers), n_layers=cfg.num_hidden_layers,
        n_heads=nh, n_kv_heads=nh, d_head=dh, d_model=d, n_ctx=cfg.max_position_embeddings,
        _attn=lambda blk: blk.self_attn,
        _out_proj=lambda blk: blk.self_attn.out_proj,
        _attn_norm=lambda blk: blk.self_attn_layer_norm if blk.do_layer_norm_before else None,
        final_norm=dec.final_layer_norm,
        _w_v=lambda a, l, g: a.layers[l].self_attn.v_proj.weight[g * dh:(g + 1) * dh].T,
        _w_o=lambda a, l, h: _linear_in_cols(a.layers[l].self_attn.out_proj.weight, h * dh, (h + 1) * dh),
        _w_e=w_e,
        _w_u=w_u,
        _unembed=unembed,
    )


# model_type -> adapter factory. The Llama family shares one adapter.
_FAMILIES = {
    "gpt2": _gpt2,
    "gpt_neox": _neox,
    "llama": _llama,
    "mistral": _llama,
    "qwen2": _llama,
    "qwen3": _llama,
    "opt": _opt,
}

_CAUSAL_LM_HINT = (
    "the library analyses causal language models (GPT-2, GPT-NeoX/Pythia, Llama, Mistral, "
    "Qwen2, OPT) loaded with AutoModelForCausalLM"
)


def get_adapter(model) -> Adapter:
    """Return the :class:`Adapter` for ``model``, or raise a clear error.

    Raises ``TypeError`` if ``model`` is not a ``transformers`` model and ``ValueError`` if it
    is not a causal LM of a supported family (e.g. a BERT model, or a bare ``GPT2Model``
    without its language-model head).
    """
    config = getattr(model, "config", None)
    if not isinstance(model, nn.Module) or config is None or not hasattr(config, "model_type"):
        raise TypeError(f"expected a Hugging Face transformers model, got {type(model).__name__}; {_CAUSAL_LM_HINT}")
    model_type = config.model_type
    if getattr(config, "is_encoder_decoder", False):
        raise ValueError(f"{type(model).__name__} is an encoder-decoder model, not a causal LM; {_CAUSAL_LM_HINT}")
    if model_type not in _FAMILIES:
        raise ValueError(
            f"{type(model).__name__} (model_type {model_type!r}) is not a supported causal LM; {_CAUSAL_LM_HINT}"
        )
    if model.get_output_embeddings() is None or not type(model).__name__.endswith(("LMHeadModel", "ForCausalLM")):
        raise ValueError(
            f"{type(model).__name__} has no language-model head (no causal LM logits); load it with "
            f"AutoModelForCausalLM; {_CAUSAL_LM_HINT}"
        )
    adapter = _FAMILIES[model_type](model)
    if adapter.n_heads % adapter.n_kv_heads:
        raise ValueError(f"{adapter.n_heads} query heads cannot share {adapter.n_kv_heads} key/value heads")
    return adapter


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def shipped_model_path(name: str) -> Path:
    """Folder of a model the course ships (``"toy-1l"`` or ``"toy-2l"``)."""
    if name not in SHIPPED_MODELS:
        raise ValueError(f"{name!r} is not a shipped model; the course ships {', '.join(SHIPPED_MODELS)}")
    path = ASSETS / name
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"the shipped model {name!r} is missing from {path}; reinstall the package or rebuild it with "
            f"`python -m induction_heads.train {name}`"
        )
    return path


def load_model(name: str = "toy-2l", *, device=None, **from_pretrained_kwargs):
    """Load a causal LM and its tokenizer; returns ``(model, tokenizer)`` in eval mode.

    ``"toy-1l"`` and ``"toy-2l"`` are the models the course ships (offline). Any other name is
    a Hugging Face Hub id (e.g. ``"gpt2"``, ``"EleutherAI/pythia-70m"``) or a local folder,
    loaded with ``AutoModelForCausalLM``; keyword arguments such as ``torch_dtype`` or
    ``device_map="auto"`` are passed through. ``device`` moves a model that was not given a
    ``device_map``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not isinstance(name, (str, Path)):
        raise TypeError(f"model name must be a string or a path, got {type(name).__name__}")
    if device is not None and from_pretrained_kwargs.get("device_map") is not None:
        raise ValueError("give either device or device_map, not both")
    path = shipped_model_path(name) if name in SHIPPED_MODELS else name
    if name in SHIPPED_MODELS:
        from_pretrained_kwargs.setdefault("local_files_only", True)
    tokenizer = AutoTokenizer.from_pretrained(
        path, **{k: v for k, v in from_pretrained_kwargs.items() if k in ("local_files_only", "revision", "token", "cache_dir")}
    )
    if name in SHIPPED_MODELS:
        # The shipped models load in milliseconds: no "Loading weights" bar on stderr (it would
        # show up in every book page).
        from transformers.utils import logging as hf_logging

        was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = AutoModelForCausalLM.from_pretrained(path, **from_pretrained_kwargs)
        finally:
            if was_enabled:
                hf_logging.enable_progress_bar()
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **from_pretrained_kwargs)
    if device is not None:
        model = model.to(device)
    model.eval()
    get_adapter(model)  # fail early on unsupported architectures
    return model, tokenizer


# --------------------------------------------------------------------------------------
# Small shared utilities
# --------------------------------------------------------------------------------------


def input_device(model) -> torch.device:
    """Device of the token embedding (where input ids must go), also for sharded models."""
    return model.get_input_embeddings().weight.device


@contextlib.contextmanager
def eager_attention(model):
    """Switch ``model`` to the eager attention implementation inside the block.

    Attention weights exist only in eager attention. The original implementation (``sdpa`` by
    default) is restored on exit, also when the body raises.
    """
    config = model.config
    original = getattr(config, "_attn_implementation", None)
    if original in (None, "eager"):
        yield
        return
    _set_attn(model, "eager")
    try:
        yield
    finally:
        _set_attn(model, original)


def _set_attn(model, implementation: str) -> None:
    setter = getattr(model, "set_attn_implementation", None)
    if setter is not None:
        setter(implementation)
    else:  # older transformers: attention modules read the shared config at call time
        model.config._attn_implementation = implementation


def check_tokens(model, tokens) -> torch.Tensor:
    """Validate a batch of token ids for ``model`` and return it as a 2-D LongTensor."""
    adapter = get_adapter(model)
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"tokens must be a torch.LongTensor [batch, seq], got {type(tokens).__name__}")
    if tokens.is_floating_point() or tokens.dtype == torch.bool:
        raise TypeError(f"tokens must hold integer token ids, got dtype {tokens.dtype}")
    if tokens.dim() == 1:
        tokens = tokens.unsqueeze(0)
    if tokens.dim() != 2:
        raise ValueError(f"tokens must have shape [batch, seq], got {tuple(tokens.shape)}")
    if tokens.numel() == 0:
        raise ValueError(f"tokens are empty (shape {tuple(tokens.shape)})")
    if tokens.shape[1] > adapter.n_ctx:
        raise ValueError(
            f"sequence of {tokens.shape[1]} tokens is longer than the model's context of {adapter.n_ctx} positions"
        )
    vocab = model.get_input_embeddings().weight.shape[0]
    lo, hi = int(tokens.min()), int(tokens.max())
    if lo < 0 or hi >= vocab:
        raise ValueError(f"token ids must lie in [0, {vocab - 1}] for this model, got values in [{lo}, {hi}]")
    return tokens.long()
