"""Induction heads and in-context learning: the library behind the course.

Every definition the book uses is one hop from here:

* models: :func:`load_model`, :func:`get_adapter` (one adapter per architecture family)
* probes: :func:`repeated_tokens` (Olsson et al.'s repeated random tokens)
* scores: :func:`prefix_matching_scores`, :func:`previous_token_scores`, :func:`copying_scores`,
  :func:`attention_patterns`, :func:`text_attention`, :func:`top_heads`, :func:`random_heads_like`
* ablation: :func:`ablate_heads`, :func:`attention_knockout`, :func:`ablation_sweep`
* metrics: :func:`per_token_loss`, :func:`icl_score`
* attribution: :func:`head_direct_logits` (a head's direct effect on the logits)
* seed_snippet: :func:`seed_ablation` (the source document's buggy ablation, reproduced)
* plots (``plot_*``) and widgets (live ipywidgets and kernel-free ``*_html`` versions)
* tasks: :func:`few_shot_task`, :func:`task_accuracy` (few-shot pattern tasks)
* training: :func:`train`, :func:`load_record`, :func:`load_checkpoint` (the shipped models' recipe and record)
* submodules used by the book: ``rules`` (the AB...A -> B rule), ``protocol`` (Crosbie & Shutova's
  protocol), ``experiments`` (smeared keys, quick training, copying that misleads), ``summaries``
  (per-model summaries, ``glue``), ``grading`` (batch grader), ``colab`` (setup cells)
"""

from .ablation import ablate_heads, ablation_sweep, attention_knockout, head_output_means
from .metrics import icl_score, loss_from_logits, per_token_loss
from .models import SHIPPED_MODELS, Adapter, eager_attention, get_adapter, load_model
from .plots import (
    CourseFigure,
    copy_boundaries,
    plot_ablation_effects,
    plot_attention_grid,
    plot_attention_pattern,
    plot_eigenvalues,
    plot_head_scores,
    plot_per_token_loss,
    plot_phase_change,
    plot_score_scatter,
    plot_training_snapshot,
)
from .probes import ordinary_token_ids, repeated_tokens
from .scores import (
    attention_patterns,
    copying_scores,
    encode_text,
    head_name,
    ov_circuit_eigenvalues,
    prefix_matching_score_from_pattern,
    prefix_matching_scores,
    previous_token_score_from_pattern,
    previous_token_scores,
    random_heads_like,
    scan_attention,
    text_attention,
    token_strings,
    top_heads,
)
from .widgets import (
    ablation_explorer,
    ablation_explorer_html,
    attention_explorer,
    attention_explorer_html,
    head_score_explorer,
    head_scores_html,
    phase_change_html,
    phase_change_scrubber,
    show,
)
from .attribution import head_direct_logits, top_pushed_tokens
from .tasks import KINDS, FewShotTask, chance_level, few_shot_task, task_accuracy, task_predictions
from .training import best_scores, load_checkpoint, load_record, phase_change_step, train
from .seed_snippet import SEED_SNIPPET, seed_ablation

__version__ = "0.1.0"

__all__ = [
    "Adapter", "SHIPPED_MODELS", "ablate_heads", "ablation_sweep", "attention_knockout",
    "attention_patterns", "copying_scores", "eager_attention", "encode_text", "get_adapter",
    "head_name", "head_output_means", "icl_score", "load_model", "loss_from_logits",
    "ordinary_token_ids", "ov_circuit_eigenvalues", "per_token_loss",
    "prefix_matching_score_from_pattern", "prefix_matching_scores",
    "previous_token_score_from_pattern", "previous_token_scores", "random_heads_like",
    "repeated_tokens", "scan_attention", "text_attention", "token_strings", "top_heads",
    "CourseFigure", "copy_boundaries", "plot_ablation_effects", "plot_attention_grid",
    "plot_attention_pattern", "plot_eigenvalues", "plot_head_scores", "plot_per_token_loss",
    "plot_phase_change", "plot_score_scatter", "plot_training_snapshot",
    "ablation_explorer", "ablation_explorer_html", "attention_explorer", "attention_explorer_html",
    "head_score_explorer", "head_scores_html", "phase_change_html", "phase_change_scrubber", "show",
    "head_direct_logits", "top_pushed_tokens", "SEED_SNIPPET", "seed_ablation",
    "KINDS", "FewShotTask", "chance_level", "few_shot_task", "task_accuracy", "task_predictions",
    "best_scores", "load_checkpoint", "load_record", "phase_change_step", "train",
]
