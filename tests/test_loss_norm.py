"""CrossEntropyLoss, log_softmax and LayerNorm against torch (float64 tight, float32 stated) and finite differences."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.nn import CrossEntropyLoss, LayerNorm
from minembed.nn import functional as F
from minembed.nn.functional import normalization as normalization_module
from minembed.nn.functional.loss import cross_entropy_rows
from minembed.nn.kernels import cross_entropy as ce_numba
from minembed.nn.kernels import cross_entropy_numpy as ce_numpy
from minembed.nn.kernels import layer_norm as ln_numba
from minembed.nn.kernels import layer_norm_numpy as ln_numpy
from reference import torch_loss_norm

# float32 tolerances: torch and minembed sum in different orders (and minembed's loss in float64)
F32_RTOL, F32_ATOL = 2e-5, 2e-6


def draw_logits(seed, shape, classes, dtype, scale):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape + (classes,)) * scale).astype(dtype), rng


@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.sampled_from([(1,), (5,), (3, 4), (2, 2, 3)]),
    classes=st.integers(1, 40),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([0.1, 3.0, 50.0]),
    smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    ignore_rate=st.sampled_from([0.0, 0.3, 1.0]),
    ignore_index=st.sampled_from([-100, 0, 2]),
)
def test_cross_entropy_matches_torch(seed, shape, classes, dtype, scale, smoothing, ignore_rate, ignore_index):
    logits, rng = draw_logits(seed, shape, classes, dtype, scale)
    targets = rng.integers(0, classes, size=shape)
    targets[rng.random(shape) < ignore_rate] = ignore_index
    criterion = CrossEntropyLoss(ignore_index=ignore_index, label_smoothing=smoothing)
    loss = criterion(logits, targets)
    grad = criterion.backward()
    t_loss, t_grad = torch_loss_norm.cross_entropy(logits, targets, ignore_index, smoothing)
    assert grad.shape == logits.shape and grad.dtype == logits.dtype
    if np.isnan(t_loss):  # every target ignored: 0 / 0 in both
        assert np.isnan(loss)
        return
    rtol, atol = (1e-12, 1e-13) if dtype == np.float64 else (F32_RTOL, F32_ATOL)
    assert loss == pytest.approx(t_loss, rel=rtol, abs=atol)
    np.testing.assert_allclose(grad, t_grad, rtol=rtol, atol=atol)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e30, 0.0, -1e30]], np.float32)
    criterion = CrossEntropyLoss()
    assert criterion(logits, np.array([0])) == 0.0
    assert criterion(logits, np.array([1])) == pytest.approx(1e30, rel=1e-6)
    np.testing.assert_allclose(criterion.backward(), [[1.0, -1.0, 0.0]])


def test_cross_entropy_gradient_matches_finite_differences():
    logits, rng = draw_logits(5, (6,), 7, np.float64, 2.0)
    targets = rng.integers(0, 7, size=6)
    targets[2] = -100
    criterion = CrossEntropyLoss(label_smoothing=0.2)
    criterion(logits, targets)
    grad = criterion.backward()
    h = 1e-6
    numeric = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (
            F.cross_entropy(up, targets, label_smoothing=0.2) - F.cross_entropy(down, targets, label_smoothing=0.2)
        ) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 30),
    classes=st.integers(1, 300),
    smoothing=st.sampled_from([0.0, 0.1]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_cross_entropy_kernels_equal_numpy_twins(seed, n, classes, smoothing, dtype):
    logits, rng = draw_logits(seed, (n,), classes, dtype, 4.0)
    targets = rng.integers(-1, classes, size=n)
    kernels = [ce_numba.softmax_rows, ce_numpy.softmax_rows]
    results = [cross_entropy_rows(logits, targets, -1, smoothing, 0.25, kernel=kernel) for kernel in kernels]
    for loss, grad in results[1:]:
        np.testing.assert_allclose(results[0][0], loss, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-12)
        np.testing.assert_allclose(results[0][1], grad, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-7)


def test_cross_entropy_at_tinylm_size_splits_rows_over_two_threads_without_changing_a_bit():
    """2048 x 512 logits: 16 blocks of 128 rows, half of them on the helper thread; one Numba thread
    does them all in order. The results are the same bits, and torch's to float32 tolerance."""
    logits, rng = draw_logits(7, (2048,), 512, np.float32, 4.0)
    targets = rng.integers(0, 512, size=2048)
    runs = []
    for threads in (1, 2):
        previous = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            runs.append(cross_entropy_rows(logits, targets, -100, 0.0, 1 / 2048))
        finally:
            numba.set_num_threads(previous)
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    t_loss, t_grad = torch_loss_norm.cross_entropy(logits, targets, -100, 0.0)
    assert runs[1][0].mean() == pytest.approx(t_loss, rel=F32_RTOL, abs=F32_ATOL)
    np.testing.assert_allclose(runs[1][1], t_grad, rtol=F32_RTOL, atol=F32_ATOL)


def test_cross_entropy_bad_input_says_what_to_fix():
    with pytest.raises(IndexError, match="class 5"):
        CrossEntropyLoss()(np.zeros((2, 5), np.float32), np.array([0, 5]))
    with pytest.raises(ValueError, match="targets must have the shape"):
        CrossEntropyLoss()(np.zeros((2, 5), np.float32), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="forward"):
        CrossEntropyLoss().backward()


