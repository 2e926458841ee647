"""EmbeddingBag against torch.nn.functional.embedding_bag, forward and backward, kernels and twins.

Tolerances: float32 forwards (sum, mean, max, weighted sum) are bit-identical to torch. float32
table gradients: torch sums each row in the order of an unstable sort, we sum in entry order,
so they agree to rtol=atol=1e-5 here (a few ulp per addition). float64: rtol=1e-12, atol=1e-12.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.nn import EmbeddingBag, SparseRowGradient
from minembed.nn import functional as F
from minembed.nn.functional.embedding_bag import bag_bounds
from reference import torch_bag

BACKENDS = ["numba", "numpy"]


@st.composite
def bag_problems(draw, modes=("sum", "mean", "max"), allow_trailing=False):
    """A random bag layout with a table, options and an output gradient."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    num_embeddings = draw(st.integers(1, 12))
    dim = draw(st.integers(1, 9))
    mode = draw(st.sampled_from(modes))
    padding_idx = draw(st.none() | st.integers(-num_embeddings, num_embeddings - 1))
    two_d = draw(st.booleans())
    include_last_offset = False
    if two_d:
        ids = rng.integers(0, num_embeddings, size=(draw(st.integers(1, 5)), draw(st.integers(1, 6))))
        offsets = None
    else:
        n = draw(st.integers(0, 30))
        ids = rng.integers(0, num_embeddings, size=n)
        n_bags = draw(st.integers(1, 6))
        offsets = np.sort(rng.integers(0, n + 1, size=n_bags))
        offsets[0] = 0
        include_last_offset = draw(st.booleans())
        if include_last_offset and not allow_trailing:
            offsets = np.append(offsets, n)  # torch leaves gradient garbage for ids after the last offset
    weighted = mode == "sum" and draw(st.booleans())
    psw = rng.standard_normal(ids.shape).astype(dtype) if weighted else None
    scale_grad_by_freq = mode != "max" and draw(st.booleans())
    # A few repeated values make ties in max mode likely.
    weight = (
        rng.integers(-3, 4, size=(num_embeddings, dim)).astype(dtype)
        if draw(st.booleans())
        else (rng.standard_normal((num_embeddings, dim)).astype(dtype))
    )
    n_out = ids.shape[0] if two_d else len(offsets) - int(include_last_offset)
    grad = rng.standard_normal((n_out, dim)).astype(dtype)
    options = {
        "mode": mode,
        "padding_idx": padding_idx,
        "include_last_offset": include_last_offset,
        "per_sample_weights": psw,
    }
    return ids, offsets, weight, grad, options, scale_grad_by_freq


def _tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def correct_dense_grad(
    ids, offsets, weight, grad, mode, padding_idx, include_last_offset, per_sample_weights, scale_grad_by_freq
):
    """The textbook gradient in float64, entry by entry (sum and mean modes)."""
    flat, bounds, _ = bag_bounds(ids, offsets, include_last_offset)
    pad = None if padding_idx is None else padding_idx % weight.shape[0]
    psw = None if per_sample_weights is None else np.asarray(per_sample_weights, np.float64).ravel()
    counts = np.bincount(flat, minlength=weight.shape[0])
    expected = np.zeros(weight.shape)
    for b in range(len(bounds) - 1):
        entries = [i for i in range(bounds[b], bounds[b + 1]) if flat[i] != pad]
        for i in entries:
            scale = 1.0 / len(entries) if mode == "mean" else 1.0
            if psw is not None:
                scale *= psw[i]
            if scale_grad_by_freq:
                scale /= counts[flat[i]]
            expected[flat[i]] += scale * grad[b]
    return expected


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=bag_problems())
def test_forward_and_backward_match_torch(backend, problem):
    ids, offsets, weight, grad, options, _scale_grad_by_freq = problem
    ref = torch_bag.embedding_bag(ids, weight, offsets, grad, **options)
    out, max_indices = F.embedding_bag(ids, weight, offsets, backend=backend, return_max_indices=True, **options)
    if weight.dtype == np.float32:
        assert np.array_equal(out, ref["out"])  # same order, same (fused) roundings
    else:
        np.testing.assert_allclose(out, ref["out"], rtol=1e-12, atol=1e-12)
    grad_weight, grad_psw = F.embedding_bag_backward(
        grad, ids, weight, offsets, max_indices=max_indices, backend=backend, **options
    )
    np.testing.assert_allclose(grad_weight, ref["grad_weight"], **_tolerance(weight.dtype))
    if options["per_sample_weights"] is not None:
        np.testing.assert_allclose(grad_psw, ref["grad_psw"], **_tolerance(weight.dtype))
    else:
        assert grad_psw is None


