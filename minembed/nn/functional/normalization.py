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
    """(x_hat, rstd): x normalized over the trailing axes, and 1 / sqrt(var + eps) (biased variance).

    rstd keeps the normalized axes with size 1, so that it broadcasts against x."""
    if x.dtype.kind != "f":
        x = x.astype(np.float64)  # as NumPy's mean would
    rows, width = _as_rows(x, normalized_shape)
    x_hat = np.empty_like(rows)
    rstd = np.empty(rows.shape[0], dtype=rows.dtype)
    _ops(rows).normalize_rows(rows, float(eps), x_hat, rstd)
    lead = x.shape[: x.ndim - len(normalized_shape)]
    return x_hat.reshape(x.shape), rstd.reshape(lead + (1,) * len(normalized_shape))


def _as_rows(x, normalized_shape) -> tuple[np.ndarray, int]:
    """x as a C-contiguous (N, D) array, D the product of the normalized axes."""
    width = int(np.prod(normalized_shape, dtype=np.int64))
    return np.ascontiguousarray(x).reshape(-1, width), width


def _ops(rows: np.ndarray):
    """The Numba kernels for float arrays big enough to pay for the threads; the NumPy twins otherwise."""
    if rows.dtype in (np.float32, np.float64) and rows.size >= _KERNELS_FROM and rows.shape[1] > 0:
        from minembed.nn.kernels import layer_norm

        return layer_norm
    from minembed.nn.kernels import layer_norm_numpy

    return layer_norm_numpy


_KERNELS_FROM = 1 << 14  # values


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
    leading = tuple(range(x_hat.ndim - normalized_ndim))
    normalized_shape = x_hat.shape[x_hat.ndim - normalized_ndim :]
    rows, width = _as_rows(grad_output, normalized_shape)
    hat_rows, _ = _as_rows(x_hat, normalized_shape)
    scale = np.ones(width, dtype=x_hat.dtype) if weight is None else np.asarray(weight, x_hat.dtype).reshape(-1)
    grad_rows = np.empty_like(hat_rows)
    _ops(rows).normalize_rows_backward(rows, hat_rows, np.ascontiguousarray(rstd).reshape(-1), scale, grad_rows)
    grad_input = grad_rows.reshape(x_hat.shape)
    grad_weight = (grad_output * x_hat).sum(axis=leading) if weight is not None else None
    grad_bias = grad_output.sum(axis=leading) if with_bias else None
    return grad_input, grad_weight, grad_bias
