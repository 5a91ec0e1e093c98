"""The rule ``AB...A -> B`` checked on a model, and the helpers the mechanism chapter needs.

An induction head implements a pattern-completion rule (Elhage et al. 2021; Olsson et al. 2022;
Jurafsky & Martin, ch. 12): if the context holds ``A B`` and later ``A`` comes again, predict
``B``. :func:`pattern_completion_accuracy` measures how often a model's top prediction after the
second ``A`` is ``B``, on many prompts made of random words (so the pair ``A B`` cannot be known
from training: only the context says what follows ``A``).

A prompt (see :func:`pattern_completion_prompts`) is::

    <bos>  f_1 ... f_m  A  B  g_1 ... g_k  A      -> the answer is B

with ``m = n_before`` and ``k = n_between`` filler words. Every word of a prompt is distinct,
except the second ``A`` and, *with a distractor*, one filler word ``D`` that occurs
``n_distractor`` times among the ``g``'s. ``D`` is the most frequent word of the context: a
model that just copies some word it has seen (something one attention layer can do) is drawn
to ``D``; the induction rule is not, because ``D`` never follows ``A``.

:func:`answer_ranks` gives the rank of the right answer among the vocabulary (0 = the top
prediction), for a model's logits or for one head's direct logits
(:func:`induction_heads.attribution.head_direct_logits`). :func:`previous_token_edges` is the
bool mask of the edges ``i -> i - 1``, for :func:`induction_heads.ablation.attention_knockout`.
:func:`completion_examples` and :func:`pushed_tokens_table` lay results out as small tables
(``pandas.DataFrame``, Portuguese column names) for the book's pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .models import check_tokens, input_device
from .probes import bos_id
from .tasks import word_token_ids

__all__ = [
    "PatternPrompts",
    "PatternCompletionResult",
    "pattern_completion_prompts",
    "pattern_completion_accuracy",
    "answer_ranks",
    "previous_token_edges",
    "completion_examples",
    "pushed_tokens_table",
]


@dataclass(frozen=True)
class PatternPrompts:
    """A batch of ``AB...A`` prompts (all of the same length).

    ``tokens``: ``[n, T]`` LongTensor, ``<bos>`` first, the second ``A`` last; ``a``, ``b``:
    ``[n]`` token ids of ``A`` and ``B``; ``distractor``: ``[n]`` ids of the repeated filler
    ``D`` (``None`` without a distractor); ``first_a``: the position of the first ``A`` (the
    same in every prompt), so ``B`` sits at ``first_a + 1`` and the answer is read at the last
    position ``T - 1``.
    """

    tokens: torch.Tensor
    a: torch.Tensor
    b: torch.Tensor
    distractor: torch.Tensor | None
    first_a: int

    def __len__(self) -> int:
        return self.tokens.shape[0]

    @property
    def answer_position(self) -> int:
        """Position whose next-token prediction should be ``B`` (the second ``A``)."""
        return self.tokens.shape[1] - 1

    def prompt(self, tokenizer, i: int = 0) -> str:
        """Prompt ``i`` as text, without ``<bos>``."""
        return tokenizer.decode(self.tokens[i, 1:].tolist())


@dataclass(frozen=True)
class PatternCompletionResult:
    """What :func:`pattern_completion_accuracy` measured.

    ``accuracy``: fraction of prompts whose top prediction (over the whole vocabulary) at the
    second ``A`` is ``B``; ``distractor_rate``: fraction whose top prediction is the distractor
    ``D`` (``None`` without a distractor); ``a_rate``: fraction whose top prediction is ``A``
    itself (repeating the current word); ``mean_prob_b``: mean probability given to ``B``;
    ``context_chance``: the accuracy of picking uniformly among the distinct words of the
    context (what copying *some* earlier word would score); ``predictions``: ``[n]`` top
    predicted ids; ``ranks``: ``[n]`` rank of ``B`` (0 = top); ``prompts``: the prompts.
    """

    accuracy: float
    distractor_rate: float | None
    a_rate: float
    mean_prob_b: float
    context_chance: float
    predictions: torch.Tensor
    ranks: torch.Tensor
    prompts: PatternPrompts


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def pattern_completion_prompts(
    tokenizer,
    *,
    n: int = 200,
    n_before: int = 4,
    n_between: int = 8,
    distractor: bool = False,
    n_distractor: int = 3,
    seed: int = 0,
) -> PatternPrompts:
    """``n`` prompts ``<bos> f_1..f_m A B g_1..g_k A`` of random words (see the module docstring).

    Words are single-token words of the tokenizer
    (:func:`induction_heads.tasks.word_token_ids`), drawn without replacement within a prompt.
    With ``distractor=True``, ``n_distractor`` of the ``n_between`` slots between ``B`` and the
    second ``A`` hold the same word ``D`` (at random slots). Deterministic for a ``seed``.
    Length: ``n_before + n_between + 4`` tokens.
    """
    _check_int("n", n, 1)
    _check_int("n_before", n_before, 0)
    _check_int("n_between", n_between, 0)
    _check_int("seed", seed, 0)
    if not isinstance(distractor, bool):
        raise TypeError(f"distractor must be True or False, got {distractor!r}")
    if distractor:
        _check_int("n_distractor", n_distractor, 2)
        if n_distractor > n_between:
            raise ValueError(
                f"n_distractor ({n_distractor}) cannot exceed n_between ({n_between}): the distractor "
                "occupies slots between B and the second A"
            )
    n_distinct_between = n_between - n_distractor + 1 if distractor else n_between
    n_words = 2 + n_before + n_distinct_between
    pool = torch.tensor(word_token_ids(tokenizer), dtype=torch.long)
    if len(pool) < n_words:
        raise ValueError(f"the tokenizer has only {len(pool)} single-token words; a prompt needs {n_words} distinct ones")
    generator = torch.Generator().manual_seed(seed)
    bos = bos_id(tokenizer)
    rows, a_ids, b_ids, d_ids = [], [], [], []
    for _ in range(n):
        words = pool[torch.randperm(len(pool), generator=generator)[:n_words]].tolist()
        a, b = words[0], words[1]
        before = words[2:2 + n_before]
        between = words[2 + n_before:]
        if distractor:
            d, others = between[0], between[1:]
            slots = torch.randperm(n_between, generator=generator)[:n_distractor].tolist()
            it = iter(others)
            between = [d if j in slots else next(it) for j in range(n_between)]
            d_ids.append(d)
        rows.append([bos] + before + [a, b] + between + [a])
        a_ids.append(a)
        b_ids.append(b)
    return PatternPrompts(
        tokens=torch.tensor(rows, dtype=torch.long),
        a=torch.tensor(a_ids, dtype=torch.long),
        b=torch.tensor(b_ids, dtype=torch.long),
        distractor=torch.tensor(d_ids, dtype=torch.long) if distractor else None,
        first_a=1 + n_before,
    )


def answer_ranks(logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """Rank of each row's answer among the vocabulary: 0 when its logit is the largest.

    ``logits``: ``[n, vocab]`` (a model's logits at one position, or a head's direct logits);
    ``answers``: ``[n]`` token ids. The rank counts the entries strictly larger than the
    answer's, so a tie at the top counts as rank 0.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise ValueError("logits must be a [n, vocab] tensor")
    if not isinstance(answers, torch.Tensor) or answers.dim() != 1 or answers.shape[0] != logits.shape[0]:
        raise ValueError(f"answers must be a [n] tensor of token ids with n = {logits.shape[0]}")
    if answers.is_floating_point() or answers.dtype == torch.bool:
        raise TypeError(f"answers must hold integer token ids, got dtype {answers.dtype}")
    if int(answers.min()) < 0 or int(answers.max()) >= logits.shape[1]:
        raise ValueError(f"answer ids must lie in [0, {logits.shape[1] - 1}]")
    answers = answers.to(logits.device).long()
    own = logits.gather(1, answers[:, None])
    return (logits > own).sum(1).cpu()


