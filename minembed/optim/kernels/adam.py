"""Numba kernels of the Adam step, element by element in torch's order (twins: adam_numpy.py).

Each kernel comes twice: threaded (`prange`) for large parameters, serial for small ones, where
starting the threads costs more than the work (ms on a busy machine for a few thousand values).
One pass for the moments and one for the update, where torch makes about eight passes over the
parameter; the square root between them is NumPy's (the hook the tests use to compare with
torch's own square root). `fastmath` is off and every fused multiply-add torch does is done by
`fma32`, exactly: results are compared bit for bit with torch and with the twins.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def fma32(a, b, c):
    """a * b + c rounded once to float32 (see adam_numpy.fma32 for why this is exact)."""
    product = np.float64(a) * np.float64(b)
    wide_c = np.float64(c)
    total = product + wide_c
    rounded = np.float32(total)
    back = np.float64(rounded)
    if back != total:
        virtual = total - product
        error = (product - (total - virtual)) + (wide_c - virtual)
        if error != 0.0:
            other = 2.0 * total - back
            if np.float64(np.float32(other)) == other and (error > 0.0) == (other > total):
                rounded = np.float32(other)
    return rounded


def _adam_moments(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    decay,
    coupled_decay,
    lerp_weight,
    beta2,
    one_minus_beta2,
    maximize,
    amsgrad,
):
    """Same contract as adam_numpy.adam_moments, for flat float32 arrays."""
    one = np.float32(1.0)
    small_weight = abs(lerp_weight) < 0.5
    for i in prange(param.shape[0]):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if decay != one:
            p = p * decay
            param[i] = p
        if coupled_decay != 0:
            g = fma32(coupled_decay, p, g)
        m = exp_avg[i]
        if small_weight:
            m = fma32(lerp_weight, g - m, m)
        else:
            m = fma32(lerp_weight - one, g - m, g)
        exp_avg[i] = m
        v = fma32(one_minus_beta2 * g, g, exp_avg_sq[i] * beta2)
        exp_avg_sq[i] = v
        if amsgrad and v > max_exp_avg_sq[i]:
            max_exp_avg_sq[i] = v


def _adam_update(param, exp_avg, root, bias_correction2_sqrt, eps, neg_step_size):
    """Same contract as adam_numpy.adam_update, for flat float32 arrays."""
    for i in prange(param.shape[0]):
        denom = root[i] / bias_correction2_sqrt + eps
        param[i] = param[i] + (neg_step_size * exp_avg[i]) / denom


SERIAL_BELOW = 1 << 16  # parameters with fewer values than this run on one thread

adam_moments = njit(cache=True, parallel=True)(_adam_moments)
adam_moments_serial = njit(cache=True)(_adam_moments)
adam_update = njit(cache=True, parallel=True)(_adam_update)
adam_update_serial = njit(cache=True)(_adam_update)
