"""The training loop: a GPT-2-architecture model on the synthetic corpus, with a record.

Read it top to bottom like nanoGPT's ``train.py``: build the tokenizer, the model and the
corpus; loop over steps (AdamW, linear warmup then a constant learning rate); every
``eval_every`` steps measure what the course plots (loss on repeats, ICL score, per-head
prefix-matching and previous-token scores); at the end save the model, its tokenizer, the
training record and a few checkpoints around the phase change, atomically.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import GPT2Config, GPT2LMHeadModel

from ..metrics import icl_score, per_token_loss
from ..probes import repeated_tokens
from ..scores import prefix_matching_scores, previous_token_scores
from .config import TrainConfig
from .corpus import BOS_ID, Corpus
from .words import SPECIAL_TOKENS, VOCABULARY
from .record import CHECKPOINT_DIR, RECORD_FILE, checkpoint_dirname, phase_change_step, write_json_atomic
from .tokenizer import build_tokenizer

PROBE_SEQ_LEN = 25  # Olsson's probe: BOS + 25 random tokens x 4 (shorter if the context is)
EVAL_SEED = 10_000  # seeds of the held-out evaluation batches (never used for training)
PAD_ID = VOCABULARY.index(SPECIAL_TOKENS[2])


def build_model(config: TrainConfig, vocab_size: int):
    """A freshly initialised GPT-2-architecture model (no dropout) for ``config``."""
    gpt2 = GPT2Config(
        vocab_size=vocab_size,
        n_positions=config.n_ctx,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_inner=config.n_inner,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=BOS_ID,
        eos_token_id=BOS_ID,
        pad_token_id=PAD_ID,
    )
    return GPT2LMHeadModel(gpt2)


def make_corpus(config: TrainConfig, seed: int) -> Corpus:
    return Corpus(
        config.n_ctx,
        p_repeat=config.p_repeat,
        repeat_len=config.repeat_len,
        skip_weight=config.skip_weight,
        topic_weight=config.topic_weight,
        language_seed=config.language_seed,
        echo_weight=config.echo_weight,
        seed=seed,
    )


def probe_seq_len(n_ctx: int) -> int:
    """Length of the probe's random segment: 25 (Olsson), or less so 4 copies fit ``n_ctx``."""
    return min(PROBE_SEQ_LEN, (n_ctx - 1) // 4)


@torch.no_grad()
def evaluate(model, probe: torch.Tensor, heldout: torch.Tensor) -> dict:
    """The record's measurements at one step (the model is left in train mode).

    ``probe``: Olsson's repeated random tokens (BOS + a segment repeated 4 times).
    """
    model.eval()
    losses = per_token_loss(model, probe)  # column t: loss on token t + 1
    n = (probe.shape[1] - 1) // 4
    out = {
        "loss_first_copy": float(losses[:, 1:n].mean()),  # tokens 2..25 (token 1 follows only BOS)
        "loss_repeats": float(losses[:, n:].mean()),  # tokens 26..100: the 2nd-4th copies
        "icl_score": icl_score(model, heldout),
        "prefix_matching": prefix_matching_scores(model, probe).tolist(),
        "previous_token": previous_token_scores(model, probe).tolist(),
    }
    model.train()
    return out


def choose_checkpoints(steps: list[int], change: int | None, n: int) -> list[int]:
    """``n`` evaluation steps around the phase change (evenly spread when there is none)."""
    if n <= 0:
        return []
    if change is None:
        idx = np.linspace(0, len(steps) - 1, n).round().astype(int)
        return sorted({steps[i] for i in idx})
    c = steps.index(change)
    offsets = [-4, -1, 0, 1, 4, -8, 8, -2, 2, 12][:n]
    return sorted({steps[min(max(c + o, 0), len(steps) - 1)] for o in offsets})


def _half_copy(model) -> dict:
    """A float16 copy of the model's weights (a checkpoint kept in memory)."""
    return {k: v.detach().to(torch.float16).clone() for k, v in model.state_dict().items()}


def train(config: TrainConfig, out_dir=None, *, progress: bool = True, command: str | None = None) -> dict:
    """Train a model for ``config``; save it to ``out_dir`` (if given); return the record.

    ``out_dir`` receives, atomically (a temporary folder renamed into place): the model
    (``save_pretrained``, float32 safetensors), its tokenizer, ``training_record.json`` and
    float16 checkpoints in ``checkpoints/step_XXXXX/``.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _train(config, out_dir, progress, command)
    finally:
        torch.set_num_threads(previous_threads)


def _train(config: TrainConfig, out_dir, progress: bool, command: str | None) -> dict:
    started, cpu_started = time.time(), time.process_time()
    tokenizer = build_tokenizer()
    torch.manual_seed(config.seed)
    model = build_model(config, len(tokenizer))
    model.train()
    corpus = make_corpus(config, seed=config.seed)
    probe = repeated_tokens(tokenizer, seq_len=probe_seq_len(config.n_ctx), n_repeats=4, batch=10, seed=0)
    heldout = make_corpus(config, seed=EVAL_SEED).batch(64)

    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices decay; biases, norms do not
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
        betas=(config.beta1, config.beta2),
    )

    record = {"steps": [], "loss": [], "loss_repeats": [], "loss_first_copy": [], "icl_score": [],
              "prefix_matching": [], "previous_token": []}
    states = {}  # float16 copies of the weights at each evaluation step
    window = []  # training losses since the last evaluation

    def log(step: int) -> None:
        if window:
            loss = float(np.mean(window))
        else:  # step 0: the untrained model's loss on a training batch
            with torch.no_grad():
                x = make_corpus(config, seed=EVAL_SEED + 1).batch(config.batch_size)
                loss = float(model(input_ids=x, labels=x).loss)
        window.clear()
        record["steps"].append(step)
        record["loss"].append(loss)
        for key, value in evaluate(model, probe, heldout).items():
            record[key].append(value)
        if config.n_checkpoints:
            states[step] = _half_copy(model)

    bar = tqdm(range(config.max_steps), desc=f"treinando {config.name}", disable=not progress)
    log(0)
    for step in bar:
        lr = config.learning_rate * min(1.0, (step + 1) / max(1, config.warmup_steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = corpus.batch(config.batch_size)
        loss = model(input_ids=x, labels=x).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if (step + 1) % config.eval_every == 0 or step + 1 == config.max_steps:
            log(step + 1)
            bar.set_postfix(
                perda=f"{record['loss'][-1]:.2f}",
                repeticoes=f"{record['loss_repeats'][-1]:.2f}",
                prefixo=f"{max(max(r) for r in record['prefix_matching'][-1]):.2f}",
            )
    bar.close()

    change = phase_change_step(record)
    record["phase_change_step"] = change
    record["checkpoints"] = choose_checkpoints(record["steps"], change, config.n_checkpoints)
    record["config"] = {
        **config.to_dict(),
        "command": command or f"python -m induction_heads.train {config.name}",
        "architecture": type(model).__name__,
        "probe": {"seq_len": probe_seq_len(config.n_ctx), "n_repeats": 4, "batch": 10, "seed": 0},
        "n_params": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.time() - started, 1),  # wall clock: depends on the machine's load
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {config.threads} threads",
    }
    if out_dir is not None:
        save_run(model, tokenizer, record, {s: states[s] for s in record["checkpoints"]}, config, Path(out_dir))
    return record


def save_tokenizer(tokenizer, folder: Path) -> None:
    """``save_pretrained``, naming the class ``PreTrainedTokenizerFast`` in tokenizer_config.json.

    transformers 5 writes its new class name (``TokenizersBackend``), which transformers 4.x
    (e.g. Colab's) cannot load; ``PreTrainedTokenizerFast`` loads in both.
    """
    tokenizer.save_pretrained(folder)
    path = Path(folder) / "tokenizer_config.json"
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config.pop("backend", None)
    write_json_atomic(path, config)


def _make_readable(root: Path) -> None:
    """Folders 755, files 644 (temporary files and folders are created private)."""
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def save_run(model, tokenizer, record: dict, checkpoint_states: dict, config: TrainConfig, out_dir: Path) -> None:
    """Write the run to ``out_dir`` through a temporary sibling folder, then swap it in."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        model.save_pretrained(tmp)
        save_tokenizer(tokenizer, tmp)
        for step, state in checkpoint_states.items():
            snapshot = build_model(config, len(tokenizer)).to(torch.float16)
            snapshot.load_state_dict(state)
            snapshot.save_pretrained(tmp / CHECKPOINT_DIR / checkpoint_dirname(step))
        write_json_atomic(tmp / RECORD_FILE, record)
        _make_readable(tmp)
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