@torch.no_grad()
def pattern_completion_accuracy(
    model,
    tokenizer,
    *,
    n: int = 200,
    n_before: int = 4,
    n_between: int = 8,
    distractor: bool = False,
    n_distractor: int = 3,
    seed: int = 0,
) -> PatternCompletionResult:
    """How often ``model``'s top prediction after ``A B ... A`` is ``B`` (see the module docstring).

    The prompts are :func:`pattern_completion_prompts` with the same arguments (so two models
    with the same tokenizer are tested on the same prompts). Runs inside any active ablation or
    knockout (see :mod:`induction_heads.ablation`).
    """
    prompts = pattern_completion_prompts(
        tokenizer, n=n, n_before=n_before, n_between=n_between, distractor=distractor,
        n_distractor=n_distractor, seed=seed,
    )
    tokens = check_tokens(model, prompts.tokens)
    logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits[:, -1].float().cpu()
    predictions = logits.argmax(-1)
    ranks = answer_ranks(logits, prompts.b)
    probs = logits.softmax(-1)
    mean_prob_b = float(probs.gather(1, prompts.b[:, None]).mean())
    # distinct ordinary words of the context (the second A repeats the first one)
    n_distinct = torch.tensor([len(set(row[1:].tolist())) for row in prompts.tokens], dtype=torch.float)
    return PatternCompletionResult(
        accuracy=float((predictions == prompts.b).float().mean()),
        distractor_rate=(float((predictions == prompts.distractor).float().mean()) if distractor else None),
        a_rate=float((predictions == prompts.a).float().mean()),
        mean_prob_b=mean_prob_b,
        context_chance=float((1.0 / n_distinct).mean()),
        predictions=predictions,
        ranks=ranks,
        prompts=prompts,
    )


