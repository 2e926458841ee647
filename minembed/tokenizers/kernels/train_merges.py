"""Numba kernel for the BPE merge loop: incremental pair counts, a lazy max-heap, a pair index.

Input: the distinct pieces of a corpus as one flat int32 array of byte values, `tokens (T,)`,
cut by `offsets (P+1,)` int64, with `counts (P,)` int64 (how often each piece occurs).
Output: `merges (M, 2)` int32, M <= n_merges; merge k made token 256 + k out of (left, right).
NumPy/pure-Python twin with the same signature: `train_merges_numpy.py`.

Rule (rustbpe's): the pair with the largest count (summed over pieces, weighted by their
counts) is merged next; equal counts go to the smallest (left, right); within a piece the
merge is applied left to right without overlaps. Stops early when no pair is left.

How a merge stays cheap:
- every pair seen so far has an id (`pid`), found through an open-addressing hash table,
  with its current count in `pair_count`;
- `head[pid]` starts a linked list (`node_word`, `node_next`) of the pieces that contain, or
  once contained, the pair. A pair (x, y) can only come into being when the newer of x, y
  is created, so its list is complete from the moment it is made;
- the heap holds (count, pair) snapshots. Counts of existing pairs only ever go down (only
  pairs that hold the new token gain occurrences, and those are new), so a
  popped snapshot that no longer matches its pair's count is pushed back with the current
  count (lazy invalidation), and the first matching snapshot popped is the true maximum.
A merge therefore touches only the pieces that contain its pair.

Performance notes (2 shared cores, ~100 MB corpus -> 157k distinct pieces, 1.3M bytes in them,
vocab 32768; see benchmarks/bench_train.py): the merge loop takes ~0.45 s of CPU, against
~1.3 s for pre-tokenization. Arrays are reserved at proven upper bounds with np.empty,
which costs no resident memory until written, so there are no growth copies and memory
follows use (~38 MB peak here; about 48 bytes per pair ever seen plus 8 per index node).
`nogil=True` lets the wrapper run the kernel in a worker thread and poll `progress`.
Memory on streams of distinct text (bench_train.py, 300 MB -> 1.29M distinct pieces, 10.2 MB of
bytes, vocab 4096; 2 shared cores): the merge phase was the peak of training, growing to the
end of the loop as index nodes were appended (+180 MB over the counted pieces). The nodes of a
merged pair are now recycled for the new pairs (a merged pair never comes back): +135 MB, and
the peak RSS of training fell from 432 to 369 MB (rustbpe with a small buffer: 452 MB). The
pieces may come as uint8 bytes (training passes them so), copied once into the int32 `ids`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _slot(table, pair_left, pair_right, left, right):
    """The hash-table slot that holds pair (left, right), or the empty slot where it would go."""
    mask = table.shape[0] - 1
    h = np.int64(left) * 0x9E3779B1 + np.int64(right) * 0x85EBCA77
    h ^= h >> 17
    s = h & mask
    while True:
        pid = table[s]
        if pid == -1 or (pair_left[pid] == left and pair_right[pid] == right):
            return s
        s = (s + 1) & mask


@njit(cache=True)
def _build_table(pair_left, pair_right, n_pairs, size):
    """A fresh hash table of `size` slots (a power of two) holding pair ids 0..n_pairs-1."""
    table = np.full(size, -1, dtype=np.int32)
    for pid in range(n_pairs):
        table[_slot(table, pair_left, pair_right, pair_left[pid], pair_right[pid])] = pid
    return table


@njit(cache=True)
def _roomy_table(table, pair_left, pair_right, n_pairs, n_new):
    """`table`, or a larger rebuilt one, so that n_pairs + n_new pairs keep it at most half full."""
    size = table.shape[0]
    while 2 * (n_pairs + n_new) > size:
        size *= 2
    if size == table.shape[0]:
        return table
    return _build_table(pair_left, pair_right, n_pairs, size)


@njit(cache=True)
def _comes_first(count_a, key_a, count_b, key_b):
    """Heap order: larger count first; equal counts -> smaller pair key (left << 32 | right)."""
    return count_a > count_b or (count_a == count_b and key_a < key_b)


@njit(cache=True)
def _heap_push(heap_count, heap_key, heap_pid, size, count, key, pid):
    """Push into a binary heap of `size` entries (capacity must allow one more)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _comes_first(count, key, heap_count[parent], heap_key[parent]):
            break
        heap_count[i] = heap_count[parent]
        heap_key[i] = heap_key[parent]
        heap_pid[i] = heap_pid[parent]
        i = parent
    heap_count[i] = count
    heap_key[i] = key
    heap_pid[i] = pid


