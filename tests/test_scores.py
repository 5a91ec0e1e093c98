"""Head scores (induction_heads.scores) against hand-built cases and independent computations.

Attention patterns are compared with transformers' own ``output_attentions`` on a twin model
*built* with eager attention, and for GPT-2 with a forward pass written out by hand; copying
scores with a brute-force eigen-decomposition of the full vocab x vocab OV matrix.
"""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from _tiny import (
    D_HEAD,
    FAMILIES,
    GQA_FAMILIES,
    N_HEADS,
    N_LAYERS,
    VOCAB,
    attn_by_name,
    attn_norm_by_name,
    blocks,
    count_hooks,
    eager_twin,
    final_norm_by_name,
    hand_gpt2,
    hf_attentions,
    logits_of,
    out_proj_by_name,
    random_tokens,
    tiny_model,
    tiny_tokenizer,
)

from induction_heads.models import get_adapter
from induction_heads.probes import repeated_tokens
from induction_heads.scores import (
    attention_patterns,
    copying_scores,
    head_name,
    ov_circuit_eigenvalues,
    prefix_matching_score_from_pattern,
    prefix_matching_scores,
    previous_token_score_from_pattern,
    previous_token_scores,
    random_heads_like,
    scan_attention,
    text_attention,
    top_heads,
)

BOS, A, B, C = 0, 10, 11, 12

# --------------------------------------------------------------------------------------
# Prefix matching on hand-built patterns
# --------------------------------------------------------------------------------------


def _pattern(T, rows):
    """A causal pattern: ``rows`` maps query -> {key: weight}; the rest of each row goes to BOS."""
    p = torch.zeros(T, T)
    for i in range(T):
        p[i, 0] = 1.0
    for i, weights in rows.items():
        p[i] = 0
        for k, w in weights.items():
            p[i, k] += w
        p[i, 0] += 1 - sum(weights.values())
    return p


ABCABC = torch.tensor([BOS, A, B, C, A, B, C])  # queries 4, 5, 6 have earlier occurrences


def test_prefix_matching_perfect_induction_head_scores_one():
    # query 4 (A) -> 2 (B, after the earlier A); 5 (B) -> 3; 6 (C) -> 4.
    p = _pattern(7, {4: {2: 1.0}, 5: {3: 1.0}, 6: {4: 1.0}})
    assert prefix_matching_score_from_pattern(p, ABCABC).item() == pytest.approx(1.0)


def test_prefix_matching_hand_computed_mixture():
    p = _pattern(7, {4: {2: 0.5}, 5: {3: 0.25, 2: 0.5}, 6: {4: 1.0}})
    # (0.5 + 0.25 + 1) / 3: attention to 2 from query 5 does not count (2 follows no earlier B)
    assert prefix_matching_score_from_pattern(p, ABCABC).item() == pytest.approx(1.75 / 3)


@pytest.mark.parametrize(
    "name, rows",
    [
        ("current token (diagonal)", {4: {4: 1.0}, 5: {5: 1.0}, 6: {6: 1.0}}),
        ("the earlier occurrence itself (one too early)", {4: {1: 1.0}, 5: {2: 1.0}, 6: {3: 1.0}}),
        ("one past the target", {4: {3: 1.0}, 5: {4: 1.0}, 6: {5: 1.0}}),
        ("previous token", {4: {3: 1.0}, 5: {4: 1.0}, 6: {5: 1.0}}),
        ("BOS only", {}),
    ],
)
def test_prefix_matching_off_target_patterns_score_zero(name, rows):
    p = _pattern(7, rows)
    assert prefix_matching_score_from_pattern(p, ABCABC).item() == pytest.approx(0.0), name


def test_prefix_matching_counts_every_earlier_occurrence_and_only_repeated_queries():
    tokens = torch.tensor([BOS, A, B, A, B, A])
    # query 3 (A): earlier A at 1 -> key 2; query 4 (B): earlier B at 2 -> key 3;
    # query 5 (A): earlier A at 1 and 3 -> keys 2 and 4 (total attention to both).
    p = _pattern(6, {1: {1: 1.0}, 2: {1: 1.0}, 3: {2: 1.0}, 4: {3: 0.5}, 5: {2: 0.3, 4: 0.4}})
    assert prefix_matching_score_from_pattern(p, tokens).item() == pytest.approx((1 + 0.5 + 0.7) / 3)


