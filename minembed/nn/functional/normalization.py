"""layer_norm and its gradient over the trailing axes, as torch.nn.functional.layer_norm."""

from __future__ import annotations

import numpy as np


def _check(x, normalized_shape, weight, bias):
    x = np.asarray(x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.ndim < len(normalized_shape) or x.shape[x.ndim - len(normalized_shape) :] != normalized_shape:
        raise ValueError(f"x has shape {x.shape} but layer_norm normalizes over trailing axes {normalized_shape}")
    for name, array in (("weight", weight), ("bias", bias)):
        if array is not None and np.shape(array) != normalized_shape:
            raise ValueError(f"{name} must have shape {normalized_shape}, got {np.shape(array)}")
    return x, normalized_shape


def layer_norm_stats(x, normalized_shape, eps: float = 1e-5):
    """(x_hat, rstd): x normalized over the trailing axes, and 1 / sqrt(var + eps) (biased variance)."""
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + x.dtype.type(eps))
    return centered * rstd, rstd


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing axes normalized_shape.

    >>> layer_norm(np.array([[1.0, 3.0]]), 2).round(4)
    array([[-1.,  1.]])
    """
    x, normalized_shape = _check(x, normalized_shape, weight, bias)
    out, _ = layer_norm_stats(x, normalized_shape, eps)
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    return out


def layer_norm_backward(grad_output, x_hat, rstd, normalized_ndim: int, weight=None, with_bias: bool = True):
    """(grad_input, grad_weight or None, grad_bias or None) of layer_norm, from its x_hat and rstd.

    normalized_ndim: how many trailing axes were normalized. With g' = grad_output * weight and
    means over those axes: grad_input = rstd * (g' - mean(g') - x_hat * mean(g' * x_hat));
    grad_weight = sum(grad_output * x_hat) and grad_bias = sum(grad_output) over the leading axes.
    """
    grad_output = np.asarray(grad_output, dtype=x_hat.dtype)
    if grad_output.shape != x_hat.shape:
        raise ValueError(f"grad_output has shape {grad_output.shape} but the forward output had shape {x_hat.shape}")
    trailing = tuple(range(x_hat.ndim - normalized_ndim, x_hat.ndim))
    leading = tuple(range(x_hat.ndim - normalized_ndim))
    scaled = grad_output * weight if weight is not None else grad_output
    mean_scaled = scaled.mean(axis=trailing, keepdims=True)
    mean_scaled_xhat = (scaled * x_hat).mean(axis=trailing, keepdims=True)
    grad_input = rstd * (scaled - mean_scaled - x_hat * mean_scaled_xhat)
    grad_weight = (grad_output * x_hat).sum(axis=leading) if weight is not None else None
    grad_bias = grad_output.sum(axis=leading) if with_bias else None
    return grad_input, grad_weight, grad_bias
