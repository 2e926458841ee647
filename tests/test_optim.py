"""minembed.optim against torch.optim (single-tensor CPU path): bit for bit in float32.

torch's float32 square root is not always correctly rounded (1 ulp low for ~0.7% of values);
the bit-for-bit tests of Adam/AdamW/SparseAdam swap torch's sqrt into minembed (the `_sqrt`
hook) to check every other operation exactly, and a separate test bounds the difference that
np.sqrt makes: at most MAX_ULP_WITH_NUMPY_SQRT ulp of max(|param|, lr) per step.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import types
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from minembed._fma import fma
from minembed.nn.parameter import Parameter
from minembed.nn.sparse import SparseRowGradient
from minembed.optim import SGD, Adam, AdamW, SparseAdam, WarmupCosine, adam, optimizer, sparse_adam, warmup_cosine
from minembed.optim.kernels import adam as adam_numba
from minembed.optim.kernels import adam_numpy, sparse_adam_numpy
from minembed.optim.kernels import sparse_adam as sparse_adam_numba
from reference import torch_optim

MAX_ULP_WITH_NUMPY_SQRT = 2

shapes = st.sampled_from([(1,), (7,), (3, 5), (17, 9), (40,), (2, 3, 4)])


def holders(arrays):
    """minembed Parameters over plain arrays (each in its own holder object)."""
    out = []
    for i, array in enumerate(arrays):
        holder = types.SimpleNamespace(data=array.copy(), grad=None)
        out.append(Parameter(f"p{i}", holder, "data", "grad"))
    return out


def draw_problem(seed, shape, n_params, n_steps, dtype=np.float32, none_rate=0.2):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal(shape) * rng.uniform(0.1, 3)).astype(dtype) for _ in range(n_params)]
    steps = []
    for _ in range(n_steps):
        steps.append(
            [
                None if rng.random() < none_rate else (rng.standard_normal(shape) * rng.uniform(1e-3, 10)).astype(dtype)
                for _ in range(n_params)
            ]
        )
    return params, steps


def run_minembed(cls, params, grad_steps, state_dict=None, **hyper):
    ps = holders(params)
    opt = cls(ps, **hyper)
    if state_dict is not None:
        opt.load_state_dict(state_dict)
    history = []
    for grads in grad_steps:
        for p, g in zip(ps, grads):
            if isinstance(g, tuple):
                p.grad = SparseRowGradient(g[0], g[1].copy(), p.shape)
            else:
                p.grad = None if g is None else g.copy()
        opt.step()
        history.append([p.data.copy() for p in ps])
    return history, opt


def assert_same_bits(ours, theirs):
    for step, (a_list, b_list) in enumerate(zip(ours, theirs)):
        for i, (a, b) in enumerate(zip(a_list, b_list)):
            assert a.dtype == b.dtype
            bad = np.flatnonzero(a.view(np.uint8).reshape(a.size, -1) != b.view(np.uint8).reshape(b.size, -1))
            assert bad.size == 0, (
                f"step {step}, param {i}: {bad.size} bytes differ, e.g. {a.ravel()[:3]} vs {b.ravel()[:3]}"
            )


def ulp_distance(a, b):
    ia, ib = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


@contextlib.contextmanager
def torch_sqrt_in_minembed():
    """minembed's optimizers with torch's square root, to compare everything else bit for bit."""
    saved = adam._sqrt, sparse_adam._sqrt
    adam._sqrt = sparse_adam._sqrt = torch_optim.torch_sqrt
    try:
        yield
    finally:
        adam._sqrt, sparse_adam._sqrt = saved


@given(
    seed=st.integers(0, 2**32 - 1),
    shape=shapes,
    n_steps=st.integers(1, 5),
    lr=st.sampled_from([1e-3, 0.01, 0.1, 0.37]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    dampening=st.sampled_from([0.0, 0.1, 0.7]),
    weight_decay=st.sampled_from([0.0, 1e-4, 0.05]),
    nesterov=st.booleans(),
    maximize=st.booleans(),
)
def test_sgd_equals_torch_bit_for_bit(seed, shape, n_steps, lr, momentum, dampening, weight_decay, nesterov, maximize):
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    hyper = {
        "lr": lr,
        "momentum": momentum,
        "dampening": dampening,
        "weight_decay": weight_decay,
        "nesterov": nesterov,
        "maximize": maximize,
    }
    params, steps = draw_problem(seed, shape, 2, n_steps)
    ours, _ = run_minembed(SGD, params, steps, **hyper)
    theirs, _ = torch_optim.run_optimizer("SGD", params, steps, **hyper)
    assert_same_bits(ours, theirs)


adam_hyper = {
    "seed": st.integers(0, 2**32 - 1),
    "shape": shapes,
    "n_steps": st.integers(1, 5),
    "lr": st.sampled_from([1e-3, 3e-3, 0.1]),
    "betas": st.sampled_from([(0.9, 0.999), (0.8, 0.95), (0.3, 0.6), (0.0, 0.99)]),
    "eps": st.sampled_from([1e-8, 1e-6, 0.1]),
    "weight_decay": st.sampled_from([0.0, 0.01, 0.3]),
    "amsgrad": st.booleans(),
    "maximize": st.booleans(),
    "decoupled": st.booleans(),
}


@given(**adam_hyper)
def test_adam_and_adamw_equal_torch_bit_for_bit_given_its_sqrt(
    seed, shape, n_steps, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled
):
    hyper = {
        "lr": lr,
        "betas": betas,
        "eps": eps,
        "weight_decay": weight_decay,
        "amsgrad": amsgrad,
        "maximize": maximize,
    }
    params, steps = draw_problem(seed, shape, 2, n_steps)
    cls, name = (AdamW, "AdamW") if decoupled else (Adam, "Adam")
    with torch_sqrt_in_minembed():
        ours, _ = run_minembed(cls, params, steps, **hyper)
    theirs, _ = torch_optim.run_optimizer(name, params, steps, **hyper)
    assert_same_bits(ours, theirs)


@given(**adam_hyper)
def test_adam_with_numpy_sqrt_is_within_stated_ulps(
    seed, shape, n_steps, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled
):
    hyper = {
        "lr": lr,
        "betas": betas,
        "eps": eps,
        "weight_decay": weight_decay,
        "amsgrad": amsgrad,
        "maximize": maximize,
    }
    params, steps = draw_problem(seed, shape, 2, n_steps)
    cls, name = (AdamW, "AdamW") if decoupled else (Adam, "Adam")
    ours, _ = run_minembed(cls, params, steps, **hyper)
    theirs, _ = torch_optim.run_optimizer(name, params, steps, **hyper)
    # each step's update (of size about lr) may differ by a rounding or two: bounded by
    # MAX_ULP_WITH_NUMPY_SQRT ulp of max(|param|, lr) per step
    for a, b in zip(ours[-1], theirs[-1]):
        ulp = np.finfo(np.float32).eps * np.maximum(np.abs(b), lr)
        assert np.all(np.abs(a - b) <= n_steps * MAX_ULP_WITH_NUMPY_SQRT * ulp)


def test_torch_sqrt_really_differs_from_numpy_somewhere():
    """The reason for the hook: if torch's sqrt became correctly rounded, the hook could go."""
    x = np.abs(np.random.default_rng(0).standard_normal(100_000)).astype(np.float32)
    differ = torch_optim.torch_sqrt(x) != np.sqrt(x)
    assert 0 < differ.mean() < 0.02
    assert ulp_distance(torch_optim.torch_sqrt(x), np.sqrt(x)).max() == 1


