"""Numba kernels of LayerNorm over the last axis, forward and input gradient (twins: layer_norm_numpy.py).

Shapes: x, x_hat, grad, grad_input (N, D) C-contiguous float; rstd (N,) float; weight (D,).
Each row is one task (prange): its mean and biased variance are accumulated in float64, then
x_hat = (x - mean) * rstd with rstd = 1 / sqrt(var + eps). The backward uses the saved x_hat and
rstd: with g' = grad * weight, grad_input = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat)).
NumPy made about eight whole-array passes for the forward and ten for the backward, on one
thread (TinyLM's 2048 x 128: 3.0 ms against torch's 0.84 ms on one thread); here each row is
read once or twice while it sits in cache. The twins accumulate in the input's dtype, so the two
agree to float32 rounding, not bit for bit; both are held to torch (tests/test_loss_norm.py).
fastmath={"reassoc"} only: it lets LLVM split each row's float64 sums into vector lanes. Summed one
element after another, every addition waited for the one before: TinyLM's step spent 0.9 ms in the
forward and 1.0 ms in the backward on one thread.
"""

from __future__ import annotations

import math

from numba import njit, prange


@njit(cache=True, parallel=True, fastmath={"reassoc"})
def normalize_rows(x, eps, x_hat, rstd):
    """x_hat[i] = (x[i] - mean) * rstd[i], rstd[i] = 1 / sqrt(biased var of x[i] + eps)."""
    n, d = x.shape
    for i in prange(n):
        total = 0.0
        for j in range(d):
            total += x[i, j]
        mean = total / d
        squares = 0.0
        for j in range(d):
            centered = x[i, j] - mean
            squares += centered * centered
        inverse = 1.0 / math.sqrt(squares / d + eps)
        rstd[i] = inverse
        for j in range(d):
            x_hat[i, j] = (x[i, j] - mean) * inverse


@njit(cache=True, parallel=True, fastmath={"reassoc"})
def normalize_rows_backward(grad, x_hat, rstd, weight, grad_input):
    """grad_input[i] = rstd[i] * (g' - mean(g') - x_hat[i] * mean(g' * x_hat[i])), g' = grad[i] * weight."""
    n, d = grad.shape
    for i in prange(n):
        total = 0.0
        total_xhat = 0.0
        for j in range(d):
            scaled = grad[i, j] * weight[j]
            total += scaled
            total_xhat += scaled * x_hat[i, j]
        mean_scaled = total / d
        mean_scaled_xhat = total_xhat / d
        for j in range(d):
            scaled = grad[i, j] * weight[j]
            grad_input[i, j] = rstd[i] * (scaled - mean_scaled - x_hat[i, j] * mean_scaled_xhat)