def test_prefix_matching_adjacent_repeat_targets_the_current_position():
    # "A A": the earlier A is at 1, the position right after it is the query itself.
    p = _pattern(3, {2: {2: 0.6}})
    assert prefix_matching_score_from_pattern(p, torch.tensor([BOS, A, A])).item() == pytest.approx(0.6)


def test_prefix_matching_pools_queries_over_the_batch():
    perfect = _pattern(7, {4: {2: 1.0}, 5: {3: 1.0}, 6: {4: 1.0}})
    tokens = torch.stack([ABCABC, torch.tensor([BOS, 5, 6, 7, 8, 9, 5])])  # 3 queries + 1 query
    pattern = torch.stack([perfect, _pattern(7, {})])[:, None]  # [batch 2, 1 head, 7, 7]
    # Pooled over the 4 queries: 3/4 (not the mean of per-sequence scores, 1/2).
    assert prefix_matching_score_from_pattern(pattern, tokens).tolist() == pytest.approx([0.75])


def test_prefix_matching_shapes():
    perfect = _pattern(7, {4: {2: 1.0}, 5: {3: 1.0}, 6: {4: 1.0}})
    heads = torch.stack([perfect, _pattern(7, {})])  # [2 heads, T, T]
    assert prefix_matching_score_from_pattern(perfect, ABCABC).dim() == 0
    assert prefix_matching_score_from_pattern(heads, ABCABC).tolist() == pytest.approx([1.0, 0.0])
    assert prefix_matching_score_from_pattern(heads[None], ABCABC[None]).tolist() == pytest.approx([1.0, 0.0])


def test_prefix_matching_pattern_errors():
    with pytest.raises(ValueError, match="no token repeats"):
        prefix_matching_score_from_pattern(torch.eye(4), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="do not match the pattern"):
        prefix_matching_score_from_pattern(torch.eye(4), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="two equal dimensions"):
        prefix_matching_score_from_pattern(torch.zeros(4, 3), torch.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="pattern must be a tensor"):
        prefix_matching_score_from_pattern([[1.0]], torch.tensor([0]))
    with pytest.raises(ValueError, match="pattern must be"):
        prefix_matching_score_from_pattern(torch.zeros(1, 1, 1, 4, 4), torch.tensor([0, 1, 1, 0]))


def test_previous_token_score_hand_pattern():
    p = _pattern(4, {1: {0: 0.0}, 2: {1: 0.5}, 3: {2: 1.0}})
    # row 1 puts all its weight on BOS = position 0 = its previous token
    assert previous_token_score_from_pattern(p).item() == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    diag = torch.eye(4)
    assert previous_token_score_from_pattern(diag).item() == 0.0
    with pytest.raises(ValueError, match="at least 2 tokens"):
        previous_token_score_from_pattern(torch.ones(1, 1))


# --------------------------------------------------------------------------------------
# Attention patterns from the model
# --------------------------------------------------------------------------------------


def _probe(seed=0):
    tokenizer = tiny_tokenizer()
    return repeated_tokens(tokenizer, seq_len=8, n_repeats=3, batch=3, seed=seed)


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_patterns_equal_transformers_output_attentions(family):
    model = tiny_model(family)
    tokens = random_tokens((2, 15), seed=2)
    got = attention_patterns(model, tokens)
    expected = hf_attentions(model, tokens)
    assert got.shape == (N_LAYERS, 2, N_HEADS, 15, 15)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(attention_patterns(model, tokens, layers=[1]), expected[1:], rtol=1e-5, atol=1e-6)
    assert model.config._attn_implementation == "sdpa"


def test_attention_patterns_equal_a_gpt2_forward_written_by_hand():
    model = tiny_model("gpt2")
    tokens = random_tokens((2, 12), seed=5)
    _, patterns = hand_gpt2(model, tokens)
    torch.testing.assert_close(attention_patterns(model, tokens), patterns, rtol=1e-5, atol=1e-6)


