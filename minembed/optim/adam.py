"""Adam and AdamW, step for step as torch's single-tensor implementation (foreach=False, fused=False).

Per parameter, in torch's order (float32 arithmetic, scalars cast to the parameter's dtype):
    step += 1
    AdamW: param *= 1 - lr * weight_decay        Adam: grad = grad + weight_decay * param (fused)
    exp_avg.lerp_(grad, 1 - beta1)               (torch's CPU lerp: two formulas, fused)
    exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * grad * grad   (addcmul_, fused)
    amsgrad: max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)
    denom = sqrt(v) / sqrt(1 - beta2 ** step) + eps
    param += (-lr / (1 - beta1 ** step)) * exp_avg / denom        (addcdiv_)
The bias corrections are computed in Python floats (float64), as torch does.

Bit for bit: every step above equals torch's float32 result, except torch's square root: this
torch build's vectorised float32 sqrt is faithfully but not correctly rounded (about 0.7% of
values come out 1 ulp low); minembed uses the correctly rounded np.sqrt. With torch's sqrt
swapped in (the tests do so through `_sqrt`), the parameters are identical; with np.sqrt they
differ by a few ulp at most (tests/test_optim.py states the bound). float64 parameters run the
same sequence without the fused multiply-adds (no wider type to emulate them with): within
1 ulp per operation of torch.
"""

from __future__ import annotations

import numpy as np

from minembed import _threads
from minembed.nn.sparse import SparseRowGradient
from minembed.optim.kernels import adam_numpy
from minembed.optim.optimizer import SPLIT_FROM, Optimizer, check_hyperparameter

_sqrt = np.sqrt  # the square root of the second moment; tests swap in torch's to check the rest bit for bit


def _check_betas(betas) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return (check_hyperparameter("betas[0]", betas[0], 0.0, 1.0), check_hyperparameter("betas[1]", betas[1], 0.0, 1.0))


def _kernels_for(param: np.ndarray):
    """Numba kernels for contiguous float32 arrays; the NumPy twins otherwise."""
    if param.dtype == np.float32 and param.flags.c_contiguous:
        from minembed.optim.kernels import adam as numba_adam

        return numba_adam
    return adam_numpy


class Adam(Optimizer):
    """torch.optim.Adam: Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    weight_decay adds weight_decay * param to the gradient (L2); AdamW decouples it.
    step() updates every parameter with a dense gradient; None gradients are skipped.

    >>> from minembed.nn import Linear
    >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
    >>> opt = Adam(layer.parameters(), lr=0.1)
    >>> _ = layer(np.ones((4, 3), np.float32)); _ = layer.backward(np.ones((4, 2), np.float32))
    >>> before = layer.bias.copy(); opt.step()
    >>> bool(np.allclose(layer.bias, before - 0.1))  # the first Adam step moves each weight by about lr
    True
    """

    _decoupled = False

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": check_hyperparameter("lr", lr),
            "betas": _check_betas(betas),
            "eps": check_hyperparameter("eps", eps),
            "weight_decay": check_hyperparameter("weight_decay", weight_decay),
            "amsgrad": bool(amsgrad),
            "maximize": bool(maximize),
        }
        super().__init__(params, defaults)

    def step(self) -> None:
        """One Adam step for every parameter that has a gradient."""
        for index, group, param in self._indexed_params():
            grad = param.grad
            if grad is None:
                continue
            if isinstance(grad, SparseRowGradient):
                raise RuntimeError(  # noqa: TRY004 -- torch raises RuntimeError here
                    f"{type(self).__name__} does not support sparse gradients (parameter {param.name!r}); "
                    "use minembed.optim.SparseAdam for embeddings built with sparse=True"
                )
            self._step_one(index, group, param.data, grad)

    def _step_one(self, index: int, group: dict, data: np.ndarray, grad: np.ndarray) -> None:
        dtype = data.dtype.type
        state = self.state.get(index)
        if state is None:
            state = {"step": np.float32(0.0), "exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(data)
            self.state[index] = state
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        state["step"] = np.float32(state["step"] + 1)
        step = float(state["step"])
        decay, coupled = 1.0, 0.0
        if weight_decay != 0:
            if self._decoupled:
                decay = 1 - lr * weight_decay
            else:
                coupled = weight_decay
        grad = np.asarray(grad, dtype=data.dtype)
        if grad.shape != data.shape:
            raise ValueError(f"gradient has shape {grad.shape} but the parameter has shape {data.shape}")
        amsgrad = group["amsgrad"]
        kernels = _kernels_for(data)
        split = kernels is not adam_numpy  # the Numba kernels take flat arrays, in two halves when large
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        max_sq = state.get("max_exp_avg_sq", exp_avg_sq) if amsgrad else exp_avg_sq
        moment_arrays = (data, np.ascontiguousarray(grad), exp_avg, exp_avg_sq, max_sq)
        moment_scalars = (
            dtype(decay),
            dtype(coupled),
            dtype(1 - beta1),
            dtype(beta2),
            dtype(1 - beta2),
            group["maximize"],
            amsgrad,
        )
        bias_correction1 = 1 - beta1**step
        update_scalars = (dtype((1 - beta2**step) ** 0.5), dtype(eps), dtype(-(lr / bias_correction1)))
        if _sqrt is np.sqrt:  # one pass, the square root inside
            _elementwise(kernels.adam_step, moment_arrays, moment_scalars + update_scalars, split)
            return
        _elementwise(kernels.adam_moments, moment_arrays, moment_scalars, split)
        root = _sqrt(max_sq if amsgrad else exp_avg_sq)
        _elementwise(kernels.adam_update, (data, exp_avg, root), update_scalars, split)


def _elementwise(kernel, arrays: tuple, scalars: tuple, split: bool) -> None:
    """kernel(*arrays, *scalars), where element i of the outputs depends on element i of the inputs only.

    split=True (the Numba kernels): the arrays go in flat, and from SPLIT_FROM values the caller
    and minembed's helper thread each take half of them. The NumPy twins take the arrays as they are.
    """
    if not split:
        kernel(*arrays, *scalars)
        return
    flat = [array.reshape(-1) for array in arrays]
    n = flat[0].shape[0]
    _threads.in_two_if_large(lambda lo, hi: kernel(*[array[lo:hi] for array in flat], *scalars), n, n >= SPLIT_FROM)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay, param *= 1 - lr * weight_decay each step.

    AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False).
    """

    _decoupled = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
