"""The benchmark script runs end to end and its sweep agrees with the naive loop.

Only correctness is checked here (a 2-layer model, one repetition): the figures themselves are
the benchmark's job (`make bench`), not a test's.
"""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_benchmark_script_reports_every_ratio_and_the_sweep_matches_the_naive_loop():
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_library.py"), "--layers", "2", "--repeats", "1",
         "--naive-sample", "2", "--skip-memory", "--threads", "1"],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for label in ("scan / plain forward:", "sweep / naive loop:", "floor from the measured parts"):
        assert out.count(label) == 2, f"{label!r} missing from the wall-clock or CPU report:\n{out}"
    ratios = [float(x) for x in re.findall(r"sweep / naive loop:\s+([0-9.]+)", out)]
    assert all(0 < r < 2 for r in ratios), out
    diff = re.search(r"agree to ([0-9.e+-]+) \(max abs difference of the loss effects, (\d+) heads\)", out)
    assert diff, out
    assert float(diff.group(1)) < 1e-4 and int(diff.group(2)) == 2 * 2, out
