"""Sharded tokenization on a Dask LocalCluster, encode_ordinary_batch on two threads, and scaling on paper.

1. tokenize_shards (gpt2) of ~100 MB in 16 files (the shared corpora's paragraphs shuffled
   differently in each file, built in a temp dir) on a 2-worker LocalCluster vs the same cluster
   with every task on one worker (goal >= 1.7x), and vs tokenize_files(workers=2) in this process
   (goal: within 10%); once with Dask's worker environment as it comes, once with glibc's adaptive
   malloc thresholds restored in the workers, once with those and Dask's diagnostics slowed down.
   First, the same shards on a ProcessPoolExecutor(2) (no engine: no scheduler, no event loops, no
   cluster running) vs tokenize_files(workers=2): what sharding costs here without Dask, for reference.
2. encode_ordinary_batch(texts, num_threads=2) vs its own single-thread loop (goal >= 1.8x).
3. On paper: the measured seconds per shard on one worker and the driver's (scheduler's) cost
   per shard give what N workers reach on 1 TB and where the driver becomes the bottleneck.
4. The distinct-pieces table BPE training keeps on the driver, measured on growing prefixes of
   the shared corpora.
Each comparison alternates its sides (the order flips every other round), after a warm-up, and
reports the median and spread (min-max).

    .venv/bin/python benchmarks/bench_shards.py [--quick] [--megabytes 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference.shared import corpus_paths, encodings_dir  # noqa: E402

os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
os.environ.setdefault("MINEMBED_OFFLINE", "1")

import numpy as np  # noqa: E402
from _timing import time_alternating  # noqa: E402 (benchmarks/, this script's folder, is on the path)

import minembed  # noqa: E402
from minembed.data import tokenize_files  # noqa: E402
from minembed.data.shards import count_pieces_shards, tokenize_shards  # noqa: E402
from minembed.data.shards.pieces import merged_piece_counts  # noqa: E402
from reference.dask_cluster import GLIBC_ADAPTIVE_MALLOC, QUIET_WORKERS, local_cluster  # noqa: E402

N_FILES = 16
PAPER_WORKERS = 100
PAPER_BYTES = 10**12


def build_corpus(folder: Path, megabytes: float, n_files: int = N_FILES, seed: int = 0) -> list[Path]:
    """n_files text files of megabytes / n_files each: the corpora's paragraphs, shuffled per file."""
    paragraphs = []
    for path in corpus_paths():
        paragraphs += path.read_text(encoding="utf-8").split("\n\n")
    rng = np.random.default_rng(seed)
    per_file = int(megabytes * 1e6 / n_files)
    paths = []
    for i in range(n_files):
        chunks, size = [], 0
        while size < per_file:
            for j in rng.permutation(len(paragraphs)):
                chunks.append(paragraphs[j])
                size += len(paragraphs[j]) + 2
                if size >= per_file:
                    break
        path = folder / f"part{i:02d}.txt"
        path.write_text("\n\n".join(chunks), encoding="utf-8")
        paths.append(path)
    return paths


def _spread(times: list[float]) -> str:
    med = statistics.median(times)
    return f"range {100 * (max(times) - min(times)) / med:.0f}% over {len(times)}"


