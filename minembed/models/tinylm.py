"""TinyLM: the smallest GPT-shaped language model, built from minembed layers with hand-written backward.

    ids (B, T) -> TokenAndPositionEmbedding -> LayerNorm -> output head -> logits (B, T, V)

The head is the token table itself (tie_weights=True: logits = h @ W_tok.T, as GPT-2) or a
separate Linear(d_model, vocab_size, bias=False). There is no attention: each position predicts
the next token from its own token and position, a bigram model with learned embeddings. That is
enough to train the embedding tables the LLM way, and small enough to check step for step
against the same model in torch (reference/torch_tinylm.py).

Parameter names and construction order equal the torch reference's, so its state_dict and
random initialisation line up: embedding.token_embedding.weight, embedding.position_embedding.weight,
norm.weight, norm.bias, head.weight (untied only).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np

from minembed import _threads
from minembed._blas import one_thread_per_call
from minembed._files import atomic_write
from minembed.nn import LayerNorm, Linear, TokenAndPositionEmbedding
from minembed.nn._grads import accumulate_gradient
from minembed.nn.functional.loss import (
    TWO_THREADS_FROM,
    check_cross_entropy_targets,
    counted_targets,
    cross_entropy_rows,
    mean_loss,
)
from minembed.nn.parameter import Parameter, named_parameters_of


def sample_next_token(
    logits: np.ndarray, *, temperature: float = 1.0, top_k: int | None = None, rng: np.random.Generator | None = None
) -> int:
    """One token id from a (V,) row of logits: argmax if temperature == 0, else a softmax sample.

    top_k keeps the k largest logits. The one place randomness enters generation, so the
    random stream can be swapped (e.g. for minembed.random's torch-exact one) here alone.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    if top_k is not None and top_k < logits.shape[0]:
        cutoff = np.partition(logits, -top_k)[-top_k]
        logits = np.where(logits < cutoff, -np.inf, logits)
    scaled = logits / temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    rng = np.random.default_rng() if rng is None else rng
    return int(rng.choice(probs.shape[0], p=probs))


# The head's blocks of logits: about 8 MiB (512 rows of 4096 classes in float32). On one thread per
# call, the step's three products ran at 70 GFLOP/s on blocks of 128 rows, 86 on 256 and 104-123
# on 512 here (larger blocks spread BLAS's packing over more work); 1024 gained nothing more.
_HEAD_BLOCK_BYTES = 1 << 23
# The blocks form groups of consecutive blocks, up to as many as fit (V, d) sums of the head's gradient
# in 16 MiB (8 at V=4096, d=128 in float32; at least 2), so that a thread slowed by a busy core takes
# fewer groups. Each thread also keeps a block of logits and one of their gradient (8 MiB each at
# V=4096) and a (V, d) block of the head's gradient: at most 52 MiB in all at V=4096, d=128.
_HEAD_SUMS_BYTES = 1 << 24


def _sum_in_order(parts: list[np.ndarray], *, two_threads: bool) -> np.ndarray:
    """parts[0] + parts[1] + ..., added in list order, as a new array (the same bits on one thread or two:
    with two_threads, the helper thread adds the first half of the rows)."""
    total = np.empty_like(parts[0])

    def add_rows(lo: int, hi: int) -> None:
        if len(parts) == 1:
            total[lo:hi] = parts[0][lo:hi]
            return
        np.add(parts[0][lo:hi], parts[1][lo:hi], out=total[lo:hi])
        for part in parts[2:]:
            total[lo:hi] += part[lo:hi]

    _threads.in_two_if_large(add_rows, total.shape[0], two_threads)
    return total


class TinyLM:
    """Token + position embedding, LayerNorm, output head (tied to the token table or separate).

    forward(ids (B, T) int) -> logits (B, T, vocab_size); backward(grad_logits) accumulates every
    parameter's gradient; loss_and_backward(ids, targets) does forward, cross-entropy and backward in
    one blocked pass (the training step's fast form). sparse=True gives the token table sparse row
    gradients (train it with SparseAdam); it needs tie_weights=False, since a tied head's gradient
    touches every row.

    >>> model = TinyLM(vocab_size=20, context_length=8, d_model=4, rng=np.random.default_rng(0))
    >>> model(np.zeros((2, 5), np.int64)).shape
    (2, 5, 20)
    >>> [name for name, _ in model.named_parameters()]
    ['embedding.token_embedding.weight', 'embedding.position_embedding.weight', 'norm.weight', 'norm.bias']
    """

    def __init__(
        self,
        vocab_size: int,
        context_length: int,
        d_model: int,
        *,
        tie_weights: bool = True,
        sparse: bool = False,
        dtype=np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        if sparse and tie_weights:
            raise ValueError(
                "sparse=True needs tie_weights=False: a tied output head gives every row of the token table "
                "a gradient, so it cannot be sparse; pass tie_weights=False or sparse=False"
            )
        # Built in the torch reference's order (token table, position table, norm, head), so the same
        # seed gives the same initial weights once both draw from torch-exact random streams.
        self.embedding = TokenAndPositionEmbedding(vocab_size, context_length, d_model, dtype=dtype, rng=rng)
        self.embedding.token_embedding.sparse = bool(sparse)
        self.norm = LayerNorm(d_model, dtype=dtype)
        self.head = None if tie_weights else Linear(d_model, vocab_size, bias=False, dtype=dtype, rng=rng)
        self.vocab_size, self.context_length, self.d_model = vocab_size, context_length, d_model
        self.tie_weights, self.sparse = bool(tie_weights), bool(sparse)
        self._hidden = None  # (N, d_model) LayerNorm output of the last forward, for the head's backward
        self._buffers_key, self._buffers = None, ()  # loss_and_backward's blocks, kept between steps

    @property
    def config(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "context_length": self.context_length,
            "d_model": self.d_model,
            "tie_weights": self.tie_weights,
            "sparse": self.sparse,
        }

    @property
    def head_weight(self) -> np.ndarray:
        """The (vocab_size, d_model) matrix whose rows score the next token."""
        return self.embedding.token_embedding.weight if self.head is None else self.head.weight

    def forward(self, ids) -> np.ndarray:
        """ids (B, T) or (T,) int, T <= context_length -> logits (B, T, vocab_size) (or (T, V)) float."""
        x = self.embedding(ids)
        hidden = self.norm(x)
        flat = hidden.reshape(-1, self.d_model)
        self._hidden = flat
        logits = flat @ self.head_weight.T  # (N, V): the model's one big matrix product
        return logits.reshape(hidden.shape[:-1] + (self.vocab_size,))

    __call__ = forward

    def backward(self, grad_logits) -> None:
        """Accumulate the gradient of every parameter, given d(loss)/d(logits) of the last forward."""
        if self._hidden is None:
            raise RuntimeError("backward() needs a forward() first: call model(ids), then model.backward(grad)")
        grad = np.asarray(grad_logits)
        if grad.shape[-1] != self.vocab_size or grad.size != self._hidden.shape[0] * self.vocab_size:
            raise ValueError(
                f"grad_logits has shape {grad.shape}; the last forward made "
                f"{self._hidden.shape[0]} rows of {self.vocab_size} logits"
            )
        grad2d = grad.reshape(-1, self.vocab_size)
        grad_hidden = grad2d @ self.head_weight  # (N, d)
        self._add_head_gradient(grad2d.T @ self._hidden)  # (V, d)
        grad_x = self.norm.backward(grad_hidden.reshape(self.norm._saved[0].shape))
        self.embedding.backward(grad_x)

    def loss_and_backward(self, ids, targets, *, ignore_index: int = -100, label_smoothing: float = 0.0) -> float:
        """The mean cross-entropy of the next-token predictions, with every parameter's gradient accumulated.

        ids, targets (B, T) (or (T,)) int. The same as `loss = CrossEntropyLoss(ignore_index,
        label_smoothing)(model(ids), targets)` then `model.backward(criterion.backward())`, in one
        call that never holds the (N, V) logits or their gradient whole: the head and the loss run
        on blocks of rows, each block going from its matrix product through the loss to the two
        products of the backward while it is fresh in cache (the whole arrays would be written and
        read several times), in buffers kept from step to step. Consecutive blocks form groups, each
        with its own sum of the head's gradient; on two threads, the caller and the helper each take
        the next group left until none is, with BLAS on one thread per call (minembed._blas says why),
        so a thread slowed by a busy core does fewer. The groups' sums are added in group order.
        Equal to the three calls up to float32 rounding (the head's gradient is summed block by
        block), and the same bits on one thread as on two, whichever thread takes which group.
        """
        with _threads.one_numba_thread():  # no OpenMP workers left spinning on the helper thread's core
            hidden = self.norm(self.embedding(ids))
        flat = hidden.reshape(-1, self.d_model)
        flat_targets, ignore_index, smoothing = check_cross_entropy_targets(
            targets, hidden.shape[:-1], self.vocab_size, ignore_index, label_smoothing
        )
        count, scale = counted_targets(flat_targets, ignore_index)
        weight = self.head_weight
        n = flat.shape[0]
        block_rows = max(1, _HEAD_BLOCK_BYTES // (self.vocab_size * flat.itemsize))
        worth_two_threads = n * self.vocab_size >= TWO_THREADS_FROM
        if worth_two_threads:  # at least two blocks (whatever the thread count, so the bits do not change)
            block_rows = min(block_rows, -(-n // 2))
        n_blocks = -(-n // block_rows)
        fits = _HEAD_SUMS_BYTES // (weight.size * flat.itemsize)  # (V, d) sums in the budget
        n_groups = max(1, min(n_blocks, max(2, fits)))  # at least one per thread, at most one per block
        per_group, larger = divmod(n_blocks, n_groups)  # the first `larger` groups take one block more
        first_block = [g * per_group + min(g, larger) for g in range(n_groups + 1)]  # group g: [first, next first)
        row_loss = np.empty(n)
        grad_hidden = np.empty_like(flat)
        sums, scratch = self._head_buffers(min(block_rows, n), n_groups, flat.dtype)
        groups_left = _threads.shared_indices(n_groups)  # taken in order by whichever thread is free

        def head_groups(worker: int, split_loss: bool = False) -> None:
            """Groups of blocks until none is left: per block, logits, loss, gradient and both backward products."""
            logits, grad_logits, block_grad_head = scratch[worker]
            for group in _threads.take_until_empty(groups_left):
                for block in range(first_block[group], first_block[group + 1]):
                    start, stop = block * block_rows, min(n, (block + 1) * block_rows)
                    block_logits, block_grad = logits[: stop - start], grad_logits[: stop - start]
                    np.matmul(flat[start:stop], weight.T, out=block_logits)
                    row_loss[start:stop], _ = cross_entropy_rows(
                        block_logits,
                        flat_targets[start:stop],
                        ignore_index,
                        smoothing,
                        scale,
                        out=block_grad,
                        split=split_loss,  # never on the helper thread, which must not wait for itself
                    )
                    np.matmul(block_grad, weight, out=grad_hidden[start:stop])
                    if block == first_block[group]:
                        np.matmul(block_grad.T, flat[start:stop], out=sums[group])
                    else:
                        np.matmul(block_grad.T, flat[start:stop], out=block_grad_head)
                        sums[group] += block_grad_head

        split = False
        if n_groups > 1 and worth_two_threads and _threads.numba_threads() > 1:
            with one_thread_per_call() as split:
                if split:
                    _threads.on_both(head_groups)
        if not split:  # every group in turn on this thread: the same sums, so the same bits
            head_groups(0, split_loss=True)
        self._hidden = None  # a later backward() needs its own forward()
        # the groups' sums in group order, whichever thread made each
        grad_head = _sum_in_order(sums, two_threads=split) if n_blocks else np.zeros_like(weight)
        self._add_head_gradient(grad_head)
        with _threads.one_numba_thread():
            self.embedding.backward(self.norm.backward(grad_hidden.reshape(hidden.shape)))
        return mean_loss(row_loss, count)

    def _head_buffers(self, rows: int, n_groups: int, dtype) -> tuple[list[np.ndarray], tuple]:
        """loss_and_backward's buffers, kept from step to step (allocated anew, their pages would fault in
        on every step): each group's (V, d) sum of the head's gradient, and per thread the blocks of
        logits and of their gradient (rows, V) and a (V, d) block gradient of the head."""
        key = (rows, n_groups, np.dtype(dtype))
        if self._buffers_key != key:
            shape = (self.vocab_size, self.d_model)
            sums = [np.empty(shape, dtype) for _ in range(n_groups)]
            per_thread = tuple(
                (
                    np.empty((rows, self.vocab_size), dtype),
                    np.empty((rows, self.vocab_size), dtype),
                    np.empty(shape, dtype),
                )
                for _ in range(2)
            )
            self._buffers = (sums, per_thread)
            self._buffers_key = key
        return self._buffers

    def _add_head_gradient(self, grad_head: np.ndarray) -> None:
        """Accumulate d(loss)/d(head weight) (V, d): into the token table's gradient when the head is tied."""
        if self.head is None:
            token = self.embedding.token_embedding
            token.grad = grad_head if token.grad is None else token.grad + grad_head
        else:
            accumulate_gradient(self.head, "grad_weight", grad_head)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (torch's default), or zero the dense ones in place."""
        self.embedding.zero_grad(set_to_none)
        self.norm.zero_grad(set_to_none)
        if self.head is not None:
            self.head.zero_grad(set_to_none)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        children = {"embedding": self.embedding, "norm": self.norm}
        if self.head is not None:
            children["head"] = self.head
        return named_parameters_of(children)

    def parameters(self) -> list[Parameter]:
        return [param for _, param in self.named_parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """{name: array (a copy)}: the same names and shapes as the torch reference model's state_dict."""
        return {name: param.data.copy() for name, param in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays into the parameters, checking that names and shapes match exactly."""
        named = dict(self.named_parameters())
        if set(state) != set(named):
            raise ValueError(f"state has parameters {sorted(state)}, the model has {sorted(named)}")
        for name, param in named.items():
            value = np.asarray(state[name])
            if value.shape != param.shape:
                raise ValueError(f"{name} has shape {value.shape} in the state but {param.shape} in the model")
            param.data[...] = value

    def generate(
        self, ids, max_new_tokens: int, *, temperature: float = 0.0, top_k: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """ids (T0,) int -> (T0 + max_new_tokens,): greedy when temperature == 0, else sampled with seed.

        Each step feeds the last context_length tokens and appends one token from the last position.
        """
        tokens = [int(t) for t in np.asarray(ids).reshape(-1)]
        if not tokens:
            raise ValueError("generate needs at least one token id to start from")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 is greedy), got {temperature}")
        rng = np.random.default_rng(seed)
        for _ in range(int(max_new_tokens)):
            window = np.asarray(tokens[-self.context_length :], np.int64)
            logits = self.forward(window)[-1]
            tokens.append(sample_next_token(logits, temperature=temperature, top_k=top_k, rng=rng))
        self._hidden = None  # generation is not a training forward
        return np.asarray(tokens, np.int64)

    def save(self, path: str | os.PathLike) -> None:
        """Weights and config to .npz, or to .safetensors (loadable by torch's safetensors loader)."""
        path = Path(path)
        state = self.state_dict()
        if path.suffix not in (".npz", ".safetensors"):
            raise ValueError(f"path must end in .npz or .safetensors, got {str(path)!r}")
        if path.suffix == ".safetensors" and importlib.util.find_spec("safetensors") is None:
            raise ModuleNotFoundError(
                f"saving {str(path)!r} needs the safetensors package: pip install safetensors, or save to .npz"
            )
        with atomic_write(path, "wb") as f:
            if path.suffix == ".safetensors":
                from safetensors.numpy import save

                tensors = {k: np.ascontiguousarray(v) for k, v in state.items()}
                f.write(save(tensors, metadata={"minembed_tinylm_config": json.dumps(self.config)}))
            else:
                np.savez(f, __config__=np.array(json.dumps(self.config)), **state)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TinyLM:
        """A TinyLM from a file written by save()."""
        path = Path(path)
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as f:
                config = json.loads(f.metadata()["minembed_tinylm_config"])
                state = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 -- safe_open is not a dict
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                config = json.loads(str(data["__config__"]))
                state = {key: data[key] for key in data.files if key != "__config__"}
        else:
            raise ValueError(f"path must end in .npz or .safetensors, got {str(path)!r}")
        dtype = state["norm.weight"].dtype
        model = cls(**config, dtype=dtype, rng=np.random.default_rng(0))
        model.load_state_dict(state)
        return model

    def __repr__(self) -> str:
        head = "tied" if self.head is None else "separate"
        return (
            f"TinyLM(vocab_size={self.vocab_size}, context_length={self.context_length}, d_model={self.d_model}, "
            f"head={head}, sparse={self.sparse})"
        )
