"""The training record: the curves of a run, its checkpoints, and how to read them back.

A record is a JSON file ``training_record.json`` next to the model, with keys

* ``"steps"``: the evaluation steps (list of int);
* ``"loss"``: mean training loss over the steps since the previous evaluation (the first entry,
  at step 0, is the loss of the untrained model on a training batch);
* ``"loss_repeats"``: loss on the 2nd-4th copies of Olsson's repeated random tokens;
  ``"loss_first_copy"``: on the 1st copy (tokens 2-25);
* ``"icl_score"``: the in-context learning score on held-out training sequences;
* ``"prefix_matching"``, ``"previous_token"``: per evaluation, ``[n_layers][n_heads]`` scores;
* ``"checkpoints"``: the steps for which a checkpoint ships (``checkpoints/step_XXXXX/``);
* ``"config"``: the training config, the command that reproduces the run, versions, seconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

RECORD_FILE = "training_record.json"
CHECKPOINT_DIR = "checkpoints"
CURVES = ("loss", "loss_repeats", "loss_first_copy", "icl_score", "prefix_matching", "previous_token")


def checkpoint_dirname(step: int) -> str:
    return f"step_{step:05d}"


def _model_dir(name_or_path) -> Path:
    """A shipped model's asset folder for ``"toy-1l"``/``"toy-2l"``, else the given folder."""
    from ..models import ASSETS, SHIPPED_MODELS

    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"expected a shipped model name or a folder, got {type(name_or_path).__name__}")
    if isinstance(name_or_path, str) and name_or_path in SHIPPED_MODELS:
        return ASSETS / name_or_path
    return Path(name_or_path)


def write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_record(name_or_path="toy-2l") -> dict:
    """The training record of a shipped model (``"toy-2l"``, ``"toy-1l"``) or of a run's folder."""
    path = _model_dir(name_or_path) / RECORD_FILE
    if not path.exists():
        raise FileNotFoundError(f"no training record at {path}")
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    missing = [k for k in ("steps", *CURVES, "checkpoints", "config") if k not in record]
    if missing:
        raise ValueError(f"{path} is not a training record: missing {missing}")
    return record


def load_checkpoint(name_or_path="toy-2l", step: int | None = None):
    """``(model, tokenizer)`` of the checkpoint saved at ``step`` of a run (eval mode, float32).

    The steps that ship are ``load_record(name)["checkpoints"]``.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = _model_dir(name_or_path)
    record = load_record(folder)
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step must be an int, one of {record['checkpoints']}")
    if step not in record["checkpoints"]:
        raise ValueError(f"no checkpoint at step {step}; this run has checkpoints at steps {record['checkpoints']}")
    model = AutoModelForCausalLM.from_pretrained(
        folder / CHECKPOINT_DIR / checkpoint_dirname(step), dtype=torch.float32, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model.eval()
    return model, tokenizer


def best_scores(record: dict, key: str = "prefix_matching", layer: int | None = None) -> list[float]:
    """Per evaluation step, the best head's score (optionally within one ``layer``)."""
    out = []
    for per_layer in record[key]:
        rows = per_layer if layer is None else [per_layer[layer]]
        out.append(max(max(row) for row in rows))
    return out


def phase_change_step(record: dict) -> int | None:
    """The first evaluation step at which the best prefix-matching score reaches half-way
    between its first and its final value; ``None`` when it never rises by 0.3 or more."""
    best = best_scores(record)
    lo, hi = best[0], best[-1]
    if hi - lo < 0.3:
        return None
    mid = (lo + hi) / 2
    for step, value in zip(record["steps"], best):
        if value >= mid:
            return step
    return None  # pragma: no cover - best[-1] >= mid always
