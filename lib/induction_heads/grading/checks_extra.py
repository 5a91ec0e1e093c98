"""More checks for exercise tests: lists of heads, and the reference models tests compute with.

Like :mod:`induction_heads.grading.checks`, each ``expect_*`` helper returns when the answer is
right and raises :class:`AssertionError` with a message in Portuguese otherwise; no helper
holds an exercise's answers (the hidden tests compute the expected values with the library
and pass them in).

* :func:`as_heads` / :func:`expect_heads`: a student's list of heads ``[(layer, head), ...]``
  (shown as ``"L.H"`` in messages), compared as a set or in order.
* :func:`reference_model`: a shipped model loaded once per process for read-only
  computations of expected values; :func:`fresh_model` loads a new copy for tests that run the
  student's code on a model (hooks, weight edits), so a test never sees another's changes.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, Iterable

import torch

from .checks import fail, require_answer

__all__ = ["as_heads", "expect_heads", "fresh_model", "heads_text", "reference_model"]


def heads_text(heads: Iterable) -> str:
    """``[(1, 2), (0, 3)] -> "[1.2, 0.3]"``."""
    return "[" + ", ".join(f"{int(l)}.{int(h)}" for l, h in heads) + "]"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.is_floating_point():
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    return None


def as_heads(name: str, value: Any) -> list[tuple[int, int]]:
    """The student's ``value`` as a list of ``(layer, head)`` int pairs, or a failure that says
    what is wrong with its form."""
    require_answer(name, value)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        fail(f"`{name}` deveria ser uma lista de cabeças (pares `(camada, cabeça)`), mas é "
             f"{type(value).__name__} ({value!r}).")
    heads = []
    for item in value:
        pair = None
        if not isinstance(item, (str, bytes)) and hasattr(item, "__len__") and len(item) == 2:
            layer, head = _as_int(item[0]), _as_int(item[1])
            if layer is not None and head is not None:
                pair = (layer, head)
        if pair is None:
            fail(f"`{name}` deveria conter pares de inteiros `(camada, cabeça)`, como `(1, 3)`; "
                 f"encontrei {item!r}.")
        heads.append(pair)
    return heads


def expect_heads(name: str, value: Any, expected: Iterable, *, ordered: bool = False,
                 hint: str | None = None) -> None:
    """Fail unless the student's heads equal ``expected`` (as a set, or as a list in order)."""
    got = as_heads(name, value)
    want = [(int(l), int(h)) for l, h in expected]
    if ordered:
        if got == want:
            return
        if sorted(got) == sorted(want):
            fail(f"`{name}` tem as cabeças certas, {heads_text(got)}, mas fora de ordem: o "
                 f"esperado é {heads_text(want)} (da maior pontuação para a menor).")
    else:
        if len(set(got)) != len(got):
            fail(f"`{name}` repete cabeças: {heads_text(got)}.")
        if set(got) == set(want):
            return
    message = f"`{name}` deu {heads_text(got)}; o esperado é {heads_text(want)}."
    if len(got) != len(want):
        message += f" Você deu {len(got)} cabeça(s), e são {len(want)}."
    fail(f"{message} {hint}" if hint else message)


@functools.lru_cache(maxsize=4)
def reference_model(name: str = "toy-2l"):
    """``(model, tokenizer)`` of a shipped model, loaded once per process. Read-only: tests that
    hook or edit a model use :func:`fresh_model`."""
    return fresh_model(name)


def fresh_model(name: str = "toy-2l"):
    """A newly loaded ``(model, tokenizer)`` (eval mode), for tests that change the model."""
    from ..models import load_model

    return load_model(name)
