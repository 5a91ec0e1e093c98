"""The book: structure, Colab setup cells, references, and the executed build.

The first group of tests reads the sources only (fast). The second uses the ``book`` fixture
(tests/conftest.py), which builds the whole book once per session with every page executed.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import tomllib
import types
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import REPO

import pages  # tools/pages.py (conftest puts tools/ on sys.path)
from induction_heads import colab

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
SEED_CHAPTERS = [  # the seed document's sections, in its order (COURSE.md)
    "book/01_introducao",
    "book/02_conceitos",
    "book/03_mecanismo",
    "book/04_ablacao",
    "book/05_implicacoes",
    "book/06_perspectivas",
    "book/07_conclusao",
    "book/08_questoes_avancadas",
]
REPO_URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]


def _notebook(cells, kernel=True):
    nb = nbformat.v4.new_notebook()
    if kernel:
        nb.metadata["kernelspec"] = dict(pages.KERNELSPEC)
    nb.cells = cells
    return nb


# ======================================================================================
# Structure
# ======================================================================================


def test_toc_has_front_page_seed_chapters_exercises_and_references_in_order():
    docnames = pages.toc_docnames(REPO)
    assert docnames[0] == "book/index"
    chapters = [d for d in docnames if re.match(r"book/\d\d_", d)]
    assert chapters == SEED_CHAPTERS
    assert docnames.index("book/exercicios") > docnames.index(SEED_CHAPTERS[-1])
    assert docnames[-1] == "book/referencias"
    students = sorted(p.with_suffix("").relative_to(REPO).as_posix()
                      for p in (REPO / "exercises" / "student").glob("*.ipynb"))
    exercise_part = docnames[docnames.index("book/exercicios") + 1:-1]
    assert exercise_part == students, "every exercises/student notebook is in the exercises part"


def test_toc_entries_exist_and_every_book_page_is_listed():
    assert pages.toc_problems(REPO) == []


def test_chapters_are_notebooks_so_colab_can_open_them():
    for docname in SEED_CHAPTERS:
        assert pages.doc_source(REPO, docname).suffix == ".ipynb", docname


def test_every_page_and_exercise_passes_the_pages_check():
    report = pages.check(REPO)
    assert report == {}, "\n".join(f"{k}: {v}" for k, v in report.items())


def test_config_builds_in_portuguese_with_forced_execution_that_fails_on_errors():
    assert CONFIG["sphinx"]["config"]["language"] == "pt_BR"
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "force"
    assert execute["raise_on_error"] is True and execute["allow_errors"] is False
    assert CONFIG["only_build_toc_files"] is True
    for folder in (".venv", "lib", "tests", "tools", "exercises/source", "exercises/autograder",
                   "README.md"):
        assert folder in CONFIG["exclude_patterns"], folder
    assert not CONFIG["sphinx"]["config"]["suppress_warnings"]
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert BRANCH == "main"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)


# ======================================================================================
# The Colab setup cell
# ======================================================================================


def test_setup_cell_text_is_built_from_config():
    expected = (
        "# Setup: in Colab, install the course package (Colab's torch is kept); elsewhere, do nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "induction-heads @ git+{REPO_URL}@{BRANCH}"'
    )
    assert colab.setup_cell_source(REPO / "_config.yml") == expected


def _run_setup_cell(source: str, in_colab: bool) -> list[tuple[str, str]]:
    """Run the cell as IPython would, with a fake IPython recording magics."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls: list[tuple[str, str]] = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    code = TransformerManager().transform_cell(source)
    saved = sys.modules.get("google.colab")
    try:
        if in_colab:
            sys.modules["google.colab"] = types.ModuleType("google.colab")
        else:
            sys.modules.pop("google.colab", None)
        exec(compile(code, "<setup cell>", "exec"), {"get_ipython": lambda: shell})
    finally:
        if saved is not None:
            sys.modules["google.colab"] = saved
        else:
            sys.modules.pop("google.colab", None)
    return calls


