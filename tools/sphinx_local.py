"""Local Sphinx extension of the book (loaded by ``_config.yml``: ``sphinx.local_extensions``).

* ``author_year_pt``: the author-year citation style with Portuguese separators, so that
  ``{cite:t}`crosbie2025``` reads "Crosbie e Shutova [2025]" instead of "Crosbie and Shutova".
* ``plain_author_year``: pybtex's "plain" bibliography style whose labels are the same
  author-year text as the citations ("[Crosbie e Shutova, 2025]" rather than "[5]"), so a
  reader finds an entry by the name cited in the text. The entries themselves stay in
  pybtex's (English) wording: the works cited are English-language publications.
* ``_add_portuguese_interface``: Portuguese for the theme's interface strings that its own
  catalogs leave in English under ``language: pt_BR`` (the tooltip "Launch on Colab", the
  colour-mode switcher, "Back to top", the previous/next links...). The two sidebar toggles
  whose titles the theme hard-codes in English are overridden in ``_templates/``.
* ``_copy_local_mathjax``: the book serves its own copy of MathJax 3 (from the pinned
  ``django-static-mathjax`` wheel, which holds MathJax's files and nothing of Django) instead
  of loading it from a CDN, so formulas render offline too and the browser test can check
  that every formula typesets without a TeX error. ``mathjax_path`` in ``_config.yml`` points
  to the copy.
* ``_decimal_comma_in_glued_numbers``: numbers pasted into the prose with a float format
  (``{glue:text}`name:.2f```, ``:.0%``, ``:+.2f``...) get the Brazilian decimal comma
  ("0,95"), like the numbers written in the text. Values pasted without a format (head names
  such as "1.1", counts, words) are left as they are; code, outputs, tables and figures keep
  Python's decimal point, as Python prints them.
* Toolchain workarounds, each naming the problem it solves; remove one when the toolchain no
  longer needs it (the browser test, tests/test_browser.py, fails if the problem comes back).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from string import ascii_lowercase

import pybtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


@dataclass
class AuthorYearPtReferenceStyle(AuthorYearReferenceStyle):
    """Author-year references with "e" between the last two authors."""

    person: PersonStyle = field(default_factory=lambda: PersonStyle(sep2=" e ", last_sep=" e "))


def _last_name(person) -> str:
    return " ".join(part.render_as("text") for part in person.rich_last_names)


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Autor, 2021", "A e B, 2021", "A et al., 2021"; "2021a"/"2021b" if they clash."""

    def _label(self, entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_last_name(p) for p in persons]
        year = entry.fields.get("year", "s.d.")
        if not names:
            return f"{entry.fields.get('title', entry.key)}, {year}"
        if len(names) == 1:
            return f"{names[0]}, {year}"
        if len(names) == 2 and names[1] != "others":
            return f"{names[0]} e {names[1]}, {year}"
        return f"{names[0]} et al., {year}"

    def format_labels(self, sorted_entries):
        labels = [self._label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] > 1:
                seen[label] += 1
                label += ascii_lowercase[seen[label] - 1]
            yield label


class PlainAuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle


def _drop_duplicated_inline_scripts(app, env, docnames) -> None:
    """Sphinx 7.4 + sphinx-thebe: ``const THEBE_JS_URL`` declared twice on every page.

    sphinx-thebe adds an inline script (``app.add_js_file(None, body=...)``) after the HTML
    builder was created. Sphinx records it in the registry *and* on the builder as a
    ``_JavaScript(None, ...)``; when writing, the builder adds the registry's scripts again as
    ``_JavaScript('', ...)``, which does not compare equal, so the inline script is emitted
    twice and the browser raises "Identifier 'THEBE_JS_URL' has already been declared".
    Scripts without a file name on the builder are always re-added from the registry when
    writing, so dropping them here leaves exactly one copy.
    """
    files = getattr(app.builder, "_js_files", None)
    if isinstance(files, list):
        files[:] = [js for js in files if getattr(js, "filename", "") is not None]


# The theme's English interface strings missing from its catalogs for pt_BR, by message
# catalog: "sphinx" holds the strings of the templates (pydata-sphinx-theme), "booktheme" those
# of sphinx-book-theme's buttons.
PORTUGUESE_INTERFACE = {
    "sphinx": {
        "Back to top": "Voltar ao topo",
        "Skip to main content": "Pular para o conteúdo principal",
        "Color mode": "Modo de cor",
        "Light": "Claro",
        "Dark": "Escuro",
        "System Settings": "Como no sistema",
        "next page": "próxima página",
        "previous page": "página anterior",
        "Version warning": "Aviso de versão",
    },
    "booktheme": {
        "Launch on": "Abrir no",
        "Launch interactive content": "Abrir conteúdo interativo",
    },
}


