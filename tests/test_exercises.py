"""Every graded exercise, through the batch grader: full marks for the solution, zero for the
untouched student notebook, and lost points for each realistic wrong answer.

The wrong answers of exercise ``<name>`` live in ``exercises/wrong_answers/<name>.py`` (see
``exercises/README.md``); every question whose answer is code must have at least one.
"""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from induction_heads.grading.batch import STATUS_OK, Limits, grade_batch
from induction_heads.grading.exercise import Exercise
from induction_heads.grading.grader import PACKAGED_EXERCISES
from induction_heads.grading.notebooks import read_notebook, replace_cell, write_notebook
from induction_heads.grading.testfile import CourseTestFile

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "exercises" / "autograder"
STUDENT = ROOT / "exercises" / "student"
WRONG = ROOT / "exercises" / "wrong_answers"
NAMES = sorted(p.parent.name for p in AUTOGRADER.glob("*/exercise.json"))
LIMITS = Limits(timeout=240, cell_timeout=120, tests_timeout=120)


def wrong_answers(name: str) -> list[dict]:
    path = WRONG / f"{name}.py"
    return runpy.run_path(str(path))["WRONG_ANSWERS"] if path.is_file() else []


def test_there_are_exercises():
    assert "ex08_bug_ablacao" in NAMES
    assert sorted(p.stem for p in (ROOT / "exercises" / "source").glob("*.ipynb")) == NAMES


