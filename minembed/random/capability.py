"""Which of torch's CPU kernels to reproduce: "avx2" (torch's default on x86-64) or "default".

torch compiles its random kernels several times and picks one at start-up from the CPU, unless
the environment variable ATEN_CPU_CAPABILITY names one. The results differ in the last bits:
the AVX2 build (also used on AVX-512 machines) computes float32 normals with its own
polynomials and fuses multiply-adds; the portable build ("default") calls libm and does not fuse.

minembed chooses the same way: MINEMBED_CPU_CAPABILITY, else ATEN_CPU_CAPABILITY (so a process
that sets it for torch gets the same numbers from both), else "avx2" when the CPU has AVX2 and
FMA, else "default". Any x86 vector level (avx2, avx512, ...) means "avx2" here.
"""

from __future__ import annotations

import os
import platform

CAPABILITIES = ("avx2", "default")
_X86_VECTOR_LEVELS = ("avx2", "avx512", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx")


def _from_name(name: str, source: str) -> str:
    value = name.strip().lower()
    if value == "default":
        return "default"
    if value in _X86_VECTOR_LEVELS:
        return "avx2"
    raise ValueError(f"{source} must be 'default' or 'avx2' (torch's avx512 levels mean avx2 here), got {name!r}")


def _host_capability() -> str:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "default"
    import llvmlite.binding as llvm  # loaded with numba anyway

    features = llvm.get_host_cpu_features()
    return "avx2" if features.get("avx2") and features.get("fma") else "default"


def _initial_capability() -> str:
    for variable in ("MINEMBED_CPU_CAPABILITY", "ATEN_CPU_CAPABILITY"):
        if os.environ.get(variable):
            return _from_name(os.environ[variable], variable)
    return _host_capability()


_capability = _initial_capability()


def get_cpu_capability() -> str:
    """ "avx2" or "default": the torch build whose last bits minembed reproduces."""
    return _capability


def set_cpu_capability(name: str) -> None:
    """Reproduce torch's "avx2" kernels or its portable "default" ones (ATEN_CPU_CAPABILITY=default)."""
    global _capability
    _capability = _from_name(name, "name")
