"""Shared fixtures: the built book (built once per test session) and the repository paths.

``book`` builds the whole book with ``tools/build_book.py`` (every page executed, warnings
are errors) into the repository's ``_build/`` and returns a :class:`BookBuild`. To reuse a
build made before (e.g. ``make book`` then ``make test``), point ``IH_BOOK_HTML`` at its html
folder: ``IH_BOOK_HTML=_build/html pytest``; the build log and the execution times are then
read from the folder above it (``_build/build.log``, ``_build/execution_times.json``).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

import build_book  # noqa: E402  (tools/, put on sys.path above)


@dataclass
class BookBuild:
    html: Path                     # the html folder (index.html inside)
    build_dir: Path                # its parent, e.g. REPO/_build (screenshots/ goes here)
    log: str                       # the whole build log ("" if none was found)
    returncode: int | None         # None when an existing build was reused
    seconds: float | None          # wall-clock build time (None when reused)
    page_times: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reused: bool = False

    def page(self, docname: str) -> Path:
        return self.html / f"{docname}.html"

    @property
    def screenshots(self) -> Path:
        return self.build_dir / "screenshots"


def _report(config, lines: list[str]) -> None:
    """Print lines in pytest's terminal output, past output capturing (e.g. the page times)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    with capture.global_and_fixture_disabled():
        for line in lines:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line)


def _reuse(html: Path) -> BookBuild:
    if not (html / "index.html").is_file():
        raise FileNotFoundError(
            f"IH_BOOK_HTML={html} holds no index.html: build the book first "
            "(python tools/build_book.py) or unset IH_BOOK_HTML"
        )
    build_dir = html.parent
    log_path = build_dir / "build.log"
    log = log_path.read_text(encoding="utf-8") if log_path.is_file() else ""
    times_path = build_dir / "execution_times.json"
    times = json.loads(times_path.read_text(encoding="utf-8")) if times_path.is_file() else {}
    return BookBuild(
        html=html, build_dir=build_dir, log=log, returncode=None,
        seconds=times.get("total_build_seconds"), page_times=times.get("pages", {}),
        problems=build_book.parse_problems(log), reused=True,
    )


@pytest.fixture(scope="session")
def book(request) -> BookBuild:
    env = os.environ.get("IH_BOOK_HTML", "").strip()
    if env:
        result = _reuse(Path(env).resolve())
        lines = [f"[book] reusing the build at {result.html} (IH_BOOK_HTML); recorded times:"]
        lines += [f"[book]   {page:<45} {sec:8.2f} s" for page, sec in result.page_times.items()]
        if result.seconds is not None:
            lines.append(f"[book]   {'whole build':<45} {result.seconds:8.2f} s")
        _report(request.config, lines)
        return result
    build_dir = REPO / "_build"
    build_dir.mkdir(exist_ok=True)
    # One build at a time in this checkout (several engineers may run the suite at once).
    with open(build_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            result = build_book.build(REPO, REPO, echo=False)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _report(request.config, ["", "[book] " + build_book.summary(result).replace("\n", "\n[book] ")])
    return BookBuild(
        html=result.html, build_dir=result.html.parent, log=result.log,
        returncode=result.returncode, seconds=result.seconds, page_times=result.page_times,
        problems=result.problems,
    )