def _brute_prefix(patterns, tokens):
    """Loop over every query and every earlier occurrence of its token."""
    L, _, H = patterns.shape[:3]
    total = torch.zeros(L, H, dtype=torch.float64)
    n = 0
    for b, row in enumerate(tokens.tolist()):
        for i, tok in enumerate(row):
            earlier = [j for j in range(i) if row[j] == tok]
            if earlier:
                n += 1
                for j in earlier:
                    total += patterns[:, b, :, i, j + 1].double()
    return (total / n).float()


@pytest.mark.parametrize("family", FAMILIES)
def test_prefix_matching_scores_against_brute_force(family):
    model = tiny_model(family)
    for tokens in (_probe(), random_tokens((3, 30), seed=7, high=20)):  # the second repeats at random
        expected = _brute_prefix(hf_attentions(model, tokens), tokens)
        got = prefix_matching_scores(model, tokens)
        assert got.shape == (N_LAYERS, N_HEADS)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
        assert ((got >= 0) & (got <= 1)).all()


@pytest.mark.parametrize("family", FAMILIES)
def test_previous_token_scores_against_brute_force(family):
    model = tiny_model(family)
    tokens = random_tokens((3, 17), seed=8)
    att = hf_attentions(model, tokens)
    expected = torch.zeros(N_LAYERS, N_HEADS)
    for l in range(N_LAYERS):
        for h in range(N_HEADS):
            expected[l, h] = sum(att[l, b, h, i, i - 1] for b in range(3) for i in range(1, 17)) / (3 * 16)
    torch.testing.assert_close(previous_token_scores(model, tokens), expected, rtol=1e-5, atol=1e-6)


def test_scores_work_whatever_attention_implementation_was_loaded():
    tokens = _probe()
    sdpa = tiny_model("qwen2")
    eager = tiny_model("qwen2", attn_implementation="eager")
    torch.testing.assert_close(prefix_matching_scores(sdpa, tokens), prefix_matching_scores(eager, tokens))
    assert sdpa.config._attn_implementation == "sdpa" and eager.config._attn_implementation == "eager"


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_scans_leave_the_model_unchanged(family):
    model = tiny_model(family)
    tokens = _probe()
    before = logits_of(model, tokens)
    prefix_matching_scores(model, tokens)
    previous_token_scores(model, tokens)
    attention_patterns(model, tokens, layers=[0])
    assert count_hooks(model) == 0
    assert model.config._attn_implementation == "sdpa"
    assert torch.equal(logits_of(model, tokens), before)

    def broken(layer, pattern):
        raise ZeroDivisionError("reducer failed")

    with pytest.raises(ZeroDivisionError):
        scan_attention(model, tokens, broken)
    assert count_hooks(model) == 0
    assert model.config._attn_implementation == "sdpa"
    assert torch.equal(logits_of(model, tokens), before)


def test_scan_stops_after_the_last_needed_layer_and_never_unembeds():
    model = tiny_model("gpt2", n_layers=3)
    calls = []
    handles = [attn_by_name(model, l).register_forward_hook(lambda m, a, o, l=l: calls.append(l)) for l in range(3)]
    handles.append(model.lm_head.register_forward_hook(lambda m, a, o: calls.append("lm_head")))
    try:
        prefix_matching_scores(model, _probe())
        assert calls == [0, 1, 2]
        calls.clear()
        attention_patterns(model, _probe(), layers=[1])
        assert calls == [0, 1]
    finally:
        for h in handles:
            h.remove()


# --------------------------------------------------------------------------------------
# A scan does not hold every layer's attention at once
# --------------------------------------------------------------------------------------


def _observe_patterns(model, n_layers):
    """Hooks that run *before* the library's: each keeps a weak reference to the memory of the
    attention weights its module returned and records which earlier layers' are still alive."""
    refs, alive = {}, {}

    def make(layer):
        def hook(module, args, output):
            alive[layer] = sorted(l for l, r in refs.items() if r() is not None)
            # the storage, not the tensor object: a detached view or alias keeps the storage alive
            refs[layer] = weakref.ref(output[1].untyped_storage())

        return hook

    handles = [attn_by_name(model, l).register_forward_hook(make(l)) for l in range(n_layers)]
    return refs, alive, handles


