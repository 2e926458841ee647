"""torch.nn.Embedding as an oracle: NumPy arrays in, NumPy arrays out.

Each function builds a fresh torch module over a *copy* of the given weight, runs it, and
returns what torch computed (forward output, the weight after any in-place renorm, and the
gradient), so the tests can compare minembed with torch on identical inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class EmbeddingRun:
    output: np.ndarray  # ids.shape + (D,)
    weight_after: np.ndarray  # the table after forward (max_norm renorms in place)
    grad: np.ndarray | None  # dense (V, D), or None
    sparse_indices: np.ndarray | None  # (nnz,) int64 when sparse
    sparse_values: np.ndarray | None  # (nnz, D) when sparse


def run_embedding(
    weight: np.ndarray,
    ids: np.ndarray,
    grad_output: np.ndarray | None = None,
    *,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
) -> EmbeddingRun:
    """Forward (and backward, if grad_output is given) of torch.nn.Embedding over weight."""
    ids = np.asarray(ids, dtype=np.int64)
    out_shape = ids.shape + (weight.shape[1],)
    if sparse and ids.ndim == 0 and grad_output is not None:
        # torch 2.13's sparse backward crashes on 0-d ids ("too many indices for tensor of
        # dimension 0"); the same single lookup as a 1-element batch has the same gradient.
        ids, grad_output = ids[None], np.asarray(grad_output)[None]
    table = torch.from_numpy(weight.copy())
    module = torch.nn.Embedding.from_pretrained(
        table,
        freeze=False,
        padding_idx=padding_idx,
        max_norm=max_norm,
        norm_type=norm_type,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=sparse,
    )
    out = module(torch.from_numpy(ids))
    grad = indices = values = None
    if grad_output is not None:
        out.backward(torch.from_numpy(np.ascontiguousarray(grad_output)))
        g = module.weight.grad
        if sparse:
            indices = g._indices().numpy()[0].copy()
            values = g._values().numpy().copy()
        else:
            grad = g.numpy().copy()
    output = out.detach().numpy().reshape(out_shape).copy()
    return EmbeddingRun(output, module.weight.detach().numpy().copy(), grad, indices, values)


def one_hot_matmul(ids: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """torch's one_hot(ids, V) @ weight, the embedding lookup written as a matrix product."""
    w = torch.from_numpy(weight)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(ids, dtype=np.int64)), w.shape[0])
    return (onehot.to(w.dtype) @ w).numpy()
