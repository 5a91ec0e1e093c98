"""Checks for exercise 3 (task performance after ablating induction heads), feedback in Portuguese.

* ``icl_score_manual(losses, early, late)``: checked against an independent computation (the
  mean loss on token ``late`` minus the mean loss on token ``early``, where column ``t`` of
  ``losses`` is the loss on token ``t + 1``) and against the library's
  :func:`induction_heads.metrics.icl_score` on a real model.
* ``ablate_head_with_hook(out_proj, head, d_head)``: zero ablation of one head by a forward
  pre-hook on the output projection. Checked on a raw ``nn.Linear`` (the output must equal the
  layer's output with the head's input slice zeroed; weights and input untouched; removing the
  hook restores the layer) and on the shipped model's GPT-2 ``Conv1D`` projections against the
  library's :func:`induction_heads.ablation.ablate_heads`.
* :func:`task_measurements`: what the notebook measures, computed with the library.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch
import torch.nn.functional as F

from induction_heads.exercises.ex08_bug_ablacao.checks import expected_output, make_linear
from induction_heads.grading.checks import call_student, fail, format_number, require_callable

__all__ = [
    "check_hook_ablation",
    "check_hook_on_model",
    "check_icl_rejects_bad_positions",
    "check_icl_score",
    "check_icl_score_on_model",
    "choose_pattern_option",
    "task_measurements",
]

_TOL = 1e-5


# --------------------------------------------------------------------------------------
# The in-context learning score
# --------------------------------------------------------------------------------------


def _random_losses(batch: int, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 5.0 * torch.rand(batch, n, generator=g)


def _icl_mistakes(losses: torch.Tensor, early: int, late: int) -> list[tuple[float, str]]:
    n = losses.shape[1]
    out = [(float(losses[:, early - 1].mean() - losses[:, late - 1].mean()),
            "O sinal está trocado: é a perda no token tardio MENOS a perda no token inicial "
            "(negativo quando o modelo aprende com o contexto).")]
    if late < n:
        out.append((float(losses[:, late].mean() - losses[:, early].mean()),
                    f"Você leu as colunas {early} e {late} de `losses`; a coluna t é a perda no token "
                    f"t + 1, então a perda no token {early} está na coluna {early - 1}."))
    if late >= 2:
        out.append((float(losses[:, late - 2].mean() - losses[:, early - 2].mean()),
                    "Você deslocou as colunas duas vezes: a perda no token t está na coluna t − 1."))
    out.append((float(losses[0, late - 1] - losses[0, early - 1]),
                "Você usou só a primeira sequência do lote; a pontuação é a média sobre o lote."))
    return out


def _number(call: str, value: Any) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            fail(f"{call} devolveu um tensor de forma {list(value.shape)}; o esperado é um número.")
        return float(value.reshape(()).item())
    if value is None:
        fail(f"{call} devolveu None: a função precisa de um `return`.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"{call} devolveu {type(value).__name__} ({value!r}); o esperado é um número.")
    return float(value)


def check_icl_score(icl_score_manual: Callable[..., Any], cases) -> None:
    """``cases``: ``(batch, n_losses, early, late, seed)``; random losses, independent reference."""
    require_callable("icl_score_manual", icl_score_manual)
    for batch, n, early, late, seed in cases:
        losses = _random_losses(batch, n, seed)
        given = losses.clone()
        call = f"icl_score_manual(losses, early={early}, late={late}) com losses de forma [{batch}, {n}]"
        try:
            result = icl_score_manual(given, early, late)
        except IndexError as exc:
            fail(f"{call} levantou IndexError: {exc}. Lembre que a coluna t de `losses` é a perda no "
                 f"token t + 1: a perda no token {late} está na coluna {late - 1}.")
        except Exception:
            result = call_student(call, icl_score_manual, losses.clone(), early, late)
        got = _number(call, result)
        if not torch.equal(given, losses):
            fail(f"{call} alterou `losses`: a função só deve ler a entrada.")
        want = float(losses[:, late - 1].mean() - losses[:, early - 1].mean())
        if abs(got - want) <= _TOL:
            continue
        hint = next((why for value, why in _icl_mistakes(losses, early, late)
                     if abs(got - value) <= _TOL and abs(value - want) > _TOL), "")
        fail(f"{call} deu {format_number(got)}; o esperado é {format_number(want)} ± {_TOL:g}. "
             f"{hint}".rstrip())


def check_icl_score_on_model(icl_score_manual: Callable[..., Any]) -> None:
    """On the shipped toy-2l: the student's score from ``per_token_loss`` equals ``icl_score``."""
    from induction_heads import icl_score, per_token_loss, repeated_tokens
    from induction_heads.grading.checks_extra import reference_model

    require_callable("icl_score_manual", icl_score_manual)
    model, tok = reference_model("toy-2l")
    tokens = repeated_tokens(tok, seq_len=20, n_repeats=3, batch=4, seed=11)
    losses = per_token_loss(model, tokens)
    for early, late in ((5, 60), (1, 30), (21, 41)):
        call = f"icl_score_manual(per_token_loss(toy-2l, tokens), early={early}, late={late})"
        got = _number(call, call_student(call, icl_score_manual, losses.clone(), early, late))
        want = icl_score(model, tokens, early=early, late=late)
        if abs(got - want) > 1e-4:
            hint = next((why for value, why in _icl_mistakes(losses, early, late)
                         if abs(got - value) <= 1e-4 and abs(value - want) > 1e-4), "")
            fail(f"{call} deu {format_number(got)}; `icl_score` da biblioteca dá "
                 f"{format_number(want)}. {hint}".rstrip())


