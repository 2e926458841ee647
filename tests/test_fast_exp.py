"""fast_exp.exp_float32 (the vectorisable exp of the cross-entropy kernel) and its twin, against float64 exp."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from minembed.nn.kernels import fast_exp, fast_exp_numpy


@njit(cache=True)
def kernel_exp(values):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = fast_exp.exp_float32(values[i])
    return out


def ulps_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many float32 values lie between a and b (both finite and non-negative)."""
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def correctly_rounded_exp(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(LARGEST) in float64 rounds up to float32's inf
        return np.exp(values.astype(np.float64)).astype(np.float32)


def test_within_one_ulp_over_the_whole_normal_range():
    values = np.linspace(fast_exp.SMALLEST, fast_exp.LARGEST, 4_000_001, dtype=np.float32)
    truth = correctly_rounded_exp(values)
    assert ulps_apart(kernel_exp(values), truth).max() <= 1
    assert ulps_apart(fast_exp_numpy.exp_float32(values), truth).max() <= 1


def test_every_hundred_and_first_float32_between_minus_one_and_one():
    magnitudes = np.arange(0, np.float32(1.0).view(np.int32) + 1, 101, dtype=np.int32).view(np.float32)
    values = np.concatenate([magnitudes, -magnitudes])
    assert ulps_apart(kernel_exp(values), correctly_rounded_exp(values)).max() <= 1


def test_the_edges_of_float32():
    values = np.array([0.0, -0.0, -np.inf, np.inf, np.nan, -87.4, -100.0, -1e30, 88.73, 1e30], np.float32)
    got = kernel_exp(values)
    assert got[0] == got[1] == 1.0
    assert got[2] == 0.0 and got[3] == np.inf and np.isnan(got[4])
    assert (got[5:8] == 0.0).all()  # subnormal results flush to 0 (below 1.2e-38)
    assert (got[8:] == np.inf).all()
    twin = fast_exp_numpy.exp_float32(values)
    np.testing.assert_array_equal(twin, got)


@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_kernel_and_twin_agree_to_one_ulp(floats):
    values = np.array(floats, dtype=np.float32)
    kernel, twin = kernel_exp(values), fast_exp_numpy.exp_float32(values)
    np.testing.assert_array_equal(np.isnan(kernel), np.isnan(values))
    np.testing.assert_array_equal(np.isnan(twin), np.isnan(values))
    finite = ~np.isnan(values)
    assert ulps_apart(kernel[finite], twin[finite]).max(initial=0) <= 1
