"""Few-shot pattern-matching tasks, in the spirit of Crosbie & Shutova's abstract tasks.

Each prompt is a list of examples followed by a query; the answer is a label, and labels are
arbitrary words (a new random choice in every prompt), so the model cannot know them from
training: it must find the answer in the prompt. Words are drawn from any tokenizer's
vocabulary (the toy models' Portuguese words, GPT-2's tokens, ...), one token per word.

Kinds of task (``KINDS``):

* ``"recall"``: ``k1 l1 , k2 l2 , ... , kq`` -> the label that followed ``kq`` earlier. The query
  repeats one of the examples' keys: matching it and copying what came next (an induction
  head's ``A B ... A -> B``) solves it. Chance: ``1 / n_labels``.
* ``"pattern"``: each example is three fresh words in the pattern ``A B A`` or ``A B B``,
  then the label of its pattern (two labels, drawn per prompt); the query is three *new*
  words. Copying cannot solve it (the query's words never occurred): it needs matching the
  abstract pattern. Chance: ``1/2``.

Examples are separated by a separator token (``,`` when the tokenizer has it as one token).
:func:`task_accuracy` scores a model: for each prompt, the prediction is the choice with the
highest logit at the answer position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .models import check_tokens, input_device
from .probes import bos_id, ordinary_token_ids

KINDS = ("recall", "pattern")
_WORD = re.compile(r"^ ?[^\W\d_]{2,}$")


@dataclass(frozen=True)
class FewShotTask:
    """A batch of few-shot prompts of one kind.

    ``tokens``: ``[batch, T]`` LongTensor, BOS first; ``answer_positions``: ``[batch]``, the
    position whose next-token logits are read; ``answers``: ``[batch]`` token ids of the right
    labels; ``choices``: ``[batch, n_choices]`` token ids of the candidate labels (the answer is
    one of them); ``chance``: accuracy of guessing uniformly among the choices.
    """

    kind: str
    tokens: torch.Tensor
    answer_positions: torch.Tensor
    answers: torch.Tensor
    choices: torch.Tensor
    chance: float

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def prompt(self, tokenizer, i: int = 0) -> str:
        """Prompt ``i`` as text (up to and including its answer position), for display."""
        ids = self.tokens[i, 1: int(self.answer_positions[i]) + 1].tolist()
        return tokenizer.decode(ids)


def word_token_ids(tokenizer) -> list[int]:
    """Ordinary tokens that are whole words of letters (at least 2): the pool tasks draw from.

    For tokenizers that mark a leading space (GPT-2's ``Ġ``), only tokens that decode with one
    leading space are kept, so the prompts read as words separated by spaces.
    """
    ids = ordinary_token_ids(tokenizer)
    words = [(i, tokenizer.decode([i])) for i in ids]
    words = [(i, s) for i, s in words if _WORD.match(s)]
    spaced = [i for i, s in words if s.startswith(" ")]
    return spaced if len(spaced) >= 50 else [i for i, s in words if not s.startswith(" ")]


def separator_id(tokenizer) -> int | None:
    """Token id of ``,`` (with or without a leading space) when it is one token, else None."""
    for text in (" ,", ","):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) == 1 and ids[0] not in set(tokenizer.all_special_ids or []):
            return int(ids[0])
    return None


def _check_int(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def few_shot_task(tokenizer, kind: str = "recall", *, n_examples: int = 8, batch: int = 64, seed: int = 0,
                  n_labels: int = 4) -> FewShotTask:
    """A batch of few-shot prompts of ``kind`` (see :data:`KINDS`), deterministic for ``seed``.

    ``n_examples``: examples before the query; ``n_labels``: how many distinct labels a
    ``"recall"`` prompt uses (``"pattern"`` always has 2). Prompt lengths: ``recall`` has
    ``3 * n_examples + 2`` tokens, ``pattern`` ``5 * n_examples + 4`` (with BOS); keep them
    within the model's context (toy-2l: 128).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}; the kinds are {', '.join(KINDS)}")
    _check_int("n_examples", n_examples, 1)
    _check_int("batch", batch, 1)
    _check_int("n_labels", n_labels, 2)
    if kind == "recall" and n_labels > n_examples:
        raise ValueError(f"n_labels ({n_labels}) cannot exceed n_examples ({n_examples}): every label must occur")
    pool = torch.tensor(word_token_ids(tokenizer), dtype=torch.long)
    sep = separator_id(tokenizer)
    n_words = (n_examples + n_labels) if kind == "recall" else (2 * n_examples + 2 + 2)
    if len(pool) < n_words:
        raise ValueError(f"the tokenizer has only {len(pool)} single-token words; a {kind!r} prompt needs {n_words}")
    g = torch.Generator().manual_seed(seed)
    bos = bos_id(tokenizer)
    rows, positions, answers, choices = [], [], [], []
    for _ in range(batch):
        words = pool[torch.randperm(len(pool), generator=g)[:n_words]].tolist()
        if kind == "recall":
            keys, labels = words[:n_examples], words[n_examples:]
            # every label occurs at least once; the rest at random
            assign = list(range(n_labels)) + torch.randint(n_labels, (n_examples - n_labels,), generator=g).tolist()
            assign = [assign[i] for i in torch.randperm(n_examples, generator=g).tolist()]
            examples = [[k, labels[a]] for k, a in zip(keys, assign)]
            q = int(torch.randint(n_examples, (1,), generator=g))
            query, answer, options = [keys[q]], labels[assign[q]], labels
        else:
            labels, fresh = words[:2], words[2:]
            patterns = torch.randint(2, (n_examples + 1,), generator=g).tolist()  # 0: A B A, 1: A B B
            seqs = []
            for j, p in enumerate(patterns):
                a, b = fresh[2 * j], fresh[2 * j + 1]
                seqs.append([a, b, a] if p == 0 else [a, b, b])
            examples = [s + [labels[p]] for s, p in zip(seqs[:-1], patterns[:-1])]
            query, answer, options = seqs[-1], labels[patterns[-1]], labels
        row = [bos]
        for ex in examples:
            row += ex + ([sep] if sep is not None else [])
        row += query
        rows.append(row)
        positions.append(len(row) - 1)
        answers.append(answer)
        choices.append(options)
    return FewShotTask(
        kind=kind,
        tokens=torch.tensor(rows, dtype=torch.long),
        answer_positions=torch.tensor(positions, dtype=torch.long),
        answers=torch.tensor(answers, dtype=torch.long),
        choices=torch.tensor(choices, dtype=torch.long),
        chance=1.0 / len(choices[0]),
    )


def chance_level(task: FewShotTask) -> float:
    """Accuracy of a uniform guess among the task's choices."""
    return task.chance


@torch.no_grad()
def task_predictions(model, task: FewShotTask) -> torch.Tensor:
    """Token id the model picks for each prompt: the choice with the highest logit ``[batch]``.

    Runs inside any active ablation (see :func:`induction_heads.ablation.ablate_heads`).
    """
    if not isinstance(task, FewShotTask):
        raise TypeError(f"task must be a FewShotTask (from few_shot_task), got {type(task).__name__}")
    tokens = check_tokens(model, task.tokens)
    logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits.float().cpu()
    at = logits[torch.arange(len(tokens)), task.answer_positions]  # [batch, vocab]
    picked = at.gather(1, task.choices).argmax(dim=1)
    return task.choices[torch.arange(len(tokens)), picked]


def task_accuracy(model, task: FewShotTask) -> float:
    """Fraction of prompts where the model's top choice is the right label."""
    return float((task_predictions(model, task) == task.answers).float().mean())
