"""Tests of induction_heads.plots: the figures carry the data they are given, Portuguese
labels and colour bars, and reject bad input with a clear error."""

import matplotlib

matplotlib.use("Agg")

import math

import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from induction_heads import plots as P


def colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def main_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def make_record(n_layers=2, n_heads=3):
    """A small training record with a known jump: the best prefix-matching score goes
    0.1, 0.12, 0.15, 0.7, 0.8 at steps 0, 10, 20, 30, 50 (half-way, 0.45, first reached at 30)."""
    steps = [0, 10, 20, 30, 50]
    best = [0.1, 0.12, 0.15, 0.7, 0.8]
    pm = []
    for b in best:
        grid = [[0.05] * n_heads for _ in range(n_layers)]
        grid[1][2] = b
        pm.append(grid)
    prev = [[[0.2 if (l, h) == (0, 1) else 0.01 for h in range(n_heads)] for l in range(n_layers)] for _ in steps]
    return {
        "steps": steps,
        "loss": [5.0, 4.5, 4.4, 4.2, 3.9],
        "loss_repeats": [5.0, 4.4, 4.2, 2.0, 1.5],
        "icl_score": [-0.1, -0.2, -0.3, -1.5, -1.8],
        "prefix_matching": pm,
        "previous_token": prev,
        "checkpoints": [0, 50],
        "config": {},
    }


# --------------------------------------------------------------------------------------
# Head scores
# --------------------------------------------------------------------------------------


def test_head_scores_heatmap_labels_values_and_colorbar():
    scores = torch.tensor([[0.1, 0.25, 0.5], [0.875, 0.0, 0.33]])
    fig = P.plot_head_scores(scores, title="Correspondência de prefixo", highlight=[(1, 0)])
    assert isinstance(fig, Figure)
    (ax,) = main_axes(fig)
    assert ax.get_title() == "Correspondência de prefixo"
    assert ax.get_xlabel() == "Cabeça" and ax.get_ylabel() == "Camada"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    (cbar,) = colorbars(fig)
    assert cbar.get_ylabel() == "Pontuação"
    # The image holds exactly the scores; each cell is annotated with its value.
    np.testing.assert_allclose(ax.images[0].get_array(), scores.numpy())
    by_pos = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert by_pos[(1, 0)] == "0.88" and by_pos[(0, 2)] == "0.50" and len(by_pos) == 6
    # The highlighted head is outlined: a rectangle around cell (layer 1, head 0).
    rects = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert [(r.get_x(), r.get_y()) for r in rects] == [(-0.5, 0.5)]
    # Sequential colour map for [0, 1] scores.
    assert ax.images[0].get_cmap().name == "viridis"


def test_head_scores_diverging_scale_is_centred_on_zero():
    scores = np.array([[-0.5, 0.25], [0.75, 0.0]])
    fig = P.plot_head_scores(scores, title="Cópia")
    im = main_axes(fig)[0].images[0]
    assert im.get_cmap().name == "RdBu_r"
    assert im.norm.vmin == pytest.approx(-0.75) and im.norm.vmax == pytest.approx(0.75)


def test_head_scores_no_annotation_on_request_and_bad_input():
    fig = P.plot_head_scores(np.ones((2, 2)) * 0.5, annotate=False)
    assert texts(main_axes(fig)[0]) == []
    with pytest.raises(ValueError, match="2 dimensions"):
        P.plot_head_scores(np.zeros(4))
    with pytest.raises(ValueError, match="outside"):
        P.plot_head_scores(np.zeros((2, 2)), highlight=[(2, 0)])
    with pytest.raises(TypeError, match="numbers"):
        P.plot_head_scores([["a", "b"]])


# --------------------------------------------------------------------------------------
# Attention
# --------------------------------------------------------------------------------------


def test_attention_pattern_shows_the_pattern_with_token_labels():
    pattern = torch.tril(torch.rand(5, 5, generator=torch.Generator().manual_seed(0)))
    tokens = ["<bos>", "o", "gato", "\n", "Ġviu"]
    fig = P.plot_attention_pattern(pattern, tokens, title="Cabeça 1.2")
    (ax,) = main_axes(fig)
    np.testing.assert_allclose(ax.images[0].get_array(), pattern.numpy())
    assert ax.get_title() == "Cabeça 1.2"
    assert ax.get_xlabel() == "Chave (posição atendida)"
    assert ax.get_ylabel() == "Consulta (posição que atende)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["<bos>", "o", "gato", "\\n", " viu"]
    (cbar,) = colorbars(fig)
    assert cbar.get_ylabel() == "Atenção"
    with pytest.raises(ValueError, match="square"):
        P.plot_attention_pattern(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="3 entries but the pattern has 5"):
        P.plot_attention_pattern(pattern, tokens[:3])


