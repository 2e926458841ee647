"""Embedding forward and backward: minembed's public API vs torch, side by side in one run.

GPT-2's table (50257 x 768 float32), ids (8, 1024), 2 threads on both sides (numba and torch.set_num_threads).
Every contender gets the same warm-up and the same statistic (median of alternating rounds, with spread).
- forward: F.embedding vs torch.nn.functional.embedding, and vs a two-thread copy of the output's size
  (the memory-speed bar: np.copyto of two halves on two threads, and torch's Tensor.copy_ on 2 threads);
  caches are flushed before every call (the same ids would otherwise find their rows cached).
- dense backward: F.embedding_backward vs torch.ops.aten.embedding_dense_backward, each followed by the same
  NumPy read of one value per 4 KiB page of the result (a fresh gradient full of untouched zero pages is
  only cheap until someone reads it); and the module step (zero_grad + backward) vs torch's autograd step.
- sparse backward: the public F.embedding_backward(sparse=True), with its validation, vs the raw aten op
  torch.ops.aten.embedding_backward(sparse=True), and the module's backward vs torch's sparse autograd.
- max_norm: F.embedding(max_norm=1.0) vs torch.nn.functional.embedding(max_norm=1.0), table restored untimed.

    python benchmarks/bench_embedding.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import flush_caches, print_rows, same_threads, setup_environment, time_alternating, timing_row

V, D, SHAPE = 50257, 768, (8, 1024)
WORK = f"table {V}x{D} f32, ids {SHAPE}, 2 threads both"
PAGE_FLOATS = 1024  # float32 values per 4 KiB page


def read_pages(table: np.ndarray) -> float:
    """Touch every page of a float32 table (one value each): what any consumer of the gradient pays."""
    return float(table.reshape(-1)[::PAGE_FLOATS].sum())


def two_thread_copy(pool: ThreadPoolExecutor, dst: np.ndarray, src: np.ndarray) -> None:
    """np.copyto of the two halves on two threads (NumPy releases the GIL while copying)."""
    half = dst.shape[0] // 2
    first = pool.submit(np.copyto, dst[:half], src[:half])
    np.copyto(dst[half:], src[half:])
    first.result()


def run(quick: bool = False) -> list[dict]:
    setup_environment()
    import torch

    from minembed.nn import Embedding
    from minembed.nn import functional as F

    rounds = 3 if quick else 9
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((V, D), dtype=np.float32)
    ids = rng.integers(0, V, size=SHAPE)
    grad = rng.standard_normal((*SHAPE, D), dtype=np.float32)
    t_weight, t_ids, t_grad = torch.from_numpy(weight), torch.from_numpy(ids), torch.from_numpy(grad)
    rows = []
    with same_threads(), ThreadPoolExecutor(1) as pool, torch.no_grad():
        np.testing.assert_array_equal(F.embedding(ids, weight), torch.nn.functional.embedding(t_ids, t_weight).numpy())
        src = np.ones((SHAPE[0] * SHAPE[1], D), np.float32)
        dst = np.zeros_like(src)
        t_src, t_dst = torch.from_numpy(src), torch.from_numpy(dst)
        fwd = time_alternating(
            {
                "minembed": lambda: F.embedding(ids, weight),
                "torch": lambda: torch.nn.functional.embedding(t_ids, t_weight),
                "np.copyto x2": lambda: two_thread_copy(pool, dst, src),
                "torch copy_": lambda: t_dst.copy_(t_src),
            },
            setup=flush_caches,
            rounds=rounds,
        )
        rows.append(
            timing_row(
                "embedding",
                f"forward, {WORK}",
                "torch F.embedding",
                fwd["minembed"],
                fwd["torch"],
                goal=">= 1.0x (issue 2)",
            )
        )
        rows.append(
            timing_row(
                "embedding",
                "forward vs copying its output (25 MB), 2 threads",
                "np.copyto of two halves on 2 threads",
                fwd["minembed"],
                fwd["np.copyto x2"],
                goal=">= 0.77x (within 1.3x)",
            )
        )
        rows.append(
            timing_row(
                "embedding",
                "forward vs copying its output (25 MB), 2 threads",
                "torch Tensor.copy_ on 2 threads",
                fwd["minembed"],
                fwd["torch copy_"],
                goal=">= 0.77x (within 1.3x)",
            )
        )

        dense = time_alternating(
            {
                "minembed": lambda: read_pages(F.embedding_backward(grad, ids, V)),
                "torch": lambda: read_pages(
                    torch.ops.aten.embedding_dense_backward(t_grad, t_ids, V, -1, False).numpy()
                ),
            },
            rounds=rounds,
        )
        rows.append(
            timing_row(
                "embedding",
                f"dense backward, fresh gradient + reading every page, {WORK}",
                "torch.ops.aten.embedding_dense_backward",
                dense["minembed"],
                dense["torch"],
                goal=">= 3.0x (issue 2)",
            )
        )

    # A training step's backward: zero_grad(), backward, then the optimizer reads the gradient.
    # torch's zero_grad drops the gradient (set_to_none=True, its default) or zeroes it in place.
    with same_threads():
        emb = Embedding.from_pretrained(weight, freeze=False)
        t_emb = torch.nn.Embedding.from_pretrained(t_weight.clone(), freeze=False)
        emb(ids)
        t_out = t_emb(t_ids)

        def minembed_step():
            emb.zero_grad()
            emb.backward(grad)
            return read_pages(emb.grad)

        def torch_step(set_to_none):
            def step():
                t_emb.zero_grad(set_to_none=set_to_none)
                t_out.backward(t_grad, retain_graph=True)
                return read_pages(t_emb.weight.grad.numpy())

            return step

        steps = time_alternating(
            {"minembed": minembed_step, "none": torch_step(True), "in place": torch_step(False)}, rounds=rounds
        )
        best = "none" if steps["none"].median <= steps["in place"].median else "in place"
        rows.append(
            timing_row(
                "embedding",
                "module step: zero_grad + backward + read the gradient",
                f"torch nn.Embedding autograd, zero_grad(set_to_none={best == 'none'}) (the faster)",
                steps["minembed"],
                steps[best],
                goal=None,
            )
        )

        sparse = time_alternating(
            {
                "minembed": lambda: F.embedding_backward(grad, ids, V, sparse=True),
                "torch": lambda: torch.ops.aten.embedding_backward(t_grad, t_ids, V, -1, False, True),
            },
            rounds=rounds,
            repeat=20,
        )
        rows.append(
            timing_row(
                "embedding",
                f"sparse backward, public F.embedding_backward(sparse=True), {WORK}",
                "torch.ops.aten.embedding_backward(sparse=True)",
                sparse["minembed"],
                sparse["torch"],
                unit="us/call",
                goal=">= 1.0x",
            )
        )

        s_emb = Embedding.from_pretrained(weight, freeze=False, sparse=True)
        s_t = torch.nn.Embedding.from_pretrained(t_weight.clone(), freeze=False, sparse=True)
        s_emb(ids)
        s_out = s_t(t_ids)

        def minembed_module():
            s_emb.zero_grad()
            s_emb.backward(grad)

        def torch_module():
            s_t.weight.grad = None
            s_out.backward(t_grad, retain_graph=True)

        module = time_alternating({"minembed": minembed_module, "torch": torch_module}, rounds=rounds, repeat=20)
        rows.append(
            timing_row(
                "embedding",
                "sparse backward, module (zero_grad + backward)",
                "torch nn.Embedding(sparse=True) autograd backward",
                module["minembed"],
                module["torch"],
                unit="us/call",
                goal=">= 1.0x",
            )
        )

        table_np, table_t = weight.copy(), weight.copy()
        table_tt = torch.from_numpy(table_t)

        def restore():
            np.copyto(table_np, weight)
            np.copyto(table_t, weight)

        with torch.no_grad():
            norm = time_alternating(
                {
                    "minembed": lambda: F.embedding(ids, table_np, max_norm=1.0),
                    "torch": lambda: torch.nn.functional.embedding(t_ids, table_tt, max_norm=1.0),
                },
                setup=restore,
                rounds=rounds,
            )
        rows.append(
            timing_row(
                "embedding",
                f"forward with max_norm=1.0 (renorm in place), {WORK}",
                "torch F.embedding(max_norm=1.0)",
                norm["minembed"],
                norm["torch"],
                goal=">= 2.0x (issue 2)",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_rows(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
