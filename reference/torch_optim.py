"""torch.optim as an oracle: run torch's optimizers (foreach=False, fused=False) on NumPy arrays.

`run_optimizer` builds torch parameters from copies of the given arrays, feeds them the given
gradient sequence step by step, and returns the parameters after each step and the final
state_dict with NumPy arrays, so that tests compare minembed's optimizers on identical input.
"""

from __future__ import annotations

import numpy as np
import torch


def _to_torch_grad(grad, shape):
    if isinstance(grad, tuple):  # (indices (nnz,), values (nnz, D)): an uncoalesced sparse row gradient
        indices, values = grad
        return torch.sparse_coo_tensor(
            torch.from_numpy(np.asarray(indices, np.int64))[None], torch.from_numpy(np.array(values)), shape
        )
    return torch.from_numpy(np.array(grad))


def make_optimizer(name: str, params, **hyper):
    cls = {
        "SGD": torch.optim.SGD,
        "Adam": torch.optim.Adam,
        "AdamW": torch.optim.AdamW,
        "SparseAdam": torch.optim.SparseAdam,
    }[name]
    if name != "SparseAdam":
        hyper = {**hyper, "foreach": False, "fused": False} if name != "SGD" else {**hyper, "foreach": False}
    return cls(params, **hyper)


def state_to_numpy(state_dict: dict) -> dict:
    """torch's optimizer state_dict with tensors as NumPy arrays (step tensors as np.float32)."""

    def convert(value):
        if isinstance(value, torch.Tensor):
            return np.float32(value.item()) if value.ndim == 0 else value.detach().numpy().copy()
        return value

    return {
        "state": {i: {k: convert(v) for k, v in s.items()} for i, s in state_dict["state"].items()},
        "param_groups": [dict(g) for g in state_dict["param_groups"]],
    }


def state_from_numpy(state_dict: dict) -> dict:
    """The inverse of state_to_numpy, for torch's load_state_dict."""

    def convert(key, value):
        if key == "step" and isinstance(value, (np.floating, float)) and not isinstance(value, int):
            return torch.tensor(float(value), dtype=torch.float32)
        if isinstance(value, np.ndarray):
            return torch.from_numpy(value.copy())
        return value

    return {
        "state": {i: {k: convert(k, v) for k, v in s.items()} for i, s in state_dict["state"].items()},
        "param_groups": [dict(g) for g in state_dict["param_groups"]],
    }


def run_optimizer(
    name: str, params: list[np.ndarray], grad_steps: list[list], state_dict: dict | None = None, **hyper
) -> tuple[list[list[np.ndarray]], dict]:
    """Parameters after each step and the final state_dict (NumPy), for torch.optim.<name>.

    grad_steps[k][i] is the gradient of parameter i at step k: an ndarray, a (indices, values)
    pair for a sparse row gradient, or None (no gradient that step).
    """
    tensors = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    opt = make_optimizer(name, tensors, **hyper)
    if state_dict is not None:
        opt.load_state_dict(state_from_numpy(state_dict))
    history = []
    for grads in grad_steps:
        for t, g in zip(tensors, grads):
            t.grad = None if g is None else _to_torch_grad(g, t.shape)
        opt.step()
        history.append([t.detach().numpy().copy() for t in tensors])
    return history, state_to_numpy(opt.state_dict())


def torch_sqrt(x: np.ndarray) -> np.ndarray:
    """torch's float32/float64 square root (vectorised; not always correctly rounded in float32)."""
    return torch.sqrt(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def coalesce(indices: np.ndarray, values: np.ndarray, num_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's coalesce of a sparse row gradient: (sorted unique rows, summed values)."""
    t = torch.sparse_coo_tensor(
        torch.from_numpy(np.asarray(indices, np.int64))[None],
        torch.from_numpy(np.array(values)),
        (num_rows, values.shape[1]),
    ).coalesce()
    return t._indices().numpy()[0].copy(), t._values().numpy().copy()
