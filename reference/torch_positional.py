"""Position encodings written in torch from their published formulas (the oracle for minembed).

- sinusoidal_table: Vaswani et al. 2017, PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(...).
- rope_neox: rotary embedding on split halves, out = x * cos + rotate_half(x) * sin, with
  rotate_half(x) = cat(-x2, x1) (GPT-NeoX, HF LLaMA).
- rope_interleaved: rotary embedding on pairs (2i, 2i+1) (RoFormer, GPT-J), written as the
  2-D rotation of each pair.
The angle tables are computed in float64 and cast to x's dtype (table_dtype=None), or, with
table_dtype=torch.float32, in float32 as most model code does (the "straightforward" version).
Backward passes come from torch autograd.
"""

from __future__ import annotations

import numpy as np
import torch


def sinusoidal_table(num_positions: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """The (num_positions, dim) float64 table, sines on even features, cosines on odd ones."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    frequency = torch.pow(torch.tensor(base, dtype=torch.float64), -torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : dim // 2]
    return table.numpy()


def rope_cos_sin(positions, head_dim: int, base: float = 10000.0, dtype=torch.float64):
    """cos and sin of positions x inverse frequencies, each (T, head_dim // 2), in dtype."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).to(dtype) / head_dim))
    freqs = torch.outer(torch.as_tensor(positions).to(dtype), inv_freq)
    return freqs.cos(), freqs.sin()


def _tables(x, positions, base, table_dtype):
    seq_len, head_dim = x.shape[-2], x.shape[-1]
    positions = torch.arange(seq_len) if positions is None else torch.as_tensor(np.asarray(positions))
    cos, sin = rope_cos_sin(positions, head_dim, base, torch.float64 if table_dtype is None else table_dtype)
    return cos.to(x.dtype), sin.to(x.dtype)


def rope_neox(x: torch.Tensor, positions=None, base: float = 10000.0, table_dtype=None) -> torch.Tensor:
    """Split-halves RoPE of a torch tensor x (..., T, d)."""
    cos, sin = _tables(x, positions, base, table_dtype)
    cos, sin = torch.cat([cos, cos], dim=-1), torch.cat([sin, sin], dim=-1)  # (T, d)
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def rope_interleaved(x: torch.Tensor, positions=None, base: float = 10000.0, table_dtype=None) -> torch.Tensor:
    """Interleaved-pairs RoPE of a torch tensor x (..., T, d)."""
    cos, sin = _tables(x, positions, base, table_dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def rope(x, positions=None, base=10000.0, interleaved=False, grad_output=None):
    """NumPy in, NumPy out: (rope(x), d(loss)/dx for the given grad_output or None)."""
    xt = torch.from_numpy(np.array(x, copy=True)).requires_grad_(grad_output is not None)
    out = (rope_interleaved if interleaved else rope_neox)(xt, positions, base)
    if grad_output is None:
        return out.detach().numpy(), None
    out.backward(torch.from_numpy(np.array(grad_output, copy=True)))
    return out.detach().numpy(), xt.grad.numpy()


def token_and_position(ids, token_weight, position_weight, grad_output):
    """torch: tok_emb(ids) + pos_emb(arange(T)), with the gradients of both tables."""
    tok = torch.from_numpy(np.array(token_weight, copy=True)).requires_grad_(True)
    pos = torch.from_numpy(np.array(position_weight, copy=True)).requires_grad_(True)
    ids_t = torch.from_numpy(np.asarray(ids, dtype=np.int64))
    seq_len = ids_t.shape[-1]
    out = torch.nn.functional.embedding(ids_t, tok) + torch.nn.functional.embedding(torch.arange(seq_len), pos)
    out.backward(torch.from_numpy(np.array(grad_output, copy=True)))
    return out.detach().numpy(), tok.grad.numpy(), pos.grad.numpy()