@pytest.mark.parametrize("family", ["gpt2", "gpt_neox", "mistral", "opt"])
def test_scan_frees_each_layers_pattern_before_the_next_layer_runs(family):
    n_layers = 4
    model = tiny_model(family, n_layers=n_layers)
    tokens = _probe()
    refs, alive, handles = _observe_patterns(model, n_layers)
    try:
        scores = prefix_matching_scores(model, tokens)
        previous_token_scores(model, tokens)
    finally:
        for h in handles:
            h.remove()
    assert scores.shape == (n_layers, N_HEADS)
    assert alive == {l: [] for l in range(n_layers)}
    gc.collect()
    assert all(r() is None for r in refs.values())


def test_the_memory_check_detects_patterns_that_are_kept():
    """Controls: code that keeps the patterns (transformers' output_attentions, or asking
    for every layer's pattern) makes the same check fail."""
    n_layers = 4
    model = tiny_model("gpt2", n_layers=n_layers)
    twin = eager_twin(model)
    tokens = _probe()
    for run in (
        lambda: twin(input_ids=tokens, output_attentions=True, use_cache=False),
        lambda: attention_patterns(twin, tokens),
    ):
        refs, alive, handles = _observe_patterns(twin, n_layers)
        try:
            kept = run()
        finally:
            for h in handles:
                h.remove()
        assert alive[n_layers - 1] == [0, 1, 2]
        del kept


# --------------------------------------------------------------------------------------
# text_attention
# --------------------------------------------------------------------------------------


def test_text_attention_tokens_and_patterns():
    model = tiny_model("gpt2")
    tokenizer = tiny_tokenizer()
    strings, patterns = text_attention(model, tokenizer, "w5 w6 w5 w6")
    assert strings == ["<bos>", "w5", "w6", "w5", "w6"]
    expected = hf_attentions(model, torch.tensor([[0, 5, 6, 5, 6]]))[:, 0]
    torch.testing.assert_close(patterns, expected, rtol=1e-5, atol=1e-6)
    for bad in ("", "   ", None):
        with pytest.raises(ValueError, match="non-empty string"):
            text_attention(model, tokenizer, bad)


# --------------------------------------------------------------------------------------
# Copying scores
# --------------------------------------------------------------------------------------


