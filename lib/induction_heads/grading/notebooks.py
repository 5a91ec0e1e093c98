"""Small notebook edits for exercise authors and tests: find, replace, drop or add a cell.

A wrong answer, a deleted cell or a cell that raises is made from the solution notebook with
these functions (each returns a modified deep copy); ``exercises/build.py`` uses
:func:`defined_names` to record which names each answer cell defines.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat

__all__ = [
    "cell_defining",
    "cell_source",
    "defined_functions",
    "defined_names",
    "delete_cell",
    "insert_cell_after",
    "read_notebook",
    "replace_cell",
    "write_notebook",
]


def defined_names(source: str) -> list[str]:
    """Top-level names a code cell defines (assignments, functions, classes), in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []

    def add_target(t):
        if isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                add_target(e)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                add_target(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            add_target(node.target)
    return list(dict.fromkeys(names))


def defined_functions(source: str) -> list[str]:
    """Top-level functions and classes a code cell defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def cell_source(cell) -> str:
    """A cell's source as one string (notebooks may store it as a list of lines)."""
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def read_notebook(path: str | Path):
    return nbformat.read(str(path), as_version=4)


def write_notebook(nb, path: str | Path) -> Path:
    path = Path(path)
    nbformat.write(nb, str(path))
    return path


def cell_defining(nb, name: str) -> int:
    """Index of the only code cell that defines ``name`` (ValueError if none or several)."""
    found = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and name in defined_names(cell_source(c))]
    if len(found) != 1:
        what = "no code cell" if not found else f"{len(found)} code cells"
        raise ValueError(f"{what} define {name!r}")
    return found[0]


def replace_cell(nb, name: str, source: str):
    """Copy of ``nb`` with the code cell defining ``name`` replaced by ``source``."""
    nb = copy.deepcopy(nb)
    nb.cells[cell_defining(nb, name)].source = source
    return nb


def delete_cell(nb, name: str):
    """Copy of ``nb`` without the code cell defining ``name``."""
    nb = copy.deepcopy(nb)
    del nb.cells[cell_defining(nb, name)]
    return nb


def insert_cell_after(nb, name: str, source: str):
    """Copy of ``nb`` with a new code cell ``source`` right after the cell defining ``name``."""
    nb = copy.deepcopy(nb)
    i = cell_defining(nb, name)
    cell = nbformat.v4.new_code_cell(source)
    if nb.get("nbformat_minor", 0) < 5:
        cell.pop("id", None)  # cell ids exist from nbformat 4.5 on
    nb.cells.insert(i + 1, cell)
    return nb
