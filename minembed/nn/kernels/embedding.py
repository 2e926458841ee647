"""Numba kernels for the embedding table: row gather, row scatter-add and max-norm renorm.

Shapes: weight (V, D), ids (N,) int64, rows (N, D). NumPy twins: `embedding_numpy.py`.

Performance notes (2 cores, V=50257, D=768, N=8192, float32; see benchmarks/bench_embedding.py):
- gather: one `prange` over output rows; each thread copies whole rows, so writes never overlap.
  It runs at memory speed, like `np.copyto` of the output. The rows are random, so the copy
  waits on memory latency; prefetching the row 4 ids ahead gained 5-7% (0.77 -> 0.72 ms).
  Against a two-thread np.copyto of the output's 25 MB (bench_embedding.py --quick, shared
  machine): 0.62x (torch's copy_: 0.69x); the gather into a preallocated output takes the same
  time as the public call, so the gap is the row copy itself, not allocation or validation.
  The cause: memcpy of a 25 MB block uses non-temporal stores (no read of the destination
  lines), while row-sized copies read each destination line before writing it. So outputs of
  `_STREAM_FROM_BYTES` or more take `gather_rows_streaming`: the same rows through 16-byte
  non-temporal stores and an sfence per row (minembed/_nontemporal.py); 16- and 64-byte stores
  and prefetch distances of 4, 8 and 16 rows measured alike (11-18% faster than plain stores,
  caches flushed). Smaller outputs keep plain stores: whoever reads them next finds them cached.
- gather plus positions (`gather_rows_plus`): the token rows and the position rows added in the
  same pass. TinyLM's input (2048 ids, D=128, a 2 MB table that stays in cache): a gather then a
  NumPy add took 1.5x torch's two lookups and add; fused, the pass costs about one gather.
- scatter-add: torch sums every gradient row in flattened index order, one row at a time, and
  its float32 result is bit-identical to `np.add.at`. To keep that order *and* use both cores,
  the rows are dealt out in 2 MiB blocks to 16 parts; a stable counting sort groups the ids by
  part, and each part adds its own rows in index order: no two threads write the same cell, and
  each row's order is unchanged.
  (Splitting the columns instead balances skewed ids better, but walks the random rows once
  per column block: measured 5x slower here, a TLB miss per block instead of per row.)
  A table of less than 16 x 2 MiB gets smaller blocks, one per part (TinyLM's 4096 x 128 table
  would otherwise be a single block, added up by one thread).
  A fresh gradient comes from np.zeros, i.e. untouched zero pages: only the rows hit pay.
- fill_zero (refilling a reused gradient): two memsets in parallel, 1.9 ms for 154 MB where
  np.fill takes 4 ms and the page faults of a fresh np.zeros table cost about 5.5 ms.
- renorm: the rows are first de-duplicated (each row is renormed once, as in torch), then the
  unique rows are processed in parallel; each thread owns whole rows.
- `fastmath` stays off: results are compared bit for bit with torch and with the twins.
- The common signatures (C-contiguous float32/float64 tables, int64 ids) are compiled when this
  module is imported, or loaded from Numba's cache (~0.1 s; ~5 s the very first time).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from minembed._nontemporal import stream_row
from minembed._prefetch import prefetch_row

# fill_zero cuts the table into this many contiguous blocks (one or two per thread).
_FILL_PARTS = 4

# The gather asks for the row this many ids ahead while it copies the current one.
_PREFETCH_DISTANCE = 4

# The scatter-add splits the table into blocks of at most 2 MiB of rows (a power of two of rows) (one huge page, so two
# threads never fault on the same page) and deals the blocks out to this many parts, more
# parts than threads so that prange can balance them; each part re-reads the ids (cheap).
_ROW_PARTS = 16  # a power of two (a row's part is a mask)
_BLOCK_BYTES = 1 << 21


@njit(cache=True)
def _block_shift(grad_weight):
    """log2 of the rows per block (a power of two: a row's part is a shift and a mask).

    Blocks of at most 2 MiB of rows; a table smaller than _ROW_PARTS such blocks is dealt out
    row by row instead, so that the frequent ids of a skewed (Zipf-like) batch, which are the
    first rows of a table sorted by frequency, still land in different parts.
    """
    row_bytes = max(1, grad_weight.shape[1] * grad_weight.itemsize)
    if grad_weight.shape[0] * row_bytes < _ROW_PARTS * _BLOCK_BYTES:
        return 0
    shift = 0
    while (2 << shift) * row_bytes <= _BLOCK_BYTES:
        shift += 1
    return shift


@njit(parallel=True, cache=True)
def gather_rows(weight, ids, out):
    """out[i] = weight[ids[i]] for every i.  weight (V, D), ids (N,) int64, out (N, D)."""
    n = ids.shape[0]
    for i in prange(n):
        if i + _PREFETCH_DISTANCE < n:
            prefetch_row(weight, ids[i + _PREFETCH_DISTANCE])
        out[i, :] = weight[ids[i], :]


@njit(parallel=True, cache=True)
def gather_rows_streaming(weight, ids, out):
    """gather_rows with non-temporal stores (minembed._nontemporal): for outputs beyond the caches.

    out must satisfy `_nontemporal.can_stream_into`; the result is the same bits as gather_rows.
    """
    n = ids.shape[0]
    for i in prange(n):
        if i + _PREFETCH_DISTANCE < n:
            prefetch_row(weight, ids[i + _PREFETCH_DISTANCE])
        stream_row(out, i, weight, ids[i])


@njit(parallel=True, cache=True)
def gather_rows_plus(weight, ids, addend, out):
    """out[i] = weight[ids[i]] + addend[i % P]: a lookup plus a (P, D) block repeated down the rows.

    weight (V, D), ids (N,) int64 with N a multiple of P, addend (P, D), out (N, D); one pass
    instead of a gather and an add (TokenAndPositionEmbedding: token rows plus position rows).
    """
    period = addend.shape[0]
    for i in prange(ids.shape[0]):
        row, position = ids[i], i % period
        for c in range(weight.shape[1]):
            out[i, c] = weight[row, c] + addend[position, c]


@njit(cache=True)
def _ids_by_part(grad_weight, ids, padding_idx):
    """(order (M,), starts (_ROW_PARTS + 1,)): the positions i of ids, grouped by the part their row
    belongs to and in index order within each part (a stable counting sort); padding ids left out.

    Each part then reads only its own ids (scanning all ids once per part took longer than the
    adds themselves for a batch of 2048)."""
    shift = _block_shift(grad_weight)
    mask = _ROW_PARTS - 1
    starts = np.zeros(_ROW_PARTS + 1, dtype=np.int64)
    for i in range(ids.shape[0]):
        if ids[i] != padding_idx:
            starts[((ids[i] >> shift) & mask) + 1] += 1
    for part in range(_ROW_PARTS):
        starts[part + 1] += starts[part]
    order = np.empty(starts[_ROW_PARTS], dtype=np.int64)
    filled = starts[:_ROW_PARTS].copy()
    for i in range(ids.shape[0]):
        if ids[i] != padding_idx:
            part = (ids[i] >> shift) & mask
            order[filled[part]] = i
            filled[part] += 1
    return order, starts


@njit(parallel=True, cache=True)
def scatter_add_rows(grad_weight, ids, rows, padding_idx):
    """grad_weight[ids[i]] += rows[i] in index order, skipping ids equal to padding_idx (-1: none).

    grad_weight (V, D), ids (N,) int64, rows (N, D); same float dtype.
    """
    order, starts = _ids_by_part(grad_weight, ids, padding_idx)
    for part in prange(_ROW_PARTS):
        # Each table row belongs to exactly one part, so no two threads write the same cell.
        for k in range(starts[part], starts[part + 1]):
            i = order[k]
            row = ids[i]
            for c in range(grad_weight.shape[1]):
                grad_weight[row, c] += rows[i, c]


@njit(parallel=True, cache=True)
def scatter_add_rows_scaled(grad_weight, ids, rows, padding_idx, scale):
    """grad_weight[ids[i]] += scale[ids[i]] * rows[i] in index order, as one fused multiply-add.

    scale (V,) has the grad_weight dtype. For float32 the multiply-add is done in float64 and
    rounded once, which reproduces torch's fused multiply-add: the product of two float32
    numbers is exact in float64.
    """
    order, starts = _ids_by_part(grad_weight, ids, padding_idx)
    for part in prange(_ROW_PARTS):
        for k in range(starts[part], starts[part + 1]):
            i = order[k]
            row = ids[i]
            s = np.float64(scale[row])
            for c in range(grad_weight.shape[1]):
                grad_weight[row, c] = np.float64(grad_weight[row, c]) + s * np.float64(rows[i, c])


@njit(parallel=True, cache=True)
def fill_zero(table):
    """table[...] = 0 for a C-contiguous 2-D table, one large contiguous block per thread."""
    flat = table.reshape(-1)
    n = flat.shape[0]
    for part in prange(_FILL_PARTS):
        # One slice per thread compiles to a memset; a prange over rows was 2x slower here.
        flat[part * n // _FILL_PARTS : (part + 1) * n // _FILL_PARTS] = 0


@njit(cache=True)
def unique_in_order(ids, num_embeddings):
    """The distinct values of ids (N,) int64, in order of first appearance."""
    seen = np.zeros(num_embeddings, dtype=np.bool_)
    out = np.empty(ids.shape[0], dtype=np.int64)
    n = 0
    for i in range(ids.shape[0]):
        row = ids[i]
        if not seen[row]:
            seen[row] = True
            out[n] = row
            n += 1
    return out[:n]


@njit(cache=True)
def row_norm(row, norm_type):
    """The norm_type-norm of a 1-D row, accumulated in float64 (inf, -inf and 0 as in torch)."""
    if norm_type == np.inf:
        acc = 0.0
        for x in row:
            acc = max(acc, abs(np.float64(x)))
        return acc
    if norm_type == -np.inf:
        acc = np.inf
        for x in row:
            acc = min(acc, abs(np.float64(x)))
        return acc
    if norm_type == 0.0:
        acc = 0.0
        for x in row:
            if x != 0:
                acc += 1.0
        return acc
    acc = 0.0
    if norm_type == 2.0:
        for x in row:
            acc += np.float64(x) * np.float64(x)
        return np.sqrt(acc)
    if norm_type == 1.0:
        for x in row:
            acc += abs(np.float64(x))
        return acc
    for x in row:
        acc += abs(np.float64(x)) ** norm_type
    return acc ** (1.0 / norm_type)


@njit(parallel=True, cache=True)
def renorm_rows(weight, unique_ids, max_norm, norm_type):
    """Rescale, in place, each row in unique_ids whose norm exceeds max_norm to norm max_norm.

    weight (V, D); unique_ids (U,) int64 without duplicates. The scale is
    max_norm / (norm + 1e-7), computed in float64 and applied in the weight dtype, as torch does.
    """
    for k in prange(unique_ids.shape[0]):
        row = weight[unique_ids[k]]
        norm = row_norm(row, norm_type)
        if norm > max_norm:
            # A one-element array casts the float64 scale to the weight dtype, so the
            # multiply below happens in that dtype, as in torch.
            scale = np.empty(1, dtype=weight.dtype)
            scale[0] = max_norm / (norm + 1e-7)
            for c in range(row.shape[0]):
                row[c] *= scale[0]


def _compile_common_signatures() -> None:
    """Compile (or load from Numba's cache) the kernels for the layouts the wrappers pass:
    C-contiguous float32 or float64 tables and int64 ids. Other argument types, such as
    read-only arrays, still compile on first use."""
    ids, count = types.Array(types.int64, 1, "C"), types.int64
    for dtype in (types.float32, types.float64):
        table, scale = types.Array(dtype, 2, "C"), types.Array(dtype, 1, "C")
        gather_rows.compile((table, ids, table))
        scatter_add_rows.compile((table, ids, table, count))
        scatter_add_rows_scaled.compile((table, ids, table, count, scale))
        renorm_rows.compile((table, ids, types.float64, types.float64))
        fill_zero.compile((table,))
    unique_in_order.compile((ids, count))


_compile_common_signatures()
