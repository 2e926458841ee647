"""Parity with torch at the sizes the parallel kernels split their work, through the public API only.

The embedding scatter-add deals the table's rows out in blocks of about 2 MiB to 16 parts (one thread
each at a time); small tables live in a single block, so the other tests never reach parts 1-15. The tables
here are larger than 16 blocks (> 32 MiB) and the ids hit every block. EmbeddingBag sums bags eight rows per
pass; the bags here are longer than that, with every remainder, over more columns than one column block.
Tolerances: bit-exact where the README promises it (dense float32 and float64 token gradients, the gather,
the sparse rows, EmbeddingBag's forward, RoPE, TokenAndPositionEmbedding); EmbeddingBag's sum and mean
backward differ from torch's by rounding order only (torch sums each row in an unstable sort's order).
"""

from __future__ import annotations

import numpy as np
import pytest

from minembed.nn import Embedding, EmbeddingBag, TokenAndPositionEmbedding
from minembed.nn import functional as F
from reference import torch_bag, torch_nn, torch_positional

# Facts about the scatter-add's split (see the embedding kernels' notes); used to size the tables.
BLOCK_BYTES = 2 << 20
PARTS = 16
# EmbeddingBag's forward adds this many rows per pass over the output row.
BAG_UNROLL = 8


def big_table(rng, dtype, row_bytes: int = 2048) -> np.ndarray:
    """A (V, D) table of about 40 MiB: more than PARTS blocks of BLOCK_BYTES."""
    dim = row_bytes // np.dtype(dtype).itemsize
    rows = (BLOCK_BYTES // row_bytes) * (PARTS + 4)
    return rng.standard_normal((rows, dim)).astype(dtype)


def ids_in_every_block(rng, num_embeddings: int, row_bytes: int, size: int) -> np.ndarray:
    """Random ids with repeats that hit every block of rows (so every part of the split has work)."""
    block = BLOCK_BYTES // row_bytes
    ids = rng.integers(0, num_embeddings, size=size)
    ids[: num_embeddings // block] = np.arange(0, num_embeddings, block)  # one id per block, for certain
    ids[-50:] = ids[:50]  # repeated rows, summed in order
    rng.shuffle(ids)
    blocks_hit = np.unique(ids // block)
    assert len(blocks_hit) == -(-num_embeddings // block) > PARTS
    return ids


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_and_dense_scatter_add_match_torch_bit_for_bit_on_a_table_of_every_part(dtype):
    rng = np.random.default_rng(1)
    weight = big_table(rng, dtype)
    num_embeddings, dim = weight.shape
    ids = ids_in_every_block(rng, num_embeddings, 2048, 3000).reshape(3, 1000)
    grad = rng.standard_normal(ids.shape + (dim,)).astype(dtype)
    expected = torch_nn.run_embedding(weight, ids, grad)
    np.testing.assert_array_equal(F.embedding(ids, weight), expected.output)
    np.testing.assert_array_equal(F.embedding_backward(grad, ids, num_embeddings), expected.grad)

    # The module refills its gradient buffer in place after zero_grad: the same answer again.
    emb = Embedding.from_pretrained(weight, freeze=False)
    for _ in range(2):
        emb.zero_grad()
        np.testing.assert_array_equal(emb(ids), expected.output)
        emb.backward(grad)
        np.testing.assert_array_equal(emb.grad, expected.grad)


def test_scaled_scatter_add_with_padding_matches_torch_bit_for_bit_on_a_large_table():
    rng = np.random.default_rng(2)
    weight = big_table(rng, np.float32)
    num_embeddings, dim = weight.shape
    ids = ids_in_every_block(rng, num_embeddings, 2048, 2000)
    pad = int(ids[7])
    grad = rng.standard_normal(ids.shape + (dim,)).astype(np.float32)
    expected = torch_nn.run_embedding(weight, ids, grad, padding_idx=pad, scale_grad_by_freq=True)
    got = F.embedding_backward(grad, ids, num_embeddings, padding_idx=pad, scale_grad_by_freq=True)
    np.testing.assert_array_equal(got, expected.grad)
    assert not got[pad].any()


def test_sparse_backward_matches_torch_rows_exactly_on_a_large_table():
    rng = np.random.default_rng(3)
    weight = big_table(rng, np.float32)
    num_embeddings, dim = weight.shape
    ids = ids_in_every_block(rng, num_embeddings, 2048, 2000).reshape(2, 1000)
    grad = rng.standard_normal(ids.shape + (dim,)).astype(np.float32)
    expected = torch_nn.run_embedding(weight, ids, grad, sparse=True)
    got = F.embedding_backward(grad, ids, num_embeddings, sparse=True)
    np.testing.assert_array_equal(got.indices, expected.sparse_indices)
    np.testing.assert_array_equal(got.values, expected.sparse_values)
    dense = torch_nn.run_embedding(weight, ids, grad).grad
    np.testing.assert_array_equal(got.to_dense(), dense)


def long_bags(rng, num_embeddings: int, bags: int = 400):
    """1-D ids and offsets of bags of 0..5 * BAG_UNROLL + 7 entries: every remainder of the unrolled step."""
    lengths = rng.integers(0, 5 * BAG_UNROLL + 8, size=bags)
    lengths[: 2 * BAG_UNROLL + 2] = np.arange(2 * BAG_UNROLL + 2)  # 0, 1, ..., 17 for certain
    rng.shuffle(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ids = rng.integers(0, num_embeddings, size=int(lengths.sum()))
    return ids, offsets, lengths


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_bag_on_long_bags_matches_torch(mode, dtype):
    rng = np.random.default_rng(4)
    num_embeddings, dim = 30_000, 200  # 200 columns: three full column blocks of 64 and a partial one
    weight = rng.standard_normal((num_embeddings, dim)).astype(dtype)
    ids, offsets, lengths = long_bags(rng, num_embeddings)
    assert lengths.max() > 4 * BAG_UNROLL
    grad = rng.standard_normal((len(offsets), dim)).astype(dtype)
    expected = torch_bag.embedding_bag(ids, weight, offsets, grad, mode=mode)

    bag = EmbeddingBag.from_pretrained(weight, freeze=False, mode=mode)
    np.testing.assert_array_equal(bag(ids, offsets), expected["out"])  # the forward is bit-identical
    bag.backward(grad)
    if mode == "max":  # the gradient is routed, not summed: exact
        np.testing.assert_array_equal(bag.grad, expected["grad_weight"])
    else:  # each row summed in entry order here, in an unstable sort's order in torch: a few ulp apart
        tolerance = {"rtol": 1e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-13}
        np.testing.assert_allclose(bag.grad, expected["grad_weight"], **tolerance)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_sparse_embedding_bag_on_long_bags_matches_torch(mode):
    rng = np.random.default_rng(5)
    num_embeddings, dim = 30_000, 200
    weight = rng.standard_normal((num_embeddings, dim)).astype(np.float32)
    ids, offsets, _ = long_bags(rng, num_embeddings)
    grad = rng.standard_normal((len(offsets), dim)).astype(np.float32)
    dense = torch_bag.embedding_bag(ids, weight, offsets, grad, mode=mode)["grad_weight"]
    grad_weight, _ = F.embedding_bag_backward(grad, ids, weight, offsets, mode=mode, sparse=True)
    np.testing.assert_allclose(grad_weight.to_dense(), dense, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("interleaved", [False, True])
def test_rope_matches_torch_bit_for_bit_at_a_model_size(interleaved):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 1024, 128)).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    expected, expected_grad = torch_positional.rope(x, None, 10000.0, interleaved, grad_output=grad)
    np.testing.assert_array_equal(F.rope(x, interleaved=interleaved), expected)
    np.testing.assert_array_equal(F.rope_backward(grad, interleaved=interleaved), expected_grad)


def test_token_and_position_embedding_matches_torch_bit_for_bit_on_a_table_of_every_part():
    rng = np.random.default_rng(7)
    vocab, context, dim = (BLOCK_BYTES // 2048) * (PARTS + 4), 1024, 512  # float32 rows of 2 KiB: > 32 MiB
    layer = TokenAndPositionEmbedding(vocab, context, dim, rng=rng)
    ids = ids_in_every_block(rng, vocab, 2048, 2 * context).reshape(2, context)
    grad = rng.standard_normal(ids.shape + (dim,)).astype(np.float32)
    out = layer(ids)
    layer.backward(grad)
    expected, token_grad, position_grad = torch_positional.token_and_position(
        ids, layer.token_embedding.weight, layer.position_embedding.weight, grad
    )
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(layer.token_embedding.grad, token_grad)
    np.testing.assert_array_equal(layer.position_embedding.grad, position_grad)
