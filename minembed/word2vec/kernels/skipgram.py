"""Skip-gram over a batch of sentences in one nogil call (twin: skipgram_numpy.py).

ids (N,) int32: the batch's words after subsampling, sentences back to back.
segments (S, 4) int64: per segment (context_start, start, stop, context_stop): centres are
ids[start:stop], their windows may reach ids[context_start:context_stop] (a long sentence is cut
into segments that overlap by a window, so nothing is truncated and no window is lost).
Every centre draws its window reduction b in [0, window) (if shrink_windows), then each context
word j in [i - window + b, i + window - b], j != i, is trained against the centre: hierarchical
softmax (if hs) then `negative` fresh negatives (if negative > 0), gensim's order. The negatives of a centre's
pairs are drawn before its first pair is trained (same draws, same order), so their rows can be prefetched.
Returns (loss: float64 sum over the batch, centres trained).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minembed._prefetch import prefetch_row_for_write
from minembed.word2vec.kernels.draws import draw_negative, window_around
from minembed.word2vec.kernels.steps import FASTMATH, sg_hs_step, sg_ns_step


@njit(nogil=True, cache=True, fastmath=FASTMATH)
def train_sg_batch(
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
    alpha,
    seed,
    exp_table,
    log_table,
):
    work = np.empty(syn0.shape[1], np.float32)
    targets = np.empty((2 * window, negative + 1), np.int64)
    state = np.uint64(seed)
    loss = 0.0
    centres = 0
    for s in range(segments.shape[0]):
        context_start, start, stop, context_stop = segments[s, 0], segments[s, 1], segments[s, 2], segments[s, 3]
        for i in range(start, stop):
            first, last, state = window_around(state, i, window, shrink_windows, context_start, context_stop)
            centre = ids[i]
            centres += 1
            if negative > 0:
                # Draw every pair's negatives first (the same draws, in the same order, as drawing
                # them pair by pair) and ask for their rows now: the loads overlap the arithmetic.
                pair = 0
                for j in range(first, last):
                    if j == i:
                        continue
                    targets[pair, 0] = centre
                    for t in range(1, negative + 1):
                        target, state = draw_negative(state, cum_table, guide, guide_shift)
                        targets[pair, t] = target
                        prefetch_row_for_write(syn1neg, target)
                    pair += 1
            pair = 0
            for j in range(first, last):
                if j == i:
                    continue
                if hs:
                    loss += sg_hs_step(
                        syn0,
                        syn1,
                        ids[j],
                        centre,
                        points,
                        codes,
                        code_lengths,
                        alpha,
                        work,
                        False,
                        exp_table,
                        log_table,
                    )
                if negative > 0:
                    loss += sg_ns_step(
                        syn0, syn1neg, ids[j], targets[pair], negative + 1, alpha, work, False, exp_table, log_table
                    )
                pair += 1
    return loss, centres
