"""torch-exact random streams: minembed vs torch, side by side in one run (issue 10's goals).

Workloads (2 threads on both sides), each producing the same numbers on both sides:
  Embedding(50257, 768) initialisation   minembed.nn.Embedding vs torch.nn.Embedding   goal >= 1.0x
  Linear(768, 50257) initialisation      minembed.nn.Linear vs torch.nn.Linear          goal >= 1.0x
  randperm(10_000_000)                   minembed.random.randperm vs torch.randperm     goal >= 1.0x
Both sides draw from the default generator, reseeded before each call; medians over rounds
timed in alternation, with the interquartile range as the spread.

Run: .venv/bin/python benchmarks/bench_random.py [--quick]  (needs the test extra: torch)
"""

from __future__ import annotations

import argparse
import statistics
import time


def _samples(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _side_by_side(mine, anchor, *, rounds: int, repeat: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Seconds of each call of mine and anchor, timed in alternation after the same warm-up."""
    for _ in range(warmup):
        mine()
        anchor()
    ours, theirs = [], []
    for _ in range(rounds):
        ours += _samples(mine, repeat)
        theirs += _samples(anchor, repeat)
    return ours, theirs


def _spread(values: list[float]) -> float:
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


def run(quick: bool = False) -> list[dict]:
    import numba
    import torch

    import minembed
    from minembed.random import randperm

    threads = 2
    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    rounds, repeat = (2, 2) if quick else (5, 3)
    perm_n = 1_000_000 if quick else 10_000_000

    def seeded(fn, seed_fn):
        def call():
            seed_fn(0)
            return fn()

        return call

    workloads = [
        ("Embedding(50257, 768) init", "torch.nn.Embedding(50257, 768)",
         lambda: minembed.nn.Embedding(50257, 768), lambda: torch.nn.Embedding(50257, 768)),
        ("Linear(768, 50257) init", "torch.nn.Linear(768, 50257)",
         lambda: minembed.nn.Linear(768, 50257), lambda: torch.nn.Linear(768, 50257)),
        (f"randperm({perm_n:_})", f"torch.randperm({perm_n:_})",
         lambda: randperm(perm_n), lambda: torch.randperm(perm_n)),
    ]  # fmt: skip
    rows = []
    for workload, anchor_name, mine, anchor in workloads:
        ours, theirs = _side_by_side(
            seeded(mine, minembed.manual_seed), seeded(anchor, torch.manual_seed), rounds=rounds, repeat=repeat
        )
        ours_ms, theirs_ms = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
        rows.append(
            {
                "benchmark": "random",
                "workload": workload,
                "anchor": f"torch 2.13 {anchor_name}, {threads} threads",
                "unit": "ms",
                "minembed": ours_ms,
                "anchor_value": theirs_ms,
                "ratio": theirs_ms / ours_ms,
                "spread": f"IQR {100 * _spread(ours):.0f}% / {100 * _spread(theirs):.0f}%",
                "goal": ">= 1.0x",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a 1M randperm")
    args = parser.parse_args()
    print("median ms (lower is better); ratio = torch / minembed (> 1: minembed faster)\n")
    print(f"{'workload':34} {'minembed':>10} {'torch':>10} {'ratio':>7}  {'spread (minembed / torch)':28} goal")
    for row in run(quick=args.quick):
        print(
            f"{row['workload']:34} {row['minembed']:10.1f} {row['anchor_value']:10.1f} {row['ratio']:6.2f}x  "
            f"{row['spread']:28} {row['goal']}"
        )


if __name__ == "__main__":
    main()
