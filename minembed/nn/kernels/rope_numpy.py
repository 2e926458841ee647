"""NumPy twins of `minembed.nn.kernels.rope`, with the same signatures and results."""

from __future__ import annotations


def rope_halves(x, cos, sin, out):
    """Rotate pairs (x[r, i], x[r, i + d/2]) by the angles of row r's position. x (N, d), cos/sin (T, d/2)."""
    seq_len, half = cos.shape
    rows = x.reshape(-1, seq_len, 2 * half)  # (R, T, d): row r is (r // T, r % T)
    dst = out.reshape(rows.shape)
    a, b = rows[..., :half], rows[..., half:]  # (R, T, d/2) each
    dst[..., :half] = a * cos - b * sin
    dst[..., half:] = b * cos + a * sin


def rope_interleaved(x, cos, sin, out):
    """Rotate pairs (x[r, 2i], x[r, 2i + 1]) by the angles of row r's position. x (N, d), cos/sin (T, d/2)."""
    seq_len, half = cos.shape
    rows = x.reshape(-1, seq_len, 2 * half)
    dst = out.reshape(rows.shape)
    a, b = rows[..., 0::2], rows[..., 1::2]  # (R, T, d/2) each
    dst[..., 0::2] = a * cos - b * sin
    dst[..., 1::2] = b * cos + a * sin
