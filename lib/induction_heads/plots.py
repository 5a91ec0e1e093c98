"""Matplotlib figures for the course, with Portuguese titles and labels.

Every function takes plain numbers (NumPy arrays, PyTorch tensors or nested lists: the
library's outputs as they come) and returns a :class:`matplotlib.figure.Figure`. The
figures are built with ``matplotlib.figure.Figure`` rather than ``pyplot``, so

* a page that ends a cell with ``plot_head_scores(scores)`` shows the figure exactly once
  (a pyplot figure would be shown twice: once as the cell's value, once by the inline
  backend), and ``display(fig)`` shows it in the middle of a cell. The figures are
  :class:`CourseFigure`, which renders itself as PNG even where pyplot was never imported
  (``plt.show()`` does not show them: display them, or ``fig.savefig(path)``);
* widgets can redraw a figure many times without filling pyplot's figure registry.

Use ``fig.savefig(path)`` to write one to disk.

Conventions: heads are ``(layer, head)`` and are shown as ``"L.H"``; score arrays are
``[n_layers, n_heads]``; an attention pattern is ``[T, T]`` with rows = queries
(destination positions) and columns = keys (source positions); a per-token loss array is
``[T-1]`` where entry ``t`` is the loss for predicting token ``t+1`` from tokens ``0..t``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .scores import head_name
from .training.record import best_scores, phase_change_step

__all__ = [
    "CourseFigure",
    "copy_boundaries",
    "plot_head_scores",
    "plot_attention_pattern",
    "plot_attention_grid",
    "plot_per_token_loss",
    "plot_phase_change",
    "plot_training_snapshot",
    "plot_ablation_effects",
    "plot_eigenvalues",
    "plot_score_scatter",
]

TITLE_SIZE = 13
LABEL_SIZE = 11
TICK_SIZE = 9
DISPLAY_DPI = 110

# Colours used for lines in every figure (colour-blind-safe Okabe-Ito palette).
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _to_numpy(x, name: str, *, ndim: int | tuple[int, ...] | None = None, dtype=float) -> np.ndarray:
    """Convert a tensor / array / nested list to a NumPy array, checking its dimensions."""
    if x is None:
        raise TypeError(f"{name} must be an array or tensor, not None")
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch
        x = x.detach().cpu()
        if dtype is float and getattr(x, "is_complex", lambda: False)():
            dtype = complex
        x = x.numpy()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def _check_heads(heads, n_layers: int, n_heads: int, name: str = "heads") -> list[tuple[int, int]]:
    out = []
    for item in heads or ():
        try:
            layer, head = (int(v) for v in item)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be (layer, head) pairs, got {item!r}") from None
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ValueError(f"{name}: head {layer}.{head} is outside a {n_layers}x{n_heads} grid")
        out.append((layer, head))
    return out


class CourseFigure(Figure):
    """A matplotlib ``Figure`` that displays itself in Jupyter, Colab and the book build as a
    PNG (``_repr_png_``), with no pyplot figure manager behind it (so it is shown once)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DISPLAY_DPI, bbox_inches="tight")
        return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    return CourseFigure(figsize=(width, height), layout="constrained")


