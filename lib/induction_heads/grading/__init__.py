"""Graded exercises: the student's ``grader`` and the instructor's batch grader.

* :func:`notebook` — ``grader = notebook("ex08_bug_ablacao")`` in a student notebook; then
  ``grader.check("q1")`` runs that question's public tests (shipped in the package) and says
  in Portuguese what is wrong.
* :func:`grade_batch` — grade a folder of submitted notebooks against the full (public and
  hidden) tests, each in its own limited process, into a gradebook CSV and a report; the
  command line is ``python -m induction_heads.grade``.
* :mod:`.checks` — the feedback helpers exercise tests are written with.

Authoring (otter assign sources -> student notebooks + autograders) is described in
``exercises/README.md``.
"""

from __future__ import annotations

from .grader import available_exercises, notebook, public_tests_dir

__all__ = ["Limits", "available_exercises", "find_exercise", "grade_batch", "grade_submission",
           "notebook", "public_tests_dir"]


def __getattr__(name: str):
    # The batch grader pulls in more (tqdm, matplotlib); a student notebook never needs it.
    if name in ("Limits", "grade_batch", "grade_submission"):
        from . import batch

        return getattr(batch, name)
    if name == "find_exercise":
        from .exercise import find_exercise

        return find_exercise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
