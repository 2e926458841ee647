"""nn.Embedding's contract beyond the numbers: construction, errors, accumulation, sharing."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from minembed._nontemporal import can_stream_into
from minembed.nn import Embedding, SparseRowGradient
from minembed.nn import functional as F
from minembed.nn.functional.embedding import _STREAM_FROM_BYTES
from minembed.nn.kernels import embedding as kernels
from minembed.nn.kernels import embedding_numpy as twins


def test_init_is_standard_normal_with_padding_row_zeroed():
    emb = Embedding(2000, 16, padding_idx=-3, rng=np.random.default_rng(0))
    assert emb.padding_idx == 1997  # counted from the end, as torch does
    assert emb.weight.dtype == np.float32 and emb.weight.shape == (2000, 16)
    assert not emb.weight[1997].any()
    others = np.delete(emb.weight, 1997, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02


def test_same_rng_seed_gives_same_table():
    a = Embedding(50, 4, rng=np.random.default_rng(3), dtype=np.float64)
    b = Embedding(50, 4, rng=np.random.default_rng(3), dtype=np.float64)
    assert a.weight.dtype == np.float64
    np.testing.assert_array_equal(a.weight, b.weight)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64])
def test_every_integer_dtype_is_an_index(dtype):
    emb = Embedding(10, 3, rng=np.random.default_rng(0))
    ids = np.array([[1, 9], [0, 4]], dtype=dtype)
    np.testing.assert_array_equal(emb(ids), emb.weight[ids.astype(np.int64)])


def test_zero_dim_and_empty_ids():
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    assert emb(np.int64(2)).shape == (3,)
    assert emb(np.zeros((2, 0), dtype=np.int64)).shape == (2, 0, 3)
    assert emb([]).shape == (0, 3)
    emb.backward(np.zeros((0, 3), np.float32))
    assert not emb.grad.any()


@pytest.mark.parametrize("bad", [np.array([1.0, 2.0]), np.array([True, False]), ["a"]])
def test_non_integer_ids_raise_type_error(bad):
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="integer indices"):
        emb(bad)


@pytest.mark.parametrize("bad_id", [5, -1, 2**40])
def test_out_of_range_id_names_value_and_range(bad_id):
    emb = Embedding(5, 3, max_norm=0.1, rng=np.random.default_rng(0))
    before = emb.weight.copy()
    with pytest.raises(IndexError, match=rf"index {bad_id} .*\[0, 5\)"):
        emb(np.array([0, 1, bad_id]))
    # The renorm would have touched rows 0 and 1: nothing may change when the call fails.
    np.testing.assert_array_equal(emb.weight, before)
    assert emb._last_ids is None


def test_padding_idx_outside_table_is_rejected():
    with pytest.raises(ValueError, match="padding_idx=5"):
        Embedding(5, 3, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx=-6"):
        Embedding(5, 3, padding_idx=-6)


def test_from_pretrained_shares_memory_is_frozen_and_keeps_padding_row():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = Embedding.from_pretrained(table, padding_idx=1)
    assert emb.weight is table and emb.requires_grad is False
    np.testing.assert_array_equal(emb(np.array([1])), [[3, 4, 5]])  # not zeroed, as torch
    with pytest.raises(RuntimeError, match="frozen"):
        emb.backward(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        Embedding.from_pretrained(np.zeros(3, np.float32))


def test_weight_argument_must_match_shape_and_dtype():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        Embedding(4, 3, _weight=np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        Embedding(4, 3, _weight=np.zeros((4, 3), np.int64))
    with pytest.raises(TypeError, match="dtype"):
        Embedding(4, 3, dtype=np.int32)


def test_backward_needs_forward_and_the_right_shape():
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="forward"):
        emb.backward(np.ones((2, 3), np.float32))
    emb(np.array([[1, 2]]))
    with pytest.raises(ValueError, match=r"\(1, 2, 3\)"):
        emb.backward(np.ones((2, 3), np.float32))


def test_dense_gradients_accumulate_until_zero_grad():
    emb = Embedding(4, 2, padding_idx=0, rng=np.random.default_rng(0))
    emb(np.array([1, 0, 1]))
    emb.backward(np.ones((3, 2), np.float32))
    emb(np.array([3]))
    emb.backward(np.full((1, 2), 5, np.float32))
    np.testing.assert_array_equal(emb.grad[:, 0], [0, 2, 0, 5])
    emb.zero_grad()
    assert emb.grad is None


def test_sparse_gradients_accumulate_by_concatenation():
    emb = Embedding(5, 2, padding_idx=2, sparse=True, rng=np.random.default_rng(0))
    emb(np.array([[4, 2, 1], [4, 0, 2]]))
    emb.backward(np.ones((2, 3, 2), np.float32))
    assert isinstance(emb.grad, SparseRowGradient)
    np.testing.assert_array_equal(emb.grad.indices, [4, 1, 4, 0])  # padding dropped, order kept
    emb(np.array([1]))
    emb.backward(np.full((1, 2), 3, np.float32))
    np.testing.assert_array_equal(emb.grad.indices, [4, 1, 4, 0, 1])
    np.testing.assert_array_equal(emb.grad.to_dense()[:, 0], [1, 4, 0, 0, 2])
    coalesced = emb.grad.coalesce()
    np.testing.assert_array_equal(coalesced.indices, [0, 1, 4])
    np.testing.assert_array_equal(coalesced.values[:, 1], [1, 4, 2])


def test_scale_grad_by_freq_divides_by_count_in_the_whole_batch():
    # idx [[1,1,2],[1,0,0]], pad 0, all-ones grad -> rows [0, 1, 1, 0] (SEMANTICS.md §1).
    emb = Embedding(4, 2, padding_idx=0, scale_grad_by_freq=True, rng=np.random.default_rng(0))
    emb(np.array([[1, 1, 2], [1, 0, 0]]))
    emb.backward(np.ones((2, 3, 2), np.float32))
    np.testing.assert_allclose(emb.grad[:, 0], [0, 1, 1, 0], rtol=1e-7)


def test_max_norm_renorms_each_referenced_row_once_and_only_those():
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], dtype=np.float64)
    emb = Embedding.from_pretrained(table.copy(), max_norm=1.0)
    out = emb(np.array([0, 0, 1, 0]))
    expected_row0 = table[0] * (1.0 / (5.0 + 1e-7))
    np.testing.assert_allclose(out[0], expected_row0, rtol=1e-15)
    np.testing.assert_array_equal(out[2], table[1])  # norm 0.5 <= 1: untouched
    np.testing.assert_array_equal(emb.weight[2], table[2])  # never referenced: untouched
    emb(np.array([0]))  # already below max_norm: a second call changes nothing
    np.testing.assert_allclose(emb.weight[0], expected_row0, rtol=1e-15)


def test_strided_table_uses_the_numpy_path_and_renorms_in_place():
    base = np.random.default_rng(0).standard_normal((6, 8))
    view = base[:, ::2]  # not C-contiguous
    out = F.embedding(np.array([1, 4]), view, max_norm=0.5)
    np.testing.assert_allclose(np.linalg.norm(base[[1, 4], ::2], axis=1), 0.5, rtol=1e-6)
    np.testing.assert_array_equal(out, view[[1, 4]])


def test_a_large_lookup_streams_its_rows_and_gives_the_same_values(rng):
    """An output of 16 MiB or more is written with non-temporal stores (where they compile)."""
    from minembed._nontemporal import STREAMING

    weight = rng.standard_normal((1000, 512)).astype(np.float32)
    ids = rng.integers(0, 1000, size=(8, 1024))  # 8192 rows of 2 KiB: 16 MiB
    out = F.embedding(ids, weight)
    assert out.nbytes >= _STREAM_FROM_BYTES
    assert STREAMING == (platform.machine().lower() in ("x86_64", "amd64"))
    np.testing.assert_array_equal(out, weight[ids])
    odd = rng.standard_normal((1000, 511)).astype(np.float32)  # rows of 2044 bytes: plain stores
    assert not can_stream_into(np.empty((4, 511), np.float32))
    np.testing.assert_array_equal(F.embedding(ids, odd), odd[ids])


def test_repr_lists_non_default_options():
    emb = Embedding(5, 3, padding_idx=1, max_norm=1.0, sparse=True)
    assert repr(emb) == "Embedding(5, 3, padding_idx=1, max_norm=1.0, sparse=True)"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [1, 63, 64, 65, 200])
def test_kernels_equal_their_numpy_twins(dtype, dim, rng):
    num_embeddings = 37
    weight = rng.standard_normal((num_embeddings, dim)).astype(dtype)
    ids = rng.integers(0, num_embeddings, size=500)
    rows = rng.standard_normal((500, dim)).astype(dtype)

    out_k, out_t = np.empty((500, dim), dtype), np.empty((500, dim), dtype)
    kernels.gather_rows(weight, ids, out_k)
    twins.gather_rows(weight, ids, out_t)
    np.testing.assert_array_equal(out_k, out_t)
    if can_stream_into(out_k):  # rows of a multiple of 16 bytes: the non-temporal copy applies
        out_k[...] = 0
        kernels.gather_rows_streaming(weight, ids, out_k)
        np.testing.assert_array_equal(out_k, out_t)
    plus = rng.standard_normal((25, dim)).astype(dtype)  # a block repeated every 25 rows (positions)
    kernels.gather_rows_plus(weight, ids, plus, out_k)
    twins.gather_rows_plus(weight, ids, plus, out_t)
    np.testing.assert_array_equal(out_k, out_t)
    np.testing.assert_array_equal(out_k, weight[ids] + np.tile(plus, (20, 1)))

    scale = (1.0 / np.maximum(np.bincount(ids, minlength=num_embeddings), 1)).astype(dtype)
    for padding_idx in (-1, 5):
        g_k, g_t = np.zeros_like(weight), np.zeros_like(weight)
        kernels.scatter_add_rows(g_k, ids, rows, padding_idx)
        twins.scatter_add_rows(g_t, ids, rows, padding_idx)
        np.testing.assert_array_equal(g_k, g_t)
        kernels.scatter_add_rows_scaled(g_k, ids, rows, padding_idx, scale)
        twins.scatter_add_rows_scaled(g_t, ids, rows, padding_idx, scale)
        np.testing.assert_array_equal(g_k, g_t)

    unique = twins.unique_in_order(ids, num_embeddings)
    np.testing.assert_array_equal(kernels.unique_in_order(ids, num_embeddings), unique)
    filled_k, filled_t = weight.copy(), weight.copy()
    kernels.fill_zero(filled_k)
    twins.fill_zero(filled_t)
    assert not filled_k.any() and not filled_t.any()
    for norm_type in (1.0, 2.0, np.inf, -np.inf, 0.0, 0.5):
        w_k, w_t = weight.copy(), weight.copy()
        kernels.renorm_rows(w_k, unique, 1.0, norm_type)
        twins.renorm_rows(w_t, unique, 1.0, norm_type)
        np.testing.assert_allclose(w_k, w_t, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_zero_grad_in_place_keeps_the_callers_array_and_accumulates_into_it():
    """set_to_none=False, as in torch: the same array is zeroed, then refilled by backward."""
    rng = np.random.default_rng(5)
    emb = Embedding(30, 4, padding_idx=3, rng=rng)
    ids = np.array([[1, 3, 7], [7, 7, 2]])
    first, second = rng.standard_normal((2,) + ids.shape + (4,)).astype(np.float32)
    emb(ids)
    emb.backward(first)
    held = emb.grad  # the caller's reference
    emb.zero_grad(set_to_none=False)
    assert emb.grad is held and not held.any()
    emb(ids)
    emb.backward(second)
    assert emb.grad is held
    np.testing.assert_array_equal(held, F.embedding_backward(second, ids, 30, padding_idx=3))
    emb(ids)
    emb.backward(first)  # no zero_grad: accumulates into the same array
    assert emb.grad is held
    expected = F.embedding_backward(second, ids, 30, padding_idx=3) + F.embedding_backward(
        first, ids, 30, padding_idx=3
    )
    np.testing.assert_allclose(held, expected, rtol=1e-6)


def test_zero_grad_set_to_none_never_writes_into_an_array_the_caller_holds():
    rng = np.random.default_rng(5)
    emb = Embedding(30, 4, padding_idx=3, rng=rng)
    ids = np.array([[1, 3, 7], [7, 7, 2]])
    first, second = rng.standard_normal((2,) + ids.shape + (4,)).astype(np.float32)
    emb(ids)
    emb.backward(first)
    saved = emb.grad  # the caller keeps this one: it must survive the next steps unchanged
    kept = saved.copy()
    view = saved[1]  # and a view of it
    emb.zero_grad()  # set_to_none=True is the default, as in torch
    assert emb.grad is None
    for grad in (second, first):
        emb(ids)
        emb.backward(grad)
        emb.zero_grad(set_to_none=True)
    emb(ids)
    emb.backward(second)
    assert emb.grad is not saved
    np.testing.assert_array_equal(saved, kept)
    np.testing.assert_array_equal(view, kept[1])
    np.testing.assert_array_equal(emb.grad, F.embedding_backward(second, ids, 30, padding_idx=3))
    with pytest.raises(TypeError, match="set_to_none must be a bool"):
        emb.zero_grad(set_to_none="no")


def test_read_only_table_looks_up_but_refuses_max_norm_with_the_fix():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    table.setflags(write=False)
    ids = np.array([3, 1])
    ids.setflags(write=False)
    np.testing.assert_array_equal(F.embedding(ids, table), table[[3, 1]])
    with pytest.raises(ValueError, match=r"read-only.*weight.copy\(\)"):
        F.embedding(ids, table, max_norm=1.0)
