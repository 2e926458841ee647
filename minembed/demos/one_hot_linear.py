"""An embedding lookup is a one-hot row times the table: Embedding(ids) == one_hot(ids) @ W.

With a Linear(V, D) whose weight is tied to the Embedding's table (its weight is W.T, a view,
so both layers share one array), the two give the same output and the same table gradient:
the lookup is just the fast way to multiply by a one-hot matrix.
"""

from __future__ import annotations

import numpy as np

from minembed.nn import Embedding, Linear
from minembed.nn import functional as F


def run(vocab_size: int = 7, embedding_dim: int = 3, seed: int = 0, verbose: bool = True) -> dict:
    """Compare the two paths forward and backward; return the differences (all 0.0) and print them."""
    rng = np.random.default_rng(seed)
    emb = Embedding(vocab_size, embedding_dim, dtype=np.float64, rng=rng)
    linear = Linear(vocab_size, embedding_dim, bias=False, dtype=np.float64, rng=rng)
    linear.weight = emb.weight.T  # tied: (D, V) view of the same (V, D) table
    ids = np.array([[1, 4, 4], [0, 6, 2]])  # (B, T), a repeat so the gradient rows add up
    grad = rng.standard_normal(ids.shape + (embedding_dim,))  # d(loss)/d(output), (B, T, D)

    looked_up = emb(ids)  # (B, T, D)
    one_hot = F.one_hot(ids, vocab_size).astype(np.float64)  # (B, T, V)
    multiplied = linear(one_hot)  # (B, T, D) = one_hot @ W
    emb.backward(grad)
    linear.backward(grad)

    result = {
        "forward_max_abs_diff": float(np.abs(looked_up - multiplied).max()),
        "grad_max_abs_diff": float(np.abs(emb.grad - linear.grad_weight.T).max()),
        "shares_memory": bool(np.shares_memory(linear.weight, emb.weight)),
    }
    if verbose:
        print(f"ids {ids.tolist()} -> one_hot {one_hot.shape} @ W {emb.weight.shape}")
        print(f"forward:  |Embedding(ids) - one_hot(ids) @ W|  max = {result['forward_max_abs_diff']}")
        print(f"backward: |emb.grad - linear.grad_weight.T|     max = {result['grad_max_abs_diff']}")
        print(f"tied weights share memory: {result['shares_memory']}")
    return result


if __name__ == "__main__":
    run()
