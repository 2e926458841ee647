"""NumPy twin of the SparseAdam kernel (kernels/sparse_adam.py), with a swappable square root."""

from __future__ import annotations

import numpy as np

from minembed.nn.sparse import SparseRowGradient


def coalesce_rows(indices, values, num_rows, negate):
    """(rows (K,) int64, sums (K, D)): values (negated if negate) summed per row in order of appearance.

    The rows come sorted here and in first-seen order in the kernel; the sums are the same."""
    coalesced = SparseRowGradient(indices, -values if negate else values, (num_rows, values.shape[1])).coalesce()
    return coalesced.indices, coalesced.values


def update_rows(param, exp_avg, exp_avg_sq, rows, grads, one_minus_beta1, one_minus_beta2, eps, neg_step_size,
                sqrt=np.sqrt):  # fmt: skip
    """SparseAdam's update of param, exp_avg, exp_avg_sq (V, D) on distinct rows (K,), grads (K, D), in place.

    In torch's float32 order: dm = (g - m) * (1 - beta1); m += dm; dv = (g*g - v) * (1 - beta2); v += dv;
    param += neg_step_size * ((dm + old m) / (sqrt(dv + old v) + eps)).
    """
    old_m = exp_avg[rows]
    dm = (grads - old_m) * one_minus_beta1
    exp_avg[rows] = old_m + dm
    old_v = exp_avg_sq[rows]
    dv = (grads * grads - old_v) * one_minus_beta2
    exp_avg_sq[rows] = old_v + dv
    denom = sqrt(dv + old_v) + eps
    param[rows] += neg_step_size * ((dm + old_m) / denom)
