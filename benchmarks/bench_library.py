"""Benchmark of the library's two expensive operations on a GPT-2-small-shaped model.

Model: ``GPT2LMHeadModel(GPT2Config())`` with random weights (124M parameters, 12 layers x 12
heads, vocabulary 50257), default attention implementation (sdpa), batch 10 x 101 tokens
(Olsson's repeated random tokens: BOS + 25 tokens x 4), 2 threads (``--threads``). The
operations run in ``--repeats`` interleaved repetitions (plain, body, scan, sweep, naive, plain,
...); each ratio is taken within one repetition (so a change in the machine's load hits both
sides alike) and the median over repetitions is reported. Both wall-clock and CPU time
(user + system of all threads of the process) are reported: on a machine shared with other jobs
the wall clock mostly measures the others' load, and with 2 threads the CPU time includes
OpenMP threads spinning while their partner is descheduled; ``--threads 1`` gives the
cleanest CPU-time ratios on a busy machine.

Figures (goals from issue 2):

* scan / plain forward: ``prefix_matching_scores`` on all 144 heads divided by one plain
  forward pass (logits) of the same batch; goal <= 0.8.
* sweep / naive loop: ``ablation_sweep`` over all heads (zero ablation, mean loss) divided by
  the naive loop of one full forward pass per ablated head (``ablate_heads`` + forward + the
  same loss); goal <= 0.75 (arithmetic floor about 0.69: ablating a head of layer l leaves
  layers below l untouched, the unembedding is still needed for the loss).
* peak memory (measured first): each operation runs in a fresh subprocess with glibc's mmap threshold fixed at
  64 KiB (``MALLOC_MMAP_THRESHOLD_``), so every tensor buffer is its own mapping that goes back
  to the OS when freed and the resident set follows the live tensors. After one warm-up call
  the peak-RSS counter is reset (``/proc/self/clear_refs``), the operation runs once, and the
  figure is ``VmHWM - VmRSS before the call``: the extra memory the operation needed on top of
  the loaded model (after a warm-up call on a short input). Plain forward and scan by default;
  ``--memory-sweep`` adds the sweep. The script also prints the size of the largest tensors.

Run: ``python benchmarks/bench_library.py`` (one repetition is about 250 forward passes of
the model: the naive loop 145, the sweep about 100; 3 repetitions take about 45 minutes on an
idle 2-core machine). ``make bench`` passes ``--naive-sample 3`` (the loop timed on 3 heads per
layer, scaled to all): about 12 minutes idle. ``--quick`` runs a 4-layer model with one
repetition to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lib"))

from induction_heads.ablation import ablate_heads, ablation_sweep, mean_loss_metric  # noqa: E402
from induction_heads.models import eager_attention  # noqa: E402
from induction_heads.probes import repeated_tokens  # noqa: E402
from induction_heads.scores import prefix_matching_scores  # noqa: E402


class _Gpt2Vocabulary:
    """What ``repeated_tokens`` needs from GPT-2's tokenizer: 50257 ids, ``<|endoftext|>`` special."""

    bos_token_id = eos_token_id = 50256
    all_special_ids = [50256]
    added_tokens_decoder: dict = {}

    def __len__(self):
        return 50257


def build(n_layers: int):
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=n_layers)).eval()
    tokens = repeated_tokens(_Gpt2Vocabulary(), seq_len=25, n_repeats=4, batch=10, seed=0)
    return model, tokens


@torch.no_grad()
def plain(model, tokens):
    return model(input_ids=tokens, use_cache=False).logits


def scan(model, tokens):
    return prefix_matching_scores(model, tokens)


def sweep(model, tokens):
    return ablation_sweep(model, tokens, progress=False)


