"""Readable twin of subsample.py."""

from __future__ import annotations

import numpy as np

from minembed.word2vec.kernels.draws_numpy import advance


def subsample(ids, offsets, sample_ints, seed):
    kept, kept_offsets, state = [], [0], int(seed)
    for s in range(len(offsets) - 1):
        for word in ids[offsets[s] : offsets[s + 1]]:
            draw = state >> 16
            state = advance(state)
            if int(sample_ints[word]) >= draw:  # keep with probability ~ sample_ints[word] / 2**32
                kept.append(word)
        kept_offsets.append(len(kept))
    return np.array(kept, dtype=ids.dtype), np.array(kept_offsets, dtype=offsets.dtype)
