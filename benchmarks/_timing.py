"""Side-by-side timing and the benchmark row format shared by the benchmark scripts.

Fairness rules every script follows (issue 15):
- each contender gets the same warm-up (several calls: JIT, caches, first-touch page faults);
- contenders alternate within every round, so load from other jobs on a shared machine hits them alike;
- each side reports the same statistic: the median of its per-round medians, with the interquartile range
  (or, with few rounds, the min-max range) as the spread;
- the ratio is minembed's advantage: > 1 means minembed is better (faster, or smaller in memory).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

# Units where a smaller figure is better; every other unit (MB/s, words/s, ...) is a throughput.
LOWER_IS_BETTER = {"s", "ms", "us", "us/call", "ns", "ns/token", "MB", "MiB", "GB"}


def setup_environment() -> None:
    """Make the repo root importable and point minembed and reference/ at the shared data.

    `reference.shared` looks for `../shared/data` beside the repo root; a git worktree sits one
    level deeper, so when that is missing the nearest ancestor holding `shared/data` is used.
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    if not os.environ.get("MINEMBED_SHARED_DATA"):
        for folder in REPO_ROOT.parents:
            if (folder / "shared" / "data" / "corpora").is_dir():
                os.environ["MINEMBED_SHARED_DATA"] = str(folder / "shared" / "data")
                break
    from reference.shared import encodings_dir

    os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
    os.environ.setdefault("MINEMBED_OFFLINE", "1")


THREADS = 2


@contextlib.contextmanager
def same_threads(count: int = THREADS):
    """Run minembed (Numba) and torch (if installed) on `count` threads each; restore them after."""
    import numba

    try:
        import torch
    except ModuleNotFoundError:
        torch = None
    old_numba = numba.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    if torch is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(old_numba)
        if torch is not None:
            torch.set_num_threads(old_torch)


@dataclass
class Timing:
    """Per-round median seconds of one contender and their summary."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def spread_percent(self) -> tuple[str, float]:
        """('IQR', %) with at least 5 rounds, else ('range', %), relative to the median."""
        values = sorted(self.samples)
        if len(values) >= 5:
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
            return "IQR", 100.0 * (q3 - q1) / self.median
        return "range", 100.0 * (values[-1] - values[0]) / self.median


def spread_text(*timings: Timing) -> str:
    """The spread of every side, e.g. 'IQR 3% / 5%' (minembed first, then the anchors)."""
    kind = timings[0].spread_percent()[0]
    return f"{kind} " + " / ".join(f"{t.spread_percent()[1]:.0f}%" for t in timings)


def _time_once(fn: Callable[[], object], setup: Callable[[], object] | None) -> float:
    if setup is not None:
        setup()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_alternating(
    contenders: dict[str, Callable[[], object]],
    *,
    setup: Callable[[], object] | None = None,
    warmup: int = 3,
    rounds: int = 7,
    repeat: int = 3,
    min_seconds: float = 0.0,
    settle: float = 0.0,
) -> dict[str, Timing]:
    """Time the contenders in alternation: `warmup` untimed calls each, then `rounds` rounds in which each
    contender in turn runs `repeat` timed calls (setup() before each call, untimed); a round's figure is the
    median of its calls. Rounds stop early once every contender has `rounds` figures, and continue past
    `rounds` (up to 3x) while the total timed time is under `min_seconds`. `settle` seconds pass (untimed)
    before each contender's turn, for thread pools whose idle workers spin after the turn before it.
    """
    for fn in contenders.values():
        for _ in range(warmup):
            if setup is not None:
                setup()
            fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    spent = 0.0
    done = 0
    while done < rounds or (spent < min_seconds and done < 3 * rounds):
        order = list(contenders.items())
        if done % 2:
            order.reverse()  # no contender always runs right after the same other one
        for name, fn in order:
            time.sleep(settle)
            calls = [_time_once(fn, setup) for _ in range(repeat)]
            spent += sum(calls)
            samples[name].append(statistics.median(calls))
        done += 1
    return {name: Timing(values) for name, values in samples.items()}


def compare_calls(
    contenders: dict[str, Callable[[], object]], *, calls: int, warmup: int = 3, rounds: int = 7
) -> dict[str, Timing]:
    """Like time_alternating() for cheap calls: each timed figure is the mean of `calls` back-to-back calls
    (loop overhead included on both sides alike)."""

    def looped(fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(calls):
                fn()

        return run

    timings = time_alternating(
        {name: looped(fn) for name, fn in contenders.items()}, warmup=warmup, rounds=rounds, repeat=1
    )
    return {name: Timing([s / calls for s in t.samples]) for name, t in timings.items()}


def compare(
    contenders: dict[str, Callable[[], object]],
    *,
    setup: Callable[[], object] | None = None,
    rounds: int = 7,
    repeat: int = 3,
    warmup: int = 3,
) -> dict[str, float]:
    """Median seconds per contender (time_alternating() without the spread; kept for older scripts)."""
    timings = time_alternating(contenders, setup=setup, rounds=rounds, repeat=repeat, warmup=warmup)
    return {name: timing.median for name, timing in timings.items()}


def median_seconds(
    fn: Callable[[], object], *, setup: Callable[[], object] | None = None, repeat: int = 15, warmup: int = 3
) -> float:
    """Median wall time of fn() over `repeat` calls; setup() runs before each call, untimed."""
    return time_alternating({"fn": fn}, setup=setup, rounds=repeat, repeat=1, warmup=warmup)["fn"].median


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms"


def best_times(ours: Callable[[], object], theirs: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time of each side, the two alternating (kept for older scripts; new ones report medians)."""
    timings = time_alternating({"ours": ours, "theirs": theirs}, rounds=repeat, repeat=1)
    return min(timings["ours"].samples), min(timings["theirs"].samples)


