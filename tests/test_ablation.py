"""Ablation, attention knockout and the per-head sweep (induction_heads.ablation).

References: weight edits on a copy of the model (zero the head's slice of W_O; move a
constant head output into the bias), a GPT-2 forward pass written out by hand, and the naive
loop of one full forward pass per ablated head.
"""

from __future__ import annotations

import copy

import pytest
import torch
from _tiny import (
    D_HEAD,
    FAMILIES,
    N_HEADS,
    N_LAYERS,
    count_hooks,
    hand_gpt2,
    hf_attentions,
    logits_of,
    out_proj_by_name,
    random_tokens,
    replace_head_by_constant,
    tiny_model,
    zero_head_weights,
)

from induction_heads.ablation import ablate_heads, ablation_sweep, attention_knockout, head_output_means
from induction_heads.metrics import per_token_loss
from induction_heads.scores import attention_patterns, prefix_matching_scores

TOKENS = random_tokens((3, 14), seed=11)
REFERENCE = random_tokens((4, 10), seed=12)
HEAD_SETS = ([(0, 1)], [(1, 3), (0, 0), (0, 2)])


def _close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _far(a, b):
    assert (a - b).abs().max() > 1e-3


# --------------------------------------------------------------------------------------
# Zero and mean ablation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("heads", HEAD_SETS)
def test_zero_ablation_equals_zeroing_the_heads_W_O_slice(family, heads):
    model = tiny_model(family)
    edited = zero_head_weights(copy.deepcopy(model), heads)
    clean = logits_of(model, TOKENS)
    with ablate_heads(model, heads):
        ablated = logits_of(model, TOKENS)
    _close(ablated, logits_of(edited, TOKENS))
    _far(ablated, clean)


def test_zero_ablation_on_gpt2_is_rows_of_conv1d_not_columns():
    model = tiny_model("gpt2")
    with ablate_heads(model, [(1, 2)]):
        ablated = logits_of(model, TOKENS)
    _close(ablated, hand_gpt2(model, TOKENS, zero={(1, 2)})[0])
    wrong = copy.deepcopy(model)
    with torch.no_grad():  # the seed's mistake: treat Conv1D like nn.Linear
        wrong.transformer.h[1].attn.c_proj.weight[:, 2 * D_HEAD:3 * D_HEAD] = 0
    _far(ablated, logits_of(wrong, TOKENS))


def _hand_means(model, reference, heads):
    """Mean of each head's slice of the output projection's input over every reference position."""
    z = {}
    handles = [
        out_proj_by_name(model, layer).register_forward_pre_hook(lambda m, a, layer=layer: z.__setitem__(layer, a[0]))
        for layer in {l for l, _ in heads}
    ]
    try:
        logits_of(model, reference)
    finally:
        for h in handles:
            h.remove()
    out = {}
    for layer, head in heads:
        block = z[layer][:, :, head * D_HEAD:(head + 1) * D_HEAD]
        out[(layer, head)] = block.sum(dim=(0, 1)) / (block.shape[0] * block.shape[1])
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_head_output_means(family):
    model = tiny_model(family)
    heads = [(0, 3), (1, 0), (1, 1)]
    got = head_output_means(model, REFERENCE, heads)
    expected = _hand_means(model, REFERENCE, heads)
    assert set(got) == set(heads)
    for head in heads:
        assert got[head].shape == (D_HEAD,)
        _close(got[head], expected[head])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("heads", HEAD_SETS)
def test_mean_ablation_equals_a_constant_head_output_in_the_weights(family, heads):
    model = tiny_model(family)
    means = _hand_means(model, REFERENCE, heads)  # from the clean model
    edited = copy.deepcopy(model)
    for (layer, head), mean in means.items():
        replace_head_by_constant(edited, layer, head, mean)
    with ablate_heads(model, heads, method="mean", reference=REFERENCE):
        ablated = logits_of(model, TOKENS)
    _close(ablated, logits_of(edited, TOKENS))
    with ablate_heads(model, heads):
        _far(ablated, logits_of(model, TOKENS))  # mean differs from zero ablation


def test_mean_ablation_on_gpt2_by_hand():
    model = tiny_model("gpt2")
    means = _hand_means(model, REFERENCE, [(0, 2)])
    with ablate_heads(model, [(0, 2)], "mean", reference=REFERENCE):
        _close(logits_of(model, TOKENS), hand_gpt2(model, TOKENS, replace=means)[0])


