"""Tests of induction_heads.widgets.

* Kernel-free widgets: the embedded JSON holds exactly what an independent computation
  gives (attention from ``output_attentions``, losses from the logits, ablation by zeroing
  the head's slice of ``W_O`` in a copy of the model); ids are unique; nothing external is
  referenced.
* Live widgets: changing a control changes the output.
* Browser: every kernel-free widget is rendered in headless Chromium; hover / click / slide
  change the readout, values shown match the data, no console errors. Screenshots go to
  /tmp/widget_shots.
"""

import matplotlib

matplotlib.use("Agg")

import copy
import html.parser
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from IPython.display import HTML

from induction_heads import widgets as W
from induction_heads.plots import copy_boundaries
from induction_heads.training import phase_change_step
from induction_heads.probes import repeated_tokens
from induction_heads.scores import copying_scores, prefix_matching_scores, previous_token_scores
from induction_heads.training.tokenizer import build_tokenizer
from induction_heads.training.words import SPECIAL_TOKENS, VOCABULARY

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/widget_shots")
TEXT_A = "o gato viu a casa . o gato viu a"
TEXT_B = "a porta da casa . a porta"


# --------------------------------------------------------------------------------------
# Fixtures: a tiny random GPT-2 and a 100-token word-level tokenizer
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    words = [w for w in VOCABULARY if w not in SPECIAL_TOKENS]
    needed = ["o", "gato", "viu", "a", "casa", ".", "porta", "da"]
    rest = [w for w in words if w not in needed]
    return build_tokenizer(list(SPECIAL_TOKENS) + needed + rest[: 100 - len(SPECIAL_TOKENS) - len(needed)])


