"""The closing chapters' experiments (induction_heads.experiments).

References: attention and logits recomputed here from the weights (GPT-2 written out by hand in
``_tiny.hand_gpt2``, and a smeared-key layer written with explicit loops below), cross-entropy
from logits, hand-worked token sequences, and counts worked out on paper.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _tiny import count_hooks, hand_gpt2, logits_of, tiny_model, tiny_tokenizer

from induction_heads.experiments import (
    TINY_CONFIG,
    SmearedKeys,
    add_smeared_keys,
    copy_candidates,
    copy_misleading,
    copy_outcome_losses,
    copy_outcomes,
    divergent_repeats,
    explicit_induction_losses,
    has_smeared_keys,
    induction_rule_logprobs,
    plot_curves,
    plot_runs,
    plot_score_panels,
    plot_upstream_ablation,
    probe_sensitivity,
    quick_train,
    selection_sizes,
    smeared_key_mix,
    toy_language_text,
    upstream_ablation,
)
from induction_heads.metrics import per_token_loss
from induction_heads.probes import ordinary_token_ids, repeated_tokens
from induction_heads.scores import attention_patterns
from induction_heads.training.record import best_scores
from induction_heads.training.words import VOCABULARY


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model():
    return tiny_model("gpt2")


# --------------------------------------------------------------------------------------
# Smeared keys
# --------------------------------------------------------------------------------------


def test_smeared_keys_mix_current_and_previous_key_per_head():
    smear = SmearedKeys(n_heads=2, d_head=3, init_mix=0.25)
    with torch.no_grad():
        smear.logit[1] = math.log(0.9 / 0.1)  # head 1: mix 0.9
    keys = torch.arange(2 * 4 * 6, dtype=torch.float32).view(2, 4, 6)
    out = smear(keys)
    expected = keys.clone()
    for b in range(2):
        for t in range(1, 4):
            expected[b, t, 0:3] = 0.25 * keys[b, t, 0:3] + 0.75 * keys[b, t - 1, 0:3]
            expected[b, t, 3:6] = 0.9 * keys[b, t, 3:6] + 0.1 * keys[b, t - 1, 3:6]
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(smear.mix, torch.tensor([0.25, 0.9]))


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, True, "0.5"])
def test_smeared_keys_reject_bad_mix(bad):
    with pytest.raises((ValueError, TypeError)):
        SmearedKeys(2, 3, init_mix=bad)


def _hand_smeared_layer0(model, tokens, mix):
    """Layer 0's attention of a GPT-2 whose keys are smeared with per-head ``mix``, by hand."""
    tr = model.transformer
    blk = tr.h[0]
    B, T = tokens.shape
    d, H = model.config.n_embd, model.config.n_head
    dh = d // H
    x = tr.wte.weight[tokens] + tr.wpe.weight[torch.arange(T)][None]
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    a = (x - mu) / torch.sqrt(var + blk.ln_1.eps) * blk.ln_1.weight + blk.ln_1.bias
    qkv = a @ blk.attn.c_attn.weight + blk.attn.c_attn.bias
    q, k, _ = qkv.split(d, dim=-1)
    q = q.view(B, T, H, dh)
    k = k.view(B, T, H, dh)
    smeared = k.clone()
    for h in range(H):
        for t in range(1, T):
            smeared[:, t, h] = mix[h] * k[:, t, h] + (1 - mix[h]) * k[:, t - 1, h]
    patterns = torch.zeros(B, H, T, T)
    for h in range(H):
        scores = q[:, :, h] @ smeared[:, :, h].transpose(-1, -2) / math.sqrt(dh)
        scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        patterns[:, h] = scores.softmax(-1)
    return patterns


def test_add_smeared_keys_changes_attention_as_written_by_hand():
    model = tiny_model("gpt2", seed=3)
    add_smeared_keys(model, init_mix=0.3)
    tokens = torch.randint(3, 64, (2, 9), generator=torch.Generator().manual_seed(0))
    got = attention_patterns(model, tokens, layers=[0])[0]
    with torch.no_grad():
        expected = _hand_smeared_layer0(model, tokens, [0.3] * model.config.n_head)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    assert model.config.use_cache is False
    assert smeared_key_mix(model).shape == (model.config.n_layer, model.config.n_head)