@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 12),
    dim=st.integers(1, 6),
    n_steps=st.integers(1, 5),
    lr=st.sampled_from([1e-3, 0.05, 0.3]),
    betas=st.sampled_from([(0.9, 0.999), (0.5, 0.7)]),
    eps=st.sampled_from([1e-8, 1e-3]),
    maximize=st.booleans(),
    duplicates=st.booleans(),
)
def test_sparse_adam_equals_torch_and_leaves_absent_rows(
    seed, rows, dim, n_steps, lr, betas, eps, maximize, duplicates
):
    """Bit for bit when each step's rows are distinct. With duplicate rows, torch sums them in the order
    of its unstable sort (see test_coalesce_...), minembed in order of appearance: close, not equal."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((rows, dim)).astype(np.float32)
    steps = []
    for _ in range(n_steps):
        if duplicates:
            ids = rng.integers(0, rows, size=int(rng.integers(0, 2 * rows)))
        else:
            ids = rng.permutation(rows)[: int(rng.integers(0, rows + 1))]
        steps.append([(ids, rng.standard_normal((ids.size, dim)).astype(np.float32))])
    hyper = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
    with torch_sqrt_in_minembed():
        ours, _ = run_minembed(SparseAdam, [table], steps, **hyper)
    theirs, _ = torch_optim.run_optimizer("SparseAdam", [table], steps, **hyper)
    if duplicates:
        np.testing.assert_allclose(ours[-1][0], theirs[-1][0], rtol=1e-5, atol=1e-6)
    else:
        assert_same_bits(ours, theirs)
    touched = np.unique(np.concatenate([s[0][0] for s in steps]))
    untouched = np.setdiff1d(np.arange(rows), touched)
    np.testing.assert_array_equal(ours[-1][0][untouched], table[untouched])
    np.testing.assert_array_equal(theirs[-1][0][untouched], table[untouched])


@given(
    seed=st.integers(0, 2**32 - 1),
    nnz=st.integers(0, 40),
    rows=st.integers(1, 12),
    dim=st.sampled_from([1, 3, 130]),
    negate=st.booleans(),
)
def test_sparse_adam_kernels_equal_numpy_twins(seed, nnz, rows, dim, negate):
    """Coalescing (sums in order of appearance) and the row update, Numba and NumPy, bit for bit."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, rows, size=nnz)
    values = rng.standard_normal((nnz, dim)).astype(np.float32)
    got_rows, got_sums = sparse_adam_numba.coalesce_rows(ids, values, rows, negate)
    want_rows, want_sums = sparse_adam_numpy.coalesce_rows(ids, values, rows, negate)
    order = np.argsort(got_rows)  # the kernel keeps first-seen order, the twin sorts
    np.testing.assert_array_equal(got_rows[order], want_rows)
    np.testing.assert_array_equal(got_sums[order], want_sums)
    tables = [rng.standard_normal((rows, dim)).astype(np.float32) for _ in range(2)]
    tables.append(np.abs(rng.standard_normal((rows, dim))).astype(np.float32))
    scalars = (np.float32(0.1), np.float32(0.001), np.float32(1e-8), np.float32(-0.01))
    want = [t.copy() for t in tables]
    sparse_adam_numpy.update_rows(*want, want_rows, want_sums, *scalars)
    got = [t.copy() for t in tables]
    sparse_adam_numba.update_rows(*got, got_rows, got_sums, *scalars)
    for x, y in zip(got, want):
        np.testing.assert_array_equal(x, y)


