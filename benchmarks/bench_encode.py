"""Encoding throughput: minembed.Encoding vs tiktoken, single-threaded, side by side in one process.

For every shared corpus and encoding, prints MB/s of `encode_ordinary` on the whole file for
tiktoken and for minembed's two engines, and the ratios minembed / tiktoken (> 1 means
minembed is faster). Each figure is the best of --repeat runs, the contenders taking turns.
- numba: the default engine for the registered patterns (Numba split + lookup + merge in one
  call; it keeps no state between calls, so there is no warm/cold difference);
- regex: the `regex`-module engine (the reference, and the engine for custom patterns),
  timed "cold" (its piece cache emptied before every run) and "warm" (cache kept).
The machine is shared: read the ratios, not the absolute numbers.

    .venv/bin/python benchmarks/bench_encode.py [--encodings gpt2 cl100k_base] [--repeat 3]
    .venv/bin/python benchmarks/bench_encode.py --batch   # also encode_ordinary_batch, 1 vs 2 threads
"""

from __future__ import annotations

import argparse
import functools
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


def best_alternating(contenders: dict, repeat: int, before: dict) -> dict[str, float]:
    """Best time of each contender, timed in turn round after round so that load from other
    jobs on the shared machine hits them alike; before[name](), if given, runs untimed first."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, fn in contenders.items():
            best[name] = min(best[name], best_seconds(fn, 1, before.get(name)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encodings", nargs="+", default=minembed.list_encoding_names())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--batch",
        action="store_true",
        help="also time encode_ordinary_batch (lines and 50 kB documents, 1 vs 2 threads)",
    )
    args = parser.parse_args()

    corpora = {p.name: p.read_text(encoding="utf-8") for p in corpus_paths()}
    print(
        f"{'encoding':<12} {'corpus':<20} {'MB':>6} {'tiktoken':>9} {'numba':>9} {'re-cold':>9} {'re-warm':>9}"
        f" {'numba/tk':>9} {'re-cold/tk':>10} {'re-warm/tk':>10}"
    )
    for name in args.encodings:
        ours = minembed.get_encoding(name)
        theirs = tiktoken_encoding(name)
        ours.encode_ordinary("warm up the kernel")
        for corpus, text in corpora.items():
            mb = len(text.encode("utf-8")) / 1e6
            expected = theirs.encode_ordinary(text)
            regex_path = ours._encode_ordinary_regex  # the regex engine, whatever the pattern
            assert ours.encode_ordinary(text) == expected and regex_path(text)[0] == expected, (name, corpus)
            times = best_alternating(
                {
                    "tiktoken": functools.partial(theirs.encode_ordinary, text),
                    "numba": functools.partial(ours.encode_ordinary, text),
                    "cold": functools.partial(regex_path, text),
                    "warm": functools.partial(regex_path, text),
                },
                args.repeat,
                before={"cold": ours._piece_cache.clear},
            )
            t_tk, t_numba, t_cold, t_warm = times["tiktoken"], times["numba"], times["cold"], times["warm"]
            print(
                f"{name:<12} {corpus:<20} {mb:6.2f} {mb / t_tk:9.2f} {mb / t_numba:9.2f} {mb / t_cold:9.2f}"
                f" {mb / t_warm:9.2f} {t_tk / t_numba:9.2f} {t_tk / t_cold:10.2f} {t_tk / t_warm:10.2f}"
            )
        if args.batch:
            text = corpora["warpeace.txt"]
            batches = {
                "lines of warpeace": text.splitlines(keepends=True),
                "50 kB docs of warpeace": [text[i : i + 50_000] for i in range(0, len(text), 50_000)],
            }
            for label, batch in batches.items():
                mb = sum(len(s.encode("utf-8")) for s in batch) / 1e6
                assert ours.encode_ordinary_batch(batch, num_threads=2) == theirs.encode_ordinary_batch(batch)
                for threads in (1, 2):
                    ours_batch = functools.partial(ours.encode_ordinary_batch, batch, num_threads=threads)
                    theirs_batch = functools.partial(theirs.encode_ordinary_batch, batch, num_threads=threads)
                    t_ours = best_seconds(ours_batch, args.repeat)
                    t_tk = best_seconds(theirs_batch, args.repeat)
                    print(
                        f"{name:<12} batch, {label}, {threads} thread(s): tiktoken {mb / t_tk:.2f} MB/s, "
                        f"minembed {mb / t_ours:.2f} MB/s, ratio {t_tk / t_ours:.2f}"
                    )
    print("MB/s of encode_ordinary; ratios are minembed / tiktoken throughput (same run, same process);")
    print("numba = the default engine for these encodings, re-cold/re-warm = the regex engine (the old default).")


if __name__ == "__main__":
    main()
