"""Subsampling of frequent words, drawn per occurrence (twin: subsample_numpy.py).

ids (N,) int32 with sentence offsets (S + 1,) int64 -> (kept ids, kept offsets): word w survives
when sample_ints[w] >= the next 32-bit LCG draw, i.e. with probability about
sample_ints[w] / 2**32 (gensim's `sample_int`, one draw per occurrence, before windowing).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed.word2vec.kernels.draws import advance

_SHIFT = np.uint64(16)


@njit(nogil=True, cache=True)
def subsample(ids, offsets, sample_ints, seed):
    kept = np.empty_like(ids)
    kept_offsets = np.empty_like(offsets)
    state = np.uint64(seed)
    n = 0
    kept_offsets[0] = 0
    for s in range(offsets.shape[0] - 1):
        for i in range(offsets[s], offsets[s + 1]):
            word = ids[i]
            draw = state >> _SHIFT
            state = advance(state)
            if np.uint64(sample_ints[word]) >= draw:
                kept[n] = word
                n += 1
        kept_offsets[s + 1] = n
    return kept[:n], kept_offsets
