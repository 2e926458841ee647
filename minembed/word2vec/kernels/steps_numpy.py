"""Readable twin of steps.py: each word2vec step as Embedding forward/backward with sparse gradients.

A step is: look the rows up (forward), score them, backpropagate -log sigmoid (backward gives a
SparseRowGradient: the touched rows only), then plain SGD on those rows. The sequencing is
word2vec's: targets are trained one after another (each output row is updated before the next
target is scored), the input side's gradient is summed over the targets and applied at the end.
Same signatures as the kernels; `work`/`hidden` are scratch buffers the kernels need (unused here).
"""

from __future__ import annotations

import math

import numpy as np

from minembed.nn import Embedding
from minembed.word2vec.kernels.tables import MAX_EXP, TABLE_SCALE


def _table(weight: np.ndarray) -> Embedding:
    return Embedding.from_pretrained(weight, freeze=False, sparse=True)  # shares the array


def _sgd(table: Embedding, alpha) -> None:
    """weight[rows] -= alpha * grad, for the rows the sparse gradient touched (duplicates add up)."""
    grad = table.grad
    np.subtract.at(table.weight, grad.indices, np.float32(alpha) * grad.values)
    table.zero_grad()


def _score_gradient(score, label, exact, exp_table, log_table):
    """(d loss / d score, loss) for loss = -log sigmoid(+score if label else -score); None if skipped."""
    signed = score if label else -score
    if exact:
        sigmoid = np.float32(1.0) / (np.float32(1.0) + np.float32(math.exp(-float(score))))
        loss = math.log1p(math.exp(-abs(float(signed)))) + max(-float(signed), 0.0)
    else:
        if score <= -MAX_EXP or score >= MAX_EXP:
            return None
        sigmoid = exp_table[int((score + MAX_EXP) * TABLE_SCALE)]
        loss = -float(log_table[int((signed + MAX_EXP) * TABLE_SCALE)])
    return sigmoid - np.float32(label), loss


def _train_outputs(hidden, outputs, targets_and_labels, alpha, exact, exp_table, log_table):
    """Train output rows one target at a time against a fixed hidden vector (D,);
    returns (d loss / d hidden summed over targets, loss)."""
    grad_hidden = np.zeros_like(hidden)
    loss = 0.0
    for target, label in targets_and_labels:
        out = outputs.forward(np.array([target]))[0]  # (D,)
        result = _score_gradient(np.float32(hidden @ out), label, exact, exp_table, log_table)
        if result is None:
            continue
        d_score, pair_loss = result
        loss += pair_loss
        grad_hidden += d_score * out
        outputs.backward((d_score * hidden)[None, :])  # d loss / d out
        _sgd(outputs, alpha)
    return grad_hidden, loss


def _negative_targets(targets, n_targets):
    centre = targets[0]
    return [(centre, 1)] + [(t, 0) for t in targets[1:n_targets] if t != centre]


def _path_targets(word, points, codes, code_lengths):
    return [(points[word, b], 1 - int(codes[word, b])) for b in range(code_lengths[word])]


def _skipgram(syn0, syn1, context, targets_and_labels, alpha, exact, exp_table, log_table):
    inputs, outputs = _table(syn0), _table(syn1)
    hidden = inputs.forward(np.array([context]))  # (1, D)
    grad_hidden, loss = _train_outputs(hidden[0], outputs, targets_and_labels, alpha, exact, exp_table, log_table)
    inputs.backward(grad_hidden[None, :])
    _sgd(inputs, alpha)
    return loss


def _cbow(syn0, syn1, contexts, n_contexts, targets_and_labels, cbow_mean, alpha, exact, exp_table, log_table):
    inputs, outputs = _table(syn0), _table(syn1)
    rows = inputs.forward(np.asarray(contexts[:n_contexts]))  # (C, D)
    count = np.float32(max(n_contexts, 1))
    hidden = rows.sum(axis=0, dtype=np.float32)
    if cbow_mean:
        hidden = hidden * (np.float32(1.0) / count)
    grad_hidden, loss = _train_outputs(hidden, outputs, targets_and_labels, alpha, exact, exp_table, log_table)
    # word2vec gives every context row the hidden vector's whole gradient for the mean, and
    # 1/count of it for the sum (the exact gradients would be the other way round).
    if not cbow_mean:
        grad_hidden = grad_hidden * (np.float32(1.0) / count)
    if n_contexts:
        inputs.backward(np.broadcast_to(grad_hidden, rows.shape))
        _sgd(inputs, alpha)
    return loss


def sg_ns_step(syn0, syn1neg, context, targets, n_targets, alpha, work, exact, exp_table, log_table):
    return _skipgram(syn0, syn1neg, context, _negative_targets(targets, n_targets), alpha, exact, exp_table, log_table)


def sg_hs_step(syn0, syn1, context, word, points, codes, code_lengths, alpha, work, exact, exp_table, log_table):
    pairs = _path_targets(word, points, codes, code_lengths)
    return _skipgram(syn0, syn1, context, pairs, alpha, exact, exp_table, log_table)


def cbow_ns_step(
    syn0, syn1neg, contexts, n_contexts, targets, n_targets, cbow_mean, alpha, hidden, work, exact, exp_table, log_table
):
    pairs = _negative_targets(targets, n_targets)
    return _cbow(syn0, syn1neg, contexts, n_contexts, pairs, cbow_mean, alpha, exact, exp_table, log_table)


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
    pairs = _path_targets(word, points, codes, code_lengths)
    return _cbow(syn0, syn1, contexts, n_contexts, pairs, cbow_mean, alpha, exact, exp_table, log_table)
