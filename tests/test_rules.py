"""The rule AB...A -> B: prompts are what they claim, and the accuracy counts what it says.

The accuracy is checked on a tiny GPT-2 whose logits are replaced (by a forward hook on the
whole model) with the answers of an oracle written here from the input ids alone: an oracle
that follows the induction rule must score 1, one that copies the most frequent context word
must land on the distractor, and so on.
"""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from induction_heads import attention_knockout, attention_patterns
from induction_heads.rules import (
    answer_ranks,
    completion_examples,
    pushed_tokens_table,
    pattern_completion_accuracy,
    pattern_completion_prompts,
    previous_token_edges,
)
from induction_heads.tasks import word_token_ids
from induction_heads.training import build_tokenizer


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=2, n_head=4,
                     attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0)
    return GPT2LMHeadModel(cfg).eval()


# --------------------------------------------------------------------------------------
# Oracles: next-token choices computed from the ids, independently of the library
# --------------------------------------------------------------------------------------


def induction_oracle(ids):
    """At each position, the token that followed the latest earlier occurrence of the current one."""
    out = []
    for t in range(len(ids)):
        nxt = ids[t]  # no earlier occurrence: repeat the token (never the answer B here)
        for j in range(t - 1, -1, -1):
            if ids[j] == ids[t]:
                nxt = ids[j + 1]
                break
        out.append(nxt)
    return out


def most_frequent_oracle(ids):
    """At each position, the most frequent word so far (ties: the earliest), ignoring <bos>."""
    out = []
    for t in range(len(ids)):
        counts = Counter(ids[1:t + 1]) or Counter(ids[:1])
        best = max(counts.values())
        out.append(next(i for i in ids[1:t + 1] or ids[:1] if counts[i] == best))
    return out


class rigged:
    """Context manager: the model's logits become one-hot (value 10) on ``oracle(ids)``."""

    def __init__(self, model, oracle):
        self.model, self.oracle = model, oracle

    def __enter__(self):
        def hook(module, args, kwargs, output):
            ids = kwargs["input_ids"]
            logits = torch.zeros_like(output.logits)
            for b in range(ids.shape[0]):
                for t, choice in enumerate(self.oracle(ids[b].tolist())):
                    logits[b, t, choice] = 10.0
            output.logits = logits
            return output

        self.handle = self.model.register_forward_hook(hook, with_kwargs=True)
        return self.model

    def __exit__(self, *exc):
        self.handle.remove()


# --------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------


def test_prompts_have_the_ab_a_layout(tok):
    p = pattern_completion_prompts(tok, n=50, n_before=3, n_between=6, seed=1)
    assert p.tokens.shape == (50, 3 + 6 + 4)
    assert p.first_a == 4 and p.answer_position == 12
    words = set(word_token_ids(tok))
    for row, a, b in zip(p.tokens.tolist(), p.a.tolist(), p.b.tolist()):
        assert row[0] == tok.convert_tokens_to_ids("<bos>")
        assert row[4] == a and row[5] == b and row[-1] == a
        assert set(row[1:]) <= words
        counts = Counter(row[1:])
        assert counts[a] == 2 and counts[b] == 1
        assert all(c == 1 for w, c in counts.items() if w != a)  # every other word once
    assert p.distractor is None
    assert "<bos>" not in p.prompt(tok, 0) and len(p.prompt(tok, 0).split()) == 12


def test_distractor_is_the_most_frequent_word_and_never_follows_a(tok):
    p = pattern_completion_prompts(tok, n=40, n_before=2, n_between=7, distractor=True, n_distractor=3, seed=2)
    for row, a, b, d in zip(p.tokens.tolist(), p.a.tolist(), p.b.tolist(), p.distractor.tolist()):
        counts = Counter(row[1:])
        assert d not in (a, b)
        assert counts[d] == 3
        positions = [i for i, w in enumerate(row) if w == d]
        assert all(p.first_a + 1 < i < len(row) - 1 for i in positions)  # between B and the second A
        assert counts[a] == 2 and counts[b] == 1
        assert all(c == 1 for w, c in counts.items() if w not in (a, d))


