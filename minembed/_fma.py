"""An exactly rounded fused multiply-add in Numba: `fma(a, b, c)` = round(a*b + c), one rounding.

Shared by the kernels that reproduce torch's fused arithmetic bit for bit: the random streams
(minembed.random.kernels) and the optimizers (minembed.optim.kernels). Also the bit casts of
float32 that the random kernels' log approximation needs.

`math.fma` is not supported by Numba (and needs Python 3.13), so this asks LLVM for its
`llvm.fma` intrinsic through Numba's public `numba.extending.intrinsic`. LLVM emits one
vfmadd instruction where the CPU has FMA and otherwise calls libm's `fma`/`fmaf`, which are
exact too: the result never depends on the machine. float32 and float64; both arguments of
the same type. NumPy twin: `_fma_numpy.py`.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """round(a*b + c) with a single rounding; a, b, c all float32 or all float64."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        llvm_type = context.get_value_type(signature.return_type)
        signature_type = ir.FunctionType(llvm_type, [llvm_type] * 3)
        llvm_fma = builder.module.declare_intrinsic("llvm.fma", [llvm_type], signature_type)
        return builder.call(llvm_fma, args)

    return a(a, b, c), codegen


@intrinsic
def float32_bits(typingctx, x):
    """The IEEE-754 bits of a float32 as an int32 (a bit cast, no conversion)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(x), codegen


@intrinsic
def bits_float32(typingctx, bits):
    """The float32 whose IEEE-754 bits are the low 32 bits of the integer `bits` (a bit cast)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low32 = context.cast(builder, args[0], signature.args[0], types.int32)
        return builder.bitcast(low32, ir.FloatType())

    return types.float32(bits), codegen


__all__ = ["bits_float32", "float32_bits", "fma"]
