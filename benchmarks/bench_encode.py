"""Encoding throughput: minembed.Encoding vs tiktoken, single-threaded, side by side in one process.

For every shared corpus and encoding, prints MB/s of `encode_ordinary` on the whole file for
both libraries and the ratio minembed / tiktoken (> 1 means minembed is faster). Each figure
is the best of --repeat runs. minembed is timed "cold" (its piece cache emptied before every
run, so every distinct piece goes through the BPE kernel) and "warm" (cache kept, as in a
long-running process). The machine is shared: read the ratios, not the absolute numbers.

    .venv/bin/python benchmarks/bench_encode.py [--encodings gpt2 cl100k_base] [--repeat 3]
    .venv/bin/python benchmarks/bench_encode.py --batch   # also encode_ordinary_batch on lines, 1 vs 2 threads
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from reference.shared import corpus_paths, encodings_dir  # noqa: E402
from reference.tiktoken_ref import get_encoding as tiktoken_encoding  # noqa: E402

os.environ.setdefault("MINEMBED_ENCODINGS_DIR", str(encodings_dir()))
os.environ.setdefault("MINEMBED_OFFLINE", "1")

import minembed  # noqa: E402


def best_seconds(fn, repeat: int, before=None) -> float:
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encodings", nargs="+", default=minembed.list_encoding_names())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", action="store_true", help="also time encode_ordinary_batch over lines")
    args = parser.parse_args()

    corpora = {p.name: p.read_text(encoding="utf-8") for p in corpus_paths()}
    print(f"{'encoding':<12} {'corpus':<20} {'MB':>6} {'tiktoken':>9} {'cold':>9} {'warm':>9} {'cold/tk':>8} {'warm/tk':>8}")
    for name in args.encodings:
        ours = minembed.get_encoding(name)
        theirs = tiktoken_encoding(name)
        ours.encode_ordinary("warm up the kernel")
        for corpus, text in corpora.items():
            mb = len(text.encode("utf-8")) / 1e6
            assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), (name, corpus)
            t_tk = best_seconds(lambda: theirs.encode_ordinary(text), args.repeat)
            t_cold = best_seconds(lambda: ours.encode_ordinary(text), args.repeat, before=ours._piece_cache.clear)
            t_warm = best_seconds(lambda: ours.encode_ordinary(text), args.repeat)
            print(
                f"{name:<12} {corpus:<20} {mb:6.2f} {mb / t_tk:9.2f} {mb / t_cold:9.2f} {mb / t_warm:9.2f}"
                f" {t_tk / t_cold:8.2f} {t_tk / t_warm:8.2f}"
            )
        if args.batch:
            lines = corpora["tinyshakespeare.txt"].splitlines(keepends=True)
            mb = sum(len(s.encode("utf-8")) for s in lines) / 1e6
            for threads in (1, 2):
                t_ours = best_seconds(lambda: ours.encode_ordinary_batch(lines, num_threads=threads), args.repeat)
                t_tk = best_seconds(lambda: theirs.encode_ordinary_batch(lines, num_threads=threads), args.repeat)
                print(
                    f"{name:<12} batch of lines, {threads} thread(s): tiktoken {mb / t_tk:.2f} MB/s, "
                    f"minembed {mb / t_ours:.2f} MB/s, ratio {t_tk / t_ours:.2f}"
                )
    print("MB/s of encode_ordinary; ratios are minembed / tiktoken throughput (same run, same process).")


if __name__ == "__main__":
    main()
