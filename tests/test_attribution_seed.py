"""Direct logit attribution and the seed's snippet, against hand computations."""

import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from induction_heads import ablate_heads, get_adapter, per_token_loss
from induction_heads.attribution import head_direct_logits
from induction_heads.seed_snippet import SEED_SNIPPET, seed_ablation, seed_zeroed_mask


def _gpt2(n_layer=1):
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=n_layer, n_head=4, n_embd=32, vocab_size=50, n_positions=32,
                     attn_pdrop=0, resid_pdrop=0, embd_pdrop=0)
    return GPT2LMHeadModel(cfg).eval()


def test_direct_logits_match_a_hand_computation_on_one_layer_gpt2():
    model = _gpt2(1)
    tokens = torch.randint(0, 50, (2, 12))
    layer, head = 0, 2
    got = head_direct_logits(model, tokens, (layer, head))

    # Independent computation from the raw weights.
    tr = model.transformer
    d, H = 32, 4
    dh = d // H
    x = tr.wte(tokens) + tr.wpe(torch.arange(12))
    blk = tr.h[0]
    h_in = blk.ln_1(x)
    qkv = h_in @ blk.attn.c_attn.weight + blk.attn.c_attn.bias
    q, k, v = qkv.split(d, dim=-1)
    sl = slice(head * dh, (head + 1) * dh)
    att = (q[..., sl] @ k[..., sl].transpose(-1, -2)) / dh ** 0.5
    att = att.masked_fill(~torch.ones(12, 12, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
    z = att @ v[..., sl]
    out = z @ blk.attn.c_proj.weight[sl, :]  # Conv1D: rows are inputs
    # The final residual stream (input of ln_f), recomputed by hand.
    with torch.no_grad():
        r = x + blk.attn(blk.ln_1(x))[0]
        r = r + blk.mlp(blk.ln_2(r))
    scale = (r.var(-1, unbiased=False, keepdim=True) + tr.ln_f.eps).sqrt()
    expected = ((out - out.mean(-1, keepdim=True)) / scale * tr.ln_f.weight) @ model.lm_head.weight.T
    assert torch.allclose(got, expected.detach(), atol=1e-4)


def test_direct_logits_reject_bad_head():
    model = _gpt2(1)
    with pytest.raises(ValueError, match="layer 3"):
        head_direct_logits(model, torch.randint(0, 50, (1, 5)), (3, 0))


def test_seed_snippet_zeroes_rows_not_the_head_columns():
    model = _gpt2(2)
    adapter = get_adapter(model)
    # head 0: the slice covers every row of the [out, in] weight -> the whole layer output.
    mask0 = seed_zeroed_mask(adapter, 0, [0])
    assert mask0.all()
    # head 1: rows d_model:2*d_model do not exist -> nothing is zeroed.
    assert not seed_zeroed_mask(adapter, 0, [1]).any()
    # The correct zero ablation of head 1 touches d_model * d_head weights (its columns).
    assert adapter.W_O(0, 1).numel() == 32 * 8


def test_seed_ablation_differs_from_correct_ablation_and_restores_weights():
    model = _gpt2(2)
    tokens = torch.randint(0, 50, (2, 16))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    clean = per_token_loss(model, tokens)
    with seed_ablation(model, [1]):
        seed_1 = per_token_loss(model, tokens)
    with ablate_heads(model, [(0, 1), (1, 1)]):
        correct_1 = per_token_loss(model, tokens)
    assert torch.equal(seed_1, clean)  # the seed's code does nothing for head 1
    assert not torch.allclose(correct_1, clean)
    with seed_ablation(model, [0]):
        # every layer's attention output is gone (only the bias remains)
        w = model.transformer.h[1].attn.c_proj.weight
        assert torch.count_nonzero(w) == 0
    with pytest.raises(RuntimeError, match="boom"):
        with seed_ablation(model, [0]):
            raise RuntimeError("boom")
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n


def test_the_seed_snippet_as_written_fails_on_a_parameter():
    # The literal code writes into a leaf tensor that requires grad, outside no_grad.
    linear = torch.nn.Linear(8, 8)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        linear.weight[0:8] = 0
    assert "out_proj.weight[head_idx*model.config.hidden_size" in SEED_SNIPPET


def test_seed_ablation_on_llama_uses_linear_rows():
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
                                         hidden_size=32, intermediate_size=64, vocab_size=50,
                                         max_position_embeddings=32)).eval()
    w = model.model.layers[0].self_attn.o_proj.weight
    with seed_ablation(model, [0]):
        assert torch.count_nonzero(w) == 0
    assert torch.count_nonzero(w) == w.numel()