def test_attention_grid_has_one_panel_per_head_and_a_shared_colorbar():
    patterns = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    fig = P.plot_attention_grid(patterns, ["a", "b", "c", "d"])
    panels = main_axes(fig)
    assert len(panels) == 6
    assert [ax.get_title() for ax in panels] == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]
    for k, ax in enumerate(panels):
        layer, head = divmod(k, 3)
        np.testing.assert_allclose(ax.images[0].get_array(), patterns[layer, head].numpy())
    assert panels[0].get_ylabel() == "Camada 0" and panels[3].get_ylabel() == "Camada 1"
    assert len(colorbars(fig)) == 1 and colorbars(fig)[0].get_ylabel() == "Atenção"
    assert "Padrões de atenção" in fig.get_suptitle()
    with pytest.raises(ValueError, match="4 dimensions"):
        P.plot_attention_grid(torch.zeros(3, 4, 4))


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------


def test_copy_boundaries_match_the_repeated_token_layout():
    # BOS + 3 copies of 4 tokens: token positions 1..4, 5..8, 9..12; the loss for token p
    # is at index p-1, so the copies start at loss indices 0, 4, 8 and end at 12.
    assert P.copy_boundaries(4, 3) == [0, 4, 8, 12]
    with pytest.raises(ValueError):
        P.copy_boundaries(0, 3)


def test_per_token_loss_curves_labels_and_copy_shading():
    clean = torch.tensor([[3.0, 2.0, 1.0, 0.5, 0.5, 0.25], [1.0, 2.0, 3.0, 0.5, 1.5, 0.75]])  # [batch, T-1]
    ablated = np.array([3.0, 3.0, 3.0, 2.0, 2.0, 2.0])
    fig = P.plot_per_token_loss({"Sem ablação": clean, "Com ablação": ablated}, boundaries=[0, 3, 6])
    (ax,) = main_axes(fig)
    assert ax.get_xlabel() == "Posição t (perda ao prever o token t + 1)" and ax.get_ylabel() == "Perda (nats)"
    assert ax.get_title() == "Perda por posição do token"
    lines = {l.get_label(): l for l in ax.get_lines() if not l.get_label().startswith("_")}
    np.testing.assert_allclose(lines["Sem ablação"].get_ydata(), [2.0, 2.0, 2.0, 0.5, 1.0, 0.5])  # batch mean
    np.testing.assert_allclose(lines["Com ablação"].get_ydata(), ablated)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Sem ablação", "Com ablação"]
    assert "1ª cópia" in texts(ax) and "2ª cópia" in texts(ax)
    # First copy is shaded from -0.5 to 2.5 (positions 0..2).
    spans = [p for p in ax.patches]
    assert len(spans) == 1
    x0 = spans[0].get_x()
    assert x0 == pytest.approx(-0.5) and x0 + spans[0].get_width() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="at least two"):
        P.plot_per_token_loss(ablated, boundaries=[0])
    with pytest.raises(ValueError, match="empty"):
        P.plot_per_token_loss({})


# --------------------------------------------------------------------------------------
# The phase change
# --------------------------------------------------------------------------------------


def test_phase_change_figure_rejects_bad_records():
    bad = make_record()
    bad["loss"] = bad["loss"][:-1]
    with pytest.raises(ValueError, match="loss"):
        P.plot_phase_change(bad)
    with pytest.raises(ValueError, match="lacks"):
        P.plot_phase_change({"steps": [0]})
    with pytest.raises(TypeError):
        P.plot_phase_change([1, 2])
    bad = make_record()
    bad["steps"] = [0, 10, 10, 30, 50]
    with pytest.raises(ValueError, match="increasing"):
        P.plot_phase_change(bad)


