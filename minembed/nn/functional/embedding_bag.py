"""EmbeddingBag: pooled lookups (sum, mean or max of each bag of rows) and their gradients.

A bag is a run of ids: either each row of a 2-D input (B, L), or the slices of a 1-D input
that offsets start, as in torch.nn.functional.embedding_bag. The forward pools the rows of
each bag into one vector; the backward scatters the output gradient back to those rows.
"""

from __future__ import annotations

import numpy as np

from minembed.nn._checks import (
    as_index_array,
    check_float_table,
    check_grad_output,
    check_index_range,
    check_norm_args,
    normalize_padding_idx,
)
from minembed.nn.functional._backends import choose
from minembed.nn.functional.embedding import renorm_rows_in_place
from minembed.nn.kernels import embedding_bag as kernels
from minembed.nn.kernels import embedding_bag_numpy as twins
from minembed.nn.sparse import SparseRowGradient

MODES = {"sum": kernels.MODE_SUM, "mean": kernels.MODE_MEAN, "max": kernels.MODE_MAX}


def _backend(name: str):
    return choose(kernels, twins, name)


def _check_mode(mode) -> int:
    if mode not in MODES:
        raise ValueError(f"mode must be one of 'sum', 'mean' or 'max', got {mode!r}")
    return MODES[mode]


def _check_mode_options(mode: str, sparse: bool, scale_grad_by_freq: bool, per_sample_weights) -> None:
    """torch's rules on which options go with which mode."""
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"per_sample_weights is only supported for mode='sum' (got mode={mode!r}); "
            "pass mode='sum', or weight the rows yourself"
        )
    if mode == "max" and sparse:
        raise ValueError("mode='max' does not support sparse=True gradients; use mode='sum' or 'mean', or sparse=False")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(
            "mode='max' does not support scale_grad_by_freq=True (the gradient is not a sum over entries); "
            "use mode='sum' or 'mean', or scale_grad_by_freq=False"
        )


def bag_bounds(input, offsets=None, include_last_offset=False, num_embeddings=None):
    """Validate a bag layout and return (flat int64 ids (N,), bounds (B + 1,) int64, input shape).

    Bag b is ids[bounds[b]:bounds[b + 1]]. 2-D input (B, L): every row is a bag (offsets must be
    None; include_last_offset is ignored, as in torch). 1-D input: offsets (B,) start the bags and
    the last bag runs to the end; with include_last_offset=True, offsets (B + 1,) also end the last
    bag and ids after offsets[-1] belong to no bag. Every id is range-checked, also those.

    >>> bag_bounds(np.array([4, 1, 1, 0, 2]), np.array([0, 2, 2]))[1]
    array([0, 2, 2, 5])
    """
    ids = as_index_array(input, "input")
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "offsets must be None when input is 2-D: each row of a (B, L) input is one bag. "
                f"Got offsets of type {type(offsets).__name__}; flatten input to 1-D to use offsets"
            )
        batch, length = ids.shape
        bounds = np.arange(batch + 1, dtype=np.int64) * length
    elif ids.ndim == 1:
        if offsets is None:
            raise ValueError(
                "a 1-D input needs offsets, the start of each bag (e.g. offsets=np.array([0])"
                " for one bag); or pass a 2-D (B, L) input of fixed-size bags"
            )
        starts = as_index_array(offsets, "offsets")
        if starts.ndim != 1:
            raise ValueError(f"offsets must be 1-D, got shape {starts.shape}")
        starts = starts.astype(np.int64)
        n = ids.shape[0]
        if include_last_offset and starts.shape[0] == 0:
            raise ValueError(
                "with include_last_offset=True, offsets needs at least one value (the end of the last bag)"
            )
        if starts.shape[0] and starts[0] != 0:
            raise ValueError(f"offsets[0] must be 0 (the first bag starts at the first id), got {int(starts[0])}")
        if starts.shape[0] and (np.diff(starts) < 0).any():
            where = int(np.argmax(np.diff(starts) < 0))
            raise ValueError(
                f"offsets must be non-decreasing, but offsets[{where}]={int(starts[where])} > "
                f"offsets[{where + 1}]={int(starts[where + 1])}"
            )
        if starts.shape[0] and starts[-1] > n:
            raise ValueError(f"offsets[-1]={int(starts[-1])} is beyond the end of input, which has {n} ids")
        bounds = starts if include_last_offset else np.append(starts, np.int64(n))
    else:
        raise ValueError(f"input must be 1-D (with offsets) or 2-D (B, L), got {ids.ndim}-D with shape {ids.shape}")
    flat = np.ascontiguousarray(ids.reshape(-1), dtype=np.int64)
    if num_embeddings is not None:
        check_index_range(flat, num_embeddings, "input")
    return flat, np.ascontiguousarray(bounds, dtype=np.int64), ids.shape


