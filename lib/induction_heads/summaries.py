"""Small summaries the book's opening and closing pages show.

* :func:`parameter_fingerprint`: a SHA-256 of every parameter, to show that in-context learning
  changes no weight (the fingerprint is the same before and after the model reads a context);
* :func:`loss_by_copy`: the mean loss on each copy of Olsson et al.'s repeated random tokens;
* :func:`text_token_losses`, :func:`phrase_spans`, :func:`span_losses` and
  :func:`plot_token_losses`: the loss on every token of a text with a repeated phrase;
* :func:`induction_summary` and :func:`summary_table`: one row per model with the numbers that
  tell whether it has induction heads (best prefix-matching score, in-context learning score,
  loss on the first and on the later copies);
* :func:`glue`: myst-nb's ``glue`` in the book build, a no-op where myst-nb is missing (Colab).
"""

from __future__ import annotations

import hashlib
import html as _html
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from .metrics import icl_score, per_token_loss
from .models import check_tokens
from .plots import LABEL_SIZE, LINE_COLOURS, TICK_SIZE, TITLE_SIZE, _display_token, _new_figure
from .scores import encode_text, head_name, prefix_matching_scores, token_strings, top_heads

__all__ = [
    "parameter_fingerprint",
    "loss_by_copy",
    "text_token_losses",
    "phrase_spans",
    "span_losses",
    "plot_token_losses",
    "induction_summary",
    "SummaryTable",
    "summary_table",
    "glue",
]


class PlainText(str):
    """A string whose ``repr`` is itself (no quotes), so ``{glue:text}`` shows ``1.2``, not ``'1.2'``."""

    def __repr__(self) -> str:
        return str.__str__(self)


def glue(name: str, value, display: bool = False):
    """Store ``value`` under ``name`` for the page's prose (myst-nb's ``glue``; the book uses
    ``{glue:text}`name:.2f```). Strings are stored as :class:`PlainText` so they appear without
    quotes; tensors holding one number as a Python float. Where myst-nb is not installed (Colab, a
    plain Jupyter), it does nothing, or shows the value when ``display`` is true, so a page runs
    everywhere."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue name must be a non-empty string, got {name!r}")
    if isinstance(value, str):
        value = PlainText(value)
    elif isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"glue {name!r}: a tensor must hold one number, got shape {tuple(value.shape)}")
        value = value.item()
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:
        if display:
            from IPython.display import display as _show

            _show(value)
        return None
    return _myst_glue(name, value, display=display)


# --------------------------------------------------------------------------------------
# The weights do not change
# --------------------------------------------------------------------------------------


def parameter_fingerprint(model) -> str:
    """SHA-256 (hex) of every parameter of ``model``: names, dtypes, shapes and bytes, in order.

    Two models (or one model at two moments) have the same fingerprint exactly when every
    parameter is bit-for-bit the same. Buffers (e.g. fixed causal masks) are not included.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    digest = hashlib.sha256()
    n = 0
    for name, param in model.named_parameters():
        tensor = param.detach().to("cpu").contiguous()
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(repr(tuple(tensor.shape)).encode())
        # view as bytes: works for every dtype (bfloat16 has no NumPy equivalent)
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        n += 1
    if n == 0:
        raise ValueError("model has no parameters to fingerprint")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# Loss copy by copy
# --------------------------------------------------------------------------------------


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def loss_by_copy(losses: torch.Tensor, seq_len: int, n_repeats: int) -> torch.Tensor:
    """Mean loss on each copy of a repeated-token sequence, ``[n_repeats]``.

    ``losses`` is :func:`metrics.per_token_loss` of :func:`probes.repeated_tokens` (``[batch,
    T-1]`` or one row ``[T-1]``, with ``T - 1 == seq_len * n_repeats``). Copy ``k`` (from 0) holds
    the tokens ``1 + k*seq_len ... (k+1)*seq_len``, whose losses sit at indices ``k*seq_len ...
    (k+1)*seq_len - 1``; entry ``k`` is their mean over positions and the batch.
    """
    seq_len = _check_positive_int("seq_len", seq_len)
    n_repeats = _check_positive_int("n_repeats", n_repeats)
    if not isinstance(losses, torch.Tensor):
        raise TypeError(f"losses must be a tensor [batch, T-1], got {type(losses).__name__}")
    if losses.dim() == 1:
        losses = losses[None]
    if losses.dim() != 2:
        raise ValueError(f"losses must be [batch, T-1] or [T-1], got shape {tuple(losses.shape)}")
    if losses.shape[1] != seq_len * n_repeats:
        raise ValueError(
            f"losses has {losses.shape[1]} positions but seq_len * n_repeats = {seq_len * n_repeats}: "
            "pass the per-token loss of repeated_tokens(seq_len=..., n_repeats=...) with the same numbers"
        )
    return losses.float().reshape(losses.shape[0], n_repeats, seq_len).mean(dim=(0, 2))


# --------------------------------------------------------------------------------------
# A text with a repeated phrase
# --------------------------------------------------------------------------------------


