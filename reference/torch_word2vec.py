"""word2vec's updates replayed with torch autograd: a stream of steps in, the tables out.

Each step's loss is -sum log sigmoid(+-score) over its targets; autograd gives the gradients,
and plain SGD with the step's alpha applies them. For CBOW, word2vec applies d loss / d hidden
to every context row (the mean) or 1/count of it (the sum), so that is what is replayed
(the exact gradients would differ by a factor count).
Steps must have distinct targets (true of the streams the tests build): word2vec trains the
targets one after another, which equals the summed gradient only when no output row repeats.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _loss(hidden, out_rows, labels):
    scores = out_rows @ hidden
    signs = labels * 2 - 1  # label 1 -> +score, label 0 -> -score
    return -F.logsigmoid(signs * scores).sum()


def _step(syn0, syn1, input_rows, out_ids, labels, alpha, cbow_mean=None):
    rows = syn0[input_rows].clone()
    hidden_leaf = (rows.mean(0) if cbow_mean else rows.sum(0)).detach().requires_grad_(True)
    out = syn1[out_ids].clone().requires_grad_(True)
    loss = _loss(hidden_leaf, out, labels)
    loss.backward()
    with torch.no_grad():
        syn1.index_add_(0, out_ids, -alpha * out.grad)
        grad = hidden_leaf.grad
        if cbow_mean is not None and not cbow_mean:
            grad = grad / len(input_rows)
        syn0.index_add_(0, input_rows, (-alpha * grad).expand(len(input_rows), -1).contiguous())
    return float(loss.detach())


def replay(syn0, syn1, steps, *, cbow_mean=None):
    """steps: [(input_ids, output_ids, labels, alpha)]; input_ids is [context] for skip-gram or the
    context words for CBOW (cbow_mean 1 = mean, 0 = sum). Returns (syn0, syn1, losses) as NumPy."""
    t0 = torch.tensor(syn0, dtype=torch.float32)
    t1 = torch.tensor(syn1, dtype=torch.float32)
    losses = []
    for input_ids, output_ids, labels, alpha in steps:
        losses.append(
            _step(
                t0,
                t1,
                torch.as_tensor(np.asarray(input_ids, np.int64)),
                torch.as_tensor(np.asarray(output_ids, np.int64)),
                torch.as_tensor(np.asarray(labels, np.float32)),
                float(alpha),
                cbow_mean,
            )
        )
    return t0.numpy(), t1.numpy(), np.array(losses)