def _flat_per_sample_weights(per_sample_weights, input_shape, dtype):
    if per_sample_weights is None:
        return np.empty(0, dtype=dtype)
    psw = np.asarray(per_sample_weights)
    if psw.shape != tuple(input_shape):
        raise ValueError(
            f"per_sample_weights has shape {psw.shape} but input has shape {tuple(input_shape)}; "
            "give one weight per id, in the same layout as input"
        )
    if psw.dtype != dtype:
        raise TypeError(
            f"per_sample_weights must have the weight's dtype {dtype}, got {psw.dtype}; "
            f"convert it with per_sample_weights.astype(np.{dtype})"
        )
    return np.ascontiguousarray(psw.reshape(-1))


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
    *,
    return_max_indices=False,
    backend="numba",
):
    """Sum, mean or max of each bag of rows of weight: returns (B, D) in weight's dtype.

    input: 2-D (B, L) integer ids (one bag per row), or 1-D ids with offsets (see bag_bounds).
    weight: (V, D) float32 or float64. per_sample_weights (input's shape, weight's dtype) scales
    each row before summing (mode='sum' only). Entries equal to padding_idx are skipped and not
    counted by the mean; empty bags give zeros. max keeps the first maximum per column.
    max_norm renormalises, in place, every row the input references (as F.embedding does).
    scale_grad_by_freq and sparse only matter for the backward; they are checked here as torch does.
    return_max_indices=True also returns max_indices (B, D) int64 (mode='max'): the entry of
    input (flattened) that gave each maximum, -1 for empty bags; pass it to embedding_bag_backward.

    >>> w = np.arange(8, dtype=np.float32).reshape(4, 2)
    >>> embedding_bag(np.array([1, 3, 0, 2]), w, np.array([0, 2, 2]), mode="sum")
    array([[ 8., 10.],
           [ 0.,  0.],
           [ 4.,  6.]], dtype=float32)
    """
    weight = check_float_table(weight)
    num_embeddings, dim = weight.shape
    mode_code = _check_mode(mode)
    _check_mode_options(mode, sparse, scale_grad_by_freq, per_sample_weights)
    pad = normalize_padding_idx(padding_idx, num_embeddings)
    check_norm_args(max_norm, norm_type)
    flat, bounds, shape = bag_bounds(input, offsets, include_last_offset, num_embeddings)
    psw = _flat_per_sample_weights(per_sample_weights, shape, weight.dtype)
    # The kernels need C order; the twins take any layout.
    ops = _backend(backend) if weight.flags.c_contiguous else twins
    if max_norm is not None:
        renorm_rows_in_place(weight, flat, max_norm, norm_type, backend=backend)

    num_bags = bounds.shape[0] - 1
    out = np.empty((num_bags, dim), dtype=weight.dtype)
    bag_sizes = np.empty(num_bags, dtype=np.int64)
    max_indices = np.empty((num_bags, dim) if mode_code == kernels.MODE_MAX else (0, 0), dtype=np.int64)
    ops.bag_forward(weight, flat, bounds, psw, mode_code, -1 if pad is None else pad, out, bag_sizes, max_indices)
    if return_max_indices:
        return out, max_indices if mode_code == kernels.MODE_MAX else None
    return out