def test_setup_cell_does_nothing_outside_colab():
    assert _run_setup_cell(colab.setup_cell_source(REPO / "_config.yml"), in_colab=False) == []


def test_setup_cell_in_colab_pip_installs_the_package_from_the_configured_repository():
    from packaging.requirements import Requirement

    calls = _run_setup_cell(colab.setup_cell_source(REPO / "_config.yml"), in_colab=True)
    assert len(calls) == 1
    magic, line = calls[0]
    assert magic == "pip"
    args = line.split(" ", 2)
    assert args[:2] == ["install", "-q"]  # no --upgrade / --force-reinstall: Colab's torch stays
    requirement = Requirement(args[2].strip('"'))
    assert requirement.name == "induction-heads"
    assert requirement.url == f"git+{REPO_URL}@{BRANCH}"


def test_package_name_matches_pyproject_and_torch_is_a_range():
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == colab.PACKAGE_NAME
    torch = [Requirement(d) for d in project["dependencies"] if Requirement(d).name == "torch"]
    assert len(torch) == 1
    assert not any(s.operator in ("==", "===") for s in torch[0].specifier), (
        "pinning torch in pyproject would make Colab reinstall it")


def _copy_book_sources(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    for path in (REPO / "book").iterdir():
        if path.suffix in (".ipynb", ".md", ".bib"):
            shutil.copy(path, root / "book" / path.name)
    students = sorted((REPO / "exercises" / "student").glob("*.ipynb"))
    (root / "exercises" / "student").mkdir(parents=True)
    for path in students:
        shutil.copy(path, root / "exercises" / "student" / path.name)
    if not students:  # the toc's exercise glob needs one notebook to match
        nb = _notebook([nbformat.v4.new_markdown_cell("# Exercício"),
                        nbformat.v4.new_code_cell("x = ...")])
        colab.ensure_setup_cell(nb, pages.setup_source(REPO))
        nbformat.write(nb, str(root / "exercises" / "student" / "exemplo.ipynb"))
    return root


def test_a_fork_changes_the_url_once_and_fix_setup_rewrites_every_setup_cell(tmp_path):
    root = _copy_book_sources(tmp_path)
    assert pages.check(root) == {}
    fork = "https://github.com/outra-universidade/cabecas-fork"
    config = (root / "_config.yml").read_text(encoding="utf-8")
    assert config.count(REPO_URL) == 1, "the repository URL must live in one place"
    (root / "_config.yml").write_text(config.replace(REPO_URL, fork), encoding="utf-8")

    report = pages.check(root)
    notebooks = pages.book_notebooks(root)
    assert len(notebooks) >= len(SEED_CHAPTERS) + 1
    assert sorted(report) == sorted(pages._rel(p, root) for p in notebooks)
    assert all("differs from the one _config.yml gives" in " ".join(v) for v in report.values())

    changed = pages.fix_setup(root)
    assert sorted(changed) == sorted(notebooks)
    assert pages.check(root) == {}
    assert pages.fix_setup(root) == []  # idempotent
    for path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert f'"induction-heads @ git+{fork}@main"' in first.source
        assert REPO_URL not in json.dumps(nb)


def test_fix_setup_inserts_the_cell_before_the_first_code_cell_and_keeps_the_rest(tmp_path):
    source = pages.setup_source(REPO)
    nb = _notebook([
        nbformat.v4.new_markdown_cell("# Título"),
        nbformat.v4.new_markdown_cell("Texto."),
        nbformat.v4.new_code_cell("import torch"),
    ])
    original = copy.deepcopy(nb)
    assert colab.ensure_setup_cell(nb, source)
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code", "code"]
    assert nb.cells[2].source == source
    assert nb.cells[2].metadata["tags"] == ["remove-cell", "colab-setup"]
    assert nb.cells[3].source == "import torch"
    assert [c.source for i, c in enumerate(nb.cells) if i != 2] == [c.source for c in original.cells]
    assert colab.setup_cell_problems(nb, source) == []
    assert not colab.ensure_setup_cell(nb, source)

    # A stale setup cell placed after other code is rewritten and moved first; a duplicate goes.
    stale = colab.new_setup_cell("# old\n%pip install something-else")
    nb2 = _notebook([nbformat.v4.new_code_cell("x = 1"), stale, copy.deepcopy(stale)])
    assert colab.ensure_setup_cell(nb2, source)
    assert [c.source for c in nb2.cells] == [source, "x = 1"]


def test_check_reports_outputs_kernel_and_setup_cell_problems(tmp_path):
    source = pages.setup_source(REPO)
    good = _notebook([nbformat.v4.new_markdown_cell("# T"), colab.new_setup_cell(source),
                      nbformat.v4.new_code_cell("1 + 1")])
    assert pages.notebook_problems(good, source) == []

    with_output = copy.deepcopy(good)
    with_output.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    with_output.cells[2].execution_count = 3
    problems = pages.notebook_problems(with_output, source)
    assert any("has outputs" in p for p in problems)
    assert any("execution count" in p for p in problems)

    no_setup = _notebook([nbformat.v4.new_code_cell("1 + 1")])
    assert any("not tagged 'colab-setup'" in p for p in pages.notebook_problems(no_setup, source))

    no_code = _notebook([nbformat.v4.new_markdown_cell("# T")])
    assert any("no code cell" in p for p in pages.notebook_problems(no_code, source))

    wrong_url = copy.deepcopy(good)
    wrong_url.cells[1].source = source.replace("cursos-ia-br", "alguem")
    assert any("differs" in p for p in pages.notebook_problems(wrong_url, source))

    no_kernel = copy.deepcopy(good)
    del no_kernel.metadata["kernelspec"]
    assert any("kernelspec" in p for p in pages.notebook_problems(no_kernel, source))

    # And the CLI exits 1 on a bad file, 0 on a good one.
    bad_path, good_path = tmp_path / "bad.ipynb", tmp_path / "good.ipynb"
    nbformat.write(with_output, str(bad_path))
    nbformat.write(good, str(good_path))
    assert pages.main(["--root", str(REPO), "check", str(bad_path)]) == 1
    assert pages.main(["--root", str(REPO), "check", str(good_path)]) == 0


def test_strip_removes_outputs_counts_and_widget_state_but_keeps_sources(tmp_path):
    source = pages.setup_source(REPO)
    nb = _notebook([nbformat.v4.new_markdown_cell("# T"), colab.new_setup_cell(source),
                    nbformat.v4.new_code_cell("print(1)")])
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[2].execution_count = 1
    nb.cells[2].metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, str(path))
    assert pages.strip(REPO, [path]) == [path]
    stripped = nbformat.read(str(path), as_version=4)
    assert pages.notebook_problems(stripped, source) == []
    assert [c.source for c in stripped.cells] == [c.source for c in nb.cells]
    assert "execution" not in stripped.cells[2].metadata
    assert stripped.metadata["kernelspec"]["name"] == "python3"
    assert pages.strip(REPO, [path]) == []