def _weights_by_name(model, layer, head, kv_of=lambda h: h // 2):
    """(W_E, gamma_attn, W_V, W_O, gamma_final, W_U), read by module names (float64)."""
    t = model.config.model_type
    d = model.config.hidden_size
    dh = D_HEAD
    blk = blocks(model)[layer]
    hs = slice(head * dh, (head + 1) * dh)
    if t == "gpt2":
        W_E = model.transformer.wte.weight
        W_V = blk.attn.c_attn.weight[:, 2 * d + head * dh: 2 * d + (head + 1) * dh]  # Conv1D: [in, out]
        W_O = blk.attn.c_proj.weight[hs, :]
        W_U = model.lm_head.weight.T
    elif t == "gpt_neox":
        W_E = model.gpt_neox.embed_in.weight
        rows = slice(head * 3 * dh + 2 * dh, head * 3 * dh + 3 * dh)  # per head [q k v]
        W_V = blk.attention.query_key_value.weight[rows].T
        W_O = blk.attention.dense.weight[:, hs].T
        W_U = model.lm_head.weight.T  # `embed_out` before transformers 5
    elif t == "opt":
        dec = model.model.decoder
        W_E = dec.embed_tokens.weight @ dec.project_in.weight.T
        W_V = blk.self_attn.v_proj.weight[hs].T
        W_O = blk.self_attn.out_proj.weight[:, hs].T
        W_U = dec.project_out.weight.T @ model.lm_head.weight.T
    else:
        g = kv_of(head)
        W_E = model.model.embed_tokens.weight
        W_V = blk.self_attn.v_proj.weight[g * dh:(g + 1) * dh].T
        W_O = blk.self_attn.o_proj.weight[:, hs].T
        W_U = model.lm_head.weight.T
    norm = attn_norm_by_name(model, layer)
    g_attn = norm.weight if norm is not None else torch.ones(d)
    g_final = final_norm_by_name(model).weight
    return [w.detach().double() for w in (W_E, g_attn, W_V, W_O, g_final, W_U)]


def _brute_eigen_score(model, layer, head, **kw):
    W_E, g1, W_V, W_O, gf, W_U = _weights_by_name(model, layer, head, **kw)
    full = (W_E * g1) @ W_V @ W_O @ (gf[:, None] * W_U)  # vocab x vocab
    assert full.shape == (VOCAB, VOCAB)
    lam = torch.linalg.eigvals(full)
    return (lam.sum().real / lam.abs().sum()).item(), lam


@pytest.mark.parametrize("family", FAMILIES)
def test_copying_eigen_against_full_vocab_eigendecomposition(family):
    model = tiny_model(family)
    got = copying_scores(model)
    assert got.shape == (N_LAYERS, N_HEADS)
    for layer in range(N_LAYERS):
        for head in range(N_HEADS):
            expected, lam = _brute_eigen_score(model, layer, head)
            assert got[layer, head].item() == pytest.approx(expected, abs=1e-5)
            # the d_head eigenvalues of the small matrix are the non-zero ones of the big one
            small = ov_circuit_eigenvalues(model, layer, head)
            assert small.shape == (D_HEAD,)
            big = lam[lam.abs() > 1e-9 * lam.abs().max()]
            assert len(big) == D_HEAD
            distance = (small.to(big.dtype)[:, None] - big[None, :]).abs()
            assert distance.min(1).values.max() < 1e-5 * lam.abs().max()
            assert distance.min(0).values.max() < 1e-5 * lam.abs().max()
    assert ((got >= -1) & (got <= 1)).all()


@pytest.mark.parametrize("family", GQA_FAMILIES)
def test_copying_eigen_uses_the_right_key_value_head_under_gqa(family):
    model = tiny_model(family)
    got = copying_scores(model)
    differs = 0
    for layer in range(N_LAYERS):
        for head in range(N_HEADS):
            right, _ = _brute_eigen_score(model, layer, head, kv_of=lambda h: h // 2)
            wrong, _ = _brute_eigen_score(model, layer, head, kv_of=lambda h: h % 2)
            assert got[layer, head].item() == pytest.approx(right, abs=1e-5)
            if abs(wrong - right) > 1e-3:
                differs += 1
                assert got[layer, head].item() != pytest.approx(wrong, abs=1e-5)
    assert differs >= 2  # the wrong mapping (h % n_kv) would have changed the result


@pytest.mark.parametrize("sign", [1.0, -1.0, 0.0])
def test_copying_eigen_hand_cases(sign):
    """Tied embeddings, unit norm weights, W_O = ±W_V^T: the OV circuit is ±(W_E W_V)(W_E W_V)^T,
    positive (negative) semi-definite, so the score is +1 (-1). With W_O = R W_V^T for an
    antisymmetric R the circuit is antisymmetric: imaginary eigenvalues, score 0."""
    model = tiny_model("gpt2")
    assert model.lm_head.weight is model.transformer.wte.weight
    d = model.config.n_embd
    with torch.no_grad():
        blk = model.transformer.h[1]
        blk.ln_1.weight.fill_(1.0)
        model.transformer.ln_f.weight.fill_(1.0)
        W_V = blk.attn.c_attn.weight[:, 2 * d + 2 * D_HEAD: 2 * d + 3 * D_HEAD]  # head 2
        if sign == 0.0:
            R = torch.zeros(D_HEAD, D_HEAD)
            for i in range(0, D_HEAD, 2):
                R[i, i + 1], R[i + 1, i] = 1.0, -1.0
            W_O = R @ W_V.T
        else:
            W_O = sign * W_V.T
        blk.attn.c_proj.weight[2 * D_HEAD:3 * D_HEAD, :] = W_O
    assert copying_scores(model)[1, 2].item() == pytest.approx(sign, abs=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_copying_logit_against_a_hand_computation(family):
    model = tiny_model(family)
    adapter = get_adapter(model)  # W_V / W_O checked functionally in test_models
    final = final_norm_by_name(model)
    centering = isinstance(final, torch.nn.LayerNorm)
    got = copying_scores(model, method="logit", n_tokens=None)
    for layer in range(N_LAYERS):
        W_E, _, _, _, g_final, W_U = _weights_by_name(model, layer, 0)
        norm = attn_norm_by_name(model, layer)
        for head in range(N_HEADS):
            W_V = adapter.W_V(layer, head).detach().double()
            W_O = adapter.W_O(layer, head).detach().double()
            fractions = []
            for t in range(VOCAB):
                e = W_E[t].float()
                x = (norm(e) if norm is not None else e).detach().double()
                out = x @ W_V @ W_O
                if centering:
                    out = out - out.mean()
                logits = (out * g_final) @ W_U
                fractions.append(int((logits < logits[t]).sum()) / (VOCAB - 1))  # t is not below itself
            assert got[layer, head].item() == pytest.approx(sum(fractions) / VOCAB, abs=1e-4)
    assert ((got >= 0) & (got <= 1)).all()


def test_copying_logit_token_pool():
    model = tiny_model("gpt2")
    tokenizer = tiny_tokenizer()
    everything = copying_scores(model, method="logit", n_tokens=None)
    torch.testing.assert_close(copying_scores(model, method="logit", n_tokens=10_000), everything)
    sub = copying_scores(model, method="logit", n_tokens=10, seed=1)
    torch.testing.assert_close(copying_scores(model, method="logit", n_tokens=10, seed=1), sub)
    assert not torch.equal(sub, everything)
    # with a tokenizer, special tokens (ids 0-2) are never the attended token
    ordinary = copying_scores(model, method="logit", n_tokens=None, tokenizer=tokenizer)
    assert not torch.equal(ordinary, everything)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"method": "svd"}, ValueError, "method must be 'eigen' or 'logit'"),
        ({"method": "logit", "n_tokens": 0}, ValueError, "n_tokens must be"),
        ({"method": "logit", "n_tokens": 2.5}, TypeError, "n_tokens must be"),
    ],
)
def test_copying_scores_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        copying_scores(tiny_model("gpt2"), **kwargs)


