"""NumPy twin of kernels/cross_entropy.py: softmax cross-entropy and its gradient, row by row."""

from __future__ import annotations

import numpy as np


def cross_entropy_rows(logits, targets, ignore_index, smoothing, grad_scale, row_loss, grad):
    """Per-row loss into row_loss (N,) float64 and, if grad has rows, d(mean loss)/d(logits) into grad.

    logits (N, C) float32/float64, targets (N,) int64; rows whose target is ignore_index get loss 0
    and a zero gradient. loss = (1 - smoothing) * (lse - x[t]) + smoothing / C * (C * lse - sum(x)),
    lse = log(sum(exp(x))), computed from the row maximum; gradient rows are
    grad_scale * (softmax(x) - smoothing / C - (1 - smoothing) * onehot(t)).
    """
    n, classes = logits.shape
    keep = targets != ignore_index
    wide = logits.astype(np.float64)
    row_max = wide.max(axis=1, keepdims=True) if classes else np.zeros((n, 1))
    shifted = wide - row_max
    lse = np.log(np.exp(shifted).sum(axis=1)) + row_max[:, 0]  # (N,)
    safe_targets = np.where(keep, targets, 0)
    picked = wide[np.arange(n), safe_targets]
    nll = lse - picked
    smooth = classes * lse - wide.sum(axis=1)
    row_loss[:] = np.where(keep, (1.0 - smoothing) * nll + smoothing / classes * smooth, 0.0)
    if grad.shape[0]:
        probs = np.exp(shifted - (lse - row_max[:, 0])[:, None])
        probs -= smoothing / classes
        probs[np.arange(n), safe_targets] -= 1.0 - smoothing
        probs *= grad_scale
        probs[~keep] = 0.0
        grad[...] = probs
