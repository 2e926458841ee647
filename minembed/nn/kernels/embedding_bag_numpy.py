"""NumPy twins of `minembed.nn.kernels.embedding_bag`, with the same signatures and results.

They are the readable definition of what each kernel does; the tests run both and compare.
"""

from __future__ import annotations

import numpy as np

from minembed.nn.kernels.embedding_bag import MODE_MAX, MODE_MEAN, MODE_SUM

__all__ = [
    "MODE_MAX",
    "MODE_MEAN",
    "MODE_SUM",
    "bag_backward",
    "bag_backward_max",
    "bag_forward",
    "per_sample_weights_grad",
]


def _fma_rows(acc, scale, rows):
    """acc + scale * rows with one rounding to acc's dtype (float32: exact in float64)."""
    return (acc.astype(np.float64) + np.float64(scale) * rows.astype(np.float64)).astype(acc.dtype)


def bag_forward(weight, ids, bounds, per_sample_weights, mode, padding_idx, out, bag_sizes, max_indices):
    """Pool every bag ids[bounds[b]:bounds[b+1]] of weight rows into out[b] (padding skipped)."""
    for b in range(bounds.shape[0] - 1):
        entries = np.arange(bounds[b], bounds[b + 1])
        entries = entries[ids[entries] != padding_idx]
        bag_sizes[b] = entries.shape[0]
        out[b] = 0
        if entries.shape[0] == 0:
            if mode == MODE_MAX:
                max_indices[b] = -1
            continue
        rows = weight[ids[entries]]  # (L, D)
        if mode == MODE_MAX:
            first_max = np.argmax(rows, axis=0)  # argmax returns the first maximum, as torch keeps
            max_indices[b] = entries[first_max]
            out[b] = rows[first_max, np.arange(rows.shape[1])]
        elif per_sample_weights.shape[0] > 0 and padding_idx < 0:
            for entry, row in zip(entries, rows):
                out[b] = _fma_rows(out[b], per_sample_weights[entry], row)
        elif per_sample_weights.shape[0] > 0:
            for entry, row in zip(entries, rows):
                out[b] += per_sample_weights[entry] * row  # product rounded, then the sum (torch with padding)
        else:
            # subtle: cumsum adds strictly in entry order, as torch; rows.sum(axis=0) may sum
            # pairwise when D == 1, which rounds differently.
            out[b] = np.cumsum(rows, axis=0)[-1]
            if mode == MODE_MEAN:
                out[b] /= out.dtype.type(entries.shape[0])


def bag_backward(grad_weight, ids, bounds, grad_output, entry_scale, padding_idx, accumulate):
    """grad_weight[ids[i]] += entry_scale[i] * grad_output[bag of i], in entry order, padding skipped.

    accumulate=False: start from zeros, whatever grad_weight holds."""
    if not accumulate:
        grad_weight[...] = 0
    for b in range(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            if ids[i] != padding_idx:
                # Product rounded, then the sum, in the table dtype, as the kernel does.
                grad_weight[ids[i]] += entry_scale[i] * grad_output[b]


def bag_backward_max(grad_weight, ids, max_indices, grad_output):
    """grad_weight[ids[max_indices[b, c]], c] += grad_output[b, c]; -1 means no entry."""
    bags, columns = np.nonzero(max_indices >= 0)
    # np.add.at adds repeated cells in order (bag by bag), the order the kernel uses.
    np.add.at(grad_weight, (ids[max_indices[bags, columns]], columns), grad_output[bags, columns])


def per_sample_weights_grad(weight, ids, bounds, grad_output, padding_idx, out):
    """out[i] = <grad_output[bag of i], weight[ids[i]]> (0 for padding and entries outside bags)."""
    out[:] = 0
    for b in range(bounds.shape[0] - 1):
        for i in range(bounds[b], bounds[b + 1]):
            if ids[i] != padding_idx:
                out[i] = np.dot(grad_output[b].astype(np.float64), weight[ids[i]].astype(np.float64))