def test_new_page_writes_a_checked_skeleton_and_refuses_to_overwrite(tmp_path):
    root = _copy_book_sources(tmp_path)
    path = pages.new_page(root, "book/09_extra", "Extra", "Um parágrafo.")
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].source == "# Extra"
    assert pages.notebook_problems(nb, pages.setup_source(root)) == []
    assert "book/09_extra.ipynb is not listed in _toc.yml" in pages.toc_problems(root)
    with pytest.raises(FileExistsError):
        pages.new_page(root, "book/09_extra", "Extra")
    with pytest.raises(ValueError):
        pages.new_page(root, "book/10_x", "   ")


@pytest.mark.parametrize("url, branch", [
    ("https://gitlab.com/a/b", "main"),
    ("http://github.com/a/b", "main"),
    ("https://github.com/a", "main"),
    ("https://github.com/a/b", ""),
    ("https://github.com/a/b", "a..b"),
])
def test_invalid_repository_settings_are_rejected(url, branch):
    with pytest.raises(ValueError):
        colab.setup_cell_source(url=url, branch=branch)


def test_config_without_repository_section_is_rejected(tmp_path):
    path = tmp_path / "_config.yml"
    path.write_text("title: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repository"):
        colab.read_repository(path)
    with pytest.raises(FileNotFoundError):
        colab.read_repository(tmp_path / "missing.yml")


