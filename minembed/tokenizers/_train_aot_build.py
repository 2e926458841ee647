"""Build the training kernels ahead of time into an extension module that runs without Numba.

Run as `python -m minembed.tokenizers._train_aot_build OUT_DIR` (train_kernels.py does this in a
subprocess, once per version of the kernels). numba.pycc compiles the very functions of
`kernels/pretokenize_gpt4.py` and `kernels/bpe_train.py` (their `.py_func`), with fixed
signatures, into a C extension that needs only NumPy at run time. Why: `import numba` alone
costs about 90 MB of memory, which is more than BPE training itself needs (see
benchmarks/bench_train.py).
"""
from __future__ import annotations

import sys
import warnings

MODULE_NAME = "minembed_train_aot"


def build(out_dir: str) -> None:
    """Compile MODULE_NAME into out_dir."""
    import numba.pycc.compiler as pycc_compiler
    from numba import types as T
    from numba.pycc import CC

    from minembed.kernels import bpe_train, pretokenize_gpt4

    original_compile_extra = pycc_compiler.compile_extra

    def compile_extra(typingctx, targetctx, func, args, return_type, flags, locals, **kwargs):
        # pycc has no `nogil` option; this flag makes the exported wrappers release the GIL,
        # as the JIT kernels' nogil=True does, so two counting threads run in parallel.
        flags.release_gil = True
        return original_compile_extra(typingctx, targetctx, func, args, return_type, flags, locals, **kwargs)

    pycc_compiler.compile_extra = compile_extra

    u8, i4, i8 = (T.Array(dtype, 1, "C") for dtype in (T.uint8, T.int32, T.int64))
    cc = CC(MODULE_NAME)
    cc.output_dir = out_dir
    cc.verbose = False
    # Signatures: see the argument lists of the kernels (table int32, arena uint8, starts,
    # counts and hashes int64; data uint8; text_ends and piece_ends int64; classes uint8).
    cc.export(
        "count_gpt4",
        T.Tuple((i4, u8, i8, i8, i8, T.int64, T.int64))(u8, i8, u8, i4, u8, i8, i8, i8, T.int64),
    )(pretokenize_gpt4.count_gpt4.py_func)
    cc.export(
        "add_pieces",
        T.Tuple((i4, u8, i8, i8, i8, T.int64))(u8, i8, T.int64, i8, i4, u8, i8, i8, i8, T.int64),
    )(pretokenize_gpt4.add_pieces.py_func)
    cc.export("train_merges", T.Array(T.int32, 2, "C")(i4, i8, i8, T.int64, i8))(bpe_train.train_merges.py_func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation notice
        cc.compile()


if __name__ == "__main__":
    build(sys.argv[1])
