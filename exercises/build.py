#!/usr/bin/env python
"""Build the graded exercises: instructor notebooks -> student notebooks + autograders.

Usage (from the repository root, in the course's environment)::

    python exercises/build.py                  # every exercises/source/*.ipynb
    python exercises/build.py ex08_bug_ablacao # just these
    python exercises/build.py --check          # exit 1 if a generated file is out of date
    python exercises/build.py --no-verify      # skip grading the solution and the blank

For each ``exercises/source/<name>.ipynb`` (otter-grader's assign format, see
``exercises/README.md``) it runs ``otter assign`` (offline, no Docker) and writes:

* ``exercises/student/<name>.ipynb``: the student notebook (no solutions, no hidden tests, no
  outputs), with the course's Colab setup cell first (from ``_config.yml``); the book lists
  it and its Colab button opens it;
* ``lib/induction_heads/exercises/<name>/tests/``: the public tests, shipped in the package so
  that ``grader.check("q1")`` works in Colab right after the setup cell;
* ``exercises/autograder/<name>/``: ``tests/`` with every case (public and hidden),
  ``<name>.ipynb`` (the solution, as a student would hand it in) and ``exercise.json``
  (questions, points, manual questions, answer names) for ``python -m induction_heads.grade``.

Then it grades the solution (must get every automatic point) and the untouched student
notebook (must get zero) with the batch grader, and fails if either does not.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "exercises" / "source"
STUDENT_DIR = ROOT / "exercises" / "student"
AUTOGRADER_DIR = ROOT / "exercises" / "autograder"
PACKAGE_DIR = ROOT / "lib" / "induction_heads" / "exercises"

try:
    from induction_heads import colab
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "lib"))
    from induction_heads import colab

from induction_heads.grading.notebooks import (  # noqa: E402
    cell_source,
    defined_functions,
    defined_names,
)
from induction_heads.grading.testfile import CourseTestFile  # noqa: E402

ANSWER_TAG = "otter_answer_cell"
KEEP_NB_METADATA = ("kernelspec", "language_info", "otter")
DROP_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


class BuildError(Exception):
    """The instructor notebook breaks a rule of the format (the message says which)."""


# ----------------------------------------------------------------------------------------
# Reading the instructor notebook
# ----------------------------------------------------------------------------------------


def _yaml_after_header(text: str, header: str):
    lines = text.strip().splitlines()
    if not lines or lines[0].strip().upper() != header:
        return None
    return yaml.safe_load("\n".join(lines[1:])) or {}


def _boundary(cell, word: str, end: bool = False) -> bool:
    if cell.cell_type not in ("raw", "markdown"):
        return False
    first = cell_source(cell).strip().splitlines()[:1]
    return bool(first) and first[0].strip().upper() == f"# {'END' if end else 'BEGIN'} {word}"


def read_source(path: Path) -> dict:
    """Parse the instructor notebook: config, title, questions (with answer cells)."""
    nb = nbformat.read(str(path), as_version=4)
    name = path.stem
    config = None
    title = None
    questions: list[dict] = []
    current = None
    block = None  # "solution" | "prompt" | "tests" | None
    grader_cell = False
    for cell in nb.cells:
        text = cell_source(cell)
        if cell.cell_type == "raw" and config is None:
            config = _yaml_after_header(text, "# ASSIGNMENT CONFIG")
            if config is not None:
                continue
        if title is None and cell.cell_type == "markdown" and text.lstrip().startswith("# "):
            title = text.lstrip()[2:].splitlines()[0].strip()
        if cell.cell_type == "code" and f'notebook("{name}")' in text:
            grader_cell = True
        if _boundary(cell, "QUESTION"):
            q = _yaml_after_header(text, "# BEGIN QUESTION") or {}
            if "name" not in q:
                raise BuildError(f"{path.name}: a BEGIN QUESTION cell without a name")
            current = {"name": str(q["name"]), "points": q.get("points"),
                       "manual": bool(q.get("manual", False)), "prompt": [], "solution": []}
            questions.append(current)
            continue
        if _boundary(cell, "QUESTION", end=True):
            current = None
            continue
        for word in ("SOLUTION", "PROMPT", "TESTS"):
            if _boundary(cell, word):
                block = word.lower()
                break
            if _boundary(cell, word, end=True):
                block = None
                break
        else:
            if current is not None and block in ("solution", "prompt"):
                current[block].append(cell)
    if config is None:
        raise BuildError(f"{path.name}: no '# ASSIGNMENT CONFIG' raw cell")
    tests = config.get("tests") or {}
    wanted = {"init_cell": False, "export_cell": False}
    for key, value in wanted.items():
        if config.get(key, True) != value:
            raise BuildError(f"{path.name}: ASSIGNMENT CONFIG must set `{key}: {str(value).lower()}`")
    if tests.get("files") is not True or tests.get("ok_format") is not False:
        raise BuildError(f"{path.name}: ASSIGNMENT CONFIG must set `tests: {{files: true, ok_format: false}}`")
    if not grader_cell:
        raise BuildError(f'{path.name}: no cell with `grader = notebook("{name}")`')
    if not questions:
        raise BuildError(f"{path.name}: no questions")
    for q in questions:
        if not isinstance(q["points"], (int, float)) or q["points"] <= 0:
            raise BuildError(f"{path.name}: question {q['name']} needs `points:` > 0")
    return {"nb": nb, "name": name, "title": title or name, "questions": questions}


# ----------------------------------------------------------------------------------------
# Generated files
# ----------------------------------------------------------------------------------------


def tidy_notebook(nb, name: str) -> None:
    """Deterministic, output-free notebook: fixed cell ids, only the metadata we keep."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:40]}-{i:03d}"
        for key in DROP_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for key in list(nb.metadata):
        if key not in KEEP_NB_METADATA:
            del nb.metadata[key]
    nb.nbformat, nb.nbformat_minor = 4, 5