# --------------------------------------------------------------------------------------
# Never leaving the model changed; composing
# --------------------------------------------------------------------------------------


def _contexts(model):
    return {
        "zero": lambda: ablate_heads(model, [(0, 1), (1, 2)]),
        "mean": lambda: ablate_heads(model, [(1, 0)], method="mean", reference=REFERENCE),
        "knockout": lambda: attention_knockout(model, [(0, 0), (1, 3)], [(5, 1), (9, 0), (9, 8)]),
    }


@pytest.mark.parametrize("family", ["gpt2", "gpt_neox", "qwen2", "opt"])
@pytest.mark.parametrize("kind", ["zero", "mean", "knockout"])
def test_contexts_restore_the_model_bitwise_also_after_an_exception(family, kind):
    model = tiny_model(family)
    before = logits_of(model, TOKENS)
    params = {k: v.clone() for k, v in model.state_dict().items()}
    make = _contexts(model)[kind]
    with make():
        inside = logits_of(model, TOKENS)
        assert count_hooks(model) > 0
    _far(inside, before)
    assert torch.equal(logits_of(model, TOKENS), before)
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"
    with pytest.raises(RuntimeError, match="inside the block"):
        with make():
            logits_of(model, TOKENS)
            raise RuntimeError("inside the block")
    assert torch.equal(logits_of(model, TOKENS), before)
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"
    assert all(torch.equal(v, params[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_nested_ablations_compose(family):
    model = tiny_model(family)
    outer, inner = [(0, 1)], [(1, 2), (0, 3)]
    both = logits_of(zero_head_weights(copy.deepcopy(model), outer + inner), TOKENS)
    only_outer = logits_of(zero_head_weights(copy.deepcopy(model), outer), TOKENS)
    with ablate_heads(model, outer):
        with ablate_heads(model, inner):
            _close(logits_of(model, TOKENS), both)
        _close(logits_of(model, TOKENS), only_outer)
    # the same head twice, and overlapping sets, change nothing more
    with ablate_heads(model, outer + outer):
        with ablate_heads(model, outer + inner):
            _close(logits_of(model, TOKENS), both)
    assert count_hooks(model) == 0


def test_ablation_and_knockout_compose_like_a_hand_forward_pass():
    model = tiny_model("gpt2")
    T = TOKENS.shape[1]
    edges = [(6, 2), (6, 5), (10, 0)]
    mask = torch.zeros(T, T, dtype=torch.bool)
    for q, k in edges:
        mask[q, k] = True
    expected, _ = hand_gpt2(model, TOKENS, zero={(0, 2)}, knockout={(0, 1): mask, (1, 3): mask})
    with ablate_heads(model, [(0, 2)]):
        with attention_knockout(model, [(0, 1), (1, 3)], edges):
            _close(logits_of(model, TOKENS), expected)
    with attention_knockout(model, [(0, 1), (1, 3)], edges):
        with ablate_heads(model, [(0, 2)]):
            _close(logits_of(model, TOKENS), expected)
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"


# --------------------------------------------------------------------------------------
# Attention knockout
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_knockout_zeroes_blocked_edges_and_renormalises_the_rest(family):
    model = tiny_model(family)
    clean = hf_attentions(model, TOKENS)  # independent eager computation
    edges = [(5, 2), (9, 0), (9, 8), (13, 13)]
    with attention_knockout(model, [(1, 2)], edges):
        assert model.config._attn_implementation == "eager"
        knocked = attention_patterns(model, TOKENS)
    assert model.config._attn_implementation == "sdpa"
    # layer 0 is untouched; in layer 1 only head 2 changes
    _close(knocked[0], clean[0])
    for h in (0, 1, 3):
        _close(knocked[1, :, h], clean[1, :, h])
    p, q = clean[1, :, 2], knocked[1, :, 2]
    expected = p.clone()
    for row in (5, 9, 13):
        cols = [k for (qq, k) in edges if qq == row]
        expected[:, row, cols] = 0
        expected[:, row] /= expected[:, row].sum(-1, keepdim=True)
    _close(q, expected)
    assert (q[:, 5, 2] == 0).all() and (q[:, 9, 0] == 0).all() and (q[:, 13, 13] == 0).all()


def test_knockout_logits_match_a_gpt2_forward_written_by_hand():
    model = tiny_model("gpt2")
    B, T = TOKENS.shape
    mask = torch.zeros(B, T, T, dtype=torch.bool)  # a different edge for each sequence
    mask[0, 4, 1] = mask[1, 7, 7] = mask[2, 12, 3] = mask[2, 12, 4] = True
    expected, patterns = hand_gpt2(model, TOKENS, knockout={(0, 0): mask, (0, 3): mask, (1, 1): mask})
    with attention_knockout(model, [(0, 0), (0, 3), (1, 1)], mask):
        _close(logits_of(model, TOKENS), expected)
        _close(attention_patterns(model, TOKENS), patterns)
    _far(expected, logits_of(model, TOKENS))


def test_knockout_edge_list_and_mask_agree():
    model = tiny_model("llama")
    T = TOKENS.shape[1]
    edges = [(3, 1), (8, 8), (11, 0)]
    mask = torch.zeros(T, T, dtype=torch.bool)
    for q, k in edges:
        mask[q, k] = True
    with attention_knockout(model, [(0, 1), (1, 1)], edges):
        from_edges = logits_of(model, TOKENS)
    with attention_knockout(model, [(0, 1), (1, 1)], mask):
        from_mask = logits_of(model, TOKENS)
    with attention_knockout(model, [(0, 1), (1, 1)], iter(edges)):  # a one-shot iterator works too
        from_iterator = logits_of(model, TOKENS)
        again = logits_of(model, TOKENS)
    assert torch.equal(from_edges, from_mask) and torch.equal(from_edges, from_iterator)
    assert torch.equal(from_iterator, again)


def test_knockout_of_every_visible_key_gives_uniform_attention_over_the_past():
    """A query whose every visible key is blocked attends uniformly to the keys it could see,
    never to later positions."""
    model = tiny_model("gpt2")
    T = TOKENS.shape[1]
    edges = [(4, k) for k in range(5)]  # all keys of query 4
    mask = torch.zeros(T, T, dtype=torch.bool)
    mask[4, :5] = True
    with attention_knockout(model, [(0, 2)], edges):
        got = attention_patterns(model, TOKENS)
        logits = logits_of(model, TOKENS)
    _close(got[0, :, 2, 4], torch.tensor([0.2] * 5 + [0.0] * (T - 5)).expand(3, T))
    expected, _ = hand_gpt2(model, TOKENS, knockout={(0, 2): mask})
    _close(logits, expected)
    # causality holds: changing later tokens does not change the logits at position 4
    later = TOKENS.clone()
    later[:, 5:] = 3
    with attention_knockout(model, [(0, 2)], edges):
        _close(logits_of(model, later)[:, :5], logits[:, :5])


@pytest.mark.parametrize(
    "block, error, message",
    [
        ([(2, 5)], ValueError, "later position"),
        ([(20, 1)], ValueError, "outside a sequence of 14 tokens"),
        ([(-1, 0)], ValueError, "negative"),
        ([(3, 1, 0)], TypeError, r"\(query, key\) pair"),
        ([5], TypeError, r"\(query, key\) pair"),
        ([(3.0, 1)], TypeError, "positions must be ints"),
        (torch.zeros(14, 14), TypeError, "bool tensor"),
        (torch.zeros(13, 13, dtype=torch.bool), ValueError, "T=14"),
        (torch.zeros(2, 14, 14, dtype=torch.bool), ValueError, "batch 2, the input has batch 3"),
        (torch.ones(14, 14, dtype=torch.bool).triu(1), ValueError, "later position"),
        (7, TypeError, "block must be"),
    ],
)
def test_knockout_bad_edges(block, error, message):
    model = tiny_model("gpt2")
    before = logits_of(model, TOKENS)
    with pytest.raises(error, match=message):
        with attention_knockout(model, [(1, 0)], block):
            logits_of(model, TOKENS)
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"
    assert torch.equal(logits_of(model, TOKENS), before)


# --------------------------------------------------------------------------------------
# Bad input to ablate_heads
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"heads": [(2, 0)]}, ValueError, "layer 2 is outside the model"),
        ({"heads": [(0, 4)]}, ValueError, "head 4 is outside layer 0"),
        ({"heads": [(0, -1)]}, ValueError, "outside layer 0"),
        ({"heads": (0, 1)}, TypeError, "single pair"),
        ({"heads": [(0, 1, 2)]}, TypeError, r"\(layer, head\) pair"),
        ({"heads": ["1.2"]}, TypeError, r"\(layer, head\) pair"),
        ({"heads": [(0.0, 1)]}, TypeError, r"\(layer, head\) pair"),
        ({"heads": 3}, TypeError, "iterable of"),
        ({"heads": [(0, 1)], "method": "resample"}, ValueError, "method must be 'zero' or 'mean'"),
        ({"heads": [(0, 1)], "method": "mean"}, ValueError, "needs reference="),
        ({"heads": [(0, 1)], "reference": REFERENCE}, ValueError, "only used by method='mean'"),
        ({"heads": [(0, 1)], "method": "mean", "reference": torch.ones(1, 65, dtype=torch.long)}, ValueError, "longer than"),
        ({"heads": [(0, 1)], "method": "mean", "reference": torch.ones(1, 0, dtype=torch.long)}, ValueError, "empty"),
    ],
)
def test_ablate_heads_bad_input(kwargs, error, message):
    model = tiny_model("gpt2")
    with pytest.raises(error, match=message):
        with ablate_heads(model, **kwargs):
            pass
    assert count_hooks(model) == 0


