"""Grade one submission inside a child process (started by :mod:`induction_heads.grading.batch`).

Protocol: the parent starts ``python -m induction_heads.grading.runner --result-fd N`` in a
fresh temporary directory holding only the submitted notebook, writes one JSON job to the
child's stdin and closes it. The child

1. reads the job, then points its stdin at ``/dev/null``;
2. limits itself (``setrlimit``): address space (memory), CPU seconds, size of files it
   writes, no core dumps;
3. reads the notebook and runs its code cells in order in an IPython shell (magics work),
   each cell under a wall-clock limit (``SIGALRM``) and all cells under a total budget; a cell
   that raises or runs out of time is recorded and the next cell runs;
4. only then builds the tests from the job (public and hidden cases) and runs them against
   the notebook's variables, each case under a time limit;
5. writes one JSON result to file descriptor ``N``.

Whatever the notebook prints goes to stdout/stderr, which the parent reads with a size cap.
The student's code runs in this same process: see ``exercises/README.md`` for what this
isolates and what it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

# The job and the result travel as JSON; these are their keys (the parent uses them too).
RESULT_OK = "ok"
RESULT_INVALID = "invalid"  # the notebook could not be read
RESULT_CRASHED = "crashed"  # the runner itself failed

_MAX_MESSAGE = 2000


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def apply_limits(memory_bytes: int | None, cpu_seconds: int | None, file_bytes: int | None) -> None:
    """Set soft = hard limits on this process (inherited by anything it starts)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds:
        # SIGXCPU at the soft limit, SIGKILL at the hard one.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    if file_bytes:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        # Writing past the limit then fails with OSError (EFBIG) instead of killing us.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return _short(line.strip(), 60)
    return ""


def _error_text(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    return _short(f"{name}: {text}" if text else name, 300)


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell

    class GradingShell(InteractiveShell):
        """A terminal-less IPython shell: ``%matplotlib inline`` and GUI requests are no-ops."""

        def enable_gui(self, gui=None):  # noqa: D401 - IPython API
            return None

    shell = GradingShell.instance()
    shell.colors = "nocolor"
    return shell


def run_cells(nb, cell_timeout: float, total_budget: float) -> tuple[Any, list[dict]]:
    """Run every code cell of ``nb``; returns ``(namespace, events)``.

    ``events`` lists what went wrong, each ``{"cell": k, "first_line": ..., "kind": ...,
    "error": ...}`` with ``k`` the 1-based number among code cells and ``kind`` one of
    ``"error"`` (the cell raised or did not parse), ``"timeout"`` (it ran past its limit) or
    ``"skipped"`` (the total budget was spent before it).
    """
    from .notebooks import cell_source
    from .testfile import TestTimeout, time_limit

    shell = _make_shell()
    events: list[dict] = []
    start = time.monotonic()
    code_cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    for k, cell in enumerate(code_cells, start=1):
        source = cell_source(cell)
        info = {"cell": k, "first_line": _first_line(source)}
        remaining = total_budget - (time.monotonic() - start)
        if remaining <= 0:
            events.append({**info, "kind": "skipped", "error": "tempo total esgotado"})
            continue
        limit = min(cell_timeout, remaining)
        print(f"\n----- célula de código {k} -----", flush=True)
        try:
            with time_limit(limit):
                result = shell.run_cell(source, store_history=True)
        except TestTimeout as exc:  # fired outside the user's code (inside IPython)
            events.append({**info, "kind": "timeout", "error": f"a célula {exc}"})
            continue
        error = result.error_before_exec or result.error_in_exec
        # Drop IPython's references to the failed frame (and whatever memory it held).
        for attr in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, attr):
                setattr(sys, attr, None)
        if isinstance(error, TestTimeout):
            events.append({**info, "kind": "timeout", "error": f"a célula {error}"})
        elif error is not None and not isinstance(error, SystemExit):
            events.append({**info, "kind": "error", "error": _error_text(error)})
        sys.stdout.flush()
    return shell.user_ns, events


