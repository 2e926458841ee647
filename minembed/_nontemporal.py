"""Non-temporal row copies for Numba kernels: write a large output without reading it first.

A normal store first reads the destination's cache line (to own it), so gathering rows into a
fresh 25 MB output moves the output through memory twice. `memcpy` of a large block avoids that
with non-temporal ("streaming") stores, which is why a two-thread np.copyto of the output beat the
gather (0.71x). `stream_row(dst, i, src, j)` copies src[j] into dst[i] with 16-byte
non-temporal stores and then fences them (`sfence`), so the row is in memory before any other
thread reads it. It bypasses the caches, so it only pays for outputs larger than the caches.

Emitted as LLVM IR (a `!nontemporal` store, `llvm.x86.sse.sfence`) through Numba's public
`@intrinsic`. Conditions, checked by the caller: x86-64; dst C-contiguous with rows a multiple of
16 bytes and a 16-byte-aligned start (malloc's alignment, which np.empty gets). Where the probe
fails to compile, `STREAMING` is False and callers keep their plain stores. A copy is a copy:
results are bit-identical either way, so the NumPy twins need no counterpart.
"""

from __future__ import annotations

import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

STORE_BYTES = 16  # one SSE store; the write-combining buffers still gather whole cache lines


@intrinsic
def _copy_row_nontemporal(typingctx, dst, dst_row, src, src_row):
    """dst[dst_row] = src[src_row] through 16-byte non-temporal stores (same dtype, C-contiguous)."""
    signature = types.void(dst, types.intp, src, types.intp)

    def codegen(context, builder, sig, args):
        dst_type, _, src_type, _ = sig.args
        dst_array = context.make_array(dst_type)(context, builder, args[0])
        src_array = context.make_array(src_type)(context, builder, args[2])
        zero = context.get_constant(types.intp, 0)
        dst_start = cgutils.get_item_pointer(context, builder, dst_type, dst_array, [args[1], zero])
        src_start = cgutils.get_item_pointer(context, builder, src_type, src_array, [args[3], zero])
        width = cgutils.unpack_tuple(builder, dst_array.shape, 2)[1]
        itemsize = context.get_abi_sizeof(context.get_data_type(dst_type.dtype))
        row_bytes = builder.mul(width, context.get_constant(types.intp, itemsize))
        n_stores = builder.udiv(row_bytes, context.get_constant(types.intp, STORE_BYTES))
        byte_pointer = ir.IntType(8).as_pointer()
        vector_pointer = ir.VectorType(ir.IntType(8), STORE_BYTES).as_pointer()
        dst_bytes = builder.bitcast(dst_start, byte_pointer)
        src_bytes = builder.bitcast(src_start, byte_pointer)
        nontemporal = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
        with cgutils.for_range(builder, n_stores) as loop:
            offset = builder.mul(loop.index, context.get_constant(types.intp, STORE_BYTES))
            value = builder.load(builder.bitcast(builder.gep(src_bytes, [offset]), vector_pointer), align=1)
            store = builder.store(value, builder.bitcast(builder.gep(dst_bytes, [offset]), vector_pointer), align=16)
            store.set_metadata("nontemporal", nontemporal)
        fence = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence"
        )
        builder.call(fence, [])  # the streamed row is in memory before this thread goes on
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=True, inline="always")
def stream_row(dst, dst_row, src, src_row):
    """dst[dst_row] = src[src_row] with non-temporal stores (see the module notes for the conditions)."""
    _copy_row_nontemporal(dst, dst_row, src, src_row)


@njit(cache=True)
def _probe(dst, src):
    stream_row(dst, 0, src, 1)
    return dst[0, 3]


def _streaming_works() -> bool:
    """True if the non-temporal copy compiles here and copies a row exactly."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        src = np.arange(16, dtype=np.float32).reshape(2, 8)
        dst = np.zeros((2, 8), dtype=np.float32)
        return bool(_probe(dst, src) == 11.0 and np.array_equal(dst[0], src[1]))
    except Exception:  # any failure to build it only costs speed
        return False


STREAMING = _streaming_works()


def can_stream_into(out: np.ndarray) -> bool:
    """Whether `stream_row` may write the rows of out (N, D): C-contiguous, 16-byte rows and start."""
    return (
        STREAMING
        and out.flags.c_contiguous
        and out.ndim == 2
        and (out.shape[1] * out.itemsize) % STORE_BYTES == 0
        and out.ctypes.data % STORE_BYTES == 0
    )
