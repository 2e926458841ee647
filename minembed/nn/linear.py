"""nn.Linear: y = x @ weight.T + bias, mirroring torch.nn.Linear."""

from __future__ import annotations

import math

import numpy as np

from minembed.nn import functional as F
from minembed.nn import init
from minembed.nn._checks import FLOAT_DTYPES
from minembed.nn._grads import accumulate_gradient, reset_gradient
from minembed.nn.embedding import _check_size
from minembed.nn.parameter import Parameter


class Linear:
    """An affine map from in_features to out_features; weight (out, in), bias (out,) or None.

    Initialised exactly as torch.nn.Linear (kaiming_uniform_(weight, a=sqrt(5)), then bias uniform
    in [-1/sqrt(in), 1/sqrt(in)]) from `generator` (a minembed.random.Generator; the default
    generator if None); rng= (a numpy.random.Generator) draws from NumPy instead: not torch's
    stream. forward(x (..., in)) -> (..., out).
    backward(grad_output (..., out)) returns grad_input (..., in) and accumulates grad_weight
    and grad_bias. The weight can be tied to an Embedding: Linear(D, V).weight = emb.weight
    makes an output head that shares the (V, D) table (see minembed.demos.one_hot_linear).

    >>> head = Linear(4, 2, rng=np.random.default_rng(0))
    >>> head(np.ones((3, 4), np.float32)).shape
    (3, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype=np.float32,
        rng: np.random.Generator | None = None,
        generator=None,
    ):
        self.in_features = _check_size("in_features", in_features)
        self.out_features = _check_size("out_features", out_features)
        if np.dtype(dtype) not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
        rng, generator = init.init_source(rng, generator)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0
        if rng is not None:
            self.weight = rng.uniform(-bound, bound, (self.out_features, self.in_features)).astype(dtype)
            self.bias = rng.uniform(-bound, bound, self.out_features).astype(dtype) if bias else None
        else:  # torch.nn.Linear.reset_parameters, draw for draw
            self.weight = np.empty((self.out_features, self.in_features), dtype=dtype)
            init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
            self.bias = init.uniform_(np.empty(self.out_features, dtype), -bound, bound, generator) if bias else None
        self.grad_weight = None
        self.grad_bias = None
        self._last_input = None

    def forward(self, x) -> np.ndarray:
        """x (..., in_features) -> (..., out_features); remembers x for backward."""
        y = F.linear(x, self.weight, self.bias)
        self._last_input = np.asarray(x)
        return y

    __call__ = forward

    def backward(self, grad_output) -> np.ndarray:
        """Accumulate grad_weight and grad_bias for the last forward; return d(loss)/dx."""
        if self._last_input is None:
            raise RuntimeError("backward() needs a forward() first: call layer(x), then layer.backward(grad)")
        grad_input, grad_weight, grad_bias = F.linear_backward(grad_output, self._last_input, self.weight, self.bias)
        accumulate_gradient(self, "grad_weight", grad_weight)  # in place, as torch accumulates
        accumulate_gradient(self, "grad_bias", grad_bias)
        return grad_input

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients as torch does: drop them, or (set_to_none=False) zero them in place."""
        reset_gradient(self, "grad_weight", set_to_none)
        reset_gradient(self, "grad_bias", set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """("weight", ...) and ("bias", ...) with their gradients grad_weight and grad_bias."""
        named = [("weight", Parameter("weight", self, "weight", "grad_weight"))]
        if self.bias is not None:
            named.append(("bias", Parameter("bias", self, "bias", "grad_bias")))
        return named

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def __repr__(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None})"
