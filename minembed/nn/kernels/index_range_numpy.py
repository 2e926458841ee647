"""NumPy twin of `minembed.nn.kernels.index_range`, with the same signature and result."""

from __future__ import annotations

import numpy as np


def max_index(ids):
    """The largest value of ids (N,) uint64, or 0 when N == 0."""
    return ids.max() if ids.size else np.uint64(0)
