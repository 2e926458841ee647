"""one_hot and the affine map linear, with its gradient.

An embedding lookup is a one-hot row times the table: embedding(ids, W) == one_hot(ids, V) @ W.
The lookup is the fast way to compute it; one_hot and linear are the slow way that explains it
(see minembed.demos.one_hot_linear). Both run on NumPy's matmul (BLAS), which is already the hot
path, so there is no Numba kernel here.
"""

from __future__ import annotations

import numbers

import numpy as np

from minembed.nn._checks import FLOAT_DTYPES, as_index_array


def one_hot(ids, num_classes: int = -1) -> np.ndarray:
    """ids (any shape, integer) -> ids.shape + (num_classes,) int64 with a 1 at each id, as torch.

    num_classes=-1 means max(ids) + 1. Negative ids, ids >= num_classes and an empty ids
    without num_classes raise ValueError.

    >>> one_hot(np.array([2, 0]), 3)
    array([[0, 0, 1],
           [1, 0, 0]])
    """
    ids = as_index_array(ids, "ids")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < -1:
        raise ValueError(f"num_classes must be a non-negative int, or -1 for max(ids) + 1; got {num_classes!r}")
    num_classes = int(num_classes)
    if ids.size and ids.min() < 0:
        raise ValueError(f"ids must be non-negative class indices, got {int(ids.min())}")
    if num_classes == -1:
        if ids.size == 0:
            raise ValueError("cannot infer num_classes from an empty ids; pass num_classes explicitly")
        num_classes = int(ids.max()) + 1
    elif ids.size and ids.max() >= num_classes:
        raise ValueError(
            f"ids must be smaller than num_classes={num_classes}, got {int(ids.max())}; "
            f"pass num_classes={int(ids.max()) + 1} or more"
        )
    out = np.zeros(ids.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, ids[..., None].astype(np.intp), 1, axis=-1)
    return out


def _check_linear(x, weight, bias):
    x, weight = np.asarray(x), np.asarray(weight)
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if weight.dtype not in FLOAT_DTYPES or x.dtype != weight.dtype:
        raise TypeError(
            f"x and weight must share a float32 or float64 dtype, got {x.dtype} and {weight.dtype}; "
            f"convert x with x.astype(weight.dtype)"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"x has shape {x.shape} but weight {weight.shape} needs x.shape[-1] == in_features == {weight.shape[1]}"
        )
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (weight.shape[0],) or bias.dtype != weight.dtype:
            raise ValueError(f"bias must be ({weight.shape[0]},) {weight.dtype}, got {bias.dtype} {bias.shape}")
    return x, weight, bias


def linear(x, weight, bias=None) -> np.ndarray:
    """y = x @ weight.T + bias. x (..., in), weight (out, in), bias (out,) or None -> (..., out).

    >>> linear(np.ones((2, 3)), np.arange(6.0).reshape(2, 3), np.array([0.5, -0.5]))
    array([[ 3.5, 11.5],
           [ 3.5, 11.5]])
    """
    x, weight, bias = _check_linear(x, weight, bias)
    y = x @ weight.T
    if bias is not None:
        y += bias
    return y


def linear_backward(grad_output, x, weight, bias=None):
    """Gradients of linear: returns (grad_input (..., in), grad_weight (out, in), grad_bias (out,) or None).

    grad_output (..., out) is d(loss)/dy; x, weight and bias are the forward's arguments
    (bias only tells whether a bias gradient is wanted).
    """
    x, weight, bias = _check_linear(x, weight, bias)
    grad = np.asarray(grad_output)
    expected = x.shape[:-1] + (weight.shape[0],)
    if grad.shape != expected:
        raise ValueError(f"grad_output has shape {grad.shape} but the forward output had shape {expected}")
    grad = grad.astype(weight.dtype, copy=False)
    grad_2d = grad.reshape(-1, weight.shape[0])  # (N, out)
    grad_input = grad @ weight  # (..., in)
    grad_weight = grad_2d.T @ x.reshape(-1, weight.shape[1])  # (out, in)
    grad_bias = grad_2d.sum(axis=0) if bias is not None else None
    return grad_input, grad_weight, grad_bias