@torch.no_grad()
def naive(model, tokens, per_layer: int | None = None):
    """The naive loop: one full forward pass (and the loss) per ablated head.

    Every iteration is the same computation (a full forward pass with one head's output
    zeroed), so with ``per_layer < n_heads`` the loop runs ``per_layer`` heads of each layer
    (spread over the heads) and returns the time scaled to all heads. Returns
    ``(effects with NaN for heads not run, wall seconds, CPU seconds for the whole loop)``.
    """
    n_layers, n_heads = model.config.n_layer, model.config.n_head
    per_layer = n_heads if per_layer is None else per_layer
    start, cpu_start = time.perf_counter(), time.process_time()
    clean = float(mean_loss_metric(model(input_ids=tokens, use_cache=False).logits, tokens))
    t_clean, c_clean = time.perf_counter() - start, time.process_time() - cpu_start
    out = torch.full((n_layers, n_heads), float("nan"))
    for layer in range(n_layers):
        for i in range(per_layer):
            head = (layer + i * n_heads // per_layer) % n_heads
            with ablate_heads(model, [(layer, head)]):
                logits = model(input_ids=tokens, use_cache=False).logits
            out[layer, head] = float(mean_loss_metric(logits, tokens)) - clean
            del logits
    t_heads = time.perf_counter() - start - t_clean
    c_heads = time.process_time() - cpu_start - c_clean
    scale = n_heads / per_layer
    return out, t_clean + t_heads * scale, c_clean + c_heads * scale


@torch.no_grad()
def body(model, tokens):
    """Reference: the transformer without its unembedding (no attention weights)."""
    return model.transformer(input_ids=tokens, use_cache=False).last_hidden_state


@torch.no_grad()
def keep_all(model, tokens):
    """Reference: what a scan that kept every layer's attention would hold (output_attentions)."""
    with eager_attention(model):
        attentions = model.transformer(input_ids=tokens, use_cache=False, output_attentions=True).attentions
    return torch.stack(attentions)


OPS = {"plain": plain, "scan": scan, "sweep": sweep, "naive": lambda m, t: naive(m, t)[0], "body": body,
       "keep_all": keep_all}


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def child_memory(op: str, n_layers: int) -> None:
    torch.set_num_threads(2)
    model, tokens = build(n_layers)
    fn = OPS[op]
    fn(model, tokens[:1, :30])  # warm-up on a short input: one-time allocations are not counted
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status("VmRSS")
    result = fn(model, tokens)
    peak = _status("VmHWM")
    print(json.dumps({"op": op, "extra_bytes": peak - before, "rss_before": before,
                      "result_bytes": result.numel() * result.element_size()}))


def measure_memory(op: str, n_layers: int) -> dict:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child-memory", op, "--layers", str(n_layers)],
        env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2, as in issue 2)")
    parser.add_argument("--quick", action="store_true", help="4 layers, 1 repetition")
    parser.add_argument("--skip-naive", action="store_true", help="time only plain, scan and sweep")
    parser.add_argument("--naive-sample", type=int, default=12, metavar="K",
                        help="run the naive loop on K heads per layer and scale its time to all heads "
                             "(each iteration is the same full forward pass); default 12 = every head")
    parser.add_argument("--memory-sweep", action="store_true", help="also measure the sweep's peak memory (slow)")
    parser.add_argument("--memory-only", action="store_true", help="only the memory figures")
    parser.add_argument("--skip-memory", action="store_true", help="only the timings")
    parser.add_argument("--child-memory", choices=sorted(OPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.layers, args.repeats = 4, 1
    if not 1 <= args.naive_sample <= 12:
        parser.error("--naive-sample must be in 1..12")
    if args.child_memory:
        child_memory(args.child_memory, args.layers)
        return

    if not args.skip_memory:
        print_memory(args)
    if args.memory_only:
        return
    time_operations(args)


def print_memory(args) -> None:
    tokens_shape = (10, 101)
    print("\npeak extra memory (fresh subprocess each, RSS high-water mark minus RSS before the call):")
    labels = {
        "plain": "plain forward (logits)",
        "scan": "prefix_matching_scores (all heads)",
        "body": "reference: transformer without unembedding",
        "keep_all": "reference: eager body keeping every layer's attention",
        "sweep": "ablation_sweep",
    }
    mem = {}
    for op in ("plain", "scan", "body", "keep_all") + (("sweep",) if args.memory_sweep else ()):
        mem[op] = m = measure_memory(op, args.layers)
        print(f"  {labels[op]:55s} {mb(m['extra_bytes']):>10s}   (RSS with the model loaded: {mb(m['rss_before'])})",
              flush=True)
    print(f"scan / plain peak memory: {mem['scan']['extra_bytes'] / mem['plain']['extra_bytes']:.3f}")
    B, T = tokens_shape
    logits = B * T * 50257 * 4
    pattern = B * 12 * T * T * 4
    print(f"for reference: logits {mb(logits)}; one layer's attention pattern {mb(pattern)}; "
          f"every layer's {mb(pattern * args.layers)}")


def time_operations(args) -> None:
    from tqdm.auto import tqdm

    print()
    torch.set_num_threads(args.threads)
    model, tokens = build(args.layers)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: GPT-2 shape, {args.layers} layers x 12 heads, {n_params / 1e6:.1f}M parameters, "
          f"attention {model.config._attn_implementation}; batch {tuple(tokens.shape)}; "
          f"threads {torch.get_num_threads()}; load average before: {os.getloadavg()}")
    ops = ["plain", "body", "scan", "sweep"] + ([] if args.skip_naive else ["naive"])
    plain(model, tokens)  # warm-up; the sweep and the loop run the same kernels
    scan(model, tokens)
    times: dict[str, list[float]] = {op: [] for op in ops}
    cpu: dict[str, list[float]] = {op: [] for op in ops}
    loads = []
    results = {}
    with tqdm(total=args.repeats * len(ops), desc="benchmark") as bar:
        for _ in range(args.repeats):
            for op in ops:
                start, cpu_start = time.perf_counter(), time.process_time()
                if op == "naive":
                    results[op], seconds, cpu_seconds = naive(model, tokens, args.naive_sample)
                else:
                    results[op] = OPS[op](model, tokens)
                    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
                times[op].append(seconds)
                cpu[op].append(cpu_seconds)
                loads.append(os.getloadavg()[0])
                bar.write(f"  {op}: {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU (load {loads[-1]:.1f})")
                bar.update(1)
    print(f"1-minute load average during the runs: min {min(loads):.1f}, max {max(loads):.1f} (2 cores)")
    sampled = "" if args.naive_sample == 12 else f"; loop run on {args.naive_sample} heads per layer, time scaled to all"
    L = args.layers

    def ratios(table, a, b):
        """a / b within each repetition (same load), then the median over repetitions."""
        per_run = [x / y for x, y in zip(table[a], table[b])]
        return statistics.median(per_run), ", ".join(f"{r:.3f}" for r in per_run)

    for label, table in (("wall-clock", times), ("CPU (user+system, all threads)", cpu)):
        print(f"\n{label} seconds per run: " + "; ".join(
            f"{op} {', '.join(f'{t:.2f}' for t in table[op])}" for op in ops))
        print("  ratios within each repetition, median (per repetition):")
        print("    scan / plain forward: {:.3f} ({})   goal <= 0.8".format(*ratios(table, "scan", "plain")))
        print("    transformer without unembedding / plain forward: {:.3f} ({})".format(*ratios(table, "body", "plain")))
        if "naive" in table:
            print("    sweep / naive loop:   {:.3f} ({})   goal <= 0.75{}".format(*ratios(table, "sweep", "naive"), sampled))
            # Floor from the measured parts: a head of layer l needs layers l.. (on average
            # (L+1)/2 of the L layers of the body) plus everything after the body (unembedding, loss).
            floors = []
            for body_t, naive_t in zip(table["body"], table["naive"]):
                per_head = naive_t / (12 * L + 1)
                floors.append(((L + 1) / (2 * L) * body_t + max(per_head - body_t, 0.0)) / per_head)
            print(f"    floor from the measured parts (body share {(L + 1) / (2 * L):.3f}, the rest in full): "
                  f"{statistics.median(floors):.3f}")
        else:
            print("    sweep / plain forward: {:.1f} ({})   (the naive loop is {} plain passes and losses)".format(
                *ratios(table, "sweep", "plain"), 12 * L + 1))
    if "naive" in results:
        ran = ~torch.isnan(results["naive"])
        diff = (results["sweep"][ran] - results["naive"][ran]).abs().max().item()
        print(f"sweep and naive loop agree to {diff:.2e} (max abs difference of the loss effects, {int(ran.sum())} heads)")


if __name__ == "__main__":
    main()
