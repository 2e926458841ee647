"""The tiny, obviously-correct BPE trainer: a second oracle for small inputs (minbpe style).

It recounts every pair from scratch before each merge, so it is slow (O(merges x corpus)),
and it has no heap, no index and no incremental bookkeeping that could be subtly wrong.

Rule (the same as rustbpe's): split each text with the pattern, count the distinct pieces;
then repeatedly take the adjacent pair with the largest count, weighted by how often each
piece occurs, ties going to the smallest (left_id, right_id); replace it left to right,
without overlaps, in every piece by a new id 256, 257, ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import regex


def get_stats(words: dict[tuple[int, ...], int]) -> Counter:
    """Weighted counts of adjacent pairs.  Example: {(1, 2, 1, 2): 3} -> {(1, 2): 6, (2, 1): 3}."""
    stats: Counter = Counter()
    for ids, count in words.items():
        for pair in zip(ids, ids[1:]):
            stats[pair] += count
    return stats


def merge(ids: tuple[int, ...], pair: tuple[int, int], new_id: int) -> tuple[int, ...]:
    """Replace `pair` left to right, without overlaps.  Example: (1, 1, 1), (1, 1), 9 -> (9, 1)."""
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return tuple(out)


def train(texts: str | Iterable[str], vocab_size: int, pattern: str) -> dict[bytes, int]:
    """Mergeable ranks: the 256 single bytes, then one token per merge, in merge order."""
    if isinstance(texts, str):
        texts = [texts]
    compiled = regex.compile(pattern)
    pieces = Counter(piece for text in texts for piece in compiled.findall(text))
    words: dict[tuple[int, ...], int] = {}
    for piece, count in pieces.items():
        words[tuple(piece.encode("utf-8"))] = count

    vocab = {i: bytes([i]) for i in range(256)}
    for new_id in range(256, vocab_size):
        stats = get_stats(words)
        if not stats:
            break  # nothing left to merge
        # subtle: the largest count wins, and among equal counts the SMALLEST pair.
        pair = min(stats, key=lambda p: (-stats[p], p))
        vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
        merged: dict[tuple[int, ...], int] = {}
        for ids, count in words.items():
            key = merge(ids, pair, new_id)
            merged[key] = merged.get(key, 0) + count
        words = merged
    return {token: rank for rank, token in vocab.items()}