def test_smeared_keys_with_mix_near_one_leave_the_model_unchanged(model):
    tokens = torch.randint(3, 64, (2, 10), generator=torch.Generator().manual_seed(1))
    reference = logits_of(model, tokens)
    smeared = tiny_model("gpt2")  # same seed, same weights
    add_smeared_keys(smeared, init_mix=1 - 1e-7)
    torch.testing.assert_close(logits_of(smeared, tokens), reference, atol=1e-4, rtol=1e-4)


def test_smeared_keys_are_trainable_parameters():
    model = tiny_model("gpt2")
    n_before = sum(p.numel() for p in model.parameters())
    add_smeared_keys(model)
    n_after = sum(p.numel() for p in model.parameters())
    assert n_after - n_before == model.config.n_layer * model.config.n_head
    tokens = torch.randint(3, 64, (2, 8), generator=torch.Generator().manual_seed(2))
    model(input_ids=tokens, labels=tokens, use_cache=False).loss.backward()
    for block in model.transformer.h:
        assert block.attn.smeared_keys.logit.grad is not None
        assert float(block.attn.smeared_keys.logit.grad.abs().sum()) > 0


def test_add_smeared_keys_rejects_other_families_and_twice():
    with pytest.raises(TypeError, match="GPT-2"):
        add_smeared_keys(tiny_model("gpt_neox"))
    model = tiny_model("gpt2")
    add_smeared_keys(model)
    assert has_smeared_keys(model)
    with pytest.raises(ValueError, match="already"):
        add_smeared_keys(model)
    with pytest.raises(ValueError, match="no smeared keys"):
        smeared_key_mix(tiny_model("gpt2"))


# --------------------------------------------------------------------------------------
# Quick training
# --------------------------------------------------------------------------------------


def test_quick_train_record_has_the_training_record_keys_and_is_deterministic():
    config = TINY_CONFIG.replace(max_steps=4, eval_every=2)
    threads = torch.get_num_threads()
    a = quick_train(config, smeared_keys=True)
    b = quick_train(config, smeared_keys=True)
    assert torch.get_num_threads() == threads
    assert a.record["steps"] == [0, 2, 4]
    for key in ("loss", "loss_repeats", "loss_first_copy", "icl_score", "prefix_matching", "previous_token",
                "smeared_key_mix"):
        assert len(a.record[key]) == 3, key
    assert a.record["loss"] == b.record["loss"]
    assert a.record["prefix_matching"] == b.record["prefix_matching"]
    assert len(a.record["prefix_matching"][0]) == 1 and len(a.record["prefix_matching"][0][0]) == 2
    assert a.record["config"]["smeared_keys"] is True
    assert not a.model.training
    plain = quick_train(config)
    assert "smeared_key_mix" not in plain.record and not has_smeared_keys(plain.model)


def test_with_smeared_keys_one_layer_forms_an_induction_head_and_without_it_does_not():
    """The claim the perspectives chapter shows (Olsson et al. 2022), on the tiny recipe."""
    plain = quick_train(TINY_CONFIG)
    smeared = quick_train(TINY_CONFIG, smeared_keys=True)
    assert smeared.final_best_prefix_matching > 0.6
    assert plain.final_best_prefix_matching < 0.3
    assert smeared.final_loss_repeats < plain.final_loss_repeats - 2.0
    # the induction head uses the previous position's key: its mix moved below the initial 0.5
    best_layer_head = max(((0, h) for h in range(2)), key=lambda lh: smeared.record["prefix_matching"][-1][0][lh[1]])
    assert smeared.record["smeared_key_mix"][-1][0][best_layer_head[1]] < 0.5


def test_quick_train_rejects_a_non_config():
    with pytest.raises(TypeError):
        quick_train({"n_layer": 1})


