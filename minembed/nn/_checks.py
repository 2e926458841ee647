"""Input validation shared by the layers: every check raises an error that names the parameter,
the value received and the fix. Kernels never validate; these functions run first."""

from __future__ import annotations

import numbers

import numpy as np

from minembed.nn.kernels.index_range import max_index

FLOAT_DTYPES = (np.float32, np.float64)


def as_index_array(ids, name: str = "input") -> np.ndarray:
    """ids as an ndarray of an integer dtype; float, bool and other non-integer input raise TypeError."""
    array = np.asarray(ids)
    if array.size == 0 and not isinstance(ids, np.ndarray):
        array = array.astype(np.int64)  # np.asarray([]) is float64, but an empty list is a fine index
    if array.dtype.kind not in "iu":  # bool is kind "b", floats "f"
        raise TypeError(
            f"{name} must hold integer indices, got dtype {array.dtype}; "
            f"convert it with {name}.astype(np.int64) if the values are whole numbers"
        )
    return array


def check_index_range(flat_ids: np.ndarray, num_embeddings: int, name: str = "input") -> None:
    """Raise IndexError naming the first id outside [0, num_embeddings)."""
    if flat_ids.size == 0:
        return
    # Read as unsigned, a negative id becomes huge: one maximum checks both ends of the range.
    as_unsigned = flat_ids.view(f"u{flat_ids.itemsize}") if flat_ids.dtype.kind == "i" else flat_ids
    if as_unsigned.dtype == np.uint64 and as_unsigned.flags.c_contiguous:
        biggest = max_index(as_unsigned)  # the common int64 case: one vectorised pass in Numba
    else:
        biggest = as_unsigned.max()
    if biggest < num_embeddings:
        return
    bad_mask = (flat_ids < 0) | (flat_ids >= num_embeddings)
    position = int(np.argmax(bad_mask))
    raise IndexError(
        f"{name} holds index {int(flat_ids[position])} at flat position {position}, outside the valid "
        f"range [0, {num_embeddings}) of a table with {num_embeddings} rows; negative indices are not "
        "wrapped around"
    )


def flat_int64_ids(ids, num_embeddings: int, name: str = "input") -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate ids and return them flattened as contiguous int64, with their original shape."""
    array = as_index_array(ids, name)
    flat = array.reshape(-1)
    check_index_range(flat, num_embeddings, name)
    return np.ascontiguousarray(flat, dtype=np.int64), array.shape


def check_float_table(weight, name: str = "weight") -> np.ndarray:
    """weight must be a 2-D float32 or float64 ndarray."""
    if not isinstance(weight, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(weight).__name__}; wrap it with np.asarray")
    if weight.ndim != 2:
        raise ValueError(f"{name} must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if weight.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must be float32 or float64, got {weight.dtype}; convert it with {name}.astype(np.float32)"
        )
    return weight


def normalize_padding_idx(padding_idx, num_embeddings: int) -> int | None:
    """torch's rule: a negative padding_idx counts from the end; out of range raises ValueError."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
        raise TypeError(f"padding_idx must be an int or None, got {padding_idx!r}")
    padding_idx = int(padding_idx)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"padding_idx={padding_idx} is outside the table: it must lie in "
            f"[-{num_embeddings}, {num_embeddings}) for num_embeddings={num_embeddings}"
        )
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def check_norm_args(max_norm, norm_type) -> None:
    """max_norm is None or a real number; norm_type is a real number (inf allowed)."""
    if max_norm is not None and (isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real)):
        raise TypeError(f"max_norm must be a real number or None, got {max_norm!r}")
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or np.isnan(norm_type):
        raise TypeError(f"norm_type must be a real number such as 1, 2 or float('inf'), got {norm_type!r}")


def check_grad_output(grad_output, expected_shape: tuple[int, ...], dtype) -> np.ndarray:
    """grad_output as an ndarray of the table dtype with exactly the forward output's shape."""
    grad = np.asarray(grad_output)
    if grad.shape != tuple(expected_shape):
        raise ValueError(
            f"grad_output has shape {grad.shape} but the forward output had shape {tuple(expected_shape)}; "
            "pass the gradient of the loss with respect to that output"
        )
    if grad.dtype.kind != "f":  # np.issubdtype(..., np.floating), without its microseconds
        raise TypeError(f"grad_output must be a float array, got dtype {grad.dtype}")
    return grad.astype(dtype, copy=False)
