"""Positional encodings: sinusoidal table, RoPE (both layouts), learned positions, the GPT input layer.

Oracles: the formulas themselves, torch implementations in reference/torch_positional.py,
torch autograd and finite differences. Tolerances: float64 1e-12; float32 RoPE uses the same
float64-derived cos/sin tables as the torch reference, so rtol=1e-6, atol=1e-6 (an ulp or two).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.nn import PositionalEmbedding, TokenAndPositionEmbedding
from minembed.nn import functional as F
from reference import torch_positional

BACKENDS = ["numba", "numpy"]


def _tolerance(dtype):
    return {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


# ---- sinusoidal table ------------------------------------------------------------------------


@given(num_positions=st.integers(0, 40), dim=st.integers(0, 33), base=st.sampled_from([10000.0, 100.0, 2.5]))
def test_sinusoidal_table_is_the_formula(num_positions, dim, base):
    table = F.sinusoidal_positions(num_positions, dim, base)
    assert table.shape == (num_positions, dim) and table.dtype == np.float64
    for pos in range(0, num_positions, 7):
        for j in range(dim):
            angle = pos / base ** ((j - j % 2) / dim)  # pair i = j // 2 has frequency base^(-2i/dim)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(table[pos, j] - expected) <= 1e-12
    if dim % 2 == 0:
        np.testing.assert_allclose(
            table, torch_positional.sinusoidal_table(num_positions, dim, base), atol=1e-12, rtol=0
        )


def test_sinusoidal_table_by_hand():
    table = F.sinusoidal_positions(3, 512, dtype=np.float32)
    assert table.dtype == np.float32
    assert np.array_equal(table[0], np.tile([0.0, 1.0], 256))  # position 0: sin 0, cos 0
    assert table[1, 0] == np.float32(math.sin(1.0)) and table[1, 1] == np.float32(math.cos(1.0))
    assert table[2, 2] == np.float32(math.sin(2 * 10000 ** (-2 / 512)))


@pytest.mark.parametrize("args", [(-1, 4), (4, -2), (4, 4, 0.0), (4, 4, -10.0), (2.5, 4)])
def test_sinusoidal_table_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        F.sinusoidal_positions(*args)


# ---- RoPE ------------------------------------------------------------------------------------


@st.composite
def rope_inputs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    leading = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    seq_len = draw(st.integers(1, 9))
    head_dim = 2 * draw(st.integers(1, 8))
    x = rng.standard_normal(leading + (seq_len, head_dim)).astype(dtype)
    positions = draw(st.sampled_from([None, "offset", "random"]))
    if positions == "offset":
        positions = np.arange(seq_len) + draw(st.integers(0, 2000))
    elif positions == "random":
        positions = rng.integers(-50, 3000, size=seq_len)
    base = draw(st.sampled_from([10000.0, 500000.0, 10.0]))
    grad = rng.standard_normal(x.shape).astype(dtype)
    return x, positions, base, grad


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("interleaved", [False, True])
@given(inputs=rope_inputs())
def test_rope_and_its_backward_match_torch(backend, interleaved, inputs):
    x, positions, base, grad = inputs
    expected, expected_grad = torch_positional.rope(x, positions, base, interleaved, grad_output=grad)
    out = F.rope(x, positions, base, interleaved, backend=backend)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out, expected, **_tolerance(x.dtype))
    np.testing.assert_allclose(
        F.rope_backward(grad, positions, base, interleaved, backend=backend), expected_grad, **_tolerance(x.dtype)
    )


@pytest.mark.parametrize("interleaved", [False, True])
@given(inputs=rope_inputs())
def test_rope_kernels_and_twins_agree_bit_for_bit(interleaved, inputs):
    x, positions, base, grad = inputs
    assert np.array_equal(
        F.rope(x, positions, base, interleaved, backend="numba"),
        F.rope(x, positions, base, interleaved, backend="numpy"),
    )
    assert np.array_equal(
        F.rope_backward(grad, positions, base, interleaved, backend="numba"),
        F.rope_backward(grad, positions, base, interleaved, backend="numpy"),
    )


@pytest.mark.parametrize("interleaved", [False, True])
@given(inputs=rope_inputs())
def test_rope_preserves_norms_and_position_zero(interleaved, inputs):
    x, positions, base, _ = inputs
    x = x.astype(np.float64)
    out = F.rope(x, positions, base, interleaved)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    at_zero = F.rope(x, np.zeros(x.shape[-2], dtype=np.int64), base, interleaved)
    assert np.array_equal(at_zero, x)


@pytest.mark.parametrize("interleaved", [False, True])
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(0, 4000),
    n=st.integers(0, 4000),
    shift=st.integers(-500, 500),
    half_dim=st.integers(1, 16),
)
def test_rope_scores_depend_only_on_the_distance(interleaved, seed, m, n, shift, half_dim):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, 1, 2 * half_dim))  # one query and one key, T = 1

    def score(m, n):
        return float((F.rope(q, [m], interleaved=interleaved) @ F.rope(k, [n], interleaved=interleaved).T)[0, 0])

    assert abs(score(m, n) - score(m + shift, n + shift)) <= 1e-9 * (1 + np.abs(q).sum() * np.abs(k).sum())


@pytest.mark.parametrize("interleaved", [False, True])
def test_rope_backward_matches_finite_differences(interleaved, rng):
    x = rng.standard_normal((2, 5, 6))
    grad = rng.standard_normal(x.shape)
    direction = rng.standard_normal(x.shape)
    h = 1e-6

    def loss(x):
        return float(np.sum(grad * F.rope(x, interleaved=interleaved)))

    numeric = (loss(x + h * direction) - loss(x - h * direction)) / (2 * h)
    analytic = float(np.sum(F.rope_backward(grad, interleaved=interleaved) * direction))
    assert abs(numeric - analytic) <= 1e-6 * (1 + abs(analytic))


def test_the_two_layouts_are_a_permutation_of_each_other(rng):
    # Interleaved RoPE is split-halves RoPE on the features reordered evens-then-odds.
    x = rng.standard_normal((3, 7, 10)).astype(np.float32)
    perm = np.concatenate([np.arange(0, 10, 2), np.arange(1, 10, 2)])
    assert np.array_equal(F.rope(x, interleaved=True), F.rope(x[..., perm])[..., np.argsort(perm)])
    assert not np.allclose(F.rope(x, interleaved=True), F.rope(x))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: F.rope(np.zeros((4, 5))), ValueError),  # odd head_dim
        (lambda: F.rope(np.zeros(4)), ValueError),  # no T axis
        (lambda: F.rope(np.zeros((4, 6)), positions=np.arange(3)), ValueError),
        (lambda: F.rope(np.zeros((4, 6), np.int64)), TypeError),
        (lambda: F.rope(np.zeros((4, 6)), base=0), ValueError),
        (lambda: F.rope(np.zeros((4, 6)), backend="cuda"), ValueError),
    ],
)
def test_rope_rejects_bad_input(call, error):
    with pytest.raises(error):
        call()


# ---- learned positions and the GPT input layer -----------------------------------------------


def test_positional_embedding_forward_backward_and_context_limit(rng):
    pos = PositionalEmbedding(8, 3, dtype=np.float64, rng=rng)
    out = pos(5)
    assert np.array_equal(out, pos.weight[:5])
    out[0] = 99.0  # a copy: writing to it leaves the table alone
    assert pos.weight[0, 0] != 99.0
    grad = rng.standard_normal((4, 5, 3))
    pos.backward(grad)
    assert np.allclose(pos.grad[:5], grad.sum(axis=0)) and np.array_equal(pos.grad[5:], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="context_length=8"):
        pos(9)
    with pytest.raises(ValueError, match="grad_output"):
        pos.backward(np.zeros((5, 4)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 4), seq_len=st.integers(1, 8), two_d=st.booleans())
def test_token_and_position_embedding_matches_torch(dtype, seed, batch, seq_len, two_d):
    rng = np.random.default_rng(seed)
    layer = TokenAndPositionEmbedding(11, 8, 5, dtype=dtype, rng=rng)
    ids = rng.integers(0, 11, size=(batch, seq_len) if two_d else (seq_len,))
    grad = rng.standard_normal(ids.shape + (5,)).astype(dtype)
    out = layer(ids)
    layer.backward(grad)
    expected, token_grad, position_grad = torch_positional.token_and_position(
        ids, layer.token_embedding.weight, layer.position_embedding.weight, grad
    )
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert out.shape == ids.shape + (5,) and out.dtype == dtype
    np.testing.assert_array_equal(out, expected)  # one rounded add per value, on both sides
    np.testing.assert_allclose(layer.token_embedding.grad, token_grad, **tolerance)
    np.testing.assert_allclose(layer.position_embedding.grad, position_grad, **tolerance)


def test_sinusoidal_input_layer_has_a_fixed_position_table(rng):
    layer = TokenAndPositionEmbedding(11, 16, 6, positional="sinusoidal", dtype=np.float64, rng=rng)
    ids = rng.integers(0, 11, size=(2, 10))
    out = layer(ids)
    np.testing.assert_allclose(out, layer.token_embedding.weight[ids] + F.sinusoidal_positions(10, 6), atol=1e-15)
    layer.backward(np.ones_like(out))
    assert np.array_equal(layer.token_embedding.grad.sum(axis=0), np.full(6, 20.0))
    assert [p.data for p in layer.parameters()] == [layer.token_embedding.weight]  # nothing to train in the table
    assert not hasattr(layer.position_embedding, "grad")


def test_input_layer_errors_leave_gradients_untouched(rng):
    layer = TokenAndPositionEmbedding(11, 4, 3, rng=rng)
    with pytest.raises(ValueError, match="context_length=4"):
        layer(np.zeros((2, 5), np.int64))
    layer(np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="grad_output"):
        layer.backward(np.zeros((2, 3, 3), np.float32))
    assert layer.token_embedding.grad is None and layer.position_embedding.grad is None
    with pytest.raises(ValueError, match="positional"):
        TokenAndPositionEmbedding(11, 4, 3, positional="rotary")
