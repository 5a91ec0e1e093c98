"""Checks for exercise 2 (induction heads and architecture design), feedback in Portuguese.

The student writes ``previous_token_score(pattern)``: the previous-token score of every head
from an attention pattern ``[batch, n_heads, T, T]`` (queries x keys). The reference is the
library's :func:`induction_heads.scores.previous_token_score_from_pattern`; the usual mistakes
(the main diagonal, the diagonal above it, two positions back, counting position 0 in the
mean) are computed on the same input and named when the student's numbers match one of them.

:func:`circuit_measurements` computes, with the library, what the notebook measures on the
shipped models (expected values for the hidden tests).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from induction_heads.grading.checks import call_student, fail, require_callable
from induction_heads.scores import previous_token_score_from_pattern

__all__ = [
    "check_previous_token",
    "circuit_measurements",
    "handmade_case",
    "random_cases",
]

_TOL = 1e-4


def causal_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax of ``logits`` ``[..., T, T]`` over the keys ``0..i`` of each query ``i``."""
    T = logits.shape[-1]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    return logits.masked_fill(~mask, float("-inf")).softmax(-1)


def handmade_case() -> tuple[str, torch.Tensor]:
    """One sequence of 6 tokens, 3 heads: a perfect previous-token head, a head that attends to
    its own position, and uniform attention."""
    T = 6
    prev = torch.zeros(T, T)
    prev[0, 0] = 1.0
    prev[torch.arange(1, T), torch.arange(T - 1)] = 1.0
    pattern = torch.stack([prev, torch.eye(T), causal_softmax(torch.zeros(T, T))])[None]
    return ("1 sequência de 6 tokens, 3 cabeças: token anterior perfeita, o próprio token, "
            "atenção uniforme", pattern)


def random_cases(seeds=(0, 1)) -> list[tuple[str, torch.Tensor]]:
    """Random causal patterns ``[batch, heads, T, T]``; one head in each leans to i - 1."""
    cases = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        batch, heads, T = 2 + seed, 4, 9 + 3 * seed
        logits = 2.0 * torch.randn(batch, heads, T, T, generator=g)
        logits[:, 1] += 4.0 * torch.diag(torch.ones(T - 1), -1)
        cases.append((f"padrão aleatório {seed} (batch = {batch}, {heads} cabeças, T = {T})",
                      causal_softmax(logits)))
    return cases


def _diag_mean(pattern: torch.Tensor, offset: int, skip_first: bool = False) -> torch.Tensor:
    d = pattern.diagonal(offset=offset, dim1=-2, dim2=-1)
    if skip_first:
        d = d[..., 1:]
    return d.mean(dim=(0, 2))


def _mistakes(pattern: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    T = pattern.shape[-1]
    prev_sum = pattern.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1).mean(0)
    return [
        (_diag_mean(pattern, 0),
         "Você usou a diagonal principal (a atenção de i para i mesmo, offset 0); a cabeça de "
         "token anterior olha de i para i − 1 (`diagonal(offset=-1)`)."),
        (_diag_mean(pattern, 1),
         "Você usou a diagonal acima da principal (de i para i + 1, offset +1), que num padrão "
         "causal é sempre 0; a de token anterior é a de baixo (`diagonal(offset=-1)`)."),
        (_diag_mean(pattern, -2),
         "Você usou a atenção de i para i − 2; a cabeça de token anterior olha para i − 1."),
        (prev_sum / T,
         f"Você dividiu a soma da atenção de i para i − 1 por todas as {T} posições; a posição 0 "
         f"não tem token anterior, e a média é sobre as {T - 1} posições i ≥ 1."),
        (_diag_mean(pattern, -1, skip_first=True),
         "Você pulou a posição 1 (cuja anterior é a 0, o <bos>); a média é sobre todas as "
         "posições i ≥ 1."),
    ]


