"""NumPy twins of `minembed.nn.kernels.rope`, with the same signatures and results."""
from __future__ import annotations


def rope_halves(x, cos, sin, out):
    """Rotate pairs (x[..., i], x[..., i + d/2]) by the angles of each position. x (R, T, d)."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]  # (R, T, d/2) each
    out[..., :half] = a * cos - b * sin
    out[..., half:] = b * cos + a * sin


def rope_interleaved(x, cos, sin, out):
    """Rotate pairs (x[..., 2i], x[..., 2i + 1]) by the angles of each position. x (R, T, d)."""
    a, b = x[..., 0::2], x[..., 1::2]  # (R, T, d/2) each
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = b * cos + a * sin