def alternate(contenders: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds per run of each contender, alternating them `rounds` times (after one warm-up each; the
    order flips every other round: `_timing.time_alternating` with one call per turn)."""
    timings = time_alternating(contenders, warmup=1, rounds=rounds, repeat=1)
    return {name: timing.samples for name, timing in timings.items()}


def _row(workload, anchor, ours: list[float], theirs: list[float], goal) -> dict:
    mine, anchor_value = statistics.median(ours), statistics.median(theirs)
    return {
        "benchmark": "shards",
        "workload": workload,
        "anchor": anchor,
        "unit": "s",
        "minembed": mine,
        "anchor_value": anchor_value,
        "ratio": anchor_value / mine,
        "spread": f"ours {_spread(ours)}, anchor {_spread(theirs)}",
        "goal": goal,
    }


def _dask_setting(key: str):
    """A Dask configuration value as a worker sees it."""
    import dask

    return dask.config.get(key)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (Linux: ru_maxrss is in kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's children (here: the process pool's workers)."""
    import psutil  # comes with distributed

    return sum(sum(child.cpu_times()[:2]) for child in psutil.Process().children(recursive=True))


def driver_seconds_per_shard(client, folder: Path, n_shards: int) -> tuple[float, float]:
    """(wall, driver CPU) seconds per shard of tokenize_shards over tiny inputs: the driver's and
    scheduler's cost per shard; the wall time also holds a task's fixed cost (stat, write, SHA-256,
    sidecar) and so is an upper bound on what the driver needs."""
    tiny = []
    for i in range(n_shards):
        path = folder / f"tiny{i:04d}.txt"
        path.write_text(f"document {i}\n", encoding="utf-8")
        tiny.append(path)
    executor = client.get_executor()
    tokenize_shards(tiny[:8], folder / "warm", "gpt2", executor=executor, progress=False)
    start, cpu = time.perf_counter(), time.process_time()  # the scheduler runs in this process too
    tokenize_shards(tiny, folder / "tiny", "gpt2", executor=executor, progress=False, resume=False)
    return (time.perf_counter() - start) / n_shards, (time.process_time() - cpu) / n_shards


def pieces_table_sizes(folder: Path) -> list[tuple[float, int, int]]:
    """(text MB, distinct pieces, bytes of the driver's packed table) for growing corpus prefixes."""
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus_paths(), key=lambda p: p.name))
    rows = []
    for fraction in (0.125, 0.25, 0.5, 1.0):
        part = folder / f"prefix{fraction}.txt"
        part.write_text(text[: int(len(text) * fraction)], encoding="utf-8")
        manifest = count_pieces_shards([part], folder / f"counts{fraction}", progress=False)
        tokens, offsets, counts, _ = merged_piece_counts(manifest)
        rows.append((part.stat().st_size / 1e6, len(counts), tokens.nbytes + offsets.nbytes + counts.nbytes))
    return rows