def ratio_for(unit: str, minembed: float, anchor: float) -> float:
    """minembed's advantage: anchor/minembed for times and memory, minembed/anchor for throughputs."""
    if unit in LOWER_IS_BETTER:
        return anchor / minembed if minembed > 0 else float("inf")
    return minembed / anchor if anchor > 0 else float("inf")


def row(
    benchmark: str,
    workload: str,
    anchor: str,
    unit: str,
    minembed: float,
    anchor_value: float,
    spread: str,
    goal: str | None = None,
) -> dict:
    """One row of the benchmark protocol (see COMMON.md); the ratio is derived from the unit."""
    return {
        "benchmark": benchmark,
        "workload": workload,
        "anchor": anchor,
        "unit": unit,
        "minembed": float(minembed),
        "anchor_value": float(anchor_value),
        "ratio": ratio_for(unit, minembed, anchor_value),
        "spread": spread,
        "goal": goal,
    }


def timing_row(
    benchmark: str,
    workload: str,
    anchor: str,
    ours: Timing,
    theirs: Timing,
    *,
    unit: str = "ms",
    goal: str | None = None,
) -> dict:
    """A row from two Timings (seconds), in `unit` ('s', 'ms' or 'us/call')."""
    scale = {"s": 1.0, "ms": 1e3, "us/call": 1e6, "us": 1e6}[unit]
    return row(
        benchmark, workload, anchor, unit, ours.median * scale, theirs.median * scale, spread_text(ours, theirs), goal
    )


def print_rows(rows: list[dict]) -> None:
    """Print rows as the suite's table (used by each script's main())."""
    from suite import format_table, machine_info

    print(format_table({"date": time.strftime("%Y-%m-%d"), "machine": machine_info(), "rows": rows}))


_FLUSH = None


def _last_level_cache_bytes() -> int:
    """The largest CPU cache this machine reports (Linux sysfs), or 32 MiB if it reports none."""
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = path.read_text().strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * scale)
    return max(sizes, default=32 << 20)


def flush_caches() -> None:
    """Evict the CPU caches (by writing twice the largest cache, at least 64 MiB), so that each
    contender starts cold, whatever ran before it: otherwise the one timed second finds the
    first one's rows still cached. (A fixed 64 MiB no longer flushed a VM reporting a 300 MiB L3.)"""
    global _FLUSH
    if _FLUSH is None:
        import numpy as np

        _FLUSH = np.empty(max(64 << 20, 2 * _last_level_cache_bytes()), dtype=np.uint8)
    _FLUSH.fill(1)
