"""Embedding lookup and its gradient, as pure functions (the state lives in nn.Embedding).

Forward is a row gather: out[..., :] = weight[ids[...]]. Backward is the matching scatter-add:
grad_weight[ids[i]] += grad_output[i], summed in flattened index order like torch, so float32
results are bit-identical to torch's dense CPU backward.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from minembed._nontemporal import can_stream_into
from minembed.nn._checks import (
    FLOAT_DTYPES,
    check_float_table,
    check_grad_output,
    check_norm_args,
    flat_int64_ids,
    normalize_padding_idx,
)
from minembed.nn.functional._backends import choose
from minembed.nn.kernels import embedding as kernels
from minembed.nn.kernels import embedding_numpy as twins
from minembed.nn.sparse import SparseRowGradient


def _backend(name: str):
    return choose(kernels, twins, name)


def embedding(
    ids: ArrayLike,
    weight: np.ndarray,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    *,
    backend: str = "numba",
) -> np.ndarray:
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
    normalize_padding_idx(padding_idx, weight.shape[0])
    check_norm_args(max_norm, norm_type)
    flat, shape = flat_int64_ids(ids, weight.shape[0])
    return lookup_rows(flat, weight, max_norm, norm_type, backend=backend).reshape(shape + (weight.shape[1],))


# Outputs at least this large are written with non-temporal stores (see kernels/embedding.py).
_STREAM_FROM_BYTES = 16 << 20


def lookup_rows(
    flat_ids: np.ndarray,
    weight: np.ndarray,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    *,
    backend: str = "numba",
    plus: np.ndarray | None = None,
) -> np.ndarray:
    """embedding() on already validated input: flat_ids (N,) int64 in range -> (N, D).

    plus (P, D), same dtype, N a multiple of P: returns the rows plus plus[i % P] (one pass)."""
    if max_norm is not None:
        renorm_rows_in_place(weight, flat_ids, max_norm, norm_type, backend=backend)
    ops = _ops_for(weight, backend)
    out = np.empty((flat_ids.shape[0], weight.shape[1]), dtype=weight.dtype)
    if plus is None and out.nbytes >= _STREAM_FROM_BYTES and can_stream_into(out):
        ops.gather_rows_streaming(weight, flat_ids, out)  # beyond the caches: no read of the output's lines
    elif plus is None:
        ops.gather_rows(weight, flat_ids, out)
    else:
        ops.gather_rows_plus(weight, flat_ids, np.ascontiguousarray(plus), out)
    return out


def embedding_renorm_(
    weight: np.ndarray, ids: ArrayLike, max_norm: float, norm_type: float = 2.0, *, backend: str = "numba"
) -> np.ndarray:
    """Rescale, in place, the rows of weight referenced by ids whose norm exceeds max_norm."""
    weight = check_float_table(weight)
    check_norm_args(max_norm, norm_type)
    flat, _ = flat_int64_ids(ids, weight.shape[0])
    renorm_rows_in_place(weight, flat, max_norm, norm_type, backend=backend)
    return weight


def renorm_rows_in_place(
    weight: np.ndarray, flat_ids: np.ndarray, max_norm: float, norm_type: float, *, backend: str = "numba"
) -> None:
    """The max_norm step on validated input: each distinct row of flat_ids (N,) int64 whose
    norm_type-norm exceeds max_norm is scaled by max_norm / (norm + 1e-7), in place."""
    if not flat_ids.size:
        return
    if not weight.flags.writeable:
        raise ValueError(
            "weight is read-only, but max_norm renormalises the looked-up rows in place; "
            "pass a writable table (e.g. weight.copy()) or max_norm=None"
        )
    ops = _ops_for(weight, backend)
    unique = ops.unique_in_order(flat_ids, weight.shape[0])
    ops.renorm_rows(weight, unique, float(max_norm), float(norm_type))


def _ops_for(weight, backend):
    # Strided tables go through the NumPy twins, which accept any layout; kernels need C order.
    return _backend(backend) if weight.flags.c_contiguous else twins


def embedding_backward(
    grad_output: ArrayLike,
    ids: ArrayLike,
    num_embeddings: int,
    padding_idx: int | None = None,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
    *,
    out: np.ndarray | None = None,
    backend: str = "numba",
) -> np.ndarray | SparseRowGradient:
    """The gradient of embedding() with respect to weight.

    grad_output: ids.shape + (D,), float32 or float64. Returns a dense (num_embeddings, D)
    array of grad_output's dtype, or with sparse=True a SparseRowGradient (flattened ids in
    order, padding removed, duplicates kept; like torch's, its arrays may share memory with
    ids and grad_output). out: an existing dense gradient to add into.
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
    if out is not None and (out.shape != (num_embeddings, dim) or out.dtype != dtype or not out.flags.c_contiguous):
        raise ValueError(
            f"out must be a C-contiguous {dtype} array of shape {(num_embeddings, dim)}, got {out.dtype} {out.shape}"
        )
    rows = np.ascontiguousarray(grad.reshape(flat.shape[0], dim))
    return backward_from_rows(rows, flat, num_embeddings, pad, scale_grad_by_freq, sparse, out=out, backend=backend)


def backward_from_rows(
    rows: np.ndarray,
    flat_ids: np.ndarray,
    num_embeddings: int,
    padding_idx: int | None,
    scale_grad_by_freq: bool,
    sparse: bool,
    *,
    out: np.ndarray | None = None,
    backend: str = "numba",
) -> np.ndarray | SparseRowGradient:
    """embedding_backward on already validated input: rows (N, D) C-contiguous float,
    flat_ids (N,) int64 in range, padding_idx normalised (or None)."""
    scale = _frequency_scale(flat_ids, num_embeddings, rows.dtype) if scale_grad_by_freq else None
    if sparse:
        indices, values = flat_ids, rows
        if padding_idx is not None:
            keep = flat_ids != padding_idx
            if not keep.all():
                indices, values = flat_ids[keep], rows[keep]
        if scale is not None:
            values = values * scale[indices][:, None]
        return SparseRowGradient(indices, values, (num_embeddings, rows.shape[1]))

    if out is None:
        # np.zeros maps fresh zero pages from the OS: no memset of the whole table up front.
        out = np.zeros((num_embeddings, rows.shape[1]), dtype=rows.dtype)
    ops = _backend(backend)
    pad_id = -1 if padding_idx is None else padding_idx
    if scale is None:
        ops.scatter_add_rows(out, flat_ids, rows, pad_id)
    else:
        ops.scatter_add_rows_scaled(out, flat_ids, rows, pad_id, scale)
    return out


def _frequency_scale(flat_ids, num_embeddings, dtype):
    """1 / count of each row in flat_ids, divided in float64 then cast (torch's rounding)."""
    counts = np.bincount(flat_ids, minlength=num_embeddings).astype(np.float64)
    with np.errstate(divide="ignore"):
        return (1.0 / counts).astype(dtype)
