"""Checks for exercise 1 (induction heads and few-shot learning), feedback in Portuguese.

The student writes ``prefix_matching_score(pattern, tokens)`` for one head and one sequence
(``pattern``: ``[T, T]``, queries x keys; ``tokens``: ``[T]``). The reference is the library's
:func:`induction_heads.scores.prefix_matching_score_from_pattern`; when the student's value is
off, the usual mistakes are computed on the same input and the one that matches is named
(the earlier occurrence itself instead of the position after it, dividing by every query,
averaging over the earlier occurrences instead of adding them up, ...).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from induction_heads.grading.checks import (
    call_student,
    fail,
    format_number,
    require_callable,
)
from induction_heads.scores import prefix_matching_score_from_pattern

__all__ = [
    "check_prefix_matching",
    "check_prefix_matching_rejects_no_repeats",
    "handmade_cases",
    "induction_pattern",
    "public_case",
    "random_cases",
    "recall_accuracies",
]

_TOL = 1e-4


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def causal_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Rows of ``logits`` ``[T, T]`` softmaxed over the keys ``0..i`` (a causal pattern)."""
    T = logits.shape[-1]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    return logits.masked_fill(~mask, float("-inf")).softmax(-1)


def random_pattern(T: int, seed: int, sharpness: float = 2.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return causal_softmax(sharpness * torch.randn(T, T, generator=g))


def random_tokens(T: int, vocab: int, seed: int) -> torch.Tensor:
    """BOS (token 0) then ``T - 1`` tokens drawn from ``1..vocab`` (small vocab: many repeats)."""
    g = torch.Generator().manual_seed(seed + 500)
    return torch.cat([torch.zeros(1, dtype=torch.long), torch.randint(1, vocab + 1, (T - 1,), generator=g)])


def induction_pattern(tokens: torch.Tensor) -> torch.Tensor:
    """A perfect induction head: each query with earlier occurrences of its token spreads its
    attention evenly over the positions right after them; the others attend to position 0."""
    T = tokens.shape[0]
    pattern = torch.zeros(T, T)
    for i in range(T):
        targets = [j + 1 for j in range(i) if tokens[j] == tokens[i]]
        if targets:
            pattern[i, targets] = 1.0 / len(targets)
        else:
            pattern[i, 0] = 1.0
    return pattern


def previous_token_pattern(T: int) -> torch.Tensor:
    pattern = torch.zeros(T, T)
    pattern[0, 0] = 1.0
    pattern[torch.arange(1, T), torch.arange(0, T - 1)] = 1.0
    return pattern


def repeated(segment: list[int], n: int) -> torch.Tensor:
    return torch.tensor([0] + segment * n, dtype=torch.long)


def public_case() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """BOS, then 3 tokens twice; half a perfect induction head, half uniform attention."""
    tokens = repeated([5, 6, 7], 2)
    T = len(tokens)
    uniform = causal_softmax(torch.zeros(T, T))
    pattern = 0.5 * induction_pattern(tokens) + 0.5 * uniform
    return [("tokens [0, 5, 6, 7, 5, 6, 7], metade indução perfeita + metade atenção uniforme",
             pattern, tokens)]


def random_cases(seeds=(0, 1, 2)) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Random causal patterns on random tokens from a small vocabulary (tokens recur several
    times, sometimes twice in a row)."""
    cases = []
    for seed in seeds:
        T = 12 + 5 * seed
        tokens = random_tokens(T, vocab=4, seed=seed)
        cases.append((f"padrão aleatório {seed} (T = {T}, tokens {tokens.tolist()})",
                      random_pattern(T, seed), tokens))
    return cases


def handmade_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Textbook heads on 4 copies of a segment: induction (score 1), previous token, attention
    to the earlier occurrence itself (both 0), and a head that looks at the current token."""
    tokens = repeated([3, 9, 4, 8, 2], 4)
    T = len(tokens)
    same = torch.zeros(T, T)
    for i in range(T):
        earlier = [j for j in range(i) if tokens[j] == tokens[i]]
        same[i, earlier if earlier else [0]] = 1.0 / max(1, len(earlier))
    mix = 0.6 * induction_pattern(tokens) + 0.3 * torch.eye(T) + 0.1 * causal_softmax(torch.zeros(T, T))
    return [
        ("cabeça de indução perfeita em 4 cópias de [3, 9, 4, 8, 2]", induction_pattern(tokens), tokens),
        ("cabeça de token anterior em 4 cópias de [3, 9, 4, 8, 2]", previous_token_pattern(T), tokens),
        ("cabeça que olha para as ocorrências anteriores do próprio token", same, tokens),
        ("mistura: 60% indução, 30% o próprio token, 10% uniforme", mix, tokens),
    ]


# --------------------------------------------------------------------------------------
# Known mistakes, computed on the same input
# --------------------------------------------------------------------------------------


def _occurrences(tokens: torch.Tensor, include_self: bool = False) -> torch.Tensor:
    T = tokens.shape[0]
    same = tokens[:, None] == tokens[None, :]
    return same & torch.ones(T, T, dtype=torch.bool).tril(0 if include_self else -1)


def _shift(mask: torch.Tensor, by: int) -> torch.Tensor:
    out = torch.zeros_like(mask)
    out[:, by:] = mask[:, :-by]
    return out


def _mistakes(pattern: torch.Tensor, tokens: torch.Tensor) -> list[tuple[float, str]]:
    pattern = pattern.float()
    T = tokens.shape[0]
    occ = _occurrences(tokens)
    queries = occ.any(-1)
    n = int(queries.sum())
    nxt = _shift(occ, 1)
    out = []
    if n:
        out.append((float((pattern * occ).sum()) / n,
                    "Você somou a atenção às ocorrências anteriores do token, e não às posições "
                    "logo depois delas (k = j + 1): erro de um na diagonal?"))
        out.append((float((pattern * _shift(occ, 2)).sum()) / n,
                    "Você somou a atenção a duas posições depois de cada ocorrência anterior: "
                    "o alvo é a posição logo depois dela (k = j + 1)."))
        per_query = (pattern * nxt).sum(-1) / nxt.sum(-1).clamp(min=1)
        out.append((float(per_query[queries].sum()) / n,
                    "Você tirou a média da atenção entre as ocorrências anteriores; quando o "
                    "token ocorreu várias vezes antes, a atenção a todas as posições seguintes "
                    "se soma."))
        per_query_max = (pattern * nxt).amax(-1)
        out.append((float(per_query_max[queries].sum()) / n,
                    "Você pegou só a maior atenção entre as posições seguintes às ocorrências "
                    "anteriores; a pontuação soma a atenção a todas elas."))
    total = float((pattern * nxt).sum())
    for denominator, what in ((T, f"todas as {T} posições"), (T - 1, f"as {T - 1} posições depois do BOS")):
        out.append((total / denominator,
                    f"Você dividiu por {what}; a média é só sobre as consultas cujo token já "
                    f"ocorreu antes ({n} aqui)."))
    with_self = _occurrences(tokens, include_self=True)
    out.append((float((pattern * with_self).sum()) / T,
                "Você somou a atenção às posições com o mesmo token, incluindo a própria "
                "posição da consulta; o alvo é a posição logo depois de cada ocorrência anterior."))
    diagonal = torch.eye(T, dtype=torch.bool) & queries[:, None]
    out.append((float((pattern * (nxt | diagonal)).sum()) / max(n, 1),
                "Você incluiu a atenção ao próprio token da consulta (a diagonal); só contam as "
                "posições logo depois das ocorrências anteriores."))
    return out


def _as_float(call: str, value: Any) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            fail(f"{call} devolveu um tensor de forma {list(value.shape)}; o esperado é um número "
                 "(a pontuação de uma cabeça).")
        return float(value.reshape(()).item())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if value is None:
            fail(f"{call} devolveu None: a função precisa de um `return` com a pontuação.")
        fail(f"{call} devolveu {type(value).__name__} ({value!r}); o esperado é um número.")
    return float(value)


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def check_prefix_matching(prefix_matching_score: Callable[..., Any], cases) -> None:
    """The student's score equals the library's on every case (within 1e-4), inputs untouched."""
    require_callable("prefix_matching_score", prefix_matching_score)
    for label, pattern, tokens in cases:
        call = f"prefix_matching_score(pattern, tokens) no caso «{label}»"
        p, t = pattern.clone(), tokens.clone()
        got = _as_float(call, call_student(call, prefix_matching_score, p, t))
        if not (torch.equal(p, pattern) and torch.equal(t, tokens)):
            fail(f"{call} alterou `pattern` ou `tokens`: a função só deve ler as entradas.")
        want = float(prefix_matching_score_from_pattern(pattern, tokens))
        if abs(got - want) <= _TOL:
            continue
        hint = next((why for value, why in _mistakes(pattern, tokens)
                     if abs(got - value) <= _TOL and abs(value - want) > _TOL), "")
        fail(f"{call}: a pontuação deu {format_number(got)}; o esperado é "
             f"{format_number(want)} ± {format_number(_TOL)}. {hint}".rstrip())


def check_prefix_matching_rejects_no_repeats(prefix_matching_score: Callable[..., Any]) -> None:
    """With no token that occurred before, the score is undefined: ValueError."""
    require_callable("prefix_matching_score", prefix_matching_score)
    tokens = torch.tensor([0, 4, 7, 2, 9, 5])
    pattern = causal_softmax(torch.zeros(6, 6))
    what = "tokens [0, 4, 7, 2, 9, 5] (nenhum token se repete)"
    try:
        value = prefix_matching_score(pattern, tokens)
    except ValueError:
        return
    except Exception as exc:
        fail(f"Com {what}, a função deveria levantar ValueError, mas levantou "
             f"{type(exc).__name__}: {exc}")
    nan = isinstance(value, (float, torch.Tensor)) and bool(torch.as_tensor(value).isnan().any())
    fail(f"Com {what}, a pontuação não está definida (não há consultas a considerar) e a função "
         f"deveria levantar ValueError, mas devolveu {value!r}."
         + (" Dividir por zero com tensores dá nan em vez de erro: teste o caso antes de dividir."
            if nan else ""))


# --------------------------------------------------------------------------------------
# Expected values, computed with the library
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def recall_accuracies(n_examples: int = 8, batch: int = 64, seed: int = 0) -> dict[str, float]:
    """Accuracy of ``toy-2l`` and ``toy-1l`` on the notebook's recall task (the same prompts for
    both, built with ``toy-2l``'s tokenizer as in the notebook), computed by the library."""
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.tasks import few_shot_task, task_accuracy

    _, tok = reference_model("toy-2l")
    task = few_shot_task(tok, "recall", n_examples=n_examples, batch=batch, seed=seed)
    return {name: task_accuracy(reference_model(name)[0], task) for name in ("toy-2l", "toy-1l")}