def text_token_losses(model, tokenizer, text: str) -> tuple[list[str], torch.Tensor]:
    """Tokens of ``text`` (with the BOS token first) and the loss on each token after it.

    Returns ``(tokens, losses)`` with ``len(tokens) == T`` and ``losses[t - 1]`` the loss (nats)
    on ``tokens[t]`` given ``tokens[:t]``. Raises ``ValueError`` if a word of ``text`` is not in
    the tokenizer's vocabulary (it would become the unknown token and mislead the reader).
    """
    ids = encode_text(tokenizer, text)
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None and bool((ids[0, 1:] == unk).any()):
        words = [tokenizer.decode([int(i)]) for i in ids[0]]
        bad = [i for i in range(1, ids.shape[1]) if int(ids[0, i]) == unk]
        raise ValueError(
            f"the text has {len(bad)} token(s) outside the vocabulary (positions {bad}, shown as {words[bad[0]]!r}); "
            "use only the model's words"
        )
    losses = per_token_loss(model, ids)[0]
    return token_strings(tokenizer, ids[0]), losses


def phrase_spans(tokens: Sequence[str], phrase: Sequence[str]) -> list[tuple[int, int]]:
    """Every place ``phrase`` (a list of token strings) occurs in ``tokens``, as ``(start, stop)``
    token positions (``tokens[start:stop] == phrase``), left to right, without overlaps."""
    tokens = [str(t).strip() for t in tokens]
    phrase = [str(t).strip() for t in phrase]
    if not phrase:
        raise ValueError("phrase is empty")
    spans, i, n = [], 0, len(phrase)
    while i + n <= len(tokens):
        if tokens[i : i + n] == phrase:
            spans.append((i, i + n))
            i += n
        else:
            i += 1
    return spans


def span_losses(losses: torch.Tensor, spans: Sequence[tuple[int, int]], *, skip_first: bool = True) -> list[float]:
    """Mean loss over the tokens of each span (token positions, as from :func:`phrase_spans`).

    ``losses`` is the ``[T-1]`` output of :func:`text_token_losses` (the loss on token ``t`` is
    ``losses[t - 1]``). With ``skip_first`` the first token of each span is left out: nothing in
    the context announces where a repetition starts, so only the tokens after it can be copied.
    """
    if not isinstance(losses, torch.Tensor) or losses.dim() != 1:
        raise ValueError("losses must be a 1-D tensor [T-1] (one text)")
    out = []
    for start, stop in spans:
        first = start + 1 if skip_first else start
        if not 1 <= first < stop <= losses.shape[0] + 1:
            raise ValueError(
                f"span ({start}, {stop}) has no scored token inside a text of {losses.shape[0] + 1} tokens "
                "(position 0, the BOS token, has no loss)"
            )
        out.append(float(losses[first - 1 : stop - 1].mean()))
    return out


