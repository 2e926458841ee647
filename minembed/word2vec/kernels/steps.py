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

The batch kernels compile these steps with FASTMATH, which allows reassociation only (so the
dot products vectorise like BLAS sdot); the compiled order is fixed, so one thread stays
bit-for-bit reproducible. (Numba inlines a step into its caller and compiles it with the
caller's flags, so the batch kernels must carry FASTMATH themselves.)

The row loops are written out in every step instead of in small helpers. Numba inlines a
helper by binding its array arguments to new variables, and a binding that lives across a loop
costs a reference-count increment and decrement: two atomic operations, on counts that the
Hogwild threads share. Once per target, that was more than half of a skip-gram step's time.
Rows are read and written through 2-D indexing, never as row views, for the same reason.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from minembed.word2vec.kernels.tables import MAX_EXP, TABLE_SCALE

FASTMATH = {"reassoc", "nsz", "contract"}


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
    dim = syn0.shape[1]
    work[:] = 0
    loss = 0.0
    centre = targets[0]
    for t in range(n_targets):
        target = targets[t]
        if t > 0 and target == centre:
            continue
        score = np.float32(0.0)
        for k in range(dim):
            score += syn0[context, k] * syn1neg[target, k]
        g, target_loss, trained = _gradient_and_loss(
            score, np.float32(1.0 if t == 0 else 0.0), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += target_loss
        for k in range(dim):
            work[k] += g * syn1neg[target, k]  # the input row's gradient, read before the row moves
            syn1neg[target, k] += g * syn0[context, k]
    for k in range(dim):
        syn0[context, k] += work[k]
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def sg_hs_step(syn0, syn1, context, word, points, codes, code_lengths, alpha, work, exact, exp_table, log_table):
    """Skip-gram, hierarchical softmax: the input row of `context` walks the Huffman path of the centre
    `word`: at inner node points[word, b] the label is 1 - codes[word, b], b < code_lengths[word]."""
    dim = syn0.shape[1]
    work[:] = 0
    loss = 0.0
    for b in range(code_lengths[word]):
        node = points[word, b]
        score = np.float32(0.0)
        for k in range(dim):
            score += syn0[context, k] * syn1[node, k]
        g, target_loss, trained = _gradient_and_loss(
            score, np.float32(1 - codes[word, b]), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += target_loss
        for k in range(dim):
            work[k] += g * syn1[node, k]
            syn1[node, k] += g * syn0[context, k]
    for k in range(dim):
        syn0[context, k] += work[k]
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden):
    """hidden = sum (or mean) of the context rows; returns 1/count (1 if no context)."""
    hidden[:] = 0
    for c in range(n_contexts):
        for k in range(hidden.shape[0]):
            hidden[k] += syn0[contexts[c], k]
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
        for k in range(work.shape[0]):
            syn0[contexts[c], k] += work[k]


@njit(nogil=True, cache=True, fastmath=FASTMATH, inline="always")
def cbow_ns_step(
    syn0, syn1neg, contexts, n_contexts, targets, n_targets, cbow_mean, alpha, hidden, work, exact, exp_table, log_table
):
    """CBOW, negative sampling: the mean (cbow_mean=1) or sum of the rows of contexts[:n_contexts]
    predicts targets[0] against targets[1:n_targets]."""
    dim = syn0.shape[1]
    inv_count = _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden)
    work[:] = 0
    loss = 0.0
    centre = targets[0]
    for t in range(n_targets):
        target = targets[t]
        if t > 0 and target == centre:
            continue
        score = np.float32(0.0)
        for k in range(dim):
            score += hidden[k] * syn1neg[target, k]
        g, target_loss, trained = _gradient_and_loss(
            score, np.float32(1.0 if t == 0 else 0.0), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += target_loss
        for k in range(dim):
            work[k] += g * syn1neg[target, k]
            syn1neg[target, k] += g * hidden[k]
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
    dim = syn0.shape[1]
    inv_count = _cbow_hidden(syn0, contexts, n_contexts, cbow_mean, hidden)
    work[:] = 0
    loss = 0.0
    for b in range(code_lengths[word]):
        node = points[word, b]
        score = np.float32(0.0)
        for k in range(dim):
            score += hidden[k] * syn1[node, k]
        g, target_loss, trained = _gradient_and_loss(
            score, np.float32(1 - codes[word, b]), alpha, exact, exp_table, log_table
        )
        if not trained:
            continue
        loss += target_loss
        for k in range(dim):
            work[k] += g * syn1[node, k]
            syn1[node, k] += g * hidden[k]
    _cbow_spread(syn0, contexts, n_contexts, cbow_mean, inv_count, work)
    return loss
