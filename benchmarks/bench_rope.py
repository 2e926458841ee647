"""RoPE forward and backward on x (8, 12, 1024, 64) float32: minembed vs straightforward torch, 2 threads.

The torch side is the code most models use (HF LLaMA's rotate_half; GPT-J's pairs), with its
cos/sin tables built on every call, as minembed does. Goal (issue 6): minembed no slower.

    python benchmarks/bench_rope.py [--threads 2] [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import sys

import numba
import numpy as np
import torch

from minembed.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _timing, and the project's reference/
from _timing import best_times  # noqa: E402
from reference import torch_positional  # noqa: E402


def contenders(x, grad, interleaved: bool):
    """(step, ours, theirs) pairs of callables for one layout."""
    x_t, grad_t = torch.from_numpy(x), torch.from_numpy(grad)
    torch_rope = torch_positional.rope_interleaved if interleaved else torch_positional.rope_neox

    def theirs_forward():
        with torch.no_grad():
            return torch_rope(x_t, table_dtype=torch.float32)

    def theirs_backward():
        leaf = x_t.detach().requires_grad_(True)
        torch_rope(leaf, table_dtype=torch.float32).backward(grad_t)

    def ours_forward():
        return F.rope(x, interleaved=interleaved)

    def ours_backward():
        F.rope(x, interleaved=interleaved)
        return F.rope_backward(grad, interleaved=interleaved)

    # float32 tables (torch) vs float64-derived ones (ours) differ by ~1e-4 at position 1023.
    np.testing.assert_allclose(ours_forward(), theirs_forward().numpy(), atol=2e-3, rtol=0)
    return [("forward", ours_forward, theirs_forward), ("forward + backward", ours_backward, theirs_backward)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shape", type=int, nargs=4, default=[8, 12, 1024, 64])
    args = parser.parse_args()

    old_torch, old_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    try:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(tuple(args.shape), dtype=np.float32)
        grad = rng.standard_normal(x.shape, dtype=np.float32)
        print(f"RoPE on x {tuple(x.shape)} float32, {args.threads} threads, best of {args.repeat}")
        print(f"{'layout / step':<34}{'minembed ms':>12}{'torch ms':>10}{'speed-up':>10}")
        for interleaved, name in [(False, "split halves"), (True, "interleaved")]:
            for step, ours, theirs in contenders(x, grad, interleaved):
                t_ours, t_theirs = best_times(ours, theirs, args.repeat)
                print(f"{name + ' ' + step:<34}{t_ours * 1e3:>12.2f}{t_theirs * 1e3:>10.2f}{t_theirs / t_ours:>9.2f}x")
    finally:
        torch.set_num_threads(old_torch)
        numba.set_num_threads(old_numba)


if __name__ == "__main__":
    main()