def plot_token_losses(
    tokens: Sequence[str],
    losses,
    spans: Sequence[tuple[int, int]] = (),
    title: str = "Perda em cada token do texto",
):
    """Bar chart of the loss on every token of a text (the first token, BOS, has none).

    ``tokens`` has ``T`` entries and ``losses`` ``T - 1`` (as :func:`text_token_losses` returns).
    Bars of the tokens inside ``spans`` are coloured by occurrence ("1ª ocorrência", "2ª
    ocorrência", ...); the others are grey.
    """
    arr = np.asarray(losses.detach().cpu() if hasattr(losses, "detach") else losses, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"losses must be a non-empty 1-D array [T-1], got shape {arr.shape}")
    if len(tokens) != arr.size + 1:
        raise ValueError(f"tokens has {len(tokens)} entries; losses needs exactly one fewer, got {arr.size}")
    colours = ["#BBBBBB"] * arr.size
    handles = []
    from matplotlib.patches import Patch

    for k, (start, stop) in enumerate(spans):
        if not 0 <= start < stop <= len(tokens):
            raise ValueError(f"span ({start}, {stop}) is outside the {len(tokens)} tokens")
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        for t in range(max(start, 1), stop):
            colours[t - 1] = colour
        handles.append(Patch(color=colour, label=f"{k + 1}ª ocorrência"))
    if spans:
        handles.append(Patch(color="#BBBBBB", label="resto do texto"))

    fig = _new_figure(max(6.0, 0.32 * arr.size + 1.5), 3.8)
    ax = fig.add_subplot()
    x = np.arange(arr.size)
    ax.bar(x, arr, color=colours)
    ax.set_xticks(x)
    ax.set_xticklabels([_display_token(t) for t in tokens[1:]], rotation=90, fontsize=TICK_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel("Token previsto", fontsize=LABEL_SIZE)
    ax.set_ylabel("Perda (nats)", fontsize=LABEL_SIZE)
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    ax.grid(axis="y", alpha=0.3)
    if handles:
        ax.legend(handles=handles, fontsize=TICK_SIZE)
    return fig


# --------------------------------------------------------------------------------------
# One row per model
# --------------------------------------------------------------------------------------


def induction_summary(model, tokens: torch.Tensor, *, seq_len: int, n_repeats: int) -> dict:
    """The numbers that tell whether ``model`` has induction heads, on repeated random tokens.

    ``tokens`` is :func:`probes.repeated_tokens` with the given ``seq_len`` and ``n_repeats``
    (``n_repeats >= 2``). Returns a dict with

    * ``"best_head"`` (``"L.H"``) and ``"best_prefix_matching"``: the head with the highest
      prefix-matching score and that score;
    * ``"icl_score"``: :func:`metrics.icl_score` with its default positions;
    * ``"loss_first_copy"`` and ``"loss_later_copies"``: mean loss on the 1st copy and on the
      2nd and later copies (:func:`loss_by_copy`);
    * ``"n_layers"``, ``"n_heads"``.
    """
    seq_len = _check_positive_int("seq_len", seq_len)
    n_repeats = _check_positive_int("n_repeats", n_repeats)
    if n_repeats < 2:
        raise ValueError("n_repeats must be at least 2: with one copy nothing repeats")
    tokens = check_tokens(model, tokens)
    if tokens.shape[1] != 1 + seq_len * n_repeats:
        raise ValueError(
            f"tokens have {tokens.shape[1]} positions, expected 1 + seq_len * n_repeats = {1 + seq_len * n_repeats}"
        )
    scores = prefix_matching_scores(model, tokens)
    best = top_heads(scores, k=1)[0]
    per_copy = loss_by_copy(per_token_loss(model, tokens), seq_len, n_repeats)
    return {
        "best_head": head_name(best),
        "best_prefix_matching": float(scores[best]),
        "icl_score": icl_score(model, tokens),
        "loss_first_copy": float(per_copy[0]),
        "loss_later_copies": float(per_copy[1:].mean()),
        "n_layers": int(scores.shape[0]),
        "n_heads": int(scores.shape[1]),
    }


#: Row labels (Portuguese) of :func:`summary_table`, in order, with their number formats.
SUMMARY_ROWS = (
    ("n_layers", "Camadas", "d"),
    ("best_head", "Cabeça de maior correspondência de prefixo", "s"),
    ("best_prefix_matching", "Pontuação de correspondência de prefixo dessa cabeça", ".2f"),
    ("icl_score", "Pontuação de aprendizado em contexto (nats)", "+.2f"),
    ("loss_first_copy", "Perda na 1ª cópia (nats)", ".2f"),
    ("loss_later_copies", "Perda nas cópias seguintes (nats)", ".2f"),
)


class SummaryTable:
    """Summaries from :func:`induction_summary`, one per model, shown as a table in a notebook:
    one column per model, one row per quantity (so a few models fit a narrow page).

    ``rows`` maps the model's label to its summary dict; ``table[label][key]`` reads a value.
    """

    def __init__(self, rows: Mapping[str, dict]):
        self.rows = dict(rows)

    def __getitem__(self, label: str) -> dict:
        return self.rows[label]

    def _cells(self) -> list[tuple[str, list[str]]]:
        return [(label, [format(row[key], fmt) for row in self.rows.values()]) for key, label, fmt in SUMMARY_ROWS]

    def _repr_html_(self) -> str:
        cell = "padding:0.25em 0.8em;border-bottom:1px solid #ddd"
        head = "".join(f'<th style="{cell};text-align:right">{_html.escape(name)}</th>' for name in self.rows)
        body = "".join(
            f'<tr><td style="{cell}">{_html.escape(label)}</td>'
            + "".join(f'<td style="{cell};text-align:right">{_html.escape(v)}</td>' for v in values)
            + "</tr>"
            for label, values in self._cells()
        )
        return (
            '<table class="ih-summary" style="border-collapse:collapse">'
            f'<thead><tr><th style="{cell};text-align:left">Grandeza</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        lines = [["Grandeza", *self.rows]] + [[label, *values] for label, values in self._cells()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
        return "\n".join(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
            for line in lines
        )


def summary_table(models: Mapping[str, tuple], *, seq_len: int = 25, n_repeats: int = 4, batch: int = 10,
                  seed: int = 0) -> SummaryTable:
    """:func:`induction_summary` of several models on the same kind of probe.

    ``models`` maps a label to ``(model, tokenizer)`` (as :func:`models.load_model` returns).
    Each model gets :func:`probes.repeated_tokens` of its own tokenizer with the given
    ``seq_len``, ``n_repeats``, ``batch`` and ``seed``.
    """
    from .probes import repeated_tokens

    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty dict label -> (model, tokenizer)")
    rows = {}
    for label, pair in models.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"models[{label!r}] must be a (model, tokenizer) pair, got {type(pair).__name__}")
        model, tokenizer = pair
        tokens = repeated_tokens(tokenizer, seq_len=seq_len, n_repeats=n_repeats, batch=batch, seed=seed)
        rows[str(label)] = induction_summary(model, tokens, seq_len=seq_len, n_repeats=n_repeats)
    return SummaryTable(rows)