def test_sparse_adam_rejects_rows_outside_the_table():
    holder = types.SimpleNamespace(weight=np.zeros((4, 2), np.float32), grad=None)
    holder.grad = SparseRowGradient(np.array([1, 4]), np.ones((2, 2), np.float32), (4, 2))
    with pytest.raises(IndexError, match=r"\[0, 4\).*1 to 4"):
        SparseAdam([Parameter("weight", holder, "weight", "grad")]).step()


@given(seed=st.integers(0, 2**32 - 1), nnz=st.integers(0, 30), rows=st.integers(1, 8))
def test_coalesce_matches_torch_up_to_summation_order(seed, nnz, rows):
    """Same rows; the sums agree to float32 rounding (torch adds duplicates in its unstable sort's order)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, rows, size=nnz)
    values = (rng.standard_normal((nnz, 3)) * 10 ** rng.uniform(-2, 2, (nnz, 1))).astype(np.float32)
    ours = SparseRowGradient(ids, values, (rows, 3)).coalesce()
    t_rows, t_values = torch_optim.coalesce(ids, values, rows)
    np.testing.assert_array_equal(ours.indices, t_rows)
    scale = np.zeros((rows, 3))
    np.add.at(scale, ids, np.abs(values.astype(np.float64)))
    assert np.all(np.abs(ours.values - t_values) <= 2 * nnz * np.finfo(np.float32).eps * scale[t_rows] + 1e-30)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "SparseAdam"])
def test_state_dict_round_trips_with_torch(name):
    with torch_sqrt_in_minembed():
        ours, theirs, again, torch_again = state_dict_round_trip(name)
    assert_same_bits(ours, theirs)  # torch's state_dict loaded into minembed continues as torch does
    assert_same_bits(again, ours[2:])  # minembed's own state_dict, into a fresh minembed optimizer
    assert_same_bits(torch_again, ours[2:])  # ... and into torch


def state_dict_round_trip(name):
    """torch runs 3 steps; its state loads into minembed; both run 3 more. And back from minembed's state.

    Returns (minembed's 3 steps, torch's 3 steps, a fresh minembed's last step from minembed's state,
    torch's last step from minembed's state).
    """
    cls = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "SparseAdam": SparseAdam}[name]
    hyper = {
        "SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
        "AdamW": {"lr": 0.01, "weight_decay": 0.1},
        "SparseAdam": {"lr": 0.01},
    }[name]
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32)]
    if name == "SparseAdam":
        steps = [
            [(rng.permutation(6)[:5], rng.standard_normal((5, 4)).astype(np.float32)) for _ in params] for _ in range(6)
        ]
    else:
        steps = [[rng.standard_normal((6, 4)).astype(np.float32) for _ in params] for _ in range(6)]
    first, torch_state = torch_optim.run_optimizer(name, params, steps[:3], **hyper)
    theirs, _ = torch_optim.run_optimizer(name, first[-1], steps[3:], state_dict=torch_state, **hyper)
    ours, opt = run_minembed(cls, first[-1], steps[3:], state_dict=torch_state, **hyper)
    # minembed's own state_dict: a fresh optimizer loaded from it continues identically, and so does torch.
    mid, opt = run_minembed(cls, first[-1], steps[3:5], state_dict=torch_state, **hyper)
    saved = opt.state_dict()
    again, _ = run_minembed(cls, mid[-1], steps[5:], state_dict=saved, **hyper)
    torch_again, _ = torch_optim.run_optimizer(name, mid[-1], steps[5:], state_dict=saved, **hyper)
    return ours, theirs, again, torch_again


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
    decay=st.sampled_from([1.0, 0.999]),
    coupled=st.sampled_from([0.0, 0.01]),
    w=st.sampled_from([0.1, 0.6]),
)
def test_numba_adam_kernels_equal_numpy_twins(seed, n, amsgrad, maximize, decay, coupled, w):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(n).astype(np.float32) for _ in range(3)] + [
        np.abs(rng.standard_normal(n)).astype(np.float32) for _ in range(2)
    ]
    f = np.float32
    scalars = (f(decay), f(coupled), f(w), f(0.99), f(1 - 0.99), maximize, amsgrad)
    b = [x.copy() for x in arrays]
    adam_numpy.adam_moments(*b, *scalars)
    adam_numpy.adam_update(b[0], b[2], np.sqrt(b[4] if amsgrad else b[3]), f(0.3), f(1e-8), f(-0.01))
    a = [x.copy() for x in arrays]
    adam_numba.adam_moments(*a, *scalars)
    adam_numba.adam_update(a[0], a[2], np.sqrt(a[4] if amsgrad else a[3]), f(0.3), f(1e-8), f(-0.01))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # The one-pass step (square root inside) equals the two passes around np.sqrt, bit for bit.
    for step in (adam_numpy.adam_step, adam_numba.adam_step):
        a = [x.copy() for x in arrays]
        step(*a, *scalars, f(0.3), f(1e-8), f(-0.01))
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def _counting_splits(monkeypatch) -> tuple[dict, list]:
    """(threads, splits): minembed's thread count as the optimizers see it (set threads["n"]; the helper
    thread exists whatever the machine's cores), and the sizes of the updates split in two so far."""
    from minembed import _threads

    threads, splits = {"n": 2}, []
    real_in_two = _threads.in_two

    def counting_in_two(work, n):
        splits.append(n)
        real_in_two(work, n)

    monkeypatch.setattr(_threads, "numba_threads", lambda: threads["n"])
    monkeypatch.setattr(_threads, "in_two", counting_in_two)
    return threads, splits


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_large_parameters_split_in_two_give_the_same_bits(cls, monkeypatch):
    """From optimizer.SPLIT_FROM values the caller and the helper thread each update half of a
    parameter: the same bits as one thread, and as the NumPy twins."""
    rng = np.random.default_rng(5)
    start = rng.standard_normal((300, 250)).astype(np.float32)  # 75,000 values
    assert start.size >= optimizer.SPLIT_FROM
    grads = [[rng.standard_normal(start.shape).astype(np.float32)] for _ in range(3)]
    hyper = {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}
    threads, splits = _counting_splits(monkeypatch)
    split, _ = run_minembed(cls, [start], grads, **hyper)
    assert splits == [start.size] * 3  # one split per step
    threads["n"] = 1
    one_thread, _ = run_minembed(cls, [start], grads, **hyper)
    monkeypatch.setattr(adam, "_kernels_for", lambda param: adam_numpy)
    twins, _ = run_minembed(cls, [start], grads, **hyper)
    assert len(splits) == 3  # none on one thread, none with the twins
    assert_same_bits(split, one_thread)
    assert_same_bits(split, twins)


