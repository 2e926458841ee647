"""Numba kernels for EmbeddingBag: pooled row gather (sum, mean, max) and its scatter-add gradient.

Shapes: weight (V, D), ids (N,) int64, bounds (B + 1,) int64 with bag b = ids[bounds[b]:bounds[b + 1]]
(bounds is non-decreasing; entries after bounds[B] belong to no bag). padding_idx is -1 for none.
NumPy twins: `embedding_bag_numpy.py`.

Performance notes (2 cores, V=50257, D=768, 4096 bags of 32, float32; see benchmarks/bench_embedding_bag.py):
- forward: one `prange` over bags; a bag's output row is written by one thread only, and each
  bag is summed in entry order into its own output row (the row stays in L1 while it is summed).
  The loop is bound by memory latency (random 3 KB rows of a 154 MB table): summing eight rows
  per pass over the output row (same per-column order, so the same roundings) keeps eight
  streams in flight and took one thread from 22 ms to 11 ms, level with torch's fbgemm kernel.
  Software prefetch of the rows a few ids ahead was tried too and gained nothing on top.
  That order is torch's, so float32 sums and means are bit-identical to torch's forward.
- backward: a column-block split like `embedding.scatter_add_rows` was measured first and was
  6x slower than torch here (150 ms vs 26 ms): with random ids every pass over a column block
  misses the cache on every table row. Now a stable counting sort groups the entries by row
  (O(N + V), serial, under 1 ms), and threads own whole rows, in chunks of equal entry counts.
  No two threads write the same cell and every row is still summed in entry order whatever the
  thread count. The gradient rows of the next few entries are prefetched (49 -> 36 ms, 1 thread).
- a fresh dense gradient is written, never read first: reading a fresh np.zeros page maps the
  shared zero page and the first write faults again; writing zeros ourselves halves the faults
  (fresh 39 ms vs 19 ms into an already-touched buffer, one thread). (torch sums each row in the
  order of an unstable sort of the ids, so its float32 gradient can differ from ours by about one
  ulp per addition; the tests state that tolerance.)
- the per-entry scale (1/bag size for mean, per_sample_weights, 1/frequency) is computed once
  per entry in float64 and cast. torch applies it with a fused multiply-add, but in the order of
  an unstable sort that cannot be replayed, so bit parity is out of reach either way; a plain
  multiply and add in float32 vectorises 8 wide where the float64 FMA emulation did not
  (backward 24.6 -> 18.9 ms in bench_embedding_bag.py).
- `fastmath` stays off: forward results are compared bit for bit with torch and the twins.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from minembed._prefetch import prefetch_row

MODE_SUM = 0
MODE_MEAN = 1
MODE_MAX = 2

_COLUMN_BLOCK = 64
_ROW_CHUNKS = 256
# How many entries ahead to prefetch table rows (best of 2, 4, 8, 16 measured on one thread).
_PREFETCH_DISTANCE = 4


@njit(cache=True)
def _sum_rows(acc, weight, ids, entries, count):
    """acc += weight[ids[e]] for the first count entries e, in order, eight rows per pass over acc.

    Per column the additions happen in exactly the order of one row at a time, so the rounding
    is the same; streaming eight rows at once keeps more memory loads in flight.
    """
    j = 0
    while j + 8 <= count:
        r0, r1, r2, r3 = (
            weight[ids[entries[j]]],
            weight[ids[entries[j + 1]]],
            weight[ids[entries[j + 2]]],
            weight[ids[entries[j + 3]]],
        )
        r4, r5, r6, r7 = (
            weight[ids[entries[j + 4]]],
            weight[ids[entries[j + 5]]],
            weight[ids[entries[j + 6]]],
            weight[ids[entries[j + 7]]],
        )
        for c in range(acc.shape[0]):
            acc[c] = (((((((acc[c] + r0[c]) + r1[c]) + r2[c]) + r3[c]) + r4[c]) + r5[c]) + r6[c]) + r7[c]
        j += 8
    while j < count:
        row = weight[ids[entries[j]]]
        for c in range(acc.shape[0]):
            acc[c] += row[c]
        j += 1


@njit(cache=True)
def _weighted_sum_rows(acc, weight, ids, entries, count, per_sample_weights, fused):
    """acc += per_sample_weights[e] * weight[ids[e]] in order; fused: one rounding per multiply-add."""
    for j in range(count):
        i = entries[j]
        row = weight[ids[i]]
        if fused:
            p = np.float64(per_sample_weights[i])
            for c in range(acc.shape[0]):
                acc[c] = np.float64(acc[c]) + p * np.float64(row[c])
        else:
            q = per_sample_weights[i]
            for c in range(acc.shape[0]):
                acc[c] += q * row[c]  # the product is rounded first


@njit(cache=True)
def _max_rows(acc, weight, ids, entries, count, max_index):
    """acc = columnwise max of weight[ids[e]], max_index = the first entry e reaching it (-1 if none)."""
    if count == 0:
        max_index[:] = -1
        return
    for j in range(count):
        i = entries[j]
        row = weight[ids[i]]
        for c in range(acc.shape[0]):
            if j == 0 or row[c] > acc[c]:  # strict >: ties keep the first maximum, as torch
                acc[c] = row[c]
                max_index[c] = i


@njit(parallel=True, cache=True)
def bag_forward(weight, ids, bounds, per_sample_weights, mode, padding_idx, out, bag_sizes, max_indices):
    """Pool the rows of every bag into out (B, D); fill bag_sizes (B,) and, for max, max_indices (B, D).

    per_sample_weights: (N,) in the weight dtype, or an empty array for none (sum mode only).
    Padding entries are skipped and not counted. Empty bags give zeros (max_indices -1).
    max keeps the first maximum (strict >). max_indices holds entry positions in ids.
    Weighted sums round like torch 2.13: without padding_idx torch's fast path fuses each
    multiply-add (one rounding, emulated exactly in float64); with a padding_idx its generic path
    rounds the product, then the sum.
    """
    for b in prange(bounds.shape[0] - 1):
        acc = out[b]
        acc[:] = 0
        entries = np.empty(bounds[b + 1] - bounds[b], dtype=np.int64)  # the bag's non-padding entries
        count = 0
        for i in range(bounds[b], bounds[b + 1]):
            if ids[i] != padding_idx:
                entries[count] = i
                count += 1
        bag_sizes[b] = count
        if mode == MODE_MAX:
            _max_rows(acc, weight, ids, entries, count, max_indices[b])
        elif per_sample_weights.shape[0] > 0:
            _weighted_sum_rows(acc, weight, ids, entries, count, per_sample_weights, padding_idx < 0)
        else:
            _sum_rows(acc, weight, ids, entries, count)
            if mode == MODE_MEAN and count > 0:
                # True division (not a multiply by 1/count): torch's rounding.
                for c in range(acc.shape[0]):
                    acc[c] = acc[c] / count


@njit(cache=True)
def group_entries_by_row(ids, bounds, padding_idx, num_embeddings):
    """A stable counting sort of the entries in bags (padding left out) by their row.

    Returns rows (U,) the distinct rows in increasing order, row_starts (U + 1,), entries (M,)
    the entry positions grouped by row (entries of one row stay in input order), and
    bag_of (N,) the bag of every entry (-1 outside bags).
    """
    bag_of = np.full(ids.shape[0], -1, dtype=np.int64)
    counts = np.zeros(num_embeddings + 1, dtype=np.int64)
    for b in range(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            bag_of[i] = b
            if ids[i] != padding_idx:
                counts[ids[i] + 1] += 1
    n_rows = 0
    for r in range(num_embeddings):
        if counts[r + 1] > 0:
            n_rows += 1
        counts[r + 1] += counts[r]  # now counts[r] is where row r's entries start
    rows = np.empty(n_rows, dtype=np.int64)
    row_starts = np.empty(n_rows + 1, dtype=np.int64)
    u = 0
    for r in range(num_embeddings):
        if counts[r + 1] > counts[r]:
            rows[u] = r
            row_starts[u] = counts[r]
            u += 1
    row_starts[n_rows] = counts[num_embeddings]
    entries = np.empty(counts[num_embeddings], dtype=np.int64)
    fill = counts[:num_embeddings].copy()
    for i in range(ids.shape[0]):
        if bag_of[i] >= 0 and ids[i] != padding_idx:
            entries[fill[ids[i]]] = i
            fill[ids[i]] += 1
    return rows, row_starts, entries, bag_of


@njit(cache=True)
def _balanced_chunks(row_starts, n_chunks):
    """Split rows 0..U into at most n_chunks runs holding about the same number of entries."""
    n_rows = row_starts.shape[0] - 1
    total = row_starts[n_rows]
    cuts = np.empty(n_chunks + 1, dtype=np.int64)
    cuts[0] = 0
    u = 0
    for k in range(1, n_chunks):
        target = total * k // n_chunks
        while u < n_rows and row_starts[u] < target:
            u += 1
        cuts[k] = u
    cuts[n_chunks] = n_rows
    return cuts


@njit(parallel=True, cache=True)
def bag_backward(grad_weight, ids, bounds, grad_output, entry_scale, padding_idx, accumulate):
    """grad_weight[ids[i]] += entry_scale[i] * grad_output[bag of i], entries in order, padding skipped.

    grad_weight (V, D), grad_output (B, D), entry_scale (N,), all of one float dtype.
    accumulate=False: grad_weight's contents are ignored and every row is written (zeros where
    no entry points), so it can come from np.empty. The product and the sum are each rounded
    to the table dtype (torch fuses them, but its summation order cannot be replayed anyway).
    """
    rows, row_starts, entries, bag_of = group_entries_by_row(ids, bounds, padding_idx, grad_weight.shape[0])
    num_rows = grad_weight.shape[0]
    # A fixed number of chunks (not one per thread): the result never depends on the thread count.
    cuts = _balanced_chunks(row_starts, _ROW_CHUNKS)
    for k in prange(_ROW_CHUNKS):
        # Chunk k owns its touched rows and the untouched rows before them (the last one: to the end).
        first = 0 if cuts[k] == 0 else rows[cuts[k] - 1] + 1
        last = num_rows if k == _ROW_CHUNKS - 1 else (0 if cuts[k + 1] == 0 else rows[cuts[k + 1] - 1] + 1)
        u = cuts[k]
        for r in range(first, last):
            target = grad_weight[r]
            if not accumulate:
                target[:] = 0  # written before it is read: fresh pages fault once, not twice
            if u < cuts[k + 1] and rows[u] == r:
                for j in range(row_starts[u], row_starts[u + 1]):
                    if j + _PREFETCH_DISTANCE < entries.shape[0]:
                        prefetch_row(grad_output, bag_of[entries[j + _PREFETCH_DISTANCE]])
                    i = entries[j]
                    s = entry_scale[i]
                    source = grad_output[bag_of[i]]
                    for c in range(target.shape[0]):
                        target[c] += s * source[c]
                u += 1


@njit(parallel=True, cache=True)
def bag_backward_max(grad_weight, ids, max_indices, grad_output):
    """grad_weight[ids[max_indices[b, c]], c] += grad_output[b, c], bags in order; -1 means no entry."""
    dim = grad_weight.shape[1]
    n_blocks = (dim + _COLUMN_BLOCK - 1) // _COLUMN_BLOCK
    for block in prange(n_blocks):
        c0 = block * _COLUMN_BLOCK
        c1 = min(c0 + _COLUMN_BLOCK, dim)
        for b in range(max_indices.shape[0]):
            for c in range(c0, c1):
                i = max_indices[b, c]
                if i >= 0:
                    grad_weight[ids[i], c] += grad_output[b, c]


@njit(parallel=True, cache=True)
def per_sample_weights_grad(weight, ids, bounds, grad_output, padding_idx, out):
    """out[i] = <grad_output[bag of i], weight[ids[i]]> (0 for padding and entries in no bag). out (N,)."""
    out[:] = 0
    for b in prange(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            row = ids[i]
            if row == padding_idx:
                continue
            acc = 0.0
            for c in range(weight.shape[1]):
                acc += np.float64(grad_output[b, c]) * np.float64(weight[row, c])
            out[i] = acc
