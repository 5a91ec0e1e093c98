"""The training configuration: one small dataclass, one preset per shipped model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (with the seed, it fixes the result on one machine)."""

    name: str = "toy-2l"
    # model: GPT-2 architecture
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    n_inner: int | None = 256  # MLP width; None means 4 * n_embd
    n_ctx: int = 128
    # corpus (see corpus.py)
    p_repeat: float = 0.5  # fraction of sequences that are a repeated random segment
    repeat_len: tuple[int, int] = (8, 40)  # length range of the repeated segment
    skip_weight: float = 0.0  # how much the next word's class depends on the class two back
    topic_weight: float = 0.8  # probability that a word is one its topic prefers
    echo_weight: float = 0.5  # probability that the next word repeats the word before the current one
    language_seed: int = 1234  # draws the rules of the toy language
    # optimisation: AdamW, linear warmup then constant learning rate
    batch_size: int = 32
    max_steps: int = 1200
    learning_rate: float = 3e-3
    warmup_steps: int = 100
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    seed: int = 0
    # logging
    eval_every: int = 50  # steps between evaluations (the training record's resolution)
    n_checkpoints: int = 5  # checkpoints kept around the phase change
    threads: int = 1  # torch CPU threads (results are reproducible for a given count)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "name":
                if not isinstance(value, str) or not value:
                    raise TypeError("name must be a non-empty string")
            elif f.name == "n_inner":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                    raise ValueError(f"n_inner must be None or a positive int, got {value!r}")
            elif f.name == "repeat_len":
                if (not isinstance(value, (tuple, list)) or len(value) != 2
                        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
                    raise TypeError(f"repeat_len must be a pair of ints, got {value!r}")
                object.__setattr__(self, "repeat_len", tuple(value))
            elif f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"{f.name} must be an int, got {value!r}")
                if value < (0 if f.name in ("seed", "language_seed", "warmup_steps", "n_checkpoints") else 1):
                    raise ValueError(f"{f.name} must be positive, got {value}")
            elif f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(f"{f.name} must be a number, got {value!r}")
                if value < 0:
                    raise ValueError(f"{f.name} must not be negative, got {value}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["repeat_len"] = list(self.repeat_len)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training config keys: {sorted(unknown)}")
        d = dict(d)
        if "repeat_len" in d:
            d["repeat_len"] = tuple(d["repeat_len"])
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


# The recipes of the shipped models. toy-1l is the same recipe with one layer.
CONFIGS: dict[str, TrainConfig] = {
    "toy-2l": TrainConfig(name="toy-2l"),
}
CONFIGS["toy-1l"] = CONFIGS["toy-2l"].replace(name="toy-1l", n_layer=1)


def get_config(name: str) -> TrainConfig:
    """The preset of a shipped model (``"toy-2l"`` or ``"toy-1l"``)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown model {name!r}; the presets are {', '.join(sorted(CONFIGS))}")
    return CONFIGS[name]
