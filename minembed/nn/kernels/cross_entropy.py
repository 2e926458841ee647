"""Numba kernel of softmax cross-entropy, fused with its gradient (twin: cross_entropy_numpy.py).

One `prange` over rows; each thread owns whole rows, so nothing is shared. A row of logits
(V=4096 float32 is 16 KiB) stays in cache for its three passes: maximum; exponentials, written
into the gradient row and summed in float64; and the rescale of that row into the gradient. Computing the gradient in the
forward pass saves reading the (N, V) logits again in backward, the largest array of a small LM.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def _cross_entropy_rows(logits, targets, ignore_index, smoothing, grad_scale, row_loss, grad):
    """Same contract as cross_entropy_numpy.cross_entropy_rows (exponentials in the logits' dtype)."""
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
        row_max = logits[i, 0]
        for j in range(1, classes):
            row_max = max(row_max, logits[i, j])
        # One exponential per logit, in the logits' dtype (float32: expf), kept in the gradient row
        # and summed in float64; the row is then rescaled in place.
        total = 0.0
        row_sum = 0.0
        for j in range(classes):
            e = math.exp(logits[i, j] - row_max)
            if with_grad:
                grad[i, j] = e
            total += e
            row_sum += logits[i, j]
        lse = np.float64(row_max) + math.log(total)
        nll = lse - np.float64(logits[i, target])
        row_loss[i] = (1.0 - smoothing) * nll + smoothing / classes * (classes * lse - row_sum)
        if with_grad:
            scale = grad.dtype.type(grad_scale / total)
            shift = grad.dtype.type(smoothing / classes * grad_scale)
            for j in range(classes):
                grad[i, j] = grad[i, j] * scale - shift
            grad[i, target] -= grad.dtype.type((1.0 - smoothing) * grad_scale)


SERIAL_BELOW = 1 << 17  # logits with fewer values than this run on one thread

cross_entropy_rows = njit(cache=True, parallel=True)(_cross_entropy_rows)
cross_entropy_rows_serial = njit(cache=True)(_cross_entropy_rows)
