"""A software prefetch for Numba kernels: ask the CPU to start loading a row before it is needed.

Gathering rows at random from a table much larger than the caches is bound by memory latency,
not bandwidth: the hardware prefetcher only follows a row once it has started. Prefetching the
rows of the next few ids overlaps those waits (measured: the gather 5-7% faster, EmbeddingBag's
backward 49 -> 36 ms on one thread, 50257 x 768 float32). A prefetch is only a hint: it never
faults and changes no result, so the NumPy twins need no counterpart.

The hint is emitted as LLVM IR (`llvm.prefetch`) through Numba's public `@intrinsic` and
llvmlite's IR builder, on the versions pinned in pyproject.toml (tests/test_package.py checks
it compiles there). Should it fail to compile on some other version, `prefetch_row` is a
no-op instead: the kernels stay correct, only a few percent slower.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_CACHE_LINE_BYTES = 64


@intrinsic
def _prefetch_element(typingctx, table, row, column):
    """Emit llvm.prefetch (read, keep in all cache levels) for the address of table[row, column]."""
    signature = types.void(table, types.intp, types.intp)

    def codegen(context, builder, sig, args):
        array_type = sig.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, array_type, array, [args[1], args[2]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        # Arguments: address, 0 = read, 3 = high temporal locality, 1 = data cache.
        builder.call(prefetch, [builder.bitcast(address, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=True, inline="always")
def hardware_prefetch_row(table, row):
    """Prefetch every cache line of table[row] (table 2-D, C-contiguous)."""
    step = max(1, _CACHE_LINE_BYTES // table.itemsize)
    for column in range(0, table.shape[1], step):
        _prefetch_element(table, row, column)


@njit(cache=True, inline="always")
def no_prefetch_row(table, row):
    """The fallback: no hint at all."""


@njit(cache=True)
def _probe(table):
    hardware_prefetch_row(table, 0)
    return table.shape[0]


def choose_prefetch_row(probe: Callable[[np.ndarray], object] = _probe) -> Callable:
    """`hardware_prefetch_row` if `probe` (a kernel using it) compiles and runs, else `no_prefetch_row`."""
    try:
        probe(np.zeros((1, 16), dtype=np.float32))
    except Exception as exc:  # any failure to build the hint only costs speed
        warnings.warn(
            f"minembed: the software prefetch does not compile with this Numba/llvmlite ({exc!r:.200}); "
            "the embedding kernels run without it (same results, a few percent slower)",
            RuntimeWarning,
            stacklevel=2,
        )
        return no_prefetch_row
    return hardware_prefetch_row


prefetch_row = choose_prefetch_row()
