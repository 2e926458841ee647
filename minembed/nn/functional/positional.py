"""Position encodings as pure functions: the sinusoidal table and rotary embeddings (RoPE).

Learned absolute positions are an ordinary embedding of 0..T-1 (see nn.PositionalEmbedding).
The sinusoidal table is fixed (Vaswani et al. 2017). RoPE (Su et al. 2021) rotates pairs of
features of queries and keys by angles proportional to the position, so that the dot product
of a rotated query at position m and a rotated key at position n depends only on m - n.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from minembed.nn._checks import FLOAT_DTYPES
from minembed.nn.functional._backends import choose
from minembed.nn.kernels import rope as kernels
from minembed.nn.kernels import rope_numpy as twins


def _backend(name: str):
    return choose(kernels, twins, name)


def _check_base(base) -> float:
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not base > 0:
        raise ValueError(f"base must be a positive number such as 10000.0, got {base!r}")
    return float(base)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def sinusoidal_positions(num_positions: int, dim: int, base: float = 10000.0, dtype=np.float64) -> np.ndarray:
    """The Transformer's fixed position table, (num_positions, dim).

    PE[pos, 2i] = sin(pos * base ** (-2i / dim)) and PE[pos, 2i + 1] = cos(the same angle):
    sines on even features, cosines on odd ones (interleaved, as in the paper). An odd dim
    ends with a sine. Computed in float64, then cast to dtype.

    >>> sinusoidal_positions(2, 4).round(4)
    array([[0.    , 1.    , 0.    , 1.    ],
           [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    num_positions = _check_count("num_positions", num_positions)
    dim = _check_count("dim", dim)
    base = _check_base(base)
    if np.dtype(dtype) not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
    frequencies = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)  # (ceil(dim/2),)
    angles = np.arange(num_positions, dtype=np.float64)[:, None] * frequencies  # (P, ceil(dim/2))
    table = np.empty((num_positions, dim), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : dim // 2])
    return table.astype(dtype, copy=False)


def rope_angles(positions, head_dim: int, base: float = 10000.0, dtype=np.float64):
    """cos and sin of the rotation angles, each (T, head_dim // 2) in dtype.

    The angle of pair i at position p is p * base ** (-2i / head_dim), computed in float64.
    """
    inverse_frequencies = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.asarray(positions, dtype=np.float64)[:, None] * inverse_frequencies  # (T, d/2)
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def _rotate(x, positions, base, interleaved, backend, inverse):
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"x must be float32 or float64, got {x.dtype}; convert it with x.astype(np.float32)")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (..., T, head_dim), got shape {x.shape}")
    seq_len, head_dim = x.shape[-2], x.shape[-1]
    if head_dim % 2:
        raise ValueError(f"head_dim (the last axis of x) must be even to form pairs, got {head_dim}")
    base = _check_base(base)
    default_positions = positions is None
    if default_positions:
        positions = np.arange(seq_len)
    positions = np.asarray(positions)
    if positions.shape != (seq_len,) or not (
        np.issubdtype(positions.dtype, np.integer) or np.issubdtype(positions.dtype, np.floating)
    ):
        raise ValueError(
            f"positions must be a 1-D array of {seq_len} numbers (one per row of x's T axis), "
            f"got {positions.dtype} {positions.shape}"
        )
    if x.size == 0:
        return np.empty_like(x)
    if default_positions:
        cos, sin = _default_tables(seq_len, head_dim, base, x.dtype.str, inverse)
    else:
        cos, sin = rope_angles(positions, head_dim, base, x.dtype)
        if inverse:
            sin = -sin  # the transpose of a rotation is the rotation by the opposite angle
    rows = np.ascontiguousarray(x).reshape(-1, head_dim)  # (R * T, d), a view when x is contiguous
    out = np.empty_like(rows)
    ops = _backend(backend)
    (ops.rope_interleaved if interleaved else ops.rope_halves)(rows, cos, sin, out)
    return out.reshape(x.shape)


@functools.lru_cache(maxsize=8)
def _default_tables(seq_len: int, head_dim: int, base: float, dtype: str, inverse: bool):
    """cos and sin (or -sin) for positions 0..T-1, cached: a model calls rope with the same T each step.

    Small and bounded: 8 entries of (T, d/2) tables, a few MB at most for LLaMA-size T.
    """
    cos, sin = rope_angles(np.arange(seq_len), head_dim, base, np.dtype(dtype))
    if inverse:
        sin = -sin  # the transpose of a rotation is the rotation by the opposite angle
    return cos, sin  # never handed to the caller, so they stay writable (one kernel signature)


def rope(x, positions=None, base: float = 10000.0, interleaved: bool = False, *, backend: str = "numba") -> np.ndarray:
    """Rotary position embedding of x (..., T, head_dim) -> same shape and dtype.

    positions: (T,) positions of the rows of the T axis (default 0..T-1; pass e.g.
    np.arange(start, start + T) when decoding after a cache). interleaved=False pairs feature i
    with i + head_dim/2 (GPT-NeoX, HF LLaMA); interleaved=True pairs 2i with 2i + 1 (GPT-J,
    RoFormer, Meta's LLaMA). Every pair is rotated, norms are kept, and position 0 is the identity.

    >>> q = np.array([[1.0, 0.0], [1.0, 0.0]])        # T=2, head_dim=2
    >>> rope(q).round(4)                               # position 1 turns by 1 radian
    array([[1.    , 0.    ],
           [0.5403, 0.8415]])
    """
    return _rotate(x, positions, base, interleaved, backend, inverse=False)


def rope_backward(grad, positions=None, base: float = 10000.0, interleaved: bool = False, *, backend: str = "numba"):
    """Gradient of rope with respect to x, given grad = d(loss)/d(rope(x)): the inverse rotation."""
    return _rotate(grad, positions, base, interleaved, backend, inverse=True)
