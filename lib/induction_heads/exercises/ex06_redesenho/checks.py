"""Checks for exercise 6 (the smeared key of Olsson et al. 2022), feedback in Portuguese.

The tests compute the expected smeared keys with an explicit loop over positions and pass them
in; :func:`check_smear_keys` compares the student's result with them and recognises the usual
mistakes: mixing with the *next* position, ``torch.roll`` wrapping the last key into position 0,
zero padding at position 0, ``alpha`` used without the sigmoid, the two weights swapped,
``alpha`` broadcast over the wrong dimension, the input changed in place.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from induction_heads.grading.checks import call_student, fail, require_callable

__all__ = ["check_smear_keys", "random_keys"]

_ATOL = 1e-5


def random_keys(batch: int, n_heads: int, T: int, d_head: int, *, seed: int = 0):
    """Seeded random ``keys [batch, n_heads, T, d_head]`` and ``alpha [n_heads]`` (raw, before
    the sigmoid; distinct per head)."""
    g = torch.Generator().manual_seed(seed)
    keys = torch.randn(batch, n_heads, T, d_head, generator=g)
    alpha = torch.linspace(-2.0, 2.0, n_heads) + 0.1 * torch.randn(n_heads, generator=g)
    return keys, alpha


def _mix(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return w * a + (1 - w) * b


def _variants(keys: torch.Tensor, alpha: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    """Wrong smeared keys a student might compute, each with what it did wrong."""
    s = torch.sigmoid(alpha)[None, :, None, None]
    prev = torch.cat([keys[..., :1, :], keys[..., :-1, :]], dim=-2)  # k_{i-1}, with k_0 at 0
    nxt = torch.cat([keys[..., 1:, :], keys[..., -1:, :]], dim=-2)  # k_{i+1}, last kept
    out = []
    nxt_mix = _mix(keys, nxt, s)
    nxt_mix[..., -1, :] = keys[..., -1, :]
    out.append((nxt_mix, "Você misturou cada chave com a da posição seguinte, k_{i+1}: isso "
                "usa o futuro (numa atenção causal a posição i nem o conhece). A chave borrada "
                "mistura com a posição anterior, k_{i-1}."))
    rolled_next = _mix(keys, torch.roll(keys, -1, dims=-2), s)
    out.append((rolled_next, "Você misturou cada chave com a da posição seguinte (`torch.roll` "
                "com deslocamento -1), e a última com a primeira; a chave borrada mistura com a "
                "posição anterior, k_{i-1}, e deixa a posição 0 igual."))
    rolled = _mix(keys, torch.roll(keys, 1, dims=-2), s)
    out.append((rolled, "A posição 0 saiu misturada com a última chave, k_{T-1}: `torch.roll` dá "
                "a volta na sequência. A posição 0 não tem anterior e deve ficar igual, k_0' = k_0."))
    padded = _mix(keys, torch.cat([torch.zeros_like(keys[..., :1, :]), keys[..., :-1, :]], dim=-2), s)
    out.append((padded, "A posição 0 saiu como sigmoid(alpha) * k_0 (misturada com um vetor "
                "nulo); ela não tem anterior e deve ficar igual, k_0' = k_0."))
    raw = alpha[None, :, None, None]
    no_sigmoid = _mix(keys, prev, raw)
    out.append((no_sigmoid, "Você usou alpha diretamente como peso; o peso é sigmoid(alpha), que "
                "fica entre 0 e 1."))
    swapped = _mix(prev, keys, s)
    out.append((swapped, "Os pesos estão trocados: o peso sigmoid(alpha) vai na chave da própria "
                "posição, k_i, e 1 - sigmoid(alpha) na anterior, k_{i-1}."))
    if keys.shape[1] == keys.shape[-1]:
        s_last = torch.sigmoid(alpha)[None, None, None, :]
        out.append((_mix(keys, prev, s_last), "Você aplicou alpha ao longo da última dimensão "
                    "(d_head), não das cabeças: alpha tem um valor por cabeça, que é a dimensão 1 "
                    "de keys; use `torch.sigmoid(alpha)[None, :, None, None]` (ou `.view(1, -1, 1, 1)`)."))
    return out


def check_smear_keys(smear_keys: Callable[..., Any], keys: torch.Tensor, alpha: torch.Tensor,
                     expected: torch.Tensor, *, label: str = "") -> None:
    """``smear_keys(keys, alpha)`` equals ``expected`` and changes neither input."""
    require_callable("smear_keys", smear_keys)
    keys0, alpha0 = keys.clone(), alpha.clone()
    b, h, T, d = keys.shape
    call = (f"smear_keys(keys, alpha) com keys de forma [batch, n_heads, T, d_head] = "
            f"{[b, h, T, d]}{label}")
    got = call_student(call, smear_keys, keys, alpha)
    if got is None or got is Ellipsis:
        fail(f"{call} devolveu {got!r}: a função precisa devolver (`return`) as chaves borradas.")
    if not isinstance(got, torch.Tensor):
        fail(f"{call} deveria devolver um tensor, mas devolveu {type(got).__name__}.")
    if not torch.equal(keys, keys0) or not torch.equal(alpha, alpha0):
        fail(f"{call} mudou a entrada in-place: a função deve devolver um tensor novo e deixar "
             "`keys` e `alpha` como estavam (use `keys.clone()` ou monte o resultado com "
             "`torch.cat`).")
    if tuple(got.shape) != tuple(expected.shape):
        lost = " Você perdeu uma posição: a posição 0 também faz parte do resultado (k_0' = k_0)." \
            if tuple(got.shape) == (b, h, T - 1, d) else ""
        fail(f"{call} devolveu forma {list(got.shape)}; o esperado é a mesma forma de keys, "
             f"{list(expected.shape)}.{lost}")
    got = got.detach().float()
    if torch.allclose(got, expected, atol=_ATOL):
        return
    bad = ((got - expected).abs().amax(dim=(0, 1, 3)) > _ATOL).nonzero().flatten().tolist()
    where = f"na posição {bad[0]}" if len(bad) == 1 else f"nas posições {bad}"
    diff = (got - expected).abs().max().item()
    hint = ""
    for variant, message in _variants(keys.float(), alpha.float()):
        if torch.allclose(got, variant, atol=_ATOL):
            hint = message
            break
    fail(f"{call}: o resultado difere do esperado em até {diff:.3g} ({where}). "
         "O esperado é k_i' = sigmoid(alpha_h) * k_i + (1 - sigmoid(alpha_h)) * k_{i-1} para "
         f"i >= 1, e k_0' = k_0. {hint}".strip())
