"""Side-by-side timing helpers shared by the benchmark scripts.

The machine is shared and noisy, so each contender is timed in alternation with the others,
several rounds, and the median is reported; ratios come from the same run.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable


def median_seconds(fn: Callable[[], object], *, setup: Callable[[], object] | None = None, repeat: int = 15,
                   warmup: int = 2) -> float:
    """Median wall time of fn() over `repeat` calls; setup() runs before each call, untimed."""
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(contenders: dict[str, Callable[[], object]], *, setup: Callable[[], object] | None = None,
            rounds: int = 5, repeat: int = 5) -> dict[str, float]:
    """Median seconds per contender, timing them in alternation over several rounds."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for name, fn in contenders.items():  # warm up every contender (JIT, caches, page faults)
        median_seconds(fn, setup=setup, repeat=1, warmup=1)
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(median_seconds(fn, setup=setup, repeat=repeat, warmup=0))
    return {name: statistics.median(values) for name, values in samples.items()}


_FLUSH = None


def flush_caches() -> None:
    """Evict the CPU caches (by writing 64 MiB, twice a large L3), so that each contender starts
    cold, whatever ran before it: otherwise the one timed second finds the first one's rows
    still cached."""
    global _FLUSH
    if _FLUSH is None:
        import numpy as np

        _FLUSH = np.empty(64 << 20, dtype=np.uint8)
    _FLUSH.fill(1)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms"


def best_times(ours: Callable[[], object], theirs: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall time of each side; the two alternate, so load from other jobs hits both alike."""
    ours(), theirs()  # warm-up (compilation, first-touch page faults)
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        theirs()
        best_theirs = min(best_theirs, time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        best_ours = min(best_ours, time.perf_counter() - start)
    return best_ours, best_theirs

