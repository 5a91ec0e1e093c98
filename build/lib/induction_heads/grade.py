"""Grade a folder of submitted exercise notebooks, without Docker.

    python -m induction_heads.grade ex08_bug_ablacao entregas/*.ipynb -o notas.csv

Each notebook runs in its own process (time, memory and output limits), two at a time; the
gradebook CSV gets one row per submission (a score per question, the total, and the reason
when a notebook could not be graded), written atomically, with a summary, a histogram and
per-student feedback beside it. See ``exercises/README.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from .grading.batch import Limits

    d = Limits()
    p = argparse.ArgumentParser(
        prog="python -m induction_heads.grade",
        description="Corrige notebooks entregues de um exercício e gera a planilha de notas (CSV).",
    )
    p.add_argument("exercise", help="nome do exercício (ex.: ex08_bug_ablacao) ou pasta do autograder")
    p.add_argument("submissions", nargs="+",
                   help="notebooks .ipynb entregues, ou pastas (procuradas recursivamente)")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="planilha de notas a escrever (.csv); os relatórios ficam ao lado")
    p.add_argument("-j", "--workers", type=int, default=2,
                   help="submissões corrigidas ao mesmo tempo (padrão: 2)")
    p.add_argument("--timeout", type=float, default=d.timeout,
                   help=f"segundos para rodar todas as células de um notebook (padrão: {d.timeout:g})")
    p.add_argument("--cell-timeout", type=float, default=d.cell_timeout,
                   help=f"segundos por célula e por teste (padrão: {d.cell_timeout:g})")
    p.add_argument("--tests-timeout", type=float, default=d.tests_timeout,
                   help=f"segundos para todos os testes de um notebook (padrão: {d.tests_timeout:g})")
    p.add_argument("--memory-mb", type=int, default=d.memory_mb,
                   help=f"memória (espaço de endereços) por processo, em MB (padrão: {d.memory_mb})")
    p.add_argument("--max-output-kb", type=int, default=d.max_output_kb,
                   help=f"saída guardada por notebook, em KB (padrão: {d.max_output_kb})")
    p.add_argument("--kill-grace", type=float, default=d.startup_grace,
                   help="segundos extras, além dos limites, antes de encerrar o processo à força "
                        f"(padrão: {d.startup_grace:g})")
    p.add_argument("--quiet", action="store_true", help="sem barra de progresso")
    return p


def main(argv: list[str] | None = None) -> int:
    from .grading.batch import Limits, grade_batch
    from .grading.exercise import find_exercise

    args = build_parser().parse_args(argv)
    try:
        exercise = find_exercise(args.exercise)
        limits = Limits(timeout=args.timeout, cell_timeout=args.cell_timeout,
                        tests_timeout=args.tests_timeout, memory_mb=args.memory_mb,
                        max_output_kb=args.max_output_kb, startup_grace=args.kill_grace)
        results = grade_batch(exercise, args.submissions, args.output, workers=args.workers,
                              limits=limits, progress=not args.quiet)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return 2
    failed = sum(1 for r in results if not r.graded)
    stem = args.output.with_suffix("")
    print(f"{len(results)} submissões corrigidas ({failed} não avaliadas). "
          f"Planilha: {args.output}; resumo: {stem}_resumo.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
