"""nn.LayerNorm with its backward pass, mirroring torch.nn.LayerNorm."""

from __future__ import annotations

import numbers

import numpy as np

from minembed.nn import functional as F
from minembed.nn._checks import FLOAT_DTYPES
from minembed.nn._grads import accumulate_gradient, reset_gradient
from minembed.nn.parameter import Parameter


class LayerNorm:
    """Normalizes the trailing axes normalized_shape to mean 0 and variance 1, then scales and shifts.

    y = (x - mean) / sqrt(var + eps) * weight + bias, variance biased (divided by n), as torch.
    weight starts at ones and bias at zeros (torch's init); elementwise_affine=False has neither,
    bias=False has no bias. backward(grad_output) returns d(loss)/dx and accumulates grad_weight
    and grad_bias.

    >>> norm = LayerNorm(4)
    >>> y = norm(np.arange(8, dtype=np.float32).reshape(2, 4))
    >>> bool(np.allclose(y.mean(axis=-1), 0, atol=1e-6)), norm.weight.shape
    (True, (4,))
    """

    def __init__(
        self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True, dtype=np.float32
    ) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        if not shape or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in shape):
            raise ValueError(f"normalized_shape must be a positive int or a tuple of them, got {normalized_shape!r}")
        if not isinstance(eps, numbers.Real) or not eps > 0:
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        if np.dtype(dtype) not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = np.ones(self.normalized_shape, dtype) if elementwise_affine else None
        self.bias = np.zeros(self.normalized_shape, dtype) if elementwise_affine and bias else None
        self.grad_weight = None
        self.grad_bias = None
        self._saved = None  # (x_hat, rstd) of the last forward

    def forward(self, x) -> np.ndarray:
        """x (..., *normalized_shape) -> the same shape; remembers what backward needs."""
        x = np.asarray(x)
        dtype = self.weight.dtype if self.weight is not None else x.dtype
        if x.dtype != dtype or dtype not in FLOAT_DTYPES:
            raise TypeError(f"x must be {np.dtype(dtype)} like the layer's parameters, got {x.dtype}")
        if x.shape[x.ndim - len(self.normalized_shape) :] != self.normalized_shape:
            raise ValueError(f"x has shape {x.shape} but LayerNorm normalizes trailing axes {self.normalized_shape}")
        x_hat, rstd = F.layer_norm_stats(x, self.normalized_shape, self.eps)
        self._saved = (x_hat, rstd)
        out = x_hat * self.weight if self.weight is not None else x_hat.copy()
        if self.bias is not None:
            out += self.bias
        return out

    __call__ = forward

    def backward(self, grad_output) -> np.ndarray:
        """Accumulate grad_weight and grad_bias for the last forward; return d(loss)/dx."""
        if self._saved is None:
            raise RuntimeError("backward() needs a forward() first: call norm(x), then norm.backward(grad)")
        x_hat, rstd = self._saved
        grad_input, grad_weight, grad_bias = F.layer_norm_backward(
            grad_output, x_hat, rstd, len(self.normalized_shape), self.weight, self.bias is not None
        )
        accumulate_gradient(self, "grad_weight", grad_weight)  # in place, as torch accumulates
        accumulate_gradient(self, "grad_bias", grad_bias)
        return grad_input

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (torch's default), or zero them in place with set_to_none=False."""
        reset_gradient(self, "grad_weight", set_to_none)
        reset_gradient(self, "grad_bias", set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        named = []
        if self.weight is not None:
            named.append(("weight", Parameter("weight", self, "weight", "grad_weight")))
        if self.bias is not None:
            named.append(("bias", Parameter("bias", self, "bias", "grad_bias")))
        return named

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def __repr__(self) -> str:
        return (
            f"LayerNorm({self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None})"
        )