def test_large_sparse_updates_split_in_two_give_the_same_bits(monkeypatch):
    """From optimizer.SPLIT_FROM values each thread updates half of the distinct rows: the same bits
    as one thread and as the NumPy twin, with duplicate rows in the gradient."""
    rng = np.random.default_rng(8)
    table = rng.standard_normal((3000, 64)).astype(np.float32)
    steps = []
    for _ in range(3):
        ids = rng.integers(0, 3000, size=1500)  # about 1,200 distinct rows: 77,000 values
        steps.append([(ids, rng.standard_normal((1500, 64)).astype(np.float32))])
    threads, splits = _counting_splits(monkeypatch)
    split, _ = run_minembed(SparseAdam, [table], steps, lr=0.01)
    assert len(splits) == 3 and min(splits) * 64 >= optimizer.SPLIT_FROM
    threads["n"] = 1
    one_thread, _ = run_minembed(SparseAdam, [table], steps, lr=0.01)
    monkeypatch.setattr(sparse_adam, "numba_kernels", lambda: sparse_adam_numpy)
    twin, _ = run_minembed(SparseAdam, [table], steps, lr=0.01)
    assert len(splits) == 3
    assert_same_bits(split, one_thread)
    assert_same_bits(split, twin)


@pytest.mark.parametrize("cls", [Adam, SparseAdam])
def test_state_loaded_in_fortran_order_still_moves(cls):
    """The kernels update flat views of the state: state arrays loaded in Fortran order are stored
    C-ordered, so the moments they hold keep moving (a flattened copy would drop the update). Adam is
    the case that failed; SparseAdam, which would fall back to its NumPy twin, is held to it too."""
    rng = np.random.default_rng(9)
    start = rng.standard_normal((6, 5)).astype(np.float32)
    if cls is SparseAdam:
        steps = [[(np.array([0, 2, 5]), rng.standard_normal((3, 5)).astype(np.float32))] for _ in range(3)]
    else:
        steps = [[rng.standard_normal((6, 5)).astype(np.float32)] for _ in range(3)]
    reference, opt = run_minembed(cls, [start], steps[:1], lr=0.1)
    saved = opt.state_dict()
    fortran = copy.deepcopy(saved)
    for state in fortran["state"].values():
        for key, value in state.items():
            if isinstance(value, np.ndarray) and value.ndim == 2:
                state[key] = np.asfortranarray(value)
    ours, _ = run_minembed(cls, [reference[-1][0]], steps[1:], state_dict=fortran, lr=0.1)
    expected, _ = run_minembed(cls, [reference[-1][0]], steps[1:], state_dict=saved, lr=0.1)
    assert_same_bits(ours, expected)
    assert not np.array_equal(ours[-1][0], ours[0][0])


