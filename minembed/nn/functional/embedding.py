"""Embedding lookup and its gradient, as pure functions (the state lives in nn.Embedding).

Forward is a row gather: out[..., :] = weight[ids[...]]. Backward is the matching scatter-add:
grad_weight[ids[i]] += grad_output[i], summed in flattened index order like torch, so float32
results are bit-identical to torch's dense CPU backward.
"""
from __future__ import annotations

import numpy as np

from minembed.kernels import embedding as kernels
from minembed.kernels import embedding_numpy as twins
from minembed.nn._checks import (
    FLOAT_DTYPES,
    check_float_table,
    check_grad_output,
    check_norm_args,
    flat_int64_ids,
    normalize_padding_idx,
)
from minembed.nn.sparse import SparseRowGradient

BACKENDS = {"numba": kernels, "numpy": twins}


def _backend(name: str):
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {name!r}") from None


def embedding(ids, weight, padding_idx=None, max_norm=None, norm_type=2.0, *, backend="numba"):
    """Look up rows of weight: returns ids.shape + (D,) in weight's dtype.

    ids: integer array of any shape, values in [0, V). weight: (V, D) float32 or float64.
    padding_idx only matters for the gradient (the forward returns whatever the row holds).
    max_norm: every row referenced by ids whose norm_type-norm exceeds it is first rescaled
    **in place in weight** to norm max_norm / (1 + 1e-7 / norm) (each row once), as torch does.

    >>> w = np.arange(6, dtype=np.float32).reshape(3, 2)
    >>> embedding(np.array([[2, 0]]), w)
    array([[[4., 5.],
            [0., 1.]]], dtype=float32)
    """
    weight = check_float_table(weight)
    num_embeddings, dim = weight.shape
    normalize_padding_idx(padding_idx, num_embeddings)
    check_norm_args(max_norm, norm_type)
    flat, shape = flat_int64_ids(ids, num_embeddings)
    # Strided tables go through the NumPy twins, which accept any layout; kernels need C order.
    ops = _backend(backend) if weight.flags.c_contiguous else twins
    if max_norm is not None and flat.size:
        ops.renorm_rows(weight, ops.unique_in_order(flat, num_embeddings), float(max_norm), float(norm_type))
    out = np.empty((flat.shape[0], dim), dtype=weight.dtype)
    ops.gather_rows(weight, flat, out)
    return out.reshape(shape + (dim,))


def embedding_renorm_(weight, ids, max_norm, norm_type=2.0, *, backend="numba"):
    """Rescale, in place, the rows of weight referenced by ids whose norm exceeds max_norm."""
    weight = check_float_table(weight)
    check_norm_args(max_norm, norm_type)
    flat, _ = flat_int64_ids(ids, weight.shape[0])
    ops = _backend(backend) if weight.flags.c_contiguous else twins
    if flat.size:
        ops.renorm_rows(weight, ops.unique_in_order(flat, weight.shape[0]), float(max_norm), float(norm_type))
    return weight


def embedding_backward(
    grad_output,
    ids,
    num_embeddings,
    padding_idx=None,
    scale_grad_by_freq=False,
    sparse=False,
    *,
    out=None,
    backend="numba",
):
    """The gradient of embedding() with respect to weight.

    grad_output: ids.shape + (D,), float32 or float64. Returns a dense (num_embeddings, D)
    array of grad_output's dtype, or with sparse=True a SparseRowGradient (flattened ids in
    order, padding removed, duplicates kept). out: an existing dense gradient to add into.
    Rows equal to padding_idx get no gradient. scale_grad_by_freq divides each id's gradient by
    how often it occurs in ids. (torch raises for sparse + scale_grad_by_freq; here the sparse
    values are scaled the same way as the dense ones.)
    """
    flat, shape = flat_int64_ids(ids, num_embeddings)
    grad = np.asarray(grad_output)
    if grad.ndim != len(shape) + 1:
        raise ValueError(f"grad_output has shape {grad.shape} but ids have shape {shape}; expected ids.shape + (D,)")
    dim = grad.shape[-1]
    dtype = grad.dtype if grad.dtype in FLOAT_DTYPES else np.dtype(np.float32)
    grad = check_grad_output(grad, shape + (dim,), dtype)
    pad = normalize_padding_idx(padding_idx, num_embeddings)
    rows = np.ascontiguousarray(grad.reshape(flat.shape[0], dim))
    scale = _frequency_scale(flat, num_embeddings, dtype) if scale_grad_by_freq else None

    if sparse:
        keep = flat != pad if pad is not None else np.ones(flat.shape, dtype=bool)
        indices, values = flat[keep], rows[keep]
        if scale is not None:
            values = values * scale[indices][:, None]
        return SparseRowGradient(indices, values, (num_embeddings, dim))

    if out is None:
        # np.zeros takes fresh zero pages from the OS, so untouched rows cost nothing.
        out = np.zeros((num_embeddings, dim), dtype=dtype)
    elif out.shape != (num_embeddings, dim) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous {dtype} array of shape {(num_embeddings, dim)}, "
            f"got {out.dtype} {out.shape}"
        )
    ops = _backend(backend)
    pad_id = -1 if pad is None else pad
    if scale is None:
        ops.scatter_add_rows(out, flat, rows, pad_id)
    else:
        ops.scatter_add_rows_scaled(out, flat, rows, pad_id, scale)
    return out


def _frequency_scale(flat_ids, num_embeddings, dtype):
    """1 / count of each row in flat_ids, divided in float64 then cast (torch's rounding)."""
    counts = np.bincount(flat_ids, minlength=num_embeddings).astype(np.float64)
    with np.errstate(divide="ignore"):
        return (1.0 / counts).astype(dtype)
