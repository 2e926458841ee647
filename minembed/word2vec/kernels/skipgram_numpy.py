"""Readable twin of skipgram.py: the same windows and draws, one step twin per (centre, context)."""

from __future__ import annotations

import numpy as np

from minembed.word2vec.kernels.draws_numpy import draw_negative, window_around
from minembed.word2vec.kernels.steps_numpy import sg_hs_step, sg_ns_step


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
    state, loss, centres = int(seed), 0.0, 0
    for context_start, start, stop, context_stop in segments:
        for i in range(start, stop):
            first, last, state = window_around(state, i, window, shrink_windows, context_start, context_stop)
            centre = ids[i]
            centres += 1
            contexts = [j for j in range(first, last) if j != i]
            pair_targets = []
            for _ in contexts if negative > 0 else ():  # the kernel draws all of a centre's negatives first
                targets = [centre]
                for _ in range(negative):
                    target, state = draw_negative(state, cum_table, guide, guide_shift)
                    targets.append(target)
                pair_targets.append(np.array(targets))
            for pair, j in enumerate(contexts):
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
                        None,
                        False,
                        exp_table,
                        log_table,
                    )
                if negative > 0:
                    loss += sg_ns_step(
                        syn0,
                        syn1neg,
                        ids[j],
                        pair_targets[pair],
                        negative + 1,
                        alpha,
                        None,
                        False,
                        exp_table,
                        log_table,
                    )
    return loss, centres
