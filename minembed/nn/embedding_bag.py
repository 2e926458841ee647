"""nn.EmbeddingBag: one pooled vector per bag of ids, mirroring torch.nn.EmbeddingBag."""

from __future__ import annotations

import numpy as np

from minembed.nn import functional as F
from minembed.nn._checks import (
    check_norm_args,
    normalize_padding_idx,
)
from minembed.nn._grads import reset_gradient
from minembed.nn.embedding import _check_size, initial_table
from minembed.nn.functional.embedding_bag import _check_mode, _check_mode_options
from minembed.nn.parameter import Parameter


class EmbeddingBag:
    """A (num_embeddings, embedding_dim) table whose forward pools each bag of ids into one vector.

    weight is initialised N(0, 1) from rng (a np.random.Generator; a fresh one if None), with
    the padding row zeroed, as torch does. forward(input, offsets=None, per_sample_weights=None)
    -> (B, embedding_dim): input 2-D (B, L), one bag per row, or 1-D with offsets starting each
    bag. backward(grad_output (B, embedding_dim)) accumulates the table gradient into `grad`
    (dense, or a SparseRowGradient when sparse=True) and, if per_sample_weights were given,
    stores their gradient in `grad_per_sample_weights`.

    >>> bag = EmbeddingBag(10, 3, mode="sum", rng=np.random.default_rng(0))
    >>> bag(np.array([1, 2, 4, 5, 4]), offsets=np.array([0, 2])).shape
    (2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        _weight: np.ndarray | None = None,
        dtype=np.float32,
        rng: np.random.Generator | None = None,
        generator=None,
    ):
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        check_norm_args(max_norm, norm_type)
        _check_mode(mode)
        _check_mode_options(mode, sparse, scale_grad_by_freq, None)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.mode = mode
        self.sparse = bool(sparse)
        self.include_last_offset = bool(include_last_offset)
        self.padding_idx = normalize_padding_idx(padding_idx, self.num_embeddings)
        self.requires_grad = True
        self.grad = None
        self.grad_per_sample_weights = None
        self._saved = None  # what the last forward saw, for backward

        self.weight = initial_table(
            self.num_embeddings, self.embedding_dim, self.padding_idx, _weight, dtype, rng, generator
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag over an existing (V, D) table, sharing its memory; frozen unless freeze=False."""
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (num_embeddings, embedding_dim), got shape {embeddings.shape}")
        bag = cls(
            embeddings.shape[0],
            embeddings.shape[1],
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            mode=mode,
            sparse=sparse,
            include_last_offset=include_last_offset,
            padding_idx=padding_idx,
            _weight=embeddings,
        )
        bag.requires_grad = not freeze
        return bag

    def _options(self) -> dict:
        return {
            "scale_grad_by_freq": self.scale_grad_by_freq,
            "mode": self.mode,
            "sparse": self.sparse,
            "include_last_offset": self.include_last_offset,
            "padding_idx": self.padding_idx,
        }

    def forward(self, input, offsets=None, per_sample_weights=None) -> np.ndarray:
        """input (B, L), or (N,) with offsets -> (B, embedding_dim); remembers the bags for backward."""
        out, max_indices = F.embedding_bag(
            input,
            self.weight,
            offsets,
            max_norm=self.max_norm,
            norm_type=self.norm_type,
            per_sample_weights=per_sample_weights,
            return_max_indices=True,
            **self._options(),
        )
        self._saved = (input, offsets, per_sample_weights, max_indices)
        return out

    __call__ = forward

    def backward(self, grad_output) -> None:
        """Accumulate into self.grad the table gradient of the last forward, given d(loss)/d(output)."""
        if not self.requires_grad:
            raise RuntimeError(
                "this EmbeddingBag is frozen (from_pretrained(..., freeze=True)); "
                "set bag.requires_grad = True or build it with freeze=False to train it"
            )
        if self._saved is None:
            raise RuntimeError("backward() needs a forward() first: call bag(input, offsets), then bag.backward(grad)")
        input, offsets, per_sample_weights, max_indices = self._saved
        out = self.grad  # None after zero_grad(set_to_none=True): a fresh array
        step, self.grad_per_sample_weights = F.embedding_bag_backward(
            grad_output,
            input,
            self.weight,
            offsets,
            per_sample_weights=per_sample_weights,
            max_indices=max_indices,
            out=None if self.sparse else out,
            accumulate=True,
            **self._options(),
        )
        if self.sparse and self.grad is not None:
            step = self.grad + step  # sparse gradients accumulate by concatenation, as in torch
        self.grad = step

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients, as torch's `zero_grad`: the next backward starts from zeros.

        set_to_none=True (the default) drops them, so an array the caller kept never changes;
        set_to_none=False zeroes the dense table gradient in place (a parallel fill) and the
        next backward accumulates into that same array. See `Embedding.zero_grad`.
        """
        reset_gradient(self, "grad", set_to_none)
        self.grad_per_sample_weights = None  # the gradient of an input, remade by each backward

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """[("weight", Parameter)]: the table and its gradient (dense, or sparse rows), for an optimizer."""
        return [("weight", Parameter("weight", self, "weight", "grad"))]

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def extra_repr(self) -> str:
        parts = [f"{self.num_embeddings}", f"{self.embedding_dim}"]
        if self.max_norm is not None:
            parts.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2.0:
            parts.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            parts.append("scale_grad_by_freq=True")
        parts.append(f"mode='{self.mode}'")
        if self.sparse:
            parts.append("sparse=True")
        if self.include_last_offset:
            parts.append("include_last_offset=True")
        if self.padding_idx is not None:
            parts.append(f"padding_idx={self.padding_idx}")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"EmbeddingBag({self.extra_repr()})"
