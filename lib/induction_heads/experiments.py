"""Small experiments for the closing chapters: implications, perspectives, advanced questions.

Each one runs in seconds on a CPU, so the book computes it when it is built.

* **Smeared keys** (Olsson et al. 2022): :func:`add_smeared_keys` gives each head of a GPT-2
  model a learnable mix of the key at position ``j`` and the key at ``j - 1``; with it one
  layer is enough for an induction head. :func:`smeared_key_mix` reads the learned mixes.
* **Quick training**: :data:`TINY_CONFIG` and :func:`quick_train`, a tiny model trained for a
  hundred steps with the library's corpus, model builder and measurements; its record has the
  keys of :func:`training.load_record`'s, so :mod:`plots` draws it. :func:`plot_runs` compares
  runs.
* **K-composition, measured causally**: :func:`upstream_ablation` ablates each head of the
  earlier layers in turn and re-measures the prefix-matching score of a later layer's heads.
* **Identifying heads depends on choices**: :func:`probe_sensitivity` (the top heads under
  different probes) and :func:`selection_sizes` (how many heads "the top 1% / 3%" is).
* **Where copying misleads**: :func:`divergent_repeats` + :func:`copy_misleading` (a repeated
  sequence whose second copy differs in one token), and :func:`copy_outcome_losses` (on
  ordinary text: positions where copying the earlier continuation is right or wrong, with and
  without ablating heads).
* **An explicit induction head**: :func:`induction_rule_logprobs` (the rule ``AB...A -> B`` as
  a count-based predictor, no parameters) and :func:`explicit_induction_losses` (a model mixed
  with it).
* :func:`toy_language_text`: held-out sequences of the toy models' language (no repeats).
* Figures: :func:`plot_score_panels` (score heatmaps side by side, one colour scale) and
  :func:`plot_upstream_ablation`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .ablation import ablate_heads
from .metrics import per_token_loss
from .models import check_tokens, get_adapter, input_device
from .plots import LABEL_SIZE, LINE_COLOURS, TICK_SIZE, TITLE_SIZE, _new_figure, _text_colour, _to_numpy
from .probes import ordinary_token_ids, repeated_tokens
from .scores import head_name, prefix_matching_scores, top_heads
from .training.config import TrainConfig, get_config
from .training.record import best_scores

__all__ = [
    "SmearedKeys", "add_smeared_keys", "smeared_key_mix", "has_smeared_keys",
    "TINY_CONFIG", "QuickRun", "quick_train", "plot_runs",
    "UpstreamAblation", "upstream_ablation", "plot_upstream_ablation",
    "probe_sensitivity", "selection_sizes", "LITERATURE_MODELS",
    "DivergentRepeats", "divergent_repeats", "copy_misleading", "COPY_OUTCOMES", "copy_candidates", "copy_outcomes",
    "copy_outcome_losses",
    "induction_rule_logprobs", "explicit_induction_losses",
    "toy_language_text", "plot_score_panels", "plot_curves",
]


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


# --------------------------------------------------------------------------------------
# Smeared keys
# --------------------------------------------------------------------------------------


class SmearedKeys(nn.Module):
    """Per-head smearing of keys over one position (Olsson et al. 2022, "smeared key" model).

    The key of position ``j`` becomes ``m_h * k_j + (1 - m_h) * k_{j-1}``, with a learnable
    ``m_h = sigmoid(logit_h)`` per head ``h`` (position 0 keeps its own key). A head whose key
    carries the *previous* token can match "the token before you is my token" in one layer:
    the work a previous-token head in an earlier layer does for an ordinary induction head.
    """

    def __init__(self, n_heads: int, d_head: int, init_mix: float = 0.5):
        super().__init__()
        _check_int("n_heads", n_heads, 1)
        _check_int("d_head", d_head, 1)
        if isinstance(init_mix, bool) or not isinstance(init_mix, (int, float)) or not 0 < init_mix < 1:
            raise ValueError(f"init_mix must be a number strictly between 0 and 1, got {init_mix!r}")
        self.n_heads, self.d_head = n_heads, d_head
        self.logit = nn.Parameter(torch.full((n_heads,), math.log(init_mix / (1 - init_mix))))

    @property
    def mix(self) -> torch.Tensor:
        """``[n_heads]``: the weight of each head's own-position key (1 - it: the previous key)."""
        return torch.sigmoid(self.logit)

    def forward(self, keys: torch.Tensor) -> torch.Tensor:
        """``keys``: ``[batch, T, n_heads * d_head]`` (heads side by side, as GPT-2 lays them out)."""
        B, T, D = keys.shape
        if D != self.n_heads * self.d_head:
            raise ValueError(f"keys have {D} features, expected n_heads * d_head = {self.n_heads * self.d_head}")
        k = keys.view(B, T, self.n_heads, self.d_head)
        previous = torch.cat([k[:, :1], k[:, :-1]], dim=1)
        m = self.mix.to(k.dtype)[:, None]
        return (m * k + (1 - m) * previous).reshape(B, T, D)