# --------------------------------------------------------------------------------------
# K-composition, measured causally
# --------------------------------------------------------------------------------------


def _pm_by_hand(pattern, tokens):
    """Prefix-matching score of each head of one layer's pattern [B, H, T, T], with loops."""
    B, H, T, _ = pattern.shape
    totals = torch.zeros(H)
    n = 0
    for b in range(B):
        for i in range(T):
            earlier = [j for j in range(i) if tokens[b, j] == tokens[b, i]]
            if not earlier:
                continue
            n += 1
            for h in range(H):
                totals[h] += sum(float(pattern[b, h, i, j + 1]) for j in earlier)
    return totals / n


def test_upstream_ablation_matches_hand_computation(model, tok):
    tokens = repeated_tokens(tok, seq_len=5, n_repeats=3, batch=2, seed=0)
    result = upstream_ablation(model, tokens)
    assert result.target_layer == 1
    assert result.sources == [(0, h) for h in range(4)]
    _, clean_patterns = hand_gpt2(model, tokens)
    torch.testing.assert_close(result.clean, _pm_by_hand(clean_patterns[1], tokens), atol=1e-5, rtol=1e-4)
    for i, source in enumerate(result.sources):
        _, patterns = hand_gpt2(model, tokens, zero=[source])
        torch.testing.assert_close(result.ablated[i], _pm_by_hand(patterns[1], tokens), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.drop, result.clean[None] - result.ablated)
    assert count_hooks(model) == 0
    fig = plot_upstream_ablation(result)
    assert fig.axes[0].get_ylabel() == "Cabeça ablacionada"
    assert len(fig.axes) == 2  # heatmap + colour bar


def test_upstream_ablation_rejects_layer_zero_and_outside(model, tok):
    tokens = repeated_tokens(tok, seq_len=5, n_repeats=2, batch=1)
    with pytest.raises(ValueError):
        upstream_ablation(model, tokens, target_layer=0)
    with pytest.raises(ValueError):
        upstream_ablation(model, tokens, target_layer=2)


# --------------------------------------------------------------------------------------
# Identifying heads depends on choices
# --------------------------------------------------------------------------------------


def test_selection_sizes_worked_out_on_paper():
    table = selection_sizes({"GPT-2 small": (12, 12), "Llama-3-8B": (32, 32), "InternLM2-20B": (48, 48), "toy": (2, 4)})
    rows = {r["Modelo"]: r for r in table.rows}
    # 1% of 144 = 1.44 -> 1; 3% = 4.32 -> 4; 1% of 1024 = 10.24 -> 10; 3% = 30.72 -> 31;
    # 1% of 2304 = 23.04 -> 23; 3% = 69.12 -> 69; 8 heads: 0.08 and 0.24 -> at least 1
    assert (rows["GPT-2 small"]["Top 1%"], rows["GPT-2 small"]["Top 3%"]) == (1, 4)
    assert (rows["Llama-3-8B"]["Top 1%"], rows["Llama-3-8B"]["Top 3%"]) == (10, 31)
    assert (rows["InternLM2-20B"]["Top 1%"], rows["InternLM2-20B"]["Top 3%"]) == (23, 69)
    assert (rows["toy"]["Top 1%"], rows["toy"]["Top 3%"]) == (1, 1)
    assert rows["toy"]["Cabeças"] == 8
    with pytest.raises(TypeError):
        selection_sizes({"x": 12})