def check_icl_rejects_bad_positions(icl_score_manual: Callable[..., Any]) -> None:
    """``early >= late`` and positions outside ``1..T-1`` raise ValueError."""
    require_callable("icl_score_manual", icl_score_manual)
    losses = _random_losses(3, 20, seed=5)  # 21 tokens: positions 1..20 have a loss
    cases = [(10, 10, "early = late = 10"), (12, 4, "early = 12 depois de late = 4"),
             (0, 10, "early = 0 (o primeiro token não tem perda)"),
             (3, 21, "late = 21 (com 20 colunas de perda, os tokens vão de 1 a 20)")]
    for early, late, what in cases:
        try:
            value = icl_score_manual(losses.clone(), early, late)
        except ValueError:
            continue
        except Exception as exc:
            fail(f"Com {what}, a função deveria levantar ValueError, mas levantou "
                 f"{type(exc).__name__}: {exc}")
        fail(f"Com {what}, a função deveria levantar ValueError, mas devolveu {value!r}.")


# --------------------------------------------------------------------------------------
# Zero ablation with a forward pre-hook
# --------------------------------------------------------------------------------------


def _hook_mistakes(weight, bias, x, head, d_head) -> list[tuple[torch.Tensor, str]]:
    c0, c1 = head * d_head, (head + 1) * d_head
    out = []
    full = F.linear(x, weight, bias)
    if full.shape[-1] >= c1:
        rows = full.clone()
        rows[..., c0:c1] = 0
        out.append((rows, f"Você zerou as dimensões {c0}:{c1} da SAÍDA da camada (o equivalente a "
                          "zerar linhas de W_O), não a entrada da cabeça: a cabeça h é a fatia "
                          f"{c0}:{c1} da ENTRADA de `out_proj`."))
    for other in (head - 1, head + 1):
        if 0 <= other and (other + 1) * d_head <= x.shape[-1]:
            out.append((expected_output(weight, bias, x, [other], d_head),
                        f"Você zerou a fatia da cabeça {other} ({other * d_head}:{(other + 1) * d_head}), "
                        f"não a da cabeça {head} ({c0}:{c1}): erro de um bloco?"))
    out.append((full, "A saída não mudou: o hook não teve efeito. Um forward pre-hook recebe "
                      "`(module, args)` e precisa devolver a nova tupla de argumentos, por exemplo "
                      "`return (x,) + args[1:]`."))
    zero_in = F.linear(torch.zeros_like(x), weight, bias)
    out.append((zero_in, "A entrada inteira virou zero: zere só a fatia da cabeça."))
    return out


def check_hook_ablation(ablate_head_with_hook: Callable[..., Any], *, in_features: int, out_features: int,
                        d_head: int, head: int, bias: bool = True, seed: int = 0) -> None:
    """On a fresh ``nn.Linear``: the hook ablates the head, changes no weight and no input, and
    ``handle.remove()`` gives back the original layer."""
    require_callable("ablate_head_with_hook", ablate_head_with_hook)
    linear = make_linear(in_features, out_features, bias=bias, seed=seed)
    weight0 = linear.weight.detach().clone()
    bias0 = linear.bias.detach().clone() if bias else None
    g = torch.Generator().manual_seed(seed + 77)
    x = torch.randn(2, 3, in_features, generator=g)
    call = f"ablate_head_with_hook(linear, head={head}, d_head={d_head})"
    shape = f"nn.Linear({in_features}, {out_features})"
    handle = call_student(call, ablate_head_with_hook, linear, head, d_head)
    if handle is None or not callable(getattr(handle, "remove", None)):
        fail(f"{call} devolveu {handle!r}; o esperado é o objeto que `register_forward_pre_hook` "
             "devolve (o *handle*, com o método `.remove()`).")
    try:
        x_in = x.clone()
        with torch.no_grad():
            got = linear(x_in)
        if not torch.equal(x_in, x):
            fail(f"Depois de {call}, chamar a camada alterou o tensor de entrada: o hook deve "
                 "devolver uma cópia modificada (`x = args[0].clone()`), não zerar a entrada "
                 "in-place, que pode ser usada por outras partes do modelo.")
        if not torch.equal(linear.weight.detach(), weight0):
            fail(f"{call} mudou `linear.weight`: com um hook a ablação acontece na entrada, e os "
                 "pesos ficam intactos.")
        want = expected_output(weight0, bias0, x, [head], d_head)
        if not torch.allclose(got, want, atol=_TOL):
            diff = (got - want).abs().max().item()
            hint = next((why for value, why in _hook_mistakes(weight0, bias0, x, head, d_head)
                         if value.shape == got.shape and torch.allclose(got, value, atol=_TOL)), "")
            fail(f"Com {call} numa {shape}, a saída deveria ser a da camada com as entradas "
                 f"{head * d_head}:{(head + 1) * d_head} zeradas, mas difere dela em até {diff:.3g}. "
                 f"{hint}".rstrip())
    finally:
        try:
            handle.remove()
        except Exception:
            pass
    with torch.no_grad():
        after = linear(x)
    if not torch.allclose(after, F.linear(x, weight0, bias0), atol=_TOL):
        fail(f"Depois de `handle.remove()`, a camada ainda não voltou ao normal: {call} deixou "
             "outro hook registrado, ou mudou a camada?")


