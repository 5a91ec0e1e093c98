"""An exercise's autograder: its questions, points and full (public + hidden) tests.

``exercises/build.py`` writes, for each exercise, ``exercises/autograder/<name>/`` with

* ``exercise.json``: name, title and the questions in order, each with its points, whether it
  is graded by hand (``manual``) and the names its answer cells define (``answers``);
* ``tests/<question>.py``: every test case, public and hidden (otter's exception format);
* ``<name>.ipynb``: the solution notebook as a student would hand it in (used by the tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Exercise", "Question", "find_exercise", "REPO_AUTOGRADER"]

#: The autograders of a repository checkout (lib/induction_heads/grading -> repo root).
REPO_AUTOGRADER = Path(__file__).resolve().parents[3] / "exercises" / "autograder"


@dataclass(frozen=True)
class Question:
    name: str
    points: float
    manual: bool = False
    answers: tuple[str, ...] = ()
    kind: str = "value"
    """``code`` (the answer defines a function), ``value`` (numbers, choices) or ``manual``"""


@dataclass
class Exercise:
    name: str
    title: str
    root: Path
    questions: list[Question] = field(default_factory=list)

    @property
    def tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def solution_notebook(self) -> Path:
        return self.root / f"{self.name}.ipynb"

    @property
    def auto_questions(self) -> list[Question]:
        return [q for q in self.questions if not q.manual]

    @property
    def manual_questions(self) -> list[Question]:
        return [q for q in self.questions if q.manual]

    @property
    def auto_points(self) -> float:
        return float(sum(q.points for q in self.auto_questions))

    def test_sources(self) -> dict[str, str]:
        """Source of the full test file of each autograded question (FileNotFoundError if one
        is missing)."""
        sources = {}
        for q in self.auto_questions:
            path = self.tests_dir / f"{q.name}.py"
            if not path.is_file():
                raise FileNotFoundError(f"{self.name}: missing test file {path}")
            sources[q.name] = path.read_text(encoding="utf-8")
        return sources

    @classmethod
    def load(cls, root: str | Path) -> "Exercise":
        root = Path(root)
        meta_path = root / "exercise.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"not an exercise autograder (no exercise.json): {root}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        try:
            questions = [
                Question(
                    name=str(q["name"]),
                    points=float(q["points"]),
                    manual=bool(q.get("manual", False)),
                    answers=tuple(q.get("answers", ())),
                    kind=str(q.get("kind", "manual" if q.get("manual") else "value")),
                )
                for q in meta["questions"]
            ]
            return cls(name=str(meta["name"]), title=str(meta.get("title", meta["name"])),
                       root=root, questions=questions)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{meta_path}: malformed exercise metadata ({exc})") from exc


def _candidates() -> list[Path]:
    return [REPO_AUTOGRADER, Path.cwd() / "exercises" / "autograder"]


def find_exercise(name_or_path: str | Path) -> Exercise:
    """Load an exercise by autograder directory path or by name (looked up in the checkout's
    ``exercises/autograder/`` and in ``./exercises/autograder/``)."""
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path):
        raise TypeError(f"exercise must be a name or a path, got {name_or_path!r}")
    path = Path(name_or_path)
    if (path / "exercise.json").is_file():
        return Exercise.load(path)
    for base in _candidates():
        if (base / str(name_or_path) / "exercise.json").is_file():
            return Exercise.load(base / str(name_or_path))
    known = sorted(
        {p.parent.name for base in _candidates() if base.is_dir() for p in base.glob("*/exercise.json")}
    )
    raise ValueError(
        f"exercício desconhecido: {str(name_or_path)!r} (nem pasta de autograder, nem nome em "
        f"exercises/autograder/; conhecidos: {', '.join(known) or 'nenhum'})"
    )