def _smear_hook(smear: SmearedKeys, d_model: int):
    def hook(module, args, output):
        q, k, v = output.split(d_model, dim=-1)
        return torch.cat([q, smear(k), v], dim=-1)

    return hook


def has_smeared_keys(model) -> bool:
    """True when :func:`add_smeared_keys` was applied to ``model``."""
    return any(isinstance(m, SmearedKeys) for m in model.modules())


def add_smeared_keys(model, init_mix: float = 0.5):
    """Give every attention head of a GPT-2-architecture ``model`` smeared keys, in place.

    Each layer's attention module gets a :class:`SmearedKeys` submodule (its parameters join
    ``model.parameters()``, so an optimizer trains them) and a forward hook on the query/key/value
    projection that replaces the keys by their smeared version. Smearing needs the key of the
    previous position, so the model must always see whole sequences: the model's (and its
    generation config's) ``use_cache`` is switched off. Returns ``model``.
    """
    adapter = get_adapter(model)
    if adapter.family != "gpt2":
        raise TypeError(
            f"smeared keys are implemented for GPT-2-architecture models (the course's toy models); "
            f"this model is of the {adapter.family!r} family"
        )
    if has_smeared_keys(model):
        raise ValueError("this model already has smeared keys")
    smears = [SmearedKeys(adapter.n_heads, adapter.d_head, init_mix) for _ in range(adapter.n_layers)]
    device = adapter.W_E.device
    for layer, smear in enumerate(smears):
        attn = adapter.attn(layer)
        smear.to(device)
        attn.smeared_keys = smear
        # the one place outside models.py that names a GPT-2 module: the fused q/k/v projection
        attn.c_attn.register_forward_hook(_smear_hook(smear, adapter.d_model))
    model.config.use_cache = False
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.use_cache = False
    return model


def smeared_key_mix(model) -> torch.Tensor:
    """``[n_layers, n_heads]``: each head's weight on its own-position key (see :class:`SmearedKeys`)."""
    adapter = get_adapter(model)
    if not has_smeared_keys(model):
        raise ValueError("this model has no smeared keys (see add_smeared_keys)")
    return torch.stack([adapter.attn(l).smeared_keys.mix.detach().float().cpu() for l in range(adapter.n_layers)])


# --------------------------------------------------------------------------------------
# Quick training
# --------------------------------------------------------------------------------------

#: A tiny recipe that trains in about two seconds of CPU on one thread: one layer, two heads,
#: d_model 32, 32-token sequences that are all repeated random segments, 120 steps.
TINY_CONFIG = TrainConfig(
    name="tiny-1l", n_layer=1, n_head=2, n_embd=32, n_ctx=32, p_repeat=1.0, repeat_len=(5, 12),
    batch_size=16, max_steps=120, learning_rate=2e-2, warmup_steps=10, weight_decay=0.0,
    eval_every=10, n_checkpoints=0, threads=1,
)


@dataclass
class QuickRun:
    """A model trained by :func:`quick_train`, its tokenizer and its record (the keys of a
    training record: ``steps``, ``loss``, ``loss_repeats``, ``loss_first_copy``, ``icl_score``,
    ``prefix_matching``, ``previous_token``; plus ``smeared_key_mix`` per step for smeared
    models, and ``config`` and ``seconds``)."""

    model: nn.Module
    tokenizer: object
    record: dict

    @property
    def final_loss_repeats(self) -> float:
        return float(self.record["loss_repeats"][-1])

    @property
    def final_best_prefix_matching(self) -> float:
        return float(best_scores(self.record)[-1])


