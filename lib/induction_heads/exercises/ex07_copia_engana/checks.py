"""Checks for exercise 7 (tasks where copying from the context gives the wrong answer).

The task is the *mirror*: ``<bos> w_0 ... w_{n-1}`` (n distinct words), then the same words
backwards, ``w_{n-1} w_{n-2} ... w_{n-m}`` (m of them, 1 <= m <= n-1); the right next word is
``w_{n-1-m}``. Copying (an induction head's ``A B ... A -> B``) predicts the word that followed
the earlier occurrence of the last word, ``w_{n-m+1}``: always wrong.

The tests compute the expected values with the library (``prefix_matching_targets`` for where an
induction head looks) and an explicit construction, and pass them in; these helpers compare and
diagnose the usual mistakes (the first earlier occurrence instead of the most recent, the
occurrence itself instead of the token after it, the mirror not reversed, no BOS).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from induction_heads.grading.checks import call_student, fail, require_answer, require_callable

__all__ = [
    "as_token_list",
    "check_copied_token",
    "check_mirror_prompt",
    "check_mirror_rejects",
    "check_trap",
    "parse_mirror",
]


def _as_int_or_none(value: Any):
    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        return int(value.item())
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int):
        return value  # wrong type: the caller reports it
    return int(value)


def as_token_list(name: str, value: Any) -> list[int]:
    """A student's token ids (1-D tensor, ``[1, T]`` tensor or list of ints) as a list of ints."""
    if value is None or value is Ellipsis:
        fail(f"{name} devolveu {value!r}: a função precisa devolver (`return`) os ids dos tokens.")
    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            fail(f"{name} devolveu um tensor de ponto flutuante; ids de tokens são inteiros "
                 "(`dtype=torch.long`).")
        if value.dim() == 2 and value.shape[0] == 1:
            value = value[0]
        if value.dim() != 1:
            fail(f"{name} devolveu um tensor de forma {list(value.shape)}; o esperado é um tensor "
                 "1-D de ids, `[T]`.")
        return [int(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [int(v) for v in value]
    fail(f"{name} deveria devolver um tensor 1-D de ids de tokens, mas devolveu "
         f"{type(value).__name__}.")


# ----------------------------------------------------------------------------------------
# copied_token
# ----------------------------------------------------------------------------------------


def _after_first_occurrence(seq: list[int]):
    last = seq[-1]
    for j, t in enumerate(seq[:-1]):
        if t == last:
            return seq[j + 1]
    return None


def check_copied_token(copied_token: Callable[..., Any], sequences: list[list[int]],
                       expected: list) -> None:
    """``copied_token(torch.tensor(seq))`` equals ``expected[i]`` (an int or None) for each seq."""
    require_callable("copied_token", copied_token)
    for seq, want in zip(sequences, expected):
        shown = seq if len(seq) <= 16 else seq[:6] + ["..."] + seq[-6:]
        call = f"copied_token(torch.tensor({shown}))".replace("'...'", "...")
        tokens = torch.tensor(seq, dtype=torch.long)
        got = _as_int_or_none(call_student(call, copied_token, tokens.clone()))
        if got is Ellipsis:
            fail(f"{call} devolveu `...`: a função ainda não foi escrita.")
        if got == want and (got is None) == (want is None):
            continue
        if got is not None and not isinstance(got, int):
            fail(f"{call} deveria devolver um id de token (int) ou None, mas devolveu "
                 f"{type(got).__name__} ({got!r}).")
        message = f"{call} deu {got!r}; o esperado é {want!r}."
        hint = ""
        last = seq[-1]
        earlier = [j for j in range(len(seq) - 1) if seq[j] == last]
        if want is None:
            hint = (f"O último token, {last}, não aparece antes dele: não há o que copiar, e a "
                    "função deve devolver None.")
        elif got == last and want != last:
            hint = (f"Você devolveu o próprio token {last} (a ocorrência anterior); a cabeça de "
                    "indução copia o token que veio logo DEPOIS dela.")
        elif len(earlier) > 1 and got == _after_first_occurrence(seq):
            hint = (f"O token {last} aparece antes nas posições {earlier}; você usou a primeira. "
                    "Use a ocorrência anterior mais recente (a última antes do fim).")
        elif got in earlier or (isinstance(got, int) and got == earlier[-1] + 1):
            hint = "Você devolveu uma posição; devolva o token que está nela."
        fail(f"{message} {hint}".strip())


# ----------------------------------------------------------------------------------------
# mirror_prompt
# ----------------------------------------------------------------------------------------


def check_mirror_prompt(mirror_prompt: Callable[..., Any], words: list[int], m: int, bos: int,
                        expected: list[int]) -> None:
    """``mirror_prompt(torch.tensor(words), m, bos)`` returns ``expected`` and leaves ``words``
    unchanged."""
    require_callable("mirror_prompt", mirror_prompt)
    n = len(words)
    call = f"mirror_prompt(words, m={m}, bos={bos}) com words = {words}"
    w = torch.tensor(words, dtype=torch.long)
    got = as_token_list(call, call_student(call, mirror_prompt, w, m, bos))
    if w.tolist() != words:
        fail(f"{call} mudou o tensor `words` que recebeu; a função só deve ler a entrada.")
    if got == expected:
        return
    message = f"{call} deu {got}; o esperado é {expected}."
    hint = ""
    if len(got) != len(expected):
        hint = f"O prompt tem 1 + n + m = 1 + {n} + {m} = {len(expected)} tokens."
    if got and got[0] != bos:
        hint = "O prompt começa com o token <bos> (o id `bos`)."
    elif got[1:1 + n] == words:
        tail = got[1 + n:]
        if tail == words[n - m:]:
            hint = ("A segunda parte repete as últimas palavras na mesma ordem: isso é uma "
                    "repetição, em que copiar acerta. No espelho elas vêm de trás para frente.")
        elif tail == words[:m][::-1]:
            hint = ("Você inverteu as m primeiras palavras; o espelho começa pela última palavra, "
                    "w_{n-1}, e volta: w_{n-1}, w_{n-2}, ..., w_{n-m}.")
        elif tail == words[::-1][1:m + 1]:
            hint = ("O espelho começa repetindo a última palavra, w_{n-1}; você começou em "
                    "w_{n-2}.")
    fail(f"{message} {hint}".strip())


def check_mirror_rejects(mirror_prompt: Callable[..., Any], words: list[int], bos: int) -> None:
    """``m`` outside ``1..n-1`` and repeated words raise ``ValueError``."""
    n = len(words)
    cases = [(words, 0, "m=0"), (words, n, f"m={n} (n = {n}: m vai de 1 a n - 1)"),
             (words[:-1] + [words[0]], 2, "palavras repetidas em `words`")]
    for ws, m, what in cases:
        try:
            mirror_prompt(torch.tensor(ws, dtype=torch.long), m, bos)
        except ValueError:
            continue
        except Exception as exc:
            fail(f"Com {what}, mirror_prompt deveria levantar ValueError, mas levantou "
                 f"{type(exc).__name__}: {exc}")
        fail(f"Com {what}, mirror_prompt deveria levantar ValueError, mas não levantou nada.")


# ----------------------------------------------------------------------------------------
# The student's trap
# ----------------------------------------------------------------------------------------


def parse_mirror(ids: list[int]) -> tuple[list[int], int] | str:
    """``(words, m)`` of a mirror prompt without its BOS, or a message saying why it is not one."""
    first_repeat = next((i for i, t in enumerate(ids) if t in ids[:i]), None)
    if first_repeat is None:
        return "nenhuma palavra se repete, então não há espelho (nem o que copiar)"
    words, tail = ids[:first_repeat], ids[first_repeat:]
    n, m = len(words), len(tail)
    if m > n - 1:
        return f"o espelho tem {m} palavras, mas pode ter no máximo n - 1 = {n - 1}"
    if tail != words[::-1][:m]:
        return ("depois das palavras distintas, elas deveriam voltar de trás para frente, "
                "começando pela última")
    return words, m


def check_trap(trap_text: Any, model, tokenizer, *, min_words: int = 3,
               not_allowed: list[str] = ()) -> None:
    """``trap_text`` is a mirror prompt (in words) on which ``model``'s top next-token prediction
    is the token an induction head would copy, which differs from the mirror's right answer.
    The texts in ``not_allowed`` (the statement's example) are refused."""
    from induction_heads.scores import encode_text, prefix_matching_targets

    require_answer("trap_text", trap_text)
    if not isinstance(trap_text, str):
        fail(f"`trap_text` deveria ser um texto (str), mas é {type(trap_text).__name__}.")
    if any(trap_text.split() == text.split() for text in not_allowed):
        fail("Esse é o exemplo do enunciado; monte o seu próprio espelho.")
    ids = encode_text(tokenizer, trap_text)
    unk = tokenizer.unk_token_id
    words_text = trap_text.split()
    if unk is not None and unk in ids[0].tolist():
        unknown = [w for w in words_text if tokenizer(w, add_special_tokens=False)["input_ids"] == [unk]]
        fail(f"Estas palavras não estão no vocabulário do toy-2l: {unknown}. Use palavras do "
             "tokenizador (por exemplo, `tokenizer.decode(ids)` de ids que você escolheu).")
    body = ids[0, 1:].tolist()
    parsed = parse_mirror(body)
    if isinstance(parsed, str):
        fail(f"`trap_text` = {trap_text!r} não é um espelho: {parsed}. O formato é "
             "`w_0 ... w_(n-1) w_(n-1) ... w_(n-m)`, com n palavras distintas e 1 <= m <= n - 1.")
    words, m = parsed
    if len(words) < min_words:
        fail(f"Use pelo menos {min_words} palavras distintas antes do espelho; `trap_text` tem "
             f"{len(words)}.")
    n = len(words)
    right = words[n - 1 - m]
    target, _ = prefix_matching_targets(ids)
    copied = int(ids[0, int(target[0, -1].nonzero().max())])
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits[0, -1]
    top = int(logits.argmax())

    def word(i):
        return repr(tokenizer.decode([i]).strip())

    summary = (f"No prompt {trap_text!r}, a regra do espelho pede {word(right)}, copiar daria "
               f"{word(copied)}, e o toy-2l previu {word(top)}")
    if top == right:
        fail(f"{summary}: aqui o modelo acertou, não foi enganado. Procure outro exemplo.")
    if top != copied:
        fail(f"{summary}: o modelo errou, mas não copiou. Procure um exemplo em que a previsão "
             "seja justamente o token copiado.")
