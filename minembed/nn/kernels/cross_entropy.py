"""Numba kernels of softmax cross-entropy, fused with its gradient (twins: cross_entropy_numpy.py).

`softmax_rows` turns a block of rows of the (N, V) logits, the largest array of a small LM, into
each row's loss and, in place of the exponentials, its gradient softmax - target
(`minembed.nn.functional.loss.cross_entropy_rows` drives it, after NumPy's SIMD row maximum: a
Numba max loop cannot be vectorised without fastmath, 6x slower). Per row:
  1. shift by the row maximum and exponentiate, into the gradient buffer;
  2. sum the exponentials (float64, over SIMD lanes), compute the row's loss;
  3. rescale the row into the gradient.
float32 rows take all three steps in one kernel, `softmax_rows_float32`, with fast_exp's
vectorised exp: a row of 4096 classes (16 KiB) stays in the L1 cache through them, and the whole
block costs less than the three separate passes below (1.1 against 1.4 ns per element, one thread).
float64 rows take three passes per block: `shift_rows`, NumPy's np.exp in place (a float64
polynomial of that accuracy would need about twice the terms), `finish_rows`.
The kernels release the GIL, so two threads can each take half of the rows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from minembed.nn.kernels.fast_exp import exp_float32


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


@njit(cache=True, nogil=True)
def _finish_row(exps, logits, i, target, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad):
    """Row i (not ignored), given exps[i] = exp(logits[i] - row_max[i]): row_loss[i] and, if with_grad,
    exps[i] rescaled in place into grad_scale * (softmax - smoothing / C - (1 - smoothing) * onehot(target))."""
    classes = exps.shape[1]
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


def _finish_rows(exps, logits, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad):
    """From exps = exp(logits - row_max): row_loss (N,) float64 and, if with_grad, exps rescaled in place
    into grad_scale * (softmax - smoothing / C - (1 - smoothing) * onehot(target)); ignored rows: 0."""
    for i in range(exps.shape[0]):
        if targets[i] == ignore_index:
            row_loss[i] = 0.0
            if with_grad:
                exps[i, :] = 0.0
            continue
        _finish_row(exps, logits, i, targets[i], smoothing, grad_scale, row_max, row_sum, row_loss, with_grad)


def _softmax_rows_float32(
    logits, maxima, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, out, with_grad
):
    """shift_rows, exp and finish_rows in one sweep over each float32 row, which stays in the L1 cache."""
    for i in range(logits.shape[0]):
        if targets[i] == ignore_index:
            row_max[i] = 0.0
            row_loss[i] = 0.0
            out[i, :] = 0.0
            continue
        row_max[i] = maxima[i]
        top = np.float32(maxima[i])
        for j in range(logits.shape[1]):
            out[i, j] = exp_float32(logits[i, j] - top)
        _finish_row(out, logits, i, targets[i], smoothing, grad_scale, row_max, row_sum, row_loss, with_grad)


shift_rows = njit(cache=True, nogil=True)(_shift_rows)
finish_rows = njit(cache=True, nogil=True)(_finish_rows)
softmax_rows_float32 = njit(cache=True, nogil=True)(_softmax_rows_float32)


def softmax_rows(
    logits, maxima, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, out, with_grad
):
    """A block of rows, given its maxima (N,): row_max, row_loss (N,) float64 and, in out (N, C), the
    gradient (if with_grad) or the exponentials; row_sum (N,): the logits' row sums, for label smoothing."""
    if logits.dtype == np.float32:
        softmax_rows_float32(
            logits, maxima, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, out, with_grad
        )
        return
    shift_rows(logits, maxima, targets, ignore_index, row_max, out)
    np.exp(out, out=out)
    finish_rows(out, logits, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad)
