"""Parameter: one trainable array of a module and its gradient, as an optimizer sees them.

Modules keep their arrays and gradients in their own attributes (Embedding.weight/.grad,
Linear.weight/.grad_weight, ...). A Parameter is a live handle on one such pair: reading
`p.data` or `p.grad` reads the module's attribute now, and `p.grad = None` sets it. So an
optimizer can update any module the same way, and the modules keep their familiar attributes.
"""

from __future__ import annotations

import numpy as np

from minembed.nn.sparse import SparseRowGradient


class Parameter:
    """The array `owner.<data_attr>` and its gradient `owner.<grad_attr>`, under a dotted name.

    data: the ndarray the optimizer updates in place. grad: an ndarray of the same shape, a
    SparseRowGradient (rows of an embedding table), or None when no backward has run.

    >>> from minembed.nn import Linear
    >>> [(p.name, p.shape) for p in Linear(3, 2, rng=np.random.default_rng(0)).parameters()]
    [('weight', (2, 3)), ('bias', (2,))]
    """

    __slots__ = ("data_attr", "grad_attr", "name", "owner")

    def __init__(self, name: str, owner: object, data_attr: str, grad_attr: str) -> None:
        self.name = name
        self.owner = owner
        self.data_attr = data_attr
        self.grad_attr = grad_attr

    @property
    def data(self) -> np.ndarray:
        return getattr(self.owner, self.data_attr)

    @property
    def grad(self) -> np.ndarray | SparseRowGradient | None:
        return getattr(self.owner, self.grad_attr)

    @grad.setter
    def grad(self, value) -> None:
        setattr(self.owner, self.grad_attr, value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)

    def prefixed(self, prefix: str) -> Parameter:
        """The same parameter named `prefix.name`, as a parent module lists it."""
        return Parameter(f"{prefix}.{self.name}" if prefix else self.name, self.owner, self.data_attr, self.grad_attr)

    def __repr__(self) -> str:
        grad = self.grad
        kind = "None" if grad is None else type(grad).__name__
        return f"Parameter({self.name!r}, shape={self.shape}, dtype={self.dtype}, grad={kind})"


def named_parameters_of(children: dict[str, object]) -> list[tuple[str, Parameter]]:
    """(dotted name, Parameter) of every child module's parameters, the same array listed once."""
    seen: set[int] = set()
    out = []
    for prefix, child in children.items():
        for name, param in child.named_parameters():
            if id(param.data) in seen:  # a tied array (an output head sharing the token table)
                continue
            seen.add(id(param.data))
            full = f"{prefix}.{name}"
            out.append((full, param.prefixed(prefix)))
    return out