def run_tests(test_sources: dict[str, str], namespace: dict, case_timeout: float,
              total_budget: float) -> dict[str, dict]:
    """Run each question's test file against ``namespace``; results per question."""
    from .testfile import CourseTestFile, TestTimeout

    results: dict[str, dict] = {}
    start = time.monotonic()
    for question, source in test_sources.items():
        remaining = total_budget - (time.monotonic() - start)
        try:
            test_file = CourseTestFile.from_string(source, path=f"{question}.py")
        except Exception as exc:  # a broken test file is the instructor's bug: say so
            results[question] = {"score": 0.0, "possible": None, "error": _error_text(exc),
                                 "cases": [], "summary": f"{question}: teste inválido ({exc})"}
            continue
        if remaining <= 0:
            cases = [{"passed": False, "hidden": tc.hidden, "points": tc.points,
                      "message": "não testado: tempo total dos testes esgotado"}
                     for tc in test_file.test_cases]
            results[question] = {"score": 0.0, "possible": float(test_file.possible),
                                 "cases": cases,
                                 "summary": f"{question}: não testado (tempo esgotado)."}
            continue
        test_file.case_timeout = max(0.1, min(case_timeout, remaining))
        try:
            test_file.run(namespace)
        except (Exception, TestTimeout) as exc:  # should not happen: run() catches per case
            results[question] = {"score": 0.0, "possible": float(test_file.possible),
                                 "error": _error_text(exc), "cases": [],
                                 "summary": f"{question}: erro ao testar ({_error_text(exc)})"}
            continue
        results[question] = {
            "score": float(test_file.score),
            "possible": float(test_file.possible),
            "cases": [
                {"passed": r.passed, "hidden": r.test_case.hidden,
                 "points": r.test_case.points, "message": _short(r.message or "")}
                for r in test_file.test_case_results
            ],
            "summary": _short(test_file.summary(), 20000),
        }
    return results


def missing_answers(namespace: dict, answers: dict[str, list[str]]) -> dict[str, dict]:
    """Answer names the notebook left as ``...`` (``"blank"``) or did not define at all
    (``"missing"``: the cell was deleted or not run), per question."""
    out: dict[str, dict] = {}
    for question, names in answers.items():
        blank = [n for n in names if namespace.get(n, None) is Ellipsis]
        missing = [n for n in names if n not in namespace]
        if blank or missing:
            out[question] = {"blank": blank, "missing": missing}
    return out


def grade(job: dict) -> dict:
    """Run one submission as described by ``job``; returns the result dict."""
    import nbformat

    t0 = time.monotonic()
    try:
        with open(job["notebook"], "rb") as fh:
            raw = fh.read()
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("o notebook não tem lista de células")
    except Exception as exc:
        return {"status": RESULT_INVALID,
                "reason": f"notebook ilegível ({_error_text(exc)})"}

    namespace, events = run_cells(nb, float(job["cell_timeout"]), float(job["total_timeout"]))
    # The test sources are turned into code only now, after the student's code has run.
    tests = run_tests(job["tests"], namespace, float(job["cell_timeout"]),
                      float(job["tests_timeout"]))
    return {
        "status": RESULT_OK,
        "questions": tests,
        "events": events,
        "missing": missing_answers(namespace, job.get("answers", {})),
        "elapsed": time.monotonic() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="grade one notebook (internal; see batch.py)")
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)

    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    result_file = os.fdopen(args.result_fd, "w", encoding="utf-8")

    try:
        apply_limits(job.get("memory_bytes"), job.get("cpu_seconds"), job.get("file_bytes"))
        result = grade(job)
    except BaseException as exc:  # report, whatever happened
        result = {"status": RESULT_CRASHED,
                  "reason": f"o corretor falhou: {_error_text(exc)}",
                  "traceback": _short(traceback.format_exc(), 5000)}
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    try:
        json.dump(result, result_file, default=str)
        result_file.close()
    except Exception:
        return 3
    return 0


if __name__ == "__main__":
    # Exit without running the student's atexit handlers or waiting for their threads.
    code = main()
    os._exit(code)