@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.sampled_from([(3,), (2, 5), (2, 3, 4)]),
    dtype=st.sampled_from([np.float32, np.float64]),
    scale=st.sampled_from([1.0, 80.0]),
)
def test_log_softmax_matches_torch(seed, shape, dtype, scale):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = F.log_softmax(x)
    t_y, t_grad = torch_loss_norm.log_softmax(x, g)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y, t_y, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(F.log_softmax_backward(g, y), t_grad, rtol=rtol, atol=rtol * 10)


@given(
    seed=st.integers(0, 2**32 - 1),
    lead=st.sampled_from([(1,), (4,), (2, 3)]),
    normalized=st.sampled_from([(1,), (5,), (16,), (3, 4)]),
    dtype=st.sampled_from([np.float32, np.float64]),
    affine=st.booleans(),
    bias=st.booleans(),
    eps=st.sampled_from([1e-5, 1e-2]),
    offset=st.sampled_from([0.0, 10.0]),
)
def test_layer_norm_matches_torch(seed, lead, normalized, dtype, affine, bias, eps, offset):
    rng = np.random.default_rng(seed)
    if normalized == (1,) and dtype == np.float32:
        # one value per row: x - mean is 0 exactly here, torch's float32 mean leaves ~1e-6 that
        # rstd = 1/sqrt(eps) amplifies 300x; ill-conditioned, so only compared without an offset
        offset = 0.0
    x = (rng.standard_normal(lead + normalized) + offset).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    norm = LayerNorm(normalized, eps=eps, elementwise_affine=affine, bias=bias, dtype=dtype)
    if affine:
        norm.weight[...] = rng.standard_normal(normalized)
        if bias:
            norm.bias[...] = rng.standard_normal(normalized)
    y = norm(x)
    grad_x = norm.backward(g)
    t_y, t_gx, t_gw, t_gb = torch_loss_norm.layer_norm(x, normalized, norm.weight, norm.bias, eps, g)
    rtol, atol = (1e-10, 1e-11) if dtype == np.float64 else (1e-4, 1e-4)
    if normalized == (1,) and dtype == np.float32:
        # torch's rounding of x - mean (at most an ulp of x) times rstd = 1/sqrt(eps) and the weight
        weight = 1.0 if norm.weight is None else max(1.0, float(np.abs(norm.weight).max()))
        ulp_of_x = np.finfo(np.float32).eps * float(np.abs(x).max())
        atol = max(atol, 2 * ulp_of_x / np.sqrt(eps) * weight * max(1.0, float(np.abs(g).max())))
    np.testing.assert_allclose(y, t_y, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_x, t_gx, rtol=rtol, atol=atol)
    for ours, theirs in ((norm.grad_weight, t_gw), (norm.grad_bias, t_gb)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    d=st.sampled_from([1, 3, 64, 130]),
    dtype=st.sampled_from([np.float32, np.float64]),
    offset=st.sampled_from([0.0, 10.0]),
)
def test_layer_norm_kernels_equal_numpy_twins(seed, n, d, dtype, offset):
    """The Numba rows accumulate in float64, the twins in the input's dtype: equal to its rounding."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d)) + offset).astype(dtype)
    grad = rng.standard_normal((n, d)).astype(dtype)
    weight = rng.standard_normal(d).astype(dtype)
    results = []
    for ops in (ln_numba, ln_numpy):
        x_hat, rstd, grad_input = np.empty_like(x), np.empty(n, dtype), np.empty_like(x)
        ops.normalize_rows(x, 1e-5, x_hat, rstd)
        ops.normalize_rows_backward(grad, x_hat, rstd, weight, grad_input)
        results.append((x_hat, rstd, grad_input))
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    for ours, twin in zip(*results):
        scale = max(1.0, float(np.abs(twin).max()))
        np.testing.assert_allclose(ours, twin, rtol=tolerance, atol=tolerance * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_at_tinylm_size_takes_the_kernels_and_matches_torch(dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((16, 128, 128)) * 3 + 1).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    norm = LayerNorm(128, dtype=dtype)
    norm.weight[...] = rng.standard_normal(128)
    norm.bias[...] = rng.standard_normal(128)
    assert normalization_module._ops(x.reshape(-1, 128)) is ln_numba
    y = norm(x)
    grad_x = norm.backward(g)
    t_y, t_gx, t_gw, t_gb = torch_loss_norm.layer_norm(x, (128,), norm.weight, norm.bias, 1e-5, g)
    rtol, atol = (1e-10, 1e-11) if dtype == np.float64 else (1e-4, 1e-4)
    for ours, theirs in ((y, t_y), (grad_x, t_gx), (norm.grad_weight, t_gw), (norm.grad_bias, t_gb)):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def test_layer_norm_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6))
    g = rng.standard_normal((3, 6))
    norm = LayerNorm(6, dtype=np.float64)
    norm.weight[...] = rng.standard_normal(6)
    norm(x)
    grad_x = norm.backward(g)
    h = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = ((norm(up) * g).sum() - (norm(down) * g).sum()) / (2 * h)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-8)
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]
