"""Numba kernels for rotary position embeddings (RoPE): rotate pairs of features by position angles.

Shapes: x (N, d) C-contiguous (N = R * T rows: every leading axis flattened, positions fastest),
cos and sin (T, d // 2) C-contiguous in x's dtype, out like x. Pair i of row r (at position
t = r % T) is rotated by the angle whose cosine and sine are cos[t, i] and sin[t, i]:
    (a, b) -> (a * cos - b * sin, b * cos + a * sin)
Split halves (GPT-NeoX, LLaMA in HF) pair feature i with i + d/2; interleaved (GPT-J, RoFormer)
pairs 2i with 2i + 1. The backward is the inverse rotation: the same kernel with -sin.
NumPy twins: `rope_numpy.py`.

Performance notes (2 shared cores, benchmarks/bench_rope.py; ratios against the faster torch form):
- one pass over x with one `prange` over the N rows; each row writes only its own output row.
  The obvious torch code (x * cos + rotate_half(x) * sin) makes four temporaries of x's size.
- the loop body works on 1-D row views (x[r], cos[t], ...) with unit stride, so LLVM vectorises
  the loop over pairs (contiguous loads for split halves; stride-2 loads it de-interleaves with
  shuffles for interleaved pairs). The earlier form indexed the 3-D array x[s, t, i] with a
  division per row and did not vectorise: 0.47-0.70x LLaMA's view_as_complex form on fwd+bwd.
  Measured after (bench_rope.py --quick, machine shared by ~7 jobs, spreads 20-160%): forward
  0.91-2.75x, fwd+bwd 1.12-2.35x the faster torch form over two runs and three shapes; split
  halves 4-12x HF's rotate_half. The default tables (positions 0..T-1) are cached by the caller
  (`functional.positional`), so a call costs one pass over x and one output array.
- the products are rounded one at a time, then subtracted (no FMA, `fastmath` off), which is
  exactly what torch's elementwise ops do, so float32 results match a torch reference that uses
  the same cos/sin tables.
"""

from __future__ import annotations

from numba import njit, prange


@njit(parallel=True, cache=True)
def rope_halves(x, cos, sin, out):
    """Rotate pairs (x[r, i], x[r, i + d/2]) by the angles of row r's position. x (N, d), cos/sin (T, d/2)."""
    n_rows, dim = x.shape
    seq_len = cos.shape[0]
    half = dim // 2
    for r in prange(n_rows):
        t = r % seq_len
        row, dst, c, z = x[r], out[r], cos[t], sin[t]
        a, b = row[:half], row[half:]
        lo, hi = dst[:half], dst[half:]
        for i in range(half):
            lo[i] = a[i] * c[i] - b[i] * z[i]
            hi[i] = b[i] * c[i] + a[i] * z[i]


@njit(parallel=True, cache=True)
def rope_interleaved(x, cos, sin, out):
    """Rotate pairs (x[r, 2i], x[r, 2i + 1]) by the angles of row r's position. x (N, d), cos/sin (T, d/2)."""
    n_rows, dim = x.shape
    seq_len = cos.shape[0]
    half = dim // 2
    for r in prange(n_rows):
        t = r % seq_len
        row, dst, c, z = x[r], out[r], cos[t], sin[t]
        for i in range(half):
            a, b = row[2 * i], row[2 * i + 1]
            dst[2 * i] = a * c[i] - b * z[i]
            dst[2 * i + 1] = b * c[i] + a * z[i]
