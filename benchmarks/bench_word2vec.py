"""Word2Vec, minembed vs gensim 4.4, side by side in one run: quality and speed (issue 11's goals).

Corpus: every file in the shared corpora (about 2.5M words). Tokenisation, the same for both
libraries (reference/gensim_ref.py): lower-case, runs of letters a-z with an inner apostrophe
kept ("o'er"), one sentence per non-empty line; the sentences are a list in memory, given to
both libraries the same way. Settings: d=100, window 5, min_count 5, sample 1e-3, negative 5,
5 epochs, the libraries' defaults otherwise; seeds 1, 2, 3.

Quality (each model evaluated by its own library; minembed's evaluations equal gensim's on the
same vectors, see tests/test_word2vec_model.py): WordSim353 and SimLex-999 Spearman, analogy
accuracy (questions-words.txt) for skip-gram and CBOW with negative sampling.
Goals: Spearman >= gensim's mean - 0.02, analogy accuracy >= gensim's mean - 1 point.

Speed: effective words per second (words trained after subsampling / wall time of train(),
vocabulary built before the clock starts), the two libraries interleaved run by run, 1 and 2
workers, skip-gram and CBOW; median over the seeds with its spread. Goals: >= 1.0x gensim in each
setting, and minembed's 2-worker speed >= 1.7x its own 1-worker speed.

    .venv/bin/python benchmarks/bench_word2vec.py            # full: about 15 minutes on 2 quiet cores
    .venv/bin/python benchmarks/bench_word2vec.py --speed    # speed only: whole corpus, 1 epoch, 2 repeats: ~3 min
    .venv/bin/python benchmarks/bench_word2vec.py --quick    # 1 epoch on 300k words, 1 seed: < 1 minute

The order of the two libraries alternates from repeat to repeat, so a drift in the machine's load
does not favour one side. minembed maps an in-memory corpus to ids in build_vocab (gensim maps
each sentence during train), so build_vocab is timed too and printed beside train's speed.
Thread scaling needs two free cores: the benchmark first times a pure nogil Numba loop on one and
two threads and prints that ceiling; on a shared machine, scaling figures below it mean little.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reference import gensim_ref  # noqa: E402 - after the sys.path line above
from reference.shared import corpus_paths  # noqa: E402

GENSIM = f"gensim {gensim_ref.GENSIM_VERSION} Word2Vec (Cython + BLAS, its fastest form)"
SCALING = 1.7  # the goal: minembed's 2-worker speed at least this times its 1-worker speed
# The row's ratio is scaling / SCALING, so the goal reads as 1.0x for suite.goal_met (which compares
# the ratio with the number after ">="; a goal of ">= 1.7x" asked for a scaling of 2.89).
SCALING_GOAL = f">= 1.0x (2-worker speed >= {SCALING}x own 1-worker; ratio = scaling / {SCALING})"


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return "1 run"
    q = statistics.quantiles(values, n=4)
    return f"IQR {100 * (q[2] - q[0]) / statistics.median(values):.0f}%"


def _train(library: str, sentences, params: dict):
    """(model, effective words / s of train(), seconds of build_vocab) for one training run."""
    if library == "gensim":
        from gensim.models import Word2Vec

        model = Word2Vec(**params)
        start = time.perf_counter()
        model.build_vocab(sentences)
        vocab_seconds = time.perf_counter() - start
        start = time.perf_counter()
        trained, _ = model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    else:
        from minembed.word2vec import Word2Vec

        model = Word2Vec(**params)
        start = time.perf_counter()
        model.build_vocab(sentences)
        vocab_seconds = time.perf_counter() - start
        start = time.perf_counter()
        trained, _ = model.train()
    return model, trained / (time.perf_counter() - start), vocab_seconds


def _two_thread_ceiling() -> float:
    """How much faster two threads run a pure nogil Numba loop than one (2.0 on two free cores)."""
    import threading

    from numba import njit

    @njit(nogil=True)
    def spin(n):
        x = 0.0
        for i in range(n):
            x = x * 0.999999 + (i & 7)
        return x

    spin(10)
    n, ratios = 50_000_000, []
    for _ in range(3):
        start = time.perf_counter()
        spin(n), spin(n)
        one = time.perf_counter() - start
        threads = [threading.Thread(target=spin, args=(n,)) for _ in range(2)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ratios.append(one / (time.perf_counter() - start))
    return statistics.median(ratios)


def _quality(model) -> dict:
    wv = model.wv
    if hasattr(wv, "evaluate_word_pairs") and type(wv).__module__.startswith("minembed"):
        ws = wv.evaluate_word_pairs(gensim_ref.test_data("wordsim353.tsv")).spearman
        sl = wv.evaluate_word_pairs(gensim_ref.test_data("simlex999.txt")).spearman
    else:
        ws = gensim_ref.word_pairs(wv, gensim_ref.test_data("wordsim353.tsv"))[1]
        sl = gensim_ref.word_pairs(wv, gensim_ref.test_data("simlex999.txt"))[1]
    accuracy = wv.evaluate_word_analogies(gensim_ref.test_data("questions-words.txt"))[0]
    return {"WS353 Spearman": ws, "SimLex Spearman": sl, "analogy accuracy %": 100 * accuracy}


def run(quick: bool = False, speed_only: bool = False) -> list[dict]:
    ceiling = _two_thread_ceiling()
    print(f"machine: two threads run a nogil loop {ceiling:.2f}x as fast as one (2.00 on two free cores)")
    sentences = gensim_ref.corpus_sentences(corpus_paths())
    if quick:
        kept, total = [], 0
        for sentence in sentences:
            kept.append(sentence)
            total += len(sentence)
            if total >= 300_000:
                break
        sentences = kept
    n_words = sum(map(len, sentences))
    epochs, seeds = (1, [1]) if quick else (1, [1, 2]) if speed_only else (5, [1, 2, 3])
    print(f"corpus: {n_words:,} words, {len(sentences):,} sentences; d=100, {epochs} epochs, seeds {seeds}")
    speeds: dict = {}
    vocab_seconds: dict = {}
    quality: dict = {}
    warm = sentences[:20_000]  # warm-up, the same on both sides: imports, Numba's cache, BLAS, threads
    for sg in (1, 0):
        for workers in (1, 2):
            for library in ("gensim", "minembed"):
                for _ in range(2):
                    _train(library, warm, {"vector_size": 100, "sg": sg, "epochs": 1, "workers": workers})
    for name, sg in (("skip-gram", 1), ("CBOW", 0)):
        for repeat, seed in enumerate(seeds):
            for workers in (1, 2):
                order = ("gensim", "minembed") if repeat % 2 == 0 else ("minembed", "gensim")
                for library in order:  # interleaved: each setting runs back to back, in alternating order
                    params = {
                        "vector_size": 100,
                        "window": 5,
                        "min_count": 5,
                        "sg": sg,
                        "negative": 5,
                        "hs": 0,
                        "sample": 1e-3,
                        "epochs": epochs,
                        "seed": seed,
                        "workers": workers,
                    }
                    model, speed, seconds = _train(library, sentences, params)
                    speeds.setdefault((name, workers, library), []).append(speed)
                    vocab_seconds.setdefault(library, []).append(seconds)
                    print(
                        f"  {name:9s} seed {seed} workers {workers} {library:8s} {speed:12,.0f} words/s "
                        f"(build_vocab {seconds:.2f} s)",
                        flush=True,
                    )
                    if workers == 2 and not speed_only:
                        scores = _quality(model)
                        for metric, value in scores.items():
                            quality.setdefault((name, metric, library), []).append(value)
                        print("      " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()), flush=True)
    rows = []
    for name in ("skip-gram", "CBOW"):
        for workers in (1, 2):
            ours, theirs = speeds[(name, workers, "minembed")], speeds[(name, workers, "gensim")]
            rows.append(
                {
                    "benchmark": "word2vec",
                    "workload": f"{name} NS, {workers} worker(s), effective words/s",
                    "anchor": GENSIM,
                    "unit": "words/s",
                    "minembed": statistics.median(ours),
                    "anchor_value": statistics.median(theirs),
                    "ratio": statistics.median(ours) / statistics.median(theirs),
                    "spread": f"minembed {_spread(ours)}, gensim {_spread(theirs)}",
                    "goal": ">= 1.0x",
                }
            )
        one, two = speeds[(name, 1, "minembed")], speeds[(name, 2, "minembed")]
        g_one, g_two = speeds[(name, 1, "gensim")], speeds[(name, 2, "gensim")]
        rows.append(
            {
                "benchmark": "word2vec",
                "workload": f"{name} NS, 2-worker speed / own 1-worker speed",
                "anchor": GENSIM + " (its own scaling, for reference)",
                "unit": "x",
                "minembed": statistics.median(two) / statistics.median(one),
                "anchor_value": statistics.median(g_two) / statistics.median(g_one),
                "ratio": (statistics.median(two) / statistics.median(one)) / SCALING,
                "spread": f"machine ceiling {ceiling:.2f}x (a nogil loop on 2 threads)",
                "goal": SCALING_GOAL,
            }
        )
        if speed_only:
            continue
        for metric, allowance in (("WS353 Spearman", 0.02), ("SimLex Spearman", 0.02), ("analogy accuracy %", 1.0)):
            ours, theirs = quality[(name, metric, "minembed")], quality[(name, metric, "gensim")]
            mean_ours, mean_theirs = statistics.mean(ours), statistics.mean(theirs)
            met = mean_ours >= mean_theirs - allowance
            rows.append(
                {
                    "benchmark": "word2vec",
                    "workload": f"{name} NS quality: {metric} (mean of {len(ours)} seeds)",
                    "anchor": GENSIM,
                    "unit": metric.split()[-1] if "%" in metric else "rho",
                    "minembed": mean_ours,
                    "anchor_value": mean_theirs,
                    "ratio": mean_ours / mean_theirs if mean_theirs else float("nan"),
                    "spread": f"min..max minembed {min(ours):.3f}..{max(ours):.3f}, "
                    f"gensim {min(theirs):.3f}..{max(theirs):.3f}",
                    "goal": f">= gensim - {allowance:g}: {'met' if met else 'NOT met'}",
                }
            )
    ours, theirs = statistics.median(vocab_seconds["minembed"]), statistics.median(vocab_seconds["gensim"])
    rows.append(
        {
            "benchmark": "word2vec",
            "workload": "build_vocab (minembed also maps the corpus to ids here)",
            "anchor": GENSIM,
            "unit": "s",
            "minembed": ours,
            "anchor_value": theirs,
            "ratio": theirs / ours,
            "spread": f"minembed {_spread(vocab_seconds['minembed'])}, gensim {_spread(vocab_seconds['gensim'])}",
            "goal": None,
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 300k words, one seed (under a minute)")
    parser.add_argument("--speed", action="store_true", help="speed only: whole corpus, 1 epoch, 2 repeats (~3 min)")
    args = parser.parse_args()
    rows = run(quick=args.quick, speed_only=args.speed)
    print(f"\n{'workload':62s} {'minembed':>12s} {'gensim':>12s} {'ratio':>7s}  goal / spread")
    for row in rows:
        print(
            f"{row['workload']:62s} {row['minembed']:12,.3f} {row['anchor_value']:12,.3f} {row['ratio']:6.2f}x  "
            f"{row['goal'] or ''}  {row['spread']}"
        )


if __name__ == "__main__":
    main()
