"""Olsson et al.'s repeated random tokens (induction_heads.probes)."""

from __future__ import annotations

import pytest
import torch
from _tiny import tiny_tokenizer

from induction_heads.probes import ordinary_token_ids, repeated_tokens


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()  # ids 0, 1, 2 are <bos> <unk> <pad>; 3..63 are words


def test_shape_and_bos(tokenizer):
    tokens = repeated_tokens(tokenizer)
    assert tokens.shape == (10, 1 + 25 * 4) and tokens.dtype == torch.long
    assert (tokens[:, 0] == tokenizer.bos_token_id).all()
    tokens = repeated_tokens(tokenizer, seq_len=7, n_repeats=3, batch=2)
    assert tokens.shape == (2, 22)


def test_each_segment_has_distinct_ordinary_tokens_repeated(tokenizer):
    seq_len, n_repeats = 20, 3
    tokens = repeated_tokens(tokenizer, seq_len=seq_len, n_repeats=n_repeats, batch=6, seed=4)
    special = {0, 1, 2}
    for row in tokens.tolist():
        segment = row[1:1 + seq_len]
        assert len(set(segment)) == seq_len  # distinct
        assert not special & set(row[1:])  # no special token after BOS
        assert all(3 <= t < 64 for t in row[1:])
        for r in range(n_repeats):
            assert row[1 + r * seq_len:1 + (r + 1) * seq_len] == segment  # repeated exactly
    assert len({tuple(r) for r in tokens.tolist()}) == 6  # the rows differ


def test_deterministic_for_a_seed(tokenizer):
    a = repeated_tokens(tokenizer, seed=3)
    b = repeated_tokens(tokenizer, seed=3)
    c = repeated_tokens(tokenizer, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(123)  # the global generator plays no part
    assert torch.equal(repeated_tokens(tokenizer, seed=3), a)


def test_uses_every_ordinary_token_when_seq_len_equals_their_count(tokenizer):
    tokens = repeated_tokens(tokenizer, seq_len=61, n_repeats=2, batch=1)
    assert sorted(tokens[0, 1:62].tolist()) == list(range(3, 64))


def test_added_special_tokens_are_never_drawn():
    tokenizer = tiny_tokenizer(n_words=6)  # ids 3..8
    tokenizer.add_special_tokens({"additional_special_tokens": ["<sep>"]})  # id 9
    assert ordinary_token_ids(tokenizer) == [3, 4, 5, 6, 7, 8]
    tokens = repeated_tokens(tokenizer, seq_len=6, n_repeats=2, batch=20)
    assert set(tokens[:, 1:].flatten().tolist()) == {3, 4, 5, 6, 7, 8}


def test_too_few_ordinary_tokens_is_a_clear_error():
    tokenizer = tiny_tokenizer(n_words=5)
    with pytest.raises(ValueError, match="only 5 ordinary .*seq_len=25"):
        repeated_tokens(tokenizer)
    assert repeated_tokens(tokenizer, seq_len=5).shape == (10, 21)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"seq_len": 0}, ValueError, "seq_len must be at least 1"),
        ({"n_repeats": 0}, ValueError, "n_repeats must be at least 1"),
        ({"batch": -2}, ValueError, "batch must be at least 1"),
        ({"seq_len": 2.5}, TypeError, "seq_len must be an int"),
        ({"batch": True}, TypeError, "batch must be an int"),
        ({"seed": "zero"}, TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments(tokenizer, kwargs, error, message):
    with pytest.raises(error, match=message):
        repeated_tokens(tokenizer, **kwargs)


def test_a_tokenizer_without_bos_or_eos_is_refused():
    tokenizer = tiny_tokenizer()
    tokenizer.bos_token = None
    tokenizer.eos_token = None
    with pytest.raises(ValueError, match="neither a BOS nor an EOS"):
        repeated_tokens(tokenizer)
