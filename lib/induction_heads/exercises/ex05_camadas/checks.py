"""Checks for exercise 5 (induction heads layer by layer), feedback in Portuguese.

The tests compute the expected values with the library (``prefix_matching_scores``) and an
explicit loop, and pass them in; these helpers only compare the student's answer with them and
diagnose the usual mistakes: reducing over the wrong axis (the layers instead of the heads),
the mean instead of the maximum, ``torch.max``'s ``(values, indices)`` pair, the two results
swapped.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from induction_heads.grading.checks import call_student, fail, format_number, require_callable

__all__ = ["as_vector", "check_best_per_layer", "check_layer_profile"]

_ATOL = 1e-4


def _vector_text(x: torch.Tensor) -> str:
    return "[" + ", ".join(format_number(float(v), 3) for v in x.flatten()) + "]"


def as_vector(name: str, value: Any) -> torch.Tensor:
    """The student's ``value`` as a 1-D float tensor (a list or an array is accepted)."""
    if value is None or value is Ellipsis:
        fail(f"{name} devolveu {value!r}: a função precisa devolver (`return`) o resultado.")
    if type(value).__name__ in ("max", "min", "torch.return_types.max") or (
        isinstance(value, tuple) and hasattr(value, "values") and hasattr(value, "indices")
    ):
        fail(f"{name} devolveu o par (valores, índices) de `torch.max`/`torch.min`; devolva só os "
             "valores (`.values`).")
    try:
        vec = torch.as_tensor(value, dtype=torch.float32) if not isinstance(value, torch.Tensor) \
            else value.detach().float().cpu()
    except Exception:
        fail(f"{name} deveria devolver um tensor (ou uma lista de números), mas devolveu "
             f"{type(value).__name__}.")
    return vec


def _diagnose(got: torch.Tensor, scores: torch.Tensor, expected: torch.Tensor) -> str:
    """What a wrong per-layer maximum of ``scores`` [n_layers, n_heads] probably did."""
    n_layers, n_heads = scores.shape
    alternatives = [
        (scores.max(dim=0).values, "Você tomou o máximo sobre as camadas (dim=0), que dá um valor "
         f"por cabeça; `scores` tem forma [n_layers, n_heads] = {list(scores.shape)} e o máximo de "
         "cada camada é sobre as cabeças, a dim=1."),
        (scores.mean(dim=1), "Esses são as médias de cada camada; aqui se pede o máximo (a melhor "
         "cabeça)."),
        (scores.mean(dim=0), "Essas são as médias sobre as camadas, uma por cabeça; pede-se o "
         "máximo sobre as cabeças (dim=1)."),
        (scores.min(dim=1).values, "Esses são os mínimos de cada camada; pede-se o máximo."),
    ]
    for alt, message in alternatives:
        if got.shape == alt.shape and torch.allclose(got, alt, atol=_ATOL):
            return message
    if got.dim() == 0 or got.numel() == 1 and n_layers > 1:
        return "Você devolveu um número só; pede-se um valor por camada."
    if got.shape == (n_heads,) and n_heads != n_layers:
        return ("Você devolveu um valor por cabeça; pede-se um por camada (reduza a dim=1, a das "
                "cabeças).")
    return ""


def check_best_per_layer(best_score_per_layer: Callable[..., Any], scores: torch.Tensor,
                         expected: list[float]) -> None:
    """``best_score_per_layer(scores)`` equals ``expected`` (one value per layer) and leaves
    ``scores`` unchanged."""
    require_callable("best_score_per_layer", best_score_per_layer)
    original = scores.clone()
    call = f"best_score_per_layer(scores) com scores de forma {list(scores.shape)}"
    got = as_vector(call, call_student(call, best_score_per_layer, scores))
    want = torch.tensor(expected, dtype=torch.float32)
    if not torch.equal(scores, original):
        fail(f"{call} mudou o tensor `scores` que recebeu; a função só deve ler a entrada.")
    if got.shape != want.shape or not torch.allclose(got, want, atol=_ATOL):
        shape = f"forma {list(got.shape)}" if got.shape != want.shape else "valores"
        fail(f"{call} deu {_vector_text(got)} ({shape}); o esperado é {_vector_text(want)} "
             f"(forma [{len(want)}], um valor por camada). " + _diagnose(got, scores.float(), want))


def check_layer_profile(layer_profile: Callable[..., Any], model, tokens: torch.Tensor, *,
                        label: str, scores: torch.Tensor, expected_best: list[float],
                        expected_mean: list[float]) -> None:
    """``layer_profile(model, tokens)`` returns ``(best, mean)``, each one value per layer,
    equal to ``expected_best`` / ``expected_mean`` (from ``scores`` [n_layers, n_heads])."""
    require_callable("layer_profile", layer_profile)
    call = f"layer_profile(model, tokens) no {label} (tokens de forma {list(tokens.shape)})"
    out = call_student(call, layer_profile, model, tokens.clone())
    if out is None or out is Ellipsis:
        fail(f"{call} devolveu {out!r}: a função precisa devolver o par `(best, mean)`.")
    if isinstance(out, dict) or not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"{call} deveria devolver um par `(best, mean)` de tensores, mas devolveu "
             f"{type(out).__name__}" + (f" com {len(out)} elementos." if hasattr(out, '__len__') else "."))
    best, mean = (as_vector(f"{call}, primeiro elemento (best),", out[0]),
                  as_vector(f"{call}, segundo elemento (mean),", out[1]))
    want_best = torch.tensor(expected_best, dtype=torch.float32)
    want_mean = torch.tensor(expected_mean, dtype=torch.float32)
    n_layers = len(want_best)

    def ok(got, want):
        return got.shape == want.shape and torch.allclose(got, want, atol=_ATOL)

    if ok(best, want_best) and ok(mean, want_mean):
        return
    if ok(best, want_mean) and ok(mean, want_best):
        fail(f"{call} devolveu (média, máximo): a ordem pedida é `(best, mean)`, o máximo primeiro.")
    for what, got, want in (("best (o máximo de cada camada)", best, want_best),
                            ("mean (a média de cada camada)", mean, want_mean)):
        if ok(got, want):
            continue
        message = (f"{call}: {what} deu {_vector_text(got)}; o esperado é {_vector_text(want)} "
                   f"(o modelo tem {n_layers} camada(s) e {scores.shape[1]} cabeças por camada).")
        hint = _diagnose(got, scores.float(), want)
        if not hint and got.shape == want.shape:
            hint = ("As pontuações de correspondência de prefixo vêm de "
                    "`prefix_matching_scores(model, tokens)` (forma [n_layers, n_heads]); você "
                    "usou essa função com os `tokens` recebidos?")
        fail(f"{message} {hint}".strip())

