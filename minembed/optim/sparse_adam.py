"""SparseAdam: Adam on the rows of a sparse gradient only, as torch.optim.SparseAdam.

Per parameter with a SparseRowGradient, in torch's order (float32):
    grad = grad.coalesce()                 (one entry per row, duplicates summed in order)
    old_m = exp_avg[rows];  dm = (g - old_m) * (1 - beta1);  exp_avg[rows] = old_m + dm
    old_v = exp_avg_sq[rows]; dv = (g * g - old_v) * (1 - beta2); exp_avg_sq[rows] = old_v + dv
    numer = dm + old_m;  denom = sqrt(dv + old_v) + eps
    param[rows] += -(lr * sqrt(1 - beta2 ** step) / (1 - beta1 ** step)) * (numer / denom)
Rows absent from the gradient keep their parameter and moments untouched (not even decayed);
the step counter is per parameter and counts every step that had a gradient.
The square root is np.sqrt (see minembed.optim.adam for torch's 1-ulp difference). Float tables
take one Numba kernel call for the coalescing and one for the update (kernels/sparse_adam.py);
from 65,536 values the update is two calls at once, one on minembed's helper thread.
"""

from __future__ import annotations

import math

import numpy as np

from minembed import _threads
from minembed.nn.sparse import SparseRowGradient
from minembed.optim.kernels import sparse_adam_numpy
from minembed.optim.optimizer import SPLIT_FROM, Optimizer, check_hyperparameter

_sqrt = np.sqrt  # swapped for torch's by the tests, as in minembed.optim.adam


class SparseAdam(Optimizer):
    """torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False).

    Every parameter's gradient must be a SparseRowGradient (an Embedding with sparse=True).
    """

    def __init__(
        self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, *, maximize: bool = False
    ) -> None:
        from minembed.optim.adam import _check_betas

        if not 0.0 < eps:
            raise ValueError(f"eps must be positive, got eps={eps!r}")
        defaults = {
            "lr": check_hyperparameter("lr", lr),
            "betas": _check_betas(betas),
            "eps": check_hyperparameter("eps", eps),
            "maximize": bool(maximize),
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        """One step on the rows present in each sparse gradient."""
        for index, group, param in self._indexed_params():
            grad = param.grad
            if grad is None:
                continue
            if not isinstance(grad, SparseRowGradient):
                raise RuntimeError(  # noqa: TRY004 -- torch raises RuntimeError here
                    f"SparseAdam does not support dense gradients (parameter {param.name!r}); "
                    "use minembed.optim.Adam, or build the embedding with sparse=True"
                )
            data = param.data
            if grad.shape != data.shape:
                raise ValueError(f"sparse gradient has shape {grad.shape} but the parameter has shape {data.shape}")
            state = self.state.get(index)
            if state is None:
                state = {"step": 0, "exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}
                self.state[index] = state
            state["step"] += 1
            self._update_rows(group, state, data, grad)

    @staticmethod
    def _update_rows(group: dict, state: dict, data: np.ndarray, grad: SparseRowGradient) -> None:
        dtype = data.dtype.type
        values = grad.values.astype(data.dtype, copy=False)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        use_numba = (
            _sqrt is np.sqrt and data.ndim == 2 and all(a.flags.c_contiguous for a in (data, exp_avg, exp_avg_sq))
        )
        kernels = numba_kernels() if use_numba else sparse_adam_numpy
        if grad.nnz and not 0 <= grad.indices.min() <= grad.indices.max() < data.shape[0]:
            raise IndexError(
                f"sparse gradient rows must lie in [0, {data.shape[0]}), got rows from {grad.indices.min()} "
                f"to {grad.indices.max()}"
            )
        rows, sums = kernels.coalesce_rows(grad.indices, np.ascontiguousarray(values), data.shape[0], group["maximize"])
        if rows.shape[0] == 0:
            return
        beta1, beta2 = group["betas"]
        step = state["step"]
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        scalars = (dtype(1 - beta1), dtype(1 - beta2), dtype(group["eps"]), dtype(-step_size))
        if not use_numba:
            sparse_adam_numpy.update_rows(data, exp_avg, exp_avg_sq, rows, sums, *scalars, sqrt=_sqrt)
        else:  # distinct rows: when large, each thread updates its own half of them
            _threads.in_two_if_large(
                lambda lo, hi: kernels.update_rows(data, exp_avg, exp_avg_sq, rows[lo:hi], sums[lo:hi], *scalars),
                rows.shape[0],
                sums.size >= SPLIT_FROM,
            )


def numba_kernels():
    """The Numba kernels, imported on first use (so that building an optimizer compiles nothing)."""
    from minembed.optim.kernels import sparse_adam

    return sparse_adam