def quick_train(config: TrainConfig = TINY_CONFIG, *, smeared_keys: bool = False, init_mix: float = 0.5,
                progress: bool = False, n_heldout: int = 8) -> QuickRun:
    """Train a small model for ``config.max_steps`` steps and record what the course plots.

    The same pieces as :func:`training.train` (tokenizer, :func:`training.build_model`, the
    corpus, AdamW with linear warmup then a constant rate, the measurements of
    :func:`training.trainer.evaluate` every ``config.eval_every`` steps), without saving
    anything. ``smeared_keys=True`` adds :func:`add_smeared_keys` before training.
    Deterministic for a config (same seed, same machine).
    """
    from .training.tokenizer import build_tokenizer
    from .training.trainer import EVAL_SEED, build_model, evaluate, make_corpus, probe_seq_len

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    _check_int("n_heldout", n_heldout, 1)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    started = time.time()
    try:
        tokenizer = build_tokenizer()
        torch.manual_seed(config.seed)
        model = build_model(config, len(tokenizer))
        if smeared_keys:
            add_smeared_keys(model, init_mix=init_mix)
        model.train()
        corpus = make_corpus(config, seed=config.seed)
        probe = repeated_tokens(tokenizer, seq_len=probe_seq_len(config.n_ctx), n_repeats=4, batch=10, seed=0)
        heldout = make_corpus(config, seed=EVAL_SEED).batch(n_heldout)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=config.learning_rate, betas=(config.beta1, config.beta2),
        )
        keys = ("loss", "loss_repeats", "loss_first_copy", "icl_score", "prefix_matching", "previous_token")
        record: dict = {"steps": [], **{k: [] for k in keys}}
        if smeared_keys:
            record["smeared_key_mix"] = []
        window: list[float] = []

        def log(step: int) -> None:
            if window:
                loss = float(np.mean(window))
            else:
                with torch.no_grad():
                    x = make_corpus(config, seed=EVAL_SEED + 1).batch(config.batch_size)
                    loss = float(model(input_ids=x, labels=x, use_cache=False).loss)
            window.clear()
            record["steps"].append(step)
            record["loss"].append(loss)
            for key, value in evaluate(model, probe, heldout).items():
                record[key].append(value)
            if smeared_keys:
                record["smeared_key_mix"].append(smeared_key_mix(model).tolist())

        log(0)
        for step in tqdm(range(config.max_steps), desc=f"treinando {config.name}", disable=not progress):
            lr = config.learning_rate * min(1.0, (step + 1) / max(1, config.warmup_steps))
            for group in optimizer.param_groups:
                group["lr"] = lr
            x = corpus.batch(config.batch_size)
            loss = model(input_ids=x, labels=x, use_cache=False).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            window.append(loss.item())
            if (step + 1) % config.eval_every == 0 or step + 1 == config.max_steps:
                log(step + 1)
        model.eval()
    finally:
        torch.set_num_threads(previous_threads)
    record["config"] = {**config.to_dict(), "smeared_keys": bool(smeared_keys)}
    record["seconds"] = round(time.time() - started, 2)
    return QuickRun(model=model, tokenizer=tokenizer, record=record)


_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v")


