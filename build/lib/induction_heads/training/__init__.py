"""Training the course's toy models: config, corpus, tokenizer, training loop, record.

``python -m induction_heads.train toy-2l`` reproduces a shipped model. The pieces:

* :mod:`.config`: :class:`TrainConfig` and the presets :data:`CONFIGS` (``"toy-2l"``, ``"toy-1l"``);
* :mod:`.words`: the Portuguese words of the toy language;
* :mod:`.corpus`: :class:`Corpus`, the synthetic text (repeated segments + toy language);
* :mod:`.tokenizer`: :func:`build_tokenizer`, a word-level Hugging Face tokenizer;
* :mod:`.trainer`: :func:`train`, the loop and its measurements;
* :mod:`.record`: :func:`load_record`, :func:`load_checkpoint`, :func:`phase_change_step`.
"""

from .config import CONFIGS, TrainConfig, get_config
from .corpus import Corpus, decode
from .record import best_scores, load_checkpoint, load_record, phase_change_step
from .tokenizer import build_tokenizer
from .trainer import build_model, train

__all__ = [
    "CONFIGS", "Corpus", "TrainConfig", "best_scores", "build_model", "build_tokenizer", "decode",
    "get_config", "load_checkpoint", "load_record", "phase_change_step", "train",
]
