"""NumPy twins of kernels/cross_entropy.py: the passes of softmax cross-entropy with its gradient."""

from __future__ import annotations

import numpy as np

from minembed.nn.kernels.fast_exp_numpy import exp_float32


def shift_rows(logits, maxima, targets, ignore_index, row_max, shifted):
    """shifted[i] = logits[i] - maxima[i] and row_max[i] = maxima[i] (maxima (N,): each row's max);
    ignored rows (targets[i] == ignore_index) get row_max[i] = 0 and shifted[i] = -inf (exp 0)."""
    keep = targets != ignore_index
    row_max[:] = np.where(keep, maxima, 0.0)
    np.subtract(logits, maxima[:, None].astype(logits.dtype), out=shifted)
    shifted[~keep] = -np.inf


def finish_rows(exps, logits, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad):
    """From exps = exp(logits - row_max): row_loss (N,) float64 and, if with_grad, exps rescaled in place
    into grad_scale * (softmax - smoothing / C - (1 - smoothing) * onehot(target)); ignored rows: 0."""
    n, classes = exps.shape
    keep = targets != ignore_index
    total = exps.sum(axis=1, dtype=np.float64)
    safe = np.where(keep, targets, 0)
    picked = logits[np.arange(n), safe].astype(np.float64) if classes else np.zeros(n)
    # An ignored row has no exps: its lse is -inf and its loss nan, both masked out just below.
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = row_max + np.log(total)
        loss = (1.0 - smoothing) * (lse - picked) + smoothing / max(classes, 1) * (classes * lse - row_sum)
    row_loss[:] = np.where(keep, loss, 0.0)
    if with_grad:
        dtype = exps.dtype.type
        scale = np.where(keep, grad_scale / np.where(keep, total, 1.0), 0.0).astype(exps.dtype)
        exps *= scale[:, None]
        exps -= dtype(smoothing / max(classes, 1) * grad_scale)
        exps[~keep] = 0
        rows = np.flatnonzero(keep)
        exps[rows, targets[rows]] -= dtype((1.0 - smoothing) * grad_scale)


def softmax_rows(
    logits, maxima, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, out, with_grad
):
    """A block of rows, given its maxima (N,): row_max, row_loss (N,) float64 and, in out (N, C), the
    gradient (if with_grad) or the exponentials; float32 takes fast_exp's exp, as the kernel does."""
    shift_rows(logits, maxima, targets, ignore_index, row_max, out)
    out[...] = exp_float32(out) if out.dtype == np.float32 else np.exp(out)
    finish_rows(out, logits, targets, ignore_index, smoothing, grad_scale, row_max, row_sum, row_loss, with_grad)
