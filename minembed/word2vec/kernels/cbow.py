"""CBOW over a batch of sentences in one nogil call (twin: cbow_numpy.py).

Same batch layout and draws as skipgram.py. For each centre i, the context words
j in [i - window + b, i + window - b], j != i, are summed (and averaged if cbow_mean) into one
hidden vector that predicts the centre (hierarchical softmax if hs, then `negative` negatives).
Returns (loss: float64 sum over the batch, centres trained).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed._prefetch import prefetch_row_for_write
from minembed.word2vec.kernels.draws import draw_negative, window_around
from minembed.word2vec.kernels.steps import FASTMATH, cbow_hs_step, cbow_ns_step


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def train_cbow_batch(
    syn0,
    syn1neg,
    syn1,
    ids,
    segments,
    window,
    shrink_windows,
    negative,
    cum_table,
    guide,
    guide_shift,
    hs,
    points,
    codes,
    code_lengths,
    cbow_mean,
    alpha,
    seed,
    exp_table,
    log_table,
):
    dim = syn0.shape[1]
    work = np.empty(dim, np.float32)
    hidden = np.empty(dim, np.float32)
    targets = np.empty(negative + 1, np.int64)
    contexts = np.empty(2 * window, np.int64)
    state = np.uint64(seed)
    loss = 0.0
    centres = 0
    for s in range(segments.shape[0]):
        context_start, start, stop, context_stop = segments[s, 0], segments[s, 1], segments[s, 2], segments[s, 3]
        for i in range(start, stop):
            first, last, state = window_around(state, i, window, shrink_windows, context_start, context_stop)
            n_contexts = 0
            for j in range(first, last):
                if j != i:
                    contexts[n_contexts] = ids[j]
                    n_contexts += 1
            centre = ids[i]
            centres += 1
            if hs:
                loss += cbow_hs_step(
                    syn0,
                    syn1,
                    contexts,
                    n_contexts,
                    centre,
                    points,
                    codes,
                    code_lengths,
                    cbow_mean,
                    alpha,
                    hidden,
                    work,
                    False,
                    exp_table,
                    log_table,
                )
            if negative > 0:
                targets[0] = centre
                for t in range(1, negative + 1):
                    target, state = draw_negative(state, cum_table, guide, guide_shift)
                    targets[t] = target
                    prefetch_row_for_write(syn1neg, target)  # loads while the context rows are summed
                loss += cbow_ns_step(
                    syn0,
                    syn1neg,
                    contexts,
                    n_contexts,
                    targets,
                    negative + 1,
                    cbow_mean,
                    alpha,
                    hidden,
                    work,
                    False,
                    exp_table,
                    log_table,
                )
    return loss, centres
