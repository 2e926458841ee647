"""SGD with momentum, dampening, Nesterov and weight decay, as torch's single-tensor SGD.

Per parameter, in torch's order (float32, scalars cast to the parameter's dtype, each
multiply-add rounded once as torch's vectorised CPU kernels do):
    grad = -grad if maximize;  weight_decay: grad = grad + weight_decay * param
    momentum: buf = grad (first step) else buf = buf * momentum + (1 - dampening) * grad
              grad = grad + momentum * buf if nesterov else buf
    param = param - lr * grad
No square root, so float32 results equal torch's bit for bit.
"""

from __future__ import annotations

import numpy as np

from minembed.nn.sparse import SparseRowGradient
from minembed.optim.kernels.adam_numpy import fma32
from minembed.optim.optimizer import Optimizer, check_hyperparameter


class SGD(Optimizer):
    """torch.optim.SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False).

    >>> from minembed.nn import Linear
    >>> layer = Linear(2, 1, rng=np.random.default_rng(0))
    >>> layer.grad_bias = np.ones(1, np.float32)
    >>> before = layer.bias.copy(); SGD([layer.parameters()[1]], lr=0.5).step()
    >>> layer.bias - before
    array([-0.5], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": check_hyperparameter("lr", lr),
            "momentum": check_hyperparameter("momentum", momentum),
            "dampening": check_hyperparameter("dampening", dampening, -np.inf),
            "weight_decay": check_hyperparameter("weight_decay", weight_decay),
            "nesterov": bool(nesterov),
            "maximize": bool(maximize),
        }
        if nesterov and (defaults["momentum"] <= 0 or defaults["dampening"] != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, dampening={dampening}"
            )
        super().__init__(params, defaults)

    def step(self) -> None:
        """One SGD step for every parameter that has a gradient."""
        for index, group, param in self._indexed_params():
            grad = param.grad
            if grad is None:
                continue
            if isinstance(grad, SparseRowGradient):
                raise RuntimeError(  # noqa: TRY004 -- torch raises RuntimeError here
                    f"minembed's SGD takes dense gradients only (parameter {param.name!r} has a sparse one); "
                    "use SparseAdam, or build the embedding with sparse=False"
                )
            data = param.data
            dtype = data.dtype.type
            grad = np.asarray(grad, dtype=data.dtype)
            if grad.shape != data.shape:
                raise ValueError(f"gradient has shape {grad.shape} but the parameter has shape {data.shape}")
            if group["maximize"]:
                grad = -grad
            if group["weight_decay"] != 0:
                grad = fma32(dtype(group["weight_decay"]), data, grad)
            momentum = group["momentum"]
            if momentum != 0:
                state = self.state.setdefault(index, {"momentum_buffer": None})
                buf = state["momentum_buffer"]
                if buf is None:
                    buf = np.array(grad, copy=True)
                else:
                    buf = fma32(dtype(1 - group["dampening"]), grad, buf * dtype(momentum))
                state["momentum_buffer"] = buf
                grad = fma32(dtype(momentum), buf, grad) if group["nesterov"] else buf
            data[...] = fma32(dtype(-group["lr"]), grad, data)
