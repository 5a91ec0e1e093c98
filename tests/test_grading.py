"""The grading infrastructure: feedback helpers, the student's grader, the batch grader.

The batch grader is run (through its command line) on one batch holding every kind of bad
submission the course promises to survive; each must get its row and its reason, and the
good submissions in the same batch must still get their marks.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import time
from pathlib import Path

import nbformat
import pytest

from induction_heads import grade as grade_cli
from induction_heads.grading import checks
from induction_heads.grading.batch import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_WARN,
    Limits,
    collect_submissions,
    grade_batch,
    grade_submission,
)
from induction_heads.grading.exercise import Exercise, find_exercise
from induction_heads.grading.grader import notebook
from induction_heads.grading.notebooks import (
    delete_cell,
    insert_cell_after,
    read_notebook,
    replace_cell,
    write_notebook,
)
from induction_heads.grading.report import atomic_write_text
from induction_heads.grading.testfile import CourseTestFile, TestTimeout, time_limit

EXERCISE = "ex08_bug_ablacao"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exercise() -> Exercise:
    return find_exercise(EXERCISE)


# ----------------------------------------------------------------------------------------
# Feedback helpers
# ----------------------------------------------------------------------------------------


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_expect_close_says_what_is_wrong_with_numbers():
    msg = _message(checks.expect_close, "a pontuação da cabeça 1.2", 0.41, 0.68, 0.01,
                   hint="Você incluiu a atenção ao próprio token?")
    assert msg == ("a pontuação da cabeça 1.2 deu 0.41; o esperado é 0.68 ± 0.01. "
                   "Você incluiu a atenção ao próprio token?")
    checks.expect_close("x", 0.675, 0.68, 0.01)  # within tolerance: no error
    import torch

    checks.expect_close("x", torch.tensor(0.68), 0.68, 1e-6)  # 0-d tensors are numbers
    assert "deveria ser um número" in _message(checks.expect_close, "x", "0.68", 0.68, 0.01)
    assert "o esperado" in _message(checks.expect_close, "x", float("nan"), 0.68, 0.01)
    with pytest.raises(ValueError):
        checks.expect_close("x", 1.0, 1.0, -0.1)


def test_expect_integer_uses_the_hint_of_a_known_mistake():
    checks.expect_integer("n", 12.0, 12)
    msg = _message(checks.expect_integer, "n", 589824, 7077888,
                   hints={589824: "Essa é uma camada só."})
    assert msg == "`n` deu 589824; o esperado é 7077888. Essa é uma camada só."
    assert "inteiro" in _message(checks.expect_integer, "n", 2.5, 3)
    assert "número" in _message(checks.expect_integer, "n", True, 1)


def test_blank_and_missing_answers_get_their_own_messages():
    assert "ainda vale `...`" in _message(checks.require_answer, "answer_q1", ...)
    assert "não encontrei `answer_q1`" in _message(checks.require_answer, "answer_q1", None)
    assert "deveria ser uma função" in _message(checks.require_callable, "f", 3)


def test_multiple_choice_normalises_letters_and_explains_wrong_options():
    checks.expect_choice("r", " (C) ", "c", options="abcd")
    checks.expect_choice("r", "c)", "c", options="abcd")
    msg = _message(checks.expect_choice, "r", "a", "c", options="abcd",
                   explanations={"a": "Isso seria a ablação correta."})
    assert msg == "A alternativa 'a' não está correta. Isso seria a ablação correta."
    assert "uma de 'a', 'b', 'c', 'd'" in _message(checks.expect_option, "r", "e", "abcd")
    assert "letra entre aspas" in _message(checks.expect_option, "r", 3, "abcd")
    with pytest.raises(ValueError):
        checks.expect_choice("r", "a", "z", options="abcd")


def test_call_student_names_the_call_and_the_error():
    def broken(x):
        raise KeyError("coluna")

    msg = _message(checks.call_student, "f(3)", broken, 3)
    assert msg == "f(3) levantou KeyError: 'coluna'"


# ----------------------------------------------------------------------------------------
# Test files and the student's grader
# ----------------------------------------------------------------------------------------

TEST_FILE = '''
from otter.test_files import test_case
OK_FORMAT = False
name = "q9"
points = 3

@test_case(points=1, hidden=False)
def test_public(x):
    from induction_heads.grading.checks import expect_integer
    expect_integer("x", x, 4, hints={5: "Contou um a mais?"})

@test_case(points=2, hidden=True)
def test_hidden(x):
    assert x % 2 == 0, f"x deu {x}, que é ímpar"
'''


def test_course_test_file_scores_and_reports_in_portuguese():
    tf = CourseTestFile.from_string(TEST_FILE, "q9.py")
    tf.run({"x": 4})
    assert (tf.score, tf.possible) == (3, 3)
    assert "os 2 testes passaram" in tf.summary()

    tf.run({"x": 5})
    assert tf.score == 0
    text = tf.summary()
    assert "0 de 2 testes passaram. Nota: 0 de 3 pontos." in text
    assert "❌ teste 1 [1 ponto]: `x` deu 5; o esperado é 4. Contou um a mais?" in text
    assert "❌ teste 2 (oculto) [2 pontos]: x deu 5, que é ímpar" in text

    tf.run({})  # the name is missing from the notebook
    assert "não encontrei `x`" in tf.summary()


def test_public_test_file_announces_the_hidden_points():
    public = TEST_FILE.split("@test_case(points=2")[0]
    tf = CourseTestFile.from_string(public, "q9.py")
    tf.run({"x": 4})
    assert tf.possible == 1 and tf.hidden_points == 2
    assert "testes ocultos valem mais 2 pontos" in tf.summary()


def test_ok_format_is_refused():
    with pytest.raises(ValueError, match="ok_format"):
        CourseTestFile.from_string("OK_FORMAT = True\ntest = {}", "q1.py")


def test_a_test_case_stuck_in_a_loop_fails_with_a_timeout_message():
    source = '''
from otter.test_files import test_case
OK_FORMAT = False
name = "q1"
points = 1
@test_case(points=1)
def test_loop(f):
    f()
'''
    tf = CourseTestFile.from_string(source, "q1.py")
    tf.case_timeout = 0.5
    t0 = time.monotonic()
    tf.run({"f": lambda: [None for _ in iter(int, 1)]})
    assert time.monotonic() - t0 < 5
    assert tf.score == 0
    assert "excedeu o limite de 0.5 s" in tf.test_case_results[0].message


def test_time_limit_interrupts_and_restores_the_previous_handler():
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(TestTimeout):
        with time_limit(0.2):
            while True:
                pass
    assert signal.getsignal(signal.SIGALRM) is before
    with time_limit(None):
        pass


def test_grader_checks_public_tests_in_portuguese(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grader = notebook(EXERCISE)
    import torch

    def ablate_head_(linear, head, n_heads):
        d = linear.in_features // n_heads
        with torch.no_grad():
            linear.weight[:, head * d:(head + 1) * d] = 0

    result = grader.check("q3", {"ablate_head_": ablate_head_})
    assert result.passed_all and "o teste passou" in repr(result)
    assert "testes ocultos valem mais 2 pontos" in repr(result)
    assert "<pre" in result._repr_html_()

    def rows(linear, head, n_heads):
        d = linear.in_features // n_heads
        with torch.no_grad():
            linear.weight[head * d:(head + 1) * d] = 0

    result = grader.check("q3", {"ablate_head_": rows})
    assert not result.passed_all
    assert "Você zerou as linhas 4:8" in repr(result)
    assert "colunas 4:8" in repr(result)

    with pytest.raises(ValueError, match="não existe"):
        grader.check("q9", {})
    assert list(tmp_path.iterdir()) == []  # no .OTTER_LOG or other litter


def test_colab_installs_otter_when_it_is_missing(monkeypatch):
    """In Colab without otter-grader, the grader installs it with pip before importing it."""
    import subprocess
    import sys

    from induction_heads.grading import grader as nb_module

    calls = []
    real_otter = sys.modules["otter"]
    monkeypatch.setitem(sys.modules, "otter", None)  # `import otter` -> ImportError
    monkeypatch.setitem(sys.modules, "google.colab", object())

    def fake_run(cmd, check):
        calls.append(cmd)
        sys.modules["otter"] = real_otter  # what pip install would make importable
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(nb_module.subprocess, "run", fake_run)
    assert nb_module._import_otter() is real_otter
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", "otter-grader>=6"]]

    monkeypatch.setitem(sys.modules, "otter", None)
    monkeypatch.delitem(sys.modules, "google.colab")
    with pytest.raises(ImportError, match="induction-heads\\[grading\\]"):
        nb_module._import_otter()


def test_unknown_exercise_is_named_in_the_error():
    with pytest.raises(ValueError, match=EXERCISE):
        notebook("nao_existe")
    with pytest.raises(ValueError, match="exercício desconhecido"):
        find_exercise("nao_existe")


# ----------------------------------------------------------------------------------------
# The batch grader on bad submissions
# ----------------------------------------------------------------------------------------

# A cell may take several seconds on a loaded machine (the grader cell imports torch): 20 s.
LIMITS_ARGS = ["--timeout", "120", "--cell-timeout", "20", "--tests-timeout", "60",
               "--memory-mb", "3072", "--max-output-kb", "64", "--kill-grace", "30"]


def _student_with_manual_answer(exercise: Exercise, text: str):
    nb = read_notebook(ROOT / "exercises" / "student" / f"{exercise.name}.ipynb")
    for cell in nb.cells:
        if (cell.metadata.get("induction_heads") or {}).get("question") == "q5":
            cell.source = text
    return nb


@pytest.fixture(scope="module")
def batch(tmp_path_factory, exercise):
    """Grade every kind of bad submission in one batch, through the command line."""
    tmp = tmp_path_factory.mktemp("batch")
    subs = tmp / "entregas"
    subs.mkdir()
    out = tmp / "notas"
    out.mkdir()
    gradebook = out / "notas.csv"
    sol = read_notebook(exercise.solution_notebook)

    notebooks = {
        "ok": sol,
        "sintaxe": replace_cell(sol, "ablate_head_",
                                "def ablate_head_(linear, head, n_heads)\n    pass\n"),
        "laco": insert_cell_after(sol, "answer_q1", "while True:\n    pass\n"),
        "apagada": delete_cell(sol, "ablate_head_"),
        "levanta": replace_cell(sol, "answer_q1",
                                'raise RuntimeError("boom")\nanswer_q1 = "c"\n'),
        "verborragico": insert_cell_after(
            sol, "answer_q1", 'for i in range(40000):\n    print("x" * 99)\n'),
        "intruso": insert_cell_after(sol, "head_ablated", f'''
import glob, os, subprocess
open("notas.csv", "w").write("hackeado")
open({str(gradebook)!r}, "w").write("hackeado")
print("ARQUIVOS:", sorted(os.listdir(".")))
print("ACHADOS:", glob.glob("**/q*.py", recursive=True))
try:
    open("grande.bin", "wb").write(b"0" * (65 * 2**20))
except OSError as error:
    print("GRANDE:", error)
child = subprocess.Popen(["sleep", "300"])
print("PID_FILHO:", child.pid)
open("tests/q3.py").read()
'''),
        "memoria": insert_cell_after(sol, "answer_q1", '''
def hog():
    blocks = []
    while True:
        blocks.append(torch.empty(2**28))  # 1 GiB more each time
hog()
'''),
        "segfault": insert_cell_after(sol, "head_ablated",
                                      "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"),
        "manual": _student_with_manual_answer(exercise, "Minha justificativa: colunas, não linhas."),
    }
    paths = []
    for name, nb in notebooks.items():
        paths.append(write_notebook(nb, subs / f"{name}.ipynb"))
    corrupt = subs / "corrompido.ipynb"
    corrupt.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"', encoding="utf-8")
    text = subs / "resposta.txt"
    text.write_text("não é um notebook", encoding="utf-8")
    paths += [corrupt, text]

    t0 = time.monotonic()
    code = grade_cli.main([EXERCISE, *map(str, paths), "-o", str(gradebook), "--quiet",
                           *LIMITS_ARGS])
    elapsed = time.monotonic() - t0
    assert code == 0
    with open(gradebook, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_name = {Path(r["submissao"]).stem: r for r in rows}
    return {"rows": rows, "by_name": by_name, "paths": paths, "gradebook": gradebook,
            "out": out, "elapsed": elapsed}


def _gone(pid: int, wait: float = 5.0) -> bool:
    """True once process ``pid`` is dead (gone, or a zombie nobody has reaped yet)."""
    import psutil

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def _full(exercise, row, questions):
    for q in exercise.auto_questions:
        if q.name in questions:
            assert float(row[q.name]) == q.points, (q.name, row)


def test_every_submission_gets_a_row_in_input_order(batch):
    assert [r["submissao"] for r in batch["rows"]] == [str(p) for p in batch["paths"]]
    assert all(r["status"] in (STATUS_OK, STATUS_WARN, STATUS_FAILED) for r in batch["rows"])
    for r in batch["rows"]:
        if r["status"] != STATUS_OK:
            assert r["motivo"], r


def test_the_good_submission_gets_full_marks(batch, exercise):
    row = batch["by_name"]["ok"]
    assert row["status"] == STATUS_OK and row["motivo"] == ""
    assert float(row["total"]) == exercise.auto_points == float(row["maximo"])
    assert row["q5 (manual)"] == ""


def test_corrupt_notebook_and_non_notebook_are_not_graded(batch):
    row = batch["by_name"]["corrompido"]
    assert row["status"] == STATUS_FAILED and "notebook ilegível" in row["motivo"]
    assert float(row["total"]) == 0
    row = batch["by_name"]["resposta"]
    assert row["status"] == STATUS_FAILED and "não é um notebook" in row["motivo"]


def test_syntax_error_costs_only_its_question(batch, exercise):
    row = batch["by_name"]["sintaxe"]
    assert row["status"] == STATUS_WARN
    assert "SyntaxError" in row["motivo"]
    assert float(row["q3"]) == 0
    _full(exercise, row, {"q1", "q2"})


def test_infinite_loop_is_interrupted_and_the_rest_is_graded(batch, exercise):
    row = batch["by_name"]["laco"]
    assert row["status"] == STATUS_WARN
    assert "excedeu o limite de 20 s" in row["motivo"] and "interrompida" in row["motivo"]
    _full(exercise, row, {"q1", "q2", "q3", "q4"})


def test_deleted_cell_is_reported(batch, exercise):
    row = batch["by_name"]["apagada"]
    assert row["status"] == STATUS_WARN
    assert "q3: `ablate_head_` não definido(s) (célula apagada" in row["motivo"]
    assert float(row["q3"]) == 0
    _full(exercise, row, {"q1", "q2"})


def test_raising_cell_is_reported(batch, exercise):
    row = batch["by_name"]["levanta"]
    assert "levantou RuntimeError: boom" in row["motivo"]
    assert float(row["q1"]) == 0
    _full(exercise, row, {"q2", "q3", "q4"})


def test_megabytes_of_output_are_capped_and_reported(batch, exercise):
    row = batch["by_name"]["verborragico"]
    assert row["status"] == STATUS_WARN
    assert re.search(r"saída muito grande \(3\.\d MB\), truncada em 64 KB", row["motivo"])
    _full(exercise, row, {"q1", "q2", "q3", "q4"})
    log = batch["out"] / "notas_devolutivas" / "verborragico.saida.txt"
    assert log.stat().st_size < 80 * 1024
    assert "[saída truncada" in log.read_text(encoding="utf-8")


def test_writes_and_reads_outside_the_submission_do_not_reach_the_grader(batch, exercise):
    row = batch["by_name"]["intruso"]
    # The gradebook was overwritten by absolute path during the batch, then replaced whole.
    text = batch["gradebook"].read_text(encoding="utf-8")
    assert "hackeado" not in text and text.startswith("submissao,")
    log = (batch["out"] / "notas_devolutivas" / "intruso.saida.txt").read_text(encoding="utf-8")
    assert "ARQUIVOS: ['intruso.ipynb', 'notas.csv']" in log  # its cwd: itself and its write
    assert "GRANDE: [Errno 27] File too large" in log  # files are capped at 64 MB
    assert "ACHADOS: []" in log  # no test file reachable from the working directory
    assert "FileNotFoundError" in row["motivo"]
    _full(exercise, row, {"q1", "q2", "q3", "q4"})
    pid = int(re.search(r"PID_FILHO: (\d+)", log).group(1))
    assert _gone(pid)  # what the notebook started was killed with it


def test_memory_hog_gets_a_memory_error_and_the_rest_is_graded(batch, exercise):
    row = batch["by_name"]["memoria"]
    assert row["status"] == STATUS_WARN
    assert "can't allocate memory" in row["motivo"] and "limite de memória: 3072 MB" in row["motivo"]
    _full(exercise, row, {"q1", "q2", "q3", "q4"})


def test_a_crashing_process_gets_a_row_with_the_signal(batch):
    row = batch["by_name"]["segfault"]
    assert row["status"] == STATUS_FAILED and "SIGSEGV" in row["motivo"]
    assert float(row["total"]) == 0


def test_uninterruptible_loop_is_killed_at_the_deadline(tmp_path, exercise):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import signal, subprocess\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)  # a student who silences the alarm\n"
        "print('PID_FILHO:', subprocess.Popen(['sleep', '300']).pid, flush=True)\n"
        "while True:\n"
        "    pass\n")]
    path = write_notebook(nb, tmp_path / "teimoso.ipynb")
    # The grace covers starting Python and importing torch, even on a loaded machine.
    limits = Limits(timeout=2, cell_timeout=1, tests_timeout=1, startup_grace=15)
    t0 = time.monotonic()
    res = grade_submission(exercise, path, limits)
    assert time.monotonic() - t0 < 40
    assert res.status == STATUS_FAILED
    assert "tempo esgotado" in res.reason and "18 s" in res.reason
    pid = int(re.search(r"PID_FILHO: (\d+)", res.output).group(1))
    assert _gone(pid)


# ----------------------------------------------------------------------------------------
# The gradebook and the report
# ----------------------------------------------------------------------------------------


def test_gradebook_columns_and_totals(batch, exercise):
    with open(batch["gradebook"], encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["submissao", "q1", "q2", "q3", "q4", "q5 (manual)", "total", "maximo",
                      "status", "motivo"]
    for row in batch["rows"]:
        parts = sum(float(row[q.name]) for q in exercise.auto_questions)
        assert float(row["total"]) == pytest.approx(parts)
    leftovers = [p.name for p in batch["out"].iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_summary_has_the_per_question_averages_of_the_gradebook(batch, exercise):
    summary = (batch["out"] / "notas_resumo.md").read_text(encoding="utf-8")
    rows = batch["rows"]
    assert f"Submissões: {len(rows)}" in summary
    for q in exercise.auto_questions:
        mean = sum(float(r[q.name]) for r in rows) / len(rows)
        full = sum(1 for r in rows if float(r[q.name]) == q.points)
        assert f"| {q.name} | {q.points:g} | {mean:.2f} |" in summary
        assert f"| {full} de {len(rows)} |" in summary
    assert "q5 (2 pontos) é corrigida à mão" in summary
    assert "segfault.ipynb" in summary  # the submissions with problems are listed


def test_histogram_png(batch):
    import matplotlib.image

    png = batch["out"] / "notas_histograma.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 200 and img.shape[1] > 500


def test_feedback_files_and_manual_answers(batch):
    folder = batch["out"] / "notas_devolutivas"
    for row in batch["rows"]:
        stem = Path(row["submissao"]).stem
        assert (folder / f"{stem}.txt").is_file() and (folder / f"{stem}.saida.txt").is_file()
    ok = (folder / "ok.txt").read_text(encoding="utf-8")
    assert "Nota automática: 9 de 9" in ok and "q3: os 3 testes passaram" in ok
    wrong = (folder / "manual.txt").read_text(encoding="utf-8")
    assert "teste 2 (oculto)" in wrong  # hidden tests' messages are in the instructor's copy
    manual = (batch["out"] / "notas_respostas_manuais.md").read_text(encoding="utf-8")
    section = manual.split("### manual.ipynb", 1)[1].split("###", 1)[0]
    assert "Minha justificativa: colunas, não linhas." in section


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "notas.csv"
    target.write_text("antigo", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disco cheio")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "novo")
    assert target.read_text(encoding="utf-8") == "antigo"
    assert [p.name for p in tmp_path.iterdir()] == ["notas.csv"]


def test_missing_test_file_fails_before_writing_anything(tmp_path, exercise):
    broken = tmp_path / "ag"
    (broken / "tests").mkdir(parents=True)
    (broken / "exercise.json").write_text(
        json.dumps({"name": "x", "questions": [{"name": "q1", "points": 1}]}), encoding="utf-8")
    nb = write_notebook(nbformat.v4.new_notebook(), tmp_path / "a.ipynb")
    with pytest.raises(FileNotFoundError, match="q1.py"):
        grade_batch(broken, [nb], tmp_path / "notas.csv", progress=False)
    assert not (tmp_path / "notas.csv").exists()


def test_bad_arguments(tmp_path, capsys):
    assert grade_cli.main(["nao_existe", str(tmp_path), "-o", str(tmp_path / "n.csv")]) == 2
    assert "exercício desconhecido" in capsys.readouterr().err
    assert grade_cli.main([EXERCISE, str(tmp_path), "-o", str(tmp_path / "n.csv")]) == 2
    assert "nenhuma submissão" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=0)
    with pytest.raises(ValueError, match="workers"):
        grade_batch(EXERCISE, [tmp_path], tmp_path / "n.csv", workers=0)


def test_collect_submissions_expands_folders_without_checkpoints(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir()
    for p in ["a/x.ipynb", "a/.ipynb_checkpoints/x-checkpoint.ipynb", "b.ipynb"]:
        (tmp_path / p).write_text("{}", encoding="utf-8")
    got = collect_submissions([tmp_path / "a", tmp_path / "b.ipynb", tmp_path / "a" / "x.ipynb"])
    assert got == [tmp_path / "a" / "x.ipynb", tmp_path / "b.ipynb"]