def check_hook_on_model(ablate_head_with_hook: Callable[..., Any], heads) -> None:
    """On a freshly loaded toy-2l: hooks on the GPT-2 ``Conv1D`` output projections give the
    same logits as the library's ``ablate_heads``; removing them restores the model."""
    from induction_heads import ablate_heads, get_adapter, repeated_tokens
    from induction_heads.grading.checks_extra import fresh_model, heads_text

    require_callable("ablate_head_with_hook", ablate_head_with_hook)
    model, tok = fresh_model("toy-2l")
    adapter = get_adapter(model)
    tokens = repeated_tokens(tok, seq_len=12, n_repeats=3, batch=3, seed=3)
    with torch.no_grad():
        clean = model(input_ids=tokens).logits
        with ablate_heads(model, heads):
            want = model(input_ids=tokens).logits
    handles = []
    try:
        for layer, head in heads:
            call = f"ablate_head_with_hook(out_proj da camada {layer}, head={head}, d_head={adapter.d_head})"
            handle = call_student(call, ablate_head_with_hook, adapter.out_proj(layer), head, adapter.d_head)
            if handle is None or not callable(getattr(handle, "remove", None)):
                fail(f"{call} devolveu {handle!r}; o esperado é o handle do hook.")
            handles.append(handle)
        with torch.no_grad():
            got = model(input_ids=tokens).logits
    finally:
        for handle in handles:
            handle.remove()
    if not torch.allclose(got, want, atol=1e-4):
        fail(f"No toy-2l (projeção de saída `Conv1D` do GPT-2), ablacionar {heads_text(heads)} com os "
             f"seus hooks deu logits que diferem dos de `ablate_heads` em até "
             f"{(got - want).abs().max().item():.3g}.")
    with torch.no_grad():
        after = model(input_ids=tokens).logits
    if not torch.allclose(after, clean, atol=1e-5):
        fail("No toy-2l, depois de remover os hooks, o modelo não voltou ao normal.")


# --------------------------------------------------------------------------------------
# Expected values, computed with the library
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def task_measurements(k: int, seed: int = 0) -> dict:
    """Accuracy on the recall and pattern tasks and the ICL score of toy-2l: clean, with the top
    ``k`` prefix-matching heads zero-ablated, and with ``random_heads_like`` of them (``seed``)."""
    import contextlib

    from induction_heads import ablate_heads, icl_score, prefix_matching_scores, random_heads_like, repeated_tokens, top_heads
    from induction_heads.grading.checks_extra import reference_model
    from induction_heads.tasks import few_shot_task, task_accuracy

    model, tok = reference_model("toy-2l")
    probe = repeated_tokens(tok, seq_len=25, n_repeats=4, batch=10, seed=0)
    heads = top_heads(prefix_matching_scores(model, probe), k=k)
    control = random_heads_like(heads, model, seed=seed)
    tasks = {kind: few_shot_task(tok, kind, n_examples=8, batch=64, seed=0) for kind in ("recall", "pattern")}
    out = {"heads": heads, "control": control}
    for group, chosen in (("clean", None), ("induction", heads), ("random", control)):
        with (ablate_heads(model, chosen) if chosen else contextlib.nullcontext()):
            for kind, task in tasks.items():
                out[(kind, group)] = task_accuracy(model, task)
            out[("icl", group)] = icl_score(model, probe)
    return out


def choose_pattern_option(m: dict, margin: float = 0.1) -> str:
    """The letter of question 4 that describes the measurements ``m`` (see the notebook):
    ``d`` when random heads hurt recall about as much as the induction heads; otherwise ``a``,
    ``b`` or ``c`` as the induction heads hurt recall more than, as much as, or less than the
    pattern task."""
    d_recall = m[("recall", "clean")] - m[("recall", "induction")]
    d_random = m[("recall", "clean")] - m[("recall", "random")]
    d_pattern = m[("pattern", "clean")] - m[("pattern", "induction")]
    if d_recall - d_random <= margin:
        return "d"
    if d_recall - d_pattern > margin:
        return "a"
    if d_pattern - d_recall > margin:
        return "c"
    return "b"
