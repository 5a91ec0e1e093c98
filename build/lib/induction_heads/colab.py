"""The Colab setup cell shared by every runnable page and exercise notebook.

Jupyter Book's "Open in Colab" button opens ``{repository.url}/blob/{branch}/{page}.ipynb``
from GitHub. Such a notebook only runs in Colab if the course package is installed there
first, so every page and every student notebook starts with the same short code cell:

* in Colab (``google.colab`` is imported by Colab's kernel at start-up) it runs
  ``%pip install -q "induction-heads @ git+{repository.url}@{branch}"``. The package
  declares version *ranges* for its dependencies, so pip keeps Colab's own torch;
* anywhere else (a local Jupyter, the book build, the grader) it does nothing.

The repository and branch are read from the book's ``_config.yml`` (``repository.url``,
``repository.branch``), the one place a fork changes. ``tools/pages.py fix-setup`` then
rewrites the setup cell of every page and exercise from it, and ``tools/pages.py check``
(also run by the test suite) fails when a notebook's setup cell does not match.

The setup cell is recognised by its cell tag :data:`SETUP_TAG`. It also carries the tag
``remove-cell`` so the rendered book hides it (the ``.ipynb`` keeps it for Colab).

Only :func:`read_repository` needs PyYAML (a dependency of Jupyter Book); everything else
is plain Python on nbformat notebooks (dict-like cells).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, MutableMapping

#: Distribution name of the course package (``[project].name`` in pyproject.toml).
PACKAGE_NAME = "induction-heads"

#: Cell tag that marks the setup cell.
SETUP_TAG = "colab-setup"

#: Tags the setup cell carries: ours, and Jupyter Book's tag that hides a cell.
SETUP_TAGS = ("remove-cell", SETUP_TAG)

_GITHUB_URL = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")

_TEMPLATE = """\
# Setup: in Colab, install the course package (Colab's torch is kept); elsewhere, do nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q "{spec}"
"""


def read_repository(config_path: str | Path) -> tuple[str, str]:
    """Return ``(url, branch)`` from the ``repository`` section of a Jupyter Book ``_config.yml``.

    Raises ``FileNotFoundError`` if the file is missing and ``ValueError`` if the section is
    missing or invalid (the URL must be ``https://github.com/OWNER/REPO``, since Colab opens
    notebooks from GitHub).
    """
    import yaml  # PyYAML ships with Jupyter Book; only this function needs it.

    path = Path(config_path)
    if not path.is_file():
        raise FileNotFoundError(f"book configuration not found: {path}")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    repository = config.get("repository")
    if not isinstance(repository, dict):
        raise ValueError(f"{path}: missing 'repository' section (url and branch)")
    url = repository.get("url")
    branch = repository.get("branch")
    if not isinstance(url, str) or not isinstance(branch, str):
        raise ValueError(f"{path}: 'repository.url' and 'repository.branch' must both be strings")
    return validate_repository(url.strip(), branch.strip())


def validate_repository(url: str, branch: str) -> tuple[str, str]:
    """Check a GitHub repository URL and branch name; return them without a trailing slash."""
    if not isinstance(url, str) or not isinstance(branch, str):
        raise TypeError("url and branch must be strings")
    url = url.rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if not _GITHUB_URL.match(url):
        raise ValueError(
            f"repository url must look like https://github.com/OWNER/REPO (Colab opens notebooks "
            f"from GitHub), got {url!r}"
        )
    if not branch or not _BRANCH.match(branch) or ".." in branch:
        raise ValueError(f"invalid branch name {branch!r}")
    return url, branch


def package_spec(url: str, branch: str) -> str:
    """The pip requirement that installs the course package from ``url`` at ``branch``."""
    url, branch = validate_repository(url, branch)
    return f"{PACKAGE_NAME} @ git+{url}@{branch}"


def setup_cell_source(
    config_path: str | Path | None = None, *, url: str | None = None, branch: str | None = None
) -> str:
    """Source of the canonical setup cell.

    Give either ``config_path`` (a ``_config.yml``) or both ``url`` and ``branch``.
    """
    if config_path is not None:
        if url is not None or branch is not None:
            raise ValueError("give either config_path or url/branch, not both")
        url, branch = read_repository(config_path)
    elif url is None or branch is None:
        raise ValueError("setup_cell_source needs config_path, or both url and branch")
    return _TEMPLATE.format(spec=package_spec(url, branch)).rstrip("\n")


def new_setup_cell(source: str) -> Any:
    """A fresh nbformat code cell holding ``source``, tagged as the setup cell."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = list(SETUP_TAGS)
    return cell


def _source(cell: MutableMapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def is_setup_cell(cell: MutableMapping[str, Any]) -> bool:
    """True if ``cell`` is a code cell tagged :data:`SETUP_TAG`."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.get("cell_type") == "code" and SETUP_TAG in tags


def first_code_cell_index(nb: MutableMapping[str, Any]) -> int | None:
    """Index of the first code cell of a notebook, or None if it has no code cell."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code":
            return i
    return None


def setup_cell_problems(nb: MutableMapping[str, Any], source: str) -> list[str]:
    """What is wrong with a notebook's setup cell (an empty list when it is right).

    The first code cell must be the setup cell: tagged, with exactly ``source``, and it must
    be the only cell tagged as a setup cell.
    """
    problems: list[str] = []
    first = first_code_cell_index(nb)
    if first is None:
        return ["the notebook has no code cell (the first code cell must be the setup cell)"]
    cell = nb["cells"][first]
    if not is_setup_cell(cell):
        problems.append(f"the first code cell (cell {first}) is not tagged {SETUP_TAG!r}")
    elif _source(cell).rstrip("\n") != source:
        problems.append(
            f"the setup cell (cell {first}) differs from the one _config.yml gives "
            "(run: python tools/pages.py fix-setup)"
        )
    missing = [t for t in SETUP_TAGS if t not in cell.get("metadata", {}).get("tags", [])]
    if is_setup_cell(cell) and missing:
        problems.append(f"the setup cell lacks the tag(s) {missing}")
    extra = [i for i, c in enumerate(nb["cells"]) if i != first and is_setup_cell(c)]
    if extra:
        problems.append(f"more than one setup cell (also cells {extra})")
    return problems


def ensure_setup_cell(nb: MutableMapping[str, Any], source: str) -> bool:
    """Make the first code cell of ``nb`` the setup cell with ``source``; return True if changed.

    An existing setup cell (found by its tag) is rewritten in place and moved before every
    other code cell; otherwise a new one is inserted just before the first code cell (after
    the title and any opening markdown), or appended if the notebook has no code cell.
    Other setup-tagged cells are removed.
    """
    before = copy.deepcopy(list(nb["cells"]))
    tagged = [i for i, c in enumerate(nb["cells"]) if is_setup_cell(c)]
    if tagged:
        cell = nb["cells"][tagged[0]]
        for i in reversed(tagged):
            del nb["cells"][i]
        cell["source"] = source
        cell["outputs"] = []
        cell["execution_count"] = None
        tags = list(cell.setdefault("metadata", {}).get("tags", []))
        cell["metadata"]["tags"] = tags + [t for t in SETUP_TAGS if t not in tags]
    else:
        cell = new_setup_cell(source)
    first = first_code_cell_index(nb)
    nb["cells"].insert(len(nb["cells"]) if first is None else first, cell)
    return list(nb["cells"]) != before
