"""Readable twin of cbow.py: the same windows and draws, one step twin per centre."""

from __future__ import annotations

import numpy as np

from minembed.word2vec.kernels.draws_numpy import draw_negative, window_around
from minembed.word2vec.kernels.steps_numpy import cbow_hs_step, cbow_ns_step


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
    state, loss, centres = int(seed), 0.0, 0
    for context_start, start, stop, context_stop in segments:
        for i in range(start, stop):
            first, last, state = window_around(state, i, window, shrink_windows, context_start, context_stop)
            contexts = np.array([ids[j] for j in range(first, last) if j != i], dtype=np.int64)
            centre = ids[i]
            centres += 1
            if hs:
                loss += cbow_hs_step(
                    syn0,
                    syn1,
                    contexts,
                    len(contexts),
                    centre,
                    points,
                    codes,
                    code_lengths,
                    cbow_mean,
                    alpha,
                    None,
                    None,
                    False,
                    exp_table,
                    log_table,
                )
            if negative > 0:
                targets = [centre]
                for _ in range(negative):
                    target, state = draw_negative(state, cum_table, guide, guide_shift)
                    targets.append(target)
                loss += cbow_ns_step(
                    syn0,
                    syn1neg,
                    contexts,
                    len(contexts),
                    np.array(targets),
                    negative + 1,
                    cbow_mean,
                    alpha,
                    None,
                    None,
                    False,
                    exp_table,
                    log_table,
                )
    return loss, centres
