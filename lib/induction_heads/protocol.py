"""Crosbie & Shutova's ablation protocol in one call, and the pieces the ablation chapter needs.

Crosbie & Shutova (2024, arXiv:2407.07011; Findings of NAACL 2025) test whether induction
heads *cause* few-shot in-context learning:

1. score every head by prefix matching on repeated random tokens
   (:func:`scores.prefix_matching_scores` on :func:`probes.repeated_tokens`);
2. take the top 1% and 3% of heads (:func:`scores.top_heads`, at least one head) and, as a
   control, random heads with the same count in each layer (:func:`scores.random_heads_like`);
3. ablate them (:func:`ablation.ablate_heads`: zero, or the mean over a reference batch) and
   block the induction pattern itself (:func:`ablation.attention_knockout` of the edges
   "query -> the token right after an earlier occurrence of the query's token");
4. measure what is left of in-context learning: few-shot task accuracy
   (:mod:`tasks`), and here also the loss on the repeated copies and the in-context learning
   score (:func:`metrics.icl_score`).

:func:`crosbie_shutova` runs all of it and returns a :class:`ProtocolResult` holding one tidy
row per run (selection, group of heads, intervention, random seed, measurements).

Also here, for the chapter's other experiments: :func:`repeat_loss` /
:func:`repeat_loss_metric` (loss on the later copies of a repeated sequence),
:func:`induction_edges` / :func:`random_edges_like` (what attention knockout blocks, and its
control), :func:`weight_zero_ablation` (zero ablation done by editing ``W_O``, to show it equals
:func:`ablation.ablate_heads`), :func:`seed_comparison` and :func:`plot_zeroed_weights` (what the
seed document's snippet zeroes, against a real head's slice of ``W_O``).
"""

from __future__ import annotations

import contextlib
import html as _html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .ablation import ablate_heads, attention_knockout
from .metrics import default_icl_positions, loss_from_logits, per_token_loss
from .models import check_tokens, get_adapter
from .probes import repeated_tokens
from .scores import head_name, prefix_matching_scores, prefix_matching_targets, random_heads_like, top_heads
from .seed_snippet import _linear_view, seed_ablation, seed_zeroed_mask
from .tasks import FewShotTask, few_shot_task, task_accuracy

__all__ = [
    "GROUP_NAMES",
    "METHOD_NAMES",
    "METRIC_NAMES",
    "ProtocolResult",
    "Table",
    "crosbie_shutova",
    "induction_edges",
    "plot_zeroed_weights",
    "random_edges_like",
    "repeat_loss",
    "repeat_loss_metric",
    "seed_comparison",
    "weight_zero_ablation",
]

#: Display names (Portuguese) of the groups of heads, the interventions and the measurements.
GROUP_NAMES = {"clean": "Sem ablação", "induction": "Indução", "random": "Controle"}
METHOD_NAMES = {
    "none": "—",
    "zero": "zerar",
    "mean": "média",
    "knockout": "bloqueio de indução",
    "knockout_control": "bloqueio sorteado",
}
#: Short column headers of :meth:`ProtocolResult.table` (the caption spells them out).
METRIC_NAMES = {"loss_repeats": "Perda nas repetições", "icl": "ICL"}
TASK_NAMES = {"recall": "recordar", "pattern": "padrão abstrato"}
TASK_HEADERS = {"recall": "Recordar", "pattern": "Padrão"}


# --------------------------------------------------------------------------------------
# Loss on the repeated copies
# --------------------------------------------------------------------------------------


def _check_seq_len(seq_len, n_tokens: int | None = None) -> int:
    if isinstance(seq_len, bool) or not isinstance(seq_len, int):
        raise TypeError(f"seq_len must be an int (the length of one copy), got {seq_len!r}")
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    if n_tokens is not None and 1 + seq_len >= n_tokens:
        raise ValueError(
            f"sequences of {n_tokens} tokens (BOS + copies of {seq_len}) have no second copy: "
            f"they need more than {1 + seq_len} tokens"
        )
    return seq_len


def _repeat_part(losses: torch.Tensor, seq_len: int) -> torch.Tensor:
    # loss index t is the loss on token t + 1; token 1 + seq_len opens the second copy
    return losses[:, seq_len:]


