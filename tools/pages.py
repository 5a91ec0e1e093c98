#!/usr/bin/env python
"""Create, check and clean the book's notebooks (pages and student exercises).

Every runnable page of the book and every student exercise is an ``.ipynb`` kept in the
repository with its outputs stripped (the Colab button opens it from GitHub), and its first
code cell is the canonical setup cell built from ``_config.yml`` (see
``induction_heads.colab``).

Usage (from the repository root)::

    python tools/pages.py check               # every page and exercise: exit 1 on any problem
    python tools/pages.py fix-setup           # rewrite setup cells from _config.yml (after a fork)
    python tools/pages.py strip [PATH ...]    # strip outputs, execution counts, widget state
    python tools/pages.py new book/09_x "Título"   # a new page skeleton (add it to _toc.yml)
    python tools/pages.py setup-cell          # print the canonical setup cell
    python tools/pages.py list                # the notebooks these commands act on

Without PATHs, commands act on every notebook in the book: the ``.ipynb`` files under
``book/``, the notebooks the ``_toc.yml`` lists (globs expanded) and
``exercises/student/*.ipynb``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

try:
    from induction_heads import colab
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "lib"))
    from induction_heads import colab

#: Notebook-level metadata keys that are kept; everything else is dropped by ``strip``.
KEEP_NB_METADATA = ("kernelspec", "language_info", "jupytext", "otter", "colab")
#: Cell metadata keys dropped by ``strip`` (execution timings, collapsed/scrolled UI state).
DROP_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
STUDENT_GLOB = "exercises/student/*.ipynb"


# --------------------------------------------------------------------------------------
# Which notebooks
# --------------------------------------------------------------------------------------


def load_toc(root: Path = ROOT) -> dict:
    path = Path(root) / "_toc.yml"
    if not path.is_file():
        raise FileNotFoundError(f"table of contents not found: {path}")
    toc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(toc, dict) or "root" not in toc:
        raise ValueError(f"{path}: expected a jb-book table of contents with a 'root' entry")
    return toc


def _walk_entries(entries: list, out: list[tuple[str, str]]) -> None:
    for entry in entries or []:
        if "file" in entry:
            out.append(("file", str(entry["file"])))
        elif "glob" in entry:
            out.append(("glob", str(entry["glob"])))
        elif "url" in entry:
            continue
        for key in ("sections", "chapters"):
            _walk_entries(entry.get(key, []), out)
        for part in entry.get("parts", []):
            _walk_entries(part.get("chapters", part.get("sections", [])), out)


def toc_entries(root: Path = ROOT) -> list[tuple[str, str]]:
    """The toc's entries in order, as ``("file" | "glob", docname-or-pattern)`` pairs."""
    toc = load_toc(root)
    out: list[tuple[str, str]] = [("file", str(toc["root"]))]
    for part in toc.get("parts", []):
        _walk_entries(part.get("chapters", []), out)
    _walk_entries(toc.get("chapters", []), out)
    _walk_entries(toc.get("sections", []), out)
    return out


SOURCE_SUFFIXES = (".ipynb", ".md")


def doc_source(root: Path, docname: str) -> Path:
    """The source file of a toc docname (``book/01_introducao`` -> ``book/01_introducao.ipynb``)."""
    root = Path(root)
    if docname.endswith(SOURCE_SUFFIXES):
        path = root / docname
        if path.is_file():
            return path
    found = [root / f"{docname}{s}" for s in SOURCE_SUFFIXES if (root / f"{docname}{s}").is_file()]
    if len(found) != 1:
        what = "no source file" if not found else f"several source files {found}"
        raise FileNotFoundError(f"toc entry {docname!r}: {what} (expected .ipynb or .md)")
    return found[0]


def toc_docnames(root: Path = ROOT) -> list[str]:
    """Docnames of every page in the toc, in reading order, globs expanded (sorted)."""
    root = Path(root)
    names: list[str] = []
    for kind, value in toc_entries(root):
        value = value[: -len(Path(value).suffix)] if value.endswith(SOURCE_SUFFIXES) else value
        if kind == "file":
            names.append(value)
            continue
        matches = sorted(
            p.relative_to(root).with_suffix("").as_posix()
            for suffix in SOURCE_SUFFIXES
            for p in root.glob(value + suffix)
            if p.is_file() and ".ipynb_checkpoints" not in p.parts
        )
        names.extend(m for m in matches if m not in names)
    return names


def book_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook the commands act on (see the module docstring), without duplicates."""
    root = Path(root)
    paths: list[Path] = []
    for docname in toc_docnames(root):
        src = doc_source(root, docname)
        if src.suffix == ".ipynb":
            paths.append(src)
    paths += sorted((root / "book").rglob("*.ipynb"))
    paths += sorted(root.glob(STUDENT_GLOB))
    seen: set[Path] = set()
    unique = []
    for p in paths:
        p = p.resolve()
        if p not in seen and ".ipynb_checkpoints" not in p.parts:
            seen.add(p)
            unique.append(p)
    return unique


# --------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise ValueError(f"{path}: not a readable notebook ({exc})") from exc


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Validate and write ``nb`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    nbformat.validate(nb)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def setup_source(root: Path = ROOT) -> str:
    return colab.setup_cell_source(Path(root) / "_config.yml")


# --------------------------------------------------------------------------------------
# Checks and fixes (pure functions on notebooks; the CLI and the tests call these)
# --------------------------------------------------------------------------------------


def output_problems(nb: nbformat.NotebookNode) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs (run: python tools/pages.py strip)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has an execution count (run: python tools/pages.py strip)")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds widget state (run: python tools/pages.py strip)")
    return problems


def kernel_problems(nb: nbformat.NotebookNode) -> list[str]:
    spec = nb.metadata.get("kernelspec", {})
    if spec.get("name") != "python3" or spec.get("language", "python") != "python":
        return ["metadata.kernelspec must name the 'python3' kernel"]
    return []


def notebook_problems(nb: nbformat.NotebookNode, source: str) -> list[str]:
    """Everything wrong with one notebook: outputs left in, kernel, setup cell."""
    return output_problems(nb) + kernel_problems(nb) + colab.setup_cell_problems(nb, source)


def strip_notebook(nb: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts, widget state and run metadata; True if changed."""
    before = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in DROP_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "markdown":
            cell.pop("attachments", None)
    for key in list(nb.metadata):
        if key not in KEEP_NB_METADATA:
            del nb.metadata[key]
    return nb != before


