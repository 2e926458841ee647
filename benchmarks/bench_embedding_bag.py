"""EmbeddingBag forward and training step: minembed's public API vs torch, side by side in one run.

GPT-2's table (50257 x 768 float32), mode='mean', 4096 bags of 32 ids (2-D input), 2 threads on both sides.
- forward: minembed F.embedding_bag vs torch.nn.functional.embedding_bag (fbgemm's kernel), under no_grad.
- training step, dense: the module as users run it (zero_grad, forward, backward, then the optimizer reads the
  gradient: the same NumPy read of one value per 4 KiB page on both sides) vs torch.nn.EmbeddingBag with the
  faster of its two zero_grad modes (set_to_none=True drops the gradient, False zeroes it in place).
- training step, sparse: EmbeddingBag(sparse=True) vs torch.nn.EmbeddingBag(sparse=True).
Goal (issue 6): the dense training step at least 1.5x torch's.

    python benchmarks/bench_embedding_bag.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import print_rows, same_threads, setup_environment, time_alternating, timing_row

V, D, BAGS, BAG_SIZE = 50257, 768, 4096, 32
WORK = f"{V}x{D} f32, mean, {BAGS} bags of {BAG_SIZE}, 2 threads both"


def read_pages(table: np.ndarray) -> float:
    """Touch every page of a float32 table (one value each), as an optimizer reading the gradient does."""
    return float(table.reshape(-1)[::1024].sum())


def run(quick: bool = False) -> list[dict]:
    setup_environment()
    import torch

    from minembed.nn import EmbeddingBag
    from minembed.nn import functional as F

    rounds = 3 if quick else 9
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((V, D), dtype=np.float32)
    ids = rng.integers(0, V, size=(BAGS, BAG_SIZE))
    grad = rng.standard_normal((BAGS, D), dtype=np.float32)
    t_weight, t_ids, t_grad = torch.from_numpy(weight), torch.from_numpy(ids), torch.from_numpy(grad)
    rows = []
    with same_threads():
        with torch.no_grad():
            expected = torch.nn.functional.embedding_bag(t_ids, t_weight, mode="mean").numpy()
            np.testing.assert_array_equal(F.embedding_bag(ids, weight, mode="mean"), expected)
            fwd = time_alternating(
                {
                    "minembed": lambda: F.embedding_bag(ids, weight, mode="mean"),
                    "torch": lambda: torch.nn.functional.embedding_bag(t_ids, t_weight, mode="mean"),
                },
                rounds=rounds,
            )
        rows.append(
            timing_row(
                "embedding_bag",
                f"forward, {WORK}",
                "torch F.embedding_bag (no_grad)",
                fwd["minembed"],
                fwd["torch"],
            )
        )

        for sparse in (False, True):
            ours = EmbeddingBag.from_pretrained(weight, freeze=False, mode="mean", sparse=sparse)
            theirs = torch.nn.EmbeddingBag.from_pretrained(t_weight.clone(), freeze=False, mode="mean", sparse=sparse)

            def ours_step(ours=ours, sparse=sparse):
                ours.zero_grad()
                ours(ids)
                ours.backward(grad)
                return None if sparse else read_pages(ours.grad)

            def theirs_step(set_to_none, theirs=theirs, sparse=sparse):
                def step():
                    theirs.zero_grad(set_to_none=set_to_none)
                    theirs(t_ids).backward(t_grad)
                    return None if sparse else read_pages(theirs.weight.grad.numpy())

                return step

            contenders = {"minembed": ours_step, "none": theirs_step(True)}
            if not sparse:
                contenders["in place"] = theirs_step(False)
            steps = time_alternating(contenders, rounds=rounds)
            best = min((name for name in contenders if name != "minembed"), key=lambda name: steps[name].median)
            form = (
                "torch nn.EmbeddingBag(sparse=True) autograd"
                if sparse
                else f"torch nn.EmbeddingBag autograd, zero_grad(set_to_none={best == 'none'}) (the faster)"
            )
            rows.append(
                timing_row(
                    "embedding_bag",
                    f"training step {'sparse' if sparse else 'dense + read grad'}: zero_grad, forward, backward",
                    form,
                    steps["minembed"],
                    steps[best],
                    goal=None if sparse else ">= 1.5x (issue 6)",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_rows(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