def mark_answer_cells(nb, questions: list[dict], label: str) -> None:
    """Record in each answer cell which question it answers (``metadata.induction_heads``)."""
    expected = []
    for q in questions:
        cells = q["prompt"] if q["prompt"] else q["solution"]
        expected += [q["name"]] * len(cells)
    answer_cells = [c for c in nb.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    if label == "student" and len(answer_cells) != len(expected):
        raise BuildError(f"found {len(answer_cells)} answer cells in the {label} notebook, "
                         f"expected {len(expected)}")
    for cell, q in zip(answer_cells, expected):
        cell.metadata["induction_heads"] = {"question": q}


def write_notebook(nb, path: Path) -> None:
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def exercise_metadata(src: dict) -> dict:
    questions = []
    for q in src["questions"]:
        code = [cell_source(c) for c in q["solution"] if c.cell_type == "code"]
        answers = [] if q["manual"] else [n for s in code for n in defined_names(s)]
        functions = [n for s in code for n in defined_functions(s)]
        kind = "manual" if q["manual"] else ("code" if functions else "value")
        questions.append({"name": q["name"], "points": q["points"], "manual": q["manual"],
                          "kind": kind, "answers": answers})
    import otter

    return {"name": src["name"], "title": src["title"], "questions": questions,
            "built_with": f"otter-grader {otter.__version__}"}


def check_points(src: dict, tests_dir: Path, public: bool) -> None:
    """Each autograded question's test cases add up to its points; public files hide nothing."""
    for q in src["questions"]:
        path = tests_dir / f"{q['name']}.py"
        if q["manual"]:
            if path.exists():
                raise BuildError(f"manual question {q['name']} has tests")
            continue
        if not path.is_file():
            if public:
                continue  # a question may have only hidden tests
            raise BuildError(f"question {q['name']} has no tests")
        tf = CourseTestFile.from_file(path)
        if public:
            if any(tc.hidden for tc in tf.test_cases):
                raise BuildError(f"public tests of {q['name']} contain a hidden case")
        elif abs(tf.possible - float(q["points"])) > 1e-9:
            raise BuildError(f"test cases of {q['name']} add up to {tf.possible:g} points, "
                             f"the question says {q['points']}")


def generate(source: Path, staging: Path) -> dict:
    """Run otter assign on ``source`` and lay out the generated files under ``staging``
    (mirroring the repository: exercises/student, exercises/autograder, lib/...)."""
    src = read_source(source)
    name = src["name"]
    work = Path(tempfile.mkdtemp(prefix=f"build-{name}-"))
    try:
        shutil.copyfile(source, work / source.name)
        proc = subprocess.run(
            [sys.executable, "-m", "otter", "assign", "--no-pdfs", source.name, "out"],
            cwd=work, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise BuildError(f"otter assign failed on {source.name}:\n{proc.stdout}\n{proc.stderr}")
        out = work / "out"
        setup = colab.setup_cell_source(ROOT / "_config.yml")

        student = nbformat.read(str(out / "student" / source.name), as_version=4)
        colab.ensure_setup_cell(student, setup)
        mark_answer_cells(student, src["questions"], "student")
        tidy_notebook(student, name)
        write_notebook(student, staging / "exercises" / "student" / source.name)

        solution = nbformat.read(str(out / "autograder" / source.name), as_version=4)
        colab.ensure_setup_cell(solution, setup)
        tidy_notebook(solution, name)
        ag = staging / "exercises" / "autograder" / name
        write_notebook(solution, ag / source.name)

        check_points(src, out / "autograder" / "tests", public=False)
        check_points(src, out / "student" / "tests", public=True)
        shutil.copytree(out / "autograder" / "tests", ag / "tests")
        pkg_tests = staging / "lib" / "induction_heads" / "exercises" / name / "tests"
        pkg_tests.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(out / "student" / "tests", pkg_tests)
        meta = exercise_metadata(src)
        (ag / "exercise.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return meta
    finally:
        shutil.rmtree(work, ignore_errors=True)


def generated_paths(name: str) -> list[Path]:
    """The repository paths one exercise's build owns (relative to the root)."""
    return [
        Path("exercises") / "student" / f"{name}.ipynb",
        Path("exercises") / "autograder" / name,
        Path("lib") / "induction_heads" / "exercises" / name / "tests",
    ]


def _differences(a: Path, b: Path) -> list[str]:
    """Files that differ between ``a`` (generated) and ``b`` (in the repository)."""
    if a.is_file() or b.is_file():
        if not (a.is_file() and b.is_file()) or not filecmp.cmp(a, b, shallow=False):
            return [str(b)]
        return []
    if not b.is_dir():
        return [str(b)]
    out = []
    names = {p.name for p in a.iterdir()} | {p.name for p in b.iterdir() if p.name != "__pycache__"}
    for n in sorted(names):
        out += _differences(a / n, b / n)
    return out


def install(staging: Path, name: str) -> None:
    """Move one exercise's generated files into the repository (each path replaced whole)."""
    for rel in generated_paths(name):
        new, dest = staging / rel, ROOT / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if new.is_file():
            os.replace(new, dest)
            continue
        fresh, old = dest.with_name(f".{dest.name}.new"), dest.with_name(f".{dest.name}.old")
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(new, fresh)  # complete before anything is replaced
        if dest.exists():
            os.replace(dest, old)
        os.replace(fresh, dest)
        shutil.rmtree(old, ignore_errors=True)


def verify(name: str) -> str:
    """Grade the solution (full marks) and the blank student notebook (zero)."""
    from induction_heads.grading.batch import Limits, grade_submission
    from induction_heads.grading.exercise import Exercise

    exercise = Exercise.load(AUTOGRADER_DIR / name)
    limits = Limits(timeout=300, cell_timeout=120, memory_mb=4096)
    t0 = time.monotonic()
    sol = grade_submission(exercise, exercise.solution_notebook, limits)
    blank = grade_submission(exercise, STUDENT_DIR / f"{name}.ipynb", limits)
    problems = []
    if sol.reasons or abs(sol.total - exercise.auto_points) > 1e-9:
        problems.append(f"the solution got {sol.total:g}/{exercise.auto_points:g} ({sol.reason})\n"
                        + "\n".join(sol.feedback.values()))
    if blank.total != 0:
        problems.append(f"the untouched student notebook got {blank.total:g} points (must be 0):\n"
                        + "\n".join(blank.feedback.values()))
    if problems:
        raise BuildError(f"{name}: verification failed:\n" + "\n".join(problems))
    return (f"solution {sol.total:g}/{exercise.auto_points:g}, blank {blank.total:g} "
            f"({time.monotonic() - t0:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="exercise names (default: every source)")
    parser.add_argument("--check", action="store_true",
                        help="only compare the generated files with the repository's")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not grade the solution and the blank notebook")
    args = parser.parse_args(argv)
    sources = sorted(SOURCE_DIR.glob("*.ipynb"))
    if args.names:
        by_name = {p.stem: p for p in sources}
        unknown = [n for n in args.names if n not in by_name]
        if unknown:
            print(f"unknown exercise(s): {', '.join(unknown)} (sources: "
                  f"{', '.join(by_name) or 'none'})", file=sys.stderr)
            return 2
        sources = [by_name[n] for n in args.names]
    if not sources:
        print(f"no instructor notebooks in {SOURCE_DIR}", file=sys.stderr)
        return 2
    stale: list[str] = []
    for source in sources:
        name = source.stem
        staging = Path(tempfile.mkdtemp(prefix=f"stage-{name}-"))
        try:
            generate(source, staging)
            if args.check:
                for rel in generated_paths(name):
                    stale += _differences(staging / rel, ROOT / rel)
                continue
            install(staging, name)
            print(f"{name}: built")
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not args.no_verify:
            try:
                print(f"{name}: verified: {verify(name)}")
            except BuildError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
    if args.check:
        for path in stale:
            print(f"out of date: {Path(path).relative_to(ROOT) if Path(path).is_absolute() else path}")
        if stale:
            print("run: python exercises/build.py", file=sys.stderr)
            return 1
        print(f"exercises up to date ({len(sources)} checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
