"""RoPE forward and forward + backward: minembed's public API vs the two torch forms models use.

x (batch, heads, T, head_dim) float32 at three shapes (GPT-2 small's training batch, a mid-size model, one
LLaMA-7B sequence of 4096), 2 threads on both sides.
- interleaved pairs: minembed F.rope(interleaved=True) vs Meta LLaMA's form: x viewed as complex
  (torch.view_as_complex), multiplied by cached freqs_cis (torch.polar), viewed back as real.
- split halves: minembed F.rope vs Hugging Face's form: x * cos + rotate_half(x) * sin with cached cos/sin
  tables of shape (T, head_dim).
The torch tables are built once, outside the timed calls, as a model caches them; minembed's public API
builds its cos/sin tables on every call (that cost is included). Backward: torch autograd from a leaf x;
minembed F.rope then F.rope_backward. Goal (issue 15): minembed at least 1.0x the faster torch form.

    python benchmarks/bench_rope.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_rows, same_threads, setup_environment, time_alternating, timing_row

SHAPES = [(8, 12, 1024, 64), (4, 32, 512, 128), (1, 32, 4096, 128)]
BASE = 10000.0


def torch_forms(seq_len: int, head_dim: int):
    """(llama, hf): the two torch RoPE functions, with their tables cached as models cache them."""
    import torch

    inv_freq = 1.0 / (BASE ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)  # (T, d/2)
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)  # complex64 (T, d/2)
    emb = torch.cat([freqs, freqs], dim=-1)  # (T, d)
    cos, sin = emb.cos(), emb.sin()

    def llama(x):
        pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
        return torch.view_as_real(pairs * freqs_cis).flatten(-2).type_as(x)

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def hf(x):
        return x * cos + rotate_half(x) * sin

    return llama, hf


def shape_rows(shape: tuple[int, ...], rng: np.random.Generator, rounds: int) -> list[dict]:
    """The six rows of one shape: forward and forward + backward, each layout, and the goal row."""
    import torch

    from minembed.nn import functional as F

    rows = []
    x = rng.standard_normal(shape, dtype=np.float32)
    grad = rng.standard_normal(shape, dtype=np.float32)
    x_t, grad_t = torch.from_numpy(x), torch.from_numpy(grad)
    llama, hf = torch_forms(shape[-2], shape[-1])
    with torch.no_grad():  # same rotation, up to float32 tables against float64-derived ones
        np.testing.assert_allclose(F.rope(x, interleaved=True), llama(x_t).numpy(), atol=5e-3, rtol=0)
        np.testing.assert_allclose(F.rope(x), hf(x_t).numpy(), atol=5e-3, rtol=0)

    def torch_forward(form):
        def call():
            with torch.no_grad():
                return form(x_t)

        return call

    def torch_backward(form):
        def call():
            leaf = x_t.detach().requires_grad_(True)
            form(leaf).backward(grad_t)
            return leaf.grad

        return call

    def ours_backward(interleaved):
        def call():
            F.rope(x, interleaved=interleaved)
            return F.rope_backward(grad, interleaved=interleaved)

        return call

    steps = {
        "forward": {
            "ours interleaved": lambda: F.rope(x, interleaved=True),
            "llama": torch_forward(llama),
            "ours halves": lambda: F.rope(x),
            "hf": torch_forward(hf),
        },
        "fwd+bwd": {
            "ours interleaved": ours_backward(True),
            "llama": torch_backward(llama),
            "ours halves": ours_backward(False),
            "hf": torch_backward(hf),
        },
    }
    label = "x".join(map(str, shape))
    for step, contenders in steps.items():
        t = time_alternating(contenders, rounds=rounds)
        work = f"{step} {label} f32, 2 threads both"
        rows.append(
            timing_row(
                "rope",
                f"{work}, interleaved",
                "LLaMA view_as_complex * cached freqs_cis",
                t["ours interleaved"],
                t["llama"],
            )
        )
        rows.append(
            timing_row(
                "rope",
                f"{work}, split halves",
                "HF rotate_half, cached cos/sin",
                t["ours halves"],
                t["hf"],
            )
        )
        ours = min(("ours interleaved", "ours halves"), key=lambda name: t[name].median)
        theirs = min(("llama", "hf"), key=lambda name: t[name].median)
        form = "LLaMA view_as_complex" if theirs == "llama" else "HF rotate_half"
        rows.append(
            timing_row(
                "rope",
                f"{work}, faster layout of each side",
                f"the faster torch form ({form})",
                t[ours],
                t[theirs],
                goal=">= 1.0x",
            )
        )
    return rows


def run(quick: bool = False) -> list[dict]:
    setup_environment()
    rounds = 3 if quick else 9
    rng = np.random.default_rng(0)
    rows = []
    with same_threads():
        for shape in SHAPES:
            rows.extend(shape_rows(shape, rng, rounds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_rows(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