@pytest.fixture(scope="module")
def model(tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    # A larger init than GPT-2's 0.02 makes the random heads' patterns distinct (not uniform).
    config = GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=len(tokenizer), n_positions=64,
                        initializer_range=0.2, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def eager_copy(model):
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    return ref


@pytest.fixture(scope="module")
def probe(tokenizer):
    return repeated_tokens(tokenizer, seq_len=8, n_repeats=3, batch=3, seed=1)


def _flat_record():
    record = make_record()
    record["prefix_matching"] = [[[0.05] * 4] * 2] * 6
    return record


def make_record():
    steps = [0, 100, 200, 300, 400, 500]
    best = [0.05, 0.06, 0.1, 0.6, 0.8, 0.82]
    pm = [[[0.03, 0.04, 0.02, 0.05], [0.04, b, 0.03, b / 2]] for b in best]
    prev = [[[0.1, 0.1 + b, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]] for b in best]
    return {
        "steps": steps,
        "loss": [5.5, 5.0, 4.8, 4.9, 4.0, 3.8],
        "loss_repeats": [5.5, 4.9, 4.5, 2.5, 1.2, 1.0],
        "icl_score": [0.0, -0.1, -0.2, -1.0, -1.6, -1.7],
        "prefix_matching": pm,
        "previous_token": prev,
        "checkpoints": [0, 500],
        "config": {"n_layer": 2},
    }


# --------------------------------------------------------------------------------------
# Helpers: parse a widget's HTML
# --------------------------------------------------------------------------------------


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.data, self.roots, self._in_data = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "div" and "ih-widget" in (attrs.get("class") or "").split():
            self.roots.append(attrs)
        if tag == "script" and attrs.get("class") == "ih-data":
            self._in_data = True
            self.data.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data[-1] += data


def parse(widget):
    assert isinstance(widget, HTML)
    p = _Parser()
    p.feed(widget.data)
    assert len(p.roots) == 1 and len(p.data) == 1
    return p.roots[0], json.loads(p.data[0]), p.ids


EXTERNAL = re.compile(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|\bsrc\s*=|\bhref\s*=|<link|@import|url\(", re.I)


def assert_self_contained(widget):
    found = EXTERNAL.findall(widget.data)
    assert not found, f"widget references external resources: {found}"


# Independent computations (straight from the model, not through the library).


def reference_attention(eager_model, tokenizer, text):
    ids = [0] + tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        att = eager_model(torch.tensor([ids]), output_attentions=True).attentions
    return ids, torch.stack([a[0] for a in att])  # [L, H, T, T]


def reference_loss(m, tokens):
    with torch.no_grad():
        logits = m(tokens).logits[:, :-1]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), reduction="none")
    return loss.view(tokens.shape[0], -1).mean(0)


def zeroed_copy(model, heads):
    """Ablate heads the way the seed meant to: zero their slice of W_O. GPT-2's Conv1D
    stores W_O as [in, out], so head h is the *rows* h*d:(h+1)*d of c_proj.weight."""
    m = copy.deepcopy(model)
    d = m.config.n_embd // m.config.n_head
    with torch.no_grad():
        for layer, head in heads:
            m.transformer.h[layer].attn.c_proj.weight[head * d:(head + 1) * d, :] = 0
    return m


# --------------------------------------------------------------------------------------
# Kernel-free: attention explorer
# --------------------------------------------------------------------------------------


def test_attention_html_embeds_the_models_attention(model, eager_copy, tokenizer):
    widget = W.attention_explorer_html(model, tokenizer, {"Gato": TEXT_A, "Porta": TEXT_B}, layer=1, head=2)
    root, data, ids = parse(widget)
    assert root["data-widget"] == "attention" and root["id"].startswith("ih-attention-")
    assert_self_contained(widget)
    assert data["layers"] == [0, 1] and data["n_heads"] == 4
    assert data["initial_layer_index"] == 1 and data["initial_head"] == 2
    assert [t["label"] for t in data["texts"]] == ["Gato", "Porta"]
    for entry, text in zip(data["texts"], (TEXT_A, TEXT_B)):
        ids_ref, att = reference_attention(eager_copy, tokenizer, text)
        assert entry["tokens"] == [tokenizer.decode([i]) for i in ids_ref]
        got = np.array(entry["patterns"])
        assert got.shape == tuple(att.shape)
        np.testing.assert_allclose(got, att.numpy(), atol=0.5e-3 + 1e-7)  # rounded to 3 decimals
        # Each query row is a distribution over keys 0..i (causal).
        np.testing.assert_allclose(got.sum(-1), 1.0, atol=0.01)


def test_attention_html_layer_subset_and_bad_input(model, tokenizer):
    widget = W.attention_explorer_html(model, tokenizer, TEXT_B, layers=[1], decimals=4)
    _, data, _ = parse(widget)
    assert data["layers"] == [1] and np.array(data["texts"][0]["patterns"]).shape[0] == 1
    with pytest.raises(ValueError, match="max_tokens"):
        W.attention_explorer_html(model, tokenizer, TEXT_A, max_tokens=5)
    with pytest.raises(ValueError, match="layers"):
        W.attention_explorer_html(model, tokenizer, TEXT_A, layers=[2])
    with pytest.raises(ValueError, match="head"):
        W.attention_explorer_html(model, tokenizer, TEXT_A, head=4)
    with pytest.raises(ValueError, match="non-empty"):
        W.attention_explorer_html(model, tokenizer, ["  "])
    with pytest.raises(TypeError, match="texts"):
        W.attention_explorer_html(model, tokenizer, 42)


# --------------------------------------------------------------------------------------
# Kernel-free: head scores
# --------------------------------------------------------------------------------------


def test_head_scores_html_embeds_the_scores(model, probe):
    pm = prefix_matching_scores(model, probe)
    prev = previous_token_scores(model, probe)
    cop = copying_scores(model)
    widget = W.head_scores_html({"Correspondência de prefixo": pm, "Token anterior": prev, "Cópia": cop})
    root, data, _ = parse(widget)
    assert root["data-widget"] == "head-scores"
    assert_self_contained(widget)
    assert data["names"] == ["Correspondência de prefixo", "Token anterior", "Cópia"]
    assert data["initial"] == "Correspondência de prefixo"
    for name, values in zip(data["names"], (pm, prev, cop)):
        np.testing.assert_allclose(data["scores"][name]["values"], values.numpy(), atol=0.5e-3 + 1e-7)
    # Copying scores have both signs here: symmetric range around 0 for a diverging scale.
    c = data["scores"]["Cópia"]
    if min(map(min, c["values"])) < 0 < max(map(max, c["values"])):
        assert c["vmin"] == -c["vmax"]
    assert data["scores"]["Correspondência de prefixo"]["vmin"] == 0 and data["scores"]["Correspondência de prefixo"]["vmax"] == 1


def test_head_scores_html_escapes_names_and_checks_input():
    nasty = "</script><b>x</b>"
    widget = W.head_scores_html({nasty: np.array([[0.5, 0.25]])})
    _, data, _ = parse(widget)
    assert data["names"] == [nasty]
    assert widget.data.count("</script>") == 2  # the data script and the code script, nothing injected
    with pytest.raises(ValueError, match="shape"):
        W.head_scores_html({"a": np.zeros((2, 2)), "b": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="empty"):
        W.head_scores_html({})
    with pytest.raises(TypeError):
        W.head_scores_html([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="initial"):
        W.head_scores_html({"a": np.zeros((2, 2))}, initial="b")
    with pytest.raises(ValueError, match="NaN"):
        W.head_scores_html({"a": np.array([[np.nan, 0.0]])})


# --------------------------------------------------------------------------------------
# Kernel-free: ablation explorer
# --------------------------------------------------------------------------------------


def test_ablation_html_embeds_losses_matching_an_independent_ablation(model, probe):
    heads = [(0, 1), (1, 2)]
    bounds = copy_boundaries(8, 3)
    widget = W.ablation_explorer_html(model, probe, heads, boundaries=bounds, progress=False)
    root, data, _ = parse(widget)
    assert root["data-widget"] == "ablation"
    assert_self_contained(widget)
    clean = reference_loss(model, probe)
    np.testing.assert_allclose(data["clean"], clean.numpy(), atol=0.5e-4 + 1e-6)
    assert data["clean_mean"] == pytest.approx(float(clean.mean()), abs=1e-4)
    assert data["clean_mean_repeats"] == pytest.approx(float(clean[8:].mean()), abs=1e-4)
    assert [h["label"] for h in data["heads"]] == ["0.1", "1.2"]
    for entry, head in zip(data["heads"], heads):
        ablated = reference_loss(zeroed_copy(model, [head]), probe)
        np.testing.assert_allclose(entry["loss"], ablated.numpy(), atol=0.5e-4 + 1e-6)
        assert entry["mean"] == pytest.approx(float(ablated.mean()), abs=1e-4)
    # Default groups: the top-2 heads by prefix-matching score, and random heads in the same layers.
    pm = prefix_matching_scores(model, probe).flatten()
    top2 = sorted(range(8), key=lambda i: (-float(pm[i]), i))[:2]
    top = [f"{i // 4}.{i % 4}" for i in top2]
    groups = {g["name"]: g for g in data["groups"]}
    assert groups["Principais cabeças de indução"]["heads"] == top
    control = groups["Cabeças aleatórias (controle)"]["heads"]
    assert sorted(h[0] for h in control) == sorted(h[0] for h in top) and not set(control) & set(top)
    together = reference_loss(zeroed_copy(model, [(int(h[0]), int(h[2])) for h in top]), probe)
    np.testing.assert_allclose(groups["Principais cabeças de indução"]["loss"], together.numpy(), atol=0.5e-4 + 1e-6)
    assert data["boundaries"] == bounds and data["initial"] == "group:Principais cabeças de indução"


def test_ablation_html_all_heads_custom_groups_and_bad_input(model, probe):
    widget = W.ablation_explorer_html(model, probe, groups={"Camada 1": [(1, 0), (1, 1), (1, 2), (1, 3)]},
                                      method="mean", progress=False)
    _, data, _ = parse(widget)
    assert len(data["heads"]) == 8 and data["method"] == "mean"
    assert [g["name"] for g in data["groups"]] == ["Camada 1"]
    assert data["boundaries"] == [] and data["clean_mean_repeats"] is None
    with pytest.raises(ValueError, match="does not exist"):
        W.ablation_explorer_html(model, probe, [(2, 0)], groups={}, progress=False)
    with pytest.raises(ValueError, match="method"):
        W.ablation_explorer_html(model, probe, method="ones", progress=False)
    with pytest.raises(ValueError, match="boundaries"):
        W.ablation_explorer_html(model, probe, [(0, 0)], groups={}, boundaries=[0, 999], progress=False)
    with pytest.raises(ValueError, match="nothing to show"):
        W.ablation_explorer_html(model, probe, [], groups={}, progress=False)
    with pytest.raises(ValueError, match="tokens"):
        W.ablation_explorer_html(model, [1, 2, 3], progress=False)


# --------------------------------------------------------------------------------------
# Kernel-free: phase change
# --------------------------------------------------------------------------------------


def test_phase_change_html_embeds_the_record():
    record = make_record()
    widget = W.phase_change_html(record)
    root, data, _ = parse(widget)
    assert root["data-widget"] == "phase-change"
    assert_self_contained(widget)
    for key in ("steps", "loss", "loss_repeats", "icl_score"):
        np.testing.assert_allclose(data[key], record[key])
    np.testing.assert_allclose(data["scores"]["Correspondência de prefixo"], record["prefix_matching"])
    np.testing.assert_allclose(data["scores"]["Token anterior"], record["previous_token"])
    # Best score goes 0.05 -> 0.82; half-way (0.435) is first reached at step 300.
    assert data["change_step"] == 300 == phase_change_step(record)
    assert data["initial_index"] == 5
    assert W.phase_change_html(record, change_step=400, initial_step=100).data.count('"change_step":400') == 1
    with pytest.raises(ValueError, match="initial_step"):
        W.phase_change_html(record, initial_step=150)
    bad = make_record()
    bad["steps"] = [0, 100, 100, 300, 400, 500]
    with pytest.raises(ValueError, match="increasing"):
        W.phase_change_html(bad)
    no_prev = make_record()
    del no_prev["previous_token"]
    assert parse(W.phase_change_html(no_prev))[1]["score_names"] == ["Correspondência de prefixo"]
    assert parse(W.phase_change_html(_flat_record()))[1]["change_step"] is None


def test_every_call_gets_unique_ids(model, tokenizer):
    record = make_record()
    pages = [W.phase_change_html(record).data for _ in range(3)]
    pages.append(W.head_scores_html({"a": np.zeros((1, 2))}).data)
    all_ids = []
    for page in pages:
        p = _Parser()
        p.feed(page)
        all_ids += p.ids
    assert len(all_ids) == 4 and len(set(all_ids)) == 4
    # Each script addresses its own root by that id.
    for page, rid in zip(pages, all_ids):
        assert f'document.getElementById("{rid}")' in page


# --------------------------------------------------------------------------------------
# Live widgets
# --------------------------------------------------------------------------------------


def test_live_attention_explorer_updates(model, eager_copy, tokenizer):
    box = W.attention_explorer(model, tokenizer, text=TEXT_A, layer=0, head=0)
    image, tokens_html, readout = box.outputs["figure"], box.outputs["tokens"], box.outputs["readout"]
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    first_img, first_tokens = image.value, tokens_html.value
    box.controls["head"].value = 3
    assert image.value != first_img and tokens_html.value != first_tokens
    # The readout names the top key for the last query: check it against the model's attention.
    _, att = reference_attention(eager_copy, tokenizer, TEXT_A)
    q = len(att[0, 0]) - 1
    top = int(att[0, 3, q].argmax())
    assert f"(pos. {top}) {float(att[0, 3, q, top]):.2f}" in readout.value
    box.controls["query"].value = 2
    assert "(posição 2)" in readout.value
    before = image.value
    box.controls["text"].value = TEXT_B
    assert image.value != before and box.controls["query"].max == len(tokenizer(TEXT_B)["input_ids"]) - 1
    before = image.value
    box.controls["layer"].value = 1
    assert image.value != before


def test_live_head_score_explorer_updates(model, probe, tokenizer):
    box = W.head_score_explorer(model, probe, tokenizer=tokenizer)
    first_img, first_readout = box.outputs["figure"].value, box.outputs["readout"].value
    pm = prefix_matching_scores(model, probe)
    best = int(pm.flatten().argmax())
    assert first_readout.startswith(f"Maiores: {best // 4}.{best % 4} ({float(pm.flatten()[best]):.2f})")
    box.controls["score"].value = W.SCORE_NAMES["copying_eigen"]
    assert box.outputs["figure"].value != first_img
    cop = copying_scores(model).flatten()
    best = int(cop.argmax())
    assert box.outputs["readout"].value.startswith(f"Maiores: {best // 4}.{best % 4} ({float(cop[best]):.2f})")


def test_live_ablation_explorer_updates(model, probe):
    box = W.ablation_explorer(model, probe, boundaries=copy_boundaries(8, 3))
    clean = reference_loss(model, probe)
    assert f"{float(clean.mean()):.2f}" in box.outputs["readout"].value
    first = box.outputs["figure"].value
    box.controls["heads"].value = ((1, 2), (0, 1))
    ablated = reference_loss(zeroed_copy(model, [(1, 2), (0, 1)]), probe)
    assert box.outputs["figure"].value != first
    assert f"→ {float(ablated.mean()):.2f} nats" in box.outputs["readout"].value
    assert "1.2, 0.1" in box.outputs["readout"].value
    zero_readout = box.outputs["readout"].value
    box.controls["method"].value = "mean"
    assert box.outputs["readout"].value != zero_readout


def test_live_phase_change_scrubber_updates():
    record = make_record()
    box = W.phase_change_scrubber(record)
    assert box.outputs["readout"].value.startswith("Passo 500: perda 3.80")
    first = box.outputs["figure"].value
    box.controls["step"].value = 200
    assert box.outputs["readout"].value.startswith("Passo 200: perda 4.80 · perda em repetições 4.50")
    assert "maior correspondência de prefixo: cabeça 1.1 (0.10)" in box.outputs["readout"].value
    assert box.outputs["figure"].value != first


def test_show_displays_static_and_live_only_when_wanted(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    static = W.head_scores_html({"a": np.zeros((1, 2))})
    built = []

    def live():
        built.append(1)
        return "live widget"

    monkeypatch.delenv("INDUCTION_HEADS_LIVE", raising=False)
    monkeypatch.delitem(__import__("sys").modules, "google.colab", raising=False)
    assert W.show(static, live) is None
    assert shown == [static] and built == []  # the live widget is not even built
    shown.clear()
    monkeypatch.setenv("INDUCTION_HEADS_LIVE", "1")
    assert W.show(static, live) == "live widget"
    assert shown == [static, "live widget"]
    with pytest.raises(TypeError, match="static"):
        W.show("<div></div>")


# --------------------------------------------------------------------------------------
# Browser: the kernel-free widgets respond without a kernel
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_page(model, tokenizer, probe, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"headless browser tests need {CHROMIUM} (apt-get install -y chromium)"
    widgets = [
        W.attention_explorer_html(model, tokenizer, {"Gato": TEXT_A, "Porta": TEXT_B}, layer=1, head=0),
        W.attention_explorer_html(model, tokenizer, TEXT_B),  # a second one of the same kind
        W.head_scores_html({"Correspondência de prefixo": prefix_matching_scores(model, probe),
                            "Token anterior": previous_token_scores(model, probe),
                            "Cópia (autovalores OV)": copying_scores(model)}),
        W.ablation_explorer_html(model, probe, boundaries=copy_boundaries(8, 3), progress=False),
        W.phase_change_html(make_record()),
        W.phase_change_html(_flat_record()),  # no phase change: no dashed line, still works
    ]
    body = "\n".join(w.data for w in widgets)
    path = tmp_path_factory.mktemp("widgets") / "page.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>widgets</title></head>"
                    f"<body style='max-width:920px;margin:16px auto'>{body}</body></html>", encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("() => [...document.querySelectorAll('div.ih-widget')].every(e => e.dataset.ready === '1')")
        yield page, errors
        browser.close()


def _data(root):
    return json.loads(root.query_selector("script.ih-data").text_content())


def test_browser_all_widgets_ready_without_errors(browser_page):
    page, errors = browser_page
    roots = page.query_selector_all("div.ih-widget")
    assert [r.get_attribute("data-widget") for r in roots] == ["attention", "attention", "head-scores", "ablation", "phase-change", "phase-change"]
    assert all(r.get_attribute("data-ready") == "1" for r in roots)
    ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)) == 6
    for r in roots:
        r.screenshot(path=str(SHOTS / f"initial_{r.get_attribute('id').split('-')[1]}_{roots.index(r)}.png"))
    assert errors == []


def test_browser_attention_hover_shows_where_a_token_attends(browser_page):
    page, errors = browser_page
    first, second = page.query_selector_all("div.ih-widget[data-widget='attention']")
    data = _data(first)
    readout = first.query_selector(".ih-readout")
    other_before = second.query_selector(".ih-readout").inner_text()
    assert "[fixada]" in readout.inner_text()  # the last token is pinned at first
    before = readout.inner_text()
    first.query_selector(".ih-token[data-pos='3']").hover()
    after = readout.inner_text()
    assert after != before and "(posição 3)" in after
    pattern = data["texts"][0]["patterns"][1][0]  # layer index 1, head 0: the initial selection
    spans = first.query_selector_all(".ih-token")
    for j in range(4):
        assert spans[j].get_attribute("data-attn") == f"{pattern[3][j]:.3f}"
    assert "ih-active" in spans[3].get_attribute("class") and "ih-future" in spans[4].get_attribute("class")
    # Another head: the colours follow the selection.
    first.query_selector("select[data-role='head']").select_option("2")
    first.query_selector(".ih-token[data-pos='5']").hover()
    pattern = data["texts"][0]["patterns"][1][2]
    assert [s.get_attribute("data-attn") for s in spans[:6]] == [f"{pattern[5][j]:.3f}" for j in range(6)]
    assert readout.inner_text().startswith("Cabeça 1.2")
    # Click pins the token, the second text replaces the tokens; the other widget is untouched.
    first.query_selector(".ih-token[data-pos='5']").click()
    page.mouse.move(0, 0)
    assert "ih-pinned" in first.query_selector(".ih-token[data-pos='5']").get_attribute("class")
    assert "(posição 5) [fixada]" in readout.inner_text()
    first.screenshot(path=str(SHOTS / "attention_hover.png"))
    first.query_selector("select[data-role='text']").select_option("1")
    assert len(first.query_selector_all(".ih-token")) == len(data["texts"][1]["tokens"])
    assert second.query_selector(".ih-readout").inner_text() == other_before
    assert errors == []


def test_browser_head_scores_click_and_hover(browser_page):
    page, errors = browser_page
    root = page.query_selector("div.ih-widget[data-widget='head-scores']")
    data = _data(root)
    root.query_selector("button.ih-tab[data-score='Token anterior']").click()
    assert "ih-selected" in root.query_selector("button.ih-tab[data-score='Token anterior']").get_attribute("class")
    cell = root.query_selector("td.ih-cell[data-layer='1'][data-head='2']")
    value = data["scores"]["Token anterior"]["values"][1][2]
    assert float(cell.get_attribute("data-value")) == pytest.approx(value)
    cell.hover()
    assert root.query_selector(".ih-readout").inner_text() == f"1.2: {value:.2f} · Token anterior"
    root.query_selector("button.ih-tab[data-score='Cópia (autovalores OV)']").click()
    value = data["scores"]["Cópia (autovalores OV)"]["values"][0][3]
    root.query_selector("td.ih-cell[data-layer='0'][data-head='3']").hover()
    assert root.query_selector(".ih-readout").inner_text() == f"0.3: {value:.2f} · Cópia (autovalores OV)"
    root.screenshot(path=str(SHOTS / "head_scores_hover.png"))
    assert errors == []


def test_browser_ablation_click_redraws_the_curve(browser_page):
    page, errors = browser_page
    root = page.query_selector("div.ih-widget[data-widget='ablation']")
    data = _data(root)
    path_before = root.query_selector("path.ih-line-ablated").get_attribute("d")
    readout_before = root.query_selector(".ih-readout").inner_text()
    root.query_selector("button.ih-head[data-head='0.1']").click()
    entry = next(h for h in data["heads"] if h["label"] == "0.1")
    text = root.query_selector(".ih-readout").inner_text()
    assert text != readout_before
    assert text.startswith(f"Ablação de cabeça 0.1: perda média {data['clean_mean']:.2f} → {entry['mean']:.2f} nats")
    d = root.query_selector("path.ih-line-ablated").get_attribute("d")
    assert d != path_before and d.count("L") == len(data["clean"]) - 1
    assert root.query_selector("path.ih-line-clean") is not None
    assert "ih-selected" in root.query_selector("button.ih-head[data-head='0.1']").get_attribute("class")
    # Hovering the chart reads one position.
    box = root.query_selector("svg.ih-chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    assert root.query_selector(".ih-readout").inner_text().startswith("Posição ")
    root.query_selector("button.ih-group").click()
    assert "Principais cabeças de indução" in root.query_selector(".ih-readout").inner_text()
    root.screenshot(path=str(SHOTS / "ablation_click.png"))
    assert errors == []


def test_browser_phase_change_slider_moves_the_heatmap_and_marker(browser_page):
    page, errors = browser_page
    root, flat = page.query_selector_all("div.ih-widget[data-widget='phase-change']")
    assert len(root.query_selector_all("svg.ih-chart line[stroke-dasharray]")) == 1
    assert len(flat.query_selector_all("svg.ih-chart line[stroke-dasharray]")) == 0
    data = _data(root)
    readout = root.query_selector(".ih-readout")
    assert readout.inner_text().startswith("Passo 500")
    marker_before = root.query_selector("circle.ih-marker").get_attribute("cx")
    slider = root.query_selector("input.ih-slider")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "2"
    assert readout.inner_text().startswith("Passo 200: perda 4.80")
    cell = root.query_selector("td.ih-cell[data-layer='1'][data-head='1']")
    assert float(cell.get_attribute("data-value")) == pytest.approx(data["scores"]["Correspondência de prefixo"][2][1][1])
    assert root.query_selector("circle.ih-marker").get_attribute("cx") != marker_before
    root.screenshot(path=str(SHOTS / "phase_change_slide.png"))
    # The play button animates the steps, and pauses on a second click.
    root.query_selector("button.ih-play").click()
    page.wait_for_function(f"() => document.getElementById('{root.get_attribute('id')}')"
                           ".querySelector('input.ih-slider').value === '3'", timeout=5000)
    root.query_selector("button.ih-play").click()
    assert root.query_selector("button.ih-play").inner_text().endswith("Animar")
    assert errors == []