def test_probe_sensitivity_ranks_heads_by_hand_computed_scores(model, tok):
    table = probe_sensitivity(model, tok, {"curta": {"seq_len": 4, "batch": 2}, "longa": {"seq_len": 9, "batch": 2}}, k=3)
    assert [r["Sonda"] for r in table.rows] == ["curta", "longa"]
    for row, seq_len in zip(table.rows, (4, 9)):
        tokens = repeated_tokens(tok, seq_len=seq_len, batch=2)
        _, patterns = hand_gpt2(model, tokens)
        scores = torch.stack([_pm_by_hand(patterns[l], tokens) for l in range(2)])
        order = sorted(((l, h) for l in range(2) for h in range(4)), key=lambda lh: -float(scores[lh]))[:3]
        assert row["Cabeças (melhor primeiro)"] == order
        assert row["Tamanho do trecho"] == seq_len
        torch.testing.assert_close(row["scores"], scores, atol=1e-5, rtol=1e-4)
    assert "scores" not in table.columns
    with pytest.raises(ValueError):
        probe_sensitivity(model, tok, {})


# --------------------------------------------------------------------------------------
# Where copying misleads
# --------------------------------------------------------------------------------------


def test_divergent_repeats_change_exactly_one_token(tok):
    probe = divergent_repeats(tok, seq_len=6, change_at=2, batch=5, seed=1)
    clean = repeated_tokens(tok, seq_len=6, n_repeats=2, batch=5, seed=1)
    assert probe.position == 1 + 6 + 2
    diff = (probe.tokens != clean).nonzero().tolist()
    assert sorted({p for _, p in diff}) == [probe.position] and len(diff) == 5
    assert torch.equal(probe.copied, clean[:, probe.position])
    assert torch.equal(probe.copied, clean[:, 1 + 2])  # what followed in the first copy
    for b in range(5):
        assert int(probe.actual[b]) not in set(clean[b].tolist())
        assert int(probe.actual[b]) in set(ordinary_token_ids(tok))
    again = divergent_repeats(tok, seq_len=6, change_at=2, batch=5, seed=1)
    assert torch.equal(again.tokens, probe.tokens)
    for bad in (0, 6):
        with pytest.raises(ValueError):
            divergent_repeats(tok, seq_len=6, change_at=bad)


def test_copy_misleading_reads_the_right_probabilities(model, tok):
    probe = divergent_repeats(tok, seq_len=6, change_at=3, batch=4, seed=2)
    got = copy_misleading(model, probe)
    logp = logits_of(model, probe.tokens).log_softmax(-1)
    p = probe.position
    p_copied = sum(float(logp[b, p - 1, probe.copied[b]].exp()) for b in range(4)) / 4
    p_actual = sum(float(logp[b, p - 1, probe.actual[b]].exp()) for b in range(4)) / 4
    assert got["p_copied"] == pytest.approx(p_copied, rel=1e-5)
    assert got["p_actual"] == pytest.approx(p_actual, rel=1e-5)
    assert got["loss_actual"] == pytest.approx(
        -sum(float(logp[b, p - 1, probe.actual[b]]) for b in range(4)) / 4, rel=1e-5)
    first = [-float(logp[b, t - 1, probe.tokens[b, t]]) for b in range(4) for t in range(2, 7)]
    assert got["loss_unpredictable"] == pytest.approx(sum(first) / len(first), rel=1e-5)
    after = [-float(logp[b, p, probe.tokens[b, p + 1]]) for b in range(4)]
    assert got["loss_after"] == pytest.approx(sum(after) / 4, rel=1e-5)
    top = sum(int(logp[b, p - 1].argmax() == probe.copied[b]) for b in range(4)) / 4
    assert got["top1_copied"] == pytest.approx(top)


def test_copy_outcomes_hand_worked():
    #            0  1  2  3  4  5  6  7
    tokens = torch.tensor([[9, 5, 6, 5, 6, 5, 7, 5]])
    # t=0 (9): new -> 0;  t=1 (5): new -> 0;  t=2 (6): new -> 0
    # t=3 (5): last 5 at 1, followed by 6; next is 6 -> right (1)
    # t=4 (6): last 6 at 2, followed by 5; next is 5 -> right (1)
    # t=5 (5): last 5 at 3, followed by 6; next is 7 -> wrong (2)
    # t=6 (7): new -> 0
    assert copy_outcomes(tokens).tolist() == [[0, 0, 0, 1, 1, 2, 0]]
    assert copy_candidates(tokens).tolist() == [[-1, -1, -1, 6, 5, 6, -1]]
    with pytest.raises(TypeError):
        copy_outcomes(torch.zeros(2, 3))


