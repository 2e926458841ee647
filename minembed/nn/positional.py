"""Position tables and the GPT input layer: token embedding + position embedding -> (B, T, D)."""

from __future__ import annotations

import numbers

import numpy as np

from minembed.nn import functional as F
from minembed.nn._checks import FLOAT_DTYPES, as_index_array, check_grad_output
from minembed.nn._grads import reset_gradient
from minembed.nn.embedding import Embedding, _check_size, initial_table
from minembed.nn.parameter import Parameter, named_parameters_of


def _check_seq_len(seq_len, context_length: int) -> int:
    if type(seq_len) is int and 0 <= seq_len <= context_length:
        return seq_len  # the common case, without the slower isinstance(numbers.Integral) test
    if isinstance(seq_len, bool) or not isinstance(seq_len, numbers.Integral) or seq_len < 0:
        raise ValueError(f"seq_len must be a non-negative int, got {seq_len!r}")
    if seq_len > context_length:
        raise ValueError(
            f"sequence length {seq_len} is longer than context_length={context_length}: the position table "
            f"has no row for positions >= {context_length}; crop the input to its last {context_length} "
            "tokens or build the layer with a larger context_length"
        )
    return int(seq_len)


class PositionalEmbedding:
    """Learned absolute positions: a (context_length, embedding_dim) table whose row t encodes position t.

    forward(seq_len) -> (seq_len, embedding_dim), the rows of positions 0..seq_len-1 (a copy).
    backward(grad_output (..., seq_len, embedding_dim)) sums over the leading axes (the batch the
    rows were broadcast over) and accumulates into `grad` (context_length, embedding_dim).
    Initialised N(0, 1) exactly as torch.nn.Embedding(context_length, embedding_dim) is, from
    `generator` (the default generator if None); rng= (numpy) draws NumPy's stream instead.

    >>> pos = PositionalEmbedding(8, 4, rng=np.random.default_rng(0))
    >>> pos(5).shape
    (5, 4)
    """

    learned = True

    def __init__(
        self,
        context_length: int,
        embedding_dim: int,
        dtype=np.float32,
        rng: np.random.Generator | None = None,
        generator=None,
    ):
        self.context_length = _check_size("context_length", context_length)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        if np.dtype(dtype) not in FLOAT_DTYPES:
            raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
        self.weight = initial_table(self.context_length, self.embedding_dim, None, None, dtype, rng, generator)
        self.grad = None
        self._last_seq_len = None

    def forward(self, seq_len: int) -> np.ndarray:
        """The position vectors of 0..seq_len-1: (seq_len, embedding_dim)."""
        return self.rows(seq_len).copy()

    def rows(self, seq_len: int) -> np.ndarray:
        """forward(seq_len) without the copy: a read-only view of the table's first rows (for backward too)."""
        seq_len = _check_seq_len(seq_len, self.context_length)
        self._last_seq_len = seq_len
        view = self.weight[:seq_len]
        view.flags.writeable = False
        return view

    __call__ = forward

    def backward(self, grad_output) -> None:
        """Accumulate into grad the gradient for the rows of the last forward."""
        if self._last_seq_len is None:
            raise RuntimeError("backward() needs a forward() first: call pos(seq_len), then pos.backward(grad)")
        grad = np.asarray(grad_output)
        if grad.ndim < 2 or grad.shape[-2:] != (self._last_seq_len, self.embedding_dim):
            raise ValueError(
                f"grad_output has shape {grad.shape} but the forward output had shape "
                f"{(self._last_seq_len, self.embedding_dim)} (leading batch axes are summed over)"
            )
        grad = check_grad_output(grad, grad.shape, self.weight.dtype)
        leading = int(np.prod(grad.shape[:-2]))  # explicit, not -1: reshape cannot infer it when T == 0
        per_position = grad.reshape(leading, self._last_seq_len, self.embedding_dim).sum(axis=0)  # (T, D)
        if self.grad is None:
            self.grad = np.zeros_like(self.weight)
        self.grad[: self._last_seq_len] += per_position

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient as torch does: drop it, or (set_to_none=False) zero it in place."""
        reset_gradient(self, "grad", set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [("weight", Parameter("weight", self, "weight", "grad"))]

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def __repr__(self) -> str:
        return f"PositionalEmbedding({self.context_length}, {self.embedding_dim})"


class SinusoidalPositionalEmbedding:
    """The fixed sinusoidal table of F.sinusoidal_positions, with PositionalEmbedding's interface.

    It has no parameters: backward is not needed and `parameters()` is empty.
    """

    learned = False

    def __init__(self, context_length: int, embedding_dim: int, base: float = 10000.0, dtype=np.float32):
        self.context_length = _check_size("context_length", context_length)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        self.base = base
        self.weight = F.sinusoidal_positions(self.context_length, self.embedding_dim, base, dtype=dtype)

    def forward(self, seq_len: int) -> np.ndarray:
        """The position vectors of 0..seq_len-1: (seq_len, embedding_dim)."""
        return self.rows(seq_len).copy()

    def rows(self, seq_len: int) -> np.ndarray:
        """forward(seq_len) without the copy: a read-only view of the table's first rows."""
        view = self.weight[: _check_seq_len(seq_len, self.context_length)]
        view.flags.writeable = False
        return view

    __call__ = forward

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return []

    def parameters(self) -> list[Parameter]:
        return []

    def __repr__(self) -> str:
        return f"SinusoidalPositionalEmbedding({self.context_length}, {self.embedding_dim}, base={self.base})"