def embedding_bag_backward(
    grad_output,
    input,
    weight,
    offsets=None,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
    *,
    max_indices=None,
    out=None,
    accumulate=True,
    backend="numba",
):
    """Gradients of embedding_bag: returns (grad_weight, grad_per_sample_weights).

    grad_output: (B, D), the gradient of the loss with respect to embedding_bag's output.
    The arguments after it are the ones the forward received. weight is read only for the
    per_sample_weights gradient and, in max mode without max_indices, to find the maxima again.
    grad_weight: dense (V, D) in weight's dtype, or with sparse=True a
    SparseRowGradient of the entries in bags, in input order, padding removed.
    grad_per_sample_weights: input's shape, or None when per_sample_weights is None.
    Each entry's row receives scale * grad_output[its bag]; scale is 1/bag size for mean,
    its per-sample weight for sum, times 1/(the id's count in the whole input) with
    scale_grad_by_freq. Max mode routes each column to the first maximum of its bag.
    (torch raises for sparse + scale_grad_by_freq; here the sparse values are scaled the same
    way as the dense ones, as in minembed's embedding_backward.)
    out: a C-contiguous dense (V, D) array to add the gradient into (accumulate=True) or to
    overwrite (accumulate=False, which reuses its memory: no page faults for a fresh table).
    """
    weight = check_float_table(weight)
    num_embeddings, dim = weight.shape
    mode_code = _check_mode(mode)
    _check_mode_options(mode, sparse, scale_grad_by_freq, per_sample_weights)
    pad = normalize_padding_idx(padding_idx, num_embeddings)
    flat, bounds, shape = bag_bounds(input, offsets, include_last_offset, num_embeddings)
    psw = _flat_per_sample_weights(per_sample_weights, shape, weight.dtype)
    num_bags = bounds.shape[0] - 1
    grad = np.ascontiguousarray(check_grad_output(grad_output, (num_bags, dim), weight.dtype))
    ops = _backend(backend)
    pad_id = -1 if pad is None else pad

    if mode_code == kernels.MODE_MAX:
        if max_indices is None:
            _, max_indices = embedding_bag(
                input,
                weight,
                offsets,
                mode="max",
                include_last_offset=include_last_offset,
                padding_idx=padding_idx,
                return_max_indices=True,
                backend=backend,
            )
        max_indices = np.asarray(max_indices)
        if max_indices.shape != (num_bags, dim) or max_indices.dtype != np.int64:
            raise ValueError(
                f"max_indices must be the int64 ({num_bags}, {dim}) array that "
                f"embedding_bag(..., return_max_indices=True) returned, got {max_indices.dtype} {max_indices.shape}"
            )
        grad_weight = _dense_out(out, num_embeddings, dim, weight.dtype)
        if out is not None and not accumulate:
            grad_weight[...] = 0
        ops.bag_backward_max(grad_weight, flat, np.ascontiguousarray(max_indices), grad)
        return grad_weight, None

    scale = _entry_scale(flat, bounds, num_embeddings, mode_code, psw, scale_grad_by_freq, pad_id, weight.dtype)
    if sparse:
        in_bag = np.zeros(flat.shape[0], dtype=bool)
        in_bag[bounds[0] : bounds[-1]] = True
        keep = in_bag & (flat != pad_id)
        bag_of = np.repeat(np.arange(num_bags), np.diff(bounds))  # the bag of each entry in a bag
        bag_of_kept = bag_of[keep[bounds[0] : bounds[-1]]]
        values = grad[bag_of_kept] * scale[keep][:, None]
        grad_weight = SparseRowGradient(flat[keep], values, (num_embeddings, dim))
    else:
        # A fresh gradient comes from np.empty: the kernel writes every row (zeros where no id points).
        grad_weight = _dense_out(out, num_embeddings, dim, weight.dtype, fresh=np.empty)
        ops.bag_backward(grad_weight, flat, bounds, grad, scale, pad_id, out is not None and accumulate)

    grad_psw = None
    if per_sample_weights is not None:
        grad_psw = np.empty(flat.shape[0], dtype=weight.dtype)
        ops.per_sample_weights_grad(np.ascontiguousarray(weight), flat, bounds, grad, pad_id, grad_psw)
        grad_psw = grad_psw.reshape(shape)
    return grad_weight, grad_psw


def _dense_out(out, num_embeddings: int, dim: int, dtype, fresh=np.zeros) -> np.ndarray:
    if out is None:
        return fresh((num_embeddings, dim), dtype=dtype)
    if out.shape != (num_embeddings, dim) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous {np.dtype(dtype)} array of shape {(num_embeddings, dim)}, "
            f"got {out.dtype} {out.shape}"
        )
    return out


def _entry_scale(flat, bounds, num_embeddings, mode_code, psw, scale_grad_by_freq, pad_id, dtype):
    """The factor each entry's gradient is multiplied by, computed in float64 and cast once."""
    scale = np.ones(flat.shape[0], dtype=np.float64)
    if scale_grad_by_freq:
        # Each entry is divided by the count of *its own id* in the whole input. torch 2.13's CPU
        # bag backward divides by the count of another id instead (pytorch#190063, fixed upstream
        # by #190264); we compute the intended formula, and the tests show where torch differs.
        counts = np.bincount(flat, minlength=num_embeddings)
        scale /= counts[flat]
    if mode_code == kernels.MODE_MEAN:
        # The mean divides by the bag size without its padding entries (an empty bag has no entries).
        real_before = np.concatenate([[0], np.cumsum(flat != pad_id)])
        sizes = real_before[bounds[1:]] - real_before[bounds[:-1]]
        scale[bounds[0] : bounds[-1]] /= np.repeat(np.maximum(sizes, 1), np.diff(bounds))
    if psw.shape[0]:
        scale *= psw.astype(np.float64)
    return scale.astype(dtype)
