"""NumPy twins of kernels/cross_entropy.py: the passes of softmax cross-entropy with its gradient."""

from __future__ import annotations

import numpy as np


def shift_rows(logits, targets, ignore_index, row_max, row_sum, shifted, with_sum=True):
    """row_max[i] = max(logits[i]), row_sum[i] = sum(logits[i]) (float64; 0 unless with_sum),
    shifted[i] = logits[i] - row_max[i]. Ignored rows (targets[i] == ignore_index) get shifted[i] = -inf
    (exp 0) and are skipped. The first pass of the loss for every size (see kernels/cross_entropy.py)."""
    keep = targets != ignore_index
    if logits.shape[1] == 0:
        row_max[:] = 0.0
        row_sum[:] = 0.0
        return
    row_max[:] = np.where(keep, logits.max(axis=1), 0.0)
    row_sum[:] = np.where(keep, logits.sum(axis=1, dtype=np.float64), 0.0) if with_sum else 0.0
    shifted[...] = logits - row_max[:, None].astype(logits.dtype)
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
