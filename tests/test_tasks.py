"""Few-shot pattern tasks: prompts are well formed, and accuracy is what it says."""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from induction_heads.tasks import (
    KINDS, FewShotTask, chance_level, few_shot_task, separator_id, task_accuracy, task_predictions, word_token_ids,
)
from induction_heads.training import build_tokenizer
from induction_heads.training.words import VOCABULARY


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def gpt2_style_tok():
    """A byte-level tokenizer that marks word-initial spaces with 'Ġ', like GPT-2's."""
    words = ["gato", "casa", "rio", "mar", "sol", "lua", "pato", "vaca"] + [f"w{c}{d}" for c in "abcdefgh" for d in "abcdefgh"]
    vocab = {"<|endoftext|>": 0, ",": 1, "Ġ,": 2, "3": 3, "Ġ3": 4}
    for w in words:
        vocab.setdefault(w, len(vocab))
        vocab["Ġ" + w] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<|endoftext|>", eos_token="<|endoftext|>")


def test_recall_prompts_are_answered_by_the_example_with_the_same_key(tok):
    task = few_shot_task(tok, "recall", n_examples=8, batch=50, seed=3, n_labels=4)
    assert task.tokens.shape == (50, 3 * 8 + 2)
    assert task.chance == chance_level(task) == 0.25
    comma = VOCABULARY.index(",")
    for row, pos, ans, ch in zip(task.tokens.tolist(), task.answer_positions.tolist(), task.answers.tolist(), task.choices.tolist()):
        assert row[0] == 0 and pos == len(row) - 1
        examples = [row[1 + 3 * i: 4 + 3 * i] for i in range(8)]
        assert all(ex[2] == comma for ex in examples)
        keys = [ex[0] for ex in examples]
        assert len(set(keys)) == 8 and keys.count(row[pos]) == 1
        assert ans == examples[keys.index(row[pos])][1]
        assert sorted(ch) == sorted(set(ex[1] for ex in examples)) and len(ch) == 4
        assert not set(keys) & set(ch)


def test_pattern_prompts_need_more_than_copying(tok):
    task = few_shot_task(tok, "pattern", n_examples=6, batch=40, seed=1)
    assert task.tokens.shape == (40, 5 * 6 + 4) and task.chance == 0.5
    for row, ans, ch in zip(task.tokens.tolist(), task.answers.tolist(), task.choices.tolist()):
        examples = [row[1 + 5 * i: 6 + 5 * i] for i in range(6)]
        query = row[-3:]
        label_of = {}
        for a, b, c, label, _sep in examples:
            assert a != b and c in (a, b)
            label_of.setdefault("ABA" if c == a else "ABB", set()).add(label)
        assert all(len(v) == 1 for v in label_of.values())  # one label per pattern
        assert len(set().union(*label_of.values())) == len(label_of)  # different patterns, different labels
        pattern = "ABA" if query[2] == query[0] else "ABB"
        assert query[0] != query[1] and query[2] in query[:2]
        if pattern in label_of:
            assert {ans} == label_of[pattern]
        assert ans in ch and len(set(ch)) == 2
        assert not set(query) & set(row[:-3])  # the query's words are new: nothing to copy


def test_tasks_are_deterministic_for_a_seed(tok):
    for kind in KINDS:
        a, b = few_shot_task(tok, kind, batch=5, seed=7), few_shot_task(tok, kind, batch=5, seed=7)
        c = few_shot_task(tok, kind, batch=5, seed=8)
        assert torch.equal(a.tokens, b.tokens) and torch.equal(a.answers, b.answers)
        assert not torch.equal(a.tokens, c.tokens)


def test_words_come_from_any_tokenizer(gpt2_style_tok):
    pool = word_token_ids(gpt2_style_tok)
    decoded = [gpt2_style_tok.decode([i]) for i in pool]
    assert len(pool) == 72 and all(s.startswith(" ") and s[1:].isalpha() for s in decoded)
    assert separator_id(gpt2_style_tok) == 2  # " ,"
    task = few_shot_task(gpt2_style_tok, "recall", n_examples=6, batch=3, seed=0)
    assert set(task.tokens[:, 1:].flatten().tolist()) <= set(pool) | {2}
    assert task.prompt(gpt2_style_tok, 0).count(",") == 6


def test_bad_arguments_are_rejected(tok):
    with pytest.raises(ValueError, match="kind"):
        few_shot_task(tok, "copy")
    with pytest.raises(ValueError, match="n_labels"):
        few_shot_task(tok, "recall", n_examples=3, n_labels=4)
    with pytest.raises(TypeError, match="batch"):
        few_shot_task(tok, "recall", batch=2.0)
    with pytest.raises(ValueError, match="n_examples"):
        few_shot_task(tok, "pattern", n_examples=0)
    with pytest.raises(TypeError, match="FewShotTask"):
        task_accuracy(None, "not a task")


def test_accuracy_is_the_fraction_of_right_top_choices(tok):
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=1, n_head=2)).eval()
    task = few_shot_task(tok, "recall", n_examples=8, batch=30, seed=0)
    with torch.no_grad():
        logits = model(task.tokens).logits
    expected = []
    for i in range(len(task)):
        scores = {int(c): float(logits[i, int(task.answer_positions[i]), int(c)]) for c in task.choices[i]}
        expected.append(max(scores, key=scores.get) == int(task.answers[i]))
    assert task_accuracy(model, task) == pytest.approx(sum(expected) / len(expected))
    assert task_predictions(model, task).shape == (30,)

    # a task whose right answer is, by construction, the choice the model ranks first: accuracy 1
    picked = task_predictions(model, task)
    rigged = FewShotTask(task.kind, task.tokens, task.answer_positions, picked, task.choices, task.chance)
    assert task_accuracy(model, rigged) == 1.0
