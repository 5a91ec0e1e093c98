"""Crosbie & Shutova's protocol and the ablation chapter's helpers (induction_heads.protocol).

References: cross-entropy computed here from logits of a GPT-2 forward pass written out by hand
(``_tiny.hand_gpt2``, which can zero heads and block attention edges), weight edits on a copy of
the model (``_tiny.zero_head_weights``), hand-checked masks, and counts worked out from the
shapes.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from _tiny import (
    D_HEAD,
    D_MODEL,
    N_HEADS,
    N_LAYERS,
    count_hooks,
    hand_gpt2,
    logits_of,
    out_proj_by_name,
    tiny_model,
    zero_head_weights,
)

from induction_heads.ablation import ablate_heads, ablation_sweep
from induction_heads.metrics import icl_score
from induction_heads.probes import repeated_tokens
from induction_heads.protocol import (
    ProtocolResult,
    Table,
    crosbie_shutova,
    induction_edges,
    plot_zeroed_weights,
    random_edges_like,
    repeat_loss,
    repeat_loss_metric,
    seed_comparison,
    weight_zero_ablation,
)
from induction_heads.scores import prefix_matching_scores, top_heads
from induction_heads.tasks import few_shot_task, task_accuracy
from induction_heads.training import build_tokenizer

SEQ_LEN = 6


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return tiny_model("gpt2", vocab_size=len(tok))


@pytest.fixture(scope="module")
def tokens(tok):
    return repeated_tokens(tok, seq_len=SEQ_LEN, n_repeats=3, batch=3, seed=5)  # [3, 19]


def _ce_after(logits, tokens, start):
    """Mean cross-entropy on tokens start+1.. (loss index >= start), computed here."""
    pred = logits[:, start:-1]
    target = tokens[:, start + 1:]
    return float(F.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1)))


# --------------------------------------------------------------------------------------
# Loss on the repeats
# --------------------------------------------------------------------------------------


def test_repeat_loss_is_the_cross_entropy_on_the_later_copies(model, tokens):
    logits, _ = hand_gpt2(model, tokens)
    assert repeat_loss(model, tokens, SEQ_LEN) == pytest.approx(_ce_after(logits, tokens, SEQ_LEN), rel=1e-5)
    # with a zeroed head, against the hand forward pass that zeroes it
    heads = [(1, 2), (0, 1)]
    logits, _ = hand_gpt2(model, tokens, zero=set(heads))
    with ablate_heads(model, heads):
        assert repeat_loss(model, tokens, SEQ_LEN) == pytest.approx(_ce_after(logits, tokens, SEQ_LEN), rel=1e-5)


def test_repeat_loss_metric_in_the_sweep_matches_the_hand_forward_pass(model, tokens):
    clean = _ce_after(hand_gpt2(model, tokens)[0], tokens, SEQ_LEN)
    effects = ablation_sweep(model, tokens, repeat_loss_metric(SEQ_LEN), progress=False)
    assert effects.shape == (N_LAYERS, N_HEADS)
    for layer in range(N_LAYERS):
        for head in range(N_HEADS):
            ablated = _ce_after(hand_gpt2(model, tokens, zero={(layer, head)})[0], tokens, SEQ_LEN)
            assert float(effects[layer, head]) == pytest.approx(ablated - clean, abs=1e-4)


def test_repeat_loss_rejects_bad_input(model, tokens):
    with pytest.raises(TypeError, match="seq_len"):
        repeat_loss(model, tokens, 2.5)
    with pytest.raises(ValueError, match="no second copy"):
        repeat_loss(model, tokens, 18)
    with pytest.raises(ValueError, match="at least 1"):
        repeat_loss_metric(0)


# --------------------------------------------------------------------------------------
# Knockout masks
# --------------------------------------------------------------------------------------


def test_induction_edges_on_a_hand_checked_sequence():
    #        pos: 0  1  2  3  4  5
    toks = torch.tensor([[0, 5, 6, 5, 6, 5]])
    edges = induction_edges(toks)
    expected = torch.zeros(1, 6, 6, dtype=torch.bool)
    expected[0, 3, 2] = True  # token 5 at 3: earlier 5 at 1 -> key 2
    expected[0, 4, 3] = True  # token 6 at 4: earlier 6 at 2 -> key 3
    expected[0, 5, 2] = True  # token 5 at 5: earlier 5 at 1 and 3 -> keys 2 and 4
    expected[0, 5, 4] = True
    assert torch.equal(edges, expected)
    with pytest.raises(TypeError, match="integer tensor"):
        induction_edges(toks.float())


def test_random_edges_like_keeps_the_counts_and_avoids_the_blocked_and_future_keys(tokens):
    block = induction_edges(tokens)
    control = random_edges_like(block, seed=3)
    assert control.shape == block.shape and control.dtype == torch.bool
    assert torch.equal(control.sum(-1), block.sum(-1))  # every row has enough open keys here
    assert not (control & block).any()
    assert not control.triu(1).any()
    assert torch.equal(control, random_edges_like(block, seed=3))
    assert not torch.equal(control, random_edges_like(block, seed=4))


def test_random_edges_like_gives_all_open_keys_when_a_row_asks_for_more():
    block = torch.zeros(4, 4, dtype=torch.bool)
    block[2, 0] = block[2, 1] = True  # row 2 has one open key left (2): asks for 2
    block[3, 3] = True
    control = random_edges_like(block, seed=0)
    assert control[2].tolist() == [False, False, True, False]
    assert int(control[3].sum()) == 1 and not control[3, 3]
    assert not control[0].any() and not control[1].any()
    with pytest.raises(TypeError, match="bool"):
        random_edges_like(block.int())
    with pytest.raises(ValueError, match="square"):
        random_edges_like(torch.zeros(3, 4, dtype=torch.bool))


# --------------------------------------------------------------------------------------
# Zero ablation in the weights
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["gpt2", "llama", "opt"])
def test_weight_zero_ablation_equals_zeroed_copy_and_ablate_heads_then_restores(family):
    model = tiny_model(family)
    heads = [(0, 1), (1, 3), (1, 0)]
    x = torch.randint(3, 64, (2, 12), generator=torch.Generator().manual_seed(1))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    reference = logits_of(zero_head_weights(copy.deepcopy(model), heads), x)
    with weight_zero_ablation(model, heads):
        edited = logits_of(model, x)
        proj = out_proj_by_name(model, 1)
        weight = proj.weight.T if family == "gpt2" else proj.weight  # [out, in]
        assert (weight[:, 3 * D_HEAD:4 * D_HEAD] == 0).all()
        assert (weight[:, 2 * D_HEAD:3 * D_HEAD] != 0).any()
    with ablate_heads(model, heads):
        hooked = logits_of(model, x)
    torch.testing.assert_close(edited, reference, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(hooked, reference, rtol=1e-4, atol=1e-5)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), name


def test_weight_zero_ablation_restores_the_weights_when_the_block_raises():
    model = tiny_model("gpt2")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with pytest.raises(RuntimeError, match="boom"):
        with weight_zero_ablation(model, [(0, 0), (0, 0), (1, 2)]):
            raise RuntimeError("boom")
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]), name
    with pytest.raises(ValueError, match="outside"):
        with weight_zero_ablation(model, [(0, N_HEADS)]):
            pass


# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tasks(tok):
    return {
        "recall": few_shot_task(tok, "recall", n_examples=6, batch=12, seed=2),
        "pattern": few_shot_task(tok, "pattern", n_examples=4, batch=12, seed=2),
    }


@pytest.fixture(scope="module")
def reference(tok):
    return repeated_tokens(tok, seq_len=SEQ_LEN, n_repeats=3, batch=2, seed=9)


@pytest.fixture(scope="module")
def result(model, tok, tokens, tasks, reference):
    return crosbie_shutova(model, tok, tokens=tokens, seq_len=SEQ_LEN, fractions=(0.01, 0.03), k=2,
                           n_random=2, seed=7, reference=reference, tasks=tasks, progress=False)


def test_protocol_selects_the_top_heads_and_same_layer_controls(result, model, tokens):
    scores = prefix_matching_scores(model, tokens)
    torch.testing.assert_close(result.scores, scores)
    # 1% and 3% of 8 heads are both one head (at least one): one selection with both labels
    assert list(result.selections) == ["top 1% / top 3%", "top 2"]
    flat = scores.flatten()
    best = int(flat.argmax())
    assert result.selections["top 1% / top 3%"] == [divmod(best, N_HEADS)]
    second = int(flat.argsort(descending=True)[1])
    assert sorted(result.selections["top 2"]) == sorted([divmod(best, N_HEADS), divmod(second, N_HEADS)])
    for label, heads in result.selections.items():
        assert len(result.controls[label]) == 2
        for control in result.controls[label]:
            assert not set(control) & set(heads)
            assert sorted(l for l, _ in control) == sorted(l for l, _ in heads)


def test_protocol_runs_cover_every_setting(result):
    groups = [(r["selection"], r["group"], r["method"]) for r in result.runs]
    assert groups[0] == ("", "clean", "none")
    for label in result.selections:
        for method in ("zero", "mean", "knockout"):
            assert groups.count((label, "induction", method)) == 1
        for method in ("zero", "mean"):
            assert groups.count((label, "random", method)) == 2
        assert groups.count((label, "random", "knockout")) == 0
        assert groups.count((label, "induction", "knockout_control")) == 2
    assert len(result.runs) == 1 + 2 * (3 + 2 * 2 + 2)
    for r in result.runs:
        assert set(r) == {"selection", "group", "method", "seed", "heads", "loss_repeats", "icl", "acc_recall", "acc_pattern"}
    assert result.chance == {"recall": 0.25, "pattern": 0.5}


def test_protocol_measurements_match_independent_computations(result, model, tokens, tasks, reference):
    clean = result.select(group="clean")[0]
    assert clean["loss_repeats"] == pytest.approx(_ce_after(hand_gpt2(model, tokens)[0], tokens, SEQ_LEN), rel=1e-5)
    assert clean["icl"] == pytest.approx(icl_score(model, tokens), abs=1e-5)
    assert clean["acc_recall"] == task_accuracy(model, tasks["recall"])

    for label, heads in result.selections.items():
        zero = result.select(selection=label, group="induction", method="zero")[0]
        logits = hand_gpt2(model, tokens, zero=set(heads))[0]
        assert zero["loss_repeats"] == pytest.approx(_ce_after(logits, tokens, SEQ_LEN), rel=1e-5)
        with ablate_heads(model, heads):
            assert zero["icl"] == pytest.approx(icl_score(model, tokens), abs=1e-5)
            assert zero["acc_pattern"] == task_accuracy(model, tasks["pattern"])

        mean = result.select(selection=label, group="induction", method="mean")[0]
        with ablate_heads(model, heads, method="mean", reference=reference):
            assert mean["loss_repeats"] == pytest.approx(repeat_loss(model, tokens, SEQ_LEN), rel=1e-6)

        for run in result.select(selection=label, group="random", method="zero"):
            assert run["heads"] in result.controls[label]
            logits = hand_gpt2(model, tokens, zero=set(run["heads"]))[0]
            assert run["loss_repeats"] == pytest.approx(_ce_after(logits, tokens, SEQ_LEN), rel=1e-5)


def test_protocol_knockout_blocks_the_induction_edges_row_by_row(result, model, tokens):
    for label, heads in result.selections.items():
        knock = result.select(selection=label, group="induction", method="knockout")[0]
        control = result.select(selection=label, group="induction", method="knockout_control")
        edges = induction_edges(tokens)
        losses = []
        for b in range(tokens.shape[0]):  # hand_gpt2 takes one [T, T] mask: one row at a time
            logits = hand_gpt2(model, tokens[b:b + 1], knockout={h: edges[b] for h in heads})[0]
            pred, target = logits[0, SEQ_LEN:-1], tokens[b, SEQ_LEN + 1:]
            losses.append(F.cross_entropy(pred, target, reduction="none"))
        assert knock["loss_repeats"] == pytest.approx(float(torch.cat(losses).mean()), rel=1e-4)
        # the control blocks other edges (same count): its seeds give their own numbers
        assert [r["seed"] for r in control] == [7, 8]
        assert all(r["loss_repeats"] != knock["loss_repeats"] for r in control)


def test_protocol_result_lookups_and_table(result):
    label = "top 2"
    assert result.value("acc_recall") == result.runs[0]["acc_recall"]
    randoms = result.values("loss_repeats", selection=label, group="random", method="zero")
    assert len(randoms) == 2
    assert result.value("loss_repeats", selection=label, group="random", method="zero") == pytest.approx(sum(randoms) / 2)
    effects = result.effects("acc_recall", label)
    assert list(effects) == ["Sem ablação", "Indução (zerar)", "Controle (zerar)", "Indução (média)", "Controle (média)"]
    assert effects["Controle (zerar)"] == result.values("acc_recall", selection=label, group="random", method="zero")
    with pytest.raises(ValueError, match="unknown metric"):
        result.value("accuracy")
    with pytest.raises(ValueError, match="give selection"):
        result.value("icl", group="induction", method="zero")
    with pytest.raises(ValueError, match="unknown selection"):
        result.value("icl", selection="top 9", group="induction", method="zero")

    table = result.table()
    assert isinstance(table, Table)
    assert len(table) == 1 + 2 * 6  # random draws merged: one row per (selection, group, method)
    html = table._repr_html_()
    assert ">Recordar</th>" in html and html.count("<tr>") == len(table) + 1
    assert "Controle (2 sorteios)" in html and "bloqueio sorteado (2 sorteios)" in html
    assert "Recordar: acurácia na tarefa de recordar (acaso 0.25); Padrão: acurácia na tarefa de padrão abstrato (acaso 0.50)" in html
    row = table[1]
    first = result.select(selection="top 1% / top 3%", group="induction", method="zero")[0]
    assert row["Perda nas repetições"] == first["loss_repeats"]
    assert f"{first['loss_repeats']:.2f}" in repr(table)
    assert len(result.table(aggregate=False)) == len(result.runs)


def test_protocol_without_room_for_controls_keeps_the_induction_runs(model, tok, tokens, tasks):
    result = crosbie_shutova(model, tok, tokens=tokens, seq_len=SEQ_LEN, fractions=(), k=N_LAYERS * N_HEADS,
                             methods=("zero",), n_random=2, tasks={"recall": tasks["recall"]}, progress=False)
    assert result.controls == {f"top {N_LAYERS * N_HEADS}": []}
    assert [r["group"] for r in result.runs] == ["clean", "induction"]


def test_protocol_rejects_bad_arguments(model, tok, tokens, tasks):
    kwargs = dict(tokens=tokens, seq_len=SEQ_LEN, tasks=tasks, progress=False)
    with pytest.raises(ValueError, match="unknown method"):
        crosbie_shutova(model, tok, methods=("resample",), **kwargs)
    with pytest.raises(ValueError, match="fraction"):
        crosbie_shutova(model, tok, fractions=(0.0,), **kwargs)
    with pytest.raises(ValueError, match="at least one fraction or k"):
        crosbie_shutova(model, tok, fractions=(), **kwargs)
    with pytest.raises(ValueError, match="n_random"):
        crosbie_shutova(model, tok, n_random=-1, **kwargs)
    with pytest.raises(TypeError, match="FewShotTask"):
        crosbie_shutova(model, tok, tokens=tokens, seq_len=SEQ_LEN, tasks={"x": [1, 2]}, progress=False)
    assert count_hooks(model) == 0


# --------------------------------------------------------------------------------------
# The seed's snippet against the correct ablation
# --------------------------------------------------------------------------------------


def test_seed_comparison_counts_and_losses(model, tokens):
    table = seed_comparison(model, tokens, SEQ_LEN, [(1, 0), (1, 2)])
    rows = table.rows
    assert rows[0]["Ablação"] == "Sem ablação"
    zeroed = [int(r["Pesos de W_O zerados"]) for r in rows]
    # a real head owns d_model * d_head weights; the snippet with index 0 wipes every layer's
    # whole W_O (d_model rows x n_heads*d_head columns)
    assert zeroed == [0, 2 * D_MODEL * D_HEAD, 2 * D_MODEL * D_HEAD, N_LAYERS * D_MODEL * N_HEADS * D_HEAD]
    assert rows[3]["Camadas atingidas"] == ", ".join(str(l) for l in range(N_LAYERS))
    loss = [r["Perda nas repetições (nats)"] for r in rows]
    expected = _ce_after(hand_gpt2(model, tokens, zero={(1, 0), (1, 2)})[0], tokens, SEQ_LEN)
    assert loss[1] == pytest.approx(expected, rel=1e-5) and loss[2] == pytest.approx(expected, rel=1e-5)
    every_head = {(l, h) for l in range(N_LAYERS) for h in range(N_HEADS)}
    wiped = _ce_after(hand_gpt2(model, tokens, zero=every_head)[0], tokens, SEQ_LEN)
    assert loss[3] == pytest.approx(wiped, rel=1e-5)  # index 0: as if every head were gone


def test_seed_comparison_with_indices_past_zero_changes_nothing(model, tokens):
    rows = seed_comparison(model, tokens, SEQ_LEN, [(1, 3)], also_indices=[[0], [3], [2, 1]]).rows
    assert len(rows) == 4 + 2  # [3] is already shown: skipped
    assert rows[3]["Pesos de W_O zerados"] == "0" and rows[3]["Camadas atingidas"] == "nenhuma"
    assert rows[3]["Perda nas repetições (nats)"] == pytest.approx(rows[0]["Perda nas repetições (nats)"], rel=1e-6)
    assert rows[1]["Perda nas repetições (nats)"] != pytest.approx(rows[0]["Perda nas repetições (nats)"], rel=1e-4)
    # head_indices=[0]: every layer's whole W_O, as if every head were gone
    assert rows[4]["Ablação"].endswith("head_indices=[0]")
    assert rows[4]["Pesos de W_O zerados"] == str(N_LAYERS * D_MODEL * N_HEADS * D_HEAD)
    every_head = {(l, h) for l in range(N_LAYERS) for h in range(N_HEADS)}
    wiped = _ce_after(hand_gpt2(model, tokens, zero=every_head)[0], tokens, SEQ_LEN)
    assert rows[4]["Perda nas repetições (nats)"] == pytest.approx(wiped, rel=1e-5)
    assert rows[5]["Ablação"].endswith("head_indices=[1, 2]") and rows[5]["Pesos de W_O zerados"] == "0"
    with pytest.raises(ValueError, match="at least one"):
        seed_comparison(model, tokens, SEQ_LEN, [])
    with pytest.raises(ValueError, match="also_indices"):
        seed_comparison(model, tokens, SEQ_LEN, [(1, 3)], also_indices=[[]])


def test_plot_zeroed_weights_titles_give_the_counts(model):
    fig = plot_zeroed_weights(model, 1, (0, 2))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [
        f"Trecho: head_idx=0\n{D_MODEL * N_HEADS * D_HEAD} pesos zerados",
        "Trecho: head_idx=2\n0 pesos zerados",
        f"Correto: cabeça 1.0\n{D_MODEL * D_HEAD} pesos zerados",
        f"Correto: cabeça 1.2\n{D_MODEL * D_HEAD} pesos zerados",
    ]
    assert len(fig.axes) == 5  # four panels and the colour bar
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="outside"):
        plot_zeroed_weights(model, 1, (N_HEADS,))


def test_table_says_when_every_random_draw_picked_the_same_heads():
    # Hand-made result: three control draws, identical (a layer with a single possible draw),
    # and two knockout-control draws that differ.
    def run(group, method, heads, loss, seed=0):
        return {"selection": "top 2", "group": group, "method": method, "seed": seed, "heads": heads,
                "loss_repeats": loss, "icl": -1.0}

    runs = [run("clean", "none", [], 1.0)]
    runs += [run("random", "zero", [(1, 0), (1, 3)], 2.0 + s, seed=s) for s in range(3)]
    runs += [run("induction", "knockout_control", [(1, 1)], 3.0, seed=s) for s in range(2)]
    result = ProtocolResult(scores=torch.zeros(2, 4), selections={"top 2": [(1, 1), (1, 2)]},
                            controls={"top 2": [[(1, 0), (1, 3)]] * 3}, runs=runs, chance={})
    rows = list(result.table())
    groups = [r["Grupo"] for r in rows]
    assert "Controle (3 sorteios, todos iguais)" in groups
    assert rows[groups.index("Controle (3 sorteios, todos iguais)")]["Perda nas repetições"] == 3.0  # mean of 2, 3, 4
    methods = [r["Intervenção"] for r in rows]
    assert any(m.endswith("(2 sorteios)") for m in methods)
