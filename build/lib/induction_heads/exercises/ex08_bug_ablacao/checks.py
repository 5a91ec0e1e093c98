"""Checks for exercise 8 (head ablation on a raw ``nn.Linear`` W_O), feedback in Portuguese.

The reference is an independent computation, not a reference implementation of the answer:
zero-ablating head ``h`` of an output projection ``W_O`` (``nn.Linear`` with ``in_features =
n_heads * d_head``) must give, for every input ``x``, the original layer's output on ``x`` with
the head's slice ``x[..., h*d_head:(h+1)*d_head]`` set to zero. The checks also diagnose the
usual mistakes (rows instead of columns, the wrong block, a changed bias, a replaced tensor,
weights not restored) and say so with the indices involved.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from induction_heads.grading.checks import (
    StudentCodeError,
    call_student,
    fail,
    require_callable,
)

__all__ = [
    "check_ablation",
    "check_ablation_rejects_bad_input",
    "check_context_manager",
    "check_context_manager_nested",
    "check_context_manager_restores_on_error",
    "make_linear",
]

_ATOL = 1e-5


def make_linear(in_features: int, out_features: int, *, bias: bool = True, seed: int = 0) -> nn.Linear:
    """A ``nn.Linear(in_features, out_features)`` with seeded, non-zero random weights."""
    g = torch.Generator().manual_seed(seed)
    linear = nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(out_features, in_features, generator=g) + 0.1)
        if bias:
            linear.bias.copy_(torch.randn(out_features, generator=g))
    return linear


def _inputs(in_features: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 1000)
    return torch.randn(5, in_features, generator=g)


def expected_output(weight: torch.Tensor, bias: torch.Tensor | None, x: torch.Tensor,
                    heads: list[int], d_head: int) -> torch.Tensor:
    """Output of ``F.linear`` on ``x`` with the input slices of ``heads`` zeroed."""
    x = x.clone()
    for h in heads:
        x[..., h * d_head:(h + 1) * d_head] = 0
    return F.linear(x, weight, bias)


def _ranges(indices: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0:3, 5:6"`` (Python slice notation)."""
    if not indices:
        return "nenhuma"
    parts, start, prev = [], indices[0], indices[0]
    for i in indices[1:]:
        if i == prev + 1:
            prev = i
            continue
        parts.append(f"{start}:{prev + 1}")
        start = prev = i
    parts.append(f"{start}:{prev + 1}")
    return ", ".join(parts)


def diagnose(before: torch.Tensor, after: torch.Tensor, head: int, d_head: int) -> str:
    """Explain in Portuguese how ``after`` differs from the correct ablation of ``head``."""
    c0, c1 = head * d_head, (head + 1) * d_head
    changed = before != after
    if after.shape != before.shape:
        return (f"O peso mudou de forma: era {list(before.shape)}, ficou {list(after.shape)}; "
                "a ablação só zera entradas, sem mudar a forma.")
    if not changed.any():
        return ("Nenhum peso de `linear.weight` mudou: a função precisa alterar `linear` "
                "in-place (sem criar outra camada).")
    rows = changed.any(dim=1).nonzero().flatten().tolist()
    cols = changed.any(dim=0).nonzero().flatten().tolist()
    n_in = before.shape[1]
    whole_rows = bool(changed[rows].all()) and len(cols) == n_in
    if whole_rows and len(rows) < before.shape[0]:
        return (f"Você zerou as linhas {_ranges(rows)} do peso (forma [saída, entrada] = "
                f"{list(before.shape)}), isto é, dimensões de saída. Em `nn.Linear`, a entrada "
                f"da cabeça {head} são as colunas {c0}:{c1}: zere `weight[:, {c0}:{c1}]`.")
    whole_cols = bool(changed[:, cols].all())
    if whole_cols and cols != list(range(c0, c1)):
        return (f"Você zerou as colunas {_ranges(cols)}, mas a cabeça {head} ocupa as colunas "
                f"{c0}:{c1} (d_head = {d_head}: colunas head*d_head até (head+1)*d_head). "
                "Erro de um bloco, ou o tamanho do bloco errado?")
    outside = changed.clone()
    outside[:, c0:c1] = False
    inside_kept = (after[:, c0:c1] != 0).sum().item()
    msgs = []
    if outside.any():
        msgs.append(f"{int(outside.sum())} peso(s) fora das colunas {c0}:{c1} mudaram "
                    f"(linhas {_ranges(outside.any(dim=1).nonzero().flatten().tolist())}, "
                    f"colunas {_ranges(outside.any(dim=0).nonzero().flatten().tolist())})")
    if inside_kept:
        msgs.append(f"{inside_kept} peso(s) das colunas {c0}:{c1} não foram zerados")
    return ("; ".join(msgs) + ".") if msgs else ""


