"""nn.CrossEntropyLoss: `loss = criterion(logits, targets)`, then `grad_logits = criterion.backward()`."""

from __future__ import annotations

import numpy as np

from minembed.nn.functional.loss import check_cross_entropy_args, cross_entropy_with_grad


class CrossEntropyLoss:
    """Mean softmax cross-entropy over the targets that are not ignore_index, as torch's (reduction='mean').

    logits (..., C) float, targets (...) int -> a Python float. label_smoothing e mixes each
    one-hot target with the uniform distribution: (1 - e) * onehot + e / C; ignored targets add
    nothing to the loss, its gradient or the count the mean divides by (as in torch).
    The gradient is computed in the same pass as the loss (each row of logits is read once);
    backward() returns it, shaped like logits. Classes are on the last axis (torch: axis 1).

    >>> criterion = CrossEntropyLoss()
    >>> round(criterion(np.zeros((2, 4), np.float32), np.array([1, 3])), 4)  # log(4)
    1.3863
    >>> criterion.backward()[0]
    array([ 0.125, -0.375,  0.125,  0.125], dtype=float32)
    """

    def __init__(self, ignore_index: int = -100, label_smoothing: float = 0.0, reduction: str = "mean") -> None:
        if reduction != "mean":
            raise ValueError(f"reduction must be 'mean' (the only one implemented), got {reduction!r}")
        check_cross_entropy_args(np.zeros((0, 1), np.float32), np.zeros(0, np.int64), ignore_index, label_smoothing)
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)
        self._grad = None

    def forward(self, logits, targets) -> float:
        """The mean loss; keeps d(loss)/d(logits) for backward()."""
        loss, self._grad = cross_entropy_with_grad(logits, targets, self.ignore_index, self.label_smoothing)
        return loss

    __call__ = forward

    def backward(self, grad_loss: float = 1.0) -> np.ndarray:
        """d(loss)/d(logits) of the last forward, times grad_loss; the array is handed over (not kept)."""
        if self._grad is None:
            raise RuntimeError(
                "backward() needs a forward() first (and returns the gradient once): call criterion(logits, targets)"
            )
        grad, self._grad = self._grad, None
        if grad_loss != 1.0:
            grad *= grad.dtype.type(grad_loss)
        return grad

    def __repr__(self) -> str:
        return f"CrossEntropyLoss(ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing})"