def md_page_problems(path: Path) -> list[str]:
    """A MyST ``.md`` page must hold no code cells: runnable pages are notebooks (Colab)."""
    text = Path(path).read_text(encoding="utf-8")
    if "{code-cell}" in text or "jupytext" in text.split("\n---", 1)[0]:
        return ["a .md page holds code cells: runnable pages must be .ipynb (Colab opens them)"]
    return []


def toc_problems(root: Path = ROOT) -> list[str]:
    """Toc entries without a source file, and book pages that no toc entry lists."""
    root = Path(root)
    problems = []
    listed: set[Path] = set()
    for docname in toc_docnames(root):
        try:
            listed.add(doc_source(root, docname).resolve())
        except FileNotFoundError as exc:
            problems.append(str(exc))
    for kind, value in toc_entries(root):
        if kind == "glob" and not any(any(root.glob(value + s)) for s in SOURCE_SUFFIXES):
            problems.append(f"toc glob {value!r} matches no page (the build would warn)")
    for path in sorted((root / "book").rglob("*")):
        if path.suffix in SOURCE_SUFFIXES and ".ipynb_checkpoints" not in path.parts:
            if path.resolve() not in listed:
                problems.append(f"{path.relative_to(root)} is not listed in _toc.yml")
    return problems


def check(root: Path = ROOT, paths: list[Path] | None = None) -> dict[str, list[str]]:
    """Problems per file (relative path -> messages); an empty dict means all is well."""
    root = Path(root)
    source = setup_source(root)
    report: dict[str, list[str]] = {}
    if paths is None:
        toc = toc_problems(root)
        if toc:
            report["_toc.yml"] = toc
        paths = book_notebooks(root)
        for md in sorted((root / "book").rglob("*.md")):
            if md_page_problems(md):
                report[_rel(md, root)] = md_page_problems(md)
    for path in paths:
        try:
            problems = notebook_problems(read_notebook(path), source)
        except ValueError as exc:
            problems = [str(exc)]
        if problems:
            report[_rel(path, root)] = problems
    return report


def fix_setup(root: Path = ROOT, paths: list[Path] | None = None) -> list[Path]:
    """Rewrite (or insert) the setup cell of each notebook; returns the files changed."""
    source = setup_source(root)
    changed = []
    for path in book_notebooks(root) if paths is None else paths:
        nb = read_notebook(path)
        if colab.ensure_setup_cell(nb, source):
            write_notebook(nb, path)
            changed.append(Path(path))
    return changed


def strip(root: Path = ROOT, paths: list[Path] | None = None) -> list[Path]:
    changed = []
    for path in book_notebooks(root) if paths is None else paths:
        nb = read_notebook(path)
        if strip_notebook(nb):
            write_notebook(nb, path)
            changed.append(Path(path))
    return changed


def new_page(root: Path, docname: str, title: str, intro: str = "") -> Path:
    """Write a page skeleton: title, setup cell, an optional paragraph. Refuses to overwrite."""
    root = Path(root)
    if not title.strip():
        raise ValueError("a page needs a title")
    path = root / (docname if docname.endswith(".ipynb") else f"{docname}.ipynb")
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title.strip()}"))
    nb.cells.append(colab.new_setup_cell(setup_source(root)))
    if intro.strip():
        nb.cells.append(nbformat.v4.new_markdown_cell(intro.strip()))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebook(nb, path)
    return path


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "fix-setup", "strip"):
        p = sub.add_parser(name)
        p.add_argument("paths", nargs="*", type=Path)
    p = sub.add_parser("new")
    p.add_argument("docname", help="e.g. book/09_novo (no suffix)")
    p.add_argument("title")
    p.add_argument("--intro", default="")
    sub.add_parser("setup-cell")
    sub.add_parser("list")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = [p.resolve() for p in getattr(args, "paths", [])] or None

    if args.command == "check":
        report = check(root, paths)
        for name, problems in report.items():
            for problem in problems:
                print(f"{name}: {problem}")
        n = len(paths) if paths else len(book_notebooks(root))
        print(f"pages check: {n} notebook(s), {len(report)} with problems")
        return 1 if report else 0
    if args.command in ("fix-setup", "strip"):
        fn = fix_setup if args.command == "fix-setup" else strip
        changed = fn(root, paths)
        for path in changed:
            print(f"rewrote {_rel(path, root)}")
        print(f"{args.command}: {len(changed)} file(s) changed")
        return 0
    if args.command == "new":
        path = new_page(root, args.docname, args.title, args.intro)
        print(f"wrote {_rel(path, root)}; add '- file: {args.docname}' to _toc.yml")
        return 0
    if args.command == "setup-cell":
        print(setup_source(root))
        return 0
    if args.command == "list":
        for path in book_notebooks(root):
            print(_rel(path, root))
        return 0
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