@njit(cache=True)
def _heap_pop_into_root(heap_count, heap_key, heap_pid, size):
    """Remove the root of a heap of `size` entries (moves the last entry down)."""
    size -= 1
    count, key, pid = heap_count[size], heap_key[size], heap_pid[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and _comes_first(
            heap_count[child + 1], heap_key[child + 1], heap_count[child], heap_key[child]
        ):
            child += 1
        if not _comes_first(heap_count[child], heap_key[child], count, key):
            break
        heap_count[i] = heap_count[child]
        heap_key[i] = heap_key[child]
        heap_pid[i] = heap_pid[child]
        i = child
    if size > 0:
        heap_count[i] = count
        heap_key[i] = key
        heap_pid[i] = pid


@njit(cache=True)
def _pair_id(table, pair_left, pair_right, pair_count, head, last_word, touched_at, n_pairs, left, right):
    """(id of pair (left, right), number of pairs): a new pair gets the next id and empty fields."""
    s = _slot(table, pair_left, pair_right, left, right)
    pid = table[s]
    if pid == -1:
        pid = n_pairs
        n_pairs += 1
        pair_left[pid] = left
        pair_right[pid] = right
        pair_count[pid] = 0
        head[pid] = -1
        last_word[pid] = -1
        touched_at[pid] = -1
        table[s] = pid
    return pid, n_pairs


@njit(cache=True, nogil=True)
def train_merges(tokens, offsets, counts, n_merges, progress):
    """Learn up to `n_merges` merges.  tokens (T,) int32 or uint8, offsets (P+1,) int64, counts (P,) int64.

    `progress` (1,) int64 receives the number of merges done so far. Returns merges (M, 2) int32.
    """
    ids = tokens.astype(np.int32)  # a copy: pieces are rewritten in place as they merge
    n_pieces = counts.shape[0]
    length = offsets[1:] - offsets[:-1]

    # Upper bounds, so nothing ever has to grow: a corpus holds n_occ = T - P adjacent pairs;
    # every merge of one occurrence shortens a piece by one (so at most n_occ of them happen)
    # and creates at most two pair occurrences. np.empty costs no memory until written, so
    # these bounds reserve address space, while the resident memory follows actual use.
    n_occ = max(tokens.shape[0] - n_pieces, 1)
    max_pairs = 3 * n_occ
    pair_left = np.empty(max_pairs, dtype=np.int32)
    pair_right = np.empty(max_pairs, dtype=np.int32)
    pair_count = np.empty(max_pairs, dtype=np.int64)
    head = np.empty(max_pairs, dtype=np.int32)  # first index node of each pair's piece list
    last_word = np.empty(max_pairs, dtype=np.int32)  # last piece put in that list
    touched_at = np.empty(max_pairs, dtype=np.int32)  # last merge that created or touched it
    node_word = np.empty(max_pairs, dtype=np.int32)  # index nodes: a piece, and the next node
    node_next = np.empty(max_pairs, dtype=np.int32)
    touched = np.empty(2 * n_occ, dtype=np.int32)
    heap_count = np.empty(max_pairs, dtype=np.int64)
    heap_key = np.empty(max_pairs, dtype=np.int64)
    heap_pid = np.empty(max_pairs, dtype=np.int32)
    table = np.full(1024, -1, dtype=np.int32)  # the hash table does grow, with the pairs in use
    n_pairs = 0
    n_nodes = 0
    free_node = -1  # recycled index nodes (of merged pairs), linked through node_next

    # ---- the initial pair counts and index ----
    for w in range(n_pieces):
        start = offsets[w]
        table = _roomy_table(table, pair_left, pair_right, n_pairs, length[w])
        for i in range(start, start + length[w] - 1):
            pid, n_pairs = _pair_id(
                table, pair_left, pair_right, pair_count, head, last_word, touched_at, n_pairs, ids[i], ids[i + 1]
            )
            pair_count[pid] += counts[w]
            if last_word[pid] != w:
                last_word[pid] = w
                node_word[n_nodes] = w
                node_next[n_nodes] = head[pid]
                head[pid] = n_nodes
                n_nodes += 1

    heap_size = 0
    for pid in range(n_pairs):
        key = (np.int64(pair_left[pid]) << 32) | np.int64(pair_right[pid])
        _heap_push(heap_count, heap_key, heap_pid, heap_size, pair_count[pid], key, pid)
        heap_size += 1

    # ---- the merge loop ----
    merges = np.zeros((max(n_merges, 0), 2), dtype=np.int32)
    done = 0
    while done < n_merges and heap_size > 0:
        count, key, pid = heap_count[0], heap_key[0], heap_pid[0]
        _heap_pop_into_root(heap_count, heap_key, heap_pid, heap_size)
        heap_size -= 1
        current = pair_count[pid]
        if current <= 0:
            continue  # the pair is gone
        if current != count:
            # a stale snapshot: the count went down since it was pushed; requeue it
            _heap_push(heap_count, heap_key, heap_pid, heap_size, current, key, pid)
            heap_size += 1
            continue

        a, b = pair_left[pid], pair_right[pid]
        new_id = 256 + done
        merges[done, 0] = a
        merges[done, 1] = b
        n_touched = 0
        node = head[pid]
        head[pid] = -1
        while node != -1:
            w = node_word[node]
            following = node_next[node]
            # A merged pair never comes back (only pairs holding a new token are created), so
            # its index nodes are recycled as soon as they are read, for the new pairs below.
            node_next[node] = free_node
            free_node = node
            node = following
            start = offsets[w]
            end = start + length[w]
            table = _roomy_table(table, pair_left, pair_right, n_pairs, length[w])
            c = counts[w]
            out = start
            i = start
            while i < end:
                if i + 1 < end and ids[i] == a and ids[i + 1] == b:
                    pair_count[pid] -= c
                    for side in range(2):
                        # side 0: the left neighbour (already written output) becomes (x, new);
                        # side 1: the right neighbour (still unread input) becomes (new, y).
                        if side == 0:
                            if out == start:
                                continue
                            x = ids[out - 1]
                            old_l, old_r, new_l, new_r = x, a, x, new_id
                        else:
                            if i + 2 >= end:
                                continue
                            y = ids[i + 2]
                            old_l, old_r, new_l, new_r = b, y, new_id, y
                        pair_count[table[_slot(table, pair_left, pair_right, old_l, old_r)]] -= c
                        q, n_pairs = _pair_id(
                            table, pair_left, pair_right, pair_count, head, last_word, touched_at, n_pairs, new_l, new_r
                        )
                        pair_count[q] += c
                        if last_word[q] != w:
                            last_word[q] = w
                            if free_node != -1:
                                fresh = free_node
                                free_node = node_next[fresh]
                            else:
                                fresh = n_nodes
                                n_nodes += 1
                            node_word[fresh] = w
                            node_next[fresh] = head[q]
                            head[q] = fresh
                        if touched_at[q] != done:
                            touched_at[q] = done
                            touched[n_touched] = q
                            n_touched += 1
                    ids[out] = new_id
                    out += 1
                    i += 2
                else:
                    ids[out] = ids[i]
                    out += 1
                    i += 1
            length[w] = out - start

        for t in range(n_touched):
            q = touched[t]
            if pair_count[q] > 0:
                key = (np.int64(pair_left[q]) << 32) | np.int64(pair_right[q])
                _heap_push(heap_count, heap_key, heap_pid, heap_size, pair_count[q], key, q)
                heap_size += 1
        done += 1
        progress[0] = done
    return merges[:done].copy()
