"""Run otter test files (exception-based format) with results and messages in Portuguese.

Otter Assign writes one test file per question (``q1.py``...): a module with ``name``,
``points`` and functions decorated by ``otter.test_files.test_case``. Otter's own runner
reports in English and shows the failing line of the test; :class:`CourseTestFile` runs the
same files the same way (each test function gets the student's global variables of the same
names, ``None`` for missing ones) but reports the assertion's own message, in Portuguese.
Both the student's ``grader.check`` and the batch grader use it, so the feedback in Colab and
in the instructor's report is the same text.
"""

from __future__ import annotations

import contextlib
import html
import signal
import threading
from pathlib import Path
from textwrap import indent
from typing import Any, Iterator

from otter.test_files import ExceptionTestFile, TestCaseResult
from otter.test_files import test_case as otter_test_case

__all__ = ["CourseTestFile", "TestTimeout", "time_limit"]


class TestTimeout(BaseException):
    """Raised inside code that ran past its time limit (see :func:`time_limit`).

    It derives from ``BaseException`` so a student's ``except Exception`` cannot swallow it.
    """

    __test__ = False  # not a pytest test class


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TestTimeout` in the block if it runs longer than ``seconds`` (wall clock).

    Uses ``SIGALRM``, so it only acts in the main thread on Unix; elsewhere (or with
    ``seconds=None``) the block runs without a limit.
    """
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    if seconds <= 0:
        raise TestTimeout(f"sem tempo restante (limite de {seconds} s)")

    def _raise(signum, frame):
        raise TestTimeout(f"excedeu o limite de {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fmt_points(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}"


def _points(x: float) -> str:
    """``1`` -> "1 ponto", ``2`` -> "2 pontos"."""
    return f"{_fmt_points(x)} {'ponto' if x == 1 else 'pontos'}"


class CourseTestFile(ExceptionTestFile):
    """An otter exception-based test file whose results read in Portuguese.

    Extra attributes: ``declared_points`` (the question's ``points`` from the file, which in a
    public test file also counts the hidden cases the student cannot see) and ``case_timeout``.
    """

    declared_points: float | None = None
    case_timeout: float | None = None

    @classmethod
    def from_string(cls, s: str, path: str = "<string>") -> "CourseTestFile":
        env: dict[str, Any] = {}
        exec(compile(s, path, "exec"), env)
        if env.get("OK_FORMAT", False):
            raise ValueError(
                f"{path}: OK-format tests are not supported; set `tests: ok_format: false` "
                "in the notebook's ASSIGNMENT CONFIG"
            )
        instance = super().from_string(s, path=path)
        points = env.get("points")
        instance.declared_points = float(points) if isinstance(points, (int, float)) else None
        return instance

    @classmethod
    def from_file(cls, path: str | Path) -> "CourseTestFile":
        text = Path(path).read_text(encoding="utf-8")
        return cls.from_string(text, path=str(path))

    # ---------------------------------------------------------------------------------
    # Running
    # ---------------------------------------------------------------------------------

    def run(self, global_environment: dict[str, Any]) -> None:
        """Run every case against ``global_environment``; never raises for a failing case."""
        self.test_case_results = []
        for tc in self.test_cases:
            case: otter_test_case = tc.body
            try:
                with time_limit(self.case_timeout):
                    case.call_func(global_environment)
            except AssertionError as exc:
                message = str(exc).strip() or "o teste falhou (sem mensagem)."
                passed = False
            except TestTimeout as exc:
                message = (
                    f"o teste {exc}: sua função entrou num laço infinito ou está lenta demais?"
                )
                passed = False
            except Exception as exc:
                message = f"erro ao testar a resposta: {type(exc).__name__}: {exc}"
                passed = False
            else:
                message, passed = "", True
            self.test_case_results.append(
                TestCaseResult(test_case=tc, message=message, passed=passed)
            )

    # ---------------------------------------------------------------------------------
    # Reporting
    # ---------------------------------------------------------------------------------

    @property
    def hidden_points(self) -> float:
        """Points of this question that are not in this file (hidden cases left out of it)."""
        if self.declared_points is None:
            return 0.0
        return max(0.0, self.declared_points - self.possible)

    def _case_label(self, index: int, hidden: bool) -> str:
        return f"teste {index + 1}" + (" (oculto)" if hidden else "")

    def case_lines(self, public_only: bool = False) -> list[tuple[bool, str]]:
        """``(passed, text)`` for each case run (hidden ones skipped if ``public_only``)."""
        lines = []
        for i, tcr in enumerate(self.test_case_results):
            tc = tcr.test_case
            if public_only and tc.hidden:
                continue
            label = self._case_label(i, tc.hidden)
            pts = f" [{_points(tc.points)}]" if tc.points else ""
            if tcr.passed:
                text = f"✅ {label}{pts}: passou."
                if tc.success_message:
                    text += f" {tc.success_message}"
            else:
                text = f"❌ {label}{pts}: {tcr.message}"
                if tc.failure_message:
                    text += f"\n   Dica: {tc.failure_message}"
            lines.append((tcr.passed, text))
        return lines

    def summary(self, public_only: bool = False) -> str:
        if not self.test_case_results:
            return f"{self.name}: ainda não executado."
        lines = self.case_lines(public_only)
        passed = sum(ok for ok, _ in lines)
        if len(lines) == 1:
            head = "o teste passou! 🎉" if passed else "o teste falhou."
        elif passed == len(lines):
            head = f"os {len(lines)} testes passaram! 🎉"
        else:
            head = f"{passed} de {len(lines)} testes passaram."
        head = f"{self.name}: {head}"
        if self.possible > 0:
            head += f" Nota: {_fmt_points(self.score)} de {_points(self.possible)}."
        body = "\n".join(text for _, text in lines)
        tail = ""
        if self.hidden_points > 0:
            tail = (
                f"\nNa correção, testes ocultos valem mais {_points(self.hidden_points)} "
                "desta questão: passar nos testes públicos não garante a nota toda."
            )
        return head + "\n" + indent(body, "  ") + tail

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        text = html.escape(self.summary())
        colour = "#1a7f37" if self.passed_all else "#b35900"
        return f"<pre style='white-space: pre-wrap; color: {colour};'>{text}</pre>"