def previous_token_edges(T: int) -> torch.Tensor:
    """Bool mask ``[T, T]``, True at every edge ``i -> i - 1`` (query ``i``, key ``i - 1``).

    Give it to :func:`induction_heads.ablation.attention_knockout` to stop a head from reading
    the previous token (its attention is redistributed over the other earlier positions).
    """
    _check_int("T", T, 2)
    return torch.ones(T - 1, dtype=torch.bool).diag(-1)


def completion_examples(results: dict, tokenizer, k: int = 5):
    """The first ``k`` prompts and what each model predicted, as a ``pandas.DataFrame``.

    ``results`` maps a model's label (e.g. ``"toy-2l"``) to its :class:`PatternCompletionResult`;
    every result must hold the same prompts. Columns: the prompt, ``A``, ``B``, then one column
    per model with its top prediction (marked ✓ when it is ``B``).
    """
    import pandas as pd

    if not isinstance(results, dict) or not results:
        raise ValueError("results must be a non-empty dict label -> PatternCompletionResult")
    for label, res in results.items():
        if not isinstance(res, PatternCompletionResult):
            raise TypeError(f"results[{label!r}] must be a PatternCompletionResult, got {type(res).__name__}")
    first = next(iter(results.values())).prompts
    if any(not torch.equal(res.prompts.tokens, first.tokens) for res in results.values()):
        raise ValueError("the results were measured on different prompts; use the same tokenizer, n and seed")
    _check_int("k", k, 1)
    rows = []
    for i in range(min(k, len(first))):
        row = {
            "Prompt": first.prompt(tokenizer, i),
            "A": tokenizer.decode([int(first.a[i])]),
            "B (resposta)": tokenizer.decode([int(first.b[i])]),
        }
        for label, res in results.items():
            guess = int(res.predictions[i])
            row[f"{label} prevê"] = tokenizer.decode([guess]) + (" ✓" if guess == int(first.b[i]) else "")
        rows.append(row)
    return pd.DataFrame(rows)


def pushed_tokens_table(direct_logits: torch.Tensor, prompts: PatternPrompts, tokenizer, *, k: int = 5, rows: int = 5):
    """For the first ``rows`` prompts: the ``k`` tokens a head pushes most at the second ``A``.

    ``direct_logits`` is the head's direct effect on the logits at the answer position,
    ``[n, vocab]`` (e.g. ``head_direct_logits(model, prompts.tokens, head)[:, -1]``). Columns:
    the prompt, ``B``, the pushed tokens with their logit increments, and the rank of ``B``
    among the head's pushes (1 = pushed the most).
    """
    import pandas as pd

    from .attribution import top_pushed_tokens

    if not isinstance(prompts, PatternPrompts):
        raise TypeError(f"prompts must be PatternPrompts, got {type(prompts).__name__}")
    if not isinstance(direct_logits, torch.Tensor) or direct_logits.dim() != 2 or direct_logits.shape[0] != len(prompts):
        raise ValueError(f"direct_logits must be [n, vocab] with n = {len(prompts)} (one row per prompt)")
    _check_int("k", k, 1)
    _check_int("rows", rows, 1)
    ranks = answer_ranks(direct_logits, prompts.b)
    out = []
    for i in range(min(rows, len(prompts))):
        pushed = top_pushed_tokens(direct_logits[i], tokenizer, k=k)
        out.append({
            "Prompt": prompts.prompt(tokenizer, i),
            "B": tokenizer.decode([int(prompts.b[i])]),
            f"{k} tokens mais empurrados (aumento do logit)": ", ".join(f"{t} ({v:+.1f})" for t, v in pushed),
            "Posição de B": int(ranks[i]) + 1,
        })
    return pd.DataFrame(out)