@njit(cache=True)
def fma_in_numba(a, b, c):
    return fma(a, b, c)


@given(seed=st.integers(0, 2**32 - 1))
def test_fma32_is_the_correctly_rounded_fused_multiply_add(seed):
    rng = np.random.default_rng(seed)
    a, b, c = (rng.standard_normal((3, 12)) * 10 ** rng.uniform(-3, 3, (3, 12))).astype(np.float32)
    for x, y, z, got in zip(a, b, c, adam_numpy.fma32(a, b, c)):
        true = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        near = np.float32(float(true))
        candidates = [np.nextafter(near, np.float32(-np.inf)), near, np.nextafter(near, np.float32(np.inf))]
        assert abs(Fraction(float(got)) - true) == min(abs(Fraction(float(v)) - true) for v in candidates)
        assert fma_in_numba(x, y, z) == got


def test_fma32_fixes_the_double_rounding_case():
    """x*y + z = 64 + 1.5 * 2**-17 - 2**-48: float64 rounds it onto the float32 midpoint 64 + 1.5 * 2**-17,
    then float32 ties to even (64 + 2**-16); the true sum is below the midpoint: 64 + 2**-17."""
    x, y, z = np.float32(2**-18 * (1 + 2**-15)), np.float32(1 - 2**-15), np.float32(64 + 2**-17)
    naive = np.float32(np.float64(x) * np.float64(y) + np.float64(z))
    assert naive == np.float32(64 + 2**-16)
    assert adam_numpy.fma32(x, y, z) == np.float32(64 + 2**-17) == fma_in_numba(x, y, z)


