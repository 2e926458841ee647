"""The TinyLM of minembed.models.tinylm written in torch, and a training loop to compare losses with.

Same layers, same names, same construction order: token table, position table, LayerNorm, head.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchTinyLM(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        context_length: int,
        d_model: int,
        *,
        tie_weights: bool = True,
        sparse: bool = False,
        dtype=torch.float32,
    ) -> None:
        super().__init__()
        self.embedding = nn.Module()
        self.embedding.token_embedding = nn.Embedding(vocab_size, d_model, sparse=sparse, dtype=dtype)
        self.embedding.position_embedding = nn.Embedding(context_length, d_model, dtype=dtype)
        self.norm = nn.LayerNorm(d_model, dtype=dtype)
        self.head = None if tie_weights else nn.Linear(d_model, vocab_size, bias=False, dtype=dtype)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[-1])
        x = self.embedding.token_embedding(ids) + self.embedding.position_embedding(positions)
        h = self.norm(x)
        weight = self.embedding.token_embedding.weight if self.head is None else self.head.weight
        return h @ weight.T


def build(state: dict[str, np.ndarray], config: dict) -> TorchTinyLM:
    """A TorchTinyLM holding copies of the given weights (config: TinyLM.config)."""
    dtype = torch.from_numpy(state["norm.weight"]).dtype
    model = TorchTinyLM(
        config["vocab_size"],
        config["context_length"],
        config["d_model"],
        tie_weights=config["tie_weights"],
        sparse=config["sparse"],
        dtype=dtype,
    )
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)
    return model


def forward_backward(state, config, x, y):
    """(logits, loss, {name: dense gradient}) of one forward/backward with cross-entropy."""
    model = build(state, config)
    logits = model(torch.from_numpy(x))
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
    loss.backward()
    grads = {
        name: (p.grad.to_dense() if p.grad.is_sparse else p.grad).numpy().copy() for name, p in model.named_parameters()
    }
    return logits.detach().numpy().copy(), float(loss.detach()), grads


def train(state, config, batches, *, lr: float = 1e-2, weight_decay: float = 0.0):
    """Losses of Adam(W) steps over batches, and the final weights; SparseAdam for a sparse token table."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only add contention on a shared machine
    try:
        return _train(state, config, batches, lr, weight_decay)
    finally:
        torch.set_num_threads(threads)


def _train(state, config, batches, lr, weight_decay):
    model = build(state, config)
    token = model.embedding.token_embedding.weight
    if config["sparse"]:
        dense = [p for p in model.parameters() if p is not token]
        optimizers = [
            torch.optim.SparseAdam([token], lr=lr),
            torch.optim.AdamW(dense, lr=lr, weight_decay=weight_decay, foreach=False),
        ]
    else:
        optimizers = [torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=False)]
    losses = []
    for x, y in batches:
        for opt in optimizers:
            opt.zero_grad()
        logits = model(torch.from_numpy(x))
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        loss.backward()
        for opt in optimizers:
            opt.step()
        losses.append(float(loss.detach()))
    return losses, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def load_safetensors_into_torch(path: str, config: dict) -> tuple[TorchTinyLM, dict]:
    """torch's safetensors loader reads the file; the weights go into a TorchTinyLM (strict names)."""
    from safetensors.torch import load_file

    tensors = load_file(path)
    model = TorchTinyLM(
        config["vocab_size"],
        config["context_length"],
        config["d_model"],
        tie_weights=config["tie_weights"],
        sparse=config["sparse"],
    )
    model.load_state_dict(tensors, strict=True)
    return model, tensors


def logits(model: TorchTinyLM, ids: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(ids)).numpy().copy()