def test_knockout_keeps_a_model_loaded_with_eager_attention_eager():
    model = tiny_model("mistral", attn_implementation="eager")
    sdpa = tiny_model("mistral")
    with attention_knockout(model, [(1, 1)], [(6, 3)]):
        knocked = logits_of(model, TOKENS)
    with attention_knockout(sdpa, [(1, 1)], [(6, 3)]):
        _close(logits_of(sdpa, TOKENS), knocked)
    assert model.config._attn_implementation == "eager" and count_hooks(model) == 0


def test_knockout_bad_heads():
    model = tiny_model("gpt2")
    with pytest.raises(ValueError, match="layer 5 is outside"):
        with attention_knockout(model, [(5, 0)], [(1, 0)]):
            pass
    with pytest.raises(TypeError, match="single pair"):
        with attention_knockout(model, (0, 0), [(1, 0)]):
            pass
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"


def test_numpy_and_tensor_head_indices_are_accepted():
    import numpy as np

    model = tiny_model("gpt2")
    with ablate_heads(model, [(1, 2)]):
        expected = logits_of(model, TOKENS)
    for head in ((torch.tensor(1), torch.tensor(2)), (np.int64(1), np.int32(2)), torch.tensor([1, 2])):
        with ablate_heads(model, [head]):
            assert torch.equal(logits_of(model, TOKENS), expected)
    with pytest.raises(TypeError, match="single pair"):
        with ablate_heads(model, (np.int64(1), np.int64(2))):
            pass
    with pytest.raises(TypeError, match=r"\(layer, head\) pair of ints"):
        with ablate_heads(model, [(torch.tensor(True), 1)]):
            pass


