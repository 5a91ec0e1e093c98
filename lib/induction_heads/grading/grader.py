"""The ``grader`` object of a student notebook: ``grader.check("q1")`` in Colab or Jupyter.

Every exercise notebook starts with the course's setup cell, then::

    from induction_heads.grading import notebook
    grader = notebook("ex08_bug_ablacao")

:func:`notebook` returns a :class:`CourseNotebook`, an ``otter.Notebook`` pointed at the
public tests that ship inside the package (``induction_heads/exercises/<name>/tests``), so
``grader.check`` works in Colab right after ``pip install`` with nothing else to fetch.
``check`` reports in Portuguese (see :mod:`induction_heads.grading.testfile`) and writes no
``.OTTER_LOG`` file; under otter's own grading mode it defers to otter unchanged.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

# CourseNotebook (an otter.Notebook subclass) is built on first use, once otter is importable.
__all__ = ["PACKAGED_EXERCISES", "available_exercises", "notebook", "public_tests_dir"]

#: Where the public tests of every exercise ship inside the package.
PACKAGED_EXERCISES = Path(__file__).resolve().parents[1] / "exercises"

#: What Colab installs when otter-grader is missing (the package's ``grading`` extra).
OTTER_REQUIREMENT = "otter-grader>=6"


def available_exercises() -> list[str]:
    """Names of the exercises whose public tests ship with the package."""
    if not PACKAGED_EXERCISES.is_dir():
        return []
    return sorted(p.parent.name for p in PACKAGED_EXERCISES.glob("*/tests") if p.is_dir())


def public_tests_dir(name: str) -> Path:
    """The packaged public tests of exercise ``name``; ValueError naming the known ones."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"exercise name must be a non-empty string, got {name!r}")
    path = PACKAGED_EXERCISES / name / "tests"
    if not path.is_dir():
        known = ", ".join(available_exercises()) or "nenhum"
        raise ValueError(f"exercício desconhecido: {name!r} (exercícios disponíveis: {known})")
    return path


def _import_otter():
    """``import otter``; in Colab, install otter-grader first if it is missing."""
    try:
        return importlib.import_module("otter")
    except ImportError:
        if "google.colab" not in sys.modules:
            raise ImportError(
                "o corretor precisa do otter-grader: instale com "
                "`pip install 'induction-heads[grading]'` (ou `pip install otter-grader`)"
            ) from None
    print("Instalando o otter-grader (só na primeira vez)...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", OTTER_REQUIREMENT], check=True)
    importlib.invalidate_caches()
    return importlib.import_module("otter")


@functools.lru_cache(maxsize=None)
def _notebook_class():
    otter = _import_otter()
    from .testfile import CourseTestFile

    class CourseNotebook(otter.Notebook):
        """``otter.Notebook`` whose checks report in Portuguese and keep no log file."""

        def __init__(self, exercise: str, tests_dir: str | Path):
            self.exercise = exercise
            super().__init__(tests_dir=str(tests_dir))

        def _log_event(self, *args: Any, **kwargs: Any) -> None:
            """No ``.OTTER_LOG``: students hand in the ``.ipynb`` itself."""

        def questions(self) -> list[str]:
            """The questions that have public tests, in order."""
            return sorted(p.stem for p in Path(self._tests_dir).glob("*.py") if p.stem != "__init__")

        def check(self, question: str, global_env: dict[str, Any] | None = None):
            """Run the public tests of ``question`` against the notebook's variables."""
            if global_env is None:
                global_env = inspect.currentframe().f_back.f_globals
            if type(self)._grading_mode:  # otter's own grader (e.g. `otter grade`): its rules
                return otter.Notebook.check(self, question, global_env)
            if not isinstance(question, str):
                raise TypeError(f"question must be a string such as 'q1', got {question!r}")
            path = Path(self._tests_dir) / f"{question}.py"
            if not path.is_file():
                raise ValueError(
                    f"a questão {question!r} não existe neste exercício "
                    f"(questões com testes: {', '.join(self.questions())})"
                )
            test_file = CourseTestFile.from_file(path)
            test_file.run(global_env)
            return test_file

        def check_all(self):
            """Run the public tests of every question; returns the list of results."""
            global_env = inspect.currentframe().f_back.f_globals
            return _CheckAll([self.check(q, global_env) for q in self.questions()])

    return CourseNotebook


class _CheckAll(list):
    def __repr__(self) -> str:
        return "\n\n".join(r.summary() for r in self)

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self)


def notebook(name: str):
    """The ``grader`` of exercise ``name`` (e.g. ``"ex08_bug_ablacao"``), on its public tests."""
    tests = public_tests_dir(name)
    return _notebook_class()(name, tests)


def __getattr__(attr: str):
    if attr == "CourseNotebook":
        return _notebook_class()
    raise AttributeError(attr)
