"""torch's gradient contract, shared by the modules: accumulate in place, and `zero_grad(set_to_none=...)`."""

from __future__ import annotations

import numpy as np

from minembed.nn.kernels.embedding import fill_zero


def reset_gradient(owner: object, name: str, set_to_none: bool) -> None:
    """Drop `owner.<name>` (set_to_none=True), or zero a dense ndarray gradient in place.

    In place, the array keeps its memory and identity, so the next backward accumulates into
    it and a caller holding it sees the new values (as in torch). Anything else that is not
    None (a sparse gradient) is dropped: for it, empty and zero are the same.
    """
    if not isinstance(set_to_none, bool):
        raise TypeError(f"set_to_none must be a bool, got set_to_none={set_to_none!r}")
    grad = getattr(owner, name)
    if set_to_none or not isinstance(grad, np.ndarray):
        setattr(owner, name, None)
    elif grad.flags.c_contiguous and grad.flags.writeable and grad.ndim == 2 and grad.dtype.kind == "f":
        fill_zero(grad)  # the parallel fill kernel
    else:
        grad[...] = 0


def accumulate_gradient(owner: object, name: str, grad: np.ndarray | None) -> None:
    """Add `grad` into `owner.<name>` in place (as torch accumulates .grad), or set it if there is none.

    In place, so that an array kept across `zero_grad(set_to_none=False)` keeps receiving the sums.
    """
    if grad is None:
        return
    current = getattr(owner, name)
    if current is None:
        setattr(owner, name, grad)
    else:
        current += grad
