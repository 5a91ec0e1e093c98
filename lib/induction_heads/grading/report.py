"""The gradebook and the instructor's report of a batch (all files written atomically).

Beside ``notas.csv`` (one row per submission: a column per question, the automatic total, the
maximum, the status and the reason), :func:`write_report` writes

* ``notas_resumo.md``: counts, timing, per-question averages, the submissions with problems;
* ``notas_histograma.png``: histogram of the totals and per-question averages;
* ``notas_devolutivas/<submissão>.txt``: what each test said (hidden ones included), to hand
  back to the student; ``<submissão>.saida.txt``: what the notebook printed (capped);
* ``notas_respostas_manuais.md``: the answers to the questions graded by hand, if any.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import tempfile
from pathlib import Path

from .exercise import Exercise
from .notebooks import cell_source

__all__ = ["CSV_FIXED_COLUMNS", "manual_answers", "question_column", "write_report"]

CSV_FIXED_COLUMNS = ("total", "maximo", "status", "motivo")


def question_column(q) -> str:
    """CSV header of a question: its name, marked when it is graded by hand."""
    return f"{q.name} (manual)" if q.manual else q.name


def _fmt(x: float) -> str:
    x = round(float(x), 2)
    return f"{x:g}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def manual_answers(path: Path, exercise: Exercise) -> dict[str, str]:
    """The text of each hand-graded answer in a submission (empty dict if unreadable).

    Answer cells carry ``metadata.induction_heads.question`` (set by exercises/build.py);
    if an editor dropped it, the Markdown answer cells tagged ``otter_answer_cell`` are
    taken in order.
    """
    manual = [q.name for q in exercise.manual_questions]
    if not manual:
        return {}
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = nb["cells"]
    except Exception:
        return {}
    found: dict[str, list[str]] = {}
    untagged: list[str] = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata") or {}
        text = cell_source(cell)
        q = (meta.get("induction_heads") or {}).get("question") if isinstance(meta, dict) else None
        if q in manual:
            found.setdefault(q, []).append(text)
        elif cell.get("cell_type") == "markdown" and "otter_answer_cell" in (meta.get("tags") or []):
            untagged.append(text)
    out = {q: "\n\n".join(t).strip() for q, t in found.items()}
    rest = [q for q in manual if q not in out]
    for q, text in zip(rest, untagged):
        out[q] = text.strip()
    return out


def _csv_text(exercise: Exercise, results) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["submissao"] + [question_column(q) for q in exercise.questions]
                    + list(CSV_FIXED_COLUMNS))
    for r in results:
        row = [str(r.path)]
        for q in exercise.questions:
            row.append("" if q.manual else _fmt(r.scores.get(q.name, 0.0)))
        row += [_fmt(r.total), _fmt(exercise.auto_points), r.status, r.reason]
        writer.writerow(row)
    return buf.getvalue()


def _feedback_text(exercise: Exercise, r) -> str:
    lines = [
        f"Exercício: {exercise.title} ({exercise.name})",
        f"Submissão: {r.path.name}",
        f"Situação: {r.status}" + (f" — {r.reason}" if r.reason else ""),
        f"Nota automática: {_fmt(r.total)} de {_fmt(exercise.auto_points)}",
    ]
    for q in exercise.manual_questions:
        lines.append(f"{q.name} vale {_fmt(q.points)} ponto(s) e é corrigida à mão.")
    lines.append("")
    for q in exercise.auto_questions:
        text = r.feedback.get(q.name)
        if text:
            lines += [text, ""]
    return "\n".join(lines).rstrip() + "\n"


def _summary_md(exercise: Exercise, results, csv_path: Path, elapsed: float, limits,
                manual_file: str | None, png_name: str) -> str:
    n = len(results)
    graded = [r for r in results if r.graded]
    warned = [r for r in results if r.graded and r.reasons]
    failed = [r for r in results if not r.graded]
    totals = [r.total for r in results]
    maxp = exercise.auto_points
    out = [
        f"# Correção: {exercise.title} (`{exercise.name}`)",
        "",
        f"- Planilha: `{csv_path.name}`; gráfico: `{png_name}`; devolutivas por aluno em "
        f"`{csv_path.stem}_devolutivas/`.",
        f"- Submissões: {n} (avaliadas sem avisos: {len(graded) - len(warned)}, com avisos: "
        f"{len(warned)}, não avaliadas: {len(failed)}).",
        f"- Tempo total: {elapsed:.1f} s ({elapsed / max(n, 1):.1f} s por submissão, "
        "processos em paralelo).",
    ]
    if totals:
        out.append(
            f"- Nota automática: média {statistics.mean(totals):.2f} de {_fmt(maxp)} "
            f"(mediana {_fmt(statistics.median(totals))}, mínima {_fmt(min(totals))}, "
            f"máxima {_fmt(max(totals))})."
        )
    if limits is not None:
        out.append(
            f"- Limites por submissão: {limits.timeout:g} s para as células "
            f"({limits.cell_timeout:g} s por célula), {limits.tests_timeout:g} s para os testes, "
            f"{limits.memory_mb} MB de memória."
        )
    for q in exercise.manual_questions:
        where = f" As respostas estão em `{manual_file}`." if manual_file else ""
        out.append(
            f"- {q.name} ({_fmt(q.points)} pontos) é corrigida à mão: preencha a coluna "
            f"`{question_column(q)}` e some ao total.{where}"
        )
    out += ["", "## Média por questão", "",
            "| questão | pontos | média | % dos pontos | nota cheia |",
            "|---|---|---|---|---|"]
    for q in exercise.auto_questions:
        scores = [r.scores.get(q.name, 0.0) for r in results]
        mean = statistics.mean(scores) if scores else 0.0
        full = sum(1 for s in scores if abs(s - q.points) < 1e-9)
        pct = 100 * mean / q.points if q.points else 0.0
        out.append(f"| {q.name} | {_fmt(q.points)} | {mean:.2f} | {pct:.0f}% | {full} de {n} |")
    problems = [r for r in results if r.reasons]
    if problems:
        out += ["", "## Submissões com problemas", "", "| submissão | situação | motivo |",
                "|---|---|---|"]
        for r in problems:
            reason = r.reason.replace("|", "\\|").replace("\n", " ")
            out.append(f"| {r.path.name} | {r.status} | {reason} |")
    return "\n".join(out) + "\n"


def _histogram_png(exercise: Exercise, results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    totals = np.array([r.total for r in results], dtype=float)
    maxp = exercise.auto_points
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    if 0 < maxp <= 40:  # one bar per whole point: a total of 8 and one of 9 never share a bar
        bins = np.arange(-0.5, np.ceil(maxp) + 1.0, 1.0)
        ax1.set_xticks(np.arange(0, np.ceil(maxp) + 1))
    else:
        bins = np.linspace(0, max(maxp, 1.0), 21)
    ax1.hist(totals, bins=bins, color="#3b6ea5", edgecolor="white")
    ax1.set_title("Distribuição das notas automáticas")
    ax1.set_xlabel(f"nota automática (de {_fmt(maxp)} pontos)")
    ax1.set_ylabel("número de submissões")
    ax1.yaxis.get_major_locator().set_params(integer=True)
    names = [q.name for q in exercise.auto_questions]
    pct = [100 * float(np.mean([r.scores.get(q.name, 0.0) for r in results])) / q.points
           if q.points else 0.0 for q in exercise.auto_questions]
    ax2.bar(names, pct, color="#5a9e6f")
    ax2.set_ylim(0, 100)
    ax2.set_title("Média por questão")
    ax2.set_xlabel("questão")
    ax2.set_ylabel("média (% dos pontos da questão)")
    fig.suptitle(f"{exercise.title} — {len(results)} submissões")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _manual_md(exercise: Exercise, results) -> str:
    out = [f"# Respostas para correção manual: {exercise.title}", ""]
    for q in exercise.manual_questions:
        out += [f"## {q.name} ({_fmt(q.points)} pontos)", ""]
        for r in results:
            text = manual_answers(r.path, exercise).get(q.name, "")
            text = text if text else "(resposta não encontrada)"
            out += [f"### {r.path.name}", "", text, ""]
    return "\n".join(out)


def write_report(exercise: Exercise, results, csv_path: Path, *, elapsed: float,
                 limits=None) -> None:
    """Write the gradebook and the report files for ``results`` (see the module docstring)."""
    csv_path = Path(csv_path)
    stem = csv_path.with_suffix("")
    feedback_dir = Path(f"{stem}_devolutivas")
    feedback_dir.mkdir(exist_ok=True)
    for r in results:
        atomic_write_text(feedback_dir / f"{r.id}.txt", _feedback_text(exercise, r))
        log = r.output
        if r.output_bytes > len(log.encode("utf-8", errors="replace")):
            log += (f"\n\n[saída truncada: {r.output_bytes} bytes impressos, "
                    f"{len(log.encode('utf-8', errors='replace'))} guardados]\n")
        atomic_write_text(feedback_dir / f"{r.id}.saida.txt", log)
    manual_name = None
    if exercise.manual_questions:
        manual_path = Path(f"{stem}_respostas_manuais.md")
        atomic_write_text(manual_path, _manual_md(exercise, results))
        manual_name = manual_path.name
    png_path = Path(f"{stem}_histograma.png")
    _histogram_png(exercise, results, png_path)
    atomic_write_text(Path(f"{stem}_resumo.md"),
                      _summary_md(exercise, results, csv_path, elapsed, limits, manual_name,
                                  png_path.name))
    # The gradebook last: when it appears, everything it refers to is there.
    atomic_write_text(csv_path, _csv_text(exercise, results))
