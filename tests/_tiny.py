"""Tiny randomly initialised models of every supported family, and independent references.

Imported explicitly by the library tests (``from _tiny import ...``; pytest puts ``tests/`` on
``sys.path``). Nothing here uses the library's own adapters or hooks: the references below
read weights by the module names of each ``transformers`` family, so a test that compares
the library with them compares two separate computations.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests never touch the network

import torch
from torch import nn

# Each family at the same small size: 2 layers, 4 query heads, d_model 32, d_head 8,
# vocabulary 64, context 64. The Llama family uses grouped-query attention (2 key/value
# heads), so head h reads key/value head h // 2.
N_LAYERS, N_HEADS, D_MODEL, VOCAB, N_CTX = 2, 4, 32, 64, 64
D_HEAD = D_MODEL // N_HEADS
N_KV_GQA = 2
FAMILIES = ("gpt2", "gpt_neox", "llama", "mistral", "qwen2", "opt")
GQA_FAMILIES = ("llama", "mistral", "qwen2")

# Tiny models gain nothing from threads, and on a busy machine OpenMP threads that wait for
# each other make every call slow.
torch.set_num_threads(1)
logging.getLogger("transformers").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*attn_implementation.*")
warnings.filterwarnings("ignore", message=".*torch_dtype.*")


def _config(family: str, n_layers: int, **overrides):
    from transformers import (
        GPT2Config,
        GPTNeoXConfig,
        LlamaConfig,
        MistralConfig,
        OPTConfig,
        Qwen2Config,
    )

    common_llama = dict(
        num_hidden_layers=n_layers, num_attention_heads=N_HEADS, num_key_value_heads=N_KV_GQA,
        hidden_size=D_MODEL, intermediate_size=2 * D_MODEL, vocab_size=VOCAB,
        max_position_embeddings=N_CTX, bos_token_id=0, eos_token_id=0, pad_token_id=2,
        initializer_range=0.15,
    )
    if family == "gpt2":
        cfg = GPT2Config(
            n_layer=n_layers, n_head=N_HEADS, n_embd=D_MODEL, vocab_size=VOCAB, n_positions=N_CTX,
            bos_token_id=0, eos_token_id=0, initializer_range=0.15,
            attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0,
        )
    elif family == "gpt_neox":
        cfg = GPTNeoXConfig(
            num_hidden_layers=n_layers, num_attention_heads=N_HEADS, hidden_size=D_MODEL,
            intermediate_size=2 * D_MODEL, vocab_size=VOCAB, max_position_embeddings=N_CTX,
            bos_token_id=0, eos_token_id=0, initializer_range=0.15, attention_bias=True,
        )
    elif family == "llama":
        cfg = LlamaConfig(**common_llama)
    elif family == "mistral":
        cfg = MistralConfig(**common_llama, sliding_window=None)
    elif family == "qwen2":
        cfg = Qwen2Config(**common_llama)
    elif family == "opt":
        # word_embed_proj_dim != hidden_size: exercises OPT's project_in / project_out.
        cfg = OPTConfig(
            num_hidden_layers=n_layers, num_attention_heads=N_HEADS, hidden_size=D_MODEL,
            ffn_dim=2 * D_MODEL, vocab_size=VOCAB, max_position_embeddings=N_CTX,
            word_embed_proj_dim=16, bos_token_id=0, eos_token_id=0, pad_token_id=2,
            init_std=0.15, dropout=0.0, attention_dropout=0.0,
        )
    else:
        raise ValueError(family)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def tiny_model(family: str = "gpt2", *, n_layers: int = N_LAYERS, seed: int = 0, attn_implementation=None, **overrides):
    """A tiny causal LM of ``family`` with random weights, in eval mode (sdpa unless told)."""
    from transformers import AutoModelForCausalLM

    cfg = _config(family, n_layers, **overrides)
    torch.manual_seed(seed)
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    model = AutoModelForCausalLM.from_config(cfg, **kwargs)
    # Random norm weights and biases (they are 1 and 0 at init), so that a norm folded in the
    # wrong place, or not at all, changes the numbers.
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for module in model.modules():
            if "Norm" in type(module).__name__:
                w = getattr(module, "weight", None)
                if w is not None:
                    w.copy_(1 + 0.3 * torch.randn(w.shape, generator=generator))
                b = getattr(module, "bias", None)
                if isinstance(b, torch.Tensor):
                    b.copy_(0.1 * torch.randn(b.shape, generator=generator))
            elif isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
            elif type(module).__name__ == "Conv1D":
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
    return model.eval()


def eager_twin(model):
    """The same weights in a model *built* with eager attention (not switched by the library)."""
    from transformers import AutoModelForCausalLM

    cfg = copy.deepcopy(model.config)
    twin = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    twin.load_state_dict(model.state_dict())
    return twin.eval()


@torch.no_grad()
def hf_attentions(model, tokens) -> torch.Tensor:
    """``[n_layers, batch, heads, T, T]`` from transformers' own ``output_attentions`` (eager twin)."""
    out = eager_twin(model)(input_ids=tokens, output_attentions=True, use_cache=False)
    return torch.stack(out.attentions)


@torch.no_grad()
def logits_of(model, tokens) -> torch.Tensor:
    return model(input_ids=tokens, use_cache=False).logits


def random_tokens(shape, *, seed: int = 0, low: int = 3, high: int = VOCAB) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(low, high, shape, generator=generator)


def count_hooks(model) -> int:
    """Every forward/pre/backward hook registered on any submodule."""
    total = 0
    for module in model.modules():
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                     "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs"):
            total += len(getattr(module, name, {}) or {})
    return total