@given(problem=bag_problems(modes=("sum", "mean")))
def test_backward_is_the_textbook_formula_including_frequency_scaling(problem):
    ids, offsets, weight, grad, options, scale_grad_by_freq = problem
    for backend in BACKENDS:
        got, _ = F.embedding_bag_backward(
            grad, ids, weight, offsets, scale_grad_by_freq=scale_grad_by_freq, backend=backend, **options
        )
        expected = correct_dense_grad(ids, offsets, weight, grad, scale_grad_by_freq=scale_grad_by_freq, **options)
        np.testing.assert_allclose(got, expected, **_tolerance(weight.dtype))


def test_frequency_scaling_is_correct_where_torch_2_13_is_not():
    # The example of pytorch#190063: each id's gradient, divided by its count, sums to exactly 1.
    ids, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 0]), np.array([0, 3, 3, 6])
    weight = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    grad = np.ones((4, 3), np.float32)
    for backend in BACKENDS:
        ours, _ = F.embedding_bag_backward(
            grad, ids, weight, offsets, mode="sum", scale_grad_by_freq=True, backend=backend
        )
        assert np.array_equal(ours, np.ones((6, 3), np.float32))
    theirs = torch_bag.embedding_bag(ids, weight, offsets, grad, mode="sum", scale_grad_by_freq=True)["grad_weight"]
    # torch 2.13 divides by the count of another id; when torch is fixed this test tells us.
    assert not np.allclose(theirs, 1.0), "torch now scales bags by frequency correctly: pytorch#190063 is fixed"


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=bag_problems(modes=("sum", "mean")))
def test_sparse_gradient_matches_torch(backend, problem):
    ids, offsets, weight, grad, options, _ = problem
    ref = torch_bag.embedding_bag(ids, weight, offsets, grad, sparse=True, **options)
    got, _ = F.embedding_bag_backward(grad, ids, weight, offsets, sparse=True, backend=backend, **options)
    assert isinstance(got, SparseRowGradient)
    ref_indices, ref_values = ref["grad_weight"]
    assert np.array_equal(got.indices, ref_indices)
    np.testing.assert_allclose(got.values, ref_values, **_tolerance(weight.dtype))
    dense, _ = F.embedding_bag_backward(grad, ids, weight, offsets, backend=backend, **options)
    np.testing.assert_allclose(got.to_dense(), dense, **_tolerance(weight.dtype))


@given(problem=bag_problems(allow_trailing=True))
def test_kernels_and_twins_agree_bit_for_bit(problem):
    ids, offsets, weight, grad, options, scale_grad_by_freq = problem
    results = []
    for backend in BACKENDS:
        out, max_indices = F.embedding_bag(ids, weight, offsets, backend=backend, return_max_indices=True, **options)
        grad_weight, grad_psw = F.embedding_bag_backward(
            grad,
            ids,
            weight,
            offsets,
            scale_grad_by_freq=scale_grad_by_freq,
            max_indices=max_indices,
            backend=backend,
            **options,
        )
        results.append((out, max_indices, grad_weight, grad_psw))
    (out_a, idx_a, gw_a, psw_a), (out_b, idx_b, gw_b, psw_b) = results
    assert np.array_equal(out_a, out_b)
    assert (idx_a is None and idx_b is None) or np.array_equal(idx_a, idx_b)
    assert np.array_equal(gw_a, gw_b)
    if psw_a is not None:
        # each is a dot product (grad row . weight row) summed in a different order by kernel and twin:
        # near cancellation only an absolute bound on the order's rounding holds
        eps = np.finfo(out_a.dtype).eps
        atol = 64 * eps * max(1.0, float(np.abs(psw_b).max(initial=0.0)))
        np.testing.assert_allclose(psw_a, psw_b, rtol=1e-6 if out_a.dtype == np.float32 else 1e-14, atol=atol)


