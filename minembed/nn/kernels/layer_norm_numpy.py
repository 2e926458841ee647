"""NumPy twins of the LayerNorm kernels (kernels/layer_norm.py): the same formulas, whole arrays at once."""

from __future__ import annotations

import numpy as np


def normalize_rows(x, eps, x_hat, rstd):
    """x_hat[i] = (x[i] - mean) * rstd[i], rstd[i] = 1 / sqrt(biased var of x[i] + eps); x (N, D)."""
    mean = x.mean(axis=1, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=1)
    rstd[:] = 1.0 / np.sqrt(var + x.dtype.type(eps))
    x_hat[...] = centered * rstd[:, None]


def normalize_rows_backward(grad, x_hat, rstd, weight, grad_input):
    """grad_input[i] = rstd[i] * (g' - mean(g') - x_hat[i] * mean(g' * x_hat[i])), g' = grad[i] * weight."""
    scaled = grad * weight
    mean_scaled = scaled.mean(axis=1, keepdims=True)
    mean_scaled_xhat = (scaled * x_hat).mean(axis=1, keepdims=True)
    grad_input[...] = rstd[:, None] * (scaled - mean_scaled - x_hat * mean_scaled_xhat)
