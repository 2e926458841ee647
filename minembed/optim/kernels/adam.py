"""Numba kernels of the Adam step, element by element in torch's order (twins: adam_numpy.py).

The kernels are serial and release the GIL: adam.py gives large parameters' halves to two
threads (minembed._threads.in_two), not to Numba's OpenMP pool, whose workers spin for
milliseconds after each parallel region. In a training step the optimizer is followed by the
next forward, whose work on minembed's helper thread then waited for that spinning: TinyLM's
head started 3 ms late on the helper (of a 40 ms step). Every element is independent, so the
split changes no bit.
`adam_step` makes one pass over the parameter, where torch's single-tensor Adam makes about
eight; its square root is the correctly rounded one of np.sqrt. `adam_moments` and `adam_update`
split that pass in two around a square root taken outside (the hook the tests use to swap in
torch's own square root). `fastmath` is off and every fused multiply-add torch does is LLVM's
exact `llvm.fma` (`minembed._fma`): results are compared bit for bit with torch and with the twins.
error_model="numpy": a division by zero gives inf or nan, as in torch, instead of Numba's default
ZeroDivisionError check, a branch per element that kept LLVM from vectorising the loop (TinyLM's
540k float32 parameters took 1.8 ms a step with the check, 0.44 ms without, on one thread).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed._fma import fma as fma32


@njit(cache=True, inline="always")
def _moments_at(g, p, m, v, decay, coupled_decay, lerp_weight, beta2, one_minus_beta2, maximize):
    """Adam's decay, lerp and addcmul for one element: (param, exp_avg, exp_avg_sq) after the step.

    Scalars in and out: arrays passed to an inlined helper would be reference-counted per element."""
    one = np.float32(1.0)
    if maximize:
        g = -g
    if decay != one:
        p = p * decay
    if coupled_decay != 0:
        g = fma32(coupled_decay, p, g)
    if abs(lerp_weight) < 0.5:
        m = fma32(lerp_weight, g - m, m)
    else:
        m = fma32(lerp_weight - one, g - m, g)
    v = fma32(one_minus_beta2 * g, g, v * beta2)
    return p, m, v


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
    for i in range(param.shape[0]):
        p, m, v = _moments_at(
            grad[i], param[i], exp_avg[i], exp_avg_sq[i], decay, coupled_decay, lerp_weight, beta2,
            one_minus_beta2, maximize,
        )  # fmt: skip
        param[i], exp_avg[i], exp_avg_sq[i] = p, m, v
        if amsgrad and v > max_exp_avg_sq[i]:
            max_exp_avg_sq[i] = v


def _adam_update(param, exp_avg, root, bias_correction2_sqrt, eps, neg_step_size):
    """Same contract as adam_numpy.adam_update, for flat float32 arrays."""
    for i in range(param.shape[0]):
        denom = root[i] / bias_correction2_sqrt + eps
        param[i] = param[i] + (neg_step_size * exp_avg[i]) / denom


def _adam_step(
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
    bias_correction2_sqrt,
    eps,
    neg_step_size,
):
    """adam_moments, np.sqrt and adam_update in one pass (same contract as adam_numpy.adam_step)."""
    for i in range(param.shape[0]):
        p, m, v = _moments_at(
            grad[i], param[i], exp_avg[i], exp_avg_sq[i], decay, coupled_decay, lerp_weight, beta2,
            one_minus_beta2, maximize,
        )  # fmt: skip
        exp_avg[i], exp_avg_sq[i] = m, v
        if amsgrad and v > max_exp_avg_sq[i]:
            max_exp_avg_sq[i] = v
        root = np.sqrt(max_exp_avg_sq[i] if amsgrad else v)  # correctly rounded, as np.sqrt
        denom = root / bias_correction2_sqrt + eps
        param[i] = p + (neg_step_size * m) / denom


adam_moments = njit(cache=True, nogil=True, error_model="numpy")(_adam_moments)
adam_update = njit(cache=True, nogil=True, error_model="numpy")(_adam_update)
adam_step = njit(cache=True, nogil=True, error_model="numpy")(_adam_step)
