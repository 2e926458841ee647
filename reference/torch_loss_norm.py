"""torch's cross_entropy, log_softmax and layer_norm as oracles: NumPy in, (value, gradients) out."""

from __future__ import annotations

import numpy as np
import torch


def cross_entropy(
    logits: np.ndarray, targets: np.ndarray, ignore_index: int = -100, label_smoothing: float = 0.0
) -> tuple[float, np.ndarray]:
    """(mean loss, d(loss)/d(logits)); logits (..., C) are moved to torch's (N, C) layout and back."""
    x = torch.from_numpy(logits.reshape(-1, logits.shape[-1]).copy()).requires_grad_(True)
    t = torch.from_numpy(np.asarray(targets, np.int64).reshape(-1))
    loss = torch.nn.functional.cross_entropy(x, t, ignore_index=ignore_index, label_smoothing=label_smoothing)
    loss.backward()
    return float(loss.detach()), x.grad.numpy().reshape(logits.shape).copy()


def log_softmax(x: np.ndarray, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log_softmax(x, -1), its vector-Jacobian product with grad_output)."""
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    y = torch.log_softmax(t, dim=-1)
    y.backward(torch.from_numpy(grad_output.copy()))
    return y.detach().numpy().copy(), t.grad.numpy().copy()


def layer_norm(x, normalized_shape, weight, bias, eps, grad_output):
    """(output, grad_input, grad_weight or None, grad_bias or None) of torch.nn.functional.layer_norm."""
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    w = None if weight is None else torch.from_numpy(weight.copy()).requires_grad_(True)
    b = None if bias is None else torch.from_numpy(bias.copy()).requires_grad_(True)
    y = torch.nn.functional.layer_norm(t, tuple(normalized_shape), w, b, eps)
    y.backward(torch.from_numpy(grad_output.copy()))
    grads = [None if p is None else p.grad.numpy().copy() for p in (w, b)]
    return y.detach().numpy().copy(), t.grad.numpy().copy(), *grads