def plot_curves(x, curves: Mapping[str, Sequence[float]], *, title: str, xlabel: str, ylabel: str,
                ylim: tuple[float, float] | None = None, marks: Mapping[str, float] | None = None):
    """Line plot: one line per entry of ``curves`` (label -> values over ``x``); ``marks``
    (label -> x) draws labelled dashed vertical lines."""
    xs = _to_numpy(x, "x", ndim=1)
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict label -> values")
    fig = _new_figure(7.5, 3.8)
    ax = fig.add_subplot()
    for i, (label, values) in enumerate(curves.items()):
        ys = _to_numpy(values, f"curves[{label!r}]", ndim=1)
        if len(ys) != len(xs):
            raise ValueError(f"curves[{label!r}] has {len(ys)} values for {len(xs)} x positions")
        # Line styles and markers differ too, so a curve lying on top of another stays visible.
        ax.plot(xs, ys, label=str(label), color=LINE_COLOURS[i % len(LINE_COLOURS)], linewidth=1.8,
                linestyle=_LINE_STYLES[i % len(_LINE_STYLES)], marker=_MARKERS[i % len(_MARKERS)],
                markersize=4, markevery=max(1, len(xs) // 25), alpha=0.9)
    for j, (label, at) in enumerate((marks or {}).items()):
        ax.axvline(float(at), color="#777777", linestyle="--", linewidth=1.0)
        ax.text(float(at), 0.04 + 0.09 * j, f" {label}", transform=ax.get_xaxis_transform(), fontsize=TICK_SIZE,
                color="#555555", va="bottom", zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=TICK_SIZE)
    return fig


def plot_runs(records: Mapping[str, dict], title: str = "Treinos rápidos comparados"):
    """Training records side by side over steps: loss on repeats (left) and the best head's
    prefix-matching score (right), one line per run (label -> record)."""
    if not isinstance(records, Mapping) or not records:
        raise ValueError("records must be a non-empty dict label -> training record")
    fig = _new_figure(11.0, 3.8)
    ax_loss, ax_pm = fig.subplots(1, 2)
    for i, (label, record) in enumerate(records.items()):
        for key in ("steps", "loss_repeats", "prefix_matching"):
            if key not in record:
                raise ValueError(f"records[{label!r}] lacks {key!r}")
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        ax_loss.plot(record["steps"], record["loss_repeats"], color=colour, label=str(label), linewidth=1.8)
        ax_pm.plot(record["steps"], best_scores(record), color=colour, label=str(label), linewidth=1.8)
    ax_loss.set_title("Perda em repetições", fontsize=TITLE_SIZE)
    ax_loss.set_ylabel("Perda (nats)", fontsize=LABEL_SIZE)
    ax_loss.set_ylim(bottom=0)
    ax_pm.set_title("Correspondência de prefixo (melhor cabeça)", fontsize=TITLE_SIZE)
    ax_pm.set_ylabel("Pontuação", fontsize=LABEL_SIZE)
    ax_pm.set_ylim(0, 1.02)
    for ax in (ax_loss, ax_pm):
        ax.set_xlabel("Passo de treinamento", fontsize=LABEL_SIZE)
        ax.tick_params(labelsize=TICK_SIZE)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=LABEL_SIZE)  # the 11-inch figure is shown shrunk: the legend must stay readable
    fig.suptitle(title, fontsize=TITLE_SIZE)
    return fig


# --------------------------------------------------------------------------------------
# K-composition, measured causally
# --------------------------------------------------------------------------------------


@dataclass
class UpstreamAblation:
    """Prefix-matching scores of ``target_layer``'s heads, clean and with each earlier head
    ablated. ``clean``: ``[n_heads]``; ``ablated``: ``[len(sources), n_heads]``."""

    sources: list[tuple[int, int]]
    target_layer: int
    clean: torch.Tensor
    ablated: torch.Tensor

    @property
    def drop(self) -> torch.Tensor:
        """``[len(sources), n_heads]``: how much each target head's score falls (clean - ablated)."""
        return self.clean[None, :] - self.ablated


def upstream_ablation(model, tokens: torch.Tensor, target_layer: int | None = None, *, method: str = "zero",
                      reference: torch.Tensor | None = None) -> UpstreamAblation:
    """Ablate each head of the layers before ``target_layer`` alone (:func:`ablation.ablate_heads`)
    and re-measure the prefix-matching score of every head of ``target_layer`` (default: the last
    layer) on ``tokens`` (use :func:`probes.repeated_tokens`).

    An induction head finds "the token after an earlier copy of mine" through keys that an
    earlier head wrote into the residual stream (K-composition, Elhage et al. 2021): ablating
    that earlier head should make the score collapse. (Ablation removes the head's output
    everywhere downstream, so this measures all its paths into the later layer, not the key path
    alone.)
    """
    adapter = get_adapter(model)
    if target_layer is None:
        target_layer = adapter.n_layers - 1
    _check_int("target_layer", target_layer, 1)
    if target_layer >= adapter.n_layers:
        raise ValueError(f"target_layer {target_layer} is outside the model, which has layers 0..{adapter.n_layers - 1}")
    tokens = check_tokens(model, tokens)
    clean = prefix_matching_scores(model, tokens)[target_layer]
    sources = [(l, h) for l in range(target_layer) for h in range(adapter.n_heads)]
    ablated = torch.zeros(len(sources), adapter.n_heads)
    for i, head in enumerate(sources):
        with ablate_heads(model, [head], method=method, reference=reference):
            ablated[i] = prefix_matching_scores(model, tokens)[target_layer]
    return UpstreamAblation(sources=sources, target_layer=target_layer, clean=clean, ablated=ablated)


def plot_upstream_ablation(result: UpstreamAblation, title: str = "Queda da correspondência de prefixo ao ablacionar cada cabeça anterior"):
    """Heatmap: rows are the ablated earlier heads, columns the heads of the target layer; the
    colour is the fall of the target head's prefix-matching score."""
    if not isinstance(result, UpstreamAblation):
        raise TypeError(f"result must be an UpstreamAblation, got {type(result).__name__}")
    arr = result.drop.numpy()
    n_src, n_heads = arr.shape
    fig = _new_figure(max(4.5, 0.7 * n_heads + 2.6), max(3.0, 0.42 * n_src + 1.6))
    ax = fig.add_subplot()
    m = max(float(np.abs(arr).max()), 1e-6)
    im = ax.imshow(arr, cmap="RdBu_r", vmin=-m, vmax=m, aspect="auto")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label("Queda da pontuação", fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    ax.set_xticks(range(n_heads))
    ax.set_xticklabels([head_name((result.target_layer, h)) for h in range(n_heads)])
    ax.set_yticks(range(n_src))
    ax.set_yticklabels([head_name(s) for s in result.sources])
    ax.set_xlabel(f"Cabeça da camada {result.target_layer} (medida)", fontsize=LABEL_SIZE)
    ax.set_ylabel("Cabeça ablacionada", fontsize=LABEL_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    if arr.size <= 200:
        for i in range(n_src):
            for j in range(n_heads):
                ax.text(j, i, f"{arr[i, j]:.2f}", ha="center", va="center", fontsize=9,
                        color=_text_colour(im.cmap(im.norm(arr[i, j]))))
    return fig


# --------------------------------------------------------------------------------------
# Identifying heads depends on choices
# --------------------------------------------------------------------------------------


def probe_sensitivity(model, tokenizer, probes: Mapping[str, dict], *, k: int = 3):
    """The ``k`` top heads by prefix-matching score under several probes.

    ``probes`` maps a label to keyword arguments of :func:`probes.repeated_tokens` (e.g.
    ``{"curta": {"seq_len": 5}, "Olsson": {"seq_len": 25}}``). Returns a
    :class:`protocol.Table` with one row per probe: the probe's label, its sequence length and
    copies, the top heads (best first) and their scores; each row also holds, under ``"scores"``
    (not a displayed column), the ``[n_layers, n_heads]`` scores of every head.
    """
    from .protocol import Table

    if not isinstance(probes, Mapping) or not probes:
        raise ValueError("probes must be a non-empty dict label -> repeated_tokens keyword arguments")
    _check_int("k", k, 1)
    rows = []
    for label, kwargs in probes.items():
        if not isinstance(kwargs, Mapping):
            raise TypeError(f"probes[{label!r}] must be a dict of repeated_tokens arguments")
        tokens = repeated_tokens(tokenizer, **kwargs)
        scores = prefix_matching_scores(model, tokens)
        heads = top_heads(scores, k=min(k, scores.numel()))
        seq_len = int(kwargs.get("seq_len", 25))
        rows.append({
            "Sonda": str(label),
            "Tamanho do trecho": seq_len,
            "Cópias": int(kwargs.get("n_repeats", 4)),
            "Cabeças (melhor primeiro)": heads,
            "Pontuações": ", ".join(f"{float(scores[h]):.2f}" for h in heads),
            "scores": scores,
        })
    return Table(rows, columns=[c for c in rows[0] if c != "scores"])


#: Layers x heads of the models the literature reports on (GPT-2 small: Radford et al. 2019;
#: Llama-3-8B and InternLM2-20B: the models of Crosbie & Shutova).
LITERATURE_MODELS = {
    "GPT-2 small": (12, 12),
    "Llama-3-8B": (32, 32),
    "InternLM2-20B": (48, 48),
}


def selection_sizes(shapes: Mapping[str, tuple[int, int]], fractions: Sequence[float] = (0.01, 0.03)):
    """How many heads "the top X%" selects in models of the given shapes (label -> (layers,
    heads per layer)), by :func:`scores.top_heads`'s rule (rounded, at least one). A
    :class:`protocol.Table` with one row per model."""
    from .protocol import Table

    if not isinstance(shapes, Mapping) or not shapes:
        raise ValueError("shapes must be a non-empty dict label -> (n_layers, n_heads)")
    rows = []
    for label, shape in shapes.items():
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise TypeError(f"shapes[{label!r}] must be a (n_layers, n_heads) pair, got {shape!r}")
        n_layers = _check_int("n_layers", shape[0], 1)
        n_heads = _check_int("n_heads", shape[1], 1)
        zeros = torch.zeros(n_layers, n_heads)
        row = {"Modelo": str(label), "Cabeças": n_layers * n_heads}
        for f in fractions:
            row[f"Top {100 * f:g}%"] = len(top_heads(zeros, fraction=f))
        rows.append(row)
    return Table(rows)


# --------------------------------------------------------------------------------------
# Where copying misleads
# --------------------------------------------------------------------------------------


@dataclass
class DivergentRepeats:
    """Sequences ``BOS, s_1..s_n, s_1..s_n`` where the second copy differs in one token.

    ``tokens``: ``[batch, 1 + 2 * seq_len]``; ``position``: index (in ``tokens``) of the
    changed token; ``copied``: ``[batch]`` the token copying predicts there (``s_{c+1}``, the
    one that came next in the first copy); ``actual``: ``[batch]`` the token that is really
    there (a word that does not occur in the sequence).
    """

    tokens: torch.Tensor
    position: int
    copied: torch.Tensor
    actual: torch.Tensor
    seq_len: int


def divergent_repeats(tokenizer, *, seq_len: int = 20, change_at: int | None = None, batch: int = 20,
                      seed: int = 0) -> DivergentRepeats:
    """Repeated random tokens (:func:`probes.repeated_tokens`, 2 copies) whose second copy has
    its token number ``change_at`` (0-based within the copy; default ``seq_len // 2``) replaced
    by a random ordinary token that does not occur in the row. Deterministic for a ``seed``."""
    _check_int("seq_len", seq_len, 2)
    change_at = seq_len // 2 if change_at is None else change_at
    _check_int("change_at", change_at, 1)
    if change_at >= seq_len:
        raise ValueError(f"change_at must be in 1..{seq_len - 1} (a position of the copy after its first token)")
    tokens = repeated_tokens(tokenizer, seq_len=seq_len, n_repeats=2, batch=batch, seed=seed)
    pool = torch.tensor(ordinary_token_ids(tokenizer), dtype=torch.long)
    if len(pool) <= seq_len:
        raise ValueError(f"the tokenizer has only {len(pool)} ordinary tokens; a fresh one needs more than seq_len={seq_len}")
    generator = torch.Generator().manual_seed(seed + 7919)
    position = 1 + seq_len + change_at
    copied = tokens[:, position].clone()
    actual = torch.empty(batch, dtype=torch.long)
    for b in range(batch):
        present = set(tokens[b].tolist())
        while True:
            candidate = int(pool[torch.randint(len(pool), (1,), generator=generator)])
            if candidate not in present:
                break
        actual[b] = candidate
    tokens[:, position] = actual
    return DivergentRepeats(tokens=tokens, position=position, copied=copied, actual=actual, seq_len=seq_len)


@torch.no_grad()
def copy_misleading(model, probe: DivergentRepeats) -> dict:
    """What the model predicts where the second copy diverges (runs inside any ablation).

    Returns a dict of means over the batch: ``p_copied`` (probability given to the token
    copying suggests, which is wrong here), ``p_actual`` (to the token that really comes),
    ``top1_copied`` (fraction of rows where the copied token is the top prediction),
    ``loss_actual`` (nats, on the real token), ``loss_unpredictable`` (mean loss on the first
    copy's tokens 2..n, which nothing in the context predicts: the loss of a model that simply
    does not know) and ``loss_after`` (on the token right after the change, which copying
    predicts again).
    """
    if not isinstance(probe, DivergentRepeats):
        raise TypeError(f"probe must be a DivergentRepeats (from divergent_repeats), got {type(probe).__name__}")
    tokens = check_tokens(model, probe.tokens)
    logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits.float().cpu()
    logp = logits.log_softmax(-1)
    at = logp[:, probe.position - 1]  # predicts the changed token
    rows = torch.arange(tokens.shape[0])
    losses = -logp[:, :-1].gather(2, tokens[:, 1:, None]).squeeze(2)  # [batch, T-1]
    return {
        "p_copied": float(at[rows, probe.copied].exp().mean()),
        "p_actual": float(at[rows, probe.actual].exp().mean()),
        "top1_copied": float((at.argmax(-1) == probe.copied).float().mean()),
        "loss_actual": float(-at[rows, probe.actual].mean()),
        "loss_unpredictable": float(losses[:, 1:probe.seq_len].mean()),
        "loss_after": float(losses[:, probe.position].mean()),
    }


#: Labels of :func:`copy_outcomes`' categories.
COPY_OUTCOMES = ("sem ocorrência anterior", "cópia certa", "cópia errada")


def copy_candidates(tokens: torch.Tensor) -> torch.Tensor:
    """For each position ``t`` of each row: the token that followed the most recent earlier
    occurrence of token ``t`` (what an induction head would copy next), or ``-1`` if token ``t``
    did not occur before. Returns ``[batch, T - 1]`` (int64), aligned with
    :func:`metrics.per_token_loss` (column ``t`` is about predicting token ``t + 1``)."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.is_floating_point():
        raise TypeError("tokens must be an integer tensor [batch, T]")
    B, T = tokens.shape
    if T < 2:
        raise ValueError("tokens need at least 2 positions")
    out = torch.full((B, T - 1), -1, dtype=torch.long)
    rows = tokens.cpu().tolist()
    for b, row in enumerate(rows):
        last: dict[int, int] = {}  # token -> most recent position seen so far
        for t in range(T - 1):
            j = last.get(row[t])
            if j is not None:
                out[b, t] = row[j + 1]
            last[row[t]] = t
    return out


def copy_outcomes(tokens: torch.Tensor) -> torch.Tensor:
    """For each position ``t`` of each row (predicting token ``t + 1``): ``0`` if token ``t``
    did not occur before, ``1`` if it did and the token that followed its most recent earlier
    occurrence is token ``t + 1`` (copying is right), ``2`` if that token is a different one
    (copying is wrong). Returns ``[batch, T - 1]`` (int64), aligned with
    :func:`metrics.per_token_loss`."""
    candidates = copy_candidates(tokens)
    out = torch.zeros_like(candidates)
    has = candidates >= 0
    right = candidates == tokens[:, 1:].cpu()
    out[has & right] = 1
    out[has & ~right] = 2
    return out


def copy_outcome_losses(model, tokens: torch.Tensor, heads=None, *, method: str = "zero",
                        reference: torch.Tensor | None = None):
    """Loss on ordinary text split by :func:`copy_outcomes`, clean and with ``heads`` ablated.

    Returns a :class:`protocol.Table` with one row per category: how many positions, the share
    of positions, the mean loss (nats) of the clean model, the mean probability it gives to the
    token copying suggests (:func:`copy_candidates`; ``nan`` where there is none) and, if
    ``heads`` is given, the same two with the heads ablated (:func:`ablation.ablate_heads`).
    """
    from .protocol import Table

    tokens = check_tokens(model, tokens)
    candidates = copy_candidates(tokens)
    outcome = copy_outcomes(tokens)

    @torch.no_grad()
    def measure():
        logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits.float().cpu()
        logp = logits[:, :-1].log_softmax(-1)
        loss = -logp.gather(2, tokens[:, 1:, None].cpu()).squeeze(2)
        p_copy = logp.gather(2, candidates.clamp(min=0)[..., None]).squeeze(2).exp()
        return loss, p_copy

    clean_loss, clean_p = measure()
    ablated = None
    if heads is not None:
        with ablate_heads(model, heads, method=method, reference=reference):
            ablated = measure()
    rows = []
    for code, label in enumerate(COPY_OUTCOMES):
        mask = outcome == code
        n = int(mask.sum())

        row = {"Posições": label, "Quantas": n, "Fração": n / outcome.numel(),
               "Perda, modelo intacto": float(clean_loss[mask].mean()) if n else float("nan"),
               "P(token copiado), intacto": float(clean_p[mask].mean()) if n and code > 0 else float("nan")}
        if ablated is not None:
            a_loss, a_p = ablated
            row["Perda, cabeças ablacionadas"] = float(a_loss[mask].mean()) if n else float("nan")
            row["P(token copiado), ablacionadas"] = float(a_p[mask].mean()) if n and code > 0 else float("nan")
        rows.append(row)
    return Table(rows)


# --------------------------------------------------------------------------------------
# An explicit induction head
# --------------------------------------------------------------------------------------


def induction_rule_logprobs(tokens: torch.Tensor, vocab_size: int, *, smoothing: float = 0.01) -> torch.Tensor:
    """The rule ``AB...A -> B`` as a predictor with no parameters: ``[batch, T, vocab]`` log-probs.

    At position ``t``, let ``count(v)`` be how many earlier occurrences of token ``t`` (at
    ``j < t``) were followed by ``v``. If token ``t`` occurred before, the next-token distribution
    is ``(1 - smoothing) * count(v) / sum(count) + smoothing / vocab_size``; if not, it is uniform.
    """
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.is_floating_point():
        raise TypeError("tokens must be an integer tensor [batch, T]")
    _check_int("vocab_size", vocab_size, 2)
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0 < smoothing <= 1:
        raise ValueError(f"smoothing must be a number in (0, 1], got {smoothing!r}")
    if int(tokens.max()) >= vocab_size or int(tokens.min()) < 0:
        raise ValueError(f"token ids must lie in [0, {vocab_size - 1}]")
    tokens = tokens.cpu()
    B, T = tokens.shape
    same = tokens[:, :, None] == tokens[:, None, :]  # [b, t, j]
    earlier = torch.ones(T, T, dtype=torch.bool).tril(-1)
    match = (same & earlier).double()  # j < t with the same token
    # the follower of j is tokens[j + 1]; j ranges over 0..T-2 (j < t <= T-1)
    followers = F.one_hot(tokens[:, 1:], vocab_size).double()  # [b, j, V]
    counts = match[:, :, : T - 1] @ followers  # [b, t, V]
    total = counts.sum(-1, keepdim=True)
    empirical = torch.where(total > 0, counts / total.clamp(min=1), torch.full_like(counts, 1.0 / vocab_size))
    probs = (1 - smoothing) * empirical + smoothing / vocab_size
    return probs.log().float()


@torch.no_grad()
def explicit_induction_losses(model, tokens: torch.Tensor, weights: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 0.95),
                              *, smoothing: float = 0.01, positions: slice | None = None) -> dict[float, float]:
    """Mean loss (nats) of the mixture ``(1 - w) * p_model + w * p_rule`` for each ``w``, where
    ``p_rule`` is :func:`induction_rule_logprobs`: a model with an induction head "built in".

    ``positions`` selects the loss columns to average (as in :func:`metrics.per_token_loss`:
    column ``t`` is the loss on token ``t + 1``); default all. ``w = 0`` is the model alone.
    """
    tokens = check_tokens(model, tokens)
    logits = model(input_ids=tokens.to(input_device(model)), use_cache=False).logits.float().cpu()
    vocab = logits.shape[-1]
    rule = induction_rule_logprobs(tokens, vocab, smoothing=smoothing)
    model_logp = logits.log_softmax(-1)
    target = tokens[:, 1:, None].cpu()
    out = {}
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
            raise ValueError(f"each weight must be a number in [0, 1], got {w!r}")
        if w == 0:
            mixed = model_logp
        elif w == 1:
            mixed = rule
        else:
            mixed = torch.logaddexp(model_logp + math.log(1 - w), rule + math.log(w))
        loss = -mixed[:, :-1].gather(2, target).squeeze(2)
        if positions is not None:
            loss = loss[:, positions]
        out[float(w)] = float(loss.mean())
    return out


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def toy_language_text(batch: int = 32, *, seed: int = 20_000, name: str = "toy-2l", n_ctx: int | None = None) -> torch.Tensor:
    """``[batch, n_ctx]`` held-out sequences of the toy language the shipped models learned
    (ordinary text only, no repeated segments), from the training recipe of ``name``. Seeds
    used in training are small (0, 10 000, 10 001); the default is not one of them."""
    from .training.trainer import make_corpus

    _check_int("batch", batch, 1)
    config = get_config(name)
    n_ctx = config.n_ctx if n_ctx is None else _check_int("n_ctx", n_ctx, 4)
    return make_corpus(config.replace(p_repeat=0.0, n_ctx=n_ctx), seed=seed).batch(batch)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_score_panels(panels: Mapping[str, object], title: str = "Correspondência de prefixo",
                      *, colorbar_label: str = "Pontuação", vmin: float = 0.0, vmax: float = 1.0,
                      annotate: bool = True, ncols: int | None = None):
    """Score heatmaps (``[n_layers, n_heads]`` each) side by side with one colour scale, so
    models or checkpoints can be compared cell by cell. ``panels`` maps a panel title to scores
    (panels may have different numbers of layers). ``ncols`` panels per row (default: all in
    one row up to 4 panels, else ``ceil(n / 2)``)."""
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must be a non-empty dict title -> [n_layers, n_heads] scores")
    arrays = {str(k): _to_numpy(v, f"panels[{k!r}]", ndim=2) for k, v in panels.items()}
    n = len(arrays)
    if ncols is None:
        ncols = n if n <= 4 else math.ceil(n / 2)
    ncols = min(_check_int("ncols", ncols, 1), n)
    nrows = math.ceil(n / ncols)
    max_layers = max(a.shape[0] for a in arrays.values())
    max_heads = max(a.shape[1] for a in arrays.values())
    width = min(18.0, ncols * max(3.2, 0.5 * max_heads + 1.2) + 1.4)
    fig = _new_figure(width, nrows * max(2.2, 0.5 * max_layers + 1.4) + 0.5)
    # A page shows a figure at about 7.5 inches: a wider figure shrinks, so the cell values
    # grow with the width (readable once shrunk) but stay inside a cell.
    cell_pt = 72 * 0.75 * (width - 1.4) / ncols / max_heads
    value_size = min(12.0, max(8.0, 0.9 * width), cell_pt / 2.6)
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = list(grid.flatten())
    for ax in axes[n:]:
        ax.set_visible(False)
    axes = axes[:n]
    im = None
    for ax, (name, arr) in zip(axes, arrays.items()):
        im = ax.imshow(arr, cmap="viridis", vmin=vmin, vmax=vmax, aspect="equal")
        ax.set_title(name, fontsize=LABEL_SIZE)
        ax.set_xticks(range(arr.shape[1]))
        ax.set_yticks(range(arr.shape[0]))
        ax.set_xlabel("Cabeça", fontsize=LABEL_SIZE)
        ax.tick_params(labelsize=TICK_SIZE)
        if annotate and arr.size <= 64:
            for layer in range(arr.shape[0]):
                for head in range(arr.shape[1]):
                    v = arr[layer, head]
                    ax.text(head, layer, f"{v:.2f}", ha="center", va="center", fontsize=value_size,
                            color=_text_colour(im.cmap(im.norm(v))))
    for row in range(nrows):
        axes[row * ncols].set_ylabel("Camada", fontsize=LABEL_SIZE)
    cbar = fig.colorbar(im, ax=axes, shrink=0.9)
    cbar.set_label(colorbar_label, fontsize=LABEL_SIZE)
    cbar.ax.tick_params(labelsize=TICK_SIZE)
    fig.suptitle(title, fontsize=TITLE_SIZE)
    return fig