def test_ov_circuit_eigenvalues_checks_the_head():
    model = tiny_model("gpt2")
    with pytest.raises(ValueError, match="outside the model"):
        ov_circuit_eigenvalues(model, 2, 0)
    with pytest.raises(ValueError, match="head 4 is outside layer 0"):
        ov_circuit_eigenvalues(model, 0, 4)


# --------------------------------------------------------------------------------------
# Choosing heads
# --------------------------------------------------------------------------------------


def test_top_heads_order_and_ties():
    scores = torch.tensor([[0.1, 0.9, 0.3, 0.9], [0.5, 0.2, 0.95, 0.0]])
    assert top_heads(scores, k=3) == [(1, 2), (0, 1), (0, 3)]  # tie 0.1 / 0.3 keeps index order
    assert top_heads(scores, k=8)[-1] == (1, 3)
    assert top_heads(scores, fraction=0.25) == [(1, 2), (0, 1)]


def test_top_heads_above_a_threshold():
    scores = torch.tensor([[0.1, 0.9, 0.3, 0.6], [0.5, 0.2, 0.95, 0.0]])
    assert top_heads(scores, threshold=0.5) == [(1, 2), (0, 1), (0, 3)]  # 0.5 itself is not above
    assert top_heads(scores, threshold=0.0) == [(1, 2), (0, 1), (0, 3), (1, 0), (0, 2), (1, 1), (0, 0)]
    assert top_heads(scores, threshold=0.95) == []