class TokenAndPositionEmbedding:
    """The GPT input layer: token_embedding(ids) + position_embedding(T), broadcast over the batch.

    ids (B, T) or (T,) integer, T <= context_length -> (B, T, embedding_dim) (or (T, D)).
    positional="learned" trains a PositionalEmbedding; "sinusoidal" uses the fixed table.
    backward(grad_output) accumulates token_embedding.grad and, if learned, position_embedding.grad.

    >>> layer = TokenAndPositionEmbedding(50, 16, 8, rng=np.random.default_rng(0))
    >>> layer(np.zeros((2, 10), dtype=np.int64)).shape
    (2, 10, 8)
    """

    def __init__(
        self,
        vocab_size: int,
        context_length: int,
        embedding_dim: int,
        positional: str = "learned",
        dtype=np.float32,
        rng: np.random.Generator | None = None,
        generator=None,
    ):
        # torch's course code builds the token table first, then the position table, from one stream.
        self.token_embedding = Embedding(vocab_size, embedding_dim, dtype=dtype, rng=rng, generator=generator)
        if positional == "learned":
            self.position_embedding = PositionalEmbedding(
                context_length, embedding_dim, dtype=dtype, rng=rng, generator=generator
            )
        elif positional == "sinusoidal":
            self.position_embedding = SinusoidalPositionalEmbedding(context_length, embedding_dim, dtype=dtype)
        else:
            raise ValueError(f"positional must be 'learned' or 'sinusoidal', got {positional!r}")
        self.positional = positional
        self.context_length = self.position_embedding.context_length
        self.embedding_dim = self.token_embedding.embedding_dim
        self._last_shape = None

    def forward(self, ids) -> np.ndarray:
        """ids (B, T) or (T,) -> (B, T, D) or (T, D)."""
        ids = as_index_array(ids, "ids")
        if ids.ndim not in (1, 2):
            raise ValueError(f"ids must be (B, T) or (T,), got shape {ids.shape}")
        positions = self.position_embedding.rows(ids.shape[-1])  # (T, D); checks T <= context_length
        # Token rows plus position rows in one pass over the output (the same sums as a lookup then +=).
        out = self.token_embedding.forward_plus(ids, positions)  # (B, T, D)
        self._last_shape = out.shape
        return out

    __call__ = forward

    def backward(self, grad_output) -> None:
        """Accumulate the gradients of both tables, given d(loss)/d(output) of the last forward."""
        if self._last_shape is None:
            raise RuntimeError("backward() needs a forward() first: call layer(ids), then layer.backward(grad)")
        # Check before touching either gradient, so that a bad call leaves both untouched.
        grad_output = check_grad_output(grad_output, self._last_shape, self.token_embedding.weight.dtype)
        self.token_embedding.backward(grad_output)
        if self.position_embedding.learned:
            self.position_embedding.backward(grad_output)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset both tables' gradients (see `Embedding.zero_grad`)."""
        self.token_embedding.zero_grad(set_to_none)
        if self.position_embedding.learned:
            self.position_embedding.zero_grad(set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """token_embedding.weight and (if learned) position_embedding.weight, named as in torch."""
        children = {"token_embedding": self.token_embedding, "position_embedding": self.position_embedding}
        return named_parameters_of(children)

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def __repr__(self) -> str:
        return (
            f"TokenAndPositionEmbedding(vocab_size={self.token_embedding.num_embeddings}, "
            f"context_length={self.context_length}, embedding_dim={self.embedding_dim}, "
            f"positional='{self.positional}')"
        )
