"""nn.Embedding: a lookup table with its gradient, mirroring torch.nn.Embedding."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from minembed.nn import init
from minembed.nn._checks import (
    FLOAT_DTYPES,
    check_float_table,
    check_grad_output,
    check_norm_args,
    flat_int64_ids,
    normalize_padding_idx,
)
from minembed.nn._grads import reset_gradient
from minembed.nn.functional.embedding import backward_from_rows, lookup_rows
from minembed.nn.parameter import Parameter


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def initial_table(
    num_embeddings: int, embedding_dim: int, padding_idx: int | None, _weight, dtype, rng, generator=None
) -> np.ndarray:
    """The (num_embeddings, embedding_dim) table of a new Embedding or EmbeddingBag.

    Without _weight: N(0, 1) drawn as torch.nn.Embedding draws it, from `generator` (a
    minembed.random.Generator; the default generator if None), then the padding row zeroed;
    or, when rng is a numpy.random.Generator, rng.standard_normal (not torch's stream).
    With _weight: the given array, used as is (shared memory, padding row untouched), as torch does.
    """
    shape = (num_embeddings, embedding_dim)
    if _weight is not None:
        weight = check_float_table(_weight, "_weight")
        if weight.shape != shape:
            raise ValueError(
                f"_weight has shape {weight.shape} but num_embeddings={num_embeddings} and "
                f"embedding_dim={embedding_dim} need {shape}"
            )
        return weight
    if np.dtype(dtype) not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
    rng, generator = init.init_source(rng, generator)
    if rng is not None:
        weight = rng.standard_normal(shape, dtype=np.dtype(dtype))
    else:
        weight = init.normal_(np.empty(shape, dtype=np.dtype(dtype)), generator=generator)
    if padding_idx is not None:
        weight[padding_idx] = 0
    return weight


class Embedding:
    """A table of num_embeddings vectors of size embedding_dim; `emb(ids)` looks rows up.

    weight: (num_embeddings, embedding_dim) ndarray, initialised N(0, 1) exactly as torch's
    (the same values for the same seed) from `generator` (a minembed.random.Generator; the
    default generator, seeded by minembed.manual_seed, if None), then the padding row zeroed.
    rng= (a numpy.random.Generator) draws from NumPy instead: not torch's stream.
    forward(ids): ids of any shape and integer dtype -> ids.shape + (embedding_dim,).
    backward(grad_output): accumulates into `grad` the gradient for the ids of the last forward:
    a dense (num_embeddings, embedding_dim) array, or a SparseRowGradient when sparse=True.

    >>> emb = Embedding(10, 3, rng=np.random.default_rng(0))
    >>> emb(np.array([[1, 2], [3, 1]])).shape
    (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: np.ndarray | None = None,
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | None = None,
        _freeze: bool = False,
        generator=None,
    ) -> None:
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        self.padding_idx = normalize_padding_idx(padding_idx, self.num_embeddings)
        check_norm_args(max_norm, norm_type)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.sparse = bool(sparse)
        self.requires_grad = not _freeze
        self.grad = None
        self._last_ids = None  # flat int64 ids of the last forward, for backward
        self._last_shape = None

        self.weight = initial_table(
            self.num_embeddings, self.embedding_dim, self.padding_idx, _weight, dtype, rng, generator
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: np.ndarray,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding over an existing (V, D) table, sharing its memory; frozen unless freeze=False."""
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (num_embeddings, embedding_dim), got shape {embeddings.shape}")
        return cls(
            embeddings.shape[0],
            embeddings.shape[1],
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def forward(self, ids: ArrayLike) -> np.ndarray:
        """ids (any shape, integer) -> ids.shape + (embedding_dim,), remembering ids for backward."""
        return self.forward_plus(ids, None)

    __call__ = forward

    def forward_plus(self, ids: ArrayLike, rows: np.ndarray | None) -> np.ndarray:
        """forward(ids) + rows in one pass: ids (..., P) integer, rows (P, embedding_dim) or None.

        The sum equals forward(ids) + rows bit for bit; TokenAndPositionEmbedding adds its
        position rows this way. The gradient is forward's (rows are a constant here).
        """
        flat, shape = flat_int64_ids(ids, self.num_embeddings)
        expected = (shape[-1] if shape else 1, self.embedding_dim)
        if rows is not None and rows.shape != expected:
            raise ValueError(f"rows must have shape {expected}, got {rows.shape}")
        out = lookup_rows(flat, self.weight, self.max_norm, self.norm_type, plus=rows)
        # A private copy: changing the caller's array later must not change the gradient.
        self._last_ids, self._last_shape = flat.copy(), shape
        return out.reshape(shape + (self.embedding_dim,))

    def backward(self, grad_output: ArrayLike) -> None:
        """Accumulate into self.grad the gradient of the last forward, given d(loss)/d(output)."""
        if not self.requires_grad:
            raise RuntimeError(
                "this Embedding is frozen (from_pretrained(..., freeze=True)); "
                "set emb.requires_grad = True or build it with freeze=False to train it"
            )
        if self._last_ids is None:
            raise RuntimeError("backward() needs a forward() first: call emb(ids), then emb.backward(grad)")
        grad = check_grad_output(grad_output, self._last_shape + (self.embedding_dim,), self.weight.dtype)
        rows = np.ascontiguousarray(grad.reshape(-1, self.embedding_dim))
        out = self.grad  # None after zero_grad(set_to_none=True): a fresh array
        # The ids were validated by forward(): go straight to the scatter.
        step = backward_from_rows(
            rows,
            self._last_ids,
            self.num_embeddings,
            self.padding_idx,
            self.scale_grad_by_freq,
            self.sparse,
            out=None if self.sparse else out,
        )
        if self.sparse and self.grad is not None:
            step = self.grad + step  # sparse gradients accumulate by concatenation, as in torch
        self.grad = step

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient, as torch's `zero_grad`: the next backward starts from zeros.

        set_to_none=True (the default) drops it: `grad` becomes None and the next backward
        writes a new array, so an array the caller kept (`g = emb.grad`) never changes.
        set_to_none=False zeroes the dense gradient in place (a parallel fill) and the next
        backward accumulates into that same array: no fresh (V, D) table to fault in each
        step, and a caller's `g = emb.grad` sees the new values. A sparse gradient is dropped.
        """
        reset_gradient(self, "grad", set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """[("weight", Parameter)]: the table and its gradient (dense, or sparse rows), for an optimizer."""
        return [("weight", Parameter("weight", self, "weight", "grad"))]  # frozen too, as torch lists it

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def extra_repr(self) -> str:
        parts = [f"{self.num_embeddings}", f"{self.embedding_dim}"]
        if self.padding_idx is not None:
            parts.append(f"padding_idx={self.padding_idx}")
        if self.max_norm is not None:
            parts.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2.0:
            parts.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            parts.append("scale_grad_by_freq=True")
        if self.sparse:
            parts.append("sparse=True")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"Embedding({self.extra_repr()})"