def test_phase_change_figure_has_the_curves_and_marks_the_change():
    record = make_record()
    fig = P.plot_phase_change(record)
    ax_loss, ax_score, ax_icl = main_axes(fig)
    assert fig.get_suptitle() == "Mudança de fase durante o treinamento"
    assert ax_icl.get_xlabel() == "Passo de treinamento"
    labelled = {l.get_label(): l for ax in (ax_loss, ax_score, ax_icl) for l in ax.get_lines()}
    np.testing.assert_allclose(labelled["Perda"].get_ydata(), record["loss"])
    np.testing.assert_allclose(labelled["Perda em repetições"].get_ydata(), record["loss_repeats"])
    np.testing.assert_allclose(labelled["Correspondência de prefixo (melhor cabeça)"].get_ydata(), [0.1, 0.12, 0.15, 0.7, 0.8])
    np.testing.assert_allclose(labelled["Token anterior (melhor cabeça)"].get_ydata(), [0.2] * 5)
    np.testing.assert_allclose(labelled["Pontuação de aprendizado em contexto"].get_ydata(), record["icl_score"])
    # A dashed vertical line at the phase change (step 30) in every panel, labelled.
    for ax in (ax_loss, ax_score, ax_icl):
        dashed = [l for l in ax.get_lines() if l.get_linestyle() == "--"]
        assert [float(l.get_xdata()[0]) for l in dashed] == [30.0]
    assert any("mudança de fase" in t for t in texts(ax_loss))
    # A record without a phase change: no dashed line.
    flat = make_record()
    flat["prefix_matching"] = [[[0.05] * 3] * 2] * 5
    assert not [l for l in main_axes(P.plot_phase_change(flat))[0].get_lines() if l.get_linestyle() == "--"]
    fig2 = P.plot_phase_change(record, change_step=20, step=50)
    dashed = [l for l in main_axes(fig2)[0].get_lines() if l.get_linestyle() == "--"]
    assert float(dashed[0].get_xdata()[0]) == 20.0


def test_training_snapshot_shows_the_scores_at_that_step():
    record = make_record()
    fig = P.plot_training_snapshot(record, 30)
    ax_heat, ax_loss = main_axes(fig)
    np.testing.assert_allclose(ax_heat.images[0].get_array(), np.array(record["prefix_matching"][3]))
    assert ax_heat.get_title() == "Passo 30"
    assert ax_heat.get_xlabel() == "Cabeça" and ax_heat.get_ylabel() == "Camada"
    assert colorbars(fig)[0].get_ylabel() == "Correspondência de prefixo"
    markers = [l for l in ax_loss.get_lines() if l.get_marker() == "o"]
    assert sorted(float(m.get_ydata()[0]) for m in markers) == [2.0, 4.2]
    with pytest.raises(ValueError, match="not in the record"):
        P.plot_training_snapshot(record, 31)


# --------------------------------------------------------------------------------------
# Ablation, circuits, scatter
# --------------------------------------------------------------------------------------


def test_ablation_effects_from_a_dict_with_error_bars():
    fig = P.plot_ablation_effects({"Top 3% de indução": 1.5, "Cabeças aleatórias": [0.1, 0.3]})
    (ax,) = main_axes(fig)
    heights = [b.get_height() for b in ax.patches]
    assert heights == pytest.approx([1.5, 0.2])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Top 3% de indução", "Cabeças aleatórias"]
    assert ax.get_ylabel() == "Aumento da perda (nats)" and ax.get_title() == "Efeito da ablação"
    # One error bar (std of [0.1, 0.3] = 0.1), only on the second bar.
    segs = [c for c in ax.collections]
    assert len(segs) == 1
    (seg,) = segs[0].get_segments()
    assert seg[0][0] == pytest.approx(1) and sorted(seg[:, 1]) == pytest.approx([0.1, 0.3])


def test_ablation_effects_from_a_head_grid_sorted():
    effects = torch.tensor([[0.1, -0.2], [0.9, 0.3]])
    fig = P.plot_ablation_effects(effects, sort=True)
    (ax,) = main_axes(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.0", "1.1", "0.0", "0.1"]
    assert [b.get_height() for b in ax.patches] == pytest.approx([0.9, 0.3, 0.1, -0.2])
    assert ax.get_xlabel() == "Cabeça (camada.cabeça)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Camada 0", "Camada 1"]
    with pytest.raises(ValueError, match="empty"):
        P.plot_ablation_effects({})