def _text_colour(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = rgba[:3]
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.5 else "white"


def _fit_label(label: str, length_in: float) -> str:
    """``label`` wrapped into lines that fit ``length_in`` inches at LABEL_SIZE (a vertical
    colour-bar label longer than its bar runs into the title)."""
    import textwrap

    chars = max(8, int(length_in * 72 / (0.6 * LABEL_SIZE)))
    return "\n".join(textwrap.wrap(label, chars)) if len(label) > chars else label


def _tick_step(n: int, max_ticks: int) -> int:
    return max(1, math.ceil(n / max_ticks))


def _display_token(tok: str) -> str:
    """Make whitespace visible in tick labels (GPT-2 style ``Ġ`` is shown as a space)."""
    tok = str(tok).replace("Ġ", " ").replace("Ċ", "\\n").replace("\n", "\\n")
    return tok if tok.strip() else repr(tok)


def copy_boundaries(seq_len: int, n_repeats: int) -> list[int]:
    """Where each copy starts on a per-token-loss axis, for :func:`probes.repeated_tokens`.

    A repeated-token sequence is ``BOS`` then ``n_repeats`` copies of ``seq_len`` tokens.
    Copy ``k`` (from 0) holds tokens ``1 + k*seq_len ... (k+1)*seq_len``; the loss for token
    ``p`` sits at index ``p - 1`` of :func:`metrics.per_token_loss`, so copy ``k`` starts at
    loss index ``k * seq_len``. Returns the ``n_repeats + 1`` edges ``[0, seq_len, ...,
    n_repeats*seq_len]``, ready for ``plot_per_token_loss(..., boundaries=...)``.
    """
    if int(seq_len) < 1 or int(n_repeats) < 1:
        raise ValueError(f"seq_len and n_repeats must be >= 1, got {seq_len} and {n_repeats}")
    return [k * int(seq_len) for k in range(int(n_repeats) + 1)]


# --------------------------------------------------------------------------------------
# Head scores
# --------------------------------------------------------------------------------------


def plot_head_scores(
    scores,
    title: str = "Pontuação por cabeça",
    *,
    cmap: str | None = None,
    annotate: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
    highlight: Sequence[tuple[int, int]] | None = None,
    colorbar_label: str = "Pontuação",
    fmt: str = ".2f",
) -> Figure:
    """Heatmap of one score per head: rows are layers ("Camada"), columns heads ("Cabeça").

    ``scores`` is ``[n_layers, n_heads]``. With ``annotate`` each cell shows its value (for
    grids of at most 400 heads). ``highlight`` outlines the given ``(layer, head)`` cells (e.g.
    the top induction heads). The colour map defaults to ``"viridis"``, or the diverging
    ``"RdBu_r"`` centred on 0 when the scores have both signs (e.g. copying scores in [-1, 1]).
    """
    arr = _to_numpy(scores, "scores", ndim=2)
    n_layers, n_heads = arr.shape
    finite = arr[np.isfinite(arr)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    diverging = lo < 0 < hi
    if cmap is None:
        cmap = "RdBu_r" if diverging else "viridis"
    if diverging and vmin is None and vmax is None:
        m = max(abs(lo), abs(hi))
        vmin, vmax = -m, m

    height = max(2.6, 0.45 * n_layers + 1.6)
    fig = _new_figure(max(4.0, 0.55 * n_heads + 2.2), height)
    ax = fig.add_subplot()
    im = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(_fit_label(colorbar_label, height - 1.2), fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)

    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel("Cabeça", fontsize=LABEL_SIZE)
    ax.set_ylabel("Camada", fontsize=LABEL_SIZE)
    ax.set_xticks(range(n_heads))
    ax.set_yticks(range(n_layers))
    ax.tick_params(labelsize=TICK_SIZE)

    if annotate and arr.size <= 400:
        size = 9 if n_heads <= 12 else 7
        for layer in range(n_layers):
            for head in range(n_heads):
                value = arr[layer, head]
                if not np.isfinite(value):
                    continue
                colour = _text_colour(im.cmap(im.norm(value)))
                ax.text(head, layer, format(value, fmt), ha="center", va="center", fontsize=size, color=colour)

    for layer, head in _check_heads(highlight, n_layers, n_heads, "highlight"):
        ax.add_patch(
            _rectangle((head - 0.5, layer - 0.5), 1, 1, fill=False, edgecolor="#D55E00", linewidth=2.5)
        )
    return fig


def _rectangle(*args, **kwargs):
    from matplotlib.patches import Rectangle

    return Rectangle(*args, **kwargs)


# --------------------------------------------------------------------------------------
# Attention patterns
# --------------------------------------------------------------------------------------


def _token_labels(tokens, T: int, name: str = "tokens") -> list[str] | None:
    if tokens is None:
        return None
    labels = [_display_token(t) for t in tokens]
    if len(labels) != T:
        raise ValueError(f"{name} has {len(labels)} entries but the pattern has {T} positions")
    return labels


def plot_attention_pattern(pattern, tokens: Sequence[str] | None = None, title: str = "Padrão de atenção") -> Figure:
    """Heatmap of one head's attention pattern ``[T, T]`` (rows: queries, columns: keys).

    Row ``i`` shows how the token at position ``i`` spreads its attention over positions
    ``0..i`` (the upper triangle is zero: the model is causal). ``tokens`` (length ``T``)
    label the axes; with more than 40 tokens only some labels are shown.
    """
    arr = _to_numpy(pattern, "pattern", ndim=2)
    T = arr.shape[0]
    if arr.shape != (T, T):
        raise ValueError(f"pattern must be square [T, T], got shape {arr.shape}")
    labels = _token_labels(tokens, T)

    side = min(11.0, max(4.5, 0.22 * T + 2.5))
    fig = _new_figure(side + 1.0, side)
    ax = fig.add_subplot()
    im = ax.imshow(arr, cmap="Blues", vmin=0.0, vmax=1.0)
    cbar = fig.colorbar(im, ax=ax, shrink=0.8)
    cbar.set_label("Atenção", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel("Chave (posição atendida)", fontsize=LABEL_SIZE)
    ax.set_ylabel("Consulta (posição que atende)", fontsize=LABEL_SIZE)
    step = _tick_step(T, 40)
    ticks = list(range(0, T, step))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    if labels is not None:
        ax.set_xticklabels([labels[i] for i in ticks], rotation=90, fontsize=TICK_SIZE)
        ax.set_yticklabels([labels[i] for i in ticks], fontsize=TICK_SIZE)
    else:
        ax.tick_params(labelsize=TICK_SIZE)
    return fig


def plot_attention_grid(
    patterns,
    tokens: Sequence[str] | None = None,
    title: str = "Padrões de atenção de todas as cabeças",
) -> Figure:
    """Every head's pattern: ``patterns`` is ``[n_layers, n_heads, T, T]`` (as returned by
    :func:`scores.text_attention`; for :func:`scores.attention_patterns` pick one batch row:
    ``attention_patterns(model, tokens)[:, 0]``). One small heatmap per head, titled
    ``"L.H"``, sharing one colour bar. Token labels are drawn when ``T <= 16``.
    """
    arr = _to_numpy(patterns, "patterns", ndim=4)
    n_layers, n_heads, T, T2 = arr.shape
    if T != T2:
        raise ValueError(f"patterns must be [n_layers, n_heads, T, T], got shape {arr.shape}")
    labels = _token_labels(tokens, T)
    # The page shows the figure about 7.5 inches wide: a wider figure shrinks and its token
    # labels become unreadable, so the cells stay small and the labels comparatively large.
    cell = 1.8 if n_heads <= 8 else 1.4
    label_size = 8 if T <= 13 else 7
    fig = _new_figure(cell * n_heads + 1.2, cell * n_layers + 1.0)
    axes = fig.subplots(n_layers, n_heads, squeeze=False)
    im = None
    show_labels = labels is not None and T <= 16
    for layer in range(n_layers):
        for head in range(n_heads):
            ax = axes[layer, head]
            im = ax.imshow(arr[layer, head], cmap="Blues", vmin=0.0, vmax=1.0)
            ax.set_title(head_name((layer, head)), fontsize=LABEL_SIZE - 1)
            if show_labels and layer == n_layers - 1:
                ax.set_xticks(range(T))
                ax.set_xticklabels(labels, rotation=90, fontsize=label_size)
            else:
                ax.set_xticks([])
            if show_labels and head == 0:
                ax.set_yticks(range(T))
                ax.set_yticklabels(labels, fontsize=label_size)
            else:
                ax.set_yticks([])
    for layer in range(n_layers):
        axes[layer, 0].set_ylabel(f"Camada {layer}", fontsize=LABEL_SIZE)
    cbar = fig.colorbar(im, ax=axes, shrink=0.8)
    cbar.set_label("Atenção", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    fig.suptitle(title, fontsize=TITLE_SIZE)
    return fig


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------


def _loss_curves(losses) -> dict[str, np.ndarray]:
    if isinstance(losses, Mapping):
        if not losses:
            raise ValueError("losses is an empty dict")
        items = list(losses.items())
    else:
        items = [("Perda", losses)]
    curves = {}
    for label, values in items:
        arr = _to_numpy(values, f"losses[{label!r}]", ndim=(1, 2))
        if arr.ndim == 2:  # [batch, T-1]: average over the batch
            arr = arr.mean(axis=0)
        curves[str(label)] = arr
    return curves


#: x axis of per-position losses: entry t is the loss of predicting token t + 1 from tokens 0..t.
LOSS_POSITION_LABEL = "Posição t (perda ao prever o token t + 1)"


def _shade_copies(ax, boundaries, n: int) -> None:
    edges = sorted(float(b) for b in boundaries)
    for k, (start, stop) in enumerate(zip(edges[:-1], edges[1:])):
        if k % 2 == 0:
            ax.axvspan(start - 0.5, stop - 0.5, color="#999999", alpha=0.13, linewidth=0)
        ax.text(
            (start + stop - 1) / 2, 0.98, f"{k + 1}ª cópia", transform=ax.get_xaxis_transform(),
            ha="center", va="top", fontsize=TICK_SIZE, color="#444444",
        )
    for edge in edges[1:-1]:
        ax.axvline(edge - 0.5, color="#777777", linewidth=0.8, linestyle=":")


def plot_per_token_loss(
    losses,
    boundaries: Sequence[int] | None = None,
    title: str = "Perda por posição do token",
    *,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Loss at each position: ``losses`` is ``[T-1]`` (or ``[batch, T-1]``, averaged over the
    batch), or a dict ``label -> losses`` for several curves (e.g. ``{"Limpo": ...,
    "Ablação de 1.2": ...}``). ``boundaries`` are the loss indices where each copy of a
    repeated sequence starts and ends (see :func:`copy_boundaries`): alternate copies are
    shaded and labelled "1ª cópia", "2ª cópia", ...
    """
    curves = _loss_curves(losses)
    n = max(len(v) for v in curves.values())
    fig = _new_figure(8.0, 3.8)
    ax = fig.add_subplot()
    if boundaries is not None:
        if len(boundaries) < 2:
            raise ValueError("boundaries needs at least two edges (start and end of one copy)")
        _shade_copies(ax, boundaries, n)
    for i, (label, values) in enumerate(curves.items()):
        ax.plot(np.arange(len(values)), values, label=label, color=LINE_COLOURS[i % len(LINE_COLOURS)], linewidth=1.6)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(LOSS_POSITION_LABEL, fontsize=LABEL_SIZE)
    ax.set_ylabel("Perda (nats)", fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.set_xlim(-0.5, n - 0.5)
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.set_ylim(bottom=0)
        top = max(float(np.nanmax(v)) for v in curves.values())
        ax.set_ylim(0, top * 1.12 + 1e-9)  # room for the copy labels
    ax.grid(alpha=0.3)
    if isinstance(losses, Mapping):
        # beside the axes: inside, some curve always runs under it
        ax.legend(fontsize=TICK_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


# --------------------------------------------------------------------------------------
# Training record: the phase change
# --------------------------------------------------------------------------------------

_RECORD_KEYS = ("steps", "loss", "loss_repeats", "icl_score", "prefix_matching")


def _check_record(record) -> dict:
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a dict (see training.load_record), got {type(record).__name__}")
    missing = [k for k in _RECORD_KEYS if k not in record]
    if missing:
        raise ValueError(f"record lacks the keys {missing}")
    n = len(record["steps"])
    if n == 0:
        raise ValueError("record has no steps")
    for key in _RECORD_KEYS[1:] + tuple(k for k in ("previous_token",) if k in record):
        if len(record[key]) != n:
            raise ValueError(f"record[{key!r}] has {len(record[key])} entries but record['steps'] has {n}")
    return record


def _record_arrays(record) -> dict[str, np.ndarray]:
    _check_record(record)
    out = {
        "steps": _to_numpy(record["steps"], "record['steps']", ndim=1),
        "loss": _to_numpy(record["loss"], "record['loss']", ndim=1),
        "loss_repeats": _to_numpy(record["loss_repeats"], "record['loss_repeats']", ndim=1),
        "icl_score": _to_numpy(record["icl_score"], "record['icl_score']", ndim=1),
        "prefix_matching": _to_numpy(record["prefix_matching"], "record['prefix_matching']", ndim=3),
    }
    if "previous_token" in record:
        out["previous_token"] = _to_numpy(record["previous_token"], "record['previous_token']", ndim=3)
    if np.any(np.diff(out["steps"]) <= 0):
        raise ValueError("record['steps'] must be strictly increasing")
    return out


def _mark_change(ax, change: float | None) -> None:
    if change is not None:
        ax.axvline(change, color="#D55E00", linestyle="--", linewidth=1.3)


def plot_phase_change(
    record,
    *,
    change_step: int | None = None,
    step: int | None = None,
    title: str = "Mudança de fase durante o treinamento",
) -> Figure:
    """The phase change in one figure, over training steps (from a training record):

    1. the loss on ordinary text ("Perda") and on repeated sequences ("Perda em repetições");
    2. the best prefix-matching score over heads (and the best previous-token score if the
       record has it);
    3. the in-context learning score ("Pontuação de aprendizado em contexto": late-token loss minus early-token
       loss; more negative = more in-context learning).

    The phase change (``change_step``, default :func:`training.phase_change_step`; ``None``
    there means the record shows none) is marked by a dashed line in every panel; ``step``
    adds a marker for the scrubber's current step.
    """
    arrays = _record_arrays(record)
    steps = arrays["steps"]
    change = phase_change_step(record) if change_step is None else change_step
    fig = _new_figure(8.0, 7.5)
    ax_loss, ax_score, ax_icl = fig.subplots(3, 1, sharex=True)

    ax_loss.plot(steps, arrays["loss"], color=LINE_COLOURS[0], label="Perda")
    ax_loss.plot(steps, arrays["loss_repeats"], color=LINE_COLOURS[1], label="Perda em repetições")
    ax_loss.set_ylabel("Perda (nats)", fontsize=LABEL_SIZE)
    ax_loss.legend(fontsize=TICK_SIZE)

    ax_score.plot(steps, best_scores(record, "prefix_matching"), color=LINE_COLOURS[2], label="Correspondência de prefixo (melhor cabeça)")
    if "previous_token" in arrays:
        ax_score.plot(steps, best_scores(record, "previous_token"), color=LINE_COLOURS[3], label="Token anterior (melhor cabeça)")
    ax_score.set_ylabel("Pontuação", fontsize=LABEL_SIZE)
    ax_score.set_ylim(0, 1.02)
    ax_score.legend(fontsize=TICK_SIZE)

    ax_icl.plot(steps, arrays["icl_score"], color=LINE_COLOURS[4], label="Pontuação de aprendizado em contexto")
    ax_icl.axhline(0, color="#777777", linewidth=0.8)
    ax_icl.set_ylabel("Aprendizado em\ncontexto (nats)", fontsize=LABEL_SIZE)
    ax_icl.set_xlabel("Passo de treinamento", fontsize=LABEL_SIZE)
    ax_icl.legend(fontsize=TICK_SIZE)

    for ax in (ax_loss, ax_score, ax_icl):
        _mark_change(ax, change)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=TICK_SIZE)
        if step is not None:
            ax.axvline(step, color="#000000", linewidth=1.0)
    if change is not None:
        ax_loss.text(change, 0.97, " mudança de fase", transform=ax_loss.get_xaxis_transform(),
                     color="#D55E00", fontsize=TICK_SIZE, va="top")
    fig.suptitle(title, fontsize=TITLE_SIZE)
    return fig


def _step_index(steps: np.ndarray, step) -> int:
    matches = np.nonzero(steps == step)[0]
    if len(matches) == 0:
        raise ValueError(f"step {step} is not in the record (logged steps: {int(steps[0])} .. {int(steps[-1])})")
    return int(matches[0])


def plot_training_snapshot(record, step: int, *, change_step: int | None = None) -> Figure:
    """One logged training step: left, the prefix-matching score of every head at ``step``;
    right, the loss curves with a marker at ``step`` (the phase change dashed). The static
    picture of :func:`widgets.phase_change_scrubber`.
    """
    arrays = _record_arrays(record)
    steps = arrays["steps"]
    i = _step_index(steps, step)
    change = phase_change_step(record) if change_step is None else change_step
    scores = arrays["prefix_matching"][i]
    n_layers, n_heads = scores.shape

    fig = _new_figure(11.0, max(3.6, 0.5 * n_layers + 2.2))
    ax_heat, ax_loss = fig.subplots(1, 2, width_ratios=[max(1.0, n_heads / 6), 1.6])
    im = ax_heat.imshow(scores, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    cbar = fig.colorbar(im, ax=ax_heat)
    cbar.set_label("Correspondência de prefixo", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    if scores.size <= 100:
        for layer in range(n_layers):
            for head in range(n_heads):
                v = scores[layer, head]
                ax_heat.text(head, layer, f"{v:.2f}", ha="center", va="center", fontsize=9,
                             color=_text_colour(im.cmap(im.norm(v))))
    ax_heat.set_xticks(range(n_heads))
    ax_heat.set_yticks(range(n_layers))
    ax_heat.set_xlabel("Cabeça", fontsize=LABEL_SIZE)
    ax_heat.set_ylabel("Camada", fontsize=LABEL_SIZE)
    ax_heat.set_title(f"Passo {int(step)}", fontsize=TITLE_SIZE)

    ax_loss.plot(steps, arrays["loss"], color=LINE_COLOURS[0], label="Perda")
    ax_loss.plot(steps, arrays["loss_repeats"], color=LINE_COLOURS[1], label="Perda em repetições")
    ax_loss.plot([steps[i]], [arrays["loss"][i]], "o", color="#000000", markersize=7)
    ax_loss.plot([steps[i]], [arrays["loss_repeats"][i]], "o", color="#000000", markersize=7)
    ax_loss.axvline(steps[i], color="#000000", linewidth=0.8)
    _mark_change(ax_loss, change)
    ax_loss.set_xlabel("Passo de treinamento", fontsize=LABEL_SIZE)
    ax_loss.set_ylabel("Perda (nats)", fontsize=LABEL_SIZE)
    ax_loss.set_title("Perda durante o treinamento", fontsize=TITLE_SIZE)
    ax_loss.legend(fontsize=TICK_SIZE)
    ax_loss.grid(alpha=0.3)
    for ax in (ax_heat, ax_loss):
        ax.tick_params(labelsize=TICK_SIZE)
    return fig


# --------------------------------------------------------------------------------------
# Ablation
# --------------------------------------------------------------------------------------


def plot_ablation_effects(
    effects,
    title: str = "Efeito da ablação",
    *,
    ylabel: str = "Aumento da perda (nats)",
    xlabel: str | None = None,
    sort: bool = False,
) -> Figure:
    """Bar chart of ablation effects.

    ``effects`` is either

    * a dict ``label -> value`` (one bar each, e.g. ``{"Top 3% de indução": 1.2,
      "Cabeças aleatórias": 0.1}``), or ``label -> list of values`` (bar = mean, error bar =
      standard deviation, e.g. several random-head draws);
    * an ``[n_layers, n_heads]`` array (e.g. :func:`ablation.ablation_sweep`): one bar per
      head, labelled ``"L.H"``, coloured by layer.

    Positive values (the loss went up) point up; a zero line is drawn. ``sort`` orders the
    bars from the largest effect down.
    """
    colours = None
    layer_of = None
    if isinstance(effects, Mapping):
        if not effects:
            raise ValueError("effects is an empty dict")
        labels, means, errors = [], [], []
        for label, value in effects.items():
            arr = _to_numpy(value, f"effects[{label!r}]", ndim=(0, 1))
            labels.append(str(label))
            means.append(float(arr.mean()))
            errors.append(float(arr.std()) if arr.ndim == 1 and arr.size > 1 else 0.0)
        xlabel = xlabel if xlabel is not None else ""
    else:
        arr = _to_numpy(effects, "effects", ndim=2)
        n_layers, n_heads = arr.shape
        labels = [head_name((l, h)) for l in range(n_layers) for h in range(n_heads)]
        means = [float(v) for v in arr.reshape(-1)]
        errors = [0.0] * len(means)
        colours = [LINE_COLOURS[l % len(LINE_COLOURS)] for l in range(n_layers) for _ in range(n_heads)]
        layer_of = [l for l in range(n_layers) for _ in range(n_heads)]
        xlabel = xlabel if xlabel is not None else "Cabeça (camada.cabeça)"
    order = list(range(len(labels)))
    if sort:
        order.sort(key=lambda i: -means[i])
    labels = [labels[i] for i in order]
    means = [means[i] for i in order]
    errors = [errors[i] for i in order]
    if colours is None:
        colours = [LINE_COLOURS[i % len(LINE_COLOURS)] for i in range(len(labels))]
    else:
        colours = [colours[i] for i in order]

    fig = _new_figure(max(5.0, 0.42 * len(labels) + 2.0), 4.0)
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    ax.bar(x, means, color=colours)
    with_error = [i for i, e in enumerate(errors) if e > 0]
    if with_error:
        ax.errorbar([x[i] for i in with_error], [means[i] for i in with_error], yerr=[errors[i] for i in with_error],
                    fmt="none", ecolor="#222222", capsize=4, linewidth=1.2)
    if layer_of is not None:
        from matplotlib.patches import Patch

        seen = sorted(set(layer_of))
        ax.legend(handles=[Patch(color=LINE_COLOURS[l % len(LINE_COLOURS)], label=f"Camada {l}") for l in seen],
                  fontsize=TICK_SIZE)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xticks(x)
    rotate = 0 if max(len(s) for s in labels) * len(labels) < 60 else 45
    ax.set_xticklabels(labels, rotation=rotate, ha="right" if rotate else "center", fontsize=TICK_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    ax.grid(axis="y", alpha=0.3)
    return fig


# --------------------------------------------------------------------------------------
# Circuits
# --------------------------------------------------------------------------------------


def plot_eigenvalues(
    eigenvalues,
    head: tuple[int, int] | None = None,
    title: str | None = None,
) -> Figure:
    """Eigenvalues of a head's OV circuit in the complex plane (Elhage et al. 2021).

    ``eigenvalues`` is a 1-D array of complex numbers (e.g. ``torch.linalg.eigvals`` of the
    ``d_head x d_head`` side of ``W_U W_O W_V W_E``). Points are coloured by magnitude; the
    title gives the copying score ``sum(λ) / sum(|λ|)`` (positive: the head copies on
    average). The x axis is symmetric so the reader sees which side dominates.
    """
    lam = _to_numpy(eigenvalues, "eigenvalues", ndim=1, dtype=complex)
    mags = np.abs(lam)
    denom = float(mags.sum())
    score = float(lam.sum().real / denom) if denom > 0 else 0.0
    if title is None:
        title = "Autovalores do circuito OV"
        if head is not None:
            title += f" da cabeça {head_name(head)}"
    fig = _new_figure(6.2, 5.2)
    ax = fig.add_subplot()
    sc = ax.scatter(lam.real, lam.imag, c=mags, cmap="viridis", s=28, edgecolor="black", linewidth=0.3, zorder=3)
    cbar = fig.colorbar(sc, ax=ax)
    cbar.set_label("Módulo |λ|", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    ax.axhline(0, color="#777777", linewidth=0.8, zorder=1)
    ax.axvline(0, color="#777777", linewidth=0.8, zorder=1)
    m = float(max(np.abs(lam.real).max(), np.abs(lam.imag).max(), 1e-12)) * 1.1
    ax.set_xlim(-m, m)
    ax.set_ylim(-m, m)
    ax.set_aspect("equal")
    ax.set_xlabel("Parte real", fontsize=LABEL_SIZE)
    ax.set_ylabel("Parte imaginária", fontsize=LABEL_SIZE)
    ax.set_title(f"{title}\npontuação de cópia Σλ/Σ|λ| = {score:+.2f}", fontsize=TITLE_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    return fig


def plot_score_scatter(
    x_scores,
    y_scores,
    *,
    xlabel: str = "Correspondência de prefixo",
    ylabel: str = "Cópia",
    title: str = "Cada cabeça em duas pontuações",
    highlight: Sequence[tuple[int, int]] | None = None,
    label_top: int = 5,
) -> Figure:
    """One point per head, two scores as coordinates (e.g. prefix matching vs copying, as in
    Olsson et al. 2022: induction heads sit in the top-right corner). Both inputs are
    ``[n_layers, n_heads]``. Points are coloured by layer (colour bar); the ``label_top``
    heads with the largest ``x + y`` and every ``highlight`` head are labelled ``"L.H"``.
    """
    xs = _to_numpy(x_scores, "x_scores", ndim=2)
    ys = _to_numpy(y_scores, "y_scores", ndim=2)
    if xs.shape != ys.shape:
        raise ValueError(f"x_scores and y_scores must have the same shape, got {xs.shape} and {ys.shape}")
    n_layers, n_heads = xs.shape
    layers = np.repeat(np.arange(n_layers), n_heads)
    fig = _new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    from matplotlib import colormaps

    cmap = colormaps["viridis"].resampled(max(n_layers, 2))
    sc = ax.scatter(xs.reshape(-1), ys.reshape(-1), c=layers, cmap=cmap, vmin=-0.5, vmax=n_layers - 0.5,
                    s=40, edgecolor="black", linewidth=0.4, zorder=3)
    cbar = fig.colorbar(sc, ax=ax, ticks=range(n_layers))
    cbar.set_label("Camada", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    total = (xs + ys).reshape(-1)
    chosen = {int(i) for i in np.argsort(-total)[: max(0, int(label_top))]}
    for layer, head in _check_heads(highlight, n_layers, n_heads, "highlight"):
        chosen.add(layer * n_heads + head)
    # Heads closer than 6% of the axes share one label ("1.1, 1.2"), so labels never pile up.
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # positions as fractions of the axes
    fx, fy = (xs.reshape(-1) - x0) / (x1 - x0 or 1), (ys.reshape(-1) - y0) / (y1 - y0 or 1)
    clusters: list[list[int]] = []
    for i in sorted(chosen, key=lambda i: (-total[i], i)):
        for cluster in clusters:
            j = cluster[0]
            if (fx[i] - fx[j]) ** 2 + (fy[i] - fy[j]) ** 2 < 0.06 ** 2:
                cluster.append(i)
                break
        else:
            clusters.append([i])
    for cluster in clusters:
        names = ", ".join(head_name(divmod(i, n_heads)) for i in sorted(cluster))
        anchor = cluster[0]
        right = fx[anchor] > 0.7  # keep labels near the right edge inside
        ax.annotate(names, (xs.flat[anchor], ys.flat[anchor]), xytext=(-4 if right else 4, 4),
                    textcoords="offset points", fontsize=TICK_SIZE, ha="right" if right else "left",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7}, zorder=4)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    return fig
