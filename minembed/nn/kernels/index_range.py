"""Numba kernel for the range check of ids: the largest id, read as unsigned, in one pass.

Shapes: ids (N,) uint64, C-contiguous (int64 ids viewed as uint64, so that a negative id reads
as a huge one and one maximum checks both ends of [0, V)). NumPy twin: `index_range_numpy.py`.

Performance notes (2 shared cores, 8192 ids; see benchmarks/bench_embedding.py, sparse backward):
- NumPy's `max` on uint64 takes about 2.5 us for 8192 ids (no SIMD path for unsigned 64-bit);
  this loop vectorises (compare and select) and takes well under 1 us, dispatch included. On the
  public sparse backward, whose whole cost is validation, that is a third of the time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types


@njit(cache=True)
def max_index(ids):
    """The largest value of ids (N,) uint64, or 0 when N == 0."""
    biggest = np.uint64(0)
    for i in range(ids.shape[0]):
        value = ids[i]
        if value > biggest:
            biggest = value
    return biggest


max_index.compile((types.Array(types.uint64, 1, "C"),))
