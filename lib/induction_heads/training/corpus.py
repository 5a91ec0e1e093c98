"""The synthetic corpus the toy models learn from.

Every training sequence starts with ``<bos>`` and is one of two kinds:

* **repeated segment** (a fraction ``p_repeat`` of the sequences): ``L`` distinct random words
  (``L`` drawn from ``repeat_len``), repeated until the context is full. Only a model that copies
  from its context can predict the 2nd and later copies: this is what makes an induction circuit
  pay off.
* **toy language**: text in a small "language" over Portuguese words. Words are grouped into
  classes (parts of speech, split into smaller groups); the class of the next word follows a
  sparse transition table from the class of the current word (and, with weight
  ``skip_weight``, from the class of the word before it). Three rules give attention heads
  jobs:

  - **echo**: with probability ``echo_weight`` the next word repeats the word *before* the
    current one (``... gato come gato``). Predicting it needs the previous token, so layer 0
    grows a clean previous-token head; that head is also the first half of the induction
    circuit.
  - **topic**: position 1 holds a topic word; with probability ``topic_weight`` each later word
    is one of the topic's preferred quarter of its class, so a head that looks back at
    position 1 pays (a job outside the induction circuit).

Generation uses a ``numpy`` generator seeded once: the same seed gives the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .words import ADJECTIVES, ADVERBS, FUNCTION_WORDS, NOUNS, PUNCTUATION, SPECIAL_TOKENS, TOPICS, VERBS, VOCABULARY

BOS_ID = VOCABULARY.index(SPECIAL_TOKENS[0])
WORD_IDS = np.arange(len(SPECIAL_TOKENS), len(VOCABULARY))  # every ordinary (non-special) token
TOPIC_IDS = np.array([VOCABULARY.index(w) for w in TOPICS])


def _split(words: list[str], n: int) -> list[list[str]]:
    k = len(words)
    return [words[i * k // n: (i + 1) * k // n] for i in range(n)]


def word_classes() -> list[list[str]]:
    """The classes of the toy language: parts of speech, the big ones split into groups of ~26."""
    return (
        _split(NOUNS, 6) + _split(VERBS, 3) + _split(ADJECTIVES, 2) + [ADVERBS]
        + _split(FUNCTION_WORDS, 2) + [PUNCTUATION]
    )


@dataclass(frozen=True)
class Language:
    """The fixed rules of the toy language (drawn once from ``language_seed``)."""

    classes: list[np.ndarray]  # token ids of each class
    table: np.ndarray  # [K, K, K]: P(class of next word | class two back, class of current word)
    preferred: np.ndarray  # [n_topics, K, max_pref] token ids a topic prefers in each class
    n_preferred: np.ndarray  # [K] how many preferred words each class has

    @staticmethod
    def build(seed: int, skip_weight: float, sparsity: float = 0.05) -> "Language":
        rng = np.random.default_rng(seed)
        classes = [np.array([VOCABULARY.index(w) for w in c]) for c in word_classes()]
        K = len(classes)

        def sparse_table() -> np.ndarray:
            # each class leads mostly to two others (0.6 / 0.4), the rest share ``sparsity``
            t = np.full((K, K), sparsity / K)
            for a in range(K):
                t[a, rng.choice(K, 2, replace=False)] += (1 - sparsity) * np.array([0.6, 0.4])
            return t / t.sum(-1, keepdims=True)

        from_current, from_previous = sparse_table(), sparse_table()
        table = skip_weight * from_previous[:, None, :] + (1 - skip_weight) * from_current[None, :, :]
        n_pref = np.array([max(1, len(c) // 4) for c in classes])
        preferred = np.zeros((len(TOPICS), K, n_pref.max()), dtype=np.int64)
        for t in range(len(TOPICS)):
            for k, c in enumerate(classes):
                preferred[t, k, : n_pref[k]] = rng.permutation(c)[: n_pref[k]]
        return Language(classes, table, preferred, n_pref)


class Corpus:
    """Batches of training sequences (see the module docstring), deterministic for a seed."""

    def __init__(
        self,
        n_ctx: int,
        *,
        p_repeat: float,
        repeat_len: tuple[int, int],
        skip_weight: float,
        topic_weight: float,
        language_seed: int,
        seed: int,
        echo_weight: float = 0.0,
    ):
        if n_ctx < 4:
            raise ValueError(f"n_ctx must be at least 4, got {n_ctx}")
        if not 0.0 <= p_repeat <= 1.0:
            raise ValueError(f"p_repeat must be in [0, 1], got {p_repeat}")
        lo, hi = repeat_len
        if not 1 <= lo <= hi <= len(WORD_IDS):
            raise ValueError(f"repeat_len must satisfy 1 <= min <= max <= {len(WORD_IDS)}, got {repeat_len}")
        for name, value in (("skip_weight", skip_weight), ("topic_weight", topic_weight), ("echo_weight", echo_weight)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.n_ctx, self.p_repeat, self.repeat_len = n_ctx, p_repeat, (lo, hi)
        self.topic_weight, self.echo_weight = topic_weight, echo_weight
        self.language = Language.build(language_seed, skip_weight)
        self._class_of = np.zeros(len(VOCABULARY), dtype=np.int64)
        for k, c in enumerate(self.language.classes):
            self._class_of[c] = k
        self._class_of[TOPIC_IDS] = np.random.default_rng(language_seed + 2).integers(len(self.language.classes), size=len(TOPIC_IDS))
        self.rng = np.random.default_rng(seed)
        lang = self.language
        self._cum = np.cumsum(lang.table, axis=-1)
        self._class_len = np.array([len(c) for c in lang.classes])
        self._class_ids = np.zeros((len(lang.classes), self._class_len.max()), dtype=np.int64)
        for k, c in enumerate(lang.classes):
            self._class_ids[k, : len(c)] = c

    def text(self, batch: int) -> np.ndarray:
        """``[batch, n_ctx]`` sequences of toy-language text: ``<bos>``, a topic word, words."""
        rng, lang, K = self.rng, self.language, len(self.language.classes)
        out = np.empty((batch, self.n_ctx), dtype=np.int64)
        out[:, 0] = BOS_ID
        topic = rng.integers(len(TOPICS), size=batch)
        out[:, 1] = TOPIC_IDS[topic]
        before, current = rng.integers(K, size=batch), rng.integers(K, size=batch)
        for pos in range(2, self.n_ctx):
            u = rng.random(batch)
            nxt = np.minimum((u[:, None] > self._cum[before, current]).sum(-1), K - 1)
            from_topic = rng.random(batch) < self.topic_weight
            any_word = self._class_ids[nxt, (rng.random(batch) * self._class_len[nxt]).astype(np.int64)]
            topic_word = lang.preferred[topic, nxt, (rng.random(batch) * lang.n_preferred[nxt]).astype(np.int64)]
            word = np.where(from_topic, topic_word, any_word)
            if self.echo_weight and pos >= 3:  # echo: the word before the current one comes again
                echo = rng.random(batch) < self.echo_weight
                word = np.where(echo, out[:, pos - 2], word)
                nxt = np.where(echo, self._class_of[word], nxt)
            out[:, pos] = word
            before, current = current, nxt
        return out

    def repeats(self, batch: int) -> np.ndarray:
        """``[batch, n_ctx]`` sequences: ``<bos>`` then a segment of distinct random words, repeated."""
        out = np.empty((batch, self.n_ctx), dtype=np.int64)
        out[:, 0] = BOS_ID
        lo, hi = self.repeat_len
        for i in range(batch):
            length = int(self.rng.integers(lo, hi + 1))
            segment = self.rng.choice(WORD_IDS, length, replace=False)
            out[i, 1:] = np.resize(segment, self.n_ctx - 1)
        return out

    def batch(self, batch: int) -> torch.Tensor:
        """A training batch ``[batch, n_ctx]`` (LongTensor) mixing both kinds of sequence."""
        is_repeat = self.rng.random(batch) < self.p_repeat
        out = self.text(batch)
        n = int(is_repeat.sum())
        if n:
            out[is_repeat] = self.repeats(n)
        return torch.from_numpy(out)


def decode(ids) -> str:
    """The words of a sequence of token ids, joined by spaces (for showing corpus samples)."""
    return " ".join(VOCABULARY[int(i)] for i in ids)