def test_eigenvalues_plot_positions_and_copying_score():
    lam = torch.tensor([3.0 + 0j, 1 + 1j, 1 - 1j])
    fig = P.plot_eigenvalues(lam, head=(1, 2))
    (ax,) = main_axes(fig)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets(), [[3, 0], [1, 1], [1, -1]])
    expected = 5 / (3 + 2 * math.sqrt(2))  # sum(λ) / sum|λ| = 0.858
    assert f"{expected:+.2f}" in ax.get_title() and "1.2" in ax.get_title()
    assert ax.get_xlabel() == "Parte real" and ax.get_ylabel() == "Parte imaginária"
    assert colorbars(fig)[0].get_ylabel() == "Módulo |λ|"


def test_eigenvalues_of_a_real_head(tiny_model):
    from induction_heads.scores import copying_scores, ov_circuit_eigenvalues

    lam = ov_circuit_eigenvalues(tiny_model, 1, 2)
    fig = P.plot_eigenvalues(lam, head=(1, 2))
    score = float(copying_scores(tiny_model)[1, 2])
    assert f"{score:+.2f}" in main_axes(fig)[0].get_title()


def test_score_scatter_places_every_head_and_labels_the_best():
    x = torch.tensor([[0.1, 0.9], [0.2, 0.3]])
    y = torch.tensor([[0.0, 0.8], [-0.5, 0.1]])
    fig = P.plot_score_scatter(x, y, label_top=1, highlight=[(1, 0)])
    (ax,) = main_axes(fig)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets(), [[0.1, 0.0], [0.9, 0.8], [0.2, -0.5], [0.3, 0.1]])
    assert sorted(texts(ax)) == ["0.1", "1.0"]
    assert ax.get_xlabel() == "Correspondência de prefixo" and ax.get_ylabel() == "Cópia"
    assert colorbars(fig)[0].get_ylabel() == "Camada"
    with pytest.raises(ValueError, match="same shape"):
        P.plot_score_scatter(x, y[:1])


def test_score_scatter_merges_the_labels_of_heads_on_top_of_each_other():
    # Heads 1.0 and 1.1 sit 0.001 apart on axes spanning ~1: one label names both
    # in reading order; head 0.1, far from them, keeps its own label (0.0 is not in the top 3).
    x = torch.tensor([[0.0, 0.5], [0.95, 0.951]])
    y = torch.tensor([[0.0, 0.5], [0.9, 0.901]])
    fig = P.plot_score_scatter(x, y, label_top=3)
    (ax,) = main_axes(fig)
    assert sorted(texts(ax)) == ["0.1", "1.0, 1.1"]


@pytest.fixture(scope="module")
def tiny_model():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=100, n_positions=64)
    return GPT2LMHeadModel(config).eval()


def test_figures_are_not_registered_with_pyplot():
    """Pages end cells with a plot call: a pyplot figure would be shown twice."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    P.plot_head_scores(np.zeros((1, 2)))
    assert plt.get_fignums() == before


def test_figures_show_once_as_png_in_a_real_kernel():
    """In a Jupyter kernel (as in the book build and Colab), a cell ending with a plot call
    shows exactly one PNG, whether or not pyplot was imported."""
    import nbformat
    from nbclient import NotebookClient

    make = "from induction_heads.plots import plot_head_scores\nplot_head_scores([[0.1, 0.9]])"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(make),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n%matplotlib inline"),
        nbformat.v4.new_code_cell(make),
        nbformat.v4.new_code_cell("fig = plot_head_scores([[0.1, 0.9]])\ndisplay(fig)\n1"),
    ])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    for index in (0, 2, 3):
        outputs = nb.cells[index].outputs
        pngs = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1, (index, outputs)
        assert pngs[0]["data"]["image/png"]  # base64 PNG


def test_head_scores_colour_bar_label_does_not_run_into_the_title():
    # toy-2l's grid (2 x 4) with the book's longest labels: the vertical colour-bar label must
    # stay below the title (before wrapping, "Correspondência de prefixo" reached it).
    fig = P.plot_head_scores(torch.rand(2, 4), "Correspondência de prefixo (tokens aleatórios repetidos)",
                             colorbar_label="Correspondência de prefixo")
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    if renderer is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (ax,) = main_axes(fig)
    (cbar,) = colorbars(fig)
    title = ax.title.get_window_extent(renderer)
    label = cbar.yaxis.label.get_window_extent(renderer)
    assert label.y1 <= title.y0, (label, title)
    assert cbar.yaxis.label.get_text().replace("\n", " ") == "Correspondência de prefixo"
