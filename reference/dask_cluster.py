"""The Dask side of the sharding tests: a local two-process cluster, and executors that kill their workers.

The only place besides reference/'s other oracles that imports dask/distributed; minembed itself
takes any concurrent.futures.Executor. Fault injection wraps the executor, never minembed's code:
the wrapped task watches the shard's temp file from a thread and kills its own process with
os._exit once the file holds data, which is what a crashed or OOM-killed worker looks like.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent.futures import Executor
from pathlib import Path

import minembed

REPO_ROOT = str(Path(minembed.__file__).resolve().parent.parent)


def worker_environment() -> None:
    """Make worker processes import this checkout's minembed (not an installed one)."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if REPO_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *[p for p in paths if p]])


# glibc's own malloc thresholds at the values its adaptive rule reaches on 64-bit Linux (mmap
# 32 MiB, trim twice that). Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also
# fixes the mmap threshold at 128 KiB: tokenizing then ran 10-30% slower per worker (measured with
# benchmarks/bench_shards.py, which reports both, and A/B runs). docs/distributed.md says how to set this.
GLIBC_ADAPTIVE_MALLOC = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(64 << 20),
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": str(32 << 20),
}


# Dask's diagnostics, slowed down for workers that run long CPU-bound tasks: the statistical profiler
# (a stack sample every 10 ms) off, the event-loop tick check every 100 ms instead of 20, the system and
# memory monitors every 2 s and 1 s instead of 0.5 s and 0.1 s (a worker then reacts to its memory
# limit within a second). An idle 2-worker LocalCluster here burned 3.9% of a core per worker and
# 5.1% in the driver and scheduler with the defaults, 0.7-0.8% and 2.1% with these (session 7).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "100ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextlib.contextmanager
def local_cluster(n_workers: int = 2, config: dict | None = None):
    """A distributed.Client on a LocalCluster of `n_workers` processes, 1 thread each, on 127.0.0.1,
    with extra dask `config` (e.g. GLIBC_ADAPTIVE_MALLOC) while it starts."""
    worker_environment()
    import dask
    import distributed

    # One retry after a worker dies (the default is 3): a task that kills its worker every time
    # then fails after two deaths instead of four, which keeps the tests short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1, **(config or {})}):
        cluster = distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        )
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def _die_with_the_shard(fn, task, run_id, shard: int, marker: str | None, when: str):
    """Run fn(task, run_id), but if task is shard `shard`: die now (when="always"), or, while `marker` exists,
    die as soon as the shard's temp file holds data (when="mid-write"; the marker is removed first,
    so the next attempt lives)."""
    if task.index == shard:
        if when == "always":
            os._exit(13)
        if when == "mid-write" and marker is not None and os.path.exists(marker):
            out = Path(task.out_path)
            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    for tmp in out.parent.glob(f".{out.name}.*.tmp"):
                        try:
                            size = tmp.stat().st_size
                        except FileNotFoundError:
                            continue
                        if size > 4096:  # the header and some tokens are on disk
                            os.remove(marker)
                            os._exit(13)
                    time.sleep(0.001)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            try:
                return fn(task, run_id)
            finally:
                stop.set()
                watcher.join()
    return fn(task, run_id)


class DyingWorkers(Executor):
    """Wraps an executor so that the worker running shard `shard` dies (see _die_with_the_shard)."""

    def __init__(self, inner: Executor, shard: int, when: str, marker: str | os.PathLike | None = None) -> None:
        self.inner, self.shard, self.when = inner, shard, when
        self.marker = None if marker is None else os.fspath(marker)

    def submit(self, fn, /, *args, **kwargs):
        return self.inner.submit(_die_with_the_shard, fn, *args, self.shard, self.marker, self.when, **kwargs)