def test_float64_adam_is_close_to_torch():
    params, steps = draw_problem(3, (20, 5), 2, 4, dtype=np.float64)
    ours, _ = run_minembed(AdamW, params, steps, lr=0.01)
    theirs, _ = torch_optim.run_optimizer("AdamW", params, steps, lr=0.01)
    for a, b in zip(ours[-1], theirs[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_zero_grad_follows_torchs_set_to_none_contract():
    params = holders([np.ones((3, 2), np.float32), np.ones((3, 2), np.float32)])
    params[0].grad = np.full((3, 2), 5, np.float32)
    params[1].grad = SparseRowGradient(np.array([1, 1]), np.ones((2, 2), np.float32), (3, 2))
    opt = SGD(params, lr=0.1)
    kept = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is kept and not kept.any()
    assert params[1].grad.nnz == 0
    opt.zero_grad()
    assert params[0].grad is None and params[1].grad is None


def test_bad_input_names_the_parameter():
    params = holders([np.ones(3, np.float32)])
    with pytest.raises(ValueError, match="lr"):
        Adam(params, lr=-1)
    with pytest.raises(ValueError, match="betas"):
        AdamW(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov"):
        SGD(params, nesterov=True)
    with pytest.raises(ValueError, match="empty"):
        SGD([])
    with pytest.raises(TypeError, match="Parameters"):
        SGD([np.ones(3)])
    params[0].grad = SparseRowGradient(np.array([0]), np.ones((1, 1), np.float32), (3, 1))
    with pytest.raises(RuntimeError, match="SparseAdam"):
        Adam(params).step()
    params[0].grad = np.ones(3, np.float32)
    with pytest.raises(RuntimeError, match="dense"):
        SparseAdam(params).step()


def test_warmup_cosine_schedule():
    factors = [warmup_cosine(t, warmup_steps=10, total_steps=100, min_ratio=0.1) for t in range(120)]
    assert factors[:10] == pytest.approx([(t + 1) / 10 for t in range(10)])
    assert factors[10] == 1.0 and factors[100] == pytest.approx(0.1) and factors[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))  # non-increasing after warmup
    assert factors[55] == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the decay
    opt = SGD(holders([np.ones(2, np.float32)]), lr=2.0)
    sched = WarmupCosine(opt, warmup_steps=10, total_steps=100)
    for _ in range(55):
        sched.step()
    assert sched.get_last_lr() == [pytest.approx(2.0 * factors[55])]
    with pytest.raises(ValueError, match="total_steps"):
        warmup_cosine(0, warmup_steps=10, total_steps=5)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("size", [7, 70_000])  # the serial kernel and the threaded one
def test_adam_with_eps_zero_and_zero_gradients_gives_torchs_nan_not_an_exception(name, size):
    """0 / 0 in the update: torch gives nan; the kernels follow IEEE arithmetic (error_model="numpy")."""
    rng = np.random.default_rng(size)
    params = [rng.standard_normal(size).astype(np.float32)]
    grads = [[np.where(np.arange(size) % 3 == 0, 0.0, rng.standard_normal(size)).astype(np.float32)]]
    cls = {"Adam": Adam, "AdamW": AdamW}[name]
    with torch_sqrt_in_minembed():  # the one-ulp differences of torch's sqrt aside, the same bits
        ours, _ = run_minembed(cls, params, grads, lr=0.1, eps=0.0)
    theirs, _ = torch_optim.run_optimizer(name, params, grads, lr=0.1, eps=0.0)
    assert np.isnan(theirs[0][0][::3]).all()
    assert_same_bits(ours, theirs)
    assert np.isnan(run_minembed(cls, params, grads, lr=0.1, eps=0.0)[0][0][0][::3]).all()  # one pass, np.sqrt