def test_copy_outcome_losses_against_hand_forward(model):
    tokens = torch.randint(3, 12, (3, 16), generator=torch.Generator().manual_seed(4))  # few ids: many repeats
    table = copy_outcome_losses(model, tokens, heads=[(1, 0), (1, 2)])
    outcome = copy_outcomes(tokens)
    clean_logits, _ = hand_gpt2(model, tokens)
    ablated_logits, _ = hand_gpt2(model, tokens, zero=[(1, 0), (1, 2)])

    def ce(logits):
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1),
                               reduction="none").view(3, 15)

    clean, ablated = ce(clean_logits), ce(ablated_logits)
    candidates = copy_candidates(tokens)

    def p_copy(logits, b, t):
        return float(logits[b, t].softmax(-1)[candidates[b, t]])

    assert set(outcome.flatten().tolist()) == {0, 1, 2}  # every category occurs in this sample
    for code, row in enumerate(table.rows):
        mask = outcome == code
        assert row["Quantas"] == int(mask.sum())
        assert row["Fração"] == pytest.approx(int(mask.sum()) / 45)
        assert row["Perda, modelo intacto"] == pytest.approx(float(clean[mask].mean()), rel=1e-4)
        assert row["Perda, cabeças ablacionadas"] == pytest.approx(float(ablated[mask].mean()), rel=1e-4)
        where = mask.nonzero().tolist()
        if code == 0:
            assert math.isnan(row["P(token copiado), intacto"])
        else:
            expected = sum(p_copy(clean_logits, b, t) for b, t in where) / len(where)
            assert row["P(token copiado), intacto"] == pytest.approx(expected, rel=1e-4)
            expected = sum(p_copy(ablated_logits, b, t) for b, t in where) / len(where)
            assert row["P(token copiado), ablacionadas"] == pytest.approx(expected, rel=1e-4)
    assert sum(r["Quantas"] for r in table.rows) == 45
    assert count_hooks(model) == 0


# --------------------------------------------------------------------------------------
# An explicit induction head
# --------------------------------------------------------------------------------------


def test_induction_rule_logprobs_hand_worked():
    tokens = torch.tensor([[1, 2, 3, 1, 2, 1]])
    p = induction_rule_logprobs(tokens, vocab_size=5, smoothing=0.1).exp()[0]
    torch.testing.assert_close(p[0], torch.full((5,), 0.2))  # token 1 never seen before: uniform
    torch.testing.assert_close(p[2], torch.full((5,), 0.2))  # token 3 never seen before
    # t=3 (token 1): earlier 1 at 0, followed by 2 -> 0.9 * 1 + 0.1 / 5 on token 2, 0.02 elsewhere
    torch.testing.assert_close(p[3], torch.tensor([0.02, 0.02, 0.92, 0.02, 0.02]))
    # t=4 (token 2): earlier 2 at 1, followed by 3
    torch.testing.assert_close(p[4], torch.tensor([0.02, 0.02, 0.02, 0.92, 0.02]))
    # t=5 (token 1): earlier at 0 and 3, both followed by 2
    torch.testing.assert_close(p[5], torch.tensor([0.02, 0.02, 0.92, 0.02, 0.02]))
    # two different followers share the mass: [4, 1, 4, 2, 4] at t=4 -> 1 and 2 half each
    q = induction_rule_logprobs(torch.tensor([[4, 1, 4, 2, 4]]), vocab_size=5, smoothing=0.1).exp()[0]
    torch.testing.assert_close(q[4], torch.tensor([0.02, 0.47, 0.47, 0.02, 0.02]))
    with pytest.raises(ValueError):
        induction_rule_logprobs(tokens, vocab_size=2)
    for bad in (0, 1.5):
        with pytest.raises(ValueError):
            induction_rule_logprobs(tokens, vocab_size=5, smoothing=bad)