# ======================================================================================
# References
# ======================================================================================


def _bib():
    from pybtex.database import parse_file

    return parse_file(str(REPO / "book" / "references.bib")).entries


def test_references_hold_the_primary_sources_with_the_right_years():
    entries = _bib()
    expect = {  # key -> (year, first author's last name, words that must be in the title)
        "elhage2021": ("2021", "Elhage", "Mathematical Framework for Transformer Circuits"),
        "olsson2022": ("2022", "Olsson", "In-context Learning and Induction Heads"),
        "crosbie2025": ("2025", "Crosbie", "Induction Heads as an Essential Mechanism"),
        "jurafsky2024slp3ch12": ("2024", "Jurafsky", "In-Context Learning"),
        "vaswani2017": ("2017", "Vaswani", "Attention Is All You Need"),
    }
    for key, (year, author, title) in expect.items():
        entry = entries[key]
        assert entry.fields["year"] == year, key
        assert entry.persons["author"][0].last_names == [author], key
        assert title in entry.fields["title"], key
    crosbie = entries["crosbie2025"]
    assert "NAACL 2025" in crosbie.fields["booktitle"]
    assert "2407.07011" in crosbie.fields["note"]
    assert [str(p) for p in crosbie.persons["author"]] == ["Crosbie, Joy", "Shutova, Ekaterina"]
    assert entries["jurafsky2024slp3ch12"].fields["chapter"] == "12"
    assert "Speech and Language Processing" in entries["jurafsky2024slp3ch12"].fields["booktitle"]


_CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def test_every_citation_in_the_pages_is_in_the_bibliography():
    keys = set(_bib())
    cited: dict[str, set[str]] = {}
    for path in sorted((REPO / "book").glob("*")) + sorted((REPO / "exercises" / "student").glob("*.ipynb")):
        if path.suffix == ".ipynb":
            nb = nbformat.read(str(path), as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
        else:
            continue
        for group in _CITE.findall(text):
            for key in group.split(","):
                cited.setdefault(key.strip(), set()).add(path.name)
    missing = {k: v for k, v in cited.items() if k not in keys}
    assert not missing, f"cited but not in references.bib: {missing}"
    assert {"elhage2021", "olsson2022", "crosbie2025", "jurafsky2024slp3ch12"} <= set(cited)


# ======================================================================================
# The built book (one build per session; see conftest.py)
# ======================================================================================


class _Collect(HTMLParser):
    """Collects ids, links and a few classes of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("class"):
            self.classes.append(a["class"])


def _parse(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_build_succeeds_with_no_warning_and_no_error(book):
    if book.reused:
        assert book.log, f"no build.log next to {book.html}: build with tools/build_book.py"
    else:
        assert book.returncode == 0, "\n".join(book.problems) or book.log[-3000:]
    assert book.problems == [], "\n".join(book.problems)
    assert "build succeeded" in book.log


def test_build_executed_every_page(book):
    # Build time is reported (tools/build_book.py prints per-page times; the fixture echoes them),
    # not asserted: timing depends on the machine's load, and performance belongs to benchmarks.
    executed = {p for p in pages.toc_docnames(REPO)
                if pages.doc_source(REPO, p).suffix == ".ipynb"
                and not p.startswith("exercises/student/")}
    assert {p.removesuffix(".ipynb") for p in book.page_times} == executed
    assert all(seconds > 0 for seconds in book.page_times.values())


def test_every_toc_page_is_rendered(book):
    for docname in pages.toc_docnames(REPO):
        assert book.page(docname).is_file(), docname
    assert (book.html / "index.html").is_file()


def test_executed_notebooks_hold_no_error_output(book):
    executed = sorted((book.build_dir / "jupyter_execute").rglob("*.ipynb"))
    assert executed, "the build wrote no executed notebook"
    for path in executed:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error", f"{path.name}: {out.get('ename')}"
                if out.output_type == "stream" and out.name == "stderr":
                    assert "Traceback" not in out.text, f"{path.name}: {out.text[:500]}"


def test_setup_cell_is_hidden_and_colab_button_opens_the_page_notebook(book):
    for docname in pages.toc_docnames(REPO):
        source = pages.doc_source(REPO, docname)
        html = book.page(docname).read_text(encoding="utf-8")
        assert "google.colab" not in html, f"{docname}: the setup cell shows in the page"
        colab_links = sorted(set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)))
        if source.suffix == ".ipynb":
            rel = source.relative_to(REPO).as_posix()
            owner_repo = REPO_URL.removeprefix("https://github.com/")
            assert colab_links == [
                f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/{rel}"
            ], docname
        else:
            assert colab_links == [], f"{docname}: a page without code offers Colab"


# The theme's interface strings that its catalogs leave in English under pt_BR, and what the
# reader sees instead (tools/sphinx_local.py, _templates/).
ENGLISH_INTERFACE = {
    "Launch on Colab": "Abrir no Colab",
    "Launch interactive content": "Abrir conteúdo interativo",
    "Back to top": "Voltar ao topo",
    "Skip to main content": "Pular para o conteúdo principal",
    "Color mode": "Modo de cor",
    "System Settings": "Como no sistema",
    "Toggle primary sidebar": "Mostrar ou ocultar o sumário",
    "Toggle secondary sidebar": "Mostrar ou ocultar o conteúdo da página",
    "next page": "próxima página",
    "previous page": "página anterior",
}


def test_the_interface_around_a_chapter_is_in_portuguese(book):
    html = book.page("book/01_introducao").read_text(encoding="utf-8")
    outside = html[:html.index("<article")] + html[html.index("</article>"):]
    for english, portuguese in ENGLISH_INTERFACE.items():
        assert english not in outside, f"the interface still says {english!r}"
        assert portuguese in outside, f"the interface does not say {portuguese!r}"
    for mode in ('title="Claro"', 'title="Escuro"'):
        assert mode in outside


def test_hidden_code_toggles_are_labelled_in_portuguese(book):
    html = book.page("book/03_mecanismo").read_text(encoding="utf-8")
    assert "Mostrar o código da célula" in html
    for english in ("(source)", "(outputs)", "Show code cell", "Hide code cell"):
        assert english not in html, english


def test_numbers_in_the_prose_use_a_decimal_comma_and_head_names_keep_their_point(book):
    # Chapter 1 pastes ln(vocabulary) with {glue:text}`c01_ln_words:.2f`; the vocabulary size is
    # pasted next to it. Independently: the shipped tokenizer's ordinary words.
    import math

    from induction_heads import load_model, ordinary_token_ids

    _, tokenizer = load_model("toy-2l")
    n = len(ordinary_token_ids(tokenizer))
    text = re.sub(r"<[^>]+>", "", book.page("book/01_introducao").read_text(encoding="utf-8"))
    assert f"ln {n} ≈ {math.log(n):.2f}".replace(".", ",") in " ".join(text.split())
    # head names pasted without a format keep the L.H form (chapter 5: the induction heads)
    text5 = re.sub(r"<[^>]+>", "", book.page("book/05_implicacoes").read_text(encoding="utf-8"))
    assert "1.1, 1.2 e 1.3" in text5


def test_section_titles_do_not_repeat_the_automatic_numbers(book):
    # Sections are numbered by the book ("3.4."); a title of its own "1." would read "3.4. 1. ...".
    for docname in pages.toc_docnames(REPO):
        html = book.page(docname).read_text(encoding="utf-8")
        for title in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", html, flags=re.S):
            text = re.sub(r"<[^>]+>", "", title)
            assert not re.match(r"\s*[0-9.]+\s+[0-9]+\.\s", text), f"{docname}: {text.strip()!r}"


def test_student_exercises_are_rendered_without_being_executed(book):
    for path in sorted((REPO / "exercises" / "student").glob("*.ipynb")):
        docname = path.with_suffix("").relative_to(REPO).as_posix()
        html = book.page(docname).read_text(encoding="utf-8")
        assert 'class="cell_output' not in html, f"{docname} was executed by the build"
    linked = set()
    index = book.page("book/exercicios")
    for href in _parse(index).links:
        linked.add((index.parent / href.split("#")[0]).resolve())
    for path in sorted((REPO / "exercises" / "student").glob("*.ipynb")):
        docname = path.with_suffix("").relative_to(REPO).as_posix()
        assert book.page(docname).resolve() in linked, f"the exercises page does not link {docname}"


def test_citations_resolve_to_bibliography_entries(book):
    refs = book.page("book/referencias")
    ref_ids = _parse(refs).ids
    n_citations = 0
    for docname in pages.toc_docnames(REPO):
        html = book.page(docname).read_text(encoding="utf-8")
        for cite in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', html, re.S):
            n_citations += 1
            hrefs = re.findall(r'href="([^"]+)"', cite)
            assert hrefs, f"{docname}: unresolved citation {cite!r}"
            for href in hrefs:
                target, _, frag = href.partition("#")
                target_path = (book.page(docname).parent / target) if target else book.page(docname)
                assert target_path.resolve() == refs.resolve(), href
                assert frag in ref_ids, f"{docname}: citation points to a missing entry {href}"
    assert n_citations >= 4
    text = re.sub(r"<[^>]+>", " ", refs.read_text(encoding="utf-8"))
    for needle in ("Elhage", "Olsson", "Crosbie", "Shutova", "Jurafsky", "2407.07011"):
        assert needle in text, needle
    assert "could not find bibtex key" not in book.log


def test_an_unresolved_reference_or_citation_fails_the_build(tmp_path):
    """The same configuration on a two-page book with a broken link and an unknown key."""
    import build_book

    root = tmp_path / "mini"
    (root / "book").mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "book" / "references.bib", root / "book" / "references.bib")
    shutil.copytree(REPO / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/referencias\n", encoding="utf-8")
    (root / "book" / "index.md").write_text(
        "# Início\n\nVer {ref}`secao-que-nao-existe` e {cite:p}`chave2099`; "
        "também {cite:p}`olsson2022`.\n", encoding="utf-8")
    (root / "book" / "referencias.md").write_text(
        "# Referências\n\n```{bibliography}\n```\n", encoding="utf-8")
    result = build_book.build(root, tmp_path / "out", echo=False)
    assert result.returncode != 0 and not result.ok
    problems = "\n".join(result.problems)
    assert "secao-que-nao-existe" in problems
    assert 'could not find bibtex key "chave2099"' in problems
    assert "olsson2022" not in problems


def test_a_cell_error_fails_the_build_and_names_the_page(tmp_path):
    import build_book

    root = tmp_path / "mini"
    (root / "book").mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "book" / "references.bib", root / "book" / "references.bib")
    shutil.copytree(REPO / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/quebrada\n", encoding="utf-8")
    nb = _notebook([nbformat.v4.new_markdown_cell("# Página quebrada"),
                    nbformat.v4.new_code_cell("x = 1"),
                    nbformat.v4.new_code_cell("raise RuntimeError('erro proposital da página')")])
    nbformat.write(nb, str(root / "book" / "quebrada.ipynb"))
    result = build_book.build(root, tmp_path / "out", echo=False)
    assert result.returncode != 0 and not result.ok
    assert "quebrada.ipynb" in result.log
    assert "erro proposital da página" in result.log