def test_generated_files_are_up_to_date():
    """The committed student notebooks, public and hidden tests match their sources."""
    proc = subprocess.run([sys.executable, str(ROOT / "exercises" / "build.py"), "--check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class _Graded(dict):
    """Grades an exercise the first time a test asks for it (so ``-k ex03`` grades only ex03)."""

    def __init__(self, tmp_path_factory):
        super().__init__()
        self.tmp_path_factory = tmp_path_factory

    def __missing__(self, name):
        """Grade, in one batch: the solution, the blank, every wrong answer."""
        exercise = Exercise.load(AUTOGRADER / name)
        tmp = self.tmp_path_factory.mktemp(name)
        solution = read_notebook(exercise.solution_notebook)
        paths = [tmp / "solucao.ipynb", tmp / "em_branco.ipynb"]
        write_notebook(solution, paths[0])
        write_notebook(read_notebook(STUDENT / f"{name}.ipynb"), paths[1])
        for i, wrong in enumerate(wrong_answers(name)):
            nb = replace_cell(solution, wrong["replaces"], wrong["source"])
            paths.append(write_notebook(nb, tmp / f"errada_{i}.ipynb"))
        results = grade_batch(exercise, paths, tmp / "notas.csv", limits=LIMITS, progress=False)
        self[name] = (exercise, {r.path.stem: r for r in results})
        return self[name]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _Graded(tmp_path_factory)


@pytest.mark.parametrize("name", NAMES)
def test_solution_gets_full_marks(graded, name):
    exercise, results = graded[name]
    r = results["solucao"]
    assert r.status == STATUS_OK, r.reason
    assert r.scores == {q.name: q.points for q in exercise.auto_questions}, r.feedback


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_gets_zero(graded, name):
    exercise, results = graded[name]
    r = results["em_branco"]
    assert r.graded, r.reason
    assert r.total == 0 and all(s == 0 for s in r.scores.values()), r.feedback


CASES = [(name, i, w) for name in NAMES for i, w in enumerate(wrong_answers(name))]


@pytest.mark.parametrize("name,index,wrong", CASES,
                         ids=[f"{n}-{w['question']}-{w['what']}" for n, _, w in CASES])
def test_wrong_answer_loses_points(graded, name, index, wrong):
    exercise, results = graded[name]
    r = results[f"errada_{index}"]
    q = {q.name: q for q in exercise.questions}[wrong["question"]]
    assert r.graded, r.reason
    assert r.scores[q.name] <= wrong.get("max_points", 0) < q.points, r.feedback[q.name]
    if "feedback" in wrong:
        assert wrong["feedback"] in r.feedback[q.name], r.feedback[q.name]


@pytest.mark.parametrize("name", NAMES)
def test_every_code_question_has_a_wrong_answer(name):
    exercise = Exercise.load(AUTOGRADER / name)
    covered = {w["question"] for w in wrong_answers(name)}
    code = {q.name for q in exercise.questions if q.kind == "code"}
    assert code, "an exercise should ask for some code"
    assert code <= covered, f"no wrong answer in exercises/wrong_answers/{name}.py for {code - covered}"


def solution_lines(source_nb) -> set[str]:
    """Lines only the solution has: marked ``# SOLUTION`` or inside BEGIN/END SOLUTION, and
    not also written elsewhere in the notebook (``try:`` is no secret)."""
    secret, public = set(), set()
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == "# BEGIN SOLUTION":
                inside = True
            elif stripped == "# END SOLUTION":
                inside = False
            elif inside and stripped:
                secret.add(stripped)
            elif stripped.endswith("# SOLUTION"):
                secret.add(stripped[: -len("# SOLUTION")].strip())
            else:
                public.add(stripped)
    return secret - public


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_holds_no_solution_and_no_hidden_test(name):
    student = read_notebook(STUDENT / f"{name}.ipynb")
    text = "\n".join(c.source for c in student.cells)
    assert "SOLUTION" not in text and "TEST CONFIG" not in text and "hidden=True" not in text
    secret = solution_lines(read_notebook(ROOT / "exercises" / "source" / f"{name}.ipynb"))
    assert secret, "the source notebook should mark its solution lines"
    leaked = secret & {line.strip() for line in text.splitlines()}
    assert not leaked
    for cell in student.cells:
        assert cell.cell_type != "code" or (not cell.outputs and cell.execution_count is None)
    # The packaged public tests are exactly the public cases of the full tests.
    exercise = Exercise.load(AUTOGRADER / name)
    for q in exercise.auto_questions:
        full = CourseTestFile.from_file(AUTOGRADER / name / "tests" / f"{q.name}.py")
        public_path = PACKAGED_EXERCISES / name / "tests" / f"{q.name}.py"
        public = CourseTestFile.from_file(public_path) if public_path.exists() else None
        assert (len(public.test_cases) if public else 0) == sum(not tc.hidden for tc in full.test_cases)
        assert public is None or not any(tc.hidden for tc in public.test_cases)
        assert public is None or "hidden=True" not in public_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_starts_with_the_setup_and_the_grader(name):
    from induction_heads import colab

    student = read_notebook(STUDENT / f"{name}.ipynb")
    assert colab.setup_cell_problems(student, colab.setup_cell_source(ROOT / "_config.yml")) == []
    code = [c for c in student.cells if c.cell_type == "code"]
    assert f'grader = notebook("{name}")' in code[1].source
    checks = re.findall(r'grader\.check\("(\w+)"\)', "\n".join(c.source for c in code))
    exercise = Exercise.load(AUTOGRADER / name)
    public = {p.stem for p in (PACKAGED_EXERCISES / name / "tests").glob("q*.py")}
    assert set(checks) == public <= {q.name for q in exercise.auto_questions}


# ----------------------------------------------------------------------------------------
# Exercise 8: its answer key against an independent computation
# ----------------------------------------------------------------------------------------


def _seed_function():
    from induction_heads.seed_snippet import SEED_SNIPPET

    namespace: dict = {}
    exec(SEED_SNIPPET, namespace)
    return namespace["ablate_induction_heads"]


def test_ex08_shows_the_seed_snippet_verbatim():
    from induction_heads.seed_snippet import SEED_SNIPPET

    student = read_notebook(STUDENT / "ex08_bug_ablacao.ipynb")
    text = "\n".join(c.source for c in student.cells)
    assert SEED_SNIPPET.strip() in text


def test_ex08_answer_key_matches_what_the_seed_code_does():
    """Run the seed's snippet on the model of questions 1 and 2 and count the zeroed weights."""
    hidden, n_heads, n_layers = 768, 12, 12
    torch.manual_seed(0)
    layers = [SimpleNamespace(self_attn=SimpleNamespace(out_proj=nn.Linear(hidden, hidden)))
              for _ in range(n_layers)]
    model = SimpleNamespace(layers=layers, config=SimpleNamespace(hidden_size=hidden))
    assert all((l.self_attn.out_proj.weight != 0).all() for l in layers)
    with torch.no_grad():
        _seed_function()(model, [0, 3])  # no IndexError: option (d) is false
    zeroed = sum(int((l.self_attn.out_proj.weight == 0).sum()) for l in layers)
    assert all((l.self_attn.out_proj.weight == 0).all() for l in layers)  # option (c)

    # A correct ablation of heads 0 and 3 of layer 5: zero their input columns.
    d_head = hidden // n_heads
    w = torch.randn(hidden, hidden)
    before = w.clone()
    for h in (0, 3):
        w[:, h * d_head:(h + 1) * d_head] = 0
    correct = int((w != before).sum())

    tests = AUTOGRADER / "ex08_bug_ablacao" / "tests"
    q1 = CourseTestFile.from_file(tests / "q1.py")
    q1.run({"answer_q1": "c"})
    q2 = CourseTestFile.from_file(tests / "q2.py")
    q2.run({"n_zeroed_seed": zeroed, "n_zeroed_correct": correct})
    assert (q1.score, q2.score) == (q1.possible, q2.possible), q1.summary() + q2.summary()
    assert (zeroed, correct) == (7077888, 98304)  # 12*768*768 and 2*64*768, by hand
