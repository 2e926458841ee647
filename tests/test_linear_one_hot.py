"""one_hot and Linear against torch (F.one_hot, F.linear + autograd), finite differences, and the
Embedding == one_hot @ W identity. Tolerances: float64 1e-12 (relative); float32 rtol=1e-5,
atol=1e-5 (BLAS sums in its own order, in both libraries)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.demos import one_hot_linear
from minembed.nn import Embedding, Linear
from minembed.nn import functional as F
from reference import torch_linear


@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.lists(st.integers(0, 4), max_size=3),
    explicit=st.booleans(),
    dtype=st.sampled_from([np.int64, np.int32, np.uint8]),
)
def test_one_hot_matches_torch(seed, shape, explicit, dtype):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 9, size=tuple(shape)).astype(dtype)
    if ids.size == 0 and not explicit:
        with pytest.raises(ValueError, match="empty"):
            F.one_hot(ids)
        return
    num_classes = 11 if explicit else -1
    out = F.one_hot(ids, num_classes)
    assert out.dtype == np.int64
    assert np.array_equal(out, torch_linear.one_hot(ids, num_classes))
    assert np.array_equal(out.sum(axis=-1), np.ones(ids.shape))  # exactly one 1 per id


@pytest.mark.parametrize(
    "ids, num_classes, match",
    [
        (np.array([0, -1]), -1, "non-negative"),
        (np.array([0, 3]), 3, "smaller than num_classes"),
        (np.array([0, 0]), 0, "smaller than num_classes"),
        (np.array([0]), -2, "num_classes"),
    ],
)
def test_one_hot_errors_where_torch_errors(ids, num_classes, match):
    with pytest.raises(ValueError, match=match):
        F.one_hot(ids, num_classes)
    with pytest.raises(RuntimeError):
        torch_linear.one_hot(ids, num_classes)
    with pytest.raises(TypeError):
        F.one_hot(np.array([0.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(
    seed=st.integers(0, 2**32 - 1),
    lead=st.lists(st.integers(1, 4), max_size=2),
    n_in=st.integers(1, 7),
    n_out=st.integers(1, 7),
    bias=st.booleans(),
)
def test_linear_forward_and_backward_match_torch(dtype, seed, lead, n_in, n_out, bias):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + (n_in,)).astype(dtype)
    weight = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype) if bias else None
    grad = rng.standard_normal(tuple(lead) + (n_out,)).astype(dtype)
    y_ref, (gx_ref, gw_ref, gb_ref) = torch_linear.linear(x, weight, b, grad)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    y = F.linear(x, weight, b)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, y_ref, **tolerance)
    gx, gw, gb = F.linear_backward(grad, x, weight, b)
    np.testing.assert_allclose(gx, gx_ref, **tolerance)
    np.testing.assert_allclose(gw, gw_ref, **tolerance)
    if bias:
        np.testing.assert_allclose(gb, gb_ref, **tolerance)
    else:
        assert gb is None


def test_linear_backward_matches_finite_differences(rng):
    x, weight, bias = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    grad = rng.standard_normal((3, 2))
    gx, gw, gb = F.linear_backward(grad, x, weight, bias)
    h = 1e-6
    for value, analytic, which in [(x, gx, 0), (weight, gw, 1), (bias, gb, 2)]:
        direction = rng.standard_normal(value.shape)
        args_plus, args_minus = [x, weight, bias], [x, weight, bias]
        args_plus[which], args_minus[which] = value + h * direction, value - h * direction
        numeric = (np.sum(grad * F.linear(*args_plus)) - np.sum(grad * F.linear(*args_minus))) / (2 * h)
        assert abs(numeric - np.sum(analytic * direction)) <= 1e-6 * (1 + abs(numeric))


def test_linear_module_init_accumulation_and_errors(rng):
    layer = Linear(16, 3, rng=rng)
    bound = 1 / np.sqrt(16)
    assert layer.weight.shape == (3, 16) and layer.bias.shape == (3,) and layer.weight.dtype == np.float32
    assert np.abs(layer.weight).max() <= bound and np.abs(layer.bias).max() <= bound
    torch_weight, _ = torch_linear.linear_module_init(16, 3)
    assert np.abs(torch_weight).max() <= bound  # the same bound torch's default init keeps
    assert repr(layer) == "Linear(in_features=16, out_features=3, bias=True)"
    x, grad = rng.standard_normal((5, 16)).astype(np.float32), rng.standard_normal((5, 3)).astype(np.float32)
    layer(x)
    grad_input = layer.backward(grad)
    layer.backward(grad)
    np.testing.assert_allclose(grad_input, grad @ layer.weight, rtol=1e-6)
    np.testing.assert_allclose(layer.grad_weight, 2 * grad.T @ x, rtol=1e-5)
    np.testing.assert_allclose(layer.grad_bias, 2 * grad.sum(axis=0), rtol=1e-5)
    with pytest.raises(ValueError, match="in_features"):
        layer(np.zeros((5, 15), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        layer(np.zeros((5, 16), np.float64))
    assert Linear(4, 2, bias=False).parameters()[0].shape == (2, 4)


@given(seed=st.integers(0, 2**32 - 1), vocab=st.integers(1, 20), dim=st.integers(1, 6), n=st.integers(1, 12))
def test_embedding_equals_one_hot_matmul_with_tied_weights(seed, vocab, dim, n):
    rng = np.random.default_rng(seed)
    emb = Embedding(vocab, dim, dtype=np.float64, rng=rng)
    head = Linear(vocab, dim, bias=False, dtype=np.float64)
    head.weight = emb.weight.T  # tied
    ids = rng.integers(0, vocab, size=n)
    grad = rng.standard_normal((n, dim))
    looked_up = emb(ids)
    multiplied = head(F.one_hot(ids, vocab).astype(np.float64))
    assert np.array_equal(looked_up, multiplied)  # each output is one product by 1.0 plus exact zeros
    emb.backward(grad)
    head.backward(grad)
    np.testing.assert_allclose(emb.grad, head.grad_weight.T, rtol=1e-12, atol=1e-12)
    (t_lookup, _t_lookup_grad), (_t_matmul, t_matmul_grad) = torch_linear.embedding_equals_one_hot_matmul(
        ids, emb.weight, grad
    )
    np.testing.assert_allclose(looked_up, t_lookup, rtol=1e-12)
    np.testing.assert_allclose(emb.grad, t_matmul_grad, rtol=1e-12, atol=1e-12)


def test_one_hot_linear_demo_reports_exact_agreement(capsys):
    result = one_hot_linear.run()
    assert result == {"forward_max_abs_diff": 0.0, "grad_max_abs_diff": 0.0, "shares_memory": True}
    assert "one_hot" in capsys.readouterr().out