# --------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------


def _naive_sweep(model, tokens, metric, **kwargs):
    clean = metric(logits_of(model, tokens), tokens)
    out = torch.zeros(N_LAYERS, N_HEADS)
    for layer in range(N_LAYERS):
        for head in range(N_HEADS):
            with ablate_heads(model, [(layer, head)], **kwargs):
                out[layer, head] = metric(logits_of(model, tokens), tokens) - clean
    return out


def _mean_loss(logits, tokens):
    logp = logits[:, :-1].log_softmax(-1)
    return -logp.gather(-1, tokens[:, 1:, None]).mean()


@pytest.mark.parametrize("family", FAMILIES)
def test_sweep_equals_the_naive_loop(family):
    model = tiny_model(family)
    before = logits_of(model, TOKENS)
    for kwargs in ({}, {"method": "mean", "reference": REFERENCE}):
        got = ablation_sweep(model, TOKENS, progress=False, **kwargs)
        assert got.shape == (N_LAYERS, N_HEADS)
        torch.testing.assert_close(got, _naive_sweep(model, TOKENS, _mean_loss, **kwargs), rtol=1e-4, atol=2e-5)
        assert got.abs().max() > 1e-3
    assert count_hooks(model) == 0 and torch.equal(logits_of(model, TOKENS), before)