def test_prompts_are_deterministic_for_a_seed(tok):
    one = pattern_completion_prompts(tok, n=20, seed=5)
    assert torch.equal(one.tokens, pattern_completion_prompts(tok, n=20, seed=5).tokens)
    assert not torch.equal(one.tokens, pattern_completion_prompts(tok, n=20, seed=6).tokens)


def test_bad_arguments_are_rejected(tok):
    with pytest.raises(ValueError, match="n must be at least 1"):
        pattern_completion_prompts(tok, n=0)
    with pytest.raises(TypeError, match="distractor"):
        pattern_completion_prompts(tok, distractor="sim")
    with pytest.raises(ValueError, match="n_distractor"):
        pattern_completion_prompts(tok, n_between=2, distractor=True, n_distractor=3)
    with pytest.raises(ValueError, match="n_distractor must be at least 2"):
        pattern_completion_prompts(tok, distractor=True, n_distractor=1)
    with pytest.raises(TypeError, match="n_before"):
        pattern_completion_prompts(tok, n_before=1.5)
    small = build_tokenizer(["<bos>", "<unk>", "<pad>", "gato", "casa", "rio"])
    with pytest.raises(ValueError, match="only 3 single-token words"):
        pattern_completion_prompts(small, n_before=1, n_between=1)


# --------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------


def test_an_induction_oracle_completes_every_pattern(model, tok):
    with rigged(model, induction_oracle):
        res = pattern_completion_accuracy(model, tok, n=30, seed=3)
        res_d = pattern_completion_accuracy(model, tok, n=30, seed=3, distractor=True)
    assert res.accuracy == 1.0 and res_d.accuracy == 1.0
    assert res.distractor_rate is None and res_d.distractor_rate == 0.0
    assert res.a_rate == 0.0
    assert torch.equal(res.ranks, torch.zeros(30, dtype=torch.long))
    assert torch.equal(res.predictions, res.prompts.b)
    # one-hot logit 10 among V entries: p(B) = e^10 / (e^10 + V - 1)
    V = len(tok)
    assert res.mean_prob_b == pytest.approx(torch.e ** 10 / (torch.e ** 10 + V - 1), rel=1e-5)


def test_copying_the_most_frequent_word_falls_for_the_distractor(model, tok):
    with rigged(model, most_frequent_oracle):
        res = pattern_completion_accuracy(model, tok, n=30, seed=4, distractor=True, n_distractor=3)
        plain = pattern_completion_accuracy(model, tok, n=30, seed=4)
    assert res.distractor_rate == 1.0 and res.accuracy == 0.0
    # without a distractor the most frequent word is A (it occurs twice), never B
    assert plain.accuracy == 0.0 and torch.equal(plain.predictions, plain.prompts.a)
    assert plain.a_rate == 1.0 and res.a_rate == 0.0


def test_accuracy_and_probability_match_the_raw_model(model, tok):
    res = pattern_completion_accuracy(model, tok, n=40, n_before=2, n_between=5, seed=7)
    prompts = pattern_completion_prompts(tok, n=40, n_before=2, n_between=5, seed=7)
    assert torch.equal(res.prompts.tokens, prompts.tokens)
    with torch.no_grad():
        logits = model(prompts.tokens).logits[:, -1]
    expected_pred = logits.argmax(-1)
    assert torch.equal(res.predictions, expected_pred)
    assert res.accuracy == pytest.approx(float((expected_pred == prompts.b).float().mean()))
    p_b = F.softmax(logits, -1)[torch.arange(40), prompts.b]
    assert res.mean_prob_b == pytest.approx(float(p_b.mean()), rel=1e-5)
    # context words: 2 before + A + B + 5 between, all distinct
    assert res.context_chance == pytest.approx(1 / 9)


def test_context_chance_counts_the_distractor_once(model, tok):
    res = pattern_completion_accuracy(model, tok, n=10, n_before=4, n_between=8, distractor=True, n_distractor=3)
    assert res.context_chance == pytest.approx(1 / (4 + 2 + 8 - 3 + 1))


