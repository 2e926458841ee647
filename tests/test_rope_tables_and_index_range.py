"""Speed paths of issue 15: RoPE's cached cos/sin tables and the one-pass Numba range check of ids.

Oracles: the uncached path (explicit positions 0..T-1 build fresh tables), the NumPy twin of the
range kernel, and NumPy's own max.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minembed.nn import functional as F
from minembed.nn._checks import check_index_range
from minembed.nn.kernels import index_range as kernels
from minembed.nn.kernels import index_range_numpy as twins


@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rope_cached_tables_equal_fresh_ones_bit_for_bit(interleaved, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 10)).astype(dtype)
    explicit = np.arange(7)
    for _ in range(2):  # the second call of each reads the cache
        assert np.array_equal(F.rope(x, interleaved=interleaved), F.rope(x, explicit, interleaved=interleaved))
        assert np.array_equal(
            F.rope_backward(x, interleaved=interleaved), F.rope_backward(x, explicit, interleaved=interleaved)
        )
    # the forward's cached sin and the backward's cached -sin stay apart: backward undoes forward
    np.testing.assert_allclose(
        F.rope_backward(F.rope(x, interleaved=interleaved), interleaved=interleaved),
        x,
        atol=1e-5 if dtype == np.float32 else 1e-12,
    )


def test_rope_of_an_empty_array_is_empty():
    for shape in [(0, 4, 6), (3, 0, 6), (3, 4, 0)]:
        out = F.rope(np.zeros(shape, np.float32))
        assert out.shape == shape and out.dtype == np.float32


def test_rope_of_a_strided_view_equals_rope_of_its_copy():
    x = np.random.default_rng(1).standard_normal((4, 6, 8))[:, ::2, :]
    assert np.array_equal(F.rope(x), F.rope(np.ascontiguousarray(x)))


@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=300))
def test_max_index_kernel_equals_its_twin(values):
    ids = np.array(values, dtype=np.int64).view(np.uint64)
    assert kernels.max_index(ids) == twins.max_index(ids)
    if values:
        assert kernels.max_index(ids) == ids.max()


@given(values=st.lists(st.integers(-5, 25), min_size=1, max_size=200), limit=st.integers(1, 20))
def test_range_check_raises_exactly_for_an_id_outside_the_table(values, limit):
    for dtype in (np.int64, np.int32):  # int64 goes through the kernel, other dtypes through NumPy
        ids = np.array(values, dtype=dtype)
        bad = [i for i, v in enumerate(values) if not 0 <= v < limit]
        if bad:
            with pytest.raises(IndexError, match=f"flat position {bad[0]}"):
                check_index_range(ids, limit)
        else:
            check_index_range(ids, limit)