def test_ids_after_the_last_offset_are_ignored_forward_and_backward():
    weight = np.arange(12, dtype=np.float32).reshape(6, 2)
    ids, offsets = np.array([1, 2, 3, 4, 5, 0]), np.array([0, 2, 4])
    for backend in BACKENDS:
        out = F.embedding_bag(ids, weight, offsets, mode="sum", include_last_offset=True, backend=backend)
        assert np.array_equal(out, [weight[1] + weight[2], weight[3] + weight[4]])
        assert np.array_equal(
            out, torch_bag.embedding_bag(ids, weight, offsets, mode="sum", include_last_offset=True)["out"]
        )
        grad, _ = F.embedding_bag_backward(
            np.ones((2, 2), np.float32), ids, weight, offsets, mode="sum", include_last_offset=True, backend=backend
        )
        assert np.array_equal(grad[[0, 5]], np.zeros((2, 2)))  # torch leaves uninitialised memory in row 0
        assert np.array_equal(grad[1:5], np.ones((4, 2)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_checked_cases(backend):
    w = np.array([[0, 0], [1, 5], [3, 1], [3, 5]], dtype=np.float32)  # rows 1 and 3 tie in column 1
    pad = 0
    # [1, 2, pad] has mean (w1 + w2) / 2: padding is not counted; the second bag is empty.
    out = F.embedding_bag(
        np.array([1, 2, pad, 3]), w, np.array([0, 3, 3]), mode="mean", padding_idx=pad, backend=backend
    )
    assert np.array_equal(out, [[2, 3], [0, 0], [3, 5]])
    # Max: column 0 ties between rows 2 and 3, column 1 between rows 3 and 1: the first entry wins.
    ids = np.array([[2, 3, 1]])
    out, max_indices = F.embedding_bag(ids, w, mode="max", return_max_indices=True, backend=backend)
    assert np.array_equal(out, [[3, 5]]) and np.array_equal(max_indices, [[0, 1]])
    grad, _ = F.embedding_bag_backward(
        np.array([[10, 20]], np.float32), ids, w, mode="max", max_indices=max_indices, backend=backend
    )
    assert np.array_equal(grad, [[0, 0], [0, 0], [10, 0], [0, 20]])
    assert np.array_equal(
        grad, torch_bag.embedding_bag(ids, w, None, np.array([[10, 20]], np.float32), mode="max")["grad_weight"]
    )
    # A bag of only padding, and a (B, 0) input, give zeros (torch raises "step must be nonzero" for (B, 0)).
    assert np.array_equal(
        F.embedding_bag(np.array([[pad, pad]]), w, padding_idx=pad, mode="max", backend=backend), [[0, 0]]
    )
    assert np.array_equal(F.embedding_bag(np.zeros((3, 0), np.int64), w, backend=backend), np.zeros((3, 2)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_norm_renormalises_like_torch(backend, rng):
    weight = (rng.standard_normal((10, 4)) * 3).astype(np.float32)
    ids, offsets = rng.integers(0, 10, size=12), np.array([0, 5, 9])
    ref = torch_bag.embedding_bag(ids, weight, offsets, mode="sum", max_norm=1.5, norm_type=2.0)
    ours = weight.copy()
    out = F.embedding_bag(ids, ours, offsets, mode="sum", max_norm=1.5, backend=backend)
    # The renorm is the Embedding's kernel (norm accumulated in float64; torch accumulates in
    # float32), so a renormalised row can differ from torch's by an ulp.
    np.testing.assert_allclose(ours, ref["weight"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out, ref["out"], rtol=1e-6, atol=1e-6)
    assert np.all(np.linalg.norm(ours[np.unique(ids)], axis=1) <= 1.5)
    untouched = np.setdiff1d(np.arange(10), ids)
    assert np.array_equal(ours[untouched], weight[untouched])


def test_backward_does_not_depend_on_the_thread_count(rng):
    weight = rng.standard_normal((50, 70)).astype(np.float32)
    ids, grad = rng.integers(0, 5, size=(40, 9)), rng.standard_normal((40, 70)).astype(np.float32)  # many repeats
    previous = numba.get_num_threads()
    try:
        grads = []
        for threads in sorted({1, previous}):
            numba.set_num_threads(threads)
            grads.append(F.embedding_bag_backward(grad, ids, weight, mode="mean")[0])
    finally:
        numba.set_num_threads(previous)
    assert all(np.array_equal(grads[0], g) for g in grads)


W = np.zeros((6, 3), np.float32)
BAD_CALLS = [
    # (description, args, kwargs, our exception type)
    ("offsets[0] != 0", (np.arange(4), W, np.array([1, 2])), {}, ValueError),
    ("decreasing offsets", (np.arange(4), W, np.array([0, 3, 2])), {}, ValueError),
    ("negative offset", (np.arange(4), W, np.array([0, -1, 2])), {}, ValueError),
    ("offsets[-1] > N", (np.arange(4), W, np.array([0, 5])), {}, ValueError),
    ("id out of range", (np.array([0, 6]), W, np.array([0])), {}, IndexError),
    ("negative id", (np.array([0, -1]), W, np.array([0])), {}, IndexError),
    ("1-D without offsets", (np.arange(4), W), {}, ValueError),
    ("2-D with offsets", (np.zeros((2, 2), np.int64), W, np.array([0])), {}, ValueError),
    ("3-D input", (np.zeros((2, 2, 2), np.int64), W), {}, ValueError),
    ("bad mode", (np.zeros((2, 2), np.int64), W), {"mode": "median"}, ValueError),
    ("float ids", (np.zeros((2, 2)), W), {}, TypeError),
    (
        "weights with mean",
        (np.zeros((2, 2), np.int64), W),
        {"mode": "mean", "per_sample_weights": np.ones((2, 2), np.float32)},
        NotImplementedError,
    ),
    (
        "weights of wrong shape",
        (np.zeros((2, 2), np.int64), W),
        {"mode": "sum", "per_sample_weights": np.ones(4, np.float32)},
        ValueError,
    ),
    (
        "weights of wrong dtype",
        (np.zeros((2, 2), np.int64), W),
        {"mode": "sum", "per_sample_weights": np.ones((2, 2), np.float64)},
        TypeError,
    ),
    ("max with sparse", (np.zeros((2, 2), np.int64), W), {"mode": "max", "sparse": True}, ValueError),
    (
        "max with frequency scaling",
        (np.zeros((2, 2), np.int64), W),
        {"mode": "max", "scale_grad_by_freq": True},
        ValueError,
    ),
    (
        "include_last_offset without offsets",
        (np.arange(4), W, np.array([], np.int64)),
        {"include_last_offset": True},
        ValueError,
    ),
]


def _torch_rejects(args, kwargs) -> bool:
    import torch

    def to_torch(value):
        return torch.from_numpy(value) if isinstance(value, np.ndarray) else value

    try:
        out = torch.nn.functional.embedding_bag(*map(to_torch, args), **{k: to_torch(v) for k, v in kwargs.items()})
        out.sum().backward()  # sparse/scale_grad_by_freq problems surface here... if weight needed grad
    except (RuntimeError, ValueError, IndexError, NotImplementedError, TypeError):
        return True
    return False


@pytest.mark.parametrize("description, args, kwargs, error", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_rejects_what_torch_rejects(description, args, kwargs, error):
    with pytest.raises(error):
        F.embedding_bag(*args, **kwargs)
    assert _torch_rejects(args, kwargs)


class TestModule:
    def test_init_zeroes_the_padding_row_and_normalises_it(self):
        bag = EmbeddingBag(5, 3, padding_idx=-2, rng=np.random.default_rng(0))
        assert bag.padding_idx == 3 and np.array_equal(bag.weight[3], np.zeros(3))
        assert bag.weight.dtype == np.float32 and np.count_nonzero(bag.weight) == 12
        assert repr(bag) == "EmbeddingBag(5, 3, mode='mean', padding_idx=3)"

    def test_dense_gradients_accumulate(self, rng):
        bag = EmbeddingBag(10, 4, mode="sum", rng=rng)
        ids, offsets = rng.integers(0, 10, size=9), np.array([0, 4])
        grad = rng.standard_normal((2, 4)).astype(np.float32)
        bag(ids, offsets)
        bag.backward(grad)
        once = bag.grad.copy()
        bag(ids, offsets)
        bag.backward(grad)
        np.testing.assert_allclose(bag.grad, 2 * once, rtol=1e-6)
        expected, _ = F.embedding_bag_backward(grad, ids, bag.weight, offsets, mode="sum")
        assert np.array_equal(once, expected)

    @pytest.mark.parametrize("mode", ["mean", "max"])
    def test_zero_grad_in_place_reuses_the_gradient_array_and_starts_from_zeros(self, mode, rng):
        bag = EmbeddingBag(10, 4, mode=mode, rng=rng)
        first, second = rng.integers(0, 10, size=(3, 4)), rng.integers(0, 10, size=(2, 5))
        bag(first)
        bag.backward(rng.standard_normal((3, 4)).astype(np.float32))
        held = bag.grad  # the caller's reference: zeroed and refilled, as in torch
        bag.zero_grad(set_to_none=False)
        assert bag.grad is held and not held.any()
        bag(second)
        grad = rng.standard_normal((2, 4)).astype(np.float32)
        bag.backward(grad)
        assert bag.grad is held  # same array, accumulated into from zeros
        expected, _ = F.embedding_bag_backward(grad, second, bag.weight, mode=mode)
        assert np.array_equal(held, expected)

    @pytest.mark.parametrize("mode", ["mean", "max"])
    def test_zero_grad_never_overwrites_a_gradient_the_caller_holds(self, mode, rng):
        bag = EmbeddingBag(10, 4, mode=mode, rng=rng)
        ids = rng.integers(0, 10, size=(3, 4))
        bag(ids)
        bag.backward(rng.standard_normal((3, 4)).astype(np.float32))
        kept = bag.grad
        before = kept.copy()
        bag.zero_grad()  # set_to_none=True
        assert bag.grad is None
        bag(ids)
        bag.backward(rng.standard_normal((3, 4)).astype(np.float32))
        assert bag.grad is not kept
        assert np.array_equal(kept, before)

    def test_sparse_gradients_concatenate_and_weights_get_a_gradient(self, rng):
        bag = EmbeddingBag(10, 4, mode="sum", sparse=True, rng=rng)
        ids, psw = rng.integers(0, 10, size=(3, 2)), rng.standard_normal((3, 2)).astype(np.float32)
        grad = rng.standard_normal((3, 4)).astype(np.float32)
        bag(ids, per_sample_weights=psw)
        bag.backward(grad)
        bag.backward(grad)
        assert isinstance(bag.grad, SparseRowGradient) and bag.grad.nnz == 12
        ref = torch_bag.embedding_bag(ids, bag.weight, None, grad, mode="sum", per_sample_weights=psw)
        np.testing.assert_allclose(bag.grad.to_dense(), 2 * ref["grad_weight"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bag.grad_per_sample_weights, ref["grad_psw"], rtol=1e-5, atol=1e-6)

    def test_max_mode_backward_uses_the_forward_maxima(self, rng):
        bag = EmbeddingBag(8, 3, mode="max", dtype=np.float64, rng=rng)
        ids = rng.integers(0, 8, size=(4, 3))
        grad = rng.standard_normal((4, 3))
        bag(ids)
        ref = torch_bag.embedding_bag(ids, bag.weight, None, grad, mode="max")
        bag.weight += 100 * rng.standard_normal(bag.weight.shape)  # an optimizer step in between
        bag.backward(grad)
        np.testing.assert_array_equal(bag.grad, ref["grad_weight"])

    def test_errors_leave_state_untouched(self, rng):
        bag = EmbeddingBag(6, 2, rng=rng)
        with pytest.raises(RuntimeError, match="forward"):
            bag.backward(np.zeros((1, 2)))
        bag(np.array([[1, 2]]))
        with pytest.raises(ValueError, match="grad_output"):
            bag.backward(np.zeros((2, 2)))
        assert bag.grad is None
        frozen = EmbeddingBag.from_pretrained(bag.weight)
        frozen(np.array([[1, 2]]))
        with pytest.raises(RuntimeError, match="frozen"):
            frozen.backward(np.zeros((1, 2)))
        with pytest.raises(ValueError, match="mode"):
            EmbeddingBag(4, 2, mode="max", sparse=True)
