"""torch.nn.functional.one_hot and linear, driven from NumPy arrays (the oracle)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _tensor(array, requires_grad=False):
    return torch.from_numpy(np.array(array, copy=True)).requires_grad_(requires_grad)


def one_hot(ids, num_classes=-1) -> np.ndarray:
    """F.one_hot on int64 ids."""
    return F.one_hot(torch.from_numpy(np.asarray(ids, dtype=np.int64)), num_classes).numpy()


def linear(x, weight, bias=None, grad_output=None):
    """F.linear forward and, with grad_output, (grad_input, grad_weight, grad_bias) from autograd."""
    xt, wt = _tensor(x, True), _tensor(weight, True)
    bt = None if bias is None else _tensor(bias, True)
    y = F.linear(xt, wt, bt)
    if grad_output is None:
        return y.detach().numpy().copy()
    y.backward(_tensor(grad_output))
    grads = (xt.grad.numpy().copy(), wt.grad.numpy().copy(), None if bt is None else bt.grad.numpy().copy())
    return y.detach().numpy().copy(), grads


def linear_module_init(in_features, out_features, seed=0):
    """The (weight, bias) of a fresh torch.nn.Linear, for checking the initialisation bounds."""
    torch.manual_seed(seed)
    layer = torch.nn.Linear(in_features, out_features)
    return layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()


def embedding_equals_one_hot_matmul(ids, weight, grad_output):
    """torch: (F.embedding(ids, W), grad of W) and (one_hot(ids) @ W, grad of W), for the demo test."""
    ids_t = torch.from_numpy(np.asarray(ids, dtype=np.int64))
    w1, w2 = _tensor(weight, True), _tensor(weight, True)
    lookup = F.embedding(ids_t, w1)
    matmul = F.one_hot(ids_t, weight.shape[0]).to(w2.dtype) @ w2
    lookup.backward(_tensor(grad_output))
    matmul.backward(_tensor(grad_output))
    return (lookup.detach().numpy(), w1.grad.numpy()), (matmul.detach().numpy(), w2.grad.numpy())
