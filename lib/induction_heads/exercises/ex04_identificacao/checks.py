"""Checks for exercise 4 (the methodology of identifying induction heads), feedback in Portuguese.

* ``top_heads_by_fraction(scores, fraction)``: checked against the library's
  :func:`induction_heads.scores.top_heads` (``fraction=``), with the usual mistakes named:
  rounding down (which selects zero heads in a small model), rounding up, Python's ``round``
  (which sends 2.5 to 2), the worst heads instead of the best.
* ``random_heads_like_manual(heads, n_layers, n_heads, seed)``: a random control can only be
  checked by its properties: the same number of heads in each layer, none of the chosen
  heads, no repeats, valid indices, the same answer for the same seed, different answers for
  different seeds, and ``ValueError`` when a layer has too few other heads.
* :func:`probe_measurements` / :func:`ablation_measurements`: what the notebook measures,
  computed with the library.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from typing import Any, Callable

import torch

from induction_heads.grading.checks import call_student, fail, require_callable
from induction_heads.grading.checks_extra import as_heads, heads_text
from induction_heads.scores import top_heads

__all__ = [
    "ablation_measurements",
    "check_random_control",
    "check_random_control_too_few",
    "check_top_heads",
    "check_top_heads_rejects_bad_fraction",
    "probe_measurements",
    "PROBES",
]


# --------------------------------------------------------------------------------------
# top_heads_by_fraction
# --------------------------------------------------------------------------------------


def _scores(n_layers: int, n_heads: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n_layers, n_heads, generator=g)


def _count_hint(got: int, fraction: float, total: int, want: int) -> str:
    x = fraction * total
    if got == 0:
        return (f"Você selecionou zero cabeças ({fraction:g} × {total} = {x:g}): a regra pede pelo "
                "menos uma, senão não há o que ablacionar num modelo pequeno.")
    if got == round(x) and got != want and x - math.floor(x) == 0.5:
        return (f"`round({x:g})` do Python dá {round(x)} (ele arredonda meios para o par); a regra "
                "arredonda meios para cima.")
    if got == math.floor(x) and got != want:
        return f"Você arredondou {x:g} para baixo; a regra arredonda para o inteiro mais próximo."
    if got == math.ceil(x) and got != want:
        return f"Você arredondou {x:g} para cima; a regra arredonda para o inteiro mais próximo."
    return ""


def check_top_heads(top_heads_by_fraction: Callable[..., Any], cases) -> None:
    """``cases``: ``(n_layers, n_heads, fraction, seed)``; random scores, compared with the
    library's ``top_heads(scores, fraction=...)`` (same heads, best first)."""
    require_callable("top_heads_by_fraction", top_heads_by_fraction)
    for n_layers, n_heads, fraction, seed in cases:
        scores = _scores(n_layers, n_heads, seed)
        given = scores.clone()
        call = (f"top_heads_by_fraction(scores, fraction={fraction:g}) com scores de forma "
                f"[{n_layers}, {n_heads}] ({n_layers * n_heads} cabeças)")
        got = as_heads(f"o resultado de {call}", call_student(call, top_heads_by_fraction, given, fraction))
        if not torch.equal(given, scores):
            fail(f"{call} alterou `scores`: a função só deve ler a entrada.")
        want = top_heads(scores, fraction=fraction)
        if got == want:
            continue
        total = n_layers * n_heads
        if len(got) != len(want):
            fail(f"{call} devolveu {len(got)} cabeça(s); o esperado é {len(want)}. "
                 + _count_hint(len(got), fraction, total, len(want)))
        flat = scores.flatten()
        worst = [(i // n_heads, i % n_heads) for i in flat.argsort()[: len(want)].tolist()]
        if got == worst:
            fail(f"{call} devolveu as cabeças de MENOR pontuação, {heads_text(got)}; o esperado são "
                 f"as de maior, {heads_text(want)}. Ordem decrescente: `descending=True`.")
        if sorted(got) == sorted(want):
            fail(f"{call} tem as cabeças certas mas fora de ordem: deu {heads_text(got)}; o "
                 f"esperado é {heads_text(want)} (da maior pontuação para a menor).")
        transposed = [(h, l) for l, h in got]
        if transposed == want:
            fail(f"{call} devolveu os pares como (cabeça, camada): {heads_text(got)}; o esperado é "
                 f"(camada, cabeça), {heads_text(want)}. O índice achatado i corresponde a "
                 f"(i // n_heads, i % n_heads).")
        fail(f"{call} deu {heads_text(got)}; o esperado é {heads_text(want)}.")


def check_top_heads_rejects_bad_fraction(top_heads_by_fraction: Callable[..., Any]) -> None:
    require_callable("top_heads_by_fraction", top_heads_by_fraction)
    scores = _scores(2, 4, 9)
    for fraction in (0, -0.1, 1.5):
        try:
            value = top_heads_by_fraction(scores.clone(), fraction)
        except ValueError:
            continue
        except Exception as exc:
            fail(f"Com fraction={fraction}, a função deveria levantar ValueError, mas levantou "
                 f"{type(exc).__name__}: {exc}")
        fail(f"Com fraction={fraction} (fora de (0, 1]), a função deveria levantar ValueError, "
             f"mas devolveu {value!r}.")


# --------------------------------------------------------------------------------------
# random_heads_like_manual
# --------------------------------------------------------------------------------------


def _check_control(call: str, got_raw: Any, heads, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    got = as_heads(f"o resultado de {call}", got_raw)
    bad = [h for h in got if not (0 <= h[0] < n_layers and 0 <= h[1] < n_heads)]
    if bad:
        fail(f"{call} devolveu cabeças que não existem num modelo de {n_layers} camadas × "
             f"{n_heads} cabeças: {heads_text(bad)}.")
    if len(set(got)) != len(got):
        fail(f"{call} repetiu cabeças: {heads_text(got)}. Sorteie sem reposição "
             "(`random.sample`).")
    chosen = set(heads)
    overlap = [h for h in got if h in chosen]
    if overlap:
        fail(f"{call} sorteou cabeças que já estão entre as escolhidas: {heads_text(overlap)}. O "
             "controle deve ser feito só de outras cabeças.")
    want_counts = Counter(l for l, _ in heads)
    got_counts = Counter(l for l, _ in got)
    if got_counts != want_counts:
        show = lambda c: ", ".join(f"camada {l}: {c[l]}" for l in sorted(c)) or "nenhuma"  # noqa: E731
        fail(f"{call}: as cabeças por camada deveriam ser ({show(want_counts)}), como nas "
             f"escolhidas, mas são ({show(got_counts)}). O controle tem o mesmo número de cabeças "
             "em cada camada.")
    return got


def check_random_control(random_heads_like_manual: Callable[..., Any], heads, *, n_layers: int,
                         n_heads: int, seeds=range(8), require_variety: bool = True) -> None:
    """Properties of the control for every seed; same seed -> same answer; several seeds ->
    more than one answer (when more than one is possible)."""
    require_callable("random_heads_like_manual", random_heads_like_manual)
    heads = [tuple(h) for h in heads]
    results = set()
    for seed in seeds:
        call = (f"random_heads_like_manual({heads_text(heads)}, n_layers={n_layers}, "
                f"n_heads={n_heads}, seed={seed})")
        first = _check_control(call, call_student(call, random_heads_like_manual, list(heads), n_layers,
                                                  n_heads, seed), heads, n_layers, n_heads)
        again = as_heads(f"o resultado de {call}",
                         call_student(call, random_heads_like_manual, list(heads), n_layers, n_heads, seed))
        if set(again) != set(first):
            fail(f"{call} deu {heads_text(first)} e, chamada de novo com a mesma semente, "
                 f"{heads_text(again)}: use um gerador próprio com a semente, "
                 "`rng = random.Random(seed)`, para que o controle seja reprodutível.")
        results.add(frozenset(first))
    if require_variety and len(results) == 1:
        fail(f"random_heads_like_manual({heads_text(heads)}, n_layers={n_layers}, n_heads={n_heads}, "
             f"seed=...) deu sempre {heads_text(sorted(next(iter(results))))} com {len(list(seeds))} "
             "sementes diferentes: o controle deve ser sorteado, não as primeiras cabeças livres.")


def check_random_control_too_few(random_heads_like_manual: Callable[..., Any]) -> None:
    """A layer with fewer free heads than it needs: ValueError."""
    require_callable("random_heads_like_manual", random_heads_like_manual)
    heads = [(0, 0), (0, 1), (0, 2), (1, 3)]
    what = (f"random_heads_like_manual({heads_text(heads)}, n_layers=2, n_heads=4, seed=0) (a "
            "camada 0 tem só 1 cabeça livre para 3 sorteios)")
    try:
        value = random_heads_like_manual(list(heads), 2, 4, 0)
    except ValueError:
        return
    except Exception as exc:
        fail(f"{what} deveria levantar ValueError, mas levantou {type(exc).__name__}: {exc}")
    fail(f"{what} deveria levantar ValueError, mas devolveu {value!r}.")


# --------------------------------------------------------------------------------------
# Expected values, computed with the library
# --------------------------------------------------------------------------------------

#: The probes of question 2: label -> how the notebook builds its tokens.
PROBES = {
    "olsson": "repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0)",
    "curta": "repeated_tokens(tok, seq_len=5, n_repeats=2, batch=10, seed=0)",
    "texto": "toy_language_text(batch=10)",
}


def probe_tokens(tok, label: str) -> torch.Tensor:
    from induction_heads import repeated_tokens
    from induction_heads.experiments import toy_language_text

    if label == "olsson":
        return repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0)
    if label == "curta":
        return repeated_tokens(tok, seq_len=5, n_repeats=2, batch=10, seed=0)
    if label == "texto":
        return toy_language_text(batch=10)
    raise ValueError(f"unknown probe {label!r}")


@functools.lru_cache(maxsize=None)
def probe_measurements(k: int = 2) -> dict:
    """Per probe: the prefix-matching scores of toy-2l, the top ``k`` heads, and the score of
    the Olsson probe's top head under each probe."""
    from induction_heads import prefix_matching_scores
    from induction_heads.grading.checks_extra import reference_model

    model, tok = reference_model("toy-2l")
    scores = {label: prefix_matching_scores(model, probe_tokens(tok, label)) for label in PROBES}
    best = top_heads(scores["olsson"], k=1)[0]
    return {
        "scores": scores,
        "top": {label: top_heads(s, k=k) for label, s in scores.items()},
        "head": best,
        "head_scores": {label: float(s[best]) for label, s in scores.items()},
    }


@functools.lru_cache(maxsize=None)
def ablation_measurements(k: int = 2) -> dict:
    """Loss on the repeated copies of the Olsson probe: clean, with the top ``k`` heads
    zero-ablated, and mean-ablated over ``repeated_tokens(tok, seq_len=25, n_repeats=4,
    batch=10, seed=1)``."""
    from induction_heads import ablate_heads, repeated_tokens
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.protocol import repeat_loss

    model, tok = reference_model("toy-2l")
    m = probe_measurements(k)
    heads = m["top"]["olsson"]
    tokens = probe_tokens(tok, "olsson")
    reference = repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=1)
    out = {"heads": heads, "clean": repeat_loss(model, tokens, 25)}
    with ablate_heads(model, heads, method="zero"):
        out["zero"] = repeat_loss(model, tokens, 25)
    with ablate_heads(model, heads, method="mean", reference=reference):
        out["mean"] = repeat_loss(model, tokens, 25)
    return out
