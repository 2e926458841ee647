"""BPE training, minembed vs rustbpe, in the same run: wall time and peak memory (RSS).

The corpus (about 100 MB) is assembled from the Python standard library sources found on
this machine (every installed version's `lib/pythonX.Y/**/*.py`, site-packages excluded)
plus the shared corpora. Each trainer runs in its own subprocess, one after the other, fed
the same stream of texts (one file per text, read lazily); the child reports its wall time
and its peak RSS (VmHWM), so the two peaks are measured apart.

    .venv/bin/python benchmarks/bench_train.py                 # 100 MB, vocab 32768
    .venv/bin/python benchmarks/bench_train.py --mb 20 --vocab 4096

The goal of issue 4: minembed <= 0.5x rustbpe on both wall time and peak RSS. minembed is
called as users call it, `from minembed import train_bpe`; with its ahead-of-time training
kernels (minembed/tokenizers/train_kernels.py) that process never loads Numba.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stdlib_dirs() -> list[str]:
    """Standard-library folders of every Python on the machine, newest version first."""
    patterns = [
        sys.base_prefix + "/lib/python3.*",
        os.path.dirname(sys.base_prefix) + "/*/lib/python3.*",
        "/usr/lib/python3*",
        "/usr/local/lib/python3*",
    ]
    found = {os.path.realpath(d) for p in patterns for d in glob.glob(p) if os.path.isdir(d)}

    def version(d: str) -> tuple[int, ...]:
        tail = os.path.basename(d).removeprefix("python")
        return tuple(int(x) for x in tail.split(".") if x.isdigit())

    return sorted(found, key=lambda d: (version(d), d), reverse=True)


def corpus_files(target_bytes: int) -> list[str]:
    """Shared corpora, then stdlib .py files, until about `target_bytes` bytes."""
    from reference.shared import corpus_paths

    files = [str(p) for p in corpus_paths()]
    total = sum(os.path.getsize(f) for f in files)
    for d in stdlib_dirs():
        for path in sorted(Path(d).rglob("*.py")):
            if "site-packages" in path.parts or "dist-packages" in path.parts or not path.is_file():
                continue
            if total >= target_bytes:
                return files
            files.append(str(path))
            total += path.stat().st_size
    return files


def read_texts(files: list[str]):
    """One text per file, read only when asked for (undecodable bytes replaced)."""
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            yield fh.read()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (less sensitive to a busy machine)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ranks_digest(ranks: dict[bytes, int]) -> str:
    h = hashlib.sha256()
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        h.update(rank.to_bytes(4, "little") + len(token).to_bytes(4, "little") + token)
    return h.hexdigest()[:16]


class AnonymousPeak:
    """Samples RssAnon (this process's private, non-file memory) every 2 ms in a thread and keeps
    the maximum: RSS also counts the pages of loaded shared libraries (Numba's LLVM among them),
    which are file-backed and shared; this shows the memory each library actually allocates."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("RssAnon:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                        break
            self._stop.wait(0.002)

    def stop_mb(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def child(which: str, files_list: str, vocab_size: int) -> None:
    """Train with one library and print a JSON line with its timings and peak RSS."""
    anonymous = AnonymousPeak()
    files = Path(files_list).read_text().splitlines()
    report: dict[str, object] = {"which": which}
    if which == "rustbpe":
        import rustbpe

        report["rss_after_import_mb"] = peak_rss_mb()
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        tok = rustbpe.Tokenizer()
        tok.train_from_iterator(read_texts(files), vocab_size)
        ranks = {bytes(t): r for t, r in tok.get_mergeable_ranks()}
        report["wall"] = time.perf_counter() - t0
        report["cpu"] = cpu_seconds() - c0
    else:
        from minembed import train_bpe
        from minembed.tokenizers.train_kernels import training_kernels

        report["rss_after_import_mb"] = peak_rss_mb()
        # Load (or, the very first time, build) the compiled kernels outside the timed region.
        report["kernels"] = training_kernels().kind
        train_bpe("warm up", 257, progress=False)
        report["rss_after_warmup_mb"] = peak_rss_mb()
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        encoding = train_bpe(read_texts(files), vocab_size, progress=False)
        ranks = dict(encoding.mergeable_ranks)
        report["wall"] = time.perf_counter() - t0
        report["cpu"] = cpu_seconds() - c0
        report["numba_loaded"] = "numba" in sys.modules
    report["peak_rss_mb"] = peak_rss_mb()
    report["peak_anon_mb"] = anonymous.stop_mb()
    report["n_ranks"] = len(ranks)
    report["digest"] = ranks_digest(ranks)
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (default 100)")
    parser.add_argument("--vocab", type=int, default=32768)
    parser.add_argument("--child", choices=["minembed", "rustbpe"], help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.files, args.vocab)
        return

    files = corpus_files(int(args.mb * 1e6))
    size = sum(os.path.getsize(f) for f in files)
    print(
        f"corpus: {len(files)} files, {size / 1e6:.1f} MB (stdlib sources from {len(stdlib_dirs())} "
        f"Python installs + shared corpora); vocab {args.vocab}; {os.cpu_count()} cores"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(files))
    try:
        read_texts_warm = sum(len(t) for t in read_texts(files))  # warm the page cache for both
        del read_texts_warm
        results = {}
        for which in ["rustbpe", "minembed"]:
            out = subprocess.run(
                [sys.executable, __file__, "--child", which, "--files", fh.name, "--vocab", str(args.vocab)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results[which] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(fh.name)

    rust, mine = results["rustbpe"], results["minembed"]
    print(
        f"{'':10} {'wall s':>7} {'cpu s':>7} {'peak RSS MB':>12} {'RSS after import':>17} "
        f"{'peak anon MB':>13} {'ranks':>6}  digest"
    )
    for r in (rust, mine):
        print(
            f"{r['which']:10} {r['wall']:7.2f} {r['cpu']:7.2f} {r['peak_rss_mb']:12.0f} "
            f"{r['rss_after_import_mb']:17.0f} {r['peak_anon_mb']:13.0f} {r['n_ranks']:6d}  {r['digest']}"
        )
    print(
        f"minembed: {mine['kernels']} kernels, Numba loaded: {mine['numba_loaded']}, "
        f"RSS after warm-up {mine['rss_after_warmup_mb']:.0f} MB"
    )
    print(f"identical ranks: {rust['digest'] == mine['digest']}")
    print(
        f"wall-time ratio minembed/rustbpe: {mine['wall'] / rust['wall']:.2f}x (goal <= 0.5x); "
        f"cpu-time ratio {mine['cpu'] / rust['cpu']:.2f}x"
    )
    print(
        f"peak-RSS ratio  minembed/rustbpe: {mine['peak_rss_mb'] / rust['peak_rss_mb']:.2f}x (goal <= 0.5x); "
        f"above what importing each costs: "
        f"{(mine['peak_rss_mb'] - mine['rss_after_import_mb']) / (rust['peak_rss_mb'] - rust['rss_after_import_mb']):.2f}x; "
        f"above minembed's warmed-up process: "
        f"{(mine['peak_rss_mb'] - mine['rss_after_warmup_mb']) / (rust['peak_rss_mb'] - rust['rss_after_import_mb']):.2f}x"
    )
    print(
        f"peak private (RssAnon) ratio: {mine['peak_anon_mb'] / rust['peak_anon_mb']:.2f}x "
        "(RSS without the pages of shared libraries, for information)"
    )


if __name__ == "__main__":
    main()