def _shape_text(linear: nn.Linear, n_heads: int) -> str:
    return (f"W_O de forma {list(linear.weight.shape)} ({n_heads} cabeça(s) de "
            f"d_head = {linear.in_features // n_heads})")


def check_ablation(ablate_head_: Callable[..., Any], *, in_features: int, out_features: int,
                   n_heads: int, head: int, bias: bool = True, seed: int = 0) -> None:
    """``ablate_head_(linear, head, n_heads)`` zero-ablates ``head`` of a fresh ``nn.Linear``
    in place: same tensor, bias untouched, output equal to the independent computation."""
    require_callable("ablate_head_", ablate_head_)
    linear = make_linear(in_features, out_features, bias=bias, seed=seed)
    d_head = in_features // n_heads
    weight0 = linear.weight.detach().clone()
    bias0 = linear.bias.detach().clone() if bias else None
    param = linear.weight
    x = _inputs(in_features, seed)
    call = f"ablate_head_(linear, head={head}, n_heads={n_heads})"
    call_student(call, ablate_head_, linear, head, n_heads)
    if linear.weight is not param:
        fail(f"Depois de {call}, `linear.weight` é outro tensor: a ablação deve mudar o peso "
             "existente in-place (por exemplo, `linear.weight[...] = 0` dentro de "
             "`torch.no_grad()`).")
    if bias and not torch.equal(linear.bias.detach(), bias0):
        fail(f"{call} mudou o viés (`linear.bias`): o viés não pertence a nenhuma cabeça e "
             "deve ficar intacto.")
    with torch.no_grad():
        got = linear(x)
    want = expected_output(weight0, bias0, x, [head], d_head)
    if not torch.allclose(got, want, atol=_ATOL):
        diff = (got - want).abs().max().item()
        fail(f"{call} com {_shape_text(linear, n_heads)}: a saída deveria ser a da camada "
             f"original com as entradas {head * d_head}:{(head + 1) * d_head} zeradas, mas "
             f"difere dela em até {diff:.3g}. "
             + diagnose(weight0, linear.weight.detach(), head, d_head))


def check_ablation_rejects_bad_input(ablate_head_: Callable[..., Any], *, in_features: int,
                                     out_features: int, n_heads: int, seed: int = 0) -> None:
    """The last head works; ``head`` outside ``0..n_heads-1`` and an ``n_heads`` that does not
    divide ``in_features`` raise ``ValueError`` and leave the weights untouched."""
    check_ablation(ablate_head_, in_features=in_features, out_features=out_features,
                   n_heads=n_heads, head=n_heads - 1, seed=seed)
    bad_n = next(n for n in range(2, in_features + 1) if in_features % n)
    cases = [(n_heads, n_heads, f"head={n_heads} (só existem as cabeças 0 a {n_heads - 1})"),
             (-1, n_heads, "head=-1"),
             (0, bad_n, f"n_heads={bad_n}, que não divide in_features={in_features}")]
    for head, n, what in cases:
        linear = make_linear(in_features, out_features, seed=seed)
        weight0 = linear.weight.detach().clone()
        try:
            ablate_head_(linear, head, n)
        except ValueError:
            pass
        except Exception as exc:
            fail(f"Com {what}, a função deveria levantar ValueError, mas levantou "
                 f"{type(exc).__name__}: {exc}")
        else:
            fail(f"Com {what}, a função deveria levantar ValueError, mas não levantou nada.")
        if not torch.equal(linear.weight.detach(), weight0):
            fail(f"Com {what}, a função levantou ValueError mas antes mudou os pesos: verifique "
                 "a entrada antes de alterar qualquer coisa.")


def _enter(head_ablated, linear, head, n_heads, call):
    require_callable("head_ablated", head_ablated)
    try:
        cm = head_ablated(linear, head, n_heads)
    except Exception as exc:
        raise StudentCodeError(f"{call} levantou {type(exc).__name__}: {exc}") from exc
    if getattr(cm, "gen", ()) is None:  # @contextmanager on a function without `yield`
        fail(f"{call} não tem `yield`: com `@contextmanager`, a função precisa de um `yield` "
             "no ponto em que o bloco `with` roda (ela ainda vale `...`?).")
    if not (hasattr(cm, "__enter__") and hasattr(cm, "__exit__")):
        fail(f"{call} deveria devolver um gerenciador de contexto (use `@contextmanager` e "
             f"`yield`), mas devolveu {type(cm).__name__}.")
    return cm


def _check_inside(linear, weight0, bias0, x, heads, d_head, call):
    with torch.no_grad():
        got = linear(x)
    want = expected_output(weight0, bias0, x, heads, d_head)
    if not torch.allclose(got, want, atol=_ATOL):
        diff = (got - want).abs().max().item()
        fail(f"Dentro do bloco `with {call}`, a saída deveria ser a da camada com as entradas "
             f"da(s) cabeça(s) {heads} zeradas, mas difere em até {diff:.3g}. "
             + diagnose(weight0, linear.weight.detach(), heads[-1], d_head))