@pytest.mark.parametrize(
    "shape, fraction, count",
    [
        ((12, 12), 0.01, 1),  # 1.44 -> 1
        ((12, 12), 0.03, 4),  # 4.32 -> 4
        ((32, 32), 0.01, 10),  # Llama-3-8B: 10.24 -> 10
        ((32, 32), 0.03, 31),  # 30.72 -> 31
        ((2, 4), 0.01, 1),  # at least one head
        ((2, 4), 0.1875, 2),  # 1.5 -> 2 (halves round up)
        ((2, 4), 0.3125, 3),  # 2.5 -> 3
        ((2, 4), 1.0, 8),
    ],
)
def test_top_heads_fraction_rounding(shape, fraction, count):
    scores = torch.arange(shape[0] * shape[1], dtype=torch.float32).reshape(shape)
    heads = top_heads(scores, fraction=fraction)
    assert len(heads) == count
    n = shape[0] * shape[1]
    assert heads == [((n - 1 - i) // shape[1], (n - 1 - i) % shape[1]) for i in range(count)]


@pytest.mark.parametrize(
    "scores, kwargs, error, message",
    [
        (torch.zeros(2, 4), {}, ValueError, "exactly one of fraction=, k= or threshold="),
        (torch.zeros(2, 4), {"k": 1, "fraction": 0.1}, ValueError, "exactly one of fraction=, k= or threshold="),
        (torch.zeros(2, 4), {"k": 1, "threshold": 0.5}, ValueError, "exactly one of fraction=, k= or threshold="),
        (torch.zeros(2, 4), {"threshold": "0.5"}, TypeError, "threshold must be a number"),
        (torch.zeros(2, 4), {"threshold": float("nan")}, TypeError, "threshold must be a number"),
        (torch.zeros(2, 4), {"k": 0}, ValueError, "k must be an int between 1 and 8"),
        (torch.zeros(2, 4), {"k": 9}, ValueError, "k must be an int between 1 and 8"),
        (torch.zeros(2, 4), {"k": 2.0}, ValueError, "k must be an int"),
        (torch.zeros(2, 4), {"k": True}, ValueError, "k must be an int"),
        (torch.zeros(2, 4), {"fraction": 0.0}, ValueError, r"fraction must be in \(0, 1\]"),
        (torch.zeros(2, 4), {"fraction": 1.5}, ValueError, r"fraction must be in \(0, 1\]"),
        (torch.zeros(2, 4), {"fraction": "1%"}, TypeError, "fraction must be a number"),
        (torch.zeros(8), {"k": 1}, ValueError, r"\[n_layers, n_heads\]"),
        ([[0.0, 1.0]], {"k": 1}, ValueError, r"\[n_layers, n_heads\]"),
        (torch.tensor([[0.0, float("nan")]]), {"k": 1}, ValueError, "NaN"),
    ],
)
def test_top_heads_bad_arguments(scores, kwargs, error, message):
    with pytest.raises(error, match=message):
        top_heads(scores, **kwargs)


def test_random_heads_like_matches_counts_per_layer_and_excludes_the_chosen():
    model = tiny_model("gpt2", n_layers=3)
    chosen = [(0, 1), (2, 2), (2, 3)]
    seen = set()
    for seed in range(30):
        control = random_heads_like(chosen, model, seed=seed)
        assert sorted(l for l, _ in control) == [0, 2, 2]
        assert not set(control) & set(chosen)
        assert len(set(control)) == 3
        assert all(0 <= h < N_HEADS for _, h in control)
        seen |= set(control)
    assert seen == {(0, 0), (0, 2), (0, 3), (2, 0), (2, 1)}  # every allowed head gets drawn
    assert random_heads_like(chosen, model, seed=4) == random_heads_like(chosen, model, seed=4)


def test_random_heads_like_ignores_duplicates_and_refuses_full_layers():
    model = tiny_model("gpt2")
    control = random_heads_like([(1, 0), (1, 0)], model, seed=0)
    assert len(control) == 1 and control[0][0] == 1 and control[0] != (1, 0)
    with pytest.raises(ValueError, match="layer 0 has only 0 heads outside the chosen ones"):
        random_heads_like([(0, h) for h in range(N_HEADS)], model)


def test_random_heads_anywhere_draws_the_same_count_outside_the_chosen():
    # 2 layers x 4 heads; three chosen heads fill most of layer 1 (as in toy-2l): a same-layer
    # control is impossible, a control drawn anywhere takes 3 of the 5 other heads.
    model = tiny_model("gpt2")
    chosen = [(1, 1), (1, 2), (1, 3)]
    with pytest.raises(ValueError, match="layer 1 has only 1 heads outside the chosen ones"):
        random_heads_like(chosen, model)
    allowed = {(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)}
    seen = set()
    for seed in range(30):
        control = random_heads_like(chosen, model, seed=seed, same_layers=False)
        assert len(control) == 3 == len(set(control)) and set(control) <= allowed
        assert control == sorted(control)
        seen |= set(control)
    assert seen == allowed
    assert random_heads_like(chosen, model, seed=7, same_layers=False) == \
        random_heads_like(chosen, model, seed=7, same_layers=False)
    with pytest.raises(ValueError, match="only 3 heads outside the chosen and excluded ones"):
        random_heads_like([(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)], model, same_layers=False)
    # excluding the previous-token head 0.0 as well leaves 4 allowed heads
    seen = set()
    for seed in range(30):
        control = random_heads_like(chosen, model, seed=seed, same_layers=False, exclude=[(0, 0)])
        assert len(set(control)) == 3 and set(control) <= allowed - {(0, 0)}
        seen |= set(control)
    assert seen == allowed - {(0, 0)}
    with pytest.raises(ValueError, match="only 2 heads outside the chosen and excluded ones"):
        random_heads_like(chosen, model, same_layers=False, exclude=[(0, 0), (0, 1), (0, 2)])
    with pytest.raises(ValueError, match="outside the model"):
        random_heads_like(chosen, model, same_layers=False, exclude=[(5, 0)])
    # per layer too: excluded heads are never drawn
    for seed in range(10):
        assert (0, 1) not in random_heads_like([(0, 0)], model, seed=seed, exclude=[(0, 1)])


@pytest.mark.parametrize(
    "heads, error, message",
    [
        ([(2, 0)], ValueError, "layer 2 is outside the model"),
        ([(0, 4)], ValueError, "head 4 is outside layer 0"),
        ([(-1, 0)], ValueError, "outside the model"),
        ([(0,)], TypeError, r"\(layer, head\) pair"),
        (["0.1"], TypeError, r"\(layer, head\) pair"),
        ([(0, 1.0)], TypeError, r"\(layer, head\) pair"),
        ([(True, 1)], TypeError, r"\(layer, head\) pair"),
        ((0, 1), TypeError, "single pair"),
        (5, TypeError, "iterable of"),
    ],
)
def test_random_heads_like_bad_heads(heads, error, message):
    with pytest.raises(error, match=message):
        random_heads_like(heads, tiny_model("gpt2"))


def test_head_name():
    assert head_name((5, 1)) == "5.1" and head_name(torch.tensor([7, 10])) == "7.10"


# --------------------------------------------------------------------------------------
# Bad input to the model-level scores
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: prefix_matching_scores(m, torch.ones(1, 65, dtype=torch.long)), ValueError, "longer than the model's context"),
        (lambda m: prefix_matching_scores(m, torch.ones(1, 0, dtype=torch.long)), ValueError, "empty"),
        (lambda m: prefix_matching_scores(m, torch.arange(5)[None]), ValueError, "no token repeats"),
        (lambda m: previous_token_scores(m, torch.ones(1, 1, dtype=torch.long)), ValueError, "at least 2 tokens"),
        (lambda m: attention_patterns(m, torch.ones(1, 65, dtype=torch.long)), ValueError, "longer than the model's context"),
        (lambda m: attention_patterns(m, torch.ones(1, 3, dtype=torch.long), layers=[2]), ValueError, "layer 2 is outside"),
        (lambda m: attention_patterns(m, torch.ones(1, 3, dtype=torch.long), layers=["0"]), TypeError, "layers must be ints"),
        (lambda m: prefix_matching_scores(m, torch.ones(1, 3)), TypeError, "integer token ids"),
    ],
)
def test_model_level_scores_bad_input(call, error, message):
    model = tiny_model("gpt2")
    with pytest.raises(error, match=message):
        call(model)
    assert count_hooks(model) == 0 and model.config._attn_implementation == "sdpa"
