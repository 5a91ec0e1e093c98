"""Batch grading without Docker: each submission in its own limited process, two at a time.

:func:`grade_batch` grades a list of notebooks against an exercise's autograder and writes the
gradebook (CSV) and the instructor's report next to it (see :mod:`.report`). Each submission:

* is copied alone into a fresh temporary directory, which is the child's working directory
  (so ``open("grades.csv", "w")`` writes there, and no test file is reachable from it);
* runs in ``python -m induction_heads.grading.runner`` with limits on memory (address space),
  CPU time, written file size, a per-cell and a total wall-clock budget, a hard kill of the
  whole process group past the deadline, and a cap on the output kept;
* gets the hidden tests through a pipe, applied only after its cells ran;
* always gets a row: scores, or the reason it could not be graded.

This guards against accidents (infinite loops, crashes, memory hogs, floods of output, stray
writes), not against a student set on cheating: see ``exercises/README.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .exercise import Exercise, find_exercise
from .runner import RESULT_CRASHED, RESULT_INVALID, RESULT_OK

__all__ = ["Limits", "SubmissionResult", "collect_submissions", "grade_batch", "grade_submission"]

STATUS_OK = "avaliado"
STATUS_WARN = "avaliado com avisos"
STATUS_FAILED = "não avaliado"

#: Submissions larger than this are refused without being opened.
MAX_NOTEBOOK_BYTES = 100 * 2**20


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (all > 0)."""

    timeout: float = 300.0
    """wall-clock budget (s) for running all the notebook's cells"""
    cell_timeout: float = 60.0
    """wall-clock limit (s) for one cell, and for one test case"""
    tests_timeout: float = 120.0
    """wall-clock budget (s) for all the tests of the submission"""
    memory_mb: int = 4096
    """address-space limit of the process (MiB); torch alone maps ~1 GiB"""
    max_output_kb: int = 1024
    """output (stdout + stderr) kept per submission (KiB); the rest is counted, not kept"""
    file_size_mb: int = 64
    """largest file the submission may write (MiB)"""
    startup_grace: float = 30.0
    """extra seconds, on top of the budgets, before the process group is killed"""

    def __post_init__(self):
        for name in ("timeout", "cell_timeout", "tests_timeout", "memory_mb", "max_output_kb",
                     "file_size_mb", "startup_grace"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")

    @property
    def hard_deadline(self) -> float:
        return self.timeout + self.tests_timeout + self.startup_grace


@dataclass
class SubmissionResult:
    path: Path
    id: str = ""
    status: str = STATUS_FAILED
    scores: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    possible: float = 0.0
    reasons: list[str] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # question -> summary text
    output: str = ""
    output_bytes: int = 0
    elapsed: float = 0.0

    @property
    def graded(self) -> bool:
        return self.status != STATUS_FAILED

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def collect_submissions(items: Iterable[str | Path]) -> list[Path]:
    """Expand the command line's submissions: files as given, folders to their ``.ipynb``
    files (recursively, skipping checkpoints), in a stable order without duplicates."""
    out: list[Path] = []
    seen = set()
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found = [p]
        for q in found:
            key = os.path.abspath(q)
            if key not in seen:
                seen.add(key)
                out.append(q)
    return out


#: The folder holding the ``induction_heads`` package (for the child's PYTHONPATH).
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


def _child_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "HF_HOME", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    # The child imports the same induction_heads as the grader, installed or not.
    pythonpath = [str(_PACKAGE_PARENT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update({
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(pythonpath)),
        "HOME": str(home),
        "TMPDIR": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    })
    return env


class _CappedReader(threading.Thread):
    """Drain a pipe, keeping at most ``cap`` bytes and counting the rest."""

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.total = 0

    def run(self):
        try:
            while True:
                chunk = self.stream.read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except (OSError, ValueError):
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"sinal {-code}"


def _rmtree(path: Path) -> None:
    def onerror(func, p, exc_info):
        try:
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def _no_result_reason(returncode: int | None, timed_out: bool, limits: Limits) -> str:
    if timed_out:
        return (f"tempo esgotado: o processo não terminou em {limits.hard_deadline:g} s "
                f"e foi encerrado (laço infinito que não pôde ser interrompido?)")
    if returncode is not None and returncode < 0:
        sig = _signal_name(returncode)
        if sig == "SIGXCPU":
            return "excedeu o limite de tempo de CPU e foi encerrado"
        if sig == "SIGKILL":
            return (f"o processo foi encerrado (SIGKILL): memória esgotada? "
                    f"(limite {limits.memory_mb} MB)")
        return f"o processo caiu ({sig})"
    return f"o processo terminou sem entregar resultado (código {returncode})"


def _run_child(exercise: Exercise, submission: Path, limits: Limits,
               test_sources: dict[str, str], procs: set) -> tuple[dict | None, str, int, float, bool, int | None]:
    """Run the runner on one submission; returns (result, output, output_bytes, elapsed,
    timed_out, returncode)."""
    base = Path(tempfile.mkdtemp(prefix="induction-heads-grade-"))
    workdir, home = base / "work", base / "home"  # cwd: the submission alone
    t0 = time.monotonic()
    try:
        workdir.mkdir()
        home.mkdir()
        name = submission.name
        shutil.copyfile(submission, workdir / name)
        job = {
            "notebook": name,
            "tests": test_sources,
            "answers": {q.name: list(q.answers) for q in exercise.auto_questions},
            "cell_timeout": limits.cell_timeout,
            "total_timeout": limits.timeout,
            "tests_timeout": limits.tests_timeout,
            "memory_bytes": int(limits.memory_mb) * 2**20,
            "cpu_seconds": int(limits.hard_deadline) + 5,
            "file_bytes": int(limits.file_size_mb) * 2**20,
        }
        r_fd, w_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "induction_heads.grading.runner", "--result-fd", str(w_fd)],
                cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(w_fd,), env=_child_env(home),
                start_new_session=True,
            )
        finally:
            os.close(w_fd)
        procs.add(proc)
        result_stream = os.fdopen(r_fd, "rb")
        out_reader = _CappedReader(proc.stdout, int(limits.max_output_kb) * 1024)
        res_reader = _CappedReader(result_stream, 64 * 2**20)
        out_reader.start()
        res_reader.start()
        try:
            proc.stdin.write(json.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        timed_out = False
        try:
            proc.wait(timeout=limits.hard_deadline)
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(proc)  # also whatever the notebook left running
        proc.wait()
        procs.discard(proc)
        out_reader.join(timeout=10)
        res_reader.join(timeout=10)
        result_stream.close()
        result = None
        if not timed_out and res_reader.kept:
            try:
                result = json.loads(res_reader.kept.decode("utf-8"))
                if not isinstance(result, dict):
                    result = None
            except (UnicodeDecodeError, json.JSONDecodeError):
                result = None
        output = out_reader.kept.decode("utf-8", errors="replace")
        return (result, output, out_reader.total, time.monotonic() - t0, timed_out,
                proc.returncode)
    finally:
        _rmtree(base)


def _is_memory_error(text: str) -> bool:
    return "MemoryError" in text or "can't allocate memory" in text


def _summarise_events(events: list[dict], limits: Limits) -> list[str]:
    reasons = []
    errors = [e for e in events if e.get("kind") == "error"]
    timeouts = [e for e in events if e.get("kind") == "timeout"]
    skipped = [e for e in events if e.get("kind") == "skipped"]
    for e in timeouts:
        reasons.append(f"célula {e['cell']} ({e['first_line']!s}): {e['error']} e foi interrompida")
    for e in errors[:3]:
        memory = f" (limite de memória: {limits.memory_mb} MB)" if _is_memory_error(e["error"]) else ""
        reasons.append(f"célula {e['cell']} ({e['first_line']!s}) levantou {e['error']}{memory}")
    if len(errors) > 3:
        reasons.append(f"mais {len(errors) - 3} célula(s) com erro")
    if skipped:
        reasons.append(f"{len(skipped)} célula(s) não executada(s): tempo total esgotado")
    return reasons


def grade_submission(exercise: Exercise, submission: str | Path, limits: Limits | None = None,
                     *, _procs: set | None = None) -> SubmissionResult:
    """Grade one notebook against ``exercise``; never raises for a bad submission."""
    limits = limits or Limits()
    path = Path(submission)
    res = SubmissionResult(path=path, id=path.stem)
    res.scores = {q.name: 0.0 for q in exercise.auto_questions}
    res.possible = exercise.auto_points
    if not path.is_file():
        res.reasons = ["arquivo não encontrado"]
        return res
    if path.suffix.lower() != ".ipynb":
        res.reasons = [f"não é um notebook .ipynb ({path.name})"]
        return res
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        res.reasons = [f"arquivo grande demais ({size / 2**20:.0f} MB; limite "
                       f"{MAX_NOTEBOOK_BYTES / 2**20:.0f} MB)"]
        return res
    try:
        result, output, nbytes, elapsed, timed_out, code = _run_child(
            exercise, path, limits, exercise.test_sources(), _procs if _procs is not None else set()
        )
    except OSError as exc:
        res.reasons = [f"não foi possível iniciar a correção ({exc})"]
        return res
    res.output, res.output_bytes, res.elapsed = output, nbytes, elapsed
    if result is None:
        res.reasons = [_no_result_reason(code, timed_out, limits)]
        return res
    if result.get("status") in (RESULT_INVALID, RESULT_CRASHED):
        res.reasons = [str(result.get("reason", "falha desconhecida"))]
        if result.get("traceback"):
            res.output += "\n\n" + str(result["traceback"])
        return res
    if result.get("status") != RESULT_OK:
        res.reasons = ["resultado ilegível do processo de correção"]
        return res

    reasons = _summarise_events(result.get("events", []), limits)
    for q, gone in (result.get("missing") or {}).items():
        if gone.get("missing"):
            shown = ", ".join(f"`{n}`" for n in gone["missing"])
            reasons.append(f"{q}: {shown} não definido(s) (célula apagada ou não executada?)")
        if gone.get("blank"):
            shown = ", ".join(f"`{n}`" for n in gone["blank"])
            verb = "vale" if len(gone["blank"]) == 1 else "valem"
            reasons.append(f"{q}: sem resposta ({shown} ainda {verb} `...`)")
    if nbytes > len(output.encode("utf-8", errors="replace")):
        reasons.append(f"saída muito grande ({nbytes / 2**20:.1f} MB), truncada em "
                       f"{limits.max_output_kb} KB no registro")
    questions = result.get("questions", {})
    for q in exercise.auto_questions:
        qres = questions.get(q.name)
        if not qres:
            res.scores[q.name] = 0.0
            res.feedback[q.name] = f"{q.name}: não testada."
            continue
        score = float(qres.get("score") or 0.0)
        res.scores[q.name] = max(0.0, min(score, q.points))
        res.feedback[q.name] = str(qres.get("summary", ""))
        if qres.get("error"):
            reasons.append(f"{q.name}: erro nos testes ({qres['error']})")
    res.total = sum(res.scores.values())
    res.reasons = reasons
    res.status = STATUS_WARN if reasons else STATUS_OK
    return res


def _unique_ids(results: list[SubmissionResult]) -> None:
    seen: dict[str, int] = {}
    for r in results:
        base = "".join(c if c.isalnum() or c in "-_." else "_" for c in r.path.stem) or "submissao"
        n = seen.get(base, 0)
        seen[base] = n + 1
        r.id = base if n == 0 else f"{base}-{n + 1}"


def grade_batch(exercise: str | Path | Exercise, submissions: Iterable[str | Path],
                output_csv: str | Path, *, workers: int = 2, limits: Limits | None = None,
                progress: bool = True) -> list[SubmissionResult]:
    """Grade ``submissions`` and write the gradebook ``output_csv`` and its report.

    Returns the results in the order given. Writes (atomically) the CSV, and beside it
    ``<stem>_resumo.md``, ``<stem>_histograma.png``, ``<stem>_devolutivas/`` and, when the
    exercise has questions graded by hand, ``<stem>_respostas_manuais.md``.
    """
    from tqdm.auto import tqdm

    from .report import write_report

    if not isinstance(exercise, Exercise):
        exercise = find_exercise(exercise)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    limits = limits or Limits()
    paths = collect_submissions(submissions)
    if not paths:
        raise ValueError("nenhuma submissão (.ipynb) encontrada")
    output_csv = Path(output_csv)
    if output_csv.suffix.lower() != ".csv":
        raise ValueError(f"the gradebook must be a .csv file, got {output_csv}")
    if not output_csv.parent.is_dir():
        raise FileNotFoundError(f"folder of the gradebook does not exist: {output_csv.parent}")
    exercise.test_sources()  # fail now, not once per submission, if a test file is missing

    t0 = time.monotonic()
    results: list[SubmissionResult | None] = [None] * len(paths)
    procs: set = set()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_submission, exercise, p, limits, _procs=procs): i
                       for i, p in enumerate(paths)}
            with tqdm(total=len(paths), desc=f"Corrigindo {exercise.name}", unit="notebook",
                      disable=not progress) as bar:
                for fut in as_completed(futures):
                    i = futures[fut]
                    try:
                        results[i] = fut.result()
                    except Exception as exc:  # a bug of ours: still a row, with the reason
                        r = SubmissionResult(path=paths[i])
                        r.scores = {q.name: 0.0 for q in exercise.auto_questions}
                        r.possible = exercise.auto_points
                        r.reasons = [f"erro interno do corretor: {type(exc).__name__}: {exc}"]
                        results[i] = r
                    bar.update(1)
    except BaseException:
        for proc in list(procs):
            _kill_group(proc)
        raise
    final = [r for r in results if r is not None]
    _unique_ids(final)
    write_report(exercise, final, output_csv, elapsed=time.monotonic() - t0, limits=limits)
    return final
