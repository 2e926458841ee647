"""One word2vec training step, as Numba kernels: the loops every batch kernel calls.

Tables: syn0 (V, D) float32 input vectors (model.input_embedding.weight), syn1neg (V, D) the
output vectors of negative sampling, syn1 (V - 1, D) the inner-node vectors of hierarchical
softmax. Each step updates them in place (plain SGD with learning rate alpha) and returns its
loss as float64: the sum of -log sigmoid(+-score) over the targets it trained.

exact=False is word2vec: sigmoid and log-sigmoid from the 1000-entry tables, scores outside
(-6, 6) skipped (gensim's rule). exact=True uses exp/log and skips nothing: the true SGD step,
which the tests compare with torch autograd.

Within a step, targets are trained one after another (an output row that is drawn twice sees
its first update); the input side is accumulated in `work` and added at the end. Both
references do this. Readable twin: steps_numpy.py (same signatures).
`fastmath` allows reassociation only (so the 100-long dot products vectorise like BLAS sdot);
the compiled order is fixed, so one thread stays bit-for-bit reproducible.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from minembed.word2vec.kernels.tables import MAX_EXP, TABLE_SCALE

FASTMATH = {"reassoc", "nsz", "contract"}


# Rows are read and written through 2-D indexing, never as row views: a view is a new array
# object whose reference count every call would bump (an atomic write that two Hogwild threads
# would fight over).


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _dot(vector, table, row):
    """vector . table[row]"""
    total = np.float32(0.0)
    for k in range(vector.shape[0]):
        total += vector[k] * table[row, k]
    return total


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _dot_rows(a, i, b, j):
    """a[i] . b[j]"""
    total = np.float32(0.0)
    for k in range(a.shape[1]):
        total += a[i, k] * b[j, k]
    return total


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _add_row(scale, table, row, vector):
    """vector += scale * table[row]"""
    for k in range(vector.shape[0]):
        vector[k] += scale * table[row, k]


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _add_to_row(scale, vector, table, row):
    """table[row] += scale * vector"""
    for k in range(vector.shape[0]):
        table[row, k] += scale * vector[k]


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _add_row_to_row(scale, a, i, b, j):
    """b[j] += scale * a[i]"""
    for k in range(a.shape[1]):
        b[j, k] += scale * a[i, k]


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _gradient_and_loss(score, label, alpha, exact, exp_table, log_table):
    """(g, loss, trained) for one target: g = (label - sigmoid(score)) * alpha."""
    signed = score if label > 0 else -score  # the loss is -log sigmoid(signed)
    if exact:
        sigmoid = np.float32(1.0) / (np.float32(1.0) + np.float32(math.exp(-score)))
        # softplus(-signed) = -log sigmoid(signed), computed stably in float64
        s = float(signed)
        loss = math.log1p(math.exp(-abs(s))) + max(-s, 0.0)
        return (np.float32(label) - sigmoid) * alpha, loss, True
    if score <= -MAX_EXP or score >= MAX_EXP:
        return np.float32(0.0), 0.0, False
    sigmoid = exp_table[int((score + MAX_EXP) * TABLE_SCALE)]
    loss = -float(log_table[int((signed + MAX_EXP) * TABLE_SCALE)])
    return (np.float32(label) - sigmoid) * alpha, loss, True


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def sg_ns_step(syn0, syn1neg, context, targets, n_targets, alpha, work, exact, exp_table, log_table):
    """Skip-gram, negative sampling: the input row of `context` predicts targets[0] (the centre word,
    label 1) against targets[1:n_targets] (negatives, label 0; a negative equal to the centre is skipped)."""
    work[:] = 0
    loss = 0.0
    centre = targets[0]
    for t in range(n_targets):
        target = targets[t]
        if t > 0 and target == centre:
            continue
        g, pair_loss, trained = _gradient_and_loss(
            _dot_rows(syn0, context, syn1neg, target),
            np.float32(1.0 if t == 0 else 0.0),
            alpha,
            exact,
            exp_table,
            log_table,
        )
        if not trained:
            continue
        loss += pair_loss
        _add_row(g, syn1neg, target, work)
        _add_row_to_row(g, syn0, context, syn1neg, target)
    _add_to_row(np.float32(1.0), work, syn0, context)
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def sg_hs_step(syn0, syn1, context, word, points, codes, code_lengths, alpha, work, exact, exp_table, log_table):
    """Skip-gram, hierarchical softmax: the input row of `context` walks the Huffman path of the centre
    `word`: at inner node points[word, b] the label is 1 - codes[word, b], b < code_lengths[word]."""
    work[:] = 0
    loss = 0.0
    for b in range(code_lengths[word]):
        node = points[word, b]
        g, pair_loss, trained = _gradient_and_loss(
            _dot_rows(syn0, context, syn1, node), np.float32(1 - codes[word, b]), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += pair_loss
        _add_row(g, syn1, node, work)
        _add_row_to_row(g, syn0, context, syn1, node)
    _add_to_row(np.float32(1.0), work, syn0, context)
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden):
    """hidden = sum (or mean) of the context rows; returns 1/count (1 if no context)."""
    hidden[:] = 0
    for c in range(n_contexts):
        _add_row(np.float32(1.0), syn0, contexts[c], hidden)
    inv_count = np.float32(1.0)
    if n_contexts > 0:
        inv_count = np.float32(1.0) / np.float32(n_contexts)
    if cbow_mean:
        for k in range(hidden.shape[0]):
            hidden[k] *= inv_count
    return inv_count


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _cbow_spread(syn0, contexts, n_contexts, cbow_mean, inv_count, work):
    """Add the error to every context row: as is for the mean, divided by the count for the sum
    (gensim's choice; neither is the exact gradient, which is the other way round)."""
    if not cbow_mean:
        for k in range(work.shape[0]):
            work[k] *= inv_count
    for c in range(n_contexts):
        _add_to_row(np.float32(1.0), work, syn0, contexts[c])


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def cbow_ns_step(
    syn0, syn1neg, contexts, n_contexts, targets, n_targets, cbow_mean, alpha, hidden, work, exact, exp_table, log_table
):
    """CBOW, negative sampling: the mean (cbow_mean=1) or sum of the rows of contexts[:n_contexts]
    predicts targets[0] against targets[1:n_targets]."""
    inv_count = _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden)
    work[:] = 0
    loss = 0.0
    centre = targets[0]
    for t in range(n_targets):
        target = targets[t]
        if t > 0 and target == centre:
            continue
        g, pair_loss, trained = _gradient_and_loss(
            _dot(hidden, syn1neg, target), np.float32(1.0 if t == 0 else 0.0), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += pair_loss
        _add_row(g, syn1neg, target, work)
        _add_to_row(g, hidden, syn1neg, target)
    _cbow_spread(syn0, contexts, n_contexts, cbow_mean, inv_count, work)
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def cbow_hs_step(
    syn0,
    syn1,
    contexts,
    n_contexts,
    word,
    points,
    codes,
    code_lengths,
    cbow_mean,
    alpha,
    hidden,
    work,
    exact,
    exp_table,
    log_table,
):
    """CBOW, hierarchical softmax: the context mean (or sum) walks the centre word's Huffman path."""
    inv_count = _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden)
    work[:] = 0
    loss = 0.0
    for b in range(code_lengths[word]):
        node = points[word, b]
        g, pair_loss, trained = _gradient_and_loss(
            _dot(hidden, syn1, node), np.float32(1 - codes[word, b]), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += pair_loss
        _add_row(g, syn1, node, work)
        _add_to_row(g, hidden, syn1, node)
    _cbow_spread(syn0, contexts, n_contexts, cbow_mean, inv_count, work)
    return loss