def test_sweep_with_a_custom_metric_and_inside_an_ablation():
    model = tiny_model("gpt2", n_layers=3)
    tokens = TOKENS

    def last_logit(logits, tokens):  # logit of the true last token at the second to last position
        return logits[:, -2].gather(-1, tokens[:, -1:]).mean()

    n_layers = 3
    naive = torch.zeros(n_layers, N_HEADS)
    clean = last_logit(logits_of(model, tokens), tokens)
    for layer in range(n_layers):
        for head in range(N_HEADS):
            with ablate_heads(model, [(layer, head)]):
                naive[layer, head] = last_logit(logits_of(model, tokens), tokens) - clean
    _close(ablation_sweep(model, tokens, last_logit, progress=False), naive)
    # inside an outer ablation the sweep sees the ablated model, for the clean run too
    with ablate_heads(model, [(0, 0)]):
        clean = last_logit(logits_of(model, tokens), tokens)
        inner = torch.zeros(n_layers, N_HEADS)
        for layer in range(n_layers):
            for head in range(N_HEADS):
                with ablate_heads(model, [(layer, head)]):
                    inner[layer, head] = last_logit(logits_of(model, tokens), tokens) - clean
        _close(ablation_sweep(model, tokens, last_logit, progress=False), inner)
    assert inner[0, 0] == 0


def test_sweep_agrees_with_per_token_loss():
    model = tiny_model("opt")
    effects = ablation_sweep(model, TOKENS, progress=False)
    base = per_token_loss(model, TOKENS).mean()
    with ablate_heads(model, [(1, 3)]):
        _close(effects[1, 3], per_token_loss(model, TOKENS).mean() - base)


def test_sweep_handles_blocks_called_with_hidden_states_as_a_keyword():
    """Guard against a transformers release that calls decoder blocks with hidden_states=...:
    pre-hooks (registered before the sweep's) move the positional input into the keywords."""
    model = tiny_model("llama")
    expected = ablation_sweep(model, TOKENS, progress=False)

    def as_keyword(module, args, kwargs):
        if args:
            return (), {**kwargs, "hidden_states": args[0]}
        return None

    handles = [blk.register_forward_pre_hook(as_keyword, with_kwargs=True) for blk in model.model.layers]
    try:
        torch.testing.assert_close(ablation_sweep(model, TOKENS, progress=False), expected)
    finally:
        for h in handles:
            h.remove()


def test_sweep_restores_the_model_when_the_metric_raises():
    model = tiny_model("gpt_neox")
    before = logits_of(model, TOKENS)
    calls = []

    def metric(logits, tokens):
        calls.append(1)
        if len(calls) == 3:
            raise ArithmeticError("metric failed")
        return logits.mean()

    with pytest.raises(ArithmeticError):
        ablation_sweep(model, TOKENS, metric, progress=False)
    assert count_hooks(model) == 0 and torch.equal(logits_of(model, TOKENS), before)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"method": "resample"}, ValueError, "method must be 'zero' or 'mean'"),
        ({"method": "mean"}, ValueError, "needs reference="),
        ({"reference": REFERENCE}, ValueError, "only used by method='mean'"),
        ({"tokens": torch.ones(1, 65, dtype=torch.long)}, ValueError, "longer than"),
        ({"tokens": torch.ones(1, 1, dtype=torch.long)}, ValueError, "at least 2 tokens"),
        ({"tokens": torch.ones(2, 0, dtype=torch.long)}, ValueError, "empty"),
        ({"metric": "loss"}, TypeError, "metric must be callable"),
    ],
)
def test_sweep_bad_input(kwargs, error, message):
    model = tiny_model("gpt2")
    kwargs = {"tokens": TOKENS, **kwargs}
    with pytest.raises(error, match=message):
        ablation_sweep(model, progress=False, **kwargs)
    assert count_hooks(model) == 0


def test_scores_inside_an_ablation_see_the_ablated_model():
    """Scans compose with ablations: zeroing layer 0 changes layer 1's attention."""
    model = tiny_model("gpt2")
    tokens = torch.cat([TOKENS, TOKENS[:, 1:]], dim=1)
    clean = prefix_matching_scores(model, tokens)
    with ablate_heads(model, [(0, h) for h in range(N_HEADS)]):
        ablated = prefix_matching_scores(model, tokens)
    _close(ablated[0], clean[0])
    _far(ablated[1], clean[1])
