"""Numba kernels of softmax cross-entropy, fused with its gradient (twins: cross_entropy_numpy.py).

The loss makes three passes over each block of rows of the (N, V) logits, the largest array of a
small LM (`minembed.nn.functional.loss.cross_entropy_rows` drives them):
  1. NumPy's SIMD row maximum (a Numba max loop cannot be vectorised without fastmath: 6x
     slower), then `shift_rows` (here): logits - max into the gradient buffer (NumPy's broadcast
     subtract took 3x this loop); the float64 row sums of the logits only for label smoothing;
  2. NumPy's `np.exp` over that block in place: its SIMD float32 exp is several times faster
     than the scalar exp a Numba loop calls (no SVML here);
  3. `finish_rows` (here): each row's sum of exponentials (float64, over SIMD lanes), its loss,
     and the rescale of the row into the gradient softmax - target.
A block of about 256 KiB stays in cache through the three passes, so memory sees one read of the
logits and one write of the gradient (three whole-array passes moved 3.5x the bytes). NumPy and
the kernel release the GIL: two threads each take half of the rows, block by block. Computing
the gradient with the loss saves reading the logits again in backward.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def _shift_rows(logits, maxima, targets, ignore_index, row_max, shifted):
    """Same contract as cross_entropy_numpy.shift_rows (NumPy's broadcast subtract is 3x slower here)."""
    n, classes = logits.shape
    for i in range(n):
        if targets[i] == ignore_index:
            row_max[i] = 0.0
            for j in range(classes):
                shifted[i, j] = -np.inf
            continue
        row_max[i] = maxima[i]
        top = logits.dtype.type(maxima[i])
        for j in range(classes):
            shifted[i, j] = logits[i, j] - top


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _row_sum(exps, i):
    """The float64 sum of row i of exps. reassoc lets the compiler split the sum over SIMD lanes
    (a single float64 accumulator is a chain of dependent adds, 4 cycles each): 4-5x faster than
    four hand-written partial sums on 4096 classes. The order is the compiler's, fixed for a build,
    so results repeat exactly; they differ from the twin's np.sum in the last bits of the float64 sum."""
    total = 0.0
    for j in range(exps.shape[1]):
        total += exps[i, j]
    return total


def _finish_rows(exps, logits, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad):
    """From exps = exp(logits - row_max): row_loss (N,) float64 and, if with_grad, exps rescaled in place
    into grad_scale * (softmax - smoothing / C - (1 - smoothing) * onehot(target)); ignored rows: 0."""
    n, classes = exps.shape
    for i in range(n):
        target = targets[i]
        if target == ignore_index:
            row_loss[i] = 0.0
            if with_grad:
                for j in range(classes):
                    exps[i, j] = 0.0
            continue
        total = _row_sum(exps, i)
        lse = row_max[i] + math.log(total)
        nll = lse - logits[i, target]
        row_loss[i] = (1.0 - smoothing) * nll + smoothing / classes * (classes * lse - row_sum[i])
        if with_grad:
            scale = exps.dtype.type(grad_scale / total)
            shift = exps.dtype.type(smoothing / classes * grad_scale)
            for j in range(classes):
                exps[i, j] = exps[i, j] * scale - shift
            exps[i, target] -= exps.dtype.type((1.0 - smoothing) * grad_scale)


shift_rows = njit(cache=True, nogil=True)(_shift_rows)
finish_rows = njit(cache=True, nogil=True)(_finish_rows)
