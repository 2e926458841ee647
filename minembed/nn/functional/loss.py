"""log_softmax and cross_entropy, with their gradients; class scores on the last axis.

torch.nn.functional.cross_entropy takes classes on axis 1 ((N, C) or (N, C, d...)); here the
classes are always the last axis ((N, C) or (..., C), targets (...)), the layout an LM's
output head produces. For (N, C) input the two agree.
"""

from __future__ import annotations

import numbers

import numpy as np

from minembed import _threads
from minembed.nn._checks import FLOAT_DTYPES, as_index_array


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x) along axis, stable for large values (the maximum is subtracted first).

    >>> log_softmax(np.array([1000.0, 1000.0]))
    array([-0.69314718, -0.69314718])
    """
    x = np.asarray(x)
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"x must be float32 or float64, got {x.dtype}; convert with x.astype(np.float32)")
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_backward(grad_output, output, axis: int = -1) -> np.ndarray:
    """d(loss)/dx of y = log_softmax(x), given d(loss)/dy and y: g - softmax(x) * sum(g)."""
    grad_output = np.asarray(grad_output)
    return grad_output - np.exp(output) * grad_output.sum(axis=axis, keepdims=True)


def check_cross_entropy_args(logits, targets, ignore_index, label_smoothing):
    """Validated (logits (N, C), targets (N,) int64, ignore_index, label_smoothing)."""
    logits = np.asarray(logits)
    if logits.dtype not in FLOAT_DTYPES:
        raise TypeError(f"logits must be float32 or float64, got {logits.dtype}")
    if logits.ndim < 1:
        raise ValueError(f"logits must have a last (class) axis, got a scalar of shape {logits.shape}")
    classes = logits.shape[-1]
    flat_targets, ignore_index, label_smoothing = check_cross_entropy_targets(
        targets, logits.shape[:-1], classes, ignore_index, label_smoothing
    )
    return np.ascontiguousarray(logits.reshape(-1, classes)), flat_targets, ignore_index, label_smoothing


def check_cross_entropy_targets(targets, shape, classes, ignore_index, label_smoothing):
    """Validated (targets (N,) int64, ignore_index, label_smoothing) for logits of shape `shape` + (classes,)."""
    targets = as_index_array(targets, "targets")
    if targets.shape != tuple(shape):
        raise ValueError(
            f"targets must have the shape of logits without its last (class) axis: logits {(*shape, classes)} "
            f"needs targets {tuple(shape)}, got {targets.shape}"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {ignore_index!r}")
    if (
        isinstance(label_smoothing, bool)
        or not isinstance(label_smoothing, numbers.Real)
        or not (0.0 <= label_smoothing <= 1.0)
    ):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    flat_targets = np.ascontiguousarray(targets.reshape(-1), dtype=np.int64)
    valid = flat_targets != ignore_index
    bad = valid & ((flat_targets < 0) | (flat_targets >= classes))
    if bad.any():
        position = int(np.argmax(bad))
        raise IndexError(
            f"targets holds class {int(flat_targets[position])} at flat position {position}, outside [0, {classes}) "
            f"for logits with {classes} classes (and it is not ignore_index={ignore_index})"
        )
    return flat_targets, int(ignore_index), float(label_smoothing)


TWO_THREADS_FROM = 1 << 17  # values; below this, handing half to the helper costs more than it saves
_BLOCK_BYTES = 1 << 18  # rows are processed in blocks of about this size, which stay in the L2 cache


def _softmax_rows(logits: np.ndarray):
    """The Numba kernel of a block of rows (kernels/cross_entropy.py), or its NumPy twin for tiny logits."""
    if logits.size < 4096:
        from minembed.nn.kernels import cross_entropy_numpy as twins

        return twins.softmax_rows
    from minembed.nn.kernels import cross_entropy as kernels

    return kernels.softmax_rows


def cross_entropy_rows(
    logits2d, targets, ignore_index, smoothing, grad_scale, *, kernel=None, with_grad=True, out=None, split=True
):
    """(row_loss (N,) float64, grad (N, C) or None) for validated logits (N, C) and int64 targets (N,).

    Per block of rows: NumPy's SIMD row maximum, then the kernel (kernels/cross_entropy.py): the
    shift, exp, sum, loss and rescale into the gradient, row by row (one sweep for float32). The
    row sums of the logits enter label smoothing only. A block (about 256 KiB) stays in cache from
    its maximum to its gradient, so the logits are read from memory once and the gradient written
    once. Large inputs give each core half of the rows (NumPy and the kernel release the GIL).
    kernel: a softmax_rows function (default: chosen by size), for the twin tests.
    out: an (N, C) array for the gradient (default: a new one). split=False keeps every row on the
    calling thread (for callers that split their rows themselves).
    """
    n, classes = logits2d.shape
    softmax_rows = _softmax_rows(logits2d) if kernel is None else kernel
    row_max, row_sum, row_loss = np.empty(n), np.zeros(n), np.empty(n)
    buffer = np.empty_like(logits2d) if out is None else out
    block = max(1, _BLOCK_BYTES // max(1, classes * logits2d.itemsize))

    def rows(lo: int, hi: int) -> None:
        for start in range(lo, hi, block):
            part = slice(start, min(start + block, hi))
            block_logits, block_targets = logits2d[part], targets[part]
            maxima = block_logits.max(axis=1) if classes else np.zeros(block_logits.shape[0], logits2d.dtype)
            if smoothing:  # the row sums of the logits enter the smoothed loss only
                sums = block_logits.sum(axis=1, dtype=np.float64)
                row_sum[part] = np.where(block_targets != ignore_index, sums, 0.0)
            softmax_rows(
                block_logits, maxima, block_targets, ignore_index, smoothing, grad_scale,
                row_max[part], row_sum[part], row_loss[part], buffer[part], with_grad,
            )  # fmt: skip

    _threads.in_two_if_large(rows, n, split and logits2d.size >= TWO_THREADS_FROM)
    return row_loss, buffer if with_grad else None


def cross_entropy_with_grad(
    logits, targets, ignore_index: int = -100, label_smoothing: float = 0.0, *, with_grad: bool = True
) -> tuple[float, np.ndarray | None]:
    """(mean loss, d(loss)/d(logits) shaped like logits, or None) in one sweep over the logits.

    The mean is over the targets that are not ignore_index (NaN when all are, as torch).
    """
    shape = np.shape(logits)
    logits2d, flat_targets, ignore_index, smoothing = check_cross_entropy_args(
        logits, targets, ignore_index, label_smoothing
    )
    count, scale = counted_targets(flat_targets, ignore_index)
    row_loss, grad = cross_entropy_rows(logits2d, flat_targets, ignore_index, smoothing, scale, with_grad=with_grad)
    return mean_loss(row_loss, count), grad.reshape(shape) if with_grad else None


def counted_targets(flat_targets: np.ndarray, ignore_index: int) -> tuple[int, float]:
    """(count, scale): how many targets are not ignore_index, and the gradient's scale 1 / count
    (NaN when none count: the mean over no targets is NaN, as in torch)."""
    count = int(np.count_nonzero(flat_targets != ignore_index))
    return count, 1.0 / count if count else np.nan


def mean_loss(row_loss: np.ndarray, count: int) -> float:
    """The mean of the row losses over the `count` targets that count (NaN when none do)."""
    return float(row_loss.sum() / count) if count else float("nan")


def cross_entropy(logits, targets, ignore_index: int = -100, label_smoothing: float = 0.0) -> float:
    """Mean softmax cross-entropy of logits (..., C) against class ids targets (...).

    With label_smoothing e, each target becomes the distribution (1 - e) * onehot + e / C;
    targets equal to ignore_index add nothing and are not counted in the mean.

    >>> round(cross_entropy(np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([0, -100])), 6)
    0.126928
    """
    return cross_entropy_with_grad(logits, targets, ignore_index, label_smoothing, with_grad=False)[0]