def _as_scores(call: str, value: Any, n_heads: int) -> torch.Tensor:
    if value is None:
        fail(f"{call} devolveu None: a função precisa de um `return` com as pontuações.")
    try:
        got = torch.as_tensor(value, dtype=torch.float32)
    except Exception:
        fail(f"{call} devolveu {type(value).__name__}; o esperado é um tensor com uma pontuação "
             f"por cabeça, de forma [{n_heads}].")
    if tuple(got.shape) != (n_heads,):
        fail(f"{call} devolveu forma {list(got.shape)}; o esperado é [{n_heads}] (uma pontuação "
             "por cabeça: a média é sobre o lote e as posições, não sobre as cabeças).")
    return got


def check_previous_token(previous_token_score: Callable[..., Any], cases) -> None:
    """The student's scores equal the library's on every case (within 1e-4), input untouched."""
    require_callable("previous_token_score", previous_token_score)
    for label, pattern in cases:
        call = f"previous_token_score(pattern) no caso «{label}»"
        p = pattern.clone()
        got = _as_scores(call, call_student(call, previous_token_score, p), pattern.shape[1])
        if not torch.equal(p, pattern):
            fail(f"{call} alterou `pattern`: a função só deve ler a entrada.")
        want = previous_token_score_from_pattern(pattern)
        if torch.allclose(got, want, atol=_TOL):
            continue
        h = int((got - want).abs().argmax())
        hint = next((why for value, why in _mistakes(pattern)
                     if torch.allclose(got, value, atol=_TOL) and not torch.allclose(value, want, atol=_TOL)),
                    "")
        fail(f"{call}: a pontuação da cabeça {h} deu {float(got[h]):.4g}; o esperado é "
             f"{float(want[h]):.4g} ± {_TOL:g} (todas: deu {[round(float(x), 4) for x in got]}, "
             f"esperado {[round(float(x), 4) for x in want]}). {hint}".rstrip())


@functools.lru_cache(maxsize=None)
def circuit_measurements(seq_len: int = 25, n_repeats: int = 4, batch: int = 10, seed: int = 0) -> dict:
    """What the notebook measures, computed with the library on the shipped models.

    Keys: ``pm_1l`` / ``pm_2l`` (prefix-matching scores ``[layers, heads]``), ``best_1l`` /
    ``best_2l`` (their maxima), ``induction`` (toy-2l's top prefix-matching head), ``pt_2l``
    (previous-token scores), ``previous`` / ``control`` (layer-0 heads with the highest and the
    lowest previous-token score), ``pm_ablated`` / ``pm_control`` (the induction head's
    prefix-matching score with ``previous`` / ``control`` zero-ablated).
    """
    from induction_heads import ablate_heads, prefix_matching_scores, previous_token_scores, repeated_tokens, top_heads
    from induction_heads.grading.checks_extra import reference_model

    out = {}
    for name, key in (("toy-1l", "1l"), ("toy-2l", "2l")):
        model, tok = reference_model(name)
        tokens = repeated_tokens(tok, seq_len=seq_len, n_repeats=n_repeats, batch=batch, seed=seed)
        out[f"pm_{key}"] = prefix_matching_scores(model, tokens)
        out[f"best_{key}"] = float(out[f"pm_{key}"].max())
    model, tok = reference_model("toy-2l")
    tokens = repeated_tokens(tok, seq_len=seq_len, n_repeats=n_repeats, batch=batch, seed=seed)
    induction = top_heads(out["pm_2l"], k=1)[0]
    pt = previous_token_scores(model, tokens)
    layer0 = pt[:1]
    previous = top_heads(layer0, k=1)[0]
    control = top_heads(-layer0, k=1)[0]
    measured = {}
    for key, head in (("pm_ablated", previous), ("pm_control", control)):
        with ablate_heads(model, [head]):
            measured[key] = float(prefix_matching_scores(model, tokens)[induction])
    out.update(induction=induction, pt_2l=pt, previous=previous, control=control,
               pm_clean=float(out["pm_2l"][induction]), **measured)
    return out
