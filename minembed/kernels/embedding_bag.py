"""Numba kernels for EmbeddingBag: pooled row gather (sum, mean, max) and its scatter-add gradient.

Shapes: weight (V, D), ids (N,) int64, bounds (B + 1,) int64 with bag b = ids[bounds[b]:bounds[b + 1]]
(bounds is non-decreasing; entries after bounds[B] belong to no bag). padding_idx is -1 for none.
NumPy twins: `embedding_bag_numpy.py`.

Performance notes (2 cores, V=50257, D=768, 4096 bags of 32, float32; see benchmarks/bench_embedding_bag.py):
- forward: one `prange` over bags; a bag's output row is written by one thread only, and each
  bag is summed in entry order into its own output row (the row stays in L1 while it is summed).
  That order is torch's, so float32 sums and means are bit-identical to torch's forward.
- backward: a column-block split like `embedding.scatter_add_rows` was measured first and was
  6x slower than torch here (150 ms vs 26 ms): with random ids every pass over a column block
  misses the cache on every table row. Now a stable counting sort groups the entries by row
  (O(N + V), serial, under 1 ms), and threads own whole rows, in chunks of equal entry counts.
  No two threads write the same cell and every row is still summed in entry order whatever the
  thread count. (torch sums each row in the order of an unstable sort of the ids, so its float32
  gradient can differ from ours by about one ulp per addition; the tests state that tolerance.)
- the per-entry scale (1/bag size for mean, per_sample_weights, 1/frequency) is computed once
  per entry in float64 and cast, then applied as a fused multiply-add, as torch's axpy does.
- `fastmath` stays off: forward results are compared bit for bit with torch and the twins.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

MODE_SUM = 0
MODE_MEAN = 1
MODE_MAX = 2

_COLUMN_BLOCK = 64
_ROW_CHUNKS = 256


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
    dim = weight.shape[1]
    weighted = per_sample_weights.shape[0] > 0
    for b in prange(bounds.shape[0] - 1):
        acc = out[b]
        acc[:] = 0
        count = 0
        for i in range(bounds[b], bounds[b + 1]):
            row = ids[i]
            if row == padding_idx:
                continue
            if mode == MODE_MAX:
                if count == 0:
                    for c in range(dim):
                        acc[c] = weight[row, c]
                        max_indices[b, c] = i
                else:
                    for c in range(dim):
                        if weight[row, c] > acc[c]:
                            acc[c] = weight[row, c]
                            max_indices[b, c] = i
            elif weighted and padding_idx < 0:
                p = np.float64(per_sample_weights[i])
                for c in range(dim):
                    acc[c] = np.float64(acc[c]) + p * np.float64(weight[row, c])
            elif weighted:
                p = per_sample_weights[i]
                for c in range(dim):
                    acc[c] += p * weight[row, c]  # the product is rounded first
            else:
                for c in range(dim):
                    acc[c] += weight[row, c]
            count += 1
        bag_sizes[b] = count
        if mode == MODE_MEAN and count > 0:
            # True division (not a multiply by 1/count): torch's rounding.
            for c in range(dim):
                acc[c] = acc[c] / count
        if mode == MODE_MAX and count == 0:
            for c in range(dim):
                max_indices[b, c] = -1


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
def bag_backward(grad_weight, ids, bounds, grad_output, entry_scale, padding_idx):
    """grad_weight[ids[i]] += entry_scale[i] * grad_output[bag of i], entries in order, padding skipped.

    grad_weight (V, D), grad_output (B, D), entry_scale (N,), all of one float dtype.
    For float32 the multiply-add is done in float64 and rounded once (an exact FMA emulation).
    """
    rows, row_starts, entries, bag_of = group_entries_by_row(ids, bounds, padding_idx, grad_weight.shape[0])
    dim = grad_weight.shape[1]
    # A fixed number of chunks (not one per thread): the result never depends on the thread count.
    cuts = _balanced_chunks(row_starts, min(_ROW_CHUNKS, rows.shape[0]))
    for k in prange(cuts.shape[0] - 1):
        for u in range(cuts[k], cuts[k + 1]):
            target = grad_weight[rows[u]]
            for j in range(row_starts[u], row_starts[u + 1]):
                i = entries[j]
                s = np.float64(entry_scale[i])
                source = grad_output[bag_of[i]]
                for c in range(dim):
                    target[c] = np.float64(target[c]) + s * np.float64(source[c])


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