def run(quick: bool = False, megabytes: float | None = None) -> list[dict]:
    megabytes = megabytes or (8 if quick else 100)
    rounds = 2 if quick else 8  # each alternates 3-4 runs of 2-5 s: the ratios of 4 rounds moved by 10-20%
    rows = []
    notes: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_shards_") as tmp:
        folder = Path(tmp)
        inputs = build_corpus(folder, megabytes)
        total_mb = sum(p.stat().st_size for p in inputs) / 1e6
        workload = f"gpt2, {total_mb:.0f} MB in {len(inputs)} files, 1 file per shard"
        # One cluster at a time (an idle second cluster takes CPU from every side): "1 worker" is the
        # same 2-worker cluster with every task pinned to its first worker. First with Dask's worker
        # environment as it comes, then with glibc's malloc thresholds fixed at the values its adaptive
        # rule reaches (see GLIBC_ADAPTIVE_MALLOC), then with Dask's diagnostics slowed down as well
        # (QUIET_WORKERS; both are what docs/distributed.md recommends). tokenize_files runs in this
        # process with glibc's adaptive defaults in all three: close to the second and third setups.
        setups = (  # (name, dask config, whether the CPU, memory and paper figures come from it)
            ("Dask's defaults", None, False),
            ("workers with glibc's malloc thresholds", GLIBC_ADAPTIVE_MALLOC, True),
            (
                "malloc thresholds and quiet diagnostics (docs/distributed.md)",
                GLIBC_ADAPTIVE_MALLOC | QUIET_WORKERS,
                False,
            ),
        )

        def sharded_on(executor, name: str):
            """A run of tokenize_shards on `executor`, into its own folder."""

            def run_shards() -> None:
                tokenize_shards(inputs, folder / name, "gpt2", executor=executor, resume=False, progress=False)

            return run_shards

        def in_one_process() -> None:
            tokenize_files(inputs, folder / "all.tok", "gpt2", workers=2, progress=False)

        # First the no-engine reference, before any cluster runs.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(2, mp_context=spawn) as pool:
            no_engine = {"process pool": sharded_on(pool, "pool"), "tokenize_files": in_one_process}
            times = alternate(no_engine, rounds)
            rows.append(
                _row(
                    f"tokenize_shards, {workload}: ProcessPoolExecutor(2), no engine and no cluster running "
                    "(a reference: what sharding costs here without Dask's processes)",
                    "tokenize_files(workers=2) in one process",
                    times["process pool"],
                    times["tokenize_files"],
                    "",
                )
            )
            # no cluster is running yet, so this process's children are the pool's workers
            before, driver = _children_cpu_seconds(), time.process_time()
            no_engine["process pool"]()
            pool_cpu = (_children_cpu_seconds() - before + time.process_time() - driver) / total_mb
        for setup, config, with_notes in setups:
            with local_cluster(2, config) as client:
                first_worker = sorted(client.scheduler_info()["workers"])[:1]
                mmap_threshold = set(client.run(os.environ.get, "MALLOC_MMAP_THRESHOLD_").values())
                assert mmap_threshold == {None if config is None else str(32 << 20)}, mmap_threshold
                profiler = set(client.run(_dask_setting, "distributed.worker.profile.enabled").values())
                assert profiler == {(config or {}).get("distributed.worker.profile.enabled", True)}, profiler
                executors = {
                    "2 workers": client.get_executor(),
                    "1 worker": client.get_executor(workers=first_worker),
                }
                runs = {name: sharded_on(executor, name.replace(" ", "_")) for name, executor in executors.items()}
                runs["tokenize_files"] = in_one_process
                times = alternate(runs, rounds)
                rows.append(
                    _row(
                        f"tokenize_shards, {workload}, {setup}: 2-worker LocalCluster",
                        "the same with every task on 1 of its workers",
                        times["2 workers"],
                        times["1 worker"],
                        ">= 1.7x",
                    )
                )
                rows.append(
                    _row(
                        f"tokenize_shards, {workload}, {setup}: 2-worker LocalCluster",
                        "tokenize_files(workers=2) in one process",
                        times["2 workers"],
                        times["tokenize_files"],
                        ">= 0.9x (within 10%)",
                    )
                )
                if not with_notes:
                    continue
                # CPU seconds per MB of every side (all processes involved): on a loaded machine the
                # wall times mostly measure the load, these show whether sharding costs extra work
                cpu = {}
                for name in executors:
                    before, driver = sum(client.run(time.process_time).values()), time.process_time()
                    runs[name]()
                    used = sum(client.run(time.process_time).values()) - before + time.process_time() - driver
                    cpu[name] = used / total_mb
                driver = time.process_time()
                runs["tokenize_files"]()
                cpu["tokenize_files"] = (time.process_time() - driver) / total_mb
                notes["cpu_s_per_mb"] = cpu | {"process pool (no cluster)": pool_cpu}
                notes["seconds_per_mb_one_worker"] = statistics.median(times["1 worker"]) / total_mb
                notes["shard_mb"] = total_mb / len(inputs)
                notes["worker_peak_rss_mb"] = max(client.run(_peak_rss_mb).values())
                notes["driver_s_per_shard"] = driver_seconds_per_shard(client, folder, 100 if quick else 400)

        enc = minembed.get_encoding("gpt2")
        texts = [p.read_text(encoding="utf-8") for p in inputs[:2]]
        docs = [d for t in texts for d in t.split("\n\n") if d][: 4000 if quick else 20000]
        batch_mb = sum(len(d.encode()) for d in docs) / 1e6
        # A round of both sides takes about 0.6 s, against minutes for the sharded runs: enough rounds
        # that a few seconds of a busy neighbour move the medians of both sides, not the ratio.
        times = alternate(
            {
                "2 threads": lambda: enc.encode_ordinary_batch(docs, num_threads=2),
                "loop": lambda: [enc.encode_ordinary(d) for d in docs],
            },
            10 if quick else 20,
        )
        rows.append(
            _row(
                f"encode_ordinary_batch(num_threads=2), gpt2, {len(docs)} paragraphs, {batch_mb:.1f} MB",
                "its own single-thread loop of encode_ordinary",
                times["2 threads"],
                times["loop"],
                ">= 1.8x",
            )
        )
        notes["pieces"] = pieces_table_sizes(folder)
    run.notes = notes  # read by main() for the paper estimates
    return rows


