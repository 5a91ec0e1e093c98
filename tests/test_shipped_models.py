"""The measured claims about the shipped models, each computed here independently.

Losses come straight from the logits (torch's cross entropy), attention from
``output_attentions`` in eager mode, and ablation by zeroing a head's slice of ``W_O`` in a
copy of the model: none of it goes through the library functions or the training record
(except the last test, which is about the record itself).
"""

import copy
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

from induction_heads.models import ASSETS
from induction_heads.tasks import few_shot_task, task_accuracy
from induction_heads.training import load_checkpoint, load_record

SEQ_LEN, N_REPEATS = 25, 4


def load(name):
    path = ASSETS / name
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, attn_implementation="eager").eval()
    return model, tok


def probe(tok, batch=20, seed=123):
    """BOS, then SEQ_LEN distinct random ordinary words, repeated N_REPEATS times."""
    rng = np.random.default_rng(seed)
    words = np.array([i for i in range(len(tok)) if i not in set(tok.all_special_ids)])
    rows = [[tok.bos_token_id] + list(np.tile(rng.choice(words, SEQ_LEN, replace=False), N_REPEATS)) for _ in range(batch)]
    return torch.tensor(rows)


@torch.no_grad()
def copy_losses(model, tokens):
    """Mean loss on the 1st copy (tokens 2..25) and on the 2nd-4th copies."""
    logits = model(tokens).logits
    loss = F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")  # column t: token t+1
    return float(loss[:, 1:SEQ_LEN].mean()), float(loss[:, SEQ_LEN:].mean())


@torch.no_grad()
def head_scores(model, tokens):
    """Prefix-matching and previous-token score of every head, from the attention weights."""
    att = torch.stack(model(tokens, output_attentions=True).attentions)  # [L, B, H, T, T]
    T = tokens.shape[1]
    pm = torch.zeros(att.shape[0], att.shape[2])
    n = 0
    for b in range(tokens.shape[0]):
        for i in range(T):
            earlier = [j + 1 for j in range(i) if tokens[b, j] == tokens[b, i]]
            if earlier:
                pm += att[:, b, :, i, earlier].sum(-1)
                n += 1
    pt = torch.stack([att[..., i, i - 1] for i in range(1, T)]).mean(dim=(0, 2))  # [L, H]
    return pm / n, pt


def zero_ablated(model, heads):
    """A copy of the model with each head's slice of the attention output projection zeroed."""
    m = copy.deepcopy(model)
    d_head = m.config.n_embd // m.config.n_head
    with torch.no_grad():
        for layer, h in heads:
            # GPT-2's Conv1D stores W_O as [in, out]: the head's inputs are rows h*d_head:(h+1)*d_head
            m.transformer.h[layer].attn.c_proj.weight[h * d_head:(h + 1) * d_head, :] = 0
    return m


@pytest.fixture(scope="module")
def toy2():
    model, tok = load("toy-2l")
    tokens = probe(tok)
    pm, pt = head_scores(model, tokens)
    heads = [(l, h) for l in range(pm.shape[0]) for h in range(pm.shape[1])]
    induction = [x for x in heads if pm[x] > 0.4]
    # the circuit's first half: layer-0 heads that mostly attend to the previous token
    prev = [(0, h) for h in range(pt.shape[1]) if pt[0, h] > 0.4]
    outside = [x for x in heads if x not in induction + prev]
    return dict(model=model, tok=tok, tokens=tokens, pm=pm, pt=pt, induction=induction, prev=prev, outside=outside)


def test_toy_2l_has_induction_heads_a_previous_token_head_and_other_heads(toy2):
    pm, pt = toy2["pm"], toy2["pt"]
    assert pm.max() > 0.6
    assert all(l == 1 for l, _ in toy2["induction"])  # induction needs the layer before it
    assert pt[0].max() > 0.9  # a clear previous-token head in layer 0
    # enough heads outside the circuit for a same-size control, one of them in layer 1
    assert len(toy2["outside"]) >= len(toy2["induction"]) >= 1
    assert any(l == 1 for l, _ in toy2["outside"])
    assert all(pm[x] < 0.2 and pt[x] < 0.4 for x in toy2["outside"])


def test_toy_2l_copies_repeated_sequences(toy2):
    first, later = copy_losses(toy2["model"], toy2["tokens"])
    assert later <= 0.3 * first


def test_toy_1l_cannot_form_induction_heads():
    model, tok = load("toy-1l")
    tokens = probe(tok)
    pm, _ = head_scores(model, tokens)
    assert model.config.n_layer == 1 and pm.max() < 0.2
    first, later = copy_losses(model, tokens)
    assert later >= 0.7 * first


def test_ablating_the_induction_heads_breaks_copying_and_a_control_does_not(toy2):
    model, tokens, induction = toy2["model"], toy2["tokens"], toy2["induction"]
    _, base = copy_losses(model, tokens)
    _, ablated = copy_losses(zero_ablated(model, induction), tokens)
    assert ablated - base >= 1.0
    # every set of as many heads from outside the circuit
    controls = list(itertools.combinations(toy2["outside"], len(induction)))
    assert controls
    for control in controls:
        _, c = copy_losses(zero_ablated(model, control), tokens)
        assert c - base < 0.5 * (ablated - base), control


def test_few_shot_recall_needs_the_induction_heads(toy2):
    model, tok, induction = toy2["model"], toy2["tok"], toy2["induction"]
    task = few_shot_task(tok, "recall", n_examples=10, batch=300, seed=5, n_labels=4)
    acc = task_accuracy(model, task)
    assert acc >= task.chance + 0.4
    assert task_accuracy(zero_ablated(model, induction), task) <= task.chance + 0.1
    controls = list(itertools.combinations(toy2["outside"], len(induction)))
    assert controls
    for control in controls:
        assert task_accuracy(zero_ablated(model, control), task) >= acc - 0.15, control


def test_shipped_assets_are_small_and_complete():
    files = [f for f in ASSETS.rglob("*") if f.is_file()]
    assert sum(f.stat().st_size for f in files) < 20 * 2**20
    for name in ("toy-1l", "toy-2l"):
        for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training_record.json"):
            assert (ASSETS / name / f).is_file(), (name, f)
    assert not [f for f in ASSETS.rglob(".*")], "leftover temporary files in the assets"


def test_training_record_shows_the_phase_change():
    rec = load_record("toy-2l")
    steps = rec["steps"]
    best = [max(max(row) for row in layer_rows) for layer_rows in rec["prefix_matching"]]
    rep = rec["loss_repeats"]
    assert best[0] < 0.1 and best[-1] > 0.6
    # the jump: from below 0.2 to above 0.6 within 300 steps
    start = max(i for i, v in enumerate(best) if v < 0.2 and all(w < 0.2 for w in best[:i + 1]))
    end = next(i for i, v in enumerate(best) if v > 0.6)
    assert steps[end] - steps[start] <= 300
    # the loss on repeats falls in the same window: most of its total drop happens there
    total = rep[0] - min(rep)
    assert rep[start] - rep[end] >= 0.5 * total
    assert total >= 3.0
    # checkpoints around the change load and straddle it
    ckpts = rec["checkpoints"]
    assert min(ckpts) <= steps[start] and max(ckpts) >= steps[end]
    model, _ = load_checkpoint("toy-2l", ckpts[0])
    assert model.config.n_layer == 2
