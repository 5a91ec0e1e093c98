"""The built book in a real browser (Debian's chromium driven by Playwright).

For every page of the toc: no console error, no uncaught page error, no failed request, no
broken image, no internal link to a missing file or anchor; every figure the executed notebook
produced is on the page and loaded; every formula typeset by the book's own MathJax without a
TeX error; every kernel-free widget (``div.ih-widget``, see the DOM
hooks in ``induction_heads.widgets``) draws itself and responds to a hover or a click; and a
full-page screenshot is saved to ``<build>/screenshots/<page>.png``.

The book is served from 127.0.0.1 by a local http.server thread (file:// URLs make Chromium
report spurious errors). The machine is offline and the book needs nothing from outside (it
serves its own MathJax): any request that leaves 127.0.0.1 fails the test.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from conftest import REPO

import pages  # tools/pages.py
from induction_heads import colab

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DOCNAMES = pages.toc_docnames(REPO)
REPO_URL, BRANCH = colab.read_repository(REPO / "_config.yml")

FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(_QuietHandler, directory=str(book.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


_ids_cache: dict[Path, set[str]] = {}


def _ids(path: Path) -> set[str]:
    if path not in _ids_cache:
        text = path.read_text(encoding="utf-8", errors="replace")
        _ids_cache[path] = set(re.findall(r'\sid="([^"]+)"', text))
    return _ids_cache[path]


def _figure_count(book, docname: str) -> int:
    """Figures (image outputs) in the executed notebook of a page; 0 for a .md page."""
    executed = book.build_dir / "jupyter_execute" / f"{docname}.ipynb"
    if pages.doc_source(REPO, docname).suffix != ".ipynb" or not executed.is_file():
        return 0
    nb = nbformat.read(str(executed), as_version=4)
    count = 0
    for cell in nb.cells:
        if "remove-output" in cell.metadata.get("tags", []) or "remove-cell" in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.output_type in ("display_data", "execute_result"):
                count += any(m in out.get("data", {}) for m in FIGURE_MIMES)
    return count


# --------------------------------------------------------------------------------------
# Widget drivers: one per data-widget kind (DOM hooks documented in induction_heads.widgets)
# --------------------------------------------------------------------------------------


def _readout(widget) -> str:
    return widget.locator(".ih-readout").first.inner_text()


def _drive_attention(page, widget) -> None:
    tokens = widget.locator("span.ih-token")
    n = tokens.count()
    assert n >= 2, "attention widget shows fewer than two tokens"
    query = 1  # the initial pinned query is the last token: pick another one
    before = _readout(widget)
    tokens.nth(query).click()
    assert "ih-pinned" in (tokens.nth(query).get_attribute("class") or "")
    attn = [float(tokens.nth(i).get_attribute("data-attn") or 0.0) for i in range(n)]
    # A causal head's attention row from query `query` sums to 1 over keys 0..query and is 0 after.
    assert abs(sum(attn[: query + 1]) - 1.0) < 0.02, attn[: query + 1]
    assert all(a == 0.0 for a in attn[query + 1:]), attn[query + 1:]
    assert _readout(widget) != before, "the readout did not change on click"
    # Hovering another token (after unpinning) makes it the query.
    tokens.nth(query).click()
    tokens.nth(n - 1).hover()
    assert "ih-active" in (tokens.nth(n - 1).get_attribute("class") or "")


def _drive_head_scores(page, widget) -> None:
    cells = widget.locator("td.ih-cell")
    assert cells.count() >= 1
    cell = cells.nth(cells.count() - 1)
    cell.hover()
    layer, head = cell.get_attribute("data-layer"), cell.get_attribute("data-head")
    text = _readout(widget)
    assert text.startswith(f"{layer}.{head}: "), text
    shown = float(re.match(r"^\d+\.\d+: (-?[0-9]+(?:[.,][0-9]+)?)", text).group(1).replace(",", "."))
    assert abs(shown - float(cell.get_attribute("data-value"))) < 0.01, (text, cell.get_attribute("data-value"))
    tabs = widget.locator("button.ih-tab")
    if tabs.count() > 1:
        tabs.nth(1).click()
        assert "ih-selected" in (tabs.nth(1).get_attribute("class") or "")


def _drive_ablation(page, widget) -> None:
    buttons = widget.locator("button.ih-head, button.ih-group")
    assert buttons.count() >= 1
    target = None
    for i in range(buttons.count()):
        if "ih-selected" not in (buttons.nth(i).get_attribute("class") or ""):
            target = buttons.nth(i)
            break
    assert target is not None, "every ablation button is already selected"
    line = widget.locator("path.ih-line-ablated").first
    before_d, before = line.get_attribute("d"), _readout(widget)
    target.click()
    assert "ih-selected" in (target.get_attribute("class") or "")
    assert _readout(widget) != before or line.get_attribute("d") != before_d


def _drive_phase_change(page, widget) -> None:
    slider = widget.locator("input.ih-slider").first
    lo, hi = int(slider.get_attribute("min") or 0), int(slider.get_attribute("max"))
    assert hi > lo
    value = lo if int(slider.input_value()) != lo else hi
    slider.evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true}));"
        " el.dispatchEvent(new Event('change', {bubbles: true})); }", str(value))
    assert _readout(widget).startswith("Passo "), _readout(widget)


DRIVERS = {
    "attention": _drive_attention,
    "head-scores": _drive_head_scores,
    "ablation": _drive_ablation,
    "phase-change": _drive_phase_change,
}


# --------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_in_browser(book, server, browser, docname):
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def on_console(msg):
        if msg.type == "error":
            problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def on_route(route):
        url = route.request.url
        if url.startswith(server):
            return route.continue_()
        problems.append(f"request to an external resource: {url}")
        return route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: req.url.startswith(server)
            and problems.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda resp: resp.status >= 400
            and problems.append(f"HTTP {resp.status}: {resp.url}"))
    page.route("**/*", on_route)

    url = urljoin(server, f"{docname}.html")
    try:
        response = page.goto(url, wait_until="load")
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        page.wait_for_load_state("networkidle")

        # Images: every <img> loaded.
        images = page.evaluate(
            "Array.from(document.images).map(i => ({src: i.currentSrc || i.src,"
            " ok: i.complete && i.naturalWidth > 0}))")
        problems += [f"broken image: {im['src']}" for im in images if not im["ok"]]

        # Figures: every image output of the executed notebook is on the page and visible.
        figures = page.locator("div.cell_output img[src*='_images/']")
        expected = _figure_count(book, docname)
        assert figures.count() == expected, (
            f"{docname}: {expected} figure(s) in the executed notebook, {figures.count()} on the page")
        for i in range(figures.count()):
            box = figures.nth(i).bounding_box()
            assert box and box["width"] > 50 and box["height"] > 50, f"{docname}: figure {i} is not visible"

        # Internal links: the target file exists and so does its anchor.
        hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for href in hrefs:
            if not href.startswith(server):
                continue
            parts = urlsplit(href)
            rel = unquote(parts.path.removeprefix(urlsplit(server).path))
            target = book.html / rel
            if rel == "" or rel.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"broken link: {href}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target):
                problems.append(f"link to a missing anchor: {href}")

        # Math: every formula typeset by the book's MathJax, none showing a TeX error.
        if page.locator("span.math, div.math").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=15_000)
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            untypeset = page.evaluate(
                "Array.from(document.querySelectorAll('span.math, div.math'))"
                ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))")
            problems += [f"formula not typeset: {tex}" for tex in untypeset]
            errors = page.evaluate(
                "Array.from(document.querySelectorAll('mjx-merror'))"
                ".map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120))")
            problems += [f"TeX error in a formula: {err}" for err in errors]

        # Runnable pages: the rocket menu opens and offers this page's notebook in Colab.
        if pages.doc_source(REPO, docname).suffix == ".ipynb":
            page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
            link = page.locator(".dropdown-launch-buttons a[href^='https://colab.research.google.com/github/']")
            link.wait_for(state="visible", timeout=5_000)
            rel = pages.doc_source(REPO, docname).relative_to(REPO).as_posix()
            assert link.get_attribute("href") == (
                f"https://colab.research.google.com/github/"
                f"{REPO_URL.removeprefix('https://github.com/')}/blob/{BRANCH}/{rel}")
            page.keyboard.press("Escape")

        # Kernel-free widgets: each draws itself; each responds to its hover/click.
        widgets = page.locator("div.ih-widget")
        for i in range(widgets.count()):
            widget = widgets.nth(i)
            kind = widget.get_attribute("data-widget")
            assert kind in DRIVERS, f"{docname}: no driver for widget kind {kind!r}"
            widget.scroll_into_view_if_needed()
            page.wait_for_function(
                "el => el.getAttribute('data-ready') === '1'", arg=widget.element_handle(), timeout=10_000)
            DRIVERS[kind](page, widget)

        book.screenshots.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(book.screenshots / f"{docname.replace('/', '__')}.png"),
                        full_page=True, animations="disabled")
    finally:
        page.close()
    assert not problems, f"{docname}:\n" + "\n".join(problems)


def test_book_has_pages_with_figures_and_widgets(book):
    """The static book shows real figures and at least one kernel-free widget somewhere."""
    figures = sum(_figure_count(book, d) for d in DOCNAMES)
    widgets = sum(len(re.findall(r'<div[^>]*class="[^"]*\bih-widget\b', book.page(d).read_text(encoding="utf-8")))
                  for d in DOCNAMES)
    assert figures >= 1, "no page of the book shows a figure"
    assert widgets >= 1, "no page of the book has a kernel-free widget"


def test_the_math_check_sees_tex_errors(book, server, browser):
    """The book's MathJax marks a broken formula with mjx-merror (what the page test looks for)."""
    page = browser.new_page()
    try:
        page.goto(urljoin(server, "book/04_ablacao.html"), wait_until="load")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=15_000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
        check = ("tex => MathJax.tex2chtmlPromise(tex).then(n => [n.querySelectorAll('mjx-merror').length,"
                 " n.tagName.toLowerCase()])")
        assert page.evaluate(check, "\\frac{a}{") == [1, "mjx-container"]
        assert page.evaluate(check, "\\frac{a}{b} + W^O_h") == [0, "mjx-container"]
        assert page.locator("span.math mjx-container").count() > 5
    finally:
        page.close()
