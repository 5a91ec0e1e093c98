"""Generic checks for exercise tests, with feedback in Brazilian Portuguese.

Exercise tests (otter's exception-based format) call these helpers. Each helper returns
normally when the answer is right and raises :class:`AssertionError` with a message for the
student otherwise; the message says what is wrong, with numbers, and may carry a hint::

    expect_close("a pontuação da cabeça 1.2", 0.41, 0.68, 0.01,
                 hint="Você incluiu a atenção ao próprio token?")
    # AssertionError: a pontuação da cabeça 1.2 deu 0.41; o esperado é 0.68 ± 0.01.
    #                 Você incluiu a atenção ao próprio token?

The helpers never hold an exercise's answers: the (hidden) tests pass the expected values in.
A name missing from the student's notebook reaches a test as ``None`` (otter passes
``None`` for undefined names) and an untouched blank is ``...`` (``Ellipsis``): both get a
message telling the student to fill in and run the cell, so an untouched notebook scores zero.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping

__all__ = [
    "StudentCodeError",
    "call_student",
    "expect_choice",
    "expect_close",
    "expect_equal",
    "expect_integer",
    "expect_option",
    "fail",
    "format_number",
    "require_answer",
    "require_callable",
]


class StudentCodeError(AssertionError):
    """The student's code raised while a test called it (the message names the call)."""


def fail(message: str) -> None:
    """Fail the current test case with ``message`` (shown to the student as is)."""
    raise AssertionError(message)


def format_number(x: Any, digits: int = 4) -> str:
    """A number as the student would print it: integers exactly, floats to ``digits`` sig. figs."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        x = float(x)
        if math.isnan(x) or math.isinf(x):
            return str(x)
        if x == int(x) and abs(x) < 1e15:
            return str(int(x))
        return f"{x:.{digits}g}"
    return repr(x)


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message} {hint}" if hint else message


def require_answer(name: str, value: Any) -> Any:
    """Fail unless the student has given ``name`` a value (not ``None``, not ``...``)."""
    if value is Ellipsis:
        fail(f"`{name}` ainda vale `...`: substitua o `...` pela sua resposta e execute a célula.")
    if value is None:
        fail(
            f"não encontrei `{name}` (ou ela vale None): a célula da resposta foi executada? "
            "Ela pode ter sido apagada."
        )
    return value


def require_callable(name: str, value: Any) -> Callable[..., Any]:
    """Fail unless ``value`` (the student's ``name``) is a function."""
    require_answer(name, value)
    if not callable(value):
        fail(f"`{name}` deveria ser uma função, mas é um {type(value).__name__}.")
    return value


def call_student(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``fn``; if it raises, fail with the call and the error in Portuguese.

    ``name`` is how the call is shown, e.g. ``"ablate_head_(linear, head=1, n_heads=3)"``.
    """
    try:
        return fn(*args, **kwargs)
    except AssertionError as exc:  # an assert inside the student's code
        raise StudentCodeError(f"{name} falhou num assert do seu código: {exc}") from exc
    except Exception as exc:
        raise StudentCodeError(
            f"{name} levantou {type(exc).__name__}: {exc}".rstrip(": ")
        ) from exc


def _as_number(name: str, value: Any) -> float:
    require_answer(name, value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()  # 0-d tensor or numpy scalar
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(f"`{name}` deveria ser um número, mas é {type(value).__name__} ({value!r}).")
    return float(value)


def expect_integer(
    name: str, value: Any, expected: int, *, hints: Mapping[int, str] | None = None
) -> None:
    """Fail unless ``value`` is the integer ``expected`` (an integral float is accepted).

    ``hints`` maps a known wrong answer to the explanation shown when the student gives it.
    """
    x = _as_number(name, value)
    if x != int(x):
        fail(f"`{name}` deveria ser um número inteiro, mas vale {format_number(x)}.")
    got = int(x)
    if got != int(expected):
        hint = (hints or {}).get(got)
        fail(_with_hint(f"`{name}` deu {got}; o esperado é {int(expected)}.", hint))


def expect_close(
    name: str, value: Any, expected: float, tol: float, *, hint: str | None = None
) -> None:
    """Fail unless ``|value - expected| <= tol``; the message gives both numbers and ``tol``."""
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    x = _as_number(name, value)
    if math.isnan(x) or abs(x - float(expected)) > tol:
        fail(
            _with_hint(
                f"{name} deu {format_number(x)}; o esperado é "
                f"{format_number(expected)} ± {format_number(tol)}.",
                hint,
            )
        )


def expect_equal(name: str, value: Any, expected: Any, *, hint: str | None = None) -> None:
    """Fail unless ``value == expected``."""
    require_answer(name, value)
    if value != expected:
        fail(_with_hint(f"`{name}` deu {value!r}; o esperado é {expected!r}.", hint))


def _normalise_choice(value: Any) -> str:
    text = str(value).strip().lower()
    for strip in ("()", "[]", "''", '""'):
        if len(text) >= 2 and text[0] == strip[0] and text[-1] == strip[1]:
            text = text[1:-1].strip()
    return text.rstrip(")").strip()


def expect_option(name: str, value: Any, options: tuple[str, ...] | list[str] | str) -> str:
    """Fail unless ``value`` is one of the letters ``options``; returns it normalised.

    Checks only the form of a multiple-choice answer (public tests), not whether it is right.
    Letters are compared case-insensitively; ``"(c)"`` and ``"c)"`` count as ``"c"``.
    """
    require_answer(name, value)
    options = [o.lower() for o in options]
    shown = ", ".join(repr(o) for o in options)
    if not isinstance(value, str):
        fail(f"`{name}` deveria ser uma letra entre aspas, uma de {shown}; você deu {value!r}.")
    choice = _normalise_choice(value)
    if choice not in options:
        fail(f"`{name}` deveria ser uma de {shown}; você escreveu {value!r}.")
    return choice


def expect_choice(
    name: str,
    value: Any,
    expected: str,
    *,
    options: tuple[str, ...] | list[str] | str,
    explanations: Mapping[str, str] | None = None,
) -> None:
    """A multiple-choice answer: ``value`` must be one of ``options`` and equal ``expected``.

    ``explanations`` maps a wrong option to why it is wrong (shown when it is chosen).
    """
    if expected.lower() not in [o.lower() for o in options]:
        raise ValueError(f"expected answer {expected!r} is not one of the options {options}")
    choice = expect_option(name, value, options)
    if choice != expected.lower():
        why = (explanations or {}).get(choice)
        fail(_with_hint(f"A alternativa '{choice}' não está correta.", why))
