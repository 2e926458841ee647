"""Counting words and turning counts into word2vec's vocabulary arrays (gensim's semantics).

- count_words: counts in first-seen order; with max_vocab_size, the dictionary is pruned as it
  grows (drop counts below 1, then 2, ...), as gensim's prune_vocab does.
- Vocabulary: words kept at count >= min_count, sorted by count descending; ties are broken
  the way gensim 4 sorts them (np.lexsort on (-first_seen, -count): among equal counts, the
  word seen LAST comes first).
- keep_thresholds: the subsampling threshold per word as a uint32 (gensim's sample_int): a word
  of count c is kept with probability min(1, (sqrt(c / t) + 1) * t / c), t = sample * total.
- negative_table: cumulative count**ns_exponent, scaled to 2**31 - 1 (gensim's cum_table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

NEGATIVE_TABLE_DOMAIN = 2**31 - 1


def count_words(sentences: Iterable[Sequence], max_vocab_size: int | None = None) -> tuple[dict, int, int]:
    """(counts {word: count} in first-seen order, total words, number of sentences)."""
    counts: Counter = Counter()
    total = 0
    n_sentences = 0
    min_reduce = 1
    for sentence in sentences:
        counts.update(sentence)  # Counter.update keeps first-insertion order and counts in C
        total += len(sentence)
        n_sentences += 1
        if max_vocab_size and len(counts) > max_vocab_size:
            # gensim's prune_vocab: drop counts below min_reduce (so the first pass drops nothing)
            for word in [w for w, c in counts.items() if c < min_reduce]:
                del counts[word]
            min_reduce += 1
    return dict(counts), total, n_sentences


def count_ids(ids: np.ndarray) -> dict:
    """count_words for one integer array: {id: count} in first-seen order, computed with NumPy."""
    values, first, counts = np.unique(ids, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return dict(zip(values[order].tolist(), counts[order].tolist()))


def sorted_vocabulary(counts: dict, min_count: int) -> tuple[list, np.ndarray]:
    """(words, counts int64) kept at count >= min_count, in gensim's order (see module docstring)."""
    kept = [(word, count) for word, count in counts.items() if count >= min_count]
    words = [word for word, _ in kept]
    kept_counts = np.array([count for _, count in kept], dtype=np.int64)
    order = np.lexsort((-np.arange(len(words)), -kept_counts))
    return [words[i] for i in order], kept_counts[order]


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """(V,) uint32: sample_int per word; a word is kept when sample_int >= a 32-bit random draw."""
    total = float(counts.sum())
    if not sample:
        threshold = total
    elif sample < 1.0:
        threshold = sample * total
    else:  # gensim's shorthand: sample >= 1 downsamples every word more frequent than `sample`
        threshold = int(sample * (3 + np.sqrt(5)) / 2)
    c = counts.astype(np.float64)
    probability = np.minimum((np.sqrt(c / threshold) + 1) * (threshold / c), 1.0)
    return (probability * (2**32 - 1)).astype(np.uint32)


def negative_table(counts: np.ndarray, ns_exponent: float) -> np.ndarray:
    """(V,) uint32: round(cumulative count**ns_exponent / total * (2**31 - 1)).

    >>> negative_table(np.array([3, 1]), 1.0).tolist()
    [1610612735, 2147483647]
    """
    powers = counts.astype(np.float64) ** float(ns_exponent)
    total = 0.0
    for p in powers:  # the same float64 sum, in the same order, as gensim
        total += p
    cumulative = np.cumsum(powers)
    return np.round(cumulative / total * NEGATIVE_TABLE_DOMAIN).astype(np.uint32)


def negative_guide(cum_table: np.ndarray, bits: int = 16) -> tuple[np.ndarray, int]:
    """(guide (2**bits + 1,) int64, shift): guide[b] = bisect_left(cum_table, b << shift), so a draw x
    has its answer in [guide[x >> shift], guide[(x >> shift) + 1]]."""
    shift = max(int(cum_table[-1]).bit_length() - bits, 0)
    starts = np.arange((1 << bits) + 1, dtype=np.int64) << shift
    return np.searchsorted(cum_table.astype(np.int64), starts, side="left").astype(np.int64), shift