def _check_restored(linear, param, weight0, what):
    if linear.weight is not param:
        fail(f"{what}, `linear.weight` é outro tensor: restaure os valores no mesmo tensor "
             "(`linear.weight.copy_(copia)` dentro de `torch.no_grad()`).")
    if not torch.equal(linear.weight.detach(), weight0):
        n = int((linear.weight.detach() != weight0).sum())
        zero_cols = (linear.weight.detach() == 0).all(dim=0).nonzero().flatten().tolist()
        extra = f" (as colunas {_ranges(zero_cols)} continuam zeradas)" if zero_cols else ""
        fail(f"{what}, os pesos não voltaram ao original: {n} peso(s) continuam diferentes"
             f"{extra}. Você guardou uma cópia (`.clone()`) dos pesos, ou só uma referência "
             "ao mesmo tensor?")


def check_context_manager(head_ablated: Callable[..., Any], *, in_features: int,
                          out_features: int, n_heads: int, head: int, seed: int = 0) -> None:
    """Inside ``with head_ablated(linear, head, n_heads):`` the head is ablated; after the
    block the very same weight tensor holds the original values again."""
    linear = make_linear(in_features, out_features, seed=seed)
    d_head = in_features // n_heads
    weight0, bias0 = linear.weight.detach().clone(), linear.bias.detach().clone()
    param = linear.weight
    x = _inputs(in_features, seed)
    call = f"head_ablated(linear, head={head}, n_heads={n_heads})"
    cm = _enter(head_ablated, linear, head, n_heads, call)
    try:
        with cm:
            _check_inside(linear, weight0, bias0, x, [head], d_head, call)
    except AssertionError:
        raise
    except Exception as exc:
        fail(f"`with {call}:` levantou {type(exc).__name__}: {exc}")
    _check_restored(linear, param, weight0, f"Depois do bloco `with {call}`")


class _Boom(Exception):
    """An error raised on purpose inside the student's ``with`` block."""


def check_context_manager_restores_on_error(head_ablated: Callable[..., Any], *,
                                            in_features: int, out_features: int, n_heads: int,
                                            head: int, seed: int = 0) -> None:
    """If the block raises, the error reaches the caller and the weights are restored."""
    linear = make_linear(in_features, out_features, seed=seed)
    weight0 = linear.weight.detach().clone()
    param = linear.weight
    call = f"head_ablated(linear, head={head}, n_heads={n_heads})"
    cm = _enter(head_ablated, linear, head, n_heads, call)
    try:
        with cm:
            raise _Boom("erro de propósito dentro do bloco")
    except _Boom:
        pass
    except Exception as exc:
        fail(f"Um erro dentro do bloco `with {call}` virou {type(exc).__name__}: {exc}; "
             "o erro original deveria chegar a quem chamou.")
    else:
        fail(f"Um erro levantado dentro do bloco `with {call}` desapareceu: o gerenciador de "
             "contexto não deve engolir exceções.")
    _check_restored(linear, param, weight0,
                    f"Depois de um erro dentro do bloco `with {call}`")


def check_context_manager_nested(head_ablated: Callable[..., Any], *, in_features: int,
                                 out_features: int, n_heads: int, heads: tuple[int, int],
                                 seed: int = 0) -> None:
    """Nested blocks: inside both, both heads are ablated; leaving the inner one brings back
    only its head; leaving the outer one restores everything."""
    linear = make_linear(in_features, out_features, seed=seed)
    d_head = in_features // n_heads
    weight0, bias0 = linear.weight.detach().clone(), linear.bias.detach().clone()
    param = linear.weight
    x = _inputs(in_features, seed)
    h1, h2 = heads
    outer = f"head_ablated(linear, head={h1}, n_heads={n_heads})"
    inner = f"head_ablated(linear, head={h2}, n_heads={n_heads})"
    try:
        with _enter(head_ablated, linear, h1, n_heads, outer):
            with _enter(head_ablated, linear, h2, n_heads, inner):
                _check_inside(linear, weight0, bias0, x, [h1, h2], d_head,
                              f"{outer}` aninhado com `{inner}")
            with torch.no_grad():
                got = linear(x)
            want = expected_output(weight0, bias0, x, [h1], d_head)
            if not torch.allclose(got, want, atol=_ATOL):
                fail(f"Com dois blocos aninhados (cabeças {h1} e {h2}), ao sair do bloco interno "
                     f"só a cabeça {h1} deveria continuar ablacionada, mas a saída difere em até "
                     f"{(got - want).abs().max().item():.3g}. Ao sair, restaure os pesos como "
                     "estavam ao entrar no bloco.")
    except AssertionError:
        raise
    except Exception as exc:
        fail(f"Blocos aninhados levantaram {type(exc).__name__}: {exc}")
    _check_restored(linear, param, weight0, "Depois dos dois blocos aninhados")
