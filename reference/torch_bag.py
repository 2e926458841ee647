"""torch.nn.functional.embedding_bag, driven from NumPy arrays (the oracle).

Each helper runs torch's forward and autograd backward on copies of the inputs and returns
plain NumPy arrays, so tests can compare them with minembed directly.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _tensor(array, requires_grad=False):
    return torch.from_numpy(np.array(array, copy=True)).requires_grad_(requires_grad)


def embedding_bag(
    input,
    weight,
    offsets=None,
    grad_output=None,
    *,
    mode="mean",
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
    scale_grad_by_freq=False,
    sparse=False,
    max_norm=None,
    norm_type=2.0,
):
    """torch's forward and (if grad_output is given) backward of F.embedding_bag.

    Returns a dict: out (B, D); weight (the table after any max_norm renorm); grad_weight
    (dense (V, D), or (indices (nnz,), values (nnz, D)) when sparse); grad_psw (input's shape) or None.
    """
    w = _tensor(weight, requires_grad=True)
    psw = None if per_sample_weights is None else _tensor(per_sample_weights, requires_grad=True)
    out = F.embedding_bag(
        torch.from_numpy(np.asarray(input, dtype=np.int64)),
        w,
        None if offsets is None else torch.from_numpy(np.asarray(offsets, dtype=np.int64)),
        max_norm=max_norm,
        norm_type=norm_type,
        scale_grad_by_freq=scale_grad_by_freq,
        mode=mode,
        sparse=sparse,
        per_sample_weights=psw,
        include_last_offset=include_last_offset,
        padding_idx=padding_idx,
    )
    result = {
        "out": out.detach().numpy().copy(),
        "weight": w.detach().numpy().copy(),
        "grad_weight": None,
        "grad_psw": None,
    }
    if grad_output is not None:
        out.backward(_tensor(grad_output))
        if w.grad is not None and w.grad.is_sparse:
            result["grad_weight"] = (w.grad._indices()[0].numpy().copy(), w.grad._values().numpy().copy())
        elif w.grad is not None:
            result["grad_weight"] = w.grad.numpy().copy()
        else:
            result["grad_weight"] = np.zeros_like(weight)
        if psw is not None:
            result["grad_psw"] = psw.grad.numpy().copy()
    return result
