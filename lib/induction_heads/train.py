"""Command line: train (and reproduce) the course's toy models.

    python -m induction_heads.train toy-2l              # writes lib/induction_heads/assets/toy-2l
    python -m induction_heads.train toy-1l --out /tmp/toy-1l --steps 200
"""

from __future__ import annotations

import argparse
import sys

from .models import ASSETS
from .training import CONFIGS, train
from .training.record import best_scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m induction_heads.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(CONFIGS), help="which model's recipe to run")
    parser.add_argument("--out", help="output folder (default: the package's assets/<name>)")
    parser.add_argument("--steps", type=int, help="override the number of training steps")
    parser.add_argument("--seed", type=int, help="override the seed")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the recipe's)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    config = CONFIGS[args.name]
    overrides = {k: v for k, v in (("max_steps", args.steps), ("seed", args.seed), ("threads", args.threads)) if v is not None}
    config = config.replace(**overrides)
    out = args.out or str(ASSETS / args.name)
    command = "python -m induction_heads.train " + " ".join(argv if argv is not None else sys.argv[1:])
    record = train(config, out, progress=not args.no_progress, command=command.strip())
    pm = record["prefix_matching"][-1]
    print(f"saved {args.name} to {out} in {record['config']['seconds']:.0f} s")
    print(f"loss on repeats: {record['loss_repeats'][-1]:.3f} (1st copy {record['loss_first_copy'][-1]:.3f})")
    print("prefix matching:", "; ".join(" ".join(f"{l}.{h}={v:.2f}" for h, v in enumerate(row)) for l, row in enumerate(pm)))
    pt = record["previous_token"][-1]
    print("previous token: ", "; ".join(" ".join(f"{l}.{h}={v:.2f}" for h, v in enumerate(row)) for l, row in enumerate(pt)))
    print(f"phase change at step {record['phase_change_step']}; best prefix matching {best_scores(record)[-1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