def repeat_loss(model, tokens: torch.Tensor, seq_len: int) -> float:
    """Mean loss (nats) on the tokens of the second and later copies of a repeated sequence.

    ``tokens`` as made by :func:`probes.repeated_tokens` (BOS, then copies of ``seq_len``
    tokens). Every token scored here occurred ``seq_len`` positions before: a model that
    copies from context predicts it well. Runs inside any active ablation.
    """
    tokens = check_tokens(model, tokens)
    seq_len = _check_seq_len(seq_len, tokens.shape[1])
    return float(_repeat_part(per_token_loss(model, tokens), seq_len).mean())


def repeat_loss_metric(seq_len: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``metric(logits, tokens)`` for :func:`ablation.ablation_sweep`: the loss on the later copies."""
    seq_len = _check_seq_len(seq_len)

    def metric(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        _check_seq_len(seq_len, tokens.shape[1])
        return _repeat_part(loss_from_logits(logits, tokens), seq_len).mean()

    return metric


# --------------------------------------------------------------------------------------
# Attention knockout: the induction edges and a control
# --------------------------------------------------------------------------------------


def induction_edges(tokens: torch.Tensor) -> torch.Tensor:
    """Bool mask ``[batch, T, T]`` of the induction edges: ``[b, i, k]`` is True when position
    ``k`` comes right after an earlier occurrence of token ``i`` (``tokens[b, k-1] ==
    tokens[b, i]``, ``k - 1 < i``). Blocking them (:func:`ablation.attention_knockout`) removes
    exactly the attention an induction head uses, nothing else.
    """
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.is_floating_point():
        raise TypeError("tokens must be a [batch, T] integer tensor of token ids")
    return prefix_matching_targets(tokens)[0]


def random_edges_like(block: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A control for a knockout mask: as many blocked edges in each query row as ``block`` has,
    drawn at random among the keys that query may see (``0..i``) and ``block`` leaves open.

    ``block``: bool ``[T, T]`` or ``[batch, T, T]``. A row asking for more edges than it has open
    keys gets all its open keys. Deterministic for ``seed``.
    """
    if not isinstance(block, torch.Tensor) or block.dtype != torch.bool or block.dim() not in (2, 3):
        raise TypeError("block must be a bool tensor [T, T] or [batch, T, T]")
    if block.shape[-1] != block.shape[-2]:
        raise ValueError(f"block must be square in its last two dimensions, got {tuple(block.shape)}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    squeeze = block.dim() == 2
    b = (block[None] if squeeze else block).cpu()
    T = b.shape[-1]
    open_keys = torch.ones(T, T, dtype=torch.bool).tril() & ~b  # [batch, T, T]
    counts = b.sum(-1, keepdim=True)  # edges to block in each query row
    g = torch.Generator().manual_seed(seed)
    # a random order of each row's open keys: rank them by a random key, closed keys last
    noise = torch.rand(b.shape, generator=g).masked_fill(~open_keys, 2.0)
    ranks = noise.argsort(-1).argsort(-1)
    out = (ranks < counts) & open_keys
    out = out.to(block.device)
    return out[0] if squeeze else out


# --------------------------------------------------------------------------------------
# Zero ablation written into the weights (to compare with ablate_heads)
# --------------------------------------------------------------------------------------


def _head_slice_view(adapter, layer: int, head: int) -> torch.Tensor:
    """The head's block of ``W_O`` as a view: the *columns* ``h*d_head:(h+1)*d_head`` of the
    projection's weight seen as an ``nn.Linear`` weight ``[out, in]``."""
    dh = adapter.d_head
    return _linear_view(adapter, layer)[:, head * dh:(head + 1) * dh]


@contextlib.contextmanager
def weight_zero_ablation(model, heads):
    """Context manager: zero ablation done the way Crosbie & Shutova describe it, by setting the
    heads' terms of ``W_O`` to zero *in the weights*.

    For each ``(layer, head)`` the columns ``head*d_head:(head+1)*d_head`` of the output
    projection (seen as an ``nn.Linear`` weight ``[d_model, n_heads*d_head]``; GPT-2's ``Conv1D``
    stores the transpose, handled here) are set to 0 inside ``torch.no_grad()``; every weight
    is restored on exit, also when the block raises. The result equals
    :func:`ablation.ablate_heads` with ``method="zero"`` (which uses hooks and changes no weight).
    """
    adapter = get_adapter(model)
    heads = list(dict.fromkeys(adapter.check_heads(heads)))
    saved = []
    try:
        with torch.no_grad():
            for layer, head in heads:
                view = _head_slice_view(adapter, layer, head)
                saved.append((view, view.detach().clone()))
                view.zero_()
        yield model
    finally:
        with torch.no_grad():
            for view, original in reversed(saved):
                view.copy_(original)


# --------------------------------------------------------------------------------------
# A small table that shows itself in notebooks
# --------------------------------------------------------------------------------------


def _format(value, decimals: int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{decimals}f}"
    if isinstance(value, (list, tuple)) and all(isinstance(h, tuple) and len(h) == 2 for h in value):
        return ", ".join(head_name(h) for h in value) if value else "—"
    return "—" if value is None else str(value)


@dataclass
class Table:
    """Rows of a result table (list of dicts sharing the same keys), shown as an HTML table in
    Jupyter and in the book; ``to_pandas()`` gives a DataFrame (needs pandas)."""

    rows: list[dict]
    columns: list[str] | None = None
    decimals: int = 2
    caption: str | None = None

    def __post_init__(self):
        if not self.rows:
            raise ValueError("a table needs at least one row")
        if self.columns is None:
            self.columns = list(self.rows[0])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]

    def _cells(self) -> list[list[str]]:
        return [[_format(row.get(c), self.decimals) for c in self.columns] for row in self.rows]

    def _repr_html_(self) -> str:
        cell = "padding:0.25em 0.6em;border-bottom:1px solid #ddd;"
        numeric = [all(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in self.rows)
                   for c in self.columns]
        head = "".join(
            f'<th style="{cell}border-bottom:2px solid #888;text-align:{"right" if num else "left"}">{_html.escape(c)}</th>'
            for c, num in zip(self.columns, numeric)
        )
        body = "".join(
            "<tr>" + "".join(
                f'<td style="{cell}text-align:{"right" if num else "left"}">{_html.escape(text)}</td>'
                for text, num in zip(cells, numeric)
            ) + "</tr>"
            for cells in self._cells()
        )
        caption = (f'<caption style="caption-side:bottom;text-align:left;padding-top:0.4em">{_html.escape(self.caption)}</caption>'
                   if self.caption else "")
        return (f'<table class="ih-table" style="border-collapse:collapse;font-size:0.9em">{caption}'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        cells = [self.columns] + self._cells()
        widths = [max(len(r[j]) for r in cells) for j in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(([self.caption] if self.caption else []) + lines)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


@dataclass
class ProtocolResult:
    """What :func:`crosbie_shutova` measured.

    ``scores``: prefix-matching score of every head ``[n_layers, n_heads]``; ``selections``:
    label -> induction heads chosen (e.g. ``{"top 1% / top 3%": [(1, 2)], "top 2": [...]}``;
    fractions that pick the same heads share one label); ``controls``: label -> list of random
    control head sets, one per seed; ``runs``: one dict per run with keys ``selection``,
    ``group`` (``"clean"``, ``"induction"``, ``"random"``), ``method`` (``"none"``, ``"zero"``,
    ``"mean"``, ``"knockout"``, ``"knockout_control"``), ``seed``, ``heads``, ``loss_repeats``,
    ``icl`` and ``acc_<task>`` for each task; ``chance``: task -> chance accuracy.
    """

    scores: torch.Tensor
    selections: dict[str, list[tuple[int, int]]]
    controls: dict[str, list[list[tuple[int, int]]]]
    runs: list[dict]
    chance: dict[str, float]
    tasks: dict[str, FewShotTask] = field(repr=False, default_factory=dict)

    @property
    def metrics(self) -> list[str]:
        return ["loss_repeats", "icl"] + [f"acc_{name}" for name in self.tasks]

    def _check_metric(self, metric: str) -> None:
        if metric not in self.metrics:
            raise ValueError(f"unknown metric {metric!r}; the metrics are {', '.join(self.metrics)}")

    def select(self, *, selection: str | None = None, group: str | None = None, method: str | None = None) -> list[dict]:
        """The runs matching every given field."""
        if selection is not None and selection not in self.selections:
            raise ValueError(f"unknown selection {selection!r}; the selections are {', '.join(self.selections)}")
        if group is not None and group not in GROUP_NAMES:
            raise ValueError(f"unknown group {group!r}; the groups are {', '.join(GROUP_NAMES)}")
        if method is not None and method not in METHOD_NAMES:
            raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHOD_NAMES)}")
        return [
            r for r in self.runs
            if (selection is None or r["selection"] == selection)
            and (group is None or r["group"] == group)
            and (method is None or r["method"] == method)
        ]

    def value(self, metric: str, *, selection: str | None = None, group: str = "clean", method: str | None = None) -> float:
        """Mean of ``metric`` over the matching runs (random controls: over the seeds).

        ``value("acc_recall")`` is the intact model's accuracy;
        ``value("acc_recall", selection=s, group="induction", method="zero")`` after ablation.
        """
        self._check_metric(metric)
        runs = self.select(selection=selection, group=group, method=method)
        if group != "clean" and selection is None and len(self.selections) > 1:
            raise ValueError(f"give selection=: there are several ({', '.join(self.selections)})")
        if not runs:
            raise ValueError(f"no run matches selection={selection!r}, group={group!r}, method={method!r}")
        return float(np.mean([r[metric] for r in runs]))

    def values(self, metric: str, *, selection: str | None = None, group: str = "random", method: str | None = None) -> list[float]:
        """Every matching run's ``metric`` (e.g. one per random control draw)."""
        self._check_metric(metric)
        return [r[metric] for r in self.select(selection=selection, group=group, method=method)]

    def effects(self, metric: str, selection: str, methods: Sequence[str] = ("zero", "mean")) -> dict:
        """``label -> value (or list of values)`` for :func:`plots.plot_ablation_effects`: the
        intact model, then for each method the induction heads and the random controls (a list:
        one value per draw, drawn as mean and standard deviation)."""
        self._check_metric(metric)
        out: dict = {GROUP_NAMES["clean"]: self.value(metric)}
        for method in methods:
            out[f"Indução ({METHOD_NAMES[method]})"] = self.value(metric, selection=selection, group="induction", method=method)
            controls = self.values(metric, selection=selection, group="random", method=method)
            if controls:
                out[f"Controle ({METHOD_NAMES[method]})"] = controls
        return out

    def table(self, *, aggregate: bool = True) -> Table:
        """The results as a :class:`Table` (short Portuguese headers, explained in the caption).
        With ``aggregate`` the random draws of one setting (control heads, or random knockout
        edges) are merged into one row: the mean over the draws, marked "(N sorteios)"; the heads
        column lists every drawn set."""
        task_cols = {f"acc_{t}": TASK_HEADERS.get(t, t) for t in self.tasks}
        cols = {"selection": "Seleção", "group": "Grupo", "heads": "Cabeças", "method": "Intervenção",
                **METRIC_NAMES, **task_cols}
        rows: list[dict] = []
        keys = []
        for r in self.runs:
            key = (r["selection"], r["group"], r["method"]) if aggregate else id(r)
            if key not in keys:
                keys.append(key)
        for key in keys:
            runs = [r for r in self.runs if ((r["selection"], r["group"], r["method"]) if aggregate else id(r)) == key]
            first = runs[0]
            heads = first["heads"]
            group, method = GROUP_NAMES[first["group"]], METHOD_NAMES[first["method"]]
            heads_text = " | ".join(dict.fromkeys(_format(r["heads"], 2) for r in runs))
            if len(runs) > 1:
                distinct = len({tuple(map(tuple, r["heads"])) if first["group"] == "random" else id(r) for r in runs})
                # a small model may leave a single possible draw (e.g. 2 of the 2 heads left in a layer)
                drawn = f" ({len(runs)} sorteios{', todos iguais' if distinct == 1 else ''})"
                if first["group"] == "random":
                    group += drawn
                else:
                    method += drawn
            row = {
                cols["selection"]: first["selection"] or "—",
                cols["group"]: group,
                cols["heads"]: heads_text,
                cols["method"]: method,
            }
            for metric in self.metrics:
                row[cols[metric]] = float(np.mean([r[metric] for r in runs]))
            rows.append(row)
        tasks = "; ".join(
            f"{TASK_HEADERS.get(t, t)}: acurácia na tarefa de {TASK_NAMES.get(t, t)} (acaso {c:.2f})"
            for t, c in self.chance.items()
        )
        caption = ("Perda nas repetições: perda média (nats) nas cópias repetidas. ICL: pontuação de aprendizado "
                   "em contexto (nats; quanto mais negativa, mais aprendizado em contexto). "
                   + (f"{tasks}. " if tasks else "") + "Linhas com sorteios: média deles.")
        return Table(rows, caption=caption)


def _check_fraction(f) -> float:
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
        raise ValueError(f"each fraction must be a number in (0, 1], got {f!r}")
    return float(f)


def _percent(f: float) -> str:
    text = f"{100 * f:.2f}".rstrip("0").rstrip(".")
    return f"top {text}%"


@torch.no_grad()
def crosbie_shutova(
    model,
    tokenizer,
    *,
    tokens: torch.Tensor | None = None,
    seq_len: int = 25,
    fractions: Sequence[float] = (0.01, 0.03),
    k: int | None = None,
    methods: Sequence[str] = ("zero", "mean", "knockout"),
    n_random: int = 3,
    seed: int = 0,
    reference: torch.Tensor | None = None,
    tasks: Mapping[str, FewShotTask] | None = None,
    progress: bool = True,
) -> ProtocolResult:
    """Run Crosbie & Shutova's protocol on ``model`` and return every measurement.

    * Heads are scored by prefix matching on ``tokens`` (default:
      ``repeated_tokens(tokenizer, seq_len=seq_len, seed=seed)``, 10 rows of 4 copies).
    * Selections: the top ``fractions`` of heads (``top_heads(fraction=f)``, at least one head)
      and, if ``k`` is given, the top ``k``; selections that pick the same heads are merged.
    * For each selection, the induction heads and ``n_random`` random control sets
      (``random_heads_like(heads, model, seed=seed + i)``, same count per layer; when a layer
      has too few other heads there is no control: ``controls[label]`` is empty) go through each of
      ``methods``: ``"zero"`` and ``"mean"`` ablation (:func:`ablation.ablate_heads`; the mean
      is taken over ``reference``, default a second batch of repeated random tokens with seed
      ``seed + 1``) and ``"knockout"`` (:func:`ablation.attention_knockout` of
      :func:`induction_edges` of each input). Knockout is run on the induction heads only (random
      heads barely attend along those edges); its control is ``"knockout_control"``: in the same
      heads, as many edges blocked in each query row, drawn at random (:func:`random_edges_like`,
      one draw per control seed, ``max(1, n_random)`` draws).
    * Each run measures the loss on the repeated copies (:func:`repeat_loss`), the in-context
      learning score (:func:`metrics.icl_score` on ``tokens``) and the accuracy on each few-shot
      task (default: ``few_shot_task(tokenizer, kind, seed=seed)`` for ``"recall"`` and
      ``"pattern"``, 8 examples, 64 prompts).
    """
    methods = list(methods)
    for m in methods:
        if m not in ("zero", "mean", "knockout"):
            raise ValueError(f"unknown method {m!r}; use 'zero', 'mean' and/or 'knockout'")
    if not methods:
        raise ValueError("give at least one method")
    for name, value, low in (("n_random", n_random, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    fractions = [_check_fraction(f) for f in fractions]
    if not fractions and k is None:
        raise ValueError("give at least one fraction or k")
    if tokens is None:
        tokens = repeated_tokens(tokenizer, seq_len=seq_len, seed=seed)
    tokens = check_tokens(model, tokens)
    seq_len = _check_seq_len(seq_len, tokens.shape[1])
    if "mean" in methods and reference is None:
        reference = repeated_tokens(tokenizer, seq_len=seq_len, n_repeats=max(1, (tokens.shape[1] - 1) // seq_len),
                                    seed=seed + 1)
    if tasks is None:
        tasks = {kind: few_shot_task(tokenizer, kind, seed=seed) for kind in ("recall", "pattern")}
    if not isinstance(tasks, Mapping) or not all(isinstance(t, FewShotTask) for t in tasks.values()):
        raise TypeError("tasks must be a dict name -> FewShotTask (from tasks.few_shot_task)")
    tasks = dict(tasks)

    scores = prefix_matching_scores(model, tokens)
    wanted = [(_percent(f), top_heads(scores, fraction=f)) for f in fractions]
    if k is not None:
        wanted.append((f"top {k}", top_heads(scores, k=k)))
    merged: list[tuple[list[str], list]] = []  # selections that pick the same heads share a label
    for label, heads in wanted:
        for labels, old_heads in merged:
            if sorted(old_heads) == sorted(heads):
                if label not in labels:
                    labels.append(label)
                break
        else:
            merged.append(([label], heads))
    selections = {" / ".join(labels): heads for labels, heads in merged}

    controls: dict[str, list] = {}
    for label, heads in selections.items():
        try:
            controls[label] = [random_heads_like(heads, model, seed=seed + i) for i in range(n_random)]
        except ValueError:
            controls[label] = []

    # Every run: (selection, group, method, seed, heads, context factory(tokens) -> context manager)
    plans = [("", "clean", "none", None, [], lambda toks: contextlib.nullcontext())]

    def ablation(heads, method):
        ref = reference if method == "mean" else None
        return lambda toks: ablate_heads(model, heads, method=method, reference=ref)

    def knockout(heads, control_seed=None):
        def make(toks):
            block = induction_edges(toks)
            if control_seed is not None:
                block = random_edges_like(block, seed=control_seed)
            return attention_knockout(model, heads, block)

        return make

    for label, heads in selections.items():
        for method in methods:
            build = knockout(heads) if method == "knockout" else ablation(heads, method)
            plans.append((label, "induction", method, None, heads, build))
            if method == "knockout":
                continue  # random heads barely use the induction edges: the control is random edges
            for i, control in enumerate(controls[label]):
                plans.append((label, "random", method, seed + i, control, ablation(control, method)))
        if "knockout" in methods:
            for i in range(max(1, n_random)):
                plans.append((label, "induction", "knockout_control", seed + i, heads, knockout(heads, seed + i)))

    from tqdm.auto import tqdm

    early, late = default_icl_positions(tokens.shape[1])
    runs = []
    for label, group, method, run_seed, heads, build in tqdm(plans, desc="protocolo", disable=not progress):
        row = {"selection": label, "group": group, "method": method, "seed": run_seed, "heads": list(heads)}
        with build(tokens):
            losses = per_token_loss(model, tokens)
        row["loss_repeats"] = float(_repeat_part(losses, seq_len).mean())
        row["icl"] = float(losses[:, late - 1].mean() - losses[:, early - 1].mean())  # = icl_score(model, tokens)
        for name, task in tasks.items():
            with build(task.tokens):
                row[f"acc_{name}"] = task_accuracy(model, task)
        runs.append(row)
    return ProtocolResult(
        scores=scores, selections=selections, controls=controls, runs=runs,
        chance={name: task.chance for name, task in tasks.items()}, tasks=tasks,
    )


# --------------------------------------------------------------------------------------
# The seed's snippet against a correct ablation
# --------------------------------------------------------------------------------------


def seed_comparison(model, tokens: torch.Tensor, seq_len: int, heads, also_indices: Sequence[Sequence[int]] = ()) -> Table:
    """What the seed document's snippet does when asked to ablate ``heads``, next to a correct
    ablation of the same heads, as a :class:`Table`.

    The snippet only takes head *indices* (it drops the layers), so it is called with
    ``[h for (layer, h) in heads]``. Rows: the intact model; :func:`ablation.ablate_heads` of
    ``heads``; :func:`weight_zero_ablation` of ``heads`` (the same thing done in ``W_O``); the
    snippet (:func:`seed_snippet.seed_ablation`); then the snippet with each index list in
    ``also_indices`` (e.g. ``[[0]]``; lists equal to one already shown are skipped). Columns: the
    weights of ``W_O`` set to zero (summed over layers), the layers touched, and the loss on the
    repeated copies.
    """
    adapter = get_adapter(model)
    heads = list(dict.fromkeys(adapter.check_heads(heads)))
    if not heads:
        raise ValueError("give at least one (layer, head) to ablate")
    tokens = check_tokens(model, tokens)
    seq_len = _check_seq_len(seq_len, tokens.shape[1])
    indices = sorted({h for _, h in heads})
    runs = [indices]
    for extra in also_indices:
        extra = sorted({int(h) for h in extra})
        if not extra or any(h < 0 for h in extra):
            raise ValueError(f"also_indices must hold non-empty lists of head indices >= 0, got {extra!r}")
        if extra not in runs:
            runs.append(extra)
    per_head = adapter.d_model * adapter.d_head
    names = ", ".join(head_name(h) for h in heads)
    cols = ("Ablação", "Pesos de W_O zerados", "Camadas atingidas", "Perda nas repetições (nats)")

    def row(label, zeroed, layers, loss):
        return dict(zip(cols, (label, str(zeroed), layers, loss)))

    touched = sorted({layer for layer, _ in heads})
    rows = [row("Sem ablação", 0, "—", repeat_loss(model, tokens, seq_len))]
    with ablate_heads(model, heads):
        rows.append(row(f"ablate_heads([{names}]) (ganchos)", len(heads) * per_head,
                        ", ".join(map(str, touched)), repeat_loss(model, tokens, seq_len)))
    with weight_zero_ablation(model, heads):
        rows.append(row(f"bloco de cada cabeça em W_O zerado ({names})", len(heads) * per_head,
                        ", ".join(map(str, touched)), repeat_loss(model, tokens, seq_len)))
    for run in runs:
        masks = [seed_zeroed_mask(adapter, layer, run) for layer in range(adapter.n_layers)]
        layers = [layer for layer, m in enumerate(masks) if bool(m.any())]
        with seed_ablation(model, run):
            rows.append(row(f"trecho do texto de origem, head_indices={run}", int(sum(int(m.sum()) for m in masks)),
                            ", ".join(map(str, layers)) or "nenhuma", repeat_loss(model, tokens, seq_len)))
    return Table(rows, columns=list(cols), decimals=3)


def plot_zeroed_weights(model, layer: int, head_indices: Sequence[int] = (0, 1)):
    """Which weights of layer ``layer``'s ``W_O`` (seen as ``[out, in]`` = ``[d_model,
    n_heads*d_head]``) get zeroed: top row, the seed's snippet called with each index in
    ``head_indices``; bottom row, a real ablation of head ``layer.h`` (its columns). Dotted lines
    mark the heads' column blocks; the title of each panel gives the count of zeroed weights.
    """
    from matplotlib.colors import ListedColormap

    from .plots import LABEL_SIZE, TICK_SIZE, TITLE_SIZE, _new_figure

    adapter = get_adapter(model)
    layer = adapter.check_head((layer, 0))[0]
    head_indices = [int(h) for h in head_indices]
    if not head_indices:
        raise ValueError("give at least one head index")
    for h in head_indices:
        if not 0 <= h < adapter.n_heads:
            raise ValueError(f"head index {h} is outside 0..{adapter.n_heads - 1}")
    shape = tuple(_linear_view(adapter, layer).shape)
    dh = adapter.d_head
    cmap = ListedColormap(["#E8EEF4", "#D55E00"])
    n = len(head_indices)
    fig = _new_figure(2.9 * n + 1.4, 6.2)
    axes = fig.subplots(2, n, squeeze=False)
    im = None
    for j, h in enumerate(head_indices):
        seed_mask = seed_zeroed_mask(adapter, layer, [h])
        right = torch.zeros(shape, dtype=torch.bool)
        right[:, h * dh:(h + 1) * dh] = True
        for i, (mask, title) in enumerate(((seed_mask, f"Trecho: head_idx={h}"), (right, f"Correto: cabeça {layer}.{h}"))):
            ax = axes[i, j]
            im = ax.imshow(mask.numpy().astype(float), cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
            for c in range(1, adapter.n_heads):
                ax.axvline(c * dh - 0.5, color="#555555", linewidth=0.6, linestyle=":")
            ax.set_title(f"{title}\n{int(mask.sum())} pesos zerados", fontsize=LABEL_SIZE)
            ax.tick_params(labelsize=TICK_SIZE)
            if j == 0:
                ax.set_ylabel("Linha (saída)", fontsize=LABEL_SIZE)
            if i == 1:
                ax.set_xlabel("Coluna (entrada = cabeças)", fontsize=LABEL_SIZE)
    cbar = fig.colorbar(im, ax=axes, ticks=[0.25, 0.75], shrink=0.6)
    cbar.ax.set_yticklabels(["intacto", "zerado"], fontsize=TICK_SIZE)
    cbar.set_label("Peso de W_O", fontsize=LABEL_SIZE)
    fig.suptitle(f"Pesos zerados em W_O da camada {layer} ({shape[0]} × {shape[1]})", fontsize=TITLE_SIZE)
    return fig
