"""Numba kernels for rotary position embeddings (RoPE): rotate pairs of features by position angles.

Shapes: x (R, T, d) C-contiguous (R = every leading axis flattened), cos and sin (T, d // 2)
in x's dtype, out like x. Pair i of a row at position t is rotated by the angle whose cosine
and sine are cos[t, i] and sin[t, i]:
    (a, b) -> (a * cos - b * sin, b * cos + a * sin)
Split halves (GPT-NeoX, LLaMA in HF) pair feature i with i + d/2; interleaved (GPT-J, RoFormer)
pairs 2i with 2i + 1. The backward is the inverse rotation: the same kernel with -sin.
NumPy twins: `rope_numpy.py`.

Performance notes (2 cores, x (8, 12, 1024, 64) float32; see benchmarks/bench_rope.py):
- one pass over x with one `prange` over the R * T rows; each row writes only its own output
  row. The obvious torch code (x * cos + rotate_half(x) * sin) makes four temporaries of x's size.
- the products are rounded one at a time, then subtracted (no FMA, `fastmath` off), which is
  exactly what torch's elementwise ops do, so float32 results match a torch reference that uses
  the same cos/sin tables.
"""
from __future__ import annotations

from numba import njit, prange


@njit(parallel=True, cache=True)
def rope_halves(x, cos, sin, out):
    """Rotate pairs (x[..., i], x[..., i + d/2]) by the angles of each position. x (R, T, d)."""
    n_seq, seq_len, dim = x.shape
    half = dim // 2
    for r in prange(n_seq * seq_len):
        s, t = r // seq_len, r % seq_len
        for i in range(half):
            a, b = x[s, t, i], x[s, t, i + half]
            c, z = cos[t, i], sin[t, i]
            out[s, t, i] = a * c - b * z
            out[s, t, i + half] = b * c + a * z


@njit(parallel=True, cache=True)
def rope_interleaved(x, cos, sin, out):
    """Rotate pairs (x[..., 2i], x[..., 2i + 1]) by the angles of each position. x (R, T, d)."""
    n_seq, seq_len, dim = x.shape
    half = dim // 2
    for r in prange(n_seq * seq_len):
        s, t = r // seq_len, r % seq_len
        for i in range(half):
            a, b = x[s, t, 2 * i], x[s, t, 2 * i + 1]
            c, z = cos[t, i], sin[t, i]
            out[s, t, 2 * i] = a * c - b * z
            out[s, t, 2 * i + 1] = b * c + a * z