def tiny_tokenizer(n_words: int = VOCAB - 3):
    """Word-level tokenizer: ``<bos> <unk> <pad>`` then ``n_words`` words ``w3, w4, ...``."""
    from induction_heads.training.tokenizer import build_tokenizer

    return build_tokenizer(["<bos>", "<unk>", "<pad>"] + [f"w{i}" for i in range(3, 3 + n_words)])


# --------------------------------------------------------------------------------------
# Per-family module names (written from the transformers modeling files, not the library)
# --------------------------------------------------------------------------------------


def blocks(model):
    t = model.config.model_type
    if t == "gpt2":
        return list(model.transformer.h)
    if t == "gpt_neox":
        return list(model.gpt_neox.layers)
    if t == "opt":
        return list(model.model.decoder.layers)
    return list(model.model.layers)


def out_proj_by_name(model, layer):
    blk = blocks(model)[layer]
    t = model.config.model_type
    if t == "gpt2":
        return blk.attn.c_proj
    if t == "gpt_neox":
        return blk.attention.dense
    if t == "opt":
        return blk.self_attn.out_proj
    return blk.self_attn.o_proj


def attn_by_name(model, layer):
    blk = blocks(model)[layer]
    t = model.config.model_type
    if t == "gpt2":
        return blk.attn
    if t == "gpt_neox":
        return blk.attention
    return blk.self_attn


def attn_norm_by_name(model, layer):
    blk = blocks(model)[layer]
    t = model.config.model_type
    if t == "gpt2":
        return blk.ln_1
    if t == "opt":
        return blk.self_attn_layer_norm if model.config.do_layer_norm_before else None
    return blk.input_layernorm


def final_norm_by_name(model):
    t = model.config.model_type
    if t == "gpt2":
        return model.transformer.ln_f
    if t == "gpt_neox":
        return model.gpt_neox.final_layer_norm
    if t == "opt":
        return model.model.decoder.final_layer_norm
    return model.model.norm


def zero_head_weights(model, heads):
    """Zero each head's slice of W_O *in the weights* (columns of nn.Linear, rows of Conv1D)."""
    with torch.no_grad():
        for layer, head in heads:
            proj = out_proj_by_name(model, layer)
            s = slice(head * D_HEAD, (head + 1) * D_HEAD)
            if type(proj).__name__ == "Conv1D":  # weight is [in, out]
                proj.weight[s, :] = 0
            else:  # nn.Linear weight is [out, in]
                proj.weight[:, s] = 0
    return model


def replace_head_by_constant(model, layer, head, value):
    """Make head ``layer.head`` output the constant ``value`` by editing weights: its W_O slice
    becomes zero and ``value @ W_O_slice`` moves into the projection's bias."""
    with torch.no_grad():
        proj = out_proj_by_name(model, layer)
        s = slice(head * D_HEAD, (head + 1) * D_HEAD)
        if type(proj).__name__ == "Conv1D":
            contribution = value @ proj.weight[s, :]
            proj.weight[s, :] = 0
        else:
            contribution = proj.weight[:, s] @ value
            proj.weight[:, s] = 0
        if proj.bias is None:
            proj.bias = nn.Parameter(torch.zeros(proj.weight.shape[0], dtype=proj.weight.dtype))
        proj.bias += contribution
    return model


# --------------------------------------------------------------------------------------
# GPT-2 forward pass written out by hand
# --------------------------------------------------------------------------------------


def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def _layer_norm(x, ln):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


@torch.no_grad()
def hand_gpt2(model, tokens, *, zero=(), replace=None, knockout=None):
    """Logits and attention patterns of a GPT2LMHeadModel, computed from its weights.

    ``zero``: heads whose output z_h is set to 0; ``replace``: {head: vector} output
    replacements; ``knockout``: {head: bool [T, T]} query->key edges the head may not use
    (its attention is renormalised over the remaining keys; a query with no key left attends
    uniformly to the keys it could see).
    Returns ``(logits [B, T, V], patterns [L, B, H, T, T])``.
    """
    replace = replace or {}
    knockout = knockout or {}
    tr = model.transformer
    B, T = tokens.shape
    d, H, dh = D_MODEL, model.config.n_head, model.config.n_embd // model.config.n_head
    x = tr.wte.weight[tokens] + tr.wpe.weight[torch.arange(T)][None]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    patterns = []
    for layer, blk in enumerate(tr.h):
        a = _layer_norm(x, blk.ln_1)
        qkv = a @ blk.attn.c_attn.weight + blk.attn.c_attn.bias
        q, k, v = (t.reshape(B, T, H, dh).transpose(1, 2) for t in qkv.split(d, dim=-1))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        for h in range(H):
            if (layer, h) in knockout:
                blocked = knockout[(layer, h)]
                scores[:, h][blocked.expand(B, T, T)] = -1e9
        scores = scores.masked_fill(~causal, float("-inf"))
        pattern = scores.softmax(-1)
        patterns.append(pattern)
        z = (pattern @ v).transpose(1, 2)  # [B, T, H, dh]
        for h in range(H):
            if (layer, h) in zero:
                z[:, :, h] = 0
            if (layer, h) in replace:
                z[:, :, h] = replace[(layer, h)]
        z = z.reshape(B, T, d)
        x = x + z @ blk.attn.c_proj.weight + blk.attn.c_proj.bias
        m = _layer_norm(x, blk.ln_2)
        m = _gelu_new(m @ blk.mlp.c_fc.weight + blk.mlp.c_fc.bias) @ blk.mlp.c_proj.weight + blk.mlp.c_proj.bias
        x = x + m
    logits = _layer_norm(x, tr.ln_f) @ model.lm_head.weight.T
    return logits, torch.stack(patterns)
