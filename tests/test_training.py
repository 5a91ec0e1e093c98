"""The training code: corpus, tokenizer, config, and a very short deterministic run."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

from induction_heads.training import (
    CONFIGS, Corpus, TrainConfig, build_tokenizer, load_checkpoint, load_record, phase_change_step, train,
)
from induction_heads.training.words import SPECIAL_TOKENS, TOPICS, VOCABULARY

TINY = TrainConfig(
    name="tiny", n_layer=2, n_head=2, n_embd=16, n_ctx=33, batch_size=4, max_steps=6, eval_every=3,
    warmup_steps=2, n_checkpoints=2, threads=1, repeat_len=(3, 8),
)


def corpus(**kw):
    args = dict(p_repeat=0.5, repeat_len=(5, 12), skip_weight=0.6, topic_weight=0.8, language_seed=1, seed=0)
    args.update(kw)
    return Corpus(64, **args)


def test_repeated_segments_are_distinct_words_repeated_to_the_end():
    rows = corpus(p_repeat=1.0).batch(20).numpy()
    assert rows.shape == (20, 64) and (rows[:, 0] == 0).all()
    for row in rows:
        body = row[1:]
        # the period is the first position where the first word comes back
        period = int(np.nonzero(body[1:] == body[0])[0][0]) + 1
        assert 5 <= period <= 12
        assert len(set(body[:period])) == period  # distinct words
        assert (body[period:] == body[:-period]).all()  # repeated to the end
        assert body.min() >= len(SPECIAL_TOKENS)


def test_toy_language_text_starts_with_a_topic_and_follows_its_topic():
    c = corpus(p_repeat=0.0, topic_weight=1.0)
    rows = c.batch(200).numpy()
    topic_ids = [VOCABULARY.index(t) for t in TOPICS]
    assert (rows[:, 0] == 0).all() and np.isin(rows[:, 1], topic_ids).all()
    assert rows[:, 2:].min() >= len(SPECIAL_TOKENS)
    # with topic_weight 1 every word is one its topic prefers: two texts on the same topic share
    # far more words than texts on different topics
    by_topic = {t: set() for t in topic_ids}
    for row in rows:
        by_topic[row[1]] |= set(row[2:].tolist())
    sizes = [len(s) for s in by_topic.values() if s]
    assert max(sizes) <= 0.3 * (len(VOCABULARY) - len(SPECIAL_TOKENS))


def test_the_word_two_back_matters_in_the_toy_language():
    # an independent check of skip_weight: the class two back predicts the next class
    c = corpus(p_repeat=0.0, skip_weight=1.0, topic_weight=0.0)
    rows = c.batch(300).numpy()[:, 2:]
    cls = np.zeros(len(VOCABULARY), dtype=int)
    for k, ids in enumerate(c.language.classes):
        cls[ids] = k
    pairs = {}
    for row in cls[rows]:
        for a, b in zip(row[:-2], row[2:]):
            pairs.setdefault(a, []).append(b)
    # given the class two back, the next class is one of two classes 95% of the time
    top2 = [sum(sorted(np.bincount(v), reverse=True)[:2]) / len(v) for v in pairs.values() if len(v) > 50]
    assert np.mean(top2) > 0.85


def test_corpus_is_deterministic_for_a_seed_and_checks_its_arguments():
    assert torch.equal(corpus(seed=3).batch(8), corpus(seed=3).batch(8))
    assert not torch.equal(corpus(seed=3).batch(8), corpus(seed=4).batch(8))
    with pytest.raises(ValueError, match="p_repeat"):
        corpus(p_repeat=1.5)
    with pytest.raises(ValueError, match="repeat_len"):
        corpus(repeat_len=(10, 5))


def test_tokenizer_has_one_token_per_word():
    tok = build_tokenizer()
    assert len(tok) == len(VOCABULARY) and tok.bos_token_id == 0
    ids = tok("o gato come a maçã.")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<bos>", "o", "gato", "come", "a", "maçã", "."]
    assert ids[1:] == [VOCABULARY.index(w) for w in ["o", "gato", "come", "a", "maçã", "."]]
    assert tok("palavrainexistente", add_special_tokens=False)["input_ids"] == [VOCABULARY.index("<unk>")]
    assert tok.decode(ids[1:]) == "o gato come a maçã."
    with pytest.raises(ValueError, match="special"):
        build_tokenizer(["gato", "casa"])


def test_config_rejects_bad_values_and_presets_differ_only_in_layers():
    with pytest.raises(ValueError, match="divisible"):
        TrainConfig(n_embd=30, n_head=4)
    with pytest.raises(TypeError, match="max_steps"):
        TrainConfig(max_steps=1.5)
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"n_layers": 2})
    a, b = CONFIGS["toy-2l"].to_dict(), CONFIGS["toy-1l"].to_dict()
    assert {k for k in a if a[k] != b[k]} == {"name", "n_layer"}
    assert TrainConfig.from_dict(a) == CONFIGS["toy-2l"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    record = train(TINY, out, progress=False)
    return out, record


def test_a_short_run_is_deterministic_for_a_seed(tiny_run, tmp_path):
    _, first = tiny_run
    again = train(TINY, None, progress=False)
    for key in ("loss", "loss_repeats", "icl_score", "prefix_matching", "previous_token"):
        assert again[key] == first[key], key
    other = train(TINY.replace(seed=1), None, progress=False)
    assert other["loss"] != first["loss"]


def test_the_saved_run_loads_like_a_hub_model(tiny_run):
    out, record = tiny_run
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    # a class name transformers 4.x knows too (transformers 5 would write "TokenizersBackend")
    assert json.loads((out / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert model.config.n_layer == 2 and model.config.n_head == 2 and model.config.n_positions == 33
    assert tok.convert_ids_to_tokens(tok("o gato")["input_ids"]) == ["<bos>", "o", "gato"]
    # the saved weights are the trained ones: recompute the record's last loss on repeats
    from induction_heads.probes import repeated_tokens

    probe = repeated_tokens(tok, seq_len=8, n_repeats=4, batch=10, seed=0)
    with torch.no_grad():
        logits = model(probe).logits
    loss = F.cross_entropy(logits[:, :-1].transpose(1, 2), probe[:, 1:], reduction="none")
    assert float(loss[:, 8:].mean()) == pytest.approx(record["loss_repeats"][-1], abs=1e-5)

    saved = load_record(out)
    assert saved["steps"] == [0, 3, 6] and len(saved["prefix_matching"][0]) == 2
    assert json.loads(json.dumps(record)) == saved
    assert saved["config"]["command"] == "python -m induction_heads.train tiny"
    assert saved["checkpoints"] and all(s in saved["steps"] for s in saved["checkpoints"])


def test_checkpoints_are_float16_copies_of_the_weights_at_their_step(tiny_run):
    out, record = tiny_run
    last = record["steps"][-1]
    assert last in record["checkpoints"]  # no phase change in 6 steps: spread over the run
    ckpt, _ = load_checkpoint(out, last)
    final = AutoModelForCausalLM.from_pretrained(out)
    assert next(ckpt.parameters()).dtype == torch.float32
    for (name, a), b in zip(final.state_dict().items(), ckpt.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-3, rtol=1e-3), name
    with pytest.raises(ValueError, match="no checkpoint"):
        load_checkpoint(out, 4)


def test_phase_change_step_finds_the_jump():
    pm = [0.03, 0.03, 0.04, 0.05, 0.3, 0.7, 0.8, 0.82]
    rec = {"steps": [0, 50, 100, 150, 200, 250, 300, 350], "prefix_matching": [[[0.0], [v]] for v in pm]}
    assert phase_change_step(rec) == 250  # first value >= (0.03 + 0.82) / 2
    flat = {"steps": [0, 50], "prefix_matching": [[[0.0], [0.03]], [[0.0], [0.1]]]}
    assert phase_change_step(flat) is None


def test_cli_reproduces_a_run(tmp_path):
    from induction_heads.train import main

    out = tmp_path / "toy-1l"
    assert main(["toy-1l", "--out", str(out), "--steps", "2", "--no-progress", "--threads", "1"]) == 0
    rec = load_record(out)
    assert rec["steps"] == [0, 2]
    assert rec["config"]["command"] == f"python -m induction_heads.train toy-1l --out {out} --steps 2 --no-progress --threads 1"
    assert rec["config"]["n_layer"] == 1 and rec["config"]["max_steps"] == 2
    assert AutoModelForCausalLM.from_pretrained(out).config.n_layer == 1