def _add_portuguese_interface(app) -> None:
    """Compile PORTUGUESE_INTERFACE into .mo catalogs and add them as fallbacks.

    Sphinx chains every catalog added for a name: a message missing from the theme's own
    catalog is looked up in ours, and the theme's translations win where they exist.
    """
    from pathlib import Path

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    language = app.config.language or ""
    if not language.startswith("pt"):
        return
    root = Path(app.doctreedir) / "portuguese_interface"
    for domain, messages in PORTUGUESE_INTERFACE.items():
        catalog = Catalog(locale=language, domain=domain)
        for english, portuguese in messages.items():
            catalog.add(english, portuguese)
        target = root / language / "LC_MESSAGES" / f"{domain}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".mo.partial")
        with open(partial, "wb") as f:
            write_mo(f, catalog)
        partial.replace(target)
        app.add_message_catalog(domain, str(root))


#: MathJax files the pages need, relative to MathJax's ``es5`` folder: the combined TeX
#: component, its web fonts, the TeX extensions it may autoload (``\require``, ``\color``...)
#: and what its context menu loads on demand. The speech engine (``sre``, 4 MB) is left out.
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")
MATHJAX_PREFIX = "mathjax/es5/"


def _mathjax_source():
    """The ``es5`` folder of the installed MathJax files, or an error that says what to install."""
    from pathlib import Path

    from sphinx.errors import ExtensionError

    try:
        import mathjax  # the django-static-mathjax wheel
    except ImportError as exc:
        raise ExtensionError(
            "the book serves its own MathJax (mathjax_path in _config.yml) but the package holding "
            "its files is not installed: pip install -r requirements.txt (django-static-mathjax)") from exc
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    missing = [part for part in MATHJAX_PARTS if not (es5 / part).exists()]
    if missing:
        raise ExtensionError(f"MathJax files missing from {es5}: {', '.join(missing)}")
    return es5


def _check_local_mathjax(app) -> None:
    if app.builder.format == "html" and str(app.config.mathjax_path).startswith(MATHJAX_PREFIX):
        _mathjax_source()  # fail before reading any page, not after the whole build


def _copy_local_mathjax(app, exception) -> None:
    """After a successful HTML build, copy MATHJAX_PARTS under ``_static/mathjax/es5/``."""
    import shutil
    from pathlib import Path

    if exception is not None or app.builder.format != "html":
        return
    if not str(app.config.mathjax_path).startswith(MATHJAX_PREFIX):
        return
    source = _mathjax_source()
    target = Path(app.outdir) / "_static" / MATHJAX_PREFIX
    for part in MATHJAX_PARTS:
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, target / part)


#: Format types that print a float, i.e. a decimal point the prose should show as a comma.
FLOAT_FORMAT_TYPES = set("eEfFgG%")


def _pt_br_number(text: str) -> str:
    """``"1,234.5"`` -> ``"1.234,5"``; ``"-0.95"`` -> ``"-0,95"``."""
    return text.translate(str.maketrans({".": ",", ",": "."}))


def _decimal_comma_in_glued_numbers() -> None:
    """Wrap myst-nb's formatter of ``{glue:text}`` values (both the same-page role and the
    cross-page references call it through their module's global, looked up at call time)."""
    from myst_nb.ext.glue import crossref, roles

    original = roles.format_plain_text
    if getattr(original, "pt_br", False):
        return

    def format_plain_text(text: str, fmt_spec: str) -> str:
        out = original(text, fmt_spec)
        if fmt_spec and fmt_spec[-1] in FLOAT_FORMAT_TYPES:
            return _pt_br_number(out)
        return out

    format_plain_text.pt_br = True
    roles.format_plain_text = format_plain_text
    crossref.format_plain_text = format_plain_text


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.formatting", "plain_author_year", PlainAuthorYearStyle)
    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_pt",
                    AuthorYearPtReferenceStyle, force=True)
    # After sphinx-thebe's own env-before-read-docs handler (default priority 500).
    app.connect("env-before-read-docs", _drop_duplicated_inline_scripts, priority=900)
    _add_portuguese_interface(app)
    _decimal_comma_in_glued_numbers()
    app.connect("builder-inited", _check_local_mathjax)
    app.connect("build-finished", _copy_local_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
