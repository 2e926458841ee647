"""Numba kernel of softmax cross-entropy, fused with its gradient (twin: cross_entropy_numpy.py).

One `prange` over rows; each thread owns whole rows, so nothing is shared. A row of logits
(V=4096 float32 is 16 KiB) stays in cache for its three passes: maximum, sum of exponentials
(accumulated in float64), and the gradient written next to it. Computing the gradient in the
forward pass saves reading the (N, V) logits again in backward, the largest array of a small LM.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def _cross_entropy_rows(logits, targets, ignore_index, smoothing, grad_scale, row_loss, grad):
    """Same contract as cross_entropy_numpy.cross_entropy_rows."""
    n, classes = logits.shape
    with_grad = grad.shape[0] > 0
    for i in prange(n):
        target = targets[i]
        if target == ignore_index:
            row_loss[i] = 0.0
            if with_grad:
                for j in range(classes):
                    grad[i, j] = 0.0
            continue
        row_max = -np.inf
        for j in range(classes):
            if logits[i, j] > row_max:
                row_max = logits[i, j]
        row_max = np.float64(row_max)
        total = 0.0
        row_sum = 0.0
        for j in range(classes):
            value = np.float64(logits[i, j])
            total += math.exp(value - row_max)
            row_sum += value
        lse = row_max + math.log(total)
        nll = lse - np.float64(logits[i, target])
        row_loss[i] = (1.0 - smoothing) * nll + smoothing / classes * (classes * lse - row_sum)
        if with_grad:
            uniform = smoothing / classes
            for j in range(classes):
                grad[i, j] = (math.exp(np.float64(logits[i, j]) - lse) - uniform) * grad_scale
            grad[i, target] -= (1.0 - smoothing) * grad_scale


SERIAL_BELOW = 1 << 17  # logits with fewer values than this run on one thread

cross_entropy_rows = njit(cache=True, parallel=True)(_cross_entropy_rows)
cross_entropy_rows_serial = njit(cache=True)(_cross_entropy_rows)
