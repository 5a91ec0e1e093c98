#!/usr/bin/env python
"""Build the book from scratch, executing every page, and fail on any warning.

Usage (from the repository root)::

    python tools/build_book.py                 # -> _build/html, log in _build/build.log
    python tools/build_book.py --out /tmp/x    # -> /tmp/x/_build/html

It runs ``jupyter-book build ROOT --path-output OUT --all -W -n --keep-going``:

* ``--all`` re-reads every page, so with ``execute_notebooks: force`` every notebook is executed
  again on every build (nothing cached can outlive a change in the library);
* ``-W --keep-going`` turns every warning (unresolved reference or citation, missing image,
  unknown output type...) into a failed build while still reporting all of them, and
  ``raise_on_error: true`` in ``_config.yml`` makes any cell error fail the build;
* ``-n`` (nit-picky) also reports references to missing targets.

The full log goes to ``OUT/_build/build.log``; the per-page execution times (parsed from
myst-nb's "Executed notebook in N seconds" lines) are printed and saved in
``OUT/_build/execution_times.json``. Exit status: 0 only when the build succeeded with no
warning and no error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_EXECUTED = re.compile(r"^(?P<path>\S.*?):\s*Executed notebook in (?P<sec>[0-9.]+) seconds")
_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Traceback \(most recent call last\)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Log lines that report no problem of the book, each allowed narrowly, with the reason.
ALLOWED = [
    # ipykernel >= 7 warns on every kernel start that the kernel's local zmq sockets use TCP
    # without CurveZMQ encryption. nbclient (used by myst-nb) starts kernels on 127.0.0.1 with
    # TCP; the message concerns the transport, never the page being executed.
    re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\. "
               r"All communication \(including code and outputs\) is sent in plain text"),
]


@dataclass
class BuildResult:
    returncode: int
    seconds: float
    html: Path
    log_path: Path
    log: str
    page_times: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.problems


def jupyter_book_command() -> str:
    """The ``jupyter-book`` executable of this Python environment (else the one on PATH)."""
    candidate = Path(sys.executable).with_name("jupyter-book")
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book is not installed (pip install 'jupyter-book>=1,<2')")
    return found


def parse_page_times(log: str, root: Path) -> dict[str, float]:
    """Execution seconds per page (path relative to ``root``), from a build log."""
    times: dict[str, float] = {}
    for line in log.splitlines():
        m = _EXECUTED.match(line.strip())
        if m:
            path = Path(m["path"])
            try:
                name = path.resolve().relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                name = path.as_posix()
            times[name] = float(m["sec"])
    return times


def parse_problems(log: str) -> list[str]:
    """Lines of a build log that report a warning, an error or a traceback."""
    return [
        line for line in log.splitlines()
        if _PROBLEM.search(line) and not any(a.search(line.strip()) for a in ALLOWED)
    ]


def build(root: Path = ROOT, out: Path | None = None, *, echo: bool = True) -> BuildResult:
    """Build the book at ``root`` into ``out/_build/html`` (``out`` defaults to ``root``)."""
    root = Path(root).resolve()
    out = Path(out).resolve() if out is not None else root
    build_dir = out / "_build"
    build_dir.mkdir(parents=True, exist_ok=True)
    log_path = build_dir / "build.log"
    cmd = [
        jupyter_book_command(), "build", str(root), "--path-output", str(out),
        "--all", "-W", "-n", "--keep-going",
    ]
    env = dict(os.environ)
    env["NO_COLOR"] = "1"  # plain log lines (Sphinx colours them otherwise)
    env.pop("FORCE_COLOR", None)
    # Pages import the library from this checkout even if it is not pip-installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "lib"), env.get("PYTHONPATH")]))
    if echo:
        print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)
        returncode = proc.wait()
    seconds = time.perf_counter() - start
    log = _ANSI.sub("", "".join(lines))
    tmp = log_path.with_suffix(".log.tmp")
    tmp.write_text(log, encoding="utf-8")
    os.replace(tmp, log_path)
    result = BuildResult(
        returncode=returncode, seconds=seconds, html=build_dir / "html", log_path=log_path,
        log=log, page_times=parse_page_times(log, root), problems=parse_problems(log),
    )
    times = {"total_build_seconds": round(seconds, 2), "pages": result.page_times}
    tmp = build_dir / "execution_times.json.tmp"
    tmp.write_text(json.dumps(times, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, build_dir / "execution_times.json")
    return result


def summary(result: BuildResult) -> str:
    rows = [f"{'page':<45} {'execution (s)':>14}"]
    for page, sec in result.page_times.items():
        rows.append(f"{page:<45} {sec:>14.2f}")
    rows.append(f"{'sum of page executions':<45} {sum(result.page_times.values()):>14.2f}")
    rows.append(f"{'whole build (wall clock)':<45} {result.seconds:>14.2f}")
    if result.problems:
        rows.append(f"{len(result.problems)} warning/error line(s) in {result.log_path}:")
        rows += [f"  {p}" for p in result.problems]
    rows.append(f"build {'OK' if result.ok else 'FAILED'} (exit status {result.returncode}); "
                f"html: {result.html}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (the book source)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder; the html goes to OUT/_build/html (default: ROOT)")
    parser.add_argument("--quiet", action="store_true", help="do not echo jupyter-book's output")
    args = parser.parse_args(argv)
    result = build(args.root, args.out, echo=not args.quiet)
    print(summary(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
