"""The readable twin of `train_merges.train_merges`: the same incremental algorithm in plain Python.

Same signature and result; dicts, sets and `heapq` stand in for the kernel's hash table,
linked lists and hand-written heap. Tests run both (and the recount-everything oracle in
`reference/slow_bpe.py`) and require identical merges.
"""

from __future__ import annotations

import heapq

import numpy as np


def _merge_piece(ids: list[int], a: int, b: int, new_id: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Merge (a, b) -> new_id left to right; also return the pair changes as (left, right, +-1).

    Example: [1, 2, 3], (2, 3) -> [1, 9], [((1, 2), -1), ((1, 9), +1), ((2, 3), -1)] (as triples).
    """
    out: list[int] = []
    changes: list[tuple[int, int, int]] = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
            changes.append((a, b, -1))
            if out:  # the left neighbour is already merged output
                changes += [(out[-1], a, -1), (out[-1], new_id, +1)]
            if i + 2 < len(ids):  # the right neighbour is still input
                changes += [(b, ids[i + 2], -1), (new_id, ids[i + 2], +1)]
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out, changes


def train_merges(
    tokens: np.ndarray, offsets: np.ndarray, counts: np.ndarray, n_merges: int, progress: np.ndarray
) -> np.ndarray:
    """Learn up to `n_merges` merges.  tokens (T,) int32 or uint8, offsets (P+1,) int64, counts (P,) int64.

    `progress` (1,) int64 receives the number of merges done so far. Returns merges (M, 2) int32.
    """
    pieces = [tokens[offsets[w] : offsets[w + 1]].tolist() for w in range(len(counts))]
    weight = counts.tolist()
    pair_count: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}  # pair -> pieces that contain (or contained) it
    for w, ids in enumerate(pieces):
        for pair in zip(ids, ids[1:]):
            pair_count[pair] = pair_count.get(pair, 0) + weight[w]
            where.setdefault(pair, set()).add(w)
    # heapq is a min-heap: (-count, pair) pops the largest count, then the smallest pair.
    heap = [(-count, pair) for pair, count in pair_count.items()]
    heapq.heapify(heap)

    merges: list[tuple[int, int]] = []
    while len(merges) < n_merges and heap:
        neg_count, pair = heapq.heappop(heap)
        current = pair_count.get(pair, 0)
        if current <= 0:
            continue
        if current != -neg_count:  # stale: counts only go down, so requeue with the true count
            heapq.heappush(heap, (-current, pair))
            continue
        new_id = 256 + len(merges)
        merges.append(pair)
        created: set[tuple[int, int]] = set()
        for w in where.pop(pair):
            pieces[w], changes = _merge_piece(pieces[w], pair[0], pair[1], new_id)
            for left, right, sign in changes:
                pair_count[(left, right)] = pair_count.get((left, right), 0) + sign * weight[w]
                if sign > 0:
                    where.setdefault((left, right), set()).add(w)
                    created.add((left, right))
        for new_pair in sorted(created):
            if pair_count[new_pair] > 0:
                heapq.heappush(heap, (-pair_count[new_pair], new_pair))
        progress[0] = len(merges)
    return np.array(merges, dtype=np.int32).reshape(-1, 2)
