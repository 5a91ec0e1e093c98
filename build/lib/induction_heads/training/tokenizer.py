"""A word-level tokenizer for the toy language, built with Hugging Face ``tokenizers``.

One token per word (punctuation marks are words too), so every token a page shows is a
readable Portuguese word. It is wrapped in ``PreTrainedTokenizerFast`` and saved next to the
model, so ``AutoTokenizer.from_pretrained(path)`` loads it like any Hub tokenizer.

Encoding a text prepends ``<bos>`` (the models were trained on sequences that start with it);
pass ``add_special_tokens=False`` to get the words alone.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from .words import SPECIAL_TOKENS, VOCABULARY

BOS, UNK, PAD = SPECIAL_TOKENS


def build_tokenizer(vocabulary: list[str] | None = None) -> PreTrainedTokenizerFast:
    """The word-level tokenizer over ``vocabulary`` (default: the toy language's words).

    ``vocabulary`` lists every token in id order and must start with ``<bos>``, ``<unk>``,
    ``<pad>``. Words are split on whitespace and punctuation; unknown words map to ``<unk>``.
    """
    vocabulary = list(VOCABULARY if vocabulary is None else vocabulary)
    if vocabulary[: len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
        raise ValueError(f"vocabulary must start with the special tokens {SPECIAL_TOKENS}")
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError("vocabulary contains duplicate tokens")
    for word in vocabulary[len(SPECIAL_TOKENS):]:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"vocabulary entry {word!r} is empty or contains whitespace")

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocabulary)}, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, 0)]
    )
    # Tokens are whole words: decoding joins them with spaces.
    core.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=BOS,
        unk_token=UNK,
        pad_token=PAD,
        model_max_length=None,
        clean_up_tokenization_spaces=False,
    )
