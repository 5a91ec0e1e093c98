"""Tests of induction_heads.summaries: fingerprints, loss per copy, a text's token losses, the
per-model summary. References are computed here by hand (plain loops, transformers' own
attentions and logits), not by the library functions under test."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from _tiny import hf_attentions, logits_of, tiny_model, tiny_tokenizer

from induction_heads.metrics import per_token_loss
from induction_heads.probes import repeated_tokens
from induction_heads.summaries import (
    SummaryTable,
    induction_summary,
    loss_by_copy,
    parameter_fingerprint,
    phrase_spans,
    plot_token_losses,
    span_losses,
    summary_table,
    text_token_losses,
)


@pytest.fixture(scope="module")
def model():
    return tiny_model("gpt2", n_layers=2, seed=3)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


# --------------------------------------------------------------------------------------
# parameter_fingerprint
# --------------------------------------------------------------------------------------


def test_fingerprint_is_sha256_hex_and_same_for_a_copy(model):
    fp = parameter_fingerprint(model)
    assert len(fp) == 64 and all(c in "0123456789abcdef" for c in fp)
    assert parameter_fingerprint(copy.deepcopy(model)) == fp


def test_fingerprint_unchanged_by_running_the_model(model, tokenizer):
    before = parameter_fingerprint(model)
    tokens = repeated_tokens(tokenizer, seq_len=6, n_repeats=3, batch=2)
    per_token_loss(model, tokens)
    logits_of(model, tokens)
    assert parameter_fingerprint(model) == before


def test_fingerprint_changes_when_one_weight_moves_by_one_ulp(model):
    other = copy.deepcopy(model)
    before = parameter_fingerprint(other)
    with torch.no_grad():
        w = other.lm_head.weight if hasattr(other, "lm_head") else next(other.parameters())
        w[0, 0] = torch.nextafter(w[0, 0], torch.tensor(math.inf))
    assert parameter_fingerprint(other) != before


def test_fingerprint_differs_between_seeds():
    assert parameter_fingerprint(tiny_model("gpt2", seed=0)) != parameter_fingerprint(tiny_model("gpt2", seed=1))


def test_fingerprint_bad_input():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        parameter_fingerprint("modelo")
    with pytest.raises(ValueError, match="no parameters"):
        parameter_fingerprint(torch.nn.ReLU())


# --------------------------------------------------------------------------------------
# loss_by_copy
# --------------------------------------------------------------------------------------


def test_loss_by_copy_hand_case():
    # two rows, seq_len 2, 3 copies: row 0 = 0..5, row 1 = 10..15
    losses = torch.tensor([[0.0, 1, 2, 3, 4, 5], [10.0, 11, 12, 13, 14, 15]])
    # copy 0: (0+1+10+11)/4 = 5.5; copy 1: (2+3+12+13)/4 = 7.5; copy 2: 9.5
    assert loss_by_copy(losses, 2, 3).tolist() == [5.5, 7.5, 9.5]
    assert loss_by_copy(losses[0], 2, 3).tolist() == [0.5, 2.5, 4.5]


@pytest.mark.parametrize(
    "losses, seq_len, n_repeats, error, message",
    [
        (torch.zeros(2, 6), 4, 2, ValueError, "seq_len \\* n_repeats = 8"),
        (torch.zeros(2, 3, 6), 2, 3, ValueError, "\\[batch, T-1\\]"),
        ([0.0] * 6, 2, 3, TypeError, "tensor"),
        (torch.zeros(6), 0, 3, ValueError, "seq_len must be at least 1"),
        (torch.zeros(6), 2, 1.5, TypeError, "n_repeats must be an int"),
    ],
)
def test_loss_by_copy_bad_input(losses, seq_len, n_repeats, error, message):
    with pytest.raises(error, match=message):
        loss_by_copy(losses, seq_len, n_repeats)


# --------------------------------------------------------------------------------------
# A text with a repeated phrase
# --------------------------------------------------------------------------------------


def test_text_token_losses_against_hand_cross_entropy(model, tokenizer):
    text = "w5 w9 w7 w11 w5 w9 w7"
    tokens, losses = text_token_losses(model, tokenizer, text)
    assert tokens == ["<bos>", "w5", "w9", "w7", "w11", "w5", "w9", "w7"]
    ids = torch.tensor([[0, 5, 9, 7, 11, 5, 9, 7]])
    logits = logits_of(model, ids)[0]
    expected = [-torch.log_softmax(logits[t - 1], -1)[ids[0, t]].item() for t in range(1, 8)]
    assert losses.shape == (7,)
    assert losses.tolist() == pytest.approx(expected, abs=1e-5)


def test_text_token_losses_rejects_unknown_words(model, tokenizer):
    with pytest.raises(ValueError, match="outside the vocabulary \\(positions \\[2\\]"):
        text_token_losses(model, tokenizer, "w5 palavra w7")


def test_phrase_spans_hand_cases():
    toks = ["<bos>", "o", "gato", "come", ".", "o", "gato", "come", "o", "gato"]
    assert phrase_spans(toks, ["o", "gato", "come"]) == [(1, 4), (5, 8)]
    assert phrase_spans(toks, ["gato"]) == [(2, 3), (6, 7), (9, 10)]
    assert phrase_spans(["a", "a", "a"], ["a", "a"]) == [(0, 2)]  # no overlaps
    assert phrase_spans([" o", " gato"], ["o", "gato"]) == [(0, 2)]  # GPT-2 style leading spaces
    assert phrase_spans(toks, ["cão"]) == []
    with pytest.raises(ValueError, match="empty"):
        phrase_spans(toks, [])


def test_span_losses_hand_case():
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # loss on tokens 1..6
    # span (1, 4): tokens 1, 2, 3 -> losses 1, 2, 3; skipping token 1 -> 2.5
    assert span_losses(losses, [(1, 4), (4, 7)]) == [2.5, 5.5]
    assert span_losses(losses, [(1, 4), (4, 7)], skip_first=False) == [2.0, 5.0]
    with pytest.raises(ValueError, match="no scored token"):
        span_losses(losses, [(5, 6)])  # one token, skipped: nothing left
    with pytest.raises(ValueError, match="no scored token"):
        span_losses(losses, [(0, 3)], skip_first=False)  # the BOS token has no loss
    with pytest.raises(ValueError, match="1-D"):
        span_losses(losses[None], [(1, 3)])


def test_plot_token_losses_colours_the_occurrences():
    tokens = ["<bos>", "o", "gato", "come", ".", "o", "gato", "come"]
    losses = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    fig = plot_token_losses(tokens, losses, [(1, 4), (5, 8)])
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 7
    assert [b.get_height() for b in bars] == pytest.approx(losses.tolist())
    colours = [b.get_facecolor() for b in bars]
    assert colours[0] == colours[1] == colours[2]  # tokens 1..3: 1st occurrence
    assert colours[4] == colours[5] == colours[6] != colours[0]  # tokens 5..7: 2nd occurrence
    assert colours[3] not in (colours[0], colours[4])  # "." is outside both
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1ª ocorrência", "2ª ocorrência", "resto do texto"]
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens[1:]
    assert ax.get_ylabel() == "Perda (nats)"
    with pytest.raises(ValueError, match="one fewer"):
        plot_token_losses(tokens, losses[:-1])
    with pytest.raises(ValueError, match="outside"):
        plot_token_losses(tokens, losses, [(3, 20)])


# --------------------------------------------------------------------------------------
# induction_summary / summary_table
# --------------------------------------------------------------------------------------


def _hand_prefix_matching(attn, tokens):
    """[layers, heads] by plain loops: for each query whose token occurred before, the total
    attention on the positions right after its earlier occurrences; mean over those queries."""
    n_layers, batch, n_heads, T, _ = attn.shape
    total = torch.zeros(n_layers, n_heads, dtype=torch.float64)
    count = 0
    for b in range(batch):
        for i in range(T):
            after = [j + 1 for j in range(i) if tokens[b, j] == tokens[b, i]]
            if not after:
                continue
            count += 1
            total += attn[:, b, :, i, after].double().sum(-1)
    return total / count


def _hand_losses(model, tokens):
    logits = logits_of(model, tokens).double()
    logp = torch.log_softmax(logits, -1)
    B, T = tokens.shape
    return torch.tensor([[-logp[b, t - 1, tokens[b, t]].item() for t in range(1, T)] for b in range(B)])


def test_induction_summary_against_hand_computations(model, tokenizer):
    seq_len, n_repeats = 5, 3
    tokens = repeated_tokens(tokenizer, seq_len=seq_len, n_repeats=n_repeats, batch=3, seed=2)
    summary = induction_summary(model, tokens, seq_len=seq_len, n_repeats=n_repeats)

    pm = _hand_prefix_matching(hf_attentions(model, tokens), tokens)
    best = int(pm.argmax())
    assert summary["best_head"] == f"{best // pm.shape[1]}.{best % pm.shape[1]}"
    assert summary["best_prefix_matching"] == pytest.approx(float(pm.max()), abs=1e-5)

    losses = _hand_losses(model, tokens)  # [B, T-1]
    first = losses[:, :seq_len].mean().item()
    later = losses[:, seq_len:].mean().item()
    assert summary["loss_first_copy"] == pytest.approx(first, abs=1e-5)
    assert summary["loss_later_copies"] == pytest.approx(later, abs=1e-5)
    T = tokens.shape[1]  # 16: late = token 15, early = round(15 / 10) = token 2
    icl = losses[:, 15 - 1].mean().item() - losses[:, 2 - 1].mean().item()
    assert summary["icl_score"] == pytest.approx(icl, abs=1e-5)
    assert (summary["n_layers"], summary["n_heads"]) == (2, 4)


def test_induction_summary_bad_input(model, tokenizer):
    tokens = repeated_tokens(tokenizer, seq_len=5, n_repeats=3, batch=2)
    with pytest.raises(ValueError, match="expected 1 \\+ seq_len \\* n_repeats = 13"):
        induction_summary(model, tokens, seq_len=4, n_repeats=3)
    with pytest.raises(ValueError, match="at least 2"):
        induction_summary(model, tokens[:, :6], seq_len=5, n_repeats=1)


def test_summary_table_rows_and_html(model, tokenizer):
    one_layer = tiny_model("gpt2", n_layers=1, seed=4)
    table = summary_table({"dois": (model, tokenizer), "um": (one_layer, tokenizer)}, seq_len=5, n_repeats=3,
                          batch=2, seed=1)
    assert isinstance(table, SummaryTable)
    assert list(table.rows) == ["dois", "um"]
    tokens = repeated_tokens(tokenizer, seq_len=5, n_repeats=3, batch=2, seed=1)
    assert table["um"] == induction_summary(one_layer, tokens, seq_len=5, n_repeats=3)
    assert table["um"]["n_layers"] == 1 and table["dois"]["n_layers"] == 2
    html = table._repr_html_()
    assert html.count("<tr>") == 7  # header + one row per quantity
    assert ">um</th>" in html and ">dois</th>" in html
    row = html[html.index("Perda na 1ª cópia (nats)"):]
    row = row[: row.index("</tr>")]
    # the row holds each model's value, in the models' order
    first = [f"{table[m]['loss_first_copy']:.2f}" for m in ("dois", "um")]
    assert row.index(first[0]) < row.rindex(first[1])
    text = repr(table).splitlines()
    assert text[0].split() == ["Grandeza", "dois", "um"] and len(text) == 7
    assert text[1].split()[-2:] == ["2", "1"]  # Camadas


def test_summary_table_bad_input(model, tokenizer):
    with pytest.raises(ValueError, match="non-empty dict"):
        summary_table({})
    with pytest.raises(TypeError, match="\\(model, tokenizer\\) pair"):
        summary_table({"x": model})



# --------------------------------------------------------------------------------------
# glue
# --------------------------------------------------------------------------------------


def test_glue_calls_myst_nb_when_present(monkeypatch):
    import sys
    import types

    from induction_heads.summaries import glue

    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    glue("c01_x", 1.5)
    glue("c01_head", "1.2")
    glue("c01_t", torch.tensor([2.5]))
    assert calls[0] == ("c01_x", 1.5, False)
    assert calls[1][0] == "c01_head" and repr(calls[1][1]) == "1.2" and calls[1][1] == "1.2"
    assert calls[2] == ("c01_t", 2.5, False) and type(calls[2][1]) is float
    with pytest.raises(ValueError, match="one number"):
        glue("c01_v", torch.zeros(2))


def test_glue_without_myst_nb_does_nothing_or_shows_the_value(monkeypatch, capsys):
    import sys

    from induction_heads.summaries import glue

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import fails, as in Colab
    assert glue("c01_x", 1.5) is None
    assert capsys.readouterr().out == ""
    glue("c01_y", "valor", display=True)
    assert "valor" in capsys.readouterr().out
    with pytest.raises(ValueError, match="non-empty string"):
        glue("", 1)