def test_explicit_induction_losses_mix_probabilities(model, tok):
    tokens = repeated_tokens(tok, seq_len=5, n_repeats=3, batch=2, seed=3)
    got = explicit_induction_losses(model, tokens, weights=(0.0, 0.5, 1.0), smoothing=0.1)
    p_model = logits_of(model, tokens).softmax(-1)
    p_rule = induction_rule_logprobs(tokens, 64, smoothing=0.1).exp().double()
    target = tokens[:, 1:]
    for w in (0.0, 0.5, 1.0):
        mixed = (1 - w) * p_model.double() + w * p_rule
        expected = -mixed[:, :-1].gather(2, target[..., None]).log().mean()
        assert got[w] == pytest.approx(float(expected), rel=1e-4)
    assert got[0.0] == pytest.approx(float(per_token_loss(model, tokens).mean()), rel=1e-5)
    late = explicit_induction_losses(model, tokens, weights=(1.0,), positions=slice(5, None))
    assert late[1.0] < got[1.0]  # every later-copy token is predicted by the rule
    with pytest.raises(ValueError):
        explicit_induction_losses(model, tokens, weights=(1.5,))


# --------------------------------------------------------------------------------------
# Data and figures
# --------------------------------------------------------------------------------------


def test_toy_language_text_is_held_out_text_of_the_vocabulary():
    a = toy_language_text(4, seed=5, n_ctx=20)
    b = toy_language_text(4, seed=5, n_ctx=20)
    c = toy_language_text(4, seed=6, n_ctx=20)
    assert a.shape == (4, 20) and a.dtype == torch.long
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a[:, 0] == VOCABULARY.index("<bos>")).all()
    assert int(a.min()) >= 0 and int(a.max()) < len(VOCABULARY)
    assert (a[:, 1:] >= 3).all()  # no special tokens after BOS


def test_plots_have_portuguese_labels_and_colour_bars():
    fig = plot_score_panels({"1 camada": torch.rand(1, 4), "2 camadas": torch.rand(2, 4)})
    assert len(fig.axes) == 3 and fig.axes[0].get_ylabel() == "Camada"
    assert fig.axes[2].get_ylabel() == "Pontuação"
    record = {"steps": [0, 10], "loss_repeats": [5.0, 1.0], "prefix_matching": [[[0.1, 0.2]], [[0.3, 0.9]]]}
    fig = plot_runs({"a": record, "b": record})
    assert fig.axes[0].get_xlabel() == "Passo de treinamento"
    assert best_scores(record) == [0.2, 0.9]
    fig = plot_curves([0, 1, 2], {"x": [1, 2, 3]}, title="t", xlabel="Passo", ylabel="y", marks={"m": 1})
    assert fig.axes[0].get_title() == "t"
    with pytest.raises(ValueError):
        plot_curves([0, 1], {"x": [1, 2, 3]}, title="t", xlabel="a", ylabel="b")
    with pytest.raises(ValueError):
        plot_score_panels({})
    with pytest.raises(ValueError):
        plot_runs({"a": {"steps": [0]}})


def test_identical_curves_stay_distinguishable_and_panel_values_are_readable():
    fig = plot_curves([0, 1, 2], {"a": [1, 2, 3], "b": [1, 2, 3]}, title="t", xlabel="Passo", ylabel="y")
    a, b = fig.axes[0].get_lines()
    assert (a.get_linestyle(), a.get_marker()) != (b.get_linestyle(), b.get_marker())
    # five 2x4 panels (the checkpoints of chapter 05): the figure is ~11 in wide and shown at
    # ~7.5 in, so the cell values must still measure 6.5 pt or more once shrunk (8 pt did not)
    fig = plot_score_panels({f"passo {i}": torch.rand(2, 4) for i in range(5)})
    width = fig.get_size_inches()[0]
    values = [t for ax in fig.axes for t in ax.texts]
    assert len(values) == 5 * 8
    assert min(t.get_fontsize() for t in values) * 7.5 / width >= 6.5
