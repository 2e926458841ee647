"""A software prefetch for Numba kernels: ask the CPU to start loading a row before it is needed.

Gathering rows at random from a table much larger than the caches is bound by memory latency,
not bandwidth: the hardware prefetcher only follows a row once it has started. Prefetching the
rows of the next few ids overlaps those waits (measured: the gather 5-7% faster, EmbeddingBag's
backward 49 -> 36 ms on one thread, 50257 x 768 float32). A row that is about to be written
(Word2Vec's output rows) is prefetched with write intent. A prefetch is only a hint: it never
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
_READ, _WRITE = 0, 1  # llvm.prefetch's second argument


def _row_prefetch(intent: int):
    """An intrinsic (table, row) -> None that prefetches every cache line of table[row] (read or write intent).

    The loop over the lines is emitted in the IR itself. A Numba helper holding the loop would
    bind `table` to a new variable, and a binding that lives across a loop costs a reference-count
    increment and decrement (two atomic operations) per call; per drawn row that is more than the
    hint saves, and with two threads on one table the counts' cache line moves between the cores.
    """

    @intrinsic
    def prefetch_lines(typingctx, table, row):
        signature = types.void(table, types.intp)

        def codegen(context, builder, sig, args):
            array_type = sig.args[0]
            array = context.make_array(array_type)(context, builder, args[0])
            zero = context.get_constant(types.intp, 0)
            first = cgutils.get_item_pointer(context, builder, array_type, array, [args[1], zero])
            columns = cgutils.unpack_tuple(builder, array.shape, 2)[1]
            strides = cgutils.unpack_tuple(builder, array.strides, 2)
            intp = context.get_value_type(types.intp)
            line = ir.Constant(intp, _CACHE_LINE_BYTES)
            # The lines from the one holding the row's first byte to the one holding its last.
            start = builder.ptrtoint(first, intp)
            end = builder.add(start, builder.mul(columns, strides[1]))
            aligned = builder.and_(start, ir.Constant(intp, -_CACHE_LINE_BYTES))
            n_lines = builder.udiv(
                builder.add(builder.sub(end, aligned), ir.Constant(intp, _CACHE_LINE_BYTES - 1)), line
            )
            byte_pointer = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            prefetch = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0i8"
            )
            with cgutils.for_range(builder, n_lines) as loop:
                address = builder.inttoptr(builder.add(aligned, builder.mul(loop.index, line)), byte_pointer)
                # Arguments: address, intent, 3 = high temporal locality, 1 = data cache.
                builder.call(prefetch, [address, i32(intent), i32(3), i32(1)])
            return context.get_dummy_value()

        return signature, codegen

    return prefetch_lines


_prefetch_lines_to_read = _row_prefetch(_READ)
_prefetch_lines_to_write = _row_prefetch(_WRITE)


@njit(cache=True, inline="always")
def hardware_prefetch_row(table, row):
    """Prefetch every cache line of table[row] (table 2-D) to read it."""
    _prefetch_lines_to_read(table, row)


@njit(cache=True, inline="always")
def hardware_prefetch_row_for_write(table, row):
    """Prefetch every cache line of table[row] to write it: the lines arrive owned by this core, so the
    write that follows needs no second request (which matters when another core has just written them)."""
    _prefetch_lines_to_write(table, row)


@njit(cache=True, inline="always")
def no_prefetch_row(table, row):
    """The fallback: no hint at all."""


@njit(cache=True)
def _probe(table):
    hardware_prefetch_row(table, 0)
    hardware_prefetch_row_for_write(table, 0)
    return table.shape[0]


def choose_prefetch_row(probe: Callable[[np.ndarray], object] = _probe) -> Callable:
    """`hardware_prefetch_row` if `probe` (a kernel using both intents) compiles and runs, else `no_prefetch_row`."""
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
# The probe compiles both intents, so one answer covers both.
prefetch_row_for_write = hardware_prefetch_row_for_write if prefetch_row is hardware_prefetch_row else no_prefetch_row
