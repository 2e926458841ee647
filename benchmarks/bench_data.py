"""Text to training batches: minembed.data vs the course's GPTDatasetV1 + torch DataLoader, one run.

1. Build the dataset (max_length 256, stride 1) over every shared corpus encoded with gpt2
   (~1.2M tokens). GPTDatasetV1 makes two tensors per window; building it whole would take
   minutes and gigabytes, so it is built on a prefix of --prefix windows and its time and memory
   are extrapolated linearly to the full corpus (it is linear: one loop iteration per window).
2. Iterate batches of 8 over the same prefix windows, sequential and shuffled: torch DataLoader
   over GPTDatasetV1 vs minembed.data.DataLoader; ratio of the time per batch.
3. tokenize_files on a ~100 MB corpus assembled from the shared corpora (repeated) and the Python
   standard library's sources, in a subprocess that reports its own peak RSS (VmHWM); the
   nanoGPT-style "read the file, encode it whole" approach with tiktoken runs the same way.

    .venv/bin/python benchmarks/bench_data.py [--prefix 20000] [--megabytes 100] [--skip-files]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._timing import compare  # noqa: E402
from reference.shared import corpus_paths, encodings_dir  # noqa: E402

os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
os.environ.setdefault("MINEMBED_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import minembed  # noqa: E402
from minembed.data import DataLoader, SlidingWindowDataset  # noqa: E402
from reference.course_data import GPTDatasetV1, PretokenizedText  # noqa: E402

MAX_LENGTH, STRIDE, BATCH = 256, 1, 8


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def corpus_ids() -> np.ndarray:
    enc = minembed.get_encoding("gpt2")
    ids: list[int] = []
    for path in corpus_paths():
        ids += enc.encode_ordinary(path.read_text(encoding="utf-8")) + [enc.eot_token]
    return np.array(ids, dtype=np.uint32)


def bench_build(ids: np.ndarray, prefix_windows: int) -> tuple[GPTDatasetV1, SlidingWindowDataset]:
    n_windows = len(ids) - MAX_LENGTH  # stride 1
    print(
        f"## 1. build the dataset: {len(ids):,} gpt2 tokens of {len(corpus_paths())} corpora, "
        f"max_length={MAX_LENGTH}, stride={STRIDE} -> {n_windows:,} windows"
    )
    # minembed on the whole corpus
    tracemalloc.start()
    start = time.perf_counter()
    full = SlidingWindowDataset(ids, MAX_LENGTH, STRIDE)
    ours_s = time.perf_counter() - start
    _, ours_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ours_s = min(ours_s, compare({"m": lambda: SlidingWindowDataset(ids, MAX_LENGTH, STRIDE)}, rounds=3)["m"])
    # the course on a prefix, extrapolated
    prefix_ids = ids[: prefix_windows + MAX_LENGTH].tolist()
    before = rss_bytes()
    start = time.perf_counter()
    course = GPTDatasetV1("", PretokenizedText(prefix_ids), MAX_LENGTH, STRIDE)
    course_s = time.perf_counter() - start
    course_mem = rss_bytes() - before
    scale = n_windows / len(course)
    print(f"   minembed, whole corpus      : {ours_s * 1e3:10.3f} ms, {ours_peak:,} bytes allocated (views only)")
    print(f"   GPTDatasetV1, {len(course):,} windows : {course_s:10.3f} s,  RSS +{course_mem / 2**20:,.0f} MiB")
    print(
        f"   GPTDatasetV1, extrapolated x{scale:.0f} to the whole corpus: ~{course_s * scale / 60:.1f} min, "
        f"~{course_mem * scale / 2**30:.1f} GiB"
    )
    print(f"   ratio (course extrapolated / minembed): time {course_s * scale / ours_s:,.0f}x")
    assert len(full) == n_windows
    return course, SlidingWindowDataset(np.asarray(prefix_ids, dtype=np.uint32), MAX_LENGTH, STRIDE)


def bench_iterate(course: GPTDatasetV1, ours: SlidingWindowDataset) -> None:
    n_batches = len(course) // BATCH
    print(
        f"\n## 2. iterate one epoch in batches of {BATCH} over the same {len(course):,} windows ({n_batches:,} batches)"
    )
    for shuffle in (False, True):
        torch_loader = torch.utils.data.DataLoader(course, batch_size=BATCH, shuffle=shuffle, drop_last=True)
        our_loader = DataLoader(ours, batch_size=BATCH, shuffle=shuffle, drop_last=True, seed=0)
        times = compare(
            {
                "torch": lambda loader=torch_loader: sum(1 for _ in loader),
                "minembed": lambda loader=our_loader: sum(1 for _ in loader),
            },
            rounds=3,
            repeat=1,
        )
        per_t, per_m = times["torch"] / n_batches, times["minembed"] / n_batches
        print(
            f"   shuffle={shuffle!s:<5}  torch {per_t * 1e6:8.1f} us/batch   minembed {per_m * 1e6:8.1f} us/batch"
            f"   ratio torch/minembed {per_t / per_m:6.1f}x"
        )


def assemble_corpus(folder: Path, megabytes: float) -> list[Path]:
    """~megabytes of text: the shared corpora repeated (one big file) plus stdlib sources."""
    target = int(megabytes * 1e6)
    stdlib = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    code_path, prose_path = folder / "stdlib_sources.txt", folder / "corpora_repeated.txt"
    written = 0
    with open(code_path, "wb") as out:
        for p in stdlib:
            try:
                data = p.read_bytes()
                data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            out.write(data)
            written += len(data)
            if written >= target * 0.35:
                break
    corpora = b"".join(p.read_bytes() for p in corpus_paths())
    with open(prose_path, "wb") as out:
        while written < target:
            out.write(corpora)
            written += len(corpora)
    return [prose_path, code_path]


PEAK_RSS = "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
TOKENIZE_SCRIPT = (
    """