def test_accuracy_runs_inside_a_knockout_and_the_model_is_left_unchanged(model, tok):
    before = pattern_completion_accuracy(model, tok, n=20, seed=8)
    T = before.prompts.tokens.shape[1]
    with attention_knockout(model, [(1, h) for h in range(4)], previous_token_edges(T)):
        pattern_completion_accuracy(model, tok, n=20, seed=8)
    after = pattern_completion_accuracy(model, tok, n=20, seed=8)
    assert torch.equal(before.predictions, after.predictions)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def test_answer_ranks_by_hand():
    logits = torch.tensor([[1.0, 3.0, 2.0], [5.0, 5.0, 0.0], [0.0, 1.0, 2.0]])
    assert answer_ranks(logits, torch.tensor([2, 1, 0])).tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match="answer ids"):
        answer_ranks(logits, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match=r"\[n\]"):
        answer_ranks(logits, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        answer_ranks(logits, torch.tensor([0.0, 1.0, 2.0]))


def test_previous_token_edges_block_exactly_the_diagonal_below(model):
    mask = previous_token_edges(4)
    expected = torch.tensor([[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=torch.bool)
    assert torch.equal(mask, expected)
    with pytest.raises(ValueError, match="T must be at least 2"):
        previous_token_edges(1)
    tokens = torch.randint(3, 60, (2, 10), generator=torch.Generator().manual_seed(0))
    with attention_knockout(model, [(0, 1)], previous_token_edges(10)):
        pattern = attention_patterns(model, tokens, layers=[0])[0]  # [batch, heads, T, T]
    assert float(pattern[:, 1].diagonal(offset=-1, dim1=-2, dim2=-1).abs().max()) == 0.0
    assert float(pattern[:, 0].diagonal(offset=-1, dim1=-2, dim2=-1).min()) > 0.0  # other heads untouched


def test_completion_examples_show_each_models_guess(model, tok):
    with rigged(model, induction_oracle):
        right = pattern_completion_accuracy(model, tok, n=6, seed=9)
    with rigged(model, most_frequent_oracle):
        wrong = pattern_completion_accuracy(model, tok, n=6, seed=9)
    table = completion_examples({"certo": right, "errado": wrong}, tok, k=4)
    assert list(table.columns) == ["Prompt", "A", "B (resposta)", "certo prevê", "errado prevê"]
    assert len(table) == 4
    for i, row in table.iterrows():
        b = tok.decode([int(right.prompts.b[i])])
        a = tok.decode([int(right.prompts.a[i])])
        assert row["B (resposta)"] == b and row["A"] == a
        assert row["certo prevê"] == b + " ✓"
        assert row["errado prevê"] == a  # A occurs twice: the most frequent word, no check mark
        assert row["Prompt"].split()[-1] == a
    other = pattern_completion_accuracy(model, tok, n=6, seed=10)
    with pytest.raises(ValueError, match="different prompts"):
        completion_examples({"a": right, "b": other}, tok)


def test_pushed_tokens_table_ranks_b_among_the_heads_pushes(tok):
    prompts = pattern_completion_prompts(tok, n=3, seed=11)
    V = len(tok)
    dl = torch.zeros(3, V)
    b = prompts.b.tolist()
    dl[0, b[0]] = 5.0                      # B pushed the most: rank 1
    dl[1, b[1]] = 5.0
    dl[1, 10] = 7.0                        # one token pushed more than B: rank 2
    dl[2, b[2]] = -1.0                     # B pushed down, every other token at 0: rank V
    table = pushed_tokens_table(dl, prompts, tok, k=2, rows=3)
    assert table["Posição de B"].tolist() == [1, 2, V]
    col = "2 tokens mais empurrados (aumento do logit)"
    assert table[col][0].startswith(tok.decode([b[0]]) + " (+5.0)")
    assert table[col][1].startswith(tok.decode([10]) + " (+7.0), " + tok.decode([b[1]]) + " (+5.0)")
    with pytest.raises(ValueError, match="one row per prompt"):
        pushed_tokens_table(dl[:2], prompts, tok)