def scaling_on_paper(notes: dict, workers: int = PAPER_WORKERS, total_bytes: float = PAPER_BYTES) -> list[str]:
    # Per-core figures (CPU time), not wall times: on a loaded machine the wall times measure the load.
    per_mb = notes["cpu_s_per_mb"]["1 worker"]
    driver_wall, driver = notes["driver_s_per_shard"]
    lines = [
        (
            f"measured: {per_mb * 1e3:.0f} ms of CPU per MB of text on one worker ({1 / per_mb:.1f} MB/s per core; "
            f"wall time here {notes['seconds_per_mb_one_worker'] * 1e3:.0f} ms/MB); driver+scheduler per shard: "
            f"{driver * 1e3:.1f} ms of CPU ({driver_wall * 1e3:.1f} ms of wall, tiny shards, an upper bound)"
        )
    ]
    for shard_mb in (notes["shard_mb"], 100.0, 1000.0):
        n_shards = total_bytes / 1e6 / shard_mb
        worker_bound = total_bytes / 1e6 * per_mb / workers  # seconds if the workers are the limit
        driver_bound = n_shards * driver  # seconds if the driver is
        seconds_per_shard = per_mb * shard_mb  # one worker's time for one shard
        finished = workers / seconds_per_shard  # shards/s the workers finish, against 1 / driver handed out
        crossover = seconds_per_shard / driver  # workers at which the driver saturates
        lines.append(
            f"1 TB in {n_shards:,.0f} shards of {shard_mb:.0f} MB on {workers} workers: "
            f"{max(worker_bound, driver_bound) / 3600:.1f} h ({'driver' if driver_bound > worker_bound else 'workers'}"
            f"-bound; workers alone {worker_bound / 3600:.1f} h, driver alone {driver_bound / 3600:.2f} h); "
            f"the driver saturates at ~{crossover:,.0f} workers (the {workers} finish {finished:.1f} shards/s; "
            f"it hands out {1 / driver:.0f})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--megabytes", type=float, default=None)
    args = parser.parse_args()
    rows = run(quick=args.quick, megabytes=args.megabytes)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (figures are noisy when it is high)")
    for r in rows:
        print(
            f"{r['workload']}\n    vs {r['anchor']}: {r['minembed']:.2f} s vs {r['anchor_value']:.2f} s -> "
            f"{r['ratio']:.2f}x ({'goal ' + r['goal'] if r['goal'] else 'no goal'}; {r['spread']})"
        )
    cpu = ", ".join(f"{name} {seconds * 1e3:.0f} ms" for name, seconds in run.notes["cpu_s_per_mb"].items())
    print("the figures below: the workers with glibc's malloc thresholds (the second setup)")
    print(f"CPU time per MB of text (workers + driver): {cpu}")
    print(f"peak RSS of a Dask worker process after tokenizing: {run.notes['worker_peak_rss_mb']:.0f} MB")
    print("\nscaling on paper:")
    for line in scaling_on_paper(run.notes):
        print("   ", line)
    print("\ndistinct-pieces table on the driver (GPT-4 pattern, shared corpora prefixes):")
    for mb, n, nbytes in run.notes["pieces"]:
        print(
            f"    {mb:6.1f} MB of text: {n:,} distinct pieces, {nbytes / 1e6:.1f} MB packed "
            f"({nbytes / mb / 1e3:.2f} MB per GB at this size; it grows sublinearly)"
        )


if __name__ == "__main__":
    main()