import sys, time
from minembed.data import tokenize_files
paths, out, workers, which = sys.argv[1:-3], sys.argv[-3], int(sys.argv[-2]), sys.argv[-1]
if which == "tiktoken":
    from reference.tiktoken_ref import get_encoding
    encoding = get_encoding("gpt2")
else:
    import minembed
    encoding = minembed.get_encoding("gpt2")
start = time.perf_counter()
info = tokenize_files(paths, out, encoding, workers=workers, progress=False)
print(info.count, time.perf_counter() - start)
"""
    + PEAK_RSS
)
NAIVE_SCRIPT = (
    """
import sys, time
import numpy as np
from reference.tiktoken_ref import get_encoding
enc = get_encoding("gpt2")
paths, out = sys.argv[1:-1], sys.argv[-1]
start = time.perf_counter()
ids = []
for p in paths:  # nanoGPT style: read each file whole, encode it whole
    ids += enc.encode_ordinary(open(p, encoding="utf-8-sig", newline="").read()) + [enc.eot_token]
np.array(ids, dtype=np.uint16).tofile(out)
print(len(ids), time.perf_counter() - start)
"""
    + PEAK_RSS
)


def run_measured(args: list[str]) -> tuple[list[str], float]:
    """Run a Python subprocess; return its stdout words and its peak RSS in MiB.

    The peak is the child's own VmHWM, printed by the child as its last word: wait4's ru_maxrss
    would count the parent's pages (torch, the datasets) that the child carried before exec.
    """
    out = subprocess.run([sys.executable, *args], stdout=subprocess.PIPE, cwd=ROOT, env=os.environ, check=True)
    words = out.stdout.decode().split()
    return words[:-1], int(words[-1]) / 1024  # VmHWM is in kB


def bench_tokenize_files(megabytes: float) -> None:
    with tempfile.TemporaryDirectory(prefix="minembed-bench-") as tmp:
        folder = Path(tmp)
        paths = assemble_corpus(folder, megabytes)
        total = sum(p.stat().st_size for p in paths)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.0f} MB" for p in paths)
        print(f"\n## 3. tokenize_files, gpt2, {total / 1e6:.0f} MB ({sizes}); peak RSS of a fresh subprocess")
        _, import_rss = run_measured(["-c", "import minembed; minembed.get_encoding('gpt2')\n" + PEAK_RSS])
        print(f"   baseline: python + import minembed + gpt2 loaded: peak RSS {import_rss:6.0f} MiB")
        counts = []
        for which in ("minembed", "tiktoken"):
            for workers in (1, 2):
                (count, seconds), rss = run_measured(
                    ["-c", TOKENIZE_SCRIPT, *map(str, paths), str(folder / "out.tok"), str(workers), which]
                )
                counts.append(int(count))
                print(
                    f"   tokenize_files, {which:<8} Encoding, workers={workers}: {int(count):,} tokens in "
                    f"{float(seconds):5.1f} s ({total / 1e6 / float(seconds):5.1f} MB/s), peak RSS {rss:5.0f} MiB"
                )
        (count, seconds), rss = run_measured(["-c", NAIVE_SCRIPT, *map(str, paths), str(folder / "naive.bin")])
        counts.append(int(count))
        print(
            f"   anchor: tiktoken on whole files in memory (nanoGPT style): {int(count):,} tokens in "
            f"{float(seconds):5.1f} s ({total / 1e6 / float(seconds):5.1f} MB/s), peak RSS {rss:5.0f} MiB"
        )
        print(f"   token counts all equal: {len(set(counts)) == 1}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=int, default=20_000, help="GPTDatasetV1 windows to build and time")
    parser.add_argument("--megabytes", type=float, default=100.0, help="size of the tokenize_files corpus")
    parser.add_argument("--skip-files", action="store_true", help="skip the tokenize_files section")
    args = parser.parse_args()
    ids = corpus_ids()
    course, ours = bench_build(ids, args.prefix)
    bench_iterate(course, ours)
    if not args.skip_files:
        bench_tokenize_files(args.megabytes)


if __name__ == "__main__":
    main()
