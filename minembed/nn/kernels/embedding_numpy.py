"""NumPy twins of `minembed.nn.kernels.embedding`, with the same signatures and results.

They are the readable definition of what each kernel does; the tests run both and compare.
"""

from __future__ import annotations

import numpy as np


def gather_rows(weight, ids, out):
    """out[i] = weight[ids[i]] for every i."""
    np.take(weight, ids, axis=0, out=out)


def gather_rows_streaming(weight, ids, out):
    """out[i] = weight[ids[i]] (the kernel streams the rows past the caches; the values are the same)."""
    np.take(weight, ids, axis=0, out=out)


def gather_rows_plus(weight, ids, addend, out):
    """out[i] = weight[ids[i]] + addend[i % P] for every i (N a multiple of P)."""
    gathered = weight[ids].reshape(-1, *addend.shape)
    np.add(gathered, addend, out=out.reshape(gathered.shape))


def scatter_add_rows(grad_weight, ids, rows, padding_idx):
    """grad_weight[ids[i]] += rows[i] in index order, skipping padding_idx (-1: none)."""
    keep = ids != padding_idx
    # np.add.at adds repeated indices one after another, in order: the same sums as torch.
    np.add.at(grad_weight, ids[keep], rows[keep])


def scatter_add_rows_scaled(grad_weight, ids, rows, padding_idx, scale):
    """grad_weight[ids[i]] += scale[ids[i]] * rows[i] in index order, one rounding per add."""
    keep = ids != padding_idx
    ids, rows = ids[keep], rows[keep]
    wide = grad_weight.astype(np.float64)
    scaled = scale[ids].astype(np.float64)[:, None] * rows.astype(np.float64)
    if grad_weight.dtype == np.float32:
        # Round after every add, as a float32 fused multiply-add would.
        for row, contribution in zip(ids, scaled):
            wide[row] = (wide[row] + contribution).astype(np.float32)
    else:
        np.add.at(wide, ids, scaled)
    grad_weight[...] = wide


def fill_zero(table):
    """table[...] = 0."""
    table.fill(0)


def unique_in_order(ids, num_embeddings):
    """The distinct values of ids, in order of first appearance."""
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def row_norms(rows, norm_type):
    """The norm_type-norm of each row of rows (U, D), in float64."""
    rows = np.abs(rows.astype(np.float64))
    if norm_type == np.inf:
        return rows.max(axis=1, initial=0.0)
    if norm_type == -np.inf:
        return rows.min(axis=1, initial=np.inf)
    if norm_type == 0:
        return np.count_nonzero(rows, axis=1).astype(np.float64)
    return (rows**norm_type).sum(axis=1) ** (1.0 / norm_type)


def renorm_rows(weight, unique_ids, max_norm, norm_type):
    """Rescale, in place, each listed row whose norm exceeds max_norm (scale max_norm/(norm+1e-7))."""
    norms = row_norms(weight[unique_ids], norm_type)
    over = norms > max_norm
    scale = (max_norm / (norms[over] + 1e-7)).astype(weight.dtype)
    weight[unique_ids[over]] *= scale[:, None]
