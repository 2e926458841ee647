"""NumPy twins of the Adam kernels (kernels/adam.py), and torch's fused multiply-add in NumPy.

torch's CPU kernels (vectorised, compiled with FMA) round `a * b + c` once in add(alpha=),
lerp, addcmul and SGD's updates; NumPy has no fma, so `fma32` computes it exactly
(`minembed._fma_numpy`: the float32 product is exact in float64, and the float64 sum is rounded
to odd before the rounding to float32, which rules out a double rounding).
All arrays are float32 (float64 arrays work too: then fma32 is a plain multiply-add).
"""

from __future__ import annotations

import numpy as np

from minembed._fma_numpy import fma32 as exact_fma32


def fma32(a, b, c) -> np.ndarray:
    """a * b + c with a single rounding to float32 (broadcasting; float64 input: a plain multiply-add)."""
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    if np.result_type(a, b, c) != np.float32:
        return a * b + c  # float64: no wider type to round through; documented as not fused
    return exact_fma32(a, b, c)


def lerp32(start, end, weight):
    """torch's lerp on CPU: start + w * (end - start) if w < 0.5 else end - (1 - w) * (end - start), fused."""
    weight = start.dtype.type(weight)
    diff = end - start
    if abs(weight) < 0.5:
        return fma32(weight, diff, start)
    return fma32(weight - start.dtype.type(1), diff, end)


def adam_moments(
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
    """Update param (decoupled decay), exp_avg, exp_avg_sq and max_exp_avg_sq in place, in torch's order.

    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq: same shape, float32 or float64 (max_exp_avg_sq
    is only touched when amsgrad). decay: AdamW's factor 1 - lr * weight_decay (1 for none);
    coupled_decay: Adam's weight_decay (0 for none). Scalars already in the arrays' dtype.
    """
    if maximize:
        grad = -grad
    if decay != 1:
        np.multiply(param, decay, out=param)
    if coupled_decay != 0:
        grad = fma32(coupled_decay, param, grad)  # grad.add(param, alpha=weight_decay)
    exp_avg[...] = lerp32(exp_avg, grad, lerp_weight)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    exp_avg_sq[...] = fma32(one_minus_beta2 * grad, grad, exp_avg_sq)  # addcmul_(grad, grad, value=1-beta2)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)


def adam_update(param, exp_avg, root, bias_correction2_sqrt, eps, neg_step_size):
    """param += (neg_step_size * exp_avg) / (root / bias_correction2_sqrt + eps), in place (addcdiv_)."""
    denom = root / bias_correction2_sqrt + eps
    param += (neg_step_size * exp_avg) / denom


def adam_step(
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
    """adam_moments, then adam_update with root = np.sqrt of the (max) second moment: one whole Adam step."""
    adam_moments(
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
    )
    root = np.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq)
    adam_update(param, exp_avg, root, bias_correction2_sqrt, eps, neg_step_size)
