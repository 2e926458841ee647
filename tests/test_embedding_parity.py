"""minembed.nn.Embedding against torch.nn.Embedding, on Hypothesis-drawn tables and ids.

Tolerances: the lookup and the plain dense gradient sum in torch's order and are compared bit
for bit. With max_norm the row norm is summed in a different order than torch's vectorised
norm, so renormed rows agree to float32 rtol 1e-6 / float64 rtol 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minembed.nn import Embedding
from minembed.nn import functional as F
from reference.torch_nn import one_hot_matmul, run_embedding

NORM_TYPES = [1.0, 2.0, 3.0, 0.5, 1.5, float("inf")]
RTOL = {np.float32: 1e-6, np.float64: 1e-12}


@st.composite
def embedding_cases(draw):
    """A table, ids with many duplicates, a gradient, and torch's options."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    num_embeddings = draw(st.integers(1, 40))
    dim = draw(st.sampled_from([1, 3, 8, 63, 64, 65, 130]))
    shape = draw(st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple))
    # Draw ids from a small pool so that duplicates are the rule, not the exception.
    pool = draw(st.lists(st.integers(0, num_embeddings - 1), min_size=1, max_size=5))
    ids = draw(arrays(np.int64, shape, elements=st.sampled_from(pool)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weight = (rng.standard_normal((num_embeddings, dim)) * draw(st.sampled_from([0.1, 1.0, 3.0]))).astype(dtype)
    grad = rng.standard_normal(shape + (dim,)).astype(dtype)
    options = dict(
        padding_idx=draw(st.none() | st.integers(-num_embeddings, num_embeddings - 1)),
        max_norm=draw(st.none() | st.sampled_from([0.0, 0.5, 1.0, 2.5])),
        norm_type=draw(st.sampled_from(NORM_TYPES)),
        scale_grad_by_freq=draw(st.booleans()),
        sparse=draw(st.booleans()),
    )
    return weight, ids, grad, options


def _torch_options(options):
    # torch refuses sparse gradients scaled by frequency; minembed supports them (tested below).
    if options["sparse"] and options["scale_grad_by_freq"]:
        return dict(options, scale_grad_by_freq=False)
    return options


@given(embedding_cases())
def test_module_matches_torch(case):
    weight, ids, grad, options = case
    options = _torch_options(options)
    expected = run_embedding(weight, ids, grad, **options)

    emb = Embedding.from_pretrained(weight.copy(), freeze=False, **options)
    out = emb(ids)
    emb.backward(grad)

    rtol = RTOL[weight.dtype.type]
    if options["max_norm"] is None:
        np.testing.assert_array_equal(out, expected.output)
        np.testing.assert_array_equal(emb.weight, weight)
    else:
        np.testing.assert_allclose(out, expected.output, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(emb.weight, expected.weight_after, rtol=rtol, atol=rtol)
    assert out.dtype == weight.dtype and out.shape == ids.shape + (weight.shape[1],)

    if options["sparse"]:
        np.testing.assert_array_equal(emb.grad.indices, expected.sparse_indices)
        np.testing.assert_array_equal(emb.grad.values, expected.sparse_values)
    elif options["scale_grad_by_freq"] and weight.dtype == np.float64:
        # torch accumulates float64 with a fused multiply-add; minembed rounds the product first.
        np.testing.assert_allclose(emb.grad, expected.grad, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(emb.grad, expected.grad)


@given(embedding_cases(), st.sampled_from(["numba", "numpy"]))
def test_functional_backends_match_torch(case, backend):
    weight, ids, grad, options = case
    options = _torch_options(options)
    expected = run_embedding(weight, ids, grad, **options)
    table = weight.copy()
    out = F.embedding(ids, table, options["padding_idx"], options["max_norm"], options["norm_type"], backend=backend)
    grad_weight = F.embedding_backward(
        grad, ids, weight.shape[0], options["padding_idx"], options["scale_grad_by_freq"], backend=backend
    )
    rtol = RTOL[weight.dtype.type]
    np.testing.assert_allclose(out, expected.output, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(table, expected.weight_after, rtol=rtol, atol=rtol)
    dense_expected = run_embedding(weight, ids, grad, **dict(options, sparse=False, max_norm=None)).grad
    if options["scale_grad_by_freq"] and weight.dtype == np.float64:
        np.testing.assert_allclose(grad_weight, dense_expected, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(grad_weight, dense_expected)


@given(embedding_cases())
def test_sparse_scaled_gradient_equals_dense_scaled(case):
    """torch raises for sparse + scale_grad_by_freq; minembed's sparse values densify to the dense result."""
    weight, ids, grad, options = case
    sparse = F.embedding_backward(grad, ids, weight.shape[0], options["padding_idx"], True, sparse=True)
    dense = F.embedding_backward(grad, ids, weight.shape[0], options["padding_idx"], True)
    rtol = RTOL[weight.dtype.type]
    np.testing.assert_allclose(sparse.to_dense(), dense, rtol=rtol, atol=rtol)


@given(embedding_cases())
def test_gradient_equals_one_hot_transpose_times_grad(case):
    """d(sum(G * onehot @ W))/dW = onehot.T @ G: the lookup is a matrix product in disguise."""
    weight, ids, grad, _ = case
    weight, grad = weight.astype(np.float64), grad.astype(np.float64)
    np.testing.assert_array_equal(F.embedding(ids, weight), one_hot_matmul(ids, weight))
    onehot = np.eye(weight.shape[0])[ids.reshape(-1)]  # (N, V)
    expected = onehot.T @ grad.reshape(-1, weight.shape[1])
    np.testing.assert_allclose(F.embedding_backward(grad, ids, weight.shape[0]), expected, rtol=1e-12, atol=1e-12)


def test_gradient_matches_finite_differences(rng):
    weight = rng.standard_normal((7, 5))
    ids = np.array([[1, 3, 3], [0, 6, 1]])
    upstream = rng.standard_normal(ids.shape + (5,))

    def loss(w):
        return float(np.sum(F.embedding(ids, w) * upstream))

    analytic = F.embedding_backward(upstream, ids, 7)
    eps = 1e-6
    numeric = np.zeros_like(weight)
    for r in range(7):
        for c in range(5):
            bump = np.zeros_like(weight)
            bump[r, c] = eps
            numeric[r, c] = (loss(weight + bump) - loss(weight - bump)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_batch_dense_gradient_is_bit_identical_to_torch(dtype):
    """Many repeats per row, where any other summation order would differ in the last bits."""
    rng = np.random.default_rng(7)
    weight = rng.standard_normal((100, 96)).astype(dtype)
    ids = rng.integers(0, 100, size=(64, 257))
    grad = rng.standard_normal(ids.shape + (96,)).astype(dtype)
    expected = run_embedding(weight, ids, grad).grad
    for backend in ("numba", "numpy"):
        np.testing.assert_array_equal(F.embedding_backward(grad, ids, 100, backend=backend), expected)
